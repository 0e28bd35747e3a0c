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

/* One row's scores against every candidate (HT: m x K, transposed):
 * without r0, the minima over the other classes' rows; with r0, count and
 * max of the candidate's own class below r0. */
static void cut_row(int K, const int *cls, const double *HT, int m,
                    const double *x, int c, const double *r0, double *s,
                    double *tmin, int64_t *tcnt, double *tmax)
{
    td_dots_t(x, HT, m, K, s);
    for (int k = 0; k < K; k++) {
        if (!r0 && cls[k] != c)
            tmin[k] = s[k] < tmin[k] ? s[k] : tmin[k];
        else if (r0 && cls[k] == c && s[k] < r0[k]) {
            tcnt[k]++;
            tmax[k] = s[k] > tmax[k] ? s[k] : tmax[k];
        }
    }
}

/* One pass over the active rows; see cut_row.  -1 on every rank when a
 * thread ran out of memory anywhere. */
static int cut_pass(td_engine *e, int K, const int *cls, const double *HT,
                    const double *r0, double *vmin, int64_t *cnt,
                    double *vmax)
{
    int m = e->m, fail = 0;
    for (int k = 0; k < K; k++) {
        vmin[k] = INFINITY;
        cnt[k] = 0;
        vmax[k] = -INFINITY;
    }
    #pragma omp parallel
    {
        double *buf = malloc(sizeof(double) * (m + 3 * (size_t)K));
        int64_t *tcnt = calloc((size_t)K, sizeof(int64_t));
        int ok = buf && tcnt;
        double *tmin = ok ? buf + m : NULL, *tmax = ok ? buf + m + K : NULL;
        double *s = ok ? buf + m + 2 * K : NULL;
        for (int k = 0; ok && k < K; k++) {
            tmin[k] = INFINITY;
            tmax[k] = -INFINITY;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++)
            if (ok && e->layer[i] < 0)
                cut_row(K, cls, HT, m, td_engine_row(e, i, buf), e->cls[i],
                        r0, s, tmin, tcnt, tmax);
        #pragma omp critical
        {
            fail |= !ok;
            for (int k = 0; ok && k < K; k++) {
                vmin[k] = fmin(vmin[k], tmin[k]);
                vmax[k] = fmax(vmax[k], tmax[k]);
                cnt[k] += tcnt[k];
            }
        }
        free(buf);
        free(tcnt);
    }
    td_comm_any(&fail);
    return fail ? -1 : 0;
}

int td_engine_cut(td_engine *e, int K, const int *cls, const double *H,
                  double *r0, int64_t *nbelow, double *smax)
{
    int m = e->m;
    double *junk = malloc(sizeof(double) * (K > 0 ? K : 1));
    int64_t *junk_n = malloc(sizeof(int64_t) * (K > 0 ? K : 1));
    double *HT = malloc(sizeof(double) * (size_t)m * (K > 0 ? K : 1));
    int bad = !junk || !junk_n || !HT;
    td_comm_any(&bad);
    for (int k = 0; !bad && k < K; k++)
        for (int j = 0; j < m; j++)
            HT[(size_t)j * K + k] = H[(size_t)k * m + j];
    if (bad || cut_pass(e, K, cls, HT, NULL, r0, junk_n, junk)) {
        free(junk);
        free(junk_n);
        free(HT);
        return -1;
    }
    td_comm_min(r0, K);
    int rc = cut_pass(e, K, cls, HT, r0, junk, nbelow, smax);
    if (rc == 0) {
        td_comm_sum_i64(nbelow, K);
        td_comm_max(smax, K);
    }
    free(junk);
    free(junk_n);
    free(HT);
    return rc;
}

int64_t td_engine_park(td_engine *e, int a, const double *h, double r0)
{
    int64_t n = 0;
    #pragma omp parallel reduction(+ : n)
    {
        double *buf = malloc(sizeof(double) * e->m);
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (e->layer[i] >= 0 || e->cls[i] != a)
                continue;
            /* no scratch: park the row, the piece only shrinks */
            if (!buf || !(td_dot(h, td_engine_row(e, i, buf), e->m) < r0)) {
                e->layer[i] = TD_PARKED;
                n++;
            }
        }
        free(buf);
    }
    td_comm_sum_i64(&n, 1);
    return n;
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
