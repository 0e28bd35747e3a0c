/* test_clustered.c - Proposition 3's conditions and the reduced-width
 * coordinates (td_clustered.h) on configurations whose answers are known
 * in closed form. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "td_clustered.h"
#include "unit_cunit.h"

/* An equilateral triangle of means at distance 1 from the origin. */
static void triangle(double *means)
{
    for (int j = 0; j < 3; j++) {
        means[2 * j] = cos(2 * M_PI * j / 3);
        means[2 * j + 1] = sin(2 * M_PI * j / 3);
    }
}

/* delta = 0.1: c0 = 0.1; from a vertex the others sit 30 degrees off f_j
 * at distance sqrt 3, so theta_* = 2 (pi/6 + asin(0.4 / sqrt 3)). */
static void test_triangle_conditions(void)
{
    double means[6], delta[3] = {0.1, 0.05, 0.02};
    td_clustered c;
    triangle(means);
    CU_ASSERT_EQUAL_FATAL(td_clustered_conditions(3, 2, means, delta, &c), 0);
    double th = 2 * (M_PI / 6 + asin(0.4 / sqrt(3.0)));
    CU_ASSERT_DOUBLE_EQUAL(c.delta, 0.1, 0);
    CU_ASSERT_EQUAL(c.delta_arg, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.c0, 0.1, 1e-15);
    CU_ASSERT_TRUE(c.holds18);
    for (int j = 0; j < 3; j++) {
        CU_ASSERT_DOUBLE_EQUAL(c.theta_star[j], th, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(c.mu[j], 0.25, 1e-15);
        /* f_j points from mean_j to the barycentre (the origin) */
        CU_ASSERT_DOUBLE_EQUAL(c.f[2 * j], -means[2 * j], 1e-15);
    }
    CU_ASSERT_TRUE(c.holds20);
    td_clustered_free(&c);
}

/* delta = 0.4 >= 1/4 of the distance 1: (18) fails; a ball of radius
 * 4 delta = 1.6 < sqrt 3 still leaves a cone, but wider than pi. */
static void test_triangle_fails(void)
{
    double means[6], delta[3] = {0.4, 0.4, 0.4};
    td_clustered c;
    triangle(means);
    CU_ASSERT_EQUAL_FATAL(td_clustered_conditions(3, 2, means, delta, &c), 0);
    CU_ASSERT_FALSE(c.holds18);
    CU_ASSERT_DOUBLE_EQUAL(c.c0, 0.4, 1e-15);
    double th = 2 * (M_PI / 6 + asin(1.6 / sqrt(3.0)));
    CU_ASSERT_DOUBLE_EQUAL(c.theta_max, th, 1e-12);
    CU_ASSERT_FALSE(c.holds20);
    char line[768];
    int64_t labels[3] = {7, 8, 9};
    td_clustered_describe(&c, labels, line, sizeof line);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "(18) fails"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "(20) fails"));
    char by[64];
    snprintf(by, sizeof by, "(by %.4f pi)", th / M_PI - 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, by));
    td_clustered_free(&c);
}

/* A ball that holds another class's mean leaves no cone at all. */
static void test_ball_holds_mean(void)
{
    double means[6], delta[3] = {0.5, 0.1, 0.1};
    td_clustered c;
    triangle(means);
    CU_ASSERT_EQUAL_FATAL(td_clustered_conditions(3, 2, means, delta, &c), 0);
    CU_ASSERT_DOUBLE_EQUAL(c.theta_max, 2 * M_PI, 0);
    CU_ASSERT_FALSE(c.holds20);
    td_clustered_free(&c);
}

/* The projection: orthonormal rows spanning the mean differences; the
 * input map gives the same z as td_clustered_project; the cones' axes are
 * unit and their base points sit mu_j along f_j from the means. */
static void test_basis_and_map(void)
{
    enum { Q = 3, M = 5 };
    double means[Q * M] = {1, 0, 2, 0, 1, 0, 3, 0, 1, 1, 2, 2, 0, 0, 1};
    double delta[Q] = {0.1, 0.1, 0.1}, A[Q * M], s[Q], z[Q], h[Q], p[Q];
    td_clustered c;
    CU_ASSERT_EQUAL_FATAL(td_clustered_conditions(Q, M, means, delta, &c), 0);
    CU_ASSERT_EQUAL_FATAL(td_clustered_basis(means, &c), 0);
    CU_ASSERT_EQUAL(c.rank, Q - 1);
    for (int a = 0; a < Q - 1; a++)
        for (int b = 0; b < Q - 1; b++) {
            double d = 0;
            for (int k = 0; k < M; k++)
                d += c.U[a * M + k] * c.U[b * M + k];
            CU_ASSERT_DOUBLE_EQUAL(d, a == b, 1e-14);
        }
    td_clustered_input_map(&c, A, s);
    double x[M] = {0.3, -1, 2, 0.5, 7};
    td_clustered_project(&c, x, z);
    for (int i = 0; i < Q; i++) {
        double v = s[i];
        for (int k = 0; k < M; k++)
            v += A[i * M + k] * x[k];
        CU_ASSERT_DOUBLE_EQUAL(v, z[i], 1e-13);
    }
    CU_ASSERT_DOUBLE_EQUAL(z[Q - 1], c.t, 0);
    for (int j = 0; j < Q; j++) {
        double y[M], zy[Q], nh = 0;
        td_clustered_cone(&c, means, j, h, p);
        for (int k = 0; k < M; k++)
            y[k] = means[j * M + k] + c.mu[j] * c.f[j * M + k];
        td_clustered_project(&c, y, zy);
        for (int i = 0; i < Q; i++) {
            nh += h[i] * h[i];
            CU_ASSERT_DOUBLE_EQUAL(p[i], zy[i], 1e-13);
        }
        CU_ASSERT_DOUBLE_EQUAL(nh, 1, 1e-14);
        CU_ASSERT_DOUBLE_EQUAL(h[Q - 1], 0, 0);
    }
    td_clustered_free(&c);
}

/* Collinear means: their differences span one dimension, not Q - 1. */
static void test_collinear_rank(void)
{
    double means[6] = {0, 0, 1, 1, 3, 3}, delta[3] = {0, 0, 0};
    td_clustered c;
    CU_ASSERT_EQUAL_FATAL(td_clustered_conditions(3, 2, means, delta, &c), 0);
    CU_ASSERT_EQUAL_FATAL(td_clustered_basis(means, &c), 0);
    CU_ASSERT_EQUAL(c.rank, 1);
    td_clustered_free(&c);
}

int main(void)
{
    static const unit_test tests[] = {
        {"equilateral triangle: (18), (20), mu, f", test_triangle_conditions},
        {"equilateral triangle: both conditions fail", test_triangle_fails},
        {"a ball holding a mean: no cone", test_ball_holds_mean},
        {"projection, input map and cones agree", test_basis_and_map},
        {"collinear means: rank 1", test_collinear_rank},
    };
    return unit_run("clustered", NULL, NULL, tests,
                    sizeof tests / sizeof tests[0]);
}
