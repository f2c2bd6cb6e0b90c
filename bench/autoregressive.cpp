// bench_autoregressive: how the hierarchical autoregressive network (HAN, autoregressive/han.hpp; Białas,
// Korcyl & Stebel, CPC 281 (2022) 108502, arXiv 2203.10989) scales against the dense VAN
// (autoregressive/van.hpp; Wu, Wang & Zhang, PRL 122, 080602 (2019)) for 2D Ising spins on L x L, both with
// the default MADE (depth 2, width 1), untrained (timings and memory do not depend on the weights), target
// beta = 0.44. For every L and model one row:
//
//   params       trainable parameters (VAN 2 V^2 + 3 V with V = L^2, ~2 L^4; HAN ~72 L^2)
//   model MiB    bytes of the parameters and buffers (the MADE masks are buffers as large as the weights)
//   calls        sequential network calls to draw one batch: VAN L^2 (one per spin), HAN (2L - 1) +
//                sum_k (2 l_k - 1) with l_k = L / 2^k - 1 (the boundary spin by spin, then each level batched
//                over its squares)
//   sample ms    sample(batch) without autograd: median wall time per batch, and +-% the spread
//                (max - min) / (2 median) over the timed reps
//   us/sample    the median per batch divided by the batch
//   train ms     one REINFORCE training step (train/gradient_estimator.hpp): sample without a graph, the
//                action, log_prob with a graph, backward() of the surrogate; gradients reset to none before
//                each step, no optimiser step (Adam would add two parameter-sized buffers and an O(params)
//                update); median and spread as for sample ms
//   reps         warm-up + timed reps each timing got (sampling / training)
//   peak MiB     peak live tensor bytes during the training steps, the model included (CPU: a counting
//                allocator around the default one, bench/counting_allocator.hpp; CUDA: the caching
//                allocator's peak of allocated bytes)
//   RSS MiB      the process's resident-set high-water mark over the entry (reset before it; CPU)
//
// then, for every L where both models ran, the ratios VAN / HAN.
//
// Reps adapt to the cost: each timing runs up to --warmup untimed and --reps timed reps, the sampling timing
// until half of --max-seconds has passed and the training timing until the entry has used --max-seconds
// (warm-up included), but always at least one timed rep; when one sample already took longer than the
// budget the training timing skips its warm-up (the same network calls were just run).
//
// The VAN's sample is L^2 sequential calls through ~2 L^4 weights, O(batch L^6) work: at L = 64 about an hour
// and at L = 128 days on two CPU cores. So one network call of a VAN is timed first (the median of three,
// after an untimed one), and a sample that this predicts longer than --max-sample-seconds is not run: its
// "sample ms" is calls x that call's time (a sample is nothing but these calls on precomputed masked
// weights; at L = 32 on two shared, loaded cores 51 s were predicted against 53 s measured, and 13.9 s
// against 9.4 s in another run: good to tens of per cent), its "train ms" that estimate
// plus the timed rest of the training step (action, log_prob, backward on uniformly random spins, whose cost
// does not depend on the spins), and its peak the peak of that rest (sampling needs less: one masked copy of
// the weights, no gradients). Such rows carry "~" and "est". A VAN above --van-max-L is not built. A model
// whose estimated training footprint (calibrated on the peaks measured at L = 16 .. 128) does not fit in half
// the memory available (host: MemAvailable; CUDA: the device's free memory, and the host for building in
// float32) is skipped with the reason printed; so is any entry that throws (out of memory included).
//
// Usage: bench_autoregressive [--device cpu|cuda] [--threads N] [--dtype float32|float64]
//        [--L 16 32 64 128 256 512] [--batch 256] [--warmup 2] [--reps 10] [--max-seconds 60]
//        [--van-max-L 128] [--max-sample-seconds 900]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "autoregressive/han.hpp"
#include "autoregressive/van.hpp"
#include "bench/counting_allocator.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"
#include "lattice/ising_action.hpp"
#include "train/gradient_estimator.hpp"

using namespace latflow;

namespace {

using bench::CountingAllocator;
using clock_type = std::chrono::steady_clock;

CountingAllocator* g_counter = nullptr;

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// Sequential network calls of one sample(n): the HAN's boundary and levels, the VAN's spins.
std::int64_t han_calls(std::int64_t L) {
  std::int64_t calls = 2 * L - 1;
  for (std::int64_t l = L - 1; l >= 1; l = (l - 1) / 2) calls += 2 * l - 1;
  return calls;
}
std::int64_t van_calls(std::int64_t L) { return L * L; }
/// 2 V^2 + 3 V (autoregressive/van.hpp, depth 2 and width 1), before building one.
double van_parameters(std::int64_t L) {
  const double V = static_cast<double>(L) * static_cast<double>(L);
  return 2 * V * V + 3 * V;
}

/// The tensor bytes a training step needs, estimated before building the model: `weight_copies` times the
/// parameters (weights, masks, the masked weights, their gradient, the parameters' gradient) and
/// `activation_rows` spin-sized activations [batch, L^2]. The peaks measured at L = 16 .. 64 (HAN: .. 128) fit
/// VAN ~2.8-3.5 P + 6.4 A and HAN ~17 A (P the parameter bytes, A the bytes of one [batch, L^2]); the
/// callers add a margin.
double training_bytes(double params, std::int64_t L, std::int64_t batch, double element, double weight_copies,
                      double activation_rows) {
  return element * (weight_copies * params + activation_rows * static_cast<double>(batch) * static_cast<double>(L * L));
}

struct Timing {
  int warmup = 0;
  std::vector<double> ms;  ///< the timed reps
  double first_ms = 0;     ///< the first rep, warm-up or not
  double median() const {
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
  }
  /// (max - min) / (2 median) in percent.
  double spread_percent() const {
    if (ms.size() < 2) return 0;
    const auto [lo, hi] = std::minmax_element(ms.begin(), ms.end());
    return 100.0 * (*hi - *lo) / (2.0 * median());
  }
  std::string reps() const { return std::to_string(warmup) + "+" + std::to_string(ms.size()); }
};

/// Up to `warmup` untimed and `reps` timed calls of `f`, warm-up while less than `budget_s` has passed since
/// `t0`, timed reps until then too, but always at least one timed rep.
template <class F>
Timing time_reps(F&& f, int warmup, int reps, double budget_s, clock_type::time_point t0) {
  Timing t;
  const auto once = [&] {
    const auto start = clock_type::now();
    f();
    const double ms = 1e3 * seconds_since(start);
    if (t.warmup == 0 && t.ms.empty()) t.first_ms = ms;
    return ms;
  };
  while (t.warmup < warmup && seconds_since(t0) < budget_s) once(), ++t.warmup;
  while (static_cast<int>(t.ms.size()) < std::max(reps, 1) && (t.ms.empty() || seconds_since(t0) < budget_s))
    t.ms.push_back(once());
  return t;
}

struct Entry {
  std::string model;
  std::int64_t L = 0;
  std::string skipped;  ///< why, when not measured
  std::int64_t params = 0, calls = 0;
  double model_mib = 0, peak_mib = 0, rss_mib = 0;
  Timing sample, train;
  bool estimated = false;  ///< the VAN's sample time is extrapolated from one network call (not run)
  bool ran() const { return skipped.empty(); }
};

struct Settings {
  c10::Device device{c10::kCPU};
  c10::ScalarType dtype = torch::kFloat32;
  std::int64_t batch = 256;
  int warmup = 2, reps = 10;
  double max_seconds = 60;
  std::int64_t van_max_L = 128;
  double max_sample_seconds = 900;
};

void sync(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

/// Why the model at L cannot be measured here, or "" when it can.
std::string skip_reason(const std::string& model, std::int64_t L, const Settings& s) {
  if (L < 2 || (L & (L - 1)) != 0) {
    if (model == "han") return "HAN needs L a power of two >= 2";
  }
  if (L < 1) return "L must be >= 1";
  const double element = static_cast<double>(c10::elementSize(s.dtype));
  double need = 0, construction = 0;
  if (model == "van") {
    if (L > s.van_max_L) return "L > --van-max-L " + std::to_string(s.van_max_L);
    const double params = van_parameters(L);
    need = training_bytes(params, L, s.batch, element, 4, 10);
    construction = 4.0 * params * 4.0;  // built in float32 on the host: weights, masks and temporaries
  } else {
    need = training_bytes(80.0 * static_cast<double>(L * L), L, s.batch, element, 4, 24);
    construction = 4.0 * 80.0 * static_cast<double>(L * L) * 4.0;
  }
  char buf[256];
  const double host = available_host_memory_bytes();
  if (s.device.is_cuda()) {
    const double free = free_device_memory_bytes(s.device);
    if (free > 0 && need > 0.5 * free) {
      std::snprintf(buf, sizeof buf, "needs ~%.0f MiB on the device for a training step, half its free %.0f MiB is less",
                    mib(need), mib(free));
      return buf;
    }
    need = construction;
  } else {
    need = std::max(need, construction);
  }
  if (host > 0 && need > 0.5 * host) {
    std::snprintf(buf, sizeof buf, "needs ~%.0f MiB of host memory, half the available %.0f MiB is less", mib(need),
                  mib(host));
    return buf;
  }
  return "";
}

Entry measure(const std::string& model_name, std::int64_t L, const Settings& s) {
  Entry e;
  e.model = model_name;
  e.L = L;
  e.skipped = skip_reason(model_name, L, s);
  const bool van = model_name == "van";
  e.calls = van ? van_calls(L) : han_calls(L);
  if (!e.ran()) return e;
  try {
    const c10::Device cpu(c10::kCPU);
    reset_peak_memory(cpu);
    torch::manual_seed(0);
    const Lattice lattice = Lattice::square(L);
    SamplerPtr model;
    if (van)
      model = Van(VanOptions(lattice)).ptr();
    else
      model = Han(HanOptions(L)).ptr();
    model->to(s.device, s.dtype);
    e.params = model->parameter_count();
    double bytes = 0;
    for (const auto& p : model->parameters()) bytes += static_cast<double>(p.nbytes());
    for (const auto& b : model->buffers()) bytes += static_cast<double>(b.nbytes());
    e.model_mib = mib(bytes);

    const auto action = std::make_shared<IsingAction>(IsingAction::from_beta(0.44));
    double sample_estimate_s = 0;  // > 0: the VAN's sample is too long to run, this is its estimate
    if (van) {
      // One network call (the median of three, after an untimed one) times L^2: what one sample(batch) costs.
      auto* v = dynamic_cast<VanImpl*>(model.get());
      torch::NoGradGuard no_grad;
      const at::Tensor zeros = torch::zeros({s.batch, L * L}, model->tensor_options());
      v->net().logits(zeros);
      sync(s.device);
      Timing calls;
      for (int k = 0; k < 3; ++k) {
        const auto start = clock_type::now();
        v->net().logits(zeros);
        sync(s.device);
        calls.ms.push_back(1e3 * seconds_since(start));
      }
      const double call_s = 1e-3 * calls.median(), sample_s = call_s * static_cast<double>(e.calls);
      if (sample_s > s.max_sample_seconds) {
        sample_estimate_s = sample_s;
        std::printf("note: VAN at L = %ld: one sample(%ld) is %ld sequential calls of ~%.3g ms (median of 3 timed), "
                    "~%.3g s > --max-sample-seconds %.0f: not run; sample ms is this estimate, train ms the estimate "
                    "plus a timed log_prob + backward on random spins (marked ~)\n",
                    long(L), long(s.batch), long(e.calls), 1e3 * call_s, sample_s, s.max_sample_seconds);
        std::fflush(stdout);
      } else if (sample_s > 0.25 * s.max_seconds) {
        std::printf("note: VAN at L = %ld: one sample(%ld) is %ld sequential calls of ~%.3g ms (median of 3 timed), "
                    "~%.3g s; the entry runs at least 3 samples (warm-up, timed, training step): ~%.3g s or more\n",
                    long(L), long(s.batch), long(e.calls), 1e3 * call_s, sample_s, 3 * sample_s);
        std::fflush(stdout);
      }
    }

    const auto t0 = clock_type::now();
    if (sample_estimate_s > 0) {
      e.estimated = true;
      e.sample.ms = {1e3 * sample_estimate_s};
      // The training step without its sample: the rest of ReinforceEstimator on spins drawn uniformly (its
      // cost does not depend on which spins). Its peak is the step's: sampling holds one masked copy of the
      // weights, log_prob + backward that copy, its gradient and the parameters' gradient.
      const at::Tensor x = (torch::rand({s.batch, L, L}, model->tensor_options()) < 0.5).to(s.dtype) * 2 - 1;
      sync(s.device);
      g_counter->reset_peak();
      reset_peak_memory(s.device);
      e.train = time_reps(
          [&] {
            model->zero_grad();
            const at::Tensor signal = action->action(x);
            const at::Tensor logq = model->log_prob(x);
            ((signal - signal.mean()) * logq).mean().backward();
            sync(s.device);
          },
          s.warmup, s.reps, s.max_seconds, t0);
      for (double& ms : e.train.ms) ms += 1e3 * sample_estimate_s;
    } else {
      e.sample = time_reps(
          [&] {
            torch::NoGradGuard no_grad;
            const Density d = model->sample(s.batch, lattice);
            sync(s.device);
          },
          s.warmup, s.reps, 0.5 * s.max_seconds, t0);

      const ReinforceEstimator estimator;
      sync(s.device);
      g_counter->reset_peak();
      reset_peak_memory(s.device);
      const int train_warmup = e.sample.first_ms > 1e3 * s.max_seconds ? 0 : s.warmup;
      e.train = time_reps(
          [&] {
            model->zero_grad();
            const LossTerms terms = estimator(*model, *action, s.batch, lattice);
            terms.surrogate.backward();
            sync(s.device);
          },
          train_warmup, s.reps, s.max_seconds, t0);
    }
    e.peak_mib = s.device.is_cuda() ? peak_memory_mib(s.device) : mib(static_cast<double>(g_counter->peak()));
    model->zero_grad();
    e.rss_mib = peak_memory_mib(cpu);
  } catch (const std::bad_alloc&) {
    e.skipped = "out of memory (std::bad_alloc)";
  } catch (const c10::Error& err) {
    e.skipped = std::string("torch error: ") + err.what_without_backtrace();
  } catch (const UserError& err) {
    e.skipped = err.what();
  }
  return e;
}

/// A number with 3-4 significant digits and no exponent.
std::string num(double v) {
  char buf[64];
  const double a = std::fabs(v);
  std::snprintf(buf, sizeof buf, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
  return buf;
}

void print_header() {
  std::printf("%4s %-5s %11s %10s %7s %11s %5s %10s %7s %11s %5s %7s %10s %9s\n", "L", "model", "params",
              "model MiB", "calls", "sample ms", "+-%", "us/sample", "reps", "train ms", "+-%", "reps", "peak MiB",
              "RSS MiB");
}

void print_row(const Entry& e, std::int64_t batch) {
  if (!e.ran()) {
    std::printf("%4ld %-5s %11s %10s %7ld %11s %5s %10s %7s %11s %5s %7s %10s %9s   skipped: %s\n", long(e.L),
                e.model.c_str(), e.model == "van" ? num(van_parameters(e.L)).c_str() : "-", "-", long(e.calls), "-",
                "-", "-", "-", "-", "-", "-", "-", "-", e.skipped.c_str());
    return;
  }
  const double sample_ms = e.sample.median();
  const std::string mark = e.estimated ? "~" : "";
  std::printf("%4ld %-5s %11ld %10s %7ld %11s %5.0f %10s %7s %11s %5.0f %7s %10s %9s\n", long(e.L), e.model.c_str(),
              long(e.params), num(e.model_mib).c_str(), long(e.calls), (mark + num(sample_ms)).c_str(),
              e.sample.spread_percent(), (mark + num(1e3 * sample_ms / static_cast<double>(batch))).c_str(),
              e.estimated ? "est" : e.sample.reps().c_str(), (mark + num(e.train.median())).c_str(),
              e.train.spread_percent(), e.train.reps().c_str(), num(e.peak_mib).c_str(), num(e.rss_mib).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"HAN against VAN for 2D Ising spins: parameters, memory and time per sample and training step."};
  std::string device_name = "cpu", dtype = "float32";
  int threads = 0;
  Settings s;
  std::vector<std::int64_t> sizes = {16, 32, 64, 128, 256, 512};
  app.add_option("--device", device_name, "cpu, cuda or cuda:N");
  app.add_option("--threads", threads, "torch intra-op threads (0: torch's default)");
  app.add_option("--dtype", dtype, "float32 or float64");
  app.add_option("--L", sizes, "lattice sizes (powers of two)")->expected(1, -1);
  app.add_option("--batch", s.batch, "samples per batch (sampling and training)")->check(CLI::PositiveNumber);
  app.add_option("--warmup", s.warmup, "untimed reps first, within the time budget")->check(CLI::NonNegativeNumber);
  app.add_option("--reps", s.reps, "timed reps at most (at least 1 always runs)")->check(CLI::PositiveNumber);
  app.add_option("--max-seconds", s.max_seconds, "time budget of one (L, model) entry; reps stop after it")
      ->check(CLI::PositiveNumber);
  app.add_option("--van-max-L", s.van_max_L, "largest L at which the VAN (~2 L^4 weights) is built");
  app.add_option("--max-sample-seconds", s.max_sample_seconds,
                 "a VAN sample estimated longer than this is not run but extrapolated (marked ~)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    s.device = parse_device(device_name);
    s.dtype = parse_dtype(dtype);
    if (threads > 0) at::set_num_threads(threads);
    CountingAllocator counter(c10::GetDefaultCPUAllocator());
    c10::SetCPUAllocator(&counter, /*priority=*/100);
    g_counter = &counter;
    std::printf("bench_autoregressive: LibTorch %s, device %s, %s, batch %ld, torch threads %d, hardware threads %u, "
                "host memory available %.0f MiB\n",
                TORCH_VERSION, s.device.str().c_str(), dtype.c_str(), long(s.batch), at::get_num_threads(),
                std::thread::hardware_concurrency(), mib(available_host_memory_bytes()));
    std::printf("reps: up to %d warm-up + %d timed per timing, at least 1 timed, within %.0f s per entry; "
                "VAN up to L = %ld; Ising beta = 0.44, REINFORCE\n",
                s.warmup, s.reps, s.max_seconds, long(s.van_max_L));
    print_header();
    std::fflush(stdout);
    std::vector<Entry> entries;
    for (const std::int64_t L : sizes)
      for (const char* model : {"han", "van"}) {
        entries.push_back(measure(model, L, s));
        print_row(entries.back(), s.batch);
        std::fflush(stdout);
      }
    for (const std::int64_t L : sizes) {
      const Entry *han = nullptr, *van = nullptr;
      for (const Entry& e : entries)
        if (e.L == L && e.ran()) (e.model == "han" ? han : van) = &e;
      if (!han || !van) continue;
      std::printf("ratio VAN/HAN at L = %ld: params %s, model memory %s, calls %s, time per sample %s, training step "
                  "%s, peak memory %s, RSS %s%s\n",
                  long(L), num(double(van->params) / double(han->params)).c_str(),
                  num(van->model_mib / han->model_mib).c_str(), num(double(van->calls) / double(han->calls)).c_str(),
                  num(van->sample.median() / han->sample.median()).c_str(),
                  num(van->train.median() / han->train.median()).c_str(), num(van->peak_mib / han->peak_mib).c_str(),
                  num(van->rss_mib / han->rss_mib).c_str(), van->estimated ? " (VAN times estimated, ~)" : "");
    }
  } catch (const UserError& err) {
    std::fprintf(stderr, "bench_autoregressive: %s\n", err.what());
    return 2;
  }
  return 0;
}
