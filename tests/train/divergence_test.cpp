// Training survives ODE solves that really diverge: the step is skipped, fresh samples are drawn, the
// skipped steps are counted, and after max_bad_steps in a row training stops with the last good state.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "../flows/test_models.hpp"
#include "lattice/phi4_action.hpp"
#include "train/checkpoint.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

using namespace latflow;
namespace fs = std::filesystem;

namespace {
TrainOptions options(std::int64_t steps, double lr, std::int64_t max_bad) {
  TrainOptions o;
  o.steps = steps;
  o.batch = 8;
  o.lr = lr;
  o.schedule = "constant";
  o.clip = 0;
  o.eval_every = 0;
  o.eval_batch = 16;
  o.checkpoint_every = 1;
  o.max_bad_steps = max_bad;
  return o;
}
const Lattice kLattice = Lattice::square(4);
std::shared_ptr<Phi4Action> target() { return std::make_shared<Phi4Action>(Phi4Action::from_canonical(-2.0, 1.0)); }
}  // namespace

TEST_CASE("a batch whose solve diverges is skipped with fresh samples, and training carries on", "[train][divergence]") {
  // a = 0.05: a sample with |phi0| > 3.16 blows up before t = 1, so about one batch of 8 x 16 sites in
  // six diverges; the adaptive solver meets the blow-up and gives up (step-size underflow).
  odes::SolverOptions dopri5;
  dopri5.method = "dopri5";
  dopri5.steps = 4;
  auto [flow, op] = testing::cubic_flow(0.05, dopri5);
  torch::manual_seed(5);
  TrainOptions o = options(20, 1e-9, 50);
  o.max_solver_error = 0;  // near a blow-up log w is inaccurate too: the check would stop this run (below)
  std::vector<std::string> warnings;
  std::int64_t steps_seen = 0;
  Monitor m;
  m.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  m.on_step = [&](const nlohmann::json&) { ++steps_seen; };
  Trainer t(flow, target(), estimator_registry().create("reparam"), kLattice, o, m);
  const TrainResult r = t.run("", "");
  CHECK(r.stop_reason == "steps");
  CHECK(r.steps == 20);
  CHECK(steps_seen == 20);
  REQUIRE(r.bad_steps >= 2);
  const auto skipped = std::count_if(warnings.begin(), warnings.end(),
                                     [](const std::string& w) { return w.find("step skipped") != std::string::npos; });
  CHECK(skipped == r.bad_steps);
  CHECK_THAT(warnings.front(), Catch::Contains("the ODE solve diverged") && Catch::Contains("step skipped"));
  CHECK_THAT(r.last_bad_step, Catch::Contains("diverged"));
}

TEST_CASE("a flow driven into divergence stops after max_bad_steps with its last good state saved",
          "[train][divergence]") {
  // An Adam step of size lr = 5 throws a from 0 to about +-5, where fixed-step RK4 overflows for every
  // batch (a > 0: the field blows up; a < 0: the steps are far outside RK4's stability region).
  odes::SolverOptions rk4;
  rk4.steps = 4;
  auto [flow, op] = testing::cubic_flow(0.0, rk4);
  torch::manual_seed(6);
  const std::string path = (fs::temp_directory_path() / "latflow-diverge.pt").string();
  fs::remove(path);
  std::vector<double> after_good;
  Monitor m;
  m.on_step = [&](const nlohmann::json&) { after_good.push_back(op->coefficient.item<double>()); };
  Trainer t(flow, target(), estimator_registry().create("reparam"), kLattice, options(100, 5.0, 4), m);
  const TrainResult r = t.run(path, "card");
  CHECK(r.stop_reason == "diverged");
  REQUIRE(r.steps == 1);
  CHECK(r.bad_steps == 4);
  CHECK(std::abs(after_good.back()) > 1);
  CHECK(op->coefficient.item<double>() == after_good.back());  // skipped steps changed nothing

  const CheckpointMeta meta = read_checkpoint_meta(path);
  CHECK(meta.step == 1);
  CHECK(meta.stop_reason == "diverged");
  CHECK(meta.bad_steps == 4);
  auto [reloaded, reloaded_op] = testing::cubic_flow(0.0, rk4);
  load_checkpoint(path, *reloaded, nullptr, false);
  CHECK(reloaded_op->coefficient.item<double>() == after_good.back());
}

namespace {
/// Mean |log w| error of the flow's own solve against the exact cubic flow, on n base samples.
double true_solver_error(FlowImpl& flow, const testing::CubicOperatorImpl& op, const Action& action, std::int64_t n) {
  torch::NoGradGuard no_grad;
  const at::Tensor z = flow.prior().sample(n, kLattice, flow.tensor_options());
  const Density start{z, flow.prior().log_prob(z)};
  const Density h = flow.transform().forward(start), exact = op.exact(start, 1.0);
  return ((action.action(exact.phi) + exact.logq) - (action.action(h.phi) + h.logq)).abs().mean().item<double>();
}
}  // namespace

TEST_CASE("a continuous flow that its solve no longer resolves stops training, and its checkpoint is kept",
          "[train][divergence]") {
  // a = -0.3 with one RK4 step: the contraction is too fast for the step, and log w is off by nats per
  // sample (measured against the exact flow first). The learning rate is tiny, so the flow stays
  // as badly resolved as it starts.
  odes::SolverOptions one_step;
  one_step.steps = 1;
  auto [flow, op] = testing::cubic_flow(-0.3, one_step);
  const auto action = target();
  torch::manual_seed(7);
  REQUIRE(true_solver_error(*flow, *op, *action, 256) > 2.0);

  const std::string path = (fs::temp_directory_path() / "latflow-unsound.pt").string();
  fs::remove(path);
  TrainOptions o = options(100, 1e-9, 10);
  o.eval_every = 2;
  o.max_solver_error = 1.0;
  std::vector<nlohmann::json> evals;
  std::vector<std::string> warnings;
  Monitor m;
  m.on_eval = [&](const nlohmann::json& e) { evals.push_back(e); };
  m.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  Trainer t(flow, action, estimator_registry().create("reparam"), kLattice, o, m);
  const TrainResult r = t.run(path, "card");
  CHECK(r.stop_reason == "diverged");
  CHECK(r.steps == 2);
  REQUIRE(evals.size() == 1);
  CHECK(evals[0]["eval"]["solver_error"].get<double>() > 1.0);
  CHECK_THAT(r.stop_detail, Catch::Contains("no longer resolves") && Catch::Contains("holds step 1") &&
                                Catch::Contains("had not passed"));
  REQUIRE(warnings.size() == 1);
  CHECK(read_checkpoint_meta(path).step == 1);  // step 2, the one that failed the check, was not saved

  SECTION("with the check off, the same run trains on") {
    o.max_solver_error = 0;
    o.steps = 4;
    evals.clear();
    Trainer off(flow, action, estimator_registry().create("reparam"), kLattice, o, m);
    const TrainResult r_off = off.run("", "");
    CHECK(r_off.stop_reason == "steps");
    REQUIRE(evals.size() == 2);
    CHECK_FALSE(evals[0]["eval"].contains("solver_error"));
  }
}

TEST_CASE("a well-resolved continuous flow passes the trainer's solver check", "[train][divergence]") {
  odes::SolverOptions rk4;
  rk4.steps = 32;
  auto [flow, op] = testing::cubic_flow(-0.05, rk4);
  const auto action = target();
  torch::manual_seed(8);
  const double truth = true_solver_error(*flow, *op, *action, 256);
  REQUIRE(truth < 1e-4);
  TrainOptions o = options(4, 1e-9, 10);
  o.eval_every = 2;
  std::vector<nlohmann::json> evals;
  Monitor m;
  m.on_eval = [&](const nlohmann::json& e) { evals.push_back(e); };
  Trainer t(flow, action, estimator_registry().create("reparam"), kLattice, o, m);
  const TrainResult r = t.run("", "");
  CHECK(r.stop_reason == "steps");
  REQUIRE(evals.size() == 2);
  for (const auto& e : evals) {
    const double estimate = e["eval"]["solver_error"].get<double>();
    CHECK(estimate > 0);
    CHECK(estimate < 10 * truth);  // the Richardson estimate is of the size of the true error
  }
}
