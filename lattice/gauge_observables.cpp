#include "lattice/gauge_observables.hpp"

#include <ATen/ATen.h>

#include "lattice/statistics.hpp"
#include "lattice/u1_gauge_field.hpp"

namespace latflow {

namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

nlohmann::json estimate(const at::Tensor& series, const std::vector<double>& log_w, int n_bins) {
  const auto e = stats::mean(to_vector(series), log_w, n_bins);
  return {{"value", e.value}, {"error", e.error}};
}

/// f(theta chunk) over chunks of configurations, concatenated: [N, ...].
template <class F>
at::Tensor in_chunks(const at::Tensor& theta, F f) {
  constexpr std::int64_t kChunk = 64;
  std::vector<at::Tensor> parts;
  for (std::int64_t begin = 0; begin < theta.size(0); begin += kChunk)
    parts.push_back(f(theta.narrow(0, begin, std::min(kChunk, theta.size(0) - begin))));
  return at::cat(parts);
}

}  // namespace

nlohmann::json measure_gauge(const at::Tensor& theta_in, const std::vector<double>& log_w, int n_bins,
                             const std::optional<WilsonFermions>& fermions) {
  u1::require_links("gauge observables", theta_in);
  const at::Tensor theta = theta_in.detach().to(at::kCPU, at::kDouble).contiguous();
  const double V = static_cast<double>(theta.size(2) * theta.size(3));
  const at::Tensor q = u1::topological_charge(theta);
  nlohmann::json j = {{"plaquette", estimate(u1::mean_plaquette(theta), log_w, n_bins)},
                      {"wilson_loop_2x1", estimate(u1::mean_rectangle(theta), log_w, n_bins)},
                      {"topological_charge", estimate(q, log_w, n_bins)},
                      {"topological_susceptibility", estimate(q * q / V, log_w, n_bins)}};
  if (fermions) {
    const WilsonFermions f = *fermions;
    j["chiral_condensate"] = estimate(
        in_chunks(theta, [&](const at::Tensor& t) { return u1::chiral_condensate(t, f.kappa, f.time); }), log_w,
        n_bins);
    const at::Tensor c = in_chunks(theta, [&](const at::Tensor& t) { return u1::pion_correlator(t, f.kappa, f.time); });
    j["pion_correlator"] = nlohmann::json::array();
    for (std::int64_t t = 0; t < c.size(1); ++t) j["pion_correlator"].push_back(estimate(c.select(1, t), log_w, n_bins));
  }
  return j;
}

std::vector<std::pair<std::string, at::Tensor>> gauge_chain_observables(const at::Tensor& theta) {
  return {{"topological_charge", u1::topological_charge(theta).to(at::kCPU, at::kDouble)},
          {"plaquette", u1::mean_plaquette(theta).to(at::kCPU, at::kDouble)}};
}

}  // namespace latflow
