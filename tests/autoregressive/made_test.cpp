#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "autoregressive/made.hpp"
#include "core/error.hpp"
#include "flows/test_models.hpp"

using namespace latflow;

namespace {
Made random_made(std::int64_t n, std::int64_t c, std::int64_t depth, std::int64_t width, std::uint64_t seed) {
  torch::manual_seed(seed);
  Made net(MadeOptions(n, c).architecture(MadeArchitecture().depth(depth).width(width)));
  net->to(torch::kFloat64);
  testing::randomise(*net, 0.3, seed);
  return net;
}
at::Tensor random_spins(std::int64_t B, std::int64_t n, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randint(2, {B, n}, gen, torch::dtype(torch::kFloat64)) * 2 - 1;
}
}  // namespace

TEST_CASE("MADE: logit i depends on the spins before i and on every conditioning input", "[autoregressive]") {
  const std::int64_t n = 6;
  struct Case { std::int64_t c, depth, width; };
  for (const Case& k : {Case{0, 1, 1}, Case{0, 2, 1}, Case{0, 3, 2}, Case{3, 1, 1}, Case{3, 2, 1}, Case{4, 3, 2}}) {
    INFO("c = " << k.c << ", depth " << k.depth << ", width " << k.width);
    Made net = random_made(n, k.c, k.depth, k.width, 7 + k.c + k.depth);
    const at::Tensor s = random_spins(1, n, 1).requires_grad_(true);
    const at::Tensor y = random_spins(1, k.c, 2).requires_grad_(true);
    const at::Tensor logits = net->logits(s, k.c > 0 ? y : at::Tensor());
    for (std::int64_t i = 0; i < n; ++i) {
      const auto grads = torch::autograd::grad({logits[0][i]}, {s, y}, {}, true, false, true);
      const at::Tensor ds = grads[0].defined() ? grads[0][0] : torch::zeros({n}, s.options());
      for (std::int64_t j = 0; j < n; ++j) {
        INFO("d logit_" << i << " / d s_" << j << " = " << ds[j].item<double>());
        if (j >= i) CHECK(ds[j].item<double>() == 0);
        else CHECK(ds[j].item<double>() != 0);
      }
      if (k.c > 0) {
        INFO("logit " << i << ": d / d y = " << grads[1]);
        REQUIRE(grads[1].defined());
        CHECK(torch::all(grads[1] != 0).item<bool>());
      }
    }
  }
}

TEST_CASE("MADE: q(s | y) sums to one over all spin vectors and sample() gives log q of its spins",
          "[autoregressive]") {
  const std::int64_t n = 5, c = 3;
  Made net = random_made(n, c, 2, 2, 11);
  const at::Tensor k = torch::arange(32, torch::kInt64).unsqueeze(1);
  const at::Tensor all = (torch::bitwise_and(torch::bitwise_right_shift(k, torch::arange(n, torch::kInt64)), 1) * 2 - 1)
                             .to(torch::kFloat64);
  for (std::uint64_t seed : {3, 4}) {
    const at::Tensor y = random_spins(1, c, seed).expand({32, c});
    const at::Tensor logq = net->log_prob(all, y);
    CHECK(std::abs(torch::logsumexp(logq, 0).exp().item<double>() - 1) < 1e-13);
    CHECK((logq.max() - logq.min()).item<double>() > 1);
  }
  torch::manual_seed(5);
  const at::Tensor y = random_spins(64, c, 6);
  const SpinSample d = net->sample(64, y);
  CHECK(torch::all(d.s.abs() == 1).item<bool>());
  CHECK(!d.logq.requires_grad());
  CHECK(torch::allclose(d.logq, net->log_prob(d.s, y), 0, 1e-13));
  // The conditioning matters: the same spins are scored differently under other inputs.
  CHECK((net->log_prob(d.s, -y) - d.logq).abs().max().item<double>() > 1e-3);
}

TEST_CASE("MADE: invalid sizes are a UserError", "[autoregressive]") {
  CHECK_THROWS_AS(Made(MadeOptions(0)), UserError);
  CHECK_THROWS_AS(Made(MadeOptions(4, -1)), UserError);
  CHECK_THROWS_AS(Made(MadeOptions(4).architecture(MadeArchitecture().depth(0))), UserError);
  CHECK_THROWS_AS(Made(MadeOptions(4).architecture(MadeArchitecture().width(0))), UserError);
}
