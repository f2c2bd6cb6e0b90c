#include "lattice/presets.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

namespace latflow {

const std::vector<Phi4Preset>& phi4_presets() {
  static const std::string gerdes =
      "Gerdes et al. 2022, arXiv 2207.00283 (notebooks/load-parameters.ipynb): xi ~ L/4";
  static const std::string albergo =
      "Albergo, Kanwar, Shanahan 2019, arXiv 1904.12072 (via g-koutsou/phi4flow ensembles.json): xi ~ L/4";
  static const std::vector<Phi4Preset> presets = {
      {"gerdes-L6", 6, -4.0, 6.975, gerdes},
      {"gerdes-L12", 12, -4.0, 5.276, gerdes},
      {"gerdes-L20", 20, -4.0, 4.807, gerdes},
      {"gerdes-L32", 32, -4.0, 4.572, gerdes},
      {"gerdes-L64", 64, -4.0, 4.398, gerdes},
      {"albergo-L8", 8, -4.0, 6.008, albergo + " ensemble E2"},
      {"albergo-L10", 10, -4.0, 5.550, albergo + " ensemble E3"},
      {"albergo-L14", 14, -4.0, 5.113, albergo + " ensemble E5"},
      {"tutorial-L8", 8, -4.0, 8.0, "Albergo et al. 2021 tutorial, arXiv 2101.08176 (symmetric phase)"},
  };
  return presets;
}

const Phi4Preset& phi4_preset(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& p : phi4_presets()) {
    if (p.name == name) return p;
    names.push_back(p.name);
  }
  throw UserError("unknown phi4 preset '" + name + "'" + text::did_you_mean(name, names) +
                  "; known: " + text::quoted_list(names));
}

}  // namespace latflow
