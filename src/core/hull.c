/* hull.c - nearest points of two convex hulls by Wolfe's minimum-norm-point
 * method on the difference polytope P = conv(A) - conv(B) (see td_hull.h).
 *
 * The nearest points u in conv(A), v in conv(B) give x = u - v, the point of
 * P closest to the origin.  Wolfe's method keeps a small "corral" of
 * vertices a_i - b_j of P (at most M+1 of them, the support vectors) and
 * the convex weights that represent x; each major step adds the vertex the
 * linear oracle min_{p in P} <x, p> returns, each minor step re-solves the
 * affine least-squares problem on the corral and drops vertices whose
 * weight would turn negative.  It terminates in finitely many steps and,
 * unlike pairwise (MDM / SMO-style) updates, does not zig-zag when many
 * points sit near the margin. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_hull.h"
#include "td_linalg.h"

#define WEIGHT_EPS 1e-14     /* weights below this leave the corral */

typedef struct {
    int m, k, cap;
    int *ia, *ib;       /* corral vertex = A[ia] - B[ib] */
    double *s;          /* cap x m vertices */
    double *lam;        /* convex weights */
    double *x;          /* current point, m */
    double *G;          /* cap x cap: 1 + <s_i, s_j>, kept up to date as
                           vertices come and go (Wolfe's matrix) */
    int *keep;          /* scratch for pruning */
} corral;

static int corral_init(corral *c, int m, int cap)
{
    *c = (corral){.m = m, .cap = cap};
    c->ia = malloc(sizeof(int) * cap);
    c->ib = malloc(sizeof(int) * cap);
    c->s = malloc(sizeof(double) * (size_t)cap * m);
    c->lam = malloc(sizeof(double) * cap);
    c->x = calloc((size_t)m, sizeof(double));
    c->G = malloc(sizeof(double) * (size_t)cap * cap);
    c->keep = malloc(sizeof(int) * cap);
    return c->ia && c->ib && c->s && c->lam && c->x && c->G && c->keep ? 0 : -1;
}

static void corral_free(corral *c)
{
    free(c->ia); free(c->ib); free(c->s); free(c->lam); free(c->x);
    free(c->G);
    free(c->keep);
}

static void corral_add(corral *c, const double *A, const double *B, int i,
                       int j, double lam)
{
    int k = c->k++, m = c->m;
    c->ia[k] = i;
    c->ib[k] = j;
    c->lam[k] = lam;
    for (int d = 0; d < m; d++)
        c->s[(size_t)k * m + d] = A[(size_t)i * m + d] - B[(size_t)j * m + d];
    const double *sk = c->s + (size_t)k * m;
    for (int t = 0; t <= k; t++) {
        const double *st = c->s + (size_t)t * m;
        double g = 1.0;
        for (int d = 0; d < m; d++)
            g += sk[d] * st[d];
        c->G[(size_t)k * c->cap + t] = c->G[(size_t)t * c->cap + k] = g;
    }
}

static void corral_point(corral *c)
{
    memset(c->x, 0, sizeof(double) * c->m);
    for (int k = 0; k < c->k; k++)
        for (int d = 0; d < c->m; d++)
            c->x[d] += c->lam[k] * c->s[(size_t)k * c->m + d];
}

/* Drop vertices with (near) zero weight; renormalise the rest. */
static void corral_prune(corral *c)
{
    int k2 = 0, *keep = c->keep;
    double tot = 0;
    for (int k = 0; k < c->k; k++) {
        if (c->lam[k] <= WEIGHT_EPS)
            continue;
        keep[k2] = k;
        c->ia[k2] = c->ia[k];
        c->ib[k2] = c->ib[k];
        c->lam[k2] = c->lam[k];
        memmove(c->s + (size_t)k2 * c->m, c->s + (size_t)k * c->m,
                sizeof(double) * c->m);
        tot += c->lam[k2++];
    }
    /* rows and columns move up/left; keep[r] >= r, so in place is safe */
    for (int r = 0; r < k2; r++)
        for (int t = 0; t < k2; t++)
            c->G[(size_t)r * c->cap + t] = c->G[(size_t)keep[r] * c->cap + keep[t]];
    c->k = k2;
    for (int k = 0; k < k2; k++)
        c->lam[k] /= tot;
}

/* Affine minimiser of |sum mu_k s_k| with sum mu_k = 1, Wolfe's way:
 * (e e^T + S S^T) nu = e, mu = nu / (e^T nu); the matrix is positive
 * definite exactly when the corral is affinely independent.  Cholesky,
 * k^3/3 flops; falls back to rank-revealing least squares on the
 * differences if the corral has become numerically degenerate. */
static int affine_min_lstsq(const corral *c, double *mu, double *work)
{
    int m = c->m, k = c->k;
    double *D = work, *r = work + (size_t)m * (k - 1), *sol = r + m;
    for (int d = 0; d < m; d++) {
        for (int j = 1; j < k; j++)
            D[(size_t)d * (k - 1) + j - 1] = c->s[(size_t)j * m + d] - c->s[d];
        r[d] = -c->s[d];
    }
    int rank;
    double cond;
    if (td_lstsq(m, k - 1, 1, D, r, 1e-13, sol, &rank, &cond))
        return -1;
    mu[0] = 1;
    for (int j = 1; j < k; j++) {
        mu[j] = sol[j - 1];
        mu[0] -= sol[j - 1];
    }
    return 0;
}

static int cholesky_solve(double *G, int k, double *b)
{
    for (int j = 0; j < k; j++) {
        double d = G[(size_t)j * k + j];
        for (int t = 0; t < j; t++)
            d -= G[(size_t)j * k + t] * G[(size_t)j * k + t];
        if (!(d > 1e-13 * (1 + fabs(G[(size_t)j * k + j]))))
            return -1;
        d = sqrt(d);
        G[(size_t)j * k + j] = d;
        for (int i = j + 1; i < k; i++) {
            double s = G[(size_t)i * k + j];
            for (int t = 0; t < j; t++)
                s -= G[(size_t)i * k + t] * G[(size_t)j * k + t];
            G[(size_t)i * k + j] = s / d;
        }
    }
    for (int i = 0; i < k; i++) {           /* L y = b */
        for (int t = 0; t < i; t++)
            b[i] -= G[(size_t)i * k + t] * b[t];
        b[i] /= G[(size_t)i * k + i];
    }
    for (int i = k - 1; i >= 0; i--) {      /* L^T x = y */
        for (int t = i + 1; t < k; t++)
            b[i] -= G[(size_t)t * k + i] * b[t];
        b[i] /= G[(size_t)i * k + i];
    }
    return 0;
}

static int affine_min(const corral *c, double *mu, double *work)
{
    int k = c->k;
    if (k == 1) {
        mu[0] = 1;
        return 0;
    }
    double *G = work;
    for (int i = 0; i < k; i++)
        memcpy(G + (size_t)i * k, c->G + (size_t)i * c->cap, sizeof(double) * k);
    for (int i = 0; i < k; i++)
        mu[i] = 1.0;
    if (cholesky_solve(G, k, mu))
        return affine_min_lstsq(c, mu, work);
    double tot = 0;
    for (int i = 0; i < k; i++)
        tot += mu[i];
    for (int i = 0; i < k; i++)
        mu[i] /= tot;
    return 0;
}

/* Minor cycles: move towards the affine minimiser while it has negative
 * weights, dropping the vertices that reach zero. */
static int minor_cycles(corral *c, double *mu, double *work)
{
    for (;;) {
        if (affine_min(c, mu, work))
            return -1;
        int inside = 1;
        double theta = 1;
        for (int k = 0; k < c->k; k++)
            if (mu[k] <= WEIGHT_EPS) {
                inside = 0;
                double t = c->lam[k] / (c->lam[k] - mu[k]);
                theta = fmin(theta, t);
            }
        for (int k = 0; k < c->k; k++)
            c->lam[k] = inside ? mu[k] : (1 - theta) * c->lam[k] + theta * mu[k];
        corral_prune(c);
        corral_point(c);
        if (inside)
            return 0;
    }
}

/* Linear oracle over P: i = argmin_A <x, a>, j = argmax_B <x, b>;
 * returns <x, a_i - b_j>. */
static double oracle(const double *A, int na, const double *B, int nb, int m,
                     const double *x, int *i_out, int *j_out)
{
    double amin = INFINITY, bmax = -INFINITY;
    for (int i = 0; i < na; i++) {
        double g = 0;
        for (int d = 0; d < m; d++)
            g += x[d] * A[(size_t)i * m + d];
        if (g < amin) {
            amin = g;
            *i_out = i;
        }
    }
    for (int j = 0; j < nb; j++) {
        double g = 0;
        for (int d = 0; d < m; d++)
            g += x[d] * B[(size_t)j * m + d];
        if (g > bmax) {
            bmax = g;
            *j_out = j;
        }
    }
    return amin - bmax;
}

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

/* First corral: the saved one if it fits these point lists, else the
 * oracle's vertex for the direction between the first points. */
static void corral_start(corral *c, const double *A, int na, const double *B,
                         int nb, const td_hull_warm *warm)
{
    int ok = warm && warm->k > 0 && warm->k <= c->cap;
    for (int k = 0; ok && k < warm->k; k++)
        ok = warm->ia[k] < na && warm->ib[k] < nb;
    if (ok) {
        for (int k = 0; k < warm->k; k++)
            corral_add(c, A, B, warm->ia[k], warm->ib[k], warm->lam[k]);
    } else {
        int i = 0, j = 0;
        for (int d = 0; d < c->m; d++)
            c->x[d] = A[d] - B[d];
        oracle(A, na, B, nb, c->m, c->x, &i, &j);
        corral_add(c, A, B, i, j, 1.0);
    }
    corral_point(c);
}

static void corral_save(const corral *c, td_hull_warm *warm)
{
    if (!warm || c->k > warm->cap)
        return;
    warm->k = c->k;
    memcpy(warm->ia, c->ia, sizeof(int) * c->k);
    memcpy(warm->ib, c->ib, sizeof(int) * c->k);
    memcpy(warm->lam, c->lam, sizeof(double) * c->k);
}

static int in_corral(const corral *c, int i, int j)
{
    for (int k = 0; k < c->k; k++)
        if (c->ia[k] == i && c->ib[k] == j)
            return 1;
    return 0;
}

/* Centred copies: differences are unchanged, magnitudes (and so rounding)
 * shrink; also returns the radius used for relative tolerances. */
static double *centred(int m, int na, const double *A, int nb,
                       const double *B, double *scale)
{
    int n = na + nb;
    double *Z = malloc(sizeof(double) * (size_t)n * m);
    double *cen = calloc((size_t)m, sizeof(double));
    if (!Z || !cen) {
        free(Z); free(cen);
        return NULL;
    }
    memcpy(Z, A, sizeof(double) * (size_t)na * m);
    memcpy(Z + (size_t)na * m, B, sizeof(double) * (size_t)nb * m);
    for (int i = 0; i < n; i++)
        for (int d = 0; d < m; d++)
            cen[d] += Z[(size_t)i * m + d] / n;
    *scale = 0;
    for (int i = 0; i < n; i++) {
        double r = 0;
        for (int d = 0; d < m; d++) {
            double z = Z[(size_t)i * m + d] -= cen[d];
            r += z * z;
        }
        *scale = fmax(*scale, sqrt(r));
    }
    free(cen);
    return Z;
}

static void hull_points(const corral *c, int m, const double *A,
                        const double *B, int na, int nb, double *u, double *v,
                        double *alpha, double *beta)
{
    memset(alpha, 0, sizeof(double) * na);
    memset(beta, 0, sizeof(double) * nb);
    for (int k = 0; k < c->k; k++) {
        alpha[c->ia[k]] += c->lam[k];
        beta[c->ib[k]] += c->lam[k];
    }
    memset(u, 0, sizeof(double) * m);
    memset(v, 0, sizeof(double) * m);
    for (int i = 0; i < na; i++)
        for (int d = 0; alpha[i] > 0 && d < m; d++)
            u[d] += alpha[i] * A[(size_t)i * m + d];
    for (int j = 0; j < nb; j++)
        for (int d = 0; beta[j] > 0 && d < m; d++)
            v[d] += beta[j] * B[(size_t)j * m + d];
}

td_hull_opts td_hull_defaults(void)
{
    return (td_hull_opts){.gap = 1e-3, .meet_tol = 1e-10, .max_iter = 0};
}

int td_hull_nearest(int m, int na, const double *A, int nb, const double *B,
                    const td_hull_opts *opt, double *u, double *v,
                    double *alpha, double *beta, td_hull_info *info,
                    td_hull_warm *warm)
{
    *info = (td_hull_info){0};
    if (m < 1 || na < 1 || nb < 1)
        return -1;
    double scale = 0;
    double *Z = centred(m, na, A, nb, B, &scale);
    corral c = {0};
    int cap = m + 2;
    int bad = corral_init(&c, m, cap);
    double *mu = malloc(sizeof(double) * cap);
    size_t wn = (size_t)cap * (cap > m ? cap : m) + m + cap + 8;
    double *work = malloc(sizeof(double) * wn);
    if (!Z || bad || !mu || !work) {
        free(Z); free(mu); free(work);
        corral_free(&c);
        return -1;
    }
    const double *Ac = Z, *Bc = Z + (size_t)na * m;
    long max_iter = opt->max_iter > 0 ? opt->max_iter : 200000 + 200L * (na + nb);
    info->scale = scale;
    corral_start(&c, Ac, na, Bc, nb, warm);
    int i = 0, j = 0;
    long it = 0;
    for (;; it++) {
        double xx = 0;
        for (int d = 0; d < m; d++)
            xx += c.x[d] * c.x[d];
        double xq = oracle(Ac, na, Bc, nb, m, c.x, &i, &j);
        info->dist = sqrt(xx);
        info->lower = info->dist > 0 ? xq / info->dist : 0.0;
        if (info->dist <= opt->meet_tol * scale) {
            info->converged = TD_HULL_MEET;
            break;
        }
        if (info->lower > 0 && info->dist - info->lower <= opt->gap * info->dist) {
            info->converged = TD_HULL_GAP;
            break;
        }
        if (it >= max_iter || in_corral(&c, i, j) || c.k >= cap)
            break;                           /* cap or numerical stall */
        corral_add(&c, Ac, Bc, i, j, 0.0);
        if (minor_cycles(&c, mu, work))
            break;
    }
    info->iters = it;
    corral_save(&c, warm);
    hull_points(&c, m, A, B, na, nb, u, v, alpha, beta);
    free(Z); free(mu); free(work);
    corral_free(&c);
    return 0;
}
