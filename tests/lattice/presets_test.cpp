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
  // Gerdes et al. 2022 (xi ~ L/4), Albergo et al. 2019 E2, E3, E5, the 2021 tutorial point, and the two points
  // interpolated in 1/L between L = 14 and 20 (5.113 - (1/14 - 1/L) / (1/14 - 1/20) x 0.306).
  const Expected table[] = {{"gerdes-L6", 6, 6.975},    {"gerdes-L12", 12, 5.276},  {"gerdes-L20", 20, 4.807},
                            {"gerdes-L32", 32, 4.572},  {"gerdes-L64", 64, 4.398},  {"albergo-L8", 8, 6.008},
                            {"albergo-L10", 10, 5.550}, {"albergo-L14", 14, 5.113}, {"tutorial-L8", 8, 8.0},
                            {"lcp-L16", 16, 4.986},     {"lcp-L18", 18, 4.886}};
  std::set<std::string> names;
  for (const auto& e : table) {
    const Preset& p = preset(e.name);
    CHECK(p.name == e.name);
    CHECK(p.theory == "phi4");
    CHECK(p.L == e.L);
    CHECK(p.coupling("lattice.m2") == -4.0);
    CHECK(p.coupling("lattice.lambda") == e.lambda);
    CHECK(p.couplings.size() == 2);
    CHECK_FALSE(p.source.empty());
    names.insert(p.name);
    // Every preset is a valid theory; on the m2 = -4 line it is the Del Debbio et al. beta form with
    // lambda_beta = 1/2 and beta = sqrt(2 / lambda).
    const double lambda = p.coupling("lattice.lambda");
    const auto beta = Phi4Action::from_canonical(-4.0, lambda).to_beta();
    CHECK(beta.lambda_beta == Approx(0.5).epsilon(1e-14));
    CHECK(beta.beta == Approx(std::sqrt(2 / lambda)).epsilon(1e-14));
  }
  CHECK(names.size() == std::size(table));
}

TEST_CASE("Schwinger presets are the critical point of Bialas et al.", "[lattice][presets]") {
  for (const char* name : {"bialas-L8", "bialas-L12", "bialas-L16"}) {
    const Preset& p = preset(name);
    CHECK(p.theory == "schwinger");
    CHECK(p.coupling("lattice.beta") == 2.0);
    CHECK(p.coupling("lattice.kappa") == 0.276);
    CHECK(std::isnan(p.coupling("lattice.m2")));
  }
}

TEST_CASE("Ising presets are beta = 0.44 near beta_c, J = 1", "[lattice][presets][ising]") {
  for (auto [name, L] : {std::pair<const char*, std::int64_t>{"ising-L4", 4}, {"ising-L16", 16}, {"ising-L32", 32},
                         {"ising-L64", 64}, {"ising-L128", 128}}) {
    const Preset& p = preset(name);
    CHECK(p.theory == "ising");
    CHECK(p.L == L);
    CHECK(p.coupling("lattice.beta") == 0.44);
    CHECK(p.coupling("lattice.J") == 1.0);
    CHECK(std::abs(p.coupling("lattice.beta") - std::log(1 + std::sqrt(2.0)) / 2) < 1e-3);
  }
}

TEST_CASE("preset names are unique, and an unknown one names the known ones", "[lattice][presets]") {
  std::set<std::string> names;
  for (const auto& p : presets()) CHECK(names.insert(p.name).second);
  CHECK_THROWS_AS(preset("gerdes-L16"), UserError);
  CHECK_THROWS_WITH(preset("gerdes-l32"), Catch::Contains("did you mean 'gerdes-L32'"));
  CHECK_THROWS_WITH(preset("nonsense"), Catch::Contains("'tutorial-L8'"));
}
