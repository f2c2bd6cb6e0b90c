#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "flow_checks.hpp"
#include "flows/affine_coupling.hpp"
#include "flows/coupling_flow.hpp"
#include "experiments/runcard.hpp"
#include "test_models.hpp"

using namespace latflow;

namespace {
CouplingFlow random_coupling(bool z2, std::uint64_t seed, std::int64_t layers = 4, std::int64_t spline_layers = 0) {
  CouplingFlow f(CouplingFlowOptions()
                     .layers(layers)
                     .spline_layers(spline_layers)
                     .rescale(spline_layers > 0)
                     .conditioner(ConditionerOptions().z2(z2)));
  f->to(torch::kFloat64);
  // Spline conditioners have 3 K - 1 outputs per site and bend the map more per unit of weight: 0.1 still moves
  // sites by O(1) and keeps the composed map well enough conditioned for 1e-12 round trips.
  testing::randomise(*f, spline_layers > 0 ? 0.1 : 0.3, seed);
  return f;
}
at::Tensor normal(std::int64_t B, std::int64_t T, std::int64_t L, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn({B, T, L}, gen, torch::dtype(torch::kFloat64));
}
at::Tensor zeros(std::int64_t B) { return torch::zeros({B}, torch::dtype(torch::kFloat64)); }
}  // namespace

TEST_CASE("coupling masks", "[flows][coupling]") {
  const auto o = torch::dtype(torch::kFloat64);
  const at::Tensor odd = checkerboard_mask(4, 6, 1, o);
  CHECK(odd.sum().item<double>() == 12);
  CHECK(odd[0][1].item<double>() == 1);
  CHECK(odd[1][1].item<double>() == 0);
  CHECK(torch::equal(odd + checkerboard_mask(4, 6, 0, o), torch::ones({4, 6}, o)));
  at::Tensor sum = torch::zeros({4, 6}, o);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) sum += sublattice_mask(4, 6, a, b, o);
  CHECK(torch::equal(sum, torch::ones({4, 6}, o)));
  CHECK(sublattice_mask(4, 6, 1, 0, o)[3][2].item<double>() == 1);
  CHECK(sublattice_mask(4, 6, 1, 0, o)[2][3].item<double>() == 0);
}

TEST_CASE("coupling flow: the tutorial architecture has 16 x 810 parameters", "[flows][coupling]") {
  // 1 -> 8 -> 8 -> 2 channels, kernel 3, with biases: 80 + 584 + 146 = 810 per layer (2101.08176).
  CouplingFlow f(CouplingFlowOptions().layers(16));
  std::int64_t n = 0;
  for (const auto& p : f->parameters()) n += p.numel();
  CHECK(n == 12960);
}

TEST_CASE("coupling flow is the identity at initialisation", "[flows][coupling]") {
  for (bool z2 : {false, true}) {
    CouplingFlow f(
        CouplingFlowOptions().spline_layers(2).rescale(true).conditioner(ConditionerOptions().z2(z2)));
    f->to(torch::kFloat64);
    testing::check_identity(*f, normal(5, 8, 8, 1));
  }
}

TEST_CASE("one coupling layer changes only the active half, with log-det = sum of s", "[flows][coupling]") {
  CouplingFlow f = random_coupling(false, 3, 1);
  const at::Tensor z = normal(2, 4, 4, 4);
  const Density y = f->forward({z, zeros(2)});
  const at::Tensor odd = checkerboard_mask(4, 4, 1, z.options()).to(torch::kBool);
  CHECK(torch::equal(y.phi.masked_select(~odd), z.masked_select(~odd)));
  CHECK(testing::max_abs(y.phi.masked_select(odd) - z.masked_select(odd)) > 1e-3);
  // Given the frozen half, each active site is scaled by e^s: the log-det is the sum of s over them.
  const ScaleShift st = scale_shift(*f->named_modules()["layer0"]->as<ConditionerImpl>(), z * (~odd), odd);
  const at::Tensor expected = -(st.s * odd).sum({1, 2});
  CHECK(torch::allclose(y.logq, expected, 0, 1e-13));
}

TEST_CASE("Z2: the symmetrised conditioner has s even and t odd, and the flow commutes with phi -> -phi",
          "[flows][coupling][z2]") {
  Conditioner c(ConditionerOptions().z2(true).activation("leaky_relu"));
  c->to(torch::kFloat64);
  testing::randomise(*c, 0.5, 5);
  const at::Tensor x = normal(3, 6, 4, 6), mask = checkerboard_mask(6, 4, 1, x.options());
  const ScaleShift plus = scale_shift(*c, x, mask), minus = scale_shift(*c, -x, mask);
  CHECK(testing::max_abs(plus.s) > 1e-2);
  CHECK(testing::max_abs(plus.t) > 1e-2);
  CHECK(torch::allclose(minus.s, plus.s, 0, 1e-14));
  CHECK(torch::allclose(minus.t, -plus.t, 0, 1e-14));

  const at::Tensor z = normal(4, 8, 8, 7);
  for (std::int64_t splines : {0, 2})
  for (bool z2 : {true, false}) {
    CouplingFlow f = random_coupling(z2, 8, 4, splines);
    const Density a = f->forward({z, zeros(4)}), b = f->forward({-z, zeros(4)});
    const double mismatch = testing::max_abs(b.phi + a.phi) + testing::max_abs(b.logq - a.logq);
    INFO("z2 = " << z2 << ", spline layers " << splines);
    if (z2) CHECK(mismatch < 1e-12);
    else CHECK(mismatch > 1e-3);  // the check has power: without symmetrisation the flow is not Z2-equivariant
  }
}

TEST_CASE("coupling flow commutes with the translations that preserve the checkerboard", "[flows][coupling]") {
  CouplingFlow f = random_coupling(false, 9, 4, 2);
  const at::Tensor z = normal(3, 8, 6, 10);
  for (auto [a, b] : {std::pair{1, 1}, {2, 0}, {0, 2}, {3, -1}}) {
    INFO("shift (" << a << ", " << b << ")");
    const testing::Mismatch m = testing::translation_mismatch(*f, z, a, b);
    CHECK(m.phi <= 1e-12);
    CHECK(m.logq <= 1e-12);
  }
  CHECK(testing::translation_mismatch(*f, z, 1, 0).phi > 1e-3);  // single-site shifts swap the parities
}

TEST_CASE("the same coupling weights run at L and 2L: a tiled configuration maps to the tiled image",
          "[flows][coupling]") {
  CouplingFlow f = random_coupling(true, 11, 4, 2);
  const at::Tensor z = normal(2, 4, 4, 12);
  const Density small = f->forward({z, zeros(2)});
  const Density big = f->forward({z.repeat({1, 2, 2}), zeros(2)});
  CHECK(torch::allclose(big.phi, small.phi.repeat({1, 2, 2}), 0, 1e-12));
  CHECK(torch::allclose(big.logq, 4 * small.logq, 0, 1e-11));  // the log-det is a sum over sites
  testing::check_roundtrip(*f, normal(2, 16, 16, 13), 1e-12);
}

TEST_CASE("coupling flow in float32", "[flows][coupling]") {
  // Two layers keep the map well conditioned, so float32 rounding alone sets the round-trip error.
  CouplingFlow f = random_coupling(false, 14, 2);
  f->to(torch::kFloat32);
  const at::Tensor z = normal(4, 8, 8, 15).to(torch::kFloat32);
  const Density y = f->forward({z, torch::zeros({4})});
  CHECK(y.phi.scalar_type() == torch::kFloat32);
  testing::check_roundtrip(*f, z, 1e-5);
}

TEST_CASE("coupling flow rejects bad settings and lattices", "[flows][coupling]") {
  CHECK_THROWS_AS(CouplingFlow(CouplingFlowOptions().layers(0)), UserError);
  CHECK_THROWS_AS(CouplingFlow(CouplingFlowOptions().spline_layers(-1)), UserError);
  CHECK_THROWS_AS(CouplingFlow(CouplingFlowOptions().spline_layers(1).spline(ElementwiseOptions().bound(0))), UserError);
  CHECK_NOTHROW(CouplingFlow(CouplingFlowOptions().layers(0).spline_layers(1)));
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().network("mlp")), UserError);
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().network("dense")), UserError);  // no lattice
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().network("dense").T(4).L(5)), UserError);
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().reflection_order({1, 1})), UserError);
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().reflection_sign({1, 0.5})), UserError);
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().kernel_size(4)), UserError);
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().kernel_size(0)), UserError);
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().hidden({8, 0})), UserError);
  CHECK_THROWS_AS(Conditioner(ConditionerOptions().activation("relu")), UserError);
  CouplingFlow f(CouplingFlowOptions().layers(2));
  CHECK_THROWS_AS(f->forward({torch::zeros({1, 5, 4}), torch::zeros({1})}), UserError);
  CHECK_THROWS_AS(f->forward({torch::zeros({1, 4, 3}), torch::zeros({1})}), UserError);
  CHECK_THROWS_AS(f->reverse({torch::zeros({4, 4}), torch::zeros({1})}), UserError);
  CouplingFlow wide(CouplingFlowOptions().layers(2).conditioner(ConditionerOptions().kernel_size(7)));
  CHECK_THROWS_AS(wide->forward({torch::zeros({1, 2, 2}), torch::zeros({1})}), UserError);
  CHECK_NOTHROW(wide->forward({torch::zeros({1, 4, 4}), torch::zeros({1})}));
}

TEST_CASE("coupling settings from a run card", "[flows][coupling]") {
  // Through the schema, so that every key the options read is one a card may set.
  const Config card =
      parse_runcard("", "",
                    {"lattice.T=6", "lattice.L=8", "model.type=coupling", "model.coupling_layers=6",
                     "model.hidden_channels=5", "model.hidden_layers=3", "model.kernel_size=5",
                     "model.activation=tanh", "model.z2=true", "model.spline_layers=2", "model.bins=6",
                     "model.spline_bound=4", "model.rescale=true", "model.conditioner=dense"})
          .config;
  const CouplingFlowOptions o = coupling_flow_options(card);
  CHECK(o.spline_layers() == 2);
  CHECK(o.spline().bins() == 6);
  CHECK(o.spline().bound() == 4.0);
  CHECK(o.rescale());
  CHECK(o.conditioner().network() == "dense");
  CHECK(o.conditioner().T() == 6);
  CHECK(o.conditioner().L() == 8);
  CHECK(o.layers() == 6);
  CHECK(o.conditioner().hidden() == std::vector<std::int64_t>{5, 5, 5});
  CHECK(o.conditioner().kernel_size() == 5);
  CHECK(o.conditioner().activation() == "tanh");
  CHECK(o.conditioner().z2());
}

TEST_CASE("dense conditioners: parameter count, one lattice only, and only the frozen half is read",
          "[flows][coupling]") {
  // Dense 32 -> 128 -> 2 x 32 per affine layer, 32 -> 128 -> 23 x 32 per 8-bin spline layer (torchlft's "IR"
  // sizes at L = 8): (32 + 1) 128 + (128 + 1) 64 = 12480 and (32 + 1) 128 + (128 + 1) 736 = 99168.
  const ConditionerOptions dense = ConditionerOptions().network("dense").T(8).L(8).hidden({128});
  CouplingFlow f(CouplingFlowOptions().layers(8).spline_layers(2).rescale(true).conditioner(dense));
  std::int64_t n = 0;
  for (const auto& p : f->parameters()) n += p.numel();
  CHECK(n == 8 * 12480 + 2 * 99168 + 1);
  CHECK_THROWS_AS(f->forward({torch::zeros({1, 8, 6}), torch::zeros({1})}), UserError);
  CHECK_THROWS_AS(f->forward({torch::zeros({1, 4, 16}), torch::zeros({1})}), UserError);

  Conditioner c(ConditionerOptions(dense).hidden({6}));
  c->to(torch::kFloat64);
  testing::randomise(*c, 0.5, 31);
  const at::Tensor odd = checkerboard_mask(8, 8, 1, torch::dtype(torch::kFloat64));
  const at::Tensor x = normal(2, 8, 8, 32) * (1 - odd);
  const at::Tensor theta = c->forward(x, odd);
  CHECK(testing::max_abs(theta * (1 - odd)) == 0);  // parameters only where the coupling acts
  CHECK(testing::max_abs(theta * odd) > 1e-2);
  // The dense network reads the frozen half alone: values on the active sites do not change theta.
  CHECK(torch::equal(c->forward(x + 3.0 * odd, odd), theta));
  CHECK_THROWS_AS(c->forward(x, sublattice_mask(8, 8, 0, 0, x.options())), UserError);
}

TEST_CASE("spline couplings change only the active half, and their log-det is the sum of log f'",
          "[flows][coupling]") {
  CouplingFlow f = random_coupling(false, 33, 0, 1);
  const at::Tensor z = 2 * normal(2, 4, 6, 34);
  const Density y = f->forward({z, zeros(2)});
  const at::Tensor odd = checkerboard_mask(4, 6, 1, z.options()).to(torch::kBool);
  const double a = f->named_parameters()["log_scale"].item<double>();
  CHECK(std::abs(a) > 1e-3);
  const at::Tensor unscaled = y.phi * std::exp(-a);
  CHECK(torch::allclose(unscaled.masked_select(~odd), z.masked_select(~odd), 0, 1e-14));
  CHECK(testing::max_abs(unscaled.masked_select(odd) - z.masked_select(odd)) > 1e-3);
  testing::check_logdet_vs_autograd(*f, z, 1e-10);
}

TEST_CASE("coupling flow on CUDA matches the CPU", "[flows][coupling][cuda]") {
  CouplingFlow f = random_coupling(true, 16, 4, 2);
  testing::check_cuda_matches_cpu(*f, normal(4, 8, 8, 17));
}
