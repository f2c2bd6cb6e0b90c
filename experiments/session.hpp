#pragma once
// What every command does with a resolved run card before its own work: apply run.threads, run.seed and
// run.device, and build the lattice, the action and the model through the registries.
#include <string>

#include <c10/core/Device.h>

#include "experiments/runcard.hpp"
#include "flows/sampler.hpp"
#include "lattice/action.hpp"
#include "lattice/geometry.hpp"
#include "lattice/registry.hpp"  // lattice_of

namespace latflow {

/// The run directory a card names: output.dir, or runs/<card name> (runs/run for an in-memory card).
std::string run_directory_of(const RunCard& card);

struct Session {
  RunCard card;
  Lattice lattice;
  ActionPtr action;
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;

  /// Applies the card's threads, seed and device, and builds lattice and action.
  explicit Session(RunCard card);
  /// The card's model on the session's device and dtype, freshly initialised.
  SamplerPtr build_model() const;
  /// The run directory the card names (output.dir, or runs/<card name>).
  std::string run_directory() const { return run_directory_of(card); }
};

}  // namespace latflow
