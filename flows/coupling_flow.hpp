#pragma once
// The checkerboard coupling flow for scalar lattice fields, built as the literature builds its baselines:
//
//   phi = R o S_{n+m} o ... o S_{n+1} o A_n o ... o A_1 (z),   z from the base distribution (flows/flow.hpp)
//
// - A_i: affine couplings (flows/affine_coupling.hpp; RealNVP as in Albergo, Kanwar & Shanahan 2019,
//   arXiv 1904.12072, and the tutorial, arXiv 2101.08176);
// - S_j: rational-quadratic spline couplings (flows/spline_coupling.hpp; Durkan et al. 2019, arXiv 1906.04032),
//   the 2 spline layers after 8 affine ones of torchlft's phi^4 flows (Del Debbio, Marsh Rossney & Wilson);
// - R: an optional global rescaling phi -> e^a phi with one learnt a (anvil's GlobalRescaling),
//   log q -= V a.
//
// Layer k (affine first, then splines) updates the sites with (t + x + k) odd, so consecutive layers alternate
// the checkerboard halves. With a free-field base (model.prior = "free", the Gaussian-to-free-field first layer
// of anvil's `gauss_to_free`) the couplings only learn the interaction.
//
// Symmetries: convolutional conditioners are circular, so the flow commutes with the lattice translations that
// map the checkerboard onto itself, the shifts (a, b) with a + b even (not the single-site shifts), and their
// weights run on every lattice with even extents (others are a UserError). Dense conditioners belong to one
// lattice. With z2 = true every coupling commutes with phi -> -phi (and so does R).
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "core/config.hpp"
#include "flows/conditioner.hpp"
#include "flows/elementwise/rational_quadratic_spline.hpp"
#include "flows/transform.hpp"

namespace latflow {

struct CouplingFlowOptions {
  /// Affine coupling layers.
  TORCH_ARG(std::int64_t, layers) = 16;
  /// Spline coupling layers after the affine ones; `spline` gives their bins and bound B (the real-line spline
  /// acts on [-B, B] and is the identity outside).
  TORCH_ARG(std::int64_t, spline_layers) = 0;
  TORCH_ARG(ElementwiseOptions, spline);
  /// A final learnt global rescaling.
  TORCH_ARG(bool, rescale) = false;
  /// Every coupling's conditioner (the spline ones with their own outputs and reflection).
  TORCH_ARG(ConditionerOptions, conditioner);
};

class CouplingFlowImpl : public TransformImpl {
 public:
  /// Throws UserError for negative layer counts, no layer at all, or invalid conditioner or spline options.
  explicit CouplingFlowImpl(CouplingFlowOptions options);

  /// phi [B, T, L] with T, L even (UserError otherwise).
  Density forward(const Density& x) override;
  Density reverse(const Density& y) override;

  const CouplingFlowOptions& options() const { return options_; }

 private:
  Density run(const Density& d, bool reverse);

  CouplingFlowOptions options_;
  std::vector<Conditioner> affine_;  ///< registered as "layer0", "layer1", ...
  std::vector<Conditioner> spline_;  ///< registered as "spline0", "spline1", ...
  std::shared_ptr<const RationalQuadraticSpline> spline_map_;
  at::Tensor log_scale_;             ///< registered as "log_scale" when rescale is on
};

TORCH_MODULE(CouplingFlow);

/// The settings of a run card with model.type = "coupling": model.coupling_layers, model.spline_layers,
/// model.bins, model.spline_bound, model.rescale, model.conditioner and the conditioner's.
CouplingFlowOptions coupling_flow_options(const Config& card);

}  // namespace latflow
