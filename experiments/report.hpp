#pragma once
// Human-readable summaries shared by the commands: "value ± error" and observable tables.
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace latflow {

/// "0.7421 ± 0.0035": the value rounded to the error's second significant digit.
std::string format_estimate(double value, double error);
/// The same for a {"value", "error"} JSON object, with " ± s (solver)" when it has a "systematic" error;
/// "undefined" for null (an observable the ensemble cannot define, e.g. a correlation length of a poor model).
std::string format_estimate(const nlohmann::json& estimate);

/// Prints the scalar observables of an observables JSON object, one per line (lists such as correlators are
/// left to the JSON), with the exact value beside those that `exact` holds.
void print_observables(std::ostream& out, const nlohmann::json& observables, const std::string& indent = "  ",
                       const nlohmann::json& exact = nlohmann::json::object());

/// Prints the "solver_error" of an evaluation in one or two lines (nothing for a flow without a solver).
void print_solver_error(std::ostream& out, const nlohmann::json& solver_error, const std::string& indent = "  ");

/// Prints the "free_energy" of an evaluation (f = -ln Z / (beta V) per site): the variational bound, the
/// importance-sampling estimate and, where known, the exact value with the distance of each from it.
void print_free_energy(std::ostream& out, const nlohmann::json& free_energy, const std::string& indent = "  ");

/// Prints rows as left-aligned columns, each two characters wider than its widest cell. Widths count
/// characters, not bytes, so that a "±" does not shift the columns after it.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows, const std::string& indent);

/// Signs of disagreement between two {"value","error"} estimates, |a - b| / sqrt(ea^2 + eb^2) (systematic
/// errors added in quadrature); null when either is undefined or both errors are 0.
nlohmann::json pull(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace latflow
