#pragma once
// Hierarchical (coarse-to-fine) affine coupling flow: the hierarchical association of degrees of freedom of
// Białas, Korcyl & Stebel (HAN, arXiv 2203.10989; model size grows with the linear extent L, not the volume)
// carried over from autoregressive networks to a coupling flow, in the spirit of the multiscale, RG-inspired
// flows for continuous fields (NeuralRG, Li & Wang, arXiv 1802.02840). Design notes: docs/hierarchical.md.
//
// A T x L lattice with L = l0 2^n (l0 = coarse_L) is organised in levels: level 0 is the 2^n-strided
// sublattice (T/2^n x l0 sites), level j >= 1 the sites of the 2^(n-j)-strided sublattice that are not on the
// 2^(n-j+1)-strided one. On the level-j sublattice, a 2l x 2l lattice whose even-even sites are the coarser
// levels, the new sites are three classes: plaquette centres (odd, odd), time bonds (odd, even) and space
// bonds (even, odd). The transform
//
//   level 0:  phi^(0) = F_0(z^(0)), a checkerboard affine CouplingFlow on the coarse lattice;
//   level j:  with a free-field base, the shear f -> f - E0[f | c] before the coarser levels run and
//             f -> f + E0[f | c'] after them (E0: the free theory's conditional mean of the new sites f
//             given the coarser sites, lattice/free_field_prolongation.hpp; c, c' the coarser sites before
//             and after; applied as one shift, f -> f + E0[f | c' - c], the mean being linear), so that the
//             new sites start from the free conditional given the transformed coarse field, as multilevel
//             heat-bath sampling would draw them; then `rounds` passes of three
//             affine couplings (flows/affine_coupling.hpp) updating the centres, then the time bonds, then
//             the space bonds, each conditioned on all other sites of the level-j sublattice: the coarser
//             sites, final before level j starts and never changed by it, and the other two classes;
//             then `spline_rounds` passes of the same three updates as rational-quadratic spline couplings
//             (flows/spline_coupling.hpp; Durkan et al., arXiv 1906.04032), which can reshape a site's
//             conditional beyond an affine map (the coarse flow likewise takes `spline_layers`);
//
// is a composition of couplings and shears (Jacobian determinant 1), so it is a bijection with the exact
// log-density
//
//   log q(phi) = log q0(z) - log|det dF_0| - sum_j sum_steps sum_{active sites} log|dy/dx|.
//
// No level changes a coarser site, so the marginal of the 2^(n-j)-strided sublattice is fixed by levels
// 0..j alone: a coarse-to-fine sampler inside the Transform interface. With the free base and no training,
// each level draws its new sites from the free conditional given the coarser ones, whatever the coarse flow
// did to them. `reverse` undoes the finest level first.
//
// Parameters: the coarse flow, plus one set of 3 * (rounds + spline_rounds) conditioners per level, whose convolutions are
// shared across positions, so the count grows by a constant per doubling of L (like log L). Levels are
// modules named by their distance from the coarsest level ("coarse", "level1", ..., "level<levels>"); a
// lattice with more than `levels` refinements runs its extra, finer levels with the finest level's weights
// (share_finest), and `load` fills levels that a checkpoint lacks from the finest one it has, so weights
// trained at L load into the flow built for 2L and give the same map (see docs/hierarchical.md).
//
// Symmetries: with z2 = true the flow commutes with phi -> -phi; it commutes with the translations by
// (2^n a, 2^n b), a + b even (those mapping every level, and the coarse checkerboard, onto themselves).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/pimpl.h>
#include <torch/serialize/input-archive.h>

#include "core/config.hpp"
#include "flows/affine_coupling.hpp"
#include "flows/coupling_flow.hpp"
#include "flows/conditioner.hpp"
#include "flows/elementwise/rational_quadratic_spline.hpp"
#include "flows/transform.hpp"
#include "lattice/free_field_prolongation.hpp"
#include "lattice/geometry.hpp"

namespace latflow {

struct HierarchicalOptions {
  /// l0: the spatial extent of the coarsest lattice (even, >= 2).
  TORCH_ARG(std::int64_t, coarse_L) = 4;
  /// Checkerboard coupling layers of the coarse flow.
  TORCH_ARG(std::int64_t, coarse_layers) = 8;
  /// Refinement levels with their own weights (log2(L / l0) for the training lattice; >= 0).
  TORCH_ARG(std::int64_t, levels) = 1;
  /// Passes of affine couplings over the three new-site classes per level.
  TORCH_ARG(std::int64_t, rounds) = 2;
  /// Passes of spline couplings over the three classes per level, after the affine ones (>= 0).
  TORCH_ARG(std::int64_t, spline_rounds) = 0;
  /// Spline couplings of the coarse flow, after its affine ones (>= 0).
  TORCH_ARG(std::int64_t, spline_layers) = 0;
  /// The splines' bins and bound B (identity outside [-B, B]), for spline_rounds and spline_layers.
  TORCH_ARG(ElementwiseOptions, spline);
  /// m0^2 of a free-field base (> 0): each level then refines around the free theory's conditional mean
  /// given the transformed coarser sites (lattice/free_field_prolongation.hpp); 0 for an independent base.
  TORCH_ARG(double, base_m2) = 0;
  TORCH_ARG(ConditionerOptions, conditioner);
};

/// The number n of refinement levels of `lattice`: L = coarse_L 2^n, with T divisible by 2^n and T / 2^n
/// even (the coarse checkerboard). UserError otherwise.
std::int64_t hierarchical_levels(const Lattice& lattice, std::int64_t coarse_L);

/// One refinement level: on a lattice with even extents, updates the sites off the even-even sublattice in
/// `rounds` x (centres, time bonds, space bonds) affine couplings, then `spline_rounds` x the same in spline
/// couplings, each conditioned on all the sites it does not update.
class RefinementImpl : public TransformImpl {
 public:
  RefinementImpl(std::int64_t rounds, std::int64_t spline_rounds, const ConditionerOptions& conditioner,
                 const ElementwiseOptions& spline);
  Density forward(const Density& x) override;
  Density reverse(const Density& y) override;

 private:
  Density run(const Density& d, bool reverse);
  /// "step0", "step1", ... (affine), then "spline0", ...: step k of either kind updates class k % 3
  /// (centres, time bonds, space bonds).
  std::vector<Conditioner> steps_;
  std::vector<Conditioner> spline_steps_;
  std::shared_ptr<const RationalQuadraticSpline> spline_map_;
};

TORCH_MODULE(Refinement);

class HierarchicalImpl : public TransformImpl {
 public:
  /// Throws UserError for coarse_L odd or < 2, coarse_layers < 1, levels < 0, rounds < 1, spline_rounds < 0,
  /// spline_layers < 0.
  explicit HierarchicalImpl(HierarchicalOptions options);

  /// phi [B, T, L] with L = coarse_L 2^n (see hierarchical_levels; UserError otherwise). Levels beyond
  /// `levels` use the finest level's weights; a flow with levels = 0 runs only on its coarse lattice.
  Density forward(const Density& x) override;
  Density reverse(const Density& y) override;

  /// Module::load, except that refinement levels missing from the archive (trained on a smaller lattice)
  /// take the weights of the finest level it holds.
  void load(torch::serialize::InputArchive& archive) override;

  const HierarchicalOptions& options() const { return options_; }

 private:
  /// The flow on the stride-`stride` sublattice, `depth` levels above its coarse lattice.
  Density forward_at(const Density& d, std::int64_t depth, std::int64_t stride);
  Density reverse_at(const Density& d, std::int64_t depth, std::int64_t stride);
  RefinementImpl& level_at(std::int64_t depth);
  std::int64_t depth_of(const at::Tensor& phi) const;

  HierarchicalOptions options_;
  std::optional<FreeFieldProlongation> prolongation_;
  CouplingFlow coarse_{nullptr};
  std::vector<Refinement> levels_;  ///< levels_[j - 1] is "level<j>"
};

TORCH_MODULE(Hierarchical);

/// The coarse extent chosen for model.coarse_L = 0: L / 2^n with the largest n leaving it even and >= 4
/// (8 -> 4, 12 -> 6, 16 -> 4, 10 -> 10), so that lattices L and 2L get the same coarse lattice and differ by
/// one refinement level.
std::int64_t auto_coarse_L(std::int64_t L);

/// The settings of a run card with model.type = "hierarchical": model.coarse_L (0: auto_coarse_L), model.coarse_layers,
/// model.rounds, model.spline_rounds, model.spline_layers, model.bins, model.spline_bound and the conditioner's; `levels` from the card's lattice (lattice.L, lattice.T).
HierarchicalOptions hierarchical_options(const Config& card);

}  // namespace latflow
