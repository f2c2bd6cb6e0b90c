// The gauge-equivariant coupling flow: masks, exactness (round trip, log-det against the autograd
// Jacobian, normalisation), gauge invariance of log q, equivariance under gauge transformations and the
// translations of the masks, and the identity at initialisation.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "flow_checks.hpp"
#include "flows/gauge_coupling.hpp"
#include "lattice/haar_prior.hpp"
#include "lattice/u1_gauge_field.hpp"
#include "test_models.hpp"

using namespace latflow;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

GaugeCouplingOptions small(const std::string& transform, bool loops) {
  return GaugeCouplingOptions().layers(8).transform(transform).bins(4).loops(loops).hidden({4}).dilations({1, 2});
}

FlowImpl make_flow(const GaugeCouplingOptions& o, double scale, std::uint64_t seed) {
  torch::manual_seed(seed);
  FlowImpl flow(std::make_shared<HaarPrior>(), GaugeCoupling(o).ptr());
  flow.to(torch::kFloat64);
  testing::randomise(flow, scale, seed);
  return flow;
}

/// The angles a and b agree as points of the circle (up to rounding).
double circle_distance(const at::Tensor& a, const at::Tensor& b) {
  return torch::remainder(a - b + M_PI, 2 * M_PI).sub(M_PI).abs().max().item<double>();
}

struct Variant {
  std::string transform;
  bool loops;
};
const Variant kVariants[] = {{"rq_spline_circle", true}, {"rq_spline_circle", false}, {"ncp_mixture", true}};

}  // namespace

TEST_CASE("gauge masks: each active plaquette holds one active link, frozen loops hold none", "[flows][gauge]") {
  const std::int64_t T = 8, L = 12;
  for (std::int64_t mu = 0; mu < 2; ++mu)
    for (std::int64_t off = 0; off < 4; ++off) {
      INFO("mu " << mu << ", offset " << off);
      const GaugeMasks m = gauge_masks(T, L, mu, off, f64);
      // Active, frozen and passive plaquettes partition the lattice; a quarter are active, half frozen.
      CHECK((m.active_plaquettes * m.frozen_plaquettes).sum().item<double>() == 0);
      CHECK(m.active_plaquettes.sum().item<double>() == T * L / 4);
      CHECK(m.frozen_plaquettes.sum().item<double>() == T * L / 2);
      CHECK(m.active_links.sum().item<double>() == T * L / 4);
      CHECK(m.active_links.select(0, 1 - mu).sum().item<double>() == 0);
      // Moving one active link at a time: it changes exactly one active plaquette, no frozen plaquette, and
      // no 2x1 loop with its long side along nu at a frozen site.
      const at::Tensor theta0 = u1::haar_links(1, {T, L}, f64);
      const at::Tensor p0 = u1::plaquette_angles(theta0)[0], r0 = u1::rectangle_angles(theta0)[0][1 - mu];
      const at::Tensor links = m.active_links.nonzero();
      for (std::int64_t k = 0; k < links.size(0); k += 7) {
        at::Tensor theta = theta0.clone();
        theta[0][links[k][0]][links[k][1]][links[k][2]] += 0.3;
        const at::Tensor dp = (u1::plaquette_angles(theta)[0] - p0).abs().gt(1e-12).to(torch::kFloat64);
        const at::Tensor dr = (u1::rectangle_angles(theta)[0][1 - mu] - r0).abs().gt(1e-12).to(torch::kFloat64);
        CHECK((dp * m.active_plaquettes).sum().item<double>() == 1);
        CHECK((dp * m.frozen_plaquettes).sum().item<double>() == 0);
        CHECK((dr * m.frozen_plaquettes).sum().item<double>() == 0);
      }
    }
  CHECK_THROWS_WITH(gauge_masks(6, 8, 0, 0, f64), Catch::Contains("multiples of 4"));
}

TEST_CASE("gauge coupling flow is the identity at initialisation", "[flows][gauge]") {
  FlowImpl flow = make_flow(small("rq_spline_circle", true), 0.0, 1);
  const at::Tensor z = flow.prior().sample(3, Lattice::square(8), f64);
  const Density y = flow.transform().forward({z, torch::zeros({3}, f64)});
  CHECK(torch::equal(y.phi, z));
  CHECK(y.logq.abs().max().item<double>() == 0);
}

TEST_CASE("gauge coupling flow: round trip, log-det = log|det J|, normalisation", "[flows][gauge][conformance]") {
  std::uint64_t seed = 10;
  for (const auto& v : kVariants) {
    INFO(v.transform << (v.loops ? " with 2x1 loops" : " on plaquettes"));
    FlowImpl flow = make_flow(small(v.transform, v.loops), 0.1, ++seed);
    for (const Lattice& lattice : {Lattice::square(4), Lattice{4, 8}, Lattice::square(8)}) {
      INFO("on " << lattice.str());
      const at::Tensor z = flow.prior().sample(3, lattice, f64);
      testing::check_roundtrip(flow.transform(), z, 1e-11);
      if (lattice.volume() <= 16) testing::check_logdet_vs_autograd(flow.transform(), z.narrow(0, 0, 2), 1e-9);
    }
    // E_q[u / q] = 1 for the uniform density u: a wrong constant in log q shows as e^-c.
    torch::NoGradGuard no_grad;
    FlowImpl mild = make_flow(small(v.transform, v.loops), 0.03, seed);
    const Density d = mild.sample(5000, Lattice::square(4));
    const at::Tensor w = torch::exp(mild.prior().log_prob(d.phi) - d.logq);
    const double mean = w.mean().item<double>(), se = w.std().item<double>() / std::sqrt(5000.0);
    INFO("E_q[u/q] = " << mean << " +- " << se);
    REQUIRE(se < 0.01);  // power: a constant error of 0.04 in log q would show
    CHECK(std::abs(mean - 1) < 4 * se);
    CHECK((mild.log_prob(d.phi) - d.logq).abs().max().item<double>() < 1e-10 * (1 + d.logq.abs().max().item<double>()));
  }
}

TEST_CASE("gauge coupling flow leaves each layer's conditioner inputs unchanged", "[flows][gauge]") {
  const GaugeCouplingOptions o = small("rq_spline_circle", true);
  for (std::int64_t i = 0; i < 8; ++i) {
    torch::manual_seed(20 + i);
    GaugeCouplingLayer layer((i / 4) % 2, i % 4, o);
    layer->to(torch::kFloat64);
    testing::randomise(*layer, 0.5, 30 + i);
    const at::Tensor theta = u1::haar_links(2, Lattice::square(8), f64);
    const GaugeMasks m = gauge_masks(8, 8, (i / 4) % 2, i % 4, f64);
    const Density y = layer->forward({theta, torch::zeros({2}, f64)});
    REQUIRE(circle_distance(y.phi, theta) > 1e-3);  // the layer does something
    CHECK((layer->conditioner_input(y.phi, m) - layer->conditioner_input(theta, m)).abs().max().item<double>() < 1e-12);
  }
}

TEST_CASE("gauge coupling flow: gauge equivariance and a gauge-invariant density", "[flows][gauge]") {
  for (const auto& v : kVariants) {
    INFO(v.transform);
    FlowImpl flow = make_flow(small(v.transform, v.loops), 0.1, 40);
    torch::NoGradGuard no_grad;
    const at::Tensor z = flow.prior().sample(4, Lattice::square(8), f64);
    const at::Tensor alpha = 2 * M_PI * torch::rand({4, 8, 8}, f64);
    const Density a = flow.transform().forward({z, torch::zeros({4}, f64)});
    const Density b = flow.transform().forward({u1::gauge_transform(z, alpha), torch::zeros({4}, f64)});
    CHECK(circle_distance(b.phi, u1::gauge_transform(a.phi, alpha)) < 1e-10);
    CHECK((a.logq - b.logq).abs().max().item<double>() < 1e-10);
    CHECK((flow.log_prob(u1::gauge_transform(a.phi, alpha)) - flow.log_prob(a.phi)).abs().max().item<double>() < 1e-9);
  }
}

TEST_CASE("gauge coupling flow commutes with translations by 4 sites and runs on every lattice", "[flows][gauge]") {
  FlowImpl flow = make_flow(small("rq_spline_circle", true), 0.1, 50);
  torch::NoGradGuard no_grad;
  const at::Tensor z = flow.prior().sample(2, Lattice::square(8), f64);
  const auto shift = [](const at::Tensor& t) { return torch::roll(t, {4, 4}, {2, 3}); };
  const Density a = flow.transform().forward({z, torch::zeros({2}, f64)});
  const Density b = flow.transform().forward({shift(z), torch::zeros({2}, f64)});
  CHECK(circle_distance(b.phi, shift(a.phi)) < 1e-10);
  CHECK((a.logq - b.logq).abs().max().item<double>() < 1e-10);
  for (const Lattice& lattice : {Lattice::square(12), Lattice{8, 16}}) CHECK(flow.sample(2, lattice).logq.isfinite().all().item<bool>());
  CHECK_THROWS_WITH(flow.sample(2, Lattice::square(6)), Catch::Contains("multiples of 4"));
}

TEST_CASE("gauge coupling flow rejects transforms that are not on the circle", "[flows][gauge]") {
  CHECK_THROWS_WITH(GaugeCoupling(small("rq_spline_interval", true)), Catch::Contains("not a transform of the circle"));
  CHECK_THROWS_AS(GaugeCoupling(small("rq_spline_circle", true).layers(0)), UserError);
}
