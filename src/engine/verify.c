/* verify.c - forward pass over all shards, reducing cost and accuracy. */
#include <math.h>
#include <stdlib.h>
#include "td_comm.h"
#include "td_verify.h"

/* The original points of rows [i0, i0 + rows) as doubles: in place for
 * float64 input, else widened into xbuf (rows x m).  Not td_engine_row:
 * the network is checked on the data as given, not on points a
 * best-effort layer has moved. */
static const double *block_points(const td_engine *e, int64_t i0,
                                  int64_t rows, double *xbuf)
{
    if (e->x0)
        return e->x0 + i0 * e->m;
    const float *f = e->x0f + i0 * e->m;
    for (int64_t j = 0; j < rows * e->m; j++)
        xbuf[j] = f[j];
    return xbuf;
}

/* Cost, max error and correct count of one block of rows. */
static void verify_block(const td_engine *e, const td_model *mdl, int64_t i0,
                         int64_t rows, double *out, double *work,
                         double *xbuf, double *cost, double *maxerr,
                         int64_t *correct)
{
    int q = mdl->q;
    td_network_forward(&mdl->net, block_points(e, i0, rows, xbuf), rows, out,
                       work);
    for (int64_t r = 0; r < rows; r++) {
        const double *o = out + r * q;
        const double *y = mdl->targets + (size_t)e->cls[i0 + r] * q;
        int nearest = 0;
        double best = INFINITY;
        for (int j = 0; j < q; j++) {     /* nearest target, ties to lower */
            const double *t = mdl->targets + (size_t)j * q;
            double d = 0;
            for (int k = 0; k < q; k++)
                d += (o[k] - t[k]) * (o[k] - t[k]);
            if (d < best) {
                best = d;
                nearest = j;
            }
        }
        *correct += nearest == e->cls[i0 + r];
        for (int k = 0; k < q; k++) {
            double d = o[k] - y[k];
            *cost += 0.5 * d * d;
            *maxerr = fmax(*maxerr, fabs(d));
        }
    }
}

int td_verify(td_engine *e, td_model *mdl, td_err *err)
{
    int64_t br = e->block_rows;
    double *part = calloc((size_t)(e->nblocks > 0 ? e->nblocks : 1), sizeof(double));
    double maxerr = 0;
    int64_t correct = 0;
    int fail = part == NULL;
    #pragma omp parallel reduction(max : maxerr) reduction(+ : correct)
    {
        double *out = malloc(sizeof(double) * br * mdl->q);
        double *work = malloc(sizeof(double) * td_network_work_size(&mdl->net, br));
        /* float32 input: one block widened at a time */
        double *xbuf = e->x0 ? NULL : malloc(sizeof(double) * br * e->m);
        int ok = out && work && (e->x0 || xbuf);
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < e->nblocks; b++) {
            int64_t i0 = b * br, rows = e->n_local - i0 < br ? e->n_local - i0 : br;
            if (ok && part)
                verify_block(e, mdl, i0, rows, out, work, xbuf, &part[b],
                             &maxerr, &correct);
        }
        free(out);
        free(work);
        free(xbuf);
    }
    td_err local;
    td_err_clear(&local);
    if (fail)
        td_err_set(&local, TD_ERR_INTERNAL, "out of memory in verification");
    if (td_comm_agree(&local)) {
        free(part);
        return td_err_set(err, local.code, "%s", local.msg);
    }
    td_comm_sum_blocks(part, e->nblocks, 1, &mdl->cost);
    td_comm_max(&maxerr, 1);
    mdl->max_error = maxerr;
    mdl->n_correct = correct;
    td_comm_sum_i64(&mdl->n_correct, 1);
    mdl->n_points = e->n_total;
    free(part);
    return TD_OK;
}
