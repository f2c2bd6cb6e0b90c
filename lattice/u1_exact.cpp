#include "lattice/u1_exact.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/error.hpp"

namespace latflow::u1::exact {

namespace {

constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kTruncation = 1e-17;        // relative size of the last kept term of every sum
constexpr double kProbabilityFloor = 1e-16;  // P(Q) is exact to about 1e-17 absolute
constexpr double kMaxBeta = 700;             // I_0(beta) overflows a double near beta = 713
constexpr std::int64_t kMaxUnits = 1 << 22;  // unit intervals of nu: never reached for V >= 3

std::int64_t volume(double beta, const Lattice& lattice) {
  if (!std::isfinite(beta) || beta < 0 || beta > kMaxBeta) {
    std::ostringstream s;
    s << "exact U(1) results: beta = " << beta << " is not allowed; they need 0 <= beta <= " << kMaxBeta;
    throw UserError(s.str());
  }
  if (lattice.T < 1 || lattice.L < 1)
    throw UserError("exact U(1) results: lattice " + lattice.str() + " has an empty direction");
  return lattice.volume();
}

// r[m] = I_m(beta) / I_0(beta) for m = 0, 1, ... while it is >= kTruncation (I_m decreases with m).
std::vector<double> bessel_ratios(double beta) {
  std::vector<double> r{1.0};
  if (beta == 0) return r;
  const double i0 = std::cyl_bessel_i(0.0, beta);
  for (int m = 1;; ++m) {
    const double x = std::cyl_bessel_i(static_cast<double>(m), beta) / i0;
    if (x < kTruncation) break;
    r.push_back(x);
  }
  return r;
}

double ratio(const std::vector<double>& r, std::int64_t n) {
  const auto m = static_cast<std::size_t>(n < 0 ? -n : n);
  return m < r.size() ? r[m] : 0.0;
}

std::int64_t n_max(const std::vector<double>& r) { return static_cast<std::int64_t>(r.size()) - 1; }

double power(double x, std::int64_t n) { return std::pow(x, static_cast<double>(n)); }

// Z / I_0^V = sum_n (I_n / I_0)^V.
double scaled_partition_function(const std::vector<double>& r, std::int64_t V) {
  double z = 0;
  for (std::int64_t n = -n_max(r); n <= n_max(r); ++n) z += power(ratio(r, n), V);
  return z;
}

// The Irwin-Hall density (cardinal B-spline of order V, the density of a sum of V uniform variables on
// [0, 1)) at x = i/2, i = 0 .. 2V, from M_k(x) = [x M_{k-1}(x) + (k - x) M_{k-1}(x - 1)] / (k - 1), whose
// weights are non-negative on [0, k]: no cancellation for any V.
std::vector<double> irwin_hall_half_integers(std::int64_t V) {
  std::vector<double> m(2 * V + 1, 0.0), next(2 * V + 1, 0.0);
  m[0] = m[1] = 1;  // M_1 = 1 on [0, 1), half-open so that M_2(1) = 1
  for (std::int64_t k = 2; k <= V; ++k) {
    for (std::int64_t i = 0; i <= 2 * k; ++i) {
      const double x = 0.5 * static_cast<double>(i);
      next[i] = (x * m[i] + (static_cast<double>(k) - x) * (i >= 2 ? m[i - 2] : 0.0)) / static_cast<double>(k - 1);
    }
    std::swap(m, next);
  }
  return m;
}

}  // namespace

double log_partition_function(double beta, const Lattice& lattice) {
  const std::int64_t V = volume(beta, lattice);
  const std::vector<double> r = bessel_ratios(beta);
  return static_cast<double>(V) * std::log(std::cyl_bessel_i(0.0, beta)) + std::log(scaled_partition_function(r, V));
}

double wilson_loop(double beta, const Lattice& lattice, std::int64_t area) {
  const std::int64_t V = volume(beta, lattice);
  if (area < 0 || area > V)
    throw UserError("exact U(1) Wilson loop: area = " + std::to_string(area) + ", need 0 <= area <= V = " +
                    std::to_string(V));
  const std::vector<double> r = bessel_ratios(beta);
  double numerator = 0;
  for (std::int64_t n = -n_max(r) - 1; n <= n_max(r); ++n)
    numerator += power(ratio(r, n), V - area) * power(ratio(r, n + 1), area);
  return numerator / scaled_partition_function(r, V);
}

double plaquette(double beta, const Lattice& lattice) { return wilson_loop(beta, lattice, 1); }

double ChargeDistribution::operator()(std::int64_t Q) const {
  const auto q = static_cast<std::size_t>(Q < 0 ? -Q : Q);
  return q < p.size() ? p[q] : 0.0;
}

double ChargeDistribution::second_moment() const {
  double m = 0;
  for (std::size_t q = 1; q < p.size(); ++q) m += 2 * static_cast<double>(q * q) * p[q];
  return m;
}

ChargeDistribution charge_distribution(double beta, const Lattice& lattice) {
  const std::int64_t V = volume(beta, lattice);
  if (V <= 2) return {{1.0}};
  const std::vector<double> r = bessel_ratios(beta);
  const std::int64_t mm = n_max(r), M = V + 1;
  // The power V amplifies the rounding of f by V, so the nu sum runs in extended precision.
  using real = long double;
  const real pi = 3.141592653589793238462643383279502884L, m_real = static_cast<real>(M);
  // a = sum_m (-1)^m I_m / I_0 = e^{-beta} / I_0 (for the truncated series): f(nu) -> a sinc(nu).
  real a = 0;
  for (std::int64_t m = -mm; m <= mm; ++m) a += (m % 2 == 0 ? 1 : -1) * static_cast<real>(ratio(r, m));
  const real a_power = std::pow(a, static_cast<real>(V));

  // b[k] = (f(k/M)^V - (a sinc(k/M))^V) / I_0^V for k >= 0 (both are even in k).
  std::vector<real> b{1 - a_power};
  const double z = scaled_partition_function(r, V);
  for (std::int64_t j = 1;; ++j) {
    if (j > kMaxUnits) throw std::runtime_error("exact U(1) charge distribution: the nu sum did not converge");
    real envelope = 0;
    for (std::int64_t k = (j - 1) * M + 1; k <= j * M; ++k) {
      real f = 0, sinc = 0;
      if (k == j * M) {
        f = ratio(r, j);  // f(n) = I_n / I_0, sinc(n) = 0
      } else {
        // sin(pi (nu + m)) = (-1)^m sin(pi nu), with the argument reduced exactly in integers.
        const real s = std::sin(pi * static_cast<real>(k % (2 * M)) / m_real);
        real sum = 0;
        for (std::int64_t m = -mm; m <= mm; ++m)
          sum += (m % 2 == 0 ? 1 : -1) * static_cast<real>(ratio(r, m)) * m_real / static_cast<real>(k + m * M);
        f = s / pi * sum;
        sinc = s * m_real / (pi * static_cast<real>(k));
      }
      const real bk = std::pow(f, static_cast<real>(V)) - std::pow(a * sinc, static_cast<real>(V));
      b.push_back(bk);
      envelope = std::max(envelope, std::abs(bk));
    }
    if (!std::isfinite(envelope)) throw std::runtime_error("exact U(1) charge distribution: non-finite term");
    // Beyond nu = j the terms fall like nu^{-(V+2)}: (2/M) sum_{k > jM} |b_k| ~ 2 envelope j / (V + 1).
    if (2 * envelope * (static_cast<real>(j) / static_cast<real>(V + 1) + 1) < kTruncation * z) break;
  }

  // The B-spline is at most 1: below the truncation its term is left out (and its O(V^2) recursion).
  const std::vector<double> spline =
      a_power >= kTruncation * z ? irwin_hall_half_integers(V) : std::vector<double>{};
  ChargeDistribution distribution;
  for (std::int64_t Q = 0; 2 * Q <= V; ++Q) {
    real sum = b[0];
    for (std::size_t k = 1; k < b.size(); ++k) {
      const auto phase = static_cast<real>((Q * static_cast<std::int64_t>(k)) % M);
      sum += 2 * std::cos(2 * pi * phase / m_real) * b[k];
    }
    real zq = sum / m_real;
    if (!spline.empty()) zq += a_power * spline[static_cast<std::size_t>(2 * Q + V)];
    const double p = static_cast<double>(zq) / z;
    if (Q > 0 && p < kProbabilityFloor) break;
    distribution.p.push_back(p);
  }
  return distribution;
}

double topological_susceptibility(double beta, const Lattice& lattice) {
  const std::int64_t V = volume(beta, lattice);
  if (V <= 2) return 0;
  const std::vector<double> r = bessel_ratios(beta);
  const std::int64_t nm = n_max(r);
  double q2 = 0;
  for (std::int64_t n = -nm; n <= nm; ++n) {
    double g1 = 0, g2 = kPi * kPi / 3 * ratio(r, n);  // f'(n) and -f''(n), in units of I_0
    for (std::int64_t k = n - nm; k <= n + nm; ++k) {
      if (k == 0) continue;
      const double term = (k % 2 == 0 ? 1 : -1) * ratio(r, k - n) / static_cast<double>(k);
      g1 += term;
      g2 += 2 * term / static_cast<double>(k);
    }
    q2 += static_cast<double>(V) * power(ratio(r, n), V - 1) * g2 -
          static_cast<double>(V * (V - 1)) * power(ratio(r, n), V - 2) * g1 * g1;
  }
  return q2 / (4 * kPi * kPi * scaled_partition_function(r, V)) / static_cast<double>(V);
}

}  // namespace latflow::u1::exact
