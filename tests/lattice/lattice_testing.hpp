#pragma once
// Constants and helpers shared by the lattice tests.
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include <torch/torch.h>

namespace latflow::testing {

inline const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
inline const double eps = std::numeric_limits<double>::epsilon();
inline const double pi = M_PI;

inline double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

/// Every Ising configuration of a T x L torus (T L <= 20) as +-1 in float64, [2^(T L), T, L]: configuration
/// i has s = +1 where bit t L + x of i is set.
inline torch::Tensor all_spin_configurations(std::int64_t T, std::int64_t L) {
  const auto i = torch::arange(std::int64_t{1} << (T * L), torch::kLong).unsqueeze(1);
  return (torch::bitwise_and(torch::bitwise_right_shift(i, torch::arange(T * L, torch::kLong)), 1) * 2 - 1)
      .to(torch::kFloat64)
      .view({-1, T, L});
}

/// The configurations of a T x L Ising torus (T L <= 20) with the same bond sum b = sum_x s(x) [s(x + 0) +
/// s(x + 1)] = -H/J: how many there are, and the sum of M^2 (M = sum_x s(x)) over them. Counted by loops over
/// sites, independently of the library.
struct IsingLevel {
  long double count = 0, m2_sum = 0;
};
inline std::map<std::int64_t, IsingLevel> ising_levels(std::int64_t T, std::int64_t L) {
  std::map<std::int64_t, IsingLevel> levels;
  const std::int64_t N = T * L;
  std::vector<int> s(static_cast<std::size_t>(N));
  for (std::int64_t c = 0; c < (std::int64_t{1} << N); ++c) {
    std::int64_t M = 0, b = 0;
    for (std::int64_t i = 0; i < N; ++i) M += s[i] = (c >> i) & 1 ? 1 : -1;
    for (std::int64_t t = 0; t < T; ++t)
      for (std::int64_t x = 0; x < L; ++x)
        b += s[t * L + x] * (s[((t + 1) % T) * L + x] + s[t * L + (x + 1) % L]);
    levels[b].count += 1;
    levels[b].m2_sum += static_cast<long double>(M * M);
  }
  return levels;
}

/// Boltzmann probabilities exp(K b) count / Z of the levels at K = beta J, in extended precision.
inline std::map<std::int64_t, long double> level_probabilities(const std::map<std::int64_t, IsingLevel>& levels,
                                                               double K) {
  long double z = 0;
  const long double top = static_cast<long double>(K) * (K > 0 ? levels.rbegin()->first : levels.begin()->first);
  std::map<std::int64_t, long double> p;
  for (const auto& [b, level] : levels) z += p[b] = level.count * std::exp(static_cast<long double>(K) * b - top);
  for (auto& [b, pb] : p) pb /= z;
  return p;
}

}  // namespace latflow::testing
