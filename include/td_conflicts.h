/* td_conflicts.h - identical points with different labels.
 *
 * Two rows with the same coordinates and different labels make zero
 * training loss impossible for any function, so trunc-dist looks for them
 * right after loading, before any search.  The check is distributed: every
 * rank hashes its rows (as the doubles td_engine_row gives, so float32 and
 * float64 storage of the same values agree; -0 counts as +0), one
 * all-to-all sends (hash, class, row) to the rank owning the hash, and the
 * owners look for equal hashes with different classes.  Candidates are
 * confirmed by comparing coordinates exactly, so a hash collision never
 * makes a false report, and the answer does not depend on the rank count. */
#ifndef TD_CONFLICTS_H
#define TD_CONFLICTS_H

#include <stdint.h>
#include "td_engine.h"

typedef struct {
    int64_t n_points;     /* distinct points that carry two or more labels */
    int64_t row_a, row_b; /* the smallest such pair of global rows in
                             lexicographic order (row_a < row_b): row_a is
                             the lowest row of any such point, row_b the
                             lowest row of that point with another label;
                             -1 when n_points == 0 */
    int cls_a, cls_b;     /* their class indices (-1 when none) */
} td_conflict_report;

/* Find every point of the active rows carried by rows of different
 * classes; identical rows of one class are fine.  Collective; the report
 * is the same on every rank.  Returns -1 on every rank if memory ran out
 * on any rank. */
int td_engine_conflicts(td_engine *e, td_conflict_report *out);

/* Test hook: keep only the top `bits` bits of every hash (0: every row
 * collides with every other; 64, the default: the full hash), to show that
 * collisions change neither the answer nor its exactness.  Call it with
 * the same value on every rank. */
void td_conflicts_test_key_bits(int bits);

#endif
