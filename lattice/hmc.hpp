#pragma once
// Hybrid Monte Carlo, the reference sampler of exp(-S[phi]) for any Action (Duane, Kennedy, Pendleton,
// Roweth, Phys. Lett. B 195, 216 (1987)). With Gaussian momenta pi and
//
//   H(phi, pi) = 1/2 sum_x pi(x)^2 + S[phi],   dphi/dt = pi,   dpi/dt = -dS/dphi,
//
// a trajectory of length tau is integrated with a symmetric symplectic (reversible, volume-preserving)
// integrator and accepted with probability min(1, exp(-Delta H)); the chain is then exact for any step size.
// Integrators (P = momentum kick by the force, Q = field drift):
//   leapfrog         P(eps/2) Q(eps) P(eps/2)
//   Omelyan 2MN      P(l eps) Q(eps/2) P((1-2l) eps) Q(eps/2) P(l eps),  l = 0.1931833275037836
// (Omelyan, Mryglod, Folk, Comput. Phys. Commun. 151, 272 (2003); Takaishi, de Forcrand, PRE 73, 036706
// (2006)); both have Delta H = O(eps^2) over a fixed trajectory length, Omelyan with a much smaller constant.
// Adjacent kicks of consecutive steps are merged: n steps cost n+1 (leapfrog) or 2n+1 (Omelyan) forces.
//
// C independent chains run as one batch [C, T, L] on any device and dtype; H is accumulated in float64 so
// that float32 fields do not bias the accept/reject step. During thermalisation only, the step size is
// adapted by dual averaging on log eps towards the target acceptance (Hoffman, Gelman, JMLR 15, 1593
// (2014), Algorithm 5, with the acceptance averaged over chains); the number of steps is
// n = ceil(tau / eps) and the step actually used tau / n. It is frozen for the measured trajectories.
#include <cstdint>
#include <functional>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "lattice/action.hpp"

namespace latflow {

enum class MDIntegrator { leapfrog, omelyan };

/// "leapfrog" or "omelyan"; anything else is a UserError.
MDIntegrator md_integrator(const std::string& name);

/// H(phi, pi) per configuration, [B] in float64.
at::Tensor hamiltonian(const Action& action, const at::Tensor& phi, const at::Tensor& momentum);

/// Integrates Hamilton's equations for `steps` steps of size `step_size`, updating phi and momentum in
/// place. Returns the number of force evaluations.
std::int64_t integrate_md(const Action& action, at::Tensor& phi, at::Tensor& momentum, double step_size,
                          std::int64_t steps, MDIntegrator integrator);

struct HMCOptions {
  std::int64_t chains = 32;
  std::int64_t thermalization = 500;  ///< trajectories discarded, during which the step size adapts
  std::int64_t trajectories = 2000;   ///< measured trajectories per chain
  double trajectory_length = 1.0;
  double initial_step_size = 0.1;
  double target_acceptance = 0.8;
  std::string integrator = "omelyan";  ///< or "leapfrog"
  std::int64_t measure_every = 1;      ///< keep every k-th measured trajectory
};

struct HMCResult {
  /// [trajectories/measure_every * chains, T, L], chain-major: all measurements of chain 0, then chain 1...
  at::Tensor samples;
  double acceptance = 0;  ///< accepted fraction of the measured trajectories
  double step_size = 0;   ///< the frozen step, trajectory_length / steps_per_trajectory
  std::int64_t steps_per_trajectory = 0;
  std::int64_t force_evaluations = 0;  ///< batched calls of Action::force, thermalisation included
  double seconds = 0;
};

/// Runs HMC from a hot start (phi ~ N(0,1)). `progress(done, total, acceptance)` is called after every
/// trajectory (thermalisation included) with the acceptance of the current phase so far.
HMCResult run_hmc(const Action& action, const Lattice& lattice, const HMCOptions& options,
                  const c10::TensorOptions& tensor_options,
                  const std::function<void(std::int64_t done, std::int64_t total, double acceptance)>& progress =
                      {});

}  // namespace latflow
