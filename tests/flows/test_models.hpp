#pragma once
// Small run cards and models shared by the flow and training tests.
#include <string>
#include <vector>

#include <torch/torch.h>

#include "experiments/runcard.hpp"
#include "flows/continuous_flow.hpp"
#include "flows/flow.hpp"
#include "flows/registry.hpp"
#include "lattice/normal_prior.hpp"
#include "operators/neural_operator.hpp"

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

/// The vector field v_t(phi) = a phi^3 at every site, with one trainable scalar a, and its exact
/// divergence 3 a sum_x phi^2. Its flow is known in closed form,
///
///   phi(t) = phi0 / sqrt(1 - 2 a phi0^2 t),     log q(t) = log q0 + (3/2) sum_x log(1 - 2 a phi0(x)^2 t),
///
/// and for a > 0 a sample with |phi0| > 1/sqrt(2 a) has no solution on [0, 1] (it blows up at
/// t* = 1 / (2 a phi0^2)): an ODE solve that really diverges.
class CubicOperatorImpl : public NeuralOperatorImpl {
 public:
  explicit CubicOperatorImpl(double a) { coefficient = register_parameter("a", torch::full({}, a, torch::kFloat64)); }
  odes::Velocity evaluate(double, const at::Tensor& phi) override {
    return {coefficient * phi.pow(3), 3 * coefficient * phi.pow(2).flatten(1).sum(1)};
  }
  /// The exact solution from t = 0 to t.
  Density exact(const Density& start, double t) const {
    const at::Tensor d = 1 - 2 * coefficient.detach() * start.phi.pow(2) * t;
    return {start.phi / torch::sqrt(d), start.logq + 1.5 * torch::log(d).flatten(1).sum(1)};
  }
  at::Tensor coefficient;
};

/// A continuous flow from the unit normal through CubicOperatorImpl(a), in float64.
inline std::pair<FlowPtr, std::shared_ptr<CubicOperatorImpl>> cubic_flow(double a, odes::SolverOptions solver) {
  auto op = std::make_shared<CubicOperatorImpl>(a);
  auto flow = std::make_shared<FlowImpl>(std::make_shared<NormalPrior>(),
                                         std::make_shared<ContinuousFlowImpl>(op, std::move(solver)));
  flow->to(torch::kFloat64);
  return {flow, op};
}

}  // namespace latflow::testing
