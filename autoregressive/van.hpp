#pragma once
// The variational autoregressive network (VAN) of Wu, Wang & Zhang, "Solving statistical mechanics using
// variational autoregressive networks", Phys. Rev. Lett. 122, 080602 (2019), arXiv 1809.10606: one MADE
// (autoregressive/made.hpp) over the T L spins of the lattice in raster order, site (t, x) being spin
// i = t L + x,
//
//   q(s) = prod_i q(s_i | s_<i),   log q(s) = sum_i log sigmoid(s_i logit_i(s_<i)),
//
// exact and normalised by the chain rule; sample() draws the spins one by one (T L network calls).
//
// The network connects every pair of sites, so its weights are tied to the lattice it is built for: a VAN
// runs on that lattice only (check_lattice), and with the default architecture (depth 2, width 1) it has
// 2 V^2 + 3 V parameters for V = T L sites, growing like L^4: 131,840 at L = 16, 2,100,224 at L = 32,
// 33,566,720 at L = 64. HAN (autoregressive/han.hpp) grows like L^2. Symmetrisation under the global spin
// flip and the lattice symmetries is a wrapper (autoregressive/symmetrized.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "autoregressive/made.hpp"
#include "flows/sampler.hpp"
#include "lattice/geometry.hpp"

namespace latflow {

struct VanOptions {
  explicit VanOptions(Lattice lattice) : lattice_(lattice) {}
  /// The one lattice the network is built for.
  TORCH_ARG(Lattice, lattice);
  TORCH_ARG(MadeArchitecture, architecture);
};

class VanImpl : public SamplerImpl {
 public:
  /// Throws UserError for an empty lattice or invalid architecture.
  explicit VanImpl(VanOptions options);

  /// n configurations [n, T, L] of spins +-1 with their log q (detached; differentiate log_prob).
  Density sample(std::int64_t n, const Lattice& lattice) override;
  /// log q(s) [B] of spins s [B, T, L] on the VAN's lattice; differentiable in the parameters.
  at::Tensor log_prob(const at::Tensor& s) override;
  std::vector<std::int64_t> sample_shape(const Lattice& lattice) const override { return lattice.shape(); }
  std::string base_name() const override { return "autoregressive"; }
  std::string sample_space() const override { return "spin"; }
  /// UserError for any lattice but the one the VAN was built for.
  void check_lattice(const Lattice& lattice) const override;
  bool reparameterizable() const override { return false; }
  bool lattice_specific() const override { return true; }
  /// UserError: a VAN's weights belong to the pairs of sites of its lattice, and no part of them carries over.
  void initialize_from(const SamplerImpl& trained, bool freeze) override;

  const VanOptions& options() const { return options_; }
  MadeImpl& net() { return *net_; }

 private:
  VanOptions options_;
  Made net_{nullptr};
};

TORCH_MODULE(Van);

/// The lattice [T, L] of configurations s [B, T, L]; UserError naming `who` for another rank.
Lattice spin_lattice(const at::Tensor& s, const std::string& who);

}  // namespace latflow
