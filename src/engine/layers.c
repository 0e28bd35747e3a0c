/* layers.c - layer passes: admissible lambda, apply, undo. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_engine.h"


/* Fold one point's constraints into (lmax, cmin); a soft layer ignores
 * points on the wrong side of its hyperplane (they cannot be honoured). */
static void lambda_point(const td_cone *cone, const double *x, int side,
                         int soft, double *work, double *lmax, double *cmin)
{
    double lb = td_cone_lambda_bound(cone, x, side, work);
    if (soft && lb == 0)
        return;
    *lmax = fmin(*lmax, lb);
    *cmin = fmin(*cmin, td_cone_cos_angle(cone, x, side));
}

void td_engine_lambda_pass(td_engine *e, const td_cone *cone, int a,
                           const double *P, int np, int soft,
                           double *lambda_max, double *cos_min)
{
    double lmax = 1.0, cmin = 1.0;
    int m = e->m, fail = 0;
    #pragma omp parallel reduction(min : lmax, cmin)
    {
        double *work = malloc(sizeof(double) * 2 * m);   /* m + a row */
        if (!work) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (!work || e->layer[i] >= 0)
                continue;
            lambda_point(cone, td_engine_row(e, i, work + m),
                         e->cls[i] == a ? -1 : 1, soft, work, &lmax, &cmin);
        }
        if (work && td_comm_rank() == 0 && omp_get_thread_num() == 0)
            for (int j = 0; j < np; j++)
                lambda_point(cone, P + (size_t)j * m, 1, soft, work, &lmax,
                             &cmin);
        free(work);
    }
    td_comm_any(&fail);
    if (fail) {                 /* as for a bad cone: nothing is admissible */
        *lambda_max = 0;
        *cos_min = -1;
        return;
    }
    double v[2] = {lmax, cmin};
    td_comm_min(v, 2);
    *lambda_max = v[0];
    *cos_min = v[1];
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
                      int best_effort, int64_t i, double *work,
                      td_apply_stats *t)
{
    double margin;
    const double *xi = td_engine_row(e, i, work + 2 * e->m);
    int expect = e->cls[i] == a ? -1 : 1;
    int code = td_cone_classify(cone, xi, &margin, work);
    if (code == 0 && best_effort)   /* the network moves it (e->x is set) */
        td_cone_truncate(cone, xi, e->x + i * e->m, work);
    count_point(code, expect, margin, t);
    if (code == -1 && (expect == -1 || best_effort))
        e->layer[i] = l;
}

int td_engine_apply(td_engine *e, const td_cone *cone, int a, int l,
                    const double *P, int np, int best_effort,
                    td_apply_stats *st)
{
    int m = e->m, fail = 0;
    if (best_effort && private_points(e))
        return -1;
    int64_t nk = 0, nc = 0, nm = 0, nw = 0;
    double mk = INFINITY, mc = INFINITY;
    #pragma omp parallel reduction(+ : nk, nc, nm, nw) reduction(min : mk, mc)
    {
        double *work = malloc(sizeof(double) * 3 * m);   /* 2m + a row */
        td_apply_stats t = {0, 0, 0, 0, INFINITY, INFINITY};
        if (!work) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++)
            if (work && e->layer[i] < 0)
                apply_row(e, cone, a, l, best_effort, i, work, &t);
        if (work && td_comm_rank() == 0 && omp_get_thread_num() == 0)
            for (int j = 0; j < np; j++) {
                double margin;
                int code = td_cone_classify(cone, P + (size_t)j * m, &margin, work);
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

