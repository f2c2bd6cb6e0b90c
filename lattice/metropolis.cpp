#include "lattice/metropolis.hpp"

#include <chrono>
#include <cmath>
#include <sstream>
#include <vector>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

namespace {

void validate(const MetropolisOptions& o, const Lattice& lattice) {
  std::ostringstream s;
  if (o.chains < 1)
    s << "chains = " << o.chains << ", need at least 1";
  else if (o.thermalization < 0)
    s << "thermalization = " << o.thermalization << ", need >= 0";
  else if (o.sweeps < 1)
    s << "sweeps = " << o.sweeps << ", need at least 1";
  else if (o.measure_every < 1 || o.measure_every > o.sweeps)
    s << "measure_every = " << o.measure_every << ", need 1 <= measure_every <= sweeps (" << o.sweeps << ")";
  else if (!std::isfinite(o.proposal_width) || !(o.proposal_width > 0))
    s << "proposal_width = " << o.proposal_width << ", need a finite number > 0";
  else if (lattice.T < 2 || lattice.L < 2 || lattice.T % 2 != 0 || lattice.L % 2 != 0)
    s << "the checkerboard update needs even T, L >= 2, got " << lattice.str();
  if (!s.str().empty()) throw UserError("Metropolis: " + s.str());
}

}  // namespace

MetropolisResult run_metropolis(const Phi4Action& action, const Lattice& lattice, const MetropolisOptions& options,
                                const c10::TensorOptions& tensor_options) {
  validate(options, lattice);
  const auto start = std::chrono::steady_clock::now();
  const double quadratic = 4 + action.m2(), quartic = action.lambda(), width = options.proposal_width;

  const at::Tensor t = at::arange(lattice.T, tensor_options.dtype(at::kLong)).unsqueeze(1);
  const at::Tensor l = at::arange(lattice.L, tensor_options.dtype(at::kLong)).unsqueeze(0);
  const at::Tensor even = ((t + l) % 2 == 0);
  const at::Tensor colours[2] = {even, at::logical_not(even)};

  auto local = [&](const at::Tensor& x, const at::Tensor& neighbours) {
    const at::Tensor x2 = x * x;
    return -2 * x * neighbours + quadratic * x2 + quartic * x2 * x2;
  };

  at::Tensor phi = at::randn({options.chains, lattice.T, lattice.L}, tensor_options);
  at::Tensor accepted = at::zeros({}, tensor_options.dtype(at::kDouble));
  std::vector<at::Tensor> measurements;
  const std::int64_t total = options.thermalization + options.sweeps;
  for (std::int64_t sweep = 0; sweep < total; ++sweep) {
    const bool measuring = sweep >= options.thermalization;
    for (const at::Tensor& colour : colours) {
      const at::Tensor neighbours = at::roll(phi, {1}, {1}) + at::roll(phi, {-1}, {1}) +
                                    at::roll(phi, {1}, {2}) + at::roll(phi, {-1}, {2});
      const at::Tensor proposal = phi + width * (2 * at::rand_like(phi) - 1);
      const at::Tensor delta_s = local(proposal, neighbours) - local(phi, neighbours);
      const at::Tensor accept = at::logical_and(at::rand_like(phi) < at::exp(-delta_s), colour);
      phi = at::where(accept, proposal, phi);
      if (measuring) accepted += accept.to(at::kDouble).sum();
    }
    if (measuring && (sweep + 1 - options.thermalization) % options.measure_every == 0)
      measurements.push_back(phi);
  }

  MetropolisResult result;
  const auto n = static_cast<std::int64_t>(measurements.size());
  result.samples = at::stack(measurements).transpose(0, 1).reshape({options.chains * n, lattice.T, lattice.L});
  result.acceptance = accepted.item<double>() / static_cast<double>(options.sweeps * options.chains * lattice.volume());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace latflow
