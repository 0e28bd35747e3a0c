/* test_targets.c - CUnit suite for the target-vector checks
 * (src/core/targets.c): which rows are named dependent, at the tolerance,
 * under every permutation of the rows, and the messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>
#include "td_targets.h"
#include "unit_cunit.h"
#include "test_rng.h"

static td_err err;

static int has(const char *frag)
{
    if (strstr(err.msg, frag))
        return 1;
    fprintf(stderr, "\n  message \"%s\" lacks \"%s\"\n", err.msg, frag);
    return 0;
}

static int dependent(const double *Y, int rows, int cols, td_targets_dep *d)
{
    return td_targets_independent(Y, rows, cols, TD_TARGETS_RTOL, d);
}

/* Random sets, the identity, and sets scaled far up and down: independent. */
static void test_independent(void)
{
    double Y[144];
    td_targets_dep d;
    for (int q = 1; q <= 12; q++) {
        for (int i = 0; i < q * q; i++)
            Y[i] = nrand();
        CU_ASSERT_EQUAL(dependent(Y, q, q, &d), 0);
        CU_ASSERT_EQUAL(d.row, -1);
        for (int i = 0; i < q * q; i++)
            Y[i] *= 1e150;
        CU_ASSERT_EQUAL(dependent(Y, q, q, &d), 0);
        for (int i = 0; i < q * q; i++)
            Y[i] *= 1e-300;
        CU_ASSERT_EQUAL(dependent(Y, q, q, &d), 0);
        for (int i = 0; i < q * q; i++)
            Y[i] = i / q == i % q ? 1.0 : 0.0;
        CU_ASSERT_EQUAL(dependent(Y, q, q, &d), 0);
    }
}

/* y_3 = y_0 + 2 y_1 with y_2 independent: rows 0, 1 and 3, not 2. */
static void test_named_rows(void)
{
    double Y[] = {1, 0, 2, 0,   0, 1, 1, 0,   3, 1, 0, 1,   1, 2, 4, 0};
    td_targets_dep d;
    char s[256];
    CU_ASSERT_EQUAL_FATAL(dependent(Y, 4, 4, &d), 1);
    CU_ASSERT_EQUAL(d.row, 3);
    CU_ASSERT_EQUAL_FATAL(d.nused, 2);
    CU_ASSERT_EQUAL(d.used[0], 0);
    CU_ASSERT_EQUAL(d.used[1], 1);
    CU_ASSERT(fabs(d.coef[0] - 1) < 1e-14 && fabs(d.coef[1] - 2) < 1e-14);
    CU_ASSERT(d.residual < 1e-15);
    td_targets_describe(&d, s, sizeof s);
    const char *want = "rows 0, 1 and 3 are linearly dependent (y_3 = 1 "
                       "y_0 + 2 y_1 ";
    CU_ASSERT(strncmp(s, want, strlen(want)) == 0);
    td_targets_dep_free(&d);

    double Z[] = {1, 0, 0,   0, 0, 0,   0, 0, 1};       /* a zero row */
    CU_ASSERT_EQUAL_FATAL(dependent(Z, 3, 3, &d), 1);
    CU_ASSERT_EQUAL(d.row, 1);
    CU_ASSERT_EQUAL(d.nused, 0);
    td_targets_describe(&d, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "row 1 is the zero vector");
    td_targets_dep_free(&d);

    double D[] = {0, 2, 0,   1, 0, 0,   0, -4, 0};      /* y_2 = -2 y_0 */
    CU_ASSERT_EQUAL_FATAL(dependent(D, 3, 3, &d), 1);
    CU_ASSERT_EQUAL(d.row, 2);
    CU_ASSERT_EQUAL_FATAL(d.nused, 1);
    CU_ASSERT_EQUAL(d.used[0], 0);
    td_targets_describe(&d, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "rows 0 and 2 are linearly dependent (y_2 = "
                              "-2 y_0 exactly)");
    td_targets_dep_free(&d);
}

/* A row at distance f * rtol * |y| from the span: dependent for f = 0.5,
 * independent for f = 2 (the span is exactly the first three coordinates,
 * so the distance is exactly what is put in the fourth). */
static void test_tolerance_edge(void)
{
    const double f[] = {0.5, 0.9, 1.1, 2};
    for (int k = 0; k < 4; k++) {
        double Y[25] = {0};
        for (int j = 0; j < 3; j++)
            for (int c = 0; c < 3; c++)
                Y[j * 5 + c] = nrand();
        double n2 = 0;
        for (int c = 0; c < 3; c++) {
            Y[15 + c] = 2 * Y[c] - 3 * Y[10 + c];
            n2 += Y[15 + c] * Y[15 + c];
        }
        double t = f[k] * TD_TARGETS_RTOL * sqrt(n2);
        Y[15 + 3] = t;
        Y[20 + 4] = 1;
        td_targets_dep d;
        int rc = dependent(Y, 5, 5, &d);
        CU_ASSERT_EQUAL(rc, f[k] < 1);
        if (rc == 1) {
            CU_ASSERT_EQUAL(d.row, 3);
            CU_ASSERT_EQUAL_FATAL(d.nused, 2);
            CU_ASSERT(d.used[0] == 0 && d.used[1] == 2);
            CU_ASSERT(fabs(d.residual - f[k] * TD_TARGETS_RTOL) <
                      1e-3 * TD_TARGETS_RTOL);
        }
        td_targets_dep_free(&d);
    }
}

/* Rows 0, 2 and 3 dependent (y_3 = y_0 - 2 y_2), rows 1 and 4 free: under
 * each of the 120 orders the report names the three rows at their new
 * places, the last of them as the dependent row, and coefficients that
 * rebuild it. */
static void test_permutations(void)
{
    double base[25];
    for (int i = 0; i < 25; i++)
        base[i] = nrand();
    for (int c = 0; c < 5; c++)
        base[15 + c] = base[c] - 2 * base[10 + c];
    int p[5] = {0, 1, 2, 3, 4}, count = 0;
    for (int code = 0; code < 3125; code++) {
        for (int i = 0, v = code; i < 5; i++, v /= 5)
            p[i] = v % 5;
        int seen = 0;
        for (int i = 0; i < 5; i++)
            seen |= 1 << p[i];
        if (seen != 31)
            continue;          /* not a permutation */
        count++;
        double Y[25];
        int at[5], last = -1;
        for (int i = 0; i < 5; i++) {
            memcpy(Y + i * 5, base + p[i] * 5, sizeof(double) * 5);
            at[p[i]] = i;
        }
        last = at[0] > at[2] ? at[0] : at[2];
        last = last > at[3] ? last : at[3];
        td_targets_dep d;
        CU_ASSERT_EQUAL_FATAL(dependent(Y, 5, 5, &d), 1);
        CU_ASSERT_EQUAL(d.row, last);
        CU_ASSERT_EQUAL_FATAL(d.nused, 2);
        for (int k = 0; k < 2; k++) {
            int orig = p[d.used[k]];
            CU_ASSERT(orig == 0 || orig == 2 || orig == 3);
        }
        CU_ASSERT(d.used[0] < d.used[1]);
        double r = 0;
        for (int c = 0; c < 5; c++) {
            double v = Y[d.row * 5 + c];
            for (int k = 0; k < 2; k++)
                v -= d.coef[k] * Y[d.used[k] * 5 + c];
            r = fmax(r, fabs(v));
        }
        CU_ASSERT(r < 1e-12);
        td_targets_dep_free(&d);
    }
    CU_ASSERT_EQUAL(count, 120);
}

/* A random combination of k of the first rows of a random Q = 9 set:
 * exactly those rows are named. */
static void test_random_combinations(void)
{
    for (int trial = 0; trial < 200; trial++) {
        int q = 9, j = 2 + (int)(urand() * 7);       /* dependent row */
        double Y[81];
        for (int i = 0; i < 81; i++)
            Y[i] = nrand();
        int use[9] = {0};
        memset(Y + j * q, 0, sizeof(double) * q);
        for (int i = 0; i < j; i++) {
            use[i] = urand() < 0.5 || i == 0;
            double c = use[i] ? (urand() < 0.5 ? -1 : 1) * (0.5 + urand()) : 0;
            for (int k = 0; k < q; k++)
                Y[j * q + k] += c * Y[i * q + k];
        }
        td_targets_dep d;
        CU_ASSERT_EQUAL_FATAL(dependent(Y, q, q, &d), 1);
        CU_ASSERT_EQUAL(d.row, j);
        int n = 0, ok = 1;
        for (int i = 0; i < j; i++)
            n += use[i];
        CU_ASSERT_EQUAL(d.nused, n);
        for (int k = 0; k < d.nused; k++)
            ok &= use[d.used[k]];
        CU_ASSERT(ok);
        td_targets_dep_free(&d);
    }
}

/* td_targets_check: shape, finiteness and independence, in one line that
 * names the source and the data's classes. */
static void test_check_messages(void)
{
    const int64_t labels[] = {0, 1, 2, 5};
    double I3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, I4[16] = {0};
    for (int j = 0; j < 4; j++)
        I4[j * 5] = 1;
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_targets_check(I4, 4, 4, 4, labels, "k", &err), TD_OK);
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_targets_check(I3, 3, 3, 4, labels,
                                     "construction.targets", &err),
                    TD_ERR_INPUT);
    CU_ASSERT(has("construction.targets has 3 vectors, the data have 4 "
                  "classes (labels 0, 1, 2, 5)"));
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_targets_check(I3, 4, 3, 4, labels, "t.h5: dataset "
                                     "'T'", &err), TD_ERR_INPUT);
    CU_ASSERT(has("t.h5: dataset 'T' holds vectors of 3 numbers, the data "
                  "have 4 classes"));
    I4[6] = NAN;
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_targets_check(I4, 4, 4, 4, labels, "k", &err),
                    TD_ERR_INPUT);
    CU_ASSERT(has("k: row 1 column 2 is nan; targets must be finite"));
    I4[6] = 0;
    I4[15] = 0;
    I4[12] = 3;
    I4[13] = -1;
    td_err_clear(&err);
    CU_ASSERT_EQUAL(td_targets_check(I4, 4, 4, 4, labels, "k", &err),
                    TD_ERR_INPUT);
    CU_ASSERT(has("k: rows 0, 1 and 3 are linearly dependent (y_3 = 3 y_0 "
                  "- 1 y_1 exactly); the paper's labels must be linearly "
                  "independent"));
    int64_t many[40];
    for (int j = 0; j < 40; j++)
        many[j] = 100 + j;
    td_err_clear(&err);
    td_targets_check(I4, 4, 4, 40, many, "k", &err);
    CU_ASSERT(has("(labels 100, 101, 102, 103, 104, 105, 106, 107, 108, "
                  "109, ...)"));
    CU_ASSERT_EQUAL(td_targets_scale(I4, 4), 3.0);
    I4[12] = 0.25;
    I4[13] = 0;
    CU_ASSERT_EQUAL(td_targets_scale(I4, 4), 1.0);
}

/* Forty rows that all enter the dependency: the report stays one line of
 * bounded length, listing ten and the count. */
static void test_long_report(void)
{
    int q = 41;
    double *Y = calloc((size_t)q * q, sizeof(double));
    CU_ASSERT_PTR_NOT_NULL_FATAL(Y);
    for (int j = 0; j < 40; j++) {
        Y[j * q + j] = 1;
        Y[40 * q + j] = 1;
    }
    td_targets_dep d;
    char s[1024];
    CU_ASSERT_EQUAL_FATAL(dependent(Y, q, q, &d), 1);
    CU_ASSERT_EQUAL(d.row, 40);
    CU_ASSERT_EQUAL(d.nused, 40);
    td_targets_describe(&d, s, sizeof s);
    CU_ASSERT(strstr(s, "rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (41 rows) "
                        "and 40") != NULL);
    CU_ASSERT(strchr(s, '\n') == NULL && strlen(s) < 400);
    td_targets_dep_free(&d);
    free(Y);
}

int main(void)
{
    static const unit_test tests[] = {
        {"independent sets", test_independent},
        {"dependent rows named", test_named_rows},
        {"at the tolerance", test_tolerance_edge},
        {"permutations", test_permutations},
        {"random combinations", test_random_combinations},
        {"check messages", test_check_messages},
        {"long report", test_long_report},
    };
    return unit_run("targets", NULL, NULL, tests,
                    sizeof tests / sizeof tests[0]) != 0;
}
