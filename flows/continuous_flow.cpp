#include "flows/continuous_flow.hpp"

namespace latflow {

namespace {
/// The operator seen by the solver: vector field, divergence and parameters, nothing else.
class OperatorDynamics : public odes::Dynamics {
 public:
  explicit OperatorDynamics(NeuralOperatorImpl& op) : op_(op) {}
  odes::Velocity operator()(double t, const at::Tensor& phi) override { return op_.forward(t, phi); }
  std::vector<at::Tensor> parameters() const override { return op_.parameters(); }

 private:
  NeuralOperatorImpl& op_;
};
}  // namespace

ContinuousFlowImpl::ContinuousFlowImpl(NeuralOperatorPtr vector_field, odes::SolverOptions solver)
    : field_(register_module("vector_field", std::move(vector_field))),
      dynamics_(std::make_shared<OperatorDynamics>(*field_)),
      solver_(std::move(solver)) {}

Density ContinuousFlowImpl::integrate(const Density& s, double t0, double t1) {
  stats_ = {};
  const odes::FlowState out = odes::integrate_flow(*dynamics_, {s.phi, s.logq}, t0, t1, solver_, &stats_);
  return {out.phi, out.logq};
}

Density ContinuousFlowImpl::forward(const Density& x) { return integrate(x, 0.0, 1.0); }
Density ContinuousFlowImpl::reverse(const Density& y) { return integrate(y, 1.0, 0.0); }

}  // namespace latflow
