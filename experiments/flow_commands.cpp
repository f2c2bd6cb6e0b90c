// `latflow train`, `eval`, `sample` and `run`: the life of a flow model in its run directory.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <torch/torch.h>

#include "core/npy.hpp"
#include "core/version.hpp"
#include "experiments/commands.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/hmc_reference.hpp"
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

int cmd_train(const std::string& card_or_dir, const GlobalOptions& g, bool resume, std::ostream& out,
              std::ostream& err) {
  std::unique_ptr<Session> s;
  std::unique_ptr<RunDirectory> dir;
  if (resume) {
    const std::string run_dir =
        fs::is_directory(card_or_dir) ? card_or_dir : Session(load_runcard(card_or_dir, g.overrides())).run_directory();
    s = std::make_unique<Session>(card_of_run(run_dir, g.overrides()));
    dir = std::make_unique<RunDirectory>(run_dir, RunDirectory::Mode::Resume);
  } else {
    s = std::make_unique<Session>(load_runcard(card_or_dir, g.overrides()));
    dir = std::make_unique<RunDirectory>(s->run_directory(),
                                         g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
    dir->write_file("runcard.toml", s->card.to_toml());
  }
  dir->log(std::string(resume ? "resume" : "train") + " " + describe_run(*s).dump());
  const Trained t = train_in(*s, *dir, resume, err);
  nlohmann::json results = describe_run(*s);
  results["train"] = t.summary;
  dir->write_json("results.json", results);
  if (t.interrupted) return interrupted_exit(*dir, t.summary["steps"].get<std::int64_t>(), err);
  out << "trained " << t.summary["steps"] << " steps in " << format_duration(t.summary["seconds"].get<double>())
      << " (" << t.summary["parameters"] << " parameters)\n";
  if (!t.summary["last_eval"].is_null())
    out << "final ESS " << t.summary["last_eval"]["eval"]["ess"].get<double>() << "\n";
  out << "run directory: " << dir->path() << "\n";
  return 0;
}

int cmd_eval(const std::string& run_dir, const GlobalOptions& g, long long n, bool json, std::ostream& out,
             std::ostream& err) {
  (void)err;
  Session s(card_of_run(run_dir, g.overrides()));
  FlowPtr flow = load_trained(s, run_dir + "/checkpoint.pt");
  nlohmann::json result = describe_run(s);
  result.update(evaluate_flow(*flow, *s.action, s.lattice, evaluation_options(s.card.config, n)));
  const std::string name = "eval-" + s.lattice.str() + ".json";
  RunDirectory(run_dir, RunDirectory::Mode::Resume).write_json(name, result);
  if (json) {
    out << result.dump() << "\n";
    return 0;
  }
  out << "evaluated " << run_dir << " on " << s.lattice.str() << " " << s.action->couplings().dump() << " ("
      << result["n"] << " samples)\n"
      << "  ESS/N                     " << result["ess"].get<double>() << "\n"
      << "  acceptance (indep. MH)    " << result["acceptance"].get<double>() << "\n"
      << "  tau_int(|M|), MH chain    " << format_estimate(result["tau_int"]["abs_magnetization"]) << "\n"
      << "  log Z                     " << format_estimate(result["log_z"]) << "\n"
      << "  KL(q||p)                  " << format_estimate(result["kl"]) << "\n";
  print_observables(out, result["observables"]);
  out << "results: " << run_dir << "/" << name << "\n";
  return 0;
}

int cmd_sample(const std::string& run_dir, const GlobalOptions& g, long long n, const std::string& file,
               std::ostream& out, std::ostream& err) {
  (void)err;
  Session s(card_of_run(run_dir, g.overrides()));
  FlowPtr flow = load_trained(s, run_dir + "/checkpoint.pt");
  const std::string path = file.empty() ? run_dir + "/samples.npy" : file;
  const std::int64_t batch = s.card.config.get<std::int64_t>("eval.batch");
  const std::int64_t V = s.lattice.volume();
  std::vector<double> data;
  data.reserve(static_cast<std::size_t>(n * (V + 2)));
  torch::NoGradGuard no_grad;
  for (std::int64_t done = 0; done < n; done += batch) {
    const Density d = flow->sample(std::min<std::int64_t>(batch, n - done), s.lattice);
    const at::Tensor rec = torch::cat({d.phi.reshape({d.phi.size(0), V}), d.logq.unsqueeze(1),
                                       s.action->action(d.phi).unsqueeze(1)},
                                      1)
                               .to(torch::kCPU, torch::kFloat64)
                               .contiguous();
    data.insert(data.end(), rec.data_ptr<double>(), rec.data_ptr<double>() + rec.numel());
  }
  npy::write_records(path, {{"phi", {s.lattice.T, s.lattice.L}}, {"logq", {}}, {"action", {}}}, n, data);
  out << "wrote " << n << " configurations on " << s.lattice.str() << " to " << path
      << "\n  python: a = numpy.load('" << path << "'); a['phi'], a['logq'], a['action']\n";
  return 0;
}

}  // namespace latflow::cli

namespace latflow::cli {

int cmd_run(const std::string& card_path, const GlobalOptions& g, std::ostream& out, std::ostream& err) {
  Session s(load_runcard(card_path, g.overrides()));
  RunDirectory dir(s.run_directory(), g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
  dir.write_file("runcard.toml", s.card.to_toml());
  const Config& c = s.card.config;
  nlohmann::json results = describe_run(s);
  out << "latflow run " << card_path << ": " << c.get<std::string>("model.type") << " on " << s.lattice.str() << " "
      << s.action->couplings().dump() << "\n[1/4] training (" << c.get<std::int64_t>("train.steps") << " steps)\n"
      << std::flush;
  const Trained t = train_in(s, dir, false, err);
  results["train"] = t.summary;
  dir.write_json("results.json", results);
  if (t.interrupted) return interrupted_exit(dir, t.summary["steps"].get<std::int64_t>(), err);

  out << "[2/4] evaluating on " << s.lattice.str() << "\n" << std::flush;
  FlowPtr flow = load_trained(s, dir.checkpoint());
  results["eval"] = evaluate_flow(*flow, *s.action, s.lattice, evaluation_options(c, -1));
  dir.write_json("results.json", results);

  if (c.get<bool>("eval.hmc")) {
    out << "[3/4] HMC reference on " << s.lattice.str() << "\n" << std::flush;
    results["hmc"] = run_hmc_reference(s, err, Progress::is_terminal(2));
    nlohmann::json pulls;
    for (const char* key : {"abs_magnetization", "m2", "chi2", "binder"})
      pulls[key] = pull(results["eval"]["observables"][key], results["hmc"]["observables"][key]);
    results["comparison"] = {{"pull", pulls}};
    dir.write_json("results.json", results);
  }

  const std::int64_t L2 = c.get<std::int64_t>("eval.transfer_L");
  if (L2 > 0) {
    out << "[4/4] zero-shot evaluation on " << L2 << "x" << L2 << " (same weights, no training)\n" << std::flush;
    std::vector<std::string> sets = g.overrides();
    sets.push_back("lattice.L=" + std::to_string(L2));
    sets.push_back("lattice.T=0");
    Session big(load_runcard(card_path, sets));
    FlowPtr moved = load_trained(big, dir.checkpoint());
    EvaluationOptions eo = evaluation_options(c, -1);
    eo.density_check = false;
    results["zero_shot"] = evaluate_flow(*moved, *big.action, big.lattice, eo);
    results["zero_shot"]["lattice"] = {{"T", big.lattice.T}, {"L", big.lattice.L}};
    dir.write_json("results.json", results);
  }

  const std::vector<std::string> plots = plot_run(dir.path(), "quickstart", err);
  const auto& ev = results["eval"];
  out << "\nSummary (" << dir.path() << ")\n"
      << "  training        " << t.summary["steps"] << " steps, " << format_duration(t.summary["seconds"].get<double>())
      << ", " << t.summary["parameters"] << " parameters\n"
      << "  ESS/N           " << std::setprecision(3) << ev["ess"].get<double>() << "\n"
      << "  acceptance      " << ev["acceptance"].get<double>() << " (independence Metropolis)\n";
  if (results.contains("hmc")) {
    out << "  observables     flow (reweighted)            HMC                          pull\n";
    for (const char* key : {"abs_magnetization", "m2", "chi2", "binder"})
      out << "    " << std::left << std::setw(18) << key << std::setw(29)
          << format_estimate(ev["observables"][key]) << std::setw(29)
          << format_estimate(results["hmc"]["observables"][key]) << std::setprecision(2)
          << results["comparison"]["pull"][key].get<double>() << "\n";
  }
  if (results.contains("zero_shot"))
    out << "  zero-shot ESS   " << std::setprecision(3) << results["zero_shot"]["ess"].get<double>() << " on "
        << L2 << "x" << L2 << "\n";
  out << "  results         " << dir.file("results.json") << "\n";
  for (const auto& plot : plots) out << "  plot            " << plot << "\n";
  return 0;
}

}  // namespace latflow::cli
