/* bench_separator.c - time trunc-dist's separator on a two-class HDF5
 * file: `td-bench-separator DATA.h5 [fisher|means]` (the default config).  Prints one line of
 * key=value pairs that scripts/bench_separator parses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_h5.h"
#include "td_search.h"

extern void openblas_set_num_threads(int) __attribute__((weak));

static int bench(const char *path, int fisher)
{
    td_err err;
    td_err_clear(&err);
    td_config cfg;      /* the defaults a user gets */
    if (td_config_parse("[data]\npath = \"x\"\n[output]\npath = \"y\"\n",
                        "<defaults>", &cfg, &err))
        return 1;
    cfg.fisher_warm_start = fisher;
    td_shard_data d = {0};
    td_engine e = {0};
    int64_t *labels = NULL;
    int q = 0;
    double t0 = td_comm_wtime();
    td_h5_read_shard(path, "X", "y", td_comm_world(), cfg.block_rows, &d, &err);
    if (td_comm_agree(&err) == TD_OK)
        td_engine_init(&e, &d, cfg.block_rows, &labels, &q, &err);
    td_shard_data_free(&d);
    if (td_comm_agree(&err)) {
        if (td_comm_rank() == 0)
            fprintf(stderr, "td-bench-separator: %s\n", err.msg);
        td_config_free(&cfg);
        return err.code;
    }
    double t1 = td_comm_wtime(), t_warm = 0;
    td_sep sp = {0};
    td_search_separate_one(&e, &cfg, 0, &sp, &t_warm, &err);
    double t2 = td_comm_wtime();
    td_say("ranks=%d threads=%d n=%lld m=%d warm=%s load_s=%.4f warm_s=%.4f "
           "separate_s=%.4f margin=%.10g status=%d rounds=%d passes=%lld "
           "ws=%d hull_iters=%ld\n", td_comm_size(), omp_get_max_threads(),
           (long long)e.n_total, e.m, fisher ? "fisher" : "means", t1 - t0,
           t_warm, t2 - t1, sp.margin, sp.status, sp.rounds,
           (long long)sp.passes, sp.ws_size, sp.hull_iters);
    td_sep_free(&sp);
    td_config_free(&cfg);
    free(labels);
    td_engine_free(&e);
    return td_comm_agree(&err);
}

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    if (openblas_set_num_threads)
        openblas_set_num_threads(1);
    int rc = 2;
    if (argc >= 2)
        rc = bench(argv[1], argc < 3 || strcmp(argv[2], "means") != 0);
    else
        td_say("usage: td-bench-separator DATA.h5 [fisher|means]\n");
    td_comm_finalize();
    return rc;
}
