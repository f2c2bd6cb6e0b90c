#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "core/error.hpp"
#include "operators/operator_testing.hpp"
#include "operators/spectral_operator.hpp"

using namespace latflow;
using namespace latflow::testing;

namespace {
std::shared_ptr<SpectralOperatorImpl> random_spectral() {
  auto op = std::dynamic_pointer_cast<SpectralOperatorImpl>(random_operator("spectral"));
  REQUIRE(op);
  return op;
}
}  // namespace

TEST_CASE("spectral kernel basis: Chebyshev polynomials and free propagators in p_hat^2", "[operators][spectral]") {
  const torch::Tensor u = torch::linspace(0.0, 1.0, 41, torch::kFloat64);
  const torch::Tensor b = spectral_kernel_basis(u, 7);  // T_0..T_3, then m^2 = 1, 0.1, 0.01
  REQUIRE(b.sizes() == torch::IntArrayRef{7, 41});
  const torch::Tensor theta = torch::acos((2 * u - 1).clamp(-1, 1));
  for (int j = 0; j < 4; ++j) CHECK(max_abs_diff(b[j], torch::cos(j * theta)) < 1e-13);
  for (int i = 0; i < 3; ++i) {
    const double m2 = std::pow(10.0, -i);
    CHECK(max_abs_diff(b[4 + i], m2 / (8 * u + m2)) < 1e-15);
  }
  CHECK(max_abs(b) <= 1.0);

  // u = p_hat^2 / 8 at p = 2 pi n / extent, rfft2 half-spectrum layout [T, L/2 + 1].
  const torch::Tensor lattice_u = lattice_momentum_u(5, 6);
  REQUIRE(lattice_u.sizes() == torch::IntArrayRef{5, 4});
  const double expected = (4 * std::pow(std::sin(M_PI * 3 / 5), 2) + 4 * std::pow(std::sin(M_PI * 2 / 6), 2)) / 8;
  CHECK(lattice_u[3][2].item<double>() == Approx(expected).epsilon(1e-14));
  CHECK(lattice_momentum_u(5, 6, false).sizes() == torch::IntArrayRef{5, 6});
}

TEST_CASE("spectral operator equals its position-space convolution", "[operators][spectral]") {
  auto op = random_spectral();
  const std::int64_t F = op->options.channels(), J = op->options.kernel_modes();
  for (const auto& [T, L] : {std::pair<std::int64_t, std::int64_t>{5, 6}, {4, 7}, {6, 6}}) {
    INFO(T << "x" << L);
    const double t = 0.4;
    const std::int64_t V = T * L;
    torch::NoGradGuard no_grad;
    // K~ on the full momentum grid, then K(r) = (1/V) sum_p K~(p) e^{i p r} by an explicit sum.
    const torch::Tensor basis = spectral_kernel_basis(lattice_momentum_u(T, L, false), J).reshape({J, V});
    const auto spectrum = torch::matmul(op->coefficients(t), basis).reshape({F, T, L});
    const auto sa = spectrum.accessor<double, 3>();
    torch::Tensor kernel = torch::zeros({F, T, L}, torch::kFloat64);
    auto ka = kernel.accessor<double, 3>();
    double imaginary = 0;
    for (std::int64_t f = 0; f < F; ++f)
      for (std::int64_t r0 = 0; r0 < T; ++r0)
        for (std::int64_t r1 = 0; r1 < L; ++r1) {
          double im = 0;
          for (std::int64_t n0 = 0; n0 < T; ++n0)
            for (std::int64_t n1 = 0; n1 < L; ++n1) {
              const double phase = 2 * M_PI * (double(n0 * r0) / T + double(n1 * r1) / L);
              ka[f][r0][r1] += sa[f][n0][n1] * std::cos(phase) / V;
              im += sa[f][n0][n1] * std::sin(phase) / V;
            }
          imaginary = std::max(imaginary, std::abs(im));
        }
    CHECK(imaginary < 1e-13);  // K~ is even in p, so the kernel is real
    CHECK(max_abs_diff(op->kernel_origin(t, T, L), kernel.select(2, 0).select(1, 0)) < 1e-13);

    const torch::Tensor phi = torch::randn({2, T, L}, torch::kFloat64);
    const torch::Tensor g = op->features(phi);
    const auto ga = g.accessor<double, 4>();
    torch::Tensor expected = torch::zeros({2, T, L}, torch::kFloat64);
    auto ea = expected.accessor<double, 3>();
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::int64_t x0 = 0; x0 < T; ++x0)
        for (std::int64_t x1 = 0; x1 < L; ++x1)
          for (std::int64_t y0 = 0; y0 < T; ++y0)
            for (std::int64_t y1 = 0; y1 < L; ++y1)
              for (std::int64_t f = 0; f < F; ++f)
                ea[b][x0][x1] += ka[f][(x0 - y0 + T) % T][(x1 - y1 + L) % L] * ga[b][f][y0][y1];
    const torch::Tensor v = op->forward(t, phi).v;
    CHECK(max_abs(expected) > 0.1);
    CHECK(max_abs_diff(v, expected) < 1e-12 * max_abs(expected));
  }
}

TEST_CASE("spectral kernel is one continuous function of momentum on every lattice", "[operators][spectral][resolution]") {
  auto op = random_spectral();
  for (const auto& [T, L] : {std::pair<std::int64_t, std::int64_t>{6, 6}, {4, 6}, {5, 7}}) {
    INFO(T << "x" << L << " vs " << 2 * T << "x" << 2 * L);
    for (const double t : {0.1, 0.65}) {
      const torch::Tensor coarse = op->kernel_spectrum(t, T, L);
      const torch::Tensor fine = op->kernel_spectrum(t, 2 * T, 2 * L);
      REQUIRE(coarse.sizes() == torch::IntArrayRef{3, T, L / 2 + 1});
      REQUIRE(fine.sizes() == torch::IntArrayRef{3, 2 * T, L + 1});
      // p = 2 pi n / L on the coarse lattice is p = 2 pi (2n) / (2L) on the fine one.
      const torch::Tensor common = fine.slice(1, 0, 2 * T, 2).slice(2, 0, 2 * (L / 2) + 1, 2);
      CHECK(max_abs(coarse) > 0.1);
      CHECK(max_abs_diff(common, coarse) < 1e-13 * max_abs(coarse));
    }
  }
}

TEST_CASE("spectral operator parameters", "[operators][spectral]") {
  SpectralOperator op(SpectralOperatorOptions().channels(4).frequencies(3).kernel_modes(5).time_modes(2));
  std::int64_t n = 0;
  for (const auto& p : op->parameters()) n += p.numel();
  CHECK(n == 4 * (3 + 1) + 3 + 4 * 5 * (2 * 2 + 1));  // mixing, omega, time-Fourier weights
  CHECK(op->parameters().size() == 3);
  CHECK(op->buffers().empty());

  Config cfg = operator_config();
  cfg.set("model.kernel_modes", std::int64_t{0});
  CHECK_THROWS_AS(operator_registry().create("spectral", cfg), UserError);
  CHECK_THROWS_AS(SpectralOperator(SpectralOperatorOptions().kernel_modes(-1)), UserError);
}
