#pragma once
// Affine coupling flow (RealNVP, Dinh et al. 2016) on the lattice: Albergo, Kanwar & Shanahan 2019
// (arXiv 1904.12072), with the convolutional conditioners of the tutorial (Albergo et al. 2021,
// arXiv 2101.08176). Each layer splits the sites by a checkerboard mask m (m = 1 frozen, 0 active),
// alternating parity from layer to layer, and updates the active half conditioned on the frozen one:
//
//   y = m x + (1 - m) [x e^{s(m x)} + t(m x)],    log q(y) = log q(x) - sum_{active} s(m x)
//   x = m y + (1 - m) [y - t(m y)] e^{-s(m y)}     (the frozen half is unchanged, so s and t are known)
//
// with (s, t) from a Conditioner (flows/conditioner.hpp). The Jacobian is triangular with diagonal e^s on
// the active sites and 1 on the frozen ones, hence the exact log-det.
//
// Symmetries: the convolutions are circular, so the flow commutes with the lattice translations that map
// the checkerboard onto itself, the shifts (a, b) with a + b even (not the single-site shifts); with
// z2 = true it also commutes with phi -> -phi. The weights do not depend on the lattice, so one flow runs on
// every lattice with even extents (the checkerboard needs them; other lattices are a UserError).
#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "core/config.hpp"
#include "flows/conditioner.hpp"
#include "flows/transform.hpp"

namespace latflow {

/// 1 on the sites (t, x) of a T x L lattice with (t + x) % 2 == parity, else 0; [T, L].
at::Tensor checkerboard_mask(std::int64_t T, std::int64_t L, std::int64_t parity, const c10::TensorOptions& options);

/// 1 on the sites with t % 2 == t_parity and x % 2 == x_parity (one of the four 2-strided sublattices).
at::Tensor sublattice_mask(std::int64_t T, std::int64_t L, std::int64_t t_parity, std::int64_t x_parity,
                           const c10::TensorOptions& options);

/// One affine coupling: the sites where `active` [T, L] is 1 are scaled and shifted by `conditioner`
/// applied to the others (forward), or restored (reverse = true); log q is threaded as in TransformImpl.
Density affine_coupling_step(const Density& d, const at::Tensor& active, ConditionerImpl& conditioner,
                             bool reverse);

struct AffineCouplingOptions {
  /// Coupling layers; layer i updates the sites with (t + x + i) odd.
  TORCH_ARG(std::int64_t, layers) = 16;
  TORCH_ARG(ConditionerOptions, conditioner);
};

class AffineCouplingImpl : public TransformImpl {
 public:
  /// Throws UserError for layers < 1 or invalid conditioner options.
  explicit AffineCouplingImpl(AffineCouplingOptions options);

  /// phi [B, T, L] with T, L even (UserError otherwise).
  Density forward(const Density& x) override;
  Density reverse(const Density& y) override;

  const AffineCouplingOptions& options() const { return options_; }

 private:
  Density run(const Density& d, bool reverse);

  AffineCouplingOptions options_;
  std::vector<Conditioner> layers_;  ///< registered as "layer0", "layer1", ...
};

TORCH_MODULE(AffineCoupling);

/// The settings of a run card with model.type = "coupling": model.coupling_layers and the conditioner's.
AffineCouplingOptions affine_coupling_options(const Config& card);

}  // namespace latflow
