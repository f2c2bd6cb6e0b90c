#include "lattice/ising_action.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "lattice/ising_exact.hpp"
#include "lattice/statistics.hpp"

namespace latflow {

namespace {

/// sum_x s(x) [s(x + 0) + s(x + 1)] per configuration: -H / J.
at::Tensor bond_sum(const at::Tensor& s) {
  return (s * (at::roll(s, {1}, {1}) + at::roll(s, {1}, {2}))).sum({1, 2});
}

at::Tensor spins_as_double_cpu(const at::Tensor& s) {
  if (!s.defined() || s.dim() != 3 || s.size(0) < 1 || s.size(1) < 1 || s.size(2) < 1)
    throw UserError("Ising observables: expected spins [N, T, L]");
  at::Tensor x = s.detach().to(at::kCPU, at::kDouble).contiguous();
  if (!(x.abs() == 1).all().item<bool>()) throw UserError("Ising observables: spins must be +1 or -1");
  return x;
}

// Layout of the per-configuration series of the jackknife.
enum Series { kE, kE2, kM, kAbsM, kM2, kM4, kSeries };

}  // namespace

IsingAction IsingAction::from_beta(double beta, double J) { return IsingAction(beta, J); }

IsingAction::IsingAction(double beta, double J) : beta_(beta), J_(J) {
  std::ostringstream s;
  s.precision(17);
  if (!std::isfinite(beta) || !(beta > 0))
    s << "beta = " << beta << " is not allowed; beta (the inverse temperature) must be a finite number > 0";
  else if (!std::isfinite(J) || J == 0)
    s << "J = " << J << " is not allowed; J must be a finite number != 0 (> 0: ferromagnet, < 0: antiferromagnet)";
  if (!s.str().empty()) throw UserError("ising: " + s.str());
}

std::vector<std::int64_t> IsingAction::config_shape(const Lattice& lattice) const { return {lattice.T, lattice.L}; }

at::Tensor IsingAction::action(const at::Tensor& s) const {
  if (s.dim() != 3) throw UserError("ising: expected spins [B, T, L], got " + std::to_string(s.dim()) + " dimensions");
  return -beta_ * J_ * bond_sum(s);
}

at::Tensor IsingAction::force(const at::Tensor&) const {
  throw UserError("ising: the Ising model has discrete spins, so it has no force and HMC does not apply; its "
                  "reference samplers are the Wolff cluster algorithm and checkerboard Metropolis");
}

nlohmann::json IsingAction::couplings() const { return {{"beta", beta_}, {"J", J_}}; }

nlohmann::json IsingAction::measure(const at::Tensor& s, const std::vector<double>& log_w, int n_bins) const {
  const at::Tensor x = spins_as_double_cpu(s);
  const double N = static_cast<double>(x.size(1) * x.size(2));
  const at::Tensor e = (-J_ / N) * bond_sum(x), m = x.mean({1, 2});
  const at::Tensor series = at::stack({e, e * e, m, m.abs(), m * m, m.pow(4)}, 1).contiguous();
  const auto n = static_cast<std::size_t>(x.size(0));
  stats::BinnedMeans binned(n, kSeries, log_w, n_bins);
  for (std::size_t i = 0; i < n; ++i) binned.add(i, series.data_ptr<double>() + i * kSeries);

  const double undefined = std::numeric_limits<double>::quiet_NaN();
  const auto estimate = [&](auto derived) -> nlohmann::json {
    const double full = derived(binned.full_means());
    std::vector<double> replicas;
    for (int b = 0; b < binned.n_bins(); ++b) replicas.push_back(derived(binned.leave_out_means(b)));
    for (double r : replicas)
      if (!std::isfinite(r)) return nullptr;
    if (!std::isfinite(full)) return nullptr;
    const stats::Estimate est = stats::jackknife_estimate(full, replicas);
    return {{"value", est.value}, {"error", est.error}};
  };
  using Means = std::vector<double>;
  return {
      {"energy", estimate([](const Means& a) { return a[kE]; })},
      {"magnetization", estimate([](const Means& a) { return a[kM]; })},
      {"abs_magnetization", estimate([](const Means& a) { return a[kAbsM]; })},
      {"susceptibility", estimate([&](const Means& a) { return beta_ * N * (a[kM2] - a[kAbsM] * a[kAbsM]); })},
      {"binder",
       estimate([&](const Means& a) { return a[kM2] > 0 ? 1 - a[kM4] / (3 * a[kM2] * a[kM2]) : undefined; })},
      {"specific_heat", estimate([&](const Means& a) { return beta_ * beta_ * N * (a[kE2] - a[kE] * a[kE]); })}};
}

std::vector<std::pair<std::string, at::Tensor>> IsingAction::chain_observables(const at::Tensor& s) const {
  const at::Tensor x = s.detach().to(at::kCPU, at::kDouble);
  const double N = static_cast<double>(x.size(1) * x.size(2));
  return {{"abs_magnetization", x.mean({1, 2}).abs()}, {"energy", (-J_ / N) * bond_sum(x)}};
}

std::vector<std::string> IsingAction::compared_observables() const {
  return {"energy", "abs_magnetization", "specific_heat", "susceptibility", "binder"};
}

nlohmann::json IsingAction::exact(const Lattice& lattice) const {
  // Kaufman's solution has Lx = L columns and Ly = T rows; Z is symmetric in them anyway.
  if (!ising::exact::covers(beta_, J_, lattice.L, lattice.T)) return nlohmann::json::object();
  const auto t = ising::exact::thermodynamics(beta_, J_, lattice.L, lattice.T);
  return {{"energy", t.energy}, {"specific_heat", t.specific_heat}, {"free_energy", t.free_energy},
          {"log_z", t.log_z}};
}

}  // namespace latflow
