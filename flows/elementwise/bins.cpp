#include "flows/elementwise/bins.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include <torch/torch.h>

namespace latflow::elementwise {

namespace {
std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
}  // namespace

at::Tensor bin_fractions(const at::Tensor& raw, double minimum) {
  const auto K = static_cast<double>(raw.size(-1));
  // 1/K as a tensor, so it is the dtype's own rounding of 1/K: exactly what softmax gives for equal inputs.
  const at::Tensor uniform = torch::ones({}, raw.options()) / K;
  return uniform + (1 - K * minimum) * (torch::softmax(raw, -1) - uniform);
}

at::Tensor knot_derivatives(const at::Tensor& raw, double minimum) {
  const double c = std::log(std::expm1(1 - minimum));
  return 1 + (torch::softplus(raw + c) - torch::softplus(torch::zeros_like(raw) + c));
}

at::Tensor knots(const at::Tensor& fractions, double lo, double hi) {
  const std::int64_t K = fractions.size(-1);
  std::vector<std::int64_t> end_shape = fractions.sizes().vec();
  end_shape.back() = 1;
  const at::Tensor inner = lo + (hi - lo) * fractions.cumsum(-1).narrow(-1, 0, K - 1);
  return torch::cat(
      {torch::full(end_shape, lo, fractions.options()), inner, torch::full(end_shape, hi, fractions.options())}, -1);
}

void check_bin_options(const std::string& transform, const ElementwiseOptions& o) {
  require_option(o.bins() >= 1, transform, "bins", ">= 1", static_cast<double>(o.bins()));
  const auto K = static_cast<double>(o.bins());
  const std::string allowed = "in (0, 1/bins) = (0, " + number(1 / K) + ")";
  require_option(o.min_bin_width() > 0 && K * o.min_bin_width() < 1, transform, "min_bin_width", allowed,
                 o.min_bin_width());
  require_option(o.min_bin_height() > 0 && K * o.min_bin_height() < 1, transform, "min_bin_height", allowed,
                 o.min_bin_height());
  require_option(o.min_derivative() > 0 && o.min_derivative() < 1, transform, "min_derivative", "in (0, 1)",
                 o.min_derivative());
}

void check_interval(const std::string& transform, double lo, double hi) {
  require_option(std::isfinite(lo), transform, "lo", "finite", lo);
  require_option(std::isfinite(hi) && hi > lo, transform, "hi", "finite and > lo = " + number(lo), hi);
}

at::Tensor at_knot(const at::Tensor& per_knot, const at::Tensor& k) {
  std::vector<std::int64_t> shape = k.sizes().vec();
  shape.push_back(per_knot.size(-1));
  return per_knot.expand(shape).gather(-1, k.unsqueeze(-1)).squeeze(-1);
}

Bin locate(const at::Tensor& value, const at::Tensor& edges, const at::Tensor& x_knots, const at::Tensor& y_knots) {
  const std::int64_t K = edges.size(-1) - 1;
  // Counting the interior knots at or below the value finds the bin with broadcasting (searchsorted does not
  // broadcast) and puts x = hi in the last bin; K is small.
  const at::Tensor k = (value.unsqueeze(-1) >= edges.narrow(-1, 1, K - 1)).sum(-1);
  Bin b;
  b.index = k;
  b.x0 = at_knot(x_knots, k);
  b.x1 = at_knot(x_knots, k + 1);
  b.y0 = at_knot(y_knots, k);
  b.y1 = at_knot(y_knots, k + 1);
  b.width = b.x1 - b.x0;
  b.height = b.y1 - b.y0;
  return b;
}

at::Tensor position_in_bin(const Bin& bin, const at::Tensor& x) { return ((x - bin.x0) / bin.width).clamp(0, 1); }

at::Tensor chord_offset(const Bin& bin, const at::Tensor& xi) {
  return (1 - xi) * (bin.y0 - bin.x0) + xi * (bin.y1 - bin.x1);
}

NearerEnd nearer_end(const Bin& bin, const at::Tensor& y) {
  const at::Tensor from_below = y - bin.y0;
  const at::Tensor upper = 2 * from_below > bin.height;
  return {upper, torch::where(upper, bin.y1 - y, from_below)};
}

at::Tensor near(const NearerEnd& end, const at::Tensor& a, const at::Tensor& b) {
  return torch::where(end.upper, b, a);
}

at::Tensor from_nearer_end(const NearerEnd& end, const at::Tensor& eta) {
  return torch::where(end.upper, 1 - eta, eta).clamp(0, 1);
}

at::Tensor bernstein_mean(const std::vector<at::Tensor>& c, const at::Tensor& xi) {
  const at::Tensor rest = 1 - xi;
  std::vector<at::Tensor> basis;
  if (c.size() == 2)
    basis = {rest, xi};
  else
    basis = {rest * rest, 2 * xi * rest, xi * xi};
  TORCH_CHECK(c.size() == basis.size(), "bernstein_mean: degree 1 or 2");
  at::Tensor num = c[0] * basis[0], den = basis[0];
  for (std::size_t j = 1; j < c.size(); ++j) {
    num = num + c[j] * basis[j];
    den = den + basis[j];
  }
  return num / den;
}

ElementwiseResult on_interval(const at::Tensor& values, double lo, double hi, Outside outside,
                              const std::function<ElementwiseResult(const at::Tensor&)>& map) {
  const at::Tensor inside = values.ge(lo).logical_and(values.le(hi));
  const ElementwiseResult r = map(values.clamp(lo, hi));
  if (outside == Outside::identity)
    return {torch::where(inside, r.y, values), torch::where(inside, r.log_derivative, torch::zeros_like(values))};
  const at::Tensor nan = torch::full({}, std::numeric_limits<double>::quiet_NaN(), values.options());
  return {torch::where(inside, r.y, nan), torch::where(inside, r.log_derivative, nan)};
}

}  // namespace latflow::elementwise
