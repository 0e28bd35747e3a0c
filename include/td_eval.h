/* td_eval.h - trunc-dist eval: a result's network on other labelled data. */
#ifndef TD_EVAL_H
#define TD_EVAL_H

#include "td_err.h"

/* Read network `net_path` (a trunc-dist result) and the rows X, y of
 * `data` (the training-data contract), and print the accuracy (nearest
 * target), cost and max error over all rows.  Collective; every rank
 * returns the same code (2 for input errors, naming the file). */
int td_eval_main(const char *net_path, const char *data, td_err *err);

#endif
