#pragma once
// The interface of a theory: an action S[x] and what is measured on its configurations. The target density
// is p(x) = exp(-S[x]) / Z, the unnormalised log-density every sampler is trained and evaluated against.
// Samplers, estimators, the trainer, the evaluation and the CLI only see this interface, so a theory whose
// configurations are scalar fields [B, T, L] (phi^4) and one whose configurations are link angles
// [B, 2, T, L] (U(1), the Schwinger model) go through the same code. An action works on a batch of
// configurations of any lattice size and on any device and dtype.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "lattice/geometry.hpp"

namespace latflow {

class Config;

class Action {
 public:
  virtual ~Action() = default;
  /// Registry name, e.g. "phi4".
  virtual std::string name() const = 0;
  /// Shape of one configuration on `lattice`, without the batch dimension ([T, L] for a scalar).
  virtual std::vector<std::int64_t> config_shape(const Lattice& lattice) const = 0;
  /// S per configuration: [B, ...] -> [B].
  virtual at::Tensor action(const at::Tensor& x) const = 0;
  /// The force dS/dx, same shape as x.
  virtual at::Tensor force(const at::Tensor& x) const = 0;
  /// The couplings in the canonical convention, as written to results files.
  virtual nlohmann::json couplings() const = 0;

  /// The name of a configuration in files and messages ("phi", "theta").
  virtual std::string field_name() const = 0;
  /// What the entries of a configuration are: "real" numbers, link "angle"s in [-pi, pi), or "spin"s +-1.
  /// A model samples this theory only if it samples the same space (Session checks it with the shape).
  virtual std::string sample_space() const { return "real"; }
  /// The observables of an ensemble x [N, ...] (float64 on the CPU), plain (log_w empty) or reweighted with
  /// log w = -S - log q, with jackknife errors over n_bins bins: a JSON object whose scalar entries are
  /// {"value", "error"}, null where the ensemble cannot define them.
  virtual nlohmann::json measure(const at::Tensor& x, const std::vector<double>& log_w, int n_bins) const = 0;
  /// Per-configuration series whose integrated autocorrelation times a Markov chain (HMC, the flow's
  /// independence Metropolis chain) reports, each [N] float64 on the CPU; the first is the one that sets
  /// the cost per effective sample.
  virtual std::vector<std::pair<std::string, at::Tensor>> chain_observables(const at::Tensor& x) const = 0;
  /// The keys of measure() that `latflow run` compares with the reference sampler.
  virtual std::vector<std::string> compared_observables() const = 0;
  /// beta of the free energy per site f = -ln Z / (beta V) that evaluations report: the inverse temperature
  /// of a statistical system (S = beta H), 1 for an action that carries none.
  virtual double inverse_temperature() const { return 1.0; }
  /// Exact values of observables on `lattice` where they are known in closed form (keys of measure(), and
  /// "log_z" when ln Z is known), an empty object otherwise.
  virtual nlohmann::json exact(const Lattice& lattice) const {
    (void)lattice;
    return nlohmann::json::object();
  }
};

using ActionPtr = std::shared_ptr<const Action>;

}  // namespace latflow
