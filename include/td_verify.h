/* td_verify.h - the independent check: a plain forward pass of the
 * exported network over every training point on every rank. */
#ifndef TD_VERIFY_H
#define TD_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include "td_engine.h"
#include "td_model.h"

/* Fill mdl->cost, max_error, n_correct, n_points from a forward pass of
 * mdl->net over the original shard points (exact, partition-independent
 * reductions).  A point is correct when its nearest target is its own. */
int td_verify(td_engine *e, td_model *mdl, td_err *err);

/* What an evaluation keeps beyond the totals (each pointer may be NULL):
 *  - confusion (q x q, all ranks): row = true class, column = the class
 *    of the nearest target;
 *  - layer_class (nlayers x q x 3, all ranks): at hidden cone layer l the
 *    points of class c with every unit alive (kept), every unit dead
 *    (collapsed to the base point) and some of each (only partly
 *    truncated; 0 in an exact construction on its training data); a
 *    point collapsed earlier sits at that base point, which later cones
 *    keep; polytope layers are not cones and are not counted;
 *  - pred (n_local): each local row's predicted class index;
 *  - out (n_local x q): the network's outputs;
 *  - nc: compute mdl->nc, section 6.2's neural-collapse quantities on the
 *    penultimate features and the decomposition of C_N (td_nc.h; when
 *    the per-block sums fit in 64 MB, else mdl->nc stays NULL). */
typedef struct {
    int64_t *confusion;
    int64_t *layer_class;
    int *pred;
    double *out;
    int nc;
} td_verify_extra;

/* td_verify, filling what x asks for (collective). */
int td_verify_ex(td_engine *e, td_model *mdl, td_verify_extra *x,
                 td_err *err);

/* The line after the verify line: mdl->nc's numbers (nothing without). */
void td_verify_say_nc(const td_model *mdl);

/* Why a verified exact construction misses zero loss, for the error
 * message (after td_verify): the first hidden layer where the float64
 * pass leaves the construction (mdl->n_departed), or, when it never does,
 * the rounding floor and the worst-conditioned layer.  Starts with "; ". */
void td_verify_explain(const td_model *mdl, char *buf, size_t len);

#endif
