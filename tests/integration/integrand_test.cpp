// The integrands of integration/registry.cpp, all of them: one value per point, finite and >= 0; exact integrals
// against a midpoint quadrature in d = 1 (deterministic, to 1e-9) and against plain Monte Carlo in d = 3; the
// slashed circle's d = 2 reference quadrature (used by the integrator tests); bad options as UserErrors.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "integration/registry.hpp"
#include "integration_testing.hpp"

using namespace latflow;

TEST_CASE("integrands: every registered one returns finite values >= 0, one per point", "[integration]") {
  torch::manual_seed(3);
  for (const auto& e : integrand_registry().entries())
    for (const std::int64_t d : {1, 2, 5}) {
      INFO(e.name << " d=" << d);
      const IntegrandPtr f = e.build(IntegrandOptions().dimension(d));
      CHECK(f->dimension() == d);
      CHECK(f->name() == e.name);
      // Interior points and points on the faces and corners.
      const at::Tensor x = torch::cat({torch::rand({1000, d}, torch::kDouble),
                                       torch::randint(0, 2, {64, d}, torch::kDouble)});
      const at::Tensor y = evaluate_checked(*f, x);
      CHECK(y.sizes() == at::IntArrayRef{x.size(0)});
      CHECK(torch::isfinite(y).all().item<bool>());
      CHECK((y >= 0).all().item<bool>());
      CHECK((y > 0).any().item<bool>());
      const at::Tensor y32 = (*f)(x.to(torch::kFloat));
      CHECK(y32.scalar_type() == torch::kFloat);
    }
}

TEST_CASE("integrands: the exact integrals agree with a midpoint quadrature in d = 1", "[integration]") {
  // 2e6 midpoints: the error h^2 f'' / 24 is below 1e-11 for these widths and frequencies.
  const std::int64_t n = 2000000;
  const at::Tensor x = ((torch::arange(n, torch::kDouble) + 0.5) / n).unsqueeze(1);
  for (const auto& e : integrand_registry().entries()) {
    for (const IntegrandOptions& o : {IntegrandOptions().dimension(1), IntegrandOptions().dimension(1).width(0.03).frequency(-3.7).offset(0)}) {
      const IntegrandPtr f = e.build(o);
      if (!f->exact()) continue;
      INFO(e.name << " width " << o.width() << " frequency " << o.frequency());
      const double quadrature = (*f)(x).mean().item<double>();
      CHECK(*f->exact() == Approx(quadrature).epsilon(1e-9));
    }
  }
}

TEST_CASE("integrands: the exact integrals agree with plain Monte Carlo in d = 3", "[integration]") {
  torch::manual_seed(11);
  for (const auto& e : integrand_registry().entries()) {
    const IntegrandPtr f = e.build(IntegrandOptions().dimension(3).width(0.3).frequency(2.5));
    if (!f->exact()) continue;
    const at::Tensor y = (*f)(torch::rand({2000000, 3}, torch::kDouble));
    const double mean = y.mean().item<double>(), error = std::sqrt(y.var().item<double>() / y.numel());
    INFO(e.name << ": Monte Carlo " << mean << " +- " << error << ", exact " << *f->exact());
    CHECK(std::abs(mean - *f->exact()) < 4 * error);
  }
}

TEST_CASE("integrands: the slashed circle's d = 2 quadrature converges", "[integration]") {
  const IntegrandPtr f = integrand_registry().create("slashed_circle", IntegrandOptions().dimension(2));
  const double coarse = testing::quadrature_2d(*f, 1000), fine = testing::quadrature_2d(*f, 2000);
  CHECK(std::abs(coarse - fine) < 1e-6);
  CHECK(fine > 0.1);
  CHECK(fine < 0.5);
}

TEST_CASE("integrands: bad options are UserErrors saying what is allowed", "[integration]") {
  const auto& r = integrand_registry();
  CHECK_THROWS_WITH(r.create("camel", IntegrandOptions().dimension(0)), Catch::Contains("dimension must be an integer >= 1"));
  CHECK_THROWS_WITH(r.create("gaussian", IntegrandOptions().width(0)), Catch::Contains("width must be > 0"));
  CHECK_THROWS_WITH(r.create("camel", IntegrandOptions().width(-1)), Catch::Contains("width must be > 0"));
  CHECK_THROWS_WITH(r.create("slashed_circle", IntegrandOptions().radius(0)), Catch::Contains("radius must be > 0"));
  CHECK_THROWS_WITH(r.create("sinusoid", IntegrandOptions().offset(-0.1)), Catch::Contains("offset must be >= 0"));
  CHECK_THROWS_WITH(r.create("sinusoid", IntegrandOptions().frequency(0)), Catch::Contains("frequency must be"));
  CHECK_THROWS_WITH(r.create("camle", IntegrandOptions()), Catch::Contains("did you mean 'camel'"));
}

TEST_CASE("integrands: evaluate_checked names a negative, NaN or infinite value and its point", "[integration]") {
  const testing::FunctionIntegrand negative(2, [](const at::Tensor& x) { return x.select(1, 0) - 0.5; });
  CHECK_THROWS_WITH(evaluate_checked(negative, torch::full({3, 2}, 0.25, torch::kDouble)),
                    Catch::Contains("returned -0.25 at x = (0.25, 0.25)") && Catch::Contains("finite values >= 0"));
  const testing::FunctionIntegrand nan(2, [](const at::Tensor& x) { return torch::log(x.select(1, 0) - 1); });
  CHECK_THROWS_WITH(evaluate_checked(nan, torch::full({3, 2}, 0.5, torch::kDouble)), Catch::Contains("returned nan"));
  const testing::FunctionIntegrand wrong(2, [](const at::Tensor& x) { return x; });
  CHECK_THROWS_WITH(evaluate_checked(wrong, torch::rand({3, 2}, torch::kDouble)), Catch::Contains("one value per point"));
}
