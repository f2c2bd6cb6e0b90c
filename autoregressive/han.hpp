#pragma once
// The hierarchical autoregressive network (HAN) of Białas, Korcyl & Stebel, "Hierarchical autoregressive
// neural networks for statistical systems", Comput. Phys. Commun. 281 (2022) 108502, arXiv 2203.10989,
// for spins s = +-1 on a periodic L x L lattice with L = 2^n, with the hierarchy of their code. Sites are
// (t, x), t the row (first lattice direction), and are read modulo L.
//
// Boundary. A MADE without conditioning inputs (autoregressive/made.hpp) samples the 2L - 1 spins of row 0
// (x = 0 .. L-1, in that order) and then of column 0 (t = 1 .. L-1). By periodicity they are also row L and
// column L, so they are the whole border of the (L+1) x (L+1) square of sites 0 .. L in both directions,
// corners included, around an interior of l x l unknown spins, l = L - 1.
//
// Squares. A square with offset (t0, x0) and an l x l interior, l odd, is the (l+2) x (l+2) block of sites
// (t0 + a, x0 + b), a, b = 0 .. l+1, whose border is known when its turn comes. With nearest-neighbour
// couplings the interior interacts with the rest of the lattice only through the 4l border sites next to it
// (the corners touch no interior site); these are the conditioning inputs, in the order of the code: top (a = 0, b = 1 .. l), right (a = 1 .. l, b = l + 1),
// bottom (a = l + 1, b = 1 .. l), left (a = 1 .. l, b = 0). A level's net, a MADE with n = 2l - 1 spins and
// c = 4l inputs, samples the cross of the square, with m = (l + 1)/2: the middle column (a = 1 .. l, b = m),
// then the left half-row (a = m, b = 1 .. m-1), then the right one (a = m, b = m+1 .. l). The cross cuts the
// interior into four interiors of (l - 1)/2 whose squares, with offsets (t0, x0), (t0, x0 + m),
// (t0 + m, x0), (t0 + m, x0 + m), have known borders: the next level. When l = 1 the cross is the one
// interior spin, conditioned on its four neighbours (on the 2 x 2 lattice each of them twice).
//
// Levels k = 0 .. n-1 have 4^k squares with l_k = L / 2^k - 1 (L = 16: 15, 7, 3, 1), and 2L - 1 +
// sum_k 4^k (2 l_k - 1) = L^2, so every site is drawn exactly once. In q a square's interior depends on its
// border alone, and the squares of a level have disjoint interiors, hence
//
//   q(s) = q_b(boundary) prod_k prod_{squares of level k} q_k(cross | border),
//
// a product of normalised conditionals in an order in which each conditions only on spins drawn before:
// exact and normalised. There are 1 + n networks, the level-k net shared by the 4^k squares of its level,
// which run through it as one batch of B 4^k. log_prob gathers boundary, crosses and borders with index
// tensors built once in the constructor and evaluates each net once; sample draws the boundary spin by spin
// (2L - 1 calls), then each level in 2 l_k - 1 calls batched over its squares.
//
// Parameters (autoregressive/made.hpp, depth 2 and width 1): 2(2L-1)^2 + 3(2L-1) for the boundary, and
// u^2 + 2u + (2l-1)(u + 1), u = 6l - 1, for a level with l: growing like 72 L^2, against VAN's 2 L^4.
// L = 16: 15,487 (VAN 131,840); L = 32: 67,540 (VAN 2,100,224); L = 64: 282,185 (VAN 33,566,720).
//
// Transfer (the pre-training of Białas, Korcyl, Stebel et al., "Simulating first-order phase transition
// with hierarchical autoregressive networks", arXiv 2212.04955, for the Q = 12 Potts model): level k of
// a HAN at L has the same cross and border as level k + 1 of one at 2L, so its weights carry over
// (initialize_from); the boundary and level 0 of the larger HAN are new.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "autoregressive/made.hpp"
#include "flows/sampler.hpp"
#include "lattice/geometry.hpp"

namespace latflow {

struct HanOptions {
  explicit HanOptions(std::int64_t L) : L_(L) {}
  /// The extent of the L x L lattice, a power of two >= 2.
  TORCH_ARG(std::int64_t, L);
  /// Of every net (boundary and levels).
  TORCH_ARG(MadeArchitecture, architecture);
};

class HanImpl : public SamplerImpl {
 public:
  /// Throws UserError for L not a power of two >= 2, or an invalid architecture.
  explicit HanImpl(HanOptions options);

  /// n configurations [n, L, L] of spins +-1 with their log q (detached; differentiate log_prob).
  Density sample(std::int64_t n, const Lattice& lattice) override;
  /// log q(s) [B] of spins s [B, L, L]; differentiable in the parameters.
  at::Tensor log_prob(const at::Tensor& s) override;
  std::vector<std::int64_t> sample_shape(const Lattice& lattice) const override { return lattice.shape(); }
  std::string base_name() const override { return "autoregressive"; }
  std::string sample_space() const override { return "spin"; }
  /// UserError unless the lattice is the L x L one the HAN was built for.
  void check_lattice(const Lattice& lattice) const override;
  bool reparameterizable() const override { return false; }
  bool lattice_specific() const override { return true; }

  /// Copies the parameters of every level k of `smaller`, a HAN at L / 2 with the same depth and width, into
  /// level k + 1 of this one: levels 1 .. n-1, all but the boundary and level 0, which keep theirs. With
  /// `freeze` the copied parameters stop requiring gradients (an optimiser built afterwards from the
  /// parameters that require them trains only the new nets). UserError for another model, size, depth or width.
  void initialize_from(const SamplerImpl& smaller, bool freeze) override;

  /// n = log2 L: the number of levels.
  std::int64_t levels() const { return static_cast<std::int64_t>(levels_.size()); }
  /// l_k = L / 2^k - 1: the interior extent of the squares of level k.
  std::int64_t interior_extent(std::int64_t level) const { return options_.L() / (std::int64_t{1} << level) - 1; }
  MadeImpl& boundary() { return *boundary_; }
  MadeImpl& level(std::int64_t k) { return *levels_.at(static_cast<std::size_t>(k)); }
  const HanOptions& options() const { return options_; }

 private:
  /// Flat site indices t L + x (kept on the device of the last call; the nets move with .to()).
  struct Sites {
    at::Tensor boundary;              ///< [2L - 1]
    std::vector<at::Tensor> crosses;  ///< level k: [4^k, 2 l_k - 1]
    std::vector<at::Tensor> borders;  ///< level k: [4^k, 4 l_k]
  };
  const Sites& sites_on(const c10::Device& device);

  HanOptions options_;
  Made boundary_{nullptr};    ///< "boundary"
  std::vector<Made> levels_;  ///< "level0", ...
  Sites sites_;
};

TORCH_MODULE(Han);

}  // namespace latflow
