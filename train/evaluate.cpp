#include "train/evaluate.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "core/error.hpp"
#include "flows/continuous_flow.hpp"
#include "flows/flow.hpp"
#include "lattice/statistics.hpp"
#include "odes/registry.hpp"

namespace latflow {

namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
nlohmann::json to_json(const stats::Estimate& e) { return {{"value", e.value}, {"error", e.error}}; }

/// The free energy per site f = -ln Z / (beta V) from the log weights: the variational estimate from
/// ln Z >= E_q[log w] (so f_q >= f), and the importance-sampling estimate from ln Z ~ ln mean(w); with the
/// exact f when the action knows ln Z.
nlohmann::json free_energy(const std::vector<double>& log_w, const Action& action, const Lattice& lattice,
                           const nlohmann::json& exact) {
  const double scale = -1.0 / (action.inverse_temperature() * static_cast<double>(lattice.volume()));
  const auto per_site = [&](const stats::Estimate& log_z) {
    return nlohmann::json{{"value", scale * log_z.value}, {"error", std::abs(scale) * log_z.error}};
  };
  nlohmann::json f = {{"variational", per_site(stats::mean(log_w))}, {"importance", per_site(stats::log_z(log_w))}};
  if (exact.contains("log_z") && exact["log_z"].is_number()) {
    const double fe = scale * exact["log_z"].get<double>();
    f["exact"] = fe;
    f["variational_minus_exact_relative"] = (f["variational"]["value"].get<double>() - fe) / std::abs(fe);
    const double err = f["importance"]["error"].get<double>();
    f["importance_pull"] = err > 0 ? (f["importance"]["value"].get<double>() - fe) / err : 0.0;
  }
  return f;
}

bool is_estimate(const nlohmann::json& j) { return j.is_object() && j.contains("value") && j.contains("error"); }

void walk(nlohmann::json& a, const nlohmann::json& b, double factor, const std::string& path,
          std::pair<double, std::string>& worst) {
  if (is_estimate(a) && is_estimate(b)) {
    if (!a["value"].is_number() || !b["value"].is_number() || !a["error"].is_number()) return;
    const double sys = factor * std::abs(a["value"].get<double>() - b["value"].get<double>());
    a["systematic"] = sys;
    const double err = a["error"].get<double>();
    const double ratio = sys == 0 ? 0.0 : (err > 0 ? sys / err : std::numeric_limits<double>::infinity());
    if (ratio > worst.first || worst.second.empty()) worst = {ratio, path};
    return;
  }
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it)
      if (b.contains(it.key())) walk(it.value(), b[it.key()], factor, path.empty() ? it.key() : path + "." + it.key(), worst);
  } else if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      // Entries that carry their own label (effective_mass: "t") must agree on it to be compared.
      if (a[i].is_object() && a[i].contains("t") && (!b[i].is_object() || b[i].value("t", nlohmann::json()) != a[i]["t"]))
        continue;
      walk(a[i], b[i], factor, path + "[" + std::to_string(i) + "]", worst);
    }
  }
}

/// An ensemble drawn from the flow: configurations (float64, CPU) and log weights -S - log q.
struct Ensemble {
  std::vector<at::Tensor> phi;
  std::vector<double> log_w;
  void add(const Density& d, const Action& action) {
    const auto lw = to_vector(-action.action(d.phi) - d.logq);
    log_w.insert(log_w.end(), lw.begin(), lw.end());
    phi.push_back(d.phi.to(torch::kCPU, torch::kFloat64));
  }
};

ContinuousFlowImpl* continuous_flow(SamplerImpl& model) {
  auto* flow = dynamic_cast<FlowImpl*>(&model);
  return flow ? dynamic_cast<ContinuousFlowImpl*>(&flow->transform()) : nullptr;
}

/// Restores a continuous flow's solver when it goes out of scope, also when a solve throws.
class SolverRestore {
 public:
  explicit SolverRestore(ContinuousFlowImpl* cnf) : cnf_(cnf), saved_(cnf ? cnf->solver() : odes::SolverOptions{}) {}
  ~SolverRestore() {
    if (cnf_) cnf_->set_solver(saved_);
  }

 private:
  ContinuousFlowImpl* cnf_;
  odes::SolverOptions saved_;
};

}  // namespace

std::pair<double, std::string> add_systematic_errors(nlohmann::json& a, const nlohmann::json& b, double factor) {
  std::pair<double, std::string> worst{0.0, ""};
  walk(a, b, factor, "", worst);
  return worst;
}


void use_evaluation_solver(SamplerImpl& model, const EvaluationOptions& o) {
  if (o.solver != "model" && o.solver != "adaptive")
    throw UserError("evaluation solver '" + o.solver + "' is not known; allowed: 'model', 'adaptive'");
  auto* cnf = continuous_flow(model);
  if (!cnf || o.solver != "adaptive") return;
  // Tolerances far below float32's resolution need float64 to be met at all.
  model.to(torch::kFloat64);
  odes::SolverOptions s = cnf->solver();
  s.method = "dopri5";
  s.rtol = o.rtol;
  s.atol = o.atol;
  cnf->set_solver(s);
}

ReferenceSolve reference_solve(const odes::SolverOptions& used, std::int64_t refine_factor) {
  if (refine_factor < 2) throw UserError("eval.refine_factor must be >= 2");
  ReferenceSolve r{used, 1.0};
  const auto stepper = odes::stepper_registry().create(used.method);
  if (stepper->adaptive()) {
    r.solver.rtol /= 100, r.solver.atol /= 100;
    r.factor = 100.0 / 99.0;
  } else {
    r.solver.steps *= refine_factor;
    const double kp = std::pow(static_cast<double>(refine_factor), stepper->order());
    r.factor = kp / (kp - 1);
  }
  return r;
}

at::Tensor solver_log_w_errors(SamplerImpl& model, const Action& action, const Lattice& lattice, std::int64_t n,
                               std::int64_t refine_factor) {
  auto* cnf = continuous_flow(model);
  if (!cnf) return {};
  torch::NoGradGuard no_grad;
  const SolverRestore restore(cnf);
  const odes::SolverOptions used = cnf->solver();
  const ReferenceSolve reference = reference_solve(used, refine_factor);
  auto& flow = dynamic_cast<FlowImpl&>(model);
  const at::Tensor z = flow.prior().sample(n, lattice, model.tensor_options());
  const at::Tensor logq0 = flow.prior().log_prob(z);
  const auto log_w = [&](const Density& d) { return (-action.action(d.phi) - d.logq).to(torch::kCPU, torch::kFloat64); };
  const at::Tensor a = log_w(flow.transform().forward({z, logq0}));
  cnf->set_solver(reference.solver);
  const at::Tensor b = log_w(flow.transform().forward({z, logq0}));
  return reference.factor * (a - b).abs();
}

nlohmann::json evaluate_model(SamplerImpl& model, const Action& action, const Lattice& lattice,
                              const EvaluationOptions& o) {
  torch::NoGradGuard no_grad;
  auto* cnf = continuous_flow(model);
  auto* flow = dynamic_cast<FlowImpl*>(&model);  // set whenever cnf is
  const SolverRestore restore(cnf);
  use_evaluation_solver(model, o);

  nlohmann::json solver_error = {{"applies", cnf != nullptr}};
  odes::SolverOptions used, reference;
  double factor = 1;
  if (cnf) {
    used = cnf->solver();
    const ReferenceSolve r = reference_solve(used, o.refine_factor);
    reference = r.solver;
    factor = r.factor;
    solver_error["solver"] = {{"method", used.method}, {"steps", used.steps}, {"rtol", used.rtol}, {"atol", used.atol}};
  } else {
    solver_error["reason"] = "the model has no ODE solve: its log-density is exact up to rounding";
  }
  const bool check = cnf && o.solver_check;

  const auto start = std::chrono::steady_clock::now();
  Ensemble a, b;
  std::int64_t nfe = 0, solves = 0;
  double max_dphi = 0;
  for (std::int64_t done = 0; done < o.n; done += o.batch) {
    const std::int64_t m = std::min(o.batch, o.n - done);
    if (!cnf) {
      a.add(model.sample(m, lattice), action);
      continue;
    }
    // The base samples are kept, so that the reference solve transports the same z.
    const at::Tensor z = flow->prior().sample(m, lattice, model.tensor_options());
    const at::Tensor logq0 = flow->prior().log_prob(z);
    const Density da = flow->transform().forward({z, logq0});
    a.add(da, action);
    nfe += cnf->last_stats().nfe, ++solves;
    if (check) {
      cnf->set_solver(reference);
      const Density db = flow->transform().forward({z, logq0});
      cnf->set_solver(used);
      b.add(db, action);
      max_dphi = std::max(max_dphi, (da.phi - db.phi).abs().max().item<double>());
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const at::Tensor phi = torch::cat(a.phi);

  const auto chain = stats::independence_metropolis(a.log_w, o.seed);
  nlohmann::json tau = nlohmann::json::object();
  std::string primary;
  for (const auto& [name, series] : action.chain_observables(phi)) {
    if (primary.empty()) primary = name;
    const at::Tensor values = series.to(torch::kCPU, torch::kFloat64).contiguous();
    std::vector<double> along_chain;
    along_chain.reserve(chain.index.size());
    for (const auto i : chain.index) along_chain.push_back(values.data_ptr<double>()[i]);
    const auto t = stats::tau_int(along_chain);
    tau[name] = {{"value", t.tau_int}, {"error", t.error}, {"window", t.window}};
  }

  nlohmann::json j = {{"n", o.n},
                      {"ess", stats::ess_fraction(a.log_w)},
                      {"acceptance", chain.acceptance},
                      {"tau_int", tau},
                      {"chain_observable", primary},
                      {"observables", action.measure(phi, a.log_w, o.bins)},
                      {"log_z", to_json(stats::log_z(a.log_w))},
                      {"kl", to_json(stats::reverse_kl(a.log_w))},
                      {"seconds", seconds},
                      {"samples_per_second", static_cast<double>(o.n) / seconds}};
  const nlohmann::json exact = action.exact(lattice);
  if (!exact.empty()) j["exact"] = exact;
  j["free_energy"] = free_energy(a.log_w, action, lattice, exact);
  if (cnf) solver_error["solver"]["nfe_per_solve"] = static_cast<double>(nfe) / static_cast<double>(solves);

  if (check) {
    nlohmann::json ref = {{"observables", action.measure(torch::cat(b.phi), b.log_w, o.bins)},
                          {"log_z", to_json(stats::log_z(b.log_w))},
                          {"kl", to_json(stats::reverse_kl(b.log_w))},
                          {"free_energy", free_energy(b.log_w, action, lattice, exact)}};
    nlohmann::json estimates = {
        {"observables", j["observables"]}, {"log_z", j["log_z"]}, {"kl", j["kl"]}, {"free_energy", j["free_energy"]}};
    const auto worst = add_systematic_errors(estimates, ref, factor);
    for (const char* key : {"observables", "log_z", "kl", "free_energy"}) j[key] = estimates[key];
    double sum = 0, max = 0;
    for (std::size_t i = 0; i < a.log_w.size(); ++i) {
      const double d = factor * std::abs(a.log_w[i] - b.log_w[i]);
      sum += d, max = std::max(max, d);
    }
    solver_error["checked"] = true;
    solver_error["reference"] = {{"method", reference.method},
                                 {"steps", reference.steps},
                                 {"rtol", reference.rtol},
                                 {"atol", reference.atol}};
    solver_error["richardson_factor"] = factor;
    solver_error["log_w"] = {{"mean_abs", sum / static_cast<double>(a.log_w.size())}, {"max_abs", max}};
    solver_error["max_abs_dphi"] = factor * max_dphi;
    solver_error["ess_reference"] = stats::ess_fraction(b.log_w);
    solver_error["ratio"] = worst.first;
    solver_error["worst"] = worst.second;
    solver_error["threshold"] = o.max_solver_error_ratio;
    solver_error["ok"] = worst.first <= o.max_solver_error_ratio;
  } else if (cnf) {
    solver_error["checked"] = false;
  }
  j["solver_error"] = solver_error;
  return j;
}

}  // namespace latflow
