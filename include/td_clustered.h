/* td_clustered.h - clustered data (Proposition 3, Corollary 4): the
 * conditions, reported from the class means and radii, and the geometry of
 * the reduced-width network.  No MPI: the engine reduces the inputs.
 *
 * The paper's conditions, with xbar the barycentre of the class means
 * (not of the points) and delta the largest distance of a point to its
 * class mean:
 *   (18) delta < c0 min_j |mean_j - xbar| for some c0 < 1/4, i.e.
 *        c0 = delta / min_j |mean_j - xbar| < 1/4;
 *   (20) max_j theta_*,j < pi, theta_*,j the smallest full aperture of a
 *        cone at mean_j around f_j = (xbar - mean_j)/|xbar - mean_j| that
 *        holds every other class's ball B_4delta(mean_j').
 * When both hold, the cone of class j at p_j = mean_j + mu_j f_j with
 * mu_j in (2 delta, 3 delta) keeps every other class and every earlier
 * base point and collapses class j, in any order.
 *
 * Width Q after the first layer (Corollary 4).  The cumulative matrices
 * W^(l) = I(d0, dl) W_theta R_l of the paper do not all factor into
 * layers (their kernels are not nested).  Our route: the first layer
 * reads z = (U^T (x - xbar), t) in R^Q, U an orthonormal basis of the span
 * of mean_j - xbar (Q - 1 columns) and t a constant coordinate, and every
 * cone is built in z-space.  The projection moves no class mean, xbar or
 * f_j and brings every point at least as close to its class mean, so the
 * conditions hold in z-space whenever they hold in R^M.  The constant
 * coordinate t puts the base points at height t, which makes them
 * linearly (not only affinely) independent, as the paper's output layer
 * Y P^+ and the section 6.2 layer need. */
#ifndef TD_CLUSTERED_H
#define TD_CLUSTERED_H

#include <stdint.h>

typedef struct td_clustered {
    int q, m;
    double *xbar;           /* m: barycentre of the class means */
    double *dist;           /* q: |mean_j - xbar| */
    double *f;              /* q x m: unit vectors from mean_j to xbar */
    double *delta_class;    /* q: largest |x - mean_j| over class j */
    double delta;           /* their maximum */
    int delta_arg;          /* the class attaining it */
    double r;               /* min_j |mean_j - xbar| */
    int r_arg;              /* the class attaining it */
    double c0;              /* delta / r: (18) holds iff c0 < 1/4 */
    double *theta_star;     /* q: theta_*,j (2 pi when a 4 delta ball holds
                               mean_j: no cone) */
    int *theta_arg;         /* q: the class j' whose ball sets it */
    double theta_max;       /* max_j theta_*,j: (20) holds iff < pi */
    int theta_max_arg;      /* the class j attaining it */
    int holds18, holds20;
    double *mu;             /* q: mu_j = 2.5 delta, the middle of the
                               paper's (2 delta, 3 delta); with delta = 0
                               a quarter of the smallest <mean_k - mean_j,
                               f_j> (the interval is then empty) */
    /* The reduced-width coordinates (td_clustered_basis). */
    int rank;               /* of the means' differences: Q - 1 needed */
    double *U;              /* (q - 1) x m, orthonormal rows (the first
                               rank of them) */
    double t;               /* height of the constant coordinate */
} td_clustered;

/* The conditions from the class means (q x m) and each class's largest
 * distance of a point to its mean (q).  -1 on allocation failure. */
int td_clustered_conditions(int q, int m, const double *means,
                            const double *delta_class, td_clustered *c);

/* The projection onto the span of the mean differences (modified
 * Gram-Schmidt, twice, in the class order; a difference whose remainder
 * is below 1e-10 of the largest |mean_j - xbar| adds no column), and
 * t = max_j |mean_j - xbar|.  Sets c->rank; -1 on allocation failure. */
int td_clustered_basis(const double *means, td_clustered *c);

/* z (q entries) of a point x (m): (U^T (x - xbar), t). */
void td_clustered_project(const td_clustered *c, const double *x, double *z);

/* The input map of the network, z = A x + s: A (q x m, the last row 0),
 * s (q). */
void td_clustered_input_map(const td_clustered *c, double *A, double *s);

/* Class j's cone in z-space: axis h (unit, from the class to the rest)
 * and base point p = mean_j + mu_j f_j, projected. */
void td_clustered_cone(const td_clustered *c, const double *means, int j,
                       double *h, double *p);

/* The conditions in a line: the quantities and which condition holds or
 * fails by how much; labels name the classes. */
void td_clustered_describe(const td_clustered *c, const int64_t *labels,
                           char *buf, size_t len);

void td_clustered_free(td_clustered *c);

#endif
