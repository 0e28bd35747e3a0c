/* td_h5child.h - HDF5 work of one rank in a child process.
 *
 * HDF5 1.10 crashes (SIGSEGV in its metadata cache, SIGFPE, 17 GB
 * allocations) on some corrupt files, found by scripts/fuzz; in an MPI
 * rank that takes the job down with it and the other ranks are killed
 * without a word.  A rank that reads a file alone first does it in a
 * child process that touches nothing of MPI and leaves with _exit: the
 * child's answer comes back up a pipe, and a child that dies says the
 * file is corrupt.  Without fork or pipe the job runs here. */
#ifndef TD_H5CHILD_H
#define TD_H5CHILD_H

#include "td_buf.h"
#include "td_err.h"

/* The work: put what the parent needs in out, return the error code with
 * its message in err. */
typedef int (*td_h5_job)(void *ctx, td_buf *out, td_err *err);

/* Run job in a child; its code and message come back in err, the bytes
 * it put in its out appended to *out (the caller frees it).  A child
 * killed by a signal: "PATH: corrupt HDF5 file: the HDF5 library crashed
 * reading WHAT (signal)" (TD_ERR_INPUT); one that leaves without an
 * answer (out of memory): TD_ERR_INTERNAL. */
int td_h5_in_child(const char *path, const char *what, td_h5_job job,
                   void *ctx, td_buf *out, td_err *err);

#endif
