// End-to-end exactness of every registered flow family: samples of a briefly trained flow, reweighted with
// w = exp(-S - log q), must reproduce the observables of an independent HMC run within errors. Any error
// in a reported log-density (a wrong log-det, a wrong prior normalisation up to a constant excepted)
// biases the reweighted estimates; a poor but exact flow only enlarges their errors.
#include <cmath>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "experiments/runcard.hpp"
#include "flows/registry.hpp"
#include "lattice/hmc.hpp"
#include "lattice/observables.hpp"
#include "lattice/phi4_action.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

using namespace latflow;

namespace {

/// Tiny settings of each family at L = 4 (a new family gets its line here and is tested).
std::vector<std::string> tiny(const std::string& type) {
  std::vector<std::string> sets = {"lattice.L=4", "lattice.m2=-4", "lattice.lambda=8", "model.type=" + type,
                                   "model.dtype=float64", "train.batch=64", "train.lr=0.01",
                                   "train.schedule=constant", "train.eval_every=0", "train.steps=150"};
  if (type == "operator_cnf")
    for (const char* s : {"model.channels=2", "model.frequencies=2", "model.kernel_modes=3", "model.time_modes=1",
                          "solver.steps=6"})
      sets.push_back(s);
  else
    for (const char* s : {"model.prior=normal", "model.hidden_channels=4", "model.hidden_layers=1"})
      sets.push_back(s);
  if (type == "coupling") sets.push_back("model.coupling_layers=4");
  if (type == "hierarchical")
    for (const char* s : {"model.coarse_L=2", "model.coarse_layers=2", "model.rounds=1"}) sets.push_back(s);
  return sets;
}

double pull(const stats::Estimate& a, const stats::Estimate& b) {
  return std::abs(a.value - b.value) / std::sqrt(a.error * a.error + b.error * b.error);
}

}  // namespace

TEST_CASE("every flow family: reweighted observables agree with HMC", "[flows][reweighting]") {
  const Lattice lattice = Lattice::square(4);
  const auto action = std::make_shared<Phi4Action>(Phi4Action::from_canonical(-4.0, 8.0));
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);

  torch::manual_seed(7);
  HMCOptions h;
  h.chains = 64;
  h.thermalization = 200;
  h.trajectories = 400;
  const HMCResult hmc = run_hmc(*action, lattice, h, options);
  const ObservableReport reference = measure(hmc.samples, {}, 40);

  for (const std::string& type : flow_registry().names()) {
    INFO("model.type = " << type);
    torch::manual_seed(11);
    const RunCard card = parse_runcard("", "", tiny(type));
    FlowPtr flow = flow_registry().create(type, card.config);
    flow->to(torch::kFloat64);
    Trainer trainer(flow, action, estimator_registry().create("reparam"), lattice,
                    TrainOptions::from_config(card.config), {});
    trainer.run("", "");

    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> phis, log_ws;
    for (int b = 0; b < 8; ++b) {
      const Density d = flow->sample(2048, lattice);
      phis.push_back(d.phi);
      log_ws.push_back(-action->action(d.phi) - d.logq);
    }
    const at::Tensor log_w = torch::cat(log_ws).contiguous();
    const std::vector<double> lw(log_w.data_ptr<double>(), log_w.data_ptr<double>() + log_w.numel());
    const double ess = stats::ess_fraction(lw);
    INFO("ESS/N after 150 steps = " << ess);
    // Enough effective samples (ESS/N times N) for the jackknife errors of 40 bins to be meaningful.
    REQUIRE(ess * static_cast<double>(lw.size()) >= 500);
    const ObservableReport flowed = measure(torch::cat(phis), lw, 40);
    INFO("<M^2>: flow " << flowed.m2.value << " +- " << flowed.m2.error << ", HMC " << reference.m2.value << " +- "
                        << reference.m2.error);
    INFO("<|M|>: flow " << flowed.abs_magnetization.value << " +- " << flowed.abs_magnetization.error << ", HMC "
                        << reference.abs_magnetization.value << " +- " << reference.abs_magnetization.error);
    CHECK(pull(flowed.m2, reference.m2) < 4);
    CHECK(pull(flowed.abs_magnetization, reference.abs_magnetization) < 4);
    CHECK(pull(flowed.chi2, reference.chi2) < 4);
  }
}
