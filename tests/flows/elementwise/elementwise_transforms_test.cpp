// What the conformance suite cannot know about each transform: its parameter layout, its closed form against
// the paper's formulas (evaluated here independently, in plain double arithmetic), tails, face derivatives,
// rotation, and broadcasting of shared parameter sets.
#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "elementwise_cases.hpp"
#include "flows/elementwise/ncp_mixture.hpp"
#include "flows/elementwise/piecewise_linear.hpp"
#include "flows/elementwise/piecewise_quadratic.hpp"
#include "flows/elementwise/rational_quadratic_spline.hpp"

using namespace latflow;
using namespace latflow::testing;

namespace {
const auto f64 = torch::dtype(torch::kFloat64);
const double eps = std::numeric_limits<double>::epsilon();

std::vector<double> softmax(const std::vector<double>& raw) {
  double sum = 0;
  for (double r : raw) sum += std::exp(r);
  std::vector<double> out;
  for (double r : raw) out.push_back(std::exp(r) / sum);
  return out;
}

/// Durkan et al.'s floored bins and derivatives, directly.
std::vector<double> fractions(const std::vector<double>& raw, double m) {
  std::vector<double> out;
  for (double q : softmax(raw)) out.push_back(m + (1 - raw.size() * m) * q);
  return out;
}
double derivative(double raw, double m) { return m + std::log1p(std::exp(raw + std::log(std::expm1(1 - m)))); }

at::Tensor row(const std::vector<double>& v) { return torch::tensor(v, f64); }
}  // namespace

TEST_CASE("elementwise registry: names, parameter layouts and domains", "[elementwise]") {
  const auto& r = elementwise_registry();
  CHECK(r.names() == std::vector<std::string>{"rq_spline_interval", "rq_spline_real_line", "rq_spline_circle",
                                              "piecewise_linear", "piecewise_quadratic", "ncp_mixture"});
  for (const auto& e : r.entries()) CHECK(!e.description.empty());
  const ElementwiseOptions o = ElementwiseOptions().bins(8);
  const ElementwiseOptions fixed = ElementwiseOptions(o).rotation(false);
  CHECK(r.create("rq_spline_interval", o)->parameters_per_element() == 25);
  CHECK(r.create("rq_spline_real_line", o)->parameters_per_element() == 23);
  CHECK(r.create("rq_spline_circle", o)->parameters_per_element() == 25);
  CHECK(r.create("rq_spline_circle", fixed)->parameters_per_element() == 24);
  CHECK(r.create("piecewise_linear", o)->parameters_per_element() == 8);
  CHECK(r.create("piecewise_quadratic", o)->parameters_per_element() == 17);
  CHECK(r.create("ncp_mixture", o)->parameters_per_element() == 17);
  CHECK(r.create("ncp_mixture", fixed)->parameters_per_element() == 16);
  for (const auto& e : r.entries()) CHECK(r.create(e.name, o)->name() == e.name);

  const Domain unit = r.create("piecewise_quadratic", o)->domain();
  CHECK((unit.kind == Domain::Kind::interval && unit.lo == 0 && unit.hi == 1));
  const Domain shifted = r.create("rq_spline_interval", ElementwiseOptions().lo(-2).hi(3))->domain();
  CHECK((shifted.lo == -2 && shifted.hi == 3));
  CHECK(r.create("rq_spline_real_line", o)->domain().kind == Domain::Kind::real_line);
  CHECK(r.create("ncp_mixture", o)->domain().kind == Domain::Kind::circle);
  CHECK(r.create("rq_spline_circle", o)->domain().hi == elementwise::two_pi);
}

TEST_CASE("rational-quadratic spline: Durkan et al.'s formulas, knot derivatives at the faces", "[elementwise]") {
  const std::int64_t K = 3;
  const double m = 1e-3, lo = -1, hi = 2;
  const RationalQuadraticSpline t(RationalQuadraticSpline::Kind::interval, ElementwiseOptions().bins(K).lo(lo).hi(hi));
  const std::vector<double> raw = {0.3, -1.2, 0.8, 1.5, 0.1, -0.4, 0.9, -2.0, 0.2, 1.1};  // 3K + 1
  const std::vector<double> w = fractions({raw[0], raw[1], raw[2]}, m), h = fractions({raw[3], raw[4], raw[5]}, m);
  std::vector<double> xk = {lo}, yk = {lo}, d;
  for (std::int64_t k = 0; k < K; ++k) {
    xk.push_back(xk.back() + (hi - lo) * w[k]);
    yk.push_back(yk.back() + (hi - lo) * h[k]);
  }
  for (std::int64_t k = 0; k <= K; ++k) d.push_back(derivative(raw[2 * K + k], m));
  std::vector<double> x, y, ld;
  for (double xi_target : {0.0, 0.25, 0.7}) {
    for (std::int64_t k = 0; k < K; ++k) {
      const double xv = xk[k] + xi_target * (xk[k + 1] - xk[k]);
      const double wk = xk[k + 1] - xk[k], hk = yk[k + 1] - yk[k], s = hk / wk, xi = (xv - xk[k]) / wk;
      const double D = s + (d[k + 1] + d[k] - 2 * s) * xi * (1 - xi);
      x.push_back(xv);
      y.push_back(yk[k] + hk * (s * xi * xi + d[k] * xi * (1 - xi)) / D);
      ld.push_back(
          std::log(s * s * (d[k + 1] * xi * xi + 2 * s * xi * (1 - xi) + d[k] * (1 - xi) * (1 - xi)) / (D * D)));
    }
  }
  x.push_back(hi);
  y.push_back(hi);
  ld.push_back(std::log(d[K]));
  const ElementwiseResult r = t.forward(row(x), row(raw));
  CHECK(max_of((r.y - row(y)).abs()) <= 16 * eps * hi);
  CHECK(max_of((r.log_derivative - row(ld)).abs()) <= 64 * eps);
  // At the faces the slope is the learnt derivative (the header: no tails, d_0 and d_K learnable).
  CHECK(r.log_derivative[0].item<double>() == Approx(std::log(d[0])).margin(16 * eps));
}

TEST_CASE("rational-quadratic spline on the real line: identity tails, C^1 at the bound", "[elementwise]") {
  const double B = 1.5;
  const RationalQuadraticSpline t(RationalQuadraticSpline::Kind::real_line, ElementwiseOptions().bins(5).bound(B));
  const at::Tensor params = raw_parameters(t, {4, 1}, 3.0, 11, f64);
  const at::Tensor outside = torch::tensor({-1e6, -7.0, -1.5000001, 1.5000001, 2.0, 1e300}, f64).expand({4, 6});
  for (const ElementwiseResult& r : {t.forward(outside, params), t.inverse(outside, params)}) {
    CHECK(torch::equal(r.y, outside));
    CHECK(torch::equal(r.log_derivative, torch::zeros_like(outside)));
  }
  // The boundary derivatives are fixed to 1, matching the tails: the log-derivative is 0 at +-B from inside.
  const at::Tensor bounds = torch::tensor({-B, B}, f64).expand({4, 2});
  const ElementwiseResult at_bounds = t.forward(bounds, params);
  CHECK(torch::equal(at_bounds.y, bounds));
  CHECK(max_of(at_bounds.log_derivative.abs()) <= 16 * eps);
}

TEST_CASE("rational-quadratic spline on the real line: the point reflection of its parameters mirrors the map",
          "[elementwise]") {
  const RationalQuadraticSpline t(RationalQuadraticSpline::Kind::real_line, ElementwiseOptions().bins(5).bound(2.0));
  const std::vector<std::int64_t> order = t.point_reflection();
  REQUIRE(static_cast<std::int64_t>(order.size()) == t.parameters_per_element());
  const at::Tensor params = raw_parameters(t, {40, 1}, 2.0, 13, f64);
  const at::Tensor mirrored = params.index_select(-1, torch::tensor(order, torch::kLong));
  const at::Tensor x = torch::linspace(-2.5, 2.5, 40, f64).unsqueeze(1);
  const ElementwiseResult a = t.forward(x, params), b = t.forward(-x, mirrored);
  CHECK(max_of((b.y + a.y).abs()) < 1e-13);
  CHECK(max_of((b.log_derivative - a.log_derivative).abs()) < 1e-12);
  // The check has power: the unmirrored parameters do not give the reflected map.
  CHECK(max_of((t.forward(-x, params).y + a.y).abs()) > 1e-2);
  const RationalQuadraticSpline circle(RationalQuadraticSpline::Kind::circle, ElementwiseOptions());
  CHECK_THROWS_AS(circle.point_reflection(), UserError);
}

TEST_CASE("circular rational-quadratic spline: shared seam derivative, rotation", "[elementwise]") {
  const std::int64_t K = 4;
  const double m = 1e-3, P = period(torch::kFloat64);
  const RationalQuadraticSpline t(RationalQuadraticSpline::Kind::circle, ElementwiseOptions().bins(K));
  at::Tensor params = raw_parameters(t, {}, 1.0, 21, f64);
  params[3 * K] = 0;  // no rotation: the spline alone fixes 0, with slope d_0 on both sides of the seam
  const double d0 = derivative(params[2 * K].item<double>(), m);
  const ElementwiseResult r = t.forward(torch::tensor({0.0, std::nextafter(P, 0.0)}, f64), params);
  CHECK(r.y[0].item<double>() == 0);
  CHECK(r.log_derivative[0].item<double>() == Approx(std::log(d0)).margin(16 * eps));
  CHECK(r.log_derivative[1].item<double>() == Approx(std::log(d0)).margin(1e-12));
  // The rotation alone: zero spline parameters and theta = 2 rotate every angle by 2 (mod 2 pi).
  at::Tensor rotation = torch::zeros({3 * K + 1}, f64);
  rotation[3 * K] = 2.0;
  const at::Tensor x = torch::linspace(0, 6, 13, f64);
  const ElementwiseResult rotated = t.forward(x, rotation);
  CHECK(max_of(circular_difference(rotated.y, x + 2).abs()) <= 4 * eps * P);
  CHECK(torch::equal(rotated.log_derivative, torch::zeros_like(x)));
  CHECK(max_of(circular_difference(t.inverse(rotated.y, rotation).y, x).abs()) <= 8 * eps * P);
}

TEST_CASE("piecewise-linear transform: Müller et al.'s CDF of a piecewise-constant density", "[elementwise]") {
  const std::int64_t K = 4;
  const double m = 1e-3;
  const PiecewiseLinear t(ElementwiseOptions().bins(K));
  const std::vector<double> raw = {0.5, -1.0, 2.0, 0.0};
  const std::vector<double> Q = fractions(raw, m);
  std::vector<double> x, y, ld;
  for (double xv : {0.0, 0.1, 0.3, 0.55, 0.8, 0.99, 1.0}) {
    const std::int64_t b = std::min<std::int64_t>(static_cast<std::int64_t>(xv * K), K - 1);
    double cdf = 0;
    for (std::int64_t k = 0; k < b; ++k) cdf += Q[k];
    x.push_back(xv);
    y.push_back(cdf + (xv * K - b) * Q[b]);
    ld.push_back(std::log(K * Q[b]));
  }
  const ElementwiseResult r = t.forward(row(x), row(raw));
  CHECK(max_of((r.y - row(y)).abs()) <= 8 * eps);
  CHECK(max_of((r.log_derivative - row(ld)).abs()) <= 16 * eps);
  CHECK(max_of((t.inverse(row(y), row(raw)).y - row(x)).abs()) <= 16 * eps);
}

TEST_CASE("piecewise-quadratic transform: Müller et al.'s CDF of a piecewise-linear density", "[elementwise]") {
  const std::int64_t K = 3;
  const double mw = 1e-3, mv = 1e-3;
  const PiecewiseQuadratic t(ElementwiseOptions().bins(K));
  const std::vector<double> raw = {0.4, -0.3, 1.0, 0.7, -1.5, 0.2, 1.8};  // K widths, K + 1 vertices
  const std::vector<double> W = fractions({raw[0], raw[1], raw[2]}, mw);
  // The paper's normalisation of the vertex values, then the floor of the header.
  double mass = 0;
  for (std::int64_t k = 0; k < K; ++k) mass += W[k] * (std::exp(raw[K + k]) + std::exp(raw[K + k + 1])) / 2;
  std::vector<double> V, xk = {0};
  for (std::int64_t i = 0; i <= K; ++i) V.push_back(mv + (1 - mv) * std::exp(raw[K + i]) / mass);
  for (std::int64_t k = 0; k < K; ++k) xk.push_back(xk.back() + W[k]);
  std::vector<double> x, y, ld;
  for (double alpha : {0.0, 0.3, 0.8}) {
    double below = 0;
    for (std::int64_t b = 0; b < K; ++b) {
      x.push_back(xk[b] + alpha * W[b]);
      y.push_back(below + W[b] * (V[b] * alpha + (V[b + 1] - V[b]) * alpha * alpha / 2));
      ld.push_back(std::log(V[b] + alpha * (V[b + 1] - V[b])));
      below += W[b] * (V[b] + V[b + 1]) / 2;
    }
  }
  CHECK(std::abs(xk.back() - 1) <= 4 * eps);
  const ElementwiseResult r = t.forward(row(x), row(raw));
  CHECK(max_of((r.y - row(y)).abs()) <= 16 * eps);
  CHECK(max_of((r.log_derivative - row(ld)).abs()) <= 64 * eps);
  CHECK(max_of((t.inverse(row(y), row(raw)).y - row(x)).abs()) <= 64 * eps);
}

TEST_CASE("NCP mixture: 2 atan(e^s tan(x/2)) per component, weighted mean, rotation", "[elementwise]") {
  const double S = 20, P = period(torch::kFloat64);
  const auto ncp = [](double x, double s) {  // the tutorial's form (arXiv 2101.08176), away from x = pi
    return std::fmod(2 * std::atan(std::exp(s) * std::tan(x / 2)) + 2 * M_PI, 2 * M_PI);
  };
  const auto ncp_log_slope = [](double x, double s) {
    return -std::log(std::exp(-s) * std::pow(std::cos(x / 2), 2) + std::exp(s) * std::pow(std::sin(x / 2), 2));
  };
  const std::vector<double> xs = {0.0, 0.4, 1.7, 3.0, 3.5, 5.9};
  {
    const NcpMixture t(ElementwiseOptions().bins(1).rotation(false));
    const double raw = 1.3, s = S * std::tanh(raw / S);
    const ElementwiseResult r = t.forward(row(xs), torch::tensor({0.0, raw}, f64));
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CHECK(r.y[i].item<double>() == Approx(ncp(xs[i], s)).margin(8 * eps * P));
      CHECK(r.log_derivative[i].item<double>() == Approx(ncp_log_slope(xs[i], s)).margin(16 * eps));
    }
  }
  {
    const NcpMixture t(ElementwiseOptions().bins(2));
    const std::vector<double> raw = {0.3, -0.5, 2.0, -1.0, 0.7};  // logits, log-scales, rotation
    const std::vector<double> w = softmax({raw[0], raw[1]});
    const ElementwiseResult r = t.forward(row(xs), row(raw));
    for (std::size_t i = 0; i < xs.size(); ++i) {
      double mean = 0, slope = 0;
      for (int j = 0; j < 2; ++j) {
        const double s = S * std::tanh(raw[2 + j] / S);
        // The continuous branch: each component is x plus a periodic shift in (-pi, pi).
        mean += w[j] * (xs[i] + std::remainder(ncp(xs[i], s) - xs[i], 2 * M_PI));
        slope += w[j] * std::exp(ncp_log_slope(xs[i], s));
      }
      CHECK(circular_difference(r.y[i], torch::tensor(mean + raw[4], f64)).abs().item<double>() <= 8 * eps * P);
      CHECK(r.log_derivative[i].item<double>() == Approx(std::log(slope)).margin(16 * eps));
    }
  }
}

TEST_CASE("elementwise: shared parameter sets broadcast over the elements", "[elementwise]") {
  for (const auto& c : elementwise_cases()) {
    INFO(c.label);
    const ElementwiseTransform& t = *c.transform;
    const Domain d = t.domain();
    const at::Tensor x = domain_points(d, 2, 3, 31, f64);
    const at::Tensor one = raw_parameters(t, {}, 1.0, 32, f64);
    const at::Tensor per_column = raw_parameters(t, {3}, 1.0, 33, f64);
    // Reductions over differently shaped tensors may round differently (an ulp in a softmax), which the map
    // amplifies by at most its slope or inverse slope.
    const auto agree = [&](const ElementwiseResult& a, const ElementwiseResult& b) {
      const at::Tensor conditioning = (1 + b.y.abs()) * (1 + torch::exp(b.log_derivative.abs()));
      return max_of(difference(d, a.y, b.y).abs() / conditioning) <= 16 * eps &&
             max_of((a.log_derivative - b.log_derivative).abs() / (1 + b.log_derivative.abs())) <= 64 * eps;
    };
    for (bool inverse : {false, true}) {
      INFO((inverse ? "inverse" : "forward"));
      const auto apply = [&](const at::Tensor& v, const at::Tensor& p) {
        return inverse ? t.inverse(v, p) : t.forward(v, p);
      };
      CHECK(agree(apply(x, one), apply(x, one.expand({2, 3, one.size(0)}))));
      const ElementwiseResult columns = apply(x, per_column), second_row = apply(x.select(0, 1), per_column);
      CHECK(agree({columns.y.select(0, 1), columns.log_derivative.select(0, 1)}, second_row));
      // The values broadcast too: one row of x against two rows of parameters.
      const ElementwiseResult rows = apply(x.select(0, 0), per_column.expand({2, 3, per_column.size(-1)}));
      CHECK(rows.y.sizes() == std::vector<std::int64_t>{2, 3});
      CHECK(rows.log_derivative.sizes() == std::vector<std::int64_t>{2, 3});
    }
  }
}
