#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "core/config.hpp"
#include "core/error.hpp"
#include "lattice/phi4_action.hpp"
#include "lattice/registry.hpp"

using namespace latflow;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

// sum_mu phi(x) phi(x+mu), written with index shifts independently of the library's use of roll.
torch::Tensor hopping_term(const torch::Tensor& phi) {
  return phi * torch::roll(phi, {-1}, {1}) + phi * torch::roll(phi, {-1}, {2});
}

// Each convention's action exactly as the papers write it.
torch::Tensor hopping_action(const torch::Tensor& phi, double kappa, double lt) {
  return (-2 * kappa * hopping_term(phi) + (1 - 2 * lt) * phi.pow(2) + lt * phi.pow(4)).sum({1, 2});
}
torch::Tensor beta_action(const torch::Tensor& phi, double beta, double lb) {
  return (-beta * hopping_term(phi) + (1 - 2 * lb) * phi.pow(2) + lb * phi.pow(4)).sum({1, 2});
}
torch::Tensor continuum_action(const torch::Tensor& chi, double mu0_sq, double lambda0) {
  const auto d0 = torch::roll(chi, {-1}, {1}) - chi, d1 = torch::roll(chi, {-1}, {2}) - chi;
  return (0.5 * (d0.pow(2) + d1.pow(2)) + 0.5 * mu0_sq * chi.pow(2) + lambda0 / 4 * chi.pow(4)).sum({1, 2});
}

// S by an explicit loop over sites with modular neighbours: the definition, with nothing vectorised.
double action_by_loops(const torch::Tensor& phi, double m2, double lambda) {
  const auto T = phi.size(0), L = phi.size(1);
  auto a = phi.accessor<double, 2>();
  double s = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t l = 0; l < L; ++l) {
      const double x = a[t][l], up = a[(t + 1) % T][l], right = a[t][(l + 1) % L];
      s += (up - x) * (up - x) + (right - x) * (right - x) + m2 * x * x + lambda * x * x * x * x;
    }
  return s;
}

void check_close(const torch::Tensor& a, const torch::Tensor& b, double rel) {
  const double scale = 1 + b.abs().max().item<double>();
  CHECK((a - b).abs().max().item<double>() <= rel * scale);
}

}  // namespace

TEST_CASE("phi4 action equals the site-by-site definition, including L = 2 and T != L", "[lattice][phi4]") {
  torch::manual_seed(1);
  const auto action = Phi4Action::from_canonical(-1.3, 0.7);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 5}, {2, 3}, {2, 2}}) {
    const auto phi = torch::randn({3, T, L}, f64);
    const auto s = action.action(phi);
    REQUIRE(s.sizes() == torch::IntArrayRef{3});
    for (int64_t b = 0; b < 3; ++b) CHECK(s[b].item<double>() == Approx(action_by_loops(phi[b], -1.3, 0.7)));
  }
}

TEST_CASE("phi4 action of a constant field, by hand", "[lattice][phi4]") {
  // Constant phi = c: no gradient term, S = V (m2 c^2 + lambda c^4).
  const auto action = Phi4Action::from_canonical(-4, 6.975);
  const auto c = torch::tensor({0.0, 0.5, -1.25}, f64);
  const auto phi = c.view({3, 1, 1}).expand({3, 3, 5}).contiguous();
  for (int b = 0; b < 3; ++b) {
    const double x = c[b].item<double>();
    CHECK(action.action(phi)[b].item<double>() == Approx(15 * (-4 * x * x + 6.975 * x * x * x * x)).margin(1e-12));
  }
}

TEST_CASE("phi4 action conventions map exactly onto the canonical one", "[lattice][phi4][conventions]") {
  torch::manual_seed(2);
  const auto phi = torch::randn({4, 3, 5}, f64);
  SECTION("hopping") {
    for (HoppingCouplings c : {HoppingCouplings{0.27, 0.02}, {0.1, 1.3}, {0.2, 0.0}}) {
      const auto a = Phi4Action::from_hopping(c);
      check_close(a.action(phi * c.field_scale()), hopping_action(phi, c.kappa, c.lambda_tilde), 1e-12);
      const auto back = a.to_hopping();
      CHECK(back.kappa == Approx(c.kappa).epsilon(1e-12));
      CHECK(back.lambda_tilde == Approx(c.lambda_tilde).epsilon(1e-12).margin(1e-15));
    }
  }
  SECTION("beta") {
    for (BetaCouplings c : {BetaCouplings{0.537, 0.5}, {1.7, 0.03}, {0.2, 0.0}}) {
      const auto a = Phi4Action::from_beta(c);
      check_close(a.action(phi * c.field_scale()), beta_action(phi, c.beta, c.lambda_beta), 1e-12);
      const auto back = a.to_beta();
      CHECK(back.beta == Approx(c.beta).epsilon(1e-12));
      CHECK(back.lambda_beta == Approx(c.lambda_beta).epsilon(1e-12).margin(1e-15));
    }
  }
  SECTION("continuum") {
    for (ContinuumCouplings c : {ContinuumCouplings{-4, 6.975}, {0.3, 0.0}}) {
      const auto a = Phi4Action::from_continuum(c);
      check_close(a.action(phi * c.field_scale()), continuum_action(phi, c.mu0_sq, c.lambda0), 1e-12);
      CHECK(a.to_continuum().mu0_sq == c.mu0_sq);
      CHECK(a.to_continuum().lambda0 == c.lambda0);
    }
  }
  SECTION("canonical -> convention -> canonical") {
    for (auto [m2, lambda] : {std::pair<double, double>{-4, 6.975}, {-4, 4.398}, {0.5, 0.0}, {-10, 0.1}}) {
      const auto a = Phi4Action::from_canonical(m2, lambda);
      for (const auto& b : {Phi4Action::from_hopping(a.to_hopping()), Phi4Action::from_beta(a.to_beta()),
                            Phi4Action::from_continuum(a.to_continuum())}) {
        CHECK(b.m2() == Approx(m2).epsilon(1e-12));
        CHECK(b.lambda() == Approx(lambda).epsilon(1e-12).margin(1e-15));
      }
    }
  }
  SECTION("Del Debbio et al. use lambda_beta = 1/2: that is m2 = -4, lambda = 2 / beta^2") {
    const auto a = Phi4Action::from_canonical(-4, 6.975);
    CHECK(a.to_beta().lambda_beta == Approx(0.5).epsilon(1e-14));
    CHECK(a.to_beta().beta == Approx(std::sqrt(2 / 6.975)).epsilon(1e-14));
    CHECK(a.to_hopping().kappa == Approx(a.to_beta().beta / 2).epsilon(1e-14));
  }
}

TEST_CASE("phi4 force equals central finite differences of the action", "[lattice][phi4][force]") {
  torch::manual_seed(3);
  const auto action = Phi4Action::from_canonical(-4, 6.975);
  const double h = 1e-5;
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 5}, {2, 3}}) {
    const auto phi = torch::randn({2, T, L}, f64);
    const auto force = action.force(phi);
    auto fd = torch::zeros_like(phi);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t l = 0; l < L; ++l) {
        auto plus = phi.clone(), minus = phi.clone();
        plus.select(1, t).select(1, l).add_(h);
        minus.select(1, t).select(1, l).sub_(h);
        fd.select(1, t).select(1, l).copy_((action.action(plus) - action.action(minus)) / (2 * h));
      }
    // Central differences err by h^2 S'''/6 ~ 1e-10 * 24 lambda |phi|: far below the tolerance.
    check_close(force, fd, 1e-6);
  }
}

TEST_CASE("phi4 force equals the autograd gradient of the action", "[lattice][phi4][force]") {
  torch::manual_seed(4);
  const auto action = Phi4Action::from_canonical(0.7, 1.1);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const auto phi = torch::randn({3, 3, 5}, torch::TensorOptions().dtype(dtype)).requires_grad_(true);
    const auto grad = torch::autograd::grad({action.action(phi).sum()}, {phi})[0];
    CHECK(action.force(phi).dtype() == dtype);
    check_close(action.force(phi.detach()), grad, dtype == torch::kFloat64 ? 1e-13 : 1e-5);
  }
}

TEST_CASE("phi4 action is invariant under translations, reflections and phi -> -phi", "[lattice][phi4]") {
  torch::manual_seed(5);
  const auto action = Phi4Action::from_canonical(-4, 5.276);
  const auto phi = torch::randn({4, 4, 6}, f64);
  const auto s = action.action(phi);
  check_close(action.action(torch::roll(phi, {1, 3}, {1, 2})), s, 1e-13);
  check_close(action.action(torch::roll(phi, {-2}, {2})), s, 1e-13);
  check_close(action.action(phi.flip({1})), s, 1e-13);
  check_close(action.action(phi.flip({2})), s, 1e-13);
  check_close(action.action(-phi), s, 1e-13);
  const auto square = torch::randn({4, 5, 5}, f64);
  check_close(action.action(square.transpose(1, 2)), action.action(square), 1e-13);
  check_close(action.force(-phi), -action.force(phi), 1e-13);
}

TEST_CASE("phi4 rejects couplings that make no theory", "[lattice][phi4]") {
  const double nan = std::nan(""), inf = INFINITY;
  CHECK_THROWS_AS(Phi4Action::from_canonical(nan, 1), UserError);
  CHECK_THROWS_AS(Phi4Action::from_canonical(-4, inf), UserError);
  CHECK_THROWS_WITH(Phi4Action::from_canonical(-4, -0.1), Catch::Contains("unbounded below"));
  CHECK_THROWS_AS(Phi4Action::from_hopping({0.0, 0.1}), UserError);
  CHECK_THROWS_AS(Phi4Action::from_hopping({-0.2, 0.1}), UserError);
  CHECK_THROWS_AS(Phi4Action::from_hopping({0.2, -0.1}), UserError);
  CHECK_THROWS_AS(Phi4Action::from_beta({-1.0, 0.5}), UserError);
  CHECK_THROWS_AS(Phi4Action::from_beta({nan, 0.5}), UserError);
  CHECK_THROWS_AS(Phi4Action::from_continuum({1.0, -1.0}), UserError);
  // lambda = 0 needs m2 > 0: exp(-S) of the constant mode is not normalisable otherwise, in every convention.
  CHECK_THROWS_WITH(Phi4Action::from_canonical(-4, 0), Catch::Contains("unbounded below"));
  CHECK_THROWS_WITH(Phi4Action::from_canonical(0, 0), Catch::Contains("unbounded below"));
  CHECK_THROWS_WITH(Phi4Action::from_hopping({0.3, 0.0}), Catch::Contains("unbounded below"));
  CHECK_NOTHROW(Phi4Action::from_canonical(1e-3, 0));
  const auto a = Phi4Action::from_canonical(-4, 1);
  CHECK_THROWS_AS(a.action(torch::zeros({4, 4}, f64)), UserError);
  CHECK_THROWS_AS(a.force(torch::zeros({1, 2, 4, 4}, f64)), UserError);
}

TEST_CASE("phi4 reports its name, couplings and configuration shape", "[lattice][phi4]") {
  const auto a = Phi4Action::from_canonical(-4, 4.572);
  CHECK(a.name() == "phi4");
  CHECK(a.couplings() == nlohmann::json{{"m2", -4.0}, {"lambda", 4.572}});
  CHECK(a.config_shape({3, 5}) == std::vector<int64_t>{3, 5});
}

TEST_CASE("the action registry builds phi4 in every convention", "[lattice][phi4][registry]") {
  Config c;
  c.set("lattice.convention", std::string("canonical"));
  c.set("lattice.m2", -4.0);
  c.set("lattice.lambda", std::int64_t{5});
  auto check = [&](const Phi4Action& expected) {
    const auto built = theory_registry().create("phi4", c);
    CHECK(built->name() == "phi4");
    CHECK(built->couplings()["m2"].get<double>() == Approx(expected.m2()).epsilon(1e-14));
    CHECK(built->couplings()["lambda"].get<double>() == Approx(expected.lambda()).epsilon(1e-14));
  };
  check(Phi4Action::from_canonical(-4, 5));
  c.set("lattice.convention", std::string("hopping"));
  c.set("lattice.kappa", 0.3);
  c.set("lattice.lambda_tilde", 0.02);
  check(Phi4Action::from_hopping({0.3, 0.02}));
  c.set("lattice.convention", std::string("beta"));
  c.set("lattice.beta", 0.537);
  c.set("lattice.lambda_beta", 0.5);
  check(Phi4Action::from_beta({0.537, 0.5}));
  c.set("lattice.convention", std::string("continuum"));
  c.set("lattice.mu0_sq", 0.25);
  c.set("lattice.lambda0", 0.1);
  check(Phi4Action::from_continuum({0.25, 0.1}));

  c.set("lattice.convention", std::string("hoping"));
  CHECK_THROWS_WITH(theory_registry().create("phi4", c), Catch::Contains("did you mean 'hopping'"));
  c.set("lattice.convention", std::string("beta"));
  c.erase("lattice.lambda_beta");
  CHECK_THROWS_AS(theory_registry().create("phi4", c), ConfigError);
  CHECK_THROWS_AS(theory_registry().create("phi3", c), UserError);
}
