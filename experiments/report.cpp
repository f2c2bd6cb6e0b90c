#include "experiments/report.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace latflow {

std::string format_estimate(double value, double error) {
  std::ostringstream os;
  if (!(error > 0) || !std::isfinite(error)) {
    os << std::setprecision(6) << value;
    return os.str();
  }
  const int digits = std::max(0, 1 - static_cast<int>(std::floor(std::log10(error))));
  os << std::fixed << std::setprecision(std::min(digits, 12)) << value << " ± " << error;
  return os.str();
}

std::string format_estimate(const nlohmann::json& e) {
  return format_estimate(e.at("value").get<double>(), e.at("error").get<double>());
}

void print_observables(std::ostream& out, const nlohmann::json& obs, const std::string& indent) {
  const std::pair<const char*, const char*> rows[] = {{"abs_magnetization", "<|M|>"},
                                                       {"m2", "<M^2>"},
                                                       {"chi2", "chi2 = V(<M^2> - <M>^2)"},
                                                       {"binder", "U4 (Binder)"},
                                                       {"xi2nd", "xi (second moment)"}};
  for (const auto& [key, label] : rows)
    if (obs.contains(key))
      out << indent << std::left << std::setw(26) << label << format_estimate(obs.at(key)) << "\n";
}

double pull(const nlohmann::json& a, const nlohmann::json& b) {
  const double ea = a.at("error").get<double>(), eb = b.at("error").get<double>();
  return std::abs(a.at("value").get<double>() - b.at("value").get<double>()) / std::sqrt(ea * ea + eb * eb);
}

}  // namespace latflow
