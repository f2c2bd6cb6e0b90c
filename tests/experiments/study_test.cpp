// Study files and the scaling/transfer drivers: validation errors, one row per run in CSV and JSON, and
// resumption (a rerun finishes only what is missing and leaves finished rows alone).
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "run_cli.hpp"
#include "experiments/runcard.hpp"
#include "experiments/study.hpp"

namespace fs = std::filesystem;
using namespace latflow;

namespace {
testing::CliResult run_latflow(std::vector<std::string> args) { return testing::run_cli(std::move(args)); }

fs::path scratch_dir(const std::string& name) { return latflow::testing::scratch_dir("latflow-study-test", name); }

std::string write(const fs::path& path, const std::string& text) { return latflow::testing::write_text(path, text); }

const char* kTinyCnf =
    "[model]\ntype = \"operator_cnf\"\nchannels = 2\nfrequencies = 2\nkernel_modes = 3\ntime_modes = 1\n"
    "[solver]\nsteps = 4\n[train]\nbatch = 8\neval_batch = 64\n[eval]\nn = 64\nbatch = 64\nbins = 8\n";
const char* kTinyCoupling =
    "[model]\ntype = \"coupling\"\nprior = \"normal\"\ncoupling_layers = 2\nhidden_channels = 2\nhidden_layers = 1\n"
    "[train]\nbatch = 8\neval_batch = 64\n[eval]\nn = 64\nbatch = 64\nbins = 8\n";

/// A study over two tiny families on L = 4 and 6 (explicit couplings) with a budget of a few steps.
std::string tiny_study(const fs::path& dir, const std::string& kind, const std::string& extra = "") {
  write(dir / "cnf.toml", kTinyCnf);
  write(dir / "coupling.toml", kTinyCoupling);
  std::string lattices = kind == "scaling" ? "L = [4, 6]\nm2 = [-4.0, -4.0]\nlambda = [8.0, 8.0]\n"
                                           : "pretrain_L = 4\npretrain_m2 = -4.0\npretrain_lambda = 8.0\n"
                                             "pretrain_steps = 3\nL = [8]\nm2 = [-4.0]\nlambda = [8.0]\n";
  return write(dir / "study.toml", "[study]\nkind = \"" + kind +
                                       "\"\nfamilies = [\"cnf\", \"coupling\"]\ncards = [\"cnf.toml\", "
                                       "\"coupling.toml\"]\n" +
                                       lattices + "target = 0.999\nmax_steps = 4\neval_every = 2\noutput = \"" +
                                       (dir / "out").string() + "\"\n" + extra);
}

std::vector<std::string> lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
}  // namespace

TEST_CASE("study files: bad input names the key and what is allowed", "[experiments][study]") {
  const fs::path dir = scratch_dir("errors");
  write(dir / "cnf.toml", kTinyCnf);
  const auto error_of = [&](const std::string& body, const std::string& kind = "scaling") {
    const std::string path = write(dir / "s.toml", body);
    try {
      load_study(path, kind, {});
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = "[study]\nkind = \"scaling\"\nfamilies = [\"a\"]\ncards = [\"cnf.toml\"]\n";
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\"]\ntraget = 0.5\n"),
             Catch::Contains("study.traget") && Catch::Contains("target"));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\"]\ntarget = 1.5\n"), Catch::Contains("(0, 1]"));
  CHECK_THAT(error_of(head), Catch::Contains("at least one lattice"));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L9\"]\n"), Catch::Contains("albergo-L8"));
  CHECK_THAT(error_of("[study]\nkind = \"scaling\"\nfamilies = [\"a\", \"b\"]\ncards = [\"cnf.toml\"]\n"),
             Catch::Contains("one run card per family"));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\"]\n", "transfer"), Catch::Contains("kind = \"transfer\""));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\", \"tutorial-L8\"]\n"), Catch::Contains("repeated"));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\"]\nseeds = [1, 1]\n"), Catch::Contains("repeated"));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\"]\n[overrides]\n\"lattice.L\" = 4\n"),
             Catch::Contains("study itself sets the lattice"));
  CHECK_THAT(error_of("[study]\nkind = \"transfer\"\nfamilies = [\"a\"]\ncards = [\"cnf.toml\"]\n"
                      "presets = [\"albergo-L8\"]\npretrain_preset = \"gerdes-L12\"\npretrain_steps = 5\n",
                      "transfer"),
             Catch::Contains("larger than the pretraining lattice"));
  CHECK_THAT(error_of("[study]\nkind = \"transfer\"\nfamilies = [\"a\"]\ncards = [\"cnf.toml\"]\n"
                      "presets = [\"gerdes-L12\"]\npretrain_L = 8\npretrain_steps = 5\n",
                      "transfer"),
             Catch::Contains("pretrain_m2"));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\"]\n[overrides]\n\"train.btach\" = 3\n"),
             Catch::Contains("train.batch"));
  CHECK_THAT(error_of("[study]\nkind = \"scaling\"\nfamilies = [\"a\"]\ncards = [\"missing.toml\"]\n"),
             Catch::Contains("missing.toml") && Catch::Contains("not found"));
  CHECK_THAT(error_of(head + "presets = [\"albergo-L8\"]\noutput = \"o\"\nreuse = [\"./o\"]\n"),
             Catch::Contains("study.reuse") && Catch::Contains("own output"));
  CHECK_THAT(error_of("[study]\nkind = \"transfer\"\nfamilies = [\"a\"]\ncards = [\"cnf.toml\"]\npresets = "
                      "[\"gerdes-L12\"]\npretrain_preset = \"albergo-L8\"\npretrain_steps = 5\nreuse = [\"x\"]\n",
                      "transfer"),
             Catch::Contains("study.reuse") && Catch::Contains("only with kind = \"scaling\""));
  // Through the CLI: exit 2 and one line.
  const auto r = run_latflow({"scaling", write(dir / "s.toml", head + "presets = [\"albergo-L8\"]\nmax_steps = 0\n")});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("study.max_steps"));
}

TEST_CASE("study overrides: --set study.key edits the study, other keys reach every run card", "[experiments][study]") {
  const fs::path dir = scratch_dir("sets");
  const std::string path = tiny_study(dir, "scaling");
  const Study st = load_study(path, "scaling", {"study.max_steps=7", "study.seeds=[3, 4]", "train.lr=0.01"});
  CHECK(st.max_steps == 7);
  CHECK(st.seeds == std::vector<std::int64_t>{3, 4});
  CHECK(st.overrides == std::vector<std::string>{"train.lr=0.01"});
  CHECK(st.points.size() == 2);
  CHECK(st.points[1].L == 6);
}

TEST_CASE("study overrides per family: the shared keys, then the family's table, then --set", "[experiments][study]") {
  const fs::path dir = scratch_dir("family-sets");
  const std::string path = tiny_study(dir, "scaling",
                                      "[overrides]\n\"train.lr\" = 0.001\n\"train.clip\" = 2.0\n"
                                      "[overrides.coupling]\n\"train.lr\" = 0.02\n");
  const Study st = load_study(path, "scaling", {"train.clip=3.0"});
  REQUIRE(st.family_overrides.size() == 2);
  // Within a table, in the order of the keys (TOML tables are unordered; toml++ sorts them).
  CHECK(st.overrides_for(0) == std::vector<std::string>{"train.clip=2", "train.lr=0.001", "train.clip=3.0"});
  CHECK(st.overrides_for(1) ==
        std::vector<std::string>{"train.clip=2", "train.lr=0.001", "train.lr=0.02", "train.clip=3.0"});
  // Recorded with the study, so that a study with other per-family keys does not mix with its results.
  CHECK_THAT(st.to_toml(), Catch::Contains("family_overrides") && Catch::Contains("train.lr=0.02"));
  CHECK_THAT(load_study(tiny_study(scratch_dir("family-sets-none"), "scaling"), "scaling", {}).to_toml(),
             !Catch::Contains("family_overrides"));

  const auto ran = run_latflow({"scaling", path, "--threads", "1", "--set", "study.L=[4]", "study.m2=[-4.0]",
                                "study.lambda=[8.0]", "study.max_steps=2"});
  INFO(ran.out << ran.err);
  REQUIRE(ran.code == 0);
  std::ifstream in(dir / "out" / "scaling.json");
  const auto json = nlohmann::json::parse(in);
  const auto& rows = json["rows"];
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    const RunCard card = load_runcard((dir / "out" / row["run_dir"].get<std::string>() / "runcard.toml").string(), {});
    CHECK(card.config.get<double>("train.lr") == (row["family"] == "coupling" ? 0.02 : 0.001));
  }

  const auto error_of = [&](const std::string& table) {
    try {
      load_study(tiny_study(dir, "scaling", table), "scaling", {});
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of("[overrides.hierarchical]\n\"train.lr\" = 0.02\n"),
             Catch::Contains("no family is called 'hierarchical'") && Catch::Contains("'coupling'"));
  CHECK_THAT(error_of("[overrides]\ntrain.lr = 0.02\n"), Catch::Contains("a run-card key is quoted"));
  CHECK_THAT(error_of("[overrides.coupling]\n\"run.seed\" = 3\n"), Catch::Contains("the study itself sets"));
}

TEST_CASE("scaling study: one row per run, plots skipped gracefully, rerun resumes", "[experiments][study]") {
  const fs::path dir = scratch_dir("scaling");
  const std::string path = tiny_study(dir, "scaling");
  const auto first = run_latflow({"scaling", path, "--threads", "1"});
  INFO(first.out << first.err);
  REQUIRE(first.code == 0);
  const auto csv = lines(dir / "out" / "scaling.csv");
  REQUIRE(csv.size() == 5);  // header + 2 families x 2 lattices
  CHECK(csv[0].rfind("family,card,L,m2,lambda,seed,parameters,target_metric,target,reached", 0) == 0);
  std::ifstream in(dir / "out" / "scaling.json");
  const auto json = nlohmann::json::parse(in);
  REQUIRE(json["rows"].size() == 4);
  for (const auto& row : json["rows"]) {
    CHECK(row["steps"] == 4);  // the target 0.999 is out of reach: the budget is spent
    CHECK(row["reached"] == false);
    CHECK(row["ess"].get<double>() > 0);
    CHECK(row["peak_memory_mib"].get<double>() > 0);
    CHECK(fs::exists(dir / "out" / row["run_dir"].get<std::string>() / "metrics.jsonl"));
  }

  // Remove the last row's file as if the study had stopped before writing it: the rerun restores the row from
  // the finished run's results without training it again.
  const auto& last = json["rows"].back();
  REQUIRE(fs::remove(dir / "out" / "rows" / (last["family"].get<std::string>() + "-L" + last["L"].dump() + "-seed" +
                                             last["seed"].dump() + ".json")));
  const fs::path last_metrics = dir / "out" / json["rows"].back()["run_dir"].get<std::string>() / "metrics.jsonl";
  const auto metrics_before = lines(last_metrics).size();
  const auto second = run_latflow({"scaling", path, "--threads", "1"});
  REQUIRE(second.code == 0);
  CHECK_THAT(second.out, Catch::Contains("done (row in scaling.csv)"));
  CHECK(lines(dir / "out" / "scaling.csv").size() == 5);
  CHECK(lines(last_metrics).size() == metrics_before);
  std::ifstream again_in(dir / "out" / "scaling.json");
  CHECK(nlohmann::json::parse(again_in)["rows"].back() == json["rows"].back());

  // A study directory written before rows had files of their own keeps its table: nothing is retrained.
  latflow::remove_tree((dir / "out" / "rows").string());
  const auto migrated = run_latflow({"scaling", path, "--threads", "1"});
  REQUIRE(migrated.code == 0);
  std::size_t done = 0;
  for (std::size_t at = 0; (at = migrated.out.find("done (row in scaling.csv)", at)) != std::string::npos; ++at) ++done;
  CHECK(done == 4);
  CHECK(lines(dir / "out" / "scaling.csv").size() == 5);

  // A changed study does not mix with the old results.
  const auto changed = run_latflow({"scaling", path, "--set", "study.max_steps=5"});
  CHECK(changed.code == 2);
  CHECK_THAT(changed.err, Catch::Contains("different study"));
}

TEST_CASE("scaling study reuse: an earlier study's runs are taken over where they are this study's runs",
          "[experiments][study]") {
  const fs::path dir = scratch_dir("reuse");
  const std::string first_path = tiny_study(dir, "scaling");
  REQUIRE(run_latflow({"scaling", first_path, "--threads", "1"}).code == 0);
  std::ifstream first_in(dir / "out" / "scaling.json");
  const auto first = nlohmann::json::parse(first_in)["rows"];
  std::string text;
  {
    std::ifstream in(first_path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string out = (dir / "out").string();
  const auto extended = [&](const std::string& name, const std::string& extra, const std::string& lattices = "") {
    std::string t = text;
    t.replace(t.find(out + "\""), out.size(), (dir / name).string());
    const std::string two = "L = [4, 6]\nm2 = [-4.0, -4.0]\nlambda = [8.0, 8.0]\n";
    if (!lattices.empty()) t.replace(t.find(two), two.size(), lattices);
    return write(dir / (name + ".toml"), t + "reuse = [\"" + out + "\", \"" + (dir / "none").string() + "\"]\n" + extra);
  };

  // A longer budget and L = 8 added, the coupling flow at another learning rate: the CNF's runs stopped at
  // their step budget, so they are this study's; the coupling flow's and L = 8 are trained.
  const auto r = run_latflow({"scaling", extended("out2", "max_seconds = 1000\n[overrides.coupling]\n\"train.lr\" = 0.01\n",
                                             "L = [4, 6, 8]\nm2 = [-4.0, -4.0, -4.0]\nlambda = [8.0, 8.0, 8.0]\n"),
                              "--threads", "1"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("holds no study") && Catch::Contains("none"));
  std::ifstream in(dir / "out2" / "scaling.json");
  const auto rows = nlohmann::json::parse(in)["rows"];
  REQUIRE(rows.size() == 6);
  std::size_t reused = 0;
  for (const auto& row : rows) {
    const bool from_first = row["family"] == "cnf" && row["L"] != 8;
    CHECK(row.contains("reused_from") == from_first);
    CHECK(fs::exists(dir / "out2" / row["run_dir"].get<std::string>() / "metrics.jsonl"));
    if (!from_first) continue;
    ++reused;
    CHECK(row["reused_from"] == out);
    for (const auto& old : first)
      if (old["family"] == row["family"] && old["L"] == row["L"]) {
        CHECK(row["ess"] == old["ess"]);
        CHECK(row["seconds"] == old["seconds"]);
      }
  }
  CHECK(reused == 2);
  CHECK(lines(dir / "out2" / "scaling.csv")[0].find(",run_dir,reused_from") != std::string::npos);

  // A run that its budget stopped is not this study's when the budget differs.
  const fs::path results = dir / "out" / "runs" / "cnf-L4-seed1" / "results.json";
  std::ifstream rin(results);
  auto res = nlohmann::json::parse(rin);
  rin.close();
  res["train"]["stop_reason"] = "time";
  write(results, res.dump(2));
  const auto cut = run_latflow({"scaling", extended("out3", "max_seconds = 1000\n"), "--threads", "1"});
  REQUIRE(cut.code == 0);
  CHECK_THAT(cut.out, !Catch::Contains("cnf-L4-seed1: reused") && Catch::Contains("cnf-L6-seed1: reused from"));
  CHECK_THAT(cut.out, Catch::Contains("coupling-L4-seed1: reused from"));
}

TEST_CASE("scaling study with hmc = true: an HMC row per lattice and each run's sampling time",
          "[experiments][study]") {
  const fs::path dir = scratch_dir("scaling-hmc");
  const std::string path = tiny_study(dir, "scaling", "hmc = true\n");
  // Short chains: the cost is what is checked, not its precision.
  const auto r = run_latflow({"scaling", path, "--threads", "1", "--set", "hmc.chains=4", "hmc.trajectories=200",
                              "hmc.thermalization=50"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::ifstream in(dir / "out" / "hmc.json");
  const auto hmc = nlohmann::json::parse(in)["rows"];
  REQUIRE(hmc.size() == 2);
  for (const auto& [i, L] : {std::pair{0, 4}, std::pair{1, 6}}) {
    const auto& row = hmc[i];
    CHECK(row["L"] == L);
    CHECK(row["lambda"] == 8.0);
    CHECK(row["measurements"] == 4 * 200);
    const double tau = row["tau_int"].get<double>(), seconds = row["seconds"].get<double>();
    CHECK(tau >= 0.5);
    // 2 tau_int trajectories per effective sample, at the chain's own time per trajectory.
    CHECK(row["cost_per_effective_sample"].get<double>() == Approx(2 * tau * seconds / 800).epsilon(1e-12));
    CHECK(fs::exists(dir / "out" / row["run_dir"].get<std::string>() / "results.json"));
  }
  CHECK(lines(dir / "out" / "hmc.csv")[0] == "L,m2,lambda,observable,tau_int,tau_int_error,acceptance,seconds,"
                                             "measurements,cost_per_effective_sample,run_dir");
  std::ifstream sin(dir / "out" / "scaling.json");
  // Named: a range-for over a member of a temporary would outlive the temporary.
  const auto scaling = nlohmann::json::parse(sin);
  for (const auto& row : scaling["rows"]) CHECK(row["seconds_per_sample"].get<double>() > 0);
  // A rerun keeps the chains it has.
  const auto again = run_latflow({"scaling", path, "--threads", "1", "--set", "hmc.chains=4", "hmc.trajectories=200",
                                  "hmc.thermalization=50"});
  REQUIRE(again.code == 0);
  CHECK_THAT(again.out, Catch::Contains("hmc-L6: done (row in hmc.csv)"));
  // hmc belongs to scaling studies only.
  try {
    load_study(tiny_study(dir, "transfer", "hmc = true\n"), "transfer", {});
    FAIL("hmc = true accepted in a transfer study");
  } catch (const UserError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("study.hmc") && Catch::Contains("kind = \"scaling\""));
  }
}

TEST_CASE("transfer study: zero-shot, fine-tune and scratch per larger lattice", "[experiments][study]") {
  const fs::path dir = scratch_dir("transfer");
  const std::string path = tiny_study(dir, "transfer");
  const auto r = run_latflow({"transfer", path, "--threads", "1"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::ifstream in(dir / "out" / "transfer.json");
  const auto json = nlohmann::json::parse(in);
  REQUIRE(json["rows"].size() == 2);
  for (const auto& row : json["rows"]) {
    CHECK(row["pretrain_L"] == 4);
    CHECK(row["L"] == 8);
    CHECK(row["pretrain_steps"] == 3);
    CHECK(row["zero_shot_ess"].get<double>() > 0);
    CHECK(row["finetune_steps"] == 4);
    CHECK(row["scratch_steps"] == 4);
    CHECK(row["speedup"].get<double>() > 0);
  }
  CHECK(lines(dir / "out" / "transfer.csv").size() == 3);
}

TEST_CASE("a scaling study of the Schwinger model runs through the same driver", "[experiments][study][gauge]") {
  const fs::path dir = scratch_dir("schwinger");
  write(dir / "gauge.toml",
        "[model]\ncoupling_layers = 2\nhidden_channels = 4\nhidden_layers = 1\nbins = 4\n[train]\nbatch = 8\n"
        "eval_batch = 32\n[eval]\nn = 32\nbatch = 32\nbins = 4\n");
  const std::string study = write(dir / "study.toml",
                                  "[study]\nkind = \"scaling\"\nfamilies = [\"gauge\"]\ncards = [\"gauge.toml\"]\n"
                                  "presets = [\"bialas-L8\"]\ntarget = 0.999\nmax_steps = 2\neval_every = 1\n"
                                  "output = \"" + (dir / "out").string() + "\"\n");
  const auto r = run_latflow({"scaling", study});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const auto rows = nlohmann::json::parse(std::ifstream(dir / "out" / "scaling.json"))["rows"];
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["L"] == 8);
  CHECK(rows[0]["tau_int"].is_number());  // of the topological charge along the independence chain
  CHECK(rows[0]["m2"].is_null());         // not a phi^4 point
}

namespace {
/// The columns of a scaling row that do not measure time or memory (those differ between any two runs).
nlohmann::json without_timings(nlohmann::json row) {
  for (const char* k : {"seconds", "seconds_to_target", "seconds_per_step", "seconds_per_sample", "peak_memory_mib"})
    row.erase(k);
  return row;
}
nlohmann::json rows_of(const fs::path& study_dir) {
  std::ifstream in(study_dir / "scaling.json");
  const nlohmann::json table = nlohmann::json::parse(in);  // alive while its rows are read
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : table["rows"]) rows.push_back(without_timings(r));
  return rows;
}
}  // namespace

TEST_CASE("scaling study over worker processes: the rows of the serial study, in its order", "[experiments][study]") {
  const fs::path dir = scratch_dir("workers");
  const std::string path = tiny_study(dir, "scaling");
  // One thread per run on both sides: the numbers are then the same to the last bit.
  const auto serial = run_latflow({"scaling", path, "--threads", "1", "--out", (dir / "serial").string()});
  REQUIRE(serial.code == 0);
  const std::string cmd = std::string(LATFLOW_CLI_PATH) + " scaling " + path + " --threads 1 --workers 2 --out " +
                          (dir / "parallel").string() + " > " + (dir / "parallel.out").string() + " 2>&1";
  const int code = std::system(cmd.c_str());
  std::ifstream log(dir / "parallel.out");
  INFO(std::string(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()));
  REQUIRE(WEXITSTATUS(code) == 0);
  CHECK(rows_of(dir / "parallel") == rows_of(dir / "serial"));
  CHECK(lines(dir / "parallel" / "scaling.csv").size() == 5);
  CHECK(fs::exists(dir / "parallel" / "logs" / "cnf-L4-seed1.log"));
}

TEST_CASE("scaling study split into tasks (a Slurm array): each does its share, together the whole table",
          "[experiments][study]") {
  const fs::path dir = scratch_dir("tasks");
  const std::string path = tiny_study(dir, "scaling");
  const auto task1 = run_latflow({"scaling", path, "--threads", "1", "--task", "1/2"});
  INFO(task1.out << task1.err);
  REQUIRE(task1.code == 0);
  CHECK(lines(dir / "out" / "scaling.csv").size() == 1 + 2);  // units 1 and 3 of 4
  const auto task0 = run_latflow({"scaling", path, "--threads", "1", "--task", "0/2"});
  REQUIRE(task0.code == 0);
  const auto serial = run_latflow({"scaling", path, "--threads", "1", "--out", (dir / "serial").string()});
  REQUIRE(serial.code == 0);
  CHECK(rows_of(dir / "out") == rows_of(dir / "serial"));  // the study's order, whoever finished first

  testing::check_user_error(run_latflow({"scaling", path, "--task", "2/2"}), "--task's I must be an integer in [0, 1]");
  testing::check_user_error(run_latflow({"scaling", path, "--task", "3"}), "--task must be I/N");
  testing::check_user_error(run_latflow({"scaling", path, "--task", "0/2", "--force"}),
                            "--force cannot be combined with --task");
  testing::check_user_error(run_latflow({"scaling", path, "--task", "0/2", "--workers", "2"}),
                            "--workers and --task cannot be combined");
}
