/* targets.c - checks of the target vectors (see td_targets.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_targets.h"

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int k = 0; k < n; k++)
        s += a[k] * b[k];
    return s;
}

/* Orthogonalise r against the j orthonormal rows of B, twice (one pass
 * leaves components of order u cond behind); a (length j) gets the
 * coefficients <b_i, y> taken out. */
static void project_out(const double *B, int j, int n, double *r, double *a)
{
    memset(a, 0, sizeof(double) * (size_t)j);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < j; i++) {
            const double *b = B + (size_t)i * n;
            double c = dot(b, r, n);
            a[i] += c;
            for (int k = 0; k < n; k++)
                r[k] -= c * b[k];
        }
}

/* y_j = sum_i c_i y_i with Y_<j^T = B^T R (R upper triangular, column i
 * the coefficients of y_i): R c = a by back substitution; the rows whose
 * share |c_i| |y_i| passes the tolerance are kept. */
static int explain(const double *R, int j, int ld, const double *a,
                   const double *norms, double tol, td_targets_dep *dep)
{
    double *c = malloc(sizeof(double) * (size_t)(j ? j : 1));
    dep->used = malloc(sizeof(int) * (size_t)(j ? j : 1));
    dep->coef = malloc(sizeof(double) * (size_t)(j ? j : 1));
    if (!c || !dep->used || !dep->coef) {
        free(c);
        return -1;
    }
    for (int i = j - 1; i >= 0; i--) {
        double s = a[i];
        for (int k = i + 1; k < j; k++)
            s -= R[(size_t)i * ld + k] * c[k];
        c[i] = s / R[(size_t)i * ld + i];
    }
    for (int i = 0; i < j; i++)
        if (fabs(c[i]) * norms[i] > tol) {
            dep->used[dep->nused] = i;
            dep->coef[dep->nused++] = c[i];
        }
    free(c);
    return 1;
}

int td_targets_independent(const double *Y, int rows, int cols, double rtol,
                           td_targets_dep *dep)
{
    *dep = (td_targets_dep){.row = -1};
    size_t n = (size_t)cols, m = (size_t)(rows ? rows : 1);
    double *B = malloc(sizeof(double) * m * (n ? n : 1));   /* orthonormal */
    double *R = calloc(m * m, sizeof(double));
    double *norms = malloc(sizeof(double) * m);
    double *a = malloc(sizeof(double) * m);
    int rc = !B || !R || !norms || !a ? -1 : 0;
    for (int j = 0; rc == 0 && j < rows; j++) {
        double *r = B + (size_t)j * n;
        memcpy(r, Y + (size_t)j * n, sizeof(double) * n);
        norms[j] = sqrt(dot(r, r, cols));
        project_out(B, j, cols, r, a);
        double dist = sqrt(dot(r, r, cols));
        if (norms[j] == 0 || dist <= rtol * norms[j]) {
            dep->row = j;
            dep->residual = norms[j] > 0 ? dist / norms[j] : 0;
            rc = norms[j] > 0 ? explain(R, j, rows, a, norms,
                                        rtol * norms[j], dep) : 1;
            break;
        }
        for (int i = 0; i < j; i++)
            R[(size_t)i * rows + j] = a[i];
        R[(size_t)j * rows + j] = dist;
        for (size_t k = 0; k < n; k++)
            r[k] /= dist;
    }
    free(B);
    free(R);
    free(norms);
    free(a);
    if (rc < 0)
        td_targets_dep_free(dep);
    return rc;
}

void td_targets_dep_free(td_targets_dep *dep)
{
    free(dep->used);
    free(dep->coef);
    *dep = (td_targets_dep){.row = -1};
}

/* At most this many rows and terms are listed; a longer report ends with
 * the count. */
#define LIST_MAX 10

void td_targets_describe(const td_targets_dep *dep, char *buf, size_t len)
{
    if (dep->nused == 0) {
        snprintf(buf, len, "row %d is the zero vector", dep->row);
        return;
    }
    size_t u = 0;
    int show = dep->nused < LIST_MAX ? dep->nused : LIST_MAX;
#define PUT(...) (u += (size_t)snprintf(buf + u, u < len ? len - u : 0, \
                                        __VA_ARGS__), u = u < len ? u : len)
    PUT("rows");
    for (int k = 0; k < show; k++)
        PUT("%s %d", k == 0 ? "" : ",", dep->used[k]);
    if (show < dep->nused)
        PUT(", ... (%d rows)", dep->nused + 1);
    PUT(" and %d are linearly dependent (y_%d =", dep->row, dep->row);
    for (int k = 0; k < show; k++) {
        double c = dep->coef[k];
        PUT(" %s%s%.6g y_%d", k == 0 ? "" : c < 0 ? "- " : "+ ",
            k == 0 && c < 0 ? "-" : "", fabs(c), dep->used[k]);
    }
    if (show < dep->nused)
        PUT(" + ...");
    if (dep->residual == 0)
        PUT(" exactly)");
    else
        PUT(" to %.1e relative)", dep->residual);
#undef PUT
}

/* "0, 1, 2, 5" (at most LIST_MAX labels, then "..."). */
static void label_list(const int64_t *labels, int q, char *buf, size_t len)
{
    size_t u = 0;
    buf[0] = '\0';
    for (int j = 0; j < q && j < LIST_MAX && u < len; j++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", j ? ", " : "",
                              (long long)labels[j]);
    if (q > LIST_MAX && u < len)
        snprintf(buf + u, len - u, ", ...");
}

static int check_shape(int rows, int cols, int q, const int64_t *labels,
                       const char *what, td_err *err)
{
    char ls[256];
    label_list(labels, q, ls, sizeof ls);
    if (rows != q)
        return td_err_set(err, TD_ERR_INPUT, "%s has %d vector%s, the data "
                          "have %d classes (labels %s); give one target "
                          "vector per class, in the order of the sorted "
                          "labels", what, rows, rows == 1 ? "" : "s", q, ls);
    if (cols != q)
        return td_err_set(err, TD_ERR_INPUT, "%s holds vectors of %d "
                          "number%s, the data have %d classes (labels %s); "
                          "each target is a vector of R^Q", what, cols,
                          cols == 1 ? "" : "s", q, ls);
    return TD_OK;
}

int td_targets_check(const double *Y, int rows, int cols, int q,
                     const int64_t *labels, const char *what, td_err *err)
{
    if (check_shape(rows, cols, q, labels, what, err))
        return err->code;
    for (size_t i = 0; i < (size_t)q * q; i++)
        if (!isfinite(Y[i]))
            return td_err_set(err, TD_ERR_INPUT, "%s: row %zu column %zu is "
                              "%g; targets must be finite", what,
                              i / (size_t)q, i % (size_t)q, Y[i]);
    td_targets_dep dep;
    int rc = td_targets_independent(Y, q, q, TD_TARGETS_RTOL, &dep);
    if (rc < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (targets)");
    if (rc > 0) {
        char why[768];
        td_targets_describe(&dep, why, sizeof why);
        td_targets_dep_free(&dep);
        return td_err_set(err, TD_ERR_INPUT, "%s: %s; the paper's labels "
                          "must be linearly independent (tolerance %.0e "
                          "relative)", what, why, TD_TARGETS_RTOL);
    }
    return TD_OK;
}

double td_targets_scale(const double *Y, int q)
{
    double s = 1;
    for (size_t i = 0; i < (size_t)q * q; i++)
        s = fmax(s, fabs(Y[i]));
    return s;
}
