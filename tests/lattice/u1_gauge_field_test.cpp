#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "lattice/u1_gauge_field.hpp"

#include "lattice_testing.hpp"

using namespace latflow;

using testing::eps;
using testing::f64;
using testing::max_abs;
using testing::pi;

namespace {

// A configuration with charge Q: constant field strength 2 pi Q / V on every plaquette. theta_1(t, x) =
// 2 pi Q t / V gives it for t < T-1; on the last time slice theta_0(T-1, x) = -2 pi Q x / L closes the
// torus (the plaquette at (T-1, L-1) is 2 pi Q / V - 2 pi Q, the same angle mod 2 pi).
torch::Tensor winding(int64_t Q, int64_t T, int64_t L) {
  auto theta = torch::zeros({1, 2, T, L}, f64);
  auto a = theta.accessor<double, 4>();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t x = 0; x < L; ++x) {
      a[0][1][t][x] = 2 * pi * Q * t / (T * L);
      if (t == T - 1) a[0][0][t][x] = -2 * pi * Q * x / L;
    }
  return theta;
}

// The plaquette and the two rectangles at (t, x), link by link with modular indices.
struct Loops {
  double plaquette, rectangle_0, rectangle_1;
};
Loops loops_at(const torch::TensorAccessor<double, 3>& a, int64_t t, int64_t x, int64_t T, int64_t L) {
  auto th = [&](int mu, int64_t tt, int64_t xx) { return a[mu][((tt % T) + T) % T][((xx % L) + L) % L]; };
  return {th(0, t, x) + th(1, t + 1, x) - th(0, t, x + 1) - th(1, t, x),
          th(0, t, x) + th(0, t + 1, x) + th(1, t + 2, x) - th(0, t + 1, x + 1) - th(0, t, x + 1) - th(1, t, x),
          th(0, t, x) + th(1, t + 1, x) + th(1, t + 1, x + 1) - th(0, t, x + 2) - th(1, t, x + 1) - th(1, t, x)};
}

}  // namespace

TEST_CASE("plaquettes and 2x1 loops equal their link-by-link definitions", "[u1]") {
  torch::manual_seed(60);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 5}, {2, 2}, {1, 3}, {2, 1}}) {
    const auto theta = u1::haar_links(3, {T, L}, f64);
    const auto p = u1::plaquette_angles(theta);
    const auto r = u1::rectangle_angles(theta);
    REQUIRE(p.sizes() == torch::IntArrayRef{3, T, L});
    REQUIRE(r.sizes() == torch::IntArrayRef{3, 2, T, L});
    for (int64_t b = 0; b < 3; ++b) {
      const auto config = theta[b];
      const auto a = config.accessor<double, 3>();
      for (int64_t t = 0; t < T; ++t)
        for (int64_t x = 0; x < L; ++x) {
          const Loops l = loops_at(a, t, x, T, L);
          INFO(T << "x" << L << " at " << t << "," << x);
          // Sums of at most six angles of size pi: a few ulp of 6 pi.
          CHECK(std::abs(p[b][t][x].item<double>() - l.plaquette) <= 4 * 6 * pi * eps);
          CHECK(std::abs(r[b][0][t][x].item<double>() - l.rectangle_0) <= 8 * 6 * pi * eps);
          CHECK(std::abs(r[b][1][t][x].item<double>() - l.rectangle_1) <= 8 * 6 * pi * eps);
        }
    }
  }
}

TEST_CASE("wrap maps angles to the interval -pi to pi by multiples of 2 pi", "[u1]") {
  torch::manual_seed(61);
  const auto a = 40 * torch::randn({10000}, f64);
  const auto w = u1::wrap_angle(a);
  CHECK(w.min().item<double>() >= -pi);
  CHECK(w.max().item<double>() < pi);
  const auto turns = (a - w) / (2 * pi);
  CHECK(max_abs(turns - torch::round(turns)) <= 64 * eps * max_abs(a));
  const auto inside = torch::linspace(-pi, pi * (1 - 1e-12), 101, f64);
  CHECK(max_abs(u1::wrap_angle(inside) - inside) <= 4 * pi * eps);
  // The interval is half-open: pi + pi = 2 pi is exact, so pi itself maps to -pi.
  CHECK(u1::wrap_angle(torch::tensor({-pi, pi}, f64)).equal(torch::tensor({-pi, -pi}, f64)));
}

TEST_CASE("topological charge is an integer on random and smooth configurations", "[u1]") {
  torch::manual_seed(62);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{8, 8}, {5, 7}, {2, 2}}) {
    const int64_t V = T * L;
    const auto haar = u1::haar_links(256, {T, L}, f64);
    const auto q = u1::topological_charge(haar);
    REQUIRE(q.sizes() == torch::IntArrayRef{256});
    // The sum of V wrapped plaquettes of size <= pi, each exact to a few ulp of 4 pi.
    INFO(T << "x" << L);
    CHECK(max_abs(q - torch::round(q)) <= V * 16 * pi * eps);
    // Haar configurations carry all small charges, not just 0.
    if (V >= 16) CHECK(torch::round(q).abs().max().item<double>() >= 2);
    const auto smooth = 0.05 * torch::randn({16, 2, T, L}, f64);
    CHECK(max_abs(u1::topological_charge(smooth)) <= V * 16 * pi * eps);
  }
}

TEST_CASE("configurations with a known winding have Q = 1, 2, -1", "[u1]") {
  torch::manual_seed(63);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {6, 8}, {5, 3}}) {
    const int64_t V = T * L;
    for (int64_t Q : {1, 2, -1}) {
      const auto theta = winding(Q, T, L);
      INFO(T << "x" << L << ", Q = " << Q);
      CHECK(max_abs(u1::wrap_angle(u1::plaquette_angles(theta)) - 2 * pi * Q / V) <= 64 * pi * eps);
      CHECK(std::abs(u1::topological_charge(theta).item<double>() - Q) <= V * 16 * pi * eps);
      // cos is at most 1: an absolute margin is relative to its range.
      CHECK(u1::mean_plaquette(theta).item<double>() == Approx(std::cos(2 * pi * Q / V)).margin(64 * eps));
      CHECK(u1::mean_rectangle(theta).item<double>() == Approx(std::cos(4 * pi * Q / V)).margin(64 * eps));
      // Small fluctuations and a gauge transformation do not change the charge.
      const auto alpha = 2 * pi * torch::rand({1, T, L}, f64);
      const auto rough = u1::gauge_transform(theta + 0.02 * torch::randn_like(theta), alpha);
      CHECK(std::abs(u1::topological_charge(rough).item<double>() - Q) <= V * 16 * pi * eps);
    }
  }
}

TEST_CASE("plaquettes, loops and Q are gauge invariant", "[u1]") {
  torch::manual_seed(64);
  const int64_t T = 6, L = 4;
  const auto theta = u1::haar_links(32, {T, L}, f64);
  const auto alpha = 2 * pi * torch::rand({32, T, L}, f64);
  const auto transformed = u1::gauge_transform(theta, alpha);
  CHECK(max_abs(transformed - theta) > 1);
  // The alpha terms cancel exactly; what is left is the rounding of sums of angles below 5 pi.
  CHECK(max_abs(u1::plaquette_angles(transformed) - u1::plaquette_angles(theta)) <= 16 * 5 * pi * eps);
  CHECK(max_abs(u1::rectangle_angles(transformed) - u1::rectangle_angles(theta)) <= 32 * 5 * pi * eps);
  CHECK(torch::equal(torch::round(u1::topological_charge(transformed)), torch::round(u1::topological_charge(theta))));
  CHECK(max_abs(u1::mean_plaquette(transformed) - u1::mean_plaquette(theta)) <= 16 * 5 * pi * eps);
  CHECK(max_abs(u1::mean_rectangle(transformed) - u1::mean_rectangle(theta)) <= 32 * 5 * pi * eps);
}

TEST_CASE("gauge transformation moves each link by alpha(x) - alpha(x + mu)", "[u1]") {
  const auto theta = torch::zeros({1, 2, 3, 4}, f64);
  auto alpha = torch::zeros({1, 3, 4}, f64);
  alpha[0][1][2] = 1.0;
  const auto g = u1::gauge_transform(theta, alpha);
  // Links leaving (1, 2) gain +1; the links arriving from (0, 2) in time and from (1, 1) in space lose 1.
  CHECK(g[0][0][1][2].item<double>() == 1.0);
  CHECK(g[0][1][1][2].item<double>() == 1.0);
  CHECK(g[0][0][0][2].item<double>() == -1.0);
  CHECK(g[0][1][1][1].item<double>() == -1.0);
  CHECK(g.abs().sum().item<double>() == 4.0);
}

TEST_CASE("Haar links are uniform in the interval -pi to pi in any dtype", "[u1]") {
  torch::manual_seed(65);
  const auto theta = u1::haar_links(200, {4, 6}, torch::TensorOptions().dtype(torch::kFloat32));
  REQUIRE(theta.sizes() == torch::IntArrayRef{200, 2, 4, 6});
  CHECK(theta.dtype() == torch::kFloat32);
  CHECK(theta.min().item<double>() >= -pi);
  CHECK(theta.max().item<double>() < pi);
  // n = 9600 uniform angles: <cos> = <sin> = 0 with standard error 1/sqrt(2n) ~ 0.007, and <theta^2> = pi^2/3
  // with standard error pi^2 sqrt(4/45 / n) ~ 0.03.
  const auto t = theta.to(torch::kFloat64);
  CHECK(std::abs(torch::cos(t).mean().item<double>()) < 5 * 0.0073);
  CHECK(std::abs(torch::sin(t).mean().item<double>()) < 5 * 0.0073);
  CHECK(std::abs(t.square().mean().item<double>() - pi * pi / 3) < 5 * 0.03);
  CHECK(u1::haar_links(0, {4, 6}, f64).numel() == 0);
}

TEST_CASE("U(1) field functions reject tensors that are not link angles", "[u1]") {
  CHECK_THROWS_WITH(u1::plaquette_angles(torch::zeros({2, 4, 4}, f64)), Catch::Contains("[B, 2, T, L]"));
  CHECK_THROWS_AS(u1::topological_charge(torch::zeros({2, 3, 4, 4}, f64)), UserError);
  CHECK_THROWS_AS(u1::mean_plaquette(torch::zeros({2, 2, 4, 4}, torch::kLong)), UserError);
  CHECK_THROWS_WITH(u1::gauge_transform(torch::zeros({2, 2, 4, 4}, f64), torch::zeros({2, 4, 5}, f64)),
                    Catch::Contains("alpha"));
  CHECK_THROWS_AS(u1::haar_links(1, {0, 4}, f64), UserError);
}
