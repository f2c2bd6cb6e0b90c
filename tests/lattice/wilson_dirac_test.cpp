#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <complex>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "lattice/u1_gauge_field.hpp"
#include "lattice/wilson_dirac.hpp"

using namespace latflow;
using cplx = std::complex<double>;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
const double eps = std::numeric_limits<double>::epsilon();
const double pi = M_PI;

// D = 1 - kappa H written out site by site from its definition: gamma_0 = sigma_1, gamma_1 = sigma_2, row
// 2 (t L + x) + s, and a factor -1 on the two hops that cross the time boundary. theta is one [2, T, L].
Eigen::MatrixXcd dirac_by_loops(const torch::Tensor& theta, double kappa) {
  const int64_t T = theta.size(1), L = theta.size(2), N = 2 * T * L;
  const auto a = theta.accessor<double, 3>();
  const cplx I(0, 1);
  const cplx gamma[2][2][2] = {{{0, 1}, {1, 0}}, {{0, -I}, {I, 0}}};
  Eigen::MatrixXcd d = Eigen::MatrixXcd::Identity(N, N);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t x = 0; x < L; ++x) {
      const int64_t s = t * L + x;
      for (int mu = 0; mu < 2; ++mu) {
        const int64_t tf = mu == 0 ? (t + 1) % T : t, xf = mu == 1 ? (x + 1) % L : x;
        const int64_t tb = mu == 0 ? (t - 1 + T) % T : t, xb = mu == 1 ? (x - 1 + L) % L : x;
        const double sign_f = (mu == 0 && t == T - 1) ? -1 : 1, sign_b = (mu == 0 && t == 0) ? -1 : 1;
        const cplx u_f = std::exp(I * a[mu][t][x]), u_b = std::exp(-I * a[mu][tb][xb]);
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) {
            const double delta = i == j ? 1 : 0;
            d(2 * s + i, 2 * (tf * L + xf) + j) -= kappa * sign_f * (delta - gamma[mu][i][j]) * u_f;
            d(2 * s + i, 2 * (tb * L + xb) + j) -= kappa * sign_b * (delta + gamma[mu][i][j]) * u_b;
          }
      }
    }
  return d;
}

Eigen::MatrixXcd to_eigen(const torch::Tensor& m) {
  const auto c = m.to(torch::kComplexDouble).contiguous();
  Eigen::MatrixXcd e(c.size(0), c.size(1));
  const auto* p = c.data_ptr<c10::complex<double>>();
  for (int64_t i = 0; i < c.size(0); ++i)
    for (int64_t j = 0; j < c.size(1); ++j) e(i, j) = cplx(p[i * c.size(1) + j].real(), p[i * c.size(1) + j].imag());
  return e;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

// |a - b| <= rel * max|b|, elementwise over the batch.
void check_close(const torch::Tensor& a, const torch::Tensor& b, double rel) {
  REQUIRE(a.sizes() == b.sizes());
  const double scale = max_abs(b), diff = max_abs(a - b);
  INFO("max |a - b| = " << diff << ", max |b| = " << scale << ", relative tolerance " << rel);
  CHECK(diff <= rel * scale);
}

// Backward-error bound of an LU solve or determinant of D: N eps cond(D), as a relative error.
double lu_tolerance(const torch::Tensor& d, double unit_roundoff = eps) {
  return d.size(-1) * unit_roundoff * torch::linalg_cond(d.to(torch::kComplexDouble)).max().item<double>();
}

torch::Tensor full_log_abs_det(const torch::Tensor& theta, double kappa) {
  return std::get<1>(torch::linalg_slogdet(u1::wilson_dirac(theta, kappa)));
}

// Random links away from the identity but not Haar-random: a typical configuration at beta ~ 2.
torch::Tensor links(int64_t B, int64_t T, int64_t L, double width = 0.8) {
  return width * torch::randn({B, 2, T, L}, f64);
}

const std::vector<std::pair<int64_t, int64_t>> even_lattices = {{2, 2}, {4, 4}, {2, 4}, {4, 6}, {6, 2}};

}  // namespace

TEST_CASE("Wilson-Dirac matrix equals its site-by-site definition", "[schwinger][dirac]") {
  torch::manual_seed(40);
  // Includes T or L = 2 (forward and backward hops coincide and add), odd and 1-site directions.
  for (auto [T, L] : {std::pair<int64_t, int64_t>{2, 2}, {4, 4}, {2, 4}, {3, 4}, {4, 3}, {1, 3}, {5, 1}}) {
    const auto theta = u1::haar_links(2, {T, L}, f64);
    const auto d = u1::wilson_dirac(theta, 0.276);
    REQUIRE(d.sizes() == torch::IntArrayRef{2, 2 * T * L, 2 * T * L});
    REQUIRE(d.dtype() == torch::kComplexDouble);
    for (int64_t b = 0; b < 2; ++b) {
      const Eigen::MatrixXcd expected = dirac_by_loops(theta[b], 0.276);
      INFO(T << "x" << L);
      // Every entry is a sum of at most four terms kappa * (0, +-1, +-i) * U: exact to a few ulp.
      CHECK((to_eigen(d[b]) - expected).cwiseAbs().maxCoeff() <= 8 * eps);
    }
  }
  CHECK(u1::wilson_dirac(u1::haar_links(1, {2, 2}, torch::TensorOptions().dtype(torch::kFloat32)), 0.2).dtype() ==
        torch::kComplexFloat);
}

TEST_CASE("the antiperiodic sign sits on the time-boundary hops only", "[schwinger][dirac]") {
  // At theta = 0 on a 4x2 lattice: the hop from t = 3 to t = 0 is -kappa (1 - gamma_0) * (-1), the hop from
  // t = 1 to t = 2 is -kappa (1 - gamma_0), and space hops have no sign.
  const double kappa = 0.25;
  const auto d = u1::wilson_dirac(torch::zeros({1, 2, 4, 2}, f64), kappa)[0];
  auto entry = [&](int64_t t, int64_t x, int64_t s, int64_t t2, int64_t x2, int64_t s2) {
    return torch::real(d[2 * (t * 2 + x) + s][2 * (t2 * 2 + x2) + s2]).item<double>();
  };
  CHECK(entry(3, 0, 0, 0, 0, 0) == Approx(kappa));   // -kappa * (1 - gamma_0)_00 * (-1)
  CHECK(entry(3, 0, 0, 0, 0, 1) == Approx(-kappa));  // -kappa * (1 - gamma_0)_01 * (-1)
  CHECK(entry(0, 0, 0, 3, 0, 0) == Approx(kappa));   // backward across the boundary
  CHECK(entry(1, 0, 0, 2, 0, 0) == Approx(-kappa));  // interior hop
  // x = 0 -> 1 and 0 -> -1 = 1 coincide: -kappa [(1 - gamma_1) + (1 + gamma_1)]_00 = -2 kappa.
  CHECK(entry(1, 0, 0, 1, 1, 0) == Approx(-2 * kappa));
}

TEST_CASE("Wilson-Dirac operator is gamma_5-hermitian", "[schwinger][dirac]") {
  torch::manual_seed(41);
  const auto theta = u1::haar_links(3, {4, 6}, f64);
  const auto d = u1::wilson_dirac(theta, 0.276);
  const int64_t N = d.size(-1);
  // gamma_5 = sigma_3 on every site: diag(+1, -1, +1, -1, ...).
  const auto g5 = 1 - 2 * torch::remainder(torch::arange(N, f64), 2);
  const auto conjugated = g5.view({1, N, 1}) * d * g5.view({1, 1, N});
  CHECK(max_abs(conjugated - d.conj().transpose(-2, -1)) <= 4 * eps);
}

TEST_CASE("even-odd matrix is the Schur complement of the dense D", "[schwinger][dirac]") {
  torch::manual_seed(42);
  const double kappa = 0.3;
  for (auto [T, L] : even_lattices) {
    const int64_t V = T * L;
    const auto theta = u1::haar_links(2, {T, L}, f64);
    const auto d = u1::wilson_dirac(theta, kappa);
    // Spinor indices of even and odd sites, the sites in increasing order.
    std::vector<int64_t> even, odd;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t x = 0; x < L; ++x)
        for (int64_t s = 0; s < 2; ++s) ((t + x) % 2 == 0 ? even : odd).push_back(2 * (t * L + x) + s);
    const auto e = torch::tensor(even), o = torch::tensor(odd);
    auto block = [&](const torch::Tensor& r, const torch::Tensor& c) {
      return d.index_select(1, r).index_select(2, c);
    };
    // D_ee = D_oo = 1, so M = 1 - kappa^2 H_eo H_oe = D_ee - D_eo D_oe.
    CHECK(max_abs(block(e, e) - torch::eye(V, d.options())) == 0);
    const auto expected = block(e, e) - torch::matmul(block(e, o), block(o, e));
    INFO(T << "x" << L);
    check_close(u1::wilson_dirac_even_odd(theta, kappa), expected, 16 * eps);
  }
}

TEST_CASE("log|det D| from even-odd preconditioning equals the full determinant", "[schwinger][dirac]") {
  torch::manual_seed(43);
  for (double kappa : {0.1, 0.276, 0.35}) {
    for (auto [T, L] : even_lattices) {
      const auto theta = links(3, T, L);
      const auto eo = u1::log_abs_det_wilson(theta, kappa);
      REQUIRE(eo.sizes() == torch::IntArrayRef{3});
      REQUIRE(eo.dtype() == torch::kFloat64);
      const auto full = full_log_abs_det(theta, kappa);
      // Eigen's partial-pivoting LU of the site-by-site matrix: an independent determinant.
      std::vector<double> eigen;
      for (int64_t b = 0; b < 3; ++b)
        eigen.push_back(std::log(std::abs(dirac_by_loops(theta[b], kappa).determinant())));
      // An error of log|det| is a relative error of the determinant.
      const double tol = lu_tolerance(u1::wilson_dirac(theta, kappa));
      INFO(T << "x" << L << ", kappa " << kappa);
      CHECK(max_abs(eo - full) <= tol);
      CHECK(max_abs(full - torch::tensor(eigen, f64)) <= tol);
    }
  }
}

TEST_CASE("free Wilson fermions: det D is the product over antiperiodic momenta", "[schwinger][dirac]") {
  // At theta = 0, D(p) = 1 - 2 kappa sum_mu cos p_mu + 2 i kappa sum_mu gamma_mu sin p_mu with
  // p_0 = 2 pi (n + 1/2) / T and p_1 = 2 pi n / L, and det D(p) = (1 - 2 kappa sum cos)^2 + 4 kappa^2 sum sin^2.
  for (double kappa : {0.1, 0.2, 0.26}) {
    for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {4, 6}, {8, 2}, {6, 8}}) {
      double expected = 0;
      for (int64_t n0 = 0; n0 < T; ++n0)
        for (int64_t n1 = 0; n1 < L; ++n1) {
          const double p0 = 2 * pi * (n0 + 0.5) / T, p1 = 2 * pi * n1 / L;
          const double m = 1 - 2 * kappa * (std::cos(p0) + std::cos(p1));
          expected += std::log(m * m + 4 * kappa * kappa * (std::sin(p0) * std::sin(p0) + std::sin(p1) * std::sin(p1)));
        }
      const auto theta = torch::zeros({1, 2, T, L}, f64);
      INFO(T << "x" << L << ", kappa " << kappa << ": expected " << expected);
      // The LU error N eps cond(D), plus the rounding of the V terms of the sum.
      const double tol = lu_tolerance(u1::wilson_dirac(theta, kappa)) + T * L * eps * std::abs(expected);
      CHECK(std::abs(u1::log_abs_det_wilson(theta, kappa).item<double>() - expected) <= tol);
      CHECK(std::abs(full_log_abs_det(theta, kappa).item<double>() - expected) <= tol);
    }
  }
}

TEST_CASE("log|det D| is gauge invariant", "[schwinger][dirac]") {
  torch::manual_seed(44);
  const auto theta = links(4, 4, 6);
  const auto alpha = 2 * pi * torch::rand({4, 4, 6}, f64);
  const auto transformed = u1::gauge_transform(theta, alpha);
  CHECK(max_abs(theta - transformed) > 1);
  // Two LU factorisations of matrices with the same spectrum (D' = G D G^dagger, G unitary and diagonal).
  const double tol = 2 * lu_tolerance(u1::wilson_dirac(theta, 0.276));
  CHECK(max_abs(u1::log_abs_det_wilson(transformed, 0.276) - u1::log_abs_det_wilson(theta, 0.276)) <= tol);
  check_close(u1::chiral_condensate(transformed, 0.276), u1::chiral_condensate(theta, 0.276), tol);
  check_close(u1::pion_correlator(transformed, 0.276), u1::pion_correlator(theta, 0.276), tol);
}

TEST_CASE("closed-form gradient of log|det D| equals autograd through both determinants", "[schwinger][dirac]") {
  torch::manual_seed(45);
  for (auto [T, L] : even_lattices) {
    const auto theta = links(2, T, L).requires_grad_(true);
    const auto grad_eo = torch::autograd::grad({u1::log_abs_det_wilson(theta, 0.276).sum()}, {theta})[0];
    const auto grad_full = torch::autograd::grad({full_log_abs_det(theta, 0.276).sum()}, {theta})[0];
    const auto closed = u1::log_abs_det_wilson_gradient(theta.detach(), 0.276);
    REQUIRE(closed.sizes() == theta.sizes());
    INFO(T << "x" << L);
    // All three are tr[D^-1 dD] from an LU of D or of M, exact up to the LU error.
    const double tol = lu_tolerance(u1::wilson_dirac(theta.detach(), 0.276));
    check_close(closed, grad_full, tol);
    check_close(closed, grad_eo, tol);
  }
}

TEST_CASE("closed-form gradient of log|det D| equals central finite differences", "[schwinger][dirac]") {
  torch::manual_seed(46);
  const int64_t T = 4, L = 4, links_per_config = 2 * T * L;
  const double h = 1e-4, kappa = 0.276;
  const auto theta = links(1, T, L);
  // Every link shifted by +-h, as one batch.
  const auto shift = h * torch::eye(links_per_config, f64).view({links_per_config, 2, T, L});
  const auto plus = u1::log_abs_det_wilson(theta + shift, kappa), minus = u1::log_abs_det_wilson(theta - shift, kappa);
  const auto fd = ((plus - minus) / (2 * h)).view({1, 2, T, L});
  // Truncation h^2 |f'''| / 6 ~ 1e-9 (|f'''| = O(kappa^3 * 4^3) per link) and rounding eps |log det| / h
  // ~ 1e-11, against a gradient of order 0.1: far below 1e-7 relative; a wrong term would be O(1).
  check_close(u1::log_abs_det_wilson_gradient(theta, kappa), fd, 1e-7);
}

TEST_CASE("float32 links give complex64 operators and float32 results close to float64", "[schwinger][dirac]") {
  torch::manual_seed(47);
  const auto theta = links(2, 4, 4);
  const auto theta32 = theta.to(torch::kFloat32);
  CHECK(u1::wilson_dirac_even_odd(theta32, 0.25).dtype() == torch::kComplexFloat);
  const auto ld = u1::log_abs_det_wilson(theta32, 0.25);
  CHECK(ld.dtype() == torch::kFloat32);
  // The LU error in single precision, N eps32 cond(D); rounding the links to float32 perturbs D by about
  // eps32 |theta|, which the same bound covers.
  const double tol = lu_tolerance(u1::wilson_dirac(theta, 0.25), std::numeric_limits<float>::epsilon());
  CHECK(max_abs(ld.to(torch::kFloat64) - u1::log_abs_det_wilson(theta, 0.25)) <= tol);
  check_close(u1::log_abs_det_wilson_gradient(theta32, 0.25).to(torch::kFloat64),
              u1::log_abs_det_wilson_gradient(theta, 0.25), tol);
}

TEST_CASE("chiral condensate and pion correlator equal those of the full inverse", "[schwinger][dirac]") {
  torch::manual_seed(48);
  const double kappa = 0.276;
  for (auto [T, L] : even_lattices) {
    const int64_t V = T * L;
    const auto theta = links(2, T, L);
    const auto d = u1::wilson_dirac(theta, kappa);
    const auto inverse = torch::linalg_inv(d);
    const auto trace = inverse.diagonal(0, -2, -1).sum(-1);
    // Entries of an inverse from an LU err by about N eps cond(D) relative to the largest.
    const double tol = lu_tolerance(d);
    // tr D^-1 is real by gamma_5-hermiticity.
    CHECK(max_abs(torch::imag(trace)) <= tol * max_abs(trace));
    INFO(T << "x" << L);
    const auto sigma = u1::chiral_condensate(theta, kappa);
    REQUIRE(sigma.sizes() == torch::IntArrayRef{2});
    check_close(sigma, torch::real(trace) / V, tol);
    // C(t) = sum_x sum_{s, s'} |D^-1(t, x, s; 0, 0, s')|^2: the first two columns of the inverse.
    const auto columns = inverse.narrow(2, 0, 2).abs().square().sum(2).view({2, T, L, 2}).sum({2, 3});
    const auto pion = u1::pion_correlator(theta, kappa);
    REQUIRE(pion.sizes() == torch::IntArrayRef{2, T});
    check_close(pion, columns, tol);
  }
}

TEST_CASE("Wilson-Dirac functions reject bad input in one line", "[schwinger][dirac]") {
  const auto odd = torch::zeros({1, 2, 3, 4}, f64);
  for (auto call : {+[](const torch::Tensor& t) { return u1::log_abs_det_wilson(t, 0.2); },
                    +[](const torch::Tensor& t) { return u1::log_abs_det_wilson_gradient(t, 0.2); },
                    +[](const torch::Tensor& t) { return u1::chiral_condensate(t, 0.2); },
                    +[](const torch::Tensor& t) { return u1::pion_correlator(t, 0.2); },
                    +[](const torch::Tensor& t) { return u1::wilson_dirac_even_odd(t, 0.2); }}) {
    CHECK_THROWS_WITH(call(odd), Catch::Contains("even-odd preconditioning needs even T and L") &&
                                     Catch::Contains("3x4"));
    CHECK_THROWS_WITH(call(torch::zeros({1, 2, 4, 5}, f64)), Catch::Contains("needs even T and L"));
    CHECK_THROWS_WITH(call(torch::zeros({2, 4, 4}, f64)), Catch::Contains("[B, 2, T, L]"));
  }
  CHECK_NOTHROW(u1::wilson_dirac(odd, 0.2));
  CHECK_THROWS_WITH(u1::wilson_dirac(odd, std::nan("")), Catch::Contains("kappa"));
  CHECK_THROWS_AS(u1::wilson_dirac(torch::zeros({1, 3, 4, 4}, f64), 0.2), UserError);
  CHECK_THROWS_AS(u1::wilson_dirac(torch::zeros({1, 2, 4, 4}, torch::kLong), 0.2), UserError);
}

TEST_CASE("Wilson-Dirac determinant and gradient on CUDA match the CPU", "[schwinger][dirac][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  torch::manual_seed(49);
  const auto theta = links(4, 8, 8);
  const auto gpu = theta.to(torch::kCUDA);
  CHECK(u1::wilson_dirac(gpu, 0.276).device().is_cuda());
  // Two LU factorisations in float64 with different pivoting and summation orders.
  const double tol = 2 * lu_tolerance(u1::wilson_dirac(theta, 0.276));
  CHECK(max_abs(u1::log_abs_det_wilson(gpu, 0.276).cpu() - u1::log_abs_det_wilson(theta, 0.276)) <= tol);
  check_close(u1::log_abs_det_wilson_gradient(gpu, 0.276).cpu(), u1::log_abs_det_wilson_gradient(theta, 0.276), tol);
  check_close(u1::pion_correlator(gpu, 0.276).cpu(), u1::pion_correlator(theta, 0.276), tol);
}
