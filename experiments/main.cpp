// The `latflow` executable: everything lives in the library (experiments/cli.hpp).
#include <iostream>

#include "experiments/cli.hpp"

int main(int argc, char** argv) { return latflow::cli::run_cli(argc, argv, std::cout, std::cerr); }
