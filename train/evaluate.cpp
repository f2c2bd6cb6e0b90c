#include "train/evaluate.hpp"

#include <chrono>

#include <torch/torch.h>

#include "flows/continuous_flow.hpp"
#include "lattice/observables.hpp"
#include "lattice/statistics.hpp"

namespace latflow {

namespace {
std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
nlohmann::json to_json(const stats::Estimate& e) { return {{"value", e.value}, {"error", e.error}}; }

/// Transports the same base samples with the model's solver and with 4x its steps.
nlohmann::json density_check(FlowImpl& flow, ContinuousFlowImpl& cnf, const Action& action,
                             const Lattice& lattice, std::int64_t n) {
  const at::Tensor z = flow.prior().sample(n, lattice, flow.tensor_options());
  const at::Tensor logq0 = flow.prior().log_prob(z);
  const odes::SolverOptions coarse = cnf.solver();
  odes::SolverOptions fine = coarse;
  fine.steps *= 4;
  if (fine.method == "dopri5") fine.rtol /= 100, fine.atol /= 100;
  const Density a = cnf.forward({z, logq0});
  cnf.set_solver(fine);
  Density b;
  try {
    b = cnf.forward({z, logq0});
  } catch (...) {
    cnf.set_solver(coarse);
    throw;
  }
  cnf.set_solver(coarse);
  const auto lw_a = to_vector(-action.action(a.phi) - a.logq);
  const auto lw_b = to_vector(-action.action(b.phi) - b.logq);
  return {{"refined_steps", fine.steps},
          {"max_abs_dphi", (a.phi - b.phi).abs().max().item<double>()},
          {"mean_abs_dlogq", (a.logq - b.logq).abs().mean().item<double>()},
          {"ess", stats::ess_fraction(lw_a)},
          {"ess_refined", stats::ess_fraction(lw_b)},
          {"n", n}};
}
}  // namespace

nlohmann::json evaluate_flow(FlowImpl& flow, const Action& action, const Lattice& lattice,
                             const EvaluationOptions& o) {
  torch::NoGradGuard no_grad;
  const auto start = std::chrono::steady_clock::now();
  std::vector<at::Tensor> phis;
  std::vector<double> log_w;
  for (std::int64_t done = 0; done < o.n; done += o.batch) {
    const Density d = flow.sample(std::min(o.batch, o.n - done), lattice);
    const auto lw = to_vector(-action.action(d.phi) - d.logq);
    log_w.insert(log_w.end(), lw.begin(), lw.end());
    phis.push_back(d.phi.to(torch::kCPU, torch::kFloat64));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const at::Tensor phi = torch::cat(phis);

  const auto report = measure(phi, log_w, o.bins);
  const auto chain = stats::independence_metropolis(log_w, o.seed);
  const auto abs_m = to_vector(magnetization(phi).abs());
  std::vector<double> chain_abs_m;
  chain_abs_m.reserve(chain.index.size());
  for (const auto i : chain.index) chain_abs_m.push_back(abs_m[static_cast<std::size_t>(i)]);
  const auto tau = stats::tau_int(chain_abs_m);

  nlohmann::json j = {
      {"n", o.n},
      {"ess", stats::ess_fraction(log_w)},
      {"acceptance", chain.acceptance},
      {"tau_int", {{"abs_magnetization", {{"value", tau.tau_int}, {"error", tau.error}, {"window", tau.window}}}}},
      {"observables", report.to_json()},
      {"log_z", to_json(stats::log_z(log_w))},
      {"kl", to_json(stats::reverse_kl(log_w))},
      {"seconds", seconds},
      {"samples_per_second", static_cast<double>(o.n) / seconds}};
  if (o.density_check)
    if (auto* cnf = dynamic_cast<ContinuousFlowImpl*>(&flow.transform()))
      j["density_check"] = density_check(flow, *cnf, action, lattice, std::min<std::int64_t>(o.n, o.batch));
  return j;
}

}  // namespace latflow
