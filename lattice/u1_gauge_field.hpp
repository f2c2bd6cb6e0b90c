#pragma once
// A compact U(1) gauge field on a periodic T x L lattice, held as link angles theta_mu(x), U_mu(x) =
// exp(i theta_mu(x)), in a tensor [B, 2, T, L] of any floating dtype and device. Direction mu = 0 is time
// (tensor dim -2, extent T), mu = 1 is space (dim -1, extent L); x + mu-hat is torch::roll(field, -1, dim
// of mu). The gauge-invariant content, in the conventions of Kanwar et al., PRL 125, 121601 (2020)
// [arXiv 2003.06413] and Albergo et al., arXiv 2101.08176:
//
//   plaquette      theta_P(x) = theta_0(x) + theta_1(x + 0) - theta_0(x + 1) - theta_1(x)
//   2x1 rectangles R_0(x) = theta_P(x) + theta_P(x + 0)   (long side along mu = 0)
//                  R_1(x) = theta_P(x) + theta_P(x + 1)   (long side along mu = 1)
//   charge         Q = (1/2pi) sum_x wrap(theta_P(x)),  wrap(a) = a - 2pi floor((a + pi) / 2pi) in [-pi, pi)
//   gauge map      theta_mu(x) -> theta_mu(x) + alpha(x) - alpha(x + mu)
//
// The rectangles are written as sums of their two plaquettes because in an abelian theory the link on the
// shared edge cancels (Stokes); the loop around the rectangle, link by link, is the same real number
// up to rounding, e.g. R_0(x) = theta_0(x) + theta_0(x+0) + theta_1(x+2*0) - theta_0(x+0+1) - theta_0(x+1)
// - theta_1(x).
//
// Q is an integer: every link enters sum_x theta_P(x) twice with opposite signs, so sum_x theta_P = 0, and
// wrapping shifts each theta_P by a multiple of 2pi. It is returned in the dtype of theta, an integer up to
// rounding of the order of V * eps * max |theta|.
#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "lattice/geometry.hpp"

namespace latflow::u1 {

/// theta_P(x) of link angles [B, 2, T, L]: [B, T, L], unwrapped.
at::Tensor plaquette_angles(const at::Tensor& theta);

/// The 2x1 rectangle angles [B, 2, T, L]; index 0 is the loop with its long side along mu = 0, 1 along mu = 1.
at::Tensor rectangle_angles(const at::Tensor& theta);

/// Angles mapped to [-pi, pi) (any shape).
at::Tensor wrap_angle(const at::Tensor& angle);

/// Geometric topological charge per configuration: [B], integer-valued up to rounding.
at::Tensor topological_charge(const at::Tensor& theta);

/// Mean of cos theta_P over the lattice: the 1x1 Wilson loop, [B].
at::Tensor mean_plaquette(const at::Tensor& theta);

/// Mean of cos R over both orientations and all positions: the 2x1 Wilson loop, [B].
at::Tensor mean_rectangle(const at::Tensor& theta);

/// The gauge transform of theta [B, 2, T, L] by alpha [B, T, L] (same dtype and device).
at::Tensor gauge_transform(const at::Tensor& theta, const at::Tensor& alpha);

/// Link angles drawn from the Haar measure, uniform in [-pi, pi): [batch, 2, T, L].
at::Tensor haar_links(std::int64_t batch, const Lattice& lattice, const c10::TensorOptions& options);

/// UserError unless theta is a batch of link angles [B, 2, T, L] of a floating dtype; `who` starts the
/// message.
void require_links(const char* who, const at::Tensor& theta);

}  // namespace latflow::u1
