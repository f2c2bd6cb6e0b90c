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
  FlowPtr flow = flow_registry().create("operator_cnf", card.config);
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

TEST_CASE("CNF round trip and log-density agree forwards and backwards", "[flows][cnf]") {
  torch::manual_seed(4);
  for (const char* method : {"rk4", "dopri5"}) {
    FlowPtr flow = tiny_flow({std::string("solver.method=") + method, "solver.steps=16"});
    testing::randomise(*flow, 0.3, 11);
    const at::Tensor z = flow->prior().sample(6, Lattice::square(4), flow->tensor_options());
    auto& T = flow->transform();
    const Density x{z, flow->prior().log_prob(z)};
    const Density y = T.forward(x);
    const Density back = T.reverse(y);
    INFO(method);
    // Fixed steps: reverse-time RK4 is not the exact inverse of forward RK4; the mismatch is the
    // global error O(dt^4), which for 16 steps of this smooth field is below 1e-7.
    CHECK((back.phi - z).abs().max().item<double>() < 1e-7);
    CHECK((back.logq - x.logq).abs().max().item<double>() < 1e-7);
    CHECK(torch::allclose(flow->log_prob(y.phi), y.logq, 0, 1e-7));
  }
}

TEST_CASE("CNF log-det equals the log|det| of the autograd Jacobian", "[flows][cnf]") {
  torch::manual_seed(5);
  FlowPtr flow = tiny_flow({"solver.steps=8"});
  testing::randomise(*flow, 0.3, 12);
  const std::int64_t V = 16;
  const at::Tensor z = flow->prior().sample(1, Lattice::square(4), flow->tensor_options()).requires_grad_(true);
  const Density y = flow->transform().forward({z, torch::zeros({1}, z.options())});
  // The discretised flow map is what is sampled, so its Jacobian must match the integrated divergence
  // to within the solver's error on log-det, not exactly: compare to 1e-6 with 8 RK4 steps.
  at::Tensor J = torch::zeros({V, V}, z.options());
  const at::Tensor flat = y.phi.reshape({V});
  for (std::int64_t i = 0; i < V; ++i)
    J[i] = torch::autograd::grad({flat[i]}, {z}, {}, true)[0].reshape({V});
  const double logdet = std::get<1>(torch::linalg_slogdet(J)).item<double>();
  CHECK(-y.logq.item<double>() == Approx(logdet).margin(1e-6));
}

TEST_CASE("base = target (free theory) gives ESS 1, KL 0 and the exact log Z", "[flows][cnf]") {
  torch::manual_seed(6);
  const double m0sq = 0.7;
  const RunCard card = testing::tiny_cnf_card({"lattice.m2=" + std::to_string(m0sq), "lattice.lambda=0",
                                               "model.prior_m2=" + std::to_string(m0sq)});
  FlowPtr flow = flow_registry().create("operator_cnf", card.config);
  flow->to(torch::kFloat64);
  const ActionPtr action = action_registry().create("phi4", card.config);
  EvaluationOptions o;
  o.n = 256;
  o.batch = 128;
  o.bins = 16;
  const auto ev = evaluate_flow(*flow, *action, Lattice::square(4), o);
  CHECK(ev["ess"].get<double>() == Approx(1.0).margin(1e-12));
  CHECK(ev["acceptance"].get<double>() == 1.0);
  double log_z0 = 8.0 * std::log(M_PI);  // (V/2) log pi with V = 16
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      log_z0 -= 0.5 * std::log(4 * std::pow(std::sin(M_PI * a / 4), 2) + 4 * std::pow(std::sin(M_PI * b / 4), 2) + m0sq);
  CHECK(ev["log_z"]["value"].get<double>() == Approx(log_z0).margin(1e-9));
  CHECK(ev["kl"]["value"].get<double>() == Approx(0.0).margin(1e-9));
}
