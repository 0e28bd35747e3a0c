/* td_linalg.h - small dense algebra on one process (LAPACK underneath). */
#ifndef TD_LINALG_H
#define TD_LINALG_H

/* Minimum-norm least-squares solve of A X = B by SVD (LAPACK dgelsd).
 * A is m x n, B is m x nrhs, both row-major; X (n x nrhs, row-major) gets
 * the solution.  *rank is the numerical rank at relative threshold rcond
 * and *cond = s_1 / s_rank, the condition number of A on its numerical
 * range (inf when the rank is 0).  Returns 0, or non-zero if LAPACK
 * failed. */
int td_lstsq(int m, int n, int nrhs, const double *A, const double *B,
             double rcond, double *X, int *rank, double *cond);

#endif
