/* td_h5net.h - a trunc-dist result read back, for evaluating the network
 * on other data (trunc-dist eval). */
#ifndef TD_H5NET_H
#define TD_H5NET_H

#include "td_err.h"
#include "td_model.h"

/* Read the network of result file `path` into a fresh *mdl (serial HDF5,
 * any rank; the same bytes give the same model everywhere): the labels,
 * targets and layer kinds of /network; for a cone construction (Theorem 6,
 * lifted, pieces) its cones rebuilt from /construction h, p, lambda and
 * the output layer, for the structured forward pass (the dense weights
 * of a deep network are gigabytes); for a polytope or a clustered
 * network its dense layers.
 * Errors (TD_ERR_INPUT) name the file and what could not be read.  The
 * caller frees *mdl (td_model_free) on success or failure. */
int td_h5_read_network(const char *path, td_model *mdl, td_err *err);

/* The same read, done once in a child process (td_h5child.h) and thrown
 * away: a file that crashes HDF5 is reported as corrupt (TD_ERR_INPUT)
 * instead of killing the rank.  One rank checks before every rank reads. */
int td_h5_check_network(const char *path, td_err *err);

#endif
