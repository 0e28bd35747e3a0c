/* td_hull.h - nearest points between two small convex hulls.
 *
 * The hard-margin separator of point sets A and B is the perpendicular
 * bisector of the nearest points u in conv(A), v in conv(B); its margin is
 * |v - u| / 2.  Solved by the pairwise (MDM) method on the Gram matrix: each
 * step moves weight between two points of one set, O(n) per step. */
#ifndef TD_HULL_H
#define TD_HULL_H

typedef struct {
    double dist;       /* |v - u| at exit (an upper bound on the hull distance) */
    double lower;      /* certified lower bound on the hull distance:
                          (min_B <w,b> - max_A <w,a>) / |w|, may be <= 0 */
    double scale;      /* max distance of a point from the centroid */
    long iters;
    int converged;     /* 1: relative gap below tol; 2: hulls meet (dist
                          below tol * scale); 0: iteration cap */
} td_hull_info;

/* A solver state to resume from: the corral (support pairs and weights)
 * of an earlier solve on a prefix of the same point lists.  The separator
 * only ever appends points to its working set, so each round restarts from
 * the last optimum instead of from scratch. */
typedef struct {
    int k;          /* corral size; 0 = cold start */
    int cap;        /* capacity of the arrays (>= m + 2) */
    int *ia, *ib;   /* corral vertices a_ia - b_ib */
    double *lam;    /* their weights */
} td_hull_warm;

int td_hull_warm_init(td_hull_warm *w, int m);
void td_hull_warm_free(td_hull_warm *w);

/* A is na x m, B is nb x m (row-major).  On return u, v (m each) are the
 * nearest points found, alpha (na) and beta (nb) their convex weights.
 * tol is relative: stop when dist - lower <= tol * dist, or when
 * dist <= tol * scale (the hulls meet).  Returns 0, -1 on bad input or
 * allocation failure.  warm (may be NULL) is read as the starting corral
 * and overwritten with the final one. */
int td_hull_nearest(int m, int na, const double *A, int nb, const double *B,
                    double tol, long max_iter, double *u, double *v,
                    double *alpha, double *beta, td_hull_info *info,
                    td_hull_warm *warm);

#endif
