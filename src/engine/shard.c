/* shard.c - one rank's rows: ownership, the global label set. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_engine.h"

#define TD_MAX_CLASSES 100000


static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t unique_sorted(int64_t *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (k == 0 || v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

/* The sorted set of labels over all ranks, known to every rank.  Every
 * rank allocates first and all agree before each collective, so an
 * allocation that fails on one rank stops them all here, together. */
static int global_labels(const int64_t *y, int64_t n, int64_t **labels,
                         int *q, td_err *err)
{
    int64_t *loc = malloc(sizeof(int64_t) * (n > 0 ? n : 1));
    int bad = !loc;
    td_comm_any(&bad);
    if (bad) {
        free(loc);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory reading labels");
    }
    memcpy(loc, y, sizeof(int64_t) * n);
    int64_t nu = unique_sorted(loc, n);
    void *all = NULL;
    int64_t bytes = 0;
    bad = td_comm_gather(loc, nu * (int64_t)sizeof(int64_t), &all, &bytes);
    free(loc);
    if (bad)                    /* -1 on every rank */
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory gathering "
                          "labels");
    int64_t nq = 0;
    if (td_comm_rank() == 0)
        nq = unique_sorted(all, bytes / (int64_t)sizeof(int64_t));
    td_comm_bcast(&nq, sizeof nq);
    if (nq > TD_MAX_CLASSES) {
        free(all);
        return td_err_set(err, TD_ERR_INPUT, "%lld distinct labels: more than "
                          "%d classes (is y really a class label?)",
                          (long long)nq, TD_MAX_CLASSES);
    }
    *labels = malloc(sizeof(int64_t) * (nq > 0 ? nq : 1));
    bad = !*labels;
    td_comm_any(&bad);
    if (bad) {
        free(all);
        free(*labels);
        *labels = NULL;
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (labels)");
    }
    if (td_comm_rank() == 0)
        memcpy(*labels, all, sizeof(int64_t) * nq);
    free(all);
    td_comm_bcast(*labels, sizeof(int64_t) * nq);
    *q = (int)nq;
    return TD_OK;
}

int td_engine_init(td_engine *e, td_shard_data *d, int block_rows,
                   int64_t **labels, int *q, td_err *err)
{
    *e = (td_engine){0};
    e->m = d->m;
    e->n_total = d->n_total;
    e->row0 = d->row0;
    e->n_local = d->n_local;
    e->block_rows = block_rows;
    e->nblocks = (d->n_local + block_rows - 1) / block_rows;
    int rc = global_labels(d->y, d->n_local, labels, q, err);
    if (rc)
        return rc;
    e->q = *q;
    size_t n = (size_t)(d->n_local > 0 ? d->n_local : 1);
    e->cls = malloc(sizeof(int) * n);
    e->layer = malloc(sizeof(int) * n);
    if (!e->cls || !e->layer)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (shard state)");
    for (int64_t i = 0; i < d->n_local; i++) {
        int64_t *hit = bsearch(&d->y[i], *labels, (size_t)*q, sizeof(int64_t),
                               cmp_i64);
        e->cls[i] = (int)(hit - *labels);
        e->layer[i] = -1;
    }
    /* the engine owns the points from here, in the precision they came */
    e->x0 = e->x = d->x;
    e->x0f = d->xf;
    d->x = NULL;
    d->xf = NULL;
    return TD_OK;
}

void td_engine_free(td_engine *e)
{
    if (e->x != e->x0)          /* a best-effort copy */
        free(e->x);
    free(e->x0);
    free(e->x0f);
    free(e->cls);
    free(e->layer);
    *e = (td_engine){0};
}


/* 2^-200 .. 2^200: squares, Gram matrices and cond-weighted sums of such
 * points stay far inside double range; beyond it they overflow or drown
 * in underflow (1e155 or 1e-200 data).  float32 data always lie inside. */
#define TD_SCALE_EXP 200

double td_engine_normalize(td_engine *e)
{
    /* 0 (no scale) when the largest |x| is below the normal range */
    double amax = 0;
    int64_t n = e->n_local * e->m;
    if (e->x0)
        for (int64_t i = 0; i < n; i++)
            amax = fmax(amax, fabs(e->x0[i]));
    td_comm_max(&amax, 1);
    int ex;
    frexp(amax, &ex);               /* amax = f 2^ex, f in [0.5, 1) */
    if (amax == 0 || !e->x0 || (ex > -TD_SCALE_EXP && ex < TD_SCALE_EXP))
        return 1.0;
    if (amax < DBL_MIN)
        return 0.0;
    double s = ldexp(1.0, -ex);     /* exact: the largest |x| in [0.5, 1) */
    td_engine_scale(e, s);
    return s;
}

int td_engine_scale(td_engine *e, double s)
{
    int64_t n = e->n_local * e->m;
    if (!e->x0) {               /* float32 storage becomes double */
        double *x = malloc(sizeof(double) * (size_t)(n ? n : 1));
        if (!x)
            return -1;
        for (int64_t i = 0; i < n; i++)
            x[i] = e->x0f[i];
        free(e->x0f);
        e->x0f = NULL;
        e->x0 = e->x = x;
    }
    for (int64_t i = 0; i < n; i++)
        e->x[i] *= s;
    return 0;
}
