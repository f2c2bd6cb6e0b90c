#include "odes/adjoint.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "odes/cnf_field.hpp"

namespace latflow::odes {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// What the backward pass needs besides the saved phi(t1). Autograd contexts store IValues only, so it
/// travels as a capsule.
struct AdjointProblem : torch::CustomClassHolder {
  AdjointProblem(Dynamics& dynamics, std::vector<at::Tensor> parameters, double t0, double t1,
                 std::shared_ptr<const Stepper> stepper, SolverOptions options)
      : dynamics(dynamics), parameters(std::move(parameters)), t0(t0), t1(t1), stepper(std::move(stepper)),
        options(std::move(options)) {}
  Dynamics& dynamics;
  std::vector<at::Tensor> parameters;
  double t0, t1;
  std::shared_ptr<const Stepper> stepper;
  SolverOptions options;
};

/// The augmented system on x = (phi, a_phi, a_theta_1, ...): dx/dt = (v, -a^T df/dphi, -a^T df/dtheta_i).
VectorField adjoint_field(Dynamics& dynamics, const std::vector<at::Tensor>& parameters, const at::Tensor& a_logq) {
  const at::Tensor minus_a_logq = -a_logq;
  return [&dynamics, parameters, minus_a_logq](const TensorTuple& x, TensorTuple& dxdt, double t) {
    at::AutoGradMode record(true);
    const at::Tensor phi = x.parts[0].detach().requires_grad_(true);
    Velocity velocity = dynamics(t, phi);
    // The cotangent of (v, div v) is (a_phi, -a_logq): f's second component is -div v.
    variable_list outputs, cotangents;
    if (velocity.v.requires_grad()) {
      outputs.push_back(velocity.v);
      cotangents.push_back(x.parts[1]);
    }
    if (velocity.divergence.requires_grad()) {
      outputs.push_back(velocity.divergence);
      cotangents.push_back(minus_a_logq);
    }
    variable_list inputs{phi};
    inputs.insert(inputs.end(), parameters.begin(), parameters.end());
    const variable_list vjp = outputs.empty() ? variable_list(inputs.size())
                                              : torch::autograd::grad(outputs, inputs, cotangents,
                                                                      /*retain_graph=*/false,
                                                                      /*create_graph=*/false,
                                                                      /*allow_unused=*/true);
    dxdt.parts.resize(x.parts.size());
    dxdt.parts[0] = velocity.v.detach();
    for (std::size_t i = 0; i < inputs.size(); ++i)
      dxdt.parts[1 + i] = vjp[i].defined() ? at::neg(vjp[i]) : at::zeros_like(inputs[i]);
  };
}

struct AdjointFunction : torch::autograd::Function<AdjointFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& phi0, const at::Tensor& logq0,
                               at::TensorList /*parameters: inputs for autograd only*/,
                               const c10::intrusive_ptr<AdjointProblem>& problem, SolveStats* stats) {
    TensorTuple x{{phi0, logq0}};
    problem->stepper->integrate(cnf_field(problem->dynamics, stats->nfe), x, problem->t0, problem->t1,
                                problem->options, *stats);
    ctx->save_for_backward({x.parts[0]});
    ctx->saved_data["problem"] = c10::IValue::make_capsule(problem);
    return {x.parts[0], x.parts[1]};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    if (at::GradMode::is_enabled())
      throw UserError("gradients of the adjoint method are not differentiable (create_graph); "
                      "use gradient = \"backprop\" for higher derivatives");
    const auto problem = c10::static_intrusive_pointer_cast<AdjointProblem>(ctx->saved_data.at("problem").toCapsule());
    const std::size_t n_parameters = problem->parameters.size();
    // One gradient per forward argument: phi0, logq0, each parameter, then the two non-tensors.
    variable_list grads(2 + n_parameters + 2);
    if (ctx->needs_input_grad(1)) grads[1] = grad_outputs[1];

    std::vector<std::size_t> trained;
    std::vector<at::Tensor> trained_parameters;
    for (std::size_t i = 0; i < n_parameters; ++i)
      if (ctx->needs_input_grad(2 + i)) {
        trained.push_back(i);
        trained_parameters.push_back(problem->parameters[i]);
      }
    if (!ctx->needs_input_grad(0) && trained.empty()) return grads;

    TensorTuple x{{ctx->get_saved_variables()[0], grad_outputs[0]}};
    for (const auto& p : trained_parameters) x.parts.push_back(at::zeros_like(p));
    SolveStats backward_stats;
    problem->stepper->integrate(adjoint_field(problem->dynamics, trained_parameters, grad_outputs[1]), x,
                                problem->t1, problem->t0, problem->options, backward_stats);
    if (ctx->needs_input_grad(0)) grads[0] = x.parts[1];
    for (std::size_t j = 0; j < trained.size(); ++j) grads[2 + trained[j]] = x.parts[2 + j];
    return grads;
  }
};

}  // namespace

FlowState Adjoint::solve(Dynamics& dynamics, const FlowState& state, double t0, double t1,
                         std::shared_ptr<const Stepper> stepper, const SolverOptions& options,
                         SolveStats& stats) const {
  std::vector<at::Tensor> parameters = dynamics.parameters();
  const auto problem =
      c10::make_intrusive<AdjointProblem>(dynamics, parameters, t0, t1, std::move(stepper), options);
  const variable_list out =
      AdjointFunction::apply(state.phi, state.logq, at::TensorList(parameters), problem, &stats);
  return {out[0], out[1]};
}

}  // namespace latflow::odes
