/* td_verify.h - the independent check: a plain forward pass of the
 * exported network over every training point on every rank. */
#ifndef TD_VERIFY_H
#define TD_VERIFY_H

#include <stddef.h>
#include "td_engine.h"
#include "td_model.h"

/* Fill mdl->cost, max_error, n_correct, n_points from a forward pass of
 * mdl->net over the original shard points (exact, partition-independent
 * reductions).  A point is correct when its nearest target is its own. */
int td_verify(td_engine *e, td_model *mdl, td_err *err);

/* Why a verified exact construction misses zero loss, for the error
 * message (after td_verify): the first hidden layer where the float64
 * pass leaves the construction (mdl->n_departed), or, when it never does,
 * the rounding floor and the worst-conditioned layer.  Starts with "; ". */
void td_verify_explain(const td_model *mdl, char *buf, size_t len);

#endif
