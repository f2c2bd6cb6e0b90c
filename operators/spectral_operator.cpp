#include "operators/spectral_operator.hpp"

#include <cmath>
#include <string>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

at::Tensor spectral_kernel_basis(const at::Tensor& u, std::int64_t kernel_modes) {
  const std::int64_t n_chebyshev = kernel_modes - kernel_modes / 2;
  const std::int64_t n_propagators = kernel_modes / 2;
  std::vector<at::Tensor> b;
  const at::Tensor x = 2 * u - 1;
  for (std::int64_t j = 0; j < n_chebyshev; ++j) {
    if (j == 0) b.push_back(at::ones_like(u));
    else if (j == 1) b.push_back(x);
    else b.push_back(2 * x * b[j - 1] - b[j - 2]);
  }
  const at::Tensor p_hat2 = 8 * u;
  for (std::int64_t i = 0; i < n_propagators; ++i) {
    const double m2 = std::pow(10.0, -double(i));
    b.push_back(m2 / (p_hat2 + m2));
  }
  return at::stack(b);
}

at::Tensor lattice_momentum_u(std::int64_t T, std::int64_t L, bool half) {
  const auto f64 = at::dtype(at::kDouble);
  const at::Tensor p0 = at::arange(T, f64) * (2 * M_PI / double(T));
  const at::Tensor p1 = at::arange(half ? L / 2 + 1 : L, f64) * (2 * M_PI / double(L));
  // p_hat^2 / 8 = (sin^2(p0/2) + sin^2(p1/2)) / 2
  return (at::sin(p0 / 2).pow(2).view({T, 1}) + at::sin(p1 / 2).pow(2).view({1, -1})) / 2;
}

SpectralOperatorImpl::SpectralOperatorImpl(const SpectralOperatorOptions& options_)
    : options(options_),
      features(PointwiseFeaturesOptions(options_.channels(), options_.frequencies())),
      coefficients(nullptr) {
  if (options.kernel_modes() < 1)
    throw UserError("spectral operator: kernel_modes = " + std::to_string(options.kernel_modes()) +
                    " must be >= 1 (run-card key model.kernel_modes)");
  coefficients = TimeEmbedding(
      TimeEmbeddingOptions({options.channels(), options.kernel_modes()}, options.time_modes()));
  register_module("features", features);
  register_module("coefficients", coefficients);
}

const SpectralOperatorImpl::Basis& SpectralOperatorImpl::basis(
    std::int64_t T, std::int64_t L, const c10::TensorOptions& tensor_options) {
  const c10::Device device = tensor_options.device();
  const BasisKey key{T, L, static_cast<int>(tensor_options.dtype().toScalarType()),
                     static_cast<int>(device.type()), device.index()};
  std::lock_guard<std::mutex> lock(basis_mutex_);
  auto it = basis_cache_.find(key);
  if (it != basis_cache_.end()) return it->second;
  const std::int64_t J = options.kernel_modes();
  // Built in double on the CPU once, then stored in the dtype and on the device of the field.
  Basis b;
  b.half = spectral_kernel_basis(lattice_momentum_u(T, L, true), J).reshape({J, -1}).to(tensor_options);
  b.mean = spectral_kernel_basis(lattice_momentum_u(T, L, false), J).mean({1, 2}).to(tensor_options);
  return basis_cache_.emplace(key, std::move(b)).first->second;
}

at::Tensor SpectralOperatorImpl::kernel_spectrum(double t, std::int64_t T, std::int64_t L) {
  const at::Tensor c = coefficients(t);
  return spectrum_of(c, basis(T, L, c.options()), T, L);
}

at::Tensor SpectralOperatorImpl::spectrum_of(const at::Tensor& c, const Basis& b, std::int64_t T,
                                             std::int64_t L) const {
  return at::matmul(c, b.half).view({options.channels(), T, L / 2 + 1});
}

at::Tensor SpectralOperatorImpl::kernel_origin(double t, std::int64_t T, std::int64_t L) {
  const at::Tensor c = coefficients(t);
  return at::matmul(c, basis(T, L, c.options()).mean);
}

odes::Velocity SpectralOperatorImpl::evaluate(double t, const at::Tensor& phi) {
  const auto h = features->harmonics(phi);  // validates phi: [B, T, L] in the operator's dtype
  const std::int64_t T = phi.size(1), L = phi.size(2), F = options.channels();
  const at::Tensor c = coefficients(t);
  const Basis& b = basis(T, L, c.options());
  // The mixing g = A h commutes with the kernels: sum_f K~_f g~_f = sum_k (A^T K~)_k h~_k. Transforming
  // the K + 1 harmonics h = (phi, sin(omega phi)) instead of the F mixed channels never forms g, and
  // folding A into the [F, T, L/2+1] spectrum costs nothing beside the FFTs.
  const at::Tensor folded = at::matmul(features->mixing.t(), spectrum_of(c, b, T, L).reshape({F, -1}))
                                .view({-1, T, L / 2 + 1});
  // K~ is real and even in p and h is real, so the product is Hermitian and irfft2 of the sum is the exact
  // real convolution; the explicit sizes restore odd extents that the half-spectrum cannot encode.
  const at::Tensor spectrum =
      at::fft_rfft2(phi) * folded.select(0, 0) + (at::fft_rfft2(h.sine) * folded.slice(0, 1)).sum(1);
  return {at::fft_irfft2(spectrum, at::IntArrayRef{T, L}), features->diagonal_sum(h, at::matmul(c, b.mean))};
}

}  // namespace latflow
