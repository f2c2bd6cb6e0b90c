#pragma once
// The steps every flow command is made of, shared by `latflow train/eval/run` and the study drivers
// (`latflow scaling`, `latflow transfer`): train a model in its run directory, reload it, evaluate it.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/run_directory.hpp"
#include "experiments/runcard.hpp"
#include "experiments/session.hpp"
#include "train/evaluate.hpp"

namespace latflow::cli {

/// Routes SIGINT/SIGTERM to a flag while alive, so training checkpoints and stops cleanly. Guards nest:
/// a study holds one across its runs, and an interrupt between two runs is not forgotten by the next.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  static bool interrupted();

 private:
  void (*prev_int_)(int);
  void (*prev_term_)(int);
};

/// The run card stored in a run directory, with overrides applied.
RunCard card_of_run(const std::string& run_dir, const std::vector<std::string>& sets);

/// A trained flow: the session's card (e.g. another lattice) with the weights of `checkpoint`.
FlowPtr load_trained(const Session& s, const std::string& checkpoint);

/// The card's [eval] settings; n > 0 overrides eval.n.
EvaluationOptions evaluation_options(const Config& card, long long n);

/// Lattice, couplings, model, version, device and threads of a session, for results files.
nlohmann::json describe_run(const Session& s);

struct Trained {
  nlohmann::json summary;  ///< steps, seconds, seconds_per_step, parameters, reached_target, ..., last_eval
  bool interrupted = false;
};

/// Trains the session's model in `dir`, streaming metrics.jsonl, run.log and progress to `err`. With
/// `resume` it continues from the directory's checkpoint; otherwise, with `init_from` non-empty, training
/// starts from that checkpoint's weights (fine-tuning) with a fresh optimiser.
Trained train_in(const Session& s, RunDirectory& dir, bool resume, std::ostream& err,
                 const std::string& init_from = "");

}  // namespace latflow::cli
