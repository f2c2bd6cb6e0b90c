#pragma once
// The registry of operators/: the neural operators that drive a CNF, by `model.operator`, each built
// from a resolved run card (model.channels, model.frequencies, model.kernel_modes, model.time_modes,
// model.kernel_radius). Adding one is one file plus one line in operators/registry.cpp; the
// conformance suite (tests/operators/operator_conformance_test.cpp) runs on every entry.
#include "core/config.hpp"
#include "core/registry.hpp"
#include "operators/neural_operator.hpp"

namespace latflow {

const Registry<NeuralOperatorPtr, const Config&>& operator_registry();

}  // namespace latflow
