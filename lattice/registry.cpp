#include "lattice/registry.hpp"

#include <memory>

#include "core/text.hpp"
#include "lattice/free_field_prior.hpp"
#include "lattice/haar_prior.hpp"
#include "lattice/ising_action.hpp"
#include "lattice/normal_prior.hpp"
#include "lattice/phi4_action.hpp"
#include "lattice/schwinger_action.hpp"
#include "lattice/u1_gauge_action.hpp"

namespace latflow {

namespace {

// `lattice.convention` picks which pair of keys holds the couplings (see lattice/phi4_action.hpp).
Phi4Action phi4_from_config(const Config& c) {
  const auto convention = c.get<std::string>("lattice.convention");
  if (convention == "canonical")
    return Phi4Action::from_canonical(c.get<double>("lattice.m2"), c.get<double>("lattice.lambda"));
  if (convention == "hopping")
    return Phi4Action::from_hopping({c.get<double>("lattice.kappa"), c.get<double>("lattice.lambda_tilde")});
  if (convention == "beta")
    return Phi4Action::from_beta({c.get<double>("lattice.beta"), c.get<double>("lattice.lambda_beta")});
  if (convention == "continuum")
    return Phi4Action::from_continuum({c.get<double>("lattice.mu0_sq"), c.get<double>("lattice.lambda0")});
  const std::vector<std::string> known = {"canonical", "hopping", "beta", "continuum"};
  throw ConfigError("unknown lattice.convention '" + convention + "'" + text::did_you_mean(convention, known) +
                    "; known: " + text::quoted_list(known));
}

}  // namespace

Lattice lattice_of(const Config& c) {
  const std::int64_t L = c.get<std::int64_t>("lattice.L");
  const std::int64_t T = c.get<std::int64_t>("lattice.T");
  return {T == 0 ? L : T, L};
}

const Registry<ActionPtr, const Config&>& theory_registry() {
  static const auto registry =
      Registry<ActionPtr, const Config&>("theory")
          .add("phi4", "scalar phi^4, S = sum [(d phi)^2 + m2 phi^2 + lambda phi^4] (or lattice.convention)",
               [](const Config& c) -> ActionPtr { return std::make_shared<Phi4Action>(phi4_from_config(c)); })
          .add("u1", "pure U(1) gauge theory, S = -beta sum_P cos theta_P (exact results on the torus)",
               [](const Config& c) -> ActionPtr { return std::make_shared<U1GaugeAction>(c.get<double>("lattice.beta")); })
          .add("schwinger", "Schwinger model: U(1) with N_f = 2 Wilson fermions, S = S_g - 2 log|det D| (even-odd)",
               [](const Config& c) -> ActionPtr {
                 const auto bc = c.get<std::string>("lattice.fermion_bc") == "periodic" ? u1::FermionBoundary::periodic
                                                                                        : u1::FermionBoundary::antiperiodic;
                 return std::make_shared<SchwingerAction>(c.get<double>("lattice.beta"), c.get<double>("lattice.kappa"), bc);
               })
          .add("ising", "2D Ising model, S = beta H, H = -J sum s_i s_j (exact Kaufman results on the torus)",
               [](const Config& c) -> ActionPtr {
                 return std::make_shared<IsingAction>(
                     IsingAction::from_beta(c.get<double>("lattice.beta"), c.get<double>("lattice.J")));
               });
  return registry;
}

const Registry<PriorPtr, const Config&>& prior_registry() {
  static const auto registry =
      Registry<PriorPtr, const Config&>("prior")
          .add("normal", "independent N(0, 1) per site",
               [](const Config&) -> PriorPtr { return std::make_shared<NormalPrior>(); })
          .add("free", "free lattice field of mass^2 model.prior_m2, sampled exactly by FFT",
               [](const Config& c) -> PriorPtr {
                 return std::make_shared<FreeFieldPrior>(c.get<double>("model.prior_m2"));
               })
          .add("haar", "uniform (Haar) U(1) link angles, the base of gauge-equivariant flows",
               [](const Config&) -> PriorPtr { return std::make_shared<HaarPrior>(); });
  return registry;
}

}  // namespace latflow
