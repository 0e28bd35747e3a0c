/* td_linalg.h - small dense algebra on one process (LAPACK underneath). */
#ifndef TD_LINALG_H
#define TD_LINALG_H

#include <stddef.h>

/* <a, b> summed in index order: the one dot product of the core and the
 * engine, so equal inputs give equal bits wherever it is taken. */
static inline double td_dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* s[c] = <h_c, x> for nc vectors stored transposed (HT is m x nc): the
 * sum over k runs in index order for each c, vectorised across c, so each
 * s[c] is bitwise td_dot(h_c, x, m). */
static inline void td_dots_t(const double *x, const double *HT, int m,
                             int nc, double *s)
{
    for (int c = 0; c < nc; c++)
        s[c] = 0;
    for (int k = 0; k < m; k++) {
        const double *hk = HT + (size_t)k * nc;
        for (int c = 0; c < nc; c++)
            s[c] += hk[c] * x[k];
    }
}

/* Minimum-norm least-squares solve of A X = B by SVD (LAPACK dgelsd).
 * A is m x n, B is m x nrhs, both row-major; X (n x nrhs, row-major) gets
 * the solution.  *rank is the numerical rank at relative threshold rcond
 * and *cond = s_1 / s_rank, the condition number of A on its numerical
 * range (inf when the rank is 0).  Returns 0, or non-zero if LAPACK
 * failed. */
int td_lstsq(int m, int n, int nrhs, const double *A, const double *B,
             double rcond, double *X, int *rank, double *cond);

/* Eigen-decomposition of the symmetric S (m x m, row-major): eigenvalues
 * w ascending, eigenvectors in the columns of V (row-major m x m), S =
 * V diag(w) V^T (LAPACK dsyevd).  Returns non-zero if LAPACK failed. */
int td_sym_eig(int m, const double *S, double *w, double *V);

#endif
