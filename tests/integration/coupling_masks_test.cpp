// The masking strategies: ZüNIS's cell counts, every coordinate transformed, every pair of coordinates split by
// some cell for iflow and maximal (not for the checkerboard, whose cells never split two coordinates of equal
// parity), empty cells left out at d = 1, bad input as UserErrors.
#include <catch2/catch.hpp>

#include <set>

#include "core/error.hpp"
#include "integration/coupling_masks.hpp"

using namespace latflow;

TEST_CASE("coupling masks: cell counts of ZüNIS's strategies", "[integration]") {
  for (const auto& [d, cells] : std::vector<std::pair<std::int64_t, std::size_t>>{{2, 2}, {3, 4}, {4, 4}, {8, 6}, {16, 8}, {32, 10}}) {
    INFO("d = " << d);
    CHECK(coupling_masks(d, "iflow", 1).size() == cells);
    CHECK(coupling_masks(d, "iflow", 2).size() == 2 * cells);
  }
  CHECK(coupling_masks(5, "checkerboard", 1) == std::vector<std::vector<std::int64_t>>{{0, 2, 4}, {1, 3}});
  CHECK(coupling_masks(3, "maximal", 1) == std::vector<std::vector<std::int64_t>>{{0}, {1}, {2}});
}

TEST_CASE("coupling masks: every coordinate is transformed and every pair split by some cell", "[integration]") {
  for (const auto& strategy : masking_strategies())
    for (std::int64_t d = 2; d <= 17; ++d) {
      INFO(strategy << " d = " << d);
      const auto cells = coupling_masks(d, strategy, 1);
      std::set<std::int64_t> transformed;
      for (const auto& c : cells) {
        CHECK(!c.empty());
        CHECK(static_cast<std::int64_t>(c.size()) < d);  // something conditions every cell
        transformed.insert(c.begin(), c.end());
      }
      CHECK(static_cast<std::int64_t>(transformed.size()) == d);
      for (std::int64_t i = 0; i < d; ++i)
        for (std::int64_t j = i + 1; j < d; ++j) {
          bool split = false;
          for (const auto& c : cells) {
            const bool a = std::count(c.begin(), c.end(), i) > 0, b = std::count(c.begin(), c.end(), j) > 0;
            split |= a != b;
          }
          if (strategy != "checkerboard") CHECK(split);
          else CHECK(split == ((i + j) % 2 == 1));
        }
    }
}

TEST_CASE("coupling masks: d = 1 keeps the one cell that transforms the coordinate, and bad input is refused",
          "[integration]") {
  for (const auto& strategy : masking_strategies()) {
    INFO(strategy);
    CHECK(coupling_masks(1, strategy, 3) == std::vector<std::vector<std::int64_t>>(3, {0}));
  }
  CHECK_THROWS_AS(coupling_masks(0, "iflow", 1), UserError);
  CHECK_THROWS_AS(coupling_masks(2, "iflow", 0), UserError);
  CHECK_THROWS_WITH(coupling_masks(2, "iflwo", 1), Catch::Contains("did you mean 'iflow'"));
}
