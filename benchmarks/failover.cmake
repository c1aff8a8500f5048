# failover_bench: dbpool (default and tuned) against a naive libpq client while
# a PostgreSQL primary is blackholed or killed and its replica promoted (see
# failover_bench.cc and docs/failover.md). Included from
# benchmarks/CMakeLists.txt; it starts servers of its own with
# scripts/servers.sh, so it needs the test support code and exists only when
# the tests are built.
if(TARGET dbpool_postgres AND TARGET dbpool_test_support)
  set(DBPOOL_FAILOVER_BENCH_ROOT ${CMAKE_CURRENT_LIST_DIR}/..)
  get_filename_component(DBPOOL_FAILOVER_BENCH_ROOT ${DBPOOL_FAILOVER_BENCH_ROOT} ABSOLUTE)

  add_executable(failover_bench ${CMAKE_CURRENT_LIST_DIR}/failover_bench.cc)
  target_compile_features(failover_bench PRIVATE cxx_std_17)
  # ScratchServers (and the RequireEnv() it uses) are compiled into the
  # integration tests, not into dbpool_test_support: take them here unless
  # the library has them.
  get_target_property(DBPOOL_FAILOVER_BENCH_SUPPORT_SOURCES dbpool_test_support SOURCES)
  foreach(source scratch_servers.cc test_servers.cc)
    if(NOT DBPOOL_FAILOVER_BENCH_SUPPORT_SOURCES MATCHES "${source}")
      target_sources(failover_bench PRIVATE
        ${DBPOOL_FAILOVER_BENCH_ROOT}/tests/support/${source})
    endif()
  endforeach()
  target_link_libraries(failover_bench PRIVATE dbpool::postgres dbpool_test_support
    absl::str_format absl::strings absl::status absl::statusor absl::time
    absl::synchronization Threads::Threads)
  if(TARGET dbpool_warnings)
    target_link_libraries(failover_bench PRIVATE dbpool_warnings)
  endif()
  # Where scripts/servers.sh is, for runs without DBPOOL_TEST_SERVERS_CTL set.
  target_compile_definitions(failover_bench PRIVATE
    DBPOOL_SOURCE_DIR="${DBPOOL_FAILOVER_BENCH_ROOT}")

  # A smoke run (one short kill-and-promote run, dbpool only) so the program
  # cannot rot; it fails only when the program errors, never on timings. It
  # starts servers of its own, so it runs alone.
  if(DBPOOL_BUILD_TESTS)
    # Test names with a space need CMP0110 NEW in the including directory
    # (benchmarks/CMakeLists.txt sets it; a policy set in here would not last
    # until the test files are generated). Without it, no space.
    set(DBPOOL_FAILOVER_BENCH_TEST "bench-smoke:failover")
    if(POLICY CMP0110)
      cmake_policy(GET CMP0110 DBPOOL_FAILOVER_BENCH_CMP0110)
      if(DBPOOL_FAILOVER_BENCH_CMP0110 STREQUAL "NEW")
        set(DBPOOL_FAILOVER_BENCH_TEST "bench-smoke: failover")
      endif()
    endif()
    add_test(NAME "${DBPOOL_FAILOVER_BENCH_TEST}" COMMAND failover_bench --smoke)
    set_tests_properties("${DBPOOL_FAILOVER_BENCH_TEST}" PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
  endif()
endif()
