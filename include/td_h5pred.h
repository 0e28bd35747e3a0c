/* td_h5pred.h - an evaluation's results file (trunc-dist eval
 * --predictions OUT.h5): per row the true and predicted labels and the
 * network's outputs, written by every rank for its own rows (parallel
 * HDF5, collective), and the evaluation's summary; layout in io/README.md.
 * Written to OUT.tmp and renamed, so a failure leaves no file. */
#ifndef TD_H5PRED_H
#define TD_H5PRED_H

#include <stdint.h>
#include <mpi.h>
#include "td_err.h"

typedef struct {
    const char *path;
    const char *network_path, *data_path;
    int q, nlayers;
    const int64_t *labels;      /* q label values */
    const int64_t *counts;      /* q rows per class in the data */
    const int64_t *confusion;   /* q x q */
    const int64_t *layer_class; /* nlayers x q x 3, or NULL */
    double accuracy, cost, max_error;
    int64_t n_total, row0, n_local;
    const int *cls, *pred;      /* this rank's rows: class indices */
    const double *out;          /* n_local x q */
} td_h5pred;

/* Collective; errors are local (agree afterwards): TD_ERR_OUTPUT naming
 * the file. */
int td_h5_write_predictions(const td_h5pred *p, MPI_Comm comm, td_err *err);

#endif
