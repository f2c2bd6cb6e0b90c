#pragma once
// The continuous normalizing flow of a neural operator (Máté & Fleuret, arXiv 2401.00828; Gerdes et al.,
// arXiv 2207.00283): on the lattice of the configurations it is given, the operator V_t is a vector field
// v_t, and the transform integrates
//
//   d phi / dt = v_t(phi),     d log q / dt = - div v_t(phi)
//
// from t = 0 (the base distribution, the free theory by default) to t = 1 with the run card's solver and
// gradient method; `reverse` integrates back from 1 to 0. The operator's weights do not depend on the
// lattice, so the same transform runs on every lattice size.
#include "flows/transform.hpp"
#include "odes/integrate.hpp"
#include "operators/neural_operator.hpp"

namespace latflow {

class ContinuousFlowImpl : public TransformImpl {
 public:
  ContinuousFlowImpl(NeuralOperatorPtr vector_field, odes::SolverOptions solver);

  Density forward(const Density& x) override;
  Density reverse(const Density& y) override;

  /// The solver used from now on (evaluation checks the density with a finer or adaptive solve).
  void set_solver(const odes::SolverOptions& solver) { solver_ = solver; }
  const odes::SolverOptions& solver() const { return solver_; }
  /// Function evaluations and steps of the most recent solve.
  const odes::SolveStats& last_stats() const { return stats_; }
  NeuralOperatorImpl& vector_field() { return *field_; }

 private:
  Density integrate(const Density& s, double t0, double t1);

  NeuralOperatorPtr field_;
  /// The solver's view of field_. A member, not a local of integrate(): the adjoint method's backward pass
  /// runs the dynamics again after integrate() has returned.
  std::shared_ptr<odes::Dynamics> dynamics_;
  odes::SolverOptions solver_;
  odes::SolveStats stats_;
};

TORCH_MODULE(ContinuousFlow);

}  // namespace latflow
