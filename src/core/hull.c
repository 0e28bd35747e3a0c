/* hull.c - nearest points of two convex hulls by pairwise weight transfer
 * (Mitchell-Demyanov-Malozemov), see td_hull.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_hull.h"

typedef struct {
    int n, na, m;
    double *Z;      /* n x m centred points: A first, then B */
    double *K;      /* n x n Gram matrix of Z */
    double *wt;     /* n convex weights (alpha then beta) */
    double *g;      /* g_i = <w, z_i>, w = v - u */
    double ww;      /* |w|^2 */
} hull_state;

static int hull_setup(hull_state *s, int m, int na, const double *A, int nb,
                      const double *B, double *scale)
{
    int n = na + nb;
    s->n = n; s->na = na; s->m = m;
    s->Z = malloc(sizeof(double) * (size_t)n * m);
    s->K = malloc(sizeof(double) * (size_t)n * n);
    s->wt = malloc(sizeof(double) * n);
    s->g = malloc(sizeof(double) * n);
    double *c = calloc((size_t)m, sizeof(double));
    if (!s->Z || !s->K || !s->wt || !s->g || !c) {
        free(c);
        return -1;
    }
    memcpy(s->Z, A, sizeof(double) * (size_t)na * m);
    memcpy(s->Z + (size_t)na * m, B, sizeof(double) * (size_t)nb * m);
    /* centring keeps |z|^2 small, so Gram differences lose fewer digits */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < m; k++)
            c[k] += s->Z[(size_t)i * m + k] / n;
    *scale = 0;
    for (int i = 0; i < n; i++) {
        double r = 0;
        for (int k = 0; k < m; k++) {
            double z = s->Z[(size_t)i * m + k] -= c[k];
            r += z * z;
        }
        *scale = fmax(*scale, sqrt(r));
    }
    free(c);
    /* Plain loops, not BLAS: each entry is summed in one fixed order, so
     * the Gram matrix (and everything after it) does not depend on the
     * thread count. */
    #pragma omp parallel for schedule(dynamic, 16)
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            const double *zi = s->Z + (size_t)i * m, *zj = s->Z + (size_t)j * m;
            double d = 0;
            for (int k = 0; k < m; k++)
                d += zi[k] * zj[k];
            s->K[(size_t)i * n + j] = s->K[(size_t)j * n + i] = d;
        }
    for (int i = 0; i < na; i++)
        s->wt[i] = 1.0 / na;
    for (int i = na; i < n; i++)
        s->wt[i] = 1.0 / nb;
    return 0;
}

static void hull_free(hull_state *s)
{
    free(s->Z); free(s->K); free(s->wt); free(s->g);
}

/* Recompute g = K (beta - alpha) and |w|^2 from the weights: removes the
 * drift of the incremental updates. */
static void hull_refresh(hull_state *s)
{
    int n = s->n;
    double ww = 0;
    for (int i = 0; i < n; i++) {
        const double *Ki = s->K + (size_t)i * n;
        double gi = 0;
        for (int j = 0; j < n; j++)
            gi += (j < s->na ? -s->wt[j] : s->wt[j]) * Ki[j];
        s->g[i] = gi;
        ww += (i < s->na ? -s->wt[i] : s->wt[i]) * gi;
    }
    s->ww = fmax(ww, 0.0);
}

/* Extremes of g: max over A, min over B, and over the supports the
 * opposite extremes (where weight can be taken from). */
typedef struct { int a_hi, a_lo, b_lo, b_hi; } extremes;

static extremes hull_extremes(const hull_state *s)
{
    extremes e = {-1, -1, -1, -1};
    for (int i = 0; i < s->n; i++) {
        double gi = s->g[i];
        int supp = s->wt[i] > 0;
        if (i < s->na) {
            if (e.a_hi < 0 || gi > s->g[e.a_hi]) e.a_hi = i;
            if (supp && (e.a_lo < 0 || gi < s->g[e.a_lo])) e.a_lo = i;
        } else {
            if (e.b_lo < 0 || gi < s->g[e.b_lo]) e.b_lo = i;
            if (supp && (e.b_hi < 0 || gi > s->g[e.b_hi])) e.b_hi = i;
        }
    }
    return e;
}

/* Move weight t from point `from` to point `to` in the same set; sign is
 * -1 for A (w = v - u loses u) and +1 for B. */
static void hull_transfer(hull_state *s, int from, int to, double sign)
{
    int n = s->n;
    const double *Kt = s->K + (size_t)to * n, *Kf = s->K + (size_t)from * n;
    double gap = sign * (s->g[from] - s->g[to]);     /* >= 0 */
    double dd = Kt[to] + Kf[from] - 2 * Kt[from];
    if (!(dd > 0))
        return;
    double t = fmin(gap / dd, s->wt[from]);
    s->wt[from] -= t;
    s->wt[to] += t;
    if (s->wt[from] < 1e-300)      /* exact zero keeps the support clean */
        s->wt[from] = 0;
    for (int i = 0; i < n; i++)
        s->g[i] += sign * t * (Kt[i] - Kf[i]);
    s->ww += -2 * t * gap + t * t * dd;
}

static void hull_points(const hull_state *s, const double *A, const double *B,
                        double *u, double *v, double *alpha, double *beta)
{
    int m = s->m, na = s->na, nb = s->n - na;
    memset(u, 0, sizeof(double) * m);
    memset(v, 0, sizeof(double) * m);
    for (int i = 0; i < na; i++) {
        alpha[i] = s->wt[i];
        for (int k = 0; k < m; k++)
            u[k] += alpha[i] * A[(size_t)i * m + k];
    }
    for (int i = 0; i < nb; i++) {
        beta[i] = s->wt[na + i];
        for (int k = 0; k < m; k++)
            v[k] += beta[i] * B[(size_t)i * m + k];
    }
}

int td_hull_nearest(int m, int na, const double *A, int nb, const double *B,
                    double tol, long max_iter, double *u, double *v,
                    double *alpha, double *beta, td_hull_info *info)
{
    hull_state s = {0};
    *info = (td_hull_info){0};
    if (m < 1 || na < 1 || nb < 1)
        return -1;
    if (hull_setup(&s, m, na, A, nb, B, &info->scale)) {
        hull_free(&s);
        return -1;
    }
    hull_refresh(&s);
    long it = 0;
    for (;; it++) {
        if (it % 512 == 0)
            hull_refresh(&s);
        extremes e = hull_extremes(&s);
        double dist = sqrt(s.ww);
        double width = s.g[e.b_lo] - s.g[e.a_hi];
        info->dist = dist;
        info->lower = dist > 0 ? width / dist : 0.0;
        if (dist <= tol * info->scale) {
            info->converged = 2;
            break;
        }
        if (s.ww - width <= tol * s.ww) {
            info->converged = 1;
            break;
        }
        if (it >= max_iter)
            break;
        double gap_a = s.g[e.a_hi] - s.g[e.a_lo];
        double gap_b = s.g[e.b_hi] - s.g[e.b_lo];
        if (gap_a >= gap_b)
            hull_transfer(&s, e.a_lo, e.a_hi, -1.0);
        else
            hull_transfer(&s, e.b_hi, e.b_lo, 1.0);
    }
    info->iters = it;
    hull_points(&s, A, B, u, v, alpha, beta);
    hull_free(&s);
    return 0;
}
