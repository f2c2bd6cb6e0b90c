// Training the autoregressive samplers of Ising spins through the shared trainer: REINFORCE reaches the
// exact free energy on 4 x 4 (the importance-sampling estimate within errors of Kaufman's, the variational
// one above it), annealing follows VAN's schedule, and frozen (transferred) parameters stay as they were.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "autoregressive/han.hpp"
#include "autoregressive/symmetrized.hpp"
#include "lattice/ising_action.hpp"
#include "train/evaluate.hpp"
#include "train/gradient_estimator.hpp"
#include "train/trainer.hpp"

using namespace latflow;

namespace {
TrainOptions options(std::int64_t steps) {
  TrainOptions o;
  o.steps = steps;
  o.batch = 256;
  o.lr = 0.01;
  o.schedule = "constant";
  o.eval_every = 0;
  o.checkpoint_every = steps;
  return o;
}
}  // namespace

TEST_CASE("annealing scales the action by 1 - r^(k+1), and not at all when off", "[train][autoregressive]") {
  TrainOptions o;
  CHECK(o.action_scale_at(0) == 1.0);
  o.anneal = 0.9;
  CHECK(o.action_scale_at(0) == Approx(0.1));
  CHECK(o.action_scale_at(1) == Approx(0.19));
  CHECK(o.action_scale_at(1000) == Approx(1.0));
}

TEST_CASE("a HAN trained by REINFORCE reaches the exact free energy of the 4x4 Ising model",
          "[train][autoregressive]") {
  torch::manual_seed(3);
  const Lattice lattice = Lattice::square(4);
  const auto action = std::make_shared<IsingAction>(IsingAction::from_beta(0.3));
  const SamplerPtr han = Symmetrized(Han(HanOptions(4)).ptr(), SymmetrizedOptions().z2(true)).ptr();
  han->to(torch::kFloat64);
  TrainOptions o = options(300);
  o.anneal = 0.95;
  Trainer trainer(han, action, std::make_shared<ReinforceEstimator>(), lattice, o, {});
  trainer.run("", "");

  EvaluationOptions eo;
  eo.n = 16384;
  eo.batch = 4096;
  const nlohmann::json j = evaluate_model(*han, *action, lattice, eo);
  const auto& f = j["free_energy"];
  INFO(f.dump() << ", ESS " << j["ess"]);
  const double exact = f["exact"].get<double>();
  const double fi = f["importance"]["value"].get<double>(), ei = f["importance"]["error"].get<double>();
  const double fv = f["variational"]["value"].get<double>(), ev = f["variational"]["error"].get<double>();
  CHECK(std::abs(fi - exact) < 4 * ei);
  CHECK(fv > exact - 4 * ev);
  // Trained, not just exact: the bound is within 1% and most samples count.
  CHECK((fv - exact) / std::abs(exact) < 0.01);
  CHECK(j["ess"].get<double>() > 0.5);
  for (const char* key : {"energy", "specific_heat"}) {
    INFO(key);
    const auto& m = j["observables"][key];
    CHECK(std::abs(m["value"].get<double>() - j["exact"][key].get<double>()) < 4 * m["error"].get<double>());
  }
}

TEST_CASE("training leaves the parameters that a transfer froze unchanged", "[train][autoregressive]") {
  torch::manual_seed(5);
  const auto action = std::make_shared<IsingAction>(IsingAction::from_beta(0.4));
  Han small(HanOptions(4));
  auto big = std::make_shared<HanImpl>(HanOptions(8));
  big->initialize_from(*small, /*freeze=*/true);
  std::vector<at::Tensor> frozen, trained;
  for (const auto& p : big->parameters()) (p.requires_grad() ? trained : frozen).push_back(p.detach().clone());
  REQUIRE(!frozen.empty());
  REQUIRE(!trained.empty());
  Trainer trainer(big, action, std::make_shared<ReinforceEstimator>(), Lattice::square(8), options(3), {});
  trainer.run("", "");
  std::size_t i = 0, j = 0;
  bool any_changed = false;
  for (const auto& p : big->parameters()) {
    if (p.requires_grad())
      any_changed = any_changed || !torch::equal(p, trained[j++]);
    else
      CHECK(torch::equal(p, frozen[i++]));
  }
  CHECK(any_changed);
}
