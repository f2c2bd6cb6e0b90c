#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "autoregressive/han.hpp"
#include "autoregressive/van.hpp"
#include "core/error.hpp"
#include "flows/test_models.hpp"
#include "spin_testing.hpp"

using namespace latflow;

namespace {
Han random_han(std::int64_t L, double scale, std::uint64_t seed) {
  torch::manual_seed(seed);
  Han han{HanOptions(L)};
  han->to(torch::kFloat64);
  testing::randomise(*han, scale, seed);
  return han;
}
at::Tensor random_spins(std::int64_t B, std::int64_t n, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randint(2, {B, n}, gen, torch::dtype(torch::kFloat64)) * 2 - 1;
}
/// Parameters of a MADE with n spins and c conditioning inputs, depth 2 and width 1 (autoregressive/made.hpp).
std::int64_t made_count(std::int64_t n, std::int64_t c) {
  const std::int64_t u = n + c;
  return u * u + 2 * u + n * u + n;
}
}  // namespace

TEST_CASE("HAN: q sums to one over all configurations of 2x2 and 4x4", "[autoregressive]") {
  // Stronger weights on 2x2, whose 4 spins would otherwise give a q within a factor 100 of uniform.
  for (std::int64_t L : {2, 4}) {
    Han han = random_han(L, L == 2 ? 1.0 : 0.5, 1);
    testing::check_normalised(*han, Lattice::square(L), 1e-10);
  }
}

TEST_CASE("HAN: levels, cross sizes and one net per level", "[autoregressive]") {
  Han han(HanOptions(16));
  REQUIRE(han->levels() == 4);
  std::int64_t drawn = han->boundary().options().n();
  CHECK(drawn == 31);
  for (std::int64_t k = 0; k < 4; ++k) {
    const std::int64_t l = std::vector<std::int64_t>{15, 7, 3, 1}[static_cast<std::size_t>(k)];
    CHECK(han->interior_extent(k) == l);
    CHECK(han->level(k).options().n() == 2 * l - 1);
    CHECK(han->level(k).options().c() == 4 * l);
    drawn += (std::int64_t{1} << (2 * k)) * (2 * l - 1);
  }
  CHECK(drawn == 256);
  CHECK(han->named_children().size() == 5);
}

TEST_CASE("HAN: sample() returns log_prob of its samples on 8x8 and 16x16", "[autoregressive]") {
  for (std::int64_t L : {8, 16}) {
    Han han = random_han(L, 0.3, 3);
    testing::check_sample_log_prob(*han, Lattice::square(L), 8, 1e-12);
  }
}

TEST_CASE("HAN: sample frequencies on 2x2 match exp(log_prob) (chi^2)", "[autoregressive]") {
  Han han = random_han(2, 0.5, 5);
  testing::check_frequencies(*han, 40000);
}

TEST_CASE("HAN: log_prob is differentiable in the parameters of every net", "[autoregressive]") {
  Han han = random_han(8, 0.3, 7);
  const at::Tensor s = han->sample(16, Lattice::square(8)).phi;
  han->log_prob(s).sum().backward();
  testing::check_all_gradients(*han);
}

TEST_CASE("HAN: parameters grow like L^2, VAN's like L^4", "[autoregressive]") {
  for (std::int64_t L : {4, 8, 16}) {
    INFO("L = " << L);
    Han han{HanOptions(L)};
    std::int64_t expected = made_count(2 * L - 1, 0);
    for (std::int64_t l = L - 1; l >= 1; l = (l - 1) / 2) expected += made_count(2 * l - 1, 4 * l);
    CHECK(han->parameter_count() == expected);
    CHECK(Van(VanOptions(Lattice::square(L)))->parameter_count() == made_count(L * L, 0));
  }
  const std::int64_t han16 = Han(HanOptions(16))->parameter_count();
  const std::int64_t van16 = Van(VanOptions(Lattice::square(16)))->parameter_count();
  INFO("HAN " << han16 << ", VAN " << van16);
  CHECK(8 * han16 < van16);
}

TEST_CASE("HAN: initialize_from carries level k at L into level k + 1 at 2L", "[autoregressive]") {
  for (bool freeze : {false, true}) {
    INFO("freeze " << freeze);
    Han small = random_han(4, 0.3, 8);
    Han big = random_han(8, 0.3, 9);
    const auto inputs = [&](std::int64_t k) {
      const std::int64_t l = small->interior_extent(k);
      return std::make_pair(random_spins(5, 2 * l - 1, 10 + k), random_spins(5, 4 * l, 20 + k));
    };
    for (std::int64_t k = 0; k < small->levels(); ++k) {
      REQUIRE(big->interior_extent(k + 1) == small->interior_extent(k));
      const auto [s, y] = inputs(k);
      CHECK(!torch::equal(big->level(k + 1).logits(s, y), small->level(k).logits(s, y)));
    }
    const at::Tensor boundary_before = big->boundary().parameters()[0].clone();
    const at::Tensor level0_before = big->level(0).parameters()[0].clone();
    big->initialize_from(*small, freeze);
    for (std::int64_t k = 0; k < small->levels(); ++k) {
      const auto [s, y] = inputs(k);
      CHECK(torch::equal(big->level(k + 1).logits(s, y), small->level(k).logits(s, y)));
      for (const auto& p : big->level(k + 1).parameters()) CHECK(p.requires_grad() == !freeze);
    }
    CHECK(torch::equal(big->boundary().parameters()[0], boundary_before));
    CHECK(torch::equal(big->level(0).parameters()[0], level0_before));
    for (const auto& p : big->level(0).parameters()) CHECK(p.requires_grad());
  }
  Han big(HanOptions(16));
  CHECK_THROWS_AS(big->initialize_from(*Han(HanOptions(4)), false), UserError);
  CHECK_THROWS_AS(big->initialize_from(*Han(HanOptions(8).architecture(MadeArchitecture().depth(3))), false),
                  UserError);
}

TEST_CASE("HAN: lattices other than its L x L, L = 2^n, are a UserError", "[autoregressive]") {
  CHECK_THROWS_AS(Han(HanOptions(12)), UserError);
  CHECK_THROWS_AS(Han(HanOptions(1)), UserError);
  CHECK_THROWS_AS(Han(HanOptions(0)), UserError);
  Han han(HanOptions(16));
  CHECK_NOTHROW(han->check_lattice(Lattice::square(16)));
  CHECK_THROWS_AS(han->check_lattice(Lattice::square(12)), UserError);
  CHECK_THROWS_AS(han->check_lattice({8, 16}), UserError);
  CHECK_THROWS_AS(han->check_lattice(Lattice::square(8)), UserError);
  CHECK_THROWS_AS(han->sample(2, {8, 16}), UserError);
  CHECK_THROWS_AS(han->log_prob(torch::ones({2, 12, 12})), UserError);
  CHECK_FALSE(han->reparameterizable());
  CHECK(han->base_name() == "autoregressive");
}

TEST_CASE("HAN and VAN compute in float32", "[autoregressive]") {
  torch::manual_seed(13);
  Han han(HanOptions(4));
  Van van(VanOptions(Lattice::square(4)));
  for (SamplerImpl* sampler : std::vector<SamplerImpl*>{han.get(), van.get()}) {
    testing::randomise(*sampler, 0.3, 14);
    const Density d = sampler->sample(32, Lattice::square(4));
    CHECK(d.phi.dtype() == torch::kFloat32);
    CHECK(d.logq.dtype() == torch::kFloat32);
    CHECK(torch::allclose(d.logq, sampler->log_prob(d.phi), 0, 1e-4));
    CHECK(std::abs(torch::logsumexp(testing::log_prob_of_all(*sampler, Lattice::square(4)), 0).item<double>()) < 1e-4);
  }
}

TEST_CASE("HAN on CUDA matches the CPU", "[cuda]") {
  Han han = random_han(8, 0.3, 15);
  torch::manual_seed(16);
  const at::Tensor s = han->sample(8, Lattice::square(8)).phi;
  const at::Tensor cpu = han->log_prob(s);
  han->to(torch::kCUDA);
  CHECK(torch::allclose(han->log_prob(s.cuda()).cpu(), cpu, 0, 1e-10));
  const Density d = han->sample(8, Lattice::square(8));
  CHECK(d.phi.is_cuda());
  CHECK(torch::allclose(d.logq, han->log_prob(d.phi), 0, 1e-10));
}
