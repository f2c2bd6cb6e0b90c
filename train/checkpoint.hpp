#pragma once
// Training checkpoints: model parameters and buffers, optimiser state, the random-number generators'
// states, the step and elapsed time, and the resolved run card, in one LibTorch archive. Resuming from one
// continues the run exactly (same weights, on CPU, as an uninterrupted run).
//
// File format (version 1): a two-line text header, then the LibTorch archive as payload,
//
//   latflow checkpoint 1\n
//   payload <bytes> crc64 <16 hex digits>\n
//   <payload>
//
// with CRC-64/XZ (ECMA-182 polynomial, reflected) of the payload. Every load verifies length and checksum
// before LibTorch reads a byte, so a truncated or bit-flipped file is reported as corrupted instead of
// loading altered weights (or failing deep inside LibTorch). Writes go through write_file_atomically
// (core/files.hpp): unique temporary name, fsync of file and directory, rename, write errors reported.
#include <cstdint>
#include <optional>
#include <string>

#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace latflow {

struct CheckpointMeta {
  std::int64_t step = 0;        ///< optimiser steps completed
  double seconds = 0;           ///< training wall time so far
  std::string runcard;          ///< the resolved run card (TOML) the run trained with
  std::int64_t target_step = -1;    ///< step at which the training target was reached, -1 if not (yet)
  double target_seconds = -1;       ///< training wall time at that step
  /// Why training ended when this checkpoint was written: "" (still running or interrupted), "steps"
  /// (train.steps done), "target", "time" (train.max_seconds used up) or "diverged" (max_bad_steps).
  std::string stop_reason;
  std::int64_t bad_steps = 0;   ///< skipped (non-finite or diverged) steps so far, all of them
  std::int64_t shards = 1;      ///< batch shards (ranks x micro-batches) of the run; 1 in older checkpoints
};

/// Atomically and durably writes `path`.
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);

/// Restores what save_checkpoint wrote into `model` (and `optimizer` and the generators if given); tensors
/// go to `device` when given. UserError for a missing, corrupted or foreign file, and for one whose
/// parameters do not fit `model` (naming the first mismatch).
CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, bool restore_rng,
                               std::optional<c10::Device> device = std::nullopt);

/// Only the metadata (to rebuild the model from its run card before loading the weights); verifies the
/// checksum like load_checkpoint.
CheckpointMeta read_checkpoint_meta(const std::string& path);

}  // namespace latflow
