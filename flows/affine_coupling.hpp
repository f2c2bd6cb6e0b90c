#pragma once
// Affine coupling (RealNVP, Dinh et al. 2016) on the lattice: Albergo, Kanwar & Shanahan 2019
// (arXiv 1904.12072), with the convolutional conditioners of the tutorial (Albergo et al. 2021,
// arXiv 2101.08176). A mask m (1 on the active sites) splits the sites, and the active ones are scaled and
// shifted conditioned on the frozen ones:
//
//   y = (1 - m) x + m [x e^{s((1 - m) x)} + t((1 - m) x)],    log q(y) = log q(x) - sum_{active} s
//   x = (1 - m) y + m [y - t((1 - m) y)] e^{-s((1 - m) y)}     (the frozen half is unchanged, so s and t are known)
//
// with s = tanh(theta_0), t = theta_1 from a Conditioner (flows/conditioner.hpp). tanh bounds the scale per
// coupling to [1/e, e] (the tutorial also puts a final tanh on t; here t is left unbounded, as in RealNVP). The
// Jacobian is triangular with diagonal e^s on the active sites and 1 on the frozen ones, hence the exact
// log-det. With the conditioner's default Z2 reflection (s even, t odd) the coupling commutes with phi -> -phi.
//
// The checkerboard flows of flows/coupling_flow.hpp and the hierarchical flow are compositions of these steps.
#include <cstdint>

#include <ATen/core/Tensor.h>

#include "flows/conditioner.hpp"
#include "flows/transform.hpp"

namespace latflow {

/// 1 on the sites (t, x) of a T x L lattice with (t + x) % 2 == parity, else 0; [T, L].
at::Tensor checkerboard_mask(std::int64_t T, std::int64_t L, std::int64_t parity, const c10::TensorOptions& options);

/// 1 on the sites with t % 2 == t_parity and x % 2 == x_parity (one of the four 2-strided sublattices).
at::Tensor sublattice_mask(std::int64_t T, std::int64_t L, std::int64_t t_parity, std::int64_t x_parity,
                           const c10::TensorOptions& options);

/// Per-site log-scale and shift, each [B, T, L].
struct ScaleShift {
  at::Tensor s;
  at::Tensor t;
};

/// s and t at every site from the masked configurations x [B, T, L] (conditioner outputs = 2).
ScaleShift scale_shift(ConditionerImpl& conditioner, const at::Tensor& x, const at::Tensor& active);

/// One affine coupling: the sites where `active` [T, L] is 1 are scaled and shifted by `conditioner`
/// applied to the others (forward), or restored (reverse = true); log q is threaded as in TransformImpl.
Density affine_coupling_step(const Density& d, const at::Tensor& active, ConditionerImpl& conditioner,
                             bool reverse);

}  // namespace latflow
