#include "lattice/wilson_dirac.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "lattice/u1_gauge_field.hpp"

namespace latflow::u1 {

namespace {

// The four hops from a site: h = 0: +mu=0, 1: +mu=1, 2: -mu=0, 3: -mu=1; the reverse of h is (h + 2) % 4.
constexpr std::int64_t kHops = 4;

void require_kappa(double kappa) {
  if (!std::isfinite(kappa)) {
    std::ostringstream s;
    s << "Wilson-Dirac operator: kappa = " << kappa << " is not a finite number";
    throw UserError(s.str());
  }
}

void require_even(const at::Tensor& theta) {
  const std::int64_t T = theta.size(2), L = theta.size(3);
  if (T % 2 != 0 || L % 2 != 0)
    throw UserError("Wilson-Dirac operator: even-odd preconditioning needs even T and L, got " +
                    std::to_string(T) + "x" + std::to_string(L));
}

// P_h = 1 - gamma_mu for h = +mu and 1 + gamma_mu for h = -mu, gamma_0 = sigma_1, gamma_1 = sigma_2: [4, 2, 2].
at::Tensor projectors(const at::TensorOptions& complex_options) {
  const at::Tensor re = at::tensor({1., -1., -1., 1., 1., 0., 0., 1., 1., 1., 1., 1., 1., 0., 0., 1.}, at::kDouble);
  const at::Tensor im = at::tensor({0., 0., 0., 0., 0., 1., -1., 0., 0., 0., 0., 0., 0., -1., 1., 0.}, at::kDouble);
  return at::complex(re, im).view({kHops, 2, 2}).to(complex_options);
}

// Everything H is made of: H(x, neighbour[x, h]) = projector[h] * weight[:, x, h].
struct Hopping {
  std::int64_t B, T, L, V;
  at::Tensor neighbour;  // [V, 4] int64, the site index of x + h
  at::Tensor weight;     // [B, V, 4] complex: U_mu(x) for h = +mu, U_mu(x - mu)^* for h = -mu, boundary sign
  at::Tensor projector;  // [4, 2, 2] complex
};

Hopping hopping(const at::Tensor& theta, FermionBoundary time) {
  require_links("Wilson-Dirac operator", theta);
  Hopping h;
  h.B = theta.size(0);
  h.T = theta.size(2);
  h.L = theta.size(3);
  h.V = h.T * h.L;
  const auto index_options = at::TensorOptions().dtype(at::kLong).device(theta.device());
  const at::Tensor site = at::arange(h.V, index_options).view({h.T, h.L});
  h.neighbour = at::stack({at::roll(site, {-1}, {0}), at::roll(site, {-1}, {1}), at::roll(site, {1}, {0}),
                           at::roll(site, {1}, {1})},
                          -1)
                    .view({h.V, kHops});
  const at::Tensor u = at::complex(at::cos(theta), at::sin(theta));
  const at::Tensor u0 = u.select(1, 0), u1 = u.select(1, 1);
  // The forward hop from t = T-1 and the backward hop from t = 0 cross the time boundary.
  const at::Tensor t = at::arange(h.T, theta.options()).view({h.T, 1});
  const double crossing = time == FermionBoundary::antiperiodic ? 2 : 0;
  const at::Tensor forward_sign = 1 - crossing * (t == h.T - 1).to(theta.scalar_type());
  const at::Tensor backward_sign = 1 - crossing * (t == 0).to(theta.scalar_type());
  h.weight = at::stack({u0 * forward_sign, u1, at::roll(u0.conj(), {1}, {-2}) * backward_sign,
                        at::roll(u1.conj(), {1}, {-1})},
                       -1)
                 .view({h.B, h.V, kHops});
  h.projector = projectors(h.weight.options());
  return h;
}

// The dense [B, N, N] matrix with the 2x2 blocks[b, ...] at block row row[...] and block column col[...]
// (row and col broadcast against the leading dims of blocks after the batch); coinciding blocks add up.
at::Tensor assemble(const at::Tensor& blocks, const at::Tensor& row, const at::Tensor& col, std::int64_t N) {
  const std::int64_t B = blocks.size(0);
  const at::Tensor spin = at::arange(2, row.options());
  std::vector<std::int64_t> block_shape(blocks.sizes().begin() + 1, blocks.sizes().end() - 2);
  const at::Tensor r = (2 * row).expand(block_shape).unsqueeze(-1).unsqueeze(-1) + spin.view({2, 1});
  const at::Tensor c = (2 * col).expand(block_shape).unsqueeze(-1).unsqueeze(-1) + spin.view({1, 2});
  // In place: the dense matrix is the only O(V^2) memory traffic of the assembly, written once.
  at::Tensor dense = at::zeros({B, N * N}, blocks.options());
  dense.index_add_(1, (r * N + c).flatten(), blocks.reshape({B, -1}));
  return dense.view({B, N, N});
}

// 1 + the assembled hopping part, with the identity added in place on the diagonal.
at::Tensor plus_identity(at::Tensor m) {
  m.diagonal(0, -2, -1).add_(1);
  return m;
}

// Even and odd sites on an even lattice, numbered by s / 2: rank k holds the sites 2k and 2k + 1 of row
// t = 2k / L, and the even one of them is 2k + (t mod 2).
struct Parity {
  at::Tensor even, odd;  // [V/2] site indices, in rank order
};

Parity parity(const Hopping& h) {
  const at::Tensor k = at::arange(h.V / 2, h.neighbour.options());
  const at::Tensor row_parity = at::remainder(at::div(2 * k, h.L, "floor"), 2);
  return {2 * k + row_parity, 2 * k + 1 - row_parity};
}

at::Tensor rank(const at::Tensor& site) { return at::div(site, 2, "floor"); }

// The input of every even-odd function, validated: the hopping terms and the even-odd numbering.
struct EvenOdd {
  Hopping h;
  Parity p;
};

EvenOdd even_odd(const at::Tensor& theta, double kappa, FermionBoundary time) {
  require_kappa(kappa);
  Hopping h = hopping(theta, time);
  require_even(theta);
  Parity p = parity(h);
  return {std::move(h), std::move(p)};
}

at::Tensor even_odd_matrix(const Hopping& h, const Parity& p, double kappa) {
  // Paths e -h1-> z -h2-> y with h2 != reverse(h1).
  std::vector<std::int64_t> first, second;
  for (std::int64_t h1 = 0; h1 < kHops; ++h1)
    for (std::int64_t h2 = 0; h2 < kHops; ++h2)
      if (h2 != (h1 + 2) % kHops) {
        first.push_back(h1);
        second.push_back(h2);
      }
  const at::Tensor h1 = at::tensor(first, at::kLong).to(h.neighbour.device());
  const at::Tensor h2 = at::tensor(second, at::kLong).to(h.neighbour.device());
  const std::int64_t ne = h.V / 2, paths = h1.size(0);
  // Flat (site, hop) indices into neighbour [V, 4] and weight [B, V, 4].
  const at::Tensor first_hop = (p.even.view({ne, 1}) * kHops + h1).flatten();
  const at::Tensor z = h.neighbour.flatten().index_select(0, first_hop).view({ne, paths});
  const at::Tensor second_hop = (z * kHops + h2).flatten();
  const at::Tensor y = h.neighbour.flatten().index_select(0, second_hop).view({ne, paths});
  const at::Tensor weight = h.weight.reshape({h.B, h.V * kHops});
  const at::Tensor w1 = weight.index_select(1, first_hop).view({h.B, ne, paths});
  const at::Tensor w2 = weight.index_select(1, second_hop).view({h.B, ne, paths});
  const at::Tensor pp = at::matmul(h.projector.index_select(0, h1), h.projector.index_select(0, h2));  // [P, 2, 2]
  const at::Tensor blocks = (-kappa * kappa) * (w1 * w2).unsqueeze(-1).unsqueeze(-1) * pp;
  return plus_identity(assemble(blocks, rank(p.even).view({ne, 1}), rank(y), h.V));
}

// M^-1 from the LU and triangular solves against the identity (measured faster than getri's in-place inverse).
at::Tensor lu_inverse(const at::Tensor& m) {
  const auto [lu, pivots] = at::linalg_lu_factor(m);
  return at::linalg_lu_solve(lu, pivots, at::eye(m.size(-1), m.options()).expand(m.sizes()));
}

// sum_h P_h weight[.., h] X[.., h, :, :] for X [B, No, 4, 2, K]: the rows of H_oe applied to the columns X,
// where X[:, o, h] holds the rows of the even site neighbour[o, h].
at::Tensor odd_hops(const Hopping& h, const at::Tensor& odd_weight, const at::Tensor& x) {
  return at::einsum("hij,nohjk,noh->noik", {h.projector, x, odd_weight});
}

}  // namespace

at::Tensor wilson_dirac(const at::Tensor& theta, double kappa, FermionBoundary time) {
  require_kappa(kappa);
  const Hopping h = hopping(theta, time);
  const at::Tensor blocks = (-kappa) * h.weight.unsqueeze(-1).unsqueeze(-1) * h.projector;  // [B, V, 4, 2, 2]
  const at::Tensor site = at::arange(h.V, h.neighbour.options()).view({h.V, 1});
  return plus_identity(assemble(blocks, site, h.neighbour, 2 * h.V));
}

at::Tensor wilson_dirac_even_odd(const at::Tensor& theta, double kappa, FermionBoundary time) {
  const auto [h, p] = even_odd(theta, kappa, time);
  return even_odd_matrix(h, p, kappa);
}

at::Tensor log_abs_det_wilson(const at::Tensor& theta, double kappa, FermionBoundary time) {
  return std::get<1>(at::linalg_slogdet(wilson_dirac_even_odd(theta, kappa, time)));
}

at::Tensor log_abs_det_wilson_gradient(const at::Tensor& theta, double kappa, FermionBoundary time) {
  const auto [h, p] = even_odd(theta, kappa, time);
  const std::int64_t no = h.V / 2, N = h.V;
  const at::Tensor m_inv = lu_inverse(even_odd_matrix(h, p, kappa));
  // X[b, o, h', a, (h, c)] = M^-1(2 rank(n(o, h')) + a, 2 rank(n(o, h)) + c).
  const at::Tensor r = rank(h.neighbour.index_select(0, p.odd));  // [No, 4]
  const at::Tensor spin = at::arange(2, r.options());
  const at::Tensor rows = (2 * r).view({no, kHops, 1, 1, 1}) + spin.view({1, 1, 2, 1, 1});
  const at::Tensor cols = (2 * r).view({no, 1, 1, kHops, 1}) + spin.view({1, 1, 1, 1, 2});
  const at::Tensor x = m_inv.reshape({h.B, N * N})
                           .index_select(1, (rows * N + cols).flatten())
                           .view({h.B, no, kHops, 2, 2 * kHops});
  const at::Tensor odd_weight = h.weight.index_select(1, p.odd);  // [B, No, 4]
  // g[b, o, h] = D^-1(o, n(o, h)) = kappa (H_oe M^-1)(o, n(o, h)), a 2x2 block.
  const at::Tensor g = kappa * odd_hops(h, odd_weight, x).view({h.B, no, 2, kHops, 2}).permute({0, 1, 3, 2, 4});
  const at::Tensor reverse_projector = at::roll(h.projector, {2}, {0});
  const at::Tensor tau = at::einsum("nohic,hci->noh", {g, reverse_projector});
  // The link (o, +mu) gets 2 kappa Im omega(o, +mu), the link (o - mu, +mu) gets -2 kappa Im omega(o, -mu).
  const at::Tensor omega = 2 * kappa * at::imag(tau.conj() * odd_weight);  // [B, No, 4]
  const at::Tensor per_site = at::zeros({h.B, h.V, kHops}, omega.options())
                                  .index_copy(1, p.odd, omega)
                                  .view({h.B, h.T, h.L, kHops})
                                  .permute({0, 3, 1, 2});
  return at::stack({per_site.select(1, 0) - at::roll(per_site.select(1, 2), {-1}, {-2}),
                    per_site.select(1, 1) - at::roll(per_site.select(1, 3), {-1}, {-1})},
                   1);
}

at::Tensor chiral_condensate(const at::Tensor& theta, double kappa, FermionBoundary time) {
  const at::Tensor m_inv = lu_inverse(wilson_dirac_even_odd(theta, kappa, time));
  const double volume = static_cast<double>(theta.size(2) * theta.size(3));
  return at::real(m_inv.diagonal(0, -2, -1).sum(-1)) * (2 / volume);
}

at::Tensor pion_correlator(const at::Tensor& theta, double kappa, FermionBoundary time) {
  const auto [h, p] = even_odd(theta, kappa, time);
  const std::int64_t half = h.V / 2;
  const at::Tensor m = even_odd_matrix(h, p, kappa);
  // The origin is even (rank 0): the sources are the first two columns of the identity.
  const at::Tensor source = at::eye(h.V, 2, m.options()).expand({h.B, h.V, 2});
  const at::Tensor even = at::linalg_solve(m, source).view({h.B, half, 2, 2});
  const at::Tensor x = even.index_select(1, rank(h.neighbour.index_select(0, p.odd)).flatten())
                           .view({h.B, half, kHops, 2, 2});
  const at::Tensor odd = kappa * odd_hops(h, h.weight.index_select(1, p.odd), x);
  const at::Tensor density = at::zeros({h.B, h.V}, theta.options())
                                 .index_copy(1, p.even, even.abs().square().sum({2, 3}))
                                 .index_copy(1, p.odd, odd.abs().square().sum({2, 3}));
  return density.view({h.B, h.T, h.L}).sum(-1);
}

}  // namespace latflow::u1
