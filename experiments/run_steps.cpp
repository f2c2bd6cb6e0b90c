#include "experiments/run_steps.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include <torch/torch.h>

#include "core/version.hpp"
#include "experiments/progress.hpp"
#include "experiments/report.hpp"
#include "train/checkpoint.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

namespace fs = std::filesystem;

namespace latflow::cli {

namespace {
std::atomic<bool> g_interrupted{false};
int g_guards = 0;
extern "C" void on_sigint(int) { g_interrupted = true; }
}  // namespace

InterruptGuard::InterruptGuard() {
  if (g_guards++ == 0) {
    g_interrupted = false;
    prev_int_ = std::signal(SIGINT, on_sigint);
    prev_term_ = std::signal(SIGTERM, on_sigint);
  } else {
    prev_int_ = prev_term_ = nullptr;
  }
}
InterruptGuard::~InterruptGuard() {
  if (--g_guards == 0) {
    std::signal(SIGINT, prev_int_);
    std::signal(SIGTERM, prev_term_);
  }
}
bool InterruptGuard::interrupted() { return g_interrupted.load(); }

/// The run card stored in a run directory, with overrides applied.
RunCard card_of_run(const std::string& run_dir, const std::vector<std::string>& sets) {
  const std::string path = run_dir + "/runcard.toml";
  if (!fs::exists(path)) throw UserError("'" + run_dir + "' is not a run directory (no runcard.toml)");
  RunCard card = load_runcard(path, sets);
  card.source = run_dir;
  return card;
}

/// A trained flow: the run's card (overrides applied, e.g. another lattice) and its checkpoint's weights.
FlowPtr load_trained(const Session& s, const std::string& checkpoint) {
  FlowPtr flow = s.build_flow();
  load_checkpoint(checkpoint, *flow, nullptr, false);
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

namespace {
std::string status_line(const nlohmann::json& rec) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << "loss " << rec["loss"].get<double>() << "  ESS(batch) "
     << rec["ess"].get<double>();
  return os.str();
}
}  // namespace

/// Trains the session's model in `dir` (resuming if asked), streaming metrics and progress.
Trained train_in(const Session& s, RunDirectory& dir, bool resume, std::ostream& err, const std::string& init_from) {
  FlowPtr flow = s.build_flow();
  if (!resume && !init_from.empty()) {
    load_checkpoint(init_from, *flow, nullptr, false);
    dir.log("initialised from " + init_from);
  }
  const bool terminal = Progress::is_terminal(2);
  TrainOptions opts = TrainOptions::from_config(s.card.config);
  // A fine-tuned model may meet the target before any training: measure where it starts.
  opts.evaluate_at_start = !init_from.empty();
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
  monitor.should_stop = [] { return InterruptGuard::interrupted(); };

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

}  // namespace latflow::cli
