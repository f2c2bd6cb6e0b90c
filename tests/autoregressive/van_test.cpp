#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "autoregressive/van.hpp"
#include "core/error.hpp"
#include "flows/test_models.hpp"
#include "spin_testing.hpp"

using namespace latflow;

namespace {
Van random_van(const Lattice& lattice, double scale, std::uint64_t seed) {
  torch::manual_seed(seed);
  Van van{VanOptions(lattice)};
  van->to(torch::kFloat64);
  testing::randomise(*van, scale, seed);
  return van;
}
}  // namespace

TEST_CASE("VAN: q sums to one over all 2^16 configurations of 4x4", "[autoregressive]") {
  Van van = random_van(Lattice::square(4), 0.5, 1);
  testing::check_normalised(*van, Lattice::square(4), 1e-10);
}

TEST_CASE("VAN: sample() returns log_prob of its samples on 8x8 and 16x16", "[autoregressive]") {
  for (std::int64_t L : {8, 16}) {
    Van van = random_van(Lattice::square(L), 0.3, 3);
    testing::check_sample_log_prob(*van, Lattice::square(L), 8, 1e-12);
  }
}

TEST_CASE("VAN: sample frequencies on 2x2 match exp(log_prob) (chi^2)", "[autoregressive]") {
  Van van = random_van(Lattice::square(2), 0.5, 5);
  testing::check_frequencies(*van, 40000);
}

TEST_CASE("VAN: log_prob is differentiable in every parameter", "[autoregressive]") {
  Van van = random_van(Lattice::square(4), 0.3, 6);
  const at::Tensor s = testing::all_spin_configurations(Lattice::square(4), torch::kFloat64).slice(0, 0, 65536, 997);
  van->log_prob(s).sum().backward();
  testing::check_all_gradients(*van);
}

TEST_CASE("VAN: runs only on the lattice it was built for", "[autoregressive]") {
  Van van(VanOptions(Lattice::square(8)));
  CHECK_NOTHROW(van->check_lattice(Lattice::square(8)));
  CHECK_THROWS_AS(van->check_lattice(Lattice::square(16)), UserError);
  CHECK_THROWS_AS(van->check_lattice({8, 4}), UserError);
  CHECK_THROWS_AS(van->sample(2, Lattice::square(4)), UserError);
  CHECK_THROWS_AS(van->log_prob(torch::ones({2, 4, 4})), UserError);
  CHECK_THROWS_AS(van->log_prob(torch::ones({2, 64})), UserError);
  CHECK_THROWS_AS(Van(VanOptions({0, 4})), UserError);
  CHECK_FALSE(van->reparameterizable());
  CHECK(van->base_name() == "autoregressive");
}
