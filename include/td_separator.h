/* td_separator.h - the distributed max-margin separator, many classes at
 * once.
 *
 * Working-set scheme: rank 0 keeps, for every class being separated, a
 * small set of candidate support vectors and solves the hard-margin
 * problem on it (nearest points of two convex hulls, td_hull) to a
 * relative gap; one pass over every shard then certifies all the classes'
 * hyperplanes together and returns each one's worst points, which join
 * its set.  When no point lies inside the working-set margin the
 * hyperplane is max-margin for all the data up to the gap.  When the
 * working-set hulls meet, their weights are a certificate that no
 * hyperplane separates the class (rows of the data, checkable). */
#ifndef TD_SEPARATOR_H
#define TD_SEPARATOR_H

#include <stdint.h>
#include "td_engine.h"

#define TD_SEP_EVIDENCE 3
#define TD_SEP_CERT_CLASSES 32

typedef struct {
    int working_set;    /* candidates gathered per side per round */
    int max_rounds;     /* working-set rounds per class */
    double gap;         /* relative margin gap of a working-set solve */
    double hull_tol;    /* the hulls meet below hull_tol x radius */
    double work_cap;    /* > 0: a class stops (certified or capped) once
                           its working-set solves have done this much work,
                           in iterations x working-set size x M; 0: none */
} td_sep_params;

typedef struct {
    double *h;          /* unit normal, from class a towards the rest (m) */
    double c;           /* hyperplane {x : <h, x> = c} */
    double margin;      /* certified: min distance of any point to the
                           hyperplane on its correct side (<= 0: fails) */
    int status;         /* enum td_sep_status (td_model.h) */
    int rounds;         /* working-set rounds */
    int64_t passes;     /* full passes this class took part in */
    int ws_size;        /* final working-set size */
    double hull_dist;   /* upper bound on the distance of the two hulls */
    double hull_lower;  /* lower bound (<= 0 when not separated) */
    double hull_scale;  /* radius of the working set, for relative terms */
    long hull_iters;
    double work;        /* working-set solve work, iterations x set size x M */
    int uses_base;      /* a base point carries weight on the rest side of
                           the last working-set solution (for a certificate:
                           so another order might help) */
    int ncert_cls;      /* the classes whose rows carry weight on that rest
                           side (cert_cls), -1 if too many: the solution
                           stands while they are there */
    int cert_cls[TD_SEP_CERT_CLASSES];
    /* Evidence for a failure: global rows (or -(k+1) for base point k) with
     * the largest weights in the nearest points of the two hulls, and how
     * many rows carry weight on each side. */
    int nev_a, nev_b, nsupp_a, nsupp_b;
    int64_t ev_a[TD_SEP_EVIDENCE], ev_b[TD_SEP_EVIDENCE];
} td_sep;

/* Where a batch of separator solves spent its time (accumulated). */
typedef struct {
    int64_t passes;       /* full passes over the shards */
    double t_scan;        /* seconds in those passes (incl. reductions) */
    double t_solve;       /* seconds of the owners' working-set solves */
    int64_t bytes_root;   /* candidate bytes moved to the owners */
} td_sep_stats;

/* Separate each active class cls[i] (i < nc) from the other active rows
 * and the base points P (np x m), starting from the unit directions H0
 * (nc x m) and offsets C0 (nc).  out[i] gets the result for cls[i].
 * Collective; identical on every rank.  *stats accumulates the full
 * passes made (shared by all classes) and the time split in *stats.
 * Returns -1 on every rank when memory ran out anywhere, -2 when a
 * working-set hull solve failed in floating point (never taken for a
 * certificate of inseparability). */
int td_separate(td_engine *e, int nc, const int *cls, const double *H0,
                const double *C0, const double *P, int np,
                const td_sep_params *prm, td_sep *out, td_sep_stats *stats);
/* The error message of a td_separate failure (its return value). */
const char *td_sep_failure(int rc);
void td_sep_free(td_sep *s);
/* Deep copy (dst->h malloc'd); -1 on allocation failure. */
int td_sep_copy(td_sep *dst, const td_sep *src, int m);

#endif
