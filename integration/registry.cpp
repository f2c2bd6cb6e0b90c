#include "integration/registry.hpp"

#include "integration/camel.hpp"
#include "integration/gaussian.hpp"
#include "integration/sinusoid.hpp"
#include "integration/slashed_circle.hpp"

namespace latflow {

namespace {
template <class T>
IntegrandPtr make(const IntegrandOptions& o) {
  if (o.dimension() < 1)
    throw UserError("integrand: dimension must be an integer >= 1; got " + std::to_string(o.dimension()));
  return std::make_shared<const T>(o);
}
}  // namespace

const Registry<IntegrandPtr, const IntegrandOptions&>& integrand_registry() {
  static const auto registry =
      Registry<IntegrandPtr, const IntegrandOptions&>("integrand")
          .add("gaussian", "exp(-sum ((x_i - 1/2) / s)^2), exact integral (ZüNIS); width = s",
               make<GaussianIntegrand>)
          .add("camel", "two Gaussians at 1/4 and 3/4 on the diagonal, exact integral (ZüNIS); width = s",
               make<CamelIntegrand>)
          .add("slashed_circle", "ring about the centre plus a diagonal ridge, clipped at 0.9 (ZüNIS); width, radius",
               make<SlashedCircleIntegrand>)
          .add("sinusoid", "offset + cos^2(frequency sum x_i), exact integral (ZüNIS); frequency, offset",
               make<SinusoidIntegrand>);
  return registry;
}

}  // namespace latflow
