#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <optional>
#include <sstream>

#include <torch/torch.h>

#include "core/random.hpp"
#include "lattice/statistics.hpp"
#include "odes/integrate.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"

namespace latflow {

namespace {
/// Keeps the shards' streams apart from the evaluations' (keyed by the seed and the step alone).
constexpr std::uint64_t kShardStreams = 0x5348415244ULL;  // "SHARD"
double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}
std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
/// The parameters training updates: frozen ones (requires_grad off, e.g. transferred levels) stay out of
/// the optimiser and the clipping norm.
std::vector<at::Tensor> trainable(const torch::nn::Module& model) {
  std::vector<at::Tensor> out;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}
std::string three_digits(double x) {
  std::ostringstream os;
  os << std::setprecision(3) << x;
  return os.str();
}

}  // namespace

TrainOptions TrainOptions::from_config(const Config& c) {
  TrainOptions o;
  o.steps = c.get<std::int64_t>("train.steps");
  o.batch = c.get<std::int64_t>("train.batch");
  o.micro_batches = c.get<std::int64_t>("train.micro_batches");
  o.lr = c.get<double>("train.lr");
  o.schedule = c.get<std::string>("train.schedule");
  o.decay_rate = c.get<double>("train.decay_rate");
  o.clip = c.get<double>("train.clip");
  o.eval_every = c.get<std::int64_t>("train.eval_every");
  o.eval_batch = c.get<std::int64_t>("train.eval_batch");
  o.checkpoint_every = c.get<std::int64_t>("train.checkpoint_every");
  o.max_seconds = c.get<double>("train.max_seconds");
  o.target_metric = c.get<std::string>("train.target_metric");
  o.target = c.get<double>("train.target");
  o.target_confirm = c.get<std::int64_t>("train.target_confirm");
  o.max_bad_steps = c.get<std::int64_t>("train.max_bad_steps");
  o.max_solver_error = c.get<double>("train.max_solver_error");
  o.seed = static_cast<std::uint64_t>(c.get<std::int64_t>("run.seed"));
  o.anneal = c.get<double>("train.anneal");
  return o;
}

double TrainOptions::lr_at(std::int64_t step) const {
  const double x = steps > 0 ? static_cast<double>(step) / static_cast<double>(steps) : 0.0;
  if (schedule == "cosine") return lr * 0.5 * (1.0 + std::cos(M_PI * x));
  if (schedule == "exponential") return lr * std::pow(decay_rate, x);
  return lr;
}

double TrainOptions::action_scale_at(std::int64_t step) const {
  return anneal > 0 ? 1.0 - std::pow(anneal, static_cast<double>(step + 1)) : 1.0;
}

void check_batch_split(const TrainOptions& options, int ranks) {
  const std::int64_t batch = options.batch, eval_batch = options.eval_batch, micro_batches = options.micro_batches;
  const std::int64_t shards = ranks * micro_batches;
  const std::string split = std::to_string(ranks) + (ranks == 1 ? " rank" : " ranks") + " x " +
                            std::to_string(micro_batches) + (micro_batches == 1 ? " micro-batch" : " micro-batches");
  if (batch < shards)
    throw UserError("train.batch = " + std::to_string(batch) + " is smaller than its " + std::to_string(shards) +
                    " shards (" + split + "): every shard needs a sample; use fewer processes (--nproc) or a larger batch");
  if (batch % shards != 0)
    throw UserError("train.batch = " + std::to_string(batch) + " does not split into " + split +
                    " equal shards; use a multiple of " + std::to_string(shards) + ", e.g. " +
                    std::to_string((batch / shards + 1) * shards));
  if (eval_batch < ranks)
    throw UserError("train.eval_batch = " + std::to_string(eval_batch) + " is smaller than the " +
                    std::to_string(ranks) + " ranks that share it; use at least " + std::to_string(ranks));
}

Trainer::Trainer(SamplerPtr flow, ActionPtr action, GradientEstimatorPtr estimator, Lattice lattice,
                 TrainOptions options, Monitor monitor, WorldPtr world)
    : model_(std::move(flow)),
      action_(std::move(action)),
      estimator_(std::move(estimator)),
      lattice_(lattice),
      options_(std::move(options)),
      monitor_(std::move(monitor)),
      world_(world ? std::move(world) : std::make_shared<World>()),
      optimizer_(std::make_unique<torch::optim::Adam>(trainable(*model_), torch::optim::AdamOptions(options_.lr))) {
  check_estimator_fits(*estimator_, *model_);
  check_batch_split(options_, world_->size());
}

std::string finished_reason(std::int64_t step, double seconds, std::int64_t target_step, const TrainOptions& o) {
  if (target_step >= 0) return "target";
  if (step >= o.steps) return "steps";
  if (o.max_seconds > 0 && seconds >= o.max_seconds) return "time";
  return "";
}

void Trainer::resume_from(const std::string& checkpoint_path) {
  const CheckpointMeta meta = load_checkpoint(checkpoint_path, *model_, optimizer_.get(), true);
  step_ = meta.step;
  seconds_ = meta.seconds;
  target_step_ = meta.target_step;
  target_seconds_ = meta.target_seconds;
  bad_steps_ = meta.bad_steps;
  if (meta.shards != shards() && monitor_.on_warning)
    monitor_.on_warning("the checkpoint was written with the batch in " + std::to_string(meta.shards) +
                        " shards, this run splits it into " + std::to_string(shards()) + " (ranks x train.micro_batches): "
                        "training continues correctly, but is no longer bit-identical to an uninterrupted run");
}

std::uint64_t Trainer::evaluation_key(std::uint64_t stream) const {
  // Keyed by the step: the training stream is the same whether or not an evaluation runs.
  std::uint64_t key = derive_seed(options_.seed, static_cast<std::uint64_t>(step_));
  if (stream > 0) key = derive_seed(key, stream);
  return world_->size() == 1 ? key : derive_seed(key, static_cast<std::uint64_t>(world_->rank()) + 1);
}

double Trainer::solver_error() {
  // A few samples suffice: the check looks for errors of order one nat, not for the small ones that the
  // evaluation of a run (train/evaluate.hpp) resolves with its full sample.
  const std::int64_t n = std::max<std::int64_t>(std::min<std::int64_t>(options_.eval_batch, 64), world_->size());
  const int ranks = world_->size(), rank = world_->rank();
  const std::int64_t lo = n * rank / ranks, hi = n * (rank + 1) / ranks;
  at::Tensor total = torch::zeros({2}, torch::kFloat64);  // sum of |delta log w|, ranks whose solve diverged
  try {
    const RandomStreamFork fork(evaluation_key(2));
    const at::Tensor errors = solver_log_w_errors(*model_, *action_, lattice_, hi - lo);
    if (!errors.defined()) return -1;  // the same model on every rank: all return here
    total[0] = errors.sum();
  } catch (const odes::IntegrationError&) {
    total[1] = 1.0;
  }
  world_->all_reduce_sum(total);
  // A solve that diverges outright is the evaluation's and the steps' business (they skip it); no verdict.
  if (total[1].item<double>() > 0) return -1;
  return total[0].item<double>() / static_cast<double>(n);
}

nlohmann::json Trainer::evaluate(std::int64_t n, std::uint64_t stream) {
  torch::NoGradGuard no_grad;
  // Each rank draws its part of the batch; one all-reduce gathers the log-weights (every rank writes its
  // slot) and whether a rank's solve diverged, so all ranks judge the same numbers or fail together.
  const int ranks = world_->size(), rank = world_->rank();
  const std::int64_t lo = n * rank / ranks, hi = n * (rank + 1) / ranks;
  at::Tensor gathered = torch::zeros({n + ranks}, torch::kFloat64);
  std::string failure;
  try {
    const RandomStreamFork fork(evaluation_key(stream));
    const Density d = model_->sample(hi - lo, lattice_);
    gathered.slice(0, lo, hi).copy_((-action_->action(d.phi) - d.logq).to(torch::kCPU, torch::kFloat64));
  } catch (const odes::IntegrationError& e) {
    if (ranks == 1) throw;
    failure = e.what();
    gathered[n + rank] = 1.0;
  }
  world_->all_reduce_sum(gathered);
  if (ranks > 1) {
    if (!failure.empty()) throw odes::IntegrationError("on rank " + std::to_string(rank) + ": " + failure);
    const at::Tensor failed = gathered.slice(0, n).nonzero();
    if (failed.numel() > 0) throw odes::IntegrationError("on rank " + std::to_string(failed[0].item<std::int64_t>()));
  }
  const std::vector<double> log_w = to_vector(gathered.slice(0, 0, n));
  const auto log_z = stats::log_z(log_w);
  const auto kl = stats::reverse_kl(log_w);
  return {{"ess", stats::ess_fraction(log_w)},
          {"acceptance", stats::independence_metropolis(log_w, static_cast<std::uint64_t>(step_)).acceptance},
          {"loss", -gathered.slice(0, 0, n).mean().item<double>()},
          {"log_z", {{"value", log_z.value}, {"error", log_z.error}}},
          {"kl", {{"value", kl.value}, {"error", kl.error}}}};
}

/// What one step drew, after the combination over ranks.
struct Trainer::StepBatch {
  at::Tensor log_w;  ///< [batch] log-weights of the global batch, float64 on the CPU
  std::string bad;   ///< why the step must be skipped, "" if it need not
};

Trainer::StepBatch Trainer::draw_step(double action_scale) {
  StepBatch out;
  const std::int64_t n_shards = shards(), per_shard = options_.batch / n_shards;
  const std::int64_t local = options_.micro_batches * per_shard, first = world_->rank() * local;
  at::Tensor log_w = torch::zeros({options_.batch}, torch::kFloat64);
  enum Bad { kNone = 0, kNonFinite = 1, kDiverged = 2 };
  int bad = kNone;
  for (std::int64_t m = 0; m < options_.micro_batches && bad == kNone; ++m) {
    const std::int64_t shard = world_->rank() * options_.micro_batches + m;
    std::optional<RandomStreamFork> stream;
    if (n_shards > 1)
      stream.emplace(derive_seed(derive_seed(derive_seed(options_.seed ^ kShardStreams, static_cast<std::uint64_t>(step_)),
                                             static_cast<std::uint64_t>(bad_steps_)),
                                 static_cast<std::uint64_t>(shard)));
    try {
      const LossTerms terms = (*estimator_)(*model_, *action_, per_shard, lattice_, action_scale);
      // The log-weights and the surrogate come to the host in one copy: one synchronisation per shard.
      const at::Tensor host = at::cat({(-terms.action - terms.logq).to(torch::kFloat64),
                                       terms.surrogate.detach().to(torch::kFloat64).reshape({1})})
                                  .to(torch::kCPU);
      const at::Tensor shard_log_w = host.slice(0, 0, per_shard);
      log_w.slice(0, first + m * per_shard, first + (m + 1) * per_shard).copy_(shard_log_w);
      if (!std::isfinite(host.sum().item<double>())) {
        bad = kNonFinite;
        out.bad = "non-finite loss or gradient (loss " + std::to_string(-shard_log_w.mean().item<double>()) + ")";
      } else {
        (n_shards > 1 ? terms.surrogate / static_cast<double>(n_shards) : terms.surrogate).backward();
      }
    } catch (const odes::IntegrationError& e) {
      bad = kDiverged;
      out.bad = std::string("the ODE solve diverged (") + e.what() + ")";
    }
  }
  const int ranks = world_->size();
  if (ranks > 1) {
    // One all-reduce: the gradients (zero from a bad rank), every shard's log-weights in its slot, and a flag
    // per rank. Summed in float64 and rounded back, two shards give exactly what accumulating them in one
    // process gives; more shards agree to rounding. A parameter no rank's loss reached keeps an undefined
    // gradient, which Adam skips, as in one process.
    std::vector<at::Tensor> params = trainable(*model_);
    const auto n_params = static_cast<std::int64_t>(params.size());
    std::vector<at::Tensor> grads;
    at::Tensor reached = torch::zeros({n_params}, torch::kFloat64);
    for (std::int64_t i = 0; i < n_params; ++i) {
      const at::Tensor& g = params[static_cast<std::size_t>(i)].grad();
      const bool mine = g.defined() && bad == kNone;
      grads.push_back(mine ? g.reshape(-1).to(torch::kCPU, torch::kFloat64)
                           : torch::zeros({params[static_cast<std::size_t>(i)].numel()}, torch::kFloat64));
      if (mine) reached[i] = 1.0;
    }
    at::Tensor flags = torch::zeros({ranks}, torch::kFloat64);
    flags[world_->rank()] = bad;
    const at::Tensor flat = torch::cat(grads);
    const std::int64_t n_grad = flat.numel();
    at::Tensor buffer = torch::cat({flat, reached, log_w, flags});
    world_->all_reduce_sum(buffer);
    // Layout: [gradients | reached per parameter | log-weights | flag per rank].
    const auto summed = buffer.accessor<double, 1>();
    std::int64_t offset = 0;
    for (std::int64_t i = 0; i < n_params; ++i) {
      auto& p = params[static_cast<std::size_t>(i)];
      if (summed[n_grad + i] > 0) {
        const at::Tensor g = buffer.slice(0, offset, offset + p.numel()).view(p.sizes()).to(p.options());
        if (p.grad().defined()) p.mutable_grad().copy_(g);
        else p.mutable_grad() = g;
      } else {
        p.mutable_grad() = at::Tensor();
      }
      offset += p.numel();
    }
    const std::int64_t log_w_at = n_grad + n_params, flags_at = log_w_at + options_.batch;
    log_w = buffer.slice(0, log_w_at, flags_at);
    for (int r = 0; r < ranks && out.bad.empty(); ++r) {
      const int flag = static_cast<int>(summed[flags_at + r]);
      if (flag != kNone)
        out.bad = std::string(flag == kDiverged ? "the ODE solve diverged" : "non-finite loss or gradient") + " on rank " +
                  std::to_string(r);
    }
    if (!out.bad.empty() && bad != kNone) out.bad += " on rank " + std::to_string(world_->rank());
  }
  out.log_w = log_w;
  return out;
}

TrainResult Trainer::run(const std::string& checkpoint_path, const std::string& runcard) {
  TrainResult result;
  result.bad_steps = bad_steps_;
  if (target_step_ >= 0) {
    result.reached_target = true;
    result.steps_to_target = target_step_;
    result.seconds_to_target = target_seconds_;
  }
  result.stop_reason = finished_reason(step_, seconds_, target_step_, options_);
  if (!result.stop_reason.empty() && (step_ > 0 || target_step_ >= 0)) {  // resumed after the run had ended
    result.already_finished = true;
    result.steps = step_;
    result.seconds = seconds_;
    return result;
  }
  result.stop_reason.clear();

  std::vector<at::Tensor> params = trainable(*model_);
  if (world_->size() > 1) {
    // Identical by construction (same seed, same checkpoint); made certain once, before the first step.
    torch::NoGradGuard no_grad;
    for (auto p : model_->parameters()) world_->broadcast(p);
    for (auto b : model_->buffers()) world_->broadcast(b);
  }
  const double start = now_seconds() - seconds_;
  std::int64_t consecutive_bad = 0, evaluated_at = -1, saved_at = step_, solver_passed_at = -1;
  bool unsound = false;  // the solver check failed: the weights since the last pass are not to be kept
  auto save = [&] {
    saved_at = step_;
    if (!checkpoint_path.empty())
      save_checkpoint(checkpoint_path, *model_, optimizer_.get(),
                      {step_, seconds_, runcard, result.steps_to_target, result.seconds_to_target, result.stop_reason,
                       bad_steps_, shards()});
  };
  auto warn = [&](const std::string& m) {
    if (monitor_.on_warning) monitor_.on_warning(m);
  };
  auto finish = [&] {
    result.steps = step_;
    result.seconds = seconds_;
    result.bad_steps = bad_steps_;
    if (!unsound) save();
    return result;
  };
  // Evaluates on a fresh batch, reports it and notes when the target is first reached.
  auto evaluate_now = [&] {
    evaluated_at = step_;
    nlohmann::json record = {{"step", step_}, {"seconds", seconds_}};
    try {
      record["eval"] = evaluate(options_.eval_batch);
    } catch (const odes::IntegrationError& e) {
      // A diagnostic, not a step: recorded and warned about; training goes on (the target is not reached).
      record["eval_failed"] = e.what();
      warn("step " + std::to_string(step_) + ": the evaluation's ODE solve diverged (" + e.what() + ")");
      if (monitor_.on_eval) monitor_.on_eval(record);
      return;
    }
    // A flow can learn to exploit its solve's discretisation error: the loss then falls below the variational
    // bound -log Z while the ESS collapses, and nothing computed from the model's own solve shows it (the KL
    // estimate log mean w - mean log w is never negative). A second solve of a few samples does.
    const double solver_error = options_.max_solver_error > 0 ? this->solver_error() : -1;
    if (solver_error >= 0) {
      record["eval"]["solver_error"] = solver_error;
      if (solver_error > options_.max_solver_error) {
        unsound = true;
        result.stop_reason = "diverged";
        result.stop_detail =
            "the ODE solve no longer resolves the flow: the reference solve (twice the steps, or tolerances / 100) "
            "changes log w by " +
            three_digits(solver_error) + " per sample on average (train.max_solver_error = " +
            three_digits(options_.max_solver_error) +
            "), so the loss and the ESS are the solver's, not the model's. The checkpoint was not overwritten: it "
            "holds step " + std::to_string(saved_at) +
            (solver_passed_at >= 0 ? " (the check last passed at step " + std::to_string(solver_passed_at) + ")"
                                   : " (the check had not passed before)") +
            ". Raise solver.steps, or lower train.lr";
        warn("step " + std::to_string(step_) + ": " + result.stop_detail);
      } else {
        solver_passed_at = step_;
      }
    }
    const auto& ev = record["eval"];
    const auto reaches = [this](const nlohmann::json& e) {
      return e[options_.target_metric].get<double>() >= options_.target;
    };
    bool reached = options_.target > 0 && !result.reached_target && reaches(ev);
    if (reached && options_.target_confirm > 0) {
      try {
        record["confirm"] = evaluate(options_.target_confirm, 1);
        reached = reaches(record["confirm"]);
      } catch (const odes::IntegrationError& e) {
        record["confirm_failed"] = e.what();
        reached = false;
      }
    }
    if (monitor_.on_eval) monitor_.on_eval(record);
    result.last_eval = record;
    if (reached) {
      result.reached_target = true;
      result.steps_to_target = step_;
      result.seconds_to_target = seconds_;
    }
  };

  if (options_.evaluate_at_start && step_ == 0) {
    evaluate_now();
    if (unsound) return finish();
    if (result.reached_target) {
      result.stop_reason = "target";
      return finish();
    }
  }

  while (true) {
    if (step_ >= options_.steps) {
      result.stop_reason = "steps";
      break;
    }
    bool interrupted = monitor_.should_stop && monitor_.should_stop();
    double elapsed = now_seconds() - start;
    if (world_->size() > 1) {  // every rank stops at the same step
      at::Tensor agreed = torch::tensor({interrupted ? 1.0 : 0.0, elapsed}, torch::kFloat64);
      world_->all_reduce_max(agreed);
      interrupted = agreed[0].item<double>() > 0;
      elapsed = agreed[1].item<double>();
    }
    if (interrupted) {
      result.interrupted = true;
      break;
    }
    if (options_.max_seconds > 0 && elapsed >= options_.max_seconds) {
      result.stop_reason = "time";
      break;
    }

    const double lr = options_.lr_at(step_), action_scale = options_.action_scale_at(step_);
    for (auto& group : optimizer_->param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    optimizer_->zero_grad();
    double loss = std::nan(""), grad_norm = std::nan("");
    const StepBatch drawn = draw_step(action_scale);
    std::string bad = drawn.bad;
    if (bad.empty()) {
      loss = -drawn.log_w.mean().item<double>();
      grad_norm = torch::nn::utils::clip_grad_norm_(
          params, options_.clip > 0 ? options_.clip : std::numeric_limits<double>::infinity());
      if (!std::isfinite(grad_norm)) bad = "non-finite loss or gradient (loss " + std::to_string(loss) + ")";
    }
    if (!bad.empty()) {
      optimizer_->zero_grad();
      ++consecutive_bad;
      ++bad_steps_;
      result.last_bad_step = bad;
      warn("step " + std::to_string(step_ + 1) + ": " + bad + "; step skipped, weights unchanged");
      if (consecutive_bad >= options_.max_bad_steps) {
        result.stop_reason = "diverged";
        result.stop_detail = "train.max_bad_steps consecutive steps were skipped (the last: " + bad +
                             "); the checkpoint holds the last good state. Lower train.lr or raise solver.steps";
        break;
      }
      continue;
    }
    consecutive_bad = 0;
    optimizer_->step();
    ++step_;
    seconds_ = now_seconds() - start;

    if (monitor_.on_step) {
      nlohmann::json record = {{"step", step_},
                               {"loss", loss},
                               {"ess", stats::ess_fraction(to_vector(drawn.log_w))},
                               {"lr", lr},
                               {"grad_norm", grad_norm},
                               {"bad_steps", bad_steps_},
                               {"seconds", seconds_}};
      if (options_.anneal > 0) record["action_scale"] = action_scale;
      monitor_.on_step(record);
    }

    if ((options_.eval_every > 0 && step_ % options_.eval_every == 0) || step_ == options_.steps) evaluate_now();
    if (unsound) break;
    if (result.reached_target) {
      result.stop_reason = "target";
      break;
    }
    if (step_ % options_.checkpoint_every == 0) save();
  }
  // Stopped by the time budget between evaluations: evaluate the final state too.
  if (result.stop_reason == "time" && step_ > 0 && evaluated_at != step_) evaluate_now();
  return finish();
}

}  // namespace latflow
