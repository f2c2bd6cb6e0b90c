#pragma once
// Conformance checks that every flow (every TransformImpl, and a FlowImpl around it) must pass, each
// against an exact answer:
//   check_roundtrip           reverse(forward(z)) = z, log q restored, and log q threaded additively;
//   check_logdet_vs_autograd  the threaded log-det equals log|det J| of the full V x V Jacobian of the map,
//                             built row by row with autograd;
//   check_normalisation       log_prob agrees with what sample reports, and exp(log_prob) integrates to 1
//                             (E_q[g/q] = 1 for a normalised Gaussian g, within 4 computed standard errors).
// Call them inside a TEST_CASE, in float64, on small lattices.
#include <cmath>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "flows/flow.hpp"

namespace latflow::testing {

inline double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

/// A flow at its initialisation is the identity bit for bit, on z [B, ...] and on the log q threaded through it.
inline void check_identity(TransformImpl& f, const at::Tensor& z) {
  const at::Tensor logq = torch::randn({z.size(0)}, z.options());
  const Density y = f.forward({z, logq});
  CHECK(torch::equal(y.phi, z));
  CHECK(torch::equal(y.logq, logq));
}

/// How far f is from commuting with the lattice translation by (a, b) on z [B, T, L]: the largest difference of
/// the configurations and that of log q (a symmetry gives rounding only).
struct Mismatch {
  double phi;
  double logq;
};
inline Mismatch translation_mismatch(TransformImpl& f, const at::Tensor& z, std::int64_t a, std::int64_t b) {
  const auto shifted = [&](const at::Tensor& t) { return t.roll({a, b}, {1, 2}); };
  const at::Tensor zeros = torch::zeros({z.size(0)}, z.options());
  const Density y = f.forward({z, zeros}), ys = f.forward({shifted(z), zeros});
  return {max_abs(ys.phi - shifted(y.phi)), max_abs(ys.logq - y.logq)};
}

/// z [B, ...]. Also checks that an offset of the input log q comes out unchanged (the threading).
inline void check_roundtrip(TransformImpl& f, const at::Tensor& z, double tol) {
  const at::Tensor offset = torch::randn({z.size(0)}, z.options());
  const Density y = f.forward({z, offset});
  const Density back = f.reverse(y);
  CHECK(max_abs(back.phi - z) <= tol * (1 + max_abs(z)));
  CHECK(max_abs(back.logq - offset) <= tol * (1 + max_abs(y.logq)));
  const Density y0 = f.forward({z, torch::zeros_like(offset)});
  CHECK(max_abs(y.phi - y0.phi) <= tol * (1 + max_abs(y.phi)));
  CHECK(max_abs(y.logq - y0.logq - offset) <= tol * (1 + max_abs(y.logq)));
}

/// Moves f (float64, on the CPU) to CUDA: the same outputs on z [B, ...] to 1e-10, and round trips there.
inline void check_cuda_matches_cpu(TransformImpl& f, const at::Tensor& z) {
  const at::Tensor zeros = torch::zeros({z.size(0)}, z.options());
  const Density cpu = f.forward({z, zeros});
  f.to(torch::kCUDA);
  const Density gpu = f.forward({z.cuda(), zeros.cuda()});
  CHECK(torch::allclose(gpu.phi.cpu(), cpu.phi, 0, 1e-10));
  CHECK(torch::allclose(gpu.logq.cpu(), cpu.logq, 0, 1e-10));
  check_roundtrip(f, z.cuda(), 1e-12);
}

/// For each configuration of z [B, ...] (keep B and the V numbers per configuration small: V backward
/// passes each).
inline void check_logdet_vs_autograd(TransformImpl& f, const at::Tensor& z, double tol) {
  const std::int64_t V = z[0].numel();
  for (std::int64_t b = 0; b < z.size(0); ++b) {
    const at::Tensor zb = z.narrow(0, b, 1).detach().clone().requires_grad_(true);
    const Density y = f.forward({zb, torch::zeros({1}, z.options())});
    const at::Tensor flat = y.phi.reshape({V});
    at::Tensor J = torch::zeros({V, V}, z.options());
    for (std::int64_t i = 0; i < V; ++i)
      J[i] = torch::autograd::grad({flat[i]}, {zb}, {}, /*retain_graph=*/true)[0].reshape({V});
    const double log_abs_det = std::get<1>(torch::linalg_slogdet(J)).item<double>();
    INFO("configuration " << b << " of " << z.size(0) << ", V = " << V);
    CHECK(-y.logq.item<double>() == Approx(log_abs_det).margin(tol));
  }
}

/// flow.log_prob(phi) equals the log q that flow.sample reports, and log q is normalised: for any
/// normalised density g, E_q[g / q] = 1 over samples of the flow (a log q off by a constant c gives e^-c).
/// g is a Gaussian per site with half the flow's sample variance, so its tails are lighter than q's and the
/// estimate has a finite variance; the standard error from n draws must come out below max_se (power).
inline void check_normalisation(FlowImpl& flow, const Lattice& lattice, std::int64_t n, double max_se) {
  torch::NoGradGuard no_grad;
  const Density d = flow.sample(64, lattice);
  CHECK(max_abs(flow.log_prob(d.phi) - d.logq) <= 1e-10 * (1 + max_abs(d.logq)));

  const at::Tensor var = 0.5 * flow.sample(4096, lattice).phi.var(0);  // [T, L], from a pilot batch
  const Density draws = flow.sample(n, lattice);
  const at::Tensor log_g =
      (-0.5 * draws.phi.pow(2) / var - 0.5 * torch::log(2 * M_PI * var)).sum({1, 2});
  const at::Tensor w = torch::exp(log_g - draws.logq);
  const double mean = w.mean().item<double>();
  const double se = w.std().item<double>() / std::sqrt(static_cast<double>(n));
  INFO("E_q[g/q] = " << mean << " +- " << se << " (" << n << " flow samples)");
  REQUIRE(se < max_se);
  CHECK(std::abs(mean - 1) < 4 * se);
}

}  // namespace latflow::testing
