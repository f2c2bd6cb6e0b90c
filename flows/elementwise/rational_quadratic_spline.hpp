#pragma once
// Rational-quadratic spline (Durkan, Bekasov, Murray & Papamakarios, "Neural Spline Flows", NeurIPS 2019,
// arXiv 1906.04032; the rational-quadratic interpolant of Gregory & Delbourgo 1982), on an interval, on the real
// line with linear tails, and on the circle (Rezende, Papamakarios, Racaniere, Albergo, Kanwar, Shanahan &
// Cranmer, "Normalizing Flows on Tori and Spheres", ICML 2020, arXiv 2002.02428).
//
// K bins on [lo, hi]: widths w_k and heights h_k are (hi - lo) bin_fractions(raw) (softmax with floors
// min_bin_width, min_bin_height; bins.hpp), giving knots (x_k, y_k), k = 0..K, and the derivatives d_k at the
// knots are knot_derivatives(raw) (> min_derivative, 1 at raw = 0). On bin k, with xi = (x - x_k) / w_k and
// s_k = h_k / w_k,
//
//   y = y_k + h_k [s_k xi^2 + d_k xi (1 - xi)] / D,          D = s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi)
//   dy/dx = s_k^2 [d_{k+1} xi^2 + 2 s_k xi (1 - xi) + d_k (1 - xi)^2] / D^2
//
// strictly increasing, C^1, with dy/dx = d_k at the knots. It is evaluated in the identity-anchored form of
// bins.hpp with bump = h_k xi (1 - xi) [(d_k - s_k)(1 - xi) - (d_{k+1} - s_k) xi] / D, and with D and the bracket
// of dy/dx as Bernstein means (bins.hpp), so that zero raw parameters are exactly the identity.
//
// Inverse: on the bin of y, xi is the root in [0, 1] of a xi^2 + b xi + c = 0 (Durkan et al.),
//   a = h_k (s_k - d_k) + (y - y_k) delta,   b = h_k d_k - (y - y_k) delta,   c = -s_k (y - y_k),
//   delta = d_{k+1} + d_k - 2 s_k,
// taken in the numerically stable form xi = 2c / (-b - sqrt(b^2 - 4ac)) of the paper where b >= 0. That form
// cancels where b < 0 (possible when d_{k+1} > d_k + 2 s_k); there a > 0 (since a + b = h_k s_k > 0) and the
// textbook (-b + sqrt(b^2 - 4ac)) / 2a has no cancellation. The quadratic is set up from the nearer end of the bin
// (bins.hpp, nearer_end), so the upper face inverts exactly too, and the log-derivative is evaluated at the x
// returned (bins.hpp, position_in_bin).
//
// Kinds, with the layout of the P raw parameters per element (K = bins):
//   interval   on [lo, hi], no tails (the unit hypercube of neural importance sampling). All K + 1 derivatives
//              are learnable, the two at the faces included, so the density at a face is learnt (>= the floor)
//              rather than imposed.   [K width logits | K height logits | d_0 .. d_K]:            P = 3K + 1
//   real_line  on [-B, B], B = bound, and the identity outside (the linear tails of slope 1 of Durkan et al.);
//              d_0 = d_K = 1 match the tails, so the map is C^1 on the whole line.
//                                     [K width logits | K height logits | d_1 .. d_{K-1}]:        P = 3K - 1
//   circle     on [0, 2 pi), with d_K = d_0 (one raw parameter), so the map is C^1 across the seam: a
//              diffeomorphism of the circle (Rezende et al.). The spline alone fixes the angle 0; with
//              `rotation` (default) it is followed by y -> y + theta mod 2 pi (theta = the last raw parameter,
//              in radians), which moves that fixed point, as in Rezende et al.
//                                     [K width logits | K height logits | d_0 .. d_{K-1} | theta]: P = 3K (+ 1)
// Floating-point range: finite for raw parameters up to ~1e15 in magnitude in float32, and far beyond in float64
// (the squared knot derivatives of the inverse are the first to overflow).
#include <cstdint>
#include <string>
#include <vector>

#include "flows/elementwise/elementwise_transform.hpp"

namespace latflow {

class RationalQuadraticSpline : public ElementwiseTransform {
 public:
  enum class Kind { interval, real_line, circle };

  /// Reads bins and the three floors; lo and hi (interval), bound (real_line), rotation (circle). Throws
  /// UserError for invalid ones.
  RationalQuadraticSpline(Kind kind, const ElementwiseOptions& options);

  std::string name() const override;
  std::int64_t parameters_per_element() const override;
  Domain domain() const override;

  /// real_line only (UserError otherwise): the order of the raw parameters that gives the point reflection of
  /// the map through 0, f(-x; theta[order]) = -f(x; theta) with equal log-derivatives: widths, heights and
  /// interior derivatives each reversed (the knots mirror, and the rational-quadratic segment through mirrored
  /// knots with mirrored derivatives is the mirrored segment). A Z2-equivariant coupling symmetrises with it.
  std::vector<std::int64_t> point_reflection() const;

 protected:
  ElementwiseResult forward_checked(const at::Tensor& x, const at::Tensor& params) const override;
  ElementwiseResult inverse_checked(const at::Tensor& y, const at::Tensor& params) const override;

 private:
  bool rotates() const { return kind_ == Kind::circle && options_.rotation(); }

  Kind kind_;
  ElementwiseOptions options_;
  double lo_, hi_;  ///< where the spline acts
};

}  // namespace latflow
