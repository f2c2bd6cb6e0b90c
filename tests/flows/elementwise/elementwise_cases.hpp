#pragma once
// What the elementwise-transform tests run on: every registered transform under a few option sets, points of
// its domain and raw parameters, and the tolerances, all derived from the dtype's epsilon.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "flows/elementwise/circle.hpp"
#include "flows/elementwise/registry.hpp"

namespace latflow::testing {

struct ElementwiseCase {
  std::string label;  ///< "name (option set)"
  ElementwisePtr transform;
};

/// Every registry entry under: the defaults; one bin; and odd settings (3 bins, another interval and bound,
/// no rotation, floors that differ between widths and heights, so the identity must not rely on equal floors).
inline std::vector<ElementwiseCase> elementwise_cases() {
  const std::vector<std::pair<std::string, ElementwiseOptions>> settings = {
      {"defaults", ElementwiseOptions()},
      {"1 bin", ElementwiseOptions().bins(1)},
      {"3 bins, [-2, 3], bound 1.5, no rotation, mixed floors", ElementwiseOptions()
                                                                    .bins(3)
                                                                    .lo(-2)
                                                                    .hi(3)
                                                                    .bound(1.5)
                                                                    .rotation(false)
                                                                    .min_bin_width(1e-2)
                                                                    .min_bin_height(3e-3)
                                                                    .min_derivative(2e-2)},
  };
  std::vector<ElementwiseCase> out;
  for (const auto& entry : elementwise_registry().entries())
    for (const auto& [label, options] : settings)
      out.push_back({entry.name + " (" + label + ")", entry.build(options)});
  return out;
}

inline double epsilon(c10::ScalarType t) {
  return t == torch::kFloat32 ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
}

/// 2 pi as the transforms use it: rounded to the dtype.
inline double period(c10::ScalarType t) { return torch::full({}, elementwise::two_pi, torch::dtype(t)).item<double>(); }

/// rows x n points of the domain: uniform on an interval with its two faces in columns 0 and 1; uniform on
/// [0, 2 pi) with 0 in column 0; on the real line spread over the spline's range and its tails.
inline at::Tensor domain_points(const Domain& d, std::int64_t rows, std::int64_t n, std::uint64_t seed,
                                const c10::TensorOptions& o) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto cpu = torch::dtype(o.dtype());
  at::Tensor x;
  switch (d.kind) {
    case Domain::Kind::interval:
      x = d.lo + (d.hi - d.lo) * torch::rand({rows, n}, gen, cpu);
      x.select(1, 0).fill_(d.lo);
      x.select(1, 1).fill_(d.hi);
      break;
    case Domain::Kind::circle:
      x = elementwise::wrap_angle(elementwise::two_pi * torch::rand({rows, n}, gen, cpu));
      x.select(1, 0).fill_(0);
      break;
    case Domain::Kind::real_line:
      x = 2.5 * torch::randn({rows, n}, gen, cpu);
      break;
  }
  return x.to(o.device());
}

/// Raw parameters scale * N(0, 1), shaped [shape..., P].
inline at::Tensor raw_parameters(const ElementwiseTransform& t, std::vector<std::int64_t> shape, double scale,
                                 std::uint64_t seed, const c10::TensorOptions& o) {
  auto gen = at::detail::createCPUGenerator(seed);
  shape.push_back(t.parameters_per_element());
  return (scale * torch::randn(shape, gen, torch::dtype(o.dtype()))).to(o.device());
}

/// a - b on the circle, in [-pi, pi).
inline at::Tensor circular_difference(const at::Tensor& a, const at::Tensor& b) {
  return torch::remainder(a - b + M_PI, elementwise::two_pi) - M_PI;
}

/// a - b, on the circle for circular domains.
inline at::Tensor difference(const Domain& d, const at::Tensor& a, const at::Tensor& b) {
  return d.kind == Domain::Kind::circle ? circular_difference(a, b) : a - b;
}

inline double max_of(const at::Tensor& t) { return t.max().item<double>(); }
inline bool all_finite(const at::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

}  // namespace latflow::testing
