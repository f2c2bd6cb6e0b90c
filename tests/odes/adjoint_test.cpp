// The adjoint method against backpropagation through the solver (itself checked by finite differences),
// for every solver in the registry.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "odes/integrate.hpp"
#include "odes/registry.hpp"
#include "tests/odes/test_dynamics.hpp"

using namespace latflow;
using namespace latflow::odes;
using namespace latflow::odes::testing;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

/// A loss nonlinear in phi(1), so that the adjoint's final condition depends on the solution.
at::Tensor loss(const FlowState& s1) {
  torch::manual_seed(42);
  const auto w = torch::randn(s1.phi.sizes(), s1.phi.options());
  const auto u = torch::randn(s1.logq.sizes(), s1.logq.options());
  return (w * s1.phi).sum() + 0.5 * (s1.phi * s1.phi).sum() + (u * s1.logq).sum();
}

struct Gradients {
  std::vector<at::Tensor> all;  ///< W, b, c, phi0, logq0
};

Gradients gradients(TanhField& field, const SolverOptions& options) {
  torch::manual_seed(7);
  const FlowState s0{torch::randn({4, 3, 3}, kF64).requires_grad_(), torch::randn({4}, kF64).requires_grad_()};
  std::vector<at::Tensor> inputs = field.parameters();
  inputs.push_back(s0.phi);
  inputs.push_back(s0.logq);
  return {torch::autograd::grad({loss(integrate_flow(field, s0, 0.0, 1.0, options))}, inputs)};
}

/// max over the gradients of max|a - b| / max|b|.
double relative_difference(const Gradients& a, const Gradients& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.all.size(); ++i)
    worst = std::max(worst, max_abs_diff(a.all[i], b.all[i]) / b.all[i].abs().max().item<double>());
  return worst;
}

SolverOptions with(const std::string& method, const std::string& gradient, std::int64_t steps) {
  SolverOptions o;
  o.method = method;
  o.gradient = gradient;
  o.steps = steps;
  return o;
}

}  // namespace

TEST_CASE("the test field's divergence is the trace of its autograd Jacobian", "[odes][adjoint]") {
  TanhField field(9, kF64, 1);
  const auto phi = torch::randn({2, 3, 3}, kF64).requires_grad_();
  const Velocity velocity = field(0.3, phi);
  for (int b = 0; b < 2; ++b) {
    double trace = 0;
    for (int i = 0; i < 9; ++i) {
      const auto row = torch::autograd::grad({velocity.v.flatten(1)[b][i]}, {phi}, {}, true)[0];
      trace += row.flatten(1)[b][i].item<double>();
    }
    CHECK(velocity.divergence[b].item<double>() == Approx(trace).epsilon(1e-13));
  }
}

TEST_CASE("backprop through the solver matches central finite differences of the solve", "[odes][adjoint]") {
  // d/de L(W + e D) at e = 0 against <dL/dW, D>, for each solver.
  for (const auto& entry : stepper_registry().entries()) {
    DYNAMIC_SECTION(entry.name) {
      TanhField field(9, kF64, 3);
      SolverOptions o = with(entry.name, "backprop", 10);
      // An adaptive solve's step sizes depend on W but are chosen, not differentiated; they move the
      // solution by about the local tolerance, so make it negligible.
      o.rtol = o.atol = 1e-12;
      const auto g = gradients(field, o).all[0];
      const auto direction = torch::randn_like(g);
      auto loss_at = [&](double e) {
        torch::NoGradGuard no_grad;
        auto w = field.parameters()[0];
        w.add_(direction, e);
        torch::manual_seed(7);
        const FlowState s0{torch::randn({4, 3, 3}, kF64), torch::randn({4}, kF64)};
        const double value = loss(integrate_flow(field, s0, 0.0, 1.0, o)).item<double>();
        w.sub_(direction, e);
        return value;
      };
      const double e = 1e-5;
      const double numeric = (loss_at(e) - loss_at(-e)) / (2 * e);
      CHECK((g * direction).sum().item<double>() == Approx(numeric).epsilon(1e-7));
    }
  }
}

TEST_CASE("adjoint and backprop gradients agree for rk4 to 1e-6 in float64", "[odes][adjoint]") {
  TanhField field(9, kF64, 4);
  const double diff = relative_difference(gradients(field, with("rk4", "adjoint", 40)),
                                          gradients(field, with("rk4", "backprop", 40)));
  INFO("relative difference " << diff);
  CHECK(diff < 1e-6);
}

TEST_CASE("adjoint and backprop gradients converge to each other at the solver's order", "[odes][adjoint]") {
  // Backprop differentiates the discrete solve, the adjoint method the exact flow; they differ by the
  // solver's global error, ~ h^p for a fixed step h of a method of order p. For Euler (p = 1) that is why
  // 1e-6 agreement would need ~1e6 steps: the test is the order of the mismatch instead.
  for (const auto& entry : stepper_registry().entries()) {
    const auto stepper = entry.build();
    if (stepper->adaptive()) continue;
    DYNAMIC_SECTION(entry.name) {
      TanhField field(9, kF64, 4);
      std::vector<double> hs, diffs;
      for (std::int64_t n : {16, 32, 64, 128}) {
        hs.push_back(1.0 / n);
        diffs.push_back(relative_difference(gradients(field, with(entry.name, "adjoint", n)),
                                            gradients(field, with(entry.name, "backprop", n))));
      }
      INFO("relative differences " << diffs[0] << " " << diffs[1] << " " << diffs[2] << " " << diffs[3]);
      CHECK(log_log_slope(hs, diffs) == Approx(stepper->order()).margin(0.15));
    }
  }
}

TEST_CASE("adaptive adjoint and backprop gradients agree within the tolerance scale", "[odes][adjoint]") {
  // Both approximate the exact-flow gradient; each to about the local tolerance (rtol = atol = 1e-10) times
  // the condition of the problem, here O(1)-O(10): agreement to 1e-7 relative.
  for (const auto& entry : stepper_registry().entries()) {
    const auto stepper = entry.build();
    if (!stepper->adaptive()) continue;
    DYNAMIC_SECTION(entry.name) {
      TanhField field(9, kF64, 4);
      SolverOptions adjoint = with(entry.name, "adjoint", 20), backprop = with(entry.name, "backprop", 20);
      adjoint.rtol = adjoint.atol = backprop.rtol = backprop.atol = 1e-10;
      const double diff = relative_difference(gradients(field, adjoint), gradients(field, backprop));
      INFO("relative difference " << diff);
      CHECK(diff < 1e-7);
    }
  }
}

TEST_CASE("the adjoint method returns only the gradients asked for", "[odes][adjoint]") {
  TanhField field(9, kF64, 8);
  const auto params = field.parameters();
  const FlowState s0{torch::randn({4, 3, 3}, kF64), torch::randn({4}, kF64)};
  const SolverOptions adjoint = with("rk4", "adjoint", 40), backprop = with("rk4", "backprop", 40);

  SECTION("parameters only, phi0 and logq0 without grad") {
    const auto ga = torch::autograd::grad({loss(integrate_flow(field, s0, 0, 1, adjoint))}, params);
    const auto gb = torch::autograd::grad({loss(integrate_flow(field, s0, 0, 1, backprop))}, params);
    for (std::size_t i = 0; i < params.size(); ++i)
      CHECK(max_abs_diff(ga[i], gb[i]) < 1e-6 * gb[i].abs().max().item<double>());
  }
  SECTION("logq0 only: dL/dlogq0 = dL/dlogq1 exactly, no backward solve needed") {
    for (const auto& p : params) p.requires_grad_(false);
    const auto logq0 = s0.logq.clone().requires_grad_();
    const FlowState s1 = integrate_flow(field, {s0.phi, logq0}, 0, 1, adjoint);
    const auto g = torch::autograd::grad({(s1.logq * torch::arange(4, kF64)).sum()}, {logq0})[0];
    CHECK(torch::equal(g, torch::arange(4, kF64)));
    for (const auto& p : params) p.requires_grad_(true);
  }
  SECTION("backward direction (t1 < t0) and the two outputs used separately") {
    const auto phi0 = s0.phi.clone().requires_grad_();
    const auto a = torch::autograd::grad({integrate_flow(field, {phi0, s0.logq}, 1, 0.25, adjoint).phi.sum()},
                                         {phi0, params[0]});
    const auto b = torch::autograd::grad({integrate_flow(field, {phi0, s0.logq}, 1, 0.25, backprop).phi.sum()},
                                         {phi0, params[0]});
    CHECK(max_abs_diff(a[0], b[0]) < 1e-6 * b[0].abs().max().item<double>());
    CHECK(max_abs_diff(a[1], b[1]) < 1e-6 * b[1].abs().max().item<double>());
  }
  SECTION("higher derivatives are refused with a clear message") {
    const auto phi0 = s0.phi.clone().requires_grad_();
    const auto out = integrate_flow(field, {phi0, s0.logq}, 0, 1, adjoint).phi.sum();
    CHECK_THROWS_WITH(torch::autograd::grad({out}, {phi0}, {}, true, /*create_graph=*/true),
                      Catch::Contains("not differentiable"));
  }
}
