/* td_basepoint.h - where a layer's base point may sit on its hyperplane.
 *
 * Pure geometry on class statistics (no data passes): the candidates the
 * layer builder scores by lambda_max and by how many later classes they
 * would block. */
#ifndef TD_BASEPOINT_H
#define TD_BASEPOINT_H

#include <stdint.h>

#define TD_NBASE 3

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

#endif
