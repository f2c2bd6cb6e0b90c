#pragma once
// Exact results of pure compact U(1) gauge theory with the Wilson action S_g = -beta sum_P cos theta_P on a
// periodic T x L lattice with V = T L plaquettes (conventions of u1_gauge_field.hpp), the reference values
// against which samplers and flows are checked (Kanwar et al., PRL 125, 121601 (2020) [arXiv 2003.06413];
// the character expansion and the theta dependence as in Bonati, Rossi, "The topological susceptibility of
// two-dimensional U(N) gauge theories" [arXiv 1901.09830]).
//
// Plaquette variables. Fixing a maximal tree of links leaves, on the torus, V plaquette angles phi_P and two
// Polyakov loops; the Haar measure becomes the uniform measure on the phi_P, constrained only by
// sum_P phi_P = 0 mod 2 pi (every link enters twice with opposite signs). With 2 pi delta_2pi(x) =
// sum_n e^{i n x} and I_n(beta) = (1/2pi) int dphi e^{beta cos phi + i n phi},
//
//   Z = int prod_links dtheta/(2pi) e^{-S_g} = sum_{n in Z} I_n(beta)^V,
//   <cos(sum_{P in A} theta_P)> = sum_n I_n^{V-|A|} I_{n+1}^{|A|} / Z      (any |A| distinct plaquettes),
//
// so the plaquette (|A| = 1) is <cos theta_P> = sum_n I_n' I_n^{V-1} / Z with I_n' = (I_{n-1} + I_{n+1})/2,
// and the 2x1 Wilson loop is |A| = 2. Sums are done with every term divided by the largest one, I_0^V
// (log-sum-exp with the maximum factored out), so V up to 64^2 and beta up to 700 are safe (I_0 itself
// overflows a double just above); the n sum stops where I_n / I_0 < 1e-17.
//
// Geometric topological charge Q = (1/2pi) sum_P wrap(theta_P). In plaquette variables phi_P in [-pi, pi),
// Q is the sum s = sum_P phi_P / 2pi of V independent variables u_P with density ~ e^{beta cos 2 pi u} on
// [-1/2, 1/2), conditioned on s being an integer (the constraint). With a theta term,
//
//   Z(theta) = sum_Q e^{i theta Q} Z_Q = sum_n f(n + theta/2pi)^V,   f(nu) = (1/2pi) int_{-pi}^{pi} dphi
//              e^{beta cos phi} e^{i nu phi},
//
// and P(Q) = Z_Q / Z(0), the Fourier coefficient (1/2pi) int dtheta e^{-i theta Q} Z(theta) / Z(0). Folding
// the n sum into the theta integral, nu = n + theta/2pi runs over the real line:
//
//   Z_Q = int_R dnu cos(2 pi Q nu) f(nu)^V,
//
// the density of s at Q. Since s lives in [-V/2, V/2], sampling its characteristic function at nu = k/M with
// M = V + 1 is exact (Poisson summation: the copies of the density shifted by multiples of M do not overlap):
//
//   Z_Q = (1/M) sum_{k in Z} cos(2 pi Q k / M) f(k/M)^V.
//
// f(nu) for non-integer nu is not a Bessel function (e^{i nu phi} is not periodic, so neither the
// trapezoidal rule nor the Bessel recursion applies); it follows exactly from the Fourier series
// e^{beta cos phi} = sum_m I_m e^{i m phi}: f(nu) = sum_m I_m sinc(nu + m), sinc x = sin(pi x) / (pi x),
// which needs no quadrature. For large nu, f(nu) = e^{-beta} sinc(nu) (1 - beta / nu^2 + ...): f^V decays
// only like nu^{-V}. The leading term is subtracted and added back exactly: (e^{-beta} sinc nu)^V is the
// transform of e^{-V beta} times the Irwin-Hall density (the B-spline of order V, from its stable recursion),
// and the remainder decays like nu^{-(V+2)}; the k sum stops when the terms of the last unit interval of nu,
// times their power-law tail, drop below 1e-17 of Z. Raising f to the power V multiplies its rounding by V,
// so the nu sum runs in long double (with pi to long double precision: sin(pi (nu + m)) = (-1)^m sin(pi nu)
// must hold to that precision, or the sampled f is no longer the transform of a function supported in
// [-1/2, 1/2] and P(Q) acquires a smooth error of ~ V eps at every Q). P(Q) is then accurate to about 1e-17
// absolute plus V eps relative, and is returned up to the first Q with P(Q) < 1e-16. For V <= 2, Q = 0
// with probability 1 (|Q| = V/2 needs every wrapped plaquette at +-pi).
//
// Topological susceptibility chi_t = <Q^2> / V in closed form: Poisson summation of sum_Q Q^2 e^{-2 pi i Q nu}
// = -(1/4pi^2) sum_n delta''(nu - n) gives <Q^2> = -(1/4pi^2) sum_n (f^V)''(n) / Z, where at integers
// f(n) = I_n, f'(n) = sum_{k != 0} I_{k-n} (-1)^k / k and -f''(n) = (pi^2/3) I_n + 2 sum_{k != 0} I_{k-n}
// (-1)^k / k^2. For V >= 3 every term carries a factor I_n, so the n sum converges like the one of Z.
// Limits: at beta = 0, P(Q) is the Irwin-Hall density at Q + V/2 and chi_t = 1/12 (V >= 3); as V -> infinity,
// chi_t -> <phi^2>_1 / 4pi^2 (one free plaquette), ~ 1 / (4 pi^2 beta) for large beta.
#include <cstdint>
#include <vector>

#include "lattice/geometry.hpp"

namespace latflow::u1::exact {

/// log Z, Z = int prod dtheta/(2pi) e^{-S_g} = sum_n I_n(beta)^V. Requires 0 <= beta <= 700.
double log_partition_function(double beta, const Lattice& lattice);

/// <cos(sum of `area` distinct plaquette angles)>, 0 <= area <= V.
double wilson_loop(double beta, const Lattice& lattice, std::int64_t area);

/// <cos theta_P> = wilson_loop(beta, lattice, 1).
double plaquette(double beta, const Lattice& lattice);

/// P(Q) of the geometric charge: p[Q] = P(Q) = P(-Q) for Q = 0 .. p.size() - 1, and 0 beyond.
struct ChargeDistribution {
  std::vector<double> p;
  double operator()(std::int64_t Q) const;
  /// sum_Q Q^2 P(Q).
  double second_moment() const;
};

ChargeDistribution charge_distribution(double beta, const Lattice& lattice);

/// chi_t = <Q^2> / V from the closed form (0 for V <= 2).
double topological_susceptibility(double beta, const Lattice& lattice);

}  // namespace latflow::u1::exact
