#include "autoregressive/han.hpp"

#include <torch/torch.h>

#include "autoregressive/van.hpp"
#include "core/error.hpp"

namespace latflow {

namespace {
using Offset = std::pair<std::int64_t, std::int64_t>;

bool power_of_two(std::int64_t L) { return L >= 2 && (L & (L - 1)) == 0; }

std::string allowed() { return "a square L x L lattice with L a power of two >= 2 (2, 4, 8, 16, ...)"; }

/// Flat site indices t L + x of the sites of one square (rows t0 + a, columns x0 + b, taken modulo L).
struct SquareSites {
  std::int64_t L, t0, x0;
  std::int64_t operator()(std::int64_t a, std::int64_t b) const { return ((t0 + a) % L) * L + (x0 + b) % L; }
};

void append_border(std::vector<std::int64_t>& out, const SquareSites& at, std::int64_t l) {
  for (std::int64_t b = 1; b <= l; ++b) out.push_back(at(0, b));
  for (std::int64_t a = 1; a <= l; ++a) out.push_back(at(a, l + 1));
  for (std::int64_t b = 1; b <= l; ++b) out.push_back(at(l + 1, b));
  for (std::int64_t a = 1; a <= l; ++a) out.push_back(at(a, 0));
}

void append_cross(std::vector<std::int64_t>& out, const SquareSites& at, std::int64_t l) {
  const std::int64_t m = (l + 1) / 2;
  for (std::int64_t a = 1; a <= l; ++a) out.push_back(at(a, m));
  for (std::int64_t b = 1; b < m; ++b) out.push_back(at(m, b));
  for (std::int64_t b = m + 1; b <= l; ++b) out.push_back(at(m, b));
}

at::Tensor index_tensor(const std::vector<std::int64_t>& v, std::int64_t rows) {
  return torch::tensor(v, torch::kInt64).view({rows, -1});
}
}  // namespace

HanImpl::HanImpl(HanOptions options) : options_(std::move(options)) {
  const std::int64_t L = options_.L();
  if (!power_of_two(L)) throw UserError("HAN: needs " + allowed() + "; got L = " + std::to_string(L));
  const MadeArchitecture& arch = options_.architecture();
  boundary_ = register_module("boundary", Made(MadeOptions(2 * L - 1).architecture(arch)));

  std::vector<std::int64_t> boundary;
  for (std::int64_t x = 0; x < L; ++x) boundary.push_back(x);
  for (std::int64_t t = 1; t < L; ++t) boundary.push_back(t * L);
  sites_.boundary = torch::tensor(boundary, torch::kInt64);

  std::vector<Offset> offsets = {{0, 0}};
  for (std::int64_t k = 0, l = L - 1; l >= 1; ++k, l = (l - 1) / 2) {
    levels_.push_back(register_module("level" + std::to_string(k),
                                      Made(MadeOptions(2 * l - 1, 4 * l).architecture(arch))));
    std::vector<std::int64_t> cross, border;
    std::vector<Offset> next;
    const std::int64_t m = (l + 1) / 2;
    for (const auto& [t0, x0] : offsets) {
      const SquareSites at{L, t0, x0};
      append_cross(cross, at, l);
      append_border(border, at, l);
      for (const auto& [dt, dx] : std::initializer_list<Offset>{{0, 0}, {0, m}, {m, 0}, {m, m}})
        next.emplace_back(t0 + dt, x0 + dx);
    }
    const auto squares = static_cast<std::int64_t>(offsets.size());
    sites_.crosses.push_back(index_tensor(cross, squares));
    sites_.borders.push_back(index_tensor(border, squares));
    offsets = std::move(next);
  }
}

void HanImpl::check_lattice(const Lattice& lattice) const {
  if (lattice == Lattice::square(options_.L())) return;
  if (lattice.T != lattice.L || !power_of_two(lattice.L))
    throw UserError("HAN: needs " + allowed() + "; got " + lattice.str());
  throw UserError("HAN: built for the " + Lattice::square(options_.L()).str() + " lattice, asked for " + lattice.str() +
                  "; its nets are sized by L (build one for this L, initialize_from transfers the levels of L/2)");
}

const HanImpl::Sites& HanImpl::sites_on(const c10::Device& device) {
  if (sites_.boundary.device() != device) {
    sites_.boundary = sites_.boundary.to(device);
    for (auto& t : sites_.crosses) t = t.to(device);
    for (auto& t : sites_.borders) t = t.to(device);
  }
  return sites_;
}

at::Tensor HanImpl::log_prob(const at::Tensor& s) {
  check_lattice(spin_lattice(s, "HAN"));
  const std::int64_t B = s.size(0);
  const at::Tensor flat = s.reshape({B, -1});
  const Sites& sites = sites_on(s.device());
  at::Tensor logq = boundary_->log_prob(flat.index_select(1, sites.boundary));
  for (std::size_t k = 0; k < levels_.size(); ++k) {
    // [B, squares, n] -> [B squares, n]: every square of the level is one row of the net's batch.
    const at::Tensor& cross = sites.crosses[k];
    const at::Tensor& border = sites.borders[k];
    const at::Tensor x = flat.index_select(1, cross.flatten()).view({B * cross.size(0), cross.size(1)});
    const at::Tensor y = flat.index_select(1, border.flatten()).view({B * border.size(0), border.size(1)});
    logq = logq + levels_[k]->log_prob(x, y).view({B, cross.size(0)}).sum(1);
  }
  return logq;
}

Density HanImpl::sample(std::int64_t n, const Lattice& lattice) {
  check_lattice(lattice);
  torch::NoGradGuard no_grad;
  const Sites& sites = sites_on(tensor_options().device());
  at::Tensor flat = torch::zeros({n, lattice.volume()}, tensor_options());
  const SpinSample b = boundary_->sample(n);
  flat.index_copy_(1, sites.boundary, b.s);
  at::Tensor logq = b.logq;
  for (std::size_t k = 0; k < levels_.size(); ++k) {
    const at::Tensor& cross = sites.crosses[k];
    const at::Tensor& border = sites.borders[k];
    const std::int64_t squares = cross.size(0);
    const at::Tensor y = flat.index_select(1, border.flatten()).view({n * squares, border.size(1)});
    const SpinSample c = levels_[k]->sample(n * squares, y);
    flat.index_copy_(1, cross.flatten(), c.s.view({n, -1}));
    logq += c.logq.view({n, squares}).sum(1);
  }
  return {flat.view({n, lattice.T, lattice.L}), logq};
}

void HanImpl::initialize_from(const SamplerImpl& trained, bool freeze) {
  const auto* han = dynamic_cast<const HanImpl*>(&trained);
  if (!han) throw UserError("HAN: initialize_from needs a trained HAN, got a " + trained.base_name() + " model");
  const HanImpl& smaller = *han;
  if (2 * smaller.options_.L() != options_.L())
    throw UserError("HAN: initialize_from needs a HAN at L / 2 = " + std::to_string(options_.L() / 2) + "; got L = " +
                    std::to_string(smaller.options_.L()));
  const MadeArchitecture &a = options_.architecture(), &b = smaller.options_.architecture();
  if (a.depth() != b.depth() || a.width() != b.width())
    throw UserError("HAN: initialize_from needs the same depth and width; got depth " + std::to_string(b.depth()) +
                    ", width " + std::to_string(b.width()) + " for depth " + std::to_string(a.depth()) + ", width " +
                    std::to_string(a.width()));
  torch::NoGradGuard no_grad;
  for (std::size_t k = 0; k < smaller.levels_.size(); ++k) {
    const auto from = smaller.levels_[k]->named_parameters();
    for (auto& p : levels_[k + 1]->named_parameters()) {
      p.value().copy_(from[p.key()]);
      if (freeze) p.value().set_requires_grad(false);
    }
  }
}

}  // namespace latflow
