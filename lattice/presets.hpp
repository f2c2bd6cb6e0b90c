#pragma once
// Named (m2, lambda) points of the canonical phi^4 action (lattice/phi4_action.hpp) used by the flow papers,
// so that a run card can say `preset = "gerdes-L32"` instead of copying numbers and their convention.
//
// - gerdes-L{6,12,20,32,64}: m2 = -4 with lambda tuned so that the correlation length xi ~ L/4, from the
//   notebooks of Gerdes et al., SciPost Phys. 15, 238 (2023) [arXiv 2207.00283]; a fixed xi/L approach
//   to the continuum along m2 = -4.
// - albergo-L{8,10,14}: the ensembles E2, E3, E5 of Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019)
//   [arXiv 1904.12072], also m2 = -4, xi ~ L/4, as read from the reproduction g-koutsou/phi4flow. E1 (L=6,
//   6.975) coincides with gerdes-L6. E4 (L=12) is quoted as 5.267 by that reproduction and 5.276 by Gerdes'
//   notebook; one of the two is a typo, so it has no albergo preset: use
//   gerdes-L12.
// - tutorial-L8: m2 = -4, lambda = 8 of the tutorial of Albergo et al., arXiv 2101.08176 (symmetric phase,
//   far from critical).
#include <cstdint>
#include <string>
#include <vector>

namespace latflow {

struct Phi4Preset {
  std::string name;
  std::int64_t L;      ///< the square lattice the point was tuned for
  double m2, lambda;   ///< canonical convention
  std::string source;  ///< paper and where the number was read
};

/// Every preset, in the order above.
const std::vector<Phi4Preset>& phi4_presets();
/// The preset called `name`; an unknown name is a UserError listing the known ones.
const Phi4Preset& phi4_preset(const std::string& name);

}  // namespace latflow
