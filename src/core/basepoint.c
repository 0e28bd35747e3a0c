/* basepoint.c - base-point candidates and the mean of the rest
 * (td_basepoint.h). */
#include <stdlib.h>
#include <string.h>
#include "td_basepoint.h"
#include "td_linalg.h"

int td_base_candidates(int m, int q, const int64_t *counts,
                       const double *means, const int *done, int a,
                       const double *h, double c, double *out)
{
    int nr = 0;
    int64_t n = 0;
    double *bary = calloc((size_t)m, sizeof(double));
    double *wmean = calloc((size_t)m, sizeof(double));
    if (!bary || !wmean) {
        free(bary); free(wmean);
        return -1;
    }
    for (int j = 0; j < q; j++) {
        if (done[j] || !counts[j])
            continue;
        for (int k = 0; k < m; k++) {
            bary[k] += means[(size_t)j * m + k];
            wmean[k] += counts[j] * means[(size_t)j * m + k];
        }
        nr++;
        n += counts[j];
    }
    for (int k = 0; k < m; k++) {
        bary[k] /= nr > 0 ? nr : 1;
        wmean[k] /= n > 0 ? (double)n : 1.0;
    }
    const double *ma = means + (size_t)a * m;
    double sa = td_dot(h, ma, m), sb = td_dot(h, bary, m), sw = td_dot(h, wmean, m);
    double t = (c - sa) / (sb - sa);
    int crosses = sb > c && sa < c;
    for (int k = 0; k < m; k++) {
        out[k] = crosses ? ma[k] + t * (bary[k] - ma[k])
                         : bary[k] + (c - sb) * h[k];
        out[m + k] = ma[k] + (c - sa) * h[k];
        out[2 * m + k] = wmean[k] + (c - sw) * h[k];
    }
    free(bary);
    free(wmean);
    return 0;
}

void td_mean_of_rest(int m, int q, const int64_t *counts, const double *means,
                     const int *done, int a, const double *P, int np,
                     double *out)
{
    int64_t n = 0;
    memset(out, 0, sizeof(double) * m);
    for (int j = 0; j < q; j++) {
        if (j == a || done[j] || !counts[j])
            continue;
        for (int k = 0; k < m; k++)
            out[k] += counts[j] * means[(size_t)j * m + k];
        n += counts[j];
    }
    if (n == 0) {
        for (int j = 0; j < np; j++)
            for (int k = 0; k < m; k++)
                out[k] += P[(size_t)j * m + k];
        n = np;
    }
    for (int k = 0; n > 0 && k < m; k++)
        out[k] /= (double)n;
}
