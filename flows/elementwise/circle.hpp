#pragma once
// Angles on the circle, represented in [0, 2 pi): the domain of the circular transforms (U(1) link and
// plaquette angles). 2 pi is taken rounded to the dtype of the angles, so that [0, 2 pi) is a range of that
// dtype and the reduction below is exact.
#include <ATen/core/Tensor.h>

namespace latflow::elementwise {

inline constexpr double two_pi = 6.283185307179586476925286766559;

/// x reduced mod 2 pi to [0, 2 pi); the identity on [0, 2 pi) exactly, gradient 1. (torch::remainder can
/// return 2 pi itself, e.g. for -1e-20.)
at::Tensor wrap_angle(const at::Tensor& x);

}  // namespace latflow::elementwise
