// Property test of the run-card loader and the command line: random TOML, random --set values, random
// bytes and random argument lists. No input may crash, hang or end with an exit status other than 0 (it
// was fine) or 2 (a one-line error). Runs for a bounded time (LATFLOW_FUZZ_SECONDS, default 60) in
// `make test-slow`; the seed is fixed so that a failure reproduces (LATFLOW_FUZZ_SEED to vary it).
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/files.hpp"
#include "experiments/runcard.hpp"
#include "run_cli.hpp"

namespace fs = std::filesystem;

namespace {

class Fuzzer {
 public:
  explicit Fuzzer(std::uint64_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng_); }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

  /// A value as TOML text: of any type, in and out of every range, and some that are not TOML at all.
  std::string value() {
    switch (below(14)) {
      case 0: return std::to_string(static_cast<long long>(rng_()) >> below(63));
      case 1: return std::to_string(static_cast<int>(below(10)) - 3);
      case 2: return pick<std::string>({"0", "-1", "1", "2", "4096", "4097", "9223372036854775807",
                                        "99999999999999999999", "-9223372036854775808", "1e9", "0x10"});
      case 3: return pick<std::string>({"nan", "inf", "-inf", "+nan", "1e308", "1e-320", "-0.0", "0.5", "1e400"});
      case 4: return std::to_string(std::normal_distribution<double>(0, 10)(rng_));
      case 5: return pick<std::string>({"true", "false", "True", "yes"});
      case 6: return "\"" + word() + "\"";
      case 7: return pick<std::string>({"\"rk4\"", "\"dopri5\"", "\"coupling\"", "\"hierarchical\"", "\"operator_cnf\"",
                                        "\"free\"", "\"normal\"", "\"reinforce\"", "\"adjoint\"", "\"cuda\"",
                                        "\"gerdes-L32\"", "\"hopping\"", "\"beta\"", "\"continuum\"", "\"local\""});
      case 8: return "[" + value() + ", " + value() + "]";
      case 9: return "{ a = " + value() + " }";
      case 10: return "\"" + std::string(below(4000), 'x') + "\"";
      case 11: return "'" + bytes(below(20)) + "'";
      case 12: return "1979-05-27T07:32:00Z";
      default: return bytes(below(12));
    }
  }
  std::string word() {
    static const std::string chars = "abcdefghijklmnopqrstuvwxyz_.-=[]\"'\\ 0123456789\xc3\xa9";
    std::string w;
    for (std::size_t i = 0, n = below(12); i < n; ++i) w += chars[below(chars.size())];
    return w;
  }
  std::string bytes(std::size_t n) {
    std::string b;
    for (std::size_t i = 0; i < n; ++i) b += static_cast<char>(below(256));
    return b;
  }
  /// A key: mostly from the schema, sometimes a near miss or garbage.
  std::string key() {
    const auto& schema = latflow::runcard_schema();
    std::string k = schema[below(schema.size())].key;
    if (coin(0.1)) k[below(k.size())] = static_cast<char>('a' + below(26));
    if (coin(0.05)) k = word();
    return k;
  }
  /// A run card: sections of random keys and values, sometimes damaged or replaced by random bytes.
  std::string card() {
    if (coin(0.05)) return bytes(below(300));
    std::map<std::string, std::vector<std::string>> sections;
    for (std::size_t i = 0, n = below(12); i < n; ++i) {
      const std::string k = key();
      const auto dot = k.find('.');
      if (dot == std::string::npos) sections[""].push_back(k + " = " + value());
      else sections[k.substr(0, dot)].push_back(k.substr(dot + 1) + " = " + value());
    }
    std::string text;
    for (const auto& [sec, lines] : sections) {
      if (!sec.empty()) text += "[" + sec + "]\n";
      for (const auto& l : lines) text += l + "\n";
    }
    for (std::size_t i = 0, n = coin(0.2) ? below(4) : 0; i < n && !text.empty(); ++i) {
      const std::size_t at = below(text.size());
      if (coin()) text.erase(at, 1);
      else text.insert(at, 1, static_cast<char>(below(256)));
    }
    return text;
  }
  std::vector<std::string> sets() {
    std::vector<std::string> out;
    for (std::size_t i = 0, n = below(4); i < n; ++i) {
      std::string v = value();
      if (coin(0.3) && v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      out.push_back(coin(0.05) ? word() : key() + "=" + v);
    }
    return out;
  }
  /// A command line of the cheap commands (nothing that trains), with random flags and values.
  std::vector<std::string> argv(const std::string& card_path) {
    std::vector<std::string> a;
    switch (below(9)) {
      case 0: a = {"config", "show", card_path}; break;
      case 1: a = {"config", "check", card_path}; break;
      case 2: a = {"eval", "/nonexistent/run"}; break;
      case 3: a = {"sample", "/nonexistent/run"}; break;
      case 4: a = {"plot", card_path}; break;
      case 5: a = {"list"}; break;
      case 6: a = {word()}; break;
      case 7: a = {"config", word()}; break;
      default: a = {}; break;
    }
    for (std::size_t i = 0, n = below(4); i < n; ++i) {
      const std::string flag = pick<std::string>({"--seed", "--threads", "--device", "--out", "--force", "--n",
                                                  "--json", "--strict", "--resume", "--set", "--file", "-x", "--"});
      a.push_back(flag);
      if (coin(0.7)) a.push_back(coin(0.5) ? value() : word());
    }
    if (coin(0.5)) {
      a.push_back("--set");
      for (const auto& s : sets()) a.push_back(s);
    }
    return a;
  }

 private:
  std::mt19937_64 rng_;
};

double budget_seconds() {
  const char* s = std::getenv("LATFLOW_FUZZ_SECONDS");
  return s ? std::atof(s) : 60.0;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

TEST_CASE("fuzz: random cards, overrides and command lines exit with 0 or 2, and never crash or hang",
          "[.slow][experiments][fuzz]") {
  const char* seed_env = std::getenv("LATFLOW_FUZZ_SEED");
  Fuzzer f(seed_env ? std::strtoull(seed_env, nullptr, 10) : 20261201);
  const fs::path dir = fs::temp_directory_path() / "latflow-fuzz";
  latflow::remove_tree(dir.string());
  fs::create_directories(dir);
  const std::string card_path = (dir / "card.toml").string();
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::size_t cases = 0, ok = 0, subprocesses = 0;
  while (elapsed() < budget_seconds()) {
    ++cases;
    std::ofstream(card_path, std::ios::binary | std::ios::trunc) << f.card();
    std::vector<std::string> args = f.argv(card_path);
    // Every 25th case runs as its own process under a time limit: a crash or a hang shows there as a
    // signal or as timeout's 124 instead of ending this test.
    if (cases % 25 == 0) {
      ++subprocesses;
      std::string cmd = "timeout 60 " + std::string(LATFLOW_CLI_PATH);
      for (const auto& a : args) cmd += " " + shell_quote(a);
      cmd += " > /dev/null 2>&1";
      const int status = std::system(cmd.c_str());
      INFO("case " << cases << ": " << cmd << "\ncard:\n" << std::ifstream(card_path).rdbuf());
      REQUIRE(WIFEXITED(status));
      const int code = WEXITSTATUS(status);
      REQUIRE((code == 0 || code == 2));
      ok += code == 0;
      continue;
    }
    const auto r = latflow::testing::run_cli(args);
    std::string joined;
    for (const auto& a : args) joined += " [" + a + "]";
    INFO("case " << cases << ": latflow" << joined << "\nstderr: " << r.err << "card:\n"
                 << std::ifstream(card_path).rdbuf());
    REQUIRE((r.code == 0 || r.code == 2));
    if (r.code == 2) REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    ok += r.code == 0;
  }
  INFO(cases << " cases (" << subprocesses << " as processes), " << ok << " accepted");
  CHECK(cases > 100);
  CHECK(ok > 0);  // some inputs are valid: the generator reaches past the first check
}
