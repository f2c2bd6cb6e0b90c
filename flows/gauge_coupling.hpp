#pragma once
// Gauge-equivariant coupling flow for U(1) link angles theta [B, 2, T, L] (Kanwar et al., PRL 125, 121601
// (2020) [arXiv 2003.06413]; Albergo et al., arXiv 2101.08176, sec. 6; with the 2x1 loops of Albergo et al.,
// PRD 106, 014514 (2022) [arXiv 2202.11712], the architecture Białas, Korcyl & Stebel train for the
// Schwinger model [arXiv 2308.13294]).
//
// A layer with direction mu and offset o (nu = 1 - mu) splits the lattice by masks that repeat every 4
// sites along mu and every 2 along nu (so T and L must be multiples of 4):
//
//   active links        theta_mu(x) with  x_mu - o - 2 (x_nu mod 2) = 0 (mod 4)
//   active plaquettes   P(x) at the same x: each holds exactly one active link (theta_mu(x + nu) is not)
//   frozen plaquettes   P(x) with x_mu - o odd: they hold no active link, nor do the 2x1 loops R_nu(x)
//                       (long side along nu) at those x, which cover P(x) and P(x + nu)
//   passive plaquettes  the rest: they change, as the consequence of the active links
//
// The conditioner (flows/conv_net.hpp) reads cos and sin of the frozen plaquettes (and of the frozen 2x1
// loops) and returns, at every site, the raw parameters of a circle transform f of flows/elementwise/
// (rational-quadratic circular spline or NCP mixture; Rezende et al., arXiv 2002.02428), which maps each
// active plaquette:
//
//   P'(x) = f(P(x) mod 2 pi),     theta'_mu(x) = theta_mu(x) + s_mu (P'(x) - P(x) mod 2 pi),
//   s_0 = +1, s_1 = -1 (theta_0(x) enters P(x) with +, theta_1(x) with -),
//
// all other links unchanged. The conditioner's inputs are left unchanged by the layer, so the inverse
// recomputes the same parameters from theta' and applies f^-1. Each active link moves only its own active
// plaquette (given the frozen ones), so the Jacobian is triangular with diagonal f'(P):
//
//   log q(theta') = log q(theta) - sum_{x active} log f'(P(x)).
//
// Plaquettes and loops are gauge invariant and the link update is a function of them, so the flow commutes
// with gauge transformations; from the Haar measure its density is gauge invariant. The convolutions are
// circular, so it also commutes with the translations that map the masks onto themselves (by 4 along mu
// and 2 along nu). Layer i uses mu = (i / 4) mod 2 and o = i mod 4, cycling through the 8 masks. Every layer
// starts as the identity (the last convolution starts at zero; the circle transforms are the identity at
// zero raw parameters). The weights do not depend on the lattice: one flow runs on every T, L = 0 mod 4.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "core/config.hpp"
#include "flows/conv_net.hpp"
#include "flows/elementwise/elementwise_transform.hpp"
#include "flows/transform.hpp"

namespace latflow {

struct GaugeCouplingOptions {
  /// Coupling layers (the seed's 48 cycles six times through the 8 masks).
  TORCH_ARG(std::int64_t, layers) = 48;
  /// A circle transform of flows/elementwise/: "rq_spline_circle" or "ncp_mixture".
  TORCH_ARG(std::string, transform) = "rq_spline_circle";
  /// K: spline bins (the seed's 9 knots are 8 bins) or mixture components.
  TORCH_ARG(std::int64_t, bins) = 8;
  /// Also condition on the frozen 2x1 loops (the seed's "2x1" masking); otherwise on plaquettes only.
  TORCH_ARG(bool, loops) = true;
  /// The conditioner: hidden widths, kernel, dilations (the seed: {64, 64}, 3, {1, 2, 3}), activation.
  TORCH_ARG(std::vector<std::int64_t>, hidden) = std::vector<std::int64_t>{64, 64};
  TORCH_ARG(std::int64_t, kernel_size) = 3;
  TORCH_ARG(std::vector<std::int64_t>, dilations) = std::vector<std::int64_t>{1, 2, 3};
  TORCH_ARG(std::string, activation) = "leaky_relu";
};

/// The masks of the layer (mu, offset) on a T x L lattice, as 0/1 tensors with `options`.
struct GaugeMasks {
  at::Tensor active_links;        ///< [2, T, L]
  at::Tensor active_plaquettes;   ///< [T, L]
  at::Tensor frozen_plaquettes;   ///< [T, L]
};
GaugeMasks gauge_masks(std::int64_t T, std::int64_t L, std::int64_t mu, std::int64_t offset,
                       const c10::TensorOptions& options);

/// One layer of the flow above.
class GaugeCouplingLayerImpl : public TransformImpl {
 public:
  GaugeCouplingLayerImpl(std::int64_t mu, std::int64_t offset, const GaugeCouplingOptions& options);
  /// theta [B, 2, T, L] with T, L multiples of 4 (UserError otherwise).
  Density forward(const Density& x) override;
  Density reverse(const Density& y) override;
  /// The conditioner's inputs, [B, C, T, L]: what the layer must leave unchanged.
  at::Tensor conditioner_input(const at::Tensor& theta, const GaugeMasks& masks) const;

 private:
  Density run(const Density& d, bool reverse);

  std::int64_t mu_, offset_;
  bool loops_;
  ElementwisePtr transform_;
  ConvNet net_{nullptr};
};

TORCH_MODULE(GaugeCouplingLayer);

/// The layers in order (a ComposedTransform: parts "part0", "part1", ...).
class GaugeCouplingImpl : public ComposedTransformImpl {
 public:
  /// Throws UserError for layers < 1, a transform that is not a circle transform, bins < 1 or invalid
  /// conditioner settings.
  explicit GaugeCouplingImpl(GaugeCouplingOptions options);
  const GaugeCouplingOptions& options() const { return options_; }

 private:
  GaugeCouplingOptions options_;
};

TORCH_MODULE(GaugeCoupling);

/// The settings of a run card with model.type = "gauge_coupling": model.coupling_layers, model.transform,
/// model.bins, model.loops, model.hidden_channels, model.hidden_layers, model.kernel_size, model.dilated,
/// model.activation; and lattice.L, lattice.T multiples of 4 (UserError naming them otherwise).
GaugeCouplingOptions gauge_coupling_options(const Config& card);

}  // namespace latflow
