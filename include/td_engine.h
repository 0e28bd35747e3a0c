/* td_engine.h - one rank's shard and the passes made over it.
 *
 * Every pass is local work over the rows (OpenMP threads share it) followed
 * by a reduction through td_comm.  The shard keeps the original points in
 * the input's precision (float32 input stays float32: half the memory) and
 * passes read rows as doubles through td_engine_row; truncation state is a
 * per-row layer index, so a layer can be undone when the order search
 * backtracks. */
#ifndef TD_ENGINE_H
#define TD_ENGINE_H

#include <stdint.h>
#include "td_cone.h"
#include "td_err.h"
#include "td_h5.h"
#include "td_topk.h"

typedef struct {
    int m, q;
    int64_t n_total, row0, n_local;
    int block_rows;
    int64_t nblocks;         /* local blocks (the last may be short) */
    /* The training points: exactly one of x0 (float64 input) and x0f
     * (float32 input, kept as read) is set, each n_local x m. */
    double *x0;
    float *x0f;
    double *x;               /* current points as doubles: == x0 (NULL for
                                float32 input) until the first best-effort
                                layer, which moves points and so works on
                                its own widened copy */
    int *cls;                /* class index of each row */
    int *layer;              /* -1 active, else layer (0-based) that
                                collapsed the row */
} td_engine;

/* Row i of the current points as doubles: a pointer into the shard, or
 * buf (m doubles) filled from float32 storage.  Every pass reads rows
 * through here, so float32 data stay float32 in memory; the widened value
 * is the double HDF5 would have produced, so results do not depend on the
 * storage. */
static inline const double *td_engine_row(const td_engine *e, int64_t i,
                                          double *buf)
{
    if (e->x)
        return e->x + i * e->m;
    const float *f = e->x0f + i * e->m;
    for (int k = 0; k < e->m; k++)
        buf[k] = f[k];
    return buf;
}

/* Take ownership of the shard's points (d->x or d->xf, set to NULL), find
 * the global label set (sorted ascending) and map rows to class indices.
 * *labels is malloc'd.  Errors are local: the caller agrees on them. */
int td_engine_init(td_engine *e, td_shard_data *d, int block_rows,
                   int64_t **labels, int *q, td_err *err);
void td_engine_free(td_engine *e);

/* Extreme data are scaled by a power of two (exact): when the largest |x|
 * over all ranks lies outside [2^-200, 2^200], every point is multiplied
 * by s = 2^-e with the largest |s x| in [0.5, 1), and s is returned; else
 * 1 and nothing changes.  0 when the largest |x| is subnormal (no such s
 * exists).  The construction then runs on s x: the network for x is the
 * same with its first weight matrix times s.  Collective. */
double td_engine_normalize(td_engine *e);
/* Multiply every point by s (local; float32 storage is replaced by
 * doubles); -1 when they found no memory (the points are unchanged). */
int td_engine_scale(td_engine *e, double s);

/* Counts and means of the active rows of every class (exact sums).
 * counts (q), means (q x m). */
int td_engine_class_stats(td_engine *e, int64_t *counts, double *means);

/* Each class's largest distance of an active row to its mean (means
 * q x m) into radius (q): delta of Proposition 3.  A max: exact and
 * partition-independent.  Collective; -1 on every rank when memory ran
 * out anywhere. */
int td_engine_class_radius(td_engine *e, const double *means, double *radius);

/* Pooled within-class scatter of the active rows, each centred on its
 * class mean: S (m x m) = sum_i (x_i - mu_c(i)) (x_i - mu_c(i))^T over the
 * rows of a fixed sample of about 64 global blocks (all blocks when there
 * are fewer); exact and partition-independent. */
int td_engine_scatter(td_engine *e, const double *means, double *S);

/* A scan of nc classes' hyperplanes in one pass (scan.c). */
typedef struct {
    int nc, k, m;
    double *maxv;          /* 2 nc: global max violation of class c (side 0)
                              and of the rest (side 1), -inf if empty */
    td_topk_item *items;   /* 2 nc lists of k, worst first (all ranks);
                              violation v = s for class c, -s for the rest,
                              s = <h_c, x> - c_c */
    double *coords;        /* m coordinates of every item of the lists of
                              the classes this rank owns (else unset) */
} td_scan;

/* Scan the hyperplanes H (nc x m), C (nc) of classes cls (nc) over the
 * active rows, the base points P (np x m) counting as the rest; class c's
 * candidate coordinates go to rank owner[c].  Collective; returns -1 on
 * every rank if any rank ran out of memory. */
int td_engine_scan(td_engine *e, int nc, const int *cls, const double *H,
                   const double *C, const double *P, int np, int k,
                   const int *owner, td_scan *out);
void td_scan_free(td_scan *s);

/* Flags of the layer passes. */
#define TD_PASS_SOFT 1   /* best effort: ignore points on the wrong side of
                            the hyperplane (lambda pass); move rows in
                            neither cone and collapse rows collapsed by
                            mistake, as the network will (apply) */
#define TD_PASS_PIECE 2  /* the layer collapses only the rows of class a
                            below its hyperplane (a piece); the rest of
                            class a is kept like every other class */

/* Layer admissibility of ncone candidate cones collapsing class a, in
 * one pass: for each cone the largest lambda and the smallest cos(angle
 * to +-h) over active rows and base points (lambda_max, cos_min: ncone).
 * The cones may be lifted (width n > M, all the same n): rows enter as
 * (x, 0) and the np base points P are n wide.  Collective; -1 on every
 * rank if memory ran out anywhere. */
int td_engine_lambda_pass(td_engine *e, int ncone, const td_cone *cones,
                          int a, const double *P, int np, int flags,
                          double *lambda_max, double *cos_min);

typedef struct {
    int64_t n_kept, n_collapsed, n_mixed, n_wrong;
    double margin_kept, margin_collapsed;
} td_apply_stats;

/* Apply layer `l` (cone collapses class a, or its piece): classify every
 * active row and the base points, mark the collapsed rows.  flags as for
 * td_engine_lambda_pass. */
int td_engine_apply(td_engine *e, const td_cone *cone, int a, int l,
                    const double *P, int np, int flags, td_apply_stats *st);

/* cut.c: the passes of the piecewise construction (MATH.md, "Pieces").
 *
 * For K candidates (class cls[k], direction H_k, rows of K x m) and both
 * signs sigma = +1, -1 (entry sk = sign * K + k, sign 0 for +1), with
 * v = sigma <H_k, x>: r0 is the smallest v over the active rows of the
 * other classes, and a piece is the active rows of class cls[k] with
 * v < thr for thr = r0 - (2^j - 1) step, j < TD_CUT_LADDER (a ladder of
 * thresholds, so that a piece with a wider gap can be chosen over one
 * that reaches r0).  out[sk * TD_CUT_LADDER + j]: the piece's size, thr,
 * its largest v (lo) and the smallest v of any remaining row above it
 * (hi): a layer at (lo + hi) / 2 separates it with margin (hi - lo) / 2.
 * Two passes, min / max / counts: exact and partition-independent, and
 * v is bitwise td_dot(sigma H_k, x).  Collective; -1 on every rank when
 * memory ran out anywhere. */
#define TD_CUT_LADDER 8
typedef struct {
    int64_t n;
    double thr, lo, hi;
} td_cut;
int td_engine_cut(td_engine *e, int K, const int *cls, const double *H,
                  double step, td_cut *out);

/* Set aside the active rows of class a that are not in the piece
 * <h, x> < thr, so that separator passes and class statistics see the
 * piece as the class (TD_PARKED rows count as inactive everywhere);
 * returns how many were parked (all ranks).  td_engine_unpark brings
 * them back.  Collective. */
#define TD_PARKED 0x7fffffff
int64_t td_engine_park(td_engine *e, int a, const double *h, double thr);
void td_engine_unpark(td_engine *e);

/* polytope.c's passes.  Mark the active rows of class a with
 * <h, x> < thr (bitwise the td_dot of the cut and park passes) as
 * collapsed by layer (facet) l; returns how many over all ranks, -1 on
 * every rank when memory ran out anywhere.  The smallest global row of
 * class a still active, -1 if none.  Set aside (TD_PARKED) every active
 * row of class a but global row `row`; returns how many.  Collective. */
int64_t td_engine_mark(td_engine *e, int a, const double *h, double thr,
                       int l);
int64_t td_engine_first_active(td_engine *e, int a);
int64_t td_engine_park_all_but(td_engine *e, int a, int64_t row);

/* Largest |x - centre| over the active rows (the lift height).
 * Collective; -1 on every rank when memory ran out anywhere. */
int td_engine_radius(td_engine *e, const double *centre, double *radius);

/* Undo layer l (exact mode only): its rows become active again. */
void td_engine_undo(td_engine *e, int l);
/* Every row active again (a fresh construction on the original points). */
void td_engine_undo_all(td_engine *e);

#endif
