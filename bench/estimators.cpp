// bench_estimators: the cost of one training step with the REINFORCE estimator against the
// reparameterisation trick, the measurement of Białas, Korcyl & Stebel (CPC 2024, arXiv 2308.13294, their
// scripts/timings.py and memory.py): the same flow, target and batch, the loss evaluation ("forward": the
// estimator's surrogate, including the target's action) and backward() timed apart, and the memory each
// needs. REINFORCE never differentiates the action, so it should win where the action is expensive (the
// Schwinger model, whose fermion determinant needs an LU of the Dirac matrix) and not where it is cheap
// (phi^4).
//
//   forward ms, backward ms   mean and standard deviation over the timed steps, after warm-up steps
//   graph MiB                 tensor memory held alive at the end of the forward pass: what autograd saved
//                             for backward (the seed counts it with saved-tensor hooks, which LibTorch's C++
//                             API does not expose; here a counting CPU allocator measures every live tensor
//                             byte, so this is the graph plus the batch it produced)
//   peak MiB                  peak live tensor bytes during forward and backward (CPU: the counting
//                             allocator; CUDA: the caching allocator's peak of allocated bytes)
//   RSS MiB                   the process's resident-set high-water mark after the entry (CPU)
//
// Usage: bench_estimators [--device cpu|cuda] [--threads N] [--L 8 12 16] [--batch 256] [--layers 48]
//        [--hidden 64] [--warmup 5] [--reps 25] [--dtype float32|float64] [--theory schwinger|phi4|both]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "bench/counting_allocator.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"
#include "experiments/runcard.hpp"
#include "flows/registry.hpp"
#include "lattice/registry.hpp"
#include "train/registry.hpp"

using namespace latflow;

namespace {

using bench::CountingAllocator;

CountingAllocator* g_counter = nullptr;

struct Stat {
  double mean = 0, sd = 0;
};
Stat stat(const std::vector<double>& x) {
  Stat s;
  for (double v : x) s.mean += v / static_cast<double>(x.size());
  for (double v : x) s.sd += (v - s.mean) * (v - s.mean) / static_cast<double>(x.size() > 1 ? x.size() - 1 : 1);
  s.sd = std::sqrt(s.sd);
  return s;
}

struct Entry {
  Stat forward_ms, backward_ms;
  double graph_mib = 0, peak_mib = 0, rss_mib = 0;
  std::int64_t params = 0;
};

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

Entry measure(const std::vector<std::string>& sets, const std::string& estimator_name, const c10::Device& device,
              int warmup, int reps) {
  const RunCard card = parse_runcard("", "", sets);
  const Config& c = card.config;
  torch::manual_seed(0);
  SamplerPtr flow = model_registry().create(c.get<std::string>("model.type"), c);
  flow->to(device, parse_dtype(c.get<std::string>("model.dtype")));
  const ActionPtr action = theory_registry().create(c.get<std::string>("lattice.theory"), c);
  const auto estimator = estimator_registry().create(estimator_name);
  const Lattice lattice = Lattice::square(c.get<std::int64_t>("lattice.L"));
  const std::int64_t batch = c.get<std::int64_t>("train.batch");
  torch::optim::Adam adam(flow->parameters(), torch::optim::AdamOptions(1e-5));
  const auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  using clock = std::chrono::steady_clock;
  std::vector<double> fwd, bwd;
  Entry e;
  e.params = flow->parameter_count();
  reset_peak_memory(device);
  for (int r = 0; r < warmup + reps; ++r) {
    adam.zero_grad();
    sync();
    const std::int64_t before = g_counter->live();
    if (r == warmup) g_counter->reset_peak(), reset_peak_memory(device);
    const auto t0 = clock::now();
    const LossTerms terms = (*estimator)(*flow, *action, batch, lattice);
    sync();
    const auto t1 = clock::now();
    const std::int64_t graph = g_counter->live() - before;
    terms.surrogate.backward();
    sync();
    const auto t2 = clock::now();
    adam.step();
    if (r >= warmup) {
      fwd.push_back(1e3 * std::chrono::duration<double>(t1 - t0).count());
      bwd.push_back(1e3 * std::chrono::duration<double>(t2 - t1).count());
      e.graph_mib = std::max(e.graph_mib, mib(static_cast<double>(graph)));
    }
  }
  e.forward_ms = stat(fwd);
  e.backward_ms = stat(bwd);
  e.peak_mib = device.is_cuda() ? peak_memory_mib(device) : mib(static_cast<double>(g_counter->peak()));
  e.rss_mib = peak_memory_mib(c10::Device(c10::kCPU));
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"REINFORCE against the reparameterisation trick: time and memory per training step."};
  std::string device_name = "cpu", dtype = "float32", theory = "both";
  int threads = 0, warmup = 5, reps = 25;
  std::int64_t batch = 256, layers = 48, hidden = 64;
  std::vector<std::int64_t> sizes = {8, 12, 16};
  app.add_option("--device", device_name, "cpu, cuda or cuda:N");
  app.add_option("--threads", threads, "torch intra-op threads (0: torch's default)");
  app.add_option("--L", sizes, "lattice sizes (multiples of 4)")->expected(1, -1);
  app.add_option("--batch", batch, "samples per step (the seed: 256)");
  app.add_option("--layers", layers, "gauge coupling layers (the seed: 48)");
  app.add_option("--hidden", hidden, "conditioner channels (the seed: 64)");
  app.add_option("--warmup", warmup, "untimed steps first (the seed: 5)");
  app.add_option("--reps", reps, "timed steps (the seed: 25 to 40)");
  app.add_option("--dtype", dtype, "float32 or float64");
  app.add_option("--theory", theory, "schwinger, phi4 or both");
  CLI11_PARSE(app, argc, argv);

  try {
    const c10::Device device = parse_device(device_name);
    if (threads > 0) at::set_num_threads(threads);
    CountingAllocator counter(c10::GetDefaultCPUAllocator());
    c10::SetCPUAllocator(&counter, /*priority=*/100);
    g_counter = &counter;
    std::printf("bench_estimators: device %s, %s, batch %ld, %d warm-up + %d timed steps, torch threads %d, hardware "
                "threads %u\n",
                device.str().c_str(), dtype.c_str(), long(batch), warmup, reps, at::get_num_threads(),
                std::thread::hardware_concurrency());
    std::printf("%-10s %3s %-10s %17s %17s %10s %10s %9s %9s\n", "theory", "L", "estimator", "forward ms",
                "backward ms", "graph MiB", "peak MiB", "RSS MiB", "params");
    std::vector<std::string> theories;
    if (theory == "both" || theory == "schwinger") theories.push_back("schwinger");
    if (theory == "both" || theory == "phi4") theories.push_back("phi4");
    if (theories.empty()) throw UserError("--theory must be schwinger, phi4 or both");
    for (const auto& th : theories)
      for (const std::int64_t L : sizes) {
        std::vector<std::string> sets = {"lattice.L=" + std::to_string(L), "train.batch=" + std::to_string(batch),
                                         "model.dtype=" + dtype};
        if (th == "schwinger") {
          // The seed's architecture by default (run-card defaults of the Schwinger model), at its point.
          for (const std::string& s : std::vector<std::string>{"lattice.theory=schwinger", "lattice.beta=2",
                                                               "lattice.kappa=0.276",
                                                               "model.coupling_layers=" + std::to_string(layers),
                                                               "model.hidden_channels=" + std::to_string(hidden)})
            sets.push_back(s);
        } else {
          for (const char* s : {"lattice.m2=-4", "lattice.lambda=6.008"}) sets.push_back(s);
        }
        Entry e[2];
        const char* names[2] = {"reparam", "reinforce"};
        for (int k = 0; k < 2; ++k) {
          e[k] = measure(sets, names[k], device, warmup, reps);
          std::printf("%-10s %3ld %-10s %8.1f +- %6.1f %8.1f +- %6.1f %10.1f %10.1f %9.0f %9ld\n", th.c_str(), long(L),
                      names[k], e[k].forward_ms.mean, e[k].forward_ms.sd, e[k].backward_ms.mean, e[k].backward_ms.sd,
                      e[k].graph_mib, e[k].peak_mib, e[k].rss_mib, long(e[k].params));
          std::fflush(stdout);
        }
        const double t0 = e[0].forward_ms.mean + e[0].backward_ms.mean, t1 = e[1].forward_ms.mean + e[1].backward_ms.mean;
        std::printf("%-10s %3ld %-10s step time reparam/reinforce = %.2f, peak memory reinforce/reparam = %.2f\n",
                    th.c_str(), long(L), "ratio", t0 / t1, e[1].peak_mib / e[0].peak_mib);
        std::fflush(stdout);
      }
  } catch (const UserError& err) {
    std::fprintf(stderr, "bench_estimators: %s\n", err.what());
    return 2;
  }
  return 0;
}
