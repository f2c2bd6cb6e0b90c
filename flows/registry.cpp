#include "flows/registry.hpp"

#include "autoregressive/han.hpp"
#include "autoregressive/symmetrized.hpp"
#include "autoregressive/van.hpp"

#include "flows/coupling_flow.hpp"
#include "flows/continuous_flow.hpp"
#include "flows/flow.hpp"
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
SamplerPtr operator_cnf(const Config& c) {
  auto op = operator_registry().create(c.get<std::string>("model.operator"), c);
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    std::make_shared<ContinuousFlowImpl>(op, solver_options(c)));
}
SamplerPtr coupling(const Config& c) {
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    CouplingFlow(coupling_flow_options(c)).ptr());
}
SamplerPtr gauge_coupling(const Config& c) {
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    GaugeCoupling(gauge_coupling_options(c)).ptr());
}
SamplerPtr hierarchical(const Config& c) {
  return std::make_shared<FlowImpl>(prior_registry().create(c.get<std::string>("model.prior"), c),
                                    Hierarchical(hierarchical_options(c)).ptr());
}
MadeArchitecture made_architecture(const Config& c) {
  return MadeArchitecture()
      .depth(c.get<std::int64_t>("model.made_depth"))
      .width(c.get<std::int64_t>("model.made_width"));
}
/// `model.symmetries` around an autoregressive network (its log q averaged over the group's images).
SamplerPtr symmetrized(SamplerPtr base, const Config& c) {
  const std::string sym = c.get<std::string>("model.symmetries");
  if (sym == "none") return base;
  return Symmetrized(base, SymmetrizedOptions()
                               .z2(sym.find("z2") != std::string::npos)
                               .d4(sym.find("d4") != std::string::npos))
      .ptr();
}
SamplerPtr van(const Config& c) {
  return symmetrized(Van(VanOptions(lattice_of(c)).architecture(made_architecture(c))).ptr(), c);
}
SamplerPtr han(const Config& c) {
  const Lattice lattice = lattice_of(c);
  if (lattice.T != lattice.L)
    throw UserError("model.type \"han\" needs a square lattice (lattice.T = lattice.L or 0), got " + lattice.str());
  return symmetrized(Han(HanOptions(lattice.L).architecture(made_architecture(c))).ptr(), c);
}
}  // namespace

const Registry<SamplerPtr, const Config&>& model_registry() {
  static const auto registry = [] {
    Registry<SamplerPtr, const Config&> r("model type");
    r.add("operator_cnf", "continuous flow of a neural operator from the free theory (Máté & Fleuret 2024)",
          operator_cnf);
    r.add("coupling", "affine coupling layers on checkerboards (RealNVP; Albergo, Kanwar, Shanahan 2019)", coupling);
    r.add("hierarchical", "coarse-to-fine coupling flow, parameters growing like log L (docs/hierarchical.md)",
          hierarchical);
    r.add("gauge_coupling", "U(1) gauge-equivariant coupling flow on plaquettes, circular splines (Kanwar et al. 2020)",
          gauge_coupling);
    r.add("van", "variational autoregressive network over the L^2 Ising spins, one dense MADE (Wu, Wang, Zhang 2019)", van);
    r.add("han", "hierarchical autoregressive network for L = 2^n, 1 + log2 L small MADEs (Białas, Korcyl, Stebel 2022)",
          han);
    return r;
  }();
  return registry;
}

}  // namespace latflow
