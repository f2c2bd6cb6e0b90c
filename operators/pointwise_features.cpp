#include "operators/pointwise_features.hpp"

#include <cmath>
#include <string>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

PointwiseFeaturesImpl::PointwiseFeaturesImpl(const PointwiseFeaturesOptions& options_)
    : options(options_) {
  if (options.channels() < 1)
    throw UserError("neural operator: channels = " + std::to_string(options.channels()) +
                    " must be >= 1 (run-card key model.channels)");
  if (options.frequencies() < 1)
    throw UserError("neural operator: frequencies = " + std::to_string(options.frequencies()) +
                    " must be >= 1 (run-card key model.frequencies)");
  const std::int64_t K = options.frequencies();
  omega = register_parameter("omega", at::linspace(0.5, 5.0, K, at::kFloat));
  mixing = register_parameter(
      "mixing", at::randn({options.channels(), K + 1}, at::kFloat) / std::sqrt(double(K + 1)));
}

PointwiseFeaturesImpl::Harmonics PointwiseFeaturesImpl::harmonics(const at::Tensor& phi) {
  if (phi.dim() != 3)
    throw UserError("neural operator: phi must be a batch of configurations [B, T, L], got " +
                    std::to_string(phi.dim()) + " dimensions");
  if (phi.scalar_type() != mixing.scalar_type() || phi.device() != mixing.device())
    throw UserError(std::string("neural operator: phi is ") + c10::toString(phi.scalar_type()) +
                    " on " + phi.device().str() + " but the operator's parameters are " +
                    c10::toString(mixing.scalar_type()) + " on " + mixing.device().str() +
                    "; move the operator with ->to(device, dtype)");
  const at::Tensor phase = omega.view({1, -1, 1, 1}) * phi.unsqueeze(1);
  return {phi, phase, at::sin(phase)};
}

at::Tensor PointwiseFeaturesImpl::forward(const at::Tensor& phi) { return mix(harmonics(phi)); }

at::Tensor PointwiseFeaturesImpl::mix(const Harmonics& h) {
  const std::int64_t B = h.phi.size(0), T = h.phi.size(1), L = h.phi.size(2);
  // [F, K+1] x [B, K+1, V] as one batched matmul.
  const at::Tensor features = at::cat({h.phi.unsqueeze(1), h.sine}, 1).view({B, -1, T * L});
  return at::matmul(mixing, features).view({B, options.channels(), T, L});
}

at::Tensor PointwiseFeaturesImpl::diagonal_sum(const Harmonics& h, const at::Tensor& w) {
  // sum_f w_f g'_f = a_0 + sum_k a_k omega_k cos(omega_k phi) with a = w A: contract the channels
  // first, so the per-site work is K cosines whatever F is.
  const std::int64_t V = h.phi.size(1) * h.phi.size(2);
  const at::Tensor a = at::matmul(w, mixing);  // [K+1]
  const at::Tensor cos_sums = at::cos(h.phase).sum({2, 3});
  return a.select(0, 0) * double(V) + at::matmul(cos_sums, a.slice(0, 1) * omega);
}

}  // namespace latflow
