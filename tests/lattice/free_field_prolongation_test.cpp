#include <cstdint>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "lattice/free_field_prolongation.hpp"

using namespace latflow;

namespace {
/// The covariance of the free field, (2 (-Laplacian + m0^2))^-1, as a dense V x V matrix (site t * L + x).
at::Tensor dense_covariance(std::int64_t T, std::int64_t L, double m0sq) {
  const std::int64_t V = T * L;
  at::Tensor A = torch::zeros({V, V}, torch::kFloat64);
  auto a = A.accessor<double, 2>();
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t x = 0; x < L; ++x) {
      const std::int64_t i = t * L + x;
      a[i][i] += 2 * (4 + m0sq);
      for (const auto& [dt, dx] : {std::pair<std::int64_t, std::int64_t>{1, 0}, {0, 1}}) {
        const std::int64_t j = ((t + dt) % T) * L + (x + dx) % L;
        a[i][j] -= 2;
        a[j][i] -= 2;
      }
    }
  return torch::inverse(A);
}
}  // namespace

TEST_CASE("free-field prolongation: the new sites minus their conditional mean are independent of the coarse sites",
          "[lattice][prolongation]") {
  // Against the dense covariance C: the mean is K c with K = C_fc C_cc^-1, equivalently C_fc = K C_cc. K is read
  // off by applying the prolongation to the coarse unit vectors. Rectangular lattices and the strides of deeper
  // levels of a hierarchy included.
  const double m0sq = 0.3;
  const FreeFieldProlongation p(m0sq);
  for (const auto& [T, L, s] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{8, 8, 1}, {8, 4, 1}, {4, 12, 1},
                                 {8, 8, 2}, {16, 8, 2}}) {
    INFO(T << " x " << L << ", stride " << s);
    const at::Tensor C = dense_covariance(T, L, m0sq);
    const std::int64_t S = 2 * s, Tc = T / S, Lc = L / S, Vc = Tc * Lc;
    const at::Tensor units = torch::eye(Vc, torch::kFloat64).reshape({Vc, Tc, Lc});
    const at::Tensor K = p.conditional_means(units, s);  // [3, Vc (unit), Tc, Lc]
    const auto site = [&](std::int64_t yt, std::int64_t yx, std::int64_t dt, std::int64_t dx) {
      return (S * yt + s * dt) * L + (S * yx + s * dx);
    };
    std::vector<std::int64_t> coarse;
    for (std::int64_t yt = 0; yt < Tc; ++yt)
      for (std::int64_t yx = 0; yx < Lc; ++yx) coarse.push_back(site(yt, yx, 0, 0));
    const at::Tensor ic = torch::tensor(coarse);
    const at::Tensor Ccc = C.index({ic}).index({torch::indexing::Slice(), ic});
    const std::int64_t d[3][2] = {{1, 1}, {1, 0}, {0, 1}};
    for (int k = 0; k < 3; ++k) {
      std::vector<std::int64_t> fine;
      for (std::int64_t yt = 0; yt < Tc; ++yt)
        for (std::int64_t yx = 0; yx < Lc; ++yx) fine.push_back(site(yt, yx, d[k][0], d[k][1]));
      const at::Tensor Cfc = C.index({torch::tensor(fine)}).index({torch::indexing::Slice(), ic});
      const at::Tensor Kk = K[k].reshape({Vc, Vc}).t();  // row: fine site, column: coarse unit
      INFO("class " << k);
      CHECK((Cfc - Kk.matmul(Ccc)).abs().max().item<double>() < 1e-12 * Cfc.abs().max().item<double>());
      CHECK(Kk.abs().max().item<double>() > 0.05);  // a real interpolation (the far centres of stride 2: 0.08)
    }
  }
  CHECK_THROWS_AS(FreeFieldProlongation(0.0), UserError);
  CHECK_THROWS_AS(FreeFieldProlongation(-1.0), UserError);
  CHECK_THROWS_AS(p.conditional_means(torch::zeros({4, 4}), 1), UserError);
}

TEST_CASE("free-field prolongation keeps the field's dtype", "[lattice][prolongation]") {
  const FreeFieldProlongation p(1.0);
  const at::Tensor c = torch::randn({2, 4, 4});
  const at::Tensor m = p.conditional_means(c, 1);
  CHECK(m.scalar_type() == torch::kFloat32);
  CHECK(m.sizes() == torch::IntArrayRef({3, 2, 4, 4}));
  CHECK(torch::allclose(m, p.conditional_means(c.to(torch::kFloat64), 1).to(torch::kFloat32), 1e-5, 1e-6));
}
