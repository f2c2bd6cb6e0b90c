// `latflow scaling`, `latflow transfer` and `latflow plot`: the studies users run latflow for.
//
// Scaling (how the cost of training grows with L; Del Debbio, Marsh Rossney, Wilson 2021, arXiv 2112.15532, seed 001):
// every family x lattice x seed is trained until the target (ESS or independence-Metropolis acceptance of
// the periodic evaluation) or the budget, then evaluated. Transfer (Máté & Fleuret, seed 003): a model
// pretrained on a small lattice is evaluated zero-shot on each larger one, fine-tuned there, and compared
// with training from scratch. Each finished run is one row, written at once; an interrupted study resumes
// at the run it stopped in (from that run's checkpoint) when the same command is rerun.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/memory.hpp"
#include "experiments/commands.hpp"
#include "experiments/local_launch.hpp"
#include "experiments/plotting.hpp"
#include "experiments/progress.hpp"
#include "experiments/reference_chains.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/runcard.hpp"
#include "experiments/study.hpp"

namespace fs = std::filesystem;

namespace latflow::cli {

namespace {

const std::vector<std::string> kScalingColumns = {
    "family", "card",    "L",      "m2",      "lambda", "seed",   "parameters", "target_metric", "target",
    "reached", "steps_to_target", "seconds_to_target", "steps", "seconds", "seconds_per_step", "peak_memory_mib",
    "ess",    "acceptance", "tau_int", "seconds_per_sample", "run_dir", "reused_from"};
/// HMC at each lattice point of a scaling study with hmc = true (hmc.csv).
const std::vector<std::string> kHmcColumns = {
    "L", "m2", "lambda", "observable", "tau_int", "tau_int_error", "acceptance", "seconds", "measurements",
    "cost_per_effective_sample", "run_dir"};
const std::vector<std::string> kTransferColumns = {
    "family", "pretrain_L", "L", "seed", "parameters", "pretrain_steps", "pretrain_seconds", "zero_shot_ess",
    "zero_shot_acceptance", "target_metric", "target", "finetune_reached", "finetune_steps", "finetune_seconds",
    "scratch_reached", "scratch_steps", "scratch_seconds", "speedup", "speedup_with_pretraining", "finetune_dir",
    "scratch_dir"};

std::string csv_field(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number_float()) {
    std::ostringstream os;
    os << std::setprecision(10) << v.get<double>();
    return os.str();
  }
  return v.dump();
}

/// The name of a study's row: its run's name, "<family>-L<L>-seed<seed>".
std::string row_name(const std::string& family, std::int64_t L, std::int64_t seed) {
  return family + "-L" + std::to_string(L) + "-seed" + std::to_string(seed);
}

/// A study's output directory: the resolved study (study.toml), one file per finished row (rows/NAME.json),
/// and the table of all finished rows as CSV and JSON. Several processes may work on one study at once
/// (--workers, the tasks of a Slurm array): each writes only its own rows' files, and the tables are rebuilt
/// from every row file under an exclusive lock (flock on STUDY/.lock), in the study's order, so no writer
/// loses another's rows and the tables do not depend on who finished first.
class StudyDirectory {
 public:
  /// `order`: the names of all rows of the study, in its order.
  /// `table`: the name of its CSV and JSON tables (the study's kind unless given).
  StudyDirectory(const Study& st, std::vector<std::string> columns, std::vector<std::string> order, bool force,
                 const std::string& table = "")
      : path_(st.output), name_(table.empty() ? st.kind : table), columns_(std::move(columns)), order_(std::move(order)),
        study_(st.to_toml()) {
    const std::string recorded = path_ + "/study.toml";
    if (force && fs::exists(recorded)) {  // only ever discard what a study wrote
      for (const char* f : {"study.toml", "scaling.csv", "scaling.json", "transfer.csv", "transfer.json", "hmc.csv", "hmc.json"})
        fs::remove(path_ + "/" + f);
      for (const char* d : {"runs", "rows", "logs"}) remove_tree(path_ + "/" + d);
    } else if (fs::exists(recorded)) {
      std::ifstream in(recorded);
      const std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (before != study_)
        throw UserError("'" + path_ + "' holds the results of a different study (its study.toml differs); "
                        "rerun with --force to discard them, or choose another output (--out or study.output)");
    }
    std::error_code ec;
    fs::create_directories(path_ + "/rows", ec);
    if (ec) throw UserError("cannot create study directory '" + path_ + "': " + ec.message());
    write_file_atomically(recorded, study_);
    // A study written before rows had files of their own keeps its rows.
    const std::string json_path = path_ + "/" + name_ + ".json";
    if (fs::is_empty(path_ + "/rows") && fs::exists(json_path)) {
      std::ifstream in(json_path);
      const nlohmann::json table = nlohmann::json::parse(in);  // alive while its rows are read
      for (const auto& row : table.at("rows"))
        write_file_atomically(row_file(row_name(row.at("family"), row.at("L"), row.at("seed"))), row.dump(2) + "\n");
    }
  }

  const std::string& path() const { return path_; }
  std::string run_dir(const std::string& name) const { return "runs/" + name; }
  bool has(const std::string& name) const { return fs::exists(row_file(name)); }
  nlohmann::json row(const std::string& name) const {
    std::ifstream in(row_file(name));
    return nlohmann::json::parse(in);
  }

  void add(const std::string& name, const nlohmann::json& row) {
    write_file_atomically(row_file(name), row.dump(2) + "\n");
    struct Lock {  // released when closed, also when flock fails or a write below throws
      int fd;
      ~Lock() {
        if (fd >= 0) ::close(fd);
      }
    } lock{::open((path_ + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666)};
    if (lock.fd < 0 || ::flock(lock.fd, LOCK_EX) != 0)
      throw UserError("cannot lock study directory '" + path_ + "' to update its tables: " + std::strerror(errno));
    nlohmann::json rows = nlohmann::json::array();
    std::ostringstream csv;
    for (std::size_t i = 0; i < columns_.size(); ++i) csv << (i ? "," : "") << columns_[i];
    csv << "\n";
    for (const auto& n : order_) {
      if (!has(n)) continue;
      const nlohmann::json r = this->row(n);
      // A row written before a column existed leaves it empty.
      for (std::size_t i = 0; i < columns_.size(); ++i)
        csv << (i ? "," : "") << (r.contains(columns_[i]) ? csv_field(r.at(columns_[i])) : std::string());
      csv << "\n";
      rows.push_back(r);
    }
    write_file_atomically(path_ + "/" + name_ + ".csv", csv.str());
    const nlohmann::json all = {{"study", study_}, {"rows", rows}};
    write_file_atomically(path_ + "/" + name_ + ".json", all.dump(2) + "\n");
  }

 private:
  std::string row_file(const std::string& name) const { return path_ + "/rows/" + name + ".json"; }
  std::string path_, name_;
  std::vector<std::string> columns_, order_;
  std::string study_;  ///< the resolved study as TOML
};

struct RunOutcome {
  nlohmann::json train;  ///< the summary of train_in
  nlohmann::json eval;   ///< the final evaluation
  double peak_memory_mib = -1;
  bool interrupted = false;
};

/// Trains one run of a study in `dir` (resuming from its checkpoint if a previous attempt was interrupted),
/// then evaluates it on its own lattice.
RunOutcome study_run(const std::string& card, std::vector<std::string> sets, const std::string& dir,
                     const std::string& init_from, std::ostream& err) {
  // A run that finished (its results.json is written last) is not trained again when a study resumes.
  if (fs::exists(dir + "/results.json")) {
    std::ifstream in(dir + "/results.json");
    const auto done = nlohmann::json::parse(in);
    if (done.contains("eval")) return {done["train"], done["eval"], done.value("peak_memory_mib", -1.0), false};
  }
  Session s(load_runcard(card, sets));
  const bool resume = fs::exists(dir + "/checkpoint.pt");
  RunDirectory rd(dir, resume ? RunDirectory::Mode::Resume : RunDirectory::Mode::Force);
  if (!resume) rd.write_file("runcard.toml", s.card.to_toml());
  reset_peak_memory(s.device);
  RunOutcome o;
  const Trained t = train_in(s, rd, resume, err, init_from);
  o.train = t.summary;
  o.peak_memory_mib = peak_memory_mib(s.device);
  if (t.interrupted) {
    o.interrupted = true;
    return o;
  }
  if (t.diverged)  // the weights are the last good step's: evaluated and recorded as not reaching the target
    err << "warning: " << dir << ": " << diverged_error(rd, t).what() << "\n";
  SamplerPtr flow = load_trained(s, rd.checkpoint());
  o.eval = evaluate_model(*flow, *s.action, s.lattice, evaluation_options(s.card.config, -1));
  judge_evaluation(o.eval, false, dir, err, &rd);
  nlohmann::json results = describe_run(s);
  results["train"] = o.train;
  results["eval"] = o.eval;
  results["peak_memory_mib"] = o.peak_memory_mib;
  rd.write_json("results.json", results);
  return o;
}

/// The overrides that put family f's card at one lattice point of the study, with its seed, run directory,
/// device and threads: what every run of the study gets, its HMC chains included.
std::vector<std::string> point_sets(const Study& st, std::size_t f, const GlobalOptions& g, const LatticePoint& p,
                                    std::int64_t seed, const std::string& dir) {
  std::vector<std::string> sets = st.overrides_for(f);
  for (auto& o : p.overrides()) sets.push_back(o);
  sets.push_back("run.seed=" + std::to_string(seed));
  sets.push_back("output.dir=" + dir);
  if (!g.device.empty()) sets.push_back("run.device=" + g.device);
  if (g.threads >= 0) sets.push_back("run.threads=" + std::to_string(g.threads));
  return sets;
}

/// The overrides that turn a family's card into one training run of the study.
std::vector<std::string> run_sets(const Study& st, std::size_t f, const GlobalOptions& g, const LatticePoint& p,
                                  std::int64_t seed, const std::string& dir, std::int64_t steps, bool with_target) {
  std::vector<std::string> sets = point_sets(st, f, g, p, seed, dir);
  sets.push_back("train.steps=" + std::to_string(steps));
  sets.push_back("train.eval_every=" + std::to_string(st.eval_every));
  std::ostringstream budget, target;
  budget << std::setprecision(17) << st.max_seconds;
  target << std::setprecision(17) << (with_target ? st.target : 0.0);
  sets.push_back("train.max_seconds=" + budget.str());
  sets.push_back("train.target_metric=" + st.target_metric);
  sets.push_back("train.target=" + target.str());
  sets.push_back("eval.hmc=false");
  sets.push_back("eval.transfer_L=0");
  return sets;
}

/// study.reuse: takes over the row `name` from the first earlier study whose run of it is the run that this
/// study would make with `sets`, in `dir`'s run directory `run_dir`. That run is the same when its resolved
/// run card equals this one but for the run directory and the wall-clock budget, and the budget cannot have
/// changed its result: the steps, the learning-rate schedule and the evaluations depend on the step count
/// alone, so the budget only decides where a run stops. Runs with the same budget are the same run, and a run
/// that stopped for another reason (target, steps, divergence) within this study's budget would have stopped
/// there under it too. Its run directory is copied, and the row says where it came from (reused_from).
/// Returns that study's directory, or "" when none has the run.
std::string reuse_row(const Study& st, std::size_t f, StudyDirectory& dir, const std::string& name,
                      const std::vector<std::string>& sets, const std::string& run_dir) {
  if (fs::exists(run_dir)) return "";  // this study's own run has begun, and resumes
  const std::string wanted = load_runcard(st.cards[f], sets).to_toml(false);
  std::vector<std::string> may_differ;  // this study's values of the two keys, as run_sets wrote them
  for (const auto& s : sets)
    if (s.rfind("train.max_seconds=", 0) == 0 || s.rfind("output.dir=", 0) == 0) may_differ.push_back(s);
  for (const auto& from : st.reuse) {
    const std::string run = from + "/" + dir.run_dir(name), row_path = from + "/rows/" + name + ".json";
    if (!fs::exists(row_path) || !fs::exists(run + "/results.json") || !fs::exists(run + "/runcard.toml")) continue;
    const std::string card = run + "/runcard.toml";
    if (load_runcard(card, may_differ).to_toml(false) != wanted) continue;
    const double their_budget = load_runcard(card).config.get<double>("train.max_seconds");
    const nlohmann::json train = nlohmann::json::parse(read_regular_file(run + "/results.json", "results")).at("train");
    const bool same = their_budget == st.max_seconds ||
                      (train.at("stop_reason") != "time" &&
                       (st.max_seconds == 0 || train.at("seconds").get<double>() <= st.max_seconds));
    if (!same) continue;
    nlohmann::json row = nlohmann::json::parse(read_regular_file(row_path, "study row"));
    copy_tree(run, run_dir);
    row["card"] = st.cards[f];
    row["run_dir"] = dir.run_dir(name);
    row["reused_from"] = from;
    dir.add(name, row);
    return from;
  }
  return "";
}

Study prepare(const std::string& path, const std::string& kind, GlobalOptions& g) {
  Study st = load_study(path, kind, g.sets);
  if (!g.out.empty()) st.output = g.out;
  if (g.seed >= 0) throw UserError("--seed does not apply to a study; set study.seeds (e.g. --set 'study.seeds=[1,2]')");
  // Recorded so that CPU and GPU rows never mix; which GPU a worker had does not define the study.
  st.device = g.device.empty() ? "from the run cards" : g.device.rfind("cuda", 0) == 0 ? "cuda" : g.device;
  st.threads = g.threads >= 0 ? g.threads : 0;
  return st;
}

int interrupted_study(const StudyDirectory& dir, const std::string& kind, const std::string& path,
                      std::ostream& err) {
  err << "interrupted; finished rows are in " << dir.path() << "/" << kind
      << ".csv and the current run has a checkpoint. Continue by rerunning the same command with the same "
         "options, e.g.\n  latflow " << kind << " " << path << " [--out ...] [--set ...]\n";
  return 130;
}

void report_plots(const std::string& dir, const std::string& script, std::ostream& out, std::ostream& err) {
  for (const auto& p : plot_run(dir, script, err)) out << "  plot     " << p << "\n";
}

double ev_metric(const nlohmann::json& ev, const char* key) { return ev.contains(key) ? ev[key].get<double>() : -1; }

/// What a finished scaling row says, as the serial study and its workers print it.
std::string scaling_summary(const nlohmann::json& row) {
  std::ostringstream os;
  const bool reached = row["reached"].get<bool>();
  os << (reached ? "reached" : "did not reach") << " the target"
     << (reached ? " after " + row["steps_to_target"].dump() + " steps (" +
                       format_duration(row["seconds_to_target"].get<double>()) + ")"
                 : " within " + row["steps"].dump() + " steps (" + format_duration(row["seconds"].get<double>()) + ")")
     << "; ESS " << std::setprecision(3) << row["ess"].get<double>() << ", acceptance " << row["acceptance"].get<double>();
  return os.str();
}

/// Lists `names[k]` as the unit "[k+1/total] name: ...".
std::string unit_label(const std::vector<std::string>& names, std::size_t k) {
  return "[" + std::to_string(k + 1) + "/" + std::to_string(names.size()) + "] " + names[k];
}

/// --workers N: every unfinished unit k of the study runs as its own process (`latflow KIND ... --task
/// k/units`), N at a time, each with its share of the cores (or one GPU each); their output goes to
/// STUDY/logs/NAME.log. `done(k)` says whether unit k has its rows already; `report(k)` prints a finished one.
int run_workers(const std::string& kind, const std::string& path, const StudyDirectory& dir,
                const std::vector<std::string>& names, const std::function<bool(std::size_t)>& done,
                const std::function<void(std::size_t)>& report, const StudySpread& spread, const GlobalOptions& g,
                std::ostream& out, std::ostream& err) {
  std::vector<std::size_t> todo;
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (!done(k)) todo.push_back(k);
    else out << unit_label(names, k) << ": done (rows in " << kind << ".csv)\n";
  }
  const int workers = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(spread.workers), std::max<std::size_t>(todo.size(), 1)));
  std::error_code ec;
  fs::create_directories(dir.path() + "/logs", ec);
  int gpus = 0;
  if (g.device == "cuda") gpus = static_cast<int>(torch::cuda::device_count());
  out << "running " << todo.size() << " of them in " << workers << " worker processes"
      << (gpus > 0 ? " (one GPU each)" : " (" + std::to_string(g.threads) + " threads each)") << "; logs in " << dir.path()
      << "/logs\n" << std::flush;

  ChildProcesses children;
  std::map<int, std::pair<std::size_t, int>> running;  // child id -> (unit, worker slot)
  std::vector<int> free_slots;
  for (int w = workers - 1; w >= 0; --w) free_slots.push_back(w);
  std::size_t next = 0;
  int failed = 0;
  bool interrupted = false;
  while (next < todo.size() || !running.empty()) {
    while (!interrupted && next < todo.size() && !free_slots.empty()) {
      const std::size_t k = todo[next++];
      const int slot = free_slots.back();
      free_slots.pop_back();
      // This worker's share replaces what the command line said for the whole machine.
      std::vector<std::string> args = without_option(spread.args, "--threads");
      if (gpus > 0) args = without_option(args, "--device");
      args.insert(args.end(), {"--task", std::to_string(k) + "/" + std::to_string(names.size())});
      args.insert(args.end(), {"--threads", std::to_string(g.threads)});  // the share set by share_threads
      if (gpus > 0) args.insert(args.end(), {"--device", "cuda:" + std::to_string(slot % gpus)});
      const std::string log = dir.path() + "/logs/" + names[k] + ".log";
      running[children.spawn(args, {}, log)] = {k, slot};
      out << unit_label(names, k) << ": started (log: " << log << ")\n" << std::flush;
    }
    const auto ended = children.wait_any(std::chrono::milliseconds(500));
    interrupted |= children.interrupted();
    if (!ended) continue;
    const auto [k, slot] = running.at(ended->first);
    running.erase(ended->first);
    free_slots.push_back(slot);
    if (ended->second == 0) {
      out << unit_label(names, k) << ": ";
      report(k);
    } else if (ended->second == 130) {
      interrupted = true;
      out << unit_label(names, k) << ": interrupted (checkpoint written)\n";
    } else {
      ++failed;
      out << unit_label(names, k) << ": failed (exit status " << ended->second << "); see " << dir.path() << "/logs/"
          << names[k] << ".log\n";
    }
    out << std::flush;
  }
  if (interrupted) return interrupted_study(dir, kind, path, err);
  if (failed > 0)
    throw UserError(std::to_string(failed) + " of the study's runs failed (their logs are in " + dir.path() +
                    "/logs); finished rows are kept, and rerunning the same command retries the others");
  out << "results: " << dir.path() << "/" << kind << ".csv\n";
  report_plots(dir.path(), kind, out, err);
  return 0;
}

/// The threads each of `workers` processes gets when the user did not say (--threads): the cores shared out.
void share_threads(GlobalOptions& g, int workers) {
  if (workers > 1 && g.threads < 0)
    g.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / workers);
}

/// --force discards a study's results; a task of an array must not discard its siblings'.
void refuse_force_in_task(const GlobalOptions& g, const StudySpread& spread) {
  if (g.force && spread.tasks > 1)
    throw UserError("--force cannot be combined with --task: every task would discard the others' rows; remove the "
                    "study's output directory once before submitting the array instead");
}

/// HMC at every lattice point of a scaling study with hmc = true, from the first family's card (its hmc.* keys
/// and the study's overrides): a row of hmc.csv per point, skipped when it is there already.
void hmc_rows(const Study& st, const GlobalOptions& g, std::ostream& out, std::ostream& err) {
  std::vector<std::string> names;
  for (const auto& p : st.points) names.push_back("hmc-L" + std::to_string(p.L));
  StudyDirectory dir(st, kHmcColumns, names, /*force=*/false, "hmc");  // the scaling table's directory cleared it
  for (std::size_t k = 0; k < st.points.size(); ++k) {
    const LatticePoint& p = st.points[k];
    out << names[k] << ": ";
    if (dir.has(names[k])) {
      out << "done (row in hmc.csv)\n";
      continue;
    }
    out << "hmc\n" << std::flush;
    const std::string rel = dir.run_dir(names[k]);
    Session s(load_runcard(st.cards.front(), point_sets(st, 0, g, p, st.seeds.front(), dir.path() + "/" + rel)));
    RunDirectory rd(s.run_directory(), RunDirectory::Mode::Force);
    rd.write_file("runcard.toml", s.card.to_toml());
    const nlohmann::json r = run_reference_chains(s, err, false).front().results;
    rd.write_json("results.json", r);
    const std::string obs = r["cost_per_effective_sample"]["observable"].get<std::string>();
    const nlohmann::json row = {{"L", p.L},
                                {"m2", p.coupling("lattice.m2")},
                                {"lambda", p.coupling("lattice.lambda")},
                                {"observable", obs},
                                {"tau_int", r["tau_int"][obs]["value"]},
                                {"tau_int_error", r["tau_int"][obs]["error"]},
                                {"acceptance", r.value("acceptance", nlohmann::json())},
                                {"seconds", r["seconds"]},
                                {"measurements", r["measurements"]},
                                {"cost_per_effective_sample", r["cost_per_effective_sample"]["seconds"]},
                                {"run_dir", rel}};
    dir.add(names[k], row);
    out << "    tau_int(" << obs << ") " << row["tau_int"].get<double>() << ", cost per effective sample "
        << row["cost_per_effective_sample"].get<double>() << " s\n" << std::flush;
  }
}

}  // namespace

int cmd_scaling(const std::string& path, GlobalOptions g, const StudySpread& spread, std::ostream& out,
                std::ostream& err) {
  refuse_force_in_task(g, spread);
  share_threads(g, spread.workers);
  const Study st = prepare(path, "scaling", g);
  struct Unit {
    std::size_t family;
    const LatticePoint* point;
    std::int64_t seed;
  };
  std::vector<Unit> units;
  std::vector<std::string> names;
  for (std::size_t f = 0; f < st.families.size(); ++f)
    for (const auto& p : st.points)
      for (std::int64_t seed : st.seeds) {
        units.push_back({f, &p, seed});
        names.push_back(row_name(st.families[f], p.L, seed));
      }
  StudyDirectory dir(st, kScalingColumns, names, g.force);
  out << "latflow scaling " << path << ": " << units.size() << " runs (" << st.families.size() << " families x "
      << st.points.size() << " lattices x " << st.seeds.size() << " seeds), target " << st.target_metric
      << " >= " << st.target << ", budget " << st.max_steps << " steps"
      << (st.max_seconds > 0 ? " / " + format_duration(st.max_seconds) : std::string()) << " per run"
      << (spread.tasks > 1 ? "; task " + std::to_string(spread.task) + " of " + std::to_string(spread.tasks) : std::string())
      << "\n" << std::flush;
  for (const auto& from : st.reuse)
    if (!fs::exists(from + "/study.toml"))
      out << "study.reuse: '" << from << "' holds no study (no study.toml there); its runs are trained here\n";
  for (std::size_t k = 0; k < units.size() && !st.reuse.empty(); ++k) {
    if (static_cast<int>(k % static_cast<std::size_t>(spread.tasks)) != spread.task || dir.has(names[k])) continue;
    const std::string run_dir = dir.path() + "/" + dir.run_dir(names[k]);
    const auto sets = run_sets(st, units[k].family, g, *units[k].point, units[k].seed, run_dir, st.max_steps, true);
    const std::string from = reuse_row(st, units[k].family, dir, names[k], sets, run_dir);
    if (!from.empty())
      out << unit_label(names, k) << ": reused from " << from << ": " << scaling_summary(dir.row(names[k])) << "\n";
  }
  if (st.hmc && spread.task == 0) hmc_rows(st, g, out, err);  // before the flows: seconds per point
  if (spread.workers > 1)
    return run_workers(
        "scaling", path, dir, names, [&](std::size_t k) { return dir.has(names[k]); },
        [&](std::size_t k) { out << scaling_summary(dir.row(names[k])) << "\n"; }, spread, g, out, err);
  InterruptGuard guard;
  for (std::size_t k = 0; k < units.size(); ++k) {
    if (static_cast<int>(k % static_cast<std::size_t>(spread.tasks)) != spread.task) continue;
    const Unit& u = units[k];
    const std::string& name = names[k];
    const LatticePoint& p = *u.point;
    out << unit_label(names, k) << ": ";
    if (dir.has(name)) {
      out << "done (row in scaling.csv)\n";
      continue;
    }
    out << "training\n" << std::flush;
    const std::string rel = dir.run_dir(name);
    const auto sets = run_sets(st, u.family, g, p, u.seed, dir.path() + "/" + rel, st.max_steps, true);
    const RunOutcome o = study_run(st.cards[u.family], sets, dir.path() + "/" + rel, "", err);
    if (o.interrupted) return interrupted_study(dir, "scaling", path, err);
    const auto& t = o.train;
    const nlohmann::json row = {{"family", st.families[u.family]},
                                {"card", st.cards[u.family]},
                                {"L", p.L},
                                {"m2", p.coupling("lattice.m2")},
                                {"lambda", p.coupling("lattice.lambda")},
                                {"seed", u.seed},
                                {"parameters", t["parameters"]},
                                {"target_metric", st.target_metric},
                                {"target", st.target},
                                {"reached", t["reached_target"]},
                                {"steps_to_target", t["steps_to_target"]},
                                {"seconds_to_target", t["seconds_to_target"]},
                                {"steps", t["steps"]},
                                {"seconds", t["seconds"]},
                                {"seconds_per_step", t["seconds_per_step"]},
                                {"peak_memory_mib", o.peak_memory_mib},
                                {"ess", o.eval["ess"]},
                                {"acceptance", o.eval["acceptance"]},
                                {"tau_int", o.eval["tau_int"][o.eval["chain_observable"].get<std::string>()]["value"]},
                                {"seconds_per_sample", o.eval["seconds"].get<double>() / o.eval["n"].get<double>()},
                                {"run_dir", rel}};
    dir.add(name, row);
    out << "    " << scaling_summary(row) << "\n" << std::flush;
  }
  out << "results: " << dir.path() << "/scaling.csv\n";
  if (spread.tasks == 1) report_plots(dir.path(), "scaling", out, err);
  return 0;
}

int cmd_transfer(const std::string& path, GlobalOptions g, const StudySpread& spread, std::ostream& out,
                 std::ostream& err) {
  refuse_force_in_task(g, spread);
  share_threads(g, spread.workers);
  const Study st = prepare(path, "transfer", g);
  // The unit of work is a family and seed: its pretraining, then every larger lattice.
  std::vector<std::string> rows, units;
  for (std::size_t f = 0; f < st.families.size(); ++f)
    for (std::int64_t seed : st.seeds) {
      units.push_back(st.families[f] + "-seed" + std::to_string(seed));
      for (const auto& p : st.points) rows.push_back(row_name(st.families[f], p.L, seed));
    }
  StudyDirectory dir(st, kTransferColumns, rows, g.force);
  out << "latflow transfer " << path << ": pretrain on "
      << (st.pretrain.preset.empty() ? "L = " + std::to_string(st.pretrain.L) : st.pretrain.preset) << " for "
      << st.pretrain_steps << " steps, then zero-shot, fine-tune and from-scratch runs on " << st.points.size()
      << " larger lattices, target " << st.target_metric << " >= " << st.target
      << (spread.tasks > 1 ? "; task " + std::to_string(spread.task) + " of " + std::to_string(spread.tasks) : std::string())
      << "\n" << std::flush;
  const std::size_t per_unit = st.points.size();
  if (spread.workers > 1)
    return run_workers(
        "transfer", path, dir, units,
        [&](std::size_t k) {
          for (std::size_t i = 0; i < per_unit; ++i)
            if (!dir.has(rows[k * per_unit + i])) return false;
          return true;
        },
        [&](std::size_t) { out << "done\n"; }, spread, g, out, err);
  InterruptGuard guard;
  for (std::size_t f = 0; f < st.families.size(); ++f)
    for (std::size_t si = 0; si < st.seeds.size(); ++si) {
      if (static_cast<int>((f * st.seeds.size() + si) % static_cast<std::size_t>(spread.tasks)) != spread.task) continue;
      const std::int64_t seed = st.seeds[si];
      const std::string& family = st.families[f];
      const std::string& card = st.cards[f];
      const std::int64_t L0 = st.pretrain.L;
      const std::string pre_name = family + "-pretrain-L" + std::to_string(L0) + "-seed" + std::to_string(seed);
      const std::string pre_dir = dir.path() + "/" + dir.run_dir(pre_name);
      out << pre_name << ": pretraining\n" << std::flush;
      const RunOutcome pre = study_run(card, run_sets(st, f, g, st.pretrain, seed, pre_dir, st.pretrain_steps, false),
                                       pre_dir, "", err);
      if (pre.interrupted) return interrupted_study(dir, "transfer", path, err);
      const std::string pretrained = pre_dir + "/checkpoint.pt";

      for (const auto& p : st.points) {
        const std::int64_t L = p.L;
        const std::string tag = row_name(family, L, seed);
        if (dir.has(tag)) {
          out << tag << ": done (row in transfer.csv)\n";
          continue;
        }
        // Zero-shot: the pretrained weights on the larger lattice, no training.
        Session big(load_runcard(card, run_sets(st, f, g, p, seed, "", 1, true)));
        SamplerPtr moved = load_trained(big, pretrained);
        const nlohmann::json zero = evaluate_model(*moved, *big.action, big.lattice, evaluation_options(big.card.config, -1));
        out << tag << ": zero-shot ESS " << std::setprecision(3) << zero["ess"].get<double>() << "; fine-tuning\n"
            << std::flush;
        const std::string ft_rel = dir.run_dir(family + "-finetune-L" + std::to_string(L) + "-seed" + std::to_string(seed));
        const std::string sc_rel = dir.run_dir(family + "-scratch-L" + std::to_string(L) + "-seed" + std::to_string(seed));
        const RunOutcome ft = study_run(card, run_sets(st, f, g, p, seed, dir.path() + "/" + ft_rel, st.max_steps, true),
                                        dir.path() + "/" + ft_rel, pretrained, err);
        if (ft.interrupted) return interrupted_study(dir, "transfer", path, err);
        out << tag << ": from scratch\n" << std::flush;
        const RunOutcome sc = study_run(card, run_sets(st, f, g, p, seed, dir.path() + "/" + sc_rel, st.max_steps, true),
                                        dir.path() + "/" + sc_rel, "", err);
        if (sc.interrupted) return interrupted_study(dir, "transfer", path, err);

        // To target when reached, else the budget spent (a lower bound for that side).
        const auto cost = [](const nlohmann::json& t, const char* what) {
          return t["reached_target"].get<bool>() ? t[std::string(what) + "_to_target"] : t[what];
        };
        const double ft_s = cost(ft.train, "seconds").get<double>(), sc_s = cost(sc.train, "seconds").get<double>();
        const double pre_s = pre.train["seconds"].get<double>();
        dir.add(tag, {{"family", family},
                 {"pretrain_L", L0},
                 {"L", L},
                 {"seed", seed},
                 {"parameters", ft.train["parameters"]},
                 {"pretrain_steps", pre.train["steps"]},
                 {"pretrain_seconds", pre_s},
                 {"zero_shot_ess", zero["ess"]},
                 {"zero_shot_acceptance", zero["acceptance"]},
                 {"target_metric", st.target_metric},
                 {"target", st.target},
                 {"finetune_reached", ft.train["reached_target"]},
                 {"finetune_steps", cost(ft.train, "steps")},
                 {"finetune_seconds", ft_s},
                 {"scratch_reached", sc.train["reached_target"]},
                 {"scratch_steps", cost(sc.train, "steps")},
                 {"scratch_seconds", sc_s},
                 {"speedup", ft_s > 0 ? sc_s / ft_s : -1.0},
                 {"speedup_with_pretraining", sc_s / (ft_s + pre_s)},
                 {"finetune_dir", ft_rel},
                 {"scratch_dir", sc_rel}});
        out << "    fine-tuned: " << (ft.train["reached_target"].get<bool>() ? "target in " : "no target in ")
            << format_duration(ft_s) << "; from scratch: "
            << (sc.train["reached_target"].get<bool>() ? "target in " : "no target in ") << format_duration(sc_s)
            << "; speedup " << std::setprecision(3) << (ft_s > 0 ? sc_s / ft_s : -1.0) << " ("
            << sc_s / (ft_s + pre_s) << " counting pretraining); final ESS " << ev_metric(ft.eval, "ess")
            << " vs " << ev_metric(sc.eval, "ess") << "\n"
            << std::flush;
      }
    }
  out << "results: " << dir.path() << "/transfer.csv\n";
  if (spread.tasks == 1) report_plots(dir.path(), "transfer", out, err);
  return 0;
}

int cmd_plot(const std::string& dir, std::ostream& out, std::ostream& err) {
  std::string script;
  if (fs::exists(dir + "/scaling.csv"))
    script = "scaling";
  else if (fs::exists(dir + "/transfer.csv"))
    script = "transfer";
  else if (fs::exists(dir + "/results.json")) {
    std::ifstream in(dir + "/results.json");
    const auto results = nlohmann::json::parse(in, nullptr, false);
    if (results.is_object() && results.contains("train") && fs::exists(dir + "/metrics.jsonl"))
      script = "quickstart";
    else if (results.is_object() && results.contains("tau_int") && !results.contains("train"))
      throw UserError("'" + dir + "' is an HMC run: latflow plot draws flow runs (latflow run, latflow train) and "
                      "studies; its numbers are in " + dir + "/results.json");
    else
      throw UserError("'" + dir + "' holds no results to plot (its results.json is not a flow run's)");
  } else
    throw UserError("'" + dir + "' holds no results to plot (expected scaling.csv, transfer.csv, or a run's "
                    "results.json and metrics.jsonl)");
  const auto plots = plot_run(dir, script, err);
  if (plots.empty()) throw UserError("plotting '" + dir + "' failed (see the warning above)");
  for (const auto& p : plots) out << p << "\n";
  return 0;
}

}  // namespace latflow::cli
