/* network.c - per-layer weights from cumulative cones, the output layer,
 * and the plain forward pass (see td_network.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "td_network.h"
#include "td_config.h"
#include "td_linalg.h"

/* One stage of the construction in input space: a layer's output is
 * E (x^tau - anchor) (+ bout for the output layer), with E = W^(l) for a
 * cone, v -> [v; -v] for a reset and wout for the output layer.  Read
 * back, x^tau = D a + anchor with D = E^-1 on E's image. */
typedef struct {
    int kind;               /* enum td_layer_kind, or -1 for the input x */
    const td_cone *cone;    /* TD_LAYER_CONE */
    const double *anchor;   /* p_l, the reset centre, or NULL (zero) */
    int dim;                /* output width */
    const double *map;      /* the input: x^tau = map x + anchor (n x dim,
                               td_network_set_input), or NULL: (x, 0) */
} stage;

/* What td_network_plan keeps to build any layer later. */
struct td_netplan {
    stage *st;              /* the L stages, layer order */
    int din, n;             /* input width, cone width */
    const double *wout, *bout;
    const double *in_map, *in_shift;   /* td_network_set_input, or NULL */
};

int td_network_alloc(td_network *net, int num_layers, const int *dims)
{
    *net = (td_network){0};
    net->num_layers = num_layers;
    net->dims = malloc(sizeof(int) * (num_layers + 1));
    net->kind = calloc((size_t)(num_layers > 0 ? num_layers : 1), sizeof(int));
    net->W = calloc((size_t)num_layers, sizeof(double *));
    net->b = calloc((size_t)num_layers, sizeof(double *));
    if (!net->dims || !net->kind || !net->W || !net->b)
        goto fail;
    memcpy(net->dims, dims, sizeof(int) * (num_layers + 1));
    for (int k = 0; k < num_layers; k++) {
        net->W[k] = calloc((size_t)dims[k + 1] * dims[k], sizeof(double));
        net->b[k] = calloc((size_t)dims[k + 1], sizeof(double));
        if (!net->W[k] || !net->b[k])
            goto fail;
    }
    if (num_layers > 0)
        net->kind[num_layers - 1] = TD_LAYER_OUTPUT;
    return 0;
fail:
    td_network_free(net);
    return -1;
}

void td_network_free(td_network *net)
{
    if (net->plan) {
        free(net->plan->st);
        free(net->plan);
    }
    for (int k = 0; net->W && k < net->num_layers; k++)
        free(net->W[k]);
    for (int k = 0; net->b && k < net->num_layers; k++)
        free(net->b[k]);
    free(net->W);
    free(net->b);
    free(net->dims);
    free(net->kind);
    *net = (td_network){0};
}

double td_reset_cond(double tolerance)
{
    double t = 0.1 * tolerance / (DBL_EPSILON / 2);
    return t < TD_RESET_COND_MAX ? t : TD_RESET_COND_MAX;
}

int td_network_needs_reset(const td_cone *a, const td_cone *b,
                           double reset_cond)
{
    return td_cone_cond(a) * td_cone_cond(b) > reset_cond;
}


/* Column j of D: the x^tau direction of unit j of the stage's output. */
static void decode_column(const stage *s, int n, int j, long double *out)
{
    for (int i = 0; i < n; i++)
        out[i] = s->map ? s->map[(size_t)i * s->dim + j] : 0;
    if (s->map)
        return;
    if (s->kind == TD_LAYER_RESET)
        out[j % n] = j < n ? 1 : -1;
    else
        out[j] = 1;
    if (s->kind == TD_LAYER_CONE)
        td_cone_apply_Winv_ld(s->cone, out);
}

/* out = E v (s->dim entries); v is overwritten. */
static void encode(const stage *s, int n, const double *wout, long double *v,
                   long double *out)
{
    if (s->kind == TD_LAYER_CONE) {
        td_cone_apply_W_ld(s->cone, v);
        memcpy(out, v, sizeof(long double) * n);
    } else if (s->kind == TD_LAYER_RESET) {
        for (int i = 0; i < n; i++) {
            out[i] = v[i];
            out[n + i] = -v[i];
        }
    } else {
        for (int i = 0; i < s->dim; i++) {
            const double *row = wout + (size_t)i * n;
            long double t = 0;
            for (int k = 0; k < n; k++)
                t += row[k] * v[k];
            out[i] = t;
        }
    }
}

/* The layer from stage prev to stage cur: column j of W is E_cur(D_prev
 * e_j) and b = E_cur(anchor_prev - anchor_cur) (+ bout): the two points
 * are subtracted before any large product, so b has no cancellation.
 * Long double throughout, rounded once (see td_cone_apply_W_ld).
 * work needs n + max(dim) long doubles. */
static void build_layer(const stage *prev, const stage *cur, int n,
                        const double *wout, const double *bout, double *W,
                        double *b, long double *work)
{
    long double *v = work, *col = work + n;
    for (int j = 0; j < prev->dim; j++) {
        decode_column(prev, n, j, v);
        encode(cur, n, wout, v, col);
        for (int i = 0; i < cur->dim; i++)
            W[(size_t)i * prev->dim + j] = (double)col[i];
    }
    for (int i = 0; i < n; i++)
        v[i] = (long double)(prev->anchor ? prev->anchor[i] : 0.0) -
               (cur->anchor ? cur->anchor[i] : 0.0);
    encode(cur, n, wout, v, col);
    for (int i = 0; i < cur->dim; i++)
        b[i] = (double)(col[i] + (bout ? bout[i] : 0.0));
}

/* The stages in layer order: cones, resets where needed, the output. */
static int plan_stages(int n, int q, const td_cone *cones, int dout,
                       double reset_cond, stage *st)
{
    int L = 0;
    for (int l = 0; l < q; l++) {
        st[L++] = (stage){TD_LAYER_CONE, &cones[l], cones[l].p, n, NULL};
        if (l + 1 < q &&
            td_network_needs_reset(&cones[l], &cones[l + 1], reset_cond))
            st[L++] = (stage){TD_LAYER_RESET, NULL, cones[l + 1].p, 2 * n,
                              NULL};
    }
    st[L++] = (stage){TD_LAYER_OUTPUT, NULL, NULL, dout, NULL};
    return L;
}


int td_network_plan(td_network *net, int din, int n, int q,
                    const td_cone *cones, int dout, const double *wout,
                    const double *bout, double reset_cond, td_err *err)
{
    stage *st = malloc(sizeof(stage) * (2 * q + 1));
    int *dims = malloc(sizeof(int) * (2 * q + 2));
    struct td_netplan *plan = malloc(sizeof *plan);
    int rc = !st || !dims || !plan, L = 0;
    *net = (td_network){0};
    if (!rc) {
        L = plan_stages(n, q, cones, dout, reset_cond, st);
        dims[0] = din;
        for (int k = 0; k < L; k++)
            dims[k + 1] = st[k].dim;
        net->num_layers = L;
        net->dims = dims;
        net->kind = malloc(sizeof(int) * L);
        net->W = calloc((size_t)L, sizeof(double *));
        net->b = calloc((size_t)L, sizeof(double *));
        rc = !net->kind || !net->W || !net->b;
    }
    for (int k = 0; !rc && k < L; k++)
        net->kind[k] = st[k].kind;
    if (!rc) {
        *plan = (struct td_netplan){st, din, n, wout, bout, NULL, NULL};
        net->plan = plan;
    } else {
        free(st);
        free(plan);
        if (!net->dims)
            free(dims);
        td_network_free(net);
    }
    if (rc)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory building network");
    return TD_OK;
}

int td_network_layer(const td_network *net, int k, double *W, double *b)
{
    int din = net->dims[k], dout = net->dims[k + 1];
    if (net->W[k]) {
        memcpy(W, net->W[k], sizeof(double) * (size_t)din * dout);
        memcpy(b, net->b[k], sizeof(double) * dout);
        return 0;
    }
    const struct td_netplan *pl = net->plan;
    int n = pl->n, wmax = 2 * n > dout ? 2 * n : dout;
    long double *work = malloc(sizeof(long double) * (n + wmax));
    if (!work)
        return -1;
    /* x -> (x, 0) when din < n, or the input map */
    stage input = {-1, NULL, pl->in_shift, pl->din, pl->in_map};
    build_layer(k ? &pl->st[k - 1] : &input, &pl->st[k], n, pl->wout,
                k == net->num_layers - 1 ? pl->bout : NULL, W, b, work);
    free(work);
    return 0;
}

void td_network_set_input(td_network *net, int din, const double *map,
                          const double *shift)
{
    net->dims[0] = din;
    net->plan->din = din;
    net->plan->in_map = map;
    net->plan->in_shift = shift;
}

int td_network_materialize(td_network *net)
{
    for (int k = 0; k < net->num_layers; k++) {
        if (net->W[k])
            continue;
        int din = net->dims[k], dout = net->dims[k + 1];
        double *W = malloc(sizeof(double) * (size_t)din * dout);
        double *b = malloc(sizeof(double) * dout);
        if (!W || !b || td_network_layer(net, k, W, b)) {
            free(W);
            free(b);
            return -1;
        }
        net->W[k] = W;
        net->b[k] = b;
    }
    return 0;
}

int td_network_from_cones(td_network *net, int din, int n, int q,
                          const td_cone *cones, int dout, const double *wout,
                          const double *bout, double reset_cond, td_err *err)
{
    if (td_network_plan(net, din, n, q, cones, dout, wout, bout, reset_cond,
                        err))
        return err->code;
    if (td_network_materialize(net))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory building network");
    return TD_OK;
}

int64_t td_network_work_size(const td_network *net, int64_t rows)
{
    int dmax = 0;
    for (int k = 0; k <= net->num_layers; k++)
        if (net->dims[k] > dmax)
            dmax = net->dims[k];
    return 2 * rows * dmax;
}

void td_network_forward_hook(const td_network *net, const double *x,
                             int64_t rows, double *out, double *work,
                             td_layer_hook hook, void *ctx)
{
    int dmax = 0;
    for (int k = 0; k <= net->num_layers; k++)
        if (net->dims[k] > dmax)
            dmax = net->dims[k];
    const double *in = x;
    double *bufs[2] = {work, work + rows * dmax};
    for (int k = 0; k < net->num_layers; k++) {
        int din = net->dims[k], dk = net->dims[k + 1];
        int last = k == net->num_layers - 1;
        double *y = last ? out : bufs[k % 2];
        for (int64_t r = 0; r < rows; r++)
            memcpy(y + r * dk, net->b[k], sizeof(double) * dk);
        /* Y (rows x dk) += X (rows x din) * W^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, dk,
                    din, 1.0, in, din, net->W[k], din, 1.0, y, dk);
        if (!last)
            for (int64_t i = 0; i < rows * dk; i++)
                y[i] = y[i] > 0 ? y[i] : 0.0;
        if (hook)
            hook(ctx, k, y, rows);
        in = y;
    }
}

void td_network_forward(const td_network *net, const double *x, int64_t rows,
                        double *out, double *work)
{
    td_network_forward_hook(net, x, rows, out, work, NULL, NULL);
}

/* Rows of A (r x c) minus their mean, into C; the mean into mean. */
static void centre_rows(int r, int c, const double *A, double *C,
                        double *mean)
{
    for (int k = 0; k < c; k++) {
        double s = 0;
        for (int j = 0; j < r; j++)
            s += A[(size_t)j * c + k];
        mean[k] = s / r;
        for (int j = 0; j < r; j++)
            C[(size_t)j * c + k] = A[(size_t)j * c + k] - mean[k];
    }
}

/* Minimum-norm W (dout x n) with W a_j = B_j for the rows a_j of A (r x n):
 * W = B^T (A^+)^T.  *rank of A, *cond on its range; -1 if LAPACK failed. */
static int min_norm_map(int r, int n, int dout, const double *A,
                        const double *B, double *wout, int *rank,
                        double *cond)
{
    double *X = malloc(sizeof(double) * (size_t)n * dout);
    int rc = !X || td_lstsq(r, n, dout, A, B, 1e-12, X, rank, cond);
    for (int i = 0; !rc && i < dout; i++)
        for (int k = 0; k < n; k++)
            wout[(size_t)i * n + k] = X[(size_t)k * dout + i];
    free(X);
    return rc ? -1 : 0;
}

/* The kinds' right-hand sides and biases (see td_output_layer):
 * AFFINE centres P and Y (b = ybar - W pbar, filled by the caller),
 * LINEAR keeps both (b = 0), NEURAL_COLLAPSE centres Y only (b = ybar). */
static void output_system(int kind, int n, int q, const double *P, int dout,
                          const double *Y, double *A, double *B, double *pm,
                          double *ym)
{
    centre_rows(q, n, P, A, pm);
    centre_rows(q, dout, Y, B, ym);
    if (kind != TD_OUT_AFFINE)
        memcpy(A, P, sizeof(double) * (size_t)q * n);
    if (kind == TD_OUT_LINEAR)
        memcpy(B, Y, sizeof(double) * (size_t)q * dout);
}

int td_output_layer(int kind, int n, int q, const double *P, int dout,
                    const double *Y, double *wout, double *bout,
                    int *used_bias, double *cond, td_err *err)
{
    double *A = calloc((size_t)q * n, sizeof(double));
    double *B = calloc((size_t)q * dout, sizeof(double));
    double *pm = malloc(sizeof(double) * n), *ym = malloc(sizeof(double) * dout);
    int rank = 0, rc = !A || !B || !pm || !ym;
    int need = kind == TD_OUT_AFFINE ? q - 1 : q;
    if (!rc) {
        output_system(kind, n, q, P, dout, Y, A, B, pm, ym);
        rc = min_norm_map(q, n, dout, A, B, wout, &rank, cond);
    }
    if (!rc && rank == need) {
        *used_bias = 0;
        for (int i = 0; i < dout; i++) {
            const double *w = wout + (size_t)i * n;
            bout[i] = kind == TD_OUT_LINEAR ? 0.0
                    : kind == TD_OUT_NEURAL_COLLAPSE ? ym[i]
                    : ym[i] - td_dot(w, pm, n);
            *used_bias |= bout[i] != 0;
        }
    }
    free(A); free(B); free(pm); free(ym);
    if (rc)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory in output layer");
    if (rank != need && kind == TD_OUT_AFFINE)
        return td_err_set(err, TD_ERR_VERIFY,
                          "base points p_1..p_%d are affinely dependent "
                          "(rank %d of %d): output layer W P + b = Y has no "
                          "exact solution", q, rank, q - 1);
    if (rank != need)
        return td_err_set(err, TD_ERR_VERIFY,
                          "base points p_1..p_%d are linearly dependent "
                          "(rank %d of %d): the %s output layer (W P^+ with "
                          "b = %s) needs them independent; "
                          "construction.output_layer = \"affine\" needs only "
                          "affine independence", q, rank, q,
                          kind == TD_OUT_LINEAR ? "linear" : "neural_collapse",
                          kind == TD_OUT_LINEAR ? "0" : "ybar");
    return TD_OK;
}

const char *td_output_kind_name(int kind)
{
    return kind == TD_OUT_LINEAR ? "linear"
         : kind == TD_OUT_NEURAL_COLLAPSE ? "neural_collapse" : "affine";
}

int td_output_describe(int n, int q, int dout, const double *wout,
                       const double *bout, const double *Y, int *rank,
                       double *bias_dev)
{
    double *X = malloc(sizeof(double) * n), *z = calloc((size_t)dout, sizeof(double));
    double cond, s = 0;
    /* the rank from the SVD of W (a solve with a zero right-hand side) */
    int rc = !X || !z || td_lstsq(dout, n, 1, wout, z, 1e-10, X, rank, &cond);
    for (int i = 0; i < dout; i++) {
        double ybar = 0;
        for (int j = 0; j < q; j++)
            ybar += Y[(size_t)j * dout + i];
        ybar /= q;
        s += (bout[i] - ybar) * (bout[i] - ybar);
    }
    *bias_dev = sqrt(s);
    if (rc)
        *rank = -1;
    free(X);
    free(z);
    return rc ? -1 : 0;
}
