// What a user runs into with inputs, interruptions and reruns: each case of docs/reliability.md that the
// command line handles, run through the CLI as a user would (in-process, or as a separate process where a
// second process, a signal or a resource limit is the point).
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "experiments/report.hpp"
#include "experiments/run_directory.hpp"
#include "run_cli.hpp"

namespace fs = std::filesystem;
using latflow::testing::CliResult;

namespace {

CliResult cli(std::vector<std::string> args) { return latflow::testing::run_cli(std::move(args)); }

fs::path scratch(const std::string& name) { return latflow::testing::scratch_dir("latflow-bookkeeping", name); }

std::string write(const fs::path& path, const std::string& text) { return latflow::testing::write_text(path, text); }

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// One line of output: the contract for errors.
bool one_line(const std::string& s) { return !s.empty() && std::count(s.begin(), s.end(), '\n') == 1; }

const char* kTiny =
    "[lattice]\nL = 4\n[model]\nchannels = 2\nfrequencies = 2\nkernel_modes = 3\ntime_modes = 1\n"
    "[solver]\nsteps = 4\n[train]\nsteps = 3\nbatch = 8\neval_every = 0\neval_batch = 64\ncheckpoint_every = 1\n"
    "[eval]\nn = 128\nbatch = 128\nbins = 8\nhmc = false\n";

/// A card in `dir` and a run of it trained there (in dir/run).
std::string trained_run(const fs::path& dir, const std::vector<std::string>& sets = {}) {
  const std::string card = write(dir / "tiny.toml", kTiny);
  std::vector<std::string> args = {"train", card, "--out", (dir / "run").string()};
  if (!sets.empty()) {
    args.push_back("--set");
    args.insert(args.end(), sets.begin(), sets.end());
  }
  const CliResult r = cli(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return (dir / "run").string();
}

/// Runs the latflow executable with a shell command line after it; returns the exit status and output.
std::pair<int, std::string> shell(const std::string& args) {
  const std::string cmd = std::string(LATFLOW_CLI_PATH) + " " + args + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = p ? pclose(p) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("what is not a run card is refused with one line, never read as all defaults", "[experiments][input]") {
  const fs::path dir = scratch("cards");
  const std::string run = trained_run(dir);
  const auto empty = cli({"config", "show", write(dir / "empty.toml", "")});
  CHECK(empty.code == 2);
  CHECK_THAT(empty.err, Catch::Contains("the run card is empty"));
  CHECK(one_line(empty.err));
  CHECK(cli({"config", "show", write(dir / "comments.toml", "# nothing\n\n")}).code == 2);
  const auto directory = cli({"train", (dir / "nothing").string()});
  CHECK(directory.code == 2);
  fs::create_directories(dir / "plain");
  CHECK_THAT(cli({"config", "show", (dir / "plain").string()}).err, Catch::Contains("is a directory, not a file"));
  // A run directory given where a card belongs: say how to continue it instead of training afresh.
  const auto rundir = cli({"train", run});
  CHECK(rundir.code == 2);
  CHECK_THAT(rundir.err, Catch::Contains("is a run directory") && Catch::Contains("--resume"));
  CHECK(cli({"run", run}).code == 2);
  const auto mem = cli({"config", "show", "/proc/self/mem"});
  CHECK(mem.code == 2);
  CHECK_THAT(mem.err, Catch::Contains("cannot read run card"));
  const std::string fifo = (dir / "fifo.toml").string();
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const auto f = cli({"train", fifo});  // would block forever on open() if it were opened like a file
  CHECK(f.code == 2);
  CHECK_THAT(f.err, Catch::Contains("not a regular file"));
}

TEST_CASE("resume records its changes, refuses what would redefine the run, and leaves finished runs alone",
          "[experiments][resume]") {
  const fs::path dir = scratch("resume");
  const std::string run = trained_run(dir);
  const std::string results = slurp(fs::path(run) / "results.json");

  SECTION("a finished run: nothing trained, nothing rewritten") {
    const auto again = cli({"train", run, "--resume"});
    CHECK(again.code == 0);
    CHECK_THAT(again.out, Catch::Contains("already finished") && Catch::Contains("--set train.steps="));
    CHECK(slurp(fs::path(run) / "results.json") == results);
  }
  SECTION("--set on resume is applied, recorded in runcard.toml and logged") {
    const auto more = cli({"train", run, "--resume", "--set", "train.steps=5", "train.lr=0.001"});
    INFO(more.err);
    REQUIRE(more.code == 0);
    const std::string card = slurp(fs::path(run) / "runcard.toml");
    CHECK_THAT(card, Catch::Contains("steps = 5") && Catch::Contains("lr = 0.001"));
    CHECK_THAT(slurp(fs::path(run) / "run.log"),
               Catch::Contains("resume with changes: train.steps: 3 -> 5, train.lr: 0.005 -> 0.001"));
    CHECK(nlohmann::json::parse(slurp(fs::path(run) / "results.json"))["train"]["steps"] == 5);
  }
  SECTION("eval and sample never overwrite a run: --force and --out are refused") {
    for (const std::string command : {"eval", "sample"})
      for (const std::string flag : {"--force", "--out"}) {
        std::vector<std::string> args = {command, run, flag};
        if (flag == "--out") args.push_back((dir / "elsewhere").string());
        if (command == "sample") args.insert(args.end(), {"--n", "4"});
        const auto r = cli(args);
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Catch::Contains(flag + " does not apply to `latflow " + command + "`"));
      }
    CHECK_FALSE(fs::exists(dir / "elsewhere"));
  }
  SECTION("flags that do not apply to a resume, and changes that would make it another run") {
    for (const auto& flag : {"--force", "--out"}) {
      std::vector<std::string> args = {"train", run, "--resume", flag};
      if (std::string(flag) == "--out") args.push_back((dir / "elsewhere").string());
      const auto r = cli(args);
      CHECK(r.code == 2);
      CHECK_THAT(r.err, Catch::Contains(std::string(flag) + " cannot be combined with --resume"));
    }
    const auto arch = cli({"train", run, "--resume", "--set", "model.channels=3"});
    CHECK(arch.code == 2);
    CHECK_THAT(arch.err, Catch::Contains("cannot change 'model.channels' when resuming"));
    CHECK(one_line(arch.err));
    CHECK(cli({"train", run, "--resume", "--seed", "9"}).code == 2);
    CHECK(slurp(fs::path(run) / "results.json") == results);
  }
  SECTION("a copied run resumed through its own card continues in the copy") {
    const fs::path copy = dir / "copy";
    fs::copy(run, copy);
    const std::string original = slurp(fs::path(run) / "checkpoint.pt");
    const auto r = cli({"train", (copy / "runcard.toml").string(), "--resume", "--set", "train.steps=4"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(slurp(fs::path(run) / "checkpoint.pt") == original);
    CHECK(nlohmann::json::parse(slurp(copy / "results.json"))["train"]["steps"] == 4);
  }
}

TEST_CASE("a run killed before its first checkpoint can be resumed, and a plain rerun says how", "[experiments][resume]") {
  const fs::path dir = scratch("killed");
  const std::string card = write(dir / "tiny.toml", kTiny);
  const std::string run = (dir / "run").string();
  // Far more steps than will ever run, and no checkpoint until the end: SIGKILL lands before the first one.
  // The kill waits for the run directory to exist rather than for a fixed time, since a sanitizer build can take
  // longer than any fixed delay just to start.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execl(LATFLOW_CLI_PATH, LATFLOW_CLI_PATH, "train", card.c_str(), "--out", run.c_str(), "--set",
            "train.steps=100000000", "train.checkpoint_every=100000000", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool started = false;
  for (int i = 0; i < 6000 && !started; ++i) {  // at most 10 minutes
    started = fs::exists(fs::path(run) / "runcard.toml");
    if (!started) usleep(100000);
  }
  if (started) usleep(500000);  // into the training loop
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);  // reaped: its lock on the run directory is gone with it
  REQUIRE(started);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE_FALSE(fs::exists(fs::path(run) / "checkpoint.pt"));
  const auto rerun = cli({"train", card, "--out", run});
  CHECK(rerun.code == 2);
  CHECK_THAT(rerun.err, Catch::Contains("--resume"));
  const auto resumed = cli({"train", run, "--resume", "--set", "train.steps=2"});
  INFO(resumed.err);
  CHECK(resumed.code == 0);
  CHECK(fs::exists(fs::path(run) / "checkpoint.pt"));
}

TEST_CASE("two processes never write one run directory", "[experiments][lock]") {
  const fs::path dir = scratch("lock");
  const std::string card = write(dir / "tiny.toml", kTiny);
  const std::string run = (dir / "run").string();
  latflow::RunDirectory held(run, latflow::RunDirectory::Mode::Fresh);  // this process is "training" there
  const auto [code, out] = shell("train " + card + " --force --out " + run);
  CHECK(code == 2);
  CHECK_THAT(out, Catch::Contains("is in use by another latflow process (pid " + std::to_string(getpid()) + ")"));
}

TEST_CASE("a card changed so that the model no longer fits names the key", "[experiments][input]") {
  const fs::path dir = scratch("edited");
  const std::string run = trained_run(dir);
  const auto r = cli({"eval", run, "--set", "model.channels=3"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("model.channels = 3 here, 2 in the trained model"));
  CHECK(one_line(r.err));
  // The same when the recorded card itself is edited.
  std::string card = slurp(fs::path(run) / "runcard.toml");
  card.replace(card.find("frequencies = 2"), 15, "frequencies = 5");
  write(fs::path(run) / "runcard.toml", card);
  CHECK_THAT(cli({"eval", run}).err, Catch::Contains("model.frequencies = 5 here, 2 in the trained model"));
}

TEST_CASE("train --init-from fine-tunes a trained operator CNF on another lattice", "[experiments][init-from]") {
  const fs::path dir = scratch("init-from");
  const std::string small = trained_run(dir);  // L = 4
  const std::string card = (dir / "tiny.toml").string(), big = (dir / "L6").string();
  // With no training steps the new run holds exactly the weights it started from: its evaluation at L = 6
  // is the trained run's zero-shot evaluation there, sample for sample.
  const CliResult copied = cli({"train", card, "--out", big, "--init-from", small, "--set", "lattice.L=6", "train.steps=0"});
  INFO(copied.err);
  REQUIRE(copied.code == 0);
  CHECK(nlohmann::json::parse(slurp(fs::path(big) / "results.json"))["init_from"] == small);
  CHECK_THAT(slurp(fs::path(big) / "run.log"), Catch::Contains("initialised from " + small));
  const CliResult zero_shot = cli({"eval", small, "--set", "lattice.L=6", "--json"});
  const CliResult fine_tuned = cli({"eval", big, "--json"});
  REQUIRE(zero_shot.code == 0);
  REQUIRE(fine_tuned.code == 0);
  const auto a = nlohmann::json::parse(zero_shot.out), b = nlohmann::json::parse(fine_tuned.out);
  CHECK(a["ess"] == b["ess"]);
  CHECK(a["kl"] == b["kl"]);
  // Training from there moves the weights.
  const std::string trained = (dir / "L6-trained").string();
  REQUIRE(cli({"train", card, "--out", trained, "--init-from", small, "--set", "lattice.L=6", "train.steps=3"}).code == 0);
  CHECK(slurp(fs::path(trained) / "checkpoint.pt") != slurp(fs::path(big) / "checkpoint.pt"));
  // A base mass set by m0 L follows the lattice: it is not a difference of the model.
  const std::string m0L = (dir / "m0L").string(), m0L6 = (dir / "m0L-L6").string();
  REQUIRE(cli({"train", card, "--out", m0L, "--set", "model.prior_m0L=2", "train.steps=2"}).code == 0);
  const CliResult moved = cli({"train", card, "--out", m0L6, "--init-from", m0L, "--set", "lattice.L=6",
                               "model.prior_m0L=2", "train.steps=0"});
  INFO(moved.err);
  REQUIRE(moved.code == 0);
  CHECK_THAT(slurp(fs::path(m0L6) / "runcard.toml"), Catch::Contains("prior_m2 = 0.1111"));
  CHECK(cli({"eval", m0L, "--set", "lattice.L=6"}).code == 0);
  // A model of another shape cannot start from these weights, and a directory without a model is named.
  const CliResult other = cli({"train", card, "--out", (dir / "other").string(), "--init-from", small, "--set",
                               "model.channels=3"});
  CHECK(other.code == 2);
  CHECK_THAT(other.err, Catch::Contains("model.channels"));
  CHECK(one_line(other.err));
  const CliResult empty = cli({"train", card, "--out", (dir / "none").string(), "--init-from", dir.string()});
  CHECK(empty.code == 2);
  CHECK_THAT(empty.err, Catch::Contains("no trained model there"));
}

TEST_CASE("a corrupted checkpoint is diagnosed as corrupted, and eval fails", "[experiments][input]") {
  const fs::path dir = scratch("corrupt");
  const std::string run = trained_run(dir);
  std::string bytes = slurp(fs::path(run) / "checkpoint.pt");
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  write(fs::path(run) / "checkpoint.pt", bytes);
  const auto r = cli({"eval", run});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("is corrupted (checksum mismatch)"));
}

TEST_CASE("work that cannot fit in memory is refused before it starts", "[experiments][memory]") {
  const fs::path dir = scratch("memory");
  const std::string card = write(dir / "big.toml", "[lattice]\nL = 4096\n");
  const auto r = cli({"train", card, "--out", (dir / "run").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("estimated peak memory of training") && Catch::Contains("GiB") &&
                        Catch::Contains("run.memory_limit_gb"));
  CHECK(one_line(r.err));
  CHECK_FALSE(fs::exists(dir / "run"));  // refused before anything was written
  const auto limited = cli({"config", "check", write(dir / "small.toml", kTiny), "--set", "run.memory_limit_gb=0.000001"});
  CHECK(limited.code == 2);
  CHECK_THAT(limited.err, Catch::Contains("(run.memory_limit_gb)"));
  const auto ok = cli({"config", "check", dir.string() + "/small.toml"});
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("ok: ") && Catch::Contains("parameters") && Catch::Contains("estimated peak memory"));
}

TEST_CASE("physics and model settings that cannot work are refused at validation", "[experiments][input]") {
  const fs::path dir = scratch("physics");
  const std::string card = write(dir / "tiny.toml", kTiny);
  const auto free_unbounded = cli({"config", "check", card, "--set", "lattice.m2=-1", "lattice.lambda=0"});
  CHECK(free_unbounded.code == 2);
  CHECK_THAT(free_unbounded.err, Catch::Contains("unbounded below"));
  const auto modes = cli({"config", "show", card, "--set", "model.time_modes=0"});
  CHECK(modes.code == 2);
  CHECK_THAT(modes.err, Catch::Contains("'model.time_modes' = 0 is out of range"));
}

TEST_CASE("hierarchical models keep their coarse lattice, and a lattice it cannot refine is a clear error",
          "[experiments][input]") {
  const fs::path dir = scratch("hierarchical");
  const std::string card =
      write(dir / "h.toml", "[lattice]\nL = 8\n[model]\ntype = \"hierarchical\"\nprior = \"normal\"\ncoarse_layers = 2\n"
                            "rounds = 1\nhidden_channels = 2\nhidden_layers = 1\n[train]\nsteps = 2\nbatch = 8\n"
                            "eval_every = 0\n[eval]\nn = 64\nbins = 8\nhmc = false\n");
  REQUIRE(cli({"train", card, "--out", (dir / "run").string()}).code == 0);
  CHECK_THAT(slurp(dir / "run" / "runcard.toml"), Catch::Contains("coarse_L = 4"));
  CHECK(cli({"eval", (dir / "run").string(), "--set", "lattice.L=16"}).code == 0);
  // L = 12 would pick coarse_L = 6 by itself: with the trained coarse_L = 4 it is not 4 x 2^n.
  const auto twelve = cli({"eval", (dir / "run").string(), "--set", "lattice.L=12"});
  CHECK(twelve.code == 2);
  CHECK_THAT(twelve.err, Catch::Contains("coarse_L = 4") && Catch::Contains("coarse_L * 2^n"));
}

TEST_CASE("strict evaluation: a solver check that does not pass gives exit status 3", "[experiments][solver-error]") {
  const fs::path dir = scratch("strict");
  const std::string run = trained_run(dir, {"train.lr=0.05"});
  const auto loose = cli({"eval", run, "--set", "eval.max_solver_error_ratio=1e-300"});
  CHECK(loose.code == 0);
  CHECK_THAT(loose.err, Catch::Contains("warning: ") && Catch::Contains("solver error is not small"));
  const auto strict = cli({"eval", run, "--strict", "--set", "eval.max_solver_error_ratio=1e-300"});
  CHECK(strict.code == 3);
  CHECK_THAT(strict.err, Catch::Contains("check failed") && Catch::Contains("raise solver.steps"));
  CHECK(fs::exists(fs::path(run) / "eval-4x4.json"));  // results are written before the verdict
  const auto fine = cli({"eval", run, "--strict", "--json"});
  CHECK(fine.code == 0);
  const auto j = nlohmann::json::parse(fine.out);
  CHECK(j["solver_error"]["ok"].get<bool>());
  CHECK(j["observables"]["m2"].contains("systematic"));
  const auto adaptive = cli({"eval", run, "--json", "--set", "eval.solver=adaptive"});
  REQUIRE(adaptive.code == 0);
  CHECK(nlohmann::json::parse(adaptive.out)["solver_error"]["solver"]["method"] == "dopri5");
}

TEST_CASE("command-line mistakes get one line that says what is allowed", "[experiments][cli]") {
  const auto typo = cli({"trian"});
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Catch::Contains("unknown command 'trian' (did you mean 'train'?)"));
  CHECK(one_line(typo.err));
  const auto none = cli({});
  CHECK(none.code == 2);
  CHECK_THAT(none.err, Catch::Contains("a command is required"));
  const auto seed = cli({"config", "show", "x.toml", "--seed", "99999999999999999999"});
  CHECK(seed.code == 2);
  CHECK_THAT(seed.err, Catch::Contains("--seed must be an integer in [0, 9223372036854775807]"));
  CHECK(one_line(seed.err));
  const auto n = cli({"eval", "somewhere", "--n", "-3"});
  CHECK(n.code == 2);
  CHECK_THAT(n.err, Catch::Contains("--n must be an integer in [1, 1000000000], got '-3'"));
  CHECK(n.err.size() < 200);  // no 309-digit bounds
  const auto missing = cli({"eval"});
  CHECK(missing.code == 2);
  CHECK(one_line(missing.err));
  CHECK_THAT(missing.err, Catch::Contains("latflow eval --help"));
}

TEST_CASE("config show prints each key's allowed values", "[experiments][cli]") {
  const fs::path dir = scratch("show");
  const auto r = cli({"config", "show", write(dir / "c.toml", "[lattice]\nL = 6\n")});
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("L = 6") && Catch::Contains("[an integer in [2, 4096]]"));
  CHECK_THAT(r.out, Catch::Contains("one of 'euler', 'rk4', 'dopri5'"));
  CHECK_THAT(r.out, Catch::Contains("[true or false]"));
}

TEST_CASE("plot explains what it cannot draw, and sample names a Python that can load its file", "[experiments][cli]") {
  const fs::path dir = scratch("plot");
  write(dir / "hmc.toml", "[lattice]\nL = 4\n[hmc]\nchains = 2\nthermalization = 5\ntrajectories = 10\n[eval]\nbins = 4\n");
  REQUIRE(cli({"hmc", (dir / "hmc.toml").string(), "--out", (dir / "hmc").string()}).code == 0);
  const auto p = cli({"plot", (dir / "hmc").string()});
  CHECK(p.code == 2);
  CHECK_THAT(p.err, Catch::Contains("is an HMC run") && !Catch::Contains("Traceback") && !Catch::Contains("matplotlib"));
  const std::string run = trained_run(dir);
  const auto s = cli({"sample", run, "--n", "4"});
  REQUIRE(s.code == 0);
  CHECK_THAT(s.out, Catch::Contains("numpy.load"));
  // The interpreter named really loads the file (when this machine has one with numpy at all).
  const auto line = s.out.substr(s.out.find("load them with numpy: ") + 22);
  const std::string command = line.substr(0, line.find('\n'));
  if (command.find("pip install numpy") == std::string::npos) CHECK(std::system((command + " > /dev/null").c_str()) == 0);
}

TEST_CASE("tables align by characters so that multi-byte signs do not shift the columns after them", "[experiments][report]") {
  std::ostringstream os;
  latflow::print_table(os, {{"a", "1.0 ± 0.1", "x"}, {"bbb", "2", "y"}}, "  ");
  CHECK(os.str() == "  a    1.0 ± 0.1  x\n  bbb  2          y\n");
}

TEST_CASE("undefined observables print as undefined and compare as null", "[experiments][report]") {
  using latflow::format_estimate;
  CHECK(format_estimate(nlohmann::json(nullptr)) == "undefined");
  CHECK(latflow::pull(nlohmann::json(nullptr), {{"value", 1.0}, {"error", 0.1}}).is_null());
  CHECK(latflow::pull({{"value", 1.0}, {"error", 0.0}}, {{"value", 1.0}, {"error", 0.0}}).is_null());
  CHECK(latflow::pull({{"value", 1.0}, {"error", 0.3}}, {{"value", 1.5}, {"error", 0.4}}).get<double>() == Approx(1.0));
  std::ostringstream os;
  latflow::print_observables(os, {{"abs_magnetization", {{"value", 0.5}, {"error", 0.1}}}, {"binder", nullptr},
                                  {"xi2nd", nullptr}});
  CHECK_THAT(os.str(), Catch::Contains("U4 (Binder)") && Catch::Contains("undefined"));
}
