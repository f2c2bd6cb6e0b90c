#include "flows/registry.hpp"

#include "flows/affine_coupling.hpp"
#include "flows/continuous_flow.hpp"
#include "flows/gauge_coupling.hpp"
#include "flows/hierarchical.hpp"
#include "lattice/registry.hpp"
#include "operators/registry.hpp"

namespace latflow {

odes::SolverOptions solver_options(const Config& card) {
  odes::SolverOptions s;
  s.method = card.get<std::string>("solver.method");
  s.steps = card.get<std::int64_t>("solver.steps");
  s.rtol = card.get<double>("solver.rtol");
  s.atol = card.get<double>("solver.atol");
  s.gradient = card.get<std::string>("solver.gradient");
  return s;
}

namespace {
FlowPtr operator_cnf(const Config& c) {
  auto op = operator_registry().create(c.get<std::string>("model.operator"), c);
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    std::make_shared<ContinuousFlowImpl>(op, solver_options(c)));
}
FlowPtr coupling(const Config& c) {
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    AffineCoupling(affine_coupling_options(c)).ptr());
}
FlowPtr gauge_coupling(const Config& c) {
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    GaugeCoupling(gauge_coupling_options(c)).ptr());
}
FlowPtr hierarchical(const Config& c) {
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    Hierarchical(hierarchical_options(c)).ptr());
}
}  // namespace

const Registry<FlowPtr, const Config&>& flow_registry() {
  static const auto registry = [] {
    Registry<FlowPtr, const Config&> r("model type");
    r.add("operator_cnf", "continuous flow of a neural operator from the free theory (Máté & Fleuret 2024)",
          operator_cnf);
    r.add("coupling", "affine coupling layers on checkerboards (RealNVP; Albergo, Kanwar, Shanahan 2019)", coupling);
    r.add("hierarchical", "coarse-to-fine coupling flow, parameters growing like log L (docs/hierarchical.md)",
          hierarchical);
    r.add("gauge_coupling", "U(1) gauge-equivariant coupling flow on plaquettes, circular splines (Kanwar et al. 2020)",
          gauge_coupling);
    return r;
  }();
  return registry;
}

}  // namespace latflow
