#pragma once
// The registry of flows/elementwise/: the elementwise transforms by name, each built from ElementwiseOptions
// (it reads the options its header names and rejects invalid ones with a UserError). Adding one is a header and a
// source plus one line in flows/elementwise/registry.cpp; the conformance tests in tests/flows/elementwise/ loop
// over this list, so a new transform is checked (identity, round trip, log-derivative, faces or seam,
// monotonicity, gradients) without new test code.
#include "core/registry.hpp"
#include "flows/elementwise/elementwise_transform.hpp"

namespace latflow {

/// rq_spline_interval, rq_spline_real_line, rq_spline_circle, piecewise_linear, piecewise_quadratic, ncp_mixture.
const Registry<ElementwisePtr, const ElementwiseOptions&>& elementwise_registry();

}  // namespace latflow
