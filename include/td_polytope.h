/* td_polytope.h - binary data, one class inside a polytope cut out of the
 * other (the talk's simplex theorem, section 3, for any number of facets).
 *
 * Inner class A, outer class B.  Facets i = 1..k are pieces of B against
 * all of A: a unit w_i and lo_i < hi_i with every A row <w_i, x> >= hi_i
 * and the B rows of facet i <= lo_i; every B row is in at least one facet.
 * With beta_i = (lo_i + hi_i) / 2, g_i = (hi_i - lo_i) / 2:
 *   hidden layer 1 (width k, kind "facets"):
 *       z_i = relu(2 (beta_i - <w_i, x>) / g_i)
 *     exactly 0 on A (pre-activation <= -2), >= 2 on facet i's rows;
 *   hidden layer 2 (width 1, kind "indicator"):
 *       u = relu(1 - sum_i z_i)      1 on A, exactly 0 on B;
 *   output (width 2): y = y_B + u (y_A - y_B).
 * Zero loss at depth 2 and width k.  It exists iff no B row lies in the
 * convex hull of A: then some remaining B row is a vertex of the hull of
 * A and the remaining B rows, and a direction it is extreme along cuts it.
 *
 * Facets are found by the pieces' cut pass restricted to B's candidate
 * directions (B the class, A the others), the largest piece grown by
 * max-margin re-solves of the piece against A (td_lift_grow), its rows
 * then marked covered.  When no candidate cuts a piece, the first
 * remaining B row alone is separated from A: either it gives a facet or
 * the hulls meet, and that row in the hull of A is the evidence.  The
 * smaller class is tried as A first (the lower label on a tie), then the
 * other. */
#ifndef TD_POLYTOPE_H
#define TD_POLYTOPE_H

#include "td_config.h"
#include "td_engine.h"
#include "td_model.h"

/* Build the polytope model and its network (dense, identical on all
 * ranks).  Q must be 2 (else TD_ERR_INPUT naming construction.mode);
 * TD_ERR_INSEPARABLE with the evidence when neither class fits inside
 * facets of the other.  mdl allocated for e->m, e->q with labels set;
 * its layers are replaced.  Rows must all be active; on return the rows
 * of the outer class carry the facet (layer) that first covered them. */
int td_polytope_build(td_engine *e, const td_config *cfg, td_model *mdl,
                      td_err *err);

#endif
