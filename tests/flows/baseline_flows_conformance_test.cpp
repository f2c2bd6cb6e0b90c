// The flow conformance checks (flow_checks.hpp) applied to the baseline flows, each built from its Options
// with weights moved away from the identity initialisation, on every registered base distribution.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "flow_checks.hpp"
#include "flows/coupling_flow.hpp"
#include "flows/hierarchical.hpp"
#include "test_models.hpp"
#include "lattice/registry.hpp"

using namespace latflow;

namespace {
struct Candidate {
  std::string name;
  std::function<TransformPtr()> make;
  std::vector<Lattice> lattices;  ///< where round trip and Jacobian are checked; the first also normalisation
  /// Scales of the random weights: far from the identity for round trip and Jacobian, nearer it for the
  /// normalisation. A spline's many outputs per site bend it more per unit of weight: at 0.3 its bins reach the
  /// floors and the composed map is too ill-conditioned for a 1e-12 round trip (rounding, not a bug), so the
  /// spline flows are randomised at 0.1, where they still move sites by O(1).
  double far = 0.3, near = 0.05;
  /// Normalisation tests the constants and the log-det bookkeeping of the whole flow, which a variant of the same
  /// layers (Z2-symmetrised, dense) shares; its round trip and Jacobian are still checked. Skipping it there keeps
  /// the suite's time (40,000 samples per prior).
  bool normalisation = true;
};

std::vector<Candidate> candidates() {
  const ConditionerOptions small = ConditionerOptions().hidden({4, 4});
  const auto coupling = [small](bool z2, std::int64_t spline_layers = 0, std::string network = "conv") {
    return [=]() -> TransformPtr {
      return CouplingFlow(CouplingFlowOptions()
                              .layers(4)
                              .spline_layers(spline_layers)
                              .spline(ElementwiseOptions().bins(4).bound(2.0))
                              .rescale(spline_layers > 0)
                              .conditioner(ConditionerOptions(small).z2(z2).network(network).T(4).L(4)))
          .ptr();
    };
  };
  const auto hierarchical = [small](bool z2, std::int64_t coarse_L, std::int64_t levels, double base_m2 = 0,
                                    std::int64_t splines = 0) {
    return [=]() -> TransformPtr {
      return Hierarchical(HierarchicalOptions()
                              .coarse_L(coarse_L)
                              .coarse_layers(2)
                              .levels(levels)
                              .rounds(1)
                              .spline_layers(splines)
                              .spline_rounds(splines)
                              .spline(ElementwiseOptions().bins(4).bound(2.0))
                              .base_m2(base_m2)
                              .conditioner(ConditionerOptions(small).z2(z2)))
          .ptr();
    };
  };
  return {
      {"coupling", coupling(false), {Lattice::square(4), Lattice::square(8), {4, 6}}},
      {"coupling z2", coupling(true), {Lattice::square(4), Lattice::square(8)}},
      {"coupling splines rescale", coupling(false, 2), {Lattice::square(4), Lattice::square(8), {4, 6}}, 0.1, 0.02},
      {"coupling splines z2", coupling(true, 2), {Lattice::square(4)}, 0.1, 0.02, false},
      {"coupling dense splines z2", coupling(true, 2, "dense"), {Lattice::square(4)}, 0.1, 0.02, false},
      {"hierarchical l0=2", hierarchical(false, 2, 1), {Lattice::square(4), Lattice::square(8), {8, 4}}},
      {"hierarchical l0=4 z2", hierarchical(true, 4, 1), {Lattice::square(4), Lattice::square(8)}},
      // The free-field shears between levels (at the default model.prior_m2): their determinant is 1 on any base.
      {"hierarchical l0=2 free-field shears", hierarchical(false, 2, 2, 1.0),
       {Lattice::square(4), {8, 4}, Lattice::square(8), Lattice::square(16)}},
      {"hierarchical splines z2 free-field shears", hierarchical(true, 2, 1, 1.0, 1), {Lattice::square(4), Lattice::square(8)},
       0.1, 0.02, false},
  };
}
}  // namespace

TEST_CASE("baseline flows: round trip, log-det = log|det J| and normalisation", "[flows][conformance]") {
  const Config card = parse_runcard("", "", {}).config;  // the priors' own defaults (model.prior_m2, ...)
  std::uint64_t seed = 20;
  for (const Candidate& c : candidates()) {
    // Round trip and Jacobian are properties of the transform: checked once, on samples of the real
    // normal prior.
    torch::manual_seed(++seed);
    FlowImpl flow(prior_registry().create("normal", card), c.make());
    flow.to(torch::kFloat64);
    testing::randomise(flow, c.far, seed);
    for (const Lattice& lattice : c.lattices) {
      INFO(c.name << " on " << lattice.str());
      const at::Tensor z = flow.prior().sample(3, lattice, flow.tensor_options());
      testing::check_roundtrip(flow.transform(), z, 1e-12);
      testing::check_logdet_vs_autograd(flow.transform(), z.narrow(0, 0, 2), 1e-10);
    }
    // Normalisation involves the base density: checked on every registered prior. E_q[g/q] = 1 needs q
    // close enough to a Gaussian for g/q to have a finite variance: weights nearer the identity, still
    // far enough from it that a wrong constant in log q shows.
    if (!c.normalisation) continue;
    for (const auto& prior : prior_registry().entries()) {
      if (prior.build(card)->sample_shape(c.lattices.front()).size() != 2) continue;  // not a scalar field
      INFO(c.name << " from the '" << prior.name << "' prior");
      torch::manual_seed(seed);
      FlowImpl mild(prior.build(card), c.make());
      mild.to(torch::kFloat64);
      testing::randomise(mild, c.near, seed);
      testing::check_normalisation(mild, c.lattices.front(), 40000, 0.03);
    }
  }
}
