#pragma once
// Training checkpoints: model parameters and buffers, optimiser state, the random-number generators'
// states, the step and elapsed time, and the resolved run card, in one LibTorch archive. Written to a
// temporary file and renamed over the old one, so a crash never leaves a torn checkpoint: resuming from
// it continues the run exactly (same weights, on CPU, as an uninterrupted run).
#include <cstdint>
#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace latflow {

struct CheckpointMeta {
  std::int64_t step = 0;        ///< optimiser steps completed
  double seconds = 0;           ///< training wall time so far
  std::string runcard;          ///< the resolved run card (TOML)
  std::int64_t target_step = -1;    ///< step at which the training target was reached, -1 if not (yet)
  double target_seconds = -1;       ///< training wall time at that step
};

/// Atomically writes `path` (via path + ".tmp" and rename).
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);

/// Restores what save_checkpoint wrote into `model` (and `optimizer` and the generators if given).
CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng);

/// Only the metadata (to rebuild the model from its run card before loading the weights).
CheckpointMeta read_checkpoint_meta(const std::string& path);

}  // namespace latflow
