# A thin front over CMake (the project builds with plain `cmake` or `cmake --preset` too).
#   make run         set up what is missing, build, run the default experiment (quickstart run card);
#                    again: make run RUN_ARGS=--force (replaces runs/quickstart) or RUN_ARGS="--out DIR"
#   make test        set up what is missing, build, run the test suite through ctest
#   make test-slow   the slow statistical tests (ctest label "slow")
#   make sanitize    build and test with ASan+UBSan in build-sanitize/ (the non-slow suite but [heavy] tests)
#   make bench       build the benchmarks (run them from build/bench/)
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
CARD  ?= experiments/runcards/quickstart.toml
CMAKE_ARGS ?=
RUN_ARGS ?=

.PHONY: all setup configure build run test test-slow sanitize bench clean

all: build

setup:
	@scripts/setup.sh $(BUILD)

# deps.env (written by setup) names the LibTorch prefix; CMake remembers it after the first configure
# and re-configures by itself when a CMakeLists.txt changes. Ninja, not Makefiles: the Makefile generator
# makes every object depend on one flags file that lists all sources, so adding a source file rebuilt the
# whole project; Ninja rebuilds only what changed.
configure: setup
	@test -f $(BUILD)/CMakeCache.txt || { set -a && . $(BUILD)/deps.env && set +a && cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_PREFIX_PATH="$$TORCH_PREFIX;$$DEPS_CMAKE_PREFIX" \
	  -DLATFLOW_PYTHON="$$LATFLOW_PYTHON" $(CMAKE_ARGS) >/dev/null; }

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@$(BUILD)/latflow run $(CARD) $(RUN_ARGS)

CTEST_EXCLUDE ?= slow
test: build
	@cd $(BUILD) && ctest -LE '$(CTEST_EXCLUDE)' --output-on-failure -j $(JOBS)

test-slow: build
	@cd $(BUILD) && ctest -L slow --output-on-failure

# -O1 -g1 (line tables only): sanitizer reports keep file:line with far less debug information to build.
sanitize:
	@$(MAKE) --no-print-directory BUILD=build-sanitize CTEST_EXCLUDE='slow|heavy' \
	  CMAKE_ARGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO='-O1 -g1' -DLATFLOW_SANITIZE=ON" test

bench: build
	@cmake --build $(BUILD) --target bench -j $(JOBS)
	@echo "benchmarks in $(BUILD)/bench/: run e.g. $(BUILD)/bench/bench_training_step; record results in bench/RESULTS.md"

clean:
	@rm -rf $(BUILD)
