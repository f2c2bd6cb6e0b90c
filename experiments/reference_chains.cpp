// `latflow mcmc CARD` (alias `hmc`): the theory's reference Markov chains with observables,
// autocorrelation times and cost per effective sample.
#include "experiments/reference_chains.hpp"

#include <iomanip>
#include <ostream>
#include <sstream>

#include <torch/torch.h>

#include "experiments/commands.hpp"
#include "experiments/memory_estimate.hpp"
#include "experiments/progress.hpp"
#include "experiments/report.hpp"
#include "experiments/run_directory.hpp"
#include "experiments/run_steps.hpp"
#include "lattice/hmc.hpp"
#include "lattice/ising_action.hpp"
#include "lattice/ising_metropolis.hpp"
#include "lattice/statistics.hpp"
#include "lattice/wolff.hpp"

namespace latflow {

namespace {

HMCOptions hmc_options(const Config& c) {
  HMCOptions o;
  o.chains = c.get<std::int64_t>("hmc.chains");
  o.thermalization = c.get<std::int64_t>("hmc.thermalization");
  o.trajectories = c.get<std::int64_t>("hmc.trajectories");
  o.trajectory_length = c.get<double>("hmc.trajectory_length");
  o.initial_step_size = c.get<double>("hmc.step_size");
  o.target_acceptance = c.get<double>("hmc.target_acceptance");
  o.integrator = c.get<std::string>("hmc.integrator");
  o.measure_every = c.get<std::int64_t>("hmc.measure_every");
  return o;
}

SpinChainSchedule spin_schedule(const Config& c) {
  SpinChainSchedule o;
  o.chains = c.get<std::int64_t>("reference.chains");
  o.thermalization = c.get<std::int64_t>("reference.thermalization");
  o.sweeps = c.get<std::int64_t>("reference.sweeps");
  o.measure_every = c.get<std::int64_t>("reference.measure_every");
  return o;
}

/// The progress callback of a chain that reports its acceptance so far (HMC, Metropolis).
auto acceptance_progress(Progress& progress) {
  return [&progress](std::int64_t done, std::int64_t, double acc) {
    std::ostringstream st;
    st << "acceptance " << std::fixed << std::setprecision(3) << acc;
    progress.update(done, st.str());
  };
}

/// What every chain reports: the observables, tau_int of each chain observable over the chains as
/// replicas (Wolff's Gamma method), and the cost per effective sample of the first one (|M| for phi^4 and
/// Ising, Q for gauge theories: the slowest mode the samplers are compared on) in seconds per sample.
nlohmann::json chain_summary(const Session& s, const at::Tensor& samples, std::int64_t chains, double seconds) {
  const int bins = static_cast<int>(s.card.config.get<std::int64_t>("eval.bins"));
  nlohmann::json tau = nlohmann::json::object();
  double n_meas = 0, tau_first = 0;
  std::string first;
  for (const auto& [name, series] : s.action->chain_observables(samples)) {
    const at::Tensor rows = series.to(torch::kCPU, torch::kFloat64).reshape({chains, -1}).contiguous();
    std::vector<std::vector<double>> replicas;
    for (std::int64_t i = 0; i < chains; ++i) {
      const at::Tensor row = rows[i].contiguous();
      replicas.emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
    }
    const auto t = stats::tau_int(replicas);
    if (first.empty()) first = name, tau_first = t.tau_int, n_meas = static_cast<double>(rows.numel());
    tau[name] = {{"value", t.tau_int}, {"error", t.error}, {"window", t.window}};
  }
  const double n_eff = n_meas / (2.0 * tau_first);
  nlohmann::json out = {{"lattice", {{"T", s.lattice.T}, {"L", s.lattice.L}}},
                        {"observables", s.action->measure(samples, {}, bins)},
                        {"tau_int", tau},
                        {"measurements", static_cast<std::int64_t>(n_meas)},
                        {"seconds", seconds},
                        {"cost_per_effective_sample", {{"observable", first}, {"seconds", seconds / n_eff}}}};
  out["lattice"].update(s.action->couplings());
  if (const auto exact = s.action->exact(s.lattice); !exact.empty()) out["exact"] = exact;
  return out;
}

nlohmann::json run_hmc(const Session& s, std::ostream& progress_out, bool terminal) {
  const HMCOptions o = hmc_options(s.card.config);
  Progress progress(progress_out, "hmc", o.thermalization + o.trajectories, terminal);
  const HMCResult r = run_hmc(*s.action, s.lattice, o, torch::TensorOptions().dtype(torch::kFloat64).device(s.device),
                              acceptance_progress(progress));
  progress.finish();
  nlohmann::json out = chain_summary(s, r.samples, o.chains, r.seconds);
  out["acceptance"] = r.acceptance;
  out["step_size"] = r.step_size;
  out["steps_per_trajectory"] = r.steps_per_trajectory;
  out["force_evaluations"] = r.force_evaluations;
  const double per_sample = out["cost_per_effective_sample"]["seconds"].get<double>() / r.seconds;
  out["cost_per_effective_sample"]["force_evaluations"] = static_cast<double>(r.force_evaluations) * per_sample;
  return out;
}

nlohmann::json run_wolff_chain(const Session& s, const IsingAction& ising, std::ostream& progress_out, bool terminal) {
  WolffOptions o;
  static_cast<SpinChainSchedule&>(o) = spin_schedule(s.card.config);
  Progress progress(progress_out, "wolff", o.thermalization + o.sweeps, terminal);
  const WolffResult r = run_wolff(ising, s.lattice, o, [&](std::int64_t done, std::int64_t, double fraction) {
    std::ostringstream st;
    st << "cluster " << std::fixed << std::setprecision(3) << fraction << " N";
    progress.update(done, st.str());
  });
  progress.finish();
  nlohmann::json out = chain_summary(s, r.samples, o.chains, r.seconds);
  out["clusters_per_sweep"] = r.clusters_per_sweep;
  out["mean_cluster_size"] = r.mean_cluster_size;
  return out;
}

nlohmann::json run_metropolis_chain(const Session& s, const IsingAction& ising, std::ostream& progress_out,
                                    bool terminal) {
  const IsingMetropolisOptions o = spin_schedule(s.card.config);
  Progress progress(progress_out, "metropolis", o.thermalization + o.sweeps, terminal);
  const IsingMetropolisResult r = run_ising_metropolis(
      ising, s.lattice, o, torch::TensorOptions().dtype(torch::kFloat64).device(s.device),
      acceptance_progress(progress));
  progress.finish();
  nlohmann::json out = chain_summary(s, r.samples, o.chains, r.seconds);
  out["acceptance"] = r.acceptance;
  return out;
}

}  // namespace

std::vector<ReferenceChain> run_reference_chains(const Session& s, std::ostream& progress_out, bool terminal) {
  if (const auto* ising = dynamic_cast<const IsingAction*>(s.action.get())) {
    std::vector<ReferenceChain> out = {{"wolff", run_wolff_chain(s, *ising, progress_out, terminal)}};
    if (s.card.config.get<bool>("reference.metropolis"))
      out.push_back({"metropolis", run_metropolis_chain(s, *ising, progress_out, terminal)});
    return out;
  }
  return {{"hmc", run_hmc(s, progress_out, terminal)}};
}

namespace cli {

namespace {
void print_chain(std::ostream& out, const std::string& name, const nlohmann::json& r) {
  out << name << " on " << r["lattice"]["T"] << "x" << r["lattice"]["L"] << "\n";
  print_observables(out, r["observables"], "  ", r.value("exact", nlohmann::json::object()));
  for (const auto& [key, t] : r["tau_int"].items())
    out << "  " << std::left << std::setw(34) << ("tau_int(" + key + ")") << format_estimate(t) << "\n";
  if (r.contains("step_size"))
    out << "  acceptance                " << r["acceptance"].get<double>() << " (step size "
        << r["step_size"].get<double>() << ", " << r["steps_per_trajectory"] << " steps)\n";
  else if (r.contains("acceptance"))
    out << "  acceptance                " << r["acceptance"].get<double>() << " (single-spin flips)\n";
  if (r.contains("mean_cluster_size"))
    out << "  mean cluster size         " << r["mean_cluster_size"].get<double>() << " spins, "
        << r["clusters_per_sweep"] << " clusters per sweep\n";
  out << "  cost per effective sample " << r["cost_per_effective_sample"]["seconds"].get<double>() << " s";
  if (r["cost_per_effective_sample"].contains("force_evaluations"))
    out << ", " << r["cost_per_effective_sample"]["force_evaluations"].get<double>() << " force evaluations";
  out << "\n";
}
}  // namespace

int cmd_mcmc(const std::string& card_path, const GlobalOptions& g, bool json, std::ostream& out, std::ostream& err) {
  Session s(cli::load_card_argument(card_path, g.overrides()));
  check_memory(s, {Work::hmc});
  RunDirectory dir(s.run_directory(), g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
  dir.write_file("runcard.toml", s.card.to_toml());
  dir.log("mcmc " + s.lattice.str() + " " + s.action->couplings().dump());

  const auto chains = run_reference_chains(s, err, Progress::is_terminal(2));
  // One chain (HMC) keeps the flat results of earlier versions; several are keyed by their names.
  nlohmann::json result;
  if (chains.size() == 1) {
    result = chains[0].results;
    result["sampler"] = chains[0].name;
  } else {
    for (const auto& c : chains) result[c.name] = c.results;
  }
  dir.write_json("results.json", result);
  double seconds = 0;
  for (const auto& c : chains) seconds += c.results["seconds"].get<double>();
  dir.log("done in " + format_duration(seconds));
  if (json) {
    out << result.dump() << "\n";
    return 0;
  }
  for (const auto& c : chains) print_chain(out, c.name == "hmc" ? "HMC" : c.name == "wolff" ? "Wolff" : "Metropolis", c.results);
  out << "results: " << dir.file("results.json") << "\n";
  return 0;
}

}  // namespace cli
}  // namespace latflow
