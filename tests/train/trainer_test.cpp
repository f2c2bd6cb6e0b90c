#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "../flows/test_models.hpp"
#include "lattice/registry.hpp"
#include "train/checkpoint.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

using namespace latflow;
namespace fs = std::filesystem;

namespace {
struct Setup {
  RunCard card;
  SamplerPtr flow;
  ActionPtr action;
  Setup(std::vector<std::string> sets, std::uint64_t seed) : card(testing::tiny_cnf_card(std::move(sets))) {
    torch::manual_seed(seed);
    flow = model_registry().create("operator_cnf", card.config);
    flow->to(torch::kFloat64);
    action = theory_registry().create("phi4", card.config);
  }
  Trainer trainer(Monitor m = {}) {
    return Trainer(flow, action, estimator_registry().create(card.config.get<std::string>("train.estimator")),
                   Lattice::square(4), TrainOptions::from_config(card.config), std::move(m));
  }
};
std::string temp_file(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "latflow-train-test";
  fs::create_directories(dir);
  fs::remove(dir / name);
  return (dir / name).string();
}
}  // namespace

TEST_CASE("learning-rate schedules", "[train]") {
  TrainOptions o;
  o.steps = 100;
  o.lr = 0.01;
  o.schedule = "cosine";
  CHECK(o.lr_at(0) == Approx(0.01));
  CHECK(o.lr_at(50) == Approx(0.005));
  CHECK(o.lr_at(100) == Approx(0.0).margin(1e-15));
  o.schedule = "exponential";
  o.decay_rate = 0.1;
  CHECK(o.lr_at(100) == Approx(0.001));
  CHECK(o.lr_at(50) == Approx(0.01 * std::sqrt(0.1)));
  o.schedule = "constant";
  CHECK(o.lr_at(77) == 0.01);
}

TEST_CASE("training lowers the reverse-KL loss", "[train]") {
  Setup s({"train.steps=40", "train.lr=0.02", "train.batch=32"}, 1);
  std::vector<double> losses;
  Monitor m;
  m.on_step = [&](const nlohmann::json& r) { losses.push_back(r["loss"].get<double>()); };
  s.trainer(m).run("", "");
  REQUIRE(losses.size() == 40);
  const double first = (losses[0] + losses[1] + losses[2] + losses[3] + losses[4]) / 5;
  const double last = (losses[35] + losses[36] + losses[37] + losses[38] + losses[39]) / 5;
  CHECK(last < first);
}

TEST_CASE("an interrupted and resumed run ends with the same weights", "[train][checkpoint]") {
  for (const char* estimator : {"reparam", "reinforce"}) {
    INFO(estimator);
    const std::vector<std::string> sets = {"train.steps=6", "train.eval_every=2", "train.eval_batch=16",
                                           std::string("train.estimator=") + estimator};
    Setup whole(sets, 7);
    whole.trainer().run(temp_file("whole.pt"), "card");

    Setup first(sets, 7);
    int steps = 0;
    Monitor stop_after_3;
    stop_after_3.on_step = [&](const nlohmann::json&) { ++steps; };
    stop_after_3.should_stop = [&] { return steps >= 3; };
    const std::string ckpt = temp_file("part.pt");
    const TrainResult r1 = first.trainer(stop_after_3).run(ckpt, "card");
    CHECK(r1.interrupted);
    CHECK(r1.steps == 3);

    torch::manual_seed(999);  // a different state everywhere: the checkpoint must restore all of it
    Setup second(sets, 999);
    Trainer t = second.trainer();
    t.resume_from(ckpt);
    const TrainResult r2 = t.run(ckpt, "card");
    CHECK(r2.steps == 6);
    const auto a = whole.flow->parameters(), b = second.flow->parameters();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
  }
}

// Atomicity, durability and checksums: tests/train/checkpoint_test.cpp.
TEST_CASE("checkpoints store the run card and why training stopped", "[train][checkpoint]") {
  Setup s({"train.steps=2"}, 2);
  const std::string path = temp_file("meta.pt");
  s.trainer().run(path, "[lattice]\nL = 4\n");
  CHECK(read_checkpoint_meta(path).stop_reason == "steps");
  const CheckpointMeta meta = read_checkpoint_meta(path);
  CHECK(meta.step == 2);
  CHECK(meta.runcard == "[lattice]\nL = 4\n");
  CHECK_THROWS_AS(read_checkpoint_meta(temp_file("missing.pt")), UserError);
}

namespace {
/// An action that turns non-finite: what a diverging model or a bad coupling produces.
class PoisonedAction : public Action {
 public:
  std::string name() const override { return "poisoned"; }
  std::vector<std::int64_t> config_shape(const Lattice& l) const override { return l.shape(); }
  at::Tensor action(const at::Tensor& phi) const override {
    return phi.sum({1, 2}) * std::numeric_limits<double>::quiet_NaN();
  }
  at::Tensor force(const at::Tensor& phi) const override { return torch::full_like(phi, NAN); }
  nlohmann::json couplings() const override { return nlohmann::json::object(); }
  std::string field_name() const override { return "phi"; }
  nlohmann::json measure(const at::Tensor&, const std::vector<double>&, int) const override { return {}; }
  std::vector<std::pair<std::string, at::Tensor>> chain_observables(const at::Tensor&) const override { return {}; }
  std::vector<std::string> compared_observables() const override { return {}; }
};
}  // namespace

TEST_CASE("non-finite losses never reach the weights", "[train]") {
  Setup s({"train.steps=50"}, 3);
  const std::string path = temp_file("nan.pt");
  CheckpointMeta start;
  start.runcard = "card";
  save_checkpoint(path, *s.flow, nullptr, start);
  std::vector<at::Tensor> before;
  for (const auto& p : s.flow->parameters()) before.push_back(p.clone());
  std::vector<std::string> warnings;
  Monitor m;
  m.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  Trainer t(s.flow, std::make_shared<PoisonedAction>(), estimator_registry().create("reparam"), Lattice::square(4),
            TrainOptions::from_config(s.card.config), m);
  const TrainResult r = t.run(path, "card");
  CHECK(r.stop_reason == "diverged");
  CHECK(r.steps == 0);
  CHECK(r.bad_steps == 10);
  CHECK(warnings.size() == 10);
  CHECK_THAT(r.last_bad_step, Catch::Contains("non-finite loss"));
  const auto after = s.flow->parameters();
  for (std::size_t i = 0; i < after.size(); ++i) CHECK(torch::equal(before[i], after[i]));
  const CheckpointMeta meta = read_checkpoint_meta(path);  // written at the stop, with the last good state
  CHECK(meta.step == 0);
  CHECK(meta.stop_reason == "diverged");
}

TEST_CASE("a target reached is remembered: resuming a finished run trains no further", "[train][checkpoint]") {
  // ESS >= 1e-6 holds at the first evaluation, so the run stops there.
  const std::vector<std::string> sets = {"train.steps=20", "train.eval_every=2", "train.target=0.000001"};
  const std::string ckpt = temp_file("target.pt");
  Setup first(sets, 31);
  const TrainResult r = first.trainer().run(ckpt, "card");
  REQUIRE(r.reached_target);
  CHECK(r.steps_to_target == 2);
  CHECK(r.steps == 2);
  const CheckpointMeta meta = read_checkpoint_meta(ckpt);
  CHECK(meta.target_step == 2);

  Setup again(sets, 32);
  Trainer t = again.trainer();
  t.resume_from(ckpt);
  const TrainResult resumed = t.run(ckpt, "card");
  CHECK(resumed.reached_target);
  CHECK(resumed.steps == 2);
  CHECK(resumed.steps_to_target == 2);
  CHECK(resumed.seconds_to_target == Approx(r.seconds_to_target));
  const auto a = first.flow->parameters(), b = again.flow->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
}

TEST_CASE("a confirming evaluation decides whether the target is reached", "[train]") {
  // The ESS of two samples is never below 1/2, so the periodic evaluation always meets the target; far from
  // the free theory (lambda = 50) the untrained flow's ESS on 512 samples does not.
  const std::vector<std::string> sets = {"train.steps=6", "train.eval_every=2", "train.eval_batch=2",
                                         "train.target=0.5", "lattice.lambda=50"};
  const auto run = [&sets](const std::string& confirm, std::vector<nlohmann::json>& evals) {
    std::vector<std::string> all = sets;
    all.push_back("train.target_confirm=" + confirm);
    Setup s(all, 41);
    Monitor m;
    m.on_eval = [&evals](const nlohmann::json& r) { evals.push_back(r); };
    return s.trainer(m).run(temp_file("confirm.pt"), "card");
  };
  std::vector<nlohmann::json> plain, confirmed;
  const TrainResult a = run("0", plain);
  CHECK(a.reached_target);
  CHECK(a.steps_to_target == 2);
  CHECK_FALSE(plain.front().contains("confirm"));
  const TrainResult b = run("512", confirmed);
  CHECK_FALSE(b.reached_target);
  CHECK(b.steps == 6);
  REQUIRE(confirmed.size() == 3);
  for (const auto& r : confirmed) {
    CHECK(r["eval"]["ess"].get<double>() >= 0.5);
    CHECK(r["confirm"]["ess"].get<double>() < 0.5);
  }
  // The confirmation draws from its own stream: the periodic evaluation is the same with or without it.
  CHECK(confirmed.front()["eval"] == plain.front()["eval"]);
}

TEST_CASE("a time budget stops training with a final evaluation", "[train]") {
  Setup s({"train.steps=100000", "train.eval_every=0", "train.max_seconds=0.5"}, 33);
  std::int64_t evaluations = 0;
  Monitor m;
  m.on_eval = [&](const nlohmann::json&) { ++evaluations; };
  const TrainResult r = s.trainer(m).run("", "");
  CHECK(r.steps > 0);
  CHECK(r.steps < 100000);
  CHECK(evaluations == 1);
  CHECK(r.last_eval["step"] == r.steps);
}

TEST_CASE("a run stopped by its time budget resumes exactly: the final evaluation does not shift the stream",
          "[train][checkpoint]") {
  const std::vector<std::string> sets = {"train.steps=9", "train.eval_every=3", "train.eval_batch=16"};
  Setup whole(sets, 41);
  whole.trainer().run(temp_file("budget-whole.pt"), "card");

  // Stopped by the budget after step 4 (not a multiple of eval_every), so the stop adds an evaluation.
  std::vector<std::string> budget = sets;
  budget.push_back("train.max_seconds=3");
  Setup first(budget, 41);
  std::int64_t evaluations = 0;
  Monitor slow_step_4;
  slow_step_4.on_step = [](const nlohmann::json& r) {
    if (r["step"] == 4) std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  };
  slow_step_4.on_eval = [&](const nlohmann::json&) { ++evaluations; };
  const std::string ckpt = temp_file("budget-part.pt");
  const TrainResult r1 = first.trainer(slow_step_4).run(ckpt, "card");
  REQUIRE(r1.stop_reason == "time");
  REQUIRE(r1.steps == 4);
  CHECK(evaluations == 2);  // at step 3, and the final one at step 4

  Setup second(sets, 999);
  Trainer t = second.trainer();  // no budget now
  t.resume_from(ckpt);
  const TrainResult r2 = t.run(ckpt, "card");
  CHECK(r2.steps == 9);
  const auto a = whole.flow->parameters(), b = second.flow->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
}

TEST_CASE("resuming a run that has ended does nothing", "[train][checkpoint]") {
  const std::vector<std::string> sets = {"train.steps=3", "train.eval_every=0"};
  Setup first(sets, 43);
  const std::string ckpt = temp_file("ended.pt");
  first.trainer().run(ckpt, "card");
  Setup again(sets, 44);
  std::int64_t evaluations = 0;
  Monitor m;
  m.on_eval = [&](const nlohmann::json&) { ++evaluations; };
  Trainer t = again.trainer(m);
  t.resume_from(ckpt);
  const TrainResult r = t.run(ckpt, "card");
  CHECK(r.already_finished);
  CHECK(r.stop_reason == "steps");
  CHECK(evaluations == 0);
  CHECK(finished_reason(3, 1.0, -1, TrainOptions::from_config(again.card.config)) == "steps");
  CHECK(finished_reason(2, 1.0, -1, TrainOptions::from_config(again.card.config)).empty());
}
