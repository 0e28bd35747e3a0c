/* linalg.c - LAPACK-backed helpers (see td_linalg.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lapacke.h>
#include "td_linalg.h"

int td_lstsq(int m, int n, int nrhs, const double *A, const double *B,
             double rcond, double *X, int *rank, double *cond)
{
    int ldb = m > n ? m : n;
    int kmin = m < n ? m : n;
    double *a = malloc(sizeof(double) * (size_t)m * n);
    double *b = calloc((size_t)ldb * nrhs, sizeof(double));
    double *s = malloc(sizeof(double) * (kmin > 0 ? kmin : 1));
    if (!a || !b || !s) {
        free(a); free(b); free(s);
        return -1;
    }
    memcpy(a, A, sizeof(double) * (size_t)m * n);
    memcpy(b, B, sizeof(double) * (size_t)m * nrhs);
    lapack_int r = 0;
    lapack_int info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, m, n, nrhs, a, n, b,
                                     nrhs, s, rcond, &r);
    if (info == 0) {
        memcpy(X, b, sizeof(double) * (size_t)n * nrhs);
        *rank = (int)r;
        *cond = r > 0 ? s[0] / s[r - 1] : INFINITY;
    }
    free(a); free(b); free(s);
    return info != 0;
}

int td_sym_eig(int m, const double *S, double *w, double *V)
{
    memcpy(V, S, sizeof(double) * (size_t)m * m);
    return LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', m, V, m, w) != 0;
}
