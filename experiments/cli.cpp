#include "experiments/cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <ostream>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include "core/device.hpp"
#include "core/distributed.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/version.hpp"
#include "experiments/commands.hpp"
#include "experiments/local_launch.hpp"

namespace latflow::cli {

std::vector<std::string> GlobalOptions::overrides() const {
  std::vector<std::string> all = sets;
  if (!device.empty()) all.push_back("run.device=" + device);
  if (threads >= 0) all.push_back("run.threads=" + std::to_string(threads));
  if (seed >= 0) all.push_back("run.seed=" + std::to_string(seed));
  if (!out.empty()) all.push_back("output.dir=" + out);
  return all;
}

namespace {

std::string version_line() {
  return std::string("latflow ") + kVersion + " (LibTorch " + TORCH_VERSION + ", CUDA " +
         (cuda_usable() ? "usable" : "not usable") + ")";
}

/// A flag's integer value in [lo, hi]; anything else (a fraction, an overflow, a sign) is a UserError that
/// says what is allowed, without CLI11's 309-digit bounds.
long long parse_integer(const std::string& flag, const std::string& text, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi)
    throw UserError(flag + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" +
                    text + "'");
  return v;
}

/// An error message as one line: control characters (from user input quoted in it) escaped, and cut to a
/// length a terminal line can hold (a message quoting a 4000-character value stays readable).
std::string one_line(const std::string& message) {
  std::string out;
  for (const unsigned char c : message) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += ' ';
    else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else out += static_cast<char>(c);
  }
  constexpr std::size_t kMax = 2000;
  if (out.size() > kMax) out = out.substr(0, kMax) + "... (" + std::to_string(out.size() - kMax) + " more characters)";
  return out;
}

struct RawGlobals {
  std::string threads, seed;
};

void add_globals(CLI::App& app, GlobalOptions& g, RawGlobals& raw) {
  app.add_option("--device", g.device, "cpu, cuda or cuda:N (run.device)");
  app.add_option("--threads", raw.threads, "CPU threads (run.threads)");
  app.add_option("--seed", raw.seed, "random seed, 0 to 2^63 - 1 (run.seed)");
  app.add_option("--out", g.out, "output directory (output.dir)");
  app.add_flag("--force", g.force, "overwrite what an earlier run wrote there");
}

void add_sets(CLI::App& app, GlobalOptions& g) {
  app.add_option("--set", g.sets, "override run-card keys: --set section.key=value [section.key=value ...]")
      ->expected(1, -1)
      ->allow_extra_args();
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"latflow: normalizing flows for lattice field theory", "latflow"};
  app.set_version_flag("--version", version_line());
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions g;
  RawGlobals raw;
  add_globals(app, g, raw);

  std::string card, run_dir, file, init_from, n_text, nproc_text, workers_text, task_text;
  // The command line without the program name: what --nproc and --workers start again.
  const auto arguments = [&] { return std::vector<std::string>(argv + 1, argv + argc); };
  bool json = false, resume = false, strict = false;

  auto* list = app.add_subcommand("list", "print every registered action, prior, model, operator, solver, "
                                          "estimator and parameter preset");
  auto* config = app.add_subcommand("config", "inspect run cards");
  config->require_subcommand(1);
  auto* show = config->add_subcommand("show", "print the fully resolved run card, defaults filled in, with each key's "
                                              "allowed values");
  show->add_option("card", card, "run card (TOML)")->required();
  add_sets(*show, g);
  auto* check = config->add_subcommand("check", "validate a run card completely: resolve it, build its theory and "
                                                "model, and estimate the memory it needs");
  check->add_option("card", card, "run card (TOML)")->required();
  add_sets(*check, g);

  auto* hmc = app.add_subcommand("mcmc", "run the theory's reference Markov chains (HMC; Wolff and Metropolis for "
                                         "Ising spins) and report observables, tau_int and cost with errors");
  hmc->alias("hmc");
  hmc->add_option("card", card, "run card (TOML)")->required();
  add_sets(*hmc, g);
  hmc->add_flag("--json", json, "print one JSON object (also written to results.json)");

  auto* train = app.add_subcommand("train", "train the run card's model");
  train->add_option("card", card, "run card (TOML); with --resume, a run directory or its card")->required();
  add_sets(*train, g);
  train->add_flag("--resume", resume, "continue from the run directory's checkpoint");
  train->add_option("--init-from", init_from, "start from the weights of a trained run (fine-tuning; same model)");
  train->add_option("--nproc", nproc_text, "train data-parallel on N local processes (c10d/Gloo; see docs/cluster.md)");

  auto* eval = app.add_subcommand("eval", "evaluate a trained model, on its lattice or another (zero-shot)");
  eval->add_option("run_dir", run_dir, "run directory of a trained model")->required();
  add_sets(*eval, g);
  eval->add_option("--n", n_text, "number of samples (eval.n)");
  eval->add_flag("--json", json, "print one JSON object (also written to the run directory)");
  eval->add_flag("--strict", strict, "exit with status 3 when the solver error is not small (eval.strict)");

  auto* sample = app.add_subcommand("sample", "write configurations with their log q and S to a NumPy .npy file");
  sample->add_option("run_dir", run_dir, "run directory of a trained model")->required();
  add_sets(*sample, g);
  sample->add_option("--n", n_text, "number of configurations")->required();
  sample->add_option("--file", file, "output file (default RUN_DIR/samples.npy)");

  auto* run = app.add_subcommand("run", "train, evaluate against HMC, evaluate zero-shot on a larger lattice, "
                                        "and plot (the quickstart experiment)");
  run->add_option("card", card, "run card (TOML)")->required();
  add_sets(*run, g);
  run->add_flag("--strict", strict, "exit with status 3 when the solver error is not small (eval.strict)");

  auto* scaling = app.add_subcommand("scaling", "scaling study: train every family on every lattice of a study "
                                                "file to a target, recording the cost (scaling.csv, plots)");
  scaling->add_option("study", card, "study file (TOML), e.g. experiments/studies/scaling-cpu.toml")->required();
  add_sets(*scaling, g);
  auto* transfer = app.add_subcommand("transfer", "transfer study: pretrain on a small lattice, then zero-shot, "
                                                  "fine-tune and from-scratch runs on larger ones (transfer.csv)");
  transfer->add_option("study", card, "study file (TOML), e.g. experiments/studies/transfer-cpu.toml")->required();
  add_sets(*transfer, g);
  for (auto* study : {scaling, transfer}) {
    study->add_option("--workers", workers_text, "run N of the study's runs at once, as separate processes sharing the "
                                                 "cores (or one GPU each)");
    study->add_option("--task", task_text, "I/N: do only task I (0-based) of N, e.g. one task of a Slurm job array "
                                           "(docs/cluster.md)");
  }
  auto* integrate = app.add_subcommand("integrate", "integrate a function on [0, 1]^d by neural importance sampling, "
                                                    "against plain Monte Carlo and VEGAS at equal evaluation counts");
  integrate->add_option("card", card, "integration card (TOML), e.g. experiments/runcards/nis-camel.toml")->required();
  add_sets(*integrate, g);
  integrate->add_flag("--json", json, "print one JSON object (also written to results.json)");
  auto* plot = app.add_subcommand("plot", "remake the plots of a run or study directory from its result files");
  plot->add_option("dir", run_dir, "run directory or study output directory")->required();

  try {
    // CLI11 says "A subcommand is required" for a mistyped command; name it and what exists instead.
    std::vector<std::string> commands;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) commands.push_back(sub->get_name());
    if (argc < 2)
      throw UserError("a command is required; commands: " + text::quoted_list(commands) + " (latflow --help)");
    const std::string first = argv[1];
    if (first.empty() || first[0] != '-') {
      bool known = false;
      for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) known |= sub->check_name(first);
      if (!known)
        throw UserError("unknown command '" + first + "'" + text::did_you_mean(first, commands) +
                        "; commands: " + text::quoted_list(commands));
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e, out, err);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e, out, err);
    } catch (const CLI::CallForVersion& e) {
      return app.exit(e, out, err);
    } catch (const CLI::ParseError& e) {
      std::string where;
      for (const auto* sub : app.get_subcommands()) where += " " + sub->get_name();
      throw UserError(std::string(e.what()) + " (see latflow" + where + " --help)");
    }
    if (!raw.threads.empty()) g.threads = parse_integer("--threads", raw.threads, 0, 4096);
    if (!raw.seed.empty()) g.seed = parse_integer("--seed", raw.seed, 0, std::numeric_limits<long long>::max());
    const long long n = n_text.empty() ? -1 : parse_integer("--n", n_text, 1, 1000000000);
    if (strict) g.sets.push_back("eval.strict=true");

    // Only training is data-parallel; anything else launched as several ranks would do its work N times.
    if (announced_world_size() > 1 && !*train && !*list && !*show && !*check && !*plot)
      throw UserError("only `latflow train` runs on several ranks; this command was launched as one of " +
                      std::to_string(announced_world_size()) + " (WORLD_SIZE or srun's SLURM_STEP_NUM_TASKS): run it as a "
                      "single process (studies spread their runs with --workers or --task instead)");
    if (*list) return cmd_list(out);
    if (*show) return cmd_config_show(card, g, out);
    if (*check) return cmd_config_check(card, g, out);
    if (*hmc) return cmd_mcmc(card, g, json, out, err);
    if (*train && !nproc_text.empty()) {
      const int nproc = static_cast<int>(parse_integer("--nproc", nproc_text, 1, 1024));
      if (nproc > 1) {
        return cmd_train_ranks(card, g, resume, nproc, without_option(arguments(), "--nproc"), err);
      }
    }
    if (*train) return cmd_train(card, g, resume, init_from, out, err);
    if (*eval) return cmd_eval(run_dir, g, n, json, out, err);
    if (*sample) return cmd_sample(run_dir, g, n, file, out, err);
    if (*run) return cmd_run(card, g, out, err);
    if (*scaling || *transfer) {
      StudySpread spread;
      if (!workers_text.empty()) spread.workers = static_cast<int>(parse_integer("--workers", workers_text, 1, 1024));
      if (!task_text.empty()) {
        const auto slash = task_text.find('/');
        if (slash == std::string::npos)
          throw UserError("--task must be I/N (task I of N, 0 <= I < N), e.g. --task 0/4; got '" + task_text + "'");
        spread.tasks = static_cast<int>(parse_integer("--task's N", task_text.substr(slash + 1), 1, 1000000));
        spread.task = static_cast<int>(parse_integer("--task's I", task_text.substr(0, slash), 0, spread.tasks - 1));
        if (spread.workers > 1) throw UserError("--workers and --task cannot be combined: --task is one share of a study");
      }
      spread.args = without_option(arguments(), "--workers", {"--force"});
      return *scaling ? cmd_scaling(card, g, spread, out, err) : cmd_transfer(card, g, spread, out, err);
    }
    if (*plot) return cmd_plot(run_dir, out, err);
    if (*integrate) return cmd_integrate(card, g, json, out, err);
  } catch (const UserError& e) {
    err << "latflow: error: " << one_line(e.what()) << "\n";
    return 2;
  } catch (const CheckFailed& e) {
    err << "latflow: check failed: " << one_line(e.what()) << "\n";
    return 3;
  } catch (const c10::Error& e) {
    err << "latflow: internal error (LibTorch): " << one_line(e.what_without_backtrace()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    err << "latflow: internal error: " << one_line(e.what()) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace latflow::cli
