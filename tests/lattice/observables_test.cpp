#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "lattice/observables.hpp"
#include "lattice/statistics.hpp"

using namespace latflow;

namespace {

double at3(const at::Tensor& phi, std::int64_t i, std::int64_t t, std::int64_t s) {
  return phi[i][t][s].item<double>();
}

/// Everything the report holds, by brute force: O(V^2) sums per configuration and explicit weights.
struct BruteForce {
  std::vector<double> M, G;  // G [N][V]: (1/V) sum_y phi(y) phi(y+x) per configuration
  std::vector<double> w;     // normalised weights
  std::int64_t N, T, L, V;

  BruteForce(const at::Tensor& phi, const std::vector<double>& log_w)
      : N(phi.size(0)), T(phi.size(1)), L(phi.size(2)), V(T * L) {
    w = stats::normalized_weights(log_w, N);
    const at::Tensor p = phi.to(at::kDouble);
    for (std::int64_t i = 0; i < N; ++i) {
      double sum = 0;
      for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t s = 0; s < L; ++s) sum += at3(p, i, t, s);
      M.push_back(sum / V);
      for (std::int64_t xt = 0; xt < T; ++xt)
        for (std::int64_t xs = 0; xs < L; ++xs) {
          double g = 0;
          for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t s = 0; s < L; ++s) g += at3(p, i, t, s) * at3(p, i, (t + xt) % T, (s + xs) % L);
          G.push_back(g / V);
        }
    }
  }
  double avg(const std::function<double(std::int64_t)>& f) const {
    double a = 0;
    for (std::int64_t i = 0; i < N; ++i) a += w[i] * f(i);
    return a;
  }
  double mean_m() const { return avg([&](std::int64_t i) { return M[i]; }); }
  double m2() const { return avg([&](std::int64_t i) { return M[i] * M[i]; }); }
  double two_point(std::int64_t x) const {
    return avg([&](std::int64_t i) { return G[i * V + x]; }) - mean_m() * mean_m();
  }
};

/// Exact free-field propagator G(x) = (1/V) sum_p e^{ipx} / (2 (p_hat^2 + m^2)) on a T x L lattice.
double free_propagator(std::int64_t xt, std::int64_t xs, std::int64_t T, std::int64_t L, double m2) {
  double g = 0;
  for (std::int64_t kt = 0; kt < T; ++kt)
    for (std::int64_t ks = 0; ks < L; ++ks) {
      const double pt = 2 * M_PI * kt / T, ps = 2 * M_PI * ks / L;
      const double p_hat2 = 4 * std::sin(pt / 2) * std::sin(pt / 2) + 4 * std::sin(ps / 2) * std::sin(ps / 2);
      g += std::cos(pt * xt + ps * xs) / (2 * (p_hat2 + m2));
    }
  return g / (T * L);
}

/// Exact samples of the free field, p(phi) ~ exp(-phi^T A phi), A = -Laplacian + m^2: phi = A^{-1/2} xi / sqrt(2)
/// applied in momentum space with a unitary FFT.
at::Tensor free_field(std::int64_t n, std::int64_t T, std::int64_t L, double m2) {
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const auto pt = 2 * M_PI * torch::arange(T, opts) / T, ps = 2 * M_PI * torch::arange(L, opts) / L;
  const auto p_hat2 = (4 * torch::sin(pt / 2).pow(2)).unsqueeze(1) + (4 * torch::sin(ps / 2).pow(2)).unsqueeze(0);
  const auto scale = 1 / torch::sqrt(2 * (p_hat2 + m2));
  const auto xi = torch::randn({n, T, L}, opts);
  return torch::real(torch::fft::ifft2(scale * torch::fft::fft2(xi, c10::nullopt, {-2, -1}, "ortho"),
                                       c10::nullopt, {-2, -1}, "ortho"));
}

void check_json_is_finite(const nlohmann::json& j) {
  if (j.is_number()) {
    CHECK(std::isfinite(j.get<double>()));
  } else if (j.is_structured()) {
    for (const auto& v : j) check_json_is_finite(v);
  }
}

}  // namespace

TEST_CASE("magnetization against a brute-force sum", "[lattice][observables]") {
  torch::manual_seed(1);
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    const auto phi = torch::randn({5, 4, 6}, torch::TensorOptions().dtype(dtype));
    const auto M = magnetization(phi);
    REQUIRE(M.scalar_type() == torch::kDouble);
    REQUIRE(M.sizes() == at::IntArrayRef({5}));
    const BruteForce bf(phi, {});
    for (int i = 0; i < 5; ++i) CHECK(M[i].item<double>() == Approx(bf.M[i]).epsilon(1e-12));
  }
}

TEST_CASE("reweighted report against brute-force sums on small lattices", "[lattice][observables]") {
  torch::manual_seed(2);
  for (auto shape : std::vector<std::pair<int, int>>{{4, 6}, {6, 4}, {3, 5}}) {
    const auto [T, L] = shape;
    const std::int64_t N = 12, V = T * L;
    const auto phi = 0.3 + torch::randn({N, T, L}, torch::kDouble);
    const auto g = torch::randn({N}, torch::kDouble);
    std::vector<double> log_w;
    for (int i = 0; i < N; ++i) log_w.push_back(0.5 * g[i].item<double>() - 800);
    const int n_bins = 4;
    const auto r = measure(phi, log_w, n_bins);
    const BruteForce bf(phi, log_w);
    INFO("lattice " << T << "x" << L);

    const double mean_m = bf.mean_m(), m2 = bf.m2();
    const double m4 = bf.avg([&](std::int64_t i) { return std::pow(bf.M[i], 4); });
    CHECK(r.abs_magnetization.value == Approx(bf.avg([&](std::int64_t i) { return std::abs(bf.M[i]); })).epsilon(1e-12));
    CHECK(r.m2.value == Approx(m2).epsilon(1e-12));
    CHECK(r.chi2.value == Approx(V * (m2 - mean_m * mean_m)).epsilon(1e-10));
    REQUIRE(r.binder_defined);
    CHECK(r.binder.value == Approx(1 - m4 / (3 * m2 * m2)).epsilon(1e-10));

    REQUIRE(r.two_point.size() == std::size_t(V));
    double sum_g = 0;
    for (std::int64_t x = 0; x < V; ++x) {
      CHECK(r.two_point[x].value == Approx(bf.two_point(x)).margin(1e-12));
      sum_g += r.two_point[x].value;
    }
    CHECK(sum_g == Approx(r.chi2.value).epsilon(1e-10));  // G~(0) is the susceptibility
    REQUIRE(r.correlator.size() == std::size_t(T));
    for (int t = 0; t < T; ++t) {
      double c = 0;
      for (int s = 0; s < L; ++s) c += bf.two_point(t * L + s);
      CHECK(r.correlator[t].value == Approx(c).margin(1e-12));
    }

    // the errors are the jackknife of the same derived quantities
    std::vector<double> g01, m;
    for (std::int64_t i = 0; i < N; ++i) {
      g01.push_back(bf.G[i * V + 1]);
      m.push_back(bf.M[i]);
    }
    const auto connected = [](const std::vector<double>& a) { return a[0] - a[1] * a[1]; };
    CHECK(r.two_point[1].error == Approx(stats::jackknife({g01, m}, connected, log_w, n_bins).error).epsilon(1e-9));
    std::vector<double> m2_series;
    for (double x : m) m2_series.push_back(x * x);
    const auto chi = [V](const std::vector<double>& a) { return V * (a[0] - a[1] * a[1]); };
    CHECK(r.chi2.error == Approx(stats::jackknife({m2_series, m}, chi, log_w, n_bins).error).epsilon(1e-9));
  }
}

TEST_CASE("plane waves have known two-point functions", "[lattice][observables]") {
  // phi_i(t, s) = c + A cos(2 pi (k t/T + l s/L) + theta_i): M = c, and the connected
  // G(x) = A^2/2 cos(2 pi (k x_t/T + l x_s/L)) on every configuration, so every error vanishes.
  const int T = 6, L = 8, N = 10;
  const double A = 1.3, c = 0.4;
  for (auto kl : std::vector<std::pair<int, int>>{{1, 0}, {1, 2}, {0, 1}, {2, 3}}) {
    const auto [k, l] = kl;
    INFO("wave (" << k << ", " << l << ")");
    auto phi = torch::empty({N, T, L}, torch::kDouble);
    for (int i = 0; i < N; ++i)
      for (int t = 0; t < T; ++t)
        for (int s = 0; s < L; ++s)
          phi[i][t][s] = c + A * std::cos(2 * M_PI * (double(k) * t / T + double(l) * s / L) + 0.7 * i);
    const auto r = measure(phi);
    for (int t = 0; t < T; ++t)
      for (int s = 0; s < L; ++s) {
        CHECK(r.two_point[t * L + s].value ==
              Approx(A * A / 2 * std::cos(2 * M_PI * (double(k) * t / T + double(l) * s / L))).margin(1e-12));
        CHECK(r.two_point[t * L + s].error == Approx(0).margin(1e-12));
      }
    for (int t = 0; t < T; ++t) {
      const double exact = l == 0 ? L * A * A / 2 * std::cos(2 * M_PI * k * t / T) : 0.0;
      CHECK(r.correlator[t].value == Approx(exact).margin(1e-12));
    }
    CHECK(r.abs_magnetization.value == Approx(c).epsilon(1e-12));
    CHECK(r.chi2.value == Approx(0).margin(1e-12));
    REQUIRE(r.binder_defined);
    CHECK(r.binder.value == Approx(2.0 / 3).epsilon(1e-12));  // M = c exactly
    if (l == 0) {  // C(t) ~ cos(pi t/3): (C(t-1) + C(t+1))/(2 C(t)) = 1/2 < 1 has no effective mass
      CHECK(r.effective_mass.empty());
    }
    if (k == 0) {  // G~(0) = 0 < G~(p_min): xi2nd^2 = -1/(4 sin^2(pi/L)) < 0, no second-moment length
      CHECK_FALSE(r.xi2nd_defined);
      CHECK(r.to_json()["xi2nd"].is_null());
    }
    check_json_is_finite(r.to_json());
  }
}

TEST_CASE("Binder cumulant of +-c and of Gaussian magnetization", "[lattice][observables]") {
  torch::manual_seed(3);
  const int T = 4, L = 4;
  SECTION("M = +-c: U4 = 2/3 exactly, chi2 = V (c^2 - <M>^2)") {
    const auto signs = torch::randint(0, 2, {200}, torch::kDouble) * 2 - 1;
    const double c = 0.8;
    const auto phi = (c * signs).view({-1, 1, 1}).expand({-1, T, L}).contiguous();
    const auto r = measure(phi);
    REQUIRE(r.binder_defined);
    CHECK(r.binder.value == Approx(2.0 / 3).epsilon(1e-13));
    CHECK(r.binder.error == Approx(0).margin(1e-12));
    const double mean_m = c * signs.mean().item<double>();
    CHECK(r.chi2.value == Approx(T * L * (c * c - mean_m * mean_m)).epsilon(1e-12));
    CHECK(r.abs_magnetization.value == Approx(c).epsilon(1e-13));
  }
  SECTION("Gaussian M: U4 = 0 within errors") {
    const auto m = torch::randn({4000}, torch::kDouble);
    const auto phi = m.view({-1, 1, 1}).expand({-1, T, L}) + 0.0;
    const auto r = measure(phi);
    REQUIRE(r.binder_defined);
    INFO("U4 = " << r.binder.value << " +- " << r.binder.error);
    CHECK(std::abs(r.binder.value) < 4 * r.binder.error);
    CHECK(r.binder.error > 0);
  }
}

TEST_CASE("a constant log weight reproduces the plain report", "[lattice][observables]") {
  torch::manual_seed(4);
  const auto phi = free_field(300, 6, 4, 0.6);
  const auto plain = measure(phi, {}, 30);
  const auto weighted = measure(phi, std::vector<double>(300, 700.0), 30);
  const auto same = [](const stats::Estimate& a, const stats::Estimate& b) {
    CHECK(a.value == Approx(b.value).epsilon(1e-11).margin(1e-14));
    CHECK(a.error == Approx(b.error).epsilon(1e-8).margin(1e-14));
  };
  same(plain.abs_magnetization, weighted.abs_magnetization);
  same(plain.m2, weighted.m2);
  same(plain.chi2, weighted.chi2);
  same(plain.binder, weighted.binder);
  same(plain.xi2nd, weighted.xi2nd);
  for (std::size_t x = 0; x < plain.two_point.size(); ++x) same(plain.two_point[x], weighted.two_point[x]);
  for (std::size_t t = 0; t < plain.correlator.size(); ++t) same(plain.correlator[t], weighted.correlator[t]);
  REQUIRE(plain.effective_mass_t == weighted.effective_mass_t);
  for (std::size_t t = 0; t < plain.effective_mass.size(); ++t)
    same(plain.effective_mass[t], weighted.effective_mass[t]);
}

TEST_CASE("free field: G(x), effective mass and xi2nd against the exact lattice propagator",
          "[lattice][observables]") {
  // With G~(p) = 1/(2 (p_hat^2 + m^2)): xi2nd^2 = (G~(0)/G~(p_min) - 1)/(4 sin^2(pi/L)) = 1/m^2 exactly,
  // and C(t) solves (C(t+1) + C(t-1))/(2 C(t)) = 1 + m^2/2 for t != 0: m_eff = arccosh(1 + m^2/2).
  torch::manual_seed(5);
  const int T = 8, L = 6, N = 4000;
  const double m2 = 0.5;
  const auto r = measure(free_field(N, T, L, m2).to(torch::kFloat));  // float32 input is measured in double
  for (int t = 0; t < T; ++t)
    for (int s = 0; s < L; ++s) {
      const auto& g = r.two_point[t * L + s];
      const double exact = free_propagator(t, s, T, L, m2);
      INFO("G(" << t << ", " << s << ") = " << g.value << " +- " << g.error << ", exact " << exact);
      CHECK(std::abs(g.value - exact) < 4 * g.error);
    }
  for (int t = 0; t < T; ++t) {
    double exact = 0;
    for (int s = 0; s < L; ++s) exact += free_propagator(t, s, T, L, m2);
    INFO("C(" << t << ") = " << r.correlator[t].value << " +- " << r.correlator[t].error << ", exact " << exact);
    CHECK(std::abs(r.correlator[t].value - exact) < 4 * r.correlator[t].error);
  }
  REQUIRE(r.effective_mass_t == std::vector<std::int64_t>{1, 2, 3, 4});
  for (std::size_t i = 0; i < r.effective_mass.size(); ++i) {
    const auto& e = r.effective_mass[i];
    INFO("m_eff(" << r.effective_mass_t[i] << ") = " << e.value << " +- " << e.error);
    CHECK(std::abs(e.value - std::acosh(1 + m2 / 2)) < 4 * e.error);
  }
  REQUIRE(r.xi2nd_defined);
  INFO("xi2nd = " << r.xi2nd.value << " +- " << r.xi2nd.error);
  CHECK(std::abs(r.xi2nd.value - 1 / std::sqrt(m2)) < 4 * r.xi2nd.error);
  CHECK(std::abs(r.chi2.value - 1 / (2 * m2)) < 4 * r.chi2.error);  // G~(0)

  const auto j = r.to_json();
  check_json_is_finite(j);
  for (const char* key : {"abs_magnetization", "m2", "chi2", "binder", "xi2nd"}) CHECK(j.at(key).contains("value"));
  CHECK(j.at("correlator").size() == std::size_t(T));
  CHECK(j.at("effective_mass").at(0).at("t") == 1);
}

TEST_CASE("measure rejects bad input with a UserError", "[lattice][observables]") {
  const auto phi = torch::randn({4, 3, 3}, torch::kDouble);
  CHECK_THROWS_AS(measure(torch::randn({3, 3})), UserError);
  CHECK_THROWS_AS(measure(torch::randn({1, 3, 3})), UserError);
  CHECK_THROWS_AS(measure(phi, {0, 0, 0}), UserError);
  CHECK_THROWS_AS(measure(phi, {}, 9), UserError);
  auto bad = phi.clone();
  bad[1][2][0] = std::nan("");
  CHECK_THROWS_AS(measure(bad), UserError);
  CHECK_THROWS_AS(magnetization(torch::randn({3, 3})), UserError);
}

TEST_CASE("measure on CUDA matches the CPU", "[lattice][observables][cuda]") {
  torch::manual_seed(6);
  const auto phi = free_field(64, 4, 6, 1.0).to(torch::kFloat);
  const auto cpu = measure(phi), gpu = measure(phi.to(torch::kCUDA));
  CHECK(gpu.chi2.value == Approx(cpu.chi2.value).epsilon(1e-12));
  for (std::size_t x = 0; x < cpu.two_point.size(); ++x)
    CHECK(gpu.two_point[x].value == Approx(cpu.two_point[x].value).epsilon(1e-12).margin(1e-14));
  CHECK(magnetization(phi.to(torch::kCUDA)).equal(magnetization(phi)));
}
