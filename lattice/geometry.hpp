#pragma once
// A periodic two-dimensional lattice of T x L sites (T = L for the square lattices of most studies).
//
// A configuration of a field lives in a tensor whose trailing dimensions are the lattice [T, L], preceded
// by the batch dimension and by any per-site components: a real scalar is [B, T, L], a U(1) gauge field
// would be link angles [B, 2, T, L], Ising spins [B, T, L] with values +-1. Actions and priors read the
// lattice from the tensor they are given, so one object serves every lattice size.
#include <cstdint>
#include <string>
#include <vector>

namespace latflow {

struct Lattice {
  std::int64_t T = 0;  ///< extent of the first (time) direction
  std::int64_t L = 0;  ///< extent of the second (space) direction

  static Lattice square(std::int64_t L) { return {L, L}; }
  std::int64_t volume() const { return T * L; }
  std::vector<std::int64_t> shape() const { return {T, L}; }
  std::string str() const { return std::to_string(T) + "x" + std::to_string(L); }
  bool operator==(const Lattice& o) const { return T == o.T && L == o.L; }
};

}  // namespace latflow
