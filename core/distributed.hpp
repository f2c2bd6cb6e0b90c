#pragma once
// The world of processes a run spans, over PyTorch's own c10d: a TCPStore for the rendezvous and a Gloo
// process group for the collectives (Li et al., "PyTorch Distributed: Experiences on Accelerating Data
// Parallel Training", VLDB 2020). One process is a world of size 1 whose collectives do nothing, so the
// code that uses them has one path.
//
// How a process learns its place (LaunchEnvironment::from_environment), first match wins:
//   torchrun and friends:  RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT;
//   Slurm's srun:          SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID, SLURM_STEP_TASKS_PER_NODE,
//                          with MASTER_ADDR (and MASTER_PORT) exported by the job script;
//   otherwise:             one process.
// Only srun's step variables count: a batch script's SLURM_NTASKS describes the allocation, not this
// process, and trusting it would make a lone process wait for peers that never come.
//
// Every collective waits at most the world's timeout; a peer that died or hung surfaces as a
// DistributedError (a UserError: one line, exit status 2) on every surviving rank, never as a hang.
#include <chrono>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "core/error.hpp"

namespace latflow {

/// A collective failed: a peer died, hung past the timeout, or the rendezvous never completed.
class DistributedError : public UserError {
 public:
  using UserError::UserError;
};

struct LaunchEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        ///< rank among the processes of this node: picks the GPU
  int local_world_size = 1;  ///< processes on this node: share the CPU cores
  std::string master_addr;   ///< host of rank 0, which serves the store
  int master_port = 29500;   ///< torchrun's default
  std::string source;        ///< "torchrun", "slurm" or "" (one process)

  /// Reads the environment (rules above); inconsistent or partial settings are a UserError naming the
  /// variable and what is allowed.
  static LaunchEnvironment from_environment();
};

/// The number of processes a launcher says this one belongs to (WORLD_SIZE, else srun's
/// SLURM_STEP_NUM_TASKS), 1 when none says so or the value is not a count; nothing else is read or checked.
int announced_world_size();

/// Throws a UserError unless `backend` is one this build can connect ("gloo").
void check_backend(const std::string& backend);

class World {
 public:
  /// One process: every collective is the identity.
  World();
  /// Joins the world `env` describes: rank 0 serves the store, everyone waits for everyone else at most
  /// `timeout`. `backend` is "gloo" (CPU and CUDA tensors, through host memory) or "nccl" (refused: this
  /// build has no NCCL backend).
  static std::shared_ptr<World> connect(const LaunchEnvironment& env, const std::string& backend,
                                        std::chrono::milliseconds timeout);
  ~World();

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  bool is_main() const { return rank_ == 0; }

  /// In place, summed over ranks. Any dtype and device; moved through host memory when on a GPU.
  void all_reduce_sum(at::Tensor& t);
  /// In place, the elementwise maximum over ranks.
  void all_reduce_max(at::Tensor& t);
  /// In place, overwritten with root's values.
  void broadcast(at::Tensor& t, int root = 0);
  /// Whether `ok` holds on every rank (a failed setup on one rank then stops all of them at once).
  bool all_ok(bool ok);

 private:
  struct Group;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::unique_ptr<Group> group_;
  void reduce(at::Tensor& t, bool max);
};

using WorldPtr = std::shared_ptr<World>;

}  // namespace latflow
