#pragma once
// Torch tensors as a Boost.Odeint state. Odeint keeps state, algebra and operations apart (Ahnert &
// Mulansky, "Odeint - Solving ordinary differential equations in C++", AIP Conf. Proc. 1389, 1586 (2011)):
// a stepper only ever asks for whole-state linear combinations
//
//   x_out = a_1 x_1 + a_2 x_2 + ... + a_n x_n                      (odeint's scale_sum<n>)
//
// and, for error control, the scaled error e <- |e| / (atol + rtol (a_x |x| + a_dxdt |dxdt|)) and its
// sup norm max_i |e_i|. This header supplies exactly those for the state TensorTuple, a point of the direct
// sum R^{n_1} (+) R^{n_2} (+) ... of tensor spaces. A CNF integrates the tuple (phi [B, ...], log q [B]);
// the adjoint method integrates (phi, a_phi, a_theta_1, a_theta_2, ...). The sup norm runs over every
// element of every part, i.e. over the whole batch: an adaptive solve of a batch takes one step-size
// sequence for all samples, so a sample's trajectory does not depend on which sample it is (the samples
// stay exchangeable, and the batch is solved as accurately as its hardest member needs).
//
// Plugging in (odeint's recipe for vector-space states, as its Eigen backend does): the algebra is
// odeint's vector_space_algebra, which hands whole states to the operations; the operations are
// TensorOperations below; vector_space_norm_inf and copy_impl are specialised at the end of this file.
// TensorTuple is not resizeable for odeint: its buffers start empty and the operations size them.
//
// Value semantics by copy-on-write. Odeint's generic copy assigns (for a tensor: shares the handle) and
// its stock `scale` multiplies in place, which for tensors would make two states alias one buffer. Here a
// copy shares tensors, and every write goes through TensorOperations, which writes in place only into a
// tensor that nothing else can observe: no autograd graph is being recorded (GradMode off), and the
// tensor handle and its storage have exactly one owner (this tuple). Otherwise the result is a fresh
// tensor. So a state never aliases another observably (tests/odes/tensor_algebra_test.cpp), autograd sees
// purely functional expressions when it records, and the no-grad sampling path reuses odeint's buffers
// instead of allocating a tensor per term per stage.
#include <array>
#include <cstddef>
#include <vector>

#include <ATen/core/Tensor.h>
#include <boost/numeric/odeint/algebra/vector_space_algebra.hpp>
#include <boost/numeric/odeint/util/copy.hpp>

namespace latflow::odes {

/// A point of the direct sum of the tensor spaces of its parts: the state odeint integrates.
struct TensorTuple {
  std::vector<at::Tensor> parts;
};

namespace detail {
/// out = sum_k a[k] * terms[k], part by part (n terms).
void linear_combination(TensorTuple& out, const TensorTuple* const* terms, const double* a, std::size_t n);
/// e = |e| / (atol + rtol * (a_x |x| + a_dxdt |dxdt|)), part by part; never recorded by autograd.
void relative_error(TensorTuple& e, const TensorTuple& x, const TensorTuple& dxdt, double atol, double rtol,
                    double a_x, double a_dxdt);
}  // namespace detail

/// Sup norm max_i |x_i| over all parts; +infinity when any element is NaN, so that error control rejects
/// a step that produced NaN instead of accepting it (NaN > 1 is false).
double norm_inf(const TensorTuple& x);

/// Whether every element of every part is finite.
bool all_finite(const TensorTuple& x);

/// Odeint's `Operations` concept for TensorTuple (see the file comment for when it writes in place).
struct TensorOperations {
  /// x_out = sum_k a_k x_k with N terms; constructed from the N coefficients.
  template <std::size_t N>
  class LinearCombination {
   public:
    using result_type = void;
    template <class... Coefficients>
    explicit LinearCombination(Coefficients... a) : a_{static_cast<double>(a)...} {
      static_assert(sizeof...(Coefficients) == N, "one coefficient per term");
    }
    template <class... Terms>
    void operator()(TensorTuple& out, const Terms&... terms) const {
      static_assert(sizeof...(Terms) == N, "one term per coefficient");
      const std::array<const TensorTuple*, N> ptrs{&terms...};
      detail::linear_combination(out, ptrs.data(), a_.data(), N);
    }

   private:
    std::array<double, N> a_;
  };

  // Odeint names the N-term combination scale_sumN and passes the coefficient types as template
  // arguments, which the tensor version does not need.
  template <class...> using scale_sum1 = LinearCombination<1>;
  template <class...> using scale_sum2 = LinearCombination<2>;
  template <class...> using scale_sum3 = LinearCombination<3>;
  template <class...> using scale_sum4 = LinearCombination<4>;
  template <class...> using scale_sum5 = LinearCombination<5>;
  template <class...> using scale_sum6 = LinearCombination<6>;
  template <class...> using scale_sum7 = LinearCombination<7>;

  /// x <- a x (odeint's `scale`), copy-on-write like every other write.
  template <class Fac = double>
  class scale {
   public:
    using result_type = void;
    explicit scale(Fac a) : a_(static_cast<double>(a)) {}
    void operator()(TensorTuple& x) const {
      const TensorTuple* term = &x;
      detail::linear_combination(x, &term, &a_, 1);
    }

   private:
    double a_;
  };

  /// The scaled local error of odeint's default_error_checker (arguments in odeint's order).
  template <class Fac = double>
  class rel_error {
   public:
    using result_type = void;
    rel_error(Fac atol, Fac rtol, Fac a_x, Fac a_dxdt) : atol_(atol), rtol_(rtol), a_x_(a_x), a_dxdt_(a_dxdt) {}
    void operator()(TensorTuple& err, const TensorTuple& x, const TensorTuple& dxdt) const {
      detail::relative_error(err, x, dxdt, atol_, rtol_, a_x_, a_dxdt_);
    }

   private:
    double atol_, rtol_, a_x_, a_dxdt_;
  };
};

/// The algebra odeint's steppers use for TensorTuple: whole-state operations.
using TensorAlgebra = boost::numeric::odeint::vector_space_algebra;

}  // namespace latflow::odes

namespace boost::numeric::odeint {

template <>
struct vector_space_norm_inf<latflow::odes::TensorTuple> {
  using result_type = double;
  double operator()(const latflow::odes::TensorTuple& x) const { return latflow::odes::norm_inf(x); }
};

/// A copy shares the tensors; copy-on-write in TensorOperations keeps the two states independent.
template <>
struct copy_impl<latflow::odes::TensorTuple, latflow::odes::TensorTuple> {
  static void copy(const latflow::odes::TensorTuple& from, latflow::odes::TensorTuple& to) { to.parts = from.parts; }
};

}  // namespace boost::numeric::odeint
