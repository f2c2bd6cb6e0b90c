#pragma once
// The registries of integration/: integrands by name, built from IntegrandOptions (each reads the options its
// header names and rejects invalid ones). Adding an integrand is one header plus one line in
// integration/registry.cpp; the conformance tests in tests/integration/ loop over this list.
#include "core/registry.hpp"
#include "integration/integrand.hpp"

namespace latflow {

/// gaussian, camel, slashed_circle, sinusoid. Every builder rejects dimension < 1.
const Registry<IntegrandPtr, const IntegrandOptions&>& integrand_registry();

}  // namespace latflow
