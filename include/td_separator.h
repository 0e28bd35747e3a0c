/* td_separator.h - the distributed max-margin separator.
 *
 * Working-set scheme: rank 0 keeps a small set of candidate support
 * vectors and solves the hard-margin problem on it exactly (nearest points
 * of two convex hulls, td_hull); a full pass over every shard then
 * certifies the hyperplane and returns the worst points, which join the
 * set.  When no point lies inside the working-set margin the hyperplane is
 * the max-margin separator of all the data. */
#ifndef TD_SEPARATOR_H
#define TD_SEPARATOR_H

#include <stdint.h>
#include "td_config.h"
#include "td_engine.h"

#define TD_SEP_EVIDENCE 3

typedef struct {
    double *h;          /* unit normal, from class a towards the rest (m) */
    double c;           /* hyperplane {x : <h, x> = c} */
    double margin;      /* certified: min distance of any point to the
                           hyperplane on its correct side (<= 0: fails) */
    int status;         /* enum td_sep_status (td_model.h) */
    int rounds;         /* working-set rounds */
    int64_t passes;     /* full passes over the data */
    int ws_size;        /* final working-set size */
    double hull_dist;   /* upper bound on the distance of the two hulls */
    double hull_lower;  /* lower bound (<= 0 when not separated) */
    double hull_scale;  /* radius of the working set, for relative terms */
    long hull_iters;
    /* Evidence for a failure: global rows (or -(k+1) for base point k) with
     * the largest weights in the nearest points of the two hulls. */
    int nev_a, nev_b;
    int64_t ev_a[TD_SEP_EVIDENCE], ev_b[TD_SEP_EVIDENCE];
} td_sep;

/* Separate active class a from the other active rows and the base points
 * P (np x m).  The first working set is the worst points for the unit
 * direction h0 and offset c0 (the warm start).  Collective; the result is
 * identical on every rank. */
int td_separate(td_engine *e, int a, const double *h0, double c0,
                const double *P, int np, const td_config *cfg, td_sep *out);
void td_sep_free(td_sep *s);

#endif
