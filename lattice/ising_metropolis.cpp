#include "lattice/ising_metropolis.hpp"

#include <chrono>
#include <sstream>
#include <vector>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

void SpinChainSchedule::validate(const char* who) const {
  std::ostringstream s;
  if (chains < 1)
    s << "chains = " << chains << ", need at least 1";
  else if (thermalization < 0)
    s << "thermalization = " << thermalization << ", need >= 0";
  else if (sweeps < 1)
    s << "sweeps = " << sweeps << ", need at least 1";
  else if (measure_every < 1 || measure_every > sweeps)
    s << "measure_every = " << measure_every << ", need 1 <= measure_every <= sweeps (" << sweeps << ")";
  if (!s.str().empty()) throw UserError(std::string(who) + ": " + s.str());
}

IsingMetropolisResult run_ising_metropolis(const IsingAction& action, const Lattice& lattice,
                                           const IsingMetropolisOptions& options,
                                           const c10::TensorOptions& tensor_options,
                                           const std::function<void(std::int64_t, std::int64_t, double)>& progress) {
  options.validate("Ising Metropolis");
  if (lattice.T < 2 || lattice.L < 2 || lattice.T % 2 != 0 || lattice.L % 2 != 0)
    throw UserError("Ising Metropolis: the checkerboard update needs even T, L >= 2, got " + lattice.str());
  if (!at::isFloatingType(tensor_options.dtype().toScalarType()))
    throw UserError("Ising Metropolis: spins are stored in a floating-point dtype");
  const auto start = std::chrono::steady_clock::now();
  const double two_beta_j = 2 * action.beta() * action.J();

  const at::Tensor t = at::arange(lattice.T, tensor_options.dtype(at::kLong)).unsqueeze(1);
  const at::Tensor l = at::arange(lattice.L, tensor_options.dtype(at::kLong)).unsqueeze(0);
  const at::Tensor even = ((t + l) % 2 == 0);
  const at::Tensor colours[2] = {even, at::logical_not(even)};

  at::Tensor s = 2 * at::randint(0, 2, {options.chains, lattice.T, lattice.L}, tensor_options) - 1;
  at::Tensor accepted = at::zeros({}, tensor_options.dtype(at::kDouble));
  std::vector<at::Tensor> measurements;
  const std::int64_t total = options.thermalization + options.sweeps;
  for (std::int64_t sweep = 0; sweep < total; ++sweep) {
    const bool measuring = sweep >= options.thermalization;
    if (sweep == options.thermalization) accepted.zero_();
    for (const at::Tensor& colour : colours) {
      const at::Tensor neighbours = at::roll(s, {1}, {1}) + at::roll(s, {-1}, {1}) + at::roll(s, {1}, {2}) +
                                    at::roll(s, {-1}, {2});
      const at::Tensor p_accept = at::where(neighbours == 0, 0.5, at::exp(-two_beta_j * s * neighbours));
      const at::Tensor accept = at::logical_and(at::rand_like(s) < p_accept, colour);
      s = at::where(accept, -s, s);
      accepted += accept.to(at::kDouble).sum();
    }
    const std::int64_t done = measuring ? sweep + 1 - options.thermalization : sweep + 1;
    if (measuring && done % options.measure_every == 0) measurements.push_back(s);
    if (progress)
      progress(sweep + 1, total,
               accepted.item<double>() / static_cast<double>(done * options.chains * lattice.volume()));
  }

  IsingMetropolisResult result;
  const auto n = static_cast<std::int64_t>(measurements.size());
  result.samples = at::stack(measurements).transpose(0, 1).reshape({options.chains * n, lattice.T, lattice.L});
  result.acceptance = accepted.item<double>() / static_cast<double>(options.sweeps * options.chains * lattice.volume());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace latflow
