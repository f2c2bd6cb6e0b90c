#pragma once
// Training by stochastic minimisation of the reverse KL divergence with Adam (Kingma & Ba 2015), a
// learning-rate schedule, gradient-norm clipping and periodic evaluation on a fresh batch. The trainer
// owns no I/O policy: it reports each step and evaluation to a Monitor (the CLI writes metrics.jsonl and
// the progress display) and writes checkpoints to the paths it is given.
//
// Bad steps never reach the weights: a step whose loss or gradient is not finite, or whose ODE solve
// diverged (odes::IntegrationError, e.g. a vector field that blows up), is skipped and reported, and the
// next attempt draws fresh samples. After `max_bad_steps` consecutive bad steps training stops
// ("diverged"): weights and optimiser state are those of the last good step (a skipped step changes
// neither), and the checkpoint written then holds them.
//
// A continuous flow can also go wrong without a single bad step: it learns to exploit the error of its
// fixed-step solve, and the loss falls below the variational bound -log Z while the ESS collapses. Every
// periodic evaluation therefore transports a few samples a second time with twice the solver steps
// (train/evaluate.hpp); when the mean |error of log w| exceeds max_solver_error, training stops ("diverged")
// without overwriting the checkpoint, which then holds the state of the last checkpoint step.
//
// Periodic evaluations draw from a random stream of their own (core/random.hpp), so how many there were
// (a time budget adds a final one) never changes the training stream: a run stopped by its budget and
// resumed with a larger one continues exactly as a run given the larger budget from the start.
//
// Data parallelism (core/distributed.hpp). The batch of a step is split into shards: train.micro_batches
// per rank, on every rank of the world. Shard j of step k draws from a stream of its own, keyed by
// (run.seed, k, the number of skipped steps so far, j), so the global batch depends on the shard count
// only, not on how the shards are spread: 2 ranks x 1 micro-batch and 1 rank x 2 micro-batches train the
// same model (to rounding). Each shard contributes the gradient of its surrogate / shards; one all-reduce per
// step sums them together with the shards' log-weights (for the monitoring) and a per-rank flag of a bad
// shard, so every rank skips the same steps, clips the same gradient and takes the same optimiser step:
// parameters and optimiser state stay identical without being broadcast again. The stop decisions (an
// interrupt on any rank, the time budget as the slowest rank sees it) are agreed by a second, tiny
// all-reduce before each step. One shard (one process, train.micro_batches = 1) keeps the run's single
// stream, as before data parallelism existed. Evaluations split their batch over the ranks and gather the
// log-weights, so ESS and acceptance are those of the whole evaluation batch on every rank.
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include "core/config.hpp"
#include "core/distributed.hpp"
#include "flows/sampler.hpp"
#include "lattice/action.hpp"
#include "train/gradient_estimator.hpp"

namespace latflow {

struct TrainOptions {
  std::int64_t steps = 1000;
  std::int64_t batch = 64;
  std::int64_t micro_batches = 1;   ///< shards of the batch per rank (gradient accumulation)
  double lr = 5e-3;
  std::string schedule = "cosine";  ///< constant | cosine | exponential
  double decay_rate = 0.1;          ///< lr(steps) / lr(0) of the exponential schedule
  double clip = 1.0;                ///< max gradient norm; 0 disables
  std::int64_t eval_every = 100;
  std::int64_t eval_batch = 1024;
  std::int64_t checkpoint_every = 100;
  double max_seconds = 0;           ///< wall-clock budget, 0 = none
  std::string target_metric = "ess"; ///< what `target` applies to: "ess" or "acceptance" (of the evaluation)
  double target = 0;                 ///< stop once an evaluation reaches it, 0 = never
  /// Samples of a confirming evaluation run when the periodic one reaches `target`; the target counts as reached
  /// only if it reaches it too (the small periodic batch overestimates the ESS of heavy-tailed weights).
  /// 0: the periodic evaluation decides.
  std::int64_t target_confirm = 0;
  bool evaluate_at_start = false;    ///< also evaluate before the first step (fine-tuning: the start may
                                     ///< already meet the target)
  std::int64_t max_bad_steps = 10;
  /// Continuous flows: every periodic evaluation also estimates the solver error of log w on a few samples
  /// (train/evaluate.hpp, a reference solve with twice the steps); training stops ("diverged") when its mean
  /// exceeds this, because the loss and the ESS are then the solver's, not the model's. 0: no check.
  double max_solver_error = 1.0;
  std::uint64_t seed = 1;            ///< run.seed: keys the evaluations' random stream
  /// Annealing as in VAN (Wu, Wang & Zhang 2019): step k trains against exp(-a_k S) with
  /// a_k = 1 - anneal^(k+1), a rising inverse temperature; 0 = none (a_k = 1).
  double anneal = 0;

  static TrainOptions from_config(const Config& card);
  /// The learning rate at `step` (0-based) under the schedule.
  double lr_at(std::int64_t step) const;
  /// The factor a_k of the action at `step` (0-based) under the annealing.
  double action_scale_at(std::int64_t step) const;
};

/// Receives what the trainer measures. Every record is one JSON object (one line of metrics.jsonl).
struct Monitor {
  /// {"step", "loss", "ess", "lr", "grad_norm", "bad_steps", "seconds"}, and "action_scale" when annealing;
  /// loss and ess are those of the untempered target.
  std::function<void(const nlohmann::json&)> on_step;
  /// {"step", "seconds", "eval": {"ess", "acceptance", "loss", "log_z", "kl", and "solver_error" for continuous
  /// flows}}, or {"step", "seconds",
  /// "eval_failed": why} when the evaluation's solve diverged.
  std::function<void(const nlohmann::json&)> on_eval;
  std::function<void(const std::string&)> on_warning;
  std::function<bool()> should_stop;                    ///< polled every step (e.g. SIGINT)
};

struct TrainResult {
  std::int64_t steps = 0;           ///< optimiser steps completed in total (including before a resume)
  double seconds = 0;               ///< training wall time in total
  bool reached_target = false;
  std::int64_t steps_to_target = -1;
  double seconds_to_target = -1;
  bool interrupted = false;
  /// Why training ended: "steps", "target", "time", "diverged", or "" when interrupted.
  std::string stop_reason;
  /// The run had already ended before this call (a resumed finished run): nothing was trained or evaluated.
  bool already_finished = false;
  std::int64_t bad_steps = 0;       ///< skipped steps in total
  std::string last_bad_step;        ///< why the last skipped step was skipped
  std::string stop_detail;          ///< what made training stop when it diverged, and what the checkpoint holds
  nlohmann::json last_eval;         ///< the last evaluation record
};

/// Throws a UserError unless train.batch splits into `ranks` x train.micro_batches equal shards and the
/// evaluation batch leaves every rank at least one sample.
void check_batch_split(const TrainOptions& options, int ranks);

/// Why a run whose checkpoint says `meta` has ended under `options` ("target", "steps", "time"), or ""
/// when it can continue (a resume with a larger budget continues a finished run).
std::string finished_reason(std::int64_t step, double seconds, std::int64_t target_step, const TrainOptions& options);

class Trainer {
 public:
  /// `world` null: one process. On a world of several ranks every rank constructs its Trainer alike;
  /// only the caller decides who writes (rank 0 passes the checkpoint path, the others "").
  Trainer(SamplerPtr flow, ActionPtr action, GradientEstimatorPtr estimator, Lattice lattice,
          TrainOptions options, Monitor monitor, WorldPtr world = nullptr);

  /// Trains from the current state to options.steps, the target or the time budget, evaluating every
  /// eval_every steps and when it stops. `checkpoint_path` empty = no checkpoints; `runcard` is stored in
  /// them. A resumed run that had already ended (finished_reason) returns at once, with already_finished.
  TrainResult run(const std::string& checkpoint_path, const std::string& runcard);
  /// Continues from a checkpoint written by run() (weights, optimiser, RNGs, step, time). A checkpoint
  /// written with another shard count (ranks x micro-batches) continues correctly but draws other batches
  /// than the run would have: the Monitor is warned that the run is no longer bit-identical.
  void resume_from(const std::string& checkpoint_path);

  /// Evaluates the flow on a fresh batch: ESS, loss, log Z and KL estimates.
  /// `stream` > 0 draws from a stream of its own (the confirming evaluation), independent of stream 0's.
  nlohmann::json evaluate(std::int64_t n, std::uint64_t stream = 0);

 private:
  SamplerPtr model_;
  ActionPtr action_;
  GradientEstimatorPtr estimator_;
  Lattice lattice_;
  TrainOptions options_;
  Monitor monitor_;
  WorldPtr world_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::int64_t step_ = 0;
  double seconds_ = 0;
  std::int64_t target_step_ = -1;  ///< restored by resume_from, so a finished run is not trained further
  double target_seconds_ = -1;
  std::int64_t bad_steps_ = 0;

  std::int64_t shards() const { return options_.micro_batches * world_->size(); }
  /// The seed of this rank's part of the evaluation stream `stream` at the current step.
  std::uint64_t evaluation_key(std::uint64_t stream) const;
  /// Mean estimated solver error of log w over a few samples of the evaluation stream (all ranks agree),
  /// negative (no verdict) for flows without an ODE solve and when a solve diverged.
  double solver_error();
  struct StepBatch;
  /// Draws this rank's shards, accumulates their gradients and combines everything over the ranks.
  StepBatch draw_step(double action_scale);
};

}  // namespace latflow
