// The conformance checks every registered elementwise transform must pass (flows/elementwise/registry.hpp), each
// under several option sets (elementwise_cases.hpp): a new transform is checked by adding it to the registry.
//
// Tolerances are multiples of the dtype's epsilon, scaled by the conditioning of the question asked: a map with
// slope g moves an error in x by g in y, so inverting to x carries an error ~ eps (1 + |y|) / g and mapping back
// to y one ~ eps (1 + |x|) g; no check uses a fixed absolute tolerance.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "elementwise_cases.hpp"

using namespace latflow;
using namespace latflow::testing;

namespace {
const auto f64 = torch::dtype(torch::kFloat64);
const auto f32 = torch::dtype(torch::kFloat32);

/// Round-trip errors in units of the dtype's epsilon, each relative to its conditioning: for x' = f^-1(f(x)),
/// |x' - x| / (S (1 + 1/g)); for y' = f(f^-1(y)), |y' - y| / (S (1 + g)) (S = 1 + max(|x|, |y|), g = f'(x)); and
/// for the log-derivatives, |log |d f^-1/dy| at y + log f' at the x returned| / (1 + |log f'|), both directions.
struct RoundTrip {
  double x_error, y_error, log_derivative_error;
};

RoundTrip round_trip(const ElementwiseTransform& t, const at::Tensor& points, const at::Tensor& params) {
  const Domain d = t.domain();
  const double eps = epsilon(points.scalar_type());
  const auto magnitude = [](const at::Tensor& a, const at::Tensor& b) { return 1 + torch::maximum(a.abs(), b.abs()); };
  const auto ld_error = [eps](const ElementwiseResult& inverse, const ElementwiseResult& forward) {
    return max_of((inverse.log_derivative + forward.log_derivative).abs() / (1 + forward.log_derivative.abs())) / eps;
  };
  const ElementwiseResult f = t.forward(points, params);
  const ElementwiseResult back = t.inverse(f.y, params);
  const ElementwiseResult at_back = t.forward(back.y, params);
  const at::Tensor g = torch::exp(f.log_derivative);
  const double x_error = max_of(difference(d, back.y, points).abs() / (magnitude(points, f.y) * (1 + 1 / g))) / eps;

  const ElementwiseResult inv = t.inverse(points, params);
  const ElementwiseResult again = t.forward(inv.y, params);
  const at::Tensor g_inv = torch::exp(-inv.log_derivative);
  const double y_error = max_of(difference(d, again.y, points).abs() / (magnitude(points, inv.y) * (1 + g_inv))) / eps;
  return {x_error, y_error, std::max(ld_error(back, at_back), ld_error(inv, again))};
}

/// rows x n points on a uniform grid over the domain (both faces of an interval; [0, 2 pi) without its end;
/// [-6, 6] on the real line, the spline ranges and tails of the option sets).
at::Tensor grid(const Domain& d, std::int64_t rows, std::int64_t n, const c10::TensorOptions& o) {
  at::Tensor line;
  switch (d.kind) {
    case Domain::Kind::interval:
      line = torch::linspace(d.lo, d.hi, n, o);
      break;
    case Domain::Kind::circle:
      line = torch::linspace(0, elementwise::two_pi, n + 1, o).narrow(0, 0, n);
      break;
    case Domain::Kind::real_line:
      line = torch::linspace(-6, 6, n, o);
      break;
  }
  return line.expand({rows, n});
}
}  // namespace

TEST_CASE("elementwise: zero raw parameters are exactly the identity", "[elementwise]") {
  for (const auto& c : elementwise_cases()) {
    for (const auto& o : {f64, f32}) {
      INFO(c.label << " in " << o.dtype());
      const ElementwiseTransform& t = *c.transform;
      const at::Tensor x = domain_points(t.domain(), 4, 257, 1, o);
      const at::Tensor zero = torch::zeros({4, 257, t.parameters_per_element()}, o);
      for (const ElementwiseResult& r : {t.forward(x, zero), t.inverse(x, zero)}) {
        CHECK(torch::equal(r.y, x));
        CHECK(torch::equal(r.log_derivative, torch::zeros_like(x)));
      }
    }
  }
}

TEST_CASE("elementwise: forward and inverse round trips to ~1e-12 relative (conditioning-scaled)", "[elementwise]") {
  std::uint64_t seed = 100;
  for (const auto& c : elementwise_cases()) {
    for (double scale : {0.0, 1.0, 5.0}) {
      const ElementwiseTransform& t = *c.transform;
      const at::Tensor x = domain_points(t.domain(), 16, 128, ++seed, f64);
      const RoundTrip r = round_trip(t, x, raw_parameters(t, {16, 128}, scale, ++seed, f64));
      INFO(c.label << ", raw parameters of scale " << scale << ": errors / eps: x " << r.x_error << ", y " << r.y_error
                   << ", log-derivative " << r.log_derivative_error);
      const double tolerance = 1e-12 / epsilon(torch::kFloat64);
      CHECK(r.x_error <= tolerance);
      CHECK(r.y_error <= tolerance);
      CHECK(r.log_derivative_error <= tolerance);
    }
  }
}

TEST_CASE("elementwise: the log-derivative is d y / d x by autograd, forward and inverse", "[elementwise]") {
  // The reference, autograd through the forward pass, has its own rounding: the maps compute y = x + (y - x),
  // whose derivative 1 + d(y - x)/dx carries an absolute error ~ eps (1 + max g) where g is small. Hence the
  // scale 1 + g + (the largest slope of the same map).
  std::uint64_t seed = 200;
  for (const auto& c : elementwise_cases()) {
    for (double scale : {0.0, 1.0, 5.0}) {
      const ElementwiseTransform& t = *c.transform;
      // One map per row on a grid fine enough to put points in every bin, so that the row's largest slope bounds
      // the terms of the derivative.
      const at::Tensor params = raw_parameters(t, {4, 1}, scale, ++seed, f64);
      const at::Tensor points = grid(t.domain(), 4, 2049, f64);
      for (bool inverse : {false, true}) {
        const at::Tensor v = points.clone().requires_grad_(true);
        const ElementwiseResult r = inverse ? t.inverse(v, params) : t.forward(v, params);
        const at::Tensor autograd = torch::autograd::grad({r.y.sum()}, {v})[0];
        const at::Tensor g = torch::exp(r.log_derivative).detach();
        const at::Tensor largest = std::get<0>(g.max(-1, true));
        const double error = max_of((autograd - g).abs() / (1 + g + largest)) / epsilon(torch::kFloat64);
        INFO(c.label << (inverse ? ", inverse" : ", forward") << ", raw parameters of scale " << scale
                     << ": error / eps " << error);
        CHECK(error <= 1024);
      }
    }
  }
}

TEST_CASE("elementwise: interval faces map to themselves exactly, with finite log-derivatives and gradients",
          "[elementwise]") {
  std::uint64_t seed = 300;
  for (const auto& c : elementwise_cases()) {
    const ElementwiseTransform& t = *c.transform;
    const Domain d = t.domain();
    if (d.kind != Domain::Kind::interval) continue;
    for (const auto& o : {f64, f32}) {
      for (double scale : {0.0, 1.0, 5.0, 50.0}) {
        INFO(c.label << " in " << o.dtype() << ", raw parameters of scale " << scale);
        const at::Tensor faces = torch::tensor({d.lo, d.hi}, o).expand({16, 2});
        const at::Tensor params = raw_parameters(t, {16, 2}, scale, ++seed, o).requires_grad_(true);
        for (bool inverse : {false, true}) {
          const ElementwiseResult r = inverse ? t.inverse(faces, params) : t.forward(faces, params);
          CHECK(torch::equal(r.y, faces));
          CHECK(all_finite(r.log_derivative));
          const at::Tensor grad = torch::autograd::grad({r.y.sum() + r.log_derivative.sum()}, {params})[0];
          CHECK(all_finite(grad));
        }
      }
    }
  }
}

TEST_CASE("elementwise: circular maps take the circle onto itself and are C^1 across the seam", "[elementwise]") {
  std::uint64_t seed = 400;
  for (const auto& c : elementwise_cases()) {
    const ElementwiseTransform& t = *c.transform;
    if (t.domain().kind != Domain::Kind::circle) continue;
    for (const auto& o : {f64, f32}) {
      const double eps = epsilon(c10::typeMetaToScalarType(o.dtype())),
                   P = period(c10::typeMetaToScalarType(o.dtype()));
      for (double scale : {0.0, 1.0, 5.0}) {
        INFO(c.label << " in " << o.dtype() << ", raw parameters of scale " << scale);
        const at::Tensor params = raw_parameters(t, {16, 1}, scale, ++seed, o);
        // Both sides of the seam: 0 and the largest angle below 2 pi.
        const at::Tensor seam =
            torch::tensor({0.0, std::nextafter(P, 0.0)}, o).expand({16, 2}).clone().requires_grad_(true);
        const ElementwiseResult r = t.forward(seam, params);
        const at::Tensor ld_slope =
            std::get<0>(torch::autograd::grad({r.log_derivative.sum()}, {seam})[0].abs().max(1));
        const at::Tensor y = r.y.detach(), ld = r.log_derivative.detach();
        const at::Tensor g = torch::exp(ld.select(1, 0));
        // The image moves by g times the gap of one ulp of 2 pi, the log-derivative by its slope times that gap.
        CHECK(max_of(circular_difference(y.select(1, 1), y.select(1, 0)).abs() / (1 + g)) <= 16 * eps * P);
        CHECK(max_of((ld.select(1, 1) - ld.select(1, 0)).abs() - 2 * eps * P * ld_slope) <=
              64 * eps * (1 + max_of(ld.abs())));

        const at::Tensor x = domain_points(t.domain(), 16, 256, ++seed, o);
        for (const ElementwiseResult& image : {t.forward(x, params), t.inverse(x, params)}) {
          CHECK(image.y.min().item<double>() >= 0);
          CHECK(image.y.max().item<double>() < P);
        }
        // Any representation of an angle: shifted by a period, the same point of the circle.
        const ElementwiseResult shifted = t.forward(x - P, params), plain = t.forward(x, params);
        CHECK(max_of(circular_difference(shifted.y, plain.y).abs() / (1 + torch::exp(plain.log_derivative))) <=
              16 * eps * P);
      }
    }
  }
}

TEST_CASE("elementwise: strictly increasing on a fine grid (degree 1 on the circle)", "[elementwise]") {
  std::uint64_t seed = 500;
  for (const auto& c : elementwise_cases()) {
    const ElementwiseTransform& t = *c.transform;
    const Domain d = t.domain();
    for (double scale : {0.0, 1.0, 5.0}) {
      INFO(c.label << ", raw parameters of scale " << scale);
      const at::Tensor x = grid(d, 4, 10001, f64);
      const at::Tensor params = raw_parameters(t, {4, 1}, scale, ++seed, f64);
      const at::Tensor y = t.forward(x, params).y;
      if (d.kind != Domain::Kind::circle) {
        CHECK(y.diff(1, 1).min().item<double>() > 0);
        continue;
      }
      // Going once round the circle in small positive steps: every step forward (mod 2 pi) and the steps adding
      // up to one turn, so the map is orientation-preserving of degree 1.
      const double P = period(torch::kFloat64);
      const at::Tensor steps = torch::remainder(y.roll(-1, 1) - y, P);
      CHECK(steps.min().item<double>() > 0);
      CHECK(max_of((steps.sum(1) - P).abs()) <= 10001 * 4 * epsilon(torch::kFloat64) * P);
    }
  }
}

TEST_CASE("elementwise: finite for extreme raw parameters (+-50)", "[elementwise]") {
  std::uint64_t seed = 600;
  for (const auto& c : elementwise_cases()) {
    const ElementwiseTransform& t = *c.transform;
    const Domain d = t.domain();
    for (const auto& o : {f64, f32}) {
      INFO(c.label << " in " << o.dtype());
      const std::int64_t P = t.parameters_per_element();
      auto gen = at::detail::createCPUGenerator(++seed);
      const at::Tensor signs = torch::randint(0, 2, {6, 64, P}, gen, torch::dtype(torch::kFloat64)) * 2 - 1;
      at::Tensor params = (50 * signs).to(o.dtype());
      params.select(0, 0).fill_(50);
      params.select(0, 1).fill_(-50);
      params.requires_grad_(true);
      const at::Tensor x = domain_points(d, 6, 64, ++seed, o);
      for (bool inverse : {false, true}) {
        const ElementwiseResult r = inverse ? t.inverse(x, params) : t.forward(x, params);
        INFO((inverse ? "inverse" : "forward"));
        CHECK(all_finite(r.y));
        CHECK(all_finite(r.log_derivative));
        if (d.kind == Domain::Kind::interval) {
          CHECK(r.y.min().item<double>() >= d.lo);
          CHECK(r.y.max().item<double>() <= d.hi);
        }
        CHECK(all_finite(torch::autograd::grad({r.y.sum() + r.log_derivative.sum()}, {params})[0]));
      }
    }
  }
}

TEST_CASE("elementwise: gradients with respect to the raw parameters match finite differences", "[elementwise]") {
  // A smooth scalar of the outputs (on the circle of cos y and sin y, which do not jump at the seam); central
  // differences with steps h and h/2, Richardson-extrapolated: truncation ~ h^4, and rounding ~ eps (sum of
  // |terms|) / h amplified by the conditioning of an inverse, hence the 1024.
  const double h = 1e-4, eps = epsilon(torch::kFloat64);
  std::uint64_t seed = 700;
  for (const auto& c : elementwise_cases()) {
    const ElementwiseTransform& t = *c.transform;
    const Domain d = t.domain();
    const at::Tensor points = domain_points(d, 1, 4, ++seed, f64);
    const at::Tensor weights = torch::randn({3, 1, 4}, at::detail::createCPUGenerator(++seed), f64);
    for (bool inverse : {false, true}) {
      const auto objective = [&](const at::Tensor& p, at::Tensor* magnitude) {
        const ElementwiseResult r = inverse ? t.inverse(points, p) : t.forward(points, p);
        const at::Tensor terms = d.kind == Domain::Kind::circle
                                     ? torch::stack({weights[0] * torch::cos(r.y), weights[1] * torch::sin(r.y),
                                                     weights[2] * r.log_derivative})
                                     : torch::stack({weights[0] * r.y, weights[2] * r.log_derivative});
        if (magnitude) *magnitude = terms.abs().sum();
        return terms.sum();
      };
      const at::Tensor params = raw_parameters(t, {1, 4}, 1.0, ++seed, f64).requires_grad_(true);
      at::Tensor magnitude;
      const at::Tensor grad = torch::autograd::grad({objective(params, &magnitude)}, {params})[0];
      torch::NoGradGuard no_grad;
      for (std::int64_t e : {0, 3})
        for (std::int64_t j = 0; j < t.parameters_per_element(); ++j) {
          const auto central = [&](double step) {
            at::Tensor up = params.detach().clone(), down = up.clone();
            up[0][e][j] += step;
            down[0][e][j] -= step;
            return (objective(up, nullptr) - objective(down, nullptr)).item<double>() / (2 * step);
          };
          const double fd = (4 * central(h / 2) - central(h)) / 3;
          const double ad = grad[0][e][j].item<double>();
          const double tol = 1e-8 * std::abs(ad) + 1024 * eps * magnitude.item<double>() / h;
          INFO(c.label << (inverse ? ", inverse" : ", forward") << ": element " << e << ", raw parameter " << j
                       << ": autograd " << ad << ", finite differences " << fd);
          CHECK(std::abs(fd - ad) <= tol);
        }
    }
  }
}

TEST_CASE("elementwise: float32 round trips and log-derivatives, and agreement with float64", "[elementwise]") {
  std::uint64_t seed = 800;
  const double eps = epsilon(torch::kFloat32);
  for (const auto& c : elementwise_cases()) {
    const ElementwiseTransform& t = *c.transform;
    for (double scale : {0.0, 1.0, 5.0}) {
      INFO(c.label << ", raw parameters of scale " << scale);
      const at::Tensor x = domain_points(t.domain(), 16, 128, ++seed, f32);
      const at::Tensor params = raw_parameters(t, {16, 128}, scale, ++seed, f32);
      const RoundTrip r = round_trip(t, x, params);
      INFO("round-trip errors / eps: x " << r.x_error << ", y " << r.y_error << ", log-derivative "
                                         << r.log_derivative_error);
      CHECK(r.x_error <= 64);
      CHECK(r.y_error <= 64);
      CHECK(r.log_derivative_error <= 256);
      // The same inputs in float64: float32 rounding alone, scaled by the conditioning as in the round trip. (Not
      // the log-derivatives: they depend on the bin widths, differences of knots that float32 rounds relative to
      // the interval, not to the bin.)
      const ElementwiseResult single = t.forward(x, params);
      const ElementwiseResult twice = t.forward(x.to(torch::kFloat64), params.to(torch::kFloat64));
      const at::Tensor g = torch::exp(twice.log_derivative);
      const at::Tensor y_error = difference(t.domain(), single.y.to(torch::kFloat64), twice.y).abs() /
                                 ((1 + torch::maximum(twice.y.abs(), x.abs())) * (1 + g));
      CHECK(max_of(y_error) <= 64 * eps);
    }
  }
}

TEST_CASE("elementwise: bad options, parameter shapes and dtypes are one-line UserErrors", "[elementwise]") {
  const auto user_error = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  const auto one_line = [](const std::string& message) {
    return !message.empty() && message.find('\n') == std::string::npos;
  };
  for (const auto& entry : elementwise_registry().entries()) {
    INFO(entry.name);
    for (std::int64_t bins : {0, -3}) {
      const std::string m = user_error([&] { entry.build(ElementwiseOptions().bins(bins)); });
      INFO(m);
      CHECK(one_line(m));
      CHECK(m.find("bins") != std::string::npos);
    }
    const ElementwisePtr t = entry.build(ElementwiseOptions().bins(4));
    const std::int64_t P = t->parameters_per_element();
    const at::Tensor x = domain_points(t->domain(), 2, 3, 1, f64);
    for (std::int64_t wrong : {P - 1, P + 1}) {
      const std::string m = user_error([&] { t->forward(x, torch::zeros({2, 3, wrong}, f64)); });
      INFO(m);
      CHECK(one_line(m));
      CHECK(m.find(std::to_string(P)) != std::string::npos);
      CHECK(one_line(user_error([&] { t->inverse(x, torch::zeros({2, 3, wrong}, f64)); })));
    }
    CHECK(one_line(user_error([&] { t->forward(x, torch::zeros({}, f64)); })));
    CHECK(one_line(user_error([&] { t->forward(x, torch::zeros({5, 3, P}, f64)); })));  // does not broadcast
    CHECK(one_line(user_error([&] { t->forward(x, torch::zeros({2, 3, P}, f32)); })));  // dtype mismatch
    CHECK(one_line(user_error([&] { t->forward(x.to(torch::kInt64), torch::zeros({2, 3, P}, torch::kInt64)); })));
    CHECK_NOTHROW(t->forward(x, torch::zeros({3, P}, f64)));  // broadcast: one parameter set per column
    CHECK_NOTHROW(t->forward(x, torch::zeros({P}, f64)));     // one parameter set for all
  }
  const auto& r = elementwise_registry();
  for (double bound : {0.0, -1.0, std::numeric_limits<double>::infinity()})
    CHECK(one_line(user_error([&] { r.create("rq_spline_real_line", ElementwiseOptions().bound(bound)); })));
  for (const char* name : {"rq_spline_interval", "piecewise_linear", "piecewise_quadratic"}) {
    INFO(name);
    CHECK(one_line(user_error([&] { r.create(name, ElementwiseOptions().lo(1).hi(1)); })));
    CHECK(one_line(user_error([&] { r.create(name, ElementwiseOptions().lo(2).hi(1)); })));
    CHECK(one_line(user_error([&] { r.create(name, ElementwiseOptions().bins(10).min_bin_height(0.1)); })));
    CHECK(one_line(user_error([&] { r.create(name, ElementwiseOptions().min_bin_width(0)); })));
    CHECK(one_line(user_error([&] { r.create(name, ElementwiseOptions().min_derivative(1)); })));
  }
  CHECK(one_line(user_error([&] { r.create("ncp_mixture", ElementwiseOptions().max_log_scale(0)); })));
  CHECK(one_line(user_error([&] { r.create("ncp_mixture", ElementwiseOptions().max_log_scale(50)); })));
  CHECK(one_line(user_error([&] { r.create("rq_spline", ElementwiseOptions()); })));
}

TEST_CASE("elementwise: CUDA matches the CPU, keeps the identity and the faces exact", "[elementwise][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  std::uint64_t seed = 900;
  for (const auto& c : elementwise_cases()) {
    const ElementwiseTransform& t = *c.transform;
    const Domain d = t.domain();
    for (const auto& o : {f64, f32}) {
      const auto type = c10::typeMetaToScalarType(o.dtype());
      const double eps = epsilon(type);
      INFO(c.label << " in " << o.dtype());
      const at::Tensor x = domain_points(d, 16, 128, ++seed, o);
      const at::Tensor params = raw_parameters(t, {16, 128}, 1.0, ++seed, o);
      const at::Tensor xc = x.cuda(), pc = params.cuda();
      for (bool inverse : {false, true}) {
        const ElementwiseResult cpu = inverse ? t.inverse(x, params) : t.forward(x, params);
        const ElementwiseResult gpu = inverse ? t.inverse(xc, pc) : t.forward(xc, pc);
        CHECK(gpu.y.device().is_cuda());
        const at::Tensor g = torch::exp(cpu.log_derivative);
        CHECK(max_of(difference(d, gpu.y.cpu(), cpu.y).abs() /
                     ((1 + torch::maximum(x.abs(), cpu.y.abs())) * (1 + g))) <= 64 * eps);
        CHECK(max_of((gpu.log_derivative.cpu() - cpu.log_derivative).abs() / (1 + cpu.log_derivative.abs())) <=
              1024 * eps);
      }
      const RoundTrip r = round_trip(t, xc, pc);
      CHECK(r.x_error <= 64);
      CHECK(r.y_error <= 64);
      const at::Tensor zero = torch::zeros_like(pc);
      for (const ElementwiseResult& id : {t.forward(xc, zero), t.inverse(xc, zero)}) {
        CHECK(torch::equal(id.y, xc));
        CHECK(torch::equal(id.log_derivative, torch::zeros_like(xc)));
      }
      if (d.kind == Domain::Kind::interval) {
        const at::Tensor faces = torch::tensor({d.lo, d.hi}, o).cuda().expand({16, 2});
        const at::Tensor p = raw_parameters(t, {16, 2}, 5.0, ++seed, o).cuda();
        CHECK(torch::equal(t.forward(faces, p).y, faces));
        CHECK(torch::equal(t.inverse(faces, p).y, faces));
      }
    }
  }
}
