// `latflow integrate` as a user runs it: the JSON names scripts rely on (the last object printed: integral,
// error, exact, n_evaluations, variance_ratio.uniform and .vegas), the run directory, the shipped card, and bad
// input as one-line errors with exit status 2 (d < 1, a width <= 0, zero evaluations, a lattice card, an
// integrand that is zero on the whole first survey).
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "experiments/runcard.hpp"
#include "run_cli.hpp"

namespace fs = std::filesystem;
using latflow::testing::CliResult;

namespace {

CliResult cli(std::vector<std::string> args) { return latflow::testing::run_cli(std::move(args)); }

fs::path scratch(const std::string& name) { return latflow::testing::scratch_dir("latflow-integrate", name); }

const char* kTinyCard =
    "[integrand]\nname = \"gaussian\"\nd = 2\nwidth = 0.2\n"
    "[nis]\nbins = 6\nhidden_width = 8\nhidden_layers = 1\nrepetitions = 1\nsurvey_iterations = 3\n"
    "survey_points = 2000\nepochs = 2\nminibatch = 1000\nrefine_iterations = 2\nrefine_points = 2000\n";

}  // namespace

TEST_CASE("integrate: --json prints the integral, its error, the exact value and the variance ratios",
          "[experiments][integration]") {
  const fs::path dir = scratch("json");
  const std::string card = latflow::testing::write_text(dir / "g.toml", kTinyCard);
  const CliResult r = cli({"integrate", card, "--json", "--out", (dir / "run").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string last = r.out.substr(r.out.rfind('{'));
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  CHECK(!last.empty());
  for (const char* key : {"integral", "error", "exact", "n_evaluations"}) CHECK(j[key].is_number());
  CHECK(j["n_evaluations"] == 4000);
  CHECK(j["variance_ratio"]["uniform"].is_number());
  CHECK(j["variance_ratio"]["vegas"].is_number());
  CHECK(std::abs(j["integral"].get<double>() - j["exact"].get<double>()) < 4 * j["error"].get<double>());
  CHECK(j["seconds"]["train"].is_number());
  for (const char* f : {"results.json", "runcard.toml", "checkpoint.pt", "metrics.jsonl", "run.log"})
    CHECK(fs::exists(dir / "run" / f));
  // A second run into the same directory is refused unless --force.
  const CliResult again = cli({"integrate", card, "--out", (dir / "run").string()});
  CHECK(again.code == 2);
  CHECK(cli({"integrate", card, "--out", (dir / "run").string(), "--force", "--set", "vegas.enabled=false"}).code == 0);
  const auto j2 = nlohmann::json::parse(std::ifstream(dir / "run" / "results.json"));
  CHECK(j2["variance_ratio"]["vegas"].is_null());
  // Without --json: a readable summary naming the baselines.
  const CliResult human = cli({"integrate", card, "--out", (dir / "human").string()});
  CHECK(human.code == 0);
  CHECK_THAT(human.out, Catch::Contains("plain Monte Carlo") && Catch::Contains("VEGAS (GSL)") && Catch::Contains("pull"));
}

TEST_CASE("integrate: bad input is a one-line error with exit status 2", "[experiments][integration]") {
  const fs::path dir = scratch("bad");
  const std::string card = latflow::testing::write_text(dir / "g.toml", kTinyCard);
  const auto check = [&](std::vector<std::string> sets, const std::string& expected) {
    std::vector<std::string> args = {"integrate", card, "--out", (dir / "run").string(), "--force", "--set"};
    args.insert(args.end(), sets.begin(), sets.end());
    latflow::testing::check_user_error(cli(args), expected);
  };
  check({"integrand.d=0"}, "integrand.d");
  check({"integrand.width=0"}, "integrand.width");
  check({"integrand.width=-0.5"}, "allowed: a number > 0");
  check({"integrand.width=nan"}, "integrand.width");
  check({"nis.refine_points=0"}, "nis.refine_points");
  check({"nis.survey_points=0"}, "nis.survey_points");
  check({"integrand.radius=0.3"}, "used only with");
  check({"nis.survey=backward"}, "nis.survey");
  check({"lattice.L=8"}, "unknown section [lattice] (a section of lattice run cards");
  // A Gaussian far narrower than the spacing of the first survey's points: zero wherever it is sampled.
  check({"integrand.width=1e-300", "nis.survey_points=10"}, "zero at all 10 points");
  // A lattice command on an integration card says which command reads it.
  const CliResult train = cli({"train", card});
  CHECK(train.code == 2);
  CHECK_THAT(train.err, Catch::Contains("read by `latflow integrate`"));
}

TEST_CASE("integrate: the shipped card and config show and check", "[experiments][integration]") {
  const std::string card = std::string(LATFLOW_SOURCE_DIR) + "/experiments/runcards/nis-camel.toml";
  const CliResult show = cli({"config", "show", card});
  CHECK(show.code == 0);
  CHECK_THAT(show.out, Catch::Contains("[integrand]") && Catch::Contains("[nis]") && Catch::Contains("[vegas]"));
  const CliResult check = cli({"config", "check", card});
  INFO(check.err);
  CHECK(check.code == 0);
  CHECK_THAT(check.out, Catch::Contains("camel on [0, 1]^4"));
  // The recorded card of a run reads back as an integration card.
  const auto parsed = latflow::load_runcard(card, {}, latflow::integration_cards());
  CHECK((latflow::parse_runcard(parsed.to_toml(), "", {}, latflow::integration_cards()).config.values() == parsed.config.values()));
}
