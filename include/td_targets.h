/* td_targets.h - the target vectors y_j of the classes (the paper's labels,
 * any Q linearly independent vectors of R^Q; one-hot by default).
 *
 * Core (src/core/targets.c, no MPI): the checks a set of targets must pass
 * before anything is built - Q rows of Q numbers, all finite, linearly
 * independent - each failure one line naming where the targets came from.
 *
 * Linear independence is decided by Gram-Schmidt on the rows in order,
 * each row orthogonalised twice against the earlier ones (classical
 * Gram-Schmidt twice keeps the basis orthonormal to rounding, about Q u):
 * row j is *dependent* when its distance to the span of rows 0..j-1 is
 * at most TD_TARGETS_RTOL |y_j|.  The rounding of that distance is a few
 * Q u |y_j| (1e-13 at Q = 1000), far below 1e-10, so a set is refused
 * only when it is within 1e-10 (relative, per row) of a dependent one; a
 * zero row is always dependent.  The report is minimal: the first such
 * row j and the earlier rows its projection uses (coefficients with
 * |c_i| |y_i| > TD_TARGETS_RTOL |y_j|).  Rows 0..j-1 are independent, so
 * the coefficients are unique and no smaller set of rows is dependent.
 *
 * App (src/app/targets.c, collective): where the targets come from
 * (one-hot, construction.targets, or data.targets_dataset read by rank 0
 * and broadcast), checked once Q is known. */
#ifndef TD_TARGETS_H
#define TD_TARGETS_H

#include <stddef.h>
#include <stdint.h>
#include "td_config.h"
#include "td_err.h"
#include "td_model.h"

#define TD_TARGETS_RTOL 1e-10

/* A dependent row and the earlier rows that span it. */
typedef struct {
    int row;            /* j: the first row within rtol of the span of the
                           earlier rows; -1 when all are independent */
    int nused;          /* earlier rows with a nonzero coefficient */
    int *used;          /* their indices, ascending */
    double *coef;       /* y_j ~ sum_k coef[k] y_used[k] */
    double residual;    /* |y_j - sum coef y_used| / |y_j| (0 for y_j = 0) */
} td_targets_dep;

/* Rows x cols matrix Y (row-major): 0 when its rows are linearly
 * independent (dep->row = -1), 1 when not (dep filled: free it with
 * td_targets_dep_free), -1 when memory runs out. */
int td_targets_independent(const double *Y, int rows, int cols, double rtol,
                           td_targets_dep *dep);
void td_targets_dep_free(td_targets_dep *dep);

/* "rows 0, 1 and 3 are linearly dependent (y_3 = 1 y_0 + 2 y_1 to
 * 2.2e-17 relative)" or "row 2 is the zero vector". */
void td_targets_describe(const td_targets_dep *dep, char *buf, size_t len);

/* Every check, in order: exactly q rows of q numbers, all finite, linearly
 * independent (TD_TARGETS_RTOL).  `what` names the source in the message
 * ("config.toml:9: construction.targets", "train.h5: dataset 'T'"), the
 * labels say which classes the data have.  TD_ERR_INPUT with one line,
 * e.g. "construction.targets has 3 vectors, the data have 4 classes
 * (labels 0, 1, 2, 5)"; TD_ERR_INTERNAL when memory runs out. */
int td_targets_check(const double *Y, int rows, int cols, int q,
                     const int64_t *labels, const char *what, td_err *err);

/* max(1, max |y_jk|): verify.tolerance is relative to it (README). */
double td_targets_scale(const double *Y, int q);

/* App: set mdl->targets and mdl->targets_source from cfg (mdl allocated
 * for the data's Q), every check above, and scale cfg->tolerance by
 * td_targets_scale.  Collective: rank 0 reads a dataset, every rank
 * agrees on the outcome before the broadcast.  TD_ERR_INPUT naming the
 * key or the file and dataset, the same on every rank. */
int td_targets_setup(td_config *cfg, td_model *mdl, td_err *err);

#endif
