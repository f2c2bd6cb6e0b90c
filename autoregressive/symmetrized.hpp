#pragma once
// Symmetrisation of a sampler over a finite group G of bijections of the configurations (for Ising spins
// the global flip s -> -s, the symmetries of the square, the translations of the torus), as the codes of
// the autoregressive networks of Wu, Wang & Zhang (VAN, Phys. Rev. Lett. 122, 080602 (2019), arXiv
// 1809.10606: the flip) and of Białas et al. (HAN for the Potts model, arXiv 2212.04955: colour shifts, the
// transposition and translations) do:
//
//   q_G(x) = (1/|G|) sum_{g in G} q(g x),     log q_G(x) = logsumexp_g log q(g x) - log |G|.
//
// Exact and normalised: each g is a bijection of the configuration space (a permutation of the sites,
// possibly with a sign), so x -> q(g x) is a normalised density for every g, and a mixture of normalised
// densities is normalised. sample() draws x ~ q and returns g^-1 x for a g drawn uniformly from G (torch's
// default generator), whose density is sum_g (1/|G|) q(g y) at y: exactly q_G. Both facts hold for any list
// of bijections; that G is a group makes q_G invariant, q_G(h x) = q_G(x) for h in G. For continuous fields
// the Jacobian of a signed permutation has |det| = 1, so the same holds for a flow's density.
//
// The configurations hold one value per site ([T, L]: spins, a real scalar; not link fields, on which the
// lattice symmetries also turn the directions). G = Z2^[z2] x (T ⋊ D4^[d4]), enumerated as all products
// of the chosen subgroups:
//  - z2: s -> -s, 2 elements;
//  - d4: the 8 symmetries of the square array (rotations by multiples of 90 degrees, with and without a
//    transposition), T = L only;
//  - translations: the shifts by multiples of translation_step in both directions, T L / step^2 elements
//    (the Potts code shifts by multiples of L/4 in one direction and of L/8 in the other).
// On the 2 x 2 lattice a reflection of the array equals a translation, so the product lists such an element
// twice; every element of the group is then listed equally often and q_G is still the uniform mixture.
//
// Cost: log_prob evaluates the base sampler on |G| B configurations in one batch (|G| = 16 for z2 + d4,
// 2 T L for z2 + translations with step 1), and sample() calls log_prob once after the base's sample().
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "flows/sampler.hpp"
#include "lattice/geometry.hpp"

namespace latflow {

struct SymmetrizedOptions {
  /// The global flip x -> -x.
  TORCH_ARG(bool, z2) = true;
  /// The 8 symmetries of the square (needs T = L).
  TORCH_ARG(bool, d4) = false;
  /// The translations by multiples of translation_step.
  TORCH_ARG(bool, translations) = false;
  /// Must divide T and L.
  TORCH_ARG(std::int64_t, translation_step) = 1;
};

class SymmetrizedImpl : public SamplerImpl {
 public:
  /// Throws UserError for a null base, no subgroup chosen or translation_step < 1.
  SymmetrizedImpl(SamplerPtr base, SymmetrizedOptions options);

  /// The base's samples, each moved by a uniformly random g^-1, with log q_G (a log_prob call).
  Density sample(std::int64_t n, const Lattice& lattice) override;
  /// log q_G(x) [B]; differentiable in the parameters.
  at::Tensor log_prob(const at::Tensor& x) override;
  std::vector<std::int64_t> sample_shape(const Lattice& lattice) const override { return base_->sample_shape(lattice); }
  std::string base_name() const override { return base_->base_name(); }
  std::string sample_space() const override { return base_->sample_space(); }
  bool lattice_specific() const override { return base_->lattice_specific(); }
  /// Transfers into the base from `trained`'s base (or from `trained` itself if it is not symmetrised).
  void initialize_from(const SamplerImpl& trained, bool freeze) override;
  /// The base's conditions, one value per site (sample shape [T, L]), T = L for d4, and translation_step
  /// dividing T and L.
  void check_lattice(const Lattice& lattice) const override;
  /// As the base: the group elements do not depend on the parameters.
  bool reparameterizable() const override { return base_->reparameterizable(); }

  /// |G| on `lattice`.
  std::int64_t group_size(const Lattice& lattice) const;
  const SymmetrizedOptions& options() const { return options_; }
  SamplerImpl& base() { return *base_; }

 private:
  /// The site permutations of the spatial part of G on `lattice`: row g maps site i of g x to the site
  /// perm[g][i] of x, so (g x)_flat = x_flat[perm[g]]; [|G| / |Z2|, T L].
  at::Tensor permutations(const Lattice& lattice, const c10::Device& device) const;

  SamplerPtr base_;
  SymmetrizedOptions options_;
};

TORCH_MODULE(Symmetrized);

}  // namespace latflow
