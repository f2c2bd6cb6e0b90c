#pragma once
// Rational-quadratic spline coupling on the lattice (Durkan, Bekasov, Murray & Papamakarios, "Neural Spline
// Flows", arXiv 1906.04032), the spline layers of the phi^4 coupling flows of anvil and torchlft (Del Debbio,
// Marsh Rossney & Wilson, arXiv 2105.12481, 2112.15532). A checkerboard mask m (1 active) splits the sites; the
// active ones go through a monotone spline on [-B, B] with identity tails (flows/elementwise/
// rational_quadratic_spline.hpp), its knots and derivatives theta at each site from a Conditioner of the frozen
// ones:
//
//   y = (1 - m) x + m f(x; theta((1 - m) x)),     log q(y) = log q(x) - sum_{active} log f'(x; theta)
//
// with the exact inverse x = f^-1(y; theta((1 - m) y)) (the frozen half is unchanged, so theta is known).
// Z2: with the conditioner symmetrised by the spline's point reflection (spline_conditioner_options), theta(-x) =
// R theta(x), so f(-x; theta(-x)) = -f(x; theta(x)): the coupling commutes with phi -> -phi.
#include <ATen/core/Tensor.h>

#include "flows/conditioner.hpp"
#include "flows/elementwise/rational_quadratic_spline.hpp"
#include "flows/transform.hpp"

namespace latflow {

/// `base` made the conditioner of `spline`: P = its parameters per element, and the Z2 reflection its
/// point reflection (real-line spline).
ConditionerOptions spline_conditioner_options(ConditionerOptions base, const RationalQuadraticSpline& spline);

/// One spline coupling: the sites where `active` [T, L] is 1 are mapped by `spline` with parameters from
/// `conditioner` applied to the others (forward), or restored (reverse = true); log q threaded as in TransformImpl.
Density spline_coupling_step(const Density& d, const at::Tensor& active, ConditionerImpl& conditioner,
                             const RationalQuadraticSpline& spline, bool reverse);

}  // namespace latflow
