// Torch tensors as a Boost.Odeint state: the operations compute the right numbers, and no state ever
// aliases another observably (copies share tensors, writes are copy-on-write).
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <boost/numeric/odeint/util/copy.hpp>

#include "odes/integrate.hpp"
#include "odes/registry.hpp"
#include "odes/tensor_algebra.hpp"
#include "tests/odes/test_dynamics.hpp"

using namespace latflow;
using namespace latflow::odes;
using namespace latflow::odes::testing;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

TensorTuple random_tuple() { return {{torch::randn({3, 2, 2}, kF64), torch::randn({3}, kF64)}}; }

TensorTuple clone(const TensorTuple& x) {
  TensorTuple c;
  for (const auto& p : x.parts) c.parts.push_back(p.clone());
  return c;
}

bool equal(const TensorTuple& a, const TensorTuple& b) {
  for (std::size_t p = 0; p < a.parts.size(); ++p)
    if (!torch::equal(a.parts[p], b.parts[p])) return false;
  return a.parts.size() == b.parts.size();
}

}  // namespace

TEST_CASE("linear combinations: values, in place only where unobservable", "[odes][algebra]") {
  torch::manual_seed(0);
  const TensorTuple x = random_tuple(), k1 = random_tuple(), k2 = random_tuple();
  const TensorTuple x0 = clone(x), k10 = clone(k1), k20 = clone(k2);
  const TensorOperations::scale_sum3<double, double, double> op(0.5, 2.0, -3.0);
  auto expected = [&](std::size_t p) { return 0.5 * x0.parts[p] + 2.0 * k10.parts[p] - 3.0 * k20.parts[p]; };

  SECTION("into an empty buffer") {
    TensorTuple out;
    op(out, x, k1, k2);
    REQUIRE(out.parts.size() == 2);
    for (std::size_t p = 0; p < 2; ++p) CHECK(torch::allclose(out.parts[p], expected(p), 0, 1e-15));
  }
  SECTION("an owned buffer is overwritten in place when no graph is recorded") {
    torch::NoGradGuard no_grad;
    TensorTuple out = clone(x);
    const void* before = out.parts[0].data_ptr();
    op(out, x, k1, k2);
    CHECK(out.parts[0].data_ptr() == before);
    CHECK(torch::allclose(out.parts[0], expected(0), 0, 1e-15));
  }
  SECTION("x <- a x + b k: the output may be the first term") {
    torch::NoGradGuard no_grad;
    TensorTuple y = clone(x);
    const void* before = y.parts[0].data_ptr();
    TensorOperations::scale_sum2<>(0.5, 2.0)(y, y, k1);
    CHECK(y.parts[0].data_ptr() == before);
    CHECK(torch::allclose(y.parts[0], 0.5 * x0.parts[0] + 2.0 * k10.parts[0], 0, 1e-15));
  }
  SECTION("a buffer that is also a later term is not overwritten in place") {
    torch::NoGradGuard no_grad;
    TensorTuple y = clone(k1);
    TensorOperations::scale_sum2<>(1.0, 2.0)(y, x, y);
    CHECK(torch::allclose(y.parts[0], x0.parts[0] + 2.0 * k10.parts[0], 0, 1e-15));
  }
  SECTION("a copy shares tensors, and a write to either leaves the other alone") {
    torch::NoGradGuard no_grad;
    TensorTuple a = clone(x), b;
    boost::numeric::odeint::copy(a, b);
    CHECK(b.parts[0].is_same(a.parts[0]));
    op(a, x, k1, k2);  // a's tensors are shared with b: a gets fresh ones
    CHECK(equal(b, x0));
    CHECK(torch::allclose(a.parts[0], expected(0), 0, 1e-15));
    TensorOperations::scale<>(3.0)(b);  // odeint's in-place `scale`
    CHECK(torch::allclose(b.parts[1], 3.0 * x0.parts[1], 0, 1e-15));
    CHECK(torch::allclose(a.parts[0], expected(0), 0, 1e-15));
  }
  SECTION("a view of another tensor is never written in place") {
    torch::NoGradGuard no_grad;
    auto base = x0.parts[0].clone();
    TensorTuple v{{base.view({3, 2, 2}), x0.parts[1].clone()}};
    TensorOperations::scale<>(2.0)(v);
    CHECK(torch::equal(base, x0.parts[0]));
    CHECK(torch::allclose(v.parts[0], 2.0 * x0.parts[0], 0, 1e-15));
  }
  SECTION("while a graph is recorded the expressions are functional and differentiable") {
    TensorTuple a{{x0.parts[0].clone().requires_grad_(), x0.parts[1].clone()}};
    TensorTuple out = clone(x);
    op(out, a, k1, k2);
    CHECK(equal(x, x0));  // out's old tensors were not written
    const auto g = torch::autograd::grad({out.parts[0].sum()}, {a.parts[0]})[0];
    CHECK(torch::allclose(g, torch::full_like(g, 0.5), 0, 1e-15));
  }
  // The terms never change.
  CHECK(equal(x, x0));
  CHECK(equal(k1, k10));
  CHECK(equal(k2, k20));
}

TEST_CASE("error norm and scaled error", "[odes][algebra]") {
  TensorTuple e{{torch::tensor({{-3.0, 1.0}}, kF64), torch::tensor({0.5}, kF64)}};
  CHECK(norm_inf(e) == 3.0);
  CHECK(boost::numeric::odeint::vector_space_norm_inf<TensorTuple>()(e) == 3.0);
  const TensorTuple x{{torch::tensor({{2.0, -4.0}}, kF64), torch::tensor({1.0}, kF64)}};
  const TensorTuple dxdt{{torch::tensor({{1.0, 1.0}}, kF64), torch::tensor({-2.0}, kF64)}};
  // e <- |e| / (atol + rtol (a_x |x| + a_dxdt |dxdt|)) with atol 0.1, rtol 0.5, a_x 1, a_dxdt 0.25.
  TensorOperations::rel_error<>(0.1, 0.5, 1.0, 0.25)(e, x, dxdt);
  CHECK(e.parts[0][0][0].item<double>() == Approx(3.0 / (0.1 + 0.5 * (2.0 + 0.25))));
  CHECK(e.parts[0][0][1].item<double>() == Approx(1.0 / (0.1 + 0.5 * (4.0 + 0.25))));
  CHECK(e.parts[1][0].item<double>() == Approx(0.5 / (0.1 + 0.5 * (1.0 + 0.5))));
  e.parts[1][0] = std::nan("");
  CHECK(std::isinf(norm_inf(e)));  // a NaN error must make the controller reject
  CHECK_FALSE(all_finite(e));
}

namespace {

/// v = phi, returned as phi itself: the velocity aliases the state.
class ReturnsItsInput : public Dynamics {
 public:
  Velocity operator()(double, const at::Tensor& phi) override {
    return {phi, torch::full({phi.size(0)}, static_cast<double>(phi[0].numel()), phi.options())};
  }
  std::vector<at::Tensor> parameters() const override { return {}; }
};

/// v = c, the same cached tensor at every call: the velocity aliases the dynamics' own memory.
class ReturnsCachedTensor : public Dynamics {
 public:
  explicit ReturnsCachedTensor(at::Tensor c) : c_(std::move(c)) {}
  Velocity operator()(double, const at::Tensor& phi) override { return {c_, torch::zeros({phi.size(0)}, phi.options())}; }
  std::vector<at::Tensor> parameters() const override { return {}; }

 private:
  at::Tensor c_;
};

}  // namespace

TEST_CASE("solves never write into tensors they do not own", "[odes][algebra]") {
  torch::manual_seed(2);
  const FlowState s0{torch::randn({2, 2, 2}, kF64), torch::zeros({2}, kF64)};
  const FlowState s0_copy{s0.phi.clone(), s0.logq.clone()};
  const auto c = torch::randn({2, 2, 2}, kF64);
  const auto c_copy = c.clone();
  ReturnsItsInput grows;
  ReturnsCachedTensor drifts(c);
  torch::NoGradGuard no_grad;  // the path that writes in place
  for (const auto& entry : stepper_registry().entries()) {
    DYNAMIC_SECTION(entry.name) {
      SolverOptions o;
      o.method = entry.name;
      o.steps = 200;
      o.rtol = o.atol = 1e-10;
      // phi(1) = e phi0 (Euler: (1 + 1/200)^200 phi0, 0.0068 phi0 short), log q(1) = log q0 - N (N = 4 sites).
      const double tol = entry.name == "euler" ? 1e-2 : 1e-8;
      const FlowState a = integrate_flow(grows, s0, 0.0, 1.0, o);
      CHECK(max_abs_diff(a.phi / s0_copy.phi, torch::full_like(a.phi, std::exp(1.0))) < tol);
      CHECK(max_abs_diff(a.logq, s0_copy.logq - 4.0) < 1e-12);
      // phi(1) = phi0 + c, exactly for every consistent method.
      const FlowState b = integrate_flow(drifts, s0, 0.0, 1.0, o);
      CHECK(max_abs_diff(b.phi, s0_copy.phi + c_copy) < 1e-12);
      CHECK(torch::equal(c, c_copy));
      CHECK(torch::equal(s0.phi, s0_copy.phi));
      CHECK(torch::equal(s0.logq, s0_copy.logq));
    }
  }
}
