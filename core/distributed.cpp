#include "core/distributed.hpp"

#include <cerrno>
#include <cstdlib>

#include <c10/util/Exception.h>
#include <c10/util/Logging.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

namespace latflow {

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

/// An environment variable's integer value in [lo, hi]; `fallback` when unset.
int env_integer(const char* name, int lo, int hi, int fallback) {
  const char* v = env(name);
  if (!v) return fallback;
  errno = 0;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || errno == ERANGE || x < lo || x > hi)
    throw UserError(std::string(name) + "=" + v + " is not an integer in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
  return static_cast<int>(x);
}

/// The leading count of a Slurm tasks-per-node list ("2(x3),1" -> 2): the tasks on the first node.
int slurm_tasks_here(const char* text, int fallback) {
  if (!text) return fallback;
  const long x = std::strtol(text, nullptr, 10);
  return x > 0 ? static_cast<int>(x) : fallback;
}

std::string first_line(const std::exception& e) {
  const auto* c10e = dynamic_cast<const c10::Error*>(&e);
  std::string m = c10e ? c10e->what_without_backtrace() : e.what();
  if (const auto nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
  return m;
}

}  // namespace

LaunchEnvironment LaunchEnvironment::from_environment() {
  LaunchEnvironment e;
  if (env("WORLD_SIZE")) {
    e.source = "torchrun";
    e.world_size = env_integer("WORLD_SIZE", 1, 1 << 20, 1);
    if (!env("RANK") && e.world_size > 1)
      throw UserError("WORLD_SIZE=" + std::to_string(e.world_size) + " is set but RANK is not: every process needs "
                      "its RANK in [0, WORLD_SIZE) (torchrun sets both)");
    e.rank = env_integer("RANK", 0, e.world_size - 1, 0);
    e.local_rank = env_integer("LOCAL_RANK", 0, e.world_size - 1, 0);
    e.local_world_size = env_integer("LOCAL_WORLD_SIZE", 1, e.world_size, 1);
  } else if (env("SLURM_STEP_NUM_TASKS") && env("SLURM_PROCID")) {
    e.source = "slurm";
    e.world_size = env_integer("SLURM_STEP_NUM_TASKS", 1, 1 << 20, 1);
    e.rank = env_integer("SLURM_PROCID", 0, e.world_size - 1, 0);
    e.local_rank = env_integer("SLURM_LOCALID", 0, e.world_size - 1, 0);
    e.local_world_size = slurm_tasks_here(env("SLURM_STEP_TASKS_PER_NODE"), 1);
  }
  if (e.world_size == 1) return e;
  const char* addr = env("MASTER_ADDR");
  if (!addr)
    throw UserError((e.source == "slurm" ? "srun started " + std::to_string(e.world_size) + " tasks"
                                         : "WORLD_SIZE=" + std::to_string(e.world_size) + " is set") +
                    " but MASTER_ADDR is not: export MASTER_ADDR (the host of rank 0) and optionally MASTER_PORT "
                    "(default 29500), e.g. MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1); "
                    "on one machine use latflow train CARD --nproc N instead");
  e.master_addr = addr;
  e.master_port = env_integer("MASTER_PORT", 1, 65535, 29500);
  return e;
}

int announced_world_size() {
  for (const char* name : {"WORLD_SIZE", "SLURM_STEP_NUM_TASKS"})
    if (const char* v = env(name)) {
      const long n = std::strtol(v, nullptr, 10);
      return n > 1 && n <= (1 << 20) ? static_cast<int>(n) : 1;
    }
  return 1;
}

struct World::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::chrono::milliseconds timeout;

  /// Waits for a collective; a failure (a peer gone, the timeout) becomes a DistributedError.
  void wait(const c10::intrusive_ptr<c10d::Work>& work, int rank, const char* what) const {
    try {
      work->wait(timeout);
    } catch (const std::exception& e) {
      throw DistributedError("rank " + std::to_string(rank) + ": the " + what + " with the other ranks failed (" +
                             first_line(e) + "); a rank died or stopped answering within distributed.timeout = " +
                             std::to_string(timeout.count() / 1000) + " s");
    }
  }
};

World::World() = default;
World::~World() = default;

void check_backend(const std::string& backend) {
  if (backend == "gloo") return;
  if (backend == "nccl")
    throw UserError("distributed.backend = \"nccl\": this latflow was built without c10d's NCCL backend (it needs a "
                    "CUDA LibTorch with nccl.h when latflow is configured); use distributed.backend = \"gloo\", which "
                    "also reduces CUDA tensors, through host memory");
  throw UserError("distributed.backend = \"" + backend + "\" is unknown; allowed: \"gloo\"");
}

std::shared_ptr<World> World::connect(const LaunchEnvironment& env, const std::string& backend,
                                      std::chrono::milliseconds timeout) {
  check_backend(backend);
  auto world = std::make_shared<World>();
  world->rank_ = env.rank;
  world->size_ = env.world_size;
  world->local_rank_ = env.local_rank;
  world->local_size_ = env.local_world_size;
  if (env.world_size == 1) return world;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  auto group = std::make_unique<Group>();
  group->timeout = timeout;
  // c10d logs every failed connection attempt with a backtrace while it retries; the one-line error below
  // says what matters, so its log is quieted (to fatal messages) for the rendezvous.
  struct QuietLog {
    int saved = FLAGS_caffe2_log_level;
    QuietLog() { FLAGS_caffe2_log_level = 3; }
    ~QuietLog() { FLAGS_caffe2_log_level = saved; }
  } quiet;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = static_cast<std::size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    group->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(env.rank) + ": the rendezvous at " + where + " (MASTER_ADDR:MASTER_PORT) of " +
                           std::to_string(env.world_size) + " ranks did not complete within distributed.timeout = " +
                           std::to_string(timeout.count() / 1000) + " s (" + first_line(e) + ")");
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Loopback rendezvous: bind loopback. Across nodes, GLOO_SOCKET_IFNAME names the interface (as in PyTorch),
    // else the address this host's name resolves to.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    const bool loopback = env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0;
    options->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                               : loopback        ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                                 : c10d::ProcessGroupGloo::createDefaultDevice());
    group->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(env.rank) + ": cannot connect the Gloo process group of " +
                           std::to_string(env.world_size) + " ranks through " + where + " (" + first_line(e) + ")");
  }
  world->group_ = std::move(group);
  return world;
}

void World::reduce(at::Tensor& t, bool max) {
  if (size_ == 1) return;
  // Through host memory: Gloo's CPU algorithms serve every device, and the buffers here are small.
  std::vector<at::Tensor> buf = {t.device().is_cpu() && t.is_contiguous() ? t : t.to(at::kCPU).contiguous()};
  c10d::AllreduceOptions o;
  o.reduceOp = max ? c10d::ReduceOp::MAX : c10d::ReduceOp::SUM;
  group_->wait(group_->pg->allreduce(buf, o), rank_, "all-reduce");
  if (!buf[0].is_same(t)) t.copy_(buf[0]);
}

void World::all_reduce_sum(at::Tensor& t) { reduce(t, false); }
void World::all_reduce_max(at::Tensor& t) { reduce(t, true); }

void World::broadcast(at::Tensor& t, int root) {
  if (size_ == 1) return;
  std::vector<at::Tensor> buf = {t.device().is_cpu() && t.is_contiguous() ? t : t.to(at::kCPU).contiguous()};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  group_->wait(group_->pg->broadcast(buf, o), rank_, "broadcast");
  if (!buf[0].is_same(t)) t.copy_(buf[0]);
}

bool World::all_ok(bool ok) {
  at::Tensor failed = torch::tensor({ok ? 0.0 : 1.0}, torch::kFloat64);
  all_reduce_max(failed);
  return failed.item<double>() == 0.0;
}

}  // namespace latflow
