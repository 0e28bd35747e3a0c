/* stats.c - exact class statistics and the within-class scatter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <cblas.h>
#include "td_comm.h"
#include "td_engine.h"
#include "td_xsum.h"

#define TD_SCATTER_BLOCKS 64     /* blocks sampled for the Fisher scatter */


/* Global max |x - mu_c(x)| over the active rows (mu = 0 when means is
 * NULL).  *fail: a thread had no row scratch, agreed over all ranks; the
 * result is then meaningless. */
static double absmax(const td_engine *e, const double *means, int *fail)
{
    double amax = 0;
    int m = e->m;
    #pragma omp parallel reduction(max : amax)
    {
        double *buf = malloc(sizeof(double) * m);
        if (!buf) {
            #pragma omp atomic write
            *fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (!buf || e->layer[i] >= 0)
                continue;
            const double *xi = td_engine_row(e, i, buf);
            const double *mu = means ? means + (size_t)e->cls[i] * m : NULL;
            for (int k = 0; k < m; k++)
                amax = fmax(amax, fabs(mu ? xi[k] - mu[k] : xi[k]));
        }
        free(buf);
    }
    td_comm_any(fail);          /* no rank may skip the max alone */
    if (!*fail)
        td_comm_max(&amax, 1);
    return amax;
}

/* Add block b's active rows to their class sums (part) and counts. */
static void block_sums(const td_engine *e, int64_t b, double *buf,
                       double *part, int64_t *tcnt)
{
    int m = e->m;
    int64_t i1 = (b + 1) * e->block_rows;
    for (int64_t i = b * e->block_rows; i < i1 && i < e->n_local; i++) {
        if (e->layer[i] >= 0)
            continue;
        double *pc = part + (size_t)e->cls[i] * m;
        const double *xi = td_engine_row(e, i, buf);
        for (int k = 0; k < m; k++)
            pc[k] += xi[k];
        tcnt[e->cls[i]]++;
    }
}

int td_engine_class_stats(td_engine *e, int64_t *counts, double *means)
{
    int m = e->m, q = e->q;
    size_t len = (size_t)q * m;
    int64_t nb = e->nblocks;
    td_comm_sum_i64(&nb, 1);
    int fail = 0;
    double amax = absmax(e, NULL, &fail);
    if (fail)
        return -1;
    /* bound on any block partial fixes one scale for all ranks */
    int shift = td_xsum_shift(e->block_rows * amax, nb > 0 ? nb : 1);
    td_i128 *acc = calloc(len, sizeof *acc);
    memset(counts, 0, sizeof(int64_t) * q);
    fail = acc == NULL;
    #pragma omp parallel
    {
        td_i128 *tacc = calloc(len, sizeof *tacc);
        double *part = malloc(sizeof(double) * len);
        int64_t *tcnt = calloc((size_t)q, sizeof *tcnt);
        double *buf = malloc(sizeof(double) * m);
        int ok = tacc && part && tcnt && buf;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < e->nblocks; b++) {
            if (!ok)
                continue;
            memset(part, 0, sizeof(double) * len);
            block_sums(e, b, buf, part, tcnt);
            td_xsum_add(tacc, part, len, shift);
        }
        #pragma omp critical
        if (ok && acc) {
            for (size_t j = 0; j < len; j++)
                acc[j] += tacc[j];
            for (int j = 0; j < q; j++)
                counts[j] += tcnt[j];
        }
        free(tacc); free(part); free(tcnt); free(buf);
    }
    td_comm_any(&fail);         /* every rank returns, or none */
    if (fail) {
        free(acc);
        return -1;
    }
    td_comm_sum_i128(acc, (int)len);
    td_comm_sum_i64(counts, q);
    td_xsum_get(acc, len, shift, means);
    for (int j = 0; j < q; j++)
        for (int k = 0; k < m; k++)
            means[(size_t)j * m + k] = counts[j] ?
                means[(size_t)j * m + k] / (double)counts[j] : 0.0;
    free(acc);
    return 0;
}

/* ---- within-class scatter (Fisher warm start) --------------------------- */

/* Scatter of one block's active rows, centred on their class means.
 * buf: block_rows + 1 rows of m doubles (the last is row scratch). */
static void block_scatter(const td_engine *e, const double *means, int64_t b,
                          double *buf, double *part)
{
    int m = e->m, rows = 0;
    int64_t i1 = (b + 1) * e->block_rows;
    double *row = buf + (size_t)e->block_rows * m;
    for (int64_t i = b * e->block_rows; i < i1 && i < e->n_local; i++) {
        if (e->layer[i] >= 0)
            continue;
        const double *xi = td_engine_row(e, i, row);
        const double *mu = means + (size_t)e->cls[i] * m;
        for (int k = 0; k < m; k++)
            buf[(size_t)rows * m + k] = xi[k] - mu[k];
        rows++;
    }
    memset(part, 0, sizeof(double) * m * m);
    if (rows)
        cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, m, rows, 1.0,
                    buf, m, 0.0, part, m);
    for (int j = 0; j < m; j++)          /* mirror the lower triangle */
        for (int i = 0; i < j; i++)
            part[(size_t)j * m + i] = part[(size_t)i * m + j];
}

int td_engine_scatter(td_engine *e, const double *means, double *S)
{
    int m = e->m;
    size_t len = (size_t)m * m;
    int64_t nb = e->nblocks;
    td_comm_sum_i64(&nb, 1);
    /* A warm start needs a good estimate, not every row: every stride-th
     * global block (about TD_SCATTER_BLOCKS of them), a choice that does
     * not depend on the partition. */
    int64_t stride = nb / TD_SCATTER_BLOCKS > 1 ? nb / TD_SCATTER_BLOCKS : 1;
    int64_t b0 = e->row0 / e->block_rows;
    int fail = 0;
    double amax = absmax(e, means, &fail);
    if (fail)
        return -1;
    int shift = td_xsum_shift(e->block_rows * amax * amax, nb > 0 ? nb : 1);
    td_i128 *acc = calloc(len, sizeof *acc);
    fail = acc == NULL;
    #pragma omp parallel
    {
        td_i128 *tacc = calloc(len, sizeof *tacc);
        double *part = malloc(sizeof(double) * len);
        double *buf = malloc(sizeof(double) * ((size_t)e->block_rows + 1) * m);
        int ok = tacc && part && buf;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < e->nblocks; b++)
            if (ok && (b0 + b) % stride == 0) {
                block_scatter(e, means, b, buf, part);
                td_xsum_add(tacc, part, len, shift);
            }
        #pragma omp critical
        if (ok && acc)
            for (size_t j = 0; j < len; j++)
                acc[j] += tacc[j];
        free(tacc); free(part); free(buf);
    }
    td_comm_any(&fail);
    if (fail) {
        free(acc);
        return -1;
    }
    td_comm_sum_i128(acc, (int)len);
    td_xsum_get(acc, len, shift, S);
    free(acc);
    return 0;
}

int td_engine_class_radius(td_engine *e, const double *means, double *radius)
{
    int m = e->m, q = e->q, fail = 0;
    double *r2 = calloc((size_t)q, sizeof(double));
    fail = r2 == NULL;
    #pragma omp parallel
    {
        double *buf = malloc(sizeof(double) * m);
        double *t = calloc((size_t)q, sizeof(double));
        if (!buf || !t) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (!buf || !t || e->layer[i] >= 0)
                continue;
            const double *x = td_engine_row(e, i, buf);
            const double *mu = means + (size_t)e->cls[i] * m;
            double d = 0;
            for (int k = 0; k < m; k++)
                d += (x[k] - mu[k]) * (x[k] - mu[k]);
            t[e->cls[i]] = fmax(t[e->cls[i]], d);
        }
        #pragma omp critical
        for (int c = 0; r2 && t && c < q; c++)
            r2[c] = fmax(r2[c], t[c]);
        free(buf);
        free(t);
    }
    td_comm_any(&fail);         /* every rank returns, or none */
    if (fail) {
        free(r2);
        return -1;
    }
    td_comm_max(r2, q);
    for (int c = 0; c < q; c++)
        radius[c] = sqrt(r2[c]);
    free(r2);
    return 0;
}
