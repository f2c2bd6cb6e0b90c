#include "flows/hierarchical.hpp"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "core/error.hpp"
#include "flows/spline_coupling.hpp"

namespace latflow {

namespace {

/// The four 2-strided sublattices of [B, T, L] (views), by (t parity, x parity).
struct Quarters {
  at::Tensor ee, eo, oe, oo;
};

Quarters split(const at::Tensor& phi) {
  const auto part = [&phi](std::int64_t t0, std::int64_t x0) {
    return phi.slice(1, t0, phi.size(1), 2).slice(2, x0, phi.size(2), 2);
  };
  return {part(0, 0), part(0, 1), part(1, 0), part(1, 1)};
}

/// The inverse of split: interleaves the quarters into [B, 2h, 2w].
at::Tensor merge(const Quarters& q) {
  const std::int64_t B = q.ee.size(0), h = q.ee.size(1), w = q.ee.size(2);
  const at::Tensor even_rows = torch::stack({q.ee, q.eo}, -1).reshape({B, h, 2 * w});
  const at::Tensor odd_rows = torch::stack({q.oe, q.oo}, -1).reshape({B, h, 2 * w});
  return torch::stack({even_rows, odd_rows}, 2).reshape({B, 2 * h, 2 * w});
}

/// The shears f -> f - E0[f | c] before the coarser levels moved c to q.ee and f -> f + E0[f | q.ee] after
/// them, as one: the mean is linear, so the new sites of q move by E0[f | q.ee - c]. A no-op without a free base.
void follow_coarse(Quarters& q, const at::Tensor& c, std::int64_t stride,
                   const std::optional<FreeFieldProlongation>& p) {
  if (!p) return;
  const at::Tensor shift = p->conditional_means(q.ee - c, stride);  // centres, time bonds, space bonds
  q.oo = q.oo + shift[0];
  q.oe = q.oe + shift[1];
  q.eo = q.eo + shift[2];
}

std::string level_name(std::size_t j) { return "level" + std::to_string(j); }

void check_coarse_L(std::int64_t coarse_L) {
  if (coarse_L < 2 || coarse_L % 2 != 0)
    throw UserError("hierarchical flow: coarse_L must be even and >= 2 (the coarse flow is a checkerboard "
                    "coupling); got " + std::to_string(coarse_L));
}

/// (t parity, x parity) of the new-site classes of a level, in update order.
constexpr std::int64_t kClasses[3][2] = {{1, 1}, {1, 0}, {0, 1}};

}  // namespace

std::int64_t hierarchical_levels(const Lattice& lattice, std::int64_t coarse_L) {
  check_coarse_L(coarse_L);
  const std::string what = "hierarchical flow on " + lattice.str() + " with coarse_L = " + std::to_string(coarse_L);
  if (lattice.L < coarse_L || lattice.L % coarse_L != 0)
    throw UserError(what + ": L must be coarse_L * 2^n (n >= 0)");
  std::int64_t n = 0;
  for (std::int64_t r = lattice.L / coarse_L; r > 1; r /= 2, ++n)
    if (r % 2 != 0) throw UserError(what + ": L must be coarse_L * 2^n (n >= 0)");
  const std::int64_t stride = std::int64_t{1} << n;
  if (lattice.T % stride != 0 || (lattice.T / stride) % 2 != 0)
    throw UserError(what + ": T must be an even multiple of 2^n = " + std::to_string(stride) +
                    " (the coarse lattice is T / 2^n x coarse_L and needs even extents)");
  return n;
}

RefinementImpl::RefinementImpl(std::int64_t rounds, std::int64_t spline_rounds, const ConditionerOptions& conditioner,
                               const ElementwiseOptions& spline) {
  for (std::int64_t k = 0; k < 3 * rounds; ++k)
    steps_.push_back(register_module("step" + std::to_string(k), Conditioner(conditioner)));
  if (spline_rounds == 0) return;
  spline_map_ = std::make_shared<const RationalQuadraticSpline>(RationalQuadraticSpline::Kind::real_line, spline);
  const ConditionerOptions c = spline_conditioner_options(conditioner, *spline_map_);
  for (std::int64_t k = 0; k < 3 * spline_rounds; ++k)
    spline_steps_.push_back(register_module("spline" + std::to_string(k), Conditioner(c)));
}

Density RefinementImpl::run(const Density& d, bool reverse) {
  const std::int64_t T = d.phi.size(1), L = d.phi.size(2);
  at::Tensor active[3];
  for (int c = 0; c < 3; ++c) active[c] = sublattice_mask(T, L, kClasses[c][0], kClasses[c][1], d.phi.options());
  const auto n_affine = static_cast<std::int64_t>(steps_.size());
  const std::int64_t n = n_affine + static_cast<std::int64_t>(spline_steps_.size());
  Density out = d;
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t i = reverse ? n - 1 - k : k;
    out = i < n_affine ? affine_coupling_step(out, active[i % 3], *steps_[i], reverse)
                       : spline_coupling_step(out, active[(i - n_affine) % 3], *spline_steps_[i - n_affine],
                                              *spline_map_, reverse);
  }
  return out;
}

Density RefinementImpl::forward(const Density& x) { return run(x, false); }
Density RefinementImpl::reverse(const Density& y) { return run(y, true); }

HierarchicalImpl::HierarchicalImpl(HierarchicalOptions options) : options_(std::move(options)) {
  const HierarchicalOptions& o = options_;
  check_coarse_L(o.coarse_L());
  if (o.coarse_layers() < 1)
    throw UserError("hierarchical flow: coarse_layers must be >= 1; got " + std::to_string(o.coarse_layers()));
  if (o.levels() < 0) throw UserError("hierarchical flow: levels must be >= 0; got " + std::to_string(o.levels()));
  if (o.rounds() < 1) throw UserError("hierarchical flow: rounds must be >= 1; got " + std::to_string(o.rounds()));
  if (o.spline_rounds() < 0 || o.spline_layers() < 0)
    throw UserError("hierarchical flow: spline_rounds and spline_layers must be >= 0; got " +
                    std::to_string(o.spline_rounds()) + " and " + std::to_string(o.spline_layers()));
  if (o.base_m2() > 0) prolongation_.emplace(o.base_m2());
  else if (o.base_m2() < 0 || !std::isfinite(o.base_m2()))
    throw UserError("hierarchical flow: base_m2 must be > 0 (a free-field base) or 0 (an independent one); got " +
                    std::to_string(o.base_m2()));
  coarse_ = register_module(
      "coarse", CouplingFlow(CouplingFlowOptions()
                                 .layers(o.coarse_layers())
                                 .spline_layers(o.spline_layers())
                                 .spline(o.spline())
                                 .conditioner(o.conditioner())));
  for (std::int64_t j = 1; j <= o.levels(); ++j)
    levels_.push_back(
        register_module(level_name(j), Refinement(o.rounds(), o.spline_rounds(), o.conditioner(), o.spline())));
}

std::int64_t HierarchicalImpl::depth_of(const at::Tensor& phi) const {
  if (phi.dim() != 3)
    throw UserError("hierarchical flow: configurations must be [B, T, L]; got " + std::to_string(phi.dim()) +
                    " dimensions");
  return hierarchical_levels({phi.size(1), phi.size(2)}, options_.coarse_L());
}

RefinementImpl& HierarchicalImpl::level_at(std::int64_t depth) {
  if (levels_.empty())
    throw UserError("hierarchical flow: built with levels = 0, it has no refinement level to run on a lattice "
                    "finer than coarse_L = " + std::to_string(options_.coarse_L()));
  return *levels_[static_cast<std::size_t>(std::min<std::int64_t>(depth, options_.levels())) - 1];
}

Density HierarchicalImpl::forward_at(const Density& d, std::int64_t depth, std::int64_t stride) {
  if (depth == 0) return coarse_->forward(d);
  Quarters q = split(d.phi);
  const at::Tensor base = q.ee;
  const Density coarser = forward_at({q.ee, d.logq}, depth - 1, 2 * stride);
  q.ee = coarser.phi;
  follow_coarse(q, base, stride, prolongation_);
  return level_at(depth).forward({merge(q), coarser.logq});
}

Density HierarchicalImpl::reverse_at(const Density& d, std::int64_t depth, std::int64_t stride) {
  if (depth == 0) return coarse_->reverse(d);
  const Density fine = level_at(depth).reverse(d);
  Quarters q = split(fine.phi);
  const at::Tensor transformed = q.ee;
  const Density coarser = reverse_at({q.ee, fine.logq}, depth - 1, 2 * stride);
  q.ee = coarser.phi;
  follow_coarse(q, transformed, stride, prolongation_);
  return {merge(q), coarser.logq};
}

Density HierarchicalImpl::forward(const Density& x) { return forward_at(x, depth_of(x.phi), 1); }
Density HierarchicalImpl::reverse(const Density& y) { return reverse_at(y, depth_of(y.phi), 1); }

void HierarchicalImpl::load(torch::serialize::InputArchive& archive) {
  // Refuse before touching any weight, so a failed load leaves the flow as it was.
  torch::serialize::InputArchive first_level;
  if (!levels_.empty() && !archive.try_read(level_name(1), first_level))
    throw UserError("hierarchical flow: the saved weights have no refinement level to extend to the " +
                    std::to_string(levels_.size()) + " levels of this flow (they were trained on the coarse "
                    "lattice alone)");
  torch::serialize::InputArchive part;
  archive.read("coarse", part);
  coarse_->load(part);
  for (std::size_t j = 0; j < levels_.size(); ++j) {
    torch::serialize::InputArchive level;
    if (archive.try_read(level_name(j + 1), level)) {
      levels_[j]->load(level);
      continue;
    }
    // share_finest: the saved flow ran this level with its finest level's weights; start from the same map.
    torch::NoGradGuard no_grad;
    const auto finest = levels_[j - 1]->named_parameters();
    for (auto& p : levels_[j]->named_parameters()) p.value().copy_(finest[p.key()]);
  }
}

std::int64_t auto_coarse_L(std::int64_t L) {
  std::int64_t l0 = L;
  while (l0 % 4 == 0 && l0 / 2 >= 4) l0 /= 2;
  return l0;
}

HierarchicalOptions hierarchical_options(const Config& card) {
  HierarchicalOptions o;
  const std::int64_t L = card.get<std::int64_t>("lattice.L"), T = card.get<std::int64_t>("lattice.T");
  o.coarse_L(card.get<std::int64_t>("model.coarse_L"));
  if (o.coarse_L() == 0) o.coarse_L(auto_coarse_L(L));
  o.coarse_layers(card.get<std::int64_t>("model.coarse_layers"));
  o.rounds(card.get<std::int64_t>("model.rounds"));
  o.spline_rounds(card.get<std::int64_t>("model.spline_rounds"));
  o.spline_layers(card.get<std::int64_t>("model.spline_layers"));
  o.spline(ElementwiseOptions().bins(card.get<std::int64_t>("model.bins")).bound(card.get<double>("model.spline_bound")));
  if (card.has("model.prior") && card.get<std::string>("model.prior") == "free")
    o.base_m2(card.get<double>("model.prior_m2"));
  o.conditioner(conditioner_options(card));
  o.levels(hierarchical_levels({T == 0 ? L : T, L}, o.coarse_L()));
  return o;
}

}  // namespace latflow
