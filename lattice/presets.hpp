#pragma once
// Named parameter points of the theories, so that a run card can say `preset = "gerdes-L32"` instead of
// copying numbers and their convention. A preset sets lattice.theory, lattice.L and the theory's couplings
// (in the run-card keys of its canonical form); keys the card gives itself win.
//
// phi^4 (canonical convention of lattice/phi4_action.hpp):
// - gerdes-L{6,12,20,32,64}: m2 = -4 with lambda tuned so that the correlation length xi ~ L/4, from the
//   notebooks of Gerdes et al., SciPost Phys. 15, 238 (2023) [arXiv 2207.00283]; a fixed xi/L approach
//   to the continuum along m2 = -4.
// - albergo-L{8,10,14}: the ensembles E2, E3, E5 of Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019)
//   [arXiv 1904.12072], also m2 = -4, xi ~ L/4, as read from the reproduction g-koutsou/phi4flow. E1 (L=6,
//   6.975) coincides with gerdes-L6. E4 (L=12) is quoted as 5.267 by that reproduction and 5.276 by Gerdes'
//   notebook; one of the two is a typo, so it has no albergo preset: use gerdes-L12.
// - tutorial-L8: m2 = -4, lambda = 8 of the tutorial of Albergo et al., arXiv 2101.08176 (symmetric phase,
//   far from critical).
// The Schwinger model (lattice/schwinger_action.hpp):
// - bialas-L{8,12,16}: beta = 2, kappa = 0.276, the critical point at which Białas, Korcyl & Stebel,
//   Comput. Phys. Commun. 2024 [arXiv 2308.13294] compare the REINFORCE and reparameterisation estimators
//   (their notebooks and timing scripts; L = 8 for training, 8..16 for the timings).
// The Ising model (lattice/ising_action.hpp):
// - ising-L{16,32,64,128}: beta = 0.44, J = 1, just below beta_c = ln(1 + sqrt 2)/2 = 0.4406868. Białas,
//   Korcyl & Stebel, Comput. Phys. Commun. 281 (2022) 108502 [arXiv 2203.10989] run their hierarchical
//   autoregressive networks close to beta_c; the value 0.44 is our choice, not a number read from them.
// - ising-L4: the same point on a lattice small enough to enumerate (2^16 configurations), for tests.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace latflow {

struct Preset {
  std::string name;
  std::string theory;  ///< the lattice.theory it belongs to
  std::int64_t L;      ///< the square lattice the point was chosen for
  std::vector<std::pair<std::string, double>> couplings;  ///< run-card key -> value
  std::string source;  ///< paper and where the number was read
  /// The value of a coupling key, NaN when the preset has none.
  double coupling(const std::string& key) const;
};

/// Every preset, in the order above.
const std::vector<Preset>& presets();
/// The preset called `name`; an unknown name is a UserError listing the known ones.
const Preset& preset(const std::string& name);

}  // namespace latflow
