#include "experiments/run_steps.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <thread>

#include <torch/torch.h>

#include "core/version.hpp"
#include "experiments/progress.hpp"
#include "experiments/report.hpp"
#include "core/error.hpp"
#include "flows/registry.hpp"
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

RunCard load_card_argument(const std::string& path, const std::vector<std::string>& sets, const CardSchema& schema) {
  if (fs::is_directory(path)) {
    if (fs::exists(fs::path(path) / "runcard.toml"))
      throw UserError("'" + path + "' is a run directory, not a run card; to continue its training: latflow train " +
                      path + " --resume; to evaluate it: latflow eval " + path);
    throw UserError("run card '" + path + "' is a directory, not a file");
  }
  return load_runcard(path, sets, schema);
}


RunCard card_of_run(const std::string& run_dir, const std::vector<std::string>& sets) {
  const std::string path = run_dir + "/runcard.toml";
  if (!fs::exists(path)) throw UserError("'" + run_dir + "' is not a run directory (no runcard.toml)");
  RunCard card = load_runcard(path, sets);
  card.source = run_dir;
  return card;
}

std::string resume_directory(const std::string& card_or_dir, const std::vector<std::string>& sets) {
  if (fs::is_directory(card_or_dir)) return card_or_dir;
  const fs::path p(card_or_dir);
  const fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (p.filename() == "runcard.toml" && holds_run(parent.string())) return parent.string();
  return Session(load_card_argument(card_or_dir, sets)).run_directory();
}

std::vector<std::string> resume_changes(const RunCard& recorded, const RunCard& now) {
  const auto changeable = [](const std::string& key) {
    for (const char* prefix : {"train.", "eval.", "hmc.", "reference.", "solver.", "distributed."})
      if (key.rfind(prefix, 0) == 0) return true;
    return key == "run.threads" || key == "run.device";
  };
  std::vector<std::string> changes;
  const auto& a = recorded.config.values();
  const auto& b = now.config.values();
  for (const auto& spec : runcard_schema()) {
    const auto ia = a.find(spec.key), ib = b.find(spec.key);
    const bool in_a = ia != a.end(), in_b = ib != b.end();
    if (!in_a && !in_b) continue;
    if (in_a && in_b && ia->second == ib->second) continue;
    const std::string old_value = in_a ? to_toml_literal(ia->second) : "(unset)";
    const std::string new_value = in_b ? to_toml_literal(ib->second) : "(unset)";
    if (!changeable(spec.key))
      throw UserError("cannot change '" + spec.key + "' when resuming (the run has " + old_value + ", asked for " +
                      new_value + "); only train.*, eval.*, hmc.*, reference.*, solver.*, distributed.*, run.threads and run.device may change. "
                      "Start a new run instead, e.g. latflow train CARD --init-from " + recorded.source);
    changes.push_back(spec.key + ": " + old_value + " -> " + new_value);
  }
  return changes;
}

namespace {
/// model.* keys (but the dtype, which only sets the precision the weights are computed in) that differ.
std::vector<std::string> model_differences(const Config& here, const Config& trained) {
  std::vector<std::string> out;
  for (const auto& spec : runcard_schema()) {
    if (spec.key.rfind("model.", 0) != 0 || spec.key == "model.dtype") continue;
    // A base mass derived from L (model.prior_m0L) follows the lattice: it holds no weights.
    if (spec.key == "model.prior_m2" && prior_m2_from_L(here) && prior_m2_from_L(trained)) continue;
    const bool a = here.has(spec.key), b = trained.has(spec.key);
    if (!a && !b) continue;
    if (a && b && here.values().at(spec.key) == trained.values().at(spec.key)) continue;
    out.push_back(spec.key + " = " + (a ? to_toml_literal(here.values().at(spec.key)) : "(unset)") + " here, " +
                  (b ? to_toml_literal(trained.values().at(spec.key)) : "(unset)") + " in the trained model");
  }
  return out;
}
}  // namespace

SamplerPtr load_trained(const Session& s, const std::string& checkpoint) {
  const CheckpointMeta meta = read_checkpoint_meta(checkpoint);
  RunCard trained;
  try {
    trained = parse_runcard(meta.runcard, checkpoint);
  } catch (const UserError& e) {
    throw UserError("checkpoint '" + checkpoint + "' records a run card this latflow cannot read (" + e.what() + ")");
  }
  const auto diff = model_differences(s.card.config, trained.config);
  if (!diff.empty()) {
    std::string list;
    for (const auto& d : diff) list += (list.empty() ? "" : "; ") + d;
    throw UserError("the model of this card is not the one in '" + checkpoint + "': " + list +
                    ". A trained model keeps its architecture (only the lattice, solver, dtype and device may differ)");
  }
  SamplerPtr model = s.build_model();
  const Lattice trained_lattice = lattice_of(trained.config);
  if (model->lattice_specific() && !(trained_lattice == s.lattice)) {
    // Weights tied to the lattice (HAN): the trained model is rebuilt on its own lattice and seeds the
    // matching parts of this one (docs/experiments.md, transfer).
    SamplerPtr small = model_registry().create(trained.config.get<std::string>("model.type"), trained.config);
    small->check_lattice(trained_lattice);
    load_checkpoint(checkpoint, *small, nullptr, false, s.device);
    small->to(s.device, s.dtype);
    model->initialize_from(*small, s.card.config.get<bool>("train.freeze_transferred"));
    return model;
  }
  load_checkpoint(checkpoint, *model, nullptr, false, s.device);
  model->to(s.device, s.dtype);
  return model;
}

EvaluationOptions evaluation_options(const Config& c, long long n) {
  EvaluationOptions o;
  o.n = n > 0 ? n : c.get<std::int64_t>("eval.n");
  o.batch = c.get<std::int64_t>("eval.batch");
  o.bins = static_cast<int>(c.get<std::int64_t>("eval.bins"));
  o.seed = static_cast<std::uint64_t>(c.get<std::int64_t>("run.seed"));
  o.solver_check = c.get<bool>("eval.solver_check");
  o.refine_factor = c.get<std::int64_t>("eval.refine_factor");
  o.max_solver_error_ratio = c.get<double>("eval.max_solver_error_ratio");
  o.solver = c.get<std::string>("eval.solver");
  o.rtol = c.get<double>("eval.rtol");
  o.atol = c.get<double>("eval.atol");
  return o;
}

void judge_evaluation(const nlohmann::json& eval, bool strict, const std::string& what, std::ostream& err,
                      RunDirectory* dir) {
  const double effective = eval.at("ess").get<double>() * eval.at("n").get<double>();
  if (effective < kMinEffectiveSamples) {
    std::ostringstream os;
    os << "warning: " << what << ": only " << std::setprecision(3) << effective << " effective samples (ESS/N x N); "
       << "below " << kMinEffectiveSamples << " the reweighted estimates and their errors are unreliable: train "
       << "longer, or evaluate with a larger --n";
    if (dir) dir->log(os.str());
    err << os.str() << "\n";
  }
  const auto& se = eval.at("solver_error");
  if (!se.value("applies", false)) return;
  std::string message;
  if (!se.value("checked", false)) {
    message = what + ": the solver error was not checked (eval.solver_check = false); the results carry an "
              "unknown discretisation bias";
  } else if (!se.value("ok", false)) {
    std::ostringstream os;
    os << what << ": the solver error is not small against the statistical error: for " << se.value("worst", "?")
       << " it is " << (se["ratio"].is_number() ? std::to_string(se["ratio"].get<double>()) : std::string("inf"))
       << " x the statistical error (allowed " << se["threshold"].get<double>()
       << "); raise solver.steps, or evaluate with --set eval.solver=adaptive";
    message = os.str();
  }
  if (message.empty()) return;
  if (dir) dir->log("warning: " + message);
  if (strict) throw CheckFailed(message);
  err << "warning: " << message << "\n";
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
WorldPtr join_world(Session& s, const LaunchEnvironment& launch) {
  const Config& c = s.card.config;
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(1000 * c.get<double>("distributed.timeout")));
  WorldPtr world = World::connect(launch, c.get<std::string>("distributed.backend"), timeout);
  if (world->local_size() > 1 && c.get<std::int64_t>("run.threads") == 0)
    at::set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / world->local_size()));
  // A node's ranks take its GPUs in turn; where the scheduler shows each rank one GPU, that is cuda:0.
  if (world->size() > 1 && s.device.is_cuda() && !s.device.has_index()) {
    const int gpus = std::max<int>(1, static_cast<int>(torch::cuda::device_count()));
    s.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(world->local_rank() % gpus));
  }
  return world;
}

Trained train_in(const Session& s, RunDirectory& dir, bool resume, std::ostream& err, const std::string& init_from,
                 WorldPtr world) {
  if (!world) world = std::make_shared<World>();
  const bool writer = world->is_main();
  const bool from_init = !resume && !init_from.empty();
  SamplerPtr flow = from_init ? load_trained(s, init_from) : s.build_model();
  if (from_init && writer) dir.log("initialised from " + init_from);
  const bool terminal = Progress::is_terminal(2);
  TrainOptions opts = TrainOptions::from_config(s.card.config);
  // A fine-tuned model may meet the target before any training: measure where it starts.
  opts.evaluate_at_start = from_init;
  std::ostringstream silent;
  Progress progress(writer ? err : silent, "train", opts.steps, terminal && writer);
  InterruptGuard guard;
  Monitor monitor;
  monitor.should_stop = [] { return InterruptGuard::interrupted(); };
  if (writer) {  // the other ranks only take part in the collectives
    monitor.on_step = [&](const nlohmann::json& r) {
      dir.append_metrics(r);
      progress.update(r["step"].get<std::int64_t>(), status_line(r));
    };
    monitor.on_eval = [&](const nlohmann::json& r) {
      dir.append_metrics(r);
      if (!r.contains("eval")) return;  // a failed evaluation, already reported as a warning
      std::ostringstream os;
      os << "step " << r["step"] << ": ESS " << std::fixed << std::setprecision(3) << r["eval"]["ess"].get<double>()
         << ", loss " << r["eval"]["loss"].get<double>() << ", log Z " << format_estimate(r["eval"]["log_z"]);
      if (r.contains("confirm"))
        os << "; confirming on " << s.card.config.get<std::int64_t>("train.target_confirm")
           << " samples: ESS " << r["confirm"]["ess"].get<double>()
           << ", acceptance " << r["confirm"]["acceptance"].get<double>();
      progress.message(os.str());
      dir.log(os.str());
    };
    monitor.on_warning = [&](const std::string& m) {
      progress.message("warning: " + m);
      dir.log("warning: " + m);
    };
  }

  Trainer trainer(flow, s.action,
                  estimator_registry().create(s.card.config.get<std::string>("train.estimator")), s.lattice,
                  opts, monitor, world);
  if (resume && fs::exists(dir.checkpoint())) {
    trainer.resume_from(dir.checkpoint());
    if (writer) {
      const auto meta = read_checkpoint_meta(dir.checkpoint());
      dir.truncate_metrics(meta.step);
      dir.log("resumed at step " + std::to_string(meta.step));
    }
  } else if (resume && writer) {
    // Killed before its first checkpoint: nothing was kept, and the seeded run restarts identically.
    dir.truncate_metrics(-1);
    dir.log("resumed before the first checkpoint: starting again from step 0");
  }
  const TrainResult r = trainer.run(writer ? dir.checkpoint() : std::string(), s.card.to_toml(false));
  progress.finish();
  Trained t;
  t.interrupted = r.interrupted;
  t.diverged = r.stop_reason == "diverged";
  t.already_finished = r.already_finished;
  t.summary = {{"steps", r.steps},
               {"seconds", r.seconds},
               {"seconds_per_step", r.steps > 0 ? r.seconds / static_cast<double>(r.steps) : 0.0},
               {"parameters", flow->parameter_count()},
               {"reached_target", r.reached_target},
               {"steps_to_target", r.steps_to_target},
               {"seconds_to_target", r.seconds_to_target},
               {"stop_reason", r.stop_reason},
               {"bad_steps", r.bad_steps},
               {"last_eval", r.last_eval}};
  if (!r.last_bad_step.empty()) t.summary["last_bad_step"] = r.last_bad_step;
  if (!r.stop_detail.empty()) t.summary["stop_detail"] = r.stop_detail;
  if (writer && r.interrupted) dir.log("interrupted at step " + std::to_string(r.steps) + "; checkpoint written");
  if (writer && t.diverged) dir.log("stopped at step " + std::to_string(r.steps) + ": " + r.stop_detail);
  return t;
}

UserError diverged_error(const RunDirectory& dir, const Trained& t) {
  return UserError("training stopped at step " + t.summary["steps"].dump() + ": " +
                   t.summary.value("stop_detail", std::string("?")) + ", and continue: latflow train " + dir.path() +
                   " --resume --set train.lr=... (or solver.steps=...)");
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
