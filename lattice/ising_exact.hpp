#pragma once
// Exact thermodynamics of the two-dimensional Ising model
//
//   H[s] = -J sum_<ij> s_i s_j,   s_i = +-1,
//
// on a periodic Lx x Ly lattice (N = Lx Ly sites, 2N nearest-neighbour bonds; on an extent of 2 the two
// bonds between a pair of sites are both counted, as the transfer matrix counts them), the reference values
// against which Ising samplers and flows are checked. With K = beta J, Kaufman's partition function
// (B. Kaufman, Phys. Rev. 76, 1232 (1949)), in the form of A. E. Ferdinand and M. E. Fisher, Phys. Rev. 185,
// 832 (1969), for n = Lx columns and m = Ly rows:
//
//   Z = (1/2) (2 sinh 2K)^{N/2} (Z1 + Z2 + Z3 + Z4),
//   Z1 = prod_{r=0}^{n-1} 2 cosh(m gamma_{2r+1} / 2),   Z2 = prod_{r=0}^{n-1} 2 sinh(m gamma_{2r+1} / 2),
//   Z3 = prod_{r=0}^{n-1} 2 cosh(m gamma_{2r} / 2),     Z4 = prod_{r=0}^{n-1} 2 sinh(m gamma_{2r} / 2),
//   cosh gamma_l = cosh 2K coth 2K - cos(pi l / n)  (gamma_l > 0 for l >= 1),   gamma_0 = 2K + ln tanh K.
//
// From Z: ln Z, the free energy per site f = -ln Z / (beta N), the energy per site u = <H>/N =
// -(J/N) d ln Z/dK and the specific heat per site c = beta^2 (<H^2> - <H>^2) / N = (K^2/N) d^2 ln Z/dK^2.
//
// Numerics (any L; 512 x 512 costs microseconds). Each factor takes its share (2 sinh 2K)^{m/2} of the
// prefactor, which vanishes as K -> 0 while the products diverge: with s = sinh 2K, theta = pi l / n,
//
//   (2s)^{m/2} 2 cosh(m gamma/2) = e^{m eta/2} (1 + e^{-m |gamma|}),   the same with 1 - e^{-m |gamma|} for sinh,
//   eta_l = |gamma_l| + ln 2s = ln 2(p + q),   p = s cosh gamma_l = 1 + s^2 - s cos theta,
//   q = s sinh gamma_l = sqrt(p^2 - s^2) = sqrt[((1 - s)^2 + s a)(1 + s^2 + s a)],   a = 2 sin^2(theta/2),
//
// where nothing cancels at any K (for l = 0: eta_0 = ln 4 + 2 ln cosh K - 2K below K_c, ln 4 + 2 ln sinh K + 2K
// above). The four terms are summed in logarithms with the largest one factored out, and their weights are
// taken relative to it (not by subtracting ln Z, whose rounding, eps N, would scale them all). gamma_0
// changes sign at the critical point K_c = ln(1 + sqrt 2)/2: below it Z4 < 0 (Z stays positive), at it
// Z4 = 0. The derivatives of ln Z are analytic: every factor's log-derivatives follow from those of p and q,
// and with the weights w_i = Z_i / sum Z (they add up to one, w_4 may be negative) and D_i = (ln Z_i)',
//
//   (ln Z)' = sum_i w_i D_i,   (ln Z)'' = sum_i w_i [(ln Z_i)'' + (D_i - (ln Z)')^2],
//
// free of the cancellation of <H^2> - <H>^2. The one factor that vanishes, 2 sinh(m gamma_0/2) of Z4 at K_c,
// whose log-derivative diverges there, is differentiated as a function (product rule) instead.
// Accuracy: against enumeration, ln Z and u agree to a few 1e-16 relative. The sums over modes cancel
// analytically to O(K) in u as K -> 0 and to O(e^{-8K}) in c as K grows, so it is their absolute errors that
// stay near eps: |J| eps in u (relative eps / K at high temperature) and about 10 K^2 eps in c (relative
// 1e-15 up to K = 0.7, 1e-13 at K = 1, 1e-11 at K = 1.5 and 1e-10 at K = 2, where c ~ 3e-5).
//
// Antiferromagnet: for J < 0 on even Lx and Ly, flipping the spins of one sublattice maps H to the
// ferromagnet with |J|: Z, f, u and c are those of |J|. With an odd extent the antiferromagnet is frustrated
// and not covered.
//
// Infinite volume (L. Onsager, Phys. Rev. 65, 117 (1944)), with kappa = 2 sinh 2K / cosh^2 2K and the
// complete elliptic integral K_1 of the first kind:
//
//   -beta f = ln(2 cosh 2K) + (1/pi) int_0^{pi/2} dphi ln[(1 + sqrt(1 - kappa^2 sin^2 phi)) / 2],
//   u = -J coth 2K [1 + (2/pi) (2 tanh^2 2K - 1) K_1(kappa)].
//
// On the torus ln Z / N approaches -beta f exponentially fast away from K_c, up to ln 2 / N in the ordered
// phase (the two ground states), and like 1/N at K_c.
#include <cstdint>

namespace latflow::ising::exact {

/// The critical coupling K_c = beta_c J = ln(1 + sqrt 2) / 2.
inline constexpr double kCriticalCoupling = 0.44068679350977151262;

/// Per site and of the whole lattice, as defined above.
struct Thermodynamics {
  double log_z = 0;          ///< ln Z, Z = sum_s e^{-beta H[s]}
  double free_energy = 0;    ///< f = -ln Z / (beta N)
  double energy = 0;         ///< u = <H> / N
  double specific_heat = 0;  ///< c = beta^2 (<H^2> - <H>^2) / N
};

/// All of them at once. Requires finite beta > 0 and J != 0 with |beta J| <= 50 (beyond, e^{-8 beta |J|} <
/// 1e-173 and the columns' sinh^4 2K nears overflow), Lx, Ly >= 2, and even Lx and Ly when J < 0; a UserError
/// otherwise.
Thermodynamics thermodynamics(double beta, double J, std::int64_t Lx, std::int64_t Ly);
/// Whether thermodynamics() accepts these arguments.
bool covers(double beta, double J, std::int64_t Lx, std::int64_t Ly);

double log_partition_function(double beta, double J, std::int64_t Lx, std::int64_t Ly);
double free_energy(double beta, double J, std::int64_t Lx, std::int64_t Ly);
double energy(double beta, double J, std::int64_t Lx, std::int64_t Ly);
double specific_heat(double beta, double J, std::int64_t Lx, std::int64_t Ly);

/// Onsager's infinite-volume free energy and energy per site (the couplings of thermodynamics()).
double onsager_free_energy(double beta, double J);
double onsager_energy(double beta, double J);

}  // namespace latflow::ising::exact
