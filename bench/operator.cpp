// bench_operator: the cost of one vector-field evaluation of each registered neural operator, next to
// the bare FFTs of an FFT-based operator on F channels (one rfft2 of [B, F, L, L] features and one irfft2 of
// a [B, L, L] field, in the operators' chunks of the batch), in float32 with the default operator sizes.
//
//   forward      one v_t(phi) and its divergence, no autograd graph (sampling, ODE integration)
//   fwd+bwd      the same with the graph, then backward of v.sum() + div.sum() to the parameters
//   ratio        forward / bare FFTs
//
// Each entry is the median over --reps repetitions after a warm-up, cut short after ~0.5 s, so the whole
// table takes about a minute on two cores.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "operators/local_operator.hpp"
#include "operators/registry.hpp"
#include "operators/spectral_operator.hpp"

using namespace latflow;

namespace {

/// Median wall time in milliseconds of `fn`, after one warm-up call.
double median_ms(const std::function<void()>& fn, const c10::Device& device, int reps) {
  const auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  // Stop early once this much time is spent, keeping at least kMinReps samples.
  constexpr double kBudgetSeconds = 0.5;
  constexpr int kMinReps = 3;
  fn();
  sync();
  std::vector<double> times;
  double total = 0;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    sync();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    times.push_back(1e3 * s);
    total += s;
    if (total > kBudgetSeconds && r + 1 >= kMinReps) break;
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// The default operator sizes, as the Options structs define them.
Config default_config() {
  const SpectralOperatorOptions spectral;
  Config cfg;
  cfg.set("model.channels", spectral.channels());
  cfg.set("model.frequencies", spectral.frequencies());
  cfg.set("model.kernel_modes", spectral.kernel_modes());
  cfg.set("model.time_modes", spectral.time_modes());
  cfg.set("model.kernel_radius", LocalOperatorOptions().kernel_radius());
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time one evaluation of each neural operator against the bare FFTs of the same sizes."};
  std::string device_name = "cpu";
  int threads = 0;
  int reps = 7;
  app.add_option("--device", device_name, "cpu, cuda or cuda:N");
  app.add_option("--threads", threads, "torch intra-op threads (0: torch's default)")->check(CLI::NonNegativeNumber);
  app.add_option("--reps", reps, "timed repetitions per entry (median)")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    const c10::Device device = parse_device(device_name);
    if (threads > 0) at::set_num_threads(threads);
    torch::manual_seed(0);
    const Config cfg = default_config();
    const std::int64_t F = cfg.get<std::int64_t>("model.channels");
    const auto options = torch::dtype(torch::kFloat32).device(device);

    std::printf("bench_operator: device %s, float32, torch threads %d (interop %d), hardware threads %u\n",
                device.str().c_str(), at::get_num_threads(), static_cast<int>(at::get_num_interop_threads()),
                std::thread::hardware_concurrency());
    std::printf("operators: channels %ld, frequencies %ld, kernel_modes %ld, time_modes %ld, kernel_radius %ld; "
                "median of up to %d reps\n\n",
                long(F), long(cfg.get<std::int64_t>("model.frequencies")),
                long(cfg.get<std::int64_t>("model.kernel_modes")), long(cfg.get<std::int64_t>("model.time_modes")),
                long(cfg.get<std::int64_t>("model.kernel_radius")), reps);
    std::printf("%-9s %4s %6s %12s %12s %12s %9s %9s\n", "operator", "L", "batch", "forward ms", "fwd+bwd ms",
                "bare FFT ms", "fwd/FFT", "f+b/FFT");

    for (const auto& name : operator_registry().names()) {
      NeuralOperatorPtr op = operator_registry().create(name, cfg);
      op->to(device, torch::kFloat32);
      {
        // Nonzero weights, so nothing is skipped as trivially zero.
        torch::NoGradGuard no_grad;
        for (auto& p : op->parameters()) p.normal_(0.0, 0.1);
      }
      for (const std::int64_t L : {8, 16, 32, 64})
        for (const std::int64_t B : {64, 256}) {
          const torch::Tensor phi = torch::randn({B, L, L}, options);
          const torch::Tensor features = torch::randn({B, F, L, L}, options);
          const torch::Tensor spectrum = torch::fft::rfft2(torch::randn({B, L, L}, options));
          // In the chunks the operators are evaluated in (operators/neural_operator.hpp), so that the floor
          // gains what they gain from chunking.
          const std::int64_t chunk = NeuralOperatorImpl::chunk_size(B, L * L, device);
          const double fft = median_ms(
              [&] {
                for (std::int64_t first = 0; first < B; first += chunk) {
                  torch::fft::rfft2(features.slice(0, first, first + chunk));
                  torch::fft::irfft2(spectrum.slice(0, first, first + chunk), std::vector<std::int64_t>{L, L});
                }
              },
              device, reps);
          const double forward = median_ms(
              [&] {
                torch::NoGradGuard no_grad;
                op->forward(0.5, phi);
              },
              device, reps);
          const double backward = median_ms(
              [&] {
                op->zero_grad();
                const auto out = op->forward(0.5, phi);
                (out.v.sum() + out.divergence.sum()).backward();
              },
              device, reps);
          std::printf("%-9s %4ld %6ld %12.3f %12.3f %12.3f %9.2f %9.2f\n", name.c_str(), long(L), long(B), forward,
                      backward, fft, forward / fft, backward / fft);
          std::fflush(stdout);
        }
    }
  } catch (const UserError& e) {
    std::fprintf(stderr, "bench_operator: %s\n", e.what());
    return 2;
  }
  return 0;
}
