#pragma once
// What an integration card ([integrand], [nis], [vegas], [run]) builds: the integrand, the flow on the cube and
// the options of the comparison (integration/comparison.hpp). `latflow integrate` and `config check` use them.
#include "core/config.hpp"
#include "integration/comparison.hpp"
#include "integration/cube_flow.hpp"
#include "integration/integrand.hpp"

namespace latflow {

IntegrandPtr integrand_of(const Config& card);
/// The flow, on run.device in nis.dtype.
CubeFlow cube_flow_of(const Config& card);
ComparisonOptions comparison_options_of(const Config& card);

}  // namespace latflow
