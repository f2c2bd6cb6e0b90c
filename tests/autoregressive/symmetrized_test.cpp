#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "autoregressive/han.hpp"
#include "autoregressive/symmetrized.hpp"
#include "autoregressive/van.hpp"
#include "core/error.hpp"
#include "flows/test_models.hpp"
#include "spin_testing.hpp"

using namespace latflow;

namespace {
SamplerPtr random_han(std::int64_t L, double scale, std::uint64_t seed) {
  torch::manual_seed(seed);
  Han han{HanOptions(L)};
  han->to(torch::kFloat64);
  testing::randomise(*han, scale, seed);
  return han.ptr();
}
SamplerPtr random_van(std::int64_t L, double scale, std::uint64_t seed) {
  torch::manual_seed(seed);
  Van van(VanOptions(Lattice::square(L)));
  van->to(torch::kFloat64);
  testing::randomise(*van, scale, seed);
  return van.ptr();
}
SymmetrizedOptions z2_d4() { return SymmetrizedOptions().z2(true).d4(true); }
SymmetrizedOptions all_symmetries(std::int64_t step) {
  return SymmetrizedOptions().z2(true).d4(true).translations(true).translation_step(step);
}
}  // namespace

TEST_CASE("symmetrized: q_G sums to one over all configurations of 4x4", "[autoregressive]") {
  // |G| base evaluations of each of the 2^16 configurations: 2 and 16 for HAN, 2 and 64 for VAN (the cheaper).
  for (const auto& [name, options] : {std::pair{"z2", SymmetrizedOptions()}, std::pair{"z2 + d4", z2_d4()}}) {
    INFO(name);
    Symmetrized han(random_han(4, 0.5, 1), options);
    testing::check_normalised(*han, Lattice::square(4), 1e-10);
  }
  for (const auto& [name, options] : {std::pair{"z2", SymmetrizedOptions()}, std::pair{"all", all_symmetries(2)}}) {
    INFO(name);
    Symmetrized van(random_van(4, 0.5, 2), options);
    testing::check_normalised(*van, Lattice::square(4), 1e-10);
  }
}

TEST_CASE("symmetrized: q_G is invariant under every generator and q is not", "[autoregressive]") {
  const Lattice lattice = Lattice::square(8);
  SamplerPtr base = random_han(8, 0.3, 4);
  Symmetrized sym(base, all_symmetries(4));
  torch::manual_seed(5);
  const at::Tensor s = base->sample(6, lattice).phi;
  torch::NoGradGuard no_grad;
  const at::Tensor q = sym->log_prob(s);
  const std::vector<std::pair<std::string, at::Tensor>> moved = {
      {"flip", -s},
      {"rotation", torch::rot90(s, 1, {1, 2})},
      {"transposition", s.transpose(1, 2)},
      {"translation by (4, 0)", torch::roll(s, {4}, {1})},
      {"translation by (4, 4)", torch::roll(s, {4, 4}, {1, 2})}};
  for (const auto& [name, x] : moved) {
    INFO(name);
    CHECK((sym->log_prob(x) - q).abs().max().item<double>() < 1e-12);
    CHECK((base->log_prob(x) - base->log_prob(s)).abs().max().item<double>() > 1e-3);
  }
  CHECK(sym->group_size(lattice) == 2 * 8 * 4);
  CHECK(Symmetrized(base, z2_d4())->group_size(lattice) == 16);
  CHECK(Symmetrized(base, SymmetrizedOptions().z2(false).translations(true))->group_size(lattice) == 64);
}

TEST_CASE("symmetrized: sample() returns log_prob of its samples on 8x8 and 16x16", "[autoregressive]") {
  for (std::int64_t L : {8, 16}) {
    Symmetrized han(random_han(L, 0.3, 7), all_symmetries(L / 4));
    testing::check_sample_log_prob(*han, Lattice::square(L), 8, 1e-12);
    Symmetrized van(random_van(L, 0.3, 8), z2_d4());
    testing::check_sample_log_prob(*van, Lattice::square(L), 8, 1e-12);
  }
}

TEST_CASE("symmetrized: sample frequencies on 2x2 match exp(log_prob) (chi^2)", "[autoregressive]") {
  Symmetrized han(random_han(2, 0.5, 10), z2_d4());
  testing::check_frequencies(*han, 40000);
  Symmetrized van(random_van(2, 0.5, 11), SymmetrizedOptions().z2(false).translations(true));
  testing::check_frequencies(*van, 40000);
}

TEST_CASE("symmetrized: log_prob is differentiable in the base's parameters", "[autoregressive]") {
  Symmetrized sym(random_han(4, 0.3, 13), all_symmetries(1));
  const at::Tensor s = sym->sample(4, Lattice::square(4)).phi;
  sym->log_prob(s).sum().backward();
  testing::check_all_gradients(*sym);
}

TEST_CASE("symmetrized: bad options and lattices are a UserError", "[autoregressive]") {
  SamplerPtr van = random_van(4, 0.3, 14);
  CHECK_THROWS_AS(Symmetrized(nullptr, SymmetrizedOptions()), UserError);
  CHECK_THROWS_AS(Symmetrized(van, SymmetrizedOptions().z2(false)), UserError);
  CHECK_THROWS_AS(Symmetrized(van, SymmetrizedOptions().translations(true).translation_step(0)), UserError);
  CHECK_THROWS_AS(Symmetrized(van, all_symmetries(3))->check_lattice(Lattice::square(4)), UserError);
  CHECK_THROWS_AS(Symmetrized(van, SymmetrizedOptions())->check_lattice(Lattice::square(8)), UserError);
  Van rectangular(VanOptions({4, 2}));
  CHECK_THROWS_AS(Symmetrized(rectangular.ptr(), z2_d4())->check_lattice({4, 2}), UserError);
  CHECK_NOTHROW(Symmetrized(rectangular.ptr(), SymmetrizedOptions().translations(true))->check_lattice({4, 2}));
  CHECK_FALSE(Symmetrized(van, SymmetrizedOptions())->reparameterizable());
}

TEST_CASE("symmetrized HAN on CUDA matches the CPU", "[cuda]") {
  Symmetrized sym(random_han(8, 0.3, 15), all_symmetries(2));
  torch::manual_seed(16);
  const at::Tensor s = sym->sample(4, Lattice::square(8)).phi;
  const at::Tensor cpu = sym->log_prob(s);
  sym->to(torch::kCUDA);
  CHECK(torch::allclose(sym->log_prob(s.cuda()).cpu(), cpu, 0, 1e-10));
  const Density d = sym->sample(4, Lattice::square(8));
  CHECK(d.phi.is_cuda());
  CHECK(torch::allclose(d.logq, sym->log_prob(d.phi), 0, 1e-10));
}
