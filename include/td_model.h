/* td_model.h - the constructed model: the network plus the geometry that
 * produced it (order of classes, hyperplanes, cones, margins) and the
 * verification numbers.  This is what the result writer stores. */
#ifndef TD_MODEL_H
#define TD_MODEL_H

#include <stdint.h>
#include "td_network.h"

/* How one layer's separating hyperplane was obtained. */
enum td_sep_status {
    TD_SEP_OPTIMAL = 0,     /* max-margin separator, certified on all points */
    TD_SEP_CERTIFIED = 1,   /* separates every point, margin not proven max
                               (round cap reached) */
    TD_SEP_INSEPARABLE = 2, /* convex hulls meet: hull distance ~ 0 */
    TD_SEP_CAPPED = 3,      /* round cap reached without a separator */
    TD_SEP_SOFT = 4,        /* best-effort soft-margin hyperplane */
    TD_SEP_GIVEN = 5        /* prescribed by the construction (Proposition
                               3: the cone axis f_j through mean_j + mu_j
                               f_j), checked on every point */
};

/* Which construction built the model. */
enum td_construction {
    TD_CONS_THEOREM6 = 0,   /* width M, one cone per class (Theorem 6) */
    TD_CONS_LIFTED = 1,     /* width M + Q: each base point has its own
                               class coordinate, one cone per class but
                               the last (MATH.md, "Lifting removes
                               blocking") */
    TD_CONS_PIECES = 2,     /* width M + Q, cones collapsing pieces of
                               classes until every point is collapsed
                               (MATH.md, "Pieces") */
    TD_CONS_POLYTOPE = 3,   /* binary data: the outer class cut off the
                               inner one by k facets; hidden widths k and
                               1 (td_polytope.h) */
    TD_CONS_CLUSTERED = 4   /* Proposition 3 / Corollary 4: the first layer
                               projects onto the class means' span, then
                               one cone per class at width Q
                               (td_clustered.h) */
};

/* One hidden layer l (1-based in layer order) = one cone. */
typedef struct {
    int class_index;        /* index into td_model.labels */
    int64_t label;          /* label value of the class collapsed here */
    double *h;              /* unit normal (from this class to the rest),
                               width (M, or M + Q when lifted) */
    double *p;              /* base point on the hyperplane, width */
    int base_rule;          /* which candidate p is: 0 segment rule,
                               1 class mean projected, 2 mean of the
                               remaining points projected, 3 free
                               (td_base_free); lifted: 4 the piece's mean
                               projected; clustered: 5 mean_j + mu_j f_j,
                               6 the same, mu_j fitted to the data */
    double offset;          /* hyperplane {x : <h, x> = offset}, = <h, p> */
    double lift;            /* lifted layers: |eta|, the tilt of h into
                               the class coordinates (0 at width M) */
    int64_t n_class_left;   /* rows of this class still active after the
                               layer (0 when it collapsed the whole class) */
    double geo_margin;      /* certified geometric margin: min distance of
                               any separated point to the hyperplane */
    double theta;           /* cone angle used */
    double theta_min;       /* smallest admissible angle (data + base points) */
    double lambda;          /* shrink factor used: kappa * lambda_max */
    double lambda_max;      /* largest admissible shrink factor */
    double cond;            /* 2-norm condition number of W^(l) = 1/lambda */
    double margin_kept;     /* min component of W(x-p) over kept points */
    double margin_collapsed;/* min component of -W(x-p) over collapsed pts */
    int64_t n_kept;         /* data points kept (base points not counted) */
    int64_t n_collapsed;    /* data points collapsed to p */
    int64_t n_mixed;        /* points in neither cone (0 unless best effort) */
    int sep_status;         /* enum td_sep_status */
    int sep_rounds;         /* working-set rounds of the final solve */
    double hull_dist;       /* distance between the hulls (working set) */
} td_layer_rec;

typedef struct {
    int m;                  /* input dimension M */
    int q;                  /* number of classes Q */
    int64_t n_points;       /* N */
    int64_t *labels;        /* Q label values, ascending; output coordinate
                               j corresponds to labels[j] */
    int64_t *counts;        /* Q points per class */
    double *means;          /* Q x M class means */
    double *targets;        /* Q x Q, row j = target vector of class j */
    char targets_source[300]; /* "one_hot", "config" or "dataset:NAME"
                               (td_targets.h; stored as a root attribute) */

    double input_scale;     /* s: the construction ran on s x (a power of
                               two, 1 unless the data are extreme, see
                               td_engine_normalize); /construction is in
                               those units, /network takes x itself */
    int construction;       /* enum td_construction */
    char reason[1024];      /* why this construction (the mode, or what
                               auto found) */
    int width;              /* cone width n: M, or M + Q when lifted */
    double lift_height;     /* t: base point l sits at (p_l, t e_c) */
    int64_t last_class;     /* lifted: the class no layer collapses (its
                               rows keep class coordinates 0), else -1 */

    int nlayers;            /* hidden layers built */
    int cap;                /* records allocated (Q for Theorem 6) */
    td_layer_rec *layers;   /* cap records, layer order */
    td_cone *cones;         /* cap cones, layer order */

    double *w_out;          /* Q x width cumulative output weight */
    double *b_out;          /* Q cumulative output bias b^(Q+1) */
    int output_bias;        /* 1 when b^(Q+1) != 0 */
    double output_cond;     /* cond of the centred base points */
    int output_kind;        /* enum td_out_kind (td_config.h) */
    int output_rank;        /* numerical rank of W^(L) (td_output_describe) */
    double output_bias_dev; /* |b^(L) - ybar| */

    td_network net;         /* the exported per-layer network */

    /* Proposition 3's conditions (runs that check them: auto, clustered),
     * or NULL; a clustered network's cones live in z = in_map x +
     * in_shift (width x m and width; NULL otherwise). */
    struct td_clustered *clustered;
    double *in_map, *in_shift;

    /* polytope: facet i is {x : <w_i, x> = beta_i}, every inner row has
     * <w_i, x> >= hi_i, the outer rows it covers <= lo_i;
     * beta = (lo + hi) / 2, gap = (hi - lo) / 2.  NULL otherwise. */
    int nfacets;
    int inner_class, outer_class;   /* class indices */
    double *facet_w;        /* nfacets x m, unit rows */
    double *facet_lo, *facet_hi, *facet_beta, *facet_gap;   /* nfacets */
    int64_t *facet_n;       /* outer rows first covered by each facet */

    /* Verification by a plain forward pass over all training points. */
    int structured;         /* pass in the O(width) structured form of the
                               layers, not the dense weights (verify.c) */
    double cost;            /* C = 1/2 sum |x^(L) - y|^2 */
    double cost_balanced;   /* C_N = sum_j 1/N_j sum_(i in j) |x^(L) - y_j|^2
                               (section 6.2: each class averaged over its
                               own rows; NaN when not computed) */
    double max_error;       /* max over points and coords of |x^(L) - y| */
    int64_t n_correct;      /* points whose nearest target is their own */
    int64_t *n_departed;    /* cap, per hidden layer l: points whose float64
                               pass first leaves the construction there (a
                               unit alive where all should be dead, or the
                               reverse): rounding crossed a ReLU kink */

    /* Per hidden cone layer and class, the rows kept / collapsed / only
     * partly truncated by the verification's forward pass (nlayers x q x
     * 3, td_verify_extra), or NULL (a polytope, or nlayers x q > 1e7). */
    int64_t *layer_class;
    /* The config's [eval] test set, evaluated with the same pass (NULL
     * when there is none). */
    struct td_test_eval *test;
    /* Section 6.2's neural-collapse quantities of the training data's
     * penultimate features (td_nc.h; verify.c), or NULL. */
    struct td_nc *nc;

    /* Search statistics. */
    int64_t separator_solves;
    int64_t separators_reused; /* kept from the previous step, no pass */
    int64_t backtracks;
    int64_t data_passes;    /* full passes over the shards */
    int64_t separator_passes;  /* of which separator scans */
    double t_scan, t_solve; /* separator scan / rank-0 solve seconds */
    int64_t bytes_root;     /* separator candidate bytes moved to owners */
    double hull_work;       /* working-set solve work (td_sep.work) */
    int budget_spent;       /* auto: the Theorem 6 search hit its budget */
    int sequentially_separable;  /* 1 when every layer separated exactly */
} td_model;

/* A test set's evaluation, stored with the result (/eval). */
typedef struct td_test_eval {
    char *path;             /* the data file */
    int64_t n_points, n_correct;
    double cost, cost_balanced, max_error;
    int64_t *confusion;     /* q x q, rows true, columns predicted */
    int64_t *layer_class;   /* nlayers x q x 3, or NULL */
} td_test_eval;

/* Allocate labels/counts/means/targets/layers/cones for q classes in
 * dimension m (width m, q layer records); targets set to the one-hot
 * identity. */
int td_model_alloc(td_model *mdl, int m, int q);

/* "theorem6", "lifted", "pieces", "polytope" or "clustered". */
const char *td_construction_name(int construction);

/* Parameter counts: of the exported dense layers (weights and biases),
 * and of the geometric form that determines them (per cone h, p and
 * lambda; the output layer's weights on the coordinates it reads). */
void td_model_params(const td_model *mdl, int64_t *dense, int64_t *geometric);

/* Make room for at least `cap` layer records (zeroed); -1 on allocation
 * failure (the model is unchanged). */
int td_model_reserve(td_model *mdl, int cap);

/* The paper's counts for Q classes in R^M: Theorem 6's Q(M + 2)
 * geometric parameters (per layer an angle, a normal and a base point's
 * place on its segment) and Corollary 4's Q(M + Q^2) weights of the
 * width-Q network. */
void td_paper_params(int m, int q, int64_t *theorem6, int64_t *corollary4);

/* Switch to cone width `width` (M or M + Q): resizes the output weight. */
int td_model_set_width(td_model *mdl, int width);

/* Keep c (malloc'd, owned from now on) as mdl->clustered, replacing
 * any earlier one. */
void td_model_set_clustered(td_model *mdl, struct td_clustered *c);

/* Free the layers and the network, keep the data statistics: a fresh
 * start for another construction. */
void td_model_clear_layers(td_model *mdl);
void td_model_free(td_model *mdl);

#endif
