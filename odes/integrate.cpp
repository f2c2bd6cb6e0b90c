#include "odes/integrate.hpp"

#include <cmath>

#include <ATen/ATen.h>

#include "odes/backprop.hpp"
#include "odes/registry.hpp"

namespace latflow::odes {
namespace {

template <class Product>
std::vector<std::pair<std::string, std::string>> listing(const Registry<Product>& registry) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : registry.entries()) out.emplace_back(e.name, e.description);
  return out;
}

void validate_state(const FlowState& state) {
  if (!state.phi.defined() || state.phi.dim() < 1 || !at::isFloatingType(state.phi.scalar_type()))
    throw UserError("integrate_flow: phi must be a floating-point tensor [B, ...]");
  if (!state.logq.defined() || state.logq.dim() != 1 || state.logq.size(0) != state.phi.size(0))
    throw UserError("integrate_flow: logq must have shape [B] = [" + std::to_string(state.phi.size(0)) +
                    "] to match phi " + c10::str(state.phi.sizes()) + "; got " +
                    (state.logq.defined() ? c10::str(state.logq.sizes()) : std::string("an undefined tensor")));
  if (state.logq.scalar_type() != state.phi.scalar_type() || state.logq.device() != state.phi.device())
    throw UserError("integrate_flow: phi and logq must share dtype and device");
}

bool any_requires_grad(const FlowState& state, const std::vector<at::Tensor>& parameters) {
  if (state.phi.requires_grad() || state.logq.requires_grad()) return true;
  for (const auto& p : parameters)
    if (p.requires_grad()) return true;
  return false;
}

}  // namespace

void validate(const SolverOptions& options) {
  if (!stepper_registry().contains(options.method))
    throw UserError(stepper_registry().unknown_message(options.method));
  if (!gradient_method_registry().contains(options.gradient))
    throw UserError(gradient_method_registry().unknown_message(options.gradient));
  if (options.steps < 1)
    throw UserError("ODE solver steps must be >= 1 (got " + std::to_string(options.steps) + ")");
  if (options.max_steps < 1)
    throw UserError("ODE solver max_steps must be >= 1 (got " + std::to_string(options.max_steps) + ")");
  if (!(std::isfinite(options.rtol) && options.rtol > 0))
    throw UserError("ODE solver rtol must be finite and > 0 (got " + std::to_string(options.rtol) + ")");
  if (!(std::isfinite(options.atol) && options.atol > 0))
    throw UserError("ODE solver atol must be finite and > 0 (got " + std::to_string(options.atol) + ")");
}

FlowState integrate_flow(Dynamics& dynamics, FlowState state, double t0, double t1, const SolverOptions& options,
                         SolveStats* stats) {
  validate(options);
  if (!std::isfinite(t0) || !std::isfinite(t1))
    throw UserError("integrate_flow: t0 and t1 must be finite (got " + std::to_string(t0) + ", " +
                    std::to_string(t1) + ")");
  validate_state(state);
  SolveStats local;
  SolveStats& s = stats ? *stats : local;
  s = SolveStats{};
  if (t0 == t1) return state;

  std::shared_ptr<const Stepper> stepper = stepper_registry().create(options.method);
  if (at::GradMode::is_enabled() && any_requires_grad(state, dynamics.parameters()))
    return gradient_method_registry().create(options.gradient)->solve(dynamics, state, t0, t1, stepper, options, s);
  // Nothing to differentiate: no graph, and odeint's buffers are updated in place.
  at::NoGradGuard no_grad;
  return Backprop().solve(dynamics, state, t0, t1, stepper, options, s);
}

const std::vector<std::pair<std::string, std::string>>& solver_names() {
  static const auto names = listing(stepper_registry());
  return names;
}

const std::vector<std::pair<std::string, std::string>>& gradient_method_names() {
  static const auto names = listing(gradient_method_registry());
  return names;
}

}  // namespace latflow::odes
