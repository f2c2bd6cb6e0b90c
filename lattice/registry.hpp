#pragma once
// The registries of lattice/: actions and priors, each built from a resolved run card.
// Adding one is one file plus one line in lattice/registry.cpp.
#include "core/config.hpp"
#include "core/registry.hpp"
#include "lattice/action.hpp"
#include "lattice/prior.hpp"

namespace latflow {

/// Actions by `lattice.action`.
const Registry<ActionPtr, const Config&>& action_registry();
/// Base distributions by `model.prior`.
const Registry<PriorPtr, const Config&>& prior_registry();

}  // namespace latflow
