#include "experiments/report.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

namespace latflow {

namespace {
int digits_for(double error) { return std::max(0, 1 - static_cast<int>(std::floor(std::log10(error)))); }

/// The total error of an estimate: statistical and (when present) systematic in quadrature.
/// UTF-8 characters in s: every byte that does not continue a multi-byte sequence.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

double total_error(const nlohmann::json& e) {
  const double stat = e.at("error").get<double>();
  const double sys = e.contains("systematic") ? e["systematic"].get<double>() : 0.0;
  return std::sqrt(stat * stat + sys * sys);
}
}  // namespace

std::string format_estimate(double value, double error) {
  std::ostringstream os;
  if (!(error > 0) || !std::isfinite(error)) {
    os << std::setprecision(6) << value;
    return os.str();
  }
  os << std::fixed << std::setprecision(std::min(digits_for(error), 12)) << value << " ± " << error;
  return os.str();
}

std::string format_estimate(const nlohmann::json& e) {
  if (e.is_null() || !e.is_object() || !e.contains("value") || !e["value"].is_number()) return "undefined";
  const double error = e.contains("error") && e["error"].is_number() ? e["error"].get<double>() : 0.0;
  std::string text = format_estimate(e["value"].get<double>(), error);
  if (e.contains("systematic") && e["systematic"].is_number() && error > 0 && std::isfinite(error)) {
    std::ostringstream os;
    os << std::setprecision(2) << e["systematic"].get<double>();
    text += " (solver ± " + os.str() + ")";
  }
  return text;
}

void print_observables(std::ostream& out, const nlohmann::json& obs, const std::string& indent,
                       const nlohmann::json& exact) {
  // Readable labels for the names scripts rely on; any other observable prints under its key.
  static const std::map<std::string, std::string> labels = {
      {"abs_magnetization", "<|M|>"},
      {"m2", "<M^2>"},
      {"chi2", "chi2 = V(<M^2> - <M>^2)"},
      {"binder", "U4 (Binder)"},
      {"xi2nd", "xi (second moment)"},
      {"plaquette", "<cos theta_P>"},
      {"topological_charge", "<Q>"},
      {"topological_susceptibility", "chi_t = <Q^2>/V"},
      {"chiral_condensate", "chiral condensate"}};
  for (const auto& [key, value] : obs.items()) {
    if (value.is_array()) continue;
    const auto it = labels.find(key);
    out << indent << std::left << std::setw(26) << (it == labels.end() ? key : it->second) << format_estimate(value);
    if (exact.is_object() && exact.contains(key) && exact[key].is_number())
      out << "   (exact " << std::setprecision(8) << exact[key].get<double>() << ")";
    out << "\n";
  }
}

void print_solver_error(std::ostream& out, const nlohmann::json& se, const std::string& indent) {
  if (!se.is_object() || !se.value("applies", false)) return;
  const auto& solver = se["solver"];
  out << indent << std::left << std::setw(26) << "solver" << solver.value("method", "?");
  if (solver.value("method", "") == "dopri5")
    out << " (rtol " << solver.value("rtol", 0.0) << ", atol " << solver.value("atol", 0.0) << ")";
  else
    out << " (" << solver.value("steps", 0) << " steps)";
  if (solver.contains("nfe_per_solve")) out << ", " << solver["nfe_per_solve"].get<double>() << " evaluations per solve";
  out << "\n";
  if (!se.value("checked", false)) {
    out << indent << std::setw(26) << "solver error" << "not checked\n";
    return;
  }
  std::ostringstream ratio;
  ratio << std::setprecision(2) << (se["ratio"].is_number() ? se["ratio"].get<double>() : INFINITY);
  out << indent << std::setw(26) << "solver error"
      << "|d log w| mean " << std::setprecision(2) << se["log_w"]["mean_abs"].get<double>() << ", max "
      << se["log_w"]["max_abs"].get<double>() << "; largest systematic/statistical " << ratio.str() << " ("
      << se.value("worst", "") << ") " << (se.value("ok", false) ? "ok" : "TOO LARGE") << "\n";
}

void print_free_energy(std::ostream& out, const nlohmann::json& f, const std::string& indent) {
  if (!f.is_object() || !f.contains("variational")) return;
  out << indent << std::left << std::setw(26) << "free energy per site" << format_estimate(f["importance"])
      << " (importance sampling), " << format_estimate(f["variational"]) << " (variational bound)\n";
  if (!f.contains("exact")) return;
  std::ostringstream line;
  line << std::setprecision(10) << f["exact"].get<double>() << std::setprecision(2)
       << ": importance pull " << f["importance_pull"].get<double>() << ", variational - exact "
       << std::scientific << f["variational_minus_exact_relative"].get<double>() << " relative";
  out << indent << std::setw(26) << "  exact" << line.str() << "\n";
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t k = 0; k < row.size(); ++k) {
      if (k == width.size()) width.push_back(0);
      width[k] = std::max(width[k], display_width(row[k]));
    }
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t k = 0; k < row.size(); ++k) {
      line += row[k];
      if (k + 1 < row.size()) line += std::string(width[k] + 2 - display_width(row[k]), ' ');
    }
    out << line << "\n";
  }
}

nlohmann::json pull(const nlohmann::json& a, const nlohmann::json& b) {
  const auto defined = [](const nlohmann::json& e) {
    return e.is_object() && e.contains("value") && e["value"].is_number() && e.contains("error") && e["error"].is_number();
  };
  if (!defined(a) || !defined(b)) return nullptr;
  const double ea = total_error(a), eb = total_error(b);
  const double denom = std::sqrt(ea * ea + eb * eb);
  if (!(denom > 0)) return nullptr;
  return std::abs(a["value"].get<double>() - b["value"].get<double>()) / denom;
}

}  // namespace latflow
