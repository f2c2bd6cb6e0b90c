# Finds every dependency and defines:
#   TORCH_LIBRARIES, LATFLOW_HAS_CUDA   LibTorch (and whether it was built with CUDA)
#   latflow_deps                        an interface target with the header/library deps used privately
#   LATFLOW_WARNINGS                    the warning flags for the project's own code
#
# Where they come from is set up by scripts/setup.sh; on hosts without root see docs/install.md.

find_package(Torch 2 REQUIRED)
# Torch's flags carry the C++ ABI define; they must reach every target that includes torch headers.
string(APPEND CMAKE_CXX_FLAGS " ${TORCH_CXX_FLAGS}")
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(LATFLOW_HAS_CUDA ON)
else()
  set(LATFLOW_HAS_CUDA OFF)
endif()
message(STATUS "latflow: LibTorch ${Torch_VERSION}, CUDA build: ${LATFLOW_HAS_CUDA}")

find_package(Boost 1.71 REQUIRED)          # header-only: Boost.Odeint
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3)
pkg_check_modules(GSL REQUIRED IMPORTED_TARGET gsl)   # the VEGAS and plain Monte Carlo baselines of integration/
# c10d's Gloo backend is compiled into LibTorch, but the wheel ships no gloo headers, which
# ProcessGroupGloo.hpp includes: Debian's libgloo-dev provides them (headers only; nothing more is linked).
find_path(GLOO_INCLUDE_DIR gloo/algorithm.h)
if(NOT GLOO_INCLUDE_DIR)
  message(FATAL_ERROR "gloo headers (gloo/algorithm.h) not found: install libgloo-dev (scripts/setup.sh does)")
endif()

add_library(latflow_deps INTERFACE)
target_link_libraries(latflow_deps INTERFACE
  Boost::boost Eigen3::Eigen tomlplusplus::tomlplusplus CLI11::CLI11 PkgConfig::FFTW3 PkgConfig::GSL)
target_include_directories(latflow_deps INTERFACE ${GLOO_INCLUDE_DIR})

set(LATFLOW_WARNINGS -Wall -Wextra)

if(LATFLOW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
