/* test_report.c - CUnit suite for what rank 0 tells the user: the
 * per-rank memory model of --dry-run (src/core/memory.c) against the
 * README's measured numbers, and the progress bar and report levels
 * (src/core/progress.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>
#include "td_memory.h"
#include "td_progress.h"
#include "unit_cunit.h"

#define MIB (1024.0 * 1024.0)

/* README, "Memory": N = 1e6, M = 64, Q = 10, float32, 2 ranks, default
 * config, 1 thread: 176 MiB per rank measured (the duplicate check's
 * peak; 161 MiB before it). */
static td_mem_in readme_case(void)
{
    td_mem_in in = {0};
    in.n_rows = 500736;          /* 489 blocks of 1024 on the larger rank */
    in.n_total = 1000000;
    in.m = 64;
    in.q = 10;
    in.value_bytes = 4;
    in.nranks = 2;
    in.threads = 1;
    in.block_rows = 1024;
    in.working_set = 256;
    in.width = 64;
    in.fisher = 1;
    in.dense_network = 1;
    return in;
}

static void test_memory_readme(void)
{
    td_mem_in in = readme_case();
    td_mem_est e;
    td_memory_estimate(&in, &e);
    CU_ASSERT_DOUBLE_EQUAL(e.shard, 500736.0 * (4 * 64 + 8), 0.5);
    CU_ASSERT_DOUBLE_EQUAL(e.duplicates, 48.0 * 500736, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(e.network, 8.0 * 10 * (64 * 64 + 64), 0.5);
    CU_ASSERT(e.best_effort == 0 && e.lifted == 0);
    /* the duplicate check is the peak, as measured: within 5 % of 176 MiB */
    CU_ASSERT(e.peak == e.runtime + e.shard + e.duplicates);
    CU_ASSERT(e.peak > 0.95 * 176 * MIB && e.peak < 1.05 * 176 * MIB);
    /* float64 storage: 4 more bytes per value */
    in.value_bytes = 8;
    td_mem_est f;
    td_memory_estimate(&in, &f);
    CU_ASSERT_DOUBLE_EQUAL(f.shard - e.shard, 4.0 * 64 * 500736, 0.5);
}

/* The clustered construction (BENCHMARKS.md, "Clustered data"): float64,
 * 1e6 x 64, Q = 10, 2 ranks: 318 MiB measured on the larger rank. */
static void test_memory_clustered(void)
{
    td_mem_in in = readme_case();
    td_mem_est e;
    in.n_rows = 500288;
    in.value_bytes = 8;
    in.width = 10;
    in.clustered = 1;
    td_memory_estimate(&in, &e);
    CU_ASSERT(e.working_sets == 0 && e.scatter == 0 && e.lifted == 0);
    CU_ASSERT_DOUBLE_EQUAL(e.projection, 500288.0 * (8 * 10 + 8), 0.5);
    CU_ASSERT(e.peak > 0.95 * 318 * MIB && e.peak < 1.05 * 318 * MIB);
}

static void test_memory_terms(void)
{
    td_mem_in in = readme_case();
    td_mem_est a, b;
    /* best effort keeps a widened copy of the points */
    in.best_effort = 1;
    td_memory_estimate(&in, &a);
    CU_ASSERT_DOUBLE_EQUAL(a.best_effort, 8.0 * 64 * 500736, 0.5);
    /* lifted width: eigenvectors and cut candidates, no dense network */
    in.best_effort = 0;
    in.width = 74;
    in.dense_network = 0;
    td_memory_estimate(&in, &b);
    CU_ASSERT(b.lifted > 0 && b.network == 0);
    /* a working set never holds more points than the data */
    in.n_rows = 100;
    in.n_total = 200;
    td_memory_estimate(&in, &a);
    CU_ASSERT(a.working_sets < b.working_sets);
    /* many classes in high dimension: sets shrink to fit 2 GiB, not < 512 */
    in = readme_case();
    in.m = 784;
    in.q = 1000;
    in.nranks = 1;
    td_memory_estimate(&in, &a);
    double per_point = 8.0 * 784 + 12;
    CU_ASSERT(a.working_sets >= 1000 * 512 * per_point);
    CU_ASSERT(a.working_sets < 1000 * 4096 * per_point);
    /* more threads: more per-thread buffers */
    in = readme_case();
    td_memory_estimate(&in, &a);
    in.threads = 4;
    td_memory_estimate(&in, &b);
    CU_ASSERT(b.verify > 3.9 * a.verify && b.scatter > a.scatter);
}

static void test_progress_format(void)
{
    char buf[256];
    td_progress_format(buf, sizeof buf, 200, "verify", 3, 6, "block 3 of 6",
                       2.4);
    CU_ASSERT_STRING_EQUAL(buf, "  verify [##########----------]  50%  "
                                "block 3 of 6  2 s");
    td_progress_format(buf, sizeof buf, 200, "write", 7, 7, "layer 7 of 7",
                       0);
    CU_ASSERT(strstr(buf, "[####################] 100%") != NULL);
    /* unknown total: no bar */
    td_progress_format(buf, sizeof buf, 200, "build", 5, 0, "layer 5", 1);
    CU_ASSERT_STRING_EQUAL(buf, "  build  layer 5  1 s");
    /* never the terminal's last column */
    td_progress_format(buf, sizeof buf, 30, "verify", 1, 2, "a long story "
                       "about blocks", 1);
    CU_ASSERT_EQUAL(strlen(buf), 29);
}

/* The whole of a temporary stream, NUL-terminated. */
static char *slurp(FILE *f)
{
    long n = ftell(f);
    char *s = calloc((size_t)n + 1, 1);
    rewind(f);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    return s;
}

static void test_progress_bar(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    td_report_init(TD_NORMAL, TD_PROGRESS_BAR, f);
    td_progress_begin("write");
    td_progress_tick(1, 4, "layer %d of %d", 1, 4);  /* drawn at once */
    td_progress_tick(2, 4, "layer %d of %d", 2, 4);  /* only after 0.1 s */
    td_progress_end();
    char *s = slurp(f);
    const char *first = "\r  write  [#####---------------]  25%  "
                        "layer 1 of 4  0 s\033[K";
    size_t n = strlen(s);
    CU_ASSERT(strncmp(s, first, strlen(first)) == 0);
    CU_ASSERT(n >= 4 && strcmp(s + n - 4, "\r\033[K") == 0);   /* erased */
    CU_ASSERT(strchr(s, '\n') == NULL);
    free(s);
    fclose(f);

    /* --quiet: no bar at all */
    f = tmpfile();
    td_report_init(TD_QUIET, TD_PROGRESS_BAR, f);
    td_progress_begin("verify");
    td_progress_tick(1, 2, "block 1 of 2");
    td_progress_end();
    CU_ASSERT_EQUAL(ftell(f), 0);
    fclose(f);
    td_report_init(TD_NORMAL, TD_PROGRESS_LINES, NULL);
    CU_ASSERT_EQUAL(td_report_level(), TD_NORMAL);
    CU_ASSERT_EQUAL(td_report_progress_mode(), TD_PROGRESS_LINES);
}

int main(void)
{
    static const unit_test tests[] = {
        {"memory model: the README's measured case", test_memory_readme},
        {"memory model: the other terms", test_memory_terms},
        {"memory model: the clustered construction", test_memory_clustered},
        {"progress bar text", test_progress_format},
        {"progress bar drawn and erased", test_progress_bar},
    };
    int failed = unit_run("report", NULL, NULL, tests,
                          sizeof tests / sizeof tests[0]);
    return failed;
}
