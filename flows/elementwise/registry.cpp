#include "flows/elementwise/registry.hpp"

#include "flows/elementwise/ncp_mixture.hpp"
#include "flows/elementwise/piecewise_linear.hpp"
#include "flows/elementwise/piecewise_quadratic.hpp"
#include "flows/elementwise/rational_quadratic_spline.hpp"

namespace latflow {

namespace {
template <class T>
ElementwisePtr make(const ElementwiseOptions& o) {
  return std::make_shared<const T>(o);
}

auto spline(RationalQuadraticSpline::Kind kind) {
  return [kind](const ElementwiseOptions& o) -> ElementwisePtr {
    return std::make_shared<const RationalQuadraticSpline>(kind, o);
  };
}
}  // namespace

const Registry<ElementwisePtr, const ElementwiseOptions&>& elementwise_registry() {
  using Kind = RationalQuadraticSpline::Kind;
  static const auto registry =
      Registry<ElementwisePtr, const ElementwiseOptions&>("elementwise transform")
          .add("rq_spline_interval",
               "rational-quadratic spline on [lo, hi] with learnt face derivatives (Durkan et al. 2019); bins",
               spline(Kind::interval))
          .add("rq_spline_real_line",
               "rational-quadratic spline on [-bound, bound], identity tails (Durkan et al. 2019); bins, bound",
               spline(Kind::real_line))
          .add("rq_spline_circle",
               "circular rational-quadratic spline on [0, 2 pi), C^1 seam, rotation (Rezende et al. 2020); bins",
               spline(Kind::circle))
          .add("piecewise_linear", "CDF of a piecewise-constant density on [lo, hi] (Müller et al. 2019); bins",
               make<PiecewiseLinear>)
          .add("piecewise_quadratic",
               "CDF of a piecewise-linear density on [lo, hi], learnt bin widths (Müller et al. 2019); bins",
               make<PiecewiseQuadratic>)
          .add("ncp_mixture",
               "mixture of non-compact projections on [0, 2 pi) with rotation (Rezende et al. 2020); bins = components",
               make<NcpMixture>);
  return registry;
}

}  // namespace latflow
