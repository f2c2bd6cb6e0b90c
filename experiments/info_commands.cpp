// `latflow list` and `latflow config show`.
#include <iomanip>
#include <ostream>

#include <sstream>

#include "experiments/commands.hpp"
#include "experiments/integrate.hpp"
#include "experiments/memory_estimate.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/session.hpp"
#include "experiments/runcard.hpp"
#include "flows/registry.hpp"
#include "integration/registry.hpp"
#include "lattice/presets.hpp"
#include "train/gradient_estimator.hpp"
#include "train/registry.hpp"
#include "lattice/registry.hpp"
#include "odes/registry.hpp"
#include "operators/registry.hpp"
#include "train/registry.hpp"

namespace latflow::cli {

namespace {
template <class R>
void print_registry(std::ostream& out, const std::string& title, const std::string& key, const R& r) {
  out << title << " (" << key << ")\n";
  for (const auto& e : r.entries()) out << "  " << std::left << std::setw(16) << e.name << e.description << "\n";
  out << "\n";
}
}  // namespace

int cmd_list(std::ostream& out) {
  print_registry(out, "Theories", "lattice.theory", theory_registry());
  print_registry(out, "Base distributions", "model.prior", prior_registry());
  print_registry(out, "Model types", "model.type", model_registry());
  print_registry(out, "Neural operators", "model.operator", operator_registry());
  print_registry(out, "ODE steppers", "solver.method", odes::stepper_registry());
  print_registry(out, "Gradient methods", "solver.gradient", odes::gradient_method_registry());
  print_registry(out, "Gradient estimators", "train.estimator", estimator_registry());
  print_registry(out, "Integrands (integration cards)", "integrand.name", integrand_registry());
  out << "Parameter presets (lattice.preset)\n";
  for (const auto& p : presets()) {
    std::ostringstream couplings;
    for (const auto& [key, value] : p.couplings) couplings << key.substr(key.find('.') + 1) << " = " << value << "  ";
    out << "  " << std::left << std::setw(14) << p.name << std::setw(11) << p.theory << "L = " << std::setw(3) << p.L
        << " " << std::setw(28) << couplings.str() << p.source << "\n";
  }
  return 0;
}

int cmd_config_show(const std::string& card_path, const GlobalOptions& g, std::ostream& out) {
  const RunCard card = load_card_argument(card_path, g.overrides(), card_kind(card_path));
  out << "# " << card_path << ", resolved (defaults filled in); each key: what it is [what it allows]\n"
      << card.to_toml();
  return 0;
}

int cmd_config_check(const std::string& card_path, const GlobalOptions& g, std::ostream& out) {
  if (&card_kind(card_path) == &integration_cards()) {
    const RunCard card = load_card_argument(card_path, g.overrides(), integration_cards());
    const IntegrandPtr f = integrand_of(card.config);
    const CubeFlow flow = cube_flow_of(card.config);
    check_nis_options(comparison_options_of(card.config).nis);
    out << "ok: " << card_path << ": " << f->name() << " on [0, 1]^" << f->dimension() << ", a flow of "
        << flow->cells().size() << " coupling cells with " << flow->parameter_count() << " parameters\n";
    return 0;
  }
  const Session s(load_card_argument(card_path, g.overrides()));
  const SamplerPtr flow = s.build_model();
  check_estimator_fits(*estimator_registry().create(s.card.config.get<std::string>("train.estimator")), *flow);
  check_memory(s, {Work::train, Work::eval, Work::hmc});
  const MemoryLimit limit = memory_limit(s);
  const auto gib = [](double b) {
    std::ostringstream os;
    os << std::setprecision(3) << b / (1024.0 * 1024.0 * 1024.0) << " GiB";
    return os.str();
  };
  out << "ok: " << card_path << ": " << s.card.config.get<std::string>("model.type") << " on " << s.lattice.str()
      << " " << s.action->couplings().dump() << ", " << flow->parameter_count() << " parameters\n";
  for (const auto& [work, name] : {std::pair<Work, const char*>{Work::train, "training"}, {Work::eval, "evaluation"},
                                   {Work::hmc, "reference chains"}}) {
    const MemoryEstimate e = estimate_memory(s, work);
    out << "  estimated peak memory of " << std::left << std::setw(18) << name << gib(e.host_bytes) << " host";
    if (s.device.is_cuda()) out << ", " << gib(e.device_bytes) << " on " << s.device.str();
    out << "\n";
  }
  out << "  " << std::left << std::setw(43) << "limit" << gib(limit.host_bytes) << " host"
      << (limit.configured ? " (run.memory_limit_gb)" : " (available now)") << "\n";
  return 0;
}

}  // namespace latflow::cli
