#pragma once
// A time-dependent neural operator V_t (Máté & Fleuret, arXiv 2401.00828): a map from fields to
// velocity fields defined independently of any lattice. Evaluated on a batch of configurations of some
// L x L (or T x L) lattice it is the discretised vector field v_t(phi) of a CNF, returned together with
// its exact divergence. Its parameters must not depend on the lattice size, so one set of weights runs on
// every lattice.
#include <memory>
#include <string>

#include <torch/nn/module.h>

#include "odes/dynamics.hpp"

namespace latflow {

class NeuralOperatorImpl : public torch::nn::Module {
 public:
  /// v_t(phi) and its exact divergence for phi of shape [B, T, L].
  virtual odes::Velocity forward(double t, const at::Tensor& phi) = 0;
};

using NeuralOperatorPtr = std::shared_ptr<NeuralOperatorImpl>;

}  // namespace latflow
