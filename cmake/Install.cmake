# `cmake --install build --prefix P` installs the library, its headers, the CLI and a CMake package,
# so that other projects use the framework with find_package(latflow) and latflow::latflow.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

foreach(hdr IN LISTS LATFLOW_HEADERS)
  file(RELATIVE_PATH rel ${CMAKE_CURRENT_SOURCE_DIR} ${hdr})
  get_filename_component(dir ${rel} DIRECTORY)
  install(FILES ${hdr} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/latflow/${dir})
endforeach()
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/generated/core/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/latflow/core)

set_target_properties(latflow_core PROPERTIES EXPORT_NAME latflow)
install(TARGETS latflow_core latflow_deps EXPORT latflowTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/latflow)
install(TARGETS latflow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT latflowTargets NAMESPACE latflow:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/latflow)

configure_package_config_file(cmake/latflowConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/latflowConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/latflow)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/latflowConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/latflowConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/latflowConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/latflow)
