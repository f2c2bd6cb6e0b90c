#include "lattice/free_field_prolongation.hpp"

#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

FreeFieldProlongation::FreeFieldProlongation(double m0sq) : m0sq_(m0sq) {
  if (!std::isfinite(m0sq) || !(m0sq > 0)) {
    std::ostringstream s;
    s << "free-field prolongation: m0^2 = " << m0sq << " is not allowed; it must be a finite number > 0";
    throw UserError(s.str());
  }
}

at::Tensor FreeFieldProlongation::conditional_means(const at::Tensor& coarse, std::int64_t stride) const {
  if (coarse.dim() != 3 || stride < 1)
    throw UserError("free-field prolongation: coarse sites must be [B, Tc, Lc] with stride >= 1");
  const std::int64_t Tc = coarse.size(1), Lc = coarse.size(2), S = 2 * stride;
  const std::int64_t T = S * Tc, L = S * Lc;
  // The kernels in float64 on the field's device, so that nothing waits on the host.
  const auto f64 = coarse.options().dtype(at::kDouble);
  const at::Tensor pt = at::arange(T, f64) * (2 * M_PI / static_cast<double>(T));
  const at::Tensor px = at::arange(L, f64) * (2 * M_PI / static_cast<double>(L));
  const at::Tensor G =
      at::reciprocal(4 * at::sin(pt / 2).square().unsqueeze(1) + 4 * at::sin(px / 2).square().unsqueeze(0) + m0sq_);
  // Momentum n = a * (extent / S) + k aliases to coarse momentum k: fold [T, L] -> [S, Tc, S, Lc] -> sum over a.
  const auto fold = [&](const at::Tensor& x) { return x.reshape({S, Tc, S, Lc}).sum(at::IntArrayRef{0, 2}); };
  const at::Tensor denominator = fold(G);
  const std::int64_t d[3][2] = {{1, 1}, {1, 0}, {0, 1}};
  std::vector<at::Tensor> kernels;
  for (const auto& [dt, dx] : d) {
    const at::Tensor phase = (pt * static_cast<double>(stride * dt)).unsqueeze(1) +
                             (px * static_cast<double>(stride * dx)).unsqueeze(0);
    kernels.push_back(at::complex(fold(G * at::cos(phase)), fold(G * at::sin(phase))) / denominator);
  }
  const at::Tensor K = at::stack(kernels).unsqueeze(1).to(at::toComplexType(coarse.scalar_type()));
  return at::real(at::fft_ifft2(K * at::fft_fft2(coarse, c10::nullopt, {-2, -1}), c10::nullopt, {-2, -1}));
}

}  // namespace latflow
