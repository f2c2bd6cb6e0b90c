#include "lattice/ising_exact.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <boost/math/quadrature/tanh_sinh.hpp>

#include "core/error.hpp"

namespace latflow::ising::exact {

namespace {

constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kMaxCoupling = 50;

/// Why beta and J are outside the domain of the header, or "" when they are inside.
std::string coupling_error(double beta, double J) {
  std::ostringstream s;
  s.precision(17);
  if (!std::isfinite(beta) || !(beta > 0))
    s << "beta = " << beta << " is not allowed; beta must be a finite number > 0";
  else if (!std::isfinite(J) || J == 0)
    s << "J = " << J << " is not allowed; J must be a finite number != 0";
  else if (beta * std::abs(J) > kMaxCoupling)
    s << "beta |J| = " << beta * std::abs(J) << " is not allowed; they need beta |J| <= " << kMaxCoupling;
  return s.str();
}

std::string lattice_error(double J, std::int64_t Lx, std::int64_t Ly) {
  const std::string lattice = std::to_string(Lx) + "x" + std::to_string(Ly);
  if (Lx < 2 || Ly < 2) return "lattice " + lattice + " is not allowed; they need Lx, Ly >= 2";
  if (J < 0 && (Lx % 2 != 0 || Ly % 2 != 0))
    return "J < 0 on " + lattice + " is a frustrated antiferromagnet; they cover J < 0 only on even Lx and Ly";
  return "";
}

/// K = beta |J| (J < 0 is the ferromagnet of |J| on a bipartite torus), or a UserError.
double reduced_coupling(double beta, double J) {
  if (const std::string e = coupling_error(beta, J); !e.empty()) throw UserError("exact Ising results: " + e);
  return beta * std::abs(J);
}

/// A function of K with its first two derivatives.
struct Jet {
  double f = 0, d1 = 0, d2 = 0;
};

/// The pieces of the gamma_l factors: eta_l = |gamma_l| + ln 2 sinh 2K, x_l = m |gamma_l| / 2 and the sign
/// of gamma_l (only gamma_0 can be negative).
struct Mode {
  Jet eta, x;
  double sign = 1;
};

Mode mode(double K, std::int64_t l, std::int64_t n, std::int64_t m) {
  const double s = std::sinh(2 * K), s1 = 2 * std::cosh(2 * K), s2 = 4 * s;
  const double half_m = 0.5 * static_cast<double>(m);
  Mode out;
  Jet gamma;  // |gamma_l|
  if (l == 0) {
    // gamma_0 = 2K + ln tanh K, and eta_0 on either side of K_c in a form without cancellation.
    out.sign = 2 * K + std::log(std::tanh(K)) >= 0 ? 1.0 : -1.0;
    const Jet g0 = {2 * K + std::log(std::tanh(K)), 2 + 2 / s, -2 * s1 / (s * s)};
    gamma = {out.sign * g0.f, out.sign * g0.d1, out.sign * g0.d2};
    if (out.sign > 0) {
      const double sh = std::sinh(K);
      out.eta = {std::log(4.0) + 2 * std::log(sh) + 2 * K, 2 + 2 / std::tanh(K), -2 / (sh * sh)};
    } else {
      const double ch = std::cosh(K);
      out.eta = {std::log(4.0) + 2 * std::log(ch) - 2 * K, 2 * std::tanh(K) - 2, 2 / (ch * ch)};
    }
  } else {
    const double theta = kPi * static_cast<double>(l) / static_cast<double>(n);
    const double cos_theta = std::cos(theta), a = 2 * std::sin(theta / 2) * std::sin(theta / 2);
    const double p = 1 + s * s - s * cos_theta, p1 = (2 * s - cos_theta) * s1,
                 p2 = 2 * s1 * s1 + (2 * s - cos_theta) * s2;
    const double q = std::sqrt((1 - s) * (1 - s) + s * a) * std::sqrt(1 + s * s + s * a);
    const double q1 = (p * p1 - s * s1) / q;
    const double q2 = (p1 * p1 + p * p2 - s1 * s1 - s * s2 - q1 * q1) / q;
    const double u = p + q, u1 = (p1 + q1) / u, u2 = (p2 + q2) / u;
    out.eta = {std::log(2 * u), u1, u2 - u1 * u1};
    // The factors 1 +- e^{-m |gamma|} need |gamma| = eta - ln 2s itself.
    gamma = {out.eta.f - std::log(2 * s), out.eta.d1 - s1 / s, out.eta.d2 + s1 * s1 / (s * s) - s2 / s};
  }
  out.x = {half_m * gamma.f, half_m * gamma.d1, half_m * gamma.d2};
  return out;
}

/// One of Z1..Z4 times its share of the prefactor, as e^{log} g: (log)' = d, (log)'' = v, and g with its
/// derivatives g1, g2 (g = 1 except for the factor of Z4 that vanishes at K_c).
struct Term {
  double log = 0, d = 0, v = 0;
  Jet g = {1, 0, 0};
};

Term term(const std::vector<Mode>& modes, bool odd, bool sinh, double half_m) {
  Term t;
  for (std::size_t r = 0; 2 * r + (odd ? 1 : 0) < modes.size(); ++r) {
    const Mode& c = modes[2 * r + (odd ? 1 : 0)];
    t.log += half_m * c.eta.f;
    t.d += half_m * c.eta.d1;
    t.v += half_m * c.eta.d2;
    // The factor 1 +- e^{-2x}, x = m |gamma| / 2 >= 0.
    const double e = std::exp(-2 * c.x.f), h = 2 * std::exp(-c.x.f);  // e^{-2x} and 2 e^{-x}
    if (sinh && !odd && r == 0) {
      // sign (1 - e^{-2x}) = 2 sinh(m gamma_0 / 2) e^{-x}: zero at K_c, so kept as a function.
      t.g = {c.sign * -std::expm1(-2 * c.x.f), c.sign * 2 * c.x.d1 * e,
             c.sign * e * (2 * c.x.d2 - 4 * c.x.d1 * c.x.d1)};
    } else if (sinh) {
      const double one_minus = -std::expm1(-2 * c.x.f);
      const double coth_minus_one = 2 * e / one_minus, csch = h / one_minus;
      t.log += std::log(one_minus);
      t.d += c.x.d1 * coth_minus_one;
      t.v += c.x.d2 * coth_minus_one - (c.x.d1 * csch) * (c.x.d1 * csch);
    } else {
      const double tanh_minus_one = -2 * e / (1 + e), sech = h / (1 + e);
      t.log += std::log1p(e);
      t.d += c.x.d1 * tanh_minus_one;
      t.v += c.x.d2 * tanh_minus_one + (c.x.d1 * sech) * (c.x.d1 * sech);
    }
  }
  return t;
}

}  // namespace

bool covers(double beta, double J, std::int64_t Lx, std::int64_t Ly) {
  return coupling_error(beta, J).empty() && lattice_error(J, Lx, Ly).empty();
}

Thermodynamics thermodynamics(double beta, double J, std::int64_t Lx, std::int64_t Ly) {
  const double K = reduced_coupling(beta, J);
  if (const std::string e = lattice_error(J, Lx, Ly); !e.empty()) throw UserError("exact Ising results: " + e);
  const std::int64_t n = Lx, m = Ly;
  std::vector<Mode> modes;
  for (std::int64_t l = 0; l < 2 * n; ++l) modes.push_back(mode(K, l, n, m));
  const double half_m = 0.5 * static_cast<double>(m);
  // Z1..Z4: odd or even l, cosh or sinh.
  const std::array<Term, 4> terms = {term(modes, true, false, half_m), term(modes, true, true, half_m),
                                     term(modes, false, false, half_m), term(modes, false, true, half_m)};

  // The weights Z_i / Z relative to the largest term: subtracting ln Z itself, a number of order N, would
  // scale all of them by its rounding error, eps N (1e-11 at 512 x 512).
  double top = terms[0].log;
  for (const Term& t : terms) top = std::max(top, t.log);
  std::array<double, 4> w;
  double sum = 0;
  for (std::size_t i = 0; i < 4; ++i) sum += (w[i] = std::exp(terms[i].log - top)) * terms[i].g.f;
  for (double& x : w) x /= sum;
  // Z_i / Z = w g, Z_i' / Z = w (g d + g'), and the centred second moment of the product rule.
  double d1 = 0, d2 = 0;
  for (std::size_t i = 0; i < 4; ++i) d1 += w[i] * (terms[i].g.f * terms[i].d + terms[i].g.d1);
  for (std::size_t i = 0; i < 4; ++i) {
    const Term& t = terms[i];
    const double dd = t.d - d1;
    d2 += w[i] * (t.g.f * (t.v + dd * dd) + 2 * t.g.d1 * dd + t.g.d2);
  }

  const double N = static_cast<double>(Lx * Ly);
  Thermodynamics out;
  out.log_z = top + std::log(sum) - std::log(2.0);
  out.free_energy = -out.log_z / (beta * N);
  out.energy = -std::abs(J) * d1 / N;
  out.specific_heat = K * K * d2 / N;
  return out;
}

double log_partition_function(double beta, double J, std::int64_t Lx, std::int64_t Ly) {
  return thermodynamics(beta, J, Lx, Ly).log_z;
}
double free_energy(double beta, double J, std::int64_t Lx, std::int64_t Ly) {
  return thermodynamics(beta, J, Lx, Ly).free_energy;
}
double energy(double beta, double J, std::int64_t Lx, std::int64_t Ly) {
  return thermodynamics(beta, J, Lx, Ly).energy;
}
double specific_heat(double beta, double J, std::int64_t Lx, std::int64_t Ly) {
  return thermodynamics(beta, J, Lx, Ly).specific_heat;
}

double onsager_free_energy(double beta, double J) {
  const double K = reduced_coupling(beta, J);
  const double kappa = 2 * std::sinh(2 * K) / (std::cosh(2 * K) * std::cosh(2 * K));
  // Near K_c the integrand's sqrt nearly vanishes at the end phi = pi/2: tanh-sinh quadrature, which
  // crowds its nodes at the ends, resolves the kink where Gauss-Kronrod needs 2^20 intervals.
  const double integral = boost::math::quadrature::tanh_sinh<double>().integrate(
      [&](double phi) {
        const double sin_phi = std::sin(phi);
        return std::log1p(std::sqrt(std::max(0.0, 1 - kappa * kappa * sin_phi * sin_phi))) - std::log(2.0);
      },
      0.0, kPi / 2, 1e-15);
  return -(std::log(2 * std::cosh(2 * K)) + integral / kPi) / beta;
}

double onsager_energy(double beta, double J) {
  const double K = reduced_coupling(beta, J);
  const double t = std::tanh(2 * K), kappa = 2 * std::sinh(2 * K) / (std::cosh(2 * K) * std::cosh(2 * K));
  const double prefactor = 2 * t * t - 1;
  // At K_c, kappa = 1 and K_1 diverges while its factor vanishes: u = -J coth 2K_c = -sqrt(2) J.
  const double elliptic = prefactor == 0 || kappa >= 1 ? 0.0 : prefactor * std::comp_ellint_1(kappa);
  return -std::abs(J) / t * (1 + 2 / kPi * elliptic);
}

}  // namespace latflow::ising::exact
