#include "flows/elementwise/piecewise_quadratic.hpp"

#include <torch/torch.h>

#include "flows/elementwise/bins.hpp"

namespace latflow {

using namespace elementwise;

namespace {
struct Knots {
  at::Tensor x, y, v;  ///< x- and y-knots and vertex densities, [..., K + 1] each
};

/// (a_k + a_{k+1}) / 2 over the last dimension, [..., K + 1] -> [..., K].
at::Tensor pair_mean(const at::Tensor& a) {
  const std::int64_t K = a.size(-1) - 1;
  return (a.narrow(-1, 0, K) + a.narrow(-1, 1, K)) / 2;
}

Knots quadratic_knots(const ElementwiseOptions& o, const at::Tensor& params) {
  const std::int64_t K = o.bins();
  const at::Tensor f = bin_fractions(params.narrow(-1, 0, K), o.min_bin_width());
  const at::Tensor raw = params.narrow(-1, K, K + 1);
  const at::Tensor e = torch::exp(raw - std::get<0>(raw.max(-1, true)));
  // The mass of e divided by sum(f) (1 in exact arithmetic): for zero raw parameters e = 1, the mass is
  // sum(f) / sum(f) = 1 exactly, and so is every V, which makes the identity exact.
  const at::Tensor mass = (f * pair_mean(e)).sum(-1, true) / f.sum(-1, true);
  const at::Tensor v = 1 + (1 - o.min_derivative()) * (e / mass - 1);
  return {knots(f, o.lo(), o.hi()), knots(f * pair_mean(v), o.lo(), o.hi()), v};
}

/// The density's shape on a bin: its vertex values relative to their mean, t0 + t1 = 2 (header).
struct Shape {
  at::Tensor t0, t1;

  at::Tensor bump(const Bin& bin, const at::Tensor& xi) const { return -bin.height * (t1 - t0) * xi * (1 - xi) / 2; }
  at::Tensor log_derivative(const Bin& bin, const at::Tensor& xi) const {
    return torch::log(bin.height / bin.width) + torch::log(bernstein_mean({t0, t1}, xi));
  }
};

Shape shape(const at::Tensor& v, const Bin& bin) {
  const at::Tensor v0 = at_knot(v, bin.index), v1 = at_knot(v, bin.index + 1);
  const at::Tensor sum = v0 + v1;
  return {2 * v0 / sum, 2 * v1 / sum};
}
}  // namespace

PiecewiseQuadratic::PiecewiseQuadratic(const ElementwiseOptions& options) : options_(options) {
  check_bin_options(name(), options_);
  check_interval(name(), options_.lo(), options_.hi());
}

ElementwiseResult PiecewiseQuadratic::forward_checked(const at::Tensor& x, const at::Tensor& params) const {
  const Knots kn = quadratic_knots(options_, params);
  return on_interval(x, options_.lo(), options_.hi(), Outside::nan, [&](const at::Tensor& u) -> ElementwiseResult {
    const Bin bin = locate(u, kn.x, kn.x, kn.y);
    const Shape sh = shape(kn.v, bin);
    const at::Tensor xi = (u - bin.x0) / bin.width;
    return {u + chord_offset(bin, xi) + sh.bump(bin, xi), sh.log_derivative(bin, xi)};
  });
}

ElementwiseResult PiecewiseQuadratic::inverse_checked(const at::Tensor& y, const at::Tensor& params) const {
  const Knots kn = quadratic_knots(options_, params);
  return on_interval(y, options_.lo(), options_.hi(), Outside::nan, [&](const at::Tensor& u) -> ElementwiseResult {
    const Bin bin = locate(u, kn.y, kn.x, kn.y);
    const Shape sh = shape(kn.v, bin);
    const NearerEnd end = nearer_end(bin, u);
    const at::Tensor t_near = near(end, sh.t0, sh.t1);
    const at::Tensor b = bin.height * t_near;
    const at::Tensor disc = b * b + 2 * bin.height * (near(end, sh.t1, sh.t0) - t_near) * end.distance;
    const at::Tensor xi = from_nearer_end(end, 2 * end.distance / (b + torch::sqrt(disc.clamp_min(0))));
    const at::Tensor x = u - chord_offset(bin, xi) - sh.bump(bin, xi);
    return {x, -sh.log_derivative(bin, position_in_bin(bin, x))};
  });
}

}  // namespace latflow
