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
  std::vector<std::string> warnings;
  std::int64_t steps_seen = 0;
  Monitor m;
  m.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  m.on_step = [&](const nlohmann::json&) { ++steps_seen; };
  Trainer t(flow, target(), estimator_registry().create("reparam"), kLattice, options(20, 1e-9, 50), m);
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
