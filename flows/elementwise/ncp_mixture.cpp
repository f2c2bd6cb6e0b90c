#include "flows/elementwise/ncp_mixture.hpp"

#include <limits>
#include <tuple>
#include <utility>

#include <torch/torch.h>

#include "flows/elementwise/circle.hpp"

namespace latflow {

using namespace elementwise;

namespace {
struct Mixture {
  at::Tensor logits;   ///< [..., M], the raw weight logits
  at::Tensor weights;  ///< [..., M], softmax(logits)
  at::Tensor scales;   ///< [..., M], the log-scales s_i
};

struct Evaluation {
  at::Tensor shift;      ///< g(x) - x
  at::Tensor log_slope;  ///< log g'(x)
};

Evaluation evaluate(const at::Tensor& x, const Mixture& m) {
  const at::Tensor xe = x.unsqueeze(-1);
  const at::Tensor c = torch::cos(xe / 2), n = torch::sin(xe / 2);
  const at::Tensor cc = c * c, nn = n * n;
  const at::Tensor half = m.scales / 2;
  const at::Tensor shifts =
      2 * torch::atan2(torch::sinh(half) * torch::sin(xe), torch::exp(-half) * cc + torch::exp(half) * nn);
  const at::Tensor log_slopes =
      torch::log(cc + nn) - torch::log(torch::exp(-m.scales) * cc + torch::exp(m.scales) * nn);
  // The weighted mean of the shifts is exactly 0 when they all are; the log of the weighted mean of the slopes
  // is taken as logsumexp(logits + log slopes) - logsumexp(logits), exactly 0 when the log slopes all are, and
  // with gradients that do not overflow when weights and slopes span many orders of magnitude.
  return {(m.weights * shifts).sum(-1) / m.weights.sum(-1),
          torch::logsumexp(m.logits + log_slopes, -1) - torch::logsumexp(m.logits, -1)};
}

/// x in [0, 2 pi] with x + shift(x) = u, to machine precision, without a graph (header: rtsafe).
at::Tensor solve(const at::Tensor& u, const Mixture& m) {
  torch::NoGradGuard no_grad;
  const bool single = u.scalar_type() == torch::kFloat32;
  const double eps = single ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
  const int max_iterations =
      2 * (single ? std::numeric_limits<float>::digits : std::numeric_limits<double>::digits) + 16;
  const double step_tol = 2 * eps * two_pi, residual_tol = eps * two_pi;

  at::Tensor x = u.clone(), lo = torch::zeros_like(u), hi = torch::full_like(u, two_pi);
  at::Tensor step = torch::full_like(u, two_pi), step_before = step;
  const auto residual = [&](const at::Tensor& at) {
    const Evaluation e = evaluate(at, m);
    return std::pair{at + e.shift - u, torch::exp(e.log_slope)};
  };
  at::Tensor f, df;
  std::tie(f, df) = residual(x);
  lo = torch::where(f <= 0, x, lo);
  hi = torch::where(f >= 0, x, hi);
  at::Tensor done = f.eq(0);
  for (int i = 0; i < max_iterations; ++i) {
    const at::Tensor newton = x - f / df;
    const at::Tensor bisect =
        newton.gt(lo).logical_and(newton.lt(hi)).logical_not().logical_or((2 * f).abs() > (step_before * df).abs());
    // Finished elements stay put: a bisection would move a converged x to the middle of a wide bracket.
    const at::Tensor next = torch::where(done, x, torch::where(bisect, (lo + hi) / 2, newton));
    step_before = torch::where(done, step_before, step);
    step = torch::where(done, step, (next - x).abs());
    x = next;
    std::tie(f, df) = residual(x);
    lo = torch::where(f <= 0, x, lo);
    hi = torch::where(f >= 0, x, hi);
    done = done.logical_or(step <= step_tol).logical_or((hi - lo) <= step_tol).logical_or(f.abs() <= residual_tol);
    // Checking (a device sync) every few iterations only: converged elements no longer move.
    if (i % 4 == 3 && done.all().item<bool>()) break;
  }
  return x;
}

Mixture mixture(const at::Tensor& params, const ElementwiseOptions& o) {
  const std::int64_t M = o.bins();
  const at::Tensor logits = params.narrow(-1, 0, M);
  const double S = o.max_log_scale();
  return {logits, torch::softmax(logits, -1), S * torch::tanh(params.narrow(-1, M, M) / S)};
}
}  // namespace

NcpMixture::NcpMixture(const ElementwiseOptions& options) : options_(options) {
  require_option(options_.bins() >= 1, name(), "bins", ">= 1 (the mixture components)",
                 static_cast<double>(options_.bins()));
  require_option(options_.max_log_scale() > 0 && options_.max_log_scale() <= 40, name(), "max_log_scale",
                 "in (0, 40] (e^{2 s} must stay finite in float32)", options_.max_log_scale());
}

std::int64_t NcpMixture::parameters_per_element() const { return 2 * options_.bins() + (options_.rotation() ? 1 : 0); }

Domain NcpMixture::domain() const { return {Domain::Kind::circle, 0, two_pi}; }

at::Tensor NcpMixture::rotation(const at::Tensor& params) const {
  return options_.rotation() ? params.select(-1, 2 * options_.bins()) : torch::zeros({}, params.options());
}

ElementwiseResult NcpMixture::forward_checked(const at::Tensor& x, const at::Tensor& params) const {
  const at::Tensor u = wrap_angle(x);
  const Evaluation e = evaluate(u, mixture(params, options_));
  return {wrap_angle(u + e.shift + rotation(params)), e.log_slope};
}

ElementwiseResult NcpMixture::inverse_checked(const at::Tensor& y, const at::Tensor& params) const {
  const Mixture m = mixture(params, options_);
  const at::Tensor u = wrap_angle(y - rotation(params));
  const at::Tensor x0 = solve(u.detach(), {m.logits.detach(), m.weights.detach(), m.scales.detach()});
  // One Newton step from the solution, minus its own value: x keeps the value x0 and gets the implicit-function
  // gradients dx = -(d residual) / g'(x0) with respect to y and the raw parameters.
  const Evaluation e0 = evaluate(x0, m);
  const at::Tensor r = x0 + e0.shift - u;
  const at::Tensor x = wrap_angle(x0 - (r - r.detach()) / torch::exp(e0.log_slope).detach());
  return {x, -evaluate(x, m).log_slope};
}

}  // namespace latflow
