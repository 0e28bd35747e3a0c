# The corpus of bad inputs (tests/bad/gen_cases.py, run_corpus.py) and the
# replay of the fuzz harnesses' saved inputs.  Included from
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
foreach(group files data config range output paths write targets fuzz)
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

# The fuzz harnesses (tests/bad/fuzz/fuzz_*.c) over the saved seeds and
# findings, once each, without libFuzzer: a finding that comes back fails.
# The config harness is built from the parser's sources with gcc's address
# and undefined-behaviour sanitizers and with assertions on, as toml++'s
# undefined behaviour and its false assertion were found that way.
set(TD_FUZZ ${TD_BAD}/fuzz)
add_executable(fuzz_replay_config ${TD_FUZZ}/replay_main.c
               ${TD_FUZZ}/fuzz_config.c ${PROJECT_SOURCE_DIR}/io/config.c
               ${PROJECT_SOURCE_DIR}/io/toml_shim.cpp
               ${PROJECT_SOURCE_DIR}/src/core/err.c)
target_include_directories(fuzz_replay_config PRIVATE
                           ${PROJECT_SOURCE_DIR}/include ${TOMLPP_INCLUDE_DIRS})
target_compile_options(fuzz_replay_config PRIVATE -UNDEBUG -g
                       -fsanitize=address,undefined -fno-sanitize-recover=all)
target_link_options(fuzz_replay_config PRIVATE -fsanitize=address,undefined)
add_test(NAME fuzz_replay_config
         COMMAND fuzz_replay_config ${TD_FUZZ}/seeds/config
                 ${TD_FUZZ}/findings/config)

# The input validator through td_h5_probe as trunc-dist calls it (in a
# child process, which turns HDF5's own crashes into input errors).
add_executable(fuzz_replay_h5probe ${TD_FUZZ}/replay_main.c
               ${TD_FUZZ}/fuzz_h5probe.c)
target_link_libraries(fuzz_replay_h5probe PRIVATE td_io td_engine)
add_test(NAME fuzz_replay_h5probe
         COMMAND fuzz_replay_h5probe ${TD_FUZZ}/seeds/h5probe
                 ${TD_FUZZ}/findings/h5probe)
set_tests_properties(fuzz_replay_config fuzz_replay_h5probe PROPERTIES
                     LABELS bad TIMEOUT 120
                     ENVIRONMENT "TD_FUZZ_DIR=${CMAKE_CURRENT_BINARY_DIR};ASAN_OPTIONS=detect_leaks=1")
