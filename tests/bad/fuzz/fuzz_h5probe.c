/* fuzz_h5probe.c - libFuzzer harness for the input validator: the input
 * bytes are written to a file and td_h5_probe (io/h5_reader.c) checks it
 * against the contract (datasets "X" and "y").
 *
 * Built with -DTD_FUZZ_IN_PROCESS (scripts/fuzz) it calls
 * td_h5_probe_here, in this process, so that libFuzzer sees the coverage
 * and every crash, the HDF5 library's own included; otherwise it calls
 * td_h5_probe, which probes in a child process and turns a crash of HDF5
 * into an input error (the replay of saved findings, and scripts/fuzz's
 * check that each crash it found is one of those).
 *
 * Beyond crashes, leaks and undefined behaviour, a run fails (abort) when
 * a promise breaks: the code is 0 or 2 (an input error, never internal);
 * a message is one non-empty line naming the file; a file that passes has
 * N >= 1 rows and M >= 1 columns.  The file lives in $TD_FUZZ_DIR (default
 * /tmp), one per process.  scripts/fuzz builds it with clang
 * -fsanitize=fuzzer; replay_main.c runs it over saved inputs in the gcc
 * build (ctest fuzz_replay_h5probe). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_h5.h"

#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            fprintf(stderr, "fuzz_h5probe: broken promise: %s\n", #c);    \
            abort();                                                      \
        }                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[512];
    if (!path[0]) {
        const char *dir = getenv("TD_FUZZ_DIR");
        snprintf(path, sizeof path, "%s/td_fuzz_h5probe_%ld.h5",
                 dir ? dir : "/tmp", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    size_t put = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || put != size) {
        remove(path);
        return 0;
    }
    td_h5_info info;
    td_err err;
    td_err_clear(&err);
#ifdef TD_FUZZ_IN_PROCESS
    int rc = td_h5_probe_here(path, "X", "y", &info, &err);
#else
    int rc = td_h5_probe(path, "X", "y", &info, &err);
#endif
    remove(path);
    CHECK(rc == err.code);
    CHECK(rc == TD_OK || rc == TD_ERR_INPUT);
    size_t len = strnlen(err.msg, sizeof err.msg);
    CHECK(len < sizeof err.msg && !strchr(err.msg, '\n'));
    if (rc == TD_OK)
        CHECK(len == 0 && info.n >= 1 && info.m >= 1);
    else
        CHECK(len > 0 && strstr(err.msg, path) == err.msg);
    return 0;
}
