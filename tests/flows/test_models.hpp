#pragma once
// Small run cards and models shared by the flow and training tests.
#include <string>
#include <vector>

#include <torch/torch.h>

#include "experiments/runcard.hpp"
#include "flows/registry.hpp"

namespace latflow::testing {

/// A tiny operator CNF card: L = 4, few channels and solver steps, float64.
inline RunCard tiny_cnf_card(std::vector<std::string> sets = {}) {
  std::vector<std::string> base = {"lattice.L=4",        "model.channels=2", "model.frequencies=2",
                                   "model.kernel_modes=3", "model.time_modes=1", "model.dtype=float64",
                                   "solver.steps=4",     "train.batch=8",    "train.eval_every=0",
                                   "train.checkpoint_every=1000"};
  base.insert(base.end(), sets.begin(), sets.end());
  return parse_runcard("", "", base);
}

/// Moves every parameter away from the identity initialisation, reproducibly.
inline void randomise(torch::nn::Module& m, double scale, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& p : m.parameters()) p.add_(torch::randn(p.sizes(), gen, p.options()) * scale);
}

}  // namespace latflow::testing
