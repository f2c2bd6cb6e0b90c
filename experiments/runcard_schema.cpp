// The run-card schema: every key a run card may hold. A component that needs a new setting adds one line
// here (key, default, doc, range or choices); validation, `config show` and the docs follow from it.
#include <limits>
#include <utility>

#include "experiments/runcard.hpp"
#include "flows/registry.hpp"
#include "integration/coupling_masks.hpp"
#include "integration/cube_flow.hpp"
#include "integration/gsl_baselines.hpp"
#include "integration/neural_importance_sampling.hpp"
#include "integration/nis_loss.hpp"
#include "integration/registry.hpp"
#include "lattice/presets.hpp"
#include "lattice/registry.hpp"
#include "odes/registry.hpp"
#include "operators/registry.hpp"
#include "train/registry.hpp"

namespace latflow {

namespace {

constexpr double kInf = 1e300;

template <class R>
std::function<std::vector<std::string>()> names_of(const R& (*registry)()) {
  return [registry] { return registry().names(); };
}
std::function<std::vector<std::string>()> fixed(std::vector<std::string> names) {
  return [names] { return names; };
}
std::function<std::vector<std::string>()> preset_names() {
  return [] {
    std::vector<std::string> out{""};
    for (const auto& p : presets()) out.push_back(p.name);
    return out;
  };
}

KeySpec num(std::string key, double def, std::string doc, double min = -kInf, double max = kInf,
            bool min_exclusive = false) {
  return {std::move(key), ConfigValue(def), std::move(doc), min, max, min_exclusive, {}, {}};
}
KeySpec integer(std::string key, std::int64_t def, std::string doc, double min, double max = kInf) {
  return {std::move(key), ConfigValue(def), std::move(doc), min, max, false, {}, {}};
}
KeySpec str(std::string key, std::string def, std::string doc,
            std::function<std::vector<std::string>()> choices = {}) {
  return {std::move(key), ConfigValue(std::move(def)), std::move(doc), -kInf, kInf, false,
          std::move(choices), {}};
}
KeySpec flag(std::string key, bool def, std::string doc) {
  return {std::move(key), ConfigValue(def), std::move(doc), -kInf, kInf, false, {}, {}};
}
/// A coupling of a convention or theory: required where `condition` holds, forbidden elsewhere.
KeySpec coupling(std::string key, std::string condition, std::string doc, double min = -kInf,
                 bool min_exclusive = false) {
  return {std::move(key), std::nullopt, std::move(doc), min, kInf, min_exclusive, {}, std::move(condition)};
}
KeySpec only_with(KeySpec spec, std::string condition) {
  spec.only_with = std::move(condition);
  return spec;
}

std::vector<KeySpec> build_schema() {
  return {
      // ---- the lattice and the target theory
      str("lattice.preset", "", "named parameter point filling theory, L and couplings (latflow list)", preset_names()),
      integer("lattice.L", 8, "spatial extent L", 2, 4096),
      integer("lattice.T", 0, "temporal extent T; 0 means T = L", 0, 4096),
      str("lattice.theory", "phi4", "the theory sampled: its action and observables", names_of(&theory_registry)),
      only_with(str("lattice.convention", "canonical", "coupling convention of the phi4 action",
                    fixed({"canonical", "hopping", "beta", "continuum"})),
                "lattice.theory=phi4"),
      only_with(num("lattice.m2", -4.0, "m^2 of S = sum[(d phi)^2 + m^2 phi^2 + lambda phi^4]"),
                "lattice.convention=canonical"),
      only_with(num("lattice.lambda", 6.008, "lambda of the canonical action", 0.0),
                "lattice.convention=canonical"),
      coupling("lattice.kappa", "lattice.convention=hopping;lattice.theory=schwinger",
               "hopping parameter kappa (phi4 hopping form; Wilson fermions of the Schwinger model)", 0.0, true),
      coupling("lattice.lambda_tilde", "lattice.convention=hopping", "quartic coupling of the hopping form", 0.0),
      coupling("lattice.beta", "lattice.convention=beta;lattice.theory=u1|schwinger|ising",
               "beta of Del Debbio et al.'s phi4 form, the gauge coupling of S_g = -beta sum cos theta_P, or the "
               "inverse temperature of the Ising model", 0.0),
      coupling("lattice.lambda_beta", "lattice.convention=beta", "quartic coupling of the beta form", 0.0),
      coupling("lattice.mu0_sq", "lattice.convention=continuum", "mu0^2 of 1/2 (d chi)^2 + 1/2 mu0^2 chi^2 + lambda0/4 chi^4"),
      coupling("lattice.lambda0", "lattice.convention=continuum", "lambda0 of the continuum-normalised form", 0.0),
      only_with(num("lattice.J", 1.0, "Ising coupling of H = -J sum s_i s_j (> 0 ferromagnet, < 0 antiferromagnet)"),
                "lattice.theory=ising"),
      only_with(str("lattice.fermion_bc", "antiperiodic", "boundary condition of the fermions in time (space: periodic)",
                    fixed({"antiperiodic", "periodic"})),
                "lattice.theory=schwinger"),

      // ---- the model
      str("model.type", "operator_cnf", "flow family", names_of(&model_registry)),
      str("model.dtype", "float32", "floating-point precision of the model", fixed({"float32", "float64"})),
      only_with(str("model.prior", "free", "base distribution of a flow", names_of(&prior_registry)),
                "model.type=operator_cnf|coupling|hierarchical|gauge_coupling"),
      only_with(num("model.prior_m2", 1.0,
                    "mass^2 m0^2 of the free-theory base distribution (set from L when model.prior_m0L > 0)", 0.0,
                    kInf, true),
                "model.prior=free"),
      only_with(num("model.prior_m0L", 0.0,
                    "m0 L of the free base; > 0 sets model.prior_m2 = (m0L / L)^2, a base whose correlation length "
                    "is a fixed fraction of L (4: xi = L/4); 0 keeps model.prior_m2",
                    0.0, kInf),
                "model.prior=free"),
      only_with(str("model.operator", "spectral", "neural operator of the CNF", names_of(&operator_registry)),
                "model.type=operator_cnf"),
      only_with(integer("model.channels", 8, "feature channels F of the operator", 1, 4096), "model.type=operator_cnf"),
      only_with(integer("model.frequencies", 8, "learnable sine frequencies of the pointwise features", 1, 4096),
                "model.type=operator_cnf"),
      only_with(integer("model.kernel_modes", 6, "basis functions of momentum per kernel", 1, 256),
                "model.type=operator_cnf"),
      only_with(integer("model.time_modes", 2, "Fourier modes of the time dependence", 1, 256),
                "model.type=operator_cnf"),
      only_with(integer("model.kernel_radius", 2, "range R of the local operator's kernel", 1, 64),
                "model.operator=local"),
      only_with(integer("model.coupling_layers", 16, "coupling layers (affine on checkerboards, or gauge-equivariant)", 1, 4096),
                "model.type=coupling|gauge_coupling"),
      only_with(str("model.transform", "rq_spline_circle", "circle transform of the active plaquettes",
                    fixed({"rq_spline_circle", "ncp_mixture"})),
                "model.type=gauge_coupling"),
      only_with(integer("model.spline_layers", 0, "rational-quadratic spline couplings after the affine ones "
                        "(hierarchical: of the coarse flow)", 0, 4096),
                "model.type=coupling|hierarchical"),
      only_with(integer("model.bins", 8, "spline bins (knots - 1) or NCP mixture components", 1, 256),
                "model.type=gauge_coupling|coupling|hierarchical"),
      only_with(num("model.spline_bound", 3.0, "the phi^4 splines act on [-B, B] and are the identity outside", 0.0,
                    kInf, true),
                "model.type=coupling|hierarchical"),
      only_with(flag("model.rescale", false, "a final learnt global rescaling phi -> e^a phi"), "model.type=coupling"),
      only_with(str("model.conditioner", "conv", "conditioner network: circular convolutions (any lattice) or dense "
                    "(fully connected, one lattice)", fixed({"conv", "dense"})),
                "model.type=coupling"),
      only_with(str("model.loops", "2x1", "conditioner inputs: frozen plaquettes and 2x1 loops, or plaquettes only",
                    fixed({"2x1", "plaquettes"})),
                "model.type=gauge_coupling"),
      only_with(flag("model.dilated", false, "convolution i of a conditioner has dilation i + 1 (Bialas et al.)"),
                "model.type=gauge_coupling"),
      only_with(integer("model.coarse_L", 0, "extent of the coarsest lattice (L = coarse_L 2^levels); 0 picks it from L", 0, 4096),
                "model.type=hierarchical"),
      only_with(integer("model.coarse_layers", 8, "checkerboard couplings of the coarse flow", 1, 4096),
                "model.type=hierarchical"),
      only_with(integer("model.rounds", 2, "passes of affine couplings over the three new-site classes per refinement level", 1, 64),
                "model.type=hierarchical"),
      only_with(integer("model.spline_rounds", 0, "passes of spline couplings over the three classes per level, after "
                        "the affine ones", 0, 64),
                "model.type=hierarchical"),
      only_with(integer("model.hidden_channels", 8, "channels of each hidden convolution of a conditioner", 1, 4096),
                "model.type=coupling|hierarchical|gauge_coupling"),
      only_with(integer("model.hidden_layers", 2, "hidden convolutions per conditioner", 0, 64),
                "model.type=coupling|hierarchical|gauge_coupling"),
      only_with(integer("model.kernel_size", 3, "odd kernel extent of the conditioners' convolutions", 1, 63),
                "model.type=coupling|hierarchical|gauge_coupling"),
      only_with(str("model.activation", "leaky_relu", "activation of the conditioners",
                    fixed({"leaky_relu", "tanh"})),
                "model.type=coupling|hierarchical|gauge_coupling"),
      only_with(flag("model.z2", false, "make the couplings odd in phi (Z2-equivariant flow)"),
                "model.type=coupling|hierarchical"),

      only_with(integer("model.made_depth", 2, "hidden layers of each masked autoregressive network (MADE)", 1, 64),
                "model.type=van|han"),
      only_with(integer("model.made_width", 1, "hidden units per MADE layer, as a multiple of the spins it samples", 1, 64),
                "model.type=van|han"),
      only_with(str("model.symmetries", "z2", "log q averaged over the images under these symmetries (exact, normalised)",
                    fixed({"none", "z2", "d4", "z2+d4"})),
                "model.type=van|han"),

      // ---- the ODE solver of the CNF
      str("solver.method", "rk4", "ODE stepper", names_of(&odes::stepper_registry)),
      integer("solver.steps", 20, "fixed steps on [0, 1] (initial guess for adaptive steppers)", 1, 1e6),
      num("solver.rtol", 1e-5, "relative tolerance of adaptive steppers", 0.0, 1.0, true),
      num("solver.atol", 1e-7, "absolute tolerance of adaptive steppers", 0.0, kInf, true),
      str("solver.gradient", "backprop", "gradient method", names_of(&odes::gradient_method_registry)),

      // ---- training
      integer("train.steps", 1000, "optimiser steps", 0, 1e9),
      integer("train.batch", 64, "samples per step (over all ranks)", 1, 1e7),
      integer("train.micro_batches", 1, "shards of the batch per rank, drawn and differentiated one after another "
                                         "(less memory; the same global batch as that many ranks)", 1, 1e6),
      num("train.lr", 5e-3, "Adam learning rate", 0.0, 10.0, true),
      str("train.schedule", "cosine", "learning-rate schedule", fixed({"constant", "cosine", "exponential"})),
      num("train.decay_rate", 0.1, "lr factor reached at the last step (exponential schedule)", 0.0, 1.0, true),
      num("train.clip", 1.0, "gradient-norm clipping; 0 disables", 0.0),
      str("train.estimator", "reparam", "gradient estimator of the reverse KL", names_of(&estimator_registry)),
      integer("train.eval_every", 100, "steps between evaluations on a fresh batch; 0 disables", 0, 1e9),
      integer("train.eval_batch", 1024, "samples of each periodic evaluation", 2, 1e7),
      integer("train.checkpoint_every", 100, "steps between checkpoints", 1, 1e9),
      integer("train.max_bad_steps", 10, "consecutive skipped (non-finite or diverged) steps that stop training", 1, 1e6),
      num("train.max_solver_error", 1.0,
          "continuous flows: mean |error of log w| per sample, estimated at every periodic evaluation from a solve "
          "with twice the steps, above which training stops (the flow exploits its solve's discretisation error); "
          "0 disables the check",
          0.0, kInf),
      num("train.max_seconds", 0.0, "wall-clock budget in seconds; 0 means none", 0.0),
      str("train.target_metric", "ess", "metric of the periodic evaluation that train.target applies to",
          fixed({"ess", "acceptance"})),
      num("train.target", 0.0, "stop once the periodic evaluation reaches this value; 0 means never", 0.0, 1.0),
      integer("train.target_confirm", 0,
              "samples of a confirming evaluation when the periodic one reaches train.target, which must reach it "
              "too; 0 means the periodic one decides", 0, 1e7),
      flag("train.freeze_transferred", true,
           "with --init-from a model tied to a smaller lattice (han): train only the parts it could not copy"),
      num("train.anneal", 0.0, "annealing rate r: step k trains against exp(-(1 - r^(k+1)) S), as VAN; 0 means none",
          0.0, 0.999999),

      // ---- evaluation
      integer("eval.n", 4096, "samples drawn to evaluate a model", 2, 1e9),
      integer("eval.batch", 1024, "samples per batch while evaluating", 1, 1e7),
      integer("eval.bins", 64, "jackknife bins of error estimates", 2, 1e6),
      flag("eval.hmc", true, "compare the reweighted observables with the theory's reference Markov chains (HMC; "
                             "Wolff and Metropolis for Ising spins)"),
      str("eval.solver", "model", "ODE solver of the evaluation: the model's own, or adaptive dopri5 at eval.rtol/atol in float64",
          fixed({"model", "adaptive"})),
      num("eval.rtol", 1e-8, "relative tolerance of eval.solver = adaptive", 0.0, 1.0, true),
      num("eval.atol", 1e-10, "absolute tolerance of eval.solver = adaptive", 0.0, kInf, true),
      flag("eval.solver_check", true, "estimate each result's solver error with a reference solve (continuous flows)"),
      integer("eval.refine_factor", 2, "the reference solve takes this many times the steps (fixed-step solvers)", 2, 64),
      num("eval.max_solver_error_ratio", 0.2, "the solver check passes when every systematic error is <= this x the statistical one",
          0.0, kInf, true),
      flag("eval.strict", false, "fail (exit 3) when the solver check does not pass (also --strict)"),
      integer("eval.transfer_L", 0, "also evaluate zero-shot on this L (latflow run); 0 skips", 0, 4096),

      // ---- the HMC reference sampler
      integer("hmc.chains", 32, "independent chains run as one batch", 1, 1e6),
      integer("hmc.thermalization", 500, "trajectories discarded while the step size is tuned", 0, 1e9),
      integer("hmc.trajectories", 2000, "measured trajectories per chain", 1, 1e9),
      num("hmc.trajectory_length", 1.0, "molecular-dynamics time per trajectory", 0.0, 1e3, true),
      num("hmc.step_size", 0.1, "initial integrator step size", 0.0, 10.0, true),
      num("hmc.target_acceptance", 0.8, "acceptance the step size is tuned to", 0.0, 1.0, true),
      str("hmc.integrator", "omelyan", "molecular-dynamics integrator", fixed({"leapfrog", "omelyan"})),
      integer("hmc.measure_every", 1, "trajectories between measurements", 1, 1e6),

      // ---- reference chains of Ising spins (Wolff's cluster algorithm, checkerboard Metropolis)
      only_with(integer("reference.chains", 8, "independent chains of each spin sampler", 1, 1e6), "lattice.theory=ising"),
      only_with(integer("reference.thermalization", 500, "sweeps discarded", 0, 1e9), "lattice.theory=ising"),
      only_with(integer("reference.sweeps", 4000, "measured sweeps per chain (a Wolff sweep flips about N spins)", 1, 1e9),
                "lattice.theory=ising"),
      only_with(integer("reference.measure_every", 1, "sweeps between measurements", 1, 1e6), "lattice.theory=ising"),
      only_with(flag("reference.metropolis", true, "also run checkerboard Metropolis (critical slowing down)"),
                "lattice.theory=ising"),

      // ---- where results go, and how the run is executed
      str("output.dir", "", "run directory; empty means runs/<card name>"),
      str("run.device", "cpu", "cpu, cuda or cuda:N (also --device)"),
      integer("run.seed", 1, "random seed (also --seed)", 0, static_cast<double>(std::numeric_limits<std::int64_t>::max())),
      integer("run.threads", 0, "CPU threads; 0 means LibTorch's default (also --threads)", 0, 4096),
      num("run.memory_limit_gb", 0.0, "refuse work estimated to need more memory (GiB); 0 means the memory available", 0.0),

      // ---- data-parallel training over several processes (latflow train --nproc N, torchrun, srun)
      str("distributed.backend", "gloo", "c10d backend of the collectives", fixed({"gloo", "nccl"})),
      num("distributed.timeout", 300.0, "seconds a rank waits for the others (rendezvous, each collective) before "
                                        "it stops with an error", 1.0, 86400.0),
  };
}

/// Integration cards (`latflow integrate`): neural importance sampling against plain Monte Carlo and VEGAS.
/// The defaults are a small version of ZüNIS's shipped configuration (Deutschmann & Götz, arXiv 2401.09069:
/// pwquad, 20 bins, iflow masks x 2, a 256 x 8 conditioner, Adam 1e-4, 10 survey steps of 1e5 points), sized
/// for a laptop core.
std::vector<KeySpec> build_integration_schema() {
  const std::string widths = "integrand.name=gaussian|camel|slashed_circle";
  std::vector<KeySpec> keys = {
      // ---- the integrand on [0, 1]^d
      str("integrand.name", "camel", "the function integrated over [0, 1]^d", names_of(&integrand_registry)),
      integer("integrand.d", 2, "dimension d of the unit hypercube", 1, 1024),
      only_with(num("integrand.width", 0.2208, "s of the Gaussian and camel, sig of the slashed circle", 0.0, kInf, true),
                widths),
      only_with(num("integrand.radius", 0.3, "ring radius of the slashed circle", 0.0, kInf, true),
                "integrand.name=slashed_circle"),
      only_with(num("integrand.frequency", 20.0, "a of offset + cos^2(a sum x_i)"), "integrand.name=sinusoid"),
      only_with(num("integrand.offset", 0.1, "offset of the sinusoid", 0.0), "integrand.name=sinusoid"),

      // ---- the flow, its training (survey) and its integration (refine)
      str("nis.transform", "piecewise_quadratic", "coupling transform of [0, 1]", fixed(cube_transforms())),
      integer("nis.bins", 20, "bins of the coupling transform", 1, 4096),
      str("nis.masking", "iflow", "which coordinates each coupling cell transforms", fixed(masking_strategies())),
      integer("nis.repetitions", 2, "repetitions of the masking's cells", 1, 1000),
      integer("nis.hidden_width", 64, "width of the conditioner's hidden layers", 1, 1e5),
      integer("nis.hidden_layers", 3, "hidden layers after the first of each conditioner", 0, 1000),
      str("nis.dtype", "float64", "precision of the flow and the weights", fixed({"float64", "float32"})),
      str("nis.loss", "variance", "training loss, estimated with importance-weighted sample reuse", fixed(nis_losses())),
      str("nis.survey", "adaptive", "where survey points come from: uniform, the frozen flow, or uniform until the "
                                    "flow is better", fixed(survey_strategies())),
      integer("nis.survey_iterations", 10, "survey iterations (each draws and evaluates one batch)", 1, 1e6),
      integer("nis.survey_points", 10000, "integrand evaluations per survey iteration", 1, 1e9),
      integer("nis.epochs", 5, "passes over each survey batch", 1, 1e6),
      integer("nis.minibatch", 2000, "points per gradient step", 1, 1e9),
      num("nis.learning_rate", 1e-3, "Adam learning rate", 0.0, 10.0, true),
      integer("nis.refine_iterations", 5, "independent integration batches of the trained flow", 1, 1e6),
      integer("nis.refine_points", 20000, "integrand evaluations per integration batch", 2, 1e9),

      // ---- the VEGAS baseline (GSL), trained on the survey's evaluations
      flag("vegas.enabled", true, "compare with GSL's VEGAS at equal evaluation counts"),
      str("vegas.mode", "importance_only", "GSL's mode: importance_only (ZüNIS's comparison), importance (with "
                                           "stratification), stratified", fixed(vegas_modes())),
      num("vegas.alpha", 1.5, "grid stiffness alpha (GSL's default 1.5)", 0.0),
  };
  // Where results go and how the run is executed: the keys of lattice cards.
  for (const auto& spec : runcard_schema())
    if (spec.key.rfind("output.", 0) == 0 || (spec.key.rfind("run.", 0) == 0 && spec.key != "run.memory_limit_gb"))
      keys.push_back(spec);
  return keys;
}

}  // namespace

const std::vector<std::pair<std::string, ConfigValue>>& theory_defaults(const std::string& theory) {
  // Gauge theories sample link angles: by default with the seed's gauge-equivariant flow (Bialas, Korcyl,
  // Stebel, arXiv 2308.13294: 48 layers, conditioners 64 x 64 with dilations 1, 2, 3) from the Haar measure,
  // trained with REINFORCE, which never differentiates the fermion determinant.
  static const std::vector<std::pair<std::string, ConfigValue>> gauge = {
      {"model.type", std::string("gauge_coupling")}, {"model.prior", std::string("haar")},
      {"model.coupling_layers", std::int64_t{48}},   {"model.hidden_channels", std::int64_t{64}},
      {"model.dilated", true},                       {"train.estimator", std::string("reinforce")}};
  static const std::vector<std::pair<std::string, ConfigValue>> none;
  // Ising spins: the hierarchical autoregressive network of Białas, Korcyl & Stebel (CPC 281 (2022) 108502),
  // whose discrete samples train with REINFORCE.
  static const std::vector<std::pair<std::string, ConfigValue>> spins = {
      {"model.type", std::string("han")}, {"train.estimator", std::string("reinforce")}};
  if (theory == "ising") return spins;
  return theory == "u1" || theory == "schwinger" ? gauge : none;
}

const std::vector<KeySpec>& runcard_schema() {
  static const std::vector<KeySpec> schema = build_schema();
  return schema;
}

const std::vector<KeySpec>& integration_schema() {
  static const std::vector<KeySpec> schema = build_integration_schema();
  return schema;
}

}  // namespace latflow
