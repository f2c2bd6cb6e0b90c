// The solver error an evaluation reports, checked against a vector field whose flow and log-density are
// known in closed form (v = a phi^3; tests/flows/test_models.hpp).
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "../flows/test_models.hpp"
#include "lattice/observables.hpp"
#include "lattice/phi4_action.hpp"
#include "train/evaluate.hpp"

using namespace latflow;

namespace {

const Lattice kLattice = Lattice::square(4);

struct Truth {
  double mean_abs_dlogw = 0;    ///< mean over samples of |log w (model's solve) - log w (exact flow)|
  double abs_magnetization = 0; ///< <|M|> reweighted, on the exact flow's ensemble
  double m2 = 0;
};

/// The exact counterpart of what evaluate_model computed after torch::manual_seed(seed): the same base
/// samples, transported by the model's solver and by the closed-form flow.
Truth truth(FlowImpl& flow, const testing::CubicOperatorImpl& op, const Action& action, std::int64_t n,
            std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  const at::Tensor z = flow.prior().sample(n, kLattice, flow.tensor_options());
  const Density start{z, flow.prior().log_prob(z)};
  const Density h = flow.transform().forward(start);
  const Density exact = op.exact(start, 1.0);
  const at::Tensor lw_h = -action.action(h.phi) - h.logq, lw_x = -action.action(exact.phi) - exact.logq;
  const at::Tensor lw = lw_x.contiguous();
  const std::vector<double> log_w(lw.data_ptr<double>(), lw.data_ptr<double>() + lw.numel());
  const ObservableReport r = measure(exact.phi, log_w, 32);
  return {(lw_h - lw_x).abs().mean().item<double>(), r.abs_magnetization.value, r.m2.value};
}

/// The density of the cubic flow of coefficient a at t = 1 as a target: S = -log q, with
/// phi0^2 = phi^2 / (1 + 2 a phi^2) and log q(phi) = sum_x [-phi0^2 / 2 - log(2 pi) / 2 - (3/2) log(1 + 2 a phi^2)].
class ExactFlowTarget : public Action {
 public:
  explicit ExactFlowTarget(double a) : a_(a) {}
  std::string name() const override { return "exact-flow"; }
  std::vector<std::int64_t> config_shape(const Lattice& l) const override { return l.shape(); }
  at::Tensor action(const at::Tensor& phi) const override {
    const at::Tensor u = 1 + 2 * a_ * phi.pow(2);
    return -(-0.5 * phi.pow(2) / u - 0.5 * std::log(2 * M_PI) - 1.5 * torch::log(u)).flatten(1).sum(1);
  }
  at::Tensor force(const at::Tensor& phi) const override {
    const at::Tensor x = phi.detach().requires_grad_(true);
    return torch::autograd::grad({action(x).sum()}, {x})[0];
  }
  nlohmann::json couplings() const override { return {{"a", a_}}; }
  // A scalar field: measured like phi^4's.
  std::string field_name() const override { return "phi"; }
  nlohmann::json measure(const at::Tensor& phi, const std::vector<double>& log_w, int bins) const override {
    return latflow::measure(phi, log_w, bins).to_json();
  }
  std::vector<std::pair<std::string, at::Tensor>> chain_observables(const at::Tensor& phi) const override {
    return {{"abs_magnetization", magnetization(phi).abs()}};
  }
  std::vector<std::string> compared_observables() const override { return {"m2"}; }

 private:
  double a_;
};

}  // namespace

// Richardson's estimate is asymptotic: it becomes exact as the step shrinks, so it is checked from 4 RK4
// steps on (at 2 steps it is still within a factor 1.5).
TEST_CASE("the reported solver error of a fixed-step solve matches the exact error", "[train][solver-error]") {
  const Phi4Action action = Phi4Action::from_canonical(-1.0, 0.5);
  EvaluationOptions o;
  o.n = 2048;
  o.batch = 1024;
  o.bins = 32;
  for (const std::int64_t steps : {4, 8, 16}) {
    INFO("rk4 with " << steps << " steps");
    odes::SolverOptions rk4;
    rk4.steps = steps;
    auto [flow, op] = testing::cubic_flow(-0.1, rk4);
    torch::manual_seed(17);
    const nlohmann::json ev = evaluate_model(*flow, action, kLattice, o);
    const Truth t = truth(*flow, *op, action, o.n, 17);
    const auto& se = ev["solver_error"];
    REQUIRE(se["checked"].get<bool>());
    CHECK(se["richardson_factor"].get<double>() == Approx(16.0 / 15.0));
    const double reported = se["log_w"]["mean_abs"].get<double>();
    INFO("|d log w|: reported " << reported << ", exact " << t.mean_abs_dlogw);
    REQUIRE(t.mean_abs_dlogw > 1e-9);  // a real error to estimate
    CHECK(reported == Approx(t.mean_abs_dlogw).epsilon(0.1));
    // Each estimate's systematic error is its distance from the exact flow's estimate.
    for (const auto& [key, exact] : {std::pair<const char*, double>{"abs_magnetization", t.abs_magnetization},
                                     {"m2", t.m2}}) {
      const auto& e = ev["observables"][key];
      const double true_bias = std::abs(e["value"].get<double>() - exact);
      INFO(key << ": systematic " << e["systematic"].get<double>() << ", exact bias " << true_bias);
      CHECK(e["systematic"].get<double>() == Approx(true_bias).epsilon(0.2));
    }
  }
}

TEST_CASE("the solver check fails for a coarse solve and passes for a fine one", "[train][solver-error]") {
  // A target close to the flow (a good sampler, so small statistical errors), not equal to it (where every
  // statistical error vanishes and no bias at all would be tolerated).
  const ExactFlowTarget action(-0.13);
  EvaluationOptions o;
  o.n = 1024;
  o.bins = 32;
  odes::SolverOptions coarse, fine;
  coarse.steps = 2;
  fine.steps = 64;
  auto [bad, bad_op] = testing::cubic_flow(-0.1, coarse);
  auto [good, good_op] = testing::cubic_flow(-0.1, fine);
  torch::manual_seed(3);
  const auto ev_bad = evaluate_model(*bad, action, kLattice, o);
  torch::manual_seed(3);
  const auto ev_good = evaluate_model(*good, action, kLattice, o);
  CHECK_FALSE(ev_bad["solver_error"]["ok"].get<bool>());
  CHECK(ev_bad["solver_error"]["ratio"].get<double>() > o.max_solver_error_ratio);
  CHECK(ev_good["solver_error"]["ok"].get<bool>());
  CHECK(ev_good["solver_error"]["ratio"].get<double>() < 0.01);
  CHECK(ev_good["ess"].get<double>() > 0.5);  // a good sampler: its errors are small
}

TEST_CASE("adaptive evaluation: the error is bounded by the tolerance and the evaluations are counted",
          "[train][solver-error]") {
  const Phi4Action action = Phi4Action::from_canonical(-1.0, 0.5);
  odes::SolverOptions rk4;
  rk4.steps = 2;
  auto [flow, op] = testing::cubic_flow(-0.1, rk4);
  EvaluationOptions o;
  o.n = 1024;
  o.bins = 32;
  o.solver = "adaptive";
  o.rtol = 1e-9;
  o.atol = 1e-11;
  torch::manual_seed(5);
  const nlohmann::json ev = evaluate_model(*flow, action, kLattice, o);
  const auto& se = ev["solver_error"];
  CHECK(se["solver"]["method"] == "dopri5");
  CHECK(se["solver"]["nfe_per_solve"].get<double>() > 6);
  CHECK(se["ok"].get<bool>());

  // The exact error of the adaptive solve: far below what the 2-step RK4 model would have, and within a
  // few times the reported estimate.
  odes::SolverOptions dopri5 = rk4;
  dopri5.method = "dopri5";
  dopri5.rtol = o.rtol;
  dopri5.atol = o.atol;
  auto [same, same_op] = testing::cubic_flow(-0.1, dopri5);
  const Truth t = truth(*same, *same_op, action, o.n, 5);
  const double reported = se["log_w"]["mean_abs"].get<double>();
  INFO("adaptive |d log w|: reported " << reported << ", exact " << t.mean_abs_dlogw);
  CHECK(t.mean_abs_dlogw < 1e-6);
  CHECK(t.mean_abs_dlogw <= 3 * reported);
  // The solver of the model itself is back in place afterwards.
  auto* cnf = dynamic_cast<ContinuousFlowImpl*>(&flow->transform());
  CHECK(cnf->solver().method == "rk4");
}

TEST_CASE("flows without an ODE report no solver error", "[train][solver-error]") {
  const RunCard card = parse_runcard("", "", {"lattice.L=4", "model.type=coupling", "model.coupling_layers=2",
                                              "model.dtype=float64"});
  SamplerPtr flow = model_registry().create("coupling", card.config);
  flow->to(torch::kFloat64);
  EvaluationOptions o;
  o.n = 256;
  o.bins = 16;
  const auto ev = evaluate_model(*flow, Phi4Action::from_canonical(-1.0, 0.5), kLattice, o);
  CHECK_FALSE(ev["solver_error"]["applies"].get<bool>());
  CHECK_FALSE(ev["observables"]["m2"].contains("systematic"));
}

TEST_CASE("systematic errors attach to every estimate with a counterpart", "[train][solver-error]") {
  nlohmann::json a = {{"x", {{"value", 1.0}, {"error", 0.1}}},
                      {"undefined", nullptr},
                      {"list", {{{"value", 2.0}, {"error", 0.5}}, {{"t", 1}, {"value", 3.0}, {"error", 1.0}}}}};
  const nlohmann::json b = {{"x", {{"value", 1.05}, {"error", 0.1}}},
                            {"undefined", {{"value", 0.0}, {"error", 1.0}}},
                            {"list", {{{"value", 2.5}, {"error", 0.5}}, {{"t", 2}, {"value", 3.0}, {"error", 1.0}}}}};
  const auto worst = add_systematic_errors(a, b, 2.0);
  CHECK(a["x"]["systematic"].get<double>() == Approx(0.1));
  CHECK(a["list"][0]["systematic"].get<double>() == Approx(1.0));
  CHECK_FALSE(a["list"][1].contains("systematic"));  // a different t: not the same quantity
  CHECK(a["undefined"].is_null());
  CHECK(worst.first == Approx(2.0));
  CHECK(worst.second == "list[0]");
}
