/* td_eval.h - trunc-dist eval: a result's network on other labelled data. */
#ifndef TD_EVAL_H
#define TD_EVAL_H

#include "td_engine.h"
#include "td_err.h"
#include "td_model.h"

typedef struct {
    const char *network;        /* a trunc-dist result */
    const char *data;           /* X, y: the training-data contract */
    const char *predictions;    /* --predictions OUT.h5, or NULL */
} td_eval_opts;

/* Read the network and the rows of the data, and print the accuracy
 * (nearest target), cost, max error, per-class accuracy and the
 * confusion matrix over all rows; with predictions, write them per row
 * with the outputs and the per-layer kept / collapsed counts
 * (td_h5pred.h).  Collective; every rank returns the same code (2 for
 * input errors, naming the file; a label the network never saw is one). */
int td_eval_main(const td_eval_opts *o, td_err *err);

/* The rows of `data` for model mdl: read (collective), labels mapped to
 * the network's classes (a label it never saw is an input error naming
 * it), scaled by mdl->input_scale for a cone network.  Agreed. */
int td_eval_load_data(const char *data, const td_model *mdl, td_engine *e,
                      td_err *err);

/* The config's [eval] path: the same pass over that test set, its totals,
 * confusion matrix and per-layer table kept in mdl->test (the training
 * verification's numbers are left as they were).  Collective, agreed. */
int td_eval_test(const char *path, td_model *mdl, td_err *err);

#endif
