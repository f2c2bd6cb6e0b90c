#pragma once
// Memory estimates made before a command allocates anything, so that a card that cannot fit (lattice.L =
// 4096, an eval.n of billions) is refused with the estimate and the limit instead of being ended by the
// out-of-memory killer without a word.
//
// The estimate counts the large tensors of each piece of work, per sample and lattice site:
//  - training: the activations autograd keeps for one step, batch x V x (floats kept per site) in the
//    model's dtype. A CNF with backprop keeps every stage of every step (steps x stages x per-evaluation
//    floats); the adjoint method keeps about one step's worth. Coupling and hierarchical flows keep each
//    layer's conditioner activations;
//  - evaluation: the ensemble in float64 on the host (eval.n x V, twice with the solver check, plus the
//    copy the observables are measured on), and one batch in flight;
//  - sampling: the records written (n x (V + 2) float64);
//  - HMC: the measured configurations kept for analysis (trajectories / measure_every x chains x V float64).
// The constants are upper-end counts of what the implementations allocate (checked against the measured
// peak of small runs in tests/experiments/memory_estimate_test.cpp); they are meant to be right within a
// factor of about two, which is what deciding "fits or not" needs. Device memory (CUDA) and host memory are
// counted and limited separately.
#include <cstdint>
#include <initializer_list>
#include <string>

#include "experiments/session.hpp"

namespace latflow {

enum class Work { none, train, eval, sample, hmc };

struct MemoryEstimate {
  double device_bytes = 0;  ///< on the session's device (the host, for CPU runs: see host_bytes)
  double host_bytes = 0;    ///< on the host, in addition
  std::string what;         ///< what dominates, for messages
};

/// The estimate for one piece of work on the session's card; `samples` overrides eval.n (eval, sample).
MemoryEstimate estimate_memory(const Session& s, Work work, std::int64_t samples = -1);

/// The limits: run.memory_limit_gb when set (it applies to the host and to the device), else the memory
/// available now (Linux MemAvailable; the free memory of the CUDA device).
struct MemoryLimit {
  double host_bytes = 0;
  double device_bytes = 0;  ///< 0 for a CPU session
  bool configured = false;  ///< from run.memory_limit_gb
};
MemoryLimit memory_limit(const Session& s);

/// Refuses (UserError with the estimate, the limit and what to change) when any piece of work would not fit.
void check_memory(const Session& s, std::initializer_list<Work> work, std::int64_t samples = -1);

}  // namespace latflow
