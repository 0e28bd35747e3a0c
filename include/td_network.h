/* td_network.h - a plain ReLU network and its construction from cumulative
 * parameters (eq. 5, 6 of the paper).
 *
 * Layers l = 1..L: x^(l) = relu(W_l x^(l-1) + b_l) for l < L, and
 * x^(L) = W_L x^(L-1) + b_L.  Weights are row-major d_l x d_{l-1} (out x in),
 * exactly the layout written to /network/layer_<l>/weight. */
#ifndef TD_NETWORK_H
#define TD_NETWORK_H

#include <stdint.h>
#include "td_cone.h"
#include "td_err.h"

/* What a layer of the exported network does (see td_network_from_cones). */
enum td_layer_kind {
    TD_LAYER_CONE = 0,      /* one cone of the construction (Lemma 2) */
    TD_LAYER_RESET = 1,     /* width 2n: [relu(z); relu(-z)], z = x^tau - c */
    TD_LAYER_OUTPUT = 2,    /* the affine output layer (no relu) */
    TD_LAYER_FACET = 3,     /* polytope: one unit per facet, 0 on the
                               inner class, >= 2 on the facet's rows */
    TD_LAYER_INDICATOR = 4  /* polytope: relu(1 - sum of the facet
                               units), 1 inside, 0 on the outer class */
};

typedef struct {
    int num_layers;   /* L */
    int *dims;        /* d_0 .. d_L */
    double **W;       /* W[k] is layer k+1: dims[k+1] x dims[k], row-major;
                         NULL until materialised (planned networks) */
    double **b;       /* b[k] is layer k+1: dims[k+1] */
    int *kind;        /* kind[k]: enum td_layer_kind of layer k+1 */
    struct td_netplan *plan;  /* how to build any layer (planned networks;
                                 refers to the cones and output weights) */
} td_network;

/* Allocate a network with the given dims (L+1 entries); weights zeroed,
 * every kind TD_LAYER_CONE except the last (TD_LAYER_OUTPUT). */
int td_network_alloc(td_network *net, int num_layers, const int *dims);
void td_network_free(td_network *net);

/* A cone layer that reads the previous cone's output directly has the
 * weight W^(l) (W^(l-1))^-1: it undoes one shrink (norm 1/lambda_{l-1})
 * and applies the next (1/lambda_l), so a float64 evaluation rounds it at
 * about u / (lambda_{l-1} lambda_l) of the data scale in input space, and
 * the outputs (O(1) targets) by as much.  Above a product of condition
 * numbers reset_cond a reset layer goes between the two cones: then each
 * cone costs u / lambda once, with no product.
 * td_reset_cond(tolerance): a tenth of the tolerance in units of u, at
 * most 1e7 (merged rounding 1e-9 of the data scale) so that a loose
 * tolerance does not let rounding reach later ReLU kinks. */
#define TD_RESET_COND_MAX 1e7
double td_reset_cond(double tolerance);

/* 1 when cones a and b (consecutive) need a reset layer between them. */
int td_network_needs_reset(const td_cone *a, const td_cone *b,
                           double reset_cond);

/* Per-layer parameters from Theorem 6's cumulative ones:
 *   cone layers l = 1..Q: W^(l) = cone[l-1].W, b^(l) = -W^(l) p_l,
 *   output layer:         W^(Q+1) = wout (dout x n), b^(Q+1) = bout,
 * via W_l = W^(l) (W^(l-1))^-1, b_l = W^(l)(p_{l-1} - p_l), using the
 * structured maps, O(Q n^2) work.  Where td_network_needs_reset, a reset
 * layer centred at c = p_{l+1} follows cone l: it outputs
 * [relu(z); relu(-z)] with z = x^(tau,l) - c = (W^(l))^-1 x^(l) + p_l - c,
 * an exact identity whatever the data range, and cone l+1 reads it as
 * [W^(l+1), -W^(l+1)] with zero bias.  q is the number of cones (width
 * n); the input has din <= n coordinates, embedded as (x, 0): the first
 * layer is W^(1) restricted to them (a lifted construction).  The same as
 * td_network_plan followed by td_network_materialize. */
int td_network_from_cones(td_network *net, int din, int n, int q,
                          const td_cone *cones, int dout, const double *wout,
                          const double *bout, double reset_cond, td_err *err);

/* The same network planned, not built: dims and kinds set, every layer
 * built on demand by td_network_layer (the dense weights of hundreds of
 * 800-wide layers are gigabytes; the writer streams them one by one and
 * the structured verification needs none).  cones, wout and bout must
 * outlive net. */
int td_network_plan(td_network *net, int din, int n, int q,
                    const td_cone *cones, int dout, const double *wout,
                    const double *bout, double reset_cond, td_err *err);

/* A planned network whose cones live in z = map x + shift (map n x din,
 * row-major) rather than in (x, 0): the first layer becomes
 * W^(1) map with bias W^(1) (shift - p_1) (the clustered construction's
 * projection onto the class means' span).  map and shift must outlive
 * net; call before any layer is built. */
void td_network_set_input(td_network *net, int din, const double *map,
                          const double *shift);

/* Layer k's weights (dims[k+1] x dims[k]) and bias into W, b: copied when
 * materialised, else built (the same bytes).  -1 on allocation failure. */
int td_network_layer(const td_network *net, int k, double *W, double *b);

/* Build and keep every layer's weights; -1 on allocation failure. */
int td_network_materialize(td_network *net);

/* Forward pass of `rows` points (row-major rows x d_0) into out
 * (rows x d_L).  work needs 2 * rows * max(d) doubles. */
void td_network_forward(const td_network *net, const double *x, int64_t rows,
                        double *out, double *work);

/* The same, calling hook(ctx, k, act, rows) after layer k (0-based) with
 * its activations (rows x dims[k+1], after the relu). */
typedef void (*td_layer_hook)(void *ctx, int k, const double *act,
                              int64_t rows);
void td_network_forward_hook(const td_network *net, const double *x,
                             int64_t rows, double *out, double *work,
                             td_layer_hook hook, void *ctx);

/* Work size (doubles) td_network_forward needs for `rows` points. */
int64_t td_network_work_size(const td_network *net, int64_t rows);

/* Output layer (Theorem 6, eq. 29; section 6.2): solve W p_j + b = y_j for
 * j = 1..q.  P is q x n (row j = p_j), Y is q x dout (row j = y_j); kind
 * is an enum td_out_kind (td_config.h):
 *  - TD_OUT_AFFINE (default): the output layer multiplies every rounding
 *    error upstream by |W|, so the exact solution of least norm:
 *    W (p_j - pbar) = y_j - ybar with minimum-norm W, b = ybar - W pbar.
 *    Needs the p_j affinely independent (n >= q - 1), is translation
 *    invariant, and its |W| is at most that of the b = 0 form below.
 *  - TD_OUT_LINEAR: the paper's W = Y P^+ (rows: W = Y^T (P^T)^+), b = 0.
 *  - TD_OUT_NEURAL_COLLAPSE: W = (Y - ybar 1^T) P^+, b = ybar (= u/q for
 *    one-hot targets), so W has rank q - 1 (section 6.2).
 * The last two need the p_j linearly independent (n >= q).  Writes wout
 * (dout x n), bout (dout), *used_bias (b != 0) and *cond (of the matrix
 * solved: the centred base points for AFFINE, P itself otherwise).  Fails
 * with TD_ERR_VERIFY when the base points are dependent in the kind's
 * sense. */
int td_output_layer(int kind, int n, int q, const double *P, int dout,
                    const double *Y, double *wout, double *bout,
                    int *used_bias, double *cond, td_err *err);

/* "affine", "linear" or "neural_collapse". */
const char *td_output_kind_name(int kind);

/* What the result reports about an output layer W (dout x n), b: the
 * numerical rank of W (SVD, relative threshold 1e-10) and |b - ybar|
 * with ybar the mean of the q target rows of Y (q x dout).  -1 if LAPACK
 * or memory failed. */
int td_output_describe(int n, int q, int dout, const double *wout,
                       const double *bout, const double *Y, int *rank,
                       double *bias_dev);

#endif
