/* td_nc.h - the neural-collapse quantities of section 6.2 on the
 * penultimate features x^(L-1) (the last hidden layer's output) and the
 * cost decomposition (31) / (34) of C_N, from exact per-class sums.
 *
 * The verification's forward pass (verify.c) adds, per block and class c,
 * S1_c = sum (x - r_c) and S2_c = sum |x - r_c|^2 over the penultimate
 * features and O1_c = sum (x^(L) - y_c) over the outputs; the reference
 * r_c (td_nc_refs) sits where the construction sends class c, so the
 * within-class variance S2/N - |S1/N|^2 has no cancellation.  The sums
 * are exact and partition independent (td_comm_sum_blocks), and so is
 * everything td_nc_finish derives from them. */
#ifndef TD_NC_H
#define TD_NC_H

#include <stdint.h>
#include "td_model.h"

typedef struct td_nc {
    int layer;              /* the penultimate layer (1-based, L - 1) */
    int dim;                /* its width d */
    double *means;          /* q x d class means of x^(L-1) */
    double nc1_within;      /* sum_j 1/N_j sum_i |x - mean_j|^2 (NC1) */
    double nc1_relative;    /* nc1_within / sum_j |mean_j - mean_G|^2 */
    double nc2_norm_spread; /* std / mean of |mean_j - mean_G| */
    double nc2_max_cos_dev; /* max_{j<k} |cos(c_j, c_k) + 1/(Q-1)|, c_j =
                               mean_j - mean_G */
    double nc2_etf_dist;    /* |G/|G|_F - E/|E|_F|_F, G = (<c_j, c_k>),
                               E = I - 1 1^T / Q (the simplex ETF's Gram) */
    double nc3_dual_dist;   /* |W_L/|W_L|_F - C/|C|_F|_F, C rows c_j:
                               self-duality of the exported last layer */
    double cn_within;       /* (31): sum_j 1/N_j sum_i |x^(L) - mean_j^(L)|^2 */
    double cn_between;      /* (31): sum_j |mean_j^(L) - y_j|^2 */
} td_nc;

/* Per-class doubles of the block partials: d + 1 penultimate, q output. */
static inline int64_t td_nc_stride(int q, int d)
{
    return (int64_t)q * (d + 1 + q);
}

/* Width of the penultimate layer of mdl->net (0 when the network has no
 * hidden layer). */
int td_nc_dim(const td_model *mdl);

/* ref (q x d): where the construction sends class c at the penultimate
 * layer: the first base point of c carried through the later cones, or
 * (no layer collapses c) the class mean carried through all of them; 0
 * without cones (a polytope).  The same bytes on every rank; -1 on
 * allocation failure. */
int td_nc_refs(const td_model *mdl, int d, double *ref);

/* nc from the reduced sums: counts (q), sq (q: sum |x^(L) - y_c|^2), pen
 * (q x (d + 1): S1_c then S2_c), out (q x q: O1_c), the references and
 * the exported last layer WL (q x d, or NULL: nc3 NaN).  -1 on
 * allocation failure. */
int td_nc_finish(td_nc *nc, int q, int d, const double *counts,
                 const double *sq, const double *pen, const double *out,
                 const double *ref, const double *WL);

void td_nc_free(td_nc *nc);

#endif
