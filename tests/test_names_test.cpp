// ctest runs each Catch2 test case by name (catch_discover_tests): a name with ';' is split into two
// tests that match nothing and pass without running anything, and '[' or ']' derails the discovery of
// every later test. Every name must stay discoverable.
#include <catch2/catch.hpp>

TEST_CASE("every test case name can be run by ctest", "[meta]") {
  const auto& tests = Catch::getRegistryHub().getTestCaseRegistry().getAllTests();
  REQUIRE(tests.size() > 100);
  for (const auto& t : tests) {
    INFO(t.name);
    CHECK(t.name.find_first_of(";[]") == std::string::npos);
    CHECK(t.name.rfind("-", 0) != 0);  // a leading '-' is read as an option
  }
}
