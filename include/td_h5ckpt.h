/* td_h5ckpt.h - the checkpoint file (parallel HDF5, collective).
 *
 * <output>.checkpoint holds what td_ckpt.h describes: attributes naming
 * the program version, the config text and the data's shape, labels and
 * class statistics (so a resume on other data or another config is
 * refused), the phase, the builder state (a byte dataset) and one int32
 * per row, the layer that collapsed it (-1 active).  It is written to
 * <output>.checkpoint.tmp and renamed over the old one by rank 0, so a
 * kill at any moment leaves the previous checkpoint whole. */
#ifndef TD_H5CKPT_H
#define TD_H5CKPT_H

#include <stdint.h>
#include <mpi.h>
#include "td_buf.h"
#include "td_ckpt.h"
#include "td_err.h"

/* What a checkpoint must agree with to be resumed. */
typedef struct {
    const char *path;           /* <output>.checkpoint */
    const char *version;
    const char *config_text;
    int64_t n_total;
    int m, q;
    const int64_t *labels;      /* q */
    const int64_t *counts;      /* q, over all rows */
    const double *means;        /* q x m, over all rows (exact sums) */
    MPI_Comm comm;
    const double *targets;      /* q x q: a changed data.targets_dataset
                                   leaves the config text as it was */
} td_h5ckpt_meta;

/* Collective: write img with meta's attributes (a td_ckpt_writer with
 * ctx = the meta).  Errors are local (rank 0's rename); agree after. */
int td_h5_write_checkpoint(void *meta, const td_ckpt_image *img,
                           td_err *err);

/* Collective: read the checkpoint at meta->path after checking that it
 * was written by this version for this config and data; *phase, *state
 * (whole, every rank) and row_layer (rows [row0, row0 + n_local)).
 * TD_ERR_INPUT naming the file and what differs. */
int td_h5_read_checkpoint(const td_h5ckpt_meta *meta, int64_t row0,
                          int64_t n_local, int *row_layer, int *phase,
                          int *nlayers, td_buf *state, td_err *err);

#endif
