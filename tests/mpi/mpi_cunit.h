/* mpi_cunit.h - run the registered CUnit suites under MPI. */
#ifndef TD_MPI_CUNIT_H
#define TD_MPI_CUNIT_H

/* Rank 0 prints the report; the failure count is summed over all ranks,
 * so every rank returns the same status.  Cleans up CUnit and finalizes
 * MPI; main returns what this returns. */
int td_mpi_cunit_run(void);

#endif
