#include "train/registry.hpp"

namespace latflow {

const Registry<GradientEstimatorPtr>& estimator_registry() {
  static const auto registry = [] {
    Registry<GradientEstimatorPtr> r("gradient estimator");
    r.add("reparam", "reparameterisation trick: differentiates through the sample and the action",
          [] { return std::make_shared<ReparameterizationEstimator>(); });
    r.add("reinforce", "REINFORCE with a leave-one-out baseline; never needs dS/dphi (Białas et al. 2024)",
          [] { return std::make_shared<ReinforceEstimator>(); });
    return r;
  }();
  return registry;
}

}  // namespace latflow
