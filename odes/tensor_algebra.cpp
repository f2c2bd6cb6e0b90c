#include "odes/tensor_algebra.hpp"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>

namespace latflow::odes {
namespace {

/// Whether `out` may be overwritten in place with a result shaped like `like` without anyone noticing:
/// no graph is being recorded and this handle is the only owner of the tensor and of its memory.
bool writable(const at::Tensor& out, const at::Tensor& like) {
  return out.defined() && !at::GradMode::is_enabled() && !out.requires_grad() && out.use_count() == 1 &&
         out.storage().use_count() == 1 && out.sizes().equals(like.sizes()) && out.dtype() == like.dtype() &&
         out.device() == like.device() && out.is_non_overlapping_and_dense();
}

}  // namespace

namespace detail {

void linear_combination(TensorTuple& out, const TensorTuple* const* terms, const double* a, std::size_t n) {
  const std::size_t parts = terms[0]->parts.size();
  out.parts.resize(parts);
  for (std::size_t p = 0; p < parts; ++p) {
    at::Tensor& o = out.parts[p];
    const at::Tensor& first = terms[0]->parts[p];
    // In place, `o` may coincide with the first term (x <- x + dt k) but with no later one.
    bool overlaps_later_term = false;
    for (std::size_t k = 1; k < n; ++k) overlaps_later_term |= o.defined() && o.is_same(terms[k]->parts[p]);
    if (writable(o, first) && !overlaps_later_term) {
      if (!o.is_same(first)) {
        if (a[0] == 1.0) o.copy_(first);
        else at::mul_out(o, first, a[0]);
      } else if (a[0] != 1.0) {
        o.mul_(a[0]);
      }
      for (std::size_t k = 1; k < n; ++k)
        if (a[k] != 0.0) o.add_(terms[k]->parts[p], a[k]);
    } else {
      at::Tensor r = a[0] == 1.0 ? first : first * a[0];
      for (std::size_t k = 1; k < n; ++k)
        if (a[k] != 0.0) r = at::add(r, terms[k]->parts[p], a[k]);
      o = std::move(r);
    }
  }
}

void relative_error(TensorTuple& e, const TensorTuple& x, const TensorTuple& dxdt, double atol, double rtol,
                    double a_x, double a_dxdt) {
  // The step size is a double chosen from this error: nothing downstream differentiates it.
  at::NoGradGuard no_grad;
  for (std::size_t p = 0; p < e.parts.size(); ++p) {
    at::Tensor scale = at::abs(x.parts[p]).mul_(rtol * a_x).add_(atol);
    if (a_dxdt != 0.0) scale.add_(at::abs(dxdt.parts[p]), rtol * a_dxdt);
    at::Tensor& err = e.parts[p];
    if (writable(err, err)) err.abs_().div_(scale);
    else err = at::abs(err).div_(scale);
  }
}

}  // namespace detail

double norm_inf(const TensorTuple& x) {
  at::NoGradGuard no_grad;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<at::Tensor> maxima;
  maxima.reserve(x.parts.size());
  for (const auto& part : x.parts)
    if (part.numel() > 0) maxima.push_back(at::linalg_vector_norm(part, inf).to(at::kDouble));
  if (maxima.empty()) return 0.0;
  // One host synchronisation per call, whatever the number of parts.
  const double norm = (maxima.size() == 1 ? maxima[0] : at::stack(maxima).max()).item<double>();
  return std::isnan(norm) ? inf : norm;
}

bool all_finite(const TensorTuple& x) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> finite;
  finite.reserve(x.parts.size());
  for (const auto& part : x.parts)
    if (part.numel() > 0) finite.push_back(at::isfinite(part).all());
  return finite.empty() || at::stack(finite).all().item<bool>();
}

}  // namespace latflow::odes
