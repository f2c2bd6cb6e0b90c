// The flows on [0, 1]^d with every interval transform and masking (the registry loop of cube_transforms()):
// identity at initialisation; with random weights, sample's log q equals log_prob, forward and inverse round
// trip, the log-density equals minus the log-determinant of the autograd Jacobian, the density integrates to
// one; and points on the cube's faces and corners map to the faces with finite densities.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "integration/cube_flow.hpp"

using namespace latflow;

namespace {

/// A flow with every parameter perturbed (the output layers start at zero: the identity).
CubeFlow random_flow(std::int64_t d, const std::string& transform, const std::string& masking, double scale = 0.5) {
  CubeFlow flow(CubeFlowOptions(d).transform(transform).bins(5).masking(masking).hidden_width(8).hidden_layers(1));
  flow->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  for (auto& p : flow->parameters()) p.add_(scale * torch::randn_like(p));
  return flow;
}

/// x = f(z) of the flow's cells, for one point z [d] (the map that sample() applies to uniform z).
at::Tensor push(std::vector<CubeCoupling> cells, const at::Tensor& z) {
  Density d{z.unsqueeze(0), torch::zeros({1}, z.options())};
  for (auto& c : cells) d = c->forward(d);
  return d.phi.squeeze(0);
}

}  // namespace

TEST_CASE("cube flow: the interval transforms are the registered ones", "[integration]") {
  const auto t = cube_transforms();
  for (const char* name : {"piecewise_linear", "piecewise_quadratic", "rq_spline_interval"})
    CHECK(std::find(t.begin(), t.end(), name) != t.end());
  CHECK_THROWS_WITH(CubeFlow(CubeFlowOptions(2).transform("rq_spline_circle")), Catch::Contains("does not act on an interval"));
  CHECK_THROWS_AS(CubeFlow(CubeFlowOptions(0)), UserError);
  CHECK_THROWS_AS(CubeFlow(CubeFlowOptions(2).bins(0)), UserError);
  CHECK_THROWS_AS(CubeFlow(CubeFlowOptions(2).hidden_width(0)), UserError);
}

TEST_CASE("cube flow: a fresh flow is the uniform density exactly", "[integration]") {
  for (const auto& transform : cube_transforms()) {
    INFO(transform);
    CubeFlow flow(CubeFlowOptions(3).transform(transform));
    flow->to(torch::kDouble);
    const at::Tensor x = torch::rand({100, 3}, torch::kDouble);
    CHECK(torch::equal(flow->log_prob(x), torch::zeros({100}, torch::kDouble)));
    const Density s = flow->sample(50);
    CHECK(torch::equal(s.logq, torch::zeros({50}, torch::kDouble)));
  }
}

TEST_CASE("cube flow: sample, log_prob, round trips and the autograd log-determinant agree", "[integration]") {
  torch::manual_seed(5);
  for (const auto& transform : cube_transforms())
    for (const auto& masking : {"checkerboard", "iflow", "maximal"})
      for (const std::int64_t d : {1, 3}) {
        INFO(transform << ", " << masking << ", d = " << d);
        CubeFlow flow = random_flow(d, transform, masking);
        torch::NoGradGuard no_grad;
        const Density s = flow->sample(200);
        CHECK(((s.phi >= 0) & (s.phi <= 1)).all().item<bool>());
        CHECK(torch::allclose(flow->log_prob(s.phi), s.logq, 1e-9, 1e-9));
        CHECK(s.logq.abs().max().item<double>() > 1e-3);  // the weights do something
        // Reverse then forward through every cell returns the points.
        std::vector<CubeCoupling> cells = flow->cells();
        Density back{s.phi, s.logq};
        for (auto it = cells.rbegin(); it != cells.rend(); ++it) back = (*it)->reverse(back);
        CHECK(torch::allclose(back.logq, torch::zeros_like(back.logq), 1e-9, 1e-9));  // uniform prior
        Density again = back;
        for (auto& c : cells) again = c->forward(again);
        CHECK(torch::allclose(again.phi, s.phi, 1e-10, 1e-12));
        // log q(f(z)) = -log |det df/dz| at a few points.
        for (int k = 0; k < 3; ++k) {
          const at::Tensor z = torch::rand({d}, torch::kDouble);
          at::Tensor jac = torch::empty({d, d}, torch::kDouble);
          {
            torch::AutoGradMode grad(true);
            const at::Tensor zg = z.clone().requires_grad_(true);
            const at::Tensor x = push(cells, zg);
            for (std::int64_t i = 0; i < d; ++i)
              jac[i] = torch::autograd::grad({x[i]}, {zg}, {}, /*retain_graph=*/true)[0];
          }
          const double logdet = std::get<1>(torch::linalg_slogdet(jac)).item<double>();
          const double logq = flow->log_prob(push(cells, z).unsqueeze(0)).item<double>();
          CHECK(logq == Approx(-logdet).margin(1e-8));
        }
      }
}

TEST_CASE("cube flow: the density integrates to one", "[integration]") {
  // E_q[1 / q] = int 1 dx = 1, with points from the flow: 1/q is bounded (the transforms' floors) and the test
  // checks sample() and log_prob() together against the cube's volume.
  torch::manual_seed(8);
  for (const auto& transform : cube_transforms()) {
    INFO(transform);
    CubeFlow flow = random_flow(2, transform, "iflow", 0.5);
    torch::NoGradGuard no_grad;
    const Density s = flow->sample(200000);
    const at::Tensor inv_q = torch::exp(-flow->log_prob(s.phi));
    const double mean = inv_q.mean().item<double>(), error = std::sqrt(inv_q.var().item<double>() / inv_q.numel());
    INFO(mean << " +- " << error);
    CHECK(std::abs(mean - 1) < 4 * error);
    CHECK(error < 0.025);  // resolves a normalisation off by 10 per cent
    CHECK(s.logq.std().item<double>() > 0.1);  // far from uniform
  }
}

TEST_CASE("cube flow: the faces and corners of the cube stay on them with finite densities", "[integration]") {
  torch::manual_seed(9);
  for (const auto& transform : cube_transforms()) {
    INFO(transform);
    CubeFlow flow = random_flow(3, transform, "checkerboard", 1.0);
    torch::NoGradGuard no_grad;
    // All 8 corners, and points with one coordinate on a face.
    at::Tensor x = torch::cat({torch::stack(torch::meshgrid({torch::tensor({0.0, 1.0}, torch::kDouble),
                                                             torch::tensor({0.0, 1.0}, torch::kDouble),
                                                             torch::tensor({0.0, 1.0}, torch::kDouble)}, "ij"), -1).view({8, 3}),
                               torch::rand({30, 3}, torch::kDouble)});
    x.narrow(0, 8, 30).select(1, 1).copy_(torch::randint(0, 2, {30}, torch::kDouble));
    const at::Tensor lq = flow->log_prob(x);
    CHECK(torch::isfinite(lq).all().item<bool>());
    std::vector<CubeCoupling> cells = flow->cells();
    Density d{x, torch::zeros({x.size(0)}, torch::kDouble)};
    for (auto it = cells.rbegin(); it != cells.rend(); ++it) d = (*it)->reverse(d);
    const at::Tensor on_face = (x == 0) | (x == 1);
    CHECK(torch::equal(d.phi.masked_select(on_face), x.masked_select(on_face)));
    Density again = d;
    for (auto& c : cells) again = c->forward(again);
    CHECK(torch::equal(again.phi.masked_select(on_face), x.masked_select(on_face)));
    CHECK(torch::allclose(again.phi, x, 1e-10, 1e-12));
  }
}
