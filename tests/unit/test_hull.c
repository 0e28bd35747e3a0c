/* test_hull.c - the hull solver on instances whose answer is known by
 * construction: exact small cases, tight and degenerate separations
 * (bracketed in long double from the stored points), meeting hulls and
 * their certificates, warm starts, the iteration cap and bad input.
 * tests/unit/hull_reference.py checks more instances against SciPy. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "td_hull.h"

/* ---- helpers ---------------------------------------------------------- */

#include "test_rng.h"

/* A solve and everything it returned. */
typedef struct {
    int m, na, nb;
    double *u, *v, *al, *be;
    td_hull_info info;
    int rc;
} result;

static void solve(int m, int na, const double *A, int nb, const double *B,
                  const td_hull_opts *opt, td_hull_warm *warm, result *r)
{
    *r = (result){.m = m, .na = na, .nb = nb};
    r->u = malloc(sizeof(double) * m);
    r->v = malloc(sizeof(double) * m);
    r->al = malloc(sizeof(double) * na);
    r->be = malloc(sizeof(double) * nb);
    r->rc = td_hull_nearest(m, na, A, nb, B, opt, r->u, r->v, r->al, r->be,
                            &r->info, warm);
}

static void result_free(result *r)
{
    free(r->u); free(r->v); free(r->al); free(r->be);
}

/* Convex weights, and |sum beta b - sum alpha a| (long double, centred on
 * A's first point) equal to dist up to rounding. */
static void check_weights(const result *r, const double *A, const double *B)
{
    long double sa = 0, sb = 0, d2 = 0;
    for (int i = 0; i < r->na; i++) {
        CU_ASSERT(r->al[i] >= 0);
        sa += r->al[i];
    }
    for (int j = 0; j < r->nb; j++) {
        CU_ASSERT(r->be[j] >= 0);
        sb += r->be[j];
    }
    CU_ASSERT(fabsl(sa - 1) < 1e-12 && fabsl(sb - 1) < 1e-12);
    for (int d = 0; d < r->m; d++) {
        long double x = 0;
        for (int j = 0; j < r->nb; j++)
            x += (long double)r->be[j] * ((long double)B[(size_t)j * r->m + d] - A[d]);
        for (int i = 0; i < r->na; i++)
            x -= (long double)r->al[i] * ((long double)A[(size_t)i * r->m + d] - A[d]);
        d2 += x * x;
    }
    double ref = (double)sqrtl(d2);
    CU_ASSERT(fabs(r->info.dist - ref) <= 1e-12 * r->info.scale + 1e-9 * ref);
}

/* min_B <h, b> - max_A <h, a> for a unit h, in long double. */
static double margin(int m, int na, const double *A, int nb, const double *B,
                     const double *h)
{
    long double lo = INFINITY, hi = -INFINITY, hh = 0;
    for (int d = 0; d < m; d++)
        hh += (long double)h[d] * h[d];
    for (int j = 0; j < nb; j++) {
        long double s = 0;
        for (int d = 0; d < m; d++)
            s += (long double)h[d] * B[(size_t)j * m + d];
        lo = s < lo ? s : lo;
    }
    for (int i = 0; i < na; i++) {
        long double s = 0;
        for (int d = 0; d < m; d++)
            s += (long double)h[d] * A[(size_t)i * m + d];
        hi = s > hi ? s : hi;
    }
    return (double)((lo - hi) / sqrtl(hh));
}

/* ---- instances with a known hull distance ------------------------------ */

typedef struct {
    int m, n;                /* n points per class in R^m */
    double *A, *B;
    double lower, upper;     /* lower <= hull distance <= upper */
} inst;

static void inst_free(inst *t)
{
    free(t->A);
    free(t->B);
}

/* r orthonormal vectors of length me (rows of Q), Gram-Schmidt twice. */
static void random_basis(double *Q, int r, int me)
{
    for (int k = 0; k < r; k++) {
        double *q = Q + (size_t)k * me;
        for (int d = 0; d < me; d++)
            q[d] = nrand();
        for (int pass = 0; pass < 2; pass++)
            for (int l = 0; l < k; l++) {
                double s = 0;
                for (int d = 0; d < me; d++)
                    s += q[d] * Q[(size_t)l * me + d];
                for (int d = 0; d < me; d++)
                    q[d] -= s * Q[(size_t)l * me + d];
            }
        double nq = 0;
        for (int d = 0; d < me; d++)
            nq += q[d] * q[d];
        for (int d = 0; d < me; d++)
            q[d] /= sqrt(nq);
    }
}

/* A point of the subspace orthogonal to w = Q[0], features scaled by fs:
 * p = P_sub (fs .* (Q^T y)), then w's component removed. */
static void inplane(const double *Q, int r, int me, const double *fs, double *p)
{
    double c[64];
    memset(p, 0, sizeof(double) * me);
    for (int k = 0; k < r; k++) {
        double y = nrand();
        for (int d = 0; d < me; d++)
            p[d] += y * Q[(size_t)k * me + d] * fs[d];
    }
    for (int k = 0; k < r; k++) {
        c[k] = 0;
        for (int d = 0; d < me; d++)
            c[k] += p[d] * Q[(size_t)k * me + d];
    }
    for (int d = 0; d < me; d++) {
        p[d] = 0;
        for (int k = 1; k < r; k++)          /* k = 0 is w: left out */
            p[d] += c[k] * Q[(size_t)k * me + d];
    }
}

/* The stored points' bracket: the margin of w and the shortest pair. */
static void bracket(inst *t, const double *w, int pairs)
{
    t->lower = margin(t->m, t->n, t->A, t->n, t->B, w);
    t->upper = INFINITY;
    for (int k = 0; k < pairs; k++) {
        long double s = 0;
        for (int d = 0; d < t->m; d++) {
            long double e = (long double)t->B[(size_t)k * t->m + d] -
                            t->A[(size_t)k * t->m + d];
            s += e * e;
        }
        t->upper = fmin(t->upper, (double)sqrtl(s));
    }
}

typedef struct {
    int n, m, rank, cc, pairs, dup;  /* cc constant columns */
    double rel, fs, offset;          /* distance / spread, feature scale */
    uint64_t seed;
} shape;

/* Classes either side of w at distance rel * spread: `pairs` points of
 * each class share their in-plane part, the others lie deeper; points on
 * a rank-dimensional subspace, features scaled by 10^U(-fs, fs), cc
 * constant columns, dup copied rows per class, shifted by offset. */
static void make_tight(inst *t, shape s)
{
    int me = s.m - s.cc, r = s.rank < me ? s.rank : me, m = s.m, n = s.n;
    double *Q = malloc(sizeof(double) * r * me), *fs = malloc(sizeof(double) * me);
    double *wf = calloc((size_t)m, sizeof(double)), spread = 1;
    rng_state = s.seed;
    random_basis(Q, r, me);
    for (int d = 0; d < me; d++)
        fs[d] = pow(10.0, s.fs * (2 * urand() - 1));
    *t = (inst){.m = m, .n = n, .A = malloc(sizeof(double) * n * m),
                .B = malloc(sizeof(double) * n * m)};
    double *X[2] = {t->A, t->B};
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < n; i++) {
            double *p = X[side] + (size_t)i * m + s.cc, nn = 0;
            inplane(Q, r, me, fs, p);
            for (int d = 0; d < me; d++)
                nn += p[d] * p[d];
            spread = fmax(spread, sqrt(nn));
        }
    double gap = s.rel * spread;
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < n; i++) {
            double depth = 0.5 * gap + (i < s.pairs ? 0 : spread * fabs(nrand()));
            for (int d = 0; d < me; d++)
                X[side][(size_t)i * m + s.cc + d] += (side ? depth : -depth) * Q[d];
        }
    for (int i = 0; i < s.pairs; i++)
        for (int d = 0; d < me; d++)
            t->B[(size_t)i * m + s.cc + d] = t->A[(size_t)i * m + s.cc + d] + gap * Q[d];
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < n; i++) {
            double *x = X[side] + (size_t)i * m;
            for (int d = 0; d < m; d++)
                x[d] = (d < s.cc ? 1.0 : x[d]) + s.offset;
            if (i >= n - s.dup)        /* a copy of an earlier row */
                memcpy(x, X[side] + (size_t)(urand() * (n - s.dup)) * m,
                       sizeof(double) * m);
        }
    memcpy(wf + s.cc, Q, sizeof(double) * me);
    bracket(t, wf, s.pairs);
    free(Q); free(fs); free(wf);
}

/* The answer brackets the truth and meets the gap it claims. */
static void check_bracket(const result *r, const inst *t, double gap)
{
    double tol = 1e-13 * r->info.scale;
    CU_ASSERT(r->info.lower <= t->upper + tol);
    CU_ASSERT(r->info.dist >= t->lower - tol);
    if (r->info.converged == TD_HULL_GAP)
        CU_ASSERT(r->info.dist - r->info.lower <= gap * r->info.dist);
}

/* Solve a shape with options opt, check it exits with `expect`. */
static void run_shape(shape s, td_hull_opts opt, int expect)
{
    inst t;
    result r;
    make_tight(&t, s);
    CU_ASSERT_FATAL(t.lower > 0 && t.upper - t.lower <= 1e-6 * t.upper);
    solve(s.m, s.n, t.A, s.n, t.B, &opt, NULL, &r);
    CU_ASSERT(r.rc == 0);
    CU_ASSERT(r.info.converged == expect);
    check_weights(&r, t.A, t.B);
    check_bracket(&r, &t, opt.gap);
    result_free(&r);
    inst_free(&t);
}

/* ---- tests -------------------------------------------------------------- */

static td_hull_opts opts(double gap, double meet_tol, long max_iter)
{
    return (td_hull_opts){.gap = gap, .meet_tol = meet_tol, .max_iter = max_iter};
}

static void test_single_points(void)
{
    double A[3] = {1, 2, 3}, B[3] = {1.5, 2, 2};
    result r;
    td_hull_opts o = td_hull_defaults();
    solve(3, 1, A, 1, B, &o, NULL, &r);
    CU_ASSERT(r.rc == 0 && r.info.converged == TD_HULL_GAP);
    CU_ASSERT_DOUBLE_EQUAL(r.info.dist, sqrt(1.25), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(r.info.lower, sqrt(1.25), 1e-15);
    CU_ASSERT(r.al[0] == 1 && r.be[0] == 1);
    for (int d = 0; d < 3; d++)
        CU_ASSERT(fabs(r.u[d] - A[d]) < 1e-15 && fabs(r.v[d] - B[d]) < 1e-15);
    result_free(&r);
}

static void test_one_dimensional(void)
{
    double A[4] = {-3, -1, -2.5, -1}, B[3] = {4, 1, 2};    /* -1 twice */
    result r;
    td_hull_opts o = opts(1e-12, 1e-10, 0);
    solve(1, 4, A, 3, B, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_GAP);
    CU_ASSERT_DOUBLE_EQUAL(r.info.dist, 2.0, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(r.u[0], -1.0, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(r.v[0], 1.0, 1e-14);
    CU_ASSERT(r.al[0] == 0 && r.al[2] == 0 && r.be[0] == 0 && r.be[2] == 0);
    result_free(&r);
}

/* Full-dimensional, features 1e-3 .. 1e3, distance 1e-4 .. 1e-8 of the
 * spread: the last ones need the precise mode. */
static void test_tight_margins(void)
{
    double rel[3] = {1e-4, 1e-6, 1e-8};
    for (int k = 0; k < 3; k++) {
        shape s = {.n = 400, .m = 12, .rank = 12, .pairs = 6, .rel = rel[k],
                   .fs = 3, .seed = 100 + k};
        run_shape(s, td_hull_defaults(), TD_HULL_GAP);
    }
}

/* Rank 5 in R^80 with 10 constant columns, duplicated rows, 40 points of
 * each class exactly on the supporting hyperplanes, a large offset. */
static void test_degenerate_subspace(void)
{
    shape s = {.n = 500, .m = 80, .rank = 5, .cc = 10, .pairs = 40,
               .dup = 30, .rel = 1e-7, .offset = 1e3, .seed = 7};
    run_shape(s, td_hull_defaults(), TD_HULL_GAP);
    s.rel = 1e-5;
    s.seed = 8;
    run_shape(s, opts(1e-8, 1e-10, 0), TD_HULL_GAP);
}

/* Overlapping clouds: MEET, and alpha, beta are a certificate. */
static void test_meet_certificate(void)
{
    int m = 40, n = 300;
    double *A = malloc(sizeof(double) * n * m), *B = malloc(sizeof(double) * n * m);
    rng_state = 11;
    for (int i = 0; i < n * m; i++) {
        A[i] = nrand();
        B[i] = 0.3 + nrand();
    }
    result r;
    td_hull_opts o = td_hull_defaults();
    solve(m, n, A, n, B, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_MEET);
    CU_ASSERT(r.info.dist <= o.meet_tol * r.info.scale);
    CU_ASSERT(r.info.lower <= 0);
    check_weights(&r, A, B);       /* so sum alpha a, sum beta b coincide */
    result_free(&r);
    free(A); free(B);
}

/* The same points in both classes, and a single shared point. */
static void test_meet_degenerate(void)
{
    double A[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    double B[6] = {5, 5, 5, 0, 1, 0};         /* B's second = A's third */
    result r;
    td_hull_opts o = td_hull_defaults();
    solve(3, 4, A, 4, A, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_MEET);
    check_weights(&r, A, A);
    result_free(&r);
    solve(3, 4, A, 2, B, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_MEET);
    CU_ASSERT(r.al[2] > 0.999 && r.be[1] > 0.999);     /* the only common point */
    result_free(&r);
}

/* Warm starts: the corral of a solve on prefixes restarts the solve on
 * the whole lists.  With the supporting points in the prefix (the
 * separator's case) the restart is already optimal; with them outside it
 * the answer is still right. */
static void warm_case(inst *t, shape s, int reversed)
{
    td_hull_opts o = td_hull_defaults();
    td_hull_warm w;
    result r0, r1, rc;
    CU_ASSERT_FATAL(td_hull_warm_init(&w, s.m) == 0);
    solve(s.m, 200, t->A, 200, t->B, &o, &w, &r0);
    CU_ASSERT(w.k > 0 && w.k <= s.m + 1);
    solve(s.m, s.n, t->A, s.n, t->B, &o, &w, &r1);
    solve(s.m, s.n, t->A, s.n, t->B, &o, NULL, &rc);
    CU_ASSERT(r1.info.converged == TD_HULL_GAP && rc.info.converged == TD_HULL_GAP);
    if (!reversed)
        CU_ASSERT(r1.info.iters <= 1 && r1.info.iters < rc.info.iters);
    CU_ASSERT(fabs(r1.info.dist - rc.info.dist) <= o.gap * rc.info.dist);
    check_bracket(&r1, t, o.gap);
    check_weights(&r1, t->A, t->B);
    td_hull_warm_free(&w);
    result_free(&r0); result_free(&r1); result_free(&rc);
}

static void reverse_rows(double *X, int n, int m)
{
    for (int i = 0; i < n / 2; i++)
        for (int d = 0; d < m; d++) {
            double *a = X + (size_t)i * m + d, *b = X + (size_t)(n - 1 - i) * m + d;
            double x = *a;
            *a = *b;
            *b = x;
        }
}

static void test_warm_start(void)
{
    shape s = {.n = 600, .m = 30, .rank = 30, .pairs = 10, .rel = 1e-5,
               .seed = 21};
    inst t;
    make_tight(&t, s);
    warm_case(&t, s, 0);
    reverse_rows(t.A, s.n, s.m);
    reverse_rows(t.B, s.n, s.m);
    warm_case(&t, s, 1);
    inst_free(&t);
}

/* Two crossing segments in R^50: P has dimension 2, so the corral is full
 * at 3 vertices; with meet_tol 0 the full corral's rounding must end the
 * run (no vertex fits any more), not overrun it. */
static void test_full_corral(void)
{
    int m = 50;
    double A[100] = {0}, B[100] = {0};
    A[m] = 1;                                   /* a1 = e0 */
    B[0] = B[m] = 0.5;
    B[1] = -1;
    B[m + 1] = 1;                               /* b0, b1 = (0.5, -+1) */
    result r;
    td_hull_opts o = td_hull_defaults();
    solve(m, 2, A, 2, B, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_MEET);
    CU_ASSERT_DOUBLE_EQUAL(r.al[1], 0.5, 1e-12);
    check_weights(&r, A, B);
    result_free(&r);
    rng_state = 71;
    int n = 60, mm = 6;
    double *X = malloc(sizeof(double) * n * mm), *Y = malloc(sizeof(double) * n * mm);
    for (int i = 0; i < n * mm; i++) {
        X[i] = nrand();
        Y[i] = nrand();
    }
    o.meet_tol = 0;
    solve(mm, n, X, n, Y, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_MEET || r.info.converged == TD_HULL_STALL);
    CU_ASSERT(r.info.dist <= 1e-12 * r.info.scale && r.info.iters < 100);
    check_weights(&r, X, Y);
    result_free(&r);
    free(X); free(Y);
}

/* max_iter bounds the work; the exit still carries valid bounds. */
static void test_iteration_cap(void)
{
    shape s = {.n = 300, .m = 20, .rank = 20, .pairs = 5, .rel = 1e-6, .seed = 31};
    inst t;
    result r;
    make_tight(&t, s);
    td_hull_opts o = opts(1e-3, 1e-10, 2);
    solve(s.m, s.n, t.A, s.n, t.B, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_CAP && r.info.iters == 2);
    check_weights(&r, t.A, t.B);
    check_bracket(&r, &t, o.gap);
    result_free(&r);
    inst_free(&t);
}

/* gap 0 cannot be met in floating point: the stall test must end the run
 * soon, with bounds that still bracket the distance. */
static void test_gap_zero_terminates(void)
{
    shape s = {.n = 400, .m = 10, .rank = 10, .pairs = 8, .rel = 1e-7,
               .fs = 2, .seed = 41};
    inst t;
    result r;
    make_tight(&t, s);
    td_hull_opts o = opts(0.0, 1e-10, 0);
    solve(s.m, s.n, t.A, s.n, t.B, &o, NULL, &r);
    CU_ASSERT(r.info.converged == TD_HULL_STALL || r.info.converged == TD_HULL_GAP);
    CU_ASSERT(r.info.iters < 200);
    CU_ASSERT(r.info.dist - r.info.lower <= 1e-6 * r.info.dist);
    check_bracket(&r, &t, 1e-6);
    result_free(&r);
    inst_free(&t);
}

static void test_bad_input_and_defaults(void)
{
    double A[2] = {0, 0}, B[2] = {3, 4}, u[2], v[2], al[1], be[1];
    td_hull_info info;
    td_hull_opts o = td_hull_defaults();
    CU_ASSERT(o.gap == 1e-3 && o.meet_tol == 1e-10 && o.max_iter == 0);
    CU_ASSERT(td_hull_nearest(0, 1, A, 1, B, &o, u, v, al, be, &info, NULL) == -1);
    CU_ASSERT(td_hull_nearest(2, 0, A, 1, B, &o, u, v, al, be, &info, NULL) == -1);
    CU_ASSERT(td_hull_nearest(2, 1, A, 0, B, &o, u, v, al, be, &info, NULL) == -1);
    B[1] = NAN;
    CU_ASSERT(td_hull_nearest(2, 1, A, 1, B, &o, u, v, al, be, &info, NULL) == -1);
    B[1] = 4;
    CU_ASSERT(td_hull_nearest(2, 1, A, 1, B, NULL, u, v, al, be, &info, NULL) == 0);
    CU_ASSERT(info.converged == TD_HULL_GAP && info.dist == 5.0);
}

/* The separator's use: h = (v - u) / dist, c = <h, (u + v) / 2> separates
 * with total margin >= lower and each side >= lower - dist / 2. */
static void test_caller_hyperplane(void)
{
    int m = 8, n = 200;
    double *A = malloc(sizeof(double) * n * m), *B = malloc(sizeof(double) * n * m);
    rng_state = 51;
    for (int i = 0; i < n * m; i++) {
        A[i] = nrand() + 100 * (i % m == 0);
        B[i] = nrand() + 100 * (i % m == 0) + 8.0 * (i % m == 1);
    }
    result r;
    td_hull_opts o = td_hull_defaults();
    solve(m, n, A, n, B, &o, NULL, &r);
    CU_ASSERT_FATAL(r.info.converged == TD_HULL_GAP);
    double h[8], c = 0, tol = 1e-9 * r.info.scale;
    for (int d = 0; d < m; d++) {
        h[d] = (r.v[d] - r.u[d]) / r.info.dist;
        c += h[d] * 0.5 * (r.u[d] + r.v[d]);
    }
    CU_ASSERT(margin(m, n, A, n, B, h) >= r.info.lower - tol);
    double side = r.info.lower - 0.5 * r.info.dist - tol;
    for (int i = 0; i < n; i++) {
        double sa = 0, sb = 0;
        for (int d = 0; d < m; d++) {
            sa += h[d] * A[(size_t)i * m + d];
            sb += h[d] * B[(size_t)i * m + d];
        }
        CU_ASSERT(c - sa >= side && sb - c >= side);
    }
    result_free(&r);
    free(A); free(B);
}

/* Hulls that meet in R^120: the corral must grow to about m + 1; the run
 * is reproducible bit for bit. */
static void test_meet_high_dim_reproducible(void)
{
    int m = 120, n = 400;
    double *A = malloc(sizeof(double) * n * m), *B = malloc(sizeof(double) * n * m);
    rng_state = 61;
    for (int i = 0; i < n * m; i++) {
        A[i] = nrand();
        B[i] = nrand();
    }
    td_hull_warm w;
    result r1, r2;
    td_hull_opts o = td_hull_defaults();
    CU_ASSERT_FATAL(td_hull_warm_init(&w, m) == 0);
    solve(m, n, A, n, B, &o, &w, &r1);
    solve(m, n, A, n, B, &o, NULL, &r2);
    CU_ASSERT(r1.info.converged == TD_HULL_MEET);
    CU_ASSERT(w.k > m / 2 && w.k <= m + 1);
    CU_ASSERT(memcmp(&r1.info, &r2.info, sizeof r1.info) == 0);
    CU_ASSERT(memcmp(r1.al, r2.al, sizeof(double) * n) == 0);
    CU_ASSERT(memcmp(r1.be, r2.be, sizeof(double) * n) == 0);
    check_weights(&r1, A, B);
    td_hull_warm_free(&w);
    result_free(&r1); result_free(&r2);
    free(A); free(B);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("hull", NULL, NULL);
    CU_add_test(s, "single points", test_single_points);
    CU_add_test(s, "one dimension, ties", test_one_dimensional);
    CU_add_test(s, "tight margins 1e-4 .. 1e-8, scaled features", test_tight_margins);
    CU_add_test(s, "degenerate subspace, constant columns, duplicates",
                test_degenerate_subspace);
    CU_add_test(s, "meeting hulls give a certificate", test_meet_certificate);
    CU_add_test(s, "identical sets, one shared point", test_meet_degenerate);
    CU_add_test(s, "warm start from a prefix", test_warm_start);
    CU_add_test(s, "full corral, meet_tol 0", test_full_corral);
    CU_add_test(s, "iteration cap", test_iteration_cap);
    CU_add_test(s, "gap 0 terminates", test_gap_zero_terminates);
    CU_add_test(s, "bad input, NULL options, defaults", test_bad_input_and_defaults);
    CU_add_test(s, "caller's hyperplane separates", test_caller_hyperplane);
    CU_add_test(s, "meet in R^120, reproducible", test_meet_high_dim_reproducible);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails != 0 || CU_get_error() != CUE_SUCCESS;
}
