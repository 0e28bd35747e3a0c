/* convert.c - trunc-dist convert IN OUT.h5 [--labels FILE]
 * [--label-column K] [--force]: other formats to the input contract.
 *
 * Rank 0 converts (io/convert.c, serial and streamed); the other ranks
 * wait without spinning, and every rank leaves with the agreed code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_convert.h"
#include "td_stop.h"

static const char *usage =
    "usage: trunc-dist convert IN OUT.h5 [--labels FILE] [--label-column K]\n"
    "                          [--force]\n"
    "IN by its extension (each also with .gz, except .npz):\n"
    "  .csv                 label column K (0-based, negative from the end;\n"
    "                       default the last), header row detected\n"
    "  .npy                 X; labels with --labels (.npy, IDX or text)\n"
    "  .npz                 X/y, x/y, data/labels or arr_0/arr_1\n"
    "  .svm .libsvm .txt    LIBSVM/SVMlight: label idx:val ... (1-based)\n"
    "  .idx* -idx*-ubyte    IDX images, labels with --labels (idx1)\n"
    "OUT gets X (N, M) float32 or float64 and y (N,) int64, written to a\n"
    "temporary and renamed; an existing OUT only with --force.\n";

static int parse(int argc, char **argv, td_convert_opts *o, td_err *err)
{
    memset(o, 0, sizeof *o);
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--force")) {
            o->force = 1;
        } else if (!strcmp(a, "--labels") || !strcmp(a, "--label-column")) {
            if (i + 1 >= argc)
                return td_err_set(err, TD_ERR_INPUT, "convert: %s needs a "
                                  "value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--labels")) {
                o->labels = v;
            } else {
                char *end;
                errno = 0;
                o->label_column = strtol(v, &end, 10);
                if (end == v || *end || errno)
                    return td_err_set(err, TD_ERR_INPUT, "convert: "
                                      "--label-column needs an integer, got "
                                      "'%s'", v);
                o->has_label_column = 1;
            }
        } else if (a[0] == '-' && a[1]) {
            return td_err_set(err, TD_ERR_INPUT, "convert: unknown option "
                              "'%s'", a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return td_err_set(err, TD_ERR_INPUT, "convert: one input and one "
                              "output, got a third '%s'", a);
        }
    }
    if (npos < 2)
        return td_err_set(err, TD_ERR_INPUT, "convert: usage: trunc-dist "
                          "convert IN OUT.h5 [--labels FILE] [--label-column "
                          "K] [--force]");
    o->in = pos[0];
    o->out = pos[1];
    return TD_OK;
}

int td_convert_main(int argc, char **argv)
{
    td_err err;
    td_err_clear(&err);
    td_convert_opts o;
    if (argc == 2 && !strcmp(argv[1], "--help")) {
        td_say("%s", usage);
        return TD_OK;
    }
    td_stop_install();
    parse(argc, argv, &o, &err);    /* the same argv on every rank */
    td_convert_stats st = {0};
    if (!err.code && td_comm_rank() == 0)
        td_convert(&o, &st, &err);
    td_comm_wait_all(NULL, NULL);   /* others wait here, off the cores */
    int rc = td_comm_agree(&err);
    if (rc && td_comm_rank() == 0) {
        fprintf(stderr, "trunc-dist: error: %s\n", err.msg);
        fflush(stderr);
    }
    if (!rc) {
        char cls[64];
        if (st.classes >= 0)
            snprintf(cls, sizeof cls, "%lld class%s", (long long)st.classes,
                     st.classes == 1 ? "" : "es");
        else
            snprintf(cls, sizeof cls, "more than 32768 classes");
        td_say("converted %s (%s): %lld rows x %lld features, X %s, y int64 "
               "(%s, labels %lld..%lld) -> %s in %.2f s (%.3g rows/s)\n",
               o.in, st.format, (long long)st.n, (long long)st.m,
               st.x_f32 ? "float32" : "float64", cls,
               (long long)st.label_min, (long long)st.label_max, o.out,
               st.seconds, st.seconds > 0 ? st.n / st.seconds : 0.0);
    }
    return rc;
}
