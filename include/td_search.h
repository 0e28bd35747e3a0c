/* td_search.h - the order search and the construction of every layer.
 *
 * At each step every remaining class is separated from the rest (the
 * other remaining classes and the base points of the classes already
 * collapsed); the class with the largest certified margin is collapsed by
 * the next cone layer.  Then the output layer and the per-layer network. */
#ifndef TD_SEARCH_H
#define TD_SEARCH_H

#include "td_config.h"
#include "td_ckpt.h"
#include "td_engine.h"
#include "td_model.h"
#include "td_separator.h"

/* Build the whole model: hidden layers, output layer, network (identical
 * on all ranks).  mdl must be allocated for e->m, e->q with labels set.
 * Returns TD_ERR_INSEPARABLE with a one-line summary when no order works
 * (a detailed report is printed on rank 0). */
int td_search_build(td_engine *e, const td_config *cfg, td_model *mdl,
                    td_ckpt *ck, td_err *err);

/* The configured construction.order must name every class of the data
 * exactly once (TD_ERR_INPUT naming the label otherwise); td_search_build
 * checks it first, --dry-run too. */
int td_search_check_order(const td_config *cfg, const td_model *mdl,
                          td_err *err);

/* Separate class a from all other classes exactly as the first step of
 * the search does (warm start included), for benchmarks and tests.
 * *t_warm gets the seconds spent on the warm start. */
int td_search_separate_one(td_engine *e, const td_config *cfg, int a,
                           td_sep *out, double *t_warm, td_err *err);

#endif
