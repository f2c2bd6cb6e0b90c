// `latflow scaling`, `latflow transfer` and `latflow plot`: the studies users run latflow for.
//
// Scaling (how the cost of training grows with L; Del Debbio, Marsh Rossney, Wilson 2021, arXiv 2112.15532, seed 001):
// every family x lattice x seed is trained until the target (ESS or independence-Metropolis acceptance of
// the periodic evaluation) or the budget, then evaluated. Transfer (Máté & Fleuret, seed 003): a model
// pretrained on a small lattice is evaluated zero-shot on each larger one, fine-tuned there, and compared
// with training from scratch. Each finished run is one row, written at once; an interrupted study resumes
// at the run it stopped in (from that run's checkpoint) when the same command is rerun.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/memory.hpp"
#include "experiments/commands.hpp"
#include "experiments/plotting.hpp"
#include "experiments/progress.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/study.hpp"

namespace fs = std::filesystem;

namespace latflow::cli {

namespace {

const std::vector<std::string> kScalingColumns = {
    "family", "card",    "L",      "m2",      "lambda", "seed",   "parameters", "target_metric", "target",
    "reached", "steps_to_target", "seconds_to_target", "steps", "seconds", "seconds_per_step", "peak_memory_mib",
    "ess",    "acceptance", "tau_int", "run_dir"};
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

/// A study's output directory: the resolved study (study.toml), and its table of rows as CSV and JSON,
/// rewritten atomically after every run.
class StudyDirectory {
 public:
  StudyDirectory(const Study& st, std::vector<std::string> columns, bool force)
      : path_(st.output), name_(st.kind), columns_(std::move(columns)), study_(st.to_toml()) {
    const std::string recorded = path_ + "/study.toml";
    if (force && fs::exists(recorded)) {  // only ever discard what a study wrote
      for (const char* f : {"study.toml", "scaling.csv", "scaling.json", "transfer.csv", "transfer.json"})
        fs::remove(path_ + "/" + f);
      remove_tree(path_ + "/runs");
    } else if (fs::exists(recorded)) {
      std::ifstream in(recorded);
      const std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (before != study_)
        throw UserError("'" + path_ + "' holds the results of a different study (its study.toml differs); "
                        "rerun with --force to discard them, or choose another output (--out or study.output)");
    }
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) throw UserError("cannot create study directory '" + path_ + "': " + ec.message());
    write_file_atomically(recorded, study_);
    rows_ = nlohmann::json::array();
    const std::string json_path = path_ + "/" + name_ + ".json";
    if (fs::exists(json_path)) {
      std::ifstream in(json_path);
      rows_ = nlohmann::json::parse(in).at("rows");
    }
  }

  const std::string& path() const { return path_; }
  std::string run_dir(const std::string& name) const { return "runs/" + name; }

  const nlohmann::json* find(const std::map<std::string, nlohmann::json>& key) const {
    for (const auto& row : rows_) {
      bool match = true;
      for (const auto& [k, v] : key) match &= row.contains(k) && row[k] == v;
      if (match) return &row;
    }
    return nullptr;
  }

  void add(const nlohmann::json& row) {
    rows_.push_back(row);
    std::ostringstream csv;
    for (std::size_t i = 0; i < columns_.size(); ++i) csv << (i ? "," : "") << columns_[i];
    csv << "\n";
    for (const auto& r : rows_) {
      for (std::size_t i = 0; i < columns_.size(); ++i) csv << (i ? "," : "") << csv_field(r.at(columns_[i]));
      csv << "\n";
    }
    write_file_atomically(path_ + "/" + name_ + ".csv", csv.str());
    const nlohmann::json all = {{"study", study_}, {"rows", rows_}};
    write_file_atomically(path_ + "/" + name_ + ".json", all.dump(2) + "\n");
  }

  const nlohmann::json& rows() const { return rows_; }

 private:
  std::string path_, name_;
  std::vector<std::string> columns_;
  std::string study_;  ///< the resolved study as TOML
  nlohmann::json rows_;
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

/// The overrides that turn a family's card into one run of the study.
std::vector<std::string> run_sets(const Study& st, const GlobalOptions& g, const LatticePoint& p, std::int64_t seed,
                                  const std::string& dir, std::int64_t steps, bool with_target) {
  std::vector<std::string> sets = st.overrides;
  for (auto& o : p.overrides()) sets.push_back(o);
  sets.push_back("run.seed=" + std::to_string(seed));
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
  sets.push_back("output.dir=" + dir);
  if (!g.device.empty()) sets.push_back("run.device=" + g.device);
  if (g.threads >= 0) sets.push_back("run.threads=" + std::to_string(g.threads));
  return sets;
}

Study prepare(const std::string& path, const std::string& kind, GlobalOptions& g) {
  Study st = load_study(path, kind, g.sets);
  if (!g.out.empty()) st.output = g.out;
  if (g.seed >= 0) throw UserError("--seed does not apply to a study; set study.seeds (e.g. --set 'study.seeds=[1,2]')");
  st.device = g.device.empty() ? "from the run cards" : g.device;
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

}  // namespace

int cmd_scaling(const std::string& path, GlobalOptions g, std::ostream& out, std::ostream& err) {
  const Study st = prepare(path, "scaling", g);
  StudyDirectory dir(st, kScalingColumns, g.force);
  InterruptGuard guard;
  const std::size_t total = st.families.size() * st.points.size() * st.seeds.size();
  out << "latflow scaling " << path << ": " << total << " runs (" << st.families.size() << " families x "
      << st.points.size() << " lattices x " << st.seeds.size() << " seeds), target " << st.target_metric
      << " >= " << st.target << ", budget " << st.max_steps << " steps"
      << (st.max_seconds > 0 ? " / " + format_duration(st.max_seconds) : std::string()) << " per run\n"
      << std::flush;
  std::size_t k = 0;
  for (std::size_t f = 0; f < st.families.size(); ++f)
    for (const auto& p : st.points)
      for (std::int64_t seed : st.seeds) {
        ++k;
        const std::int64_t L = p.L;
        const std::string name = st.families[f] + "-L" + std::to_string(L) + "-seed" + std::to_string(seed);
        out << "[" << k << "/" << total << "] " << name << ": ";
        if (dir.find({{"family", st.families[f]}, {"L", L}, {"seed", seed}})) {
          out << "done (row in scaling.csv)\n";
          continue;
        }
        out << "training\n" << std::flush;
        const std::string rel = dir.run_dir(name);
        const auto sets = run_sets(st, g, p, seed, dir.path() + "/" + rel, st.max_steps, true);
        const RunOutcome o = study_run(st.cards[f], sets, dir.path() + "/" + rel, "", err);
        if (o.interrupted) return interrupted_study(dir, "scaling", path, err);
        const auto& t = o.train;
        dir.add({{"family", st.families[f]},
                 {"card", st.cards[f]},
                 {"L", L},
                 {"m2", p.coupling("lattice.m2")},
                 {"lambda", p.coupling("lattice.lambda")},
                 {"seed", seed},
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
                 {"run_dir", rel}});
        out << "    " << (t["reached_target"].get<bool>() ? "reached" : "did not reach") << " the target"
            << (t["reached_target"].get<bool>()
                    ? " after " + t["steps_to_target"].dump() + " steps (" +
                          format_duration(t["seconds_to_target"].get<double>()) + ")"
                    : " within " + t["steps"].dump() + " steps (" + format_duration(t["seconds"].get<double>()) + ")")
            << "; ESS " << std::setprecision(3) << o.eval["ess"].get<double>() << ", acceptance "
            << o.eval["acceptance"].get<double>() << "\n"
            << std::flush;
      }
  out << "results: " << dir.path() << "/scaling.csv\n";
  report_plots(dir.path(), "scaling", out, err);
  return 0;
}

int cmd_transfer(const std::string& path, GlobalOptions g, std::ostream& out, std::ostream& err) {
  const Study st = prepare(path, "transfer", g);
  StudyDirectory dir(st, kTransferColumns, g.force);
  InterruptGuard guard;
  out << "latflow transfer " << path << ": pretrain on "
      << (st.pretrain.preset.empty() ? "L = " + std::to_string(st.pretrain.L) : st.pretrain.preset) << " for "
      << st.pretrain_steps << " steps, then zero-shot, fine-tune and from-scratch runs on " << st.points.size()
      << " larger lattices, target " << st.target_metric << " >= " << st.target << "\n"
      << std::flush;
  for (std::size_t f = 0; f < st.families.size(); ++f)
    for (std::int64_t seed : st.seeds) {
      const std::string& family = st.families[f];
      const std::string& card = st.cards[f];
      const std::int64_t L0 = st.pretrain.L;
      const std::string pre_name = family + "-pretrain-L" + std::to_string(L0) + "-seed" + std::to_string(seed);
      const std::string pre_dir = dir.path() + "/" + dir.run_dir(pre_name);
      out << pre_name << ": pretraining\n" << std::flush;
      const RunOutcome pre = study_run(card, run_sets(st, g, st.pretrain, seed, pre_dir, st.pretrain_steps, false),
                                       pre_dir, "", err);
      if (pre.interrupted) return interrupted_study(dir, "transfer", path, err);
      const std::string pretrained = pre_dir + "/checkpoint.pt";

      for (const auto& p : st.points) {
        const std::int64_t L = p.L;
        const std::string tag = family + "-L" + std::to_string(L) + "-seed" + std::to_string(seed);
        if (dir.find({{"family", family}, {"L", L}, {"seed", seed}})) {
          out << tag << ": done (row in transfer.csv)\n";
          continue;
        }
        // Zero-shot: the pretrained weights on the larger lattice, no training.
        Session big(load_runcard(card, run_sets(st, g, p, seed, "", 1, true)));
        SamplerPtr moved = load_trained(big, pretrained);
        const nlohmann::json zero = evaluate_model(*moved, *big.action, big.lattice, evaluation_options(big.card.config, -1));
        out << tag << ": zero-shot ESS " << std::setprecision(3) << zero["ess"].get<double>() << "; fine-tuning\n"
            << std::flush;
        const std::string ft_rel = dir.run_dir(family + "-finetune-L" + std::to_string(L) + "-seed" + std::to_string(seed));
        const std::string sc_rel = dir.run_dir(family + "-scratch-L" + std::to_string(L) + "-seed" + std::to_string(seed));
        const RunOutcome ft = study_run(card, run_sets(st, g, p, seed, dir.path() + "/" + ft_rel, st.max_steps, true),
                                        dir.path() + "/" + ft_rel, pretrained, err);
        if (ft.interrupted) return interrupted_study(dir, "transfer", path, err);
        out << tag << ": from scratch\n" << std::flush;
        const RunOutcome sc = study_run(card, run_sets(st, g, p, seed, dir.path() + "/" + sc_rel, st.max_steps, true),
                                        dir.path() + "/" + sc_rel, "", err);
        if (sc.interrupted) return interrupted_study(dir, "transfer", path, err);

        // To target when reached, else the budget spent (a lower bound for that side).
        const auto cost = [](const nlohmann::json& t, const char* what) {
          return t["reached_target"].get<bool>() ? t[std::string(what) + "_to_target"] : t[what];
        };
        const double ft_s = cost(ft.train, "seconds").get<double>(), sc_s = cost(sc.train, "seconds").get<double>();
        const double pre_s = pre.train["seconds"].get<double>();
        dir.add({{"family", family},
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
  report_plots(dir.path(), "transfer", out, err);
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
