/* td_basepoint.h - where a layer's base point may sit on its hyperplane.
 *
 * Pure geometry on class statistics (no data passes): the candidates the
 * layer builder scores by lambda_max and by how many later classes they
 * would block, and the tests it scores them with. */
#ifndef TD_BASEPOINT_H
#define TD_BASEPOINT_H

#include <stdint.h>

#define TD_NBASE 3     /* candidates near the data (td_base_candidates) */
#define TD_NFREE 9     /* free candidates off it (td_base_free) */

/* Candidate base points on H = {<h,x> = c} for class a, given the counts
 * (q) and means (q x m) of the active points and done[j] for collapsed
 * classes; out is TD_NBASE x m, in order of preference:
 *  0: where the segment from the class mean to the barycentre of the
 *     remaining class means crosses H (the talk's rule; if it does not
 *     cross, the barycentre's projection onto H),
 *  1: the class mean projected onto H,
 *  2: the count-weighted mean of the remaining points projected onto H.
 * Returns -1 on allocation failure. */
int td_base_candidates(int m, int q, const int64_t *counts,
                       const double *means, const int *done, int a,
                       const double *h, double c, double *out);

/* Mean of the points class a must be separated from: the other remaining
 * classes, or the np base points P when a is the last class. */
void td_mean_of_rest(int m, int q, const int64_t *counts, const double *means,
                     const int *done, int a, const double *P, int np,
                     double *out);

/* The separators of the classes still to come, as constraints on a base
 * point p: p must stay on the rest side with the full margin,
 * <h_j, p> - c_j >= margin_j (td_sep_voids objects below half of it). */
typedef struct {
    int n;
    const double *h;        /* n x m unit normals, towards the rest */
    const double *c;        /* n offsets */
    const double *margin;   /* n certified margins (> 0) */
} td_later_seps;

/* Free candidates on H = {<h,x> = c} (Definition 5 puts p anywhere on H):
 * p = p0 + t d with d a unit vector orthogonal to h, away from the points
 * Z (nz x m: remaining class means, earlier base points).  Directions: one
 * that climbs out of the separators p0 violates (if any), and the first
 * direction orthogonal to h and to the affine span of Z and p0 (or, when
 * there is none, the span's thinnest direction in H) with both signs;
 * each turned (perceptron steps) until moving along it gains slack on
 * every separator p0 violates.  Distances t: the least that gives every
 * separator its full margin (when p0 violates one), reach, 2 reach (never
 * below that least).  Every candidate written satisfies every separator
 * of `later` (may be NULL) with its full margin; out holds TD_NFREE x m.
 * Returns the number written (0 when m == 1 or no direction works), -1
 * on allocation failure. */
int td_base_free(int m, const double *h, double c, const double *p0,
                 int nz, const double *Z, const td_later_seps *later,
                 double reach, double *out);

/* Distance from p to the affine hull of the np points P (np x m): the
 * output layer needs the base points affinely independent.  +INFINITY
 * when np == 0, -1 on allocation failure. */
double td_affine_dist(int m, int np, const double *P, const double *p);

/* The gap between the point mu (a later class's mean) and the convex hull
 * of P (np x m) and p: *dist and the unit direction u from mu to the
 * nearest point of the hull (zero when mu is in it).  If the class's rows
 * x all have <u, x - mu> <= e, the hyperplane normal to u separates the
 * class from every base point by dist - e: the class is clear of them.
 * -1 on failure. */
int td_base_hull_gap(int m, int np, const double *P, const double *p,
                     const double *mu, double *u, double *dist);

#endif
