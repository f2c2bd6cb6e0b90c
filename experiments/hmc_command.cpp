// `latflow hmc CARD`: the HMC reference sampler with observables, autocorrelation times and cost.
#include <ostream>

#include <torch/torch.h>

#include "experiments/commands.hpp"
#include "experiments/hmc_reference.hpp"
#include "experiments/memory_estimate.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/progress.hpp"
#include "experiments/report.hpp"
#include "experiments/run_directory.hpp"
#include "experiments/session.hpp"
#include "lattice/hmc.hpp"
#include "lattice/statistics.hpp"

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
}  // namespace

nlohmann::json run_hmc_reference(const Session& s, std::ostream& progress_out, bool terminal) {
  const Config& c = s.card.config;
  const HMCOptions o = hmc_options(c);
  Progress progress(progress_out, "hmc", o.thermalization + o.trajectories, terminal);
  const HMCResult r = run_hmc(*s.action, s.lattice, o, torch::TensorOptions().dtype(torch::kFloat64).device(s.device),
                              [&](std::int64_t done, std::int64_t, double acc) {
                                std::ostringstream st;
                                st << "acceptance " << std::fixed << std::setprecision(3) << acc;
                                progress.update(done, st.str());
                              });
  progress.finish();

  const int bins = static_cast<int>(c.get<std::int64_t>("eval.bins"));
  // Samples are chain-major: one row of measurements per chain, the replica of the Gamma method.
  nlohmann::json tau = nlohmann::json::object();
  double n_meas = 0, tau_first = 0;
  std::string first;
  for (const auto& [name, series] : s.action->chain_observables(r.samples)) {
    const at::Tensor rows = series.to(torch::kCPU, torch::kFloat64).reshape({o.chains, -1}).contiguous();
    std::vector<std::vector<double>> chains;
    for (std::int64_t i = 0; i < o.chains; ++i) {
      const at::Tensor row = rows[i].contiguous();
      chains.emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
    }
    const auto t = stats::tau_int(chains);
    if (first.empty()) first = name, tau_first = t.tau_int, n_meas = static_cast<double>(rows.numel());
    tau[name] = {{"value", t.tau_int}, {"error", t.error}, {"window", t.window}};
  }
  // The cost per effective sample is set by the first chain observable (|M| for phi^4, Q for gauge
  // theories: the slowest mode the samplers are compared on).
  const double n_eff = n_meas / (2.0 * tau_first);
  nlohmann::json out = {{"lattice", {{"T", s.lattice.T}, {"L", s.lattice.L}}},
                        {"observables", s.action->measure(r.samples, {}, bins)},
                        {"tau_int", tau},
                        {"acceptance", r.acceptance},
                        {"step_size", r.step_size},
                        {"steps_per_trajectory", r.steps_per_trajectory},
                        {"measurements", static_cast<std::int64_t>(n_meas)},
                        {"force_evaluations", r.force_evaluations},
                        {"seconds", r.seconds},
                        {"cost_per_effective_sample",
                         {{"observable", first},
                          {"seconds", r.seconds / n_eff},
                          {"force_evaluations", static_cast<double>(r.force_evaluations) / n_eff}}}};
  if (const auto exact = s.action->exact(s.lattice); !exact.empty()) out["exact"] = exact;
  return out;
}

namespace cli {

int cmd_hmc(const std::string& card_path, const GlobalOptions& g, bool json, std::ostream& out, std::ostream& err) {
  Session s(cli::load_card_argument(card_path, g.overrides()));
  check_memory(s, {Work::hmc});
  RunDirectory dir(s.run_directory(), g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
  dir.write_file("runcard.toml", s.card.to_toml());
  dir.log("hmc " + s.lattice.str() + " " + s.action->couplings().dump());

  nlohmann::json result = run_hmc_reference(s, err, Progress::is_terminal(2));
  result["lattice"].update(s.action->couplings());
  dir.write_json("results.json", result);
  dir.log("done in " + format_duration(result["seconds"].get<double>()));
  if (json) {
    out << result.dump() << "\n";
    return 0;
  }
  out << "HMC on " << s.lattice.str() << " " << s.action->couplings().dump() << "\n";
  print_observables(out, result["observables"], "  ", result.value("exact", nlohmann::json::object()));
  for (const auto& [name, t] : result["tau_int"].items())
    out << "  " << std::left << std::setw(34) << ("tau_int(" + name + ")") << format_estimate(t) << "\n";
  out << "  acceptance                " << result["acceptance"].get<double>() << " (step size "
      << result["step_size"].get<double>() << ", " << result["steps_per_trajectory"] << " steps)\n"
      << "  cost per effective sample " << result["cost_per_effective_sample"]["seconds"].get<double>() << " s, "
      << result["cost_per_effective_sample"]["force_evaluations"].get<double>() << " force evaluations\n"
      << "results: " << dir.file("results.json") << "\n";
  return 0;
}

}  // namespace cli
}  // namespace latflow
