#include "flows/elementwise/piecewise_linear.hpp"

#include <torch/torch.h>

#include "flows/elementwise/bins.hpp"

namespace latflow {

using namespace elementwise;

namespace {
struct Knots {
  at::Tensor x, y;
};

Knots linear_knots(const ElementwiseOptions& o, const at::Tensor& params) {
  // The x-bins from zeros of the same shape run through the same floor and cumsum as the y-bins, so zero raw
  // parameters give bit-identical knots.
  const double m = o.min_bin_height();
  return {knots(bin_fractions(torch::zeros_like(params), m), o.lo(), o.hi()),
          knots(bin_fractions(params, m), o.lo(), o.hi())};
}

/// log dy/dx = log(h_b / w): exactly 0 where the bin is unchanged.
at::Tensor log_slope(const Bin& bin) { return torch::log(bin.height / bin.width); }
}  // namespace

PiecewiseLinear::PiecewiseLinear(const ElementwiseOptions& options) : options_(options) {
  check_bin_options(name(), options_);
  check_interval(name(), options_.lo(), options_.hi());
}

ElementwiseResult PiecewiseLinear::forward_checked(const at::Tensor& x, const at::Tensor& params) const {
  const Knots kn = linear_knots(options_, params);
  return on_interval(x, options_.lo(), options_.hi(), Outside::nan, [&](const at::Tensor& v) -> ElementwiseResult {
    const Bin bin = locate(v, kn.x, kn.x, kn.y);
    return {v + chord_offset(bin, (v - bin.x0) / bin.width), log_slope(bin)};
  });
}

ElementwiseResult PiecewiseLinear::inverse_checked(const at::Tensor& y, const at::Tensor& params) const {
  const Knots kn = linear_knots(options_, params);
  return on_interval(y, options_.lo(), options_.hi(), Outside::nan, [&](const at::Tensor& v) -> ElementwiseResult {
    const Bin bin = locate(v, kn.y, kn.x, kn.y);
    return {v - chord_offset(bin, (v - bin.y0) / bin.height), -log_slope(bin)};
  });
}

}  // namespace latflow
