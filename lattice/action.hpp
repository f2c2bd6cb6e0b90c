#pragma once
// The interface of a lattice action S[phi]: the target density is p(phi) = exp(-S[phi]) / Z.
// An action works on a batch of configurations of any lattice size and on any device and dtype.
#include <cstdint>
#include <memory>
#include <string>
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
  virtual at::Tensor action(const at::Tensor& phi) const = 0;
  /// The force dS/dphi in closed form, same shape as phi.
  virtual at::Tensor force(const at::Tensor& phi) const = 0;
  /// The couplings in the canonical convention, as written to results files.
  virtual nlohmann::json couplings() const = 0;
};

using ActionPtr = std::shared_ptr<const Action>;

}  // namespace latflow
