/* warmstart.c - where each separator solve starts: the Fisher direction
 * from the pooled within-class scatter, or the difference of means. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_basepoint.h"
#include "td_dense.h"
#include "td_step.h"

/* Pooled within-class scatter of all classes, regularised so that flat
 * data (points on a subspace) still gives a positive definite system. */
int td_step_scatter(td_engine *e, td_step *s, td_err *err)
{
    int m = s->m;
    s->S = malloc(sizeof(double) * (size_t)m * m);
    if (!td_all_ok(s->S != NULL) || td_engine_scatter(e, s->means, s->S))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (scatter)");
    double tr = 0;
    for (int k = 0; k < m; k++)
        tr += s->S[(size_t)k * m + k];
    double delta = tr > 0 ? 1e-6 * tr / m : 1.0;
    for (int k = 0; k < m; k++)
        s->S[(size_t)k * m + k] += delta;
    return TD_OK;
}

/* Warm starts for every candidate: the Fisher direction
 * S^-1 (mu_rest - mu_a) or, without S, the difference of means.  H is
 * ncand x m (unit rows), C the offsets through the midpoint of the means. */
int td_warm_starts(td_step *s, const td_config *cfg,
                       const int *cand, int ncand, double *H, double *C,
                       td_err *err)
{
    int m = s->m;
    double *d = malloc(sizeof(double) * (size_t)ncand * m);
    double *mid = malloc(sizeof(double) * (size_t)ncand * m);
    if (!td_all_ok(d && mid)) {
        free(d); free(mid);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (warm start)");
    }
    for (int i = 0; i < ncand; i++) {
        const double *ma = s->means + (size_t)cand[i] * m;
        td_mean_of_rest(m, s->q, s->counts, s->means, s->done, cand[i], s->P,
                        s->np, mid + (size_t)i * m);
        for (int k = 0; k < m; k++) {
            d[(size_t)i * m + k] = mid[(size_t)i * m + k] - ma[k];
            mid[(size_t)i * m + k] = 0.5 * (mid[(size_t)i * m + k] + ma[k]);
        }
    }
    memcpy(H, d, sizeof(double) * (size_t)ncand * m);
    int rc = TD_OK;
    if (s->S)
        rc = td_dense_spd_solve(m, s->S, ncand, H, cfg->scalapack_threshold,
                                &s->used_scalapack, err);
    for (int i = 0; rc == TD_OK && i < ncand; i++) {
        double *h = H + (size_t)i * m, nn = 0;
        for (int k = 0; k < m; k++)
            nn += h[k] * h[k];
        if (!(nn > 0) || !isfinite(nn)) {      /* coincident means */
            memset(h, 0, sizeof(double) * m);
            h[0] = nn = 1;
        }
        C[i] = 0;
        for (int k = 0; k < m; k++) {
            /* only a starting direction: rounding it to single precision
             * hides the last-bit differences of grid-shaped ScaLAPACK
             * solves, so the working set does not depend on the ranks */
            h[k] = (double)(float)(h[k] / sqrt(nn));
            C[i] += h[k] * mid[(size_t)i * m + k];
        }
    }
    free(d);
    free(mid);
    return rc;
}
