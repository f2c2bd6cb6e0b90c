#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "core/config.hpp"
#include "core/error.hpp"
#include "lattice/free_field_prior.hpp"
#include "lattice/normal_prior.hpp"
#include "lattice/registry.hpp"

using namespace latflow;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

// The quadratic form of the free action as a dense V x V matrix, S0 = phi^T A phi, built link by link:
// each term (phi(y) - phi(x))^2 adds (e_y - e_x)(e_y - e_x)^T, so L = 2 (where y is reached twice) and
// odd extents need no special care.
torch::Tensor dense_free_matrix(std::int64_t T, std::int64_t L, double m0sq) {
  const std::int64_t V = T * L;
  auto A = m0sq * torch::eye(V, f64);
  auto a = A.accessor<double, 2>();
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t l = 0; l < L; ++l) {
      const std::int64_t x = t * L + l;
      for (const std::int64_t y : {((t + 1) % T) * L + l, t * L + (l + 1) % L}) {
        a[x][x] += 1;
        a[y][y] += 1;
        a[x][y] -= 1;
        a[y][x] -= 1;
      }
    }
  return A;
}

// log N(phi; 0, Sigma) for flattened phi [B, V] and precision P = Sigma^{-1}, via Cholesky.
torch::Tensor gaussian_log_density(const torch::Tensor& phi, const torch::Tensor& precision) {
  const double V = static_cast<double>(precision.size(0));
  const auto logdet = 2 * torch::linalg_cholesky(precision).diagonal().log().sum();
  const auto quadratic = (phi.matmul(precision) * phi).sum(1);
  return -0.5 * quadratic - 0.5 * V * std::log(2 * M_PI) + 0.5 * logdet;
}

// The exact free propagator <phi(x) phi(0)> = (1/V) sum_p cos(p.x) / (2 (p_hat^2 + m0^2)).
double free_propagator(std::int64_t T, std::int64_t L, double m0sq, std::int64_t xt, std::int64_t xl) {
  double g = 0;
  for (std::int64_t nt = 0; nt < T; ++nt)
    for (std::int64_t nl = 0; nl < L; ++nl) {
      const double pt = 2 * M_PI * nt / T, pl = 2 * M_PI * nl / L;
      const double p_hat2 = 4 * std::pow(std::sin(pt / 2), 2) + 4 * std::pow(std::sin(pl / 2), 2);
      g += std::cos(pt * xt + pl * xl) / (2 * (p_hat2 + m0sq));
    }
  return g / static_cast<double>(T * L);
}

}  // namespace

TEST_CASE("normal prior: exact log-density and unit moments", "[lattice][priors]") {
  torch::manual_seed(10);
  const NormalPrior prior;
  const auto phi = prior.sample(2000, {3, 5}, f64);
  REQUIRE(phi.sizes() == torch::IntArrayRef{2000, 3, 5});
  const auto expected = gaussian_log_density(phi.flatten(1), torch::eye(15, f64));
  CHECK((prior.log_prob(phi) - expected).abs().max().item<double>() < 1e-10);

  // 30000 iid N(0,1) numbers: mean 0 +- 1/sqrt(n), variance 1 +- sqrt(2/n).
  const double n = 30000;
  CHECK(std::abs(phi.mean().item<double>()) < 4 / std::sqrt(n));
  CHECK(std::abs(phi.var().item<double>() - 1) < 4 * std::sqrt(2 / n));

  const auto phi32 = prior.sample(4, {4, 4}, torch::TensorOptions().dtype(torch::kFloat32));
  CHECK(phi32.dtype() == torch::kFloat32);
  CHECK(prior.log_prob(phi32).dtype() == torch::kFloat32);
  CHECK(prior.describe()["name"] == "normal");
}

TEST_CASE("free-field prior: log-density and log Z0 equal the dense Gaussian", "[lattice][priors]") {
  torch::manual_seed(11);
  const double m0sq = 0.37;
  const FreeFieldPrior prior(m0sq);
  for (auto [T, L] : {std::pair<std::int64_t, std::int64_t>{2, 2}, {2, 3}, {3, 5}, {4, 4}}) {
    const auto A = dense_free_matrix(T, L, m0sq);
    const double V = static_cast<double>(T * L);
    // Z0 = int exp(-phi^T A phi) = pi^{V/2} det(A)^{-1/2}.
    const double log_z = 0.5 * V * std::log(M_PI) - 0.5 * torch::logdet(A).item<double>();
    CHECK(prior.log_normalization({T, L}) == Approx(log_z).epsilon(1e-12));

    const auto phi = 1.5 * torch::randn({5, T, L}, f64);
    const auto expected = gaussian_log_density(phi.flatten(1), 2 * A);
    CHECK((prior.log_prob(phi) - expected).abs().max().item<double>() < 1e-10);

    const auto lp32 = prior.log_prob(phi.to(torch::kFloat32));
    CHECK(lp32.dtype() == torch::kFloat32);
    CHECK((lp32.to(torch::kFloat64) - expected).abs().max().item<double>() < 1e-5 * expected.abs().max().item<double>());
  }
}

TEST_CASE("free-field prior samples have the exact lattice propagator", "[lattice][priors]") {
  torch::manual_seed(12);
  const double m0sq = 0.5;
  const FreeFieldPrior prior(m0sq);
  const std::int64_t n = 4000;
  // Even and odd extents: the rfft Nyquist column exists only for even L.
  for (auto [T, L] : {std::pair<std::int64_t, std::int64_t>{4, 6}, {3, 5}}) {
    // The two closed forms of the propagator (momentum sum and dense inverse) agree with each other.
    const auto covariance = torch::inverse(2 * dense_free_matrix(T, L, m0sq));
    for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
      const auto phi = prior.sample(n, {T, L}, torch::TensorOptions().dtype(dtype));
      REQUIRE(phi.sizes() == torch::IntArrayRef{n, T, L});
      REQUIRE(phi.dtype() == dtype);
      const auto phi64 = phi.to(torch::kFloat64);
      for (std::int64_t xt = 0; xt < T; ++xt)
        for (std::int64_t xl = 0; xl < L; ++xl) {
          const double exact = free_propagator(T, L, m0sq, xt, xl);
          REQUIRE(covariance[xt * L + xl][0].item<double>() == Approx(exact).epsilon(1e-12));
          // Translation average per configuration: independent between configurations.
          const auto g = (phi64 * torch::roll(phi64, {-xt, -xl}, {1, 2})).mean({1, 2});
          const double mean = g.mean().item<double>();
          const double error = g.std().item<double>() / std::sqrt(static_cast<double>(n));
          INFO(T << "x" << L << " x = (" << xt << ", " << xl << "): " << mean << " +- " << error << " vs "
                 << exact);
          CHECK(std::abs(mean - exact) < 4 * error);
        }
    }
  }
}

TEST_CASE("free-field prior rejects a non-positive mass", "[lattice][priors]") {
  CHECK_THROWS_AS(FreeFieldPrior(0.0), UserError);
  CHECK_THROWS_AS(FreeFieldPrior(-1.0), UserError);
  CHECK_THROWS_AS(FreeFieldPrior(std::nan("")), UserError);
  CHECK_THROWS_AS(FreeFieldPrior(1.0).log_prob(torch::zeros({4, 4}, f64)), UserError);
  CHECK_THROWS_AS(FreeFieldPrior(1.0).sample(-1, {4, 4}, f64), UserError);
}

TEST_CASE("the prior registry builds normal and free priors", "[lattice][priors][registry]") {
  Config c;
  c.set("model.prior_m2", 0.8);
  CHECK(prior_registry().create("normal", c)->name() == "normal");
  const auto free = prior_registry().create("free", c);
  CHECK(free->name() == "free");
  CHECK(free->describe()["m2"].get<double>() == 0.8);
  c.set("model.prior_m2", -0.8);
  CHECK_THROWS_AS(prior_registry().create("free", c), UserError);
  CHECK_THROWS_WITH(prior_registry().create("fre", c), Catch::Contains("did you mean 'free'"));
}

TEST_CASE("priors sample and evaluate on CUDA like on the CPU", "[lattice][priors][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  const auto cuda = torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCUDA);
  const FreeFieldPrior prior(0.5);
  const auto phi = prior.sample(8, {4, 6}, cuda);
  CHECK(phi.device().is_cuda());
  const auto lp = prior.log_prob(phi);
  CHECK(lp.device().is_cuda());
  const auto lp_cpu = prior.log_prob(phi.cpu().to(torch::kFloat64));
  CHECK((lp.cpu().to(torch::kFloat64) - lp_cpu).abs().max().item<double>() < 1e-4 * lp_cpu.abs().max().item<double>());
  CHECK(NormalPrior().sample(3, {4, 4}, cuda).device().is_cuda());
}
