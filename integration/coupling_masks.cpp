#include "integration/coupling_masks.hpp"

#include <functional>

#include "core/choices.hpp"
#include "core/error.hpp"

namespace latflow {

std::vector<std::string> masking_strategies() { return {"checkerboard", "maximal", "iflow"}; }

std::vector<std::vector<std::int64_t>> coupling_masks(std::int64_t d, const std::string& strategy,
                                                      std::int64_t repetitions) {
  if (d < 1) throw UserError("coupling masks: the dimension must be >= 1; got " + std::to_string(d));
  if (repetitions < 1)
    throw UserError("coupling masks: repetitions must be >= 1; got " + std::to_string(repetitions));
  // Each cell as a predicate on the coordinate index.
  std::vector<std::function<bool(std::int64_t)>> cells;
  if (strategy == "checkerboard") {
    cells = {[](std::int64_t i) { return i % 2 == 0; }, [](std::int64_t i) { return i % 2 == 1; }};
  } else if (strategy == "maximal") {
    for (std::int64_t k = 0; k < d; ++k) cells.push_back([k](std::int64_t i) { return i == k; });
  } else if (strategy == "iflow") {
    std::int64_t bits = 1;
    while ((std::int64_t{1} << bits) < d) ++bits;
    for (std::int64_t b = 0; b < bits; ++b) {
      cells.push_back([b](std::int64_t i) { return ((i >> b) & 1) == 0; });
      cells.push_back([b](std::int64_t i) { return ((i >> b) & 1) == 1; });
    }
  } else {
    require_choice("masking strategy", strategy, masking_strategies());
  }
  std::vector<std::vector<std::int64_t>> out;
  for (std::int64_t r = 0; r < repetitions; ++r)
    for (const auto& in_cell : cells) {
      std::vector<std::int64_t> active;
      for (std::int64_t i = 0; i < d; ++i)
        if (in_cell(i)) active.push_back(i);
      if (!active.empty()) out.push_back(std::move(active));
    }
  return out;
}

}  // namespace latflow
