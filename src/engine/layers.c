/* layers.c - layer passes: admissible lambda, apply, undo. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_engine.h"


/* Row i as the cone's input: the data row itself, or in a lifted
 * construction (cone width n > M) the row followed by n - M zeros, the
 * embedding x -> (x, 0).  buf needs n doubles. */
static const double *cone_row(const td_engine *e, int64_t i, int n,
                              double *buf)
{
    if (n == e->m)
        return td_engine_row(e, i, buf);
    const double *x = td_engine_row(e, i, buf);
    if (x != buf)
        memcpy(buf, x, sizeof(double) * e->m);
    memset(buf + e->m, 0, sizeof(double) * (size_t)(n - e->m));
    return buf;
}

/* Which cone a row of class cls must end in: the other classes are kept;
 * class a is collapsed, or with TD_PASS_PIECE only its rows below the
 * hyperplane are (the piece) and the rest of the class is kept. */
static int row_side(const td_cone *cone, const double *x, int cls, int a,
                    int flags)
{
    if (cls != a)
        return 1;
    if (!(flags & TD_PASS_PIECE))
        return -1;
    double s = 0;
    for (int k = 0; k < cone->n; k++)
        s += cone->h[k] * (x[k] - cone->p[k]);
    return s < 0 ? -1 : 1;
}

/* Fold one point's constraints into (lmax, cmin); a soft layer ignores
 * points on the wrong side of its hyperplane (they cannot be honoured). */
static void lambda_point(const td_cone *cone, const double *x, int side,
                         int soft, double *work, double *lmax, double *cmin)
{
    double cs, lb = td_cone_lambda_cos(cone, x, side, work, &cs);
    if (soft && lb == 0)
        return;
    *lmax = lb < *lmax ? lb : *lmax;
    *cmin = cs < *cmin ? cs : *cmin;
}

int td_engine_lambda_pass(td_engine *e, int ncone, const td_cone *cones,
                           int a, const double *P, int np, int flags,
                           double *lambda_max, double *cos_min)
{
    int n = ncone ? cones[0].n : e->m, bad = 0, soft = flags & TD_PASS_SOFT;
    double *v = malloc(sizeof(double) * 2 * (ncone ? ncone : 1));
    for (int c = 0; v && c < 2 * ncone; c++)
        v[c] = 1.0;                      /* lmax of cone c, then cmin */
    #pragma omp parallel
    {
        double *work = malloc(sizeof(double) * 2 * n);
        double *t = malloc(sizeof(double) * 2 * (ncone ? ncone : 1));
        int ok = work && t && v;
        for (int c = 0; ok && c < 2 * ncone; c++)
            t[c] = 1.0;
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (!ok || e->layer[i] >= 0)
                continue;
            const double *x = cone_row(e, i, n, work + n);
            for (int c = 0; c < ncone; c++)
                lambda_point(&cones[c], x,
                             row_side(&cones[c], x, e->cls[i], a, flags),
                             soft, work, &t[c], &t[ncone + c]);
        }
        if (ok && td_comm_rank() == 0 && omp_get_thread_num() == 0)
            for (int j = 0; j < np; j++)
                for (int c = 0; c < ncone; c++)
                    lambda_point(&cones[c], P + (size_t)j * n, 1, soft, work,
                                 &t[c], &t[ncone + c]);
        #pragma omp critical
        {
            bad |= !ok;
            for (int c = 0; ok && c < 2 * ncone; c++)
                v[c] = fmin(v[c], t[c]);
        }
        free(work);
        free(t);
    }
    td_comm_any(&bad);
    if (bad) {
        free(v);
        return -1;
    }
    td_comm_min(v, 2 * ncone);
    memcpy(lambda_max, v, sizeof(double) * ncone);
    memcpy(cos_min, v + ncone, sizeof(double) * ncone);
    free(v);
    return 0;
}

static void count_point(int code, int expect, double margin,
                        td_apply_stats *st)
{
    if (code == expect && expect == 1) {
        st->n_kept++;
        st->margin_kept = fmin(st->margin_kept, margin);
    } else if (code == expect) {
        st->n_collapsed++;
        st->margin_collapsed = fmin(st->margin_collapsed, margin);
    } else if (code == 0) {
        st->n_mixed++;
    } else {
        st->n_wrong++;
    }
}

/* Best-effort layers move points, so they work on a double copy of the
 * originals (widened from float32 input): made once, at the first such
 * layer; td_engine_row reads it from then on.  Collective. */
static int private_points(td_engine *e)
{
    if (e->x && e->x != e->x0)
        return 0;                           /* already made */
    size_t len = (size_t)e->n_local * e->m;
    double *copy = malloc(sizeof(double) * (len > 0 ? len : 1));
    int bad = copy == NULL;
    td_comm_any(&bad);                      /* every rank returns, or none */
    if (bad) {
        free(copy);
        return -1;
    }
    if (e->x0)
        memcpy(copy, e->x0, sizeof(double) * len);
    else
        for (size_t j = 0; j < len; j++)
            copy[j] = e->x0f[j];
    e->x = copy;
    return 0;
}

/* Classify active row i (moving it when best_effort) and count it. */
static void apply_row(td_engine *e, const td_cone *cone, int a, int l,
                      int flags, int64_t i, double *work, td_apply_stats *t)
{
    double margin;
    int best_effort = flags & TD_PASS_SOFT;
    const double *xi = cone_row(e, i, cone->n, work + 2 * cone->n);
    int expect = row_side(cone, xi, e->cls[i], a, flags);
    int code = td_cone_classify(cone, xi, &margin, work);
    if (code == 0 && best_effort)   /* the network moves it (e->x is set) */
        td_cone_truncate(cone, xi, e->x + i * e->m, work);
    count_point(code, expect, margin, t);
    if (code == -1 && (expect == -1 || best_effort))
        e->layer[i] = l;
}

int td_engine_apply(td_engine *e, const td_cone *cone, int a, int l,
                    const double *P, int np, int flags, td_apply_stats *st)
{
    int n = cone->n, fail = 0;
    if ((flags & TD_PASS_SOFT) && private_points(e))
        return -1;
    int64_t nk = 0, nc = 0, nm = 0, nw = 0;
    double mk = INFINITY, mc = INFINITY;
    #pragma omp parallel reduction(+ : nk, nc, nm, nw) reduction(min : mk, mc)
    {
        double *work = malloc(sizeof(double) * 3 * n);   /* 2n + a row */
        td_apply_stats t = {0, 0, 0, 0, INFINITY, INFINITY};
        if (!work) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++)
            if (work && e->layer[i] < 0)
                apply_row(e, cone, a, l, flags, i, work, &t);
        if (work && td_comm_rank() == 0 && omp_get_thread_num() == 0)
            for (int j = 0; j < np; j++) {
                double margin;
                int code = td_cone_classify(cone, P + (size_t)j * n, &margin, work);
                if (code == 1)              /* base points are not data */
                    t.margin_kept = fmin(t.margin_kept, margin);
                else
                    t.n_wrong++;
            }
        nk += t.n_kept; nc += t.n_collapsed; nm += t.n_mixed; nw += t.n_wrong;
        mk = fmin(mk, t.margin_kept);
        mc = fmin(mc, t.margin_collapsed);
        free(work);
    }
    td_comm_any(&fail);         /* the run stops; no rank may reduce alone */
    if (fail)
        return -1;
    int64_t cnt[4] = {nk, nc, nm, nw};
    double mg[2] = {mk, mc};
    td_comm_sum_i64(cnt, 4);
    td_comm_min(mg, 2);
    *st = (td_apply_stats){cnt[0], cnt[1], cnt[2], cnt[3], mg[0], mg[1]};
    return 0;
}

void td_engine_undo(td_engine *e, int l)
{
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < e->n_local; i++)
        if (e->layer[i] == l)
            e->layer[i] = -1;
}


void td_engine_undo_all(td_engine *e)
{
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < e->n_local; i++)
        e->layer[i] = -1;
}
