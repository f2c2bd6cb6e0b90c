#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "experiments/runcard.hpp"

using namespace latflow;

namespace {
/// The message of the ConfigError that parsing `toml` (with `sets`) throws; fails if none is thrown.
std::string error_of(const std::string& toml, const std::vector<std::string>& sets = {}) {
  try {
    parse_runcard(toml, "card.toml", sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("no ConfigError for: " << toml);
  return "";
}
}  // namespace

TEST_CASE("defaults fill an empty card and every schema key has a doc", "[experiments][runcard]") {
  const RunCard card = parse_runcard("", "");
  CHECK(card.config.get<std::int64_t>("lattice.L") == 8);
  CHECK(card.config.get<std::string>("model.type") == "operator_cnf");
  CHECK_FALSE(card.config.has("lattice.kappa"));  // belongs to the hopping convention
  for (const auto& s : runcard_schema()) CHECK_FALSE(s.doc.empty());
}

TEST_CASE("card values and --set overrides resolve in order", "[experiments][runcard]") {
  const RunCard card = parse_runcard("[lattice]\nL = 12\nlambda = 5\n[train]\nlr = 1e-3\n", "c.toml",
                                     {"lattice.L=16", "train.estimator=reinforce", "eval.hmc=false"});
  CHECK(card.config.get<std::int64_t>("lattice.L") == 16);
  CHECK(card.config.get<double>("lattice.lambda") == 5.0);  // integer accepted for a number
  CHECK(card.config.get<double>("train.lr") == 1e-3);
  CHECK(card.config.get<std::string>("train.estimator") == "reinforce");
  CHECK_FALSE(card.config.get<bool>("eval.hmc"));
  CHECK(card.explicit_keys.count("lattice.L") == 1);
}

TEST_CASE("a preset fills L, m2 and lambda unless they are given", "[experiments][runcard]") {
  const RunCard a = parse_runcard("[lattice]\npreset = \"gerdes-L12\"\n", "");
  CHECK(a.config.get<std::int64_t>("lattice.L") == 12);
  CHECK(a.config.get<double>("lattice.lambda") == Approx(5.276));
  const RunCard b = parse_runcard("[lattice]\npreset = \"gerdes-L12\"\nL = 16\n", "");
  CHECK(b.config.get<std::int64_t>("lattice.L") == 16);
  CHECK_THAT(error_of("[lattice]\npreset = \"gerdes-L13\"\n"), Catch::Contains("did you mean 'gerdes-L12'"));
}

TEST_CASE("model.prior_m0L sets the free base's mass from L", "[experiments][runcard]") {
  const std::string card = "[lattice]\npreset = \"albergo-L8\"\n[model]\ntype = \"coupling\"\nprior_m0L = 4\n";
  const RunCard a = parse_runcard(card, "");
  CHECK(a.config.get<double>("model.prior_m2") == Approx(0.25));
  CHECK(parse_runcard(card, "", {"lattice.L=16"}).config.get<double>("model.prior_m2") == Approx(1.0 / 16));
  // It wins over a given mass, so that a recorded card (which holds both) moves its base with the lattice.
  CHECK(parse_runcard(card, "", {"model.prior_m2=3"}).config.get<double>("model.prior_m2") == Approx(0.25));
  CHECK(parse_runcard(a.to_toml(), "", {"lattice.L=12"}).config.get<double>("model.prior_m2") == Approx(1.0 / 9));
  CHECK(parse_runcard(card, "", {"model.prior_m0L=0", "model.prior_m2=3"}).config.get<double>("model.prior_m2") == 3.0);
  CHECK_THAT(error_of(card, {"model.prior=normal"}), Catch::Contains("'model.prior_m0L' is used only with model.prior = \"free\""));
  CHECK_THAT(error_of(card, {"model.prior_m0L=-1"}), Catch::Contains("allowed: a number >= 0"));
}

TEST_CASE("unknown sections and keys name the closest valid one", "[experiments][runcard]") {
  CHECK_THAT(error_of("[lattice]\nlamda = 5\n"), Catch::Contains("unknown key 'lattice.lamda'") &&
                                                     Catch::Contains("did you mean 'lattice.lambda'"));
  CHECK_THAT(error_of("[lattise]\nL = 5\n"), Catch::Contains("unknown section [lattise]") &&
                                                 Catch::Contains("did you mean 'lattice'"));
  CHECK_THAT(error_of("L = 5\n"), Catch::Contains("'L'"));
  CHECK_THAT(error_of("", {"train.stpes=3"}), Catch::Contains("did you mean 'train.steps'"));
  CHECK_THAT(error_of("", {"train.steps"}), Catch::Contains("section.key=value"));
}

TEST_CASE("wrong types are rejected with both types named", "[experiments][runcard]") {
  CHECK_THAT(error_of("[lattice]\nL = \"eight\"\n"),
             Catch::Contains("'lattice.L' must be an integer, got a string ('eight')"));
  CHECK_THAT(error_of("[lattice]\nL = 8.5\n"), Catch::Contains("non-integer"));
  CHECK_THAT(error_of("[eval]\nhmc = 1\n"), Catch::Contains("boolean"));
  CHECK_THAT(error_of("", {"lattice.L=8x"}), Catch::Contains("expected an integer"));
  CHECK_THAT(error_of("", {"train.lr=fast"}), Catch::Contains("expected a number"));
  CHECK_THAT(error_of("[lattice\nL = 8\n"), Catch::Contains("TOML syntax error at line 1"));
}

TEST_CASE("out-of-range values say what is allowed", "[experiments][runcard]") {
  CHECK_THAT(error_of("[lattice]\nL = 1\n"), Catch::Contains("'lattice.L' = 1 is out of range; allowed: an integer in [2, 4096]"));
  CHECK_THAT(error_of("[lattice]\nT = 1\n"), Catch::Contains("'lattice.T' = 1"));
  CHECK_THAT(error_of("[train]\nbatch = 0\n"), Catch::Contains("'train.batch' = 0 is out of range"));
  CHECK_THAT(error_of("[train]\nsteps = -5\n"), Catch::Contains("'train.steps' = -5 is out of range; allowed: an integer in [0, 1000000000]"));
  CHECK_THAT(error_of("[solver]\nsteps = 0\n"), Catch::Contains("'solver.steps' = 0"));
  CHECK_THAT(error_of("[train]\nlr = 0.0\n"), Catch::Contains("allowed: a number in (0.0, 10.0]"));
  CHECK_THAT(error_of("[lattice]\nlambda = -1.0\n"), Catch::Contains("'lattice.lambda'"));
  CHECK_THAT(error_of("[lattice]\nm2 = nan\n"), Catch::Contains("not a finite number"));
}

TEST_CASE("unknown names list the registered ones", "[experiments][runcard]") {
  CHECK_THAT(error_of("[model]\ntype = \"realnvp\"\n"), Catch::Contains("'model.type' = \"realnvp\" is not allowed") &&
                                                            Catch::Contains("operator_cnf"));
  CHECK_THAT(error_of("[solver]\nmethod = \"rk5\"\n"), Catch::Contains("did you mean 'rk4'"));
  CHECK_THAT(error_of("[lattice]\ntheory = \"phi3\"\n"), Catch::Contains("did you mean 'phi4'"));
  CHECK_THAT(error_of("[train]\nestimator = \"reinforc\"\n"), Catch::Contains("did you mean 'reinforce'"));
  CHECK_THAT(error_of("[model]\noperator = \"spectal\"\n"), Catch::Contains("did you mean 'spectral'"));
}

TEST_CASE("conventions own their couplings", "[experiments][runcard]") {
  const RunCard hop = parse_runcard("[lattice]\nconvention = \"hopping\"\nkappa = 0.2\nlambda_tilde = 0.02\n", "");
  CHECK(hop.config.get<double>("lattice.kappa") == 0.2);
  CHECK_FALSE(hop.config.has("lattice.m2"));
  CHECK_THAT(error_of("[lattice]\nconvention = \"hopping\"\nkappa = 0.2\n"),
             Catch::Contains("'lattice.lambda_tilde' is required"));
  CHECK_THAT(error_of("[lattice]\nconvention = \"hopping\"\nkappa = 0.2\nlambda_tilde = 0.1\nm2 = -4.0\n"),
             Catch::Contains("'lattice.m2' is used only with lattice.convention = \"canonical\""));
  CHECK_THAT(error_of("[lattice]\nkappa = 0.2\n"), Catch::Contains("used only with lattice.convention = \"hopping\""));
  CHECK_THAT(error_of("[lattice]\nconvention = \"hopping\"\nkappa = 0.0\nlambda_tilde = 0.1\n"),
             Catch::Contains("'lattice.kappa' = 0.0 is out of range; allowed: a number > 0.0"));
}

TEST_CASE("the resolved card round-trips through its own TOML", "[experiments][runcard]") {
  const RunCard a = parse_runcard("[lattice]\npreset = \"albergo-L10\"\n[train]\nlr = 0.003\n", "", {"solver.steps=7"});
  const RunCard b = parse_runcard(a.to_toml(), "");
  CHECK((a.config.values() == b.config.values()));
  CHECK_THAT(a.to_toml(), Catch::Contains("[solver]") && Catch::Contains("steps = 7") &&
                              Catch::Contains("# fixed steps"));
}
