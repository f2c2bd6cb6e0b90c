#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "experiments/runcard.hpp"
#include "lattice/ising_action.hpp"
#include "lattice/ising_exact.hpp"
#include "lattice/registry.hpp"
#include "lattice_testing.hpp"

using namespace latflow;
using latflow::testing::f64;

namespace {

// H = -J sum_x s(x) [s(x + 0) + s(x + 1)] by an explicit loop over sites with modular neighbours.
double energy_by_loops(const torch::Tensor& s, double J) {
  const auto T = s.size(0), L = s.size(1);
  auto a = s.accessor<double, 2>();
  double h = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t x = 0; x < L; ++x) h -= J * a[t][x] * (a[(t + 1) % T][x] + a[t][(x + 1) % L]);
  return h;
}

torch::Tensor random_spins(std::vector<int64_t> shape) { return torch::randint(0, 2, shape, f64) * 2 - 1; }

double value(const nlohmann::json& j) { return j.at("value").get<double>(); }

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

TEST_CASE("Ising action is beta H of the site-by-site definition, including L = 2 and T != L", "[ising]") {
  torch::manual_seed(1);
  const auto action = IsingAction::from_beta(0.37, -1.3);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 5}, {2, 3}, {2, 2}}) {
    const auto s = random_spins({5, T, L});
    const auto S = action.action(s);
    REQUIRE(S.sizes() == torch::IntArrayRef{5});
    for (int64_t b = 0; b < 5; ++b)
      CHECK(S[b].item<double>() == Approx(0.37 * energy_by_loops(s[b], -1.3)).epsilon(1e-15).margin(1e-15));
  }
  // All spins up: H = -2 J N; the dtype of s is kept.
  const auto up = torch::ones({1, 3, 5}, torch::kFloat32);
  CHECK(action.action(up).dtype() == torch::kFloat32);
  CHECK(action.action(up).item<double>() == Approx(0.37 * 1.3 * 2 * 15).epsilon(1e-6));
}

TEST_CASE("Ising observables of the enumerated ensemble reweighted by exp(-S) are the exact averages", "[ising]") {
  // Every configuration once with log w = -S: the reweighted means are the Boltzmann averages, compared with
  // Kaufman's solution (energy, specific heat) and with weighted sums computed here (the rest).
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 4}})
    for (double beta : {0.3, ising::exact::kCriticalCoupling, 0.7}) {
      INFO(T << "x" << L << ", beta " << beta);
      const auto action = IsingAction::from_beta(beta, 1.0);
      const auto s = testing::all_spin_configurations(T, L);
      const auto log_w = -action.action(s);
      const auto j = action.measure(s, to_vector(log_w), 16);
      const auto t = ising::exact::thermodynamics(beta, 1.0, L, T);
      CHECK(value(j["energy"]) == Approx(t.energy).epsilon(1e-12));
      CHECK(value(j["specific_heat"]) == Approx(t.specific_heat).epsilon(1e-10));

      const auto w = torch::softmax(log_w, 0);
      const auto m = s.mean({1, 2});
      const double N = static_cast<double>(T * L);
      const double abs_m = (w * m.abs()).sum().item<double>(), m2 = (w * m * m).sum().item<double>(),
                   m4 = (w * m.pow(4)).sum().item<double>();
      // Means over 2^16 terms round to ~1e-14; chi cancels <m^2> - <|m|>^2 to 2e-3 of <m^2> at beta = 0.7.
      CHECK(std::abs(value(j["magnetization"])) < 1e-13);
      CHECK(value(j["abs_magnetization"]) == Approx(abs_m).epsilon(1e-12));
      CHECK(value(j["susceptibility"]) == Approx(beta * N * (m2 - abs_m * abs_m)).epsilon(1e-9));
      CHECK(value(j["binder"]) == Approx(1 - m4 / (3 * m2 * m2)).epsilon(1e-12));
      for (const auto& key : action.compared_observables()) CHECK(j[key]["error"].get<double>() >= 0);
    }
}

TEST_CASE("Ising observables of ordered and of unmagnetised ensembles", "[ising]") {
  const auto action = IsingAction::from_beta(0.5, 2.0);
  // All up and all down, twice: m = +-1 with no fluctuation of |m| or e.
  const auto up = torch::ones({1, 4, 4}, f64);
  const auto j = action.measure(torch::cat({up, -up, up, -up}), {}, 2);
  CHECK(value(j["energy"]) == -4.0);
  CHECK(value(j["magnetization"]) == 0.0);
  CHECK(value(j["abs_magnetization"]) == 1.0);
  CHECK(value(j["susceptibility"]) == 0.0);
  CHECK(value(j["binder"]) == Approx(2.0 / 3));
  CHECK(value(j["specific_heat"]) == 0.0);
  // Stripes have m = 0: the Binder cumulant is undefined (null), the rest is not.
  const auto stripes = (torch::arange(4, f64).remainder(2) * 2 - 1).expand({4, 4}).unsqueeze(0);
  const auto unmagnetised = action.measure(torch::cat({stripes, -stripes, stripes.transpose(1, 2)}), {}, 3);
  CHECK(unmagnetised["binder"].is_null());
  CHECK(value(unmagnetised["abs_magnetization"]) == 0.0);
  CHECK(std::isfinite(value(unmagnetised["energy"])));
}

TEST_CASE("Ising exact values are Kaufman's, and none for the frustrated antiferromagnet", "[ising]") {
  const auto a = IsingAction::from_beta(0.44);
  const auto j = a.exact({8, 6});
  const auto t = ising::exact::thermodynamics(0.44, 1.0, 6, 8);
  CHECK(j == nlohmann::json{{"energy", t.energy}, {"specific_heat", t.specific_heat},
                            {"free_energy", t.free_energy}, {"log_z", t.log_z}});
  for (const auto& key : {"energy", "specific_heat"}) CHECK(a.measure(random_spins({4, 8, 6}), {}, 2).contains(key));
  CHECK(IsingAction::from_beta(0.44, -1.0).exact({4, 4})["energy"].get<double>() ==
        a.exact({4, 4})["energy"].get<double>());
  CHECK(IsingAction::from_beta(0.44, -1.0).exact({4, 3}).empty());
  CHECK(IsingAction::from_beta(51.0).exact({4, 4}).empty());
}

TEST_CASE("Ising action reports its name, couplings and shape, and rejects what makes no model", "[ising]") {
  const auto a = IsingAction::from_beta(0.44, 1.5);
  CHECK(a.name() == "ising");
  CHECK(a.beta() == 0.44);
  CHECK(a.J() == 1.5);
  CHECK(a.couplings() == nlohmann::json{{"beta", 0.44}, {"J", 1.5}});
  CHECK(a.config_shape({3, 5}) == std::vector<int64_t>{3, 5});
  CHECK(a.field_name() == "s");
  const auto chain = a.chain_observables(torch::ones({2, 4, 4}, torch::kFloat32));
  REQUIRE(chain.size() == 2);
  CHECK(chain[0].first == "abs_magnetization");
  CHECK(chain[1].first == "energy");
  CHECK(chain[1].second.dtype() == torch::kFloat64);
  CHECK(chain[1].second[0].item<double>() == -3.0);

  CHECK_THROWS_WITH(a.force(torch::ones({1, 4, 4})), Catch::Contains("no force") && Catch::Contains("Wolff") &&
                                                         Catch::Contains("Metropolis") && !Catch::Contains("\n"));
  CHECK_THROWS_AS(a.force(torch::ones({1, 4, 4})), UserError);
  CHECK_THROWS_WITH(IsingAction::from_beta(0.0), Catch::Contains("beta = 0") && Catch::Contains("> 0") &&
                                                     !Catch::Contains("\n"));
  for (double beta : {-0.5, std::nan(""), double(INFINITY)}) CHECK_THROWS_AS(IsingAction::from_beta(beta), UserError);
  CHECK_THROWS_WITH(IsingAction::from_beta(0.4, 0.0), Catch::Contains("J = 0"));
  CHECK_THROWS_AS(IsingAction::from_beta(0.4, std::nan("")), UserError);
  CHECK_THROWS_AS(a.action(torch::ones({4, 4})), UserError);
  CHECK_THROWS_WITH(a.measure(torch::full({2, 4, 4}, 0.5, f64), {}, 2), Catch::Contains("+1 or -1"));
  CHECK_THROWS_AS(a.measure(torch::ones({2, 4, 4}, f64), {0.0}, 2), UserError);
}

TEST_CASE("a run card with lattice.theory = ising builds the Ising action", "[ising][registry]") {
  const auto card = parse_runcard("[lattice]\ntheory = \"ising\"\nbeta = 0.44\nL = 16\n", "card.toml");
  const ActionPtr action = theory_registry().create("ising", card.config);
  CHECK(action->name() == "ising");
  CHECK(action->couplings() == nlohmann::json{{"beta", 0.44}, {"J", 1.0}});
  CHECK_FALSE(card.config.has("lattice.m2"));
  const auto preset = parse_runcard("[lattice]\npreset = \"ising-L32\"\nJ = -0.5\n", "");
  CHECK(preset.config.get<std::int64_t>("lattice.L") == 32);
  CHECK(theory_registry().create("ising", preset.config)->couplings() == nlohmann::json{{"beta", 0.44}, {"J", -0.5}});

  const auto error_of = [](const std::string& toml) -> std::string {
    try {
      parse_runcard(toml, "card.toml");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  CHECK_THAT(error_of("[lattice]\ntheory = \"ising\"\n"),
             Catch::Contains("'lattice.beta' is required with lattice.theory") &&
                 Catch::Contains("(this card has \"ising\")"));
  CHECK_THAT(error_of("[lattice]\nJ = 1.0\n"), Catch::Contains("'lattice.J' is used only with lattice.theory"));
  CHECK_THAT(error_of("[lattice]\ntheory = \"ising\"\nbeta = 0.44\nm2 = 1.0\n"), Catch::Contains("'lattice.m2'"));
  // beta = 0 is a valid gauge coupling in the schema; the Ising action refuses it in one line.
  const auto zero = parse_runcard("[lattice]\ntheory = \"ising\"\nbeta = 0.0\n", "");
  CHECK_THROWS_WITH(theory_registry().create("ising", zero.config), Catch::Contains("ising: beta = 0"));
}
