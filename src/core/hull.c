/* hull.c - nearest points of two convex hulls by Wolfe's minimum-norm-point
 * method on the difference polytope P = conv(A) - conv(B) (see td_hull.h).
 *
 * x = u - v is the point of P nearest the origin.  Wolfe's method keeps a
 * "corral" of affinely independent vertices a_i - b_j of P with convex
 * weights representing x.  A major cycle asks the linear oracle
 * min_{p in P} <x, p> (one pass over the points) for a vertex and adds it;
 * minor cycles move to the affine minimiser of the corral, dropping vertices
 * whose weight would turn negative (at most k drops per major cycle).  The
 * oracle's pass also ranks the runners-up, and up to CANDIDATES improving
 * vertices are added at once (fewer passes: 737 -> 78 on 2048 + 2048
 * meeting points in R^784), capped so that their cost stays within that of
 * the pass.
 *
 * The corral is kept as a QR factorisation of its lifted vertices
 * M = [sigma e^T; S] ((m+1) x k, sigma = the point radius): the affine
 * minimiser is the least-squares solution of M nu = e_0 / sigma, so
 * mu = R^-1 (first row of Q), normalised; O(k^2).  Q is kept explicitly:
 * a new vertex is orthogonalised by classical Gram-Schmidt twice (O(km)),
 * a deleted one is closed up by Givens rotations (O(k^2 + km)).
 *
 * Measured against the alternative, the same R updated Q-less as the
 * Cholesky factor of M^T M = sigma^2 e e^T + S^T S (new diagonal entry
 * sqrt(|c|^2 - |r|^2), corrected semi-normal equations for refinement):
 * Cholesky is 10-15 % faster in R^784 but loses half the digits of a new
 * vertex's distance from the corral.  On 120 tight instances with feature
 * scales up to 1e+-5 and gap 1e-8 it stalled 10 times (QR: never) and took
 * 20 % more major cycles; on breast cancer it stalls at gap 1e-9 (QR
 * reaches 2e-13); its meeting certificates are 10x less exact.
 *
 * Rounding: when the hull distance is a tiny fraction of the radius, x is a
 * small difference of large sums, and a direction error of eps * radius /
 * |x| costs eps * radius^2 / |x| of margin; worse, double weights cannot
 * even represent x's direction better than that.  When progress stalls the
 * solver turns "precise": weights become double-double, x is summed with
 * error-free transformations from the centred points, and each affine
 * minimiser gets iterative refinement with that residual, so x is accurate
 * relative to |x| instead of to the radius.  Stalling again in precise
 * mode ends the solve (TD_HULL_STALL). */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_hull.h"

#define STALL_WINDOW 10      /* major cycles allowed without progress
                                (3x in precise mode, where a step that shows
                                no rounding symptom is real progress, if
                                too small for |x|^2 to show: on faces with
                                many points on the margin) */
#define REL_PROGRESS 1e-12   /* |x|^2 must drop by this fraction ... */
#define NOISE_FACTOR 16.0    /* ... and by this many rounding units of it */
#define GAP_PROGRESS 0.01    /* or the duality gap must fall by this much */
#define DEP_FACTOR 32.0      /* rho < DEP_FACTOR eps sqrt(k+1) |c|: dependent */
#define CANDIDATES 16        /* vertices offered per oracle pass ... */
#define XFRAC 0.5            /* ... each improving at least this share of
                                the best one's improvement */
#define REFINE_STEPS 4       /* iterative refinement steps, precise mode */
#define REFINE_TOL 1e-20     /* ... until a correction is this small */

typedef struct {
    int m, mq, na, nb, cap;  /* mq = m + 1 rows of the lifted vertices */
    const double *Z;         /* centred points: A's rows, then B's */
    double sigma;            /* lifting coordinate (the radius) */
    int k, precise;
    int *ia, *ib;            /* corral vertex t is a_ia[t] - b_ib[t] */
    double *lam, *mu;        /* current and affine-minimiser weights ... */
    double *lam_lo, *mu_lo;  /* ... and their low parts (double-double,
                                zero unless precise) */
    double *Q, *R;           /* lifted corral = Q R; column-major, mq x cap
                                and cap x cap */
    double *x, *g;           /* current point (m); oracle values (na + nb) */
    int ca[CANDIDATES], cb[CANDIDATES];  /* the oracle's best points */
    double *hi, *lo, *tmp;   /* scratch: m, m, cap */
} wolfe;

static const double *za(const wolfe *w, int i)
{
    return w->Z + (size_t)i * w->m;
}

static const double *zb(const wolfe *w, int j)
{
    return w->Z + (size_t)(w->na + j) * w->m;
}

static int wolfe_init(wolfe *w, int m, int na, int nb, const double *Z,
                      double sigma)
{
    /* at most dim(P) + 1 <= min(m, na + nb - 2) + 1 affinely independent
     * vertices: m + 1 lifted columns are already a basis */
    int cap = m + 1 < na + nb - 1 ? m + 1 : na + nb - 1;
    *w = (wolfe){.m = m, .mq = m + 1, .na = na, .nb = nb, .cap = cap,
                 .Z = Z, .sigma = sigma};
    w->ia = malloc(sizeof(int) * cap);
    w->ib = malloc(sizeof(int) * cap);
    w->lam = malloc(sizeof(double) * cap);
    w->mu = malloc(sizeof(double) * cap);
    w->lam_lo = calloc((size_t)cap, sizeof(double));
    w->mu_lo = calloc((size_t)cap, sizeof(double));
    w->tmp = malloc(sizeof(double) * cap);
    w->Q = malloc(sizeof(double) * (size_t)w->mq * cap);
    w->R = calloc((size_t)cap * cap, sizeof(double));
    w->x = malloc(sizeof(double) * m);
    w->hi = malloc(sizeof(double) * m);
    w->lo = malloc(sizeof(double) * m);
    w->g = malloc(sizeof(double) * ((size_t)na + nb));
    return w->ia && w->ib && w->lam && w->mu && w->lam_lo && w->mu_lo &&
           w->tmp && w->Q && w->R &&
           w->x && w->hi && w->lo && w->g ? 0 : -1;
}

static void wolfe_free(wolfe *w)
{
    free(w->ia); free(w->ib); free(w->lam); free(w->mu); free(w->tmp);
    free(w->lam_lo); free(w->mu_lo);
    free(w->Q); free(w->R); free(w->x); free(w->hi); free(w->lo);
    free(w->g);
}

/* ---- the point x = sum lam_t (a_ia[t] - b_ib[t]) ------------------------ */

static void point_plain(const wolfe *w, const double *wt, double *x)
{
    memset(x, 0, sizeof(double) * w->m);
    for (int t = 0; t < w->k; t++) {
        cblas_daxpy(w->m, wt[t], za(w, w->ia[t]), 1, x, 1);
        cblas_daxpy(w->m, -wt[t], zb(w, w->ib[t]), 1, x, 1);
    }
}

/* hi + lo += l * z with the rounding errors of the products (Dekker's
 * split; exact because contraction is off) and of the sums (TwoSum) kept
 * in lo, and ll * z (the weight's low part) added to lo directly. */
static void acc_exact(double *hi, double *lo, const double *z, double l,
                      double ll, int m)
{
    const double split = 134217729.0;           /* 2^27 + 1 */
    double lc = split * l, lh = lc - (lc - l), lt = l - lh;
    for (int d = 0; d < m; d++) {
        double a = z[d], ac = split * a, ah = ac - (ac - a), at = a - ah;
        double p = l * a;
        double e = ((lh * ah - p) + lh * at + lt * ah) + lt * at;
        double s = hi[d] + p, bv = s - hi[d];
        lo[d] += ((hi[d] - (s - bv)) + (p - bv)) + e + ll * a;
        hi[d] = s;
    }
}

/* x from double-double weights, good to eps |x| + O(eps^2) radius: the
 * direction of x is then accurate even when |x| is 1e-8 of the radius. */
static void point_precise(wolfe *w, const double *wt, const double *wlo,
                          double *x)
{
    memset(w->hi, 0, sizeof(double) * w->m);
    memset(w->lo, 0, sizeof(double) * w->m);
    for (int t = 0; t < w->k; t++) {
        acc_exact(w->hi, w->lo, za(w, w->ia[t]), wt[t], wlo[t], w->m);
        acc_exact(w->hi, w->lo, zb(w, w->ib[t]), -wt[t], -wlo[t], w->m);
    }
    for (int d = 0; d < w->m; d++)
        x[d] = w->hi[d] + w->lo[d];
}

/* The current point x from the weights lam. */
static void point(wolfe *w)
{
    if (w->precise)
        point_precise(w, w->lam, w->lam_lo, w->x);
    else
        point_plain(w, w->lam, w->x);
}

/* ---- the QR factor of the lifted corral ---------------------------------- */

/* Append vertex a_i - b_j: Gram-Schmidt twice ("twice is enough": Q stays
 * orthonormal to working precision).  Returns 1, appending nothing, if the
 * vertex is numerically in the affine hull of the corral. */
static int qr_append(wolfe *w, int i, int j)
{
    int k = w->k, mq = w->mq;
    if (k >= w->cap)         /* cap vertices already span aff(P) */
        return 1;
    double *c = w->Q + (size_t)k * mq, *r = w->R + (size_t)k * w->cap;
    const double *a = za(w, i), *b = zb(w, j);
    c[0] = w->sigma;
    for (int d = 0; d < w->m; d++)
        c[d + 1] = a[d] - b[d];
    double cn = cblas_dnrm2(mq, c, 1);
    memset(r, 0, sizeof(double) * w->cap);
    for (int pass = 0; pass < 2 && k > 0; pass++) {
        cblas_dgemv(CblasColMajor, CblasTrans, mq, k, 1.0, w->Q, mq, c, 1,
                    0.0, w->tmp, 1);
        cblas_dgemv(CblasColMajor, CblasNoTrans, mq, k, -1.0, w->Q, mq,
                    w->tmp, 1, 1.0, c, 1);
        cblas_daxpy(k, 1.0, w->tmp, 1, r, 1);
    }
    double rho = cblas_dnrm2(mq, c, 1);
    if (!(rho > DEP_FACTOR * DBL_EPSILON * sqrt(k + 1.0) * cn))
        return 1;
    cblas_dscal(mq, 1.0 / rho, c, 1);
    r[k] = rho;
    w->ia[k] = i;
    w->ib[k] = j;
    w->lam[k] = w->lam_lo[k] = 0.0;
    w->k++;
    return 0;
}

/* Restore R to triangular form after column p was removed: R is upper
 * Hessenberg from column p on; rotate rows (j, j+1) and columns j, j+1 of
 * Q alike, so Q R still equals the lifted corral. */
static void qr_close(wolfe *w, int p)
{
    int k = w->k, cap = w->cap;
    double *R = w->R;
    for (int j = p; j < k - 1; j++) {
        double *rj = R + (size_t)j * cap;
        double a = rj[j], b = rj[j + 1], h = hypot(a, b);
        double c = h > 0 ? a / h : 1.0, s = h > 0 ? b / h : 0.0;
        rj[j] = h;
        rj[j + 1] = 0.0;
        if (k - 2 > j)
            cblas_drot(k - 2 - j, R + (size_t)(j + 1) * cap + j, cap,
                       R + (size_t)(j + 1) * cap + j + 1, cap, c, s);
        cblas_drot(w->mq, w->Q + (size_t)j * w->mq, 1,
                   w->Q + (size_t)(j + 1) * w->mq, 1, c, s);
    }
}

/* Remove corral vertex p. */
static void qr_delete(wolfe *w, int p)
{
    int k = w->k, cap = w->cap;
    for (int j = p; j < k - 1; j++)
        memcpy(w->R + (size_t)j * cap, w->R + (size_t)(j + 1) * cap,
               sizeof(double) * (j + 2));
    qr_close(w, p);
    for (int t = p; t < k - 1; t++) {
        w->ia[t] = w->ia[t + 1];
        w->ib[t] = w->ib[t + 1];
        w->lam[t] = w->lam[t + 1];
        w->mu[t] = w->mu[t + 1];
        w->lam_lo[t] = w->lam_lo[t + 1];
        w->mu_lo[t] = w->mu_lo[t + 1];
    }
    w->k--;
}

/* Factor the corral afresh (orthogonality lost by many rotations is
 * restored); vertices that are now numerically dependent are dropped. */
static void qr_rebuild(wolfe *w)
{
    int k = w->k, *ia = malloc(sizeof(int) * k), *ib = malloc(sizeof(int) * k);
    double *lam = malloc(sizeof(double) * k);
    if (!ia || !ib || !lam) {
        free(ia); free(ib); free(lam);
        return;                  /* keep the current factor: still valid */
    }
    memcpy(ia, w->ia, sizeof(int) * k);
    memcpy(ib, w->ib, sizeof(int) * k);
    memcpy(lam, w->lam, sizeof(double) * k);
    w->k = 0;
    double tot = 0;
    for (int t = 0; t < k; t++)
        if (!qr_append(w, ia[t], ib[t]))
            tot += (w->lam[w->k - 1] = lam[t]);
    for (int t = 0; t < w->k; t++) {
        w->lam[t] = tot > 0 ? w->lam[t] / tot : 1.0 / w->k;
        w->lam_lo[t] = 0.0;
    }
    free(ia); free(ib); free(lam);
}

/* ---- minor cycles ------------------------------------------------------- */

/* a * b = p + e exactly (Dekker; exact because contraction is off). */
static double two_prod(double a, double b, double *e)
{
    const double split = 134217729.0;           /* 2^27 + 1 */
    double ac = split * a, ah = ac - (ac - a), at = a - ah;
    double bc = split * b, bh = bc - (bc - b), bt = b - bh;
    double p = a * b;
    *e = ((ah * bh - p) + ah * bt + at * bh) + at * bt;
    return p;
}

/* Scale hi + lo to sum 1 (lo may be NULL).  With lo the quotient is taken
 * in double-double: rounding each hi / s alone would move x by eps times
 * the radius and undo the refinement. */
static int normalise(double *hi, double *lo, int k)
{
    double s = 0;
    for (int t = 0; t < k; t++)
        s += hi[t];
    if (!(s > 0) || !isfinite(s))
        return -1;
    for (int t = 0; t < k; t++) {
        double q = hi[t] / s, e, p = two_prod(q, s, &e);
        double ql = lo ? ((hi[t] - p) - e + lo[t]) / s : 0.0;
        hi[t] = q + ql;
        if (lo)
            lo[t] = ql - (hi[t] - q);
    }
    return 0;
}

/* One step of iterative refinement of the least-squares problem, with the
 * residual from the exactly summed point: with sum mu = 1 the residual of
 * M nu = e_0 / sigma at nu = mu / sigma^2 is (0, -x(mu)) / sigma^2, so the
 * correction is d = R^-1 Q_S^T x(mu) (Q_S: Q without its lifting row).
 * Its component along mu only rescales, so it is projected out to keep
 * sum mu = 1; mu (double-double) -= d.  Returns max |d|. */
static double refine(wolfe *w)
{
    int k = w->k;
    double *d = w->tmp, sd = 0, dmax = 0;
    point_precise(w, w->mu, w->mu_lo, w->x);
    cblas_dgemv(CblasColMajor, CblasTrans, w->m, k, 1.0, w->Q + 1, w->mq,
                w->x, 1, 0.0, d, 1);
    cblas_dtrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, k,
                w->R, w->cap, d, 1);
    for (int t = 0; t < k; t++)
        sd += d[t];
    for (int t = 0; t < k; t++) {
        double c = d[t] - sd * w->mu[t];
        double h = w->mu[t] - c, bv = h - w->mu[t];
        double l = w->mu_lo[t] + ((w->mu[t] - (h - bv)) - (c + bv));
        w->mu[t] = h + l;                   /* renormalise the pair */
        w->mu_lo[t] = l - (w->mu[t] - h);
        dmax = fmax(dmax, fabs(c));
    }
    return isfinite(dmax) ? dmax : -1;
}

/* mu = the affine minimiser's weights on the corral: R^-1 (Q's lifting
 * row), normalised; refined in precise mode until the corrections stop
 * mattering at double-double level. */
static int affine_min(wolfe *w)
{
    int k = w->k;
    for (int t = 0; t < k; t++) {
        w->mu[t] = w->Q[(size_t)t * w->mq];
        w->mu_lo[t] = 0.0;
    }
    cblas_dtrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, k,
                w->R, w->cap, w->mu, 1);
    if (normalise(w->mu, NULL, k))
        return -1;
    for (int s = 0; w->precise && s < REFINE_STEPS; s++) {
        double d = refine(w);
        if (d < 0)
            return -1;
        if (d <= REFINE_TOL)
            break;
    }
    return 0;
}

/* After a step of length theta that zeroed vertex p: drop p and, if the
 * step moved, every weight it took to zero.  A step of length 0 drops p
 * alone: the vertices just added also sit at weight zero, and at least one
 * of them must stay. */
static int drop_zeros(wolfe *w, int p, double theta)
{
    for (int t = w->k - 1; t >= 0; t--)
        if (t == p || (theta > 0 && !(w->lam[t] > 0)))
            qr_delete(w, t);
    return normalise(w->lam, w->lam_lo, w->k);
}

/* The largest step theta <= 1 from lam towards mu keeping the weights
 * non-negative, and the vertex p it zeroes (-1: mu itself is feasible). */
static int ratio_test(const wolfe *w, double *theta)
{
    int p = -1;
    *theta = 1.0;
    for (int t = w->k - 1; t >= 0; t--)     /* ties: the newest goes */
        if (w->mu[t] <= 0) {
            double den = w->lam[t] - w->mu[t];
            double r = den > 0 ? w->lam[t] / den : 0.0;
            if (r < *theta || p < 0) {
                *theta = fmin(r, 1.0);
                p = t;
            }
        }
    return p;
}

/* Move to the affine minimiser, or as far towards it as the weights stay
 * non-negative, dropping a vertex each time; at most k rounds.  Returns
 * 0, or -1 on a numerical failure. */
static int minor_cycles(wolfe *w)
{
    for (int round = w->k; round > 0; round--) {
        double theta;
        if (affine_min(w))
            return -1;
        int p = ratio_test(w, &theta);
        if (p < 0) {
            memcpy(w->lam, w->mu, sizeof(double) * w->k);
            memcpy(w->lam_lo, w->mu_lo, sizeof(double) * w->k);
            return 0;
        }
        for (int t = 0; t < w->k; t++) {
            w->lam[t] += theta * (w->mu[t] - w->lam[t]);
            w->lam_lo[t] += theta * (w->mu_lo[t] - w->lam_lo[t]);
        }
        w->lam[p] = w->lam_lo[p] = 0.0;
        if (drop_zeros(w, p, theta))
            return -1;
    }
    return -1;
}

/* ---- major cycles ------------------------------------------------------- */

/* The r best indices of g (n values) by sign * g, best first; ties go to
 * the lower index, so runs are reproducible.  O(n r), r small. */
static void top_r(const double *g, int n, double sign, int r, int *idx)
{
    int cnt = 0;
    for (int t = 0; t < n; t++) {
        int pos = cnt < r ? cnt++ : r;
        while (pos > 0 && sign * g[t] < sign * g[idx[pos - 1]]) {
            if (pos < r)
                idx[pos] = idx[pos - 1];
            pos--;
        }
        if (pos < r)
            idx[pos] = t;
    }
    for (int t = cnt; t < r; t++)
        idx[t] = idx[cnt - 1];
}

/* Linear oracle over P: i = argmin_A <x, a>, j = argmax_B <x, b>, and the
 * runners-up (w->ca, w->cb, CANDIDATES of each, best first); returns
 * <x, a_i - b_j>. */
static double oracle(wolfe *w, const double *x)
{
    int na = w->na;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, na + w->nb, w->m, 1.0, w->Z,
                w->m, x, 1, 0.0, w->g, 1);
    top_r(w->g, na, 1.0, CANDIDATES, w->ca);
    top_r(w->g + na, w->nb, -1.0, CANDIDATES, w->cb);
    return w->g[w->ca[0]] - w->g[na + w->cb[0]];
}

static int imin(int a, int b)
{
    return a < b ? a : b;
}

static int in_corral(const wolfe *w, int i, int j)
{
    for (int t = 0; t < w->k; t++)
        if (w->ia[t] == i && w->ib[t] == j)
            return 1;
    return 0;
}

/* Warm start: the saved corral if it indexes these point lists. */
static int start_warm(wolfe *w, const td_hull_warm *warm)
{
    if (!warm || warm->k <= 0)
        return -1;
    for (int t = 0; t < warm->k; t++)
        if (warm->ia[t] < 0 || warm->ia[t] >= w->na || warm->ib[t] < 0 ||
            warm->ib[t] >= w->nb)
            return -1;
    for (int t = 0; t < warm->k && w->k < w->cap; t++)
        if (!qr_append(w, warm->ia[t], warm->ib[t]))
            w->lam[w->k - 1] = fmax(warm->lam[t], 0.0);
    if (w->k > 0 && !normalise(w->lam, w->lam_lo, w->k))
        return 0;
    w->k = 0;
    return -1;
}

/* Cold start: the oracle's vertex for the direction between the means. */
static void start_cold(wolfe *w)
{
    memset(w->x, 0, sizeof(double) * w->m);
    for (int i = 0; i < w->na; i++)
        cblas_daxpy(w->m, 1.0 / w->na, za(w, i), 1, w->x, 1);
    for (int j = 0; j < w->nb; j++)
        cblas_daxpy(w->m, -1.0 / w->nb, zb(w, j), 1, w->x, 1);
    oracle(w, w->x);
    qr_append(w, w->ca[0], w->cb[0]);   /* a first column is independent */
    w->lam[0] = 1.0;
}

/* Stall detection: at least once every STALL_WINDOW major cycles, |x|^2
 * must fall by more than its rounding noise and a tiny relative amount, or
 * the duality gap |x|^2 - <x, p> must reach a new low (by GAP_PROGRESS).
 * Wolfe's method decreases |x| strictly in exact arithmetic, but near the
 * optimum a better direction shows in the gap long before it shows in
 * |x|^2 (the excess of |x|^2 is quadratic in the direction's error), so
 * both count.  A longer flat run of both is rounding at work (or progress
 * too slow to be worth it). */
typedef struct {
    double xx, gap;          /* lowest |x|^2 and duality gap seen */
    long since;              /* major cycle of the last progress */
} progress;

static int stalled(progress *pr, const wolfe *w, double xx, double gap,
                   long it)
{
    double err = w->precise ? sqrt(xx) : w->sigma * sqrt(w->k + 1.0);
    double need = fmax(REL_PROGRESS * xx,
                       NOISE_FACTOR * DBL_EPSILON * sqrt(xx) * err);
    int better = xx < pr->xx - need || gap < (1 - GAP_PROGRESS) * pr->gap;
    pr->xx = fmin(pr->xx, xx);
    pr->gap = fmin(pr->gap, gap);
    long window = w->precise ? 3 * STALL_WINDOW : STALL_WINDOW;
    if (better || it - pr->since < window) {
        pr->since = better ? it : pr->since;
        return 0;
    }
    pr->since = it;
    return 1;
}

/* Whether any of the n vertices (ia[r], ib[r]) is in the corral. */
static int any_in_corral(const wolfe *w, const int *ia, const int *ib, int n)
{
    for (int r = 0; r < n; r++)
        if (in_corral(w, ia[r], ib[r]))
            return 1;
    return 0;
}

/* A major step from x: add the oracle's vertex a_i - b_j (i = ca[0],
 * j = cb[0]) and the runners-up (ca[r], cb[r]) that improve on x by at
 * least half as much (one pass over the points then feeds several
 * vertices; distinct i and j never close a rectangle among themselves),
 * run the minor cycles.  Returns 1 on a symptom of rounding: the oracle's
 * vertex is already in the corral or numerically dependent on it, or no
 * added vertex survives (in exact arithmetic none of these can happen
 * before the gap closes: each added vertex alone would get a positive
 * weight, so the last one left is kept and |x| falls). */
static int major_step(wolfe *w, double xx, double xq)
{
    int na = w->na, ia[CANDIDATES] = {w->ca[0]}, ib[CANDIDATES] = {w->cb[0]};
    int n = 1;
    if (in_corral(w, ia[0], ib[0]) || qr_append(w, ia[0], ib[0]))
        return 1;
    int nc = imin(CANDIDATES, 1 + (w->na + w->nb) / w->k);
    for (int r = 1; r < nc && w->k < w->cap; r++) {
        int i = w->ca[r], j = w->cb[r];
        double q = w->g[i] - w->g[na + j];
        if (q < xx - XFRAC * (xx - xq) && !in_corral(w, i, j) &&
            !qr_append(w, i, j)) {
            ia[n] = i;
            ib[n++] = j;
        }
    }
    if (minor_cycles(w))
        return 1;
    return !any_in_corral(w, ia, ib, n);
}

/* Restart in precise mode from the current corral: fresh factor, refined
 * affine minimiser, exactly summed point.  Returns -1 if even that fails. */
static int go_precise(wolfe *w, progress *pr, long it)
{
    w->precise = 1;
    qr_rebuild(w);
    if (w->k == 0)
        start_cold(w);
    int rc = minor_cycles(w);
    point(w);
    *pr = (progress){.xx = INFINITY, .gap = INFINITY, .since = it};
    return rc;
}

/* The weights must stay a valid convex combination whatever happened;
 * if rounding broke them, fall back to the cold start's single vertex. */
static void ensure_valid(wolfe *w)
{
    int ok = w->k > 0;
    for (int t = 0; ok && t < w->k; t++)
        ok = isfinite(w->lam[t]) && w->lam[t] >= 0;
    if (ok && !normalise(w->lam, w->lam_lo, w->k))
        return;
    w->k = 0;
    start_cold(w);
}

/* ---- entry points ------------------------------------------------------- */

int td_hull_warm_init(td_hull_warm *w, int m)
{
    *w = (td_hull_warm){.cap = m + 2};
    w->ia = malloc(sizeof(int) * w->cap);
    w->ib = malloc(sizeof(int) * w->cap);
    w->lam = malloc(sizeof(double) * w->cap);
    return w->ia && w->ib && w->lam ? 0 : -1;
}

void td_hull_warm_free(td_hull_warm *w)
{
    free(w->ia);
    free(w->ib);
    free(w->lam);
    *w = (td_hull_warm){0};
}

td_hull_opts td_hull_defaults(void)
{
    return (td_hull_opts){.gap = 1e-3, .meet_tol = 1e-10, .max_iter = 0};
}

static void corral_save(const wolfe *w, td_hull_warm *warm)
{
    if (!warm || w->k > warm->cap)
        return;
    warm->k = w->k;
    memcpy(warm->ia, w->ia, sizeof(int) * w->k);
    memcpy(warm->ib, w->ib, sizeof(int) * w->k);
    memcpy(warm->lam, w->lam, sizeof(double) * w->k);
}

/* Centred copies (A's rows, then B's): differences are unchanged, the
 * magnitudes and so the rounding shrink.  Also the centroid and the
 * radius (largest distance from it; NaN if a coordinate is not finite). */
static double *centred(int m, int na, const double *A, int nb,
                       const double *B, double *cen, double *scale)
{
    size_t n = (size_t)na + nb;
    double *Z = malloc(sizeof(double) * n * m);
    if (!Z)
        return NULL;
    memcpy(Z, A, sizeof(double) * (size_t)na * m);
    memcpy(Z + (size_t)na * m, B, sizeof(double) * (size_t)nb * m);
    memset(cen, 0, sizeof(double) * m);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < m; d++)
            cen[d] += Z[i * m + d] / (double)n;
    double worst = 0;
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        double r = 0;
        for (int d = 0; d < m; d++) {
            double z = Z[i * m + d] -= cen[d];
            r += z * z;
        }
        finite &= isfinite(r) != 0;
        worst = fmax(worst, r);
    }
    *scale = finite ? sqrt(worst) : NAN;
    return Z;
}

/* Convex weights per point, and u = cen + sum alpha a, v = u - x: v - u
 * is then x itself up to the rounding of v (the caller's normal is
 * (v - u) / dist, and x is the accurate quantity). */
static void hull_points(const wolfe *w, const double *cen, double *u,
                        double *v, double *alpha, double *beta)
{
    int m = w->m;
    memset(alpha, 0, sizeof(double) * w->na);
    memset(beta, 0, sizeof(double) * w->nb);
    for (int t = 0; t < w->k; t++) {
        alpha[w->ia[t]] += w->lam[t] + w->lam_lo[t];
        beta[w->ib[t]] += w->lam[t] + w->lam_lo[t];
    }
    memset(u, 0, sizeof(double) * m);
    for (int i = 0; i < w->na; i++)
        if (alpha[i] > 0)
            cblas_daxpy(m, alpha[i], za(w, i), 1, u, 1);
    for (int d = 0; d < m; d++) {
        u[d] += cen[d];
        v[d] = u[d] - w->x[d];
    }
}

/* A default cap: Wolfe's method needs a few times the final corral size
 * (at most m + 1) major cycles; the stall test ends hopeless runs long
 * before this. */
static long default_max_iter(int m, int na, int nb)
{
    return 20L * (m + 1) + na + nb + 100;
}

/* The major cycles from the current corral; returns the exit code and
 * leaves info's dist and lower consistent with the final weights. */
static int major_cycles(wolfe *w, const td_hull_opts *opt, double scale,
                        td_hull_info *info)
{
    long max_iter = opt->max_iter > 0 ? opt->max_iter
                                      : default_max_iter(w->m, w->na, w->nb);
    progress pr = {.xx = INFINITY, .gap = INFINITY, .since = 0};
    for (long it = 0, stop = 0;; it++) {
        double xx = cblas_ddot(w->m, w->x, 1, w->x, 1);
        double xq = oracle(w, w->x);
        info->iters = it;
        info->dist = sqrt(xx);
        info->lower = info->dist > 0 ? xq / info->dist : 0.0;
        if (info->dist <= opt->meet_tol * scale)
            return TD_HULL_MEET;
        if (info->lower > 0 &&
            info->dist - info->lower <= opt->gap * info->dist)
            return TD_HULL_GAP;
        if (stop)
            return TD_HULL_STALL;
        if (it >= max_iter)
            return TD_HULL_CAP;
        if (opt->tick)
            opt->tick(opt->tick_ctx);
        if (stalled(&pr, w, xx, xx - xq, it) || major_step(w, xx, xq)) {
            ensure_valid(w);
            stop = w->precise || go_precise(w, &pr, it);
        }
        ensure_valid(w);
        point(w);
    }
}

int td_hull_nearest(int m, int na, const double *A, int nb, const double *B,
                    const td_hull_opts *opt, double *u, double *v,
                    double *alpha, double *beta, td_hull_info *info,
                    td_hull_warm *warm)
{
    *info = (td_hull_info){0};
    if (m < 1 || na < 1 || nb < 1)
        return -1;
    td_hull_opts o = opt ? *opt : td_hull_defaults();
    double scale = 0, *cen = malloc(sizeof(double) * m);
    double *Z = cen ? centred(m, na, A, nb, B, cen, &scale) : NULL;
    wolfe w = {0};
    info->scale = scale;                /* non-finite: the squares overflow */
    if (!Z || !isfinite(scale) ||       /* NaN or inf among the points */
        wolfe_init(&w, m, na, nb, Z, scale > 0 ? scale : 1.0)) {
        free(cen); free(Z);
        wolfe_free(&w);
        return -1;
    }
    if (start_warm(&w, warm))
        start_cold(&w);
    minor_cycles(&w);        /* the corral's own affine minimiser */
    ensure_valid(&w);
    point(&w);
    info->converged = major_cycles(&w, &o, scale, info);
    corral_save(&w, warm);
    hull_points(&w, cen, u, v, alpha, beta);
    wolfe_free(&w);
    free(cen); free(Z);
    return 0;
}
