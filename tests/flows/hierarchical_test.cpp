#include <sstream>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "flow_checks.hpp"
#include "flows/hierarchical.hpp"
#include "lattice/free_field_prolongation.hpp"
#include "test_models.hpp"

using namespace latflow;

namespace {
HierarchicalOptions small_options(std::int64_t levels, bool z2 = false, double base_m2 = 0) {
  return HierarchicalOptions().coarse_L(4).coarse_layers(2).levels(levels).rounds(1).base_m2(base_m2).conditioner(
      ConditionerOptions().hidden({4}).z2(z2));
}
Hierarchical random_hierarchical(std::int64_t levels, std::uint64_t seed, bool z2 = false, double base_m2 = 0) {
  Hierarchical f(small_options(levels, z2, base_m2));
  f->to(torch::kFloat64);
  testing::randomise(*f, 0.3, seed);
  return f;
}
at::Tensor normal(std::int64_t B, std::int64_t T, std::int64_t L, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn({B, T, L}, gen, torch::dtype(torch::kFloat64));
}
at::Tensor zeros(std::int64_t B) { return torch::zeros({B}, torch::dtype(torch::kFloat64)); }
std::int64_t count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}
/// The s-strided sublattice of [B, T, L].
at::Tensor strided(const at::Tensor& phi, std::int64_t s) { return phi.slice(1, 0, phi.size(1), s).slice(2, 0, phi.size(2), s); }
}  // namespace

TEST_CASE("hierarchical levels of a lattice: L = coarse_L 2^n", "[flows][hierarchical]") {
  CHECK(hierarchical_levels(Lattice::square(4), 4) == 0);
  CHECK(hierarchical_levels(Lattice::square(8), 4) == 1);
  CHECK(hierarchical_levels(Lattice::square(32), 4) == 3);
  CHECK(hierarchical_levels(Lattice::square(8), 2) == 2);
  CHECK(hierarchical_levels({16, 8}, 4) == 1);
  CHECK_THROWS_AS(hierarchical_levels(Lattice::square(12), 4), UserError);
  CHECK_THROWS_AS(hierarchical_levels(Lattice::square(2), 4), UserError);
  CHECK_THROWS_AS(hierarchical_levels(Lattice::square(6), 4), UserError);
  CHECK_THROWS_AS(hierarchical_levels({6, 8}, 4), UserError);   // T / 2 = 3: odd coarse extent
  CHECK_THROWS_AS(hierarchical_levels({12, 8}, 2), UserError);  // T not divisible by 2^2
  CHECK_THROWS_AS(hierarchical_levels(Lattice::square(9), 3), UserError);
  CHECK_THROWS_AS(hierarchical_levels(Lattice::square(8), 0), UserError);
}

TEST_CASE("hierarchical flow is the identity at initialisation", "[flows][hierarchical]") {
  for (bool z2 : {false, true}) {
    Hierarchical f(small_options(2, z2));
    f->to(torch::kFloat64);
    testing::check_identity(*f, normal(3, 16, 16, 1));
  }
}

TEST_CASE("hierarchical flow is coarse to fine: no level changes a coarser site", "[flows][hierarchical]") {
  // With an independent base, and with the free-field shears between levels.
  const double base_m2 = GENERATE(0.0, 0.5);
  INFO("base_m2 = " << base_m2);
  Hierarchical f = random_hierarchical(2, 3, false, base_m2);
  const at::Tensor z = normal(2, 16, 16, 4);
  const Density y = f->forward({z, zeros(2)});
  // The 4-strided (coarse) sublattice of the output is the coarse flow of the input's coarse sublattice.
  auto& coarse = *f->named_children()["coarse"]->as<CouplingFlowImpl>();
  const Density yc = coarse.forward({strided(z, 4).contiguous(), zeros(2)});
  CHECK(torch::allclose(strided(y.phi, 4), yc.phi, 0, 1e-13));
  // Changing the finer sites of the input leaves the coarser sublattices of the output as they were.
  for (std::int64_t stride : {4, 2}) {
    const at::Tensor on = torch::zeros({16, 16}, z.options());
    on.slice(0, 0, 16, stride).slice(1, 0, 16, stride).fill_(1);
    const at::Tensor z2 = z + (1 - on) * normal(2, 16, 16, 5);
    const Density y2 = f->forward({z2, zeros(2)});
    INFO("stride " << stride);
    CHECK(torch::equal(strided(y2.phi, stride), strided(y.phi, stride)));
    CHECK(testing::max_abs(y2.phi - y.phi) > 1e-2);
  }
}

TEST_CASE("hierarchical flow with a free base: untrained levels draw the free conditional given the coarse flow",
          "[flows][hierarchical]") {
  // The coarse flow moves the coarse sites; a refinement level with zero weights is the identity, so what it
  // leaves is the shear alone: the new sites keep their residual from the free conditional mean, now about
  // the transformed coarse sites (lattice/free_field_prolongation.hpp).
  const double m0sq = 0.25;
  Hierarchical f = random_hierarchical(1, 17, false, m0sq);  // 8 x 8, coarse 4 x 4
  {
    torch::NoGradGuard no_grad;
    for (auto& p : f->named_children()["level1"]->parameters()) p.zero_();
  }
  const at::Tensor z = normal(3, 8, 8, 18);
  const Density y = f->forward({z, zeros(3)});
  const FreeFieldProlongation p(m0sq);
  const auto residuals = [&p](const at::Tensor& phi) {
    const at::Tensor mean = p.conditional_means(strided(phi, 2).contiguous(), 1);
    const auto at = [&phi](std::int64_t t0, std::int64_t x0) {
      return phi.slice(1, t0, phi.size(1), 2).slice(2, x0, phi.size(2), 2);
    };
    return torch::stack({at(1, 1) - mean[0], at(1, 0) - mean[1], at(0, 1) - mean[2]});
  };
  CHECK(testing::max_abs(strided(y.phi, 2) - strided(z, 2)) > 1e-2);  // the coarse flow did move them
  CHECK(testing::max_abs(residuals(y.phi) - residuals(z)) < 1e-12);
  CHECK(testing::max_abs(y.logq - f->named_children()["coarse"]->as<CouplingFlowImpl>()->forward(
                                      {strided(z, 2).contiguous(), zeros(3)}).logq) < 1e-12);
  // Without the free base the new sites stay where they were.
  Hierarchical g = random_hierarchical(1, 17);
  {
    torch::NoGradGuard no_grad;
    for (auto& q : g->named_children()["level1"]->parameters()) q.zero_();
  }
  const at::Tensor w = g->forward({z, zeros(3)}).phi;
  CHECK(torch::equal(w.slice(1, 1, 8, 2), z.slice(1, 1, 8, 2)));  // odd rows: centres and time bonds
  CHECK(torch::equal(w.slice(1, 0, 8, 2).slice(2, 1, 8, 2), z.slice(1, 0, 8, 2).slice(2, 1, 8, 2)));
}

TEST_CASE("hierarchical flow: Z2 equivariance with z2 = true", "[flows][hierarchical][z2]") {
  const at::Tensor z = normal(3, 8, 8, 6);
  for (bool z2 : {true, false}) {
    Hierarchical f = random_hierarchical(1, 7, z2);
    const Density a = f->forward({z, zeros(3)}), b = f->forward({-z, zeros(3)});
    const double mismatch = testing::max_abs(b.phi + a.phi) + testing::max_abs(b.logq - a.logq);
    INFO("z2 = " << z2);
    if (z2) CHECK(mismatch < 1e-12);
    else CHECK(mismatch > 1e-3);
  }
}

TEST_CASE("hierarchical flow with spline couplings: Z2 equivariance and its conditioners", "[flows][hierarchical][z2]") {
  const HierarchicalOptions o = HierarchicalOptions(small_options(1, true, 0.25))
                                    .spline_layers(2)
                                    .spline_rounds(1)
                                    .spline(ElementwiseOptions().bins(4).bound(2.0));
  Hierarchical f(o);
  f->to(torch::kFloat64);
  testing::randomise(*f, 0.1, 21);
  const at::Tensor z = normal(3, 8, 8, 22);
  const Density a = f->forward({z, zeros(3)}), b = f->forward({-z, zeros(3)});
  CHECK(testing::max_abs(b.phi + a.phi) + testing::max_abs(b.logq - a.logq) < 1e-12);
  CHECK(testing::max_abs(a.phi - z) > 1e-2);
  // 2 affine + 2 spline couplings in the coarse flow, 3 affine + 3 spline ones in the level.
  auto children = f->named_children();
  CHECK(children["coarse"]->named_children().size() == 4);
  CHECK(children["level1"]->named_children().size() == 6);
  CHECK(children["level1"]->named_children().contains("spline2"));
}

TEST_CASE("hierarchical flow commutes with the translations by 2^n (a, b), a + b even", "[flows][hierarchical]") {
  Hierarchical f = random_hierarchical(1, 8);  // 8 x 8 with coarse_L = 4: n = 1
  const at::Tensor z = normal(2, 8, 8, 9);
  for (auto [a, b] : {std::pair{2, 2}, {4, 0}, {0, 4}, {2, -2}}) {
    INFO("shift (" << a << ", " << b << ")");
    const testing::Mismatch m = testing::translation_mismatch(*f, z, a, b);
    CHECK(m.phi <= 1e-12);
    CHECK(m.logq <= 1e-12);
  }
  for (auto [a, b] : {std::pair{2, 0}, {1, 1}, {1, 0}}) {
    INFO("shift (" << a << ", " << b << ") is not a symmetry");
    CHECK(testing::translation_mismatch(*f, z, a, b).phi > 1e-3);
  }
}

TEST_CASE("hierarchical parameter count grows by a constant per doubling of L", "[flows][hierarchical]") {
  const HierarchicalOptions base = HierarchicalOptions().coarse_L(4).coarse_layers(8).rounds(2);
  Conditioner one(base.conditioner());
  const std::int64_t per_level = 3 * 2 * count(*one);
  std::vector<std::int64_t> counts;
  for (std::int64_t L : {4, 8, 16, 32}) {
    Hierarchical f(HierarchicalOptions(base).levels(hierarchical_levels(Lattice::square(L), 4)));
    counts.push_back(count(*f));
  }
  CHECK(counts[0] == 8 * count(*one));  // the coarse flow alone
  for (std::size_t i = 1; i < counts.size(); ++i) CHECK(counts[i] - counts[i - 1] == per_level);
}

TEST_CASE("hierarchical weights trained at L load into the flow built for 2L and give the same map",
          "[flows][hierarchical]") {
  Hierarchical trained = random_hierarchical(1, 10);  // built for L = 8
  std::stringstream buffer;
  {
    torch::serialize::OutputArchive out;
    trained->save(out);
    out.save_to(buffer);
  }
  Hierarchical extended(small_options(2));  // built for L = 16
  extended->to(torch::kFloat64);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  extended->load(in);

  auto params = extended->named_parameters();
  for (const auto& p : trained->named_parameters()) CHECK(torch::equal(params[p.key()], p.value()));
  for (const auto& p : extended->named_children()["level2"]->named_parameters())
    CHECK(torch::equal(p.value(), params["level1." + p.key()]));  // share_finest

  const at::Tensor z = normal(3, 16, 16, 11);
  const Density a = trained->forward({z, zeros(3)}), b = extended->forward({z, zeros(3)});
  CHECK(torch::equal(a.phi, b.phi));
  CHECK(torch::equal(a.logq, b.logq));
  testing::check_roundtrip(*trained, z, 1e-12);
  testing::check_roundtrip(*trained, normal(2, 32, 32, 12), 1e-12);

  // Weights of the coarse flow alone cannot be extended: there is no finest level to share.
  Hierarchical coarse_only(small_options(0));
  std::stringstream coarse_buffer;
  {
    torch::serialize::OutputArchive out;
    coarse_only->save(out);
    out.save_to(coarse_buffer);
  }
  torch::serialize::InputArchive coarse_in;
  coarse_in.load_from(coarse_buffer);
  CHECK_THROWS_AS(extended->load(coarse_in), UserError);
  CHECK_THROWS_AS(coarse_only->forward({torch::zeros({1, 8, 8}), torch::zeros({1})}), UserError);
}

TEST_CASE("hierarchical flow in float32", "[flows][hierarchical]") {
  Hierarchical f = random_hierarchical(1, 13);
  f->to(torch::kFloat32);
  const at::Tensor z = normal(4, 8, 8, 14).to(torch::kFloat32);
  CHECK(f->forward({z, torch::zeros({4})}).phi.scalar_type() == torch::kFloat32);
  testing::check_roundtrip(*f, z, 1e-5);
}

TEST_CASE("hierarchical flow rejects bad settings and lattices", "[flows][hierarchical]") {
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().coarse_L(3)), UserError);
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().coarse_L(0)), UserError);
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().coarse_layers(0)), UserError);
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().levels(-1)), UserError);
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().rounds(0)), UserError);
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().spline_rounds(-1)), UserError);
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().spline_layers(-1)), UserError);
  CHECK_THROWS_AS(Hierarchical(HierarchicalOptions().base_m2(-1)), UserError);
  Hierarchical f(small_options(1));
  CHECK_THROWS_AS(f->forward({torch::zeros({1, 12, 12}), torch::zeros({1})}), UserError);
  CHECK_THROWS_AS(f->reverse({torch::zeros({1, 6, 8}), torch::zeros({1})}), UserError);
  CHECK_THROWS_AS(f->forward({torch::zeros({8, 8}), torch::zeros({1})}), UserError);
}

TEST_CASE("hierarchical settings from a run card", "[flows][hierarchical]") {
  Config card;
  card.set("lattice.L", std::int64_t{16});
  card.set("lattice.T", std::int64_t{0});
  card.set("model.coarse_L", std::int64_t{4});
  card.set("model.coarse_layers", std::int64_t{6});
  card.set("model.rounds", std::int64_t{3});
  card.set("model.spline_rounds", std::int64_t{1});
  card.set("model.spline_layers", std::int64_t{2});
  card.set("model.bins", std::int64_t{6});
  card.set("model.spline_bound", 4.0);
  card.set("model.hidden_channels", std::int64_t{8});
  card.set("model.hidden_layers", std::int64_t{2});
  card.set("model.kernel_size", std::int64_t{3});
  card.set("model.activation", std::string("leaky_relu"));
  card.set("model.z2", false);
  const HierarchicalOptions o = hierarchical_options(card);
  CHECK(o.levels() == 2);
  CHECK(o.coarse_layers() == 6);
  CHECK(o.rounds() == 3);
  CHECK(o.spline_rounds() == 1);
  CHECK(o.spline_layers() == 2);
  CHECK(o.spline().bins() == 6);
  CHECK(o.spline().bound() == 4.0);
  CHECK(o.conditioner().hidden() == std::vector<std::int64_t>{8, 8});
  CHECK(o.base_m2() == 0);  // no base named: independent
  card.set("model.prior", std::string("free"));
  card.set("model.prior_m2", 0.25);
  CHECK(hierarchical_options(card).base_m2() == 0.25);
  card.set("lattice.L", std::int64_t{12});
  CHECK_THROWS_AS(hierarchical_options(card), UserError);
}

TEST_CASE("hierarchical flow on CUDA matches the CPU", "[flows][hierarchical][cuda]") {
  Hierarchical f = random_hierarchical(2, 15, true, 0.5);  // with the free-field shears
  testing::check_cuda_matches_cpu(*f, normal(4, 16, 16, 16));
}

TEST_CASE("coarse_L = 0 picks a coarse lattice shared by L and 2L", "[flows][hierarchical]") {
  CHECK(auto_coarse_L(8) == 4);
  CHECK(auto_coarse_L(16) == 4);
  CHECK(auto_coarse_L(12) == 6);
  CHECK(auto_coarse_L(24) == 6);
  CHECK(auto_coarse_L(10) == 10);
  CHECK(auto_coarse_L(6) == 6);
  CHECK(auto_coarse_L(4) == 4);
  for (std::int64_t L : {4, 6, 8, 10, 12, 14, 16, 20, 32, 64}) {
    INFO("L = " << L);
    CHECK(auto_coarse_L(2 * L) == auto_coarse_L(L));
    CHECK_NOTHROW(hierarchical_levels(Lattice::square(L), auto_coarse_L(L)));
  }
}
