// integrate_flow against exact flows, for every solver in the registry: order of convergence, a linear
// field with exact exp(A) and log-det, round trips, function-evaluation counts and bad input.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "odes/integrate.hpp"
#include "odes/registry.hpp"
#include "tests/odes/test_dynamics.hpp"

using namespace latflow;
using namespace latflow::odes;
using namespace latflow::odes::testing;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

FlowState riccati_start(torch::TensorOptions options) {
  torch::manual_seed(11);
  return {torch::rand({4, 2, 3}, options) * 1.6 - 0.8, torch::randn({4}, options)};
}

/// The larger of the phi and log q errors against the exact flow.
double error(const FlowState& got, const FlowState& exact) {
  return std::max(max_abs_diff(got.phi, exact.phi), max_abs_diff(got.logq, exact.logq));
}

SolverOptions options_for(const std::string& method, std::int64_t steps = 20) {
  SolverOptions o;
  o.method = method;
  o.steps = steps;
  return o;
}

}  // namespace

TEST_CASE("every solver converges at its order on an exactly solvable flow", "[odes][order]") {
  Riccati field;
  const FlowState s0 = riccati_start(kF64);
  const FlowState exact = Riccati::exact(s0, 0.0, 1.0);
  for (const auto& entry : stepper_registry().entries()) {
    const auto stepper = entry.build();
    DYNAMIC_SECTION(entry.name) {
      if (!stepper->adaptive()) {
        // Global error ~ C h^p: the fitted log-log slope is the order p.
        std::vector<double> hs, errs;
        for (std::int64_t n : {16, 32, 64, 128}) {
          hs.push_back(1.0 / n);
          errs.push_back(error(integrate_flow(field, s0, 0.0, 1.0, options_for(entry.name, n)), exact));
        }
        INFO("errors " << errs[0] << " " << errs[1] << " " << errs[2] << " " << errs[3]);
        CHECK(log_log_slope(hs, errs) == Approx(stepper->order()).margin(0.1));
      } else {
        // Tighter tolerances give smaller errors, and the global error stays on the scale of the local
        // tolerance (within a factor 10 of atol + rtol max|phi|).
        double previous = std::numeric_limits<double>::infinity();
        for (double rtol : {1e-4, 1e-6, 1e-8, 1e-10}) {
          SolverOptions o = options_for(entry.name);
          o.rtol = rtol;
          o.atol = rtol;
          const double err = error(integrate_flow(field, s0, 0.0, 1.0, o), exact);
          const double scale = o.atol + o.rtol * exact.phi.abs().max().item<double>();
          INFO("rtol " << rtol << " error " << err);
          CHECK(err < previous);
          CHECK(err < 10 * scale);
          previous = err;
        }
      }
    }
  }
}

TEST_CASE("linear field: exact exp(A) flow and log-det, and each fixed stepper's exact propagator",
          "[odes][linear]") {
  // v = A phi on a 2 x 3 lattice (N = 6): phi(1) = exp(A) phi0, log q(1) = log q(0) - tr A.
  torch::manual_seed(3);
  const auto a = 0.5 * torch::randn({6, 6}, kF64);
  Linear field(a);
  const FlowState s0{torch::randn({3, 2, 3}, kF64), torch::randn({3}, kF64)};
  const auto flat0 = s0.phi.flatten(1);
  const auto exact_phi = torch::matmul(flat0, torch::linalg_matrix_exp(a).t()).view(s0.phi.sizes());
  const auto exact_logq = s0.logq - a.trace();

  for (const auto& entry : stepper_registry().entries()) {
    const auto stepper = entry.build();
    DYNAMIC_SECTION(entry.name) {
      SolverOptions o = options_for(entry.name, 64);
      o.rtol = o.atol = 1e-11;
      const FlowState s1 = integrate_flow(field, s0, 0.0, 1.0, o);
      // Sum_i b_i = 1 for every consistent method, so a constant divergence is integrated exactly.
      CHECK(max_abs_diff(s1.logq, exact_logq) < 1e-12);
      if (stepper->adaptive()) {
        CHECK(max_abs_diff(s1.phi, exact_phi) < 1e-9);
      } else {
        // An explicit Runge-Kutta method with as many stages as its order p (<= 4) advances a linear
        // field by the Taylor polynomial R(hA) = sum_{k<=p} (hA)^k / k! per step: phi_n = R(hA)^n phi0.
        REQUIRE(stepper->order() <= 4);
        const double h = 1.0 / o.steps;
        auto r = torch::eye(6, kF64);
        auto term = torch::eye(6, kF64);
        for (int k = 1; k <= stepper->order(); ++k) {
          term = torch::matmul(term, h * a) / k;
          r = r + term;
        }
        const auto propagated = torch::matmul(flat0, torch::linalg_matrix_power(r, o.steps).t());
        CHECK(max_abs_diff(s1.phi.flatten(1), propagated) < 1e-12);
        if (stepper->order() >= 4) CHECK(max_abs_diff(s1.phi, exact_phi) < 1e-8);
      }
    }
  }
}

TEST_CASE("forward then backward integration returns to the start", "[odes][roundtrip]") {
  // Tolerances: a fixed-step round trip is off by the global error, ~ h^p (times derivatives of order one
  // for this field), plus rounding, ~ steps * eps; an adaptive one by ~ the local tolerance.
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const auto options = torch::TensorOptions().dtype(dtype);
    const double eps = dtype == torch::kFloat64 ? 2.2e-16 : 1.2e-7;
    TanhField field(9, options, 5);
    torch::NoGradGuard no_grad;
    torch::manual_seed(6);
    const FlowState s0{torch::randn({5, 3, 3}, options), torch::randn({5}, options)};
    for (const auto& entry : stepper_registry().entries()) {
      const auto stepper = entry.build();
      DYNAMIC_SECTION(entry.name << " " << (dtype == torch::kFloat64 ? "float64" : "float32")) {
        SolverOptions o = options_for(entry.name, 128);
        double tolerance = 0;
        if (stepper->adaptive()) {
          o.rtol = o.atol = dtype == torch::kFloat64 ? 1e-10 : 1e-6;
          tolerance = 100 * o.rtol;
        } else {
          tolerance = 4 * std::pow(1.0 / o.steps, stepper->order()) + 100 * o.steps * eps;
        }
        const FlowState s1 = integrate_flow(field, s0, 0.0, 1.0, o);
        const FlowState back = integrate_flow(field, s1, 1.0, 0.0, o);
        INFO("tolerance " << tolerance);
        CHECK(max_abs_diff(back.phi, s0.phi) < tolerance);
        CHECK(max_abs_diff(back.logq, s0.logq) < tolerance * 10);
        CHECK(max_abs_diff(s1.phi, s0.phi) > 0.1);  // the flow did move
      }
    }
  }
}

TEST_CASE("function evaluations and steps are counted", "[odes][nfe]") {
  Riccati field;
  const FlowState s0 = riccati_start(kF64);
  SolveStats stats;
  integrate_flow(field, s0, 0.0, 1.0, options_for("euler", 7), &stats);
  CHECK(stats.nfe == 7);
  CHECK(stats.accepted_steps == 7);
  CHECK(stats.rejected_steps == 0);
  integrate_flow(field, s0, 0.0, 1.0, options_for("rk4", 9), &stats);
  CHECK(stats.nfe == 4 * 9);
  CHECK(stats.accepted_steps == 9);
  // Dormand-Prince is first-same-as-last: one initial evaluation, then six per attempted step.
  SolverOptions o = options_for("dopri5", 1);
  o.rtol = o.atol = 1e-9;
  integrate_flow(field, s0, 0.0, 1.0, o, &stats);
  CHECK(stats.accepted_steps > 1);
  CHECK(stats.rejected_steps >= 1);  // the first trial step, the whole interval, is far too long
  CHECK(stats.nfe == 1 + 6 * (stats.accepted_steps + stats.rejected_steps));
  integrate_flow(field, s0, 0.5, 0.5, o, &stats);
  CHECK(stats.nfe == 0);
}

TEST_CASE("sampling without gradients records no graph and leaves the inputs alone", "[odes][nograd]") {
  TanhField field(9, kF64, 2);  // its parameters require grad
  torch::manual_seed(1);
  const FlowState s0{torch::randn({3, 3, 3}, kF64), torch::zeros({3}, kF64)};
  const auto phi_copy = s0.phi.clone();
  for (const auto& entry : stepper_registry().entries()) {
    FlowState s1;
    {
      torch::NoGradGuard no_grad;
      s1 = integrate_flow(field, s0, 0.0, 1.0, options_for(entry.name));
    }
    CHECK_FALSE(s1.phi.requires_grad());
    CHECK_FALSE(s1.logq.requires_grad());
    CHECK(torch::equal(s0.phi, phi_copy));
    CHECK(torch::equal(s0.logq, torch::zeros({3}, kF64)));
    // The same solve recording a graph gives the same numbers.
    const FlowState recorded = integrate_flow(field, s0, 0.0, 1.0, options_for(entry.name));
    CHECK(recorded.phi.requires_grad());
    CHECK(max_abs_diff(recorded.phi, s1.phi) < 1e-14);
    CHECK(max_abs_diff(recorded.logq, s1.logq) < 1e-14);
  }
}

TEST_CASE("registries list the solvers and gradient methods", "[odes][registry]") {
  std::vector<std::string> names;
  for (const auto& [name, description] : solver_names()) {
    names.push_back(name);
    CHECK_FALSE(description.empty());
  }
  CHECK(names == std::vector<std::string>{"euler", "rk4", "dopri5"});
  names.clear();
  for (const auto& [name, description] : gradient_method_names()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"backprop", "adjoint"});
}

namespace {

/// Finite until t = 0.5, NaN after: a flow that blows up.
class NanAfterHalf : public Dynamics {
 public:
  Velocity operator()(double t, const at::Tensor& phi) override {
    const double value = t > 0.5 ? std::numeric_limits<double>::quiet_NaN() : 1.0;
    return {torch::full_like(phi, value), torch::zeros({phi.size(0)}, phi.options())};
  }
  std::vector<at::Tensor> parameters() const override { return {}; }
};

class WrongShape : public Dynamics {
 public:
  Velocity operator()(double, const at::Tensor& phi) override {
    return {phi.flatten(1), torch::zeros({phi.size(0)}, phi.options())};
  }
  std::vector<at::Tensor> parameters() const override { return {}; }
};

template <class Call>
std::string user_error_message(Call&& call) {
  try {
    call();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no UserError thrown)";
}

}  // namespace

TEST_CASE("bad options, times and shapes are user errors, and failed solves are integration errors",
          "[odes][errors]") {
  Riccati field;
  const FlowState s0 = riccati_start(kF64);
  auto solve = [&](SolverOptions o, double t0 = 0.0, double t1 = 1.0) { integrate_flow(field, s0, t0, t1, o); };

  CHECK_THAT(user_error_message([&] { solve(options_for("rk5")); }),
             Catch::Contains("did you mean 'rk4'") && Catch::Contains("'dopri5'"));
  SolverOptions o;
  o.gradient = "adjiont";
  CHECK_THAT(user_error_message([&] { solve(o); }), Catch::Contains("did you mean 'adjoint'"));
  CHECK_THAT(user_error_message([&] { solve(options_for("rk4", 0)); }), Catch::Contains("steps must be >= 1"));
  for (double bad : {0.0, -1e-6, std::nan("")}) {
    o = SolverOptions{};
    o.rtol = bad;
    CHECK_THAT(user_error_message([&] { solve(o); }), Catch::Contains("rtol"));
    o = SolverOptions{};
    o.atol = bad;
    CHECK_THAT(user_error_message([&] { solve(o); }), Catch::Contains("atol"));
  }
  o = SolverOptions{};
  o.max_steps = 0;
  CHECK_THAT(user_error_message([&] { solve(o); }), Catch::Contains("max_steps"));
  CHECK_THAT(user_error_message([&] { solve(SolverOptions{}, std::nan(""), 1.0); }), Catch::Contains("finite"));
  CHECK_THAT(user_error_message([&] { solve(SolverOptions{}, 0.0, HUGE_VAL); }), Catch::Contains("finite"));
  CHECK_THAT(user_error_message([&] { integrate_flow(field, {s0.phi, torch::zeros({5}, kF64)}, 0, 1, {}); }),
             Catch::Contains("logq must have shape [B] = [4]"));

  // An adaptive solve out of attempts.
  o = options_for("dopri5", 1);
  o.rtol = o.atol = 1e-12;
  o.max_steps = 5;
  CHECK_THROWS_AS(solve(o), IntegrationError);
  CHECK_THAT(user_error_message([&] { solve(o); }), Catch::Contains("max_steps = 5"));

  // A flow that turns NaN: the adaptive step underflows, fixed steps end non-finite. Never a hang.
  NanAfterHalf blows_up;
  for (const auto& entry : stepper_registry().entries()) {
    CHECK_THROWS_AS(integrate_flow(blows_up, s0, 0.0, 1.0, options_for(entry.name)), IntegrationError);
  }
  o = options_for("dopri5");
  CHECK_THAT(user_error_message([&] { integrate_flow(blows_up, s0, 0.0, 1.0, o); }), Catch::Contains("underflow"));

  WrongShape wrong;
  CHECK_THROWS_AS(integrate_flow(wrong, s0, 0.0, 1.0, SolverOptions{}), std::logic_error);
}
