// Data-parallel training over c10d (core/distributed.hpp, train/trainer.hpp): ranks as separate latflow
// processes on loopback (Gloo, CPU), checked against one process with the same global batch, through the
// launch paths a user has (--nproc, and the torchrun/Slurm environment), and when a rank dies.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <tuple>

#include "core/distributed.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/session.hpp"
#include "train/checkpoint.hpp"
#include "run_cli.hpp"

extern char** environ;

namespace fs = std::filesystem;
using latflow::testing::CliResult;

namespace {

fs::path scratch(const std::string& name) { return latflow::testing::scratch_dir("latflow-distributed", name); }

// float64 so that 1e-10 measures the algorithm, not float32 rounding. 16 samples split into 2 shards.
const char* kCard =
    "[lattice]\nT = 4\nL = 4\nm2 = -4.0\nlambda = 6.008\n"
    "[model]\ndtype = \"float64\"\nchannels = 2\nfrequencies = 2\nkernel_modes = 3\ntime_modes = 1\n"
    "[solver]\nsteps = 4\n"
    "[train]\nsteps = 3\nbatch = 16\neval_every = 2\neval_batch = 64\ncheckpoint_every = 1\n"
    "[run]\nthreads = 1\n"
    "[distributed]\ntimeout = 20\n";

std::string card_in(const fs::path& dir) { return latflow::testing::write_text(dir / "card.toml", kCard); }

/// Runs the latflow executable with `args`; returns its exit status (stderr goes to `err_file`).
int latflow_process(const std::string& args, const fs::path& err_file) {
  const std::string cmd = std::string(LATFLOW_CLI_PATH) + " " + args + " > /dev/null 2> " + err_file.string();
  return WEXITSTATUS(std::system(cmd.c_str()));
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The largest |a - b| over all parameters, relative to the largest |b|, of two checkpoints of `card`'s model.
double parameter_difference(const std::string& card, const std::string& a, const std::string& b) {
  latflow::Session s(latflow::load_runcard(card, {}));
  auto ma = s.build_model(), mb = s.build_model();
  latflow::load_checkpoint(a, *ma, nullptr, false);
  latflow::load_checkpoint(b, *mb, nullptr, false);
  double diff = 0, scale = 0;
  const auto pa = ma->parameters(), pb = mb->parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    diff = std::max(diff, (pa[i] - pb[i]).abs().max().item<double>());
    scale = std::max(scale, pb[i].abs().max().item<double>());
  }
  return diff / scale;
}

/// A process with extra environment variables, stderr into `err_file`.
pid_t spawn_rank(const std::vector<std::string>& env_extra, const std::vector<std::string>& args, const fs::path& err_file) {
  std::vector<std::string> env_text(env_extra);
  for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
  std::vector<char*> envp, argv;
  for (auto& kv : env_text) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_text = {LATFLOW_CLI_PATH};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, LATFLOW_CLI_PATH, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

/// Waits for `pid` at most `seconds`; its exit status, or -1 if it is still running then (it is killed).
int wait_at_most(pid_t pid, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

/// Restores (or removes) an environment variable when it goes out of scope.
struct EnvGuard {
  std::string name;
  std::optional<std::string> old;
  EnvGuard(std::string n, const char* value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
    if (value) setenv(name.c_str(), value, 1);
    else unsetenv(name.c_str());
  }
  ~EnvGuard() {
    if (old) setenv(name.c_str(), old->c_str(), 1);
    else unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("two ranks over Gloo train the parameters of one process with the same global batch", "[distributed]") {
  const fs::path dir = scratch("equal");
  const std::string card = card_in(dir);
  // The reference: one process draws both shards of every step (train.micro_batches = 2) from the same
  // streams the two ranks draw them from, and accumulates their gradients.
  const CliResult one = latflow::testing::run_cli({"train", card, "--out", (dir / "one").string(), "--set",
                                                   "train.micro_batches=2"});
  INFO(one.err);
  REQUIRE(one.code == 0);
  REQUIRE(latflow_process("train " + card + " --out " + (dir / "two").string() + " --nproc 2", dir / "two.err") == 0);
  INFO(slurp(dir / "two.err"));
  const auto meta = latflow::read_checkpoint_meta((dir / "two" / "checkpoint.pt").string());
  CHECK(meta.step == 3);
  CHECK(meta.shards == 2);
  CHECK(parameter_difference(card, (dir / "two" / "checkpoint.pt").string(), (dir / "one" / "checkpoint.pt").string()) < 1e-10);

  // The all-reduce is what makes them agree: a single shard of 8 (one rank's half alone) trains another model.
  const CliResult half = latflow::testing::run_cli({"train", card, "--out", (dir / "half").string(), "--set", "train.batch=8"});
  REQUIRE(half.code == 0);
  CHECK(parameter_difference(card, (dir / "half" / "checkpoint.pt").string(), (dir / "one" / "checkpoint.pt").string()) > 1e-6);

  // Rank 0 alone wrote the run: one metrics stream, with the evaluation over both ranks' samples.
  const auto results = nlohmann::json::parse(slurp(dir / "two" / "results.json"));
  CHECK(results["ranks"] == 2);
  CHECK(results["train"]["last_eval"]["eval"]["ess"].get<double>() > 0);
  std::ifstream metrics(dir / "two" / "metrics.jsonl");
  int records = 0;
  for (std::string line; std::getline(metrics, line);) ++records;
  CHECK(records == 3 + 2);  // 3 steps, evaluations at steps 2 and 3
}

TEST_CASE("a data-parallel run resumed on the same world size continues exactly, and on another says it no longer is",
          "[distributed]") {
  const fs::path dir = scratch("resume");
  const std::string card = card_in(dir);
  // A constant learning rate: the cosine schedule depends on train.steps, which the resume raises.
  REQUIRE(latflow_process("train " + card + " --out " + (dir / "straight").string() +
                              " --nproc 2 --set train.steps=5 train.schedule=constant", dir / "straight.err") == 0);
  REQUIRE(latflow_process("train " + card + " --out " + (dir / "split").string() + " --nproc 2 --set train.schedule=constant",
                          dir / "split.err") == 0);
  REQUIRE(latflow_process("train " + (dir / "split").string() + " --resume --nproc 2 --set train.steps=5",
                          dir / "resumed.err") == 0);
  INFO(slurp(dir / "resumed.err"));
  CHECK(parameter_difference(card, (dir / "split" / "checkpoint.pt").string(),
                             (dir / "straight" / "checkpoint.pt").string()) == 0.0);

  // One process continuing a 2-rank checkpoint: correct, but the batches are not the ones 2 ranks draw.
  const CliResult alone = latflow::testing::run_cli({"train", (dir / "split").string(), "--resume", "--set", "train.steps=6"});
  INFO(alone.err);
  CHECK(alone.code == 0);
  CHECK_THAT(alone.err, Catch::Contains("no longer bit-identical"));
}

TEST_CASE("when a rank dies the other stops within the timeout with a clear error, and the checkpoint survives",
          "[distributed]") {
  const fs::path dir = scratch("fault");
  const std::string card = card_in(dir);
  const std::string port = std::to_string(29700 + getpid() % 200);
  const std::vector<std::string> args = {"train", card, "--out", (dir / "run").string(), "--set", "train.steps=1000000",
                                         "train.eval_every=0", "distributed.timeout=10"};
  const std::vector<std::string> common = {"WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port};
  auto env_of = [&](int rank) {
    std::vector<std::string> e = common;
    e.push_back("RANK=" + std::to_string(rank));
    e.push_back("LOCAL_RANK=" + std::to_string(rank));
    return e;
  };
  const pid_t rank0 = spawn_rank(env_of(0), args, dir / "rank0.err");
  const pid_t rank1 = spawn_rank(env_of(1), args, dir / "rank1.err");
  const fs::path checkpoint = dir / "run" / "checkpoint.pt";
  const auto started = std::chrono::steady_clock::now();
  while (!fs::exists(checkpoint) && std::chrono::steady_clock::now() - started < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(fs::exists(checkpoint));
  kill(rank1, SIGKILL);
  waitpid(rank1, nullptr, 0);
  // The bound is the timeout plus slack for a loaded machine; a hang would be killed at the bound and fail.
  const int code = wait_at_most(rank0, 10 + 30);
  const std::string err = slurp(dir / "rank0.err");
  INFO(err);
  CHECK(code == 2);
  CHECK_THAT(err, Catch::Contains("rank 0: the all-reduce with the other ranks failed") &&
                      Catch::Contains("the last checkpoint in") && Catch::Contains("--resume"));
  const auto meta = latflow::read_checkpoint_meta(checkpoint.string());  // whole: its checksum verifies
  CHECK(meta.step >= 1);
}

TEST_CASE("bad distributed input is refused with a clear error before any rank waits", "[distributed]") {
  const fs::path dir = scratch("bad");
  const std::string card = card_in(dir);
  SECTION("WORLD_SIZE without MASTER_ADDR") {
    EnvGuard ws("WORLD_SIZE", "2"), rank("RANK", "0"), addr("MASTER_ADDR", nullptr);
    latflow::testing::check_user_error(latflow::testing::run_cli({"train", card, "--out", (dir / "r").string()}),
                                       "MASTER_ADDR is not");
  }
  SECTION("a rank outside the world") {
    EnvGuard ws("WORLD_SIZE", "2"), rank("RANK", "2"), addr("MASTER_ADDR", "127.0.0.1");
    latflow::testing::check_user_error(latflow::testing::run_cli({"train", card, "--out", (dir / "r").string()}),
                                       "RANK=2 is not an integer in [0, 1]");
  }
  SECTION("--nproc larger than the batch") {
    latflow::testing::check_user_error(latflow::testing::run_cli({"train", card, "--nproc", "32"}),
                                       "train.batch = 16 is smaller than its 32 shards");
  }
  SECTION("a batch that does not divide by the world size") {
    latflow::testing::check_user_error(latflow::testing::run_cli({"train", card, "--nproc", "3"}),
                                       "does not split into 3 ranks x 1 micro-batch equal shards; use a multiple of 3, e.g. 18");
    latflow::testing::check_user_error(
        latflow::testing::run_cli({"train", card, "--out", (dir / "r").string(), "--set", "train.micro_batches=3"}),
        "does not split into 1 rank x 3 micro-batches");
  }
  SECTION("NCCL on a build without it") {
    latflow::testing::check_user_error(
        latflow::testing::run_cli({"train", card, "--nproc", "2", "--set", "distributed.backend=nccl"}),
        "built without c10d's NCCL backend");
  }
  SECTION("--nproc inside a launched world") {
    EnvGuard ws("WORLD_SIZE", "2");
    latflow::testing::check_user_error(latflow::testing::run_cli({"train", card, "--nproc", "2"}),
                                       "is already one of 2 launched ranks");
  }
  SECTION("a command other than train launched as several ranks") {
    EnvGuard ws("WORLD_SIZE", "2");
    latflow::testing::check_user_error(latflow::testing::run_cli({"eval", (dir / "r").string()}),
                                       "only `latflow train` runs on several ranks");
  }
  SECTION("--nproc under a launcher of one task is allowed") {
    EnvGuard ws("SLURM_STEP_NUM_TASKS", "1");
    latflow::testing::check_user_error(latflow::testing::run_cli({"train", card, "--nproc", "3"}),
                                       "does not split into 3 ranks");  // reaches the batch check, past the launcher's
  }
  SECTION("--nproc that is not a count") {
    latflow::testing::check_user_error(latflow::testing::run_cli({"train", card, "--nproc", "0"}),
                                       "--nproc must be an integer in [1, 1024]");
  }
  CHECK_FALSE(fs::exists(dir / "r"));
}

TEST_CASE("the launch environment is read as torchrun and srun write it", "[distributed]") {
  using latflow::LaunchEnvironment;
  EnvGuard ws("WORLD_SIZE", nullptr), rk("RANK", nullptr), lr("LOCAL_RANK", nullptr), lws("LOCAL_WORLD_SIZE", nullptr),
      addr("MASTER_ADDR", nullptr), port("MASTER_PORT", nullptr), sp("SLURM_PROCID", nullptr),
      sn("SLURM_STEP_NUM_TASKS", nullptr), sl("SLURM_LOCALID", nullptr), st("SLURM_STEP_TASKS_PER_NODE", nullptr),
      batch_tasks("SLURM_NTASKS", "4");
  // (source, rank, world size, local rank, local world size, master address, port)
  const auto place = [] {
    const auto e = LaunchEnvironment::from_environment();
    return std::make_tuple(e.source, e.rank, e.world_size, e.local_rank, e.local_world_size, e.master_addr, e.master_port);
  };
  // A batch script's allocation (SLURM_NTASKS) is not a world: one process.
  CHECK(LaunchEnvironment::from_environment().world_size == 1);
  {
    EnvGuard a("WORLD_SIZE", "4"), b("RANK", "3"), c("LOCAL_RANK", "1"), d("LOCAL_WORLD_SIZE", "2"),
        e("MASTER_ADDR", "node7"), f("MASTER_PORT", "1234");
    CHECK(place() == std::make_tuple(std::string("torchrun"), 3, 4, 1, 2, std::string("node7"), 1234));
  }
  {
    EnvGuard a("SLURM_STEP_NUM_TASKS", "8"), b("SLURM_PROCID", "5"), c("SLURM_LOCALID", "1"),
        d("SLURM_STEP_TASKS_PER_NODE", "4(x2)"), e("MASTER_ADDR", "node1");
    CHECK(place() == std::make_tuple(std::string("slurm"), 5, 8, 1, 4, std::string("node1"), 29500));
  }
  {
    EnvGuard a("WORLD_SIZE", "2"), b("RANK", "0"), c("MASTER_ADDR", "h"), d("MASTER_PORT", "70000");
    CHECK_THROWS_WITH(LaunchEnvironment::from_environment(), Catch::Contains("MASTER_PORT=70000 is not an integer in [1, 65535]"));
  }
}

TEST_CASE("a rank whose peers never come, or whose rank 0 cannot set up the run, stops with a clear error",
          "[distributed]") {
  const fs::path dir = scratch("setup");
  const std::string card = card_in(dir);
  {
    // Rank 1 of 2 with nobody serving the store: the rendezvous gives up after distributed.timeout.
    EnvGuard ws("WORLD_SIZE", "2"), rank("RANK", "1"), addr("MASTER_ADDR", "127.0.0.1"), port("MASTER_PORT", "1");
    const CliResult r = latflow::testing::run_cli(
        {"train", card, "--out", (dir / "lonely").string(), "--set", "distributed.timeout=1"});
    latflow::testing::check_user_error(r, "rank 1: the rendezvous at 127.0.0.1:1");
    CHECK_FALSE(fs::exists(dir / "lonely"));
  }
  // A fresh run into a directory that holds one: rank 0 says so, rank 1 stops at once too.
  REQUIRE(latflow_process("train " + card + " --out " + (dir / "taken").string(), dir / "first.err") == 0);
  CHECK(latflow_process("train " + card + " --out " + (dir / "taken").string() + " --nproc 2", dir / "second.err") == 2);
  const std::string err = slurp(dir / "second.err");
  INFO(err);
  CHECK_THAT(err, Catch::Contains("already holds") || Catch::Contains("holds a run") || Catch::Contains("--force"));
  CHECK_THAT(err, Catch::Contains("rank 1: stopped, rank 0 could not set up the run directory"));
}
