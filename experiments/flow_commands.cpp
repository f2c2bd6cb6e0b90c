// `latflow train`, `eval`, `sample` and `run`: the life of a flow model in its run directory.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <torch/torch.h>

#include "core/distributed.hpp"
#include "core/npy.hpp"
#include "core/version.hpp"
#include "experiments/commands.hpp"
#include "experiments/local_launch.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/reference_chains.hpp"
#include "experiments/memory_estimate.hpp"
#include "experiments/plotting.hpp"
#include "experiments/progress.hpp"
#include "experiments/report.hpp"
#include "experiments/run_directory.hpp"
#include "experiments/session.hpp"
#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

namespace fs = std::filesystem;

namespace latflow::cli {

namespace {

int interrupted_exit(const RunDirectory& dir, std::int64_t step, std::ostream& err) {
  err << "interrupted at step " << step << "; checkpoint written. Continue with:\n  latflow train "
      << dir.path() << " --resume\n";
  return 130;
}

}  // namespace

int cmd_train(const std::string& card_or_dir, const GlobalOptions& g, bool resume, const std::string& init_from,
              std::ostream& out, std::ostream& err) {
  // Where this process stands among the ranks of a data-parallel run (one process unless launched as several).
  const LaunchEnvironment launch = LaunchEnvironment::from_environment();
  const bool main_rank = launch.rank == 0;
  std::unique_ptr<Session> s;
  std::string run_dir, init_checkpoint;
  std::vector<std::string> changes;
  if (resume) {
    if (g.force)
      throw UserError("--force cannot be combined with --resume: --resume continues a run, --force replaces it");
    if (!g.out.empty())
      throw UserError("--out cannot be combined with --resume: name the run directory itself (latflow train DIR --resume)");
    if (!init_from.empty()) throw UserError("--init-from cannot be combined with --resume");
    run_dir = resume_directory(card_or_dir, g.overrides());
    const RunCard recorded = card_of_run(run_dir, {});
    RunCard now = card_of_run(run_dir, g.overrides());
    changes = resume_changes(recorded, now);
    s = std::make_unique<Session>(std::move(now));
    if (const std::string checkpoint = run_dir + "/checkpoint.pt"; fs::exists(checkpoint)) {
      const CheckpointMeta meta = read_checkpoint_meta(checkpoint);
      const std::string done = finished_reason(meta.step, meta.seconds, meta.target_step,
                                               TrainOptions::from_config(s->card.config));
      if (!done.empty()) {
        if (main_rank)
          out << "run " << run_dir << " has already finished (" << (done == "target" ? "its target was reached" : done == "steps" ? "train.steps reached" : "train.max_seconds used up")
              << " at step " << meta.step << "); nothing to do. To train further, raise the budget, e.g. latflow train "
              << run_dir << " --resume --set train.steps=" << 2 * std::max<std::int64_t>(meta.step, 1) << "\n";
        return 0;
      }
    }
  } else {
    s = std::make_unique<Session>(load_card_argument(card_or_dir, g.overrides()));
    run_dir = s->run_directory();
    if (!init_from.empty()) {
      init_checkpoint = init_from + "/checkpoint.pt";
      if (!fs::exists(init_checkpoint)) throw UserError("--init-from '" + init_from + "': no trained model there (no checkpoint.pt)");
    }
    check_memory(*s, {Work::train});
  }
  const WorldPtr world = join_world(*s, launch);
  check_batch_split(TrainOptions::from_config(s->card.config), world->size());  // before rank 0 writes anything

  // Rank 0 alone writes the run directory; the others read it once rank 0 has set it up, and every rank
  // stops at once if that failed (rank 0 says why).
  std::unique_ptr<RunDirectory> dir;
  std::exception_ptr setup_failed;
  if (main_rank) {
    try {
      dir = std::make_unique<RunDirectory>(run_dir, resume ? RunDirectory::Mode::Resume
                                                   : g.force ? RunDirectory::Mode::Force
                                                             : RunDirectory::Mode::Fresh);
      if (!resume) {
        dir->write_file("runcard.toml", s->card.to_toml());
      } else if (!changes.empty()) {
        std::string list;
        for (const auto& c : changes) list += (list.empty() ? "" : ", ") + c;
        // The recorded card is the one the run continues with; the log keeps what it was before.
        dir->log("resume with changes: " + list);
        dir->write_file("runcard.toml", s->card.to_toml());
        err << "resuming with changes: " << list << " (recorded in runcard.toml and run.log)\n";
      }
      dir->log(std::string(resume ? "resume" : "train") + " " + describe_run(*s).dump() +
               (world->size() > 1 ? " on " + std::to_string(world->size()) + " ranks" : ""));
    } catch (...) {
      setup_failed = std::current_exception();
    }
  }
  if (!world->all_ok(!setup_failed)) {
    if (setup_failed) std::rethrow_exception(setup_failed);
    throw DistributedError("rank " + std::to_string(world->rank()) + ": stopped, rank 0 could not set up the run directory "
                           "(its message says why)");
  }
  if (!main_rank) dir = std::make_unique<RunDirectory>(run_dir, RunDirectory::Mode::Read);
  Trained t;
  try {
    t = train_in(*s, *dir, resume, err, init_checkpoint, world);
  } catch (const DistributedError& e) {
    // Checkpoints are written atomically, by rank 0 only: whatever was last written is whole.
    throw DistributedError(std::string(e.what()) + "; the last checkpoint in " + run_dir +
                           " is intact: continue with latflow train " + run_dir + " --resume");
  }
  if (!main_rank) {
    if (t.diverged) throw diverged_error(*dir, t);
    return t.interrupted ? 130 : 0;
  }
  nlohmann::json results = describe_run(*s);
  results["train"] = t.summary;
  if (world->size() > 1) results["ranks"] = world->size();
  if (!init_checkpoint.empty()) results["init_from"] = init_from;
  dir->write_json("results.json", results);
  if (t.interrupted) return interrupted_exit(*dir, t.summary["steps"].get<std::int64_t>(), err);
  if (t.diverged) throw diverged_error(*dir, t);
  out << "trained " << t.summary["steps"] << " steps in " << format_duration(t.summary["seconds"].get<double>())
      << " (" << t.summary["parameters"] << " parameters" << (world->size() > 1 ? ", " + std::to_string(world->size()) + " ranks" : "")
      << ")\n";
  if (!t.summary["last_eval"].is_null())
    out << "final ESS " << t.summary["last_eval"]["eval"]["ess"].get<double>() << "\n";
  out << "run directory: " << dir->path() << "\n";
  return 0;
}

int cmd_train_ranks(const std::string& card_or_dir, const GlobalOptions& g, bool resume, int nproc,
                    const std::vector<std::string>& args, std::ostream& err) {
  if (announced_world_size() > 1)
    throw UserError("--nproc starts its own ranks, but this process is already one of " +
                    std::to_string(announced_world_size()) + " launched ranks (WORLD_SIZE or srun's SLURM_STEP_NUM_TASKS); "
                    "drop --nproc, or launch a single task");
  // Refused here once, rather than by every rank after they all started.
  const RunCard card = resume ? card_of_run(resume_directory(card_or_dir, g.overrides()), g.overrides())
                              : load_card_argument(card_or_dir, g.overrides());
  const Config& c = card.config;
  check_batch_split(TrainOptions::from_config(c), nproc);
  check_backend(c.get<std::string>("distributed.backend"));
  return launch_local_ranks(nproc, args, c.get<double>("distributed.timeout"), err);
}

namespace {
void refuse_output_flags(const GlobalOptions& g, const std::string& command) {
  if (g.force || !g.out.empty())
    throw UserError(std::string(g.force ? "--force" : "--out") + " does not apply to `latflow " + command +
                    "`: it never overwrites a run, and writes next to it (use --file for samples)");
}
}  // namespace

int cmd_eval(const std::string& run_dir, const GlobalOptions& g, long long n, bool json, std::ostream& out,
             std::ostream& err) {
  refuse_output_flags(g, "eval");
  RunDirectory dir(run_dir, RunDirectory::Mode::Read);
  Session s(card_of_run(run_dir, g.overrides()));
  const EvaluationOptions eo = evaluation_options(s.card.config, n);
  check_memory(s, {Work::eval}, eo.n);
  SamplerPtr flow = load_trained(s, dir.checkpoint());
  nlohmann::json result = describe_run(s);
  result.update(evaluate_model(*flow, *s.action, s.lattice, eo));
  const std::string name = "eval-" + s.lattice.str() + ".json";
  dir.write_json(name, result);
  if (json) {
    out << result.dump() << "\n";
  } else {
    out << "evaluated " << run_dir << " on " << s.lattice.str() << " " << s.action->couplings().dump() << " ("
        << result["n"] << " samples)\n"
        << "  ESS/N                     " << result["ess"].get<double>() << "\n"
        << "  acceptance (indep. MH)    " << result["acceptance"].get<double>() << "\n";
    for (const auto& [name, t] : result["tau_int"].items())
      out << "  " << std::left << std::setw(26) << ("tau_int(" + name + "), MH") << format_estimate(t) << "\n";
    out << "  log Z                     " << format_estimate(result["log_z"]) << "\n"
        << "  KL(q||p)                  " << format_estimate(result["kl"]) << "\n";
    print_free_energy(out, result["free_energy"]);
    print_observables(out, result["observables"], "  ", result.value("exact", nlohmann::json::object()));
    print_solver_error(out, result["solver_error"]);
    out << "results: " << run_dir << "/" << name << "\n";
  }
  judge_evaluation(result, s.card.config.get<bool>("eval.strict"), "evaluation on " + s.lattice.str(), err);
  return 0;
}

int cmd_sample(const std::string& run_dir, const GlobalOptions& g, long long n, const std::string& file,
               std::ostream& out, std::ostream& /*err*/) {
  refuse_output_flags(g, "sample");
  RunDirectory dir(run_dir, RunDirectory::Mode::Read);
  Session s(card_of_run(run_dir, g.overrides()));
  check_memory(s, {Work::sample}, n);
  SamplerPtr flow = load_trained(s, dir.checkpoint());
  use_evaluation_solver(*flow, evaluation_options(s.card.config, n));
  const std::string path = file.empty() ? dir.file("samples.npy") : file;
  const std::int64_t batch = s.card.config.get<std::int64_t>("eval.batch");
  const std::vector<std::int64_t> shape = s.action->config_shape(s.lattice);
  std::int64_t sites = 1;
  for (const auto d : shape) sites *= d;
  std::vector<double> data;
  data.reserve(static_cast<std::size_t>(n * (sites + 2)));
  torch::NoGradGuard no_grad;
  for (std::int64_t done = 0; done < n; done += batch) {
    const Density d = flow->sample(std::min<std::int64_t>(batch, n - done), s.lattice);
    const at::Tensor rec = torch::cat({d.phi.reshape({d.phi.size(0), sites}), d.logq.unsqueeze(1),
                                       s.action->action(d.phi).unsqueeze(1)},
                                      1)
                               .to(torch::kCPU, torch::kFloat64)
                               .contiguous();
    data.insert(data.end(), rec.data_ptr<double>(), rec.data_ptr<double>() + rec.numel());
  }
  const std::string field = s.action->field_name();
  npy::write_records(path, {{field, shape}, {"logq", {}}, {"action", {}}}, n, data);
  out << "wrote " << n << " configurations on " << s.lattice.str() << " to " << path << "\n  load them with numpy: "
      << numpy_hint(path, field) << "\n";
  return 0;
}

}  // namespace latflow::cli

namespace latflow::cli {

int cmd_run(const std::string& card_path, const GlobalOptions& g, std::ostream& out, std::ostream& err) {
  Session s(load_card_argument(card_path, g.overrides()));
  const Config& c = s.card.config;
  const std::int64_t L2 = c.get<std::int64_t>("eval.transfer_L");
  check_memory(s, {Work::train, Work::eval, c.get<bool>("eval.hmc") ? Work::hmc : Work::none});
  std::unique_ptr<Session> big;
  if (L2 > 0) {
    std::vector<std::string> sets = g.overrides();
    sets.push_back("lattice.L=" + std::to_string(L2));
    sets.push_back("lattice.T=0");
    big = std::make_unique<Session>(load_runcard(card_path, sets));
    check_memory(*big, {Work::eval});
  }
  RunDirectory dir(s.run_directory(), g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
  dir.write_file("runcard.toml", s.card.to_toml());
  nlohmann::json results = describe_run(s);
  out << "latflow run " << card_path << ": " << c.get<std::string>("model.type") << " on " << s.lattice.str() << " "
      << s.action->couplings().dump() << "\n[1/4] training (" << c.get<std::int64_t>("train.steps") << " steps)\n"
      << std::flush;
  const Trained t = train_in(s, dir, false, err);
  results["train"] = t.summary;
  dir.write_json("results.json", results);
  if (t.interrupted) return interrupted_exit(dir, t.summary["steps"].get<std::int64_t>(), err);
  if (t.diverged) throw diverged_error(dir, t);

  out << "[2/4] evaluating on " << s.lattice.str() << "\n" << std::flush;
  SamplerPtr flow = load_trained(s, dir.checkpoint());
  results["eval"] = evaluate_model(*flow, *s.action, s.lattice, evaluation_options(c, -1));
  dir.write_json("results.json", results);
  // A strict failure is reported once the whole run is written.
  std::string strict_failure;
  try {
    judge_evaluation(results["eval"], c.get<bool>("eval.strict"), "evaluation on " + s.lattice.str(), err, &dir);
  } catch (const CheckFailed& e) {
    strict_failure = e.what();
  }

  // The theory's chosen observables against HMC and, where known, against their exact values.
  const std::vector<std::string> compared = s.action->compared_observables();
  const nlohmann::json exact = results["eval"].value("exact", nlohmann::json::object());
  nlohmann::json comparison = nlohmann::json::object();
  for (const auto& key : compared)
    if (exact.contains(key))
      comparison["pull_exact"][key] =
          pull(results["eval"]["observables"][key], nlohmann::json{{"value", exact[key]}, {"error", 0.0}});
  std::string reference;  // the chain the observables are compared with: HMC, or Wolff for Ising spins
  if (c.get<bool>("eval.hmc")) {
    out << "[3/4] reference Markov chains on " << s.lattice.str() << "\n" << std::flush;
    for (auto& chain : run_reference_chains(s, err, Progress::is_terminal(2))) {
      if (reference.empty()) reference = chain.name;
      results[chain.name] = std::move(chain.results);
    }
    comparison["reference"] = reference;
    for (const auto& key : compared)
      comparison["pull"][key] = pull(results["eval"]["observables"][key], results[reference]["observables"][key]);
  }
  if (!comparison.empty()) results["comparison"] = comparison;
  dir.write_json("results.json", results);

  if (big) {
    out << "[4/4] zero-shot evaluation on " << L2 << "x" << L2 << " (same weights, no training)\n" << std::flush;
    SamplerPtr moved = load_trained(*big, dir.checkpoint());
    results["zero_shot"] = evaluate_model(*moved, *big->action, big->lattice, evaluation_options(c, -1));
    results["zero_shot"]["lattice"] = {{"T", big->lattice.T}, {"L", big->lattice.L}};
    dir.write_json("results.json", results);
    judge_evaluation(results["zero_shot"], false, "zero-shot evaluation on " + big->lattice.str(), err, &dir);
  }

  const std::vector<std::string> plots = plot_run(dir.path(), "quickstart", err);
  const auto& ev = results["eval"];
  out << "\nSummary (" << dir.path() << ")\n"
      << "  training        " << t.summary["steps"] << " steps, " << format_duration(t.summary["seconds"].get<double>())
      << ", " << t.summary["parameters"] << " parameters\n"
      << "  ESS/N           " << std::setprecision(3) << ev["ess"].get<double>() << "\n"
      << "  acceptance      " << ev["acceptance"].get<double>() << " (independence Metropolis)\n";
  print_solver_error(out, ev["solver_error"], "  ");
  if (results.contains("comparison")) {
    const auto pull_text = [](const nlohmann::json& p) {
      std::ostringstream os;
      os << std::setprecision(2);
      if (p.is_number()) os << p.get<double>();
      else os << "-";
      return os.str();
    };
    const bool with_hmc = !reference.empty();
    std::vector<std::vector<std::string>> rows = {{"", "model (reweighted)"}};
    if (with_hmc) rows[0].insert(rows[0].end(), {reference == "hmc" ? "HMC" : reference, "pull"});
    if (!exact.empty()) rows[0].insert(rows[0].end(), {"exact", "pull"});
    for (const auto& key : compared) {
      std::vector<std::string> row = {key, format_estimate(ev["observables"][key])};
      if (with_hmc)
        row.insert(row.end(), {format_estimate(results[reference]["observables"][key]),
                               pull_text(results["comparison"]["pull"][key])});
      if (exact.contains(key)) {
        std::ostringstream value;
        value << std::setprecision(6) << exact[key].get<double>();
        row.insert(row.end(), {value.str(), pull_text(results["comparison"]["pull_exact"][key])});
      }
      rows.push_back(std::move(row));
    }
    out << "  observables\n";
    print_table(out, rows, "    ");
  }
  print_free_energy(out, ev["free_energy"], "  ");
  for (const auto& [name, t] : ev["tau_int"].items()) {
    out << "  tau_int(" << name << ")  " << format_estimate(t) << " (independence Metropolis)";
    for (const char* chain : {"hmc", "wolff", "metropolis"})
      if (results.contains(chain) && results[chain]["tau_int"].contains(name))
        out << ", " << format_estimate(results[chain]["tau_int"][name]) << " (" << chain << ")";
    out << "\n";
  }
  if (results.contains("zero_shot"))
    out << "  zero-shot ESS   " << std::setprecision(3) << results["zero_shot"]["ess"].get<double>() << " on "
        << L2 << "x" << L2 << "\n";
  out << "  results         " << dir.file("results.json") << "\n";
  for (const auto& plot : plots) out << "  plot            " << plot << "\n";
  if (!strict_failure.empty()) throw CheckFailed(strict_failure);
  return 0;
}

}  // namespace latflow::cli
