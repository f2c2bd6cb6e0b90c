// bench_training_step: the cost of one reverse-KL training step (sample a batch, loss, backward, Adam) for
// every registered scalar-field flow family at several lattice sizes (the gauge flow: bench_estimators), and,
// for the operator CNF, backpropagation
// through the solver against the adjoint method as the number of solver steps grows.
//
//   ms/step   median wall time of one optimiser step
//   peak MiB  peak memory while stepping: resident-set high-water mark on CPU (process-wide, reset before
//             each entry), the caching allocator's peak on CUDA
//   params    parameter count (independent of L for every family except hierarchical, which gains a level
//             per doubling of L)
//
// Each family runs its default run-card settings (`latflow config show` with model.type set), in float32.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/device.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"
#include "experiments/runcard.hpp"
#include "flows/registry.hpp"
#include "lattice/registry.hpp"
#include "train/registry.hpp"

using namespace latflow;

namespace {

struct Entry {
  double ms = 0, peak_mib = 0;
  std::int64_t params = 0;
};

Entry time_steps(const std::vector<std::string>& sets, const c10::Device& device, int reps) {
  const RunCard card = parse_runcard("", "", sets);
  const Config& c = card.config;
  SamplerPtr flow = model_registry().create(c.get<std::string>("model.type"), c);
  flow->to(device, torch::kFloat32);
  const ActionPtr action = theory_registry().create(c.get<std::string>("lattice.theory"), c);
  const auto estimator = estimator_registry().create("reparam");
  const Lattice lattice = Lattice::square(c.get<std::int64_t>("lattice.L"));
  const std::int64_t batch = c.get<std::int64_t>("train.batch");
  torch::optim::Adam adam(flow->parameters(), torch::optim::AdamOptions(1e-4));
  const auto step = [&] {
    adam.zero_grad();
    (*estimator)(*flow, *action, batch, lattice).surrogate.backward();
    adam.step();
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  step();  // warm-up (allocator, FFT plans)
  reset_peak_memory(device);
  std::vector<double> ms;
  double total = 0;
  for (int r = 0; r < reps && (total < 3.0 || r < 3); ++r) {
    const auto start = std::chrono::steady_clock::now();
    step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ms.push_back(1e3 * s);
    total += s;
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], peak_memory_mib(device), flow->parameter_count()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time one training step of every flow family, and backprop against adjoint for the CNF."};
  std::string device_name = "cpu";
  int threads = 0, reps = 5;
  std::vector<std::int64_t> sizes = {8, 16, 32};
  std::vector<std::int64_t> solver_steps = {10, 20, 40};
  app.add_option("--device", device_name, "cpu, cuda or cuda:N");
  app.add_option("--threads", threads, "torch intra-op threads (0: torch's default)")->check(CLI::NonNegativeNumber);
  app.add_option("--reps", reps, "timed steps per entry (median; stops after ~3 s)")->check(CLI::PositiveNumber);
  app.add_option("--L", sizes, "lattice sizes")->expected(1, -1);
  app.add_option("--solver-steps", solver_steps, "solver steps for the gradient-method comparison")->expected(1, -1);
  CLI11_PARSE(app, argc, argv);

  try {
    const c10::Device device = parse_device(device_name);
    if (threads > 0) at::set_num_threads(threads);
    torch::manual_seed(0);
    std::printf("bench_training_step: device %s, float32, batch 64, torch threads %d, hardware threads %u\n\n",
                device.str().c_str(), at::get_num_threads(), std::thread::hardware_concurrency());

    std::printf("%-14s %4s %10s %10s %9s\n", "family", "L", "ms/step", "peak MiB", "params");
    for (const auto& type : model_registry().names())
      for (const std::int64_t L : sizes) {
        // Only the phi^4 samplers: bench_estimators times the gauge flow on the Schwinger model, and
        // bench_autoregressive the Ising networks (van, han).
        if (type == "gauge_coupling" || type == "van" || type == "han") continue;
        const std::vector<std::string> sets = {"model.type=" + type, "lattice.L=" + std::to_string(L),
                                               "lattice.m2=-4", "lattice.lambda=6.008", "train.batch=64"};
        const Entry e = time_steps(type == "operator_cnf" ? sets : [&] {
          auto s = sets;
          s.push_back("model.prior=normal");
          return s;
        }(), device, reps);
        std::printf("%-14s %4ld %10.2f %10.1f %9ld\n", type.c_str(), long(L), e.ms, e.peak_mib, long(e.params));
        std::fflush(stdout);
      }

    std::printf("\noperator_cnf, rk4: gradient methods against solver steps\n");
    std::printf("%-9s %4s %6s %10s %10s\n", "gradient", "L", "steps", "ms/step", "peak MiB");
    for (const std::int64_t L : sizes)
      for (const std::int64_t n : solver_steps)
        for (const char* method : {"backprop", "adjoint"}) {
          const Entry e = time_steps({"lattice.L=" + std::to_string(L), "lattice.m2=-4", "lattice.lambda=6.008",
                                      "train.batch=64", "solver.steps=" + std::to_string(n),
                                      std::string("solver.gradient=") + method},
                                     device, reps);
          std::printf("%-9s %4ld %6ld %10.2f %10.1f\n", method, long(L), long(n), e.ms, e.peak_mib);
          std::fflush(stdout);
        }
  } catch (const UserError& e) {
    std::fprintf(stderr, "bench_training_step: %s\n", e.what());
    return 2;
  }
  return 0;
}
