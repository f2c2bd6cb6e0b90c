#pragma once
// Mixture of non-compact projections (NCP) on the circle (Rezende, Papamakarios, Racaniere, Albergo, Kanwar,
// Shanahan & Cranmer, "Normalizing Flows on Tori and Spheres", ICML 2020, arXiv 2002.02428), the elementwise map of
// the U(1) gauge-equivariant flows of Kanwar et al. 2020 (arXiv 2003.06413) and of the tutorial of Albergo et al.
// 2021 (arXiv 2101.08176):
//
//   g_s(x) = 2 atan(e^s tan(x / 2))      (continued through x = pi: an increasing bijection of [0, 2 pi))
//   y = [ sum_i w_i g_{s_i}(x) + theta ] mod 2 pi,       w = softmax(raw weight logits),
//   dy/dx = sum_i w_i e^{s_i} / (cos^2(x/2) + e^{2 s_i} sin^2(x/2)).
//
// The log-scales are s_i = S tanh(raw_i / S), S = max_log_scale (20 by default): s ~ raw for |raw| << S, as in the
// papers, while every finite raw parameter keeps the slopes within [e^-S, e^S], finite with their gradients even
// in float32 (an unbounded e^s overflows there for |s| > 88, and its gradients for a few tens).
//
// Each g_s(x) - x is smooth and 2 pi-periodic, so the mixture is a diffeomorphism of the circle, smooth across the
// seam. tan is never evaluated: with c = cos(x/2), n = sin(x/2) (and atan a - atan b = atan((a - b)/(1 + ab))),
//
//   g_s(x) - x = 2 atan2(sinh(s/2) sin x, e^{-s/2} c^2 + e^{s/2} n^2),
//   log g_s'(x) = log(c^2 + n^2) - log(e^{-s} c^2 + e^{s} n^2),
//
// both exactly 0 at s = 0 (c^2 + n^2 is 1 up to rounding and cancels). The mixture's shift is the weighted mean of
// the shifts, and its log-derivative logsumexp_i(logit_i + log g_i') - logsumexp_i(logit_i), so zero raw parameters
// are exactly the identity, every term is non-negative (full relative precision for dy/dx anywhere), and the
// gradients stay finite when weights and slopes span many orders of magnitude.
//
// The mixture has no closed-form inverse. The inverse solves g(x) = (y - theta) mod 2 pi for x in [0, 2 pi],
// elementwise, by Newton's method safeguarded by bisection (rtsafe: Press et al., Numerical Recipes, 3rd ed.,
// sec. 9.4): a Newton step that leaves the bracket, or does not at least halve the step before last, is replaced
// by a bisection. It starts at x = y - theta (exact at the identity) and stops once every element has a step or a
// bracket below 2 eps 2 pi or a residual below eps 2 pi (eps of the dtype): near machine precision, in about
// 10-20 iterations for moderate log-scales (the bracket halves at least every other iteration, so at most
// 2 (mantissa bits) + 16 iterations). Its gradients come from the implicit function theorem: a last Newton step
// carrying the graph, whose value is zero.
//
// Layout (M = bins, the mixture components): [M weight logits | M raw log-scales | theta, if rotation]:
// P = 2M (+ 1). Every g_s fixes 0 and pi, so the mixture does too; the rotation (default; theta in radians) lets
// the layer move them.
#include <cstdint>
#include <string>

#include "flows/elementwise/elementwise_transform.hpp"

namespace latflow {

class NcpMixture : public ElementwiseTransform {
 public:
  /// Reads bins (the components, >= 1), max_log_scale (in (0, 40]) and rotation; UserError for invalid ones.
  explicit NcpMixture(const ElementwiseOptions& options);

  std::string name() const override { return "ncp_mixture"; }
  std::int64_t parameters_per_element() const override;
  Domain domain() const override;

 protected:
  ElementwiseResult forward_checked(const at::Tensor& x, const at::Tensor& params) const override;
  ElementwiseResult inverse_checked(const at::Tensor& y, const at::Tensor& params) const override;

 private:
  at::Tensor rotation(const at::Tensor& params) const;  ///< theta, or 0 without rotation

  ElementwiseOptions options_;
};

}  // namespace latflow
