#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "operators/pointwise_features.hpp"

using namespace latflow;

TEST_CASE("pointwise features and their derivative match the closed form", "[operators][features]") {
  PointwiseFeatures features(PointwiseFeaturesOptions(3, 4));
  features->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    features->mixing.normal_();
    features->omega.normal_(0.0, 2.0);
  }
  const torch::Tensor phi = torch::randn({2, 3, 5}, torch::kFloat64);
  const torch::Tensor w = torch::randn({3}, torch::kFloat64);
  const torch::Tensor g = features(phi);
  REQUIRE(g.sizes() == torch::IntArrayRef{2, 3, 3, 5});
  const torch::Tensor sum = features->diagonal_sum(features->harmonics(phi), w);
  REQUIRE(sum.sizes() == torch::IntArrayRef{2});

  const auto A = features->mixing.accessor<double, 2>();
  const auto omega = features->omega.accessor<double, 1>();
  const auto p = phi.accessor<double, 3>();
  const auto ga = g.accessor<double, 4>();
  for (int b = 0; b < 2; ++b) {
    double expected_sum = 0;
    for (int x0 = 0; x0 < 3; ++x0)
      for (int x1 = 0; x1 < 5; ++x1)
        for (int f = 0; f < 3; ++f) {
          double value = A[f][0] * p[b][x0][x1], slope = A[f][0];
          for (int k = 0; k < 4; ++k) {
            value += A[f][k + 1] * std::sin(omega[k] * p[b][x0][x1]);
            slope += A[f][k + 1] * omega[k] * std::cos(omega[k] * p[b][x0][x1]);
          }
          CHECK(ga[b][f][x0][x1] == Approx(value).epsilon(1e-13).margin(1e-13));
          expected_sum += w[f].item<double>() * slope;
        }
    CHECK(sum[b].item<double>() == Approx(expected_sum).epsilon(1e-12));
  }
  CHECK(torch::allclose(features(-phi), -g, 0.0, 1e-15));  // odd in phi
}

TEST_CASE("pointwise features validate their options and input", "[operators][features]") {
  CHECK_THROWS_AS(PointwiseFeatures(PointwiseFeaturesOptions(0, 4)), UserError);
  CHECK_THROWS_AS(PointwiseFeatures(PointwiseFeaturesOptions(3, 0)), UserError);
  PointwiseFeatures features(PointwiseFeaturesOptions(2, 2));
  CHECK(features->omega.min().item<double>() == Approx(0.5));
  CHECK(features->omega.max().item<double>() == Approx(5.0));
  CHECK_THROWS_AS(features(torch::zeros({4, 4})), UserError);
  CHECK_THROWS_AS(features(torch::zeros({1, 4, 4}, torch::kFloat64)), UserError);
}
