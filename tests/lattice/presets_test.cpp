#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "core/error.hpp"
#include "lattice/phi4_action.hpp"
#include "lattice/presets.hpp"

using namespace latflow;

TEST_CASE("phi4 presets carry the published near-critical points", "[lattice][presets]") {
  struct Expected {
    const char* name;
    std::int64_t L;
    double lambda;
  };
  // Gerdes et al. 2022 (xi ~ L/4), Albergo et al. 2019 E2, E3, E5, and the 2021 tutorial point.
  const Expected table[] = {{"gerdes-L6", 6, 6.975},    {"gerdes-L12", 12, 5.276},  {"gerdes-L20", 20, 4.807},
                            {"gerdes-L32", 32, 4.572},  {"gerdes-L64", 64, 4.398},  {"albergo-L8", 8, 6.008},
                            {"albergo-L10", 10, 5.550}, {"albergo-L14", 14, 5.113}, {"tutorial-L8", 8, 8.0}};
  REQUIRE(phi4_presets().size() == std::size(table));
  std::set<std::string> names;
  for (const auto& e : table) {
    const Phi4Preset& p = phi4_preset(e.name);
    CHECK(p.name == e.name);
    CHECK(p.L == e.L);
    CHECK(p.m2 == -4.0);
    CHECK(p.lambda == e.lambda);
    CHECK_FALSE(p.source.empty());
    names.insert(p.name);
    // Every preset is a valid theory; on the m2 = -4 line it is the Del Debbio et al. beta form with
    // lambda_beta = 1/2 and beta = sqrt(2 / lambda).
    const auto beta = Phi4Action::from_canonical(p.m2, p.lambda).to_beta();
    CHECK(beta.lambda_beta == Approx(0.5).epsilon(1e-14));
    CHECK(beta.beta == Approx(std::sqrt(2 / p.lambda)).epsilon(1e-14));
  }
  CHECK(names.size() == std::size(table));
}

TEST_CASE("an unknown phi4 preset names the known ones", "[lattice][presets]") {
  CHECK_THROWS_AS(phi4_preset("gerdes-L16"), UserError);
  CHECK_THROWS_WITH(phi4_preset("gerdes-l32"), Catch::Contains("did you mean 'gerdes-L32'"));
  CHECK_THROWS_WITH(phi4_preset("nonsense"), Catch::Contains("'tutorial-L8'"));
}
