#include "autoregressive/symmetrized.hpp"

#include <cmath>

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

SymmetrizedImpl::SymmetrizedImpl(SamplerPtr base, SymmetrizedOptions options)
    : base_(std::move(base)), options_(std::move(options)) {
  if (!base_) throw UserError("symmetrized: needs a base sampler");
  if (!options_.z2() && !options_.d4() && !options_.translations())
    throw UserError("symmetrized: choose at least one of z2, d4, translations");
  if (options_.translation_step() < 1)
    throw UserError("symmetrized: translation_step must be >= 1; got " + std::to_string(options_.translation_step()));
  register_module("base", base_);
  // Computes in the base's dtype and device from the start (later .to() calls move both together).
  const c10::TensorOptions on = base_->tensor_options();
  to(on.device(), on.dtype().toScalarType());
}

void SymmetrizedImpl::check_lattice(const Lattice& lattice) const {
  base_->check_lattice(lattice);
  if (base_->sample_shape(lattice) != lattice.shape())
    throw UserError("symmetrized: the symmetries act on one value per site, configurations [T, L]; the " +
                    base_->base_name() + " sampler's have another shape");
  if (options_.d4() && lattice.T != lattice.L)
    throw UserError("symmetrized: d4 (the symmetries of the square) needs T = L; got " + lattice.str());
  const std::int64_t step = options_.translation_step();
  if (options_.translations() && (lattice.T % step != 0 || lattice.L % step != 0))
    throw UserError("symmetrized: translation_step " + std::to_string(step) + " must divide T and L; got " +
                    lattice.str());
}

std::int64_t SymmetrizedImpl::group_size(const Lattice& lattice) const {
  const std::int64_t step = options_.translation_step();
  return (options_.z2() ? 2 : 1) * (options_.d4() ? 8 : 1) *
         (options_.translations() ? (lattice.T / step) * (lattice.L / step) : 1);
}

at::Tensor SymmetrizedImpl::permutations(const Lattice& lattice, const c10::Device& device) const {
  // Moving the array of site indices by g gives, at every site of g x, the site of x it came from.
  const at::Tensor sites = torch::arange(lattice.volume(), torch::dtype(torch::kInt64).device(device))
                               .view({lattice.T, lattice.L});
  const std::int64_t step = options_.translation_step();
  const std::int64_t shifts_t = options_.translations() ? lattice.T / step : 1;
  const std::int64_t shifts_l = options_.translations() ? lattice.L / step : 1;
  std::vector<at::Tensor> shifted;
  for (std::int64_t a = 0; a < shifts_t; ++a)
    for (std::int64_t b = 0; b < shifts_l; ++b) shifted.push_back(torch::roll(sites, {a * step, b * step}, {0, 1}));
  std::vector<at::Tensor> all;
  for (const at::Tensor& s : shifted) {
    if (!options_.d4()) {
      all.push_back(s.flatten());
      continue;
    }
    for (std::int64_t k = 0; k < 4; ++k) {
      const at::Tensor r = torch::rot90(s, k, {0, 1});
      all.push_back(r.flatten());
      all.push_back(r.t().flatten());
    }
  }
  return torch::stack(all);
}

at::Tensor SymmetrizedImpl::log_prob(const at::Tensor& x) {
  if (x.dim() != 3)
    throw UserError("symmetrized: configurations must be [B, T, L]; got " + std::to_string(x.dim()) + " dimensions");
  const Lattice lattice{x.size(1), x.size(2)};
  check_lattice(lattice);
  const std::int64_t B = x.size(0);
  const at::Tensor perm = permutations(lattice, x.device());
  at::Tensor moved = x.reshape({B, -1}).index_select(1, perm.flatten()).view({B, perm.size(0), -1});
  if (options_.z2()) moved = torch::cat({moved, -moved}, 1);
  const std::int64_t G = moved.size(1);
  const at::Tensor logq = base_->log_prob(moved.reshape({B * G, lattice.T, lattice.L})).view({B, G});
  return torch::logsumexp(logq, 1) - std::log(static_cast<double>(G));
}

Density SymmetrizedImpl::sample(std::int64_t n, const Lattice& lattice) {
  check_lattice(lattice);
  const Density d = base_->sample(n, lattice);
  const at::Tensor perm = permutations(lattice, d.phi.device());
  const auto on = torch::dtype(torch::kInt64).device(d.phi.device());
  // g^-1 undoes the permutation of g: its array is the inverse permutation, argsort(perm).
  const at::Tensor drawn = torch::randint(perm.size(0), {n}, on);
  const at::Tensor inverse = torch::argsort(perm, /*dim=*/1, /*descending=*/false).index_select(0, drawn);
  at::Tensor y = d.phi.reshape({n, -1}).gather(1, inverse);
  if (options_.z2()) y = y * (torch::randint(2, {n, 1}, on) * 2 - 1).to(y.dtype());
  y = y.view({n, lattice.T, lattice.L});
  return {y, log_prob(y)};
}

void SymmetrizedImpl::initialize_from(const SamplerImpl& trained, bool freeze) {
  const auto* sym = dynamic_cast<const SymmetrizedImpl*>(&trained);
  base_->initialize_from(sym ? *sym->base_ : trained, freeze);
}

}  // namespace latflow
