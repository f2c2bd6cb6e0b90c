#pragma once
// Study files: one TOML file describing a set of training runs that `latflow scaling` or `latflow transfer`
// executes, resumably, through the same run cards, trainer and evaluation as single runs.
//
//   [study]
//   kind = "scaling"                      # or "transfer"
//   families = ["operator_cnf", "coupling"]                 # labels of the rows
//   cards = ["experiments/runcards/quickstart.toml", ...]   # one run card per family
//   presets = ["gerdes-L6", "albergo-L8"]                   # lattice points, or L = [...], m2 = [...], lambda = [...]
//   seeds = [1, 2]
//   target_metric = "ess"                 # or "acceptance"
//   target = 0.5
//   max_steps = 2000                      # budget per run
//   max_seconds = 600                     # wall-clock budget per run; 0 = none
//   eval_every = 25                       # resolution of "steps to target"
//   output = "studies/scaling-cpu"
//   hmc = true                            # scaling only: also HMC at each lattice point (hmc.csv), with the
//                                         # first card's hmc.* keys, for the cost per effective sample
//   reuse = ["studies/scaling-cpu-long"]  # scaling only: output directories of earlier studies whose finished
//                                         # runs are this study's (same run card; a budget that cannot have
//                                         # changed the result) and are taken over instead of trained again
//   # transfer only: pretrain_preset (or pretrain_L, pretrain_m2, pretrain_lambda), pretrain_steps
//   [overrides]                           # run-card keys applied to every run
//   "train.eval_batch" = 512
//   [overrides.coupling]                  # and to one family's runs only (after the shared keys, before --set):
//   "train.lr" = 3e-3                     # a learning rate per family, or families that differ in one key
//
// Card paths are relative to the working directory, or else to the study file's directory.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace latflow {

/// A lattice size with its theory and couplings: a named preset, or explicit phi4 couplings (L, m2, lambda).
struct LatticePoint {
  std::string preset;  ///< "" for explicit couplings
  std::string theory = "phi4";
  std::int64_t L = 0;
  std::vector<std::pair<std::string, double>> couplings;  ///< run-card key -> value
  /// The run-card overrides selecting this point (every lattice key).
  std::vector<std::string> overrides() const;
  /// "albergo-L8: L=8,m2=-4,lambda=6.008" (full precision).
  std::string str() const;
  /// The value of a coupling key ("lattice.m2"), NaN when the point has none.
  double coupling(const std::string& key) const;
};

struct Study {
  std::string path;  ///< the study file
  std::string kind;  ///< "scaling" or "transfer"
  std::vector<std::string> families, cards;
  std::vector<LatticePoint> points;  ///< scaling: every size; transfer: the larger lattices
  std::vector<std::int64_t> seeds;
  std::string target_metric = "ess";
  double target = 0.5;
  std::int64_t max_steps = 1000;
  double max_seconds = 0;
  std::int64_t eval_every = 25;
  std::string output;
  std::vector<std::string> overrides;  ///< "section.key=value" for every run: [overrides], then --set
  std::size_t command_overrides = 0;   ///< how many of `overrides`, the last ones, came from --set
  /// [overrides.FAMILY], aligned with `families` (empty for a family without a table).
  std::vector<std::vector<std::string>> family_overrides;
  std::string device = "cpu";          ///< where the runs train (--device); recorded, so CPU and GPU rows never mix
  std::int64_t threads = 0;            ///< --threads (0: the run cards' run.threads)
  bool hmc = false;                    ///< scaling only: an HMC chain per lattice point (hmc.csv)
  /// Scaling only: earlier studies' output directories whose matching rows are taken over (not recorded in
  /// to_toml: a reused row is the result this study's own run would have had).
  std::vector<std::string> reuse;
  LatticePoint pretrain;               ///< transfer only
  std::int64_t pretrain_steps = 0;     ///< transfer only

  /// What a run of family f gets: the shared [overrides], its family's table, then --set (the command wins).
  std::vector<std::string> overrides_for(std::size_t f) const;

  /// The resolved study as TOML (what the output directory records, to refuse mixing two studies).
  std::string to_toml() const;
};

/// Reads and validates a study file of the given kind. `sets` are --set overrides: "study.key=value"
/// (a TOML value) changes the study, any other key is a run-card override for every run. Errors name the
/// file, the key and what is allowed (UserError).
Study load_study(const std::string& path, const std::string& kind, const std::vector<std::string>& sets);

}  // namespace latflow
