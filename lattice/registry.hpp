#pragma once
// The registries of lattice/: theories (actions with their observables) and priors, each built from a
// resolved run card.
// Adding one is one file plus one line in lattice/registry.cpp.
#include "core/config.hpp"
#include "core/registry.hpp"
#include "lattice/action.hpp"
#include "lattice/prior.hpp"

namespace latflow {

/// Theories (their actions and observables) by `lattice.theory`.
const Registry<ActionPtr, const Config&>& theory_registry();
/// Base distributions by `model.prior`.
const Registry<PriorPtr, const Config&>& prior_registry();

/// The lattice of a card (lattice.T = 0 means T = L).
Lattice lattice_of(const Config& card);

}  // namespace latflow
