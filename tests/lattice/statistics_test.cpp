#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "lattice/statistics.hpp"

using namespace latflow;

namespace {

std::vector<double> gaussian(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> x(n);
  for (double& v : x) v = normal(rng);
  return x;
}

/// x_{t+1} = rho x_t + sqrt(1 - rho^2) eta_t, started in equilibrium: tau_int = (1 + rho) / (2 (1 - rho)).
std::vector<double> ar1(std::size_t n, double rho, std::uint64_t seed) {
  std::vector<double> eta = gaussian(n, seed);
  std::vector<double> x(n);
  x[0] = eta[0];
  for (std::size_t t = 1; t < n; ++t) x[t] = rho * x[t - 1] + std::sqrt(1 - rho * rho) * eta[t];
  return x;
}

double ar1_tau(double rho) { return (1 + rho) / (2 * (1 - rho)); }

double average(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

double sample_sd(const std::vector<double>& v) {
  const double m = average(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / (v.size() - 1));
}

}  // namespace

TEST_CASE("jackknife of the mean with one sample per bin is sigma/sqrt(N)", "[lattice][stats]") {
  for (std::size_t n : {7u, 50u, 500u}) {
    const auto x = gaussian(n, 11 + n);
    const auto e = stats::mean(x, {}, static_cast<int>(n));
    CHECK(e.value == Approx(average(x)).epsilon(1e-13));
    CHECK(e.error == Approx(sample_sd(x) / std::sqrt(double(n))).epsilon(1e-12));
    if (n <= 100) {  // the default is min(N, 100) bins
      CHECK(stats::mean(x).error == Approx(e.error).epsilon(1e-12));
    }
  }
}

TEST_CASE("jackknife bins are contiguous blocks", "[lattice][stats]") {
  // 20 blocks of 10 equal values: with 20 bins the error is that of the 20 block means; with 200 bins it
  // is the naive one, which underestimates it for such correlated data
  const auto blocks = gaussian(20, 3);
  std::vector<double> x;
  for (double b : blocks)
    for (int i = 0; i < 10; ++i) x.push_back(b);
  const auto blocked = stats::mean(x, {}, 20);
  CHECK(blocked.error == Approx(sample_sd(blocks) / std::sqrt(20.0)).epsilon(1e-12));
  const auto naive = stats::mean(x, {}, 200);
  CHECK(naive.error == Approx(sample_sd(x) / std::sqrt(200.0)).epsilon(1e-12));
  CHECK(naive.error < blocked.error);
}

TEST_CASE("reweighting N(0,1) samples to N(mu,1) recovers mu", "[lattice][stats]") {
  const double mu = 0.5;
  const auto x = gaussian(20000, 5);
  std::vector<double> log_w(x.size()), shifted(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    log_w[i] = mu * x[i] - mu * mu / 2;  // log N(x; mu, 1) - log N(x; 0, 1)
    shifted[i] = log_w[i] + 1000;        // unnormalised target: must not change anything
  }
  const auto e = stats::mean(x, log_w);
  INFO("reweighted mean " << e.value << " +- " << e.error);
  CHECK(std::abs(e.value - mu) < 4 * e.error);
  // delta method: Var = E_q[w^2 (x - mu)^2] / (N Z^2) = e^{mu^2} (1 + mu^2) / N
  CHECK(e.error == Approx(std::sqrt(std::exp(mu * mu) * (1 + mu * mu) / x.size())).epsilon(0.15));
  const auto s = stats::mean(x, shifted);
  CHECK(s.value == Approx(e.value).epsilon(1e-12));
  CHECK(s.error == Approx(e.error).epsilon(1e-9));
  // plain sum_i w_i x_i / sum_i w_i
  const auto w = stats::normalized_weights(log_w, x.size());
  double direct = 0;
  for (std::size_t i = 0; i < x.size(); ++i) direct += w[i] * x[i];
  CHECK(e.value == Approx(direct).epsilon(1e-12));
}

TEST_CASE("jackknife of a reweighted ratio against a brute-force computation", "[lattice][stats]") {
  const std::size_t n = 97;  // 10 bins of 9 or 10 samples
  const int n_bins = 10;
  const auto a = gaussian(n, 21), noise = gaussian(n, 22), g = gaussian(n, 23);
  std::vector<double> b(n), log_w(n);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = 3 + noise[i];
    log_w[i] = 0.7 * g[i];
  }
  const auto ratio = [](const std::vector<double>& m) { return m[0] / m[1]; };
  const auto e = stats::jackknife({a, b}, ratio, log_w, n_bins);

  const auto weighted_ratio = [&](std::size_t skip_begin, std::size_t skip_end) {
    double sa = 0, sb = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i >= skip_begin && i < skip_end) continue;
      sa += std::exp(log_w[i]) * a[i];
      sb += std::exp(log_w[i]) * b[i];
    }
    return sa / sb;
  };
  std::vector<double> leave_out;
  for (int k = 0; k < n_bins; ++k) leave_out.push_back(weighted_ratio(k * n / n_bins, (k + 1) * n / n_bins));
  double ss = 0;
  for (double f : leave_out) ss += (f - average(leave_out)) * (f - average(leave_out));
  CHECK(e.value == Approx(weighted_ratio(0, 0)).epsilon(1e-12));
  CHECK(e.error == Approx(std::sqrt((n_bins - 1.0) / n_bins * ss)).epsilon(1e-10));
}

TEST_CASE("jackknife is stable for log weights of order 1e3", "[lattice][stats]") {
  const std::size_t n = 400;
  const auto x = gaussian(n, 31), g = gaussian(n, 32);
  SECTION("wide spread of weights: invariant under a constant shift") {
    std::vector<double> log_w(n), shifted(n);
    for (std::size_t i = 0; i < n; ++i) {
      log_w[i] = 3.0 * g[i] + 1000;
      shifted[i] = log_w[i] - 2000;
    }
    const auto e = stats::mean(x, log_w), s = stats::mean(x, shifted);
    REQUIRE(std::isfinite(e.value));
    REQUIRE(std::isfinite(e.error));
    CHECK(s.value == Approx(e.value).epsilon(1e-12));
    CHECK(s.error == Approx(e.error).epsilon(1e-9));
  }
  SECTION("one sample carries all the weight, leaving its bin out must not underflow") {
    std::vector<double> log_w(n, -1000.0);
    log_w[5] = 1000;
    const auto e = stats::mean(x, log_w, 10);
    CHECK(e.value == Approx(x[5]).epsilon(1e-12));
    // leaving out bin 0 gives the plain mean of the other 360; every other bin gives x[5]
    double rest = 0;
    for (std::size_t i = 40; i < n; ++i) rest += x[i];
    rest /= 360;
    const double centre = (rest + 9 * x[5]) / 10;
    const double expected = std::sqrt(0.9 * ((rest - centre) * (rest - centre) +
                                             9 * (x[5] - centre) * (x[5] - centre)));
    CHECK(e.error == Approx(expected).epsilon(1e-10));
  }
}

TEST_CASE("statistics reject bad input with a UserError", "[lattice][stats]") {
  const std::vector<double> x{1, 2, 3, 4};
  CHECK_THROWS_AS(stats::mean({1.0}), UserError);
  CHECK_THROWS_AS(stats::mean(x, {0, 0, 0}), UserError);
  CHECK_THROWS_AS(stats::mean(x, {}, 5), UserError);
  CHECK_THROWS_AS(stats::mean(x, {0, NAN, 0, 0}), UserError);
  CHECK_THROWS_AS(stats::mean(x, {0, INFINITY, 0, 0}), UserError);
  CHECK_THROWS_AS(stats::mean({1, NAN, 3}), UserError);
  CHECK_THROWS_AS(stats::mean(x, {0, 0, -INFINITY, -INFINITY}, 2), UserError);  // one weighted bin
  CHECK_THROWS_AS(stats::jackknife({x, {1, 2}}, [](const std::vector<double>& m) { return m[0]; }), UserError);
  CHECK_THROWS_AS(stats::jackknife({x}, [](const std::vector<double>& m) { return std::log(m[0] - 2.5); }),
                  UserError);
  CHECK_THROWS_AS(stats::tau_int(x, 0.0), UserError);
  CHECK_THROWS_AS(stats::tau_int(std::vector<double>{1.0}), UserError);
  CHECK_THROWS_AS(stats::ess_fraction({}), UserError);
  CHECK_THROWS_AS(stats::ess_fraction({-INFINITY, -INFINITY}), UserError);
  CHECK_THROWS_AS(stats::log_z({1.0}), UserError);
  CHECK_THROWS_AS(stats::reverse_kl({0.0, -INFINITY}), UserError);
  CHECK_THROWS_AS(stats::independence_metropolis({0.0}, 1), UserError);
  // -inf is a legitimate zero weight
  CHECK(stats::mean(x, {0, 0, -INFINITY, 0}).value == Approx(7.0 / 3));
}

TEST_CASE("effective sample size: known answers and stability", "[lattice][stats]") {
  const std::size_t n = 64;
  CHECK(stats::ess_fraction(std::vector<double>(n, 0.0)) == Approx(1.0).epsilon(1e-14));
  CHECK(stats::ess_fraction(std::vector<double>(n, 1234.5)) == Approx(1.0).epsilon(1e-14));
  std::vector<double> dominant(n, 0.0);
  dominant[17] = 1000;
  CHECK(stats::ess_fraction(dominant) == Approx(1.0 / n).epsilon(1e-14));

  // n1 samples of weight w1 and n2 of weight w2
  const double n1 = 10, n2 = 54, w1 = 1, w2 = std::exp(-1.3);
  std::vector<double> two(n, -1.3);
  for (int i = 0; i < 10; ++i) two[3 * i] = 0;
  const double exact = std::pow(n1 * w1 + n2 * w2, 2) / (n * (n1 * w1 * w1 + n2 * w2 * w2));
  CHECK(stats::ess_fraction(two) == Approx(exact).epsilon(1e-13));
  for (double c : {-1000.0, 1000.0, 1e5}) {
    std::vector<double> shifted = two;
    for (double& lw : shifted) lw += c;
    CHECK(stats::ess_fraction(shifted) == Approx(exact).epsilon(1e-11));
  }

  // log weights of order 1e3 with a spread of order 1e3: finite, in (0, 1], shift-invariant
  auto big = gaussian(n, 41);
  for (double& lw : big) lw *= 1000;
  const double ess = stats::ess_fraction(big);
  CHECK(ess > 0);
  CHECK(ess <= 1);
  for (double& lw : big) lw -= 3000;
  CHECK(stats::ess_fraction(big) == Approx(ess).epsilon(1e-12));
}

TEST_CASE("log Z and reverse KL from exactly known Gaussian weights", "[lattice][stats]") {
  // q = N(0,1), unnormalised target p~(x) = exp(-(x-mu)^2/2 + c): Z = exp(c) sqrt(2 pi) and
  // KL(q||p) = mu^2/2. With w = p~/q: Var_q(w)/Z^2 = e^{mu^2} - 1, and the influence of the KL estimator
  // w/Z - log w has variance e^{mu^2} - 1 - mu^2.
  const double mu = 0.7, c = 1000, log_2pi = std::log(2 * M_PI);
  const std::size_t n = 20000;
  const auto x = gaussian(n, 51);
  std::vector<double> log_w(n);
  for (std::size_t i = 0; i < n; ++i)
    log_w[i] = (-(x[i] - mu) * (x[i] - mu) / 2 + c) - (-x[i] * x[i] / 2 - log_2pi / 2);

  const auto z = stats::log_z(log_w);
  INFO("log Z = " << z.value << " +- " << z.error);
  CHECK(std::abs(z.value - (c + log_2pi / 2)) < 4 * z.error);
  CHECK(z.error == Approx(std::sqrt((std::exp(mu * mu) - 1) / n)).epsilon(0.15));

  const auto kl = stats::reverse_kl(log_w);
  INFO("KL = " << kl.value << " +- " << kl.error);
  CHECK(std::abs(kl.value - mu * mu / 2) < 4 * kl.error);
  CHECK(kl.error == Approx(std::sqrt((std::exp(mu * mu) - 1 - mu * mu) / n)).epsilon(0.15));

  // q = p: KL is exactly 0 and log Z is the constant
  const std::vector<double> perfect(100, 7.25);
  CHECK(stats::reverse_kl(perfect).value == Approx(0.0).margin(1e-12));
  CHECK(stats::reverse_kl(perfect).error == Approx(0.0).margin(1e-12));
  CHECK(stats::log_z(perfect).value == Approx(7.25).epsilon(1e-14));
  CHECK(stats::log_z(perfect).error == 0);
}

TEST_CASE("independence Metropolis: uniform weights, two states, determinism", "[lattice][stats]") {
  SECTION("uniform weights accept every proposal") {
    const auto chain = stats::independence_metropolis(std::vector<double>(50, 3.0), 7);
    CHECK(chain.acceptance == 1.0);
    for (std::size_t j = 0; j < chain.index.size(); ++j) CHECK(chain.index[j] == std::int64_t(j));
  }
  SECTION("two states: acceptance and occupation against the exact stationary chain") {
    // proposals A (w = 1) with probability p, B (w = r > 1) otherwise; the chain's stationary law is
    // pi ~ (p, (1-p) r) and the acceptance pi_A + pi_B (p/r + 1 - p) = (p + p(1-p) + (1-p)^2 r) / Z.
    const double p = 0.5, r = 3, Z = p + (1 - p) * r;
    const double exact_acceptance = (p + p * (1 - p) + (1 - p) * (1 - p) * r) / Z;
    const double exact_occupation_b = (1 - p) * r / Z;
    const std::size_t n = 100000;
    std::mt19937_64 rng(61);
    std::bernoulli_distribution is_a(p);
    std::vector<double> log_w(n);
    for (double& lw : log_w) lw = is_a(rng) ? 0.0 : std::log(r);
    const auto chain = stats::independence_metropolis(log_w, 62);
    std::vector<double> accepted, in_b;
    for (std::size_t j = 1; j < n; ++j) {
      accepted.push_back(chain.index[j] == std::int64_t(j) ? 1 : 0);
      in_b.push_back(log_w[chain.index[j]] > 0 ? 1 : 0);
    }
    const auto acc = stats::mean(accepted), occ = stats::mean(in_b);  // 100 bins of ~1000 steps
    CHECK(chain.acceptance == Approx(acc.value).epsilon(1e-14));
    INFO("acceptance " << acc.value << " +- " << acc.error << ", exact " << exact_acceptance);
    CHECK(std::abs(acc.value - exact_acceptance) < 4 * acc.error);
    INFO("occupation of B " << occ.value << " +- " << occ.error << ", exact " << exact_occupation_b);
    CHECK(std::abs(occ.value - exact_occupation_b) < 4 * occ.error);
  }
  SECTION("deterministic given the seed") {
    const auto log_w = gaussian(1000, 71);
    const auto a = stats::independence_metropolis(log_w, 5), b = stats::independence_metropolis(log_w, 5);
    const auto c = stats::independence_metropolis(log_w, 6);
    CHECK(a.index == b.index);
    CHECK(a.acceptance == b.acceptance);
    CHECK(a.index != c.index);
  }
}

TEST_CASE("Gamma method on AR(1) series", "[lattice][stats][autocorrelation]") {
  const std::size_t n = 100000;
  for (double rho : {0.0, 0.5, 0.9}) {
    const auto x = ar1(n, rho, 100 + static_cast<std::uint64_t>(10 * rho));
    const auto tau = stats::tau_int(x);
    INFO("rho " << rho << ": tau_int " << tau.tau_int << " +- " << tau.error << " (W = " << tau.window
                << "), exact " << ar1_tau(rho));
    // (The error itself is checked against the spread of independent estimates in the next test case.)
    CHECK(std::abs(tau.tau_int - ar1_tau(rho)) < 4 * tau.error);
    CHECK(tau.window >= 1);
    CHECK(tau.window < 20 * ar1_tau(rho) + 5);
  }
  SECTION("replica: four independent chains combine to the same tau") {
    const double rho = 0.8;
    std::vector<std::vector<double>> chains;
    for (std::uint64_t r = 0; r < 4; ++r) chains.push_back(ar1(25000, rho, 200 + r));
    const auto tau = stats::tau_int(chains);
    INFO("tau_int " << tau.tau_int << " +- " << tau.error << ", exact " << ar1_tau(rho));
    CHECK(std::abs(tau.tau_int - ar1_tau(rho)) < 4 * tau.error);
  }
  SECTION("a constant series has no autocorrelation to measure") {
    const auto tau = stats::tau_int(std::vector<double>(100, 2.5));
    CHECK(tau.tau_int == 0.5);
    CHECK(tau.error == 0);
    CHECK(tau.window == 0);
  }
}

TEST_CASE("Gamma method errors match the spread over independent series", "[lattice][stats][autocorrelation]") {
  // K independent AR(1) series: the sample standard deviation of the K estimates has a relative
  // uncertainty 1/sqrt(2(K-1)) ~ 0.09 for K = 64, so the reported error must agree with it to within
  // a factor [0.7, 1.35] (about 3.5 of those uncertainties), and the mean estimate must agree with the
  // exact tau within 4 of its own standard errors (this also bounds the windowing bias).
  const int K = 64;
  const std::size_t n = 20000;
  for (double rho : {0.5, 0.9}) {
    std::vector<double> estimates, errors;
    for (int k = 0; k < K; ++k) {
      const auto tau = stats::tau_int(ar1(n, rho, 1000 + k + static_cast<std::uint64_t>(1000 * rho)));
      estimates.push_back(tau.tau_int);
      errors.push_back(tau.error);
    }
    const double spread = sample_sd(estimates), reported = average(errors);
    INFO("rho " << rho << ": mean tau " << average(estimates) << ", exact " << ar1_tau(rho) << ", spread "
                << spread << ", mean reported error " << reported);
    CHECK(spread / reported > 0.7);
    CHECK(spread / reported < 1.35);
    CHECK(std::abs(average(estimates) - ar1_tau(rho)) < 4 * spread / std::sqrt(double(K)));
  }
}
