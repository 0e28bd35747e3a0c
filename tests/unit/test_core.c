/* test_core.c - the paper's statements checked numerically on random
 * instances: Lemma 2, Proposition 2, Lemma 1, structured == dense, the
 * lambda recipe, the output layer, exact sums and the hull solver. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "td_cone.h"
#include "td_config.h"
#include "td_nc.h"
#include "td_hull.h"
#include "td_linalg.h"
#include "td_network.h"
#include "td_shard.h"
#include "td_basepoint.h"
#include "td_topk.h"
#include "td_xsum.h"

/* ---- helpers -------------------------------------------------------- */

#include "test_rng.h"

static void rand_vec(double *x, int n, double s)
{
    for (int i = 0; i < n; i++)
        x[i] = s * nrand();
}

static double norm(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

static void matvec(const double *A, const double *x, double *y, int r, int c)
{
    for (int i = 0; i < r; i++) {
        y[i] = 0;
        for (int j = 0; j < c; j++)
            y[i] += A[(size_t)i * c + j] * x[j];
    }
}

static void matmul(const double *A, const double *B, double *C, int r, int k,
                   int c)
{
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (int t = 0; t < k; t++)
                s += A[(size_t)i * k + t] * B[(size_t)t * c + j];
            C[(size_t)i * c + j] = s;
        }
}

/* Moore-Penrose inverse (c x r) of A (r x c) by least squares on I. */
static void pinv(const double *A, int r, int c, double *Ap)
{
    double *I = calloc((size_t)r * r, sizeof(double));
    for (int i = 0; i < r; i++)
        I[(size_t)i * r + i] = 1;
    int rank;
    double cond;
    td_lstsq(r, c, r, A, I, 1e-13, Ap, &rank, &cond);
    free(I);
}

/* A point at angle phi from direction d (unit), distance t from p. */
static void point_at_angle(const double *p, const double *d, double phi,
                           double t, double *x, int n)
{
    double *e = malloc(sizeof(double) * n);
    rand_vec(e, n, 1);
    double s = 0;
    for (int i = 0; i < n; i++)
        s += e[i] * d[i];
    for (int i = 0; i < n; i++)
        e[i] -= s * d[i];
    double ne = norm(e, n);
    for (int i = 0; i < n; i++)
        x[i] = p[i] + t * (cos(phi) * d[i] + sin(phi) * e[i] / ne);
    free(e);
}

/* Dense truncation map of Definition 1: W^+ (relu(W x + b) - b). */
static void tau_dense(const double *W, const double *Wp, const double *b,
                      const double *x, double *out, int n)
{
    double *y = malloc(sizeof(double) * n);
    matvec(W, x, y, n, n);
    for (int i = 0; i < n; i++)
        y[i] = fmax(y[i] + b[i], 0.0) - b[i];
    matvec(Wp, y, out, n, n);
    free(y);
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

/* ---- Lemma 2 and the structured maps ----------------------------------- */

static void test_householder_maps_h_to_u(void)
{
    for (int trial = 0; trial < 50; trial++) {
        int n = 1 + trial % 9;
        double h[16], p[16], Rh[16];
        rand_vec(h, n, 1);
        if (trial % 5 == 0)          /* near +u and near -u: both branches */
            for (int i = 0; i < n; i++)
                h[i] = (trial % 10 ? -1 : 1) + 1e-9 * h[i];
        rand_vec(p, n, 1);
        td_cone c;
        CU_ASSERT_FATAL(td_cone_init(&c, n, h, p, 0.3) == 0);
        td_cone_apply_R(&c, c.h, Rh);
        for (int i = 0; i < n; i++)
            CU_ASSERT_DOUBLE_EQUAL(Rh[i], 1 / sqrt(n), 1e-13);
        td_cone_free(&c);
    }
}

static void test_structured_equals_dense(void)
{
    for (int trial = 0; trial < 20; trial++) {
        int n = 2 + trial * 3;
        double *W = malloc(sizeof(double) * n * n), *Wi = malloc(sizeof(double) * n * n);
        double *I = malloc(sizeof(double) * n * n);
        double *h = malloc(sizeof(double) * n), *p = malloc(sizeof(double) * n);
        double *x = malloc(sizeof(double) * n), *y1 = malloc(sizeof(double) * n);
        double *y2 = malloc(sizeof(double) * n);
        rand_vec(h, n, 1);
        rand_vec(p, n, 3);
        td_cone c;
        td_cone_init(&c, n, h, p, 0.01 + 0.98 * urand());
        td_cone_dense_W(&c, W);
        td_cone_dense_Winv(&c, Wi);
        rand_vec(x, n, 2);
        td_cone_apply_W(&c, x, y1);
        matvec(W, x, y2, n, n);
        CU_ASSERT(max_abs_diff(y1, y2, n) <= 1e-12 * (1 + norm(y2, n)));
        td_cone_apply_Winv(&c, x, y1);
        matvec(Wi, x, y2, n, n);
        CU_ASSERT(max_abs_diff(y1, y2, n) <= 1e-12 * (1 + norm(y2, n)));
        matmul(W, Wi, I, n, n, n);
        for (int i = 0; i < n; i++)
            I[(size_t)i * n + i] -= 1;
        CU_ASSERT(norm(I, n * n) < 1e-12 * n / c.lambda);
        free(W); free(Wi); free(I); free(h); free(p); free(x); free(y1); free(y2);
        td_cone_free(&c);
    }
}

/* Lemma 2: tau fixes the forward cone and sends the backward cone to p,
 * computed with the dense Definition 1 (W^+ by least squares). */
static void test_lemma2_cones(void)
{
    for (int trial = 0; trial < 30; trial++) {
        int n = 2 + trial % 7;
        double h[9], p[9], x[9], t[9], b[9], W[81], Wp[81];
        rand_vec(h, n, 1);
        rand_vec(p, n, 1);
        double theta = td_theta_n(n) + (M_PI - td_theta_n(n)) * (0.05 + 0.9 * urand());
        td_cone c;
        td_cone_init(&c, n, h, p, td_lambda_of_theta(theta, n));
        td_cone_dense_W(&c, W);
        pinv(W, n, n, Wp);
        matvec(W, p, b, n, n);
        for (int i = 0; i < n; i++)
            b[i] = -b[i];
        for (int k = 0; k < 20; k++) {
            double phi = 0.999 * urand() * theta / 2, r = 0.1 + 5 * urand();
            point_at_angle(p, c.h, phi, r, x, n);
            tau_dense(W, Wp, b, x, t, n);
            CU_ASSERT(max_abs_diff(t, x, n) < 1e-10 * (1 + r));
            double mh[9];
            for (int i = 0; i < n; i++)
                mh[i] = -c.h[i];
            point_at_angle(p, mh, phi, r, x, n);
            tau_dense(W, Wp, b, x, t, n);
            CU_ASSERT(max_abs_diff(t, p, n) < 1e-10 * (1 + r));
            double wk[18];
            CU_ASSERT(td_cone_truncate(&c, x, x, wk) == -1);
            CU_ASSERT(max_abs_diff(x, p, n) == 0);   /* exactly p */
        }
        td_cone_free(&c);
    }
}

/* The exact lambda recipe is tight: lambda just below lambda_max keeps
 * every point in its cone, just above it loses the binding point. */
static void test_lambda_recipe_tight(void)
{
    int n = 6, npts = 200;
    for (int trial = 0; trial < 10; trial++) {
        double h[6], p[6], *X = malloc(sizeof(double) * npts * n), work[12];
        int side[200];
        rand_vec(h, n, 1);
        rand_vec(p, n, 1);
        td_cone c;
        td_cone_init(&c, n, h, p, 1.0);
        double lmax = 1.0;
        for (int i = 0; i < npts; i++) {
            double *x = X + i * n;
            rand_vec(x, n, 2);
            double s = 0;
            for (int k = 0; k < n; k++)
                s += c.h[k] * (x[k] - p[k]);
            side[i] = s > 0 ? 1 : -1;
            lmax = fmin(lmax, td_cone_lambda_bound(&c, x, side[i], work));
        }
        CU_ASSERT_FATAL(lmax > 0 && lmax < 1);
        for (int pass = 0; pass < 2; pass++) {
            c.lambda = lmax * (pass ? 1.001 : 0.999);
            int bad = 0;
            double mg;
            for (int i = 0; i < npts; i++)
                bad += td_cone_classify(&c, X + i * n, &mg, work) != side[i];
            CU_ASSERT(pass ? bad > 0 : bad == 0);
        }
        td_cone_free(&c);
        free(X);
    }
}

/* ---- Proposition 2 and Lemma 1 ------------------------------------------- */

/* x^(l) = W^(l) x^(tau,l) + b^(l) for the network built from random cones. */
static void test_proposition2_cumulative(void)
{
    int n = 5, q = 4;
    td_cone cones[4];
    double h[5], p[5];
    for (int l = 0; l < q; l++) {
        rand_vec(h, n, 1);
        rand_vec(p, n, 1);
        td_cone_init(&cones[l], n, h, p, 0.05 + 0.9 * urand());
    }
    double wout[4 * 5], bout[4];
    rand_vec(wout, q * n, 1);
    rand_vec(bout, q, 1);
    td_network net;
    td_err err;
    td_err_clear(&err);
    CU_ASSERT_FATAL(td_network_from_cones(&net, n, n, q, cones, q, wout, bout,
                                          td_reset_cond(1e-8), &err) == 0);
    for (int trial = 0; trial < 200; trial++) {
        double x[5], xt[5], act[5], nxt[5], cum[5], work[10];
        rand_vec(x, n, 2);
        memcpy(xt, x, sizeof x);
        memcpy(act, x, sizeof x);
        for (int l = 0; l < q; l++) {
            matvec(net.W[l], act, nxt, n, n);
            for (int i = 0; i < n; i++)
                act[i] = fmax(nxt[i] + net.b[l][i], 0.0);
            td_cone_truncate(&cones[l], xt, xt, work);
            td_cone_preact(&cones[l], xt, cum, work);   /* W^(l)(x - p_l) */
            CU_ASSERT(max_abs_diff(act, cum, n) < 1e-9 * (1 + norm(cum, n)));
        }
        double out[4], ref[4];
        matvec(net.W[q], act, out, q, n);
        matvec(wout, xt, ref, q, n);      /* eq. (8): W^(L) x^(tau,L-1) + b^(L) */
        for (int i = 0; i < q; i++)
            CU_ASSERT(fabs(out[i] + net.b[q][i] - ref[i] - bout[i]) < 1e-8 * (1 + fabs(ref[i])));
    }
    td_network_free(&net);
    for (int l = 0; l < q; l++)
        td_cone_free(&cones[l]);
}

/* Plain float64 forward pass of one point through net (as users run it). */
static void forward_one(const td_network *net, const double *x, double *out)
{
    double a[64], z[64];
    memcpy(a, x, sizeof(double) * net->dims[0]);
    for (int k = 0; k < net->num_layers; k++) {
        matvec(net->W[k], a, z, net->dims[k + 1], net->dims[k]);
        for (int i = 0; i < net->dims[k + 1]; i++)
            a[i] = k + 1 < net->num_layers ? fmax(z[i] + net->b[k][i], 0.0)
                                           : z[i] + net->b[k][i];
    }
    memcpy(out, a, sizeof(double) * net->dims[net->num_layers]);
}

/* Tight cones (cond 1e6 each): every point near the origin is kept by all
 * of them, so the network is the output layer on x exactly.  Merging two
 * such cones in one weight matrix rounds at u cond^2 ~ 1e-4; with the reset
 * layers between them the float64 pass stays at the u cond level. */
static void test_tight_chain_rounding(void)
{
    int n = 5, q = 4;
    td_cone cones[4];
    double h[5], p[5];
    for (int l = 0; l < q; l++) {
        rand_vec(h, n, 1);
        for (int i = 0; i < n; i++)
            p[i] = -h[i] / norm(h, n);        /* origin 1 inside the cone */
        td_cone_init(&cones[l], n, h, p, 1e-6);
    }
    for (int l = 0; l + 1 < q; l++)
        CU_ASSERT(td_network_needs_reset(&cones[l], &cones[l + 1],
                                         td_reset_cond(1e-8)));
    double wout[4 * 5], bout[4];
    rand_vec(wout, q * n, 1);
    rand_vec(bout, q, 1);
    td_network net;
    td_err err;
    td_err_clear(&err);
    CU_ASSERT_FATAL(td_network_from_cones(&net, n, n, q, cones, q, wout, bout,
                                          td_reset_cond(1e-8), &err) == 0);
    CU_ASSERT_FATAL(net.num_layers == 2 * q);       /* q cones, q-1 resets */
    for (int k = 0; k + 1 < net.num_layers; k++) {
        CU_ASSERT(net.kind[k] == (k % 2 ? TD_LAYER_RESET : TD_LAYER_CONE));
        CU_ASSERT(net.dims[k + 1] == (k % 2 ? 2 * n : n));
    }
    CU_ASSERT(net.kind[net.num_layers - 1] == TD_LAYER_OUTPUT);
    double worst = 0;
    for (int trial = 0; trial < 200; trial++) {
        double x[5], out[4], ref[4];
        rand_vec(x, n, 0.1);
        forward_one(&net, x, out);
        matvec(wout, x, ref, q, n);
        for (int i = 0; i < q; i++)
            worst = fmax(worst, fabs(out[i] - ref[i] - bout[i]));
    }
    CU_ASSERT(worst < 1e-8);
    td_network_free(&net);
    for (int l = 0; l < q; l++)
        td_cone_free(&cones[l]);
}

/* Lemma 1 with shrinking widths: P^(l) = (W^(l))^+ W^(l) and
 * W^(l) P^(l-1) = W^(l) for surjective cumulative maps. */
static void test_lemma1_projectors(void)
{
    int dims[4] = {7, 6, 4, 3};
    double *Wc = NULL, *P = NULL;
    for (int l = 1; l < 4; l++) {
        int r = dims[l], c0 = dims[0];
        double *Wl = malloc(sizeof(double) * r * dims[l - 1]);
        rand_vec(Wl, r * dims[l - 1], 1);
        double *Wn = malloc(sizeof(double) * r * c0);
        if (Wc)
            matmul(Wl, Wc, Wn, r, dims[l - 1], c0);
        else
            memcpy(Wn, Wl, sizeof(double) * r * c0);
        double *Wp = malloc(sizeof(double) * c0 * r);
        pinv(Wn, r, c0, Wp);
        double *Pl = malloc(sizeof(double) * c0 * c0);
        matmul(Wp, Wn, Pl, c0, r, c0);               /* (W^(l))^+ W^(l) */
        if (P) {
            double *rec = malloc(sizeof(double) * c0 * c0);
            matmul(Pl, P, rec, c0, c0, c0);          /* eq. (9) recursion */
            CU_ASSERT(max_abs_diff(rec, Pl, (size_t)c0 * c0) < 1e-10);
            double *WP = malloc(sizeof(double) * r * c0);
            matmul(Wn, P, WP, r, c0, c0);            /* eq. (11) */
            CU_ASSERT(max_abs_diff(WP, Wn, (size_t)r * c0) < 1e-10);
            free(rec);
            free(WP);
        }
        double *PP = malloc(sizeof(double) * c0 * c0);
        matmul(Pl, Pl, PP, c0, c0, c0);              /* a projector */
        CU_ASSERT(max_abs_diff(PP, Pl, (size_t)c0 * c0) < 1e-10);
        free(PP);
        free(Wl); free(Wp); free(Wc); free(P);
        Wc = Wn;
        P = Pl;
    }
    free(Wc);
    free(P);
}

/* ---- output layer, exact sums, hulls -------------------------------------- */

static void test_output_layer_interpolates(void)
{
    for (int trial = 0; trial < 6; trial++) {
        int q = 2 + trial, n = q - 1 + trial % 3;   /* includes n = q - 1 */
        double *P = malloc(sizeof(double) * q * n), *Y = calloc((size_t)q * q, sizeof(double));
        double *W = malloc(sizeof(double) * q * n), b[8], y[8];
        rand_vec(P, q * n, 1);
        for (int j = 0; j < q; j++)
            Y[j * q + j] = 1;
        int used_bias;
        double cond;
        td_err err;
        td_err_clear(&err);
        CU_ASSERT_FATAL(td_output_layer(TD_OUT_AFFINE, n, q, P, q, Y, W, b, &used_bias, &cond, &err) == 0);
        for (int j = 0; j < q; j++) {
            matvec(W, P + j * n, y, q, n);
            for (int i = 0; i < q; i++)
                CU_ASSERT_DOUBLE_EQUAL(y[i] + b[i], Y[j * q + i], 1e-10);
        }
        if (q <= n) {      /* no larger than the paper's b = 0 form Y P^+ */
            double *Pp = malloc(sizeof(double) * n * q);
            pinv(P, q, n, Pp);                  /* Y = I: W = (P^+)^T */
            double fw = 0, fp = 0;
            for (int k = 0; k < q * n; k++) {
                fw += W[k] * W[k];
                fp += Pp[k] * Pp[k];
            }
            CU_ASSERT(fw <= fp * (1 + 1e-12));
            free(Pp);
        }
        /* translation invariant: shifting every p_j by t leaves W */
        double *W2 = malloc(sizeof(double) * q * n), b2[8];
        for (int j = 0; j < q; j++)
            for (int k = 0; k < n; k++)
                P[j * n + k] += 1.0 + k;
        CU_ASSERT_FATAL(td_output_layer(TD_OUT_AFFINE, n, q, P, q, Y, W2, b2, &used_bias, &cond, &err) == 0);
        for (int k = 0; k < q * n; k++)
            CU_ASSERT_DOUBLE_EQUAL(W2[k], W[k], 1e-10 * (1 + fabs(W[k])));
        free(P); free(Y); free(W); free(W2);
    }
}

static void test_output_layer_rejects_dependent_points(void)
{
    double P[3 * 2] = {0, 0, 1, 1, 2, 2};   /* collinear: affinely dependent */
    double Y[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, W[6], b[3], cond;
    int used_bias;
    td_err err;
    td_err_clear(&err);
    CU_ASSERT(td_output_layer(TD_OUT_AFFINE, 2, 3, P, 3, Y, W, b, &used_bias, &cond, &err) == TD_ERR_VERIFY);
    CU_ASSERT(strstr(err.msg, "affinely dependent") != NULL);
}

/* One output layer solve: zero residual W p_j + b = y_j, and the kind's
 * own claims (b = 0, b = ybar, the rank of W). */
static void check_output_kind(int kind, int n, int q, const double *P,
                              const double *Y)
{
    double *W = malloc(sizeof(double) * q * n), b[16], y[16], cond, dev;
    int used_bias, rank;
    td_err err;
    td_err_clear(&err);
    CU_ASSERT_FATAL(td_output_layer(kind, n, q, P, q, Y, W, b, &used_bias,
                                    &cond, &err) == 0);
    for (int j = 0; j < q; j++) {
        matvec(W, P + j * n, y, q, n);
        for (int i = 0; i < q; i++)
            CU_ASSERT_DOUBLE_EQUAL(y[i] + b[i], Y[j * q + i], 1e-10);
    }
    CU_ASSERT_FATAL(td_output_describe(n, q, q, W, b, Y, &rank, &dev) == 0);
    if (kind == TD_OUT_LINEAR) {
        for (int i = 0; i < q; i++)
            CU_ASSERT(b[i] == 0.0);
        CU_ASSERT(used_bias == 0);
        CU_ASSERT(rank == q);
    } else {
        CU_ASSERT(rank == q - 1);   /* both centre Y: rank Q - 1 */
    }
    if (kind == TD_OUT_NEURAL_COLLAPSE) {
        for (int i = 0; i < q; i++) {
            double ybar = 0;
            for (int j = 0; j < q; j++)
                ybar += Y[j * q + i];
            CU_ASSERT_DOUBLE_EQUAL(b[i], ybar / q, 1e-15);
        }
        CU_ASSERT(dev < 1e-15);
    }
    free(W);
}

static void test_output_layer_kinds(void)
{
    for (int trial = 0; trial < 9; trial++) {
        int q = 2 + trial % 6, n = q + trial % 3;   /* n >= q: all kinds */
        double *P = malloc(sizeof(double) * q * n), *Y = calloc((size_t)q * q, sizeof(double));
        rand_vec(P, q * n, 1);
        for (int j = 0; j < q; j++)
            Y[j * q + j] = 1;
        if (trial >= 6)             /* other independent targets */
            for (int k = 0; k < q * q; k++)
                Y[k] += 0.3 * nrand();
        check_output_kind(TD_OUT_AFFINE, n, q, P, Y);
        check_output_kind(TD_OUT_LINEAR, n, q, P, Y);
        check_output_kind(TD_OUT_NEURAL_COLLAPSE, n, q, P, Y);
        if (trial < 6) {            /* one-hot: NC's b is u/Q */
            double W[64], b[8], cond;
            int ub;
            td_err err;
            CU_ASSERT_FATAL(td_output_layer(TD_OUT_NEURAL_COLLAPSE, n, q, P, q,
                                            Y, W, b, &ub, &cond, &err) == 0);
            for (int i = 0; i < q; i++)
                CU_ASSERT(b[i] == 1.0 / q);
            /* the paper's W = (Y - ybar 1^T) P^+: here (P^+)^T - 1 ybar^T P^+^T */
            double *Pp = malloc(sizeof(double) * n * q);
            pinv(P, q, n, Pp);
            for (int i = 0; i < q; i++)
                for (int k = 0; k < n; k++) {
                    double want = Pp[k * q + i];
                    for (int j = 0; j < q; j++)
                        want -= Pp[k * q + j] / q;
                    CU_ASSERT_DOUBLE_EQUAL(W[i * n + k], want, 1e-9);
                }
            free(Pp);
        }
        free(P); free(Y);
    }
}

/* Linear and neural-collapse output layers need linearly independent base
 * points: refused for p_3 = p_1 + p_2 (affinely independent: affine
 * works) and for M = Q - 1. */
static void test_output_layer_kinds_refuse_dependent(void)
{
    double P[9] = {1, 0, 2, 0, 1, -1, 1, 1, 1};
    double P2[6] = {0, 0, 1, 0, 0, 1};          /* M = 2, Q = 3 */
    double Y[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, W[9], b[3], cond;
    int ub;
    td_err err;
    for (int kind = TD_OUT_LINEAR; kind <= TD_OUT_NEURAL_COLLAPSE; kind++) {
        td_err_clear(&err);
        CU_ASSERT(td_output_layer(kind, 3, 3, P, 3, Y, W, b, &ub, &cond, &err) == TD_ERR_VERIFY);
        CU_ASSERT(strstr(err.msg, "linearly dependent") != NULL);
        td_err_clear(&err);
        CU_ASSERT(td_output_layer(kind, 2, 3, P2, 3, Y, W, b, &ub, &cond, &err) == TD_ERR_VERIFY);
    }
    td_err_clear(&err);
    CU_ASSERT(td_output_layer(TD_OUT_AFFINE, 3, 3, P, 3, Y, W, b, &ub, &cond, &err) == 0);
    CU_ASSERT(td_output_layer(TD_OUT_AFFINE, 2, 3, P2, 3, Y, W, b, &ub, &cond, &err) == 0);
}

/* td_nc_finish against direct formulas: class means at the vertices of a
 * simplex ETF (NC2 measures 0) with scattered points (NC1 their variance),
 * sums taken from a reference far from the mean (no cancellation). */
static void test_nc_finish(void)
{
    enum { Q = 3, D = 4, NJ = 5 };
    double etf[Q][D] = {{2, 0, 0, 1}, {-1, 1.7320508075688772, 0, 1},
                        {-1, -1.7320508075688772, 0, 1}};
    double counts[Q], sq[Q] = {0}, pen[Q * (D + 1)] = {0}, out[Q * Q] = {0};
    double ref[Q * D], want_within = 0;
    for (int c = 0; c < Q; c++) {
        counts[c] = NJ;
        double mean[D] = {0}, pts[NJ][D];
        for (int i = 0; i < NJ; i++)
            for (int k = 0; k < D; k++) {
                pts[i][k] = etf[c][k] + 0.01 * nrand();
                mean[k] += pts[i][k] / NJ;
            }
        for (int k = 0; k < D; k++)
            ref[c * D + k] = etf[c][k] + 0.5;
        for (int i = 0; i < NJ; i++) {
            double s2 = 0;
            for (int k = 0; k < D; k++) {
                double t = pts[i][k] - ref[c * D + k];
                pen[c * (D + 1) + k] += t;
                s2 += t * t;
                want_within += (pts[i][k] - mean[k]) * (pts[i][k] - mean[k]) / NJ;
            }
            pen[c * (D + 1) + D] += s2;
        }
        for (int i = 0; i < Q; i++)     /* outputs off y_c by 0.1 e_c */
            out[c * Q + i] = i == c ? 0.1 * NJ : 0;
        sq[c] = 0.01 * NJ + 0.5;        /* + within 0.5 / NJ per row */
    }
    td_nc nc = {0};
    CU_ASSERT_FATAL(td_nc_finish(&nc, Q, D, counts, sq, pen, out, ref, NULL) == 0);
    CU_ASSERT_DOUBLE_EQUAL(nc.nc1_within, want_within, 1e-12);
    CU_ASSERT(nc.nc2_max_cos_dev < 0.05 && nc.nc2_norm_spread < 0.05);
    CU_ASSERT(nc.nc2_etf_dist < 0.05);
    CU_ASSERT_DOUBLE_EQUAL(nc.cn_between, Q * 0.01, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(nc.cn_within, Q * 0.5 / NJ, 1e-12);
    CU_ASSERT(isnan(nc.nc3_dual_dist));
    free(nc.means);
    /* exact ETF means, no scatter: every NC measure 0 */
    memset(pen, 0, sizeof pen);
    for (int c = 0; c < Q; c++)
        for (int k = 0; k < D; k++)
            ref[c * D + k] = etf[c][k];
    td_nc z = {0};
    CU_ASSERT_FATAL(td_nc_finish(&z, Q, D, counts, sq, pen, out, ref, ref) == 0);
    CU_ASSERT(z.nc1_within == 0);
    CU_ASSERT(z.nc2_max_cos_dev < 1e-15 && z.nc2_norm_spread < 1e-15);
    CU_ASSERT(z.nc2_etf_dist < 1e-15);
    CU_ASSERT(z.nc3_dual_dist > 0.1);   /* W = means uncentred: not dual */
    free(z.means);
}

static void test_xsum_order_independent(void)
{
    enum { N = 5000 };
    static double v[N];
    for (int i = 0; i < N; i++)
        v[i] = nrand() * pow(10.0, (i % 13) - 6);
    double amax = 0;
    for (int i = 0; i < N; i++)
        amax = fmax(amax, fabs(v[i]));
    int shift = td_xsum_shift(amax, N);
    td_i128 a1 = 0, a2 = 0;
    for (int i = 0; i < N; i++)
        td_xsum_add(&a1, &v[i], 1, shift);
    for (int i = N - 1; i >= 0; i -= 2)           /* another order */
        td_xsum_add(&a2, &v[i], 1, shift);
    for (int i = N - 2; i >= 0; i -= 2)
        td_xsum_add(&a2, &v[i], 1, shift);
    double s1, s2;
    td_xsum_get(&a1, 1, shift, &s1);
    td_xsum_get(&a2, 1, shift, &s2);
    CU_ASSERT(memcmp(&s1, &s2, sizeof s1) == 0);
    long double ref = 0;
    for (int i = 0; i < N; i++)
        ref += v[i];
    CU_ASSERT(fabs(s1 - (double)ref) <= 1e-12 * amax);
}

/* Any split of the items into parts, each keeping its k worst, merged in
 * any order, selects the same k as one pass over all of them. */
static void test_topk_partition_independent(void)
{
    enum { N = 500, K = 17 };
    td_topk_item all[N], ref[K], part[4][K], tmp[K], acc[K];
    srand(11);
    for (int i = 0; i < N; i++)          /* many ties: only 50 values */
        all[i] = (td_topk_item){(double)(rand() % 50), (uint64_t)(rand() % 7),
                                (int64_t)i, 0};   /* many copies of 350 points */
    int n = 0;
    for (int i = 0; i < N; i++)
        td_topk_offer(ref, &n, K, all[i]);
    td_topk_finish(ref, n, K);
    for (int split = 1; split < N; split += 97) {
        int np[4] = {0, 0, 0, 0};
        for (int i = 0; i < N; i++) {
            int p = i < split ? 0 : i % 3 + 1;
            td_topk_offer(part[p], &np[p], K, all[i]);
        }
        for (int p = 0; p < 4; p++)
            td_topk_finish(part[p], np[p], K);
        memcpy(acc, part[3], sizeof acc);
        for (int p = 2; p >= 0; p--) {
            td_topk_merge(part[p], acc, K, tmp);
            memcpy(acc, tmp, sizeof acc);
        }
        for (int t = 0; t < K; t++)
            CU_ASSERT(acc[t].gidx == ref[t].gidx && acc[t].v == ref[t].v);
    }
    for (int t = 1; t < K; t++)          /* worst first, each point once */
        CU_ASSERT(td_topk_worse(&ref[t - 1], &ref[t]));
    CU_ASSERT(td_topk_count(ref, K) == K);
    /* brute force: rank t holds the t-th worst distinct point, by its
     * lowest row */
    for (int t = 0; t < K; t++) {
        int worse = 0;
        int64_t low = INT64_MAX;
        for (int i = 0; i < N; i++) {
            if (all[i].v == ref[t].v && all[i].key == ref[t].key && i < low)
                low = i;
        }
        for (int u = 0; u < 50 * 7; u++) {   /* distinct points worse than it */
            td_topk_item p = {(double)(u / 7), (uint64_t)(u % 7), 0, 0};
            int present = 0;
            for (int i = 0; i < N && !present; i++)
                present = all[i].v == p.v && all[i].key == p.key;
            worse += present && td_topk_worse(&p, &ref[t]);
        }
        CU_ASSERT(worse == t);
        CU_ASSERT(ref[t].gidx == low);
    }
}

/* Base-point candidates lie on the hyperplane; the segment rule's point
 * lies on the segment from the class mean to the barycentre. */
static void test_base_candidates_on_hyperplane(void)
{
    enum { M = 4, Q = 3 };
    int64_t counts[Q] = {10, 20, 30};
    int done[Q] = {0, 0, 0};
    double means[Q * M] = {0, 0, 0, 0, 4, 0, 1, 0, 0, 6, 0, 2};
    double h[M] = {0.6, 0.8, 0, 0}, c = 2.0, out[TD_NBASE * M];
    CU_ASSERT_FATAL(td_base_candidates(M, Q, counts, means, done, 0, h, c, out) == 0);
    for (int r = 0; r < TD_NBASE; r++) {
        double s = 0;
        for (int k = 0; k < M; k++)
            s += h[k] * out[r * M + k];
        CU_ASSERT_DOUBLE_EQUAL(s, c, 1e-12);
    }
    /* barycentre (4/3, 2, 1/3, 2/3): the segment point is t * bary */
    double bary[M] = {4.0 / 3, 2.0, 1.0 / 3, 2.0 / 3}, t = out[0] / bary[0];
    for (int k = 0; k < M; k++)
        CU_ASSERT_DOUBLE_EQUAL(out[k], t * bary[k], 1e-12);
    CU_ASSERT(t > 0 && t < 1);
}

/* ---- free base points ------------------------------------------------- */

static double slack_of(const td_later_seps *ls, int j, const double *p, int m)
{
    double s = -ls->c[j];
    for (int k = 0; k < m; k++)
        s += ls->h[j * m + k] * p[k];
    return s;
}

/* Three collinear clusters (8 at x = -10, 21 at 0, 30 at 10), class 30
 * already collapsed onto p_30 = (5, 0): the near base point of class 8,
 * (-5, 0), puts the mean of class 21 inside the hull of the base points;
 * the free ones leave the line, at least reach away, and leave class 21 a
 * certified gap (every base point at least that far beyond it along u). */
static void test_free_base_collinear(void)
{
    enum { M = 2 };
    double h[M] = {1, 0}, c = -5, p0[M] = {-5, 0}, reach = 6;
    double Z[3 * M] = {0, 0, -10, 0, 5, 0};
    double P[M] = {5, 0}, mu[M] = {0, 0}, u[M], gap, out[TD_NFREE * M];
    int n = td_base_free(M, h, c, p0, 3, Z, NULL, reach, out);
    CU_ASSERT_FATAL(n >= 2);
    CU_ASSERT(td_base_hull_gap(M, 1, P, p0, mu, u, &gap) == 0);
    CU_ASSERT(gap == 0 && u[0] == 0 && u[1] == 0);
    int up = 0, down = 0;
    for (int i = 0; i < n; i++) {
        const double *p = out + i * M;
        CU_ASSERT_DOUBLE_EQUAL(p[0], -5.0, 1e-12);
        CU_ASSERT(fabs(p[1]) >= reach * (1 - 1e-12));
        CU_ASSERT_FATAL(td_base_hull_gap(M, 1, P, p, mu, u, &gap) == 0);
        /* distance from the origin to the segment (5, 0) - (-5, y) */
        double y = fabs(p[1]), want = 5 * y / sqrt(100 + y * y);
        CU_ASSERT(gap <= want * (1 + 1e-12) && gap >= want * (1 - 1e-3));
        CU_ASSERT(u[0] * P[0] + u[1] * P[1] >= gap * (1 - 1e-12));
        CU_ASSERT(u[0] * p[0] + u[1] * p[1] >= gap * (1 - 1e-12));
        up += p[1] > 0;
        down += p[1] < 0;
    }
    CU_ASSERT(up > 0 && down > 0);               /* both ways off the line */
    CU_ASSERT(td_base_free(1, h, c, p0, 3, Z, NULL, reach, out) == 0);
}

/* Random instances: every free candidate lies on H, keeps every later
 * separator's full margin, and is at least reach from p0 (or just far
 * enough to clear the separators p0 violates); a feasible
 * direction (u, planted) is found nearly always; with no separators the
 * candidate leaves the affine span of Z and p0. */
static void test_free_base_properties(void)
{
    int found = 0, climbed = 0, trials = 200;
    for (int t = 0; t < trials; t++) {
        int m = 2 + t % 5, nz = 1 + t % 4, ns = t % 4;
        double h[8], u[8], p0[8], Z[4 * 8], H[4 * 8], C[4], mg[4];
        double out[TD_NFREE * 8], reach = 1 + 4 * urand();
        rand_vec(h, m, 1);
        double hn = norm(h, m), c = 3 * nrand();
        for (int k = 0; k < m; k++)
            h[k] /= hn;
        rand_vec(p0, m, 2);
        double off = c - td_dot(h, p0, m);
        for (int k = 0; k < m; k++)
            p0[k] += off * h[k];
        rand_vec(u, m, 1);                      /* planted direction in H */
        double uh = td_dot(u, h, m);
        for (int k = 0; k < m; k++)
            u[k] -= uh * h[k];
        double un = norm(u, m);
        for (int k = 0; k < m; k++)
            u[k] /= un;
        for (int i = 0; i < nz; i++)
            for (int k = 0; k < m; k++)
                Z[i * m + k] = p0[k] + 2 * nrand();
        for (int j = 0; j < ns; j++) {
            double *hj = H + j * m;
            do {
                rand_vec(hj, m, 1);
                double n = norm(hj, m);
                for (int k = 0; k < m; k++)
                    hj[k] /= n;
            } while (td_dot(hj, u, m) < 0.3);
            mg[j] = 0.5 + urand();
            /* feasible at p0 + 8 u, violated at p0 for most j */
            C[j] = td_dot(hj, p0, m) + 8 * td_dot(hj, u, m) - mg[j] - urand();
        }
        td_later_seps ls = {ns, H, C, mg};
        int n = td_base_free(m, h, c, p0, nz, Z, &ls, reach, out), viol = 0;
        for (int j = 0; j < ns; j++)
            viol |= slack_of(&ls, j, p0, m) < mg[j];
        climbed += viol && n > 0;
        CU_ASSERT_FATAL(n >= 0 && n <= TD_NFREE);
        found += n > 0;
        for (int i = 0; i < n; i++) {
            const double *p = out + i * m;
            double d2 = 0;
            for (int k = 0; k < m; k++)
                d2 += (p[k] - p0[k]) * (p[k] - p0[k]);
            CU_ASSERT(fabs(td_dot(h, p, m) - c) <= 1e-12 * (1 + sqrt(d2) + fabs(c)));
            /* reach away, or less only to clear a violated separator */
            CU_ASSERT(sqrt(d2) >= reach * (1 - 1e-9) || (viol && d2 > 0));
            for (int j = 0; j < ns; j++)
                CU_ASSERT(slack_of(&ls, j, p, m) >= mg[j]);
        }
        if (ns == 0 && nz + 2 <= m && n > 0) {   /* a complement exists */
            double Zp[5 * 8];
            memcpy(Zp, Z, sizeof(double) * nz * m);
            memcpy(Zp + nz * m, p0, sizeof(double) * m);
            CU_ASSERT(td_affine_dist(m, nz + 1, Zp, out) >= reach * (1 - 1e-9));
        }
    }
    CU_ASSERT(found >= trials * 9 / 10);
    CU_ASSERT(climbed >= trials / 3);             /* the escape was tested */
}

/* Distance to an affine hull, repeated and collinear points included. */
static void test_affine_dist(void)
{
    double P[4 * 3] = {0, 0, 0, 1, 0, 0, 2, 0, 0, 1, 0, 0};
    double p[3] = {7, 3, 4};
    CU_ASSERT(isinf(td_affine_dist(3, 0, P, p)));
    CU_ASSERT_DOUBLE_EQUAL(td_affine_dist(3, 1, P, p), sqrt(49 + 9 + 16), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(td_affine_dist(3, 4, P, p), 5.0, 1e-12);
    double q[3] = {-3, 0, 0};
    CU_ASSERT(td_affine_dist(3, 4, P, q) <= 1e-12);
}

static void test_hull_distance_known(void)
{
    /* A on the plane x0 = 0, B on x0 = 2, overlapping in the other
     * coordinates: hull distance 2, normal e0. */
    int m = 3, na = 40, nb = 30;
    double *A = malloc(sizeof(double) * na * m), *B = malloc(sizeof(double) * nb * m);
    for (int i = 0; i < na; i++) {
        A[i * m] = -fabs(nrand()) * (i % 4 != 0);   /* some exactly on x0 = 0 */
        A[i * m + 1] = nrand();
        A[i * m + 2] = nrand();
    }
    for (int i = 0; i < nb; i++) {
        B[i * m] = 2 + fabs(nrand()) * (i % 3 != 0);
        B[i * m + 1] = nrand();
        B[i * m + 2] = nrand();
    }
    double u[3], v[3], al[40], be[30];
    td_hull_info info;
    CU_ASSERT_FATAL(td_hull_nearest(m, na, A, nb, B, &(td_hull_opts){.gap = 1e-12, .meet_tol = 1e-12, .max_iter = 1000000}, u, v, al, be, &info, NULL) == 0);
    CU_ASSERT(info.converged == 1);
    CU_ASSERT_DOUBLE_EQUAL(info.dist, 2.0, 1e-6);
    CU_ASSERT(info.lower <= info.dist + 1e-12 && info.lower > 2.0 - 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(v[0] - u[0], 2.0, 1e-6);
    free(A);
    free(B);
}

static void test_hull_detects_meeting(void)
{
    int m = 4, na = 30, nb = 30;
    double A[120], B[120], u[4], v[4], al[30], be[30];
    rand_vec(A, na * m, 1);
    rand_vec(B, nb * m, 1);
    memcpy(B + 7 * m, A + 3 * m, sizeof(double) * m);   /* a duplicated point */
    td_hull_info info;
    td_hull_nearest(m, na, A, nb, B, &(td_hull_opts){.gap = 1e-10, .meet_tol = 1e-10, .max_iter = 1000000}, u, v, al, be, &info, NULL);
    CU_ASSERT(info.converged == 2);
    CU_ASSERT(info.dist <= 1e-10 * info.scale);
    CU_ASSERT(info.lower <= 0);
}

/* td_partition_rank_of names the rank whose td_partition_rows range
 * holds the row, for ranks that own no rows too. */
static void test_partition_rank_of(void)
{
    const int64_t ns[] = {1, 7, 100, 1000, 3210};
    const int bs[] = {1, 16, 37, 1024};
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 4; b++)
            for (int np = 1; np <= 9; np += 2) {
                for (int64_t row = 0; row < ns[a]; row++) {
                    int r = td_partition_rank_of(ns[a], bs[b], np, row);
                    int64_t r0, nr;
                    td_partition_rows(ns[a], bs[b], r, np, &r0, &nr);
                    CU_ASSERT(r >= 0 && r < np && row >= r0 && row < r0 + nr);
                }
            }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("core", NULL, NULL);
    CU_add_test(s, "Householder R h = u", test_householder_maps_h_to_u);
    CU_add_test(s, "structured W, W^-1 equal dense", test_structured_equals_dense);
    CU_add_test(s, "Lemma 2: forward cone fixed, backward cone to p", test_lemma2_cones);
    CU_add_test(s, "lambda recipe is tight", test_lambda_recipe_tight);
    CU_add_test(s, "Proposition 2: cumulative parameters", test_proposition2_cumulative);
    CU_add_test(s, "tight cones: reset layers, float64 pass exact", test_tight_chain_rounding);
    CU_add_test(s, "Lemma 1: projector identities", test_lemma1_projectors);
    CU_add_test(s, "output layer interpolates", test_output_layer_interpolates);
    CU_add_test(s, "output layer rejects dependent points", test_output_layer_rejects_dependent_points);
    CU_add_test(s, "output layer kinds (affine, linear, neural collapse)", test_output_layer_kinds);
    CU_add_test(s, "linear and NC output layers refuse dependent points", test_output_layer_kinds_refuse_dependent);
    CU_add_test(s, "neural-collapse quantities", test_nc_finish);
    CU_add_test(s, "exact sums are order independent", test_xsum_order_independent);
    CU_add_test(s, "top-k selection is partition independent", test_topk_partition_independent);
    CU_add_test(s, "the rank holding a row", test_partition_rank_of);
    CU_add_test(s, "base-point candidates lie on the hyperplane", test_base_candidates_on_hyperplane);
    CU_add_test(s, "free base point leaves the collinear trap", test_free_base_collinear);
    CU_add_test(s, "free base points: on H, clear of later separators", test_free_base_properties);
    CU_add_test(s, "distance to an affine hull", test_affine_dist);
    CU_add_test(s, "hull distance of a known pair", test_hull_distance_known);
    CU_add_test(s, "hull meeting detected", test_hull_detects_meeting);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails != 0 || CU_get_error() != CUE_SUCCESS;
}
