/* td_dense.h - the M x M algebra of the engine, on one process or, for
 * large M, on a BLACS process grid through ScaLAPACK. */
#ifndef TD_DENSE_H
#define TD_DENSE_H

#include "td_err.h"

/* Solve S X = B for symmetric positive definite S (m x m, the same on all
 * ranks) and nrhs right-hand sides (B is m x nrhs, column-major, the same
 * on all ranks; overwritten by X on all ranks).  m >= threshold: ScaLAPACK
 * pdposv on all ranks; otherwise LAPACK dposv on rank 0 and a broadcast.
 * *used_scalapack tells which.  A matrix that is not positive definite
 * gives TD_ERR_INTERNAL (the caller regularises S first). */
int td_dense_spd_solve(int m, const double *S, int nrhs, double *B,
                       int threshold, int *used_scalapack, td_err *err);

#endif
