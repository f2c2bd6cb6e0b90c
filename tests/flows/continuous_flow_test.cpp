#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "flows/continuous_flow.hpp"
#include "lattice/registry.hpp"
#include "lattice/statistics.hpp"
#include "test_models.hpp"
#include "train/evaluate.hpp"

using namespace latflow;

namespace {
FlowPtr tiny_flow(std::vector<std::string> sets = {}) {
  const RunCard card = testing::tiny_cnf_card(std::move(sets));
  FlowPtr flow = std::dynamic_pointer_cast<FlowImpl>(model_registry().create("operator_cnf", card.config));
  flow->to(torch::kFloat64);
  return flow;
}
}  // namespace

TEST_CASE("an untrained CNF is the identity: log q is the base density", "[flows][cnf]") {
  torch::manual_seed(3);
  FlowPtr flow = tiny_flow();
  const Density d = flow->sample(16, Lattice::square(4));
  CHECK(torch::allclose(d.logq, flow->prior().log_prob(d.phi), 0, 1e-12));
  CHECK(torch::allclose(flow->log_prob(d.phi), d.logq, 0, 1e-12));
}

namespace {
/// Largest mismatches of a round trip z -> forward -> reverse with `steps` solver steps: in phi, in log q,
/// and between log_prob(forward(z)) and the log q reported by forward.
struct RoundTrip {
  double phi, logq, log_prob;
};
RoundTrip round_trip(const std::string& method, std::int64_t steps, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> sets = {"solver.method=" + method, "solver.steps=" + std::to_string(steps)};
  sets.insert(sets.end(), extra.begin(), extra.end());
  torch::manual_seed(4);
  FlowPtr flow = tiny_flow(sets);
  testing::randomise(*flow, 0.3, 11);
  const at::Tensor z = flow->prior().sample(6, Lattice::square(4), flow->tensor_options());
  const Density x{z, flow->prior().log_prob(z)};
  const Density y = flow->transform().forward(x);
  const Density back = flow->transform().reverse(y);
  return {(back.phi - z).abs().max().item<double>(), (back.logq - x.logq).abs().max().item<double>(),
          (flow->log_prob(y.phi) - y.logq).abs().max().item<double>()};
}
}  // namespace

TEST_CASE("CNF round trip and log-density agree forwards and backwards", "[flows][cnf]") {
  // Fixed steps: reverse-time RK4 is not the exact inverse of forward RK4, so the round trip closes only
  // to the global error O(dt^4): doubling the steps must shrink every mismatch ~16-fold (> 8 required).
  const RoundTrip coarse = round_trip("rk4", 16), fine = round_trip("rk4", 32);
  INFO("rk4 16 steps: " << coarse.phi << ", " << coarse.logq << ", " << coarse.log_prob << "; 32 steps: " << fine.phi
                        << ", " << fine.logq << ", " << fine.log_prob);
  CHECK(fine.phi < coarse.phi / 8);
  CHECK(fine.logq < coarse.logq / 8);
  CHECK(fine.log_prob < coarse.log_prob / 8);
  CHECK(fine.phi < 1e-5);
  // Adaptive: the mismatch follows the tolerance.
  const RoundTrip tight = round_trip("dopri5", 16, {"solver.rtol=1e-11", "solver.atol=1e-12"});
  INFO("dopri5 at rtol 1e-11: " << tight.phi << ", " << tight.logq << ", " << tight.log_prob);
  CHECK(tight.phi < 1e-8);
  CHECK(tight.logq < 1e-8);
  CHECK(tight.log_prob < 1e-8);
}

TEST_CASE("CNF log-det equals the log|det| of the autograd Jacobian", "[flows][cnf]") {
  // The integrated divergence is the log-det of the exact flow map; the sampled map is its RK4
  // discretisation, whose Jacobian log-det differs by the solver's error: it must shrink ~16-fold per
  // doubling of the steps.
  const auto mismatch = [](std::int64_t steps) {
    torch::manual_seed(5);
    FlowPtr flow = tiny_flow({"solver.steps=" + std::to_string(steps)});
    testing::randomise(*flow, 0.3, 12);
    const std::int64_t V = 16;
    const at::Tensor z =
        flow->prior().sample(1, Lattice::square(4), flow->tensor_options()).requires_grad_(true);
    const Density y = flow->transform().forward({z, torch::zeros({1}, z.options())});
    at::Tensor J = torch::zeros({V, V}, z.options());
    const at::Tensor flat = y.phi.reshape({V});
    for (std::int64_t i = 0; i < V; ++i) J[i] = torch::autograd::grad({flat[i]}, {z}, {}, true)[0].reshape({V});
    return std::abs(-y.logq.item<double>() - std::get<1>(torch::linalg_slogdet(J)).item<double>());
  };
  const double coarse = mismatch(16), fine = mismatch(32);
  INFO("|log-det - log|det J|| at 16 steps " << coarse << ", at 32 steps " << fine);
  CHECK(fine < coarse / 8);
  CHECK(fine < 1e-5);
}

TEST_CASE("base = target (free theory) gives ESS 1, KL 0 and the exact log Z", "[flows][cnf]") {
  torch::manual_seed(6);
  const double m0sq = 0.7;
  const RunCard card = testing::tiny_cnf_card({"lattice.m2=" + std::to_string(m0sq), "lattice.lambda=0",
                                               "model.prior_m2=" + std::to_string(m0sq)});
  SamplerPtr flow = model_registry().create("operator_cnf", card.config);
  flow->to(torch::kFloat64);
  const ActionPtr action = theory_registry().create("phi4", card.config);
  EvaluationOptions o;
  o.n = 256;
  o.batch = 128;
  o.bins = 16;
  const auto ev = evaluate_model(*flow, *action, Lattice::square(4), o);
  CHECK(ev["ess"].get<double>() == Approx(1.0).margin(1e-12));
  CHECK(ev["acceptance"].get<double>() == 1.0);
  double log_z0 = 8.0 * std::log(M_PI);  // (V/2) log pi with V = 16
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      log_z0 -= 0.5 * std::log(4 * std::pow(std::sin(M_PI * a / 4), 2) + 4 * std::pow(std::sin(M_PI * b / 4), 2) + m0sq);
  CHECK(ev["log_z"]["value"].get<double>() == Approx(log_z0).margin(1e-9));
  CHECK(ev["kl"]["value"].get<double>() == Approx(0.0).margin(1e-9));
}

TEST_CASE("CNF training gradients: adjoint agrees with backprop through the flow", "[flows][cnf][adjoint]") {
  // The loss is built and differentiated after the flow's forward pass has returned, as in training, so
  // the adjoint's backward pass must still find the flow's dynamics.
  const auto gradients = [](const std::string& method, std::int64_t steps) {
    torch::manual_seed(9);
    FlowPtr flow = tiny_flow({"solver.gradient=" + method, "solver.steps=" + std::to_string(steps)});
    testing::randomise(*flow, 0.3, 13);
    torch::manual_seed(10);
    const Density d = flow->sample(5, Lattice::square(4));
    (d.logq.sum() + d.phi.pow(4).sum()).backward();
    std::vector<at::Tensor> g;
    for (const auto& p : flow->parameters())
      if (p.grad().defined()) g.push_back(p.grad().clone());
    return g;
  };
  // The adjoint's backward solve is a different discretisation of the same exact gradient, so the two
  // agree to the solver's error, not to rounding: per parameter tensor, the relative difference must be
  // small and fall like h^4 (RK4) when the steps double, whatever the gradient's own size.
  std::vector<double> coarse, fine;
  for (const std::int64_t steps : {12, 24}) {
    const auto backprop = gradients("backprop", steps), adjoint = gradients("adjoint", steps);
    REQUIRE(backprop.size() == adjoint.size());
    REQUIRE_FALSE(backprop.empty());
    for (std::size_t i = 0; i < backprop.size(); ++i) {
      const double norm = backprop[i].norm().item<double>();
      REQUIRE(norm > 0);
      (steps == 12 ? coarse : fine).push_back((adjoint[i] - backprop[i]).norm().item<double>() / norm);
    }
  }
  for (std::size_t i = 0; i < fine.size(); ++i) {
    INFO("parameter " << i << ": relative difference " << coarse[i] << " at 12 steps, " << fine[i] << " at 24");
    CHECK(fine[i] < 1e-4);
    // Rounding-level differences cannot fall further; only check the order above that floor.
    if (fine[i] > 1e-11) CHECK(coarse[i] / fine[i] > 8);
  }
}
