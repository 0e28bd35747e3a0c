/* td_hull.h - nearest points between two small convex hulls.
 *
 * The hard-margin separator of point sets A and B is the perpendicular
 * bisector of the nearest points u in conv(A), v in conv(B); its margin is
 * |v - u| / 2.  Solved by Wolfe's minimum-norm-point method on the
 * difference polytope conv(A) - conv(B), with an updated QR factor of the
 * corral (O(k m) per vertex added or dropped, k <= m + 1 vertices) and a
 * bounded, progress-checked loop; tight hulls switch it to double-double
 * weights (see hull.c).
 *
 * Every exit is self-certifying: x = u - v gives an upper bound `dist` on
 * the hull distance and the oracle gives a lower bound `lower` (the margin
 * of the hyperplane normal to the solver's x); lower > 0 proves separation.
 *
 * Precision: u and v are doubles in the caller's coordinates, so the
 * direction of v - u carries a relative error of about eps |u| / dist per
 * coordinate.  When dist is ~1e-8 of the coordinates' size the hyperplane
 * (v - u) / dist may therefore separate with a margin somewhat below
 * `lower` (on breast cancer: 0.1 % below), although `lower` itself is
 * right for the solver's internal, more accurate x. */
#ifndef TD_HULL_H
#define TD_HULL_H

enum td_hull_exit {
    TD_HULL_CAP = 0,    /* iteration cap reached */
    TD_HULL_GAP = 1,    /* separated: dist - lower <= gap * dist */
    TD_HULL_MEET = 2,   /* hulls meet: dist <= meet_tol * scale; alpha and
                           beta are the certificate */
    TD_HULL_STALL = 3   /* no further progress in floating point (even in
                           double-double); dist and lower are still valid
                           bounds */
};

typedef struct {
    double gap;        /* relative optimality gap; default 1e-3 */
    double meet_tol;   /* hulls meet below meet_tol * scale; default 1e-10 */
    long max_iter;     /* major cycles; <= 0: a bound from the sizes,
                          20 (m + 1) + na + nb + 100 */
    void (*tick)(void *ctx);  /* called once per major cycle (may be NULL):
                                 lets a caller report on a long solve */
    void *tick_ctx;
} td_hull_opts;

/* The defaults above. */
td_hull_opts td_hull_defaults(void);

typedef struct {
    double dist;       /* |v - u| at exit (an upper bound on the hull distance) */
    double lower;      /* certified lower bound on the hull distance:
                          (min_B <w,b> - max_A <w,a>) / |w|, may be <= 0 */
    double scale;      /* max distance of a point from the centroid */
    long iters;        /* major cycles */
    int converged;     /* enum td_hull_exit */
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
 * Returns 0, -1 on bad input (sizes < 1, non-finite coordinates: then
 * info->scale is not finite either) or allocation failure.  opt may be NULL (the
 * defaults).  warm (may be NULL) is read as the starting corral and
 * overwritten with the final one.  Prints nothing. */
int td_hull_nearest(int m, int na, const double *A, int nb, const double *B,
                    const td_hull_opts *opt, double *u, double *v,
                    double *alpha, double *beta, td_hull_info *info,
                    td_hull_warm *warm);

#endif
