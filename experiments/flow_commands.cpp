// `latflow train`, `eval`, `sample` and `run`: the life of a flow model in its run directory.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <torch/torch.h>

#include "core/npy.hpp"
#include "core/version.hpp"
#include "experiments/commands.hpp"
#include "experiments/hmc_reference.hpp"
#include "experiments/plotting.hpp"
#include "experiments/progress.hpp"
#include "experiments/report.hpp"
#include "experiments/run_directory.hpp"
#include "experiments/session.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

namespace fs = std::filesystem;

namespace latflow::cli {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

/// Routes SIGINT/SIGTERM to a flag while alive, so training checkpoints and stops cleanly.
struct InterruptGuard {
  InterruptGuard() {
    g_interrupted = false;
    prev_int = std::signal(SIGINT, on_sigint);
    prev_term = std::signal(SIGTERM, on_sigint);
  }
  ~InterruptGuard() {
    std::signal(SIGINT, prev_int);
    std::signal(SIGTERM, prev_term);
  }
  void (*prev_int)(int);
  void (*prev_term)(int);
};

/// The run card stored in a run directory, with overrides applied.
RunCard card_of_run(const std::string& run_dir, const std::vector<std::string>& sets) {
  const std::string path = run_dir + "/runcard.toml";
  if (!fs::exists(path)) throw UserError("'" + run_dir + "' is not a run directory (no runcard.toml)");
  RunCard card = load_runcard(path, sets);
  card.source = run_dir;
  return card;
}

/// A trained flow: the run's card (overrides applied, e.g. another lattice) and its checkpoint's weights.
FlowPtr load_trained(const Session& s, const std::string& run_dir) {
  FlowPtr flow = s.build_flow();
  load_checkpoint(run_dir + "/checkpoint.pt", *flow, nullptr, false);
  return flow;
}

EvaluationOptions evaluation_options(const Config& c, long long n) {
  EvaluationOptions o;
  o.n = n > 0 ? n : c.get<std::int64_t>("eval.n");
  o.batch = c.get<std::int64_t>("eval.batch");
  o.bins = static_cast<int>(c.get<std::int64_t>("eval.bins"));
  o.seed = static_cast<std::uint64_t>(c.get<std::int64_t>("run.seed"));
  return o;
}

std::string status_line(const nlohmann::json& rec) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << "loss " << rec["loss"].get<double>() << "  ESS(batch) "
     << rec["ess"].get<double>();
  return os.str();
}

struct Trained {
  nlohmann::json summary;
  bool interrupted = false;
};

/// Trains the session's model in `dir` (resuming if asked), streaming metrics and progress.
Trained train_in(const Session& s, RunDirectory& dir, bool resume, std::ostream& err) {
  FlowPtr flow = s.build_flow();
  const bool terminal = Progress::is_terminal(2);
  const TrainOptions opts = TrainOptions::from_config(s.card.config);
  Progress progress(err, "train", opts.steps, terminal);
  InterruptGuard guard;
  Monitor monitor;
  monitor.on_step = [&](const nlohmann::json& r) {
    dir.append_metrics(r);
    progress.update(r["step"].get<std::int64_t>(), status_line(r));
  };
  monitor.on_eval = [&](const nlohmann::json& r) {
    dir.append_metrics(r);
    std::ostringstream os;
    os << "step " << r["step"] << ": ESS " << std::fixed << std::setprecision(3) << r["eval"]["ess"].get<double>()
       << ", loss " << r["eval"]["loss"].get<double>() << ", log Z " << format_estimate(r["eval"]["log_z"]);
    progress.message(os.str());
    dir.log(os.str());
  };
  monitor.on_warning = [&](const std::string& m) {
    progress.message("warning: " + m);
    dir.log("warning: " + m);
  };
  monitor.should_stop = [] { return g_interrupted.load(); };

  Trainer trainer(flow, s.action,
                  estimator_registry().create(s.card.config.get<std::string>("train.estimator")), s.lattice,
                  opts, monitor);
  if (resume) {
    trainer.resume_from(dir.checkpoint());
    const auto meta = read_checkpoint_meta(dir.checkpoint());
    dir.truncate_metrics(meta.step);
    dir.log("resumed at step " + std::to_string(meta.step));
  }
  const TrainResult r = trainer.run(dir.checkpoint(), s.card.to_toml(false));
  progress.finish();
  Trained t;
  t.interrupted = r.interrupted;
  t.summary = {{"steps", r.steps},
               {"seconds", r.seconds},
               {"seconds_per_step", r.steps > 0 ? r.seconds / static_cast<double>(r.steps) : 0.0},
               {"parameters", flow->parameter_count()},
               {"reached_target", r.reached_target},
               {"steps_to_target", r.steps_to_target},
               {"seconds_to_target", r.seconds_to_target},
               {"last_eval", r.last_eval}};
  if (r.interrupted)
    dir.log("interrupted at step " + std::to_string(r.steps) + "; checkpoint written");
  return t;
}

nlohmann::json describe_run(const Session& s) {
  nlohmann::json lat = {{"T", s.lattice.T}, {"L", s.lattice.L}};
  lat.update(s.action->couplings());
  return {{"lattice", lat},
          {"model", s.card.config.get<std::string>("model.type")},
          {"latflow", kVersion},
          {"device", s.device.str()},
          {"threads", at::get_num_threads()}};
}

int interrupted_exit(const RunDirectory& dir, std::int64_t step, std::ostream& err) {
  err << "interrupted at step " << step << "; checkpoint written. Continue with:\n  latflow train "
      << dir.path() << " --resume\n";
  return 130;
}

}  // namespace

int cmd_train(const std::string& card_or_dir, const GlobalOptions& g, bool resume, std::ostream& out,
              std::ostream& err) {
  std::unique_ptr<Session> s;
  std::unique_ptr<RunDirectory> dir;
  if (resume) {
    const std::string run_dir =
        fs::is_directory(card_or_dir) ? card_or_dir : Session(load_runcard(card_or_dir, g.overrides())).run_directory();
    s = std::make_unique<Session>(card_of_run(run_dir, g.overrides()));
    dir = std::make_unique<RunDirectory>(run_dir, RunDirectory::Mode::Resume);
  } else {
    s = std::make_unique<Session>(load_runcard(card_or_dir, g.overrides()));
    dir = std::make_unique<RunDirectory>(s->run_directory(),
                                         g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
    dir->write_file("runcard.toml", s->card.to_toml());
  }
  dir->log(std::string(resume ? "resume" : "train") + " " + describe_run(*s).dump());
  const Trained t = train_in(*s, *dir, resume, err);
  nlohmann::json results = describe_run(*s);
  results["train"] = t.summary;
  dir->write_json("results.json", results);
  if (t.interrupted) return interrupted_exit(*dir, t.summary["steps"].get<std::int64_t>(), err);
  out << "trained " << t.summary["steps"] << " steps in " << format_duration(t.summary["seconds"].get<double>())
      << " (" << t.summary["parameters"] << " parameters)\n";
  if (!t.summary["last_eval"].is_null())
    out << "final ESS " << t.summary["last_eval"]["eval"]["ess"].get<double>() << "\n";
  out << "run directory: " << dir->path() << "\n";
  return 0;
}

int cmd_eval(const std::string& run_dir, const GlobalOptions& g, long long n, bool json, std::ostream& out,
             std::ostream& err) {
  (void)err;
  Session s(card_of_run(run_dir, g.overrides()));
  FlowPtr flow = load_trained(s, run_dir);
  nlohmann::json result = describe_run(s);
  result.update(evaluate_flow(*flow, *s.action, s.lattice, evaluation_options(s.card.config, n)));
  const std::string name = "eval-" + s.lattice.str() + ".json";
  RunDirectory(run_dir, RunDirectory::Mode::Resume).write_json(name, result);
  if (json) {
    out << result.dump() << "\n";
    return 0;
  }
  out << "evaluated " << run_dir << " on " << s.lattice.str() << " " << s.action->couplings().dump() << " ("
      << result["n"] << " samples)\n"
      << "  ESS/N                     " << result["ess"].get<double>() << "\n"
      << "  acceptance (indep. MH)    " << result["acceptance"].get<double>() << "\n"
      << "  tau_int(|M|), MH chain    " << format_estimate(result["tau_int"]["abs_magnetization"]) << "\n"
      << "  log Z                     " << format_estimate(result["log_z"]) << "\n"
      << "  KL(q||p)                  " << format_estimate(result["kl"]) << "\n";
  print_observables(out, result["observables"]);
  out << "results: " << run_dir << "/" << name << "\n";
  return 0;
}

int cmd_sample(const std::string& run_dir, const GlobalOptions& g, long long n, const std::string& file,
               std::ostream& out, std::ostream& err) {
  (void)err;
  Session s(card_of_run(run_dir, g.overrides()));
  FlowPtr flow = load_trained(s, run_dir);
  const std::string path = file.empty() ? run_dir + "/samples.npy" : file;
  const std::int64_t batch = s.card.config.get<std::int64_t>("eval.batch");
  const std::int64_t V = s.lattice.volume();
  std::vector<double> data;
  data.reserve(static_cast<std::size_t>(n * (V + 2)));
  torch::NoGradGuard no_grad;
  for (std::int64_t done = 0; done < n; done += batch) {
    const Density d = flow->sample(std::min<std::int64_t>(batch, n - done), s.lattice);
    const at::Tensor rec = torch::cat({d.phi.reshape({d.phi.size(0), V}), d.logq.unsqueeze(1),
                                       s.action->action(d.phi).unsqueeze(1)},
                                      1)
                               .to(torch::kCPU, torch::kFloat64)
                               .contiguous();
    data.insert(data.end(), rec.data_ptr<double>(), rec.data_ptr<double>() + rec.numel());
  }
  npy::write_records(path, {{"phi", {s.lattice.T, s.lattice.L}}, {"logq", {}}, {"action", {}}}, n, data);
  out << "wrote " << n << " configurations on " << s.lattice.str() << " to " << path
      << "\n  python: a = numpy.load('" << path << "'); a['phi'], a['logq'], a['action']\n";
  return 0;
}

}  // namespace latflow::cli

namespace latflow::cli {

int cmd_run(const std::string& card_path, const GlobalOptions& g, std::ostream& out, std::ostream& err) {
  Session s(load_runcard(card_path, g.overrides()));
  RunDirectory dir(s.run_directory(), g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
  dir.write_file("runcard.toml", s.card.to_toml());
  const Config& c = s.card.config;
  nlohmann::json results = describe_run(s);
  out << "latflow run " << card_path << ": " << c.get<std::string>("model.type") << " on " << s.lattice.str() << " "
      << s.action->couplings().dump() << "\n[1/4] training (" << c.get<std::int64_t>("train.steps") << " steps)\n"
      << std::flush;
  const Trained t = train_in(s, dir, false, err);
  results["train"] = t.summary;
  dir.write_json("results.json", results);
  if (t.interrupted) return interrupted_exit(dir, t.summary["steps"].get<std::int64_t>(), err);

  out << "[2/4] evaluating on " << s.lattice.str() << "\n" << std::flush;
  FlowPtr flow = load_trained(s, dir.path());
  results["eval"] = evaluate_flow(*flow, *s.action, s.lattice, evaluation_options(c, -1));
  dir.write_json("results.json", results);

  if (c.get<bool>("eval.hmc")) {
    out << "[3/4] HMC reference on " << s.lattice.str() << "\n" << std::flush;
    results["hmc"] = run_hmc_reference(s, err, Progress::is_terminal(2));
    nlohmann::json pulls;
    for (const char* key : {"abs_magnetization", "m2", "chi2", "binder"})
      pulls[key] = pull(results["eval"]["observables"][key], results["hmc"]["observables"][key]);
    results["comparison"] = {{"pull", pulls}};
    dir.write_json("results.json", results);
  }

  const std::int64_t L2 = c.get<std::int64_t>("eval.transfer_L");
  if (L2 > 0) {
    out << "[4/4] zero-shot evaluation on " << L2 << "x" << L2 << " (same weights, no training)\n" << std::flush;
    std::vector<std::string> sets = g.overrides();
    sets.push_back("lattice.L=" + std::to_string(L2));
    sets.push_back("lattice.T=0");
    Session big(load_runcard(card_path, sets));
    FlowPtr moved = load_trained(big, dir.path());
    EvaluationOptions eo = evaluation_options(c, -1);
    eo.density_check = false;
    results["zero_shot"] = evaluate_flow(*moved, *big.action, big.lattice, eo);
    results["zero_shot"]["lattice"] = {{"T", big.lattice.T}, {"L", big.lattice.L}};
    dir.write_json("results.json", results);
  }

  const std::string plot = plot_run(dir.path(), "quickstart", err);
  const auto& ev = results["eval"];
  out << "\nSummary (" << dir.path() << ")\n"
      << "  training        " << t.summary["steps"] << " steps, " << format_duration(t.summary["seconds"].get<double>())
      << ", " << t.summary["parameters"] << " parameters\n"
      << "  ESS/N           " << std::setprecision(3) << ev["ess"].get<double>() << "\n"
      << "  acceptance      " << ev["acceptance"].get<double>() << " (independence Metropolis)\n";
  if (results.contains("hmc")) {
    out << "  observables     flow (reweighted)            HMC                          pull\n";
    for (const char* key : {"abs_magnetization", "m2", "chi2", "binder"})
      out << "    " << std::left << std::setw(18) << key << std::setw(29)
          << format_estimate(ev["observables"][key]) << std::setw(29)
          << format_estimate(results["hmc"]["observables"][key]) << std::setprecision(2)
          << results["comparison"]["pull"][key].get<double>() << "\n";
  }
  if (results.contains("zero_shot"))
    out << "  zero-shot ESS   " << std::setprecision(3) << results["zero_shot"]["ess"].get<double>() << " on "
        << L2 << "x" << L2 << "\n";
  out << "  results         " << dir.file("results.json") << "\n";
  if (!plot.empty()) out << "  plot            " << plot << "\n";
  return 0;
}

}  // namespace latflow::cli
