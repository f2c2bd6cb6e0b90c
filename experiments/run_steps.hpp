#pragma once
// The steps every flow command is made of, shared by `latflow train/eval/run` and the study drivers
// (`latflow scaling`, `latflow transfer`): resolve the card of a run, train a model in its run directory,
// reload it, evaluate it and judge its solver error.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/distributed.hpp"
#include "core/error.hpp"
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

/// The run card named on a command line. A directory is refused with what to do instead (a run
/// directory: --resume or eval).
RunCard load_card_argument(const std::string& path, const std::vector<std::string>& sets,
                           const CardSchema& schema = lattice_cards());

/// The run card recorded in a run directory, with overrides applied.
RunCard card_of_run(const std::string& run_dir, const std::vector<std::string>& sets);

/// The run directory `latflow train X --resume` continues: X itself if it is a directory; the directory
/// of X if X is the runcard.toml of a run (so a copied run resumes in the copy); otherwise the directory
/// the card X names (output.dir, or runs/<card name>).
std::string resume_directory(const std::string& card_or_dir, const std::vector<std::string>& sets);

/// What a resume changes in the recorded card ("key: old -> new"). Only what does not redefine the run may
/// change (train.*, eval.*, hmc.*, reference.*, solver.*, distributed.*, run.threads, run.device); anything else is a UserError naming
/// the key and what to do instead.
std::vector<std::string> resume_changes(const RunCard& recorded, const RunCard& now);

/// A trained model: the session's card (e.g. another lattice) with the weights of `checkpoint`, on the
/// session's device and dtype. The card's model must be the checkpoint's (every model.* key but
/// model.dtype equal); a difference is a UserError naming the keys. A model whose weights are tied to the
/// lattice (SamplerImpl::lattice_specific), trained on another lattice, initialises the session's model
/// by SamplerImpl::initialize_from, freezing what it copies if train.freeze_transferred.
SamplerPtr load_trained(const Session& s, const std::string& checkpoint);

/// The card's [eval] settings; n > 0 overrides eval.n.
EvaluationOptions evaluation_options(const Config& card, long long n);

/// Lattice, couplings, model, version, device and threads of a session, for results files.
nlohmann::json describe_run(const Session& s);

/// Reports what makes an evaluation's numbers unreliable, as warnings on `err` (and in the run's log): fewer
/// than kMinEffectiveSamples effective samples (ESS/N x N), below which reweighted estimates and their
/// jackknife errors mean little; and a solver check that did not pass, which is CheckFailed when `strict`.
/// `what` names the evaluation ("evaluation on 8x8").
constexpr double kMinEffectiveSamples = 100;
void judge_evaluation(const nlohmann::json& eval, bool strict, const std::string& what, std::ostream& err,
                        RunDirectory* dir = nullptr);

/// Joins the world of ranks `launch` describes (core/distributed.hpp) with the card's distributed.* settings,
/// and gives this rank its share of the node: with run.threads = 0 the node's cores are split among its
/// ranks, and run.device = "cuda" becomes cuda:(LOCAL_RANK mod the GPUs this process sees). One process: a world of one, nothing changed.
WorldPtr join_world(Session& s, const LaunchEnvironment& launch);

struct Trained {
  nlohmann::json summary;  ///< steps, seconds, seconds_per_step, parameters, reached_target, stop_reason, ..., last_eval
  bool interrupted = false;
  bool diverged = false;
  bool already_finished = false;  ///< a resumed run that had ended: nothing was done
};

/// Trains the session's model in `dir`, streaming metrics.jsonl, run.log and progress to `err`. With
/// `resume` it continues from the directory's checkpoint (from step 0 when it has none yet); otherwise, with
/// `init_from` (a checkpoint) non-empty, training starts from its weights with a fresh optimiser. On a
/// world of several ranks, only rank 0 writes (metrics, log, checkpoints, progress); `dir` of the others
/// is only read.
Trained train_in(const Session& s, RunDirectory& dir, bool resume, std::ostream& err,
                 const std::string& init_from = "", WorldPtr world = nullptr);

/// The UserError for a training that stopped after max_bad_steps consecutive bad steps.
UserError diverged_error(const RunDirectory& dir, const Trained& t);

}  // namespace latflow::cli
