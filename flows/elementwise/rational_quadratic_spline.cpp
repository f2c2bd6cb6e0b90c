#include "flows/elementwise/rational_quadratic_spline.hpp"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "core/error.hpp"
#include "flows/elementwise/bins.hpp"
#include "flows/elementwise/circle.hpp"

namespace latflow {

using namespace elementwise;

namespace {
using Kind = RationalQuadraticSpline::Kind;

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::interval:
      return "rq_spline_interval";
    case Kind::real_line:
      return "rq_spline_real_line";
    case Kind::circle:
      break;
  }
  return "rq_spline_circle";
}

/// The bin's rational-quadratic segment (the header's formulas) with s = h / w: the bump of the anchored form,
/// and log dy/dx.
struct Segment {
  const Bin& bin;
  at::Tensor dk, dk1, s;

  at::Tensor denominator(const at::Tensor& xi) const { return bernstein_mean({s, (dk + dk1) / 2, s}, xi); }
  at::Tensor bump(const at::Tensor& xi) const {
    return bin.height * xi * (1 - xi) * ((dk - s) * (1 - xi) - (dk1 - s) * xi) / denominator(xi);
  }
  at::Tensor log_derivative(const at::Tensor& xi) const {
    return 2 * torch::log(s) + torch::log(bernstein_mean({dk, s, dk1}, xi)) - 2 * torch::log(denominator(xi));
  }
};

Segment segment(const Bin& bin, const at::Tensor& d) {
  return {bin, at_knot(d, bin.index), at_knot(d, bin.index + 1), bin.height / bin.width};
}

struct Knots {
  at::Tensor x, y, d;  ///< [..., K + 1] each
};

Knots spline_knots(Kind kind, const ElementwiseOptions& o, double lo, double hi, const at::Tensor& params) {
  const std::int64_t K = o.bins();
  const at::Tensor x = knots(bin_fractions(params.narrow(-1, 0, K), o.min_bin_width()), lo, hi);
  const at::Tensor y = knots(bin_fractions(params.narrow(-1, K, K), o.min_bin_height()), lo, hi);
  const auto derivatives = [&](std::int64_t n) {
    return knot_derivatives(params.narrow(-1, 2 * K, n), o.min_derivative());
  };
  switch (kind) {
    case Kind::interval:
      return {x, y, derivatives(K + 1)};
    case Kind::real_line: {
      const at::Tensor one = torch::ones_like(x.narrow(-1, 0, 1));
      return {x, y, torch::cat({one, derivatives(K - 1), one}, -1)};
    }
    case Kind::circle:
      break;
  }
  const at::Tensor d = derivatives(K);
  return {x, y, torch::cat({d, d.narrow(-1, 0, 1)}, -1)};
}

ElementwiseResult spline_forward(const at::Tensor& x, const Knots& kn) {
  const Bin bin = locate(x, kn.x, kn.x, kn.y);
  const Segment seg = segment(bin, kn.d);
  const at::Tensor xi = (x - bin.x0) / bin.width;
  return {x + chord_offset(bin, xi) + seg.bump(xi), seg.log_derivative(xi)};
}

ElementwiseResult spline_inverse(const at::Tensor& y, const Knots& kn) {
  const Bin bin = locate(y, kn.y, kn.x, kn.y);
  const Segment seg = segment(bin, kn.d);
  const NearerEnd end = nearer_end(bin, y);
  const at::Tensor d_near = near(end, seg.dk, seg.dk1);
  const at::Tensor delta_c = end.distance * (d_near + near(end, seg.dk1, seg.dk) - 2 * seg.s);
  const at::Tensor a = bin.height * (seg.s - d_near) + delta_c;
  const at::Tensor b = bin.height * d_near - delta_c;
  const at::Tensor c = -seg.s * end.distance;
  const at::Tensor root = torch::sqrt((b * b - 4 * a * c).clamp_min(0));
  // The paper's form 2c / (-b - root) for b >= 0; for b < 0 (when d_far > d_near + 2s) it cancels, and then a > 0
  // and (-b + root) / 2a has no cancellation. Each branch divides by a safe value where it is not taken, so
  // neither the value nor the gradient of the other can be inf or NaN.
  const at::Tensor negative = b < 0;
  const at::Tensor paper = 2 * c / torch::where(negative, -torch::ones_like(b), -b - root);
  const at::Tensor conventional = (root - b) / torch::where(negative, 2 * a, torch::ones_like(a));
  const at::Tensor xi = from_nearer_end(end, torch::where(negative, conventional, paper));
  const at::Tensor x = y - chord_offset(bin, xi) - seg.bump(xi);
  return {x, -seg.log_derivative(position_in_bin(bin, x))};
}
}  // namespace

RationalQuadraticSpline::RationalQuadraticSpline(Kind kind, const ElementwiseOptions& options)
    : kind_(kind), options_(options) {
  const std::string who = name();
  check_bin_options(who, options_);
  switch (kind_) {
    case Kind::interval:
      check_interval(who, options_.lo(), options_.hi());
      lo_ = options_.lo();
      hi_ = options_.hi();
      break;
    case Kind::real_line:
      require_option(std::isfinite(options_.bound()) && options_.bound() > 0, who, "bound", "finite and > 0",
                     options_.bound());
      lo_ = -options_.bound();
      hi_ = options_.bound();
      break;
    case Kind::circle:
      lo_ = 0;
      hi_ = two_pi;
      break;
  }
}

std::string RationalQuadraticSpline::name() const { return kind_name(kind_); }

std::int64_t RationalQuadraticSpline::parameters_per_element() const {
  const std::int64_t K = options_.bins();
  switch (kind_) {
    case Kind::interval:
      return 3 * K + 1;
    case Kind::real_line:
      return 3 * K - 1;
    case Kind::circle:
      break;
  }
  return 3 * K + (options_.rotation() ? 1 : 0);
}

Domain RationalQuadraticSpline::domain() const {
  switch (kind_) {
    case Kind::interval:
      return {Domain::Kind::interval, lo_, hi_};
    case Kind::real_line:
      break;
    case Kind::circle:
      return {Domain::Kind::circle, 0, two_pi};
  }
  const double inf = std::numeric_limits<double>::infinity();
  return {Domain::Kind::real_line, -inf, inf};
}

std::vector<std::int64_t> RationalQuadraticSpline::point_reflection() const {
  if (kind_ != Kind::real_line)
    throw UserError(name() + ": only the real-line spline is symmetric about 0 and has a point reflection");
  const std::int64_t K = options_.bins();
  std::vector<std::int64_t> order;
  const auto reversed = [&](std::int64_t first, std::int64_t n) {
    for (std::int64_t i = n - 1; i >= 0; --i) order.push_back(first + i);
  };
  reversed(0, K);          // widths
  reversed(K, K);          // heights
  reversed(2 * K, K - 1);  // d_1 .. d_{K-1}
  return order;
}

ElementwiseResult RationalQuadraticSpline::forward_checked(const at::Tensor& x, const at::Tensor& params) const {
  const Knots kn = spline_knots(kind_, options_, lo_, hi_, params);
  if (kind_ != Kind::circle)
    return on_interval(x, lo_, hi_, kind_ == Kind::real_line ? Outside::identity : Outside::nan,
                       [&](const at::Tensor& v) { return spline_forward(v, kn); });
  const ElementwiseResult r = spline_forward(wrap_angle(x), kn);
  // Wrapped even without a rotation: x just below 2 pi may round to y = 2 pi, which is 0 on the circle.
  return {wrap_angle(rotates() ? r.y + params.select(-1, 3 * options_.bins()) : r.y), r.log_derivative};
}

ElementwiseResult RationalQuadraticSpline::inverse_checked(const at::Tensor& y, const at::Tensor& params) const {
  const Knots kn = spline_knots(kind_, options_, lo_, hi_, params);
  if (kind_ != Kind::circle)
    return on_interval(y, lo_, hi_, kind_ == Kind::real_line ? Outside::identity : Outside::nan,
                       [&](const at::Tensor& v) { return spline_inverse(v, kn); });
  const at::Tensor u = rotates() ? wrap_angle(y - params.select(-1, 3 * options_.bins())) : wrap_angle(y);
  const ElementwiseResult r = spline_inverse(u, kn);
  return {wrap_angle(r.y), r.log_derivative};
}

}  // namespace latflow
