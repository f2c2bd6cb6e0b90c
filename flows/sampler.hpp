#pragma once
// The interface of every trainable model of a target density p(x) = exp(-S[x]) / Z: a normalised density
// q(x) that can be sampled exactly,
//
//   sample(n) -> (x, log q(x)),     log_prob(x) -> log q(x).
//
// Normalizing flows (continuous fields, links) and autoregressive networks (Ising spins, by the chain rule
// q(s) = prod_i q(s_i | s_<i)) are both samplers, so the gradient estimators, the trainer, the evaluation,
// checkpoints and the CLI treat them alike. A sampler whose samples are not differentiable functions of
// its parameters (discrete variables) says so, and is trained with REINFORCE (train/gradient_estimator.hpp).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "flows/transform.hpp"
#include "lattice/geometry.hpp"

namespace latflow {

class SamplerImpl : public torch::nn::Module {
 public:
  SamplerImpl();

  /// n independent configurations on `lattice` with their exact, normalised log-density.
  virtual Density sample(std::int64_t n, const Lattice& lattice) = 0;
  /// The exact log q(x) [B] of configurations x [B, sample_shape...]; differentiable in the parameters.
  virtual at::Tensor log_prob(const at::Tensor& x) = 0;
  /// The shape of one configuration on `lattice`, without the batch dimension; a sampler samples the
  /// theory whose Action::config_shape is the same.
  virtual std::vector<std::int64_t> sample_shape(const Lattice& lattice) const = 0;
  /// What the entries of a configuration are (Action::sample_space): "real", "angle" or "spin".
  virtual std::string sample_space() const = 0;
  /// A short name of what the samples start from (a flow's prior, "autoregressive"), for messages.
  virtual std::string base_name() const = 0;
  /// Throws UserError (what is wrong, what is allowed) if this sampler cannot run on `lattice`.
  virtual void check_lattice(const Lattice& lattice) const { (void)lattice; }
  /// Whether sample() is differentiable in the parameters (the reparameterisation trick applies).
  virtual bool reparameterizable() const { return true; }
  /// Whether the weights are tied to one lattice size (autoregressive networks), unlike the flows, whose
  /// weights run on every lattice.
  virtual bool lattice_specific() const { return false; }
  /// Transfer: initialise this model from `trained`, a model of the same family trained on a smaller
  /// lattice, with the copied parameters frozen if `freeze`. Models that are not lattice_specific need no
  /// such step (their weights load as they are): they throw UserError.
  virtual void initialize_from(const SamplerImpl& trained, bool freeze);

  /// The dtype and device the sampler computes in (follows .to(), also for a sampler without parameters).
  c10::TensorOptions tensor_options() const { return dtype_probe_.options(); }
  /// Number of parameter scalars, frozen ones (transferred, SamplerImpl::initialize_from) included.
  std::int64_t parameter_count() const;

 private:
  at::Tensor dtype_probe_;  ///< an empty buffer that .to() moves along with the parameters
};

using SamplerPtr = std::shared_ptr<SamplerImpl>;

}  // namespace latflow
