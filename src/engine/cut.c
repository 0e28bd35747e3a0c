/* cut.c - the passes of the piecewise construction: where a direction
 * cuts a pure piece off a class, setting rows aside for one solve, and
 * the data's radius. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_engine.h"
#include "td_linalg.h"

/* Per-thread accumulators of the two passes, per candidate and sign
 * (index sk = sign * K + k): pass 1 the minimum of sigma <h, x> over the
 * other classes' rows; pass 2, per ladder step, the piece's count and
 * largest value and the smallest value of the class's rows between the
 * step's threshold and r0. */
typedef struct {
    double *mn, *lo, *hi, *s;
    int64_t *cnt;
} cut_acc;

static void cut_row(int K, int J, const int *cls, const double *HT, int m,
                    const double *x, int c, const double *r0,
                    const double *off, cut_acc *t)
{
    td_dots_t(x, HT, m, K, t->s);
    for (int k = 0; k < K; k++)
        for (int sg = 0; sg < 2; sg++) {
            int sk = sg * K + k;
            double v = sg ? -t->s[k] : t->s[k];
            if (!r0) {
                if (cls[k] != c)
                    t->mn[sk] = v < t->mn[sk] ? v : t->mn[sk];
                continue;
            }
            if (cls[k] != c || !(v < r0[sk]))
                continue;
            for (int j = 0; j < J; j++) {
                size_t i = (size_t)sk * J + j;
                if (v < r0[sk] - off[j]) {
                    t->cnt[i]++;
                    t->lo[i] = v > t->lo[i] ? v : t->lo[i];
                } else {
                    t->hi[i] = v < t->hi[i] ? v : t->hi[i];
                }
            }
        }
}

static void acc_init(cut_acc *t, int K, int J)
{
    for (int i = 0; i < 2 * K; i++)
        t->mn[i] = INFINITY;
    for (int i = 0; i < 2 * K * J; i++) {
        t->lo[i] = -INFINITY;
        t->hi[i] = INFINITY;
        t->cnt[i] = 0;
    }
}

/* One pass over the active rows; see cut_row.  -1 on every rank when a
 * thread ran out of memory anywhere. */
static int cut_pass(td_engine *e, int K, int J, const int *cls,
                    const double *HT, const double *r0, const double *off,
                    cut_acc *all)
{
    int m = e->m, fail = 0;
    size_t nk = 2 * (size_t)K, nj = nk * J;
    acc_init(all, K, J);
    #pragma omp parallel
    {
        double *buf = malloc(sizeof(double) * (m + K + nk + 2 * nj));
        int64_t *cnt = malloc(sizeof(int64_t) * nj);
        int ok = buf && cnt;
        cut_acc t = {0};
        if (ok) {
            t = (cut_acc){buf + m + K, buf + m + K + nk,
                          buf + m + K + nk + nj, buf + m, cnt};
            acc_init(&t, K, J);
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++)
            if (ok && e->layer[i] < 0)
                cut_row(K, J, cls, HT, m, td_engine_row(e, i, buf), e->cls[i],
                        r0, off, &t);
        #pragma omp critical
        {
            fail |= !ok;
            for (size_t i = 0; ok && i < nk; i++)
                all->mn[i] = fmin(all->mn[i], t.mn[i]);
            for (size_t i = 0; ok && i < nj; i++) {
                all->lo[i] = fmax(all->lo[i], t.lo[i]);
                all->hi[i] = fmin(all->hi[i], t.hi[i]);
                all->cnt[i] += t.cnt[i];
            }
        }
        free(buf);
        free(cnt);
    }
    td_comm_any(&fail);
    return fail ? -1 : 0;
}

int td_engine_cut(td_engine *e, int K, const int *cls, const double *H,
                  double step, td_cut *out)
{
    int m = e->m, J = TD_CUT_LADDER;
    size_t nk = 2 * (size_t)K, nj = nk * J;
    double *HT = malloc(sizeof(double) * (size_t)m * (K > 0 ? K : 1));
    double *v = malloc(sizeof(double) * (3 * nj + 2 * nk + J + 1));
    int64_t *cnt = malloc(sizeof(int64_t) * (nj + 1));
    int bad = !HT || !v || !cnt;
    td_comm_any(&bad);
    cut_acc acc = bad ? (cut_acc){0}
                      : (cut_acc){v, v + nk, v + nk + nj, NULL, cnt};
    double *r0 = v + nk + 2 * nj, *off = r0 + nk;
    for (int j = 0; !bad && j < J; j++)      /* 0, step, 3 step, 7 step, ... */
        off[j] = (double)((1 << j) - 1) * step;
    for (int k = 0; !bad && k < K; k++)
        for (int j = 0; j < m; j++)
            HT[(size_t)j * K + k] = H[(size_t)k * m + j];
    int rc = bad ? -1 : cut_pass(e, K, J, cls, HT, NULL, off, &acc);
    if (rc == 0) {
        td_comm_min(acc.mn, (int)nk);
        memcpy(r0, acc.mn, sizeof(double) * nk);
        rc = cut_pass(e, K, J, cls, HT, r0, off, &acc);
    }
    if (rc == 0) {
        td_comm_sum_i64(acc.cnt, (int)nj);
        td_comm_max(acc.lo, (int)nj);
        td_comm_min(acc.hi, (int)nj);
        for (size_t sk = 0; sk < nk; sk++)
            for (int j = 0; j < J; j++) {
                size_t i = sk * J + j;
                out[i] = (td_cut){acc.cnt[i], r0[sk] - off[j], acc.lo[i],
                                  fmin(acc.hi[i], r0[sk])};
            }
    }
    free(HT);
    free(v);
    free(cnt);
    return rc;
}

/* Set e->layer to `value` for the active rows of class a on one side of
 * <h, x> = thr (below: < thr, else >= thr); how many, over all ranks.  A
 * thread without row scratch (float32 storage) cannot tell the side: it
 * sets *fail, except when the rows beyond thr are the ones being set, where
 * taking a row too many only shrinks what is left below. */
static int64_t set_side(td_engine *e, int a, const double *h, double thr,
                        int below, int value, int *fail)
{
    int64_t n = 0;
    #pragma omp parallel reduction(+ : n)
    {
        double *buf = e->x ? NULL : malloc(sizeof(double) * e->m);
        int blind = !e->x && !buf;
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (e->layer[i] >= 0 || e->cls[i] != a)
                continue;
            if (blind && below) {
                #pragma omp atomic write
                *fail = 1;
                continue;
            }
            int side = blind ? below
                       : td_dot(h, td_engine_row(e, i, buf), e->m) < thr;
            if (side == below) {
                e->layer[i] = value;
                n++;
            }
        }
        free(buf);
    }
    td_comm_sum_i64(&n, 1);
    return n;
}

int64_t td_engine_park(td_engine *e, int a, const double *h, double thr)
{
    int fail = 0;
    return set_side(e, a, h, thr, 0, TD_PARKED, &fail);
}

void td_engine_unpark(td_engine *e)
{
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < e->n_local; i++)
        if (e->layer[i] == TD_PARKED)
            e->layer[i] = -1;
}

int td_engine_radius(td_engine *e, const double *centre, double *radius)
{
    int m = e->m, fail = 0;
    double r2 = 0;
    #pragma omp parallel reduction(max : r2)
    {
        double *buf = malloc(sizeof(double) * m);
        if (!buf) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (!buf || e->layer[i] >= 0)
                continue;
            const double *x = td_engine_row(e, i, buf);
            double d = 0;
            for (int k = 0; k < m; k++)
                d += (x[k] - centre[k]) * (x[k] - centre[k]);
            r2 = fmax(r2, d);
        }
        free(buf);
    }
    td_comm_any(&fail);
    if (fail)
        return -1;
    td_comm_max(&r2, 1);
    *radius = sqrt(r2);
    return 0;
}

int64_t td_engine_mark(td_engine *e, int a, const double *h, double thr,
                       int l)
{
    int fail = 0;
    int64_t n = set_side(e, a, h, thr, 1, l, &fail);
    td_comm_any(&fail);
    return fail ? -1 : n;
}

int64_t td_engine_first_active(td_engine *e, int a)
{
    int64_t first = INT64_MAX;
    for (int64_t i = 0; i < e->n_local; i++)
        if (e->layer[i] < 0 && e->cls[i] == a) {
            first = e->row0 + i;
            break;
        }
    td_comm_min_i64(&first, 1);
    return first == INT64_MAX ? -1 : first;
}

int64_t td_engine_park_all_but(td_engine *e, int a, int64_t row)
{
    int64_t n = 0;
    #pragma omp parallel for schedule(static) reduction(+ : n)
    for (int64_t i = 0; i < e->n_local; i++)
        if (e->layer[i] < 0 && e->cls[i] == a && e->row0 + i != row) {
            e->layer[i] = TD_PARKED;
            n++;
        }
    td_comm_sum_i64(&n, 1);
    return n;
}
