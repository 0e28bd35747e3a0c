/* clustered.c - Proposition 3's conditions and the reduced-width
 * coordinates (see td_clustered.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_clustered.h"

static double dist2(const double *a, const double *b, int m)
{
    double d = 0;
    for (int k = 0; k < m; k++)
        d += (a[k] - b[k]) * (a[k] - b[k]);
    return d;
}

static double dot(const double *a, const double *b, int m)
{
    double d = 0;
    for (int k = 0; k < m; k++)
        d += a[k] * b[k];
    return d;
}

/* Half the aperture at apex a around unit f that holds the ball B_rho(b);
 * pi when the ball holds the apex. */
static double half_angle(const double *a, const double *f, const double *b,
                         double rho, int m)
{
    double d = sqrt(dist2(a, b, m));
    if (!(d > rho))
        return M_PI;
    double c = 0;
    for (int k = 0; k < m; k++)
        c += (b[k] - a[k]) * f[k];
    double ang = acos(fmax(-1.0, fmin(1.0, c / d)));
    return fmin(M_PI, ang + asin(rho / d));
}

static int alloc(td_clustered *c, int q, int m)
{
    *c = (td_clustered){0};
    c->q = q;
    c->m = m;
    c->xbar = calloc((size_t)m, sizeof(double));
    c->dist = calloc((size_t)q, sizeof(double));
    c->f = calloc((size_t)q * m, sizeof(double));
    c->delta_class = calloc((size_t)q, sizeof(double));
    c->theta_star = calloc((size_t)q, sizeof(double));
    c->theta_arg = calloc((size_t)q, sizeof(int));
    c->mu = calloc((size_t)q, sizeof(double));
    c->U = calloc((size_t)(q - 1) * m, sizeof(double));
    if (!c->xbar || !c->dist || !c->f || !c->delta_class || !c->theta_star ||
        !c->theta_arg || !c->mu || !c->U) {
        td_clustered_free(c);
        return -1;
    }
    return 0;
}

/* xbar, |mean_j - xbar|, f_j, delta, r and c0: condition (18). */
static void radii(const double *means, const double *delta_class,
                  td_clustered *c)
{
    int q = c->q, m = c->m;
    for (int j = 0; j < q; j++)
        for (int k = 0; k < m; k++)
            c->xbar[k] += means[(size_t)j * m + k] / q;
    c->r = INFINITY;
    for (int j = 0; j < q; j++) {
        const double *mj = means + (size_t)j * m;
        double d = sqrt(dist2(mj, c->xbar, m));
        c->dist[j] = d;
        for (int k = 0; k < m; k++)
            c->f[(size_t)j * m + k] = d > 0 ? (c->xbar[k] - mj[k]) / d : 0;
        c->delta_class[j] = delta_class[j];
        if (delta_class[j] > c->delta) {
            c->delta = delta_class[j];
            c->delta_arg = j;
        }
        if (d < c->r) {
            c->r = d;
            c->r_arg = j;
        }
    }
    c->c0 = c->r > 0 ? c->delta / c->r : INFINITY;
    c->holds18 = c->c0 < 0.25;
}

/* theta_*,j and mu_j: condition (20). */
static void angles(const double *means, td_clustered *c)
{
    int q = c->q, m = c->m;
    c->theta_max = -1;
    for (int j = 0; j < q; j++) {
        const double *mj = means + (size_t)j * m, *fj = c->f + (size_t)j * m;
        double half = -1, gap = INFINITY;
        for (int k = 0; k < q; k++) {
            if (k == j)
                continue;
            const double *mk = means + (size_t)k * m;
            double h = half_angle(mj, fj, mk, 4 * c->delta, m);
            if (h > half) {
                half = h;
                c->theta_arg[j] = k;
            }
            gap = fmin(gap, dot(fj, mk, m) - dot(fj, mj, m));
        }
        c->theta_star[j] = c->dist[j] > 0 ? 2 * half : 2 * M_PI;
        if (c->theta_star[j] > c->theta_max) {
            c->theta_max = c->theta_star[j];
            c->theta_max_arg = j;
        }
        c->mu[j] = c->delta > 0 ? 2.5 * c->delta
                                : 0.25 * (gap > 0 ? gap : c->dist[j]);
    }
    c->holds20 = c->theta_max < M_PI;
}

int td_clustered_conditions(int q, int m, const double *means,
                            const double *delta_class, td_clustered *c)
{
    if (alloc(c, q, m))
        return -1;
    radii(means, delta_class, c);
    angles(means, c);
    return 0;
}

/* v minus its components along the first n rows of U. */
static void orthogonalise(const double *U, int n, int m, double *v)
{
    for (int i = 0; i < n; i++) {
        const double *u = U + (size_t)i * m;
        double a = dot(u, v, m);
        for (int k = 0; k < m; k++)
            v[k] -= a * u[k];
    }
}

int td_clustered_basis(const double *means, td_clustered *c)
{
    int q = c->q, m = c->m;
    double *v = malloc(sizeof(double) * m), scale = 0;
    if (!v)
        return -1;
    for (int j = 0; j < q; j++)
        scale = fmax(scale, c->dist[j]);
    c->rank = 0;
    for (int j = 0; j < q && c->rank < q - 1; j++) {
        for (int k = 0; k < m; k++)
            v[k] = means[(size_t)j * m + k] - c->xbar[k];
        orthogonalise(c->U, c->rank, m, v);
        orthogonalise(c->U, c->rank, m, v);   /* twice is enough */
        double nv = sqrt(dot(v, v, m));
        if (!(nv > 1e-10 * scale))
            continue;
        for (int k = 0; k < m; k++)
            c->U[(size_t)c->rank * m + k] = v[k] / nv;
        c->rank++;
    }
    c->t = scale;
    free(v);
    return 0;
}

void td_clustered_project(const td_clustered *c, const double *x, double *z)
{
    int m = c->m;
    for (int i = 0; i < c->q - 1; i++) {
        const double *u = c->U + (size_t)i * m;
        double s = 0;
        for (int k = 0; k < m; k++)
            s += u[k] * (x[k] - c->xbar[k]);
        z[i] = s;
    }
    z[c->q - 1] = c->t;
}

void td_clustered_input_map(const td_clustered *c, double *A, double *s)
{
    int q = c->q, m = c->m;
    memset(A, 0, sizeof(double) * (size_t)q * m);
    memcpy(A, c->U, sizeof(double) * (size_t)(q - 1) * m);
    for (int i = 0; i < q - 1; i++)
        s[i] = -dot(c->U + (size_t)i * m, c->xbar, m);
    s[q - 1] = c->t;
}

void td_clustered_cone(const td_clustered *c, const double *means, int j,
                       double *h, double *p)
{
    int q = c->q, m = c->m;
    const double *fj = c->f + (size_t)j * m, *mj = means + (size_t)j * m;
    for (int i = 0; i < q - 1; i++) {
        const double *u = c->U + (size_t)i * m;
        double a = 0;
        for (int k = 0; k < m; k++)
            a += u[k] * (mj[k] - c->xbar[k]);
        h[i] = dot(u, fj, m);
        p[i] = a + c->mu[j] * h[i];
    }
    h[q - 1] = 0;
    p[q - 1] = c->t;
    double nh = sqrt(dot(h, h, q));   /* f_j lies in the span: 1 */
    for (int i = 0; i < q && nh > 0; i++)
        h[i] /= nh;
}

void td_clustered_describe(const td_clustered *c, const int64_t *labels,
                           char *buf, size_t len)
{
    int n = snprintf(buf, len, "delta = %.4g (class %lld), min |mean_j - "
                     "xbar| = %.4g (class %lld): (18) %s, c0 = delta / min "
                     "= %.4g %s 1/4", c->delta, (long long)labels[c->delta_arg],
                     c->r, (long long)labels[c->r_arg],
                     c->holds18 ? "holds" : "fails", c->c0,
                     c->holds18 ? "<" : ">=");
    if (!c->holds18 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - n, " (delta %.3g times too large)",
                      4 * c->c0);
    int j = c->theta_max_arg;
    if (n >= 0 && (size_t)n < len && c->theta_star[j] >= 2 * M_PI)
        n += snprintf(buf + n, len - n, "; (20) fails: the 4 delta ball of "
                      "class %lld holds the mean of class %lld (no cone)",
                      (long long)labels[c->theta_arg[j]], (long long)labels[j]);
    else if (n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - n, "; (20) %s, max theta_* = %.4f pi "
                      "(class %lld, set by the ball of class %lld) %s pi",
                      c->holds20 ? "holds" : "fails", c->theta_max / M_PI,
                      (long long)labels[j], (long long)labels[c->theta_arg[j]],
                      c->holds20 ? "<" : ">=");
    if (!c->holds20 && c->theta_star[j] < 2 * M_PI && n >= 0 &&
        (size_t)n < len)
        snprintf(buf + n, len - n, " (by %.4f pi)", c->theta_max / M_PI - 1);
}

void td_clustered_free(td_clustered *c)
{
    free(c->xbar); free(c->dist); free(c->f); free(c->delta_class);
    free(c->theta_star); free(c->theta_arg); free(c->mu); free(c->U);
    *c = (td_clustered){0};
}
