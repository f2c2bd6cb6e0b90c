// `latflow integrate CARD`: neural importance sampling of an integrand on [0, 1]^d against plain Monte Carlo
// and VEGAS (integration/comparison.hpp), from an integration card ([integrand], [nis], [vegas], [output],
// [run]). A thin layer: the card becomes the options of integration/, the work is done there.
#include <iomanip>
#include <ostream>
#include <sstream>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/device.hpp"
#include "core/error.hpp"
#include "experiments/commands.hpp"
#include "experiments/integrate.hpp"
#include "experiments/progress.hpp"
#include "experiments/report.hpp"
#include "experiments/run_directory.hpp"
#include "experiments/run_steps.hpp"
#include "experiments/session.hpp"
#include "integration/comparison.hpp"
#include "integration/registry.hpp"
#include "train/checkpoint.hpp"

namespace latflow {

IntegrandPtr integrand_of(const Config& c) {
  IntegrandOptions o;
  o.dimension(c.get<std::int64_t>("integrand.d"));
  if (c.has("integrand.width")) o.width(c.get<double>("integrand.width"));
  if (c.has("integrand.radius")) o.radius(c.get<double>("integrand.radius"));
  if (c.has("integrand.frequency")) o.frequency(c.get<double>("integrand.frequency"));
  if (c.has("integrand.offset")) o.offset(c.get<double>("integrand.offset"));
  return integrand_registry().create(c.get<std::string>("integrand.name"), o);
}

CubeFlow cube_flow_of(const Config& c) {
  CubeFlow flow(CubeFlowOptions(c.get<std::int64_t>("integrand.d"))
                    .transform(c.get<std::string>("nis.transform"))
                    .bins(c.get<std::int64_t>("nis.bins"))
                    .masking(c.get<std::string>("nis.masking"))
                    .repetitions(c.get<std::int64_t>("nis.repetitions"))
                    .hidden_width(c.get<std::int64_t>("nis.hidden_width"))
                    .hidden_layers(c.get<std::int64_t>("nis.hidden_layers")));
  flow->to(parse_device(c.get<std::string>("run.device")), parse_dtype(c.get<std::string>("nis.dtype")));
  return flow;
}

ComparisonOptions comparison_options_of(const Config& c) {
  ComparisonOptions o;
  o.nis.loss(c.get<std::string>("nis.loss"))
      .survey(c.get<std::string>("nis.survey"))
      .survey_iterations(c.get<std::int64_t>("nis.survey_iterations"))
      .survey_points(c.get<std::int64_t>("nis.survey_points"))
      .epochs(c.get<std::int64_t>("nis.epochs"))
      .minibatch(c.get<std::int64_t>("nis.minibatch"))
      .learning_rate(c.get<double>("nis.learning_rate"))
      .refine_iterations(c.get<std::int64_t>("nis.refine_iterations"))
      .refine_points(c.get<std::int64_t>("nis.refine_points"));
  o.run_vegas = c.get<bool>("vegas.enabled");
  o.vegas.mode = c.get<std::string>("vegas.mode");
  o.vegas.alpha = c.get<double>("vegas.alpha");
  o.seed = static_cast<std::uint64_t>(c.get<std::int64_t>("run.seed"));
  return o;
}

namespace cli {

namespace {

std::string ratio_text(const nlohmann::json& v) {
  if (v.is_null()) return "n/a";
  std::ostringstream os;
  os << std::setprecision(3) << v.get<double>();
  return os.str();
}

void print_summary(std::ostream& out, const Integrand& f, const nlohmann::json& r) {
  out << f.name() << " on [0, 1]^" << f.dimension() << "\n";
  out << "  NIS                " << format_estimate(r["integral"].get<double>(), r["error"].get<double>())
      << "  (chi2/dof " << std::setprecision(3) << r["chi2_dof"].get<double>() << ", " << r["n_evaluations"]
      << " evaluations)\n";
  if (!r["exact"].is_null()) {
    const double pull = (r["integral"].get<double>() - r["exact"].get<double>()) / r["error"].get<double>();
    out << "  exact              " << std::setprecision(10) << r["exact"].get<double>() << "  (pull "
        << std::setprecision(2) << pull << " sigma)\n";
  }
  for (const char* b : {"uniform", "vegas"})
    if (!r[b].is_null())
      out << "  " << std::left << std::setw(19) << (std::string(b) == "uniform" ? "plain Monte Carlo" : "VEGAS (GSL)")
          << format_estimate(r[b]["integral"].get<double>(), r[b]["error"].get<double>()) << "  (variance ratio "
          << ratio_text(r["variance_ratio"][b]) << ")\n";
  out << "  weights            relative std " << std::setprecision(3) << r["weight_relative_std"].get<double>()
      << ", unweighting efficiency " << r["unweighting_efficiency"].get<double>() << "\n";
  out << "  time               training " << format_duration(r["seconds"]["train"].get<double>()) << ", integration "
      << format_duration(r["seconds"]["integrate"].get<double>()) << "\n";
}

}  // namespace

int cmd_integrate(const std::string& card_path, const GlobalOptions& g, bool json, std::ostream& out, std::ostream& err) {
  const RunCard card = load_card_argument(card_path, g.overrides(), integration_cards());
  const Config& c = card.config;
  if (const auto threads = c.get<std::int64_t>("run.threads"); threads > 0) at::set_num_threads(static_cast<int>(threads));
  const IntegrandPtr f = integrand_of(c);
  CubeFlow flow = cube_flow_of(c);
  const ComparisonOptions options = comparison_options_of(c);
  check_nis_options(options.nis);

  RunDirectory dir(run_directory_of(card), g.force ? RunDirectory::Mode::Force : RunDirectory::Mode::Fresh);
  dir.write_file("runcard.toml", card.to_toml());
  dir.log("integrate " + f->name() + " d=" + std::to_string(f->dimension()) + ", flow with " +
          std::to_string(flow->parameter_count()) + " parameters in " + std::to_string(flow->cells().size()) + " cells");

  const std::int64_t total = options.nis.survey_iterations() + options.nis.refine_iterations() + 2;
  Progress progress(err, "integrate", total, Progress::is_terminal(2));
  const auto report = [&](const std::string& phase, std::int64_t done, const std::string& status) {
    const std::int64_t at = phase == "survey"   ? done
                            : phase == "refine" ? options.nis.survey_iterations() + done
                            : phase == "uniform" ? total - 2
                                                 : total - 1;
    progress.update(at, phase + (status.empty() ? "" : "  " + status));
  };
  const Comparison result = compare_integrators(*flow, *f, options, report);
  progress.update(total, "done");
  progress.finish();

  nlohmann::json r = result.to_json();
  for (const auto& record : r["survey"]) dir.append_metrics(record);
  CheckpointMeta meta;
  meta.runcard = card.to_toml(false);
  for (const auto& rec : result.survey) meta.step += rec.steps;
  meta.seconds = result.train_seconds;
  meta.stop_reason = "steps";
  save_checkpoint(dir.checkpoint(), *flow, nullptr, meta);

  r["integrand"] = {{"name", f->name()}, {"d", f->dimension()}};
  r["parameters"] = flow->parameter_count();
  dir.write_json("results.json", r);
  dir.log("done: " + format_estimate(r["integral"].get<double>(), r["error"].get<double>()));
  if (json) {
    out << r.dump() << "\n";
    return 0;
  }
  print_summary(out, *f, r);
  out << "results: " << dir.file("results.json") << "\n";
  return 0;
}

}  // namespace cli
}  // namespace latflow
