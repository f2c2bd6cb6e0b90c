#pragma once
// The pieces shared by the transforms that work bin by bin on an interval [lo, hi] (rational-quadratic spline,
// piecewise-linear, piecewise-quadratic): bins from unconstrained parameters, each element's bin, and the
// identity-anchored form in which they evaluate their maps.
//
// Identity-anchored form. On bin k, with x-knots x_k < x_{k+1}, y-knots y_k < y_{k+1} and
// xi = (x - x_k) / (x_{k+1} - x_k) in [0, 1], each map is written as
//
//   y = x + (1 - xi) (y_k - x_k) + xi (y_{k+1} - x_{k+1}) + bump(xi),     bump(0) = bump(1) = 0:
//
// the chord through the bin's corners, as an offset from the diagonal, plus a bump that bends it. It equals the
// usual y_k + (y_{k+1} - y_k) r(xi), but zero raw parameters give bit-identical x- and y-knots and a bump that
// vanishes term by term, so y = x + 0 exactly; and xi = 0 at the lower face and xi = 1 at the upper face give
// y = lo and y = hi exactly. The inverse is x = y - (the same offset at the solved xi).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "flows/elementwise/elementwise_transform.hpp"

namespace latflow::elementwise {

/// Bin fractions over the last dimension, m + (1 - K m) softmax(raw) with K = raw.size(-1) (the bins of Durkan et
/// al., arXiv 1906.04032): each >= m, summing to 1. Computed as 1/K + (1 - K m)(softmax(raw) - 1/K): softmax(0) is
/// exactly 1/K, so zero raw parameters give exactly 1/K whatever m, and x- and y-bins with different floors agree.
at::Tensor bin_fractions(const at::Tensor& raw, double minimum);

/// Knot derivatives m + softplus(raw + c): the floored softplus of Durkan et al., shifted by c = log(e^{1 - m} - 1)
/// so that raw = 0 gives 1 (the identity); > m, and exactly 1 at raw = 0 (computed as 1 + [softplus(raw + c) -
/// softplus(c)]).
at::Tensor knot_derivatives(const at::Tensor& raw, double minimum);

/// The knots lo, lo + (hi - lo) cumsum(f)_0, ..., hi of bins with fractions f [..., K], as [..., K + 1]; the ends
/// are exactly lo and hi (in the dtype of f).
at::Tensor knots(const at::Tensor& fractions, double lo, double hi);

/// Bin options shared by the binned transforms: bins >= 1 and each floor 0 < K m < 1 (UserError otherwise).
void check_bin_options(const std::string& transform, const ElementwiseOptions& options);
/// lo < hi, both finite (UserError otherwise).
void check_interval(const std::string& transform, double lo, double hi);

/// The bin of each element and its corners (x_k, y_k), (x_{k+1}, y_{k+1}), all shaped like the elements.
struct Bin {
  at::Tensor index;  ///< k in [0, K), int64
  at::Tensor x0, x1, y0, y1;
  at::Tensor width, height;  ///< x1 - x0, y1 - y0
};

/// The bin of each value among `edges`, the x-knots (forward) or the y-knots (inverse) [..., K + 1], which
/// broadcast against the values like x_knots and y_knots do; values below the first interior knot get bin 0,
/// values above the last one bin K - 1.
Bin locate(const at::Tensor& value, const at::Tensor& edges, const at::Tensor& x_knots, const at::Tensor& y_knots);

/// per_knot[..., k] per element, for knot indices k shaped like the elements (per_knot [..., K + 1] broadcasts).
at::Tensor at_knot(const at::Tensor& per_knot, const at::Tensor& k);

/// xi = (x - x_k) / (x_{k+1} - x_k), clamped to [0, 1]. An inverse evaluates its log-derivative here, at the x it
/// returns, rather than at the xi it solved for: the anchored x is insensitive to an error in the solved xi (its
/// derivative in xi is w (1 - dy/dx)), the log-derivative at that xi is not, and at x' it is -log f'(x') up to
/// rounding, consistent with the forward map.
at::Tensor position_in_bin(const Bin& bin, const at::Tensor& x);

/// (1 - xi)(y_k - x_k) + xi (y_{k+1} - x_{k+1}): y - x along the chord of the bin (the header's anchored form).
at::Tensor chord_offset(const Bin& bin, const at::Tensor& xi);

/// For an inverse: how far y lies from the nearer end of its bin, and whether that is the upper end. Solving for
/// the distance eta from that end (the maps here are symmetric under xi -> 1 - xi with the roles of the ends
/// exchanged) gives eta = 0, hence xi exactly 0 or 1, at the knots, so both faces invert exactly.
struct NearerEnd {
  at::Tensor upper;     ///< bool
  at::Tensor distance;  ///< y - y_k, or y_{k+1} - y where upper
};
NearerEnd nearer_end(const Bin& bin, const at::Tensor& y);
/// a where the lower end is nearer, b where the upper one is: the quantity at the near end, or (a, b swapped) at
/// the far end.
at::Tensor near(const NearerEnd& end, const at::Tensor& a, const at::Tensor& b);
/// xi from eta, the position measured from the nearer end, clamped to [0, 1] against rounding.
at::Tensor from_nearer_end(const NearerEnd& end, const at::Tensor& eta);

/// sum_j c_j B_j(xi) / sum_j B_j(xi) over the Bernstein polynomials of degree 1 (two coefficients) or 2 (three).
/// The denominator is 1 in exact arithmetic; dividing by its rounded value makes unit coefficients give exactly 1,
/// so slopes and log-derivatives are exactly 1 and 0 at the identity, while every term stays non-negative for
/// positive coefficients (full relative precision even where the mean is tiny).
at::Tensor bernstein_mean(const std::vector<at::Tensor>& coefficients, const at::Tensor& xi);

/// What a binned transform does outside [lo, hi]: NaN (interval domains, where such input is a bug upstream) or
/// the identity (the linear tails of the real-line spline).
enum class Outside { nan, identity };

/// map on [lo, hi], `outside` elsewhere. map runs on the values clamped to [lo, hi], so the discarded results are
/// finite and so are their (zero) gradients.
ElementwiseResult on_interval(const at::Tensor& values, double lo, double hi, Outside outside,
                              const std::function<ElementwiseResult(const at::Tensor&)>& map);

}  // namespace latflow::elementwise
