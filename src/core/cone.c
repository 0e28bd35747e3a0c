/* cone.c - the cone layer of Lemma 2 with O(n) structured maps.
 * See td_cone.h for the formulas. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_cone.h"
#include "td_linalg.h"

double td_theta_n(int n)
{
    return 2.0 * acos(sqrt((double)(n - 1) / (double)n));
}

double td_lambda_of_theta(double theta, int n)
{
    double tn = td_theta_n(n);
    return theta > tn ? tan(tn / 2) / tan(theta / 2) : 1.0;
}

double td_theta_of_lambda(double lambda, int n)
{
    return 2.0 * atan(tan(td_theta_n(n) / 2) / lambda);
}

static double sum(const double *a, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i];
    return s;
}

int td_cone_init(td_cone *c, int n, const double *h, const double *p,
                 double lambda)
{
    *c = (td_cone){0};
    double nh = sqrt(td_dot(h, h, n));
    if (!(nh > 0) || !isfinite(nh) || !(lambda > 0 && lambda <= 1))
        return -1;
    c->n = n;
    c->lambda = lambda;
    c->h = malloc(sizeof(double) * n);
    c->p = malloc(sizeof(double) * n);
    c->v = malloc(sizeof(double) * n);
    if (!c->h || !c->p || !c->v) {
        td_cone_free(c);
        return -1;
    }
    double u = 1.0 / sqrt((double)n);
    for (int i = 0; i < n; i++) {
        c->h[i] = h[i] / nh;
        c->p[i] = p[i];
    }
    /* Reflect h onto -u (v = h + u) when h leans towards u, else onto u
     * (v = h - u): either way |v| is never small, so no cancellation; the
     * sign sigma then makes R h = +u. */
    c->sigma = sum(c->h, n) >= 0 ? -1.0 : 1.0;
    for (int i = 0; i < n; i++)
        c->v[i] = c->h[i] - c->sigma * u;
    c->vv = td_dot(c->v, c->v, n);
    return 0;
}

void td_cone_free(td_cone *c)
{
    free(c->h);
    free(c->p);
    free(c->v);
    *c = (td_cone){0};
}

void td_cone_apply_R(const td_cone *c, const double *x, double *out)
{
    int n = c->n;
    double f = c->vv > 0 ? 2.0 * td_dot(c->v, x, n) / c->vv : 0.0;
    for (int i = 0; i < n; i++)
        out[i] = c->sigma * (x[i] - f * c->v[i]);
}

/* y = (a I + (1 - a) u u^T) y, in place: W_theta for a = lambda and its
 * inverse for a = 1/lambda. */
static void apply_wtheta(double a, double *y, int n)
{
    double s = (1.0 - a) * sum(y, n) / n;
    for (int i = 0; i < n; i++)
        y[i] = a * y[i] + s;
}

void td_cone_apply_W(const td_cone *c, const double *x, double *out)
{
    td_cone_apply_R(c, x, out);
    apply_wtheta(c->lambda, out, c->n);
}

void td_cone_apply_Winv(const td_cone *c, const double *y, double *out)
{
    /* W^-1 = R W_theta^-1 (R is its own inverse); works in place */
    int n = c->n;
    if (out != y)
        memcpy(out, y, sizeof(double) * n);
    apply_wtheta(1.0 / c->lambda, out, n);
    double f = c->vv > 0 ? 2.0 * td_dot(c->v, out, n) / c->vv : 0.0;
    for (int i = 0; i < n; i++)
        out[i] = c->sigma * (out[i] - f * c->v[i]);
}

/* The same maps in long double (80-bit on x86-64) for exporting weights.
 * The inverse reads perpendicular directions back with 1/lambda, so a
 * double evaluation leaves absolute errors of u/lambda in entries that
 * come out small (measured up to 4e4 ulps at lambda 1e-7), and the
 * forward pass multiplies them by the data.  With 11 more bits they are
 * rounded once, at the end.  vv and 1/lambda are recomputed here so that
 * W and W^-1 are inverses to that precision. */
static void apply_R_ld(const td_cone *c, long double *x)
{
    long double vx = 0, vv = 0;
    for (int i = 0; i < c->n; i++) {
        vx += (long double)c->v[i] * x[i];
        vv += (long double)c->v[i] * c->v[i];
    }
    long double f = vv > 0 ? 2 * vx / vv : 0;
    for (int i = 0; i < c->n; i++)
        x[i] = c->sigma * (x[i] - f * c->v[i]);
}

static void apply_wtheta_ld(long double a, long double *y, int n)
{
    long double s = 0;
    for (int i = 0; i < n; i++)
        s += y[i];
    s *= (1 - a) / n;
    for (int i = 0; i < n; i++)
        y[i] = a * y[i] + s;
}

void td_cone_apply_W_ld(const td_cone *c, long double *x)
{
    apply_R_ld(c, x);
    apply_wtheta_ld(c->lambda, x, c->n);
}

void td_cone_apply_Winv_ld(const td_cone *c, long double *y)
{
    apply_wtheta_ld(1.0L / c->lambda, y, c->n);
    apply_R_ld(c, y);
}

void td_cone_preact(const td_cone *c, const double *x, double *out,
                    double *work)
{
    for (int i = 0; i < c->n; i++)
        work[i] = x[i] - c->p[i];
    td_cone_apply_W(c, work, out);
}

int td_cone_classify(const td_cone *c, const double *x, double *margin,
                     double *work)
{
    double *z = work + c->n;
    td_cone_preact(c, x, z, work);
    double zmin = z[0], zmax = z[0];
    for (int i = 1; i < c->n; i++) {
        if (z[i] < zmin) zmin = z[i];
        if (z[i] > zmax) zmax = z[i];
    }
    if (zmin >= 0) {
        *margin = zmin;
        return 1;
    }
    if (zmax <= 0) {
        *margin = -zmax;
        return -1;
    }
    /* mixed: how far the point is from either cone */
    *margin = -fmin(-zmin, zmax);
    return 0;
}

void td_cone_step(const td_cone *c, double *v, double *a, double *t)
{
    int n = c->n;
    for (int i = 0; i < n; i++)
        t[i] = v[i] - c->p[i];
    td_cone_apply_W(c, t, a);
    for (int i = 0; i < n; i++)
        a[i] = a[i] > 0 ? a[i] : 0.0;
    td_cone_apply_Winv(c, a, v);
    for (int i = 0; i < n; i++)
        v[i] += c->p[i];
}

int td_cone_truncate(const td_cone *c, const double *x, double *out,
                     double *work)
{
    double margin;
    int n = c->n;
    int code = td_cone_classify(c, x, &margin, work);
    if (code == 1) {
        if (out != x)
            memcpy(out, x, sizeof(double) * n);
    } else if (code == -1) {
        memcpy(out, c->p, sizeof(double) * n);
    } else {
        double *z = work + n;            /* W (x - p) from classify */
        for (int i = 0; i < n; i++)
            z[i] = z[i] > 0 ? z[i] : 0.0;
        td_cone_apply_Winv(c, z, work);
        for (int i = 0; i < n; i++)
            out[i] = c->p[i] + work[i];
    }
    return code;
}

double td_cone_lambda_cos(const td_cone *c, const double *x, int side,
                          double *work, double *cos_angle)
{
    int n = c->n;
    double *z = work, zz = 0;
    for (int i = 0; i < n; i++) {
        z[i] = x[i] - c->p[i];
        zz += z[i] * z[i];
    }
    double s = td_dot(c->h, z, n);
    *cos_angle = zz > 0 ? side * s / sqrt(zz) : 1.0;
    double a = s / sqrt((double)n);   /* (1-lambda) weight */
    if (side * a <= 0)
        return 0.0;
    td_cone_apply_R(c, z, z);
    /* component i of W z is lambda (Rz)_i + (1 - lambda) a; plain
     * comparisons, not fmin/fmax calls: this is the hottest loop of a
     * layer pass and the values are finite */
    double m = side * z[0];
    for (int i = 1; i < n; i++)
        m = side * z[i] < m ? side * z[i] : m;
    double aa = fabs(a);
    if (m >= 0)
        return INFINITY;
    return aa / (aa - m);
}

double td_cone_lambda_bound(const td_cone *c, const double *x, int side,
                            double *work)
{
    double cs;
    return td_cone_lambda_cos(c, x, side, work, &cs);
}

double td_cone_cos_angle(const td_cone *c, const double *x, int side)
{
    double s = 0, zz = 0;
    for (int i = 0; i < c->n; i++) {
        double z = x[i] - c->p[i];
        s += c->h[i] * z;
        zz += z * z;
    }
    return zz > 0 ? side * s / sqrt(zz) : 1.0;
}

/* Column j of a linear map is its image of e_j. */
static void dense_of(const td_cone *c,
                     void (*apply)(const td_cone *, const double *, double *),
                     double *A)
{
    int n = c->n;
    double *e = calloc((size_t)n, sizeof *e);
    double *col = malloc(sizeof(double) * n);
    for (int j = 0; j < n; j++) {
        e[j] = 1.0;
        apply(c, e, col);
        for (int i = 0; i < n; i++)
            A[(size_t)i * n + j] = col[i];
        e[j] = 0.0;
    }
    free(e);
    free(col);
}

void td_cone_dense_W(const td_cone *c, double *W)
{
    dense_of(c, td_cone_apply_W, W);
}

void td_cone_dense_Winv(const td_cone *c, double *Winv)
{
    dense_of(c, td_cone_apply_Winv, Winv);
}

double td_cone_cond(const td_cone *c)
{
    return 1.0 / c->lambda;
}
