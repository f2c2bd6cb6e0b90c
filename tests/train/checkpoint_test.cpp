// Checkpoints: atomic and durable writes, checksums on every load, clear errors for what does not fit.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../flows/test_models.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "train/checkpoint.hpp"

using namespace latflow;
namespace fs = std::filesystem;

namespace {
std::string fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("latflow-ckpt-" + name);
  remove_tree(dir.string());
  fs::create_directories(dir);
  return dir.string();
}
SamplerPtr tiny_flow(std::uint64_t seed) {
  torch::manual_seed(seed);
  SamplerPtr flow = model_registry().create("operator_cnf", testing::tiny_cnf_card().config);
  flow->to(torch::kFloat64);
  testing::randomise(*flow, 0.1, seed);
  return flow;
}
CheckpointMeta meta_at(std::int64_t step) {
  CheckpointMeta m;
  m.step = step;
  m.runcard = "[lattice]\nL = 4\n";
  return m;
}
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void put(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }
bool same_parameters(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.parameters(), pb = b.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i], pb[i])) return false;
  return pa.size() == pb.size();
}
}  // namespace

TEST_CASE("a checkpoint round-trips weights and metadata", "[train][checkpoint]") {
  const std::string path = fresh_dir("roundtrip") + "/c.pt";
  SamplerPtr a = tiny_flow(1), b = tiny_flow(2);
  REQUIRE_FALSE(same_parameters(*a, *b));
  CheckpointMeta m = meta_at(17);
  m.stop_reason = "time";
  m.bad_steps = 3;
  save_checkpoint(path, *a, nullptr, m);
  const CheckpointMeta back = load_checkpoint(path, *b, nullptr, false);
  CHECK(same_parameters(*a, *b));
  CHECK(back.step == 17);
  CHECK(back.runcard == m.runcard);
  CHECK(back.stop_reason == "time");
  CHECK(back.bad_steps == 3);
}

TEST_CASE("corrupted, truncated or foreign checkpoints are refused, never loaded", "[train][checkpoint]") {
  const std::string dir = fresh_dir("corrupt");
  const std::string good = dir + "/good.pt";
  SamplerPtr a = tiny_flow(3);
  save_checkpoint(good, *a, nullptr, meta_at(5));
  const std::string bytes = slurp(good);
  REQUIRE(bytes.size() > 1000);

  SECTION("64 bytes flipped in the middle of the payload") {
    std::string bad = bytes;
    for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i) bad[i] = static_cast<char>(~bad[i]);
    put(dir + "/flipped.pt", bad);
    SamplerPtr b = tiny_flow(4);
    CHECK_THROWS_WITH(load_checkpoint(dir + "/flipped.pt", *b, nullptr, false),
                      Catch::Contains("is corrupted") && Catch::Contains("checksum mismatch"));
    CHECK_THROWS_WITH(read_checkpoint_meta(dir + "/flipped.pt"), Catch::Contains("checksum mismatch"));
    CHECK_FALSE(same_parameters(*a, *b));
  }
  SECTION("a single bit flipped") {
    std::string bad = bytes;
    bad[bad.size() - 100] ^= 0x04;
    put(dir + "/bit.pt", bad);
    CHECK_THROWS_WITH(read_checkpoint_meta(dir + "/bit.pt"), Catch::Contains("corrupted"));
  }
  SECTION("truncated") {
    put(dir + "/short.pt", bytes.substr(0, bytes.size() - 10));
    CHECK_THROWS_WITH(read_checkpoint_meta(dir + "/short.pt"), Catch::Contains("corrupted"));
  }
  SECTION("not a checkpoint, empty, a directory") {
    put(dir + "/text.pt", "hello");
    CHECK_THROWS_WITH(read_checkpoint_meta(dir + "/text.pt"), Catch::Contains("not a latflow checkpoint"));
    put(dir + "/empty.pt", "");
    CHECK_THROWS_WITH(read_checkpoint_meta(dir + "/empty.pt"), Catch::Contains("not a latflow checkpoint"));
    CHECK_THROWS_WITH(read_checkpoint_meta(dir), Catch::Contains("is a directory"));
    CHECK_THROWS_AS(read_checkpoint_meta(dir + "/missing.pt"), UserError);
  }
}

TEST_CASE("a checkpoint of another architecture is a clear error", "[train][checkpoint]") {
  const std::string path = fresh_dir("shape") + "/c.pt";
  save_checkpoint(path, *tiny_flow(5), nullptr, meta_at(1));
  torch::manual_seed(6);
  SamplerPtr wider = model_registry().create("operator_cnf", testing::tiny_cnf_card({"model.channels=3"}).config);
  CHECK_THROWS_WITH(load_checkpoint(path, *wider, nullptr, false),
                    Catch::Contains("does not fit this model") && !Catch::Contains("\n"));
}

TEST_CASE("readers see the old checkpoint or the new one, never a torn file", "[train][checkpoint]") {
  const std::string path = fresh_dir("concurrent") + "/c.pt";
  SamplerPtr a = tiny_flow(7);
  save_checkpoint(path, *a, nullptr, meta_at(0));
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, failures{0};
  std::thread reader([&] {
    while (!done) {
      try {
        const CheckpointMeta m = read_checkpoint_meta(path);
        if (m.step < 0 || m.step > 40) ++failures;
      } catch (const std::exception&) {
        ++failures;  // a torn file fails its checksum (or its header)
      }
      ++reads;
    }
  });
  for (std::int64_t step = 1; step <= 40; ++step) save_checkpoint(path, *a, nullptr, meta_at(step));
  done = true;
  reader.join();
  CHECK(reads > 0);
  CHECK(failures == 0);
  CHECK(read_checkpoint_meta(path).step == 40);
  // Writers use unique temporary names and leave none behind.
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    CHECK(e.path().filename().string() == "c.pt");
}

TEST_CASE("a failed write leaves the previous checkpoint intact and says why", "[train][checkpoint]") {
  const std::string dir = fresh_dir("enospc");
  const std::string path = dir + "/c.pt";
  SamplerPtr a = tiny_flow(8);
  save_checkpoint(path, *a, nullptr, meta_at(1));
  const std::string before = slurp(path);
  // A file-size limit below the checkpoint's size makes write() fail (EFBIG), as a full disk would.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{static_cast<rlim_t>(before.size() / 2), static_cast<rlim_t>(before.size() / 2)};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      save_checkpoint(path, *a, nullptr, meta_at(2));
    } catch (const UserError& e) {
      _exit(std::string(e.what()).find("cannot write") != std::string::npos ? 0 : 3);
    } catch (...) {
      _exit(4);
    }
    _exit(5);  // the write "succeeded": the error went unnoticed
  }
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(slurp(path) == before);
  CHECK(read_checkpoint_meta(path).step == 1);
  for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename().string() == "c.pt");
}
