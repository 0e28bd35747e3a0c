/* mpi_cunit.c - see mpi_cunit.h. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include "mpi_cunit.h"
#include "td_comm.h"

int td_mpi_cunit_run(void)
{
    if (td_comm_rank() != 0)       /* one report, from rank 0 */
        (void)!freopen("/dev/null", "w", stdout);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int64_t fails = CU_get_number_of_failures() + (CU_get_error() != CUE_SUCCESS);
    CU_cleanup_registry();
    td_comm_sum_i64(&fails, 1);
    td_comm_finalize();
    return fails != 0;
}
