/* basepoint.c - base-point candidates near the data and free ones far
 * from it, the mean of the rest, and the tests that score candidates
 * (td_basepoint.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_basepoint.h"
#include "td_hull.h"
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

/* ---- free base points ---------------------------------------------------- */

/* p := p - <p, b> b for each of the r orthonormal rows of B, twice (one
 * classical Gram-Schmidt sweep can leave an eps/|p| error behind). */
static void project_out(int m, int r, const double *B, double *p)
{
    for (int sweep = 0; sweep < 2; sweep++)
        for (int b = 0; b < r; b++) {
            double t = td_dot(p, B + (size_t)b * m, m);
            for (int k = 0; k < m; k++)
                p[k] -= t * B[(size_t)b * m + k];
        }
}

static double normalize(int m, double *v)
{
    double n = sqrt(td_dot(v, v, m));
    for (int k = 0; n > 0 && k < m; k++)
        v[k] /= n;
    return n;
}

/* Orthonormal rows B: h, then the directions of Z - p0 within H, widest
 * first (pivoted Gram-Schmidt, so the last row is the thinnest direction
 * the points span).  R: nz x m scratch.  Returns the number of rows. */
static int span_basis(int m, const double *h, const double *p0, int nz,
                      const double *Z, double *B, double *R)
{
    memcpy(B, h, sizeof(double) * m);
    normalize(m, B);
    int r = 1;
    double scale = 0;
    for (int i = 0; i < nz; i++) {
        double *ri = R + (size_t)i * m;
        for (int k = 0; k < m; k++)
            ri[k] = Z[(size_t)i * m + k] - p0[k];
        scale = fmax(scale, sqrt(td_dot(ri, ri, m)));
        project_out(m, 1, B, ri);
    }
    while (r < m) {
        int best = -1;
        double nbest = 1e-9 * scale;    /* below this: rounding, not span */
        for (int i = 0; i < nz; i++) {
            double n = sqrt(td_dot(R + (size_t)i * m, R + (size_t)i * m, m));
            if (n > nbest) {
                nbest = n;
                best = i;
            }
        }
        if (best < 0)
            break;
        double *b = B + (size_t)r * m;
        memcpy(b, R + (size_t)best * m, sizeof(double) * m);
        project_out(m, r, B, b);
        if (!(normalize(m, b) > 0))
            break;
        r++;
        for (int i = 0; i < nz; i++)
            project_out(m, 1, b, R + (size_t)i * m);
    }
    return r;
}

/* A unit direction orthogonal to the r rows of B: the coordinate axis that
 * keeps most of its length (lowest index on ties), projected.  Returns 0
 * when B spans everything. */
static int complement_dir(int m, int r, const double *B, double *d)
{
    int best = -1;
    double keep = 1e-6;
    for (int k = 0; k < m; k++) {
        double s = 1.0;
        for (int b = 0; b < r; b++)
            s -= B[(size_t)b * m + k] * B[(size_t)b * m + k];
        if (s > keep) {
            keep = s;
            best = k;
        }
    }
    if (best < 0)
        return 0;
    memset(d, 0, sizeof(double) * m);
    d[best] = 1.0;
    project_out(m, r, B, d);
    return normalize(m, d) > 0;
}

/* slack_j = <h_j, p0> - c_j: the separator is voided or close to it when
 * the slack is below its margin. */
static int violated(const td_later_seps *ls, const double *slack, int j)
{
    return slack[j] < ls->margin[j];
}

/* Turn d (unit, orthogonal to the unit hu) by perceptron steps until
 * moving along it gains slack on every violated separator.  w: m scratch.
 * Returns 0 when a separator's normal is parallel to h (no move on H
 * helps) or 200 steps do not suffice. */
static int climb(int m, const double *hu, const td_later_seps *ls,
                 const double *slack, double *d, double *w)
{
    for (int it = 0; it < 200; it++) {
        int done = 1;
        for (int j = 0; j < ls->n; j++) {
            if (!violated(ls, slack, j))
                continue;
            memcpy(w, ls->h + (size_t)j * m, sizeof(double) * m);
            project_out(m, 1, hu, w);
            double nw = normalize(m, w);
            if (!(nw > 1e-12))
                return 0;
            if (td_dot(w, d, m) > 1e-6)
                continue;
            for (int k = 0; k < m; k++)
                d[k] += w[k];
            project_out(m, 1, hu, d);
            if (!(normalize(m, d) > 0))
                return 0;
            done = 0;
        }
        if (done)
            return 1;
    }
    return 0;
}

/* The range [*lo, *hi] of t for which p0 + t d keeps every separator's
 * full margin (hi may be +inf).  Returns 0 if none. */
static int t_range(int m, const double *d, const td_later_seps *ls,
                   const double *slack, double *lo, double *hi)
{
    *lo = 0;
    *hi = INFINITY;
    for (int j = 0; j < ls->n; j++) {
        double g = td_dot(ls->h + (size_t)j * m, d, m);
        double need = ls->margin[j] - slack[j];   /* > 0: must gain this */
        if (need > 0 && !(g > 0))
            return 0;
        if (need > 0)
            *lo = fmax(*lo, need / g);
        else if (g < 0)
            *hi = fmin(*hi, need / g);
    }
    return *lo <= *hi;
}

/* Write p0 + t d, back on H exactly as rounding allows, if it keeps every
 * separator's margin and differs from the n candidates in out already.
 * Returns the new count. */
static int emit(int m, const double *hu, double c, const double *p0,
                const double *d, double t, const td_later_seps *ls,
                double *out, int n)
{
    double *p = out + (size_t)n * m;
    for (int k = 0; k < m; k++)
        p[k] = p0[k] + t * d[k];
    double off = c - td_dot(hu, p, m);
    for (int k = 0; k < m; k++)
        p[k] += off * hu[k];
    for (int j = 0; j < ls->n; j++)
        if (td_dot(ls->h + (size_t)j * m, p, m) - ls->c[j] < ls->margin[j])
            return n;
    for (int i = 0; i < n; i++) {
        double dd = 0;
        for (int k = 0; k < m; k++) {
            double e = out[(size_t)i * m + k] - p[k];
            dd += e * e;
        }
        if (sqrt(dd) <= 1e-9 * t)
            return n;
    }
    return n + 1;
}

/* The starting directions: one climbing out of the violated separators
 * (if any), then the direction away from Z's span, both signs.  D holds 3
 * x m; returns how many. */
static int start_dirs(int m, const double *hu, const td_later_seps *ls,
                      const double *slack, int r, const double *B, double *D)
{
    int nd = 0, any = 0;
    double *g = D;
    memset(g, 0, sizeof(double) * m);
    for (int j = 0; j < ls->n; j++)
        if (violated(ls, slack, j)) {
            for (int k = 0; k < m; k++)
                g[k] += ls->h[(size_t)j * m + k];
            any = 1;
        }
    project_out(m, 1, hu, g);
    if (any && normalize(m, g) > 0)
        nd++;
    double *u = D + (size_t)nd * m;
    if (!complement_dir(m, r, B, u)) {
        if (r < 2)
            return nd;
        memcpy(u, B + (size_t)(r - 1) * m, sizeof(double) * m);
    }
    for (int k = 0; k < m; k++)
        u[m + k] = -u[k];
    return nd + 2;
}

int td_base_free(int m, const double *h, double c, const double *p0,
                 int nz, const double *Z, const td_later_seps *later,
                 double reach, double *out)
{
    if (m < 2 || !(reach > 0))
        return 0;
    int ns = later ? later->n : 0;
    td_later_seps none = {0, NULL, NULL, NULL};
    const td_later_seps *ls = later ? later : &none;
    double *B = malloc(sizeof(double) * (size_t)m * m);
    double *R = malloc(sizeof(double) * (size_t)(nz ? nz : 1) * m);
    double *D = malloc(sizeof(double) * 3 * m);
    double *w = malloc(sizeof(double) * m);
    double *slack = malloc(sizeof(double) * (ns ? ns : 1));
    if (!B || !R || !D || !w || !slack) {
        free(B); free(R); free(D); free(w); free(slack);
        return -1;
    }
    int r = span_basis(m, h, p0, nz, Z, B, R);
    for (int j = 0; j < ns; j++)
        slack[j] = td_dot(ls->h + (size_t)j * m, p0, m) - ls->c[j];
    int nd = start_dirs(m, B, ls, slack, r, B, D), n = 0;
    for (int i = 0; i < nd; i++) {
        double *d = D + (size_t)i * m, lo, hi;
        if (!climb(m, B, ls, slack, d, w) || !t_range(m, d, ls, slack, &lo, &hi))
            continue;
        /* a little beyond the bound, so rounding cannot undo it */
        lo *= 1 + 1e-9;
        for (int f = 0; f <= 2 && n < TD_NFREE; f++) {
            double t = fmax(f * reach, lo);
            if (t > 0 && t <= hi && (f == 0 || t > lo))
                n = emit(m, B, c, p0, d, t, ls, out, n);
        }
    }
    free(B); free(R); free(D); free(w); free(slack);
    return n;
}

double td_affine_dist(int m, int np, const double *P, const double *p)
{
    if (np == 0)
        return INFINITY;
    double *B = malloc(sizeof(double) * (size_t)np * m);
    double *v = malloc(sizeof(double) * m);
    if (!B || !v) {
        free(B); free(v);
        return -1;
    }
    int r = 0;
    for (int i = 1; i < np && r < m; i++) {
        double *b = B + (size_t)r * m, n0;
        for (int k = 0; k < m; k++)
            b[k] = P[(size_t)i * m + k] - P[k];
        n0 = sqrt(td_dot(b, b, m));
        project_out(m, r, B, b);
        if (normalize(m, b) > 1e-12 * n0)   /* else i is in the span */
            r++;
    }
    for (int k = 0; k < m; k++)
        v[k] = p[k] - P[k];
    project_out(m, r, B, v);
    double dist = sqrt(td_dot(v, v, m));
    free(B); free(v);
    return dist;
}

int td_base_hull_gap(int m, int np, const double *P, const double *p,
                     const double *mu, double *u, double *dist)
{
    double *PP = malloc(sizeof(double) * (size_t)(np + 1) * m);
    double *v = malloc(sizeof(double) * m);
    double *beta = malloc(sizeof(double) * (np + 1)), alpha;
    int rc = !PP || !v || !beta ? -1 : 0;
    td_hull_info info;
    if (rc == 0) {
        memcpy(PP, P, sizeof(double) * (size_t)np * m);
        memcpy(PP + (size_t)np * m, p, sizeof(double) * m);
        rc = td_hull_nearest(m, 1, mu, np + 1, PP, NULL, u, v, &alpha, beta,
                             &info, NULL) ? -1 : 0;
    }
    if (rc == 0) {
        /* the solver's nearest point is optimal to a gap; what counts is
         * the certified slab: every point of the hull lies at least *dist
         * beyond mu along u (a linear function's minimum is at a vertex) */
        for (int k = 0; k < m; k++)
            u[k] = v[k] - mu[k];
        double g = normalize(m, u);
        *dist = INFINITY;
        for (int i = 0; i <= np; i++)
            *dist = fmin(*dist, td_dot(u, PP + (size_t)i * m, m) - td_dot(u, mu, m));
        if (!(g > 0) || !(*dist > 0)) {
            memset(u, 0, sizeof(double) * m);
            *dist = 0;
        }
    }
    free(PP); free(v); free(beta);
    return rc;
}
