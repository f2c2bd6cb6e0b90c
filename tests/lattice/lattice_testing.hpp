#pragma once
// Constants and helpers shared by the lattice tests.
#include <cmath>
#include <limits>

#include <torch/torch.h>

namespace latflow::testing {

inline const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
inline const double eps = std::numeric_limits<double>::epsilon();
inline const double pi = M_PI;

inline double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

}  // namespace latflow::testing
