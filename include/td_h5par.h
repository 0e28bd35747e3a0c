/* td_h5par.h - collective parallel-HDF5 writes shared by the files every
 * rank writes its own rows of (the checkpoint, the predictions).
 *
 * A dataset of n rows x cols (cols 0: 1-D) is written by every rank
 * collectively, each its rows [off, off + cnt); a rank with none selects
 * nothing but still joins.  Small whole datasets are written by rank 0
 * alone the same way (others cnt = 0).  Attributes are written by every
 * rank with the same value, as parallel HDF5 requires.  Each returns -1
 * when HDF5 failed (local: agree afterwards). */
#ifndef TD_H5PAR_H
#define TD_H5PAR_H

#include <hdf5.h>
#include <mpi.h>

/* Create `path` (truncating) for collective writes on comm; -1 on failure
 * with errno as the system left it. */
hid_t td_h5par_create(const char *path, MPI_Comm comm);

int td_h5par_rows(hid_t file, const char *name, hid_t type, hsize_t n,
                  hsize_t cols, hsize_t off, hsize_t cnt, const void *v);

int td_h5par_attr(hid_t obj, const char *name, hid_t type, const void *v,
                  hsize_t n);

/* A text attribute: a scalar fixed-length, null-terminated string. */
int td_h5par_text(hid_t obj, const char *name, const char *s);

/* Rank 0: fsync path, then rename it to final (the bytes reach the disk
 * before the name moves); -1 with errno on failure. */
int td_h5par_commit(const char *path, const char *final);

#endif
