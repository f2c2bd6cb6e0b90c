#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <memory>
#include <set>

#include "core/error.hpp"
#include "operators/local_operator.hpp"
#include "operators/operator_testing.hpp"

using namespace latflow;
using namespace latflow::testing;

TEST_CASE("local kernel is tied over the D4 orbits of the offsets", "[operators][local]") {
  auto op = std::dynamic_pointer_cast<LocalOperatorImpl>(random_operator("local", 2));
  REQUIRE(op);
  CHECK(op->orbits() == 6);
  const torch::Tensor k = op->kernel(0.3);
  REQUIRE(k.sizes() == torch::IntArrayRef{3, 5, 5});
  CHECK(max_abs_diff(k, k.transpose(1, 2)) == 0.0);
  CHECK(max_abs_diff(k, k.flip({1})) == 0.0);
  CHECK(max_abs_diff(k, k.flip({2})) == 0.0);
  // Random weights: one distinct value per orbit (0,0) (1,0) (1,1) (2,0) (2,1) (2,2).
  const auto ka = k.accessor<double, 3>();
  for (std::int64_t f = 0; f < 3; ++f) {
    std::set<double> values;
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) values.insert(ka[f][i][j]);
    CHECK(values.size() == 6);
    CHECK(ka[f][2][2] == op->coefficients(0.3)[f][0].item<double>());
  }
}

TEST_CASE("local operator equals its position-space convolution", "[operators][local]") {
  for (const std::int64_t R : {1, 2}) {
    auto op = std::dynamic_pointer_cast<LocalOperatorImpl>(random_operator("local", R));
    const std::int64_t F = op->options.channels(), T = 2 * R + 1, L = 2 * R + 3;
    INFO("R = " << R << " on " << T << "x" << L);
    torch::NoGradGuard no_grad;
    const double t = 0.8;
    const torch::Tensor phi = torch::randn({2, T, L}, torch::kFloat64);
    const torch::Tensor k = op->kernel(t);
    const torch::Tensor g = op->features(phi);
    const auto ka = k.accessor<double, 3>();
    const auto ga = g.accessor<double, 4>();
    torch::Tensor expected = torch::zeros({2, T, L}, torch::kFloat64);
    auto ea = expected.accessor<double, 3>();
    // v(x) = sum_{|r_mu| <= R} sum_f K_f(r) g_f(x - r), periodic; at T = 2R + 1 every site is in range once.
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::int64_t x0 = 0; x0 < T; ++x0)
        for (std::int64_t x1 = 0; x1 < L; ++x1)
          for (std::int64_t r0 = -R; r0 <= R; ++r0)
            for (std::int64_t r1 = -R; r1 <= R; ++r1)
              for (std::int64_t f = 0; f < F; ++f)
                ea[b][x0][x1] += ka[f][r0 + R][r1 + R] * ga[b][f][(x0 - r0 + T) % T][(x1 - r1 + L) % L];
    const auto out = op->forward(t, phi);
    CHECK(max_abs(expected) > 0.1);
    CHECK(max_abs_diff(out.v, expected) < 1e-12 * max_abs(expected));
  }
}

TEST_CASE("local operator parameters and lattice limits", "[operators][local]") {
  LocalOperator op(LocalOperatorOptions().channels(4).frequencies(3).kernel_radius(3).time_modes(1));
  std::int64_t n = 0;
  for (const auto& p : op->parameters()) n += p.numel();
  CHECK(op->orbits() == 10);
  CHECK(n == 4 * (3 + 1) + 3 + 4 * 10 * (2 * 1 + 1));  // mixing, omega, time-Fourier weights
  CHECK(op->parameters().size() == 3);

  op->forward(0.0, torch::zeros({1, 7, 7}));
  CHECK_THROWS_AS(op->forward(0.0, torch::zeros({1, 6, 7})), UserError);
  CHECK_THROWS_AS(op->forward(0.0, torch::zeros({1, 7, 6})), UserError);

  Config cfg = operator_config();
  cfg.set("model.kernel_radius", std::int64_t{0});
  CHECK_THROWS_AS(operator_registry().create("local", cfg), UserError);
}
