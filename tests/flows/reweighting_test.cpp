// End-to-end exactness of every registered model family: samples of a briefly trained model, reweighted with
// w = exp(-S - log q), must reproduce the observables of an independent reference (the exact values of
// pure U(1) gauge theory and of the Ising model where known, otherwise HMC for phi^4 and Wolff's cluster
// algorithm for Ising spins) within errors. Any error
// in a reported log-density (a wrong log-det, a wrong prior normalisation up to a constant excepted)
// biases the reweighted estimates; a poor but exact flow only enlarges their errors.
#include <cmath>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "experiments/runcard.hpp"
#include "flows/registry.hpp"
#include "lattice/hmc.hpp"
#include "lattice/ising_action.hpp"
#include "lattice/wolff.hpp"
#include "lattice/registry.hpp"
#include "lattice/statistics.hpp"
#include "train/registry.hpp"
#include "train/trainer.hpp"

using namespace latflow;

namespace {

/// Tiny settings of each family at L = 4 (a new family gets its line here and is tested): phi^4 for the
/// scalar-field families, pure U(1) gauge theory for the gauge flows, the Ising model for the
/// autoregressive networks (HAN with its log q symmetrised over Z2 x D4, so that the wrapper is tested too).
std::vector<std::string> tiny(const std::string& type) {
  std::vector<std::string> sets = {"lattice.L=4", "model.type=" + type, "model.dtype=float64", "train.batch=64",
                                   "train.lr=0.01", "train.schedule=constant", "train.eval_every=0",
                                   "train.steps=150"};
  const auto add = [&](std::initializer_list<const char*> more) { sets.insert(sets.end(), more.begin(), more.end()); };
  if (type == "van" || type == "han") {
    add({"lattice.theory=ising", "lattice.beta=0.3", "train.estimator=reinforce", "model.made_depth=1",
         type == "han" ? "model.symmetries=z2+d4" : "model.symmetries=none"});
    return sets;
  }
  if (type == "gauge_coupling") {
    add({"lattice.theory=u1", "lattice.beta=1.0", "model.coupling_layers=8", "model.hidden_channels=4",
         "model.hidden_layers=1", "model.bins=4", "train.estimator=reparam"});
    return sets;
  }
  add({"lattice.m2=-4", "lattice.lambda=8"});
  if (type == "operator_cnf")
    add({"model.channels=2", "model.frequencies=2", "model.kernel_modes=3", "model.time_modes=1", "solver.steps=6"});
  else
    add({"model.prior=normal", "model.hidden_channels=4", "model.hidden_layers=1"});
  if (type == "coupling") add({"model.coupling_layers=4"});
  if (type == "hierarchical") add({"model.coarse_L=2", "model.coarse_layers=2", "model.rounds=1"});
  return sets;
}

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

TEST_CASE("every flow family: reweighted observables agree with an independent reference", "[flows][reweighting][heavy]") {
  const Lattice lattice = Lattice::square(4);
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  for (const std::string& type : model_registry().names()) {
    INFO("model.type = " << type);
    const RunCard card = parse_runcard("", "", tiny(type));
    const ActionPtr action = theory_registry().create(card.config.get<std::string>("lattice.theory"), card.config);

    // The reference: the exact values where the theory has them, a Markov chain for the rest (HMC, or
    // Wolff's algorithm for spins, which have no force).
    nlohmann::json reference = action->exact(lattice);
    bool covered = true;
    for (const std::string& key : action->compared_observables()) covered = covered && reference.contains(key);
    if (!covered) {
      torch::manual_seed(7);
      at::Tensor chain;
      if (action->sample_space() == "spin") {
        WolffOptions w;
        w.chains = 16;
        w.thermalization = 100;
        w.sweeps = 2000;
        chain = run_wolff(dynamic_cast<const IsingAction&>(*action), lattice, w).samples;
      } else {
        HMCOptions h;
        h.chains = 64;
        h.thermalization = 200;
        h.trajectories = 400;
        chain = run_hmc(*action, lattice, h, options).samples;
      }
      nlohmann::json measured = action->measure(chain, {}, 40);
      for (auto& [key, value] : reference.items()) measured[key] = value;  // exact where known
      reference = measured;
    }

    torch::manual_seed(11);
    SamplerPtr flow = model_registry().create(type, card.config);
    flow->to(torch::kFloat64);
    Trainer trainer(flow, action, estimator_registry().create(card.config.get<std::string>("train.estimator")),
                    lattice, TrainOptions::from_config(card.config), {});
    trainer.run("", "");

    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> xs, log_ws;
    for (int b = 0; b < 8; ++b) {
      const Density d = flow->sample(2048, lattice);
      xs.push_back(d.phi);
      log_ws.push_back(-action->action(d.phi) - d.logq);
    }
    const std::vector<double> lw = to_vector(torch::cat(log_ws));
    const double ess = stats::ess_fraction(lw);
    INFO("ESS/N after 150 steps = " << ess);
    // Enough effective samples (ESS/N times N) for the jackknife errors of 40 bins to be meaningful.
    REQUIRE(ess * static_cast<double>(lw.size()) >= 500);
    const nlohmann::json flowed = action->measure(torch::cat(xs), lw, 40);
    for (const std::string& key : action->compared_observables()) {
      const auto& f = flowed[key];
      const auto& r = reference[key];
      const double value = r.is_number() ? r.get<double>() : r["value"].get<double>();
      const double ref_error = r.is_number() ? 0.0 : r["error"].get<double>();
      const double pull = std::abs(f["value"].get<double>() - value) / std::hypot(f["error"].get<double>(), ref_error);
      INFO(key << ": flow " << f.dump() << ", reference " << r.dump() << ", pull " << pull);
      CHECK(pull < 4);
    }
  }
}
