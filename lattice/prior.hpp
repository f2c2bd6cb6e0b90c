#pragma once
// The interface of a base distribution q0(phi) of a flow: exact sampling and a normalised log-density.
// Random numbers come from LibTorch's default generator of the device (seeded by --seed and saved in
// checkpoints), so runs are reproducible and resumable.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>
#include <nlohmann/json.hpp>

#include "lattice/geometry.hpp"

namespace latflow {

class Prior {
 public:
  virtual ~Prior() = default;
  virtual std::string name() const = 0;
  /// The shape of one configuration on `lattice` ([T, L] for a scalar field, [2, T, L] for link angles):
  /// a flow built on this prior samples the theory whose Action::config_shape is the same.
  virtual std::vector<std::int64_t> sample_shape(const Lattice& lattice) const = 0;
  /// What the entries of a configuration are (Action::sample_space): "real" or "angle".
  virtual std::string sample_space() const { return "real"; }
  /// n independent configurations [n, sample_shape...] with the given dtype and device.
  virtual at::Tensor sample(std::int64_t n, const Lattice& lattice,
                            const c10::TensorOptions& options) const = 0;
  /// Normalised log q0 per configuration: [B, sample_shape...] -> [B]. Differentiable in phi.
  virtual at::Tensor log_prob(const at::Tensor& phi) const = 0;
  /// Its parameters, as written to results files.
  virtual nlohmann::json describe() const = 0;
};

using PriorPtr = std::shared_ptr<const Prior>;

}  // namespace latflow
