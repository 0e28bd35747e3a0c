/* td_h5gen.h - `trunc-dist generate`'s file: X (N, M) float32 or float64
 * and y (N,) int64, written collectively with parallel HDF5.
 *
 * The file and its datasets are created collectively.  Every rank owns
 * the contiguous rows [N r / P, N (r+1) / P), generates them a block at a
 * time (about 16 MiB of X, rows shared by the OpenMP threads) and writes
 * each block as one hyperslab (the block is the whole request: far below
 * MPI-IO's 2 GiB); a rank out of rows joins with an empty selection
 * (TD_GEN_BLOCK_ROWS=K, for the tests, makes blocks of at most K rows).
 * The transfers are independent MPI-IO (each block is one contiguous run
 * of the file); TD_GEN_COLLECTIVE=1 makes them collective.  After each block the ranks agree
 * on write errors and stop signals.  The file is "<OUT>.tmp" until rank 0
 * syncs and renames it (td_h5par_write): OUT appears whole or not at all.
 * The root carries the provenance: `format` ("trunc-dist generate 1"),
 * `generator`, `git_commit`, `kind`, `description`, `command`, `seed`
 * (uint64), `n`, `m`, `q`, `dtype`, `label_offset`, `label_step`,
 * `layout`, and the kind's parameters: blobs `sep`, `sigma`, `halfgap`,
 * `centre_distance`; overlap `sep`, `sigma`, `centre_distance`;
 * sls_not_ovr `spacing`, `radius`; clustered `centre_distance`, `delta`,
 * `delta_crit`, `prop3_r_min`, `prop3_proj_min`, `prop3_bound18`,
 * `prop3_bound20`, `prop3_binding` (18 or 20), `violate` (0: none),
 * `prop3_holds`; random `half_width`. */
#ifndef TD_H5GEN_H
#define TD_H5GEN_H

#include <mpi.h>
#include <stdint.h>
#include "td_err.h"
#include "td_generate.h"

typedef struct {
    const char *out;         /* the file to write (already checked) */
    int f32;                 /* X as float32 (else float64) */
    const char *command;     /* the canonical command, for the attributes */
} td_h5gen_opts;

typedef struct {
    double seconds;          /* wall clock, create to rename (rank 0) */
    double gen_seconds;      /* rank 0's time generating rows */
    double write_seconds;    /* rank 0's time in the collective writes */
    int64_t bytes;           /* of X and y */
    int64_t block_rows;
} td_h5gen_stats;

/* Collective over comm: TD_ERR_OUTPUT, TD_ERR_INTERRUPTED or
 * TD_ERR_INTERNAL (agreed, except failures of closing and of rank 0's
 * rename: agree afterwards), the temporary removed on failure. */
int td_h5gen_write(const td_gen *g, const td_h5gen_opts *o, MPI_Comm comm,
                   td_h5gen_stats *st, td_err *err);

#endif
