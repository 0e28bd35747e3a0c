# Allocation fault injection: trunc-dist-faults is trunc-dist built from the
# same sources and libraries with malloc, calloc, realloc and strdup wrapped
# (fault_alloc.c: TD_FAULT_ALLOC=RANK:K fails the K-th allocation of our code
# on one rank).  Test only, never installed.  Linked without PIE so that the
# traced call addresses are stable and addr2line names them.
# The sources and libraries are trunc-dist's own, read from its target.
get_target_property(td_app_sources trunc-dist SOURCES)
get_target_property(td_app_libs trunc-dist LINK_LIBRARIES)
list(TRANSFORM td_app_sources PREPEND ${PROJECT_SOURCE_DIR}/)
add_executable(trunc-dist-faults ${td_app_sources}
               ${CMAKE_CURRENT_SOURCE_DIR}/faults/fault_alloc.c)
target_link_libraries(trunc-dist-faults PRIVATE ${td_app_libs})
target_link_options(trunc-dist-faults PRIVATE -no-pie
                    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup)

# The sweep (fault_sweep.py's header says what it checks): an allocation
# failure on rank 0 and on rank 2 of 3, at one injection point per
# (stage, allocating function) and its last call site, for Theorem 6,
# pieces and polytope data; every rank must stop with the same code
# (1; 5 for the writer) in bounded time, one error line, no output left.
# About 380 short runs, 4 at a time: it keeps both cores busy.
add_test(NAME faults_alloc_sweep
         COMMAND ${TD_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/faults/fault_sweep.py
                 --bin $<TARGET_FILE:trunc-dist-faults>
                 --mpiexec ${MPIEXEC_EXECUTABLE} --python ${TD_PYTHON}
                 --work ${CMAKE_CURRENT_BINARY_DIR}/faults)
set_tests_properties(faults_alloc_sweep PROPERTIES ENVIRONMENT "${TD_TEST_ENV}"
                     LABELS faults TIMEOUT 600 PROCESSORS 2)

# A hull solve that fails in floating point (data scaled by 1e154 or
# 1e-170) stops every rank with exit 1, or a network: never exit 3.
add_test(NAME faults_hull_failure
         COMMAND ${TD_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/faults/hull_failure.py
                 --bin $<TARGET_FILE:trunc-dist> --mpiexec ${MPIEXEC_EXECUTABLE}
                 --work ${CMAKE_CURRENT_BINARY_DIR}/faults_hull)
set_tests_properties(faults_hull_failure PROPERTIES ENVIRONMENT "${TD_TEST_ENV}"
                     LABELS faults TIMEOUT 300)
