# The corpus of bad inputs (tests/bad/gen_cases.py, run_corpus.py).  Included from
# tests/CMakeLists.txt (TD_TEST_ENV, TD_PYTHON, MPIEXEC_*).
set(TD_BAD ${CMAKE_CURRENT_SOURCE_DIR}/bad)

# A full disk for the writer's temporary file, by LD_PRELOAD (enospc.c).
add_library(td_enospc MODULE bad/enospc.c)
target_link_libraries(td_enospc PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(td_enospc PROPERTIES PREFIX "" OUTPUT_NAME enospc)

# One test per group of cases, each case at 1 and 3 ranks (block_rows = 4,
# so 3 ranks really share the rows): the exit code on every rank, one
# error line naming the file, dataset, key or line, no more than 60 s, and
# the case's directory unchanged.  About 10 s (write) to 60 s (range) on
# 2 idle cores.
foreach(group files data config range output paths write fuzz)
  add_test(NAME bad_${group}
           COMMAND ${TD_PYTHON} ${TD_BAD}/run_corpus.py
                   --bin $<TARGET_FILE:trunc-dist>
                   --mpiexec ${MPIEXEC_EXECUTABLE}
                   --work ${CMAKE_CURRENT_BINARY_DIR}/bad/${group}
                   --group ${group}
                   --preload enospc=$<TARGET_FILE:td_enospc>)
  set_tests_properties(bad_${group} PROPERTIES ENVIRONMENT "${TD_TEST_ENV}"
                       LABELS bad TIMEOUT 300)
endforeach()
