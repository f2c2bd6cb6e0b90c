#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <torch/torch.h>

#include "core/random.hpp"
#include "lattice/statistics.hpp"
#include "odes/integrate.hpp"
#include "train/checkpoint.hpp"

namespace latflow {

namespace {
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
}  // namespace

TrainOptions TrainOptions::from_config(const Config& c) {
  TrainOptions o;
  o.steps = c.get<std::int64_t>("train.steps");
  o.batch = c.get<std::int64_t>("train.batch");
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
  o.max_bad_steps = c.get<std::int64_t>("train.max_bad_steps");
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

Trainer::Trainer(SamplerPtr flow, ActionPtr action, GradientEstimatorPtr estimator, Lattice lattice,
                 TrainOptions options, Monitor monitor)
    : model_(std::move(flow)),
      action_(std::move(action)),
      estimator_(std::move(estimator)),
      lattice_(lattice),
      options_(std::move(options)),
      monitor_(std::move(monitor)),
      optimizer_(std::make_unique<torch::optim::Adam>(trainable(*model_), torch::optim::AdamOptions(options_.lr))) {
  check_estimator_fits(*estimator_, *model_);
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
}

nlohmann::json Trainer::evaluate(std::int64_t n) {
  torch::NoGradGuard no_grad;
  // A stream of its own, keyed by the step: the training stream is the same whether or not this runs.
  const RandomStreamFork fork(derive_seed(options_.seed, static_cast<std::uint64_t>(step_)));
  const Density d = model_->sample(n, lattice_);
  const at::Tensor s = action_->action(d.phi);
  const std::vector<double> log_w = to_vector(-s - d.logq);
  const auto log_z = stats::log_z(log_w);
  const auto kl = stats::reverse_kl(log_w);
  return {{"ess", stats::ess_fraction(log_w)},
          {"acceptance", stats::independence_metropolis(log_w, static_cast<std::uint64_t>(step_)).acceptance},
          {"loss", (d.logq + s).mean().item<double>()},
          {"log_z", {{"value", log_z.value}, {"error", log_z.error}}},
          {"kl", {{"value", kl.value}, {"error", kl.error}}}};
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
  const double start = now_seconds() - seconds_;
  std::int64_t consecutive_bad = 0, evaluated_at = -1;
  auto save = [&] {
    if (!checkpoint_path.empty())
      save_checkpoint(checkpoint_path, *model_, optimizer_.get(),
                      {step_, seconds_, runcard, result.steps_to_target, result.seconds_to_target, result.stop_reason,
                       bad_steps_});
  };
  auto warn = [&](const std::string& m) {
    if (monitor_.on_warning) monitor_.on_warning(m);
  };
  auto finish = [&] {
    result.steps = step_;
    result.seconds = seconds_;
    result.bad_steps = bad_steps_;
    save();
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
    const auto& ev = record["eval"];
    // A reverse-KL estimate far below zero means the discretised log-density is wrong: the flow is
    // exploiting the solver's error rather than learning the target.
    if (ev["kl"]["value"].get<double>() < -5 * ev["kl"]["error"].get<double>() - 0.05)
      warn("step " + std::to_string(step_) + ": KL estimate " + ev["kl"]["value"].dump() +
           " < 0: the solver's error is being exploited; raise solver.steps");
    if (monitor_.on_eval) monitor_.on_eval(record);
    result.last_eval = record;
    if (options_.target > 0 && !result.reached_target && ev[options_.target_metric].get<double>() >= options_.target) {
      result.reached_target = true;
      result.steps_to_target = step_;
      result.seconds_to_target = seconds_;
    }
  };

  if (options_.evaluate_at_start && step_ == 0) {
    evaluate_now();
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
    if (monitor_.should_stop && monitor_.should_stop()) {
      result.interrupted = true;
      break;
    }
    if (options_.max_seconds > 0 && now_seconds() - start >= options_.max_seconds) {
      result.stop_reason = "time";
      break;
    }

    const double lr = options_.lr_at(step_), action_scale = options_.action_scale_at(step_);
    for (auto& group : optimizer_->param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    optimizer_->zero_grad();
    double loss = std::nan(""), grad_norm = std::nan("");
    std::string bad;
    at::Tensor step_log_w;
    try {
      const LossTerms terms = (*estimator_)(*model_, *action_, options_.batch, lattice_, action_scale);
      loss = (terms.logq + terms.action).mean().item<double>();
      if (std::isfinite(loss) && std::isfinite(terms.surrogate.item<double>())) {
        terms.surrogate.backward();
        grad_norm = torch::nn::utils::clip_grad_norm_(
            params, options_.clip > 0 ? options_.clip : std::numeric_limits<double>::infinity());
      }
      if (!std::isfinite(grad_norm))
        bad = "non-finite loss or gradient (loss " + std::to_string(loss) + ")";
      step_log_w = -terms.action - terms.logq;
    } catch (const odes::IntegrationError& e) {
      bad = std::string("the ODE solve diverged (") + e.what() + ")";
    }
    if (!bad.empty()) {
      optimizer_->zero_grad();
      ++consecutive_bad;
      ++bad_steps_;
      result.last_bad_step = bad;
      warn("step " + std::to_string(step_ + 1) + ": " + bad + "; step skipped, weights unchanged");
      if (consecutive_bad >= options_.max_bad_steps) {
        result.stop_reason = "diverged";
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
                               {"ess", stats::ess_fraction(to_vector(step_log_w))},
                               {"lr", lr},
                               {"grad_norm", grad_norm},
                               {"bad_steps", bad_steps_},
                               {"seconds", seconds_}};
      if (options_.anneal > 0) record["action_scale"] = action_scale;
      monitor_.on_step(record);
    }

    if ((options_.eval_every > 0 && step_ % options_.eval_every == 0) || step_ == options_.steps) evaluate_now();
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
