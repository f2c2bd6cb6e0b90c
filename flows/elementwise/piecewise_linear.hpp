#pragma once
// Piecewise-linear transform on [lo, hi] (Müller, McWilliams, Rousselle, Gross & Novák, "Neural Importance
// Sampling", ACM TOG 2019, arXiv 1808.03856): the CDF of a piecewise-constant density on K bins of equal width
// w = (hi - lo) / K, with bin probabilities Q = bin_fractions(raw) (softmax over the K raw parameters; bins.hpp).
// For x in bin b, with alpha = (x - x_b) / w in [0, 1],
//
//   y = lo + (hi - lo) [sum_{k<b} Q_k + alpha Q_b],      dy/dx = K Q_b.
//
// The inverse finds the bin of y among the y-knots y_b = lo + (hi - lo) sum_{k<b} Q_k and takes
// alpha = (y - y_b) / (y_{b+1} - y_b). Both are evaluated in the identity-anchored form of bins.hpp (no bump), so
// zero raw parameters are exactly the identity and the faces map to themselves exactly.
//
// Unlike Müller et al.'s plain softmax, Q is floored at min_bin_height, so dy/dx >= K min_bin_height > 0 for any
// raw parameters (an underflowing Q would make the map flat and its log-derivative -infinity); any finite raw
// parameters give finite results.
//
// Layout (K = bins): [K bin logits]: P = K. Reads bins, min_bin_height, lo, hi; the equal-width x-bins are
// computed exactly as the y-bins of zero raw parameters (bins.hpp).
#include <cstdint>
#include <string>

#include "flows/elementwise/elementwise_transform.hpp"

namespace latflow {

class PiecewiseLinear : public ElementwiseTransform {
 public:
  /// Throws UserError for invalid bins, floors or interval.
  explicit PiecewiseLinear(const ElementwiseOptions& options);

  std::string name() const override { return "piecewise_linear"; }
  std::int64_t parameters_per_element() const override { return options_.bins(); }
  Domain domain() const override { return {Domain::Kind::interval, options_.lo(), options_.hi()}; }

 protected:
  ElementwiseResult forward_checked(const at::Tensor& x, const at::Tensor& params) const override;
  ElementwiseResult inverse_checked(const at::Tensor& y, const at::Tensor& params) const override;

 private:
  ElementwiseOptions options_;
};

}  // namespace latflow
