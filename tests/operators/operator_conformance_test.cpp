// The contract of every registered neural operator (operators/neural_operator.hpp): an exact
// divergence, one set of weights on every lattice, the symmetries of the lattice and of phi^4, the
// identity at initialisation, both precisions, and gradients for all its parameters.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "operators/operator_testing.hpp"
#include "operators/registry.hpp"

using namespace latflow;
using namespace latflow::testing;

namespace {

struct Extents {
  std::int64_t T, L;
};

torch::Tensor random_field(std::int64_t B, Extents e, torch::Dtype dtype = torch::kFloat64) {
  return 1.5 * torch::randn({B, e.T, e.L}, torch::dtype(dtype));
}

}  // namespace

TEST_CASE("every operator's divergence is the trace of its autograd Jacobian", "[operators][conformance]") {
  for (const auto& name : operator_registry().names()) {
    for (const Extents e : {Extents{4, 4}, Extents{6, 6}, Extents{4, 6}, Extents{5, 7}}) {
      auto op = random_operator(name, radius_for(e.T, e.L));
      const torch::Tensor phi = random_field(2, e);
      for (const double t : {0.0, 0.3, 0.85}) {
        INFO(name << " on " << e.T << "x" << e.L << " at t = " << t);
        const torch::Tensor div = op->forward(t, phi).divergence;
        const torch::Tensor trace = autograd_trace(*op, t, phi);
        REQUIRE(div.sizes() == torch::IntArrayRef{2});
        CHECK(max_abs(trace) > 1e-3);  // the comparison is not between two zeros
        CHECK(max_abs_diff(div, trace) <= 1e-12 * max_abs(trace) * e.T * e.L);
      }
    }
  }
}

TEST_CASE("every operator runs one set of weights on every lattice", "[operators][conformance][resolution]") {
  for (const auto& name : operator_registry().names()) {
    auto op = random_operator(name, 2);
    const auto count = [&] { return op->parameters().size(); };
    const auto numel = [&] {
      std::int64_t n = 0;
      for (const auto& p : op->parameters()) n += p.numel();
      return n;
    };
    const auto n_tensors = count();
    const auto n_params = numel();
    for (const Extents e : {Extents{6, 6}, Extents{8, 8}, Extents{12, 12}, Extents{6, 10}, Extents{9, 7}}) {
      INFO(name << " on " << e.T << "x" << e.L);
      const torch::Tensor phi = random_field(3, e);
      const auto out = op->forward(0.4, phi);
      CHECK(out.v.sizes() == phi.sizes());
      CHECK(out.divergence.sizes() == torch::IntArrayRef{3});
      CHECK(out.v.isfinite().all().item<bool>());
      CHECK(out.divergence.isfinite().all().item<bool>());
      CHECK(max_abs(out.v) > 0);
      CHECK(count() == n_tensors);
      CHECK(numel() == n_params);
    }
  }
}

TEST_CASE("every operator is equivariant under the lattice symmetries and Z2", "[operators][conformance][symmetry]") {
  for (const auto& name : operator_registry().names()) {
    for (const Extents e : {Extents{6, 6}, Extents{5, 7}}) {
      auto op = random_operator(name, 2);
      const torch::Tensor phi = random_field(2, e);
      const double t = 0.6;
      const auto out = op->forward(t, phi);
      const double tol = 1e-12 * (1 + max_abs(out.v)) * e.T * e.L;
      // v is equivariant (v(g phi) = g v(phi), g acting on fields, phi -> -phi included); div v is invariant.
      const auto check_equivariant = [&](const char* what, auto transform) {
        INFO(name << " on " << e.T << "x" << e.L << ": " << what);
        const auto moved = op->forward(t, transform(phi));
        CHECK(max_abs_diff(moved.v, transform(out.v)) <= tol);
        CHECK(max_abs_diff(moved.divergence, out.divergence) <= tol);
      };
      check_equivariant("translation", [](const torch::Tensor& x) { return torch::roll(x, {2, 3}, {1, 2}); });
      // x_mu -> -x_mu (mod extent): a flip followed by a unit shift.
      check_equivariant("reflection of x_0",
                        [](const torch::Tensor& x) { return torch::roll(torch::flip(x, {1}), {1}, {1}); });
      check_equivariant("reflection of x_1",
                        [](const torch::Tensor& x) { return torch::roll(torch::flip(x, {2}), {1}, {2}); });
      check_equivariant("Z2 phi -> -phi", [](const torch::Tensor& x) { return -x; });
      if (e.T == e.L)
        check_equivariant("90-degree rotation", [](const torch::Tensor& x) { return torch::rot90(x, 1, {1, 2}); });
    }
  }
}

TEST_CASE("every operator gives a configuration the same result in a batch large enough to be chunked",
          "[operators][conformance][chunks]") {
  // 64 x 64 sites: a chunk holds 64 configurations (both limits), so a batch of 66 is two chunks, of 64 and 2.
  const Extents e{64, 64};
  const std::int64_t per_chunk = NeuralOperatorImpl::kChunkSites / (e.T * e.L), B = per_chunk + 2;
  REQUIRE(per_chunk == NeuralOperatorImpl::kChunkConfigurations);
  for (const auto& name : operator_registry().names()) {
    INFO(name);
    auto op = random_operator(name, 2);
    const torch::Tensor phi = random_field(B, e).requires_grad_(true);
    const auto all = op->forward(0.6, phi);
    REQUIRE(all.v.sizes() == phi.sizes());
    REQUIRE(all.divergence.sizes() == torch::IntArrayRef{B});
    // Configurations on both sides of the chunk boundary, each evaluated alone.
    for (const std::int64_t i : {std::int64_t{0}, per_chunk - 1, per_chunk, B - 1}) {
      const auto one = op->forward(0.6, phi.detach().slice(0, i, i + 1));
      CHECK(max_abs_diff(all.v.detach().slice(0, i, i + 1), one.v) <= 1e-12 * max_abs(one.v));
      CHECK(max_abs_diff(all.divergence.detach().slice(0, i, i + 1), one.divergence) <=
            1e-12 * max_abs(one.divergence));
    }
    // Gradients flow through every chunk to the field and the weights.
    (all.v.pow(2).sum() + all.divergence.sum()).backward();
    CHECK(phi.grad().slice(0, 0, per_chunk).abs().sum().item<double>() > 0);
    CHECK(phi.grad().slice(0, per_chunk).abs().sum().item<double>() > 0);
    for (const auto& p : op->parameters()) CHECK(p.grad().defined());
  }
}

TEST_CASE("every freshly built operator is exactly the identity flow", "[operators][conformance]") {
  for (const auto& name : operator_registry().names()) {
    for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
      auto op = operator_registry().create(name, operator_config(1));
      op->to(dtype);
      for (const Extents e : {Extents{4, 4}, Extents{6, 6}, Extents{5, 7}}) {
        const torch::Tensor phi = random_field(3, e, dtype);
        for (const double t : {0.0, 0.5, 1.0}) {
          INFO(name << " on " << e.T << "x" << e.L << " at t = " << t);
          const auto out = op->forward(t, phi);
          CHECK(out.v.sizes() == phi.sizes());
          CHECK(max_abs(out.v) == 0.0);
          CHECK(max_abs(out.divergence) == 0.0);
        }
      }
    }
  }
}

TEST_CASE("every operator runs in float32 and float64 and agrees between them", "[operators][conformance][dtype]") {
  for (const auto& name : operator_registry().names()) {
    INFO(name);
    auto op = random_operator(name, 2);
    const torch::Tensor phi = random_field(4, {8, 6});
    const auto exact = op->forward(0.7, phi);
    op->to(torch::kFloat32);
    const auto single = op->forward(0.7, phi.to(torch::kFloat32));
    CHECK(single.v.scalar_type() == torch::kFloat32);
    CHECK(single.divergence.scalar_type() == torch::kFloat32);
    // float32 rounding (eps ~ 6e-8) accumulated over a few hundred terms per site.
    CHECK(max_abs_diff(single.v.to(torch::kFloat64), exact.v) <= 1e-5 * max_abs(exact.v));
    CHECK(max_abs_diff(single.divergence.to(torch::kFloat64), exact.divergence) <=
          1e-5 * max_abs(exact.divergence));
    CHECK_THROWS_AS(op->forward(0.7, phi), UserError);  // float64 field, float32 operator
  }
}

TEST_CASE("every operator passes gradients to all its parameters", "[operators][conformance][grad]") {
  for (const auto& name : operator_registry().names()) {
    auto op = random_operator(name, 2);
    const auto out = op->forward(0.35, random_field(3, {6, 7}));
    (out.v.pow(2).sum() + out.divergence.sum()).backward();
    for (const auto& p : op->named_parameters()) {
      INFO(name << ": " << p.key());
      REQUIRE(p.value().grad().defined());
      CHECK(p.value().grad().isfinite().all().item<bool>());
      CHECK(max_abs(p.value().grad()) > 0);
    }
  }
}

TEST_CASE("every operator rejects bad options and bad fields with a UserError", "[operators][conformance][errors]") {
  CHECK_THROWS_AS(operator_registry().create("spectrall", operator_config()), UserError);
  for (const auto& name : operator_registry().names()) {
    INFO(name);
    for (const char* key : {"model.channels", "model.frequencies", "model.time_modes"})
      for (const std::int64_t bad : {0, -3}) {
        Config cfg = operator_config();
        cfg.set(key, bad);
        CHECK_THROWS_AS(operator_registry().create(name, cfg), UserError);
      }
    auto op = operator_registry().create(name, operator_config());
    CHECK_THROWS_AS(op->forward(0.0, torch::zeros({6, 6})), UserError);
    CHECK_THROWS_AS(op->forward(0.0, torch::zeros({2, 1, 6, 6})), UserError);
  }
}

TEST_CASE("every operator gives the same answer on CUDA as on the CPU", "[operators][conformance][cuda]") {
  REQUIRE(torch::cuda::is_available());
  for (const auto& name : operator_registry().names()) {
    INFO(name);
    auto op = random_operator(name, 2);
    const torch::Tensor phi = random_field(4, {8, 6});
    const auto cpu = op->forward(0.45, phi);
    op->to(torch::kCUDA);
    const auto gpu = op->forward(0.45, phi.to(torch::kCUDA));
    CHECK(max_abs_diff(gpu.v.cpu(), cpu.v) <= 1e-12 * max_abs(cpu.v) * 48);
    CHECK(max_abs_diff(gpu.divergence.cpu(), cpu.divergence) <= 1e-12 * max_abs(cpu.divergence) * 48);
    op->to(torch::kFloat32);
    const auto single = op->forward(0.45, phi.to(torch::kCUDA, torch::kFloat32));
    CHECK(single.v.isfinite().all().item<bool>());
  }
}
