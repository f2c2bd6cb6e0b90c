#include "lattice/presets.hpp"

#include <limits>

#include "core/error.hpp"
#include "core/text.hpp"

namespace latflow {

namespace {
std::vector<std::pair<std::string, double>> phi4(double m2, double lambda) {
  return {{"lattice.m2", m2}, {"lattice.lambda", lambda}};
}
}  // namespace

double Preset::coupling(const std::string& key) const {
  for (const auto& [k, v] : couplings)
    if (k == key) return v;
  return std::numeric_limits<double>::quiet_NaN();
}

const std::vector<Preset>& presets() {
  static const std::string gerdes =
      "Gerdes et al. 2022, arXiv 2207.00283 (notebooks/load-parameters.ipynb): xi ~ L/4";
  static const std::string albergo =
      "Albergo, Kanwar, Shanahan 2019, arXiv 1904.12072 (via g-koutsou/phi4flow ensembles.json): xi ~ L/4";
  // No published lambda on this line at L = 16 and 18 (Del Debbio et al. do not state theirs): interpolated
  // linearly in 1/L between albergo-L14 (5.113) and gerdes-L20 (4.807). The same rule from the neighbours 12
  // and 20 gives 5.109 at L = 14 against the published 5.113, so the error is a few 1e-3 in lambda.
  static const std::string interpolated =
      "interpolated linearly in 1/L between albergo-L14 and gerdes-L20 on the same m2 = -4, xi ~ L/4 line";
  static const std::string bialas =
      "Bialas, Korcyl, Stebel 2024, arXiv 2308.13294: N_f = 2 Wilson fermions at criticality";
  static const std::string ising =
      "our choice near beta_c = 0.4406868, where Bialas, Korcyl, Stebel 2022, arXiv 2203.10989 run their HAN";
  static const std::vector<Preset> all = {
      {"gerdes-L6", "phi4", 6, phi4(-4.0, 6.975), gerdes},
      {"gerdes-L12", "phi4", 12, phi4(-4.0, 5.276), gerdes},
      {"gerdes-L20", "phi4", 20, phi4(-4.0, 4.807), gerdes},
      {"gerdes-L32", "phi4", 32, phi4(-4.0, 4.572), gerdes},
      {"gerdes-L64", "phi4", 64, phi4(-4.0, 4.398), gerdes},
      {"albergo-L8", "phi4", 8, phi4(-4.0, 6.008), albergo + " ensemble E2"},
      {"albergo-L10", "phi4", 10, phi4(-4.0, 5.550), albergo + " ensemble E3"},
      {"albergo-L14", "phi4", 14, phi4(-4.0, 5.113), albergo + " ensemble E5"},
      {"lcp-L16", "phi4", 16, phi4(-4.0, 4.986), interpolated},
      {"lcp-L18", "phi4", 18, phi4(-4.0, 4.886), interpolated},
      {"tutorial-L8", "phi4", 8, phi4(-4.0, 8.0), "Albergo et al. 2021 tutorial, arXiv 2101.08176 (symmetric phase)"},
      {"bialas-L8", "schwinger", 8, {{"lattice.beta", 2.0}, {"lattice.kappa", 0.276}}, bialas},
      {"bialas-L12", "schwinger", 12, {{"lattice.beta", 2.0}, {"lattice.kappa", 0.276}}, bialas},
      {"bialas-L16", "schwinger", 16, {{"lattice.beta", 2.0}, {"lattice.kappa", 0.276}}, bialas},
      {"ising-L16", "ising", 16, {{"lattice.beta", 0.44}, {"lattice.J", 1.0}}, ising},
      {"ising-L32", "ising", 32, {{"lattice.beta", 0.44}, {"lattice.J", 1.0}}, ising},
      {"ising-L64", "ising", 64, {{"lattice.beta", 0.44}, {"lattice.J", 1.0}}, ising},
      {"ising-L128", "ising", 128, {{"lattice.beta", 0.44}, {"lattice.J", 1.0}}, ising},
      {"ising-L4", "ising", 4, {{"lattice.beta", 0.44}, {"lattice.J", 1.0}}, ising + " (L = 4 can be enumerated)"},
  };
  return all;
}

const Preset& preset(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& p : presets()) {
    if (p.name == name) return p;
    names.push_back(p.name);
  }
  throw UserError("unknown preset '" + name + "'" + text::did_you_mean(name, names) + "; known: " +
                  text::quoted_list(names));
}

}  // namespace latflow
