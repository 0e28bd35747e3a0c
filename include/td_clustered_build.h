/* td_clustered_build.h - the clustered construction on the shards
 * (Proposition 3, Corollary 4; the geometry is td_clustered.h). */
#ifndef TD_CLUSTERED_BUILD_H
#define TD_CLUSTERED_BUILD_H

#include "td_ckpt.h"
#include "td_clustered.h"
#include "td_config.h"
#include "td_engine.h"
#include "td_model.h"

/* The conditions from the data: class means and counts (into mdl), each
 * class's radius delta_j (one max pass), then td_clustered_conditions on
 * every rank alike.  Collective; TD_ERR_INTERNAL on every rank when
 * memory ran out anywhere.  The result is kept in mdl->clustered. */
int td_clustered_check(td_engine *e, td_model *mdl, td_err *err);

/* Build the reduced-width network from mdl->clustered (td_clustered_check
 * first): the first layer reads z = (U^T (x - xbar), t) in R^Q, then one
 * cone per class in the order of construction.order (else the labels'),
 * axis f_j and base point mean_j + mu_j f_j, lambda = kappa lambda_max
 * from the data exactly.  When the paper's mu_j does not separate (only
 * when a condition fails) the base point moves along f_j to the middle of
 * the gap between class j and the rest, if there is one (base rule 6,
 * mdl->clustered->mu updated).  TD_ERR_INSEPARABLE, with the conditions,
 * when the class means are affinely dependent (no width-Q route) or no
 * cone with axis f_j separates its class.
 * Rows must all be active; on return each carries the layer that
 * collapsed it, as in the other constructions.  A stop signal is honoured
 * after each layer (TD_ERR_INTERRUPTED; ck may be NULL): nothing is saved
 * within, a resumed run builds it again. */
int td_clustered_build(td_engine *e, const td_config *cfg, td_model *mdl,
                       td_ckpt *ck, td_err *err);

#endif
