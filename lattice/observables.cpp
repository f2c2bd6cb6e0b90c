#include "lattice/observables.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <fftw3.h>

#include "core/error.hpp"

namespace latflow {

namespace {

/// FFTW plans of one T x L lattice: the r2c transform of a configuration and the c2r transform back.
/// Created with FFTW_UNALIGNED so that they can be executed on any arrays (fftw_execute_dft_*).
struct LatticePlans {
  fftw_plan r2c = nullptr;
  fftw_plan c2r = nullptr;
};

/// Plans are made once per lattice shape and kept for the life of the process (destroyed at exit, so leak
/// checkers see none); FFTW's planner is not thread-safe, so making them is serialised (executing them is
/// thread-safe).
struct PlanCache {
  std::mutex planner;
  std::map<std::pair<int, int>, LatticePlans> plans;
  ~PlanCache() {
    for (auto& [shape, p] : plans) {
      fftw_destroy_plan(p.r2c);
      fftw_destroy_plan(p.c2r);
    }
  }
};

const LatticePlans& plans_for(int T, int L) {
  static PlanCache cache;
  std::lock_guard<std::mutex> lock(cache.planner);
  auto it = cache.plans.find({T, L});
  if (it != cache.plans.end()) return it->second;
  const int half = L / 2 + 1;
  double* real = fftw_alloc_real(static_cast<std::size_t>(T) * L);
  fftw_complex* spectrum = fftw_alloc_complex(static_cast<std::size_t>(T) * half);
  LatticePlans p;
  p.r2c = fftw_plan_dft_r2c_2d(T, L, real, spectrum, FFTW_ESTIMATE | FFTW_UNALIGNED);
  p.c2r = fftw_plan_dft_c2r_2d(T, L, spectrum, real, FFTW_ESTIMATE | FFTW_UNALIGNED);
  fftw_free(spectrum);
  fftw_free(real);
  if (!p.r2c || !p.c2r)
    throw std::runtime_error("FFTW could not plan the " + std::to_string(T) + "x" + std::to_string(L) +
                             " transforms");
  return cache.plans.emplace(std::make_pair(T, L), p).first->second;
}

at::Tensor as_double_cpu(const at::Tensor& phi, const char* who) {
  if (!phi.defined()) throw UserError(std::string(who) + ": the field tensor is undefined");
  if (phi.dim() != 3)
    throw UserError(std::string(who) + ": expected a scalar field [N, T, L], got " +
                    std::to_string(phi.dim()) + " dimensions");
  if (phi.size(0) < 1 || phi.size(1) < 1 || phi.size(2) < 1)
    throw UserError(std::string(who) + ": the field [N, T, L] has an empty dimension");
  if (phi.is_complex()) throw UserError(std::string(who) + ": the field must be real");
  at::Tensor x = phi.detach().to(at::kCPU, at::kDouble).contiguous();
  if (!at::isfinite(x).all().item<bool>())
    throw UserError(std::string(who) + ": the field has non-finite values");
  return x;
}

// Layout of the per-configuration series: four scalars, then |phi~(p)|^2 on the r2c half spectrum.
enum Scalar { kM, kAbsM, kM2, kM4, kScalars };

constexpr double kPi = 3.14159265358979323846;
constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();  // never leaves this file

/// The derived quantities of one set of ensemble means (full sample or one leave-one-bin-out sample);
/// an undefined one is kUndefined.
struct Derived {
  double abs_m, m2, chi2, binder, xi2nd;
  std::vector<double> two_point, correlator, effective_mass;  // effective_mass[t-1], t = 1..T/2
};

Derived derive(const std::vector<double>& mean, int T, int L, const LatticePlans& plans) {
  const int half = L / 2 + 1;
  const double V = static_cast<double>(T) * L;
  const double m = mean[kM];
  const double* power = mean.data() + kScalars;
  Derived d;
  d.abs_m = mean[kAbsM];
  d.m2 = mean[kM2];
  d.chi2 = V * (mean[kM2] - m * m);
  d.binder = mean[kM2] > 0 ? 1 - mean[kM4] / (3 * mean[kM2] * mean[kM2]) : kUndefined;
  // (1/V) sum_y phi(y) phi(y+x) = (1/V^2) sum_p e^{ipx} |phi~(p)|^2, the unnormalised c2r of the power.
  std::vector<fftw_complex> spectrum(static_cast<std::size_t>(T) * half);
  for (std::size_t i = 0; i < spectrum.size(); ++i) {
    spectrum[i][0] = power[i] / (V * V);
    spectrum[i][1] = 0;
  }
  d.two_point.resize(static_cast<std::size_t>(T) * L);
  fftw_execute_dft_c2r(plans.c2r, spectrum.data(), d.two_point.data());
  for (double& g : d.two_point) g -= m * m;
  d.correlator.assign(T, 0.0);
  for (int t = 0; t < T; ++t)
    for (int s = 0; s < L; ++s) d.correlator[t] += d.two_point[static_cast<std::size_t>(t) * L + s];
  for (int t = 1; t <= T / 2; ++t) {
    const double c = (d.correlator[t - 1] + d.correlator[(t + 1) % T]) / (2 * d.correlator[t]);
    d.effective_mass.push_back(std::isfinite(c) && c >= 1 ? std::acosh(c) : kUndefined);
  }
  // G~(0) = chi2 (connected); G~(0, 2pi/L) = <|phi~(0, 1)|^2> / V, where the constant <M>^2 drops out.
  d.xi2nd = kUndefined;
  if (L >= 2) {
    const double sin_half = std::sin(kPi / L);
    const double xi2 = (d.chi2 / (power[1] / V) - 1) / (4 * sin_half * sin_half);
    if (std::isfinite(xi2) && xi2 > 0) d.xi2nd = std::sqrt(xi2);
  }
  return d;
}

/// Jackknife estimate of one derived quantity into `out`, or false (out untouched) when it is undefined
/// on the full sample or on any leave-one-bin-out sample.
template <class Get>
bool estimate(const Derived& full, const std::vector<Derived>& replicas, Get get, stats::Estimate& out) {
  if (!std::isfinite(get(full))) return false;
  std::vector<double> values(replicas.size());
  for (std::size_t b = 0; b < replicas.size(); ++b) {
    values[b] = get(replicas[b]);
    if (!std::isfinite(values[b])) return false;
  }
  out = stats::jackknife_estimate(get(full), values);
  return true;
}

nlohmann::json estimate_json(const stats::Estimate& e) { return {{"value", e.value}, {"error", e.error}}; }

}  // namespace

at::Tensor magnetization(const at::Tensor& phi) {
  return as_double_cpu(phi, "magnetization").mean({1, 2});
}

ObservableReport measure(const at::Tensor& phi, const std::vector<double>& log_w, int n_bins) {
  const at::Tensor x = as_double_cpu(phi, "measure");
  const std::int64_t N = x.size(0);
  const int T = static_cast<int>(x.size(1)), L = static_cast<int>(x.size(2));
  const int half = L / 2 + 1;
  const std::size_t V = static_cast<std::size_t>(T) * L;
  const std::size_t n_modes = static_cast<std::size_t>(T) * half;
  if (!log_w.empty() && static_cast<std::int64_t>(log_w.size()) != N)
    throw UserError("measure: " + std::to_string(log_w.size()) + " log weights for " +
                    std::to_string(N) + " configurations");
  const LatticePlans& plans = plans_for(T, L);

  stats::BinnedMeans binned(static_cast<std::size_t>(N), kScalars + n_modes, log_w, n_bins);
  std::vector<double> config(V), values(kScalars + n_modes);
  std::vector<fftw_complex> spectrum(n_modes);
  const double* data = x.data_ptr<double>();
  for (std::int64_t i = 0; i < N; ++i) {
    std::copy(data + i * V, data + (i + 1) * V, config.begin());
    double sum = 0;
    for (double v : config) sum += v;
    const double M = sum / static_cast<double>(V);
    values[kM] = M;
    values[kAbsM] = std::abs(M);
    values[kM2] = M * M;
    values[kM4] = M * M * M * M;
    fftw_execute_dft_r2c(plans.r2c, config.data(), spectrum.data());
    for (std::size_t k = 0; k < n_modes; ++k)
      values[kScalars + k] = spectrum[k][0] * spectrum[k][0] + spectrum[k][1] * spectrum[k][1];
    binned.add(static_cast<std::size_t>(i), values.data());
  }

  const Derived full = derive(binned.full_means(), T, L, plans);
  std::vector<Derived> replicas;
  for (int b = 0; b < binned.n_bins(); ++b)
    replicas.push_back(derive(binned.leave_out_means(b), T, L, plans));

  ObservableReport r;
  r.T = T;
  r.L = L;
  estimate(full, replicas, [](const Derived& d) { return d.abs_m; }, r.abs_magnetization);
  estimate(full, replicas, [](const Derived& d) { return d.m2; }, r.m2);
  estimate(full, replicas, [](const Derived& d) { return d.chi2; }, r.chi2);
  r.binder_defined = estimate(full, replicas, [](const Derived& d) { return d.binder; }, r.binder);
  r.xi2nd_defined = estimate(full, replicas, [](const Derived& d) { return d.xi2nd; }, r.xi2nd);
  r.two_point.resize(V);
  for (std::size_t k = 0; k < V; ++k)
    estimate(full, replicas, [k](const Derived& d) { return d.two_point[k]; }, r.two_point[k]);
  r.correlator.resize(T);
  for (int t = 0; t < T; ++t)
    estimate(full, replicas, [t](const Derived& d) { return d.correlator[t]; }, r.correlator[t]);
  for (int t = 1; t <= T / 2; ++t) {
    stats::Estimate e;
    if (estimate(full, replicas, [t](const Derived& d) { return d.effective_mass[t - 1]; }, e)) {
      r.effective_mass.push_back(e);
      r.effective_mass_t.push_back(t);
    }
  }
  return r;
}

nlohmann::json ObservableReport::to_json() const {
  nlohmann::json j;
  j["abs_magnetization"] = estimate_json(abs_magnetization);
  j["m2"] = estimate_json(m2);
  j["chi2"] = estimate_json(chi2);
  j["binder"] = binder_defined ? estimate_json(binder) : nlohmann::json(nullptr);
  j["xi2nd"] = xi2nd_defined ? estimate_json(xi2nd) : nlohmann::json(nullptr);
  j["correlator"] = nlohmann::json::array();
  for (const auto& c : correlator) j["correlator"].push_back(estimate_json(c));
  j["effective_mass"] = nlohmann::json::array();
  for (std::size_t i = 0; i < effective_mass.size(); ++i)
    j["effective_mass"].push_back({{"t", effective_mass_t[i]},
                                   {"value", effective_mass[i].value},
                                   {"error", effective_mass[i].error}});
  return j;
}

}  // namespace latflow
