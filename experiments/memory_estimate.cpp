#include "experiments/memory_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "odes/registry.hpp"

namespace latflow {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

/// Floats per sample and site that one conditioner keeps for backward: each hidden convolution's output
/// and activation, plus the (s, t) pair and the masked input.
double conditioner_floats(const Config& c) {
  const double per = 2.0 * static_cast<double>(c.get<std::int64_t>("model.hidden_channels") *
                                               c.get<std::int64_t>("model.hidden_layers")) + 6.0;
  return c.get<bool>("model.z2") ? 2 * per : per;
}

/// Floats per sample and site of one vector-field evaluation of the CNF with its graph: the sine features
/// and their cosines (for the divergence), the mixed channels, their spectra and the kernel products.
double field_floats(const Config& c) {
  const double F = static_cast<double>(c.get<std::int64_t>("model.channels"));
  const double K = static_cast<double>(c.get<std::int64_t>("model.frequencies"));
  return 2 * K + 4 * F + 6;
}

/// (floats kept per sample and site while training, what keeps them).
std::pair<double, std::string> training_floats(const Config& c) {
  const std::string type = c.get<std::string>("model.type");
  if (type == "operator_cnf") {
    const auto stepper = odes::stepper_registry().create(c.get<std::string>("solver.method"));
    const double stages = stepper->adaptive() ? 7 : std::max(1, stepper->order());
    const double steps = static_cast<double>(c.get<std::int64_t>("solver.steps"));
    const double per_step = stages * (field_floats(c) + 4);
    if (c.get<std::string>("solver.gradient") == "adjoint")
      return {3 * per_step, "one solver step (adjoint method)"};
    return {steps * per_step, std::to_string(static_cast<long long>(steps)) + " solver steps kept for backprop"};
  }
  if (type == "coupling")
    return {static_cast<double>(c.get<std::int64_t>("model.coupling_layers") + c.get<std::int64_t>("model.spline_layers")) *
                (conditioner_floats(c) + 4),
            "the coupling layers' activations"};
  if (type == "hierarchical")
    return {(static_cast<double>(c.get<std::int64_t>("model.coarse_layers") + c.get<std::int64_t>("model.spline_layers")) +
             4.0 * static_cast<double>(c.get<std::int64_t>("model.rounds") + c.get<std::int64_t>("model.spline_rounds"))) *
                (conditioner_floats(c) + 4),
            "the refinement levels' activations"};
  if (type == "van" || type == "han") {
    // Hidden units are made_width x the spins of each net, so the activations per site are about
    // made_depth x made_width; a symmetrised log q evaluates every image.
    const std::string sym = c.get<std::string>("model.symmetries");
    const double images = sym == "none" ? 1 : sym == "z2" ? 2 : sym == "d4" ? 8 : 16;
    return {images * static_cast<double>(c.get<std::int64_t>("model.made_depth") * c.get<std::int64_t>("model.made_width") + 3),
            "the autoregressive networks' activations"};
  }
  return {64, "the model's activations"};
}

double dtype_bytes(const Config& c) { return c.get<std::string>("model.dtype") == "float64" ? 8 : 4; }

std::string gib(double bytes) {
  std::ostringstream os;
  os << std::setprecision(bytes >= 10 * kGiB ? 3 : 2) << bytes / kGiB << " GiB";
  return os.str();
}

}  // namespace

MemoryEstimate estimate_memory(const Session& s, Work work, std::int64_t samples) {
  const Config& c = s.card.config;
  const double V = static_cast<double>(s.lattice.volume());
  const double bytes = dtype_bytes(c);
  MemoryEstimate e;
  switch (work) {
    case Work::none:
      break;
    case Work::train: {
      const auto [floats, what] = training_floats(c);
      const double batch = static_cast<double>(std::max(c.get<std::int64_t>("train.batch"),
                                                        std::int64_t{1}));
      e.device_bytes = batch * V * floats * bytes;
      // The periodic evaluation's batch, without a graph.
      const double eval_batch = static_cast<double>(c.get<std::int64_t>("train.eval_batch"));
      e.device_bytes = std::max(e.device_bytes, eval_batch * V * 64 * bytes);
      e.what = "training (batch " + std::to_string(static_cast<long long>(batch)) + " on " + s.lattice.str() + ": " +
               what + ")";
      break;
    }
    case Work::eval: {
      const double n = static_cast<double>(samples > 0 ? samples : c.get<std::int64_t>("eval.n"));
      const bool check = c.get<std::string>("model.type") == "operator_cnf" && c.get<bool>("eval.solver_check");
      e.host_bytes = n * V * 8 * (check ? 3 : 2);
      e.device_bytes = static_cast<double>(c.get<std::int64_t>("eval.batch")) * V * 64 * bytes;
      e.what = "evaluation (" + std::to_string(static_cast<long long>(n)) + " samples on " + s.lattice.str() +
               " kept in float64" + (check ? ", twice for the solver check)" : ")");
      break;
    }
    case Work::sample: {
      const double n = static_cast<double>(samples > 0 ? samples : c.get<std::int64_t>("eval.n"));
      e.host_bytes = n * (V + 2) * 8;
      e.device_bytes = static_cast<double>(c.get<std::int64_t>("eval.batch")) * V * 64 * bytes;
      e.what = "sampling (" + std::to_string(static_cast<long long>(n)) + " configurations on " + s.lattice.str() + ")";
      break;
    }
    case Work::hmc: {
      if (c.has("reference.chains")) {  // the spin chains of the Ising model
        const double kept = static_cast<double>(c.get<std::int64_t>("reference.chains") *
                                                (c.get<std::int64_t>("reference.sweeps") /
                                                 c.get<std::int64_t>("reference.measure_every")));
        e.host_bytes = kept * V * 8 * 2;
        e.device_bytes = e.host_bytes;
        e.what = "reference chains (" + std::to_string(static_cast<long long>(kept)) + " configurations on " +
                 s.lattice.str() + " kept for the analysis)";
        break;
      }
      const double chains = static_cast<double>(c.get<std::int64_t>("hmc.chains"));
      const double kept = static_cast<double>(c.get<std::int64_t>("hmc.trajectories") /
                                              c.get<std::int64_t>("hmc.measure_every"));
      e.host_bytes = kept * chains * V * 8 * 2;
      e.device_bytes = chains * V * 8 * 16;
      e.what = "HMC (" + std::to_string(static_cast<long long>(kept * chains)) + " configurations on " +
               s.lattice.str() + " kept for the analysis)";
      break;
    }
  }
  if (!s.device.is_cuda()) {
    e.host_bytes += e.device_bytes;
    e.device_bytes = 0;
  }
  return e;
}

MemoryLimit memory_limit(const Session& s) {
  MemoryLimit m;
  const double configured = s.card.config.get<double>("run.memory_limit_gb");
  if (configured > 0) {
    m.configured = true;
    m.host_bytes = configured * kGiB;
    m.device_bytes = s.device.is_cuda() ? configured * kGiB : 0;
    return m;
  }
  m.host_bytes = available_host_memory_bytes();
  m.device_bytes = s.device.is_cuda() ? free_device_memory_bytes(s.device) : 0;
  return m;
}

void check_memory(const Session& s, std::initializer_list<Work> work, std::int64_t samples) {
  const MemoryLimit limit = memory_limit(s);
  const std::string source = limit.configured ? " (run.memory_limit_gb)" : " available now (run.memory_limit_gb overrides it)";
  for (const Work w : work) {
    const MemoryEstimate e = estimate_memory(s, w, samples);
    const auto refuse = [&](double need, double have, const std::string& where) {
      throw UserError("estimated peak memory of " + e.what + ": " + gib(need) + " of " + where + ", more than the " +
                      gib(have) + source + "; use a smaller lattice, batch or eval.n" +
                      (w == Work::train && s.card.config.get<std::string>("model.type") == "operator_cnf"
                           ? ", or solver.gradient = \"adjoint\""
                           : ""));
    };
    if (limit.host_bytes > 0 && e.host_bytes > limit.host_bytes) refuse(e.host_bytes, limit.host_bytes, "host memory");
    if (limit.device_bytes > 0 && e.device_bytes > limit.device_bytes)
      refuse(e.device_bytes, limit.device_bytes, "device memory on " + s.device.str());
  }
}

}  // namespace latflow
