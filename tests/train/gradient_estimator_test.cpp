// The REINFORCE estimator is unbiased: its expected gradient equals the reparameterisation gradient (both
// are grad KL), tested with stated power, and it trains.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "../flows/test_models.hpp"
#include "lattice/phi4_action.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

using namespace latflow;

namespace {

/// The gradient estimate of one batch, flattened over all parameters.
at::Tensor batch_gradient(SamplerImpl& flow, const GradientEstimator& estimator, const Action& action, std::int64_t B,
                          const Lattice& lattice) {
  flow.zero_grad();
  estimator(flow, action, B, lattice).surrogate.backward();
  std::vector<at::Tensor> parts;
  for (const auto& p : flow.parameters()) parts.push_back(p.grad().flatten());
  return torch::cat(parts);
}

/// Mean and variance of the projections u . g over M batches.
std::pair<double, double> projected_moments(SamplerImpl& flow, const GradientEstimator& estimator, const Action& action,
                                            std::int64_t B, std::int64_t M, const Lattice& lattice, const at::Tensor& u) {
  std::vector<double> x;
  for (std::int64_t m = 0; m < M; ++m) x.push_back(batch_gradient(flow, estimator, action, B, lattice).dot(u).item<double>());
  double mean = 0, var = 0;
  for (double v : x) mean += v / static_cast<double>(M);
  for (double v : x) var += (v - mean) * (v - mean) / static_cast<double>(M - 1);
  return {mean, var};
}

}  // namespace

TEST_CASE("REINFORCE with the leave-one-out baseline is unbiased: the expected gradient = the reparameterisation gradient",
          "[train][estimators]") {
  // A small coupling flow on 2 x 2 sites, moved away from the identity so that grad KL is not zero.
  const Lattice lattice = Lattice::square(2);
  const RunCard card = parse_runcard("", "", {"lattice.L=2", "model.type=coupling", "model.prior=normal",
                                              "model.coupling_layers=2", "model.hidden_channels=3",
                                              "model.hidden_layers=1", "model.dtype=float64"});
  torch::manual_seed(3);
  SamplerPtr flow = model_registry().create("coupling", card.config);
  flow->to(torch::kFloat64);
  testing::randomise(*flow, 0.1, 4);
  const Phi4Action action = Phi4Action::from_canonical(0.5, 0.2);
  const auto reparam = estimator_registry().create("reparam");
  const auto reinforce = estimator_registry().create("reinforce");

  // The direction to compare along: the reparameterisation gradient from an independent pilot run.
  const std::int64_t B = 2, M = 1500;
  at::Tensor u = torch::zeros_like(batch_gradient(*flow, *reparam, action, B, lattice));
  for (int m = 0; m < 100; ++m) u += batch_gradient(*flow, *reparam, action, 64, lattice);
  u /= u.norm();

  const auto [mean_p, var_p] = projected_moments(*flow, *reparam, action, B, M, lattice, u);
  const auto [mean_r, var_r] = projected_moments(*flow, *reinforce, action, B, M, lattice, u);
  const double se = std::sqrt(var_p / M + var_r / M);
  INFO("u . grad: reparameterisation " << mean_p << " +- " << std::sqrt(var_p / M) << ", REINFORCE " << mean_r
                                       << " +- " << std::sqrt(var_r / M));
  REQUIRE(std::abs(mean_p) > 10 * std::sqrt(var_p / M));  // a gradient clearly different from 0
  // Unbiased: |difference| < 4 standard errors (false alarm probability 6e-5).
  CHECK(std::abs(mean_r - mean_p) < 4 * se);
  // Power: the batch-mean baseline that includes the sample itself scales the gradient by (B-1)/B = 1/2.
  // The same 4-sigma test rejects that estimator (on these batches its bias is about 8 standard errors,
  // so it would be rejected with probability > 0.999).
  const double factor = static_cast<double>(B - 1) / static_cast<double>(B);
  const double se_biased = std::sqrt(var_p / M + factor * factor * var_r / M);
  CHECK(std::abs(factor * mean_r - mean_p) > 4 * se_biased);
}

TEST_CASE("REINFORCE trains: the reverse KL falls", "[train][estimators]") {
  torch::manual_seed(8);
  const RunCard card = testing::tiny_cnf_card({"train.steps=120", "train.lr=0.02", "train.batch=64",
                                               "train.estimator=reinforce", "train.eval_every=0"});
  SamplerPtr flow = model_registry().create("operator_cnf", card.config);
  flow->to(torch::kFloat64);
  const auto action = std::make_shared<Phi4Action>(Phi4Action::from_canonical(-4.0, 6.008));
  std::vector<double> losses;
  Monitor m;
  m.on_step = [&](const nlohmann::json& r) { losses.push_back(r["loss"].get<double>()); };
  Trainer t(flow, action, estimator_registry().create("reinforce"), Lattice::square(4),
            TrainOptions::from_config(card.config), m);
  const TrainResult r = t.run("", "");
  REQUIRE(losses.size() == 120);
  // Mean and standard error of the loss over the first and the last 20 steps.
  const auto window = [&](std::size_t begin) {
    double mean = 0, var = 0;
    for (std::size_t i = begin; i < begin + 20; ++i) mean += losses[i] / 20;
    for (std::size_t i = begin; i < begin + 20; ++i) var += (losses[i] - mean) * (losses[i] - mean) / 19;
    return std::make_pair(mean, std::sqrt(var / 20));
  };
  const auto [first, se_first] = window(0);
  const auto [last, se_last] = window(100);
  INFO("loss over the first 20 steps " << first << " +- " << se_first << ", over the last 20 " << last << " +- "
                                       << se_last);
  CHECK(first - last > 3 * std::hypot(se_first, se_last));
  const auto& ev = r.last_eval["eval"];
  CHECK(ev["kl"]["value"].get<double>() < 1.0);
}
