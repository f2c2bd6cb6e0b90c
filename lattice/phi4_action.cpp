#include "lattice/phi4_action.hpp"

#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "lattice/observables.hpp"

namespace latflow {

namespace {

std::string str(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

void require_finite(const char* convention, const char* name, double x) {
  if (!std::isfinite(x))
    throw UserError(std::string("phi4 (") + convention + " convention): " + name + " = " + str(x) +
                    " is not a finite number");
}

void require_positive(const char* convention, const char* name, double x) {
  require_finite(convention, name, x);
  if (!(x > 0))
    throw UserError(std::string("phi4 (") + convention + " convention): " + name + " = " + str(x) +
                    " must be > 0 (it is the square of the field rescaling)");
}

void require_nonnegative_quartic(const char* convention, const char* name, double x) {
  require_finite(convention, name, x);
  if (x < 0)
    throw UserError(std::string("phi4 (") + convention + " convention): " + name + " = " + str(x) +
                    " is negative, which makes the action unbounded below; " + name + " >= 0 is required");
}

void require_scalar_field(const at::Tensor& phi) {
  if (phi.dim() != 3)
    throw UserError("phi4: a batch of scalar configurations has shape [B, T, L], got " +
                    std::to_string(phi.dim()) + " dimensions");
}

// The two forward neighbours phi(x+mu): torch::roll with shift -1 brings site x+1 to position x.
at::Tensor forward(const at::Tensor& phi, std::int64_t dim) { return at::roll(phi, {-1}, {dim}); }
at::Tensor backward(const at::Tensor& phi, std::int64_t dim) { return at::roll(phi, {1}, {dim}); }

}  // namespace

double HoppingCouplings::field_scale() const { return std::sqrt(kappa); }
double BetaCouplings::field_scale() const { return std::sqrt(beta / 2); }
double ContinuumCouplings::field_scale() const { return 1 / std::sqrt(2.0); }

Phi4Action::Phi4Action(double m2, double lambda) : m2_(m2), lambda_(lambda) {
  require_finite("canonical", "m2", m2);
  require_nonnegative_quartic("canonical", "lambda", lambda);
  // Without the quartic term the constant mode costs m2 V phi^2: for m2 <= 0 exp(-S) is not normalisable.
  if (lambda == 0 && !(m2 > 0))
    throw UserError("phi4: lambda = 0 with m2 = " + str(m2) +
                    " <= 0 makes the action unbounded below (the free theory needs m2 > 0); use lambda > 0 or m2 > 0");
}

Phi4Action Phi4Action::from_canonical(double m2, double lambda) { return Phi4Action(m2, lambda); }

Phi4Action Phi4Action::from_hopping(const HoppingCouplings& c) {
  require_positive("hopping", "kappa", c.kappa);
  require_nonnegative_quartic("hopping", "lambda_tilde", c.lambda_tilde);
  return Phi4Action((1 - 2 * c.lambda_tilde) / c.kappa - 4, c.lambda_tilde / (c.kappa * c.kappa));
}

Phi4Action Phi4Action::from_beta(const BetaCouplings& c) {
  require_positive("beta", "beta", c.beta);
  require_nonnegative_quartic("beta", "lambda_beta", c.lambda_beta);
  return Phi4Action(2 * (1 - 2 * c.lambda_beta) / c.beta - 4, 4 * c.lambda_beta / (c.beta * c.beta));
}

Phi4Action Phi4Action::from_continuum(const ContinuumCouplings& c) {
  require_finite("continuum", "mu0_sq", c.mu0_sq);
  require_nonnegative_quartic("continuum", "lambda0", c.lambda0);
  return Phi4Action(c.mu0_sq, c.lambda0);
}

HoppingCouplings Phi4Action::to_hopping() const {
  // kappa solves 2 lambda kappa^2 + (4 + m2) kappa - 1 = 0 (from lambda_tilde = lambda kappa^2 and
  // (4 + m2) kappa = 1 - 2 lambda_tilde). The product of the roots is -1/(2 lambda) < 0, so exactly one is
  // positive; written in the rationalised form, which has no cancellation and covers lambda = 0.
  const double b = 4 + m2_;
  const double denominator = b + std::sqrt(b * b + 8 * lambda_);
  if (!(denominator > 0))
    throw UserError("phi4: m2 = " + str(m2_) +
                    ", lambda = 0 has no hopping or beta form (with lambda = 0 they need m2 > -4)");
  const double kappa = 2 / denominator;
  return {kappa, lambda_ * kappa * kappa};
}

BetaCouplings Phi4Action::to_beta() const {
  const HoppingCouplings h = to_hopping();
  return {2 * h.kappa, h.lambda_tilde};
}

ContinuumCouplings Phi4Action::to_continuum() const { return {m2_, lambda_}; }

std::vector<std::int64_t> Phi4Action::config_shape(const Lattice& lattice) const { return lattice.shape(); }

at::Tensor Phi4Action::action(const at::Tensor& phi) const {
  require_scalar_field(phi);
  const at::Tensor phi2 = phi * phi;
  at::Tensor density = (forward(phi, 1) - phi).square() + (forward(phi, 2) - phi).square() + m2_ * phi2 +
                       lambda_ * phi2 * phi2;
  return density.sum({1, 2});
}

at::Tensor Phi4Action::force(const at::Tensor& phi) const {
  require_scalar_field(phi);
  const at::Tensor neighbours = forward(phi, 1) + backward(phi, 1) + forward(phi, 2) + backward(phi, 2);
  return 2 * (4 * phi - neighbours) + 2 * m2_ * phi + 4 * lambda_ * phi * phi * phi;
}

nlohmann::json Phi4Action::couplings() const { return {{"m2", m2_}, {"lambda", lambda_}}; }

nlohmann::json Phi4Action::measure(const at::Tensor& phi, const std::vector<double>& log_w, int n_bins) const {
  return latflow::measure(phi, log_w, n_bins).to_json();
}

std::vector<std::pair<std::string, at::Tensor>> Phi4Action::chain_observables(const at::Tensor& phi) const {
  const at::Tensor m = magnetization(phi);
  return {{"abs_magnetization", m.abs()}, {"m2", m * m}};
}

std::vector<std::string> Phi4Action::compared_observables() const { return {"abs_magnetization", "m2", "chi2", "binder"}; }

}  // namespace latflow
