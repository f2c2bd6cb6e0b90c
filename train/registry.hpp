#pragma once
// The registry of gradient estimators, by `train.estimator`. Adding one is one file plus one line in
// train/registry.cpp.
#include "core/registry.hpp"
#include "train/gradient_estimator.hpp"

namespace latflow {

const Registry<GradientEstimatorPtr>& estimator_registry();

}  // namespace latflow
