#pragma once
// The registry of model families, by `model.type`. Each builder assembles a Sampler (flows/sampler.hpp): a
// Flow (base distribution and
// transform) from a resolved run card; the caller moves it to the card's device and dtype.
// Adding a family is one file plus one line in flows/registry.cpp.
#include "core/config.hpp"
#include "core/registry.hpp"
#include "flows/sampler.hpp"
#include "odes/integrate.hpp"

namespace latflow {

const Registry<SamplerPtr, const Config&>& model_registry();

/// The solver settings of a run card's [solver] section.
odes::SolverOptions solver_options(const Config& card);

}  // namespace latflow
