#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "lattice/u1_gauge_action.hpp"
#include "lattice/u1_gauge_field.hpp"

#include "lattice_testing.hpp"

using namespace latflow;

using testing::eps;
using testing::f64;
using testing::max_abs;
using testing::pi;

namespace {

// S_g = -beta sum_x cos(theta_P(x)) with the plaquette written out link by link.
double action_by_loops(const torch::Tensor& theta, double beta) {
  const int64_t T = theta.size(1), L = theta.size(2);
  const auto a = theta.accessor<double, 3>();
  double s = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t x = 0; x < L; ++x)
      s -= beta * std::cos(a[0][t][x] + a[1][(t + 1) % T][x] - a[0][t][(x + 1) % L] - a[1][t][x]);
  return s;
}

}  // namespace

TEST_CASE("U(1) gauge action equals the site-by-site definition", "[u1]") {
  torch::manual_seed(70);
  const U1GaugeAction action(2.0);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 5}, {2, 2}, {1, 3}}) {
    const auto theta = u1::haar_links(3, {T, L}, f64);
    const auto s = action.action(theta);
    REQUIRE(s.sizes() == torch::IntArrayRef{3});
    // V terms of size beta, each cos accurate to an ulp: the sum to V eps beta.
    for (int64_t b = 0; b < 3; ++b)
      CHECK(std::abs(s[b].item<double>() - action_by_loops(theta[b], 2.0)) <= 8 * T * L * 2.0 * eps);
  }
  // The ordered (cold) configuration has S = -beta V.
  CHECK(action.action(torch::zeros({1, 2, 3, 5}, f64)).item<double>() == -2.0 * 15);
}

TEST_CASE("U(1) gauge force equals autograd and finite differences", "[u1]") {
  torch::manual_seed(71);
  const U1GaugeAction action(1.7);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 5}, {2, 2}, {1, 3}}) {
    const auto theta = u1::haar_links(2, {T, L}, f64).requires_grad_(true);
    const auto grad = torch::autograd::grad({action.action(theta).sum()}, {theta})[0];
    const auto force = action.force(theta.detach());
    REQUIRE(force.sizes() == theta.sizes());
    INFO(T << "x" << L);
    // Both are sums of four terms beta sin(theta_P): a few ulp of 4 beta.
    CHECK(max_abs(force - grad) <= 16 * 4 * 1.7 * eps);

    const int64_t n = 2 * T * L;
    const double h = 1e-5;
    const auto base = theta.detach()[0].unsqueeze(0);
    const auto shift = h * torch::eye(n, f64).view({n, 2, T, L});
    const auto fd = ((action.action(base + shift) - action.action(base - shift)) / (2 * h)).view({2, T, L});
    // Truncation h^2 |S'''| / 6 <= 1e-10 * 4 beta / 6 and rounding eps V beta / h ~ 1e-9.
    CHECK(max_abs(force[0] - fd) <= 1e-10 * 4 * 1.7 + 16 * T * L * 1.7 * eps / h);
  }
  const auto f32 = u1::haar_links(2, {4, 4}, torch::TensorOptions().dtype(torch::kFloat32));
  CHECK(action.force(f32).dtype() == torch::kFloat32);
  CHECK(action.action(f32).dtype() == torch::kFloat32);
}

TEST_CASE("U(1) gauge action and force are gauge covariant", "[u1]") {
  torch::manual_seed(72);
  const U1GaugeAction action(2.0);
  const auto theta = u1::haar_links(8, {4, 6}, f64);
  const auto transformed = u1::gauge_transform(theta, 2 * pi * torch::rand({8, 4, 6}, f64));
  // Plaquettes change by rounding of ~5 pi; S sums V = 24 cosines.
  CHECK(max_abs(action.action(transformed) - action.action(theta)) <= 16 * 24 * 2.0 * 5 * pi * eps);
  CHECK(max_abs(action.force(transformed) - action.force(theta)) <= 16 * 4 * 2.0 * 5 * pi * eps);
}

TEST_CASE("U(1) gauge action at beta = 0 is the Haar measure", "[u1]") {
  const U1GaugeAction haar(0.0);
  const auto theta = u1::haar_links(4, {4, 4}, f64);
  CHECK(max_abs(haar.action(theta)) == 0);
  CHECK(max_abs(haar.force(theta)) == 0);
}

TEST_CASE("U(1) gauge action reports its name, couplings and shape, and rejects bad beta", "[u1]") {
  const U1GaugeAction a(2.25);
  CHECK(a.name() == "u1");
  CHECK(a.beta() == 2.25);
  CHECK(a.couplings() == nlohmann::json{{"beta", 2.25}});
  CHECK(a.config_shape({3, 5}) == std::vector<int64_t>{2, 3, 5});
  CHECK_THROWS_WITH(U1GaugeAction(-0.5), Catch::Contains("beta = -0.5") && Catch::Contains(">= 0"));
  CHECK_THROWS_AS(U1GaugeAction(std::nan("")), UserError);
  CHECK_THROWS_AS(U1GaugeAction(INFINITY), UserError);
  CHECK_THROWS_WITH(U1GaugeAction(-1), !Catch::Contains("\n"));
  CHECK_THROWS_AS(a.action(torch::zeros({4, 4}, f64)), UserError);
  CHECK_THROWS_AS(a.force(torch::zeros({1, 1, 4, 4}, f64)), UserError);
}
