#pragma once
// Piecewise-quadratic transform on [lo, hi] (Müller, McWilliams, Rousselle, Gross & Novák, "Neural Importance
// Sampling", ACM TOG 2019, arXiv 1808.03856): the CDF of a piecewise-linear density. K bins of learnable widths
// W_k = (hi - lo) f_k, f = bin_fractions(raw_w) (bins.hpp), and K + 1 vertex values V_0..V_K, the density
// (= dy/dx) linear in between. As in the paper the vertex values are exponentials normalised so that the density
// integrates to 1 over [lo, hi],
//
//   V~_i = e^{raw_i} / sum_k f_k (e^{raw_k} + e^{raw_{k+1}}) / 2,
//
// and here they are also floored, V = m + (1 - m) V~ with m = min_derivative: the normalisation is kept (both
// terms integrate to 1) and dy/dx >= m for any raw parameters (Müller et al. have no floor; the exponentials are
// shifted by their maximum, so any finite raw parameters give finite results). In bin b, with
// alpha = (x - x_b) / W_b,
//
//   y = y_b + W_b [V_b alpha + (V_{b+1} - V_b) alpha^2 / 2],     dy/dx = V_b + alpha (V_{b+1} - V_b),
//   y_b = lo + sum_{k<b} W_k (V_k + V_{k+1}) / 2.
//
// Each bin's mass is taken from its knots, h_b = y_{b+1} - y_b, and the vertex values only through their shape
// t_b = 2 V_b / (V_b + V_{b+1}), t_{b+1} = 2 V_{b+1} / (V_b + V_{b+1}) (equal to the above in exact arithmetic), so
// that the rounding of the knots' cumulative sum cannot make the map and its log-derivative disagree:
//
//   y = x + (the chord offset of bins.hpp) + bump,     bump = -h_b (t_{b+1} - t_b) alpha (1 - alpha) / 2,
//   dy/dx = (h_b / W_b) [(1 - alpha) t_b + alpha t_{b+1}].
//
// Inverse: in the bin of y, the distance c from the nearer end (bins.hpp, nearer_end) satisfies
// c = h_b [t_n eta + (t_f - t_n) eta^2 / 2], t_n and t_f the shape at the near and far ends, with the root
// eta = 2c / (h_b t_n + sqrt((h_b t_n)^2 + 2 h_b (t_f - t_n) c)): a sum of non-negative terms in the denominator
// (no cancellation), exact at the knots.
//
// Layout (K = bins): [K width logits | K + 1 vertex logits raw_0..raw_K]: P = 2K + 1. Reads bins, min_bin_width,
// min_derivative, lo, hi.
#include <cstdint>
#include <string>

#include "flows/elementwise/elementwise_transform.hpp"

namespace latflow {

class PiecewiseQuadratic : public ElementwiseTransform {
 public:
  /// Throws UserError for invalid bins, floors or interval.
  explicit PiecewiseQuadratic(const ElementwiseOptions& options);

  std::string name() const override { return "piecewise_quadratic"; }
  std::int64_t parameters_per_element() const override { return 2 * options_.bins() + 1; }
  Domain domain() const override { return {Domain::Kind::interval, options_.lo(), options_.hi()}; }

 protected:
  ElementwiseResult forward_checked(const at::Tensor& x, const at::Tensor& params) const override;
  ElementwiseResult inverse_checked(const at::Tensor& y, const at::Tensor& params) const override;

 private:
  ElementwiseOptions options_;
};

}  // namespace latflow
