#include "lattice/hmc.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "core/text.hpp"

namespace latflow {

namespace {

constexpr double kOmelyanLambda = 0.1931833275037836;
// The adapted step stays within [tau / kMaxSteps, tau]: a pathological adaptation must not turn into a
// trajectory of millions of steps.
constexpr std::int64_t kMaxSteps = 10000;

void validate(const HMCOptions& o, const Lattice& lattice) {
  auto fail = [](const std::string& what) { throw UserError("HMC: " + what); };
  if (o.chains < 1) fail("chains = " + std::to_string(o.chains) + ", need at least 1");
  if (o.thermalization < 0) fail("thermalization = " + std::to_string(o.thermalization) + ", need >= 0");
  if (o.trajectories < 1) fail("trajectories = " + std::to_string(o.trajectories) + ", need at least 1");
  if (o.measure_every < 1 || o.measure_every > o.trajectories)
    fail("measure_every = " + std::to_string(o.measure_every) + ", need 1 <= measure_every <= trajectories (" +
         std::to_string(o.trajectories) + ")");
  std::ostringstream s;
  if (!std::isfinite(o.trajectory_length) || !(o.trajectory_length > 0))
    s << "trajectory_length = " << o.trajectory_length << ", need a finite number > 0";
  else if (!std::isfinite(o.initial_step_size) || !(o.initial_step_size > 0))
    s << "initial_step_size = " << o.initial_step_size << ", need a finite number > 0";
  else if (!(o.target_acceptance > 0 && o.target_acceptance < 1))
    s << "target_acceptance = " << o.target_acceptance << ", need a number in (0, 1)";
  if (!s.str().empty()) fail(s.str());
  if (lattice.T < 1 || lattice.L < 1) fail("lattice " + lattice.str() + " has an empty direction");
  md_integrator(o.integrator);
}

// Dual averaging of Hoffman & Gelman (2014), Algorithm 5, with their constants: it drives the acceptance
// towards the target and returns the weighted average of the iterates, which is less noisy than the last.
class StepSizeAdaptation {
 public:
  StepSizeAdaptation(double initial, double target, double trajectory_length)
      : mu_(std::log(10 * initial)),
        target_(target),
        log_min_(std::log(trajectory_length / kMaxSteps)),
        log_max_(std::log(trajectory_length)),
        log_eps_(std::clamp(std::log(initial), log_min_, log_max_)),
        log_eps_bar_(log_eps_) {}

  double current() const { return std::exp(log_eps_); }
  double averaged() const { return std::exp(log_eps_bar_); }

  void update(double acceptance) {
    constexpr double gamma = 0.05, t0 = 10, kappa = 0.75;
    ++t_;
    const double t = static_cast<double>(t_);
    h_bar_ += ((target_ - acceptance) - h_bar_) / (t + t0);
    log_eps_ = std::clamp(mu_ - std::sqrt(t) / gamma * h_bar_, log_min_, log_max_);
    const double eta = std::pow(t, -kappa);
    log_eps_bar_ = eta * log_eps_ + (1 - eta) * log_eps_bar_;
  }

 private:
  double mu_, target_, log_min_, log_max_, log_eps_, log_eps_bar_;
  double h_bar_ = 0;
  std::int64_t t_ = 0;
};

std::int64_t steps_for(double step_size, double trajectory_length) {
  // ceil(tau / eps), without letting a rounding error in tau/eps = 10 turn into 11 steps.
  const double n = std::ceil(trajectory_length / step_size * (1 - 1e-12));
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(n), 1, kMaxSteps);
}

}  // namespace

MDIntegrator md_integrator(const std::string& name) {
  if (name == "leapfrog") return MDIntegrator::leapfrog;
  if (name == "omelyan") return MDIntegrator::omelyan;
  const std::vector<std::string> known = {"leapfrog", "omelyan"};
  throw UserError("HMC: unknown integrator '" + name + "'" + text::did_you_mean(name, known) +
                  "; known: " + text::quoted_list(known));
}

at::Tensor hamiltonian(const Action& action, const at::Tensor& phi, const at::Tensor& momentum) {
  const at::Tensor kinetic = 0.5 * momentum.to(at::kDouble).square().flatten(1).sum(1);
  return kinetic + action.action(phi.to(at::kDouble)).to(at::kDouble);
}

std::int64_t integrate_md(const Action& action, at::Tensor& phi, at::Tensor& momentum, double step_size,
                          std::int64_t steps, MDIntegrator integrator) {
  std::int64_t forces = 0;
  auto kick = [&](double h) {
    momentum.sub_(action.force(phi), h);
    ++forces;
  };
  auto drift = [&](double h) { phi.add_(momentum, h); };
  const double eps = step_size;
  if (integrator == MDIntegrator::leapfrog) {
    kick(eps / 2);
    for (std::int64_t i = 0; i < steps; ++i) {
      drift(eps);
      kick(i + 1 == steps ? eps / 2 : eps);
    }
  } else {
    const double l = kOmelyanLambda;
    kick(l * eps);
    for (std::int64_t i = 0; i < steps; ++i) {
      drift(eps / 2);
      kick((1 - 2 * l) * eps);
      drift(eps / 2);
      kick(i + 1 == steps ? l * eps : 2 * l * eps);
    }
  }
  return forces;
}

HMCResult run_hmc(const Action& action, const Lattice& lattice, const HMCOptions& options,
                  const c10::TensorOptions& tensor_options,
                  const std::function<void(std::int64_t, std::int64_t, double)>& progress) {
  validate(options, lattice);
  const auto start = std::chrono::steady_clock::now();
  const MDIntegrator integrator = md_integrator(options.integrator);
  const std::int64_t chains = options.chains;
  const double tau = options.trajectory_length;

  std::vector<std::int64_t> shape = action.config_shape(lattice);
  shape.insert(shape.begin(), chains);
  std::vector<std::int64_t> chain_view(shape.size(), 1);  // [C, 1, 1]: broadcasts a per-chain decision
  chain_view[0] = chains;

  at::Tensor phi = at::randn(shape, tensor_options);
  StepSizeAdaptation adaptation(options.initial_step_size, options.target_acceptance, tau);
  HMCResult result;
  std::vector<at::Tensor> measurements;
  at::Tensor accepted = at::zeros({}, tensor_options.dtype(at::kDouble));
  double adaptation_acceptance_sum = 0;

  const std::int64_t total = options.thermalization + options.trajectories;
  double frozen_step = options.initial_step_size;
  for (std::int64_t it = 0; it < total; ++it) {
    const bool thermalizing = it < options.thermalization;
    if (it == options.thermalization && options.thermalization > 0) frozen_step = adaptation.averaged();
    const std::int64_t steps = steps_for(thermalizing ? adaptation.current() : frozen_step, tau);
    const double step = tau / static_cast<double>(steps);

    at::Tensor momentum = at::randn_like(phi);
    const at::Tensor h_start = hamiltonian(action, phi, momentum);
    at::Tensor proposal = phi.clone();
    result.force_evaluations += integrate_md(action, proposal, momentum, step, steps, integrator);
    const at::Tensor delta_h = hamiltonian(action, proposal, momentum) - h_start;
    // A diverged trajectory (inf or NaN in H) has acceptance probability 0.
    const double inf = std::numeric_limits<double>::infinity();
    const at::Tensor p_accept = at::exp(-at::nan_to_num(delta_h, inf, inf, -inf)).clamp_max(1.0);
    const at::Tensor accept = at::rand_like(p_accept) < p_accept;
    phi = at::where(accept.view(chain_view), proposal, phi);

    double phase_acceptance = 0;
    if (thermalizing) {
      const double a = p_accept.mean().item<double>();
      adaptation.update(a);
      adaptation_acceptance_sum += a;
      phase_acceptance = adaptation_acceptance_sum / static_cast<double>(it + 1);
    } else {
      accepted += accept.to(at::kDouble).mean();
      const std::int64_t measured = it + 1 - options.thermalization;
      if (measured % options.measure_every == 0) measurements.push_back(phi);
      if (progress) phase_acceptance = accepted.item<double>() / static_cast<double>(measured);
      result.step_size = step;
      result.steps_per_trajectory = steps;
    }
    if (progress) progress(it + 1, total, phase_acceptance);
  }

  // [M, C, ...] -> [C, M, ...] -> [C*M, ...]: chain-major, so contiguous blocks are single chains.
  at::Tensor stacked = at::stack(measurements).transpose(0, 1).contiguous();
  std::vector<std::int64_t> sample_shape(shape);
  sample_shape[0] = chains * static_cast<std::int64_t>(measurements.size());
  result.samples = stacked.view(sample_shape);
  result.acceptance = accepted.item<double>() / static_cast<double>(options.trajectories);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace latflow
