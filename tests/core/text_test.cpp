#include <catch2/catch.hpp>

#include "core/text.hpp"

using namespace latflow;

TEST_CASE("edit distance and suggestions", "[core]") {
  CHECK(text::edit_distance("lamda", "lambda") == 1);
  CHECK(text::edit_distance("", "abc") == 3);
  CHECK(text::closest("lamda", {"L", "m2", "lambda"}) == "lambda");
  CHECK(text::closest("zzzzzz", {"L", "m2", "lambda"}).empty());
  CHECK(text::did_you_mean("rk5", {"euler", "rk4", "dopri5"}) == " (did you mean 'rk4'?)");
}
