#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "operators/time_embedding.hpp"

using namespace latflow;

TEST_CASE("time embedding is a zero-initialised truncated Fourier series", "[operators][time]") {
  TimeEmbedding c(TimeEmbeddingOptions({2, 3}, 2));
  REQUIRE(c->weight.sizes() == torch::IntArrayRef{2, 3, 5});
  CHECK(c->weight.abs().max().item<double>() == 0.0);
  CHECK(c(0.3).sizes() == torch::IntArrayRef{2, 3});

  c->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    c->weight.normal_();
  }
  const auto W = c->weight.accessor<double, 3>();
  for (const double t : {0.0, 0.27, 1.0}) {
    const torch::Tensor out = c(t);
    CHECK(out.scalar_type() == torch::kFloat64);
    for (int f = 0; f < 2; ++f)
      for (int j = 0; j < 3; ++j) {
        const double expected = W[f][j][0] + W[f][j][1] * std::sin(2 * M_PI * t) + W[f][j][2] * std::cos(2 * M_PI * t) +
                                W[f][j][3] * std::sin(4 * M_PI * t) + W[f][j][4] * std::cos(4 * M_PI * t);
        CHECK(out[f][j].item<double>() == Approx(expected).epsilon(1e-14).margin(1e-14));
      }
  }
  CHECK_THROWS_AS(TimeEmbedding(TimeEmbeddingOptions({2}, 0)), UserError);
}
