// `latflow list` and `latflow config show`.
#include <iomanip>
#include <ostream>

#include "experiments/commands.hpp"
#include "experiments/runcard.hpp"
#include "flows/registry.hpp"
#include "lattice/presets.hpp"
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
  print_registry(out, "Actions", "lattice.action", action_registry());
  print_registry(out, "Base distributions", "model.prior", prior_registry());
  print_registry(out, "Model types", "model.type", flow_registry());
  print_registry(out, "Neural operators", "model.operator", operator_registry());
  print_registry(out, "ODE steppers", "solver.method", odes::stepper_registry());
  print_registry(out, "Gradient methods", "solver.gradient", odes::gradient_method_registry());
  print_registry(out, "Gradient estimators", "train.estimator", estimator_registry());
  out << "Parameter presets (lattice.preset)\n";
  for (const auto& p : phi4_presets())
    out << "  " << std::left << std::setw(16) << p.name << "L = " << std::setw(3) << p.L << " m2 = " << p.m2
        << "  lambda = " << std::setw(6) << p.lambda << "  " << p.source << "\n";
  return 0;
}

int cmd_config_show(const std::string& card_path, const GlobalOptions& g, std::ostream& out) {
  const RunCard card = load_runcard(card_path, g.overrides());
  out << "# " << card_path << ", resolved (defaults filled in)\n" << card.to_toml();
  return 0;
}

}  // namespace latflow::cli
