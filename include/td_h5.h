/* td_h5.h - the HDF5 boundary: the training-data reader (parallel,
 * collective hyperslab reads) and the result writer (rank 0, atomic).
 *
 * Input contract: dataset X, shape (N, M), float32 or float64, one point
 * per row; dataset y, shape (N,), any integer type.  Names configurable. */
#ifndef TD_H5_H
#define TD_H5_H

#include <stdint.h>
#include <mpi.h>
#include "td_err.h"
#include "td_model.h"

/* This rank's contiguous block of rows.  Points are held in the file's
 * precision: exactly one of x and xf is set (both NULL only after an error
 * or a free), so float32 data cost 4 bytes a value, not 8. */
typedef struct {
    int64_t n_total;   /* N over all ranks */
    int m;             /* M */
    int64_t row0;      /* global index of the first local row */
    int64_t n_local;   /* rows held here (may be 0) */
    double *x;         /* n_local x m, row-major: float64 (or wider) X */
    float *xf;         /* n_local x m, row-major: float32 (or narrower) X */
    int64_t *y;        /* n_local labels */
} td_shard_data;

/* What td_h5_probe found: enough for every rank to size its shard. */
typedef struct {
    int64_t n;         /* rows N of X and y */
    int m;             /* columns M of X */
    int x_float;       /* X values of at most 4 bytes: held as float */
    int y_uint64;      /* y is unsigned 64-bit: read unconverted, checked */
} td_h5_info;

/* Check `path` against the input contract without reading any values,
 * with serial HDF5 and no MPI (any one process): what the path is (missing,
 * a dangling symbolic link, named with its target, a directory, a FIFO,
 * empty, unreadable), whether it is an intact HDF5 file (truncated and
 * corrupt files are said as such), and for X and y what the name is (a
 * missing dataset, a dangling soft or external link, a group), filters
 * this HDF5 cannot decode, rank, shape and type class.  Errors
 * (TD_ERR_INPUT) name the file and the dataset. */
int td_h5_probe(const char *path, const char *xname, const char *yname,
                td_h5_info *info, td_err *err);
/* The file part of td_h5_probe alone: what the path is and whether it is
 * an HDF5 file that opens (serial, read only).  For other HDF5 inputs
 * (the network of trunc-dist eval); errors (TD_ERR_INPUT) name the file. */
int td_h5_check_file(const char *path, td_err *err);
/* td_h5_probe runs this in a child process (fork), so that a file which
 * crashes the HDF5 library (1.10 does on some corrupt files) is reported
 * as corrupt instead of killing the caller; called directly, the same
 * checks in this process (the fuzz harness's way). */
int td_h5_probe_here(const char *path, const char *xname, const char *yname,
                     td_h5_info *info, td_err *err);

/* One process reads dataset `name` of `path` whole, as double: a rank-2
 * dataset of any integer or float type (the target vectors,
 * data.targets_dataset).  dims gets its shape; the values (malloc'd, *v)
 * only when it is rows x cols, else *v stays NULL for the caller to name
 * the shape it has.  Like td_h5_probe it runs in a child process, so a
 * file that crashes HDF5 is reported as corrupt.  Errors (TD_ERR_INPUT)
 * name the file and the dataset:
 *   "train.h5: dataset 'T' has rank 1, expected 2 (Q x Q target vectors)" */
int td_h5_read_matrix(const char *path, const char *name, int64_t rows,
                      int64_t cols, double **v, int64_t *dims, td_err *err);

/* Rank 0 probes `path` (td_h5_probe) and broadcasts what it found, so
 * contract errors are one message, the same on every rank.  Then every
 * rank opens the file through MPI-IO on `comm` (which must be
 * td_comm_world(): the broadcast and the agreement before the first
 * collective read go through td_comm) and reads its rows
 * [row0, row0 + n_local) with one collective hyperslab read per dataset.
 * The row split comes from td_partition_rows (td_shard.h) with
 * `block_rows`.  Errors (TD_ERR_INPUT) name the file and the dataset:
 *   "train.h5: dataset 'X' has rank 3, expected 2 (N x M)"
 * Non-finite values in X are errors naming the global row.  Every rank
 * returns the same code for contract errors; value errors are local and
 * the caller agrees on them. */
int td_h5_read_shard(const char *path, const char *xname, const char *yname,
                     MPI_Comm comm, int block_rows, td_shard_data *out,
                     td_err *err);
void td_shard_data_free(td_shard_data *d);

/* Wall-clock seconds of a run's phases (rank 0's clock), stored under
 * /run as time_* attributes with the start time.  They change from run to
 * run, so "same input, same bytes out" holds for everything but these
 * (/network, /construction and /verification are what runs compare). */
typedef struct {
    double load;       /* config, output checks, reading, duplicate check */
    double build;      /* the search and construction */
    double verify;     /* the forward pass */
    double write;      /* filled in by the writer: from its start until /run
                          is written (all but closing and renaming) */
    int64_t started;   /* Unix time at the start (started_utc) */
} td_run_times;

/* Run facts stored with the result. */
typedef struct {
    const char *config_text;
    const char *config_source;
    const char *version;
    const char *data_path;
    int nranks;
    int nthreads;
    int block_rows;
    double kappa;
    const char *status;  /* "zero_loss", "best_effort", ... */
    const char *git_commit;
    const char *hostnames;  /* the ranks' hosts, distinct, in rank order */
    td_run_times *times; /* NULL: no timings written (same model, same
                            bytes); else stored, times->write set */
} td_run_info;

/* Write the model to `path` (serial HDF5; call on one rank only).  Writes
 * to a temporary name in the same directory, then renames, so a failed run
 * never leaves a half-written file.  Dataset creation times are not
 * tracked, so identical models give identical bytes. */
int td_h5_write_model(const char *path, const td_model *mdl,
                      const td_run_info *run, td_err *err);

#endif
