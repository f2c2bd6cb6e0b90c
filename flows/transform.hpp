#pragma once
// A bijection of lattice configurations that threads the log-density through it (as bijx does):
//
//   forward: (x, log q(x))  ->  (y, log q(y)) = (f(x), log q(x) - log|det df/dx|)
//   reverse: (y, log q(y))  ->  (x, log q(x)) = (f^-1(y), log q(y) + log|det df/dx|)
//
// Threading log q rather than returning log-dets lets a CNF integrate (phi, log q) as one ODE state, and
// lets compositions add their log-dets without bookkeeping.
#include <memory>
#include <vector>

#include <torch/nn/module.h>

namespace latflow {

/// A batch of configurations with their log-density.
struct Density {
  at::Tensor phi;   ///< [B, T, L]
  at::Tensor logq;  ///< [B]
};

class TransformImpl : public torch::nn::Module {
 public:
  virtual Density forward(const Density& x) = 0;
  virtual Density reverse(const Density& y) = 0;
};

using TransformPtr = std::shared_ptr<TransformImpl>;

/// Transforms applied in order (reverse runs them backwards); log-dets add up through the threading.
class ComposedTransformImpl : public TransformImpl {
 public:
  explicit ComposedTransformImpl(std::vector<TransformPtr> parts);
  Density forward(const Density& x) override;
  Density reverse(const Density& y) override;
  const std::vector<TransformPtr>& parts() const { return parts_; }

 private:
  std::vector<TransformPtr> parts_;
};

}  // namespace latflow
