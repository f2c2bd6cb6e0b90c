#pragma once
// The commands of the `latflow` CLI, each a function of its parsed arguments. They share the run-card
// plumbing of experiments/session.hpp and print human-readable output on `out` (JSON with --json).
#include <iosfwd>
#include <string>
#include <vector>

namespace latflow::cli {

/// Options every command accepts (also written as run-card keys: run.device, run.seed, ...).
struct GlobalOptions {
  std::string device;             ///< --device (empty: from the card)
  long long threads = -1;         ///< --threads (-1: from the card)
  long long seed = -1;            ///< --seed (-1: from the card)
  std::string out;                ///< --out (empty: from the card)
  bool force = false;             ///< --force
  std::vector<std::string> sets;  ///< --set section.key=value ...
  /// The --set list with the global options appended as run-card overrides.
  std::vector<std::string> overrides() const;
};

int cmd_list(std::ostream& out);
int cmd_config_show(const std::string& card, const GlobalOptions& g, std::ostream& out);
int cmd_config_check(const std::string& card, const GlobalOptions& g, std::ostream& out);
int cmd_mcmc(const std::string& card, const GlobalOptions& g, bool json, std::ostream& out, std::ostream& err);
int cmd_train(const std::string& card, const GlobalOptions& g, bool resume, const std::string& init_from,
              std::ostream& out, std::ostream& err);
/// `latflow train ... --nproc N`: checks what each rank would refuse (the batch split, the backend), then
/// runs `args` (argv without the program and --nproc) as N local ranks (experiments/local_launch.hpp).
int cmd_train_ranks(const std::string& card, const GlobalOptions& g, bool resume, int nproc,
                    const std::vector<std::string>& args, std::ostream& err);
int cmd_eval(const std::string& run_dir, const GlobalOptions& g, long long n, bool json, std::ostream& out,
             std::ostream& err);
int cmd_sample(const std::string& run_dir, const GlobalOptions& g, long long n, const std::string& file,
               std::ostream& out, std::ostream& err);
int cmd_run(const std::string& card, const GlobalOptions& g, std::ostream& out, std::ostream& err);
/// How a study's runs are spread over processes: all in this one, `workers` child processes at once, or
/// only the share of task `task` of `tasks` (a Slurm array task: units u with u % tasks == task).
struct StudySpread {
  int workers = 1;
  int task = 0, tasks = 1;
  std::vector<std::string> args;  ///< the command line without the program, --workers and --force
};
int cmd_scaling(const std::string& study, GlobalOptions g, const StudySpread& spread, std::ostream& out, std::ostream& err);
int cmd_transfer(const std::string& study, GlobalOptions g, const StudySpread& spread, std::ostream& out, std::ostream& err);
int cmd_plot(const std::string& dir, std::ostream& out, std::ostream& err);
int cmd_integrate(const std::string& card, const GlobalOptions& g, bool json, std::ostream& out, std::ostream& err);

}  // namespace latflow::cli
