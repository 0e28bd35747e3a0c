/* td_verify.h - the independent check: a plain forward pass of the
 * exported network over every training point on every rank. */
#ifndef TD_VERIFY_H
#define TD_VERIFY_H

#include "td_engine.h"
#include "td_model.h"

/* Fill mdl->cost, max_error, n_correct, n_points from a forward pass of
 * mdl->net over the original shard points (exact, partition-independent
 * reductions).  A point is correct when its nearest target is its own. */
int td_verify(td_engine *e, td_model *mdl, td_err *err);

#endif
