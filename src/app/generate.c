/* generate.c - trunc-dist generate KIND OUT.h5 --n N --m M --q Q [...]:
 * seeded synthetic data in the input contract, written by every rank in
 * parallel (td_generate.h: the constructions; td_h5gen.h: the file). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "td_comm.h"
#include "td_generate.h"
#include "td_h5gen.h"
#include "td_stop.h"
#include "td_paths.h"

static const char *usage =
    "usage: mpirun -np P trunc-dist generate KIND OUT.h5 --n N --m M --q Q\n"
    "           [--seed S] [--dtype float32|float64] [--labels-offset K]\n"
    "           [--labels-step D] [--force] [--sep Z] [--violate F]\n"
    "KIND:\n"
    "  blobs        Gaussian blobs, each class --sep standard deviations\n"
    "               (default 10) from a hyperplane cutting it off: SLS\n"
    "  sls_not_ovr  Q >= 3 clusters on a line, odd inner classes made of\n"
    "               midpoints of their neighbours: sequentially separable,\n"
    "               not one-vs-rest (M >= 2)\n"
    "  clustered    balls around the class means meeting Proposition 3's\n"
    "               (18) and (20) with delta half the critical radius;\n"
    "               --violate F: delta (1 + F) times it, the binding\n"
    "               condition fails by the fraction F\n"
    "  overlap      Gaussian blobs with centres --sep (default 1) standard\n"
    "               deviations apart, paired through the centroid: not SLS\n"
    "  random       uniform in a cube, random labels: not SLS\n"
    "Row i depends only on the seed (default 0) and i: the same bytes at any\n"
    "rank and thread count.  N accepts 2e6.  X (N, M) float64 by default,\n"
    "y (N,) int64, labels K + D k (default 0, 1, ..., Q-1); provenance on\n"
    "the root.  OUT is written to a temporary and renamed; an existing OUT\n"
    "only with --force.\n";

/* An integer option: decimal, or a float notation of an exact integer
 * ("2e6"); 0 on success. */
static int parse_int(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno) {
        errno = 0;
        double d = strtod(v, &end);
        if (end == v || *end || errno || !(d >= -9.2e18 && d <= 9.2e18) ||
            d != floor(d))
            return -1;
        x = (long long)d;
    }
    if (x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

typedef struct {
    td_gen g;
    const char *out;
    int f32, force;
    char *command;
} gen_args;

static int bad(td_err *err, const char *opt, const char *v, const char *what)
{
    return td_err_set(err, TD_ERR_INPUT, "generate: %s needs %s, got '%s'",
                      opt, what, v);
}

static int parse(int argc, char **argv, gen_args *a, td_err *err)
{
    const char *pos[2] = {NULL, NULL};
    int npos = 0, has_n = 0, has_m = 0, has_q = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        long long v;
        if (!strcmp(o, "--force")) {
            a->force = 1;
            continue;
        }
        if (o[0] != '-' || !o[1]) {
            if (npos == 2)
                return td_err_set(err, TD_ERR_INPUT, "generate: one kind and "
                                  "one output, got a third '%s'", o);
            pos[npos++] = o;
            continue;
        }
        static const char *valued[] = {"--n", "--m", "--q", "--seed",
                                       "--dtype", "--labels-offset",
                                       "--labels-step", "--sep", "--violate"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++)
            known |= !strcmp(o, valued[k]);
        if (!known)
            return td_err_set(err, TD_ERR_INPUT, "generate: unknown option "
                              "'%s'", o);
        if (i + 1 >= argc)
            return td_err_set(err, TD_ERR_INPUT, "generate: %s needs a value",
                              o);
        const char *val = argv[++i];
        if (!strcmp(o, "--n")) {
            if (parse_int(val, 1, LLONG_MAX / 2, &v))
                return bad(err, o, val, "a number of rows >= 1");
            a->g.n = v;
            has_n = 1;
        } else if (!strcmp(o, "--m")) {
            if (parse_int(val, 1, TD_GEN_MAX_M, &v))
                return bad(err, o, val, "a number of features in [1, 1048576]");
            a->g.m = (int)v;
            has_m = 1;
        } else if (!strcmp(o, "--q")) {
            if (parse_int(val, 2, TD_GEN_MAX_Q, &v))
                return bad(err, o, val, "a number of classes in [2, 16777216]");
            a->g.q = (int)v;
            has_q = 1;
        } else if (!strcmp(o, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(val, &end, 10);
            if (end == val || *end || errno || val[0] == '-')
                return bad(err, o, val, "an integer in [0, 2^64 - 1]");
            a->g.seed = s;
        } else if (!strcmp(o, "--dtype")) {
            if (strcmp(val, "float32") && strcmp(val, "float64"))
                return bad(err, o, val, "float32 or float64");
            a->f32 = !strcmp(val, "float32");
        } else if (!strcmp(o, "--labels-offset")) {
            if (parse_int(val, LLONG_MIN, LLONG_MAX, &v))
                return bad(err, o, val, "an int64");
            a->g.label_offset = v;
        } else if (!strcmp(o, "--labels-step")) {
            if (parse_int(val, LLONG_MIN, LLONG_MAX, &v) || v == 0)
                return bad(err, o, val, "a non-zero int64");
            a->g.label_step = v;
        } else if (!strcmp(o, "--sep")) {
            if (parse_double(val, &a->g.sep) || !(a->g.sep > 0))
                return bad(err, o, val, "a number > 0");
            a->g.has_sep = 1;
        } else {
            if (parse_double(val, &a->g.violate) || !(a->g.violate > 0) ||
                a->g.violate > 10)
                return bad(err, o, val, "a fraction in (0, 10]");
            a->g.has_violate = 1;
        }
    }
    if (npos < 2)
        return td_err_set(err, TD_ERR_INPUT, "generate: usage: trunc-dist "
                          "generate KIND OUT.h5 --n N --m M --q Q [...] "
                          "(trunc-dist generate --help)");
    int kind = td_gen_kind_parse(pos[0]);
    if (kind < 0)
        return td_err_set(err, TD_ERR_INPUT, "generate: unknown kind '%s': "
                          "blobs, sls_not_ovr, clustered, overlap or random",
                          pos[0]);
    if (!has_n || !has_m || !has_q)
        return td_err_set(err, TD_ERR_INPUT, "generate: %s is required",
                          !has_n ? "--n" : !has_m ? "--m" : "--q");
    a->g.kind = (td_gen_kind)kind;
    a->out = pos[1];
    char msg[TD_ERR_MSG_LEN];
    if (td_gen_setup(&a->g, msg, sizeof msg))
        return td_err_set(err, TD_ERR_INPUT, "%s", msg);
    return TD_OK;
}

/* OUT: not a directory, not existing unless --force, in a writable
 * directory (rank 0). */
static int check_out(const gen_args *a, td_err *err)
{
    return td_check_new_file(a->out, a->force, err);
}

/* The provenance: the command that regenerates these bytes, in a
 * canonical form (every value explicit, the output named OUT.h5, no
 * --force), so the same data give the same file wherever it is written. */
static char *command_line(const gen_args *a)
{
    const td_gen *g = &a->g;
    char extra[96] = "";
    if (g->kind == TD_GEN_BLOBS || g->kind == TD_GEN_OVERLAP)
        snprintf(extra, sizeof extra, " --sep %.17g", g->sep);
    if (g->kind == TD_GEN_CLUSTERED && g->has_violate)
        snprintf(extra, sizeof extra, " --violate %.17g", g->violate);
    size_t len = 512;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "trunc-dist generate %s OUT.h5 --n %lld --m %d "
                 "--q %d --seed %llu --dtype %s --labels-offset %lld "
                 "--labels-step %lld%s", td_gen_kind_name(g->kind),
                 (long long)g->n, g->m, g->q, (unsigned long long)g->seed,
                 a->f32 ? "float32" : "float64", (long long)g->label_offset,
                 (long long)g->label_step, extra);
    return s;
}

static void report(const gen_args *a, const td_h5gen_stats *st)
{
    const td_gen *g = &a->g;
    int64_t lo = g->label_offset, hi = lo + g->label_step * (g->q - 1);
    if (hi < lo) {
        int64_t t = lo;
        lo = hi;
        hi = t;
    }
    double s = st->seconds > 0 ? st->seconds : 1e-9;
    td_say("generated %s (%s, %s layout): %lld rows x %d features, %d "
           "classes (labels %lld..%lld), X %s, seed %llu: %.2f s, %.3g "
           "rows/s, %.1f MB/s (rank 0: generating %.2f s, writing %.2f s; "
           "blocks of %lld rows)\n", a->out, td_gen_kind_name(g->kind),
           td_gen_layout_name(g->layout), (long long)g->n, g->m, g->q,
           (long long)lo, (long long)hi, a->f32 ? "float32" : "float64",
           (unsigned long long)g->seed, st->seconds, g->n / s,
           st->bytes / s / 1e6, st->gen_seconds, st->write_seconds,
           (long long)st->block_rows);
    if (g->kind == TD_GEN_CLUSTERED) {
        int other = g->binding == 18 ? 20 : 18;
        double ob = other == 18 ? g->bound18 : g->bound20;
        td_say("clustered: delta = %.6g; Proposition 3: (18) delta < r_min/4 "
               "= %.6g, (20) delta < proj_min/4 = %.6g; ", g->delta,
               g->bound18, g->bound20);
        if (g->has_violate)
            td_say("(%d) fails, delta = %.6g x its bound (--violate %g); "
                   "(%d) %s\n", g->binding, 1 + g->violate, g->violate,
                   other, g->delta < ob ? "holds" : "fails too");
        else
            td_say("both hold, delta = half the smaller bound (%d)\n",
                   g->binding);
    }
}

int td_generate_main(int argc, char **argv)
{
    td_err err;
    td_err_clear(&err);
    if (argc == 2 && !strcmp(argv[1], "--help")) {
        td_say("%s", usage);
        return TD_OK;
    }
    td_stop_install();
    gen_args a;
    memset(&a, 0, sizeof a);
    a.g.label_step = 1;
    parse(argc, argv, &a, &err);        /* the same argv on every rank */
    if (!err.code && td_comm_rank() == 0)
        check_out(&a, &err);
    if (!err.code && !(a.command = command_line(&a)))
        td_err_set(&err, TD_ERR_INTERNAL, "out of memory");
    if (td_comm_agree_print(&err)) {
        td_gen_free(&a.g);
        free(a.command);
        return err.code;
    }
    td_say("generate: %s, %lld rows x %d features, %d classes, seed %llu -> "
           "%s (%d ranks x %d threads)\n", td_gen_kind_name(a.g.kind),
           (long long)a.g.n, a.g.m, a.g.q, (unsigned long long)a.g.seed,
           a.out, td_comm_size(), omp_get_max_threads());
    td_h5gen_opts o = {a.out, a.f32, a.command};
    td_h5gen_stats st;
    td_h5gen_write(&a.g, &o, td_comm_world(), &st, &err);
    if (!td_comm_agree_print(&err))
        report(&a, &st);
    td_gen_free(&a.g);
    free(a.command);
    return err.code;
}
