/* dense.c - SPD solves with LAPACK on rank 0 or ScaLAPACK on a grid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <lapacke.h>
#include "td_comm.h"
#include "td_dense.h"
#include "td_scalapack.h"

#define TD_SCALAPACK_NB 64
#define TD_DENSE_NOMEM (-1000000)   /* "info" of a solve out of memory */

static int solve_lapack(int m, const double *S, int nrhs, double *B)
{
    int info = 0;
    if (td_comm_rank() == 0) {
        double *a = malloc(sizeof(double) * (size_t)m * m);
        if (!a)
            info = TD_DENSE_NOMEM;
        else {
            memcpy(a, S, sizeof(double) * (size_t)m * m);
            info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', m, nrhs, a, m, B, m);
            free(a);
        }
    }
    td_comm_bcast(&info, sizeof info);
    if (info == 0)
        td_comm_bcast(B, sizeof(double) * (size_t)m * nrhs);
    return info;
}

/* The squarest grid nprow x npcol = P with nprow <= npcol. */
static void grid_shape(int p, int *nprow, int *npcol)
{
    int r = (int)sqrt((double)p);
    while (r > 1 && p % r)
        r--;
    *nprow = r;
    *npcol = p / r;
}

/* Global index of local index il in a block-cyclic distribution. */
static int global_index(int il, int nb, int iproc, int nprocs)
{
    return (il / nb) * nb * nprocs + iproc * nb + il % nb;
}

static int solve_scalapack(int m, const double *S, int nrhs, double *B)
{
    int nprow, npcol, ctx, myrow, mycol, zero = 0, one = 1, info = 0;
    int nb = TD_SCALAPACK_NB;
    grid_shape(td_comm_size(), &nprow, &npcol);
    Cblacs_get(-1, 0, &ctx);
    Cblacs_gridinit(&ctx, "Row", nprow, npcol);
    Cblacs_gridinfo(ctx, &nprow, &npcol, &myrow, &mycol);
    int mloc = numroc_(&m, &nb, &myrow, &zero, &nprow);
    int nloc = numroc_(&m, &nb, &mycol, &zero, &npcol);
    int bloc = numroc_(&nrhs, &nb, &mycol, &zero, &npcol);
    int lld = mloc > 1 ? mloc : 1;
    int desca[9], descb[9];
    descinit_(desca, &m, &m, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    descinit_(descb, &m, &nrhs, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    double *a = malloc(sizeof(double) * (size_t)lld * (nloc ? nloc : 1));
    double *b = malloc(sizeof(double) * (size_t)lld * (bloc ? bloc : 1));
    int bad = !a || !b;
    td_comm_any(&bad);          /* every rank enters pdposv, or none */
    if (bad) {
        free(a);
        free(b);
        Cblacs_gridexit(ctx);
        return TD_DENSE_NOMEM;
    }
    for (int jl = 0; jl < nloc; jl++)
        for (int il = 0; il < mloc; il++)
            a[(size_t)jl * lld + il] =
                S[(size_t)global_index(jl, nb, mycol, npcol) * m +
                  global_index(il, nb, myrow, nprow)];
    for (int jl = 0; jl < bloc; jl++)
        for (int il = 0; il < mloc; il++)
            b[(size_t)jl * lld + il] =
                B[(size_t)global_index(jl, nb, mycol, npcol) * m +
                  global_index(il, nb, myrow, nprow)];
    pdposv_("L", &m, &nrhs, a, &one, &one, desca, b, &one, &one, descb, &info);
    /* every entry has one owner: a sum of it and zeros is exact */
    memset(B, 0, sizeof(double) * (size_t)m * nrhs);
    for (int jl = 0; info == 0 && jl < bloc; jl++)
        for (int il = 0; il < mloc; il++)
            B[(size_t)global_index(jl, nb, mycol, npcol) * m +
              global_index(il, nb, myrow, nprow)] = b[(size_t)jl * lld + il];
    td_comm_sum_disjoint(B, m * nrhs);
    int worst = info != 0;
    td_comm_any(&worst);
    free(a);
    free(b);
    Cblacs_gridexit(ctx);
    return worst ? (info ? info : -1) : 0;
}

int td_dense_spd_solve(int m, const double *S, int nrhs, double *B,
                       int threshold, int *used_scalapack, td_err *err)
{
    *used_scalapack = m >= threshold;
    int info = *used_scalapack ? solve_scalapack(m, S, nrhs, B)
                               : solve_lapack(m, S, nrhs, B);
    if (info == TD_DENSE_NOMEM)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (SPD solve of "
                          "order %d)", m);
    if (info)
        return td_err_set(err, TD_ERR_INTERNAL, "%s SPD solve of order %d "
                          "failed (info %d)", *used_scalapack ? "ScaLAPACK "
                          "pdposv" : "LAPACK dposv", m, info);
    return TD_OK;
}
