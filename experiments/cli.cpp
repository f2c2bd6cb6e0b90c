#include "experiments/cli.hpp"

#include <ostream>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include "core/device.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "experiments/commands.hpp"

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

void add_globals(CLI::App& app, GlobalOptions& g) {
  app.add_option("--device", g.device, "cpu, cuda or cuda:N (run.device)");
  app.add_option("--threads", g.threads, "CPU threads (run.threads)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", g.seed, "random seed (run.seed)")->check(CLI::NonNegativeNumber);
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
  add_globals(app, g);

  std::string card, run_dir, file;
  bool json = false, resume = false;
  long long n = -1;

  auto* list = app.add_subcommand("list", "print every registered action, prior, model, operator, solver, "
                                          "estimator and parameter preset");
  auto* config = app.add_subcommand("config", "inspect run cards");
  config->require_subcommand(1);
  auto* show = config->add_subcommand("show", "print the fully resolved run card, defaults filled in");
  show->add_option("card", card, "run card (TOML)")->required();
  add_sets(*show, g);

  auto* hmc = app.add_subcommand("hmc", "run the HMC reference sampler and report observables with errors");
  hmc->add_option("card", card, "run card (TOML)")->required();
  add_sets(*hmc, g);
  hmc->add_flag("--json", json, "print one JSON object (also written to results.json)");

  auto* train = app.add_subcommand("train", "train the run card's model");
  train->add_option("card", card, "run card (TOML); with --resume, a run directory or its card")->required();
  add_sets(*train, g);
  train->add_flag("--resume", resume, "continue from the run directory's checkpoint");

  auto* eval = app.add_subcommand("eval", "evaluate a trained model, on its lattice or another (zero-shot)");
  eval->add_option("run_dir", run_dir, "run directory of a trained model")->required();
  add_sets(*eval, g);
  eval->add_option("--n", n, "number of samples (eval.n)")->check(CLI::PositiveNumber);
  eval->add_flag("--json", json, "print one JSON object (also written to the run directory)");

  auto* sample = app.add_subcommand("sample", "write configurations with their log q and S to a NumPy .npy file");
  sample->add_option("run_dir", run_dir, "run directory of a trained model")->required();
  add_sets(*sample, g);
  sample->add_option("--n", n, "number of configurations")->required()->check(CLI::PositiveNumber);
  sample->add_option("--file", file, "output file (default RUN_DIR/samples.npy)");

  auto* run = app.add_subcommand("run", "train, evaluate against HMC, evaluate zero-shot on a larger lattice, "
                                        "and plot (the quickstart experiment)");
  run->add_option("card", card, "run card (TOML)")->required();
  add_sets(*run, g);

  auto* scaling = app.add_subcommand("scaling", "scaling study: train every family on every lattice of a study "
                                                "file to a target, recording the cost (scaling.csv, plots)");
  scaling->add_option("study", card, "study file (TOML), e.g. experiments/studies/scaling-cpu.toml")->required();
  add_sets(*scaling, g);
  auto* transfer = app.add_subcommand("transfer", "transfer study: pretrain on a small lattice, then zero-shot, "
                                                  "fine-tune and from-scratch runs on larger ones (transfer.csv)");
  transfer->add_option("study", card, "study file (TOML), e.g. experiments/studies/transfer-cpu.toml")->required();
  add_sets(*transfer, g);
  auto* plot = app.add_subcommand("plot", "remake the plots of a run or study directory from its result files");
  plot->add_option("dir", run_dir, "run directory or study output directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*list) return cmd_list(out);
    if (*show) return cmd_config_show(card, g, out);
    if (*hmc) return cmd_hmc(card, g, json, out, err);
    if (*train) return cmd_train(card, g, resume, out, err);
    if (*eval) return cmd_eval(run_dir, g, n, json, out, err);
    if (*sample) return cmd_sample(run_dir, g, n, file, out, err);
    if (*run) return cmd_run(card, g, out, err);
    if (*scaling) return cmd_scaling(card, g, out, err);
    if (*transfer) return cmd_transfer(card, g, out, err);
    if (*plot) return cmd_plot(run_dir, out, err);
  } catch (const UserError& e) {
    err << "latflow: error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    err << "latflow: internal error (LibTorch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    err << "latflow: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace latflow::cli
