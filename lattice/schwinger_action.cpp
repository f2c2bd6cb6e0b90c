#include "lattice/schwinger_action.hpp"

#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "lattice/gauge_observables.hpp"
#include "lattice/wilson_dirac.hpp"

namespace latflow {

namespace {

double checked_beta(double beta) {
  require_gauge_coupling("schwinger", beta);
  return beta;
}

}  // namespace

SchwingerAction::SchwingerAction(double beta, double kappa, u1::FermionBoundary time)
    : gauge_(checked_beta(beta)), kappa_(kappa), time_(time) {
  if (!std::isfinite(kappa) || !(kappa > 0)) {
    std::ostringstream s;
    s.precision(17);
    s << "schwinger: kappa = " << kappa
      << " is not allowed; kappa must be a finite number > 0 (kappa_c ~ 0.276 at beta = 2, arXiv 2308.13294)";
    throw UserError(s.str());
  }
}

std::vector<std::int64_t> SchwingerAction::config_shape(const Lattice& lattice) const {
  return gauge_.config_shape(lattice);
}

at::Tensor SchwingerAction::action(const at::Tensor& theta) const {
  return gauge_.action(theta) - 2 * u1::log_abs_det_wilson(theta, kappa_, time_);
}

at::Tensor SchwingerAction::force(const at::Tensor& theta) const {
  return gauge_.force(theta) - 2 * u1::log_abs_det_wilson_gradient(theta, kappa_, time_);
}

nlohmann::json SchwingerAction::couplings() const {
  return {{"beta", beta()},
          {"kappa", kappa_},
          {"fermion_bc", time_ == u1::FermionBoundary::antiperiodic ? "antiperiodic" : "periodic"}};
}

nlohmann::json SchwingerAction::measure(const at::Tensor& theta, const std::vector<double>& log_w, int n_bins) const {
  return measure_gauge(theta, log_w, n_bins, WilsonFermions{kappa_, time_});
}

std::vector<std::pair<std::string, at::Tensor>> SchwingerAction::chain_observables(const at::Tensor& theta) const {
  return gauge_chain_observables(theta);
}

std::vector<std::string> SchwingerAction::compared_observables() const {
  return {"plaquette", "topological_susceptibility", "chiral_condensate"};
}

}  // namespace latflow
