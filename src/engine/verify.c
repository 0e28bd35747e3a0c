/* verify.c - forward pass over all shards, reducing cost and accuracy. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_linalg.h"
#include "td_nc.h"
#include "td_step.h"
#include "td_verify.h"

/* The original points of rows [i0, i0 + rows) as doubles: in place for
 * float64 input, else widened into xbuf (rows x m).  Not td_engine_row:
 * the network is checked on the data as given, not on points a
 * best-effort layer has moved. */
static const double *block_points(const td_engine *e, int64_t i0,
                                  int64_t rows, double *xbuf)
{
    if (e->x0)
        return e->x0 + i0 * e->m;
    const float *f = e->x0f + i0 * e->m;
    for (int64_t j = 0; j < rows * e->m; j++)
        xbuf[j] = f[j];
    return xbuf;
}

/* What the float64 pass must do at each hidden cone layer: the rows
 * collapsed there have every unit dead (exactly 0), every other point and
 * base point every unit alive.  A row that does otherwise crossed a ReLU
 * kink by rounding; it is counted once, at the first such layer. */
typedef struct {
    const td_network *net;
    const int *cone_of;     /* net layer k -> hidden (cone) layer, or -1 */
    const int *fate;        /* cone layer that collapsed each row of the
                               block (the engine's record), -1 if none */
    char *left;             /* row has left the construction already */
    int64_t *departed;      /* per cone layer */
} fates;

/* Per hidden cone layer and class, how the block's points fared (see
 * td_verify_extra.layer_class): this thread's counts. */
typedef struct {
    const int *cone_of;     /* net layer k -> hidden cone layer, or -1 */
    const int *dims;        /* the net's layer widths */
    const int *cls;         /* the block's rows' classes */
    int q;
    int64_t *counts;        /* nlayers x q x 3 */
} layer_diag;

/* The neural-collapse sums of one block (td_nc.h): per class c, at net
 * layer k (the penultimate), S1_c = sum (x - r_c) and S2_c =
 * sum |x - r_c|^2 into pen (q x (d + 1)). */
typedef struct {
    int k, d;
    const double *ref;      /* q x d references r_c */
    const int *cls;         /* the block's rows' classes */
    double *pen;            /* this block's partials */
} nc_acc;

typedef struct {
    fates *f;
    layer_diag *g;
    nc_acc *n;
} block_hooks;

static void nc_add(nc_acc *n, const double *act, int64_t rows)
{
    int d = n->d;
    for (int64_t r = 0; r < rows; r++) {
        const double *a = act + r * d, *ref = n->ref + (size_t)n->cls[r] * d;
        double *s = n->pen + (size_t)n->cls[r] * (d + 1), s2 = 0;
        for (int i = 0; i < d; i++) {
            double t = a[i] - ref[i];
            s[i] += t;
            s2 += t * t;
        }
        s[d] += s2;
    }
}

static void count_fates(layer_diag *g, int k, int d, const double *act,
                        int64_t rows)
{
    int c = g->cone_of[k];
    for (int64_t r = 0; c >= 0 && r < rows; r++) {
        const double *a = act + r * d;
        int alive = 0;
        for (int i = 0; i < d; i++)
            alive += a[i] > 0;
        int kind = alive == d ? 0 : alive == 0 ? 1 : 2;
        g->counts[((size_t)c * g->q + g->cls[r]) * 3 + kind]++;
    }
}

static void check_fates(void *ctx, int k, const double *act, int64_t rows)
{
    block_hooks *h = ctx;
    fates *f = h->f;
    if (h->n && k == h->n->k)
        nc_add(h->n, act, rows);
    if (h->g)
        count_fates(h->g, k, h->g->dims[k + 1], act, rows);
    if (!f)
        return;
    int c = f->cone_of[k], d = f->net->dims[k + 1];
    for (int64_t r = 0; c >= 0 && r < rows; r++) {
        const double *a = act + r * d;
        int dead = f->fate[r] == c, bad = 0;
        for (int i = 0; i < d && !bad; i++)
            bad = dead ? a[i] > 0 : !(a[i] > 0);
        if (bad && !f->left[r])
            f->departed[c]++;
        f->left[r] |= bad;
    }
}

/* The structured form of the same forward pass: O(width) per layer and
 * point instead of O(width^2).  Each cone layer's output is
 * relu(W^(l) (v - p_l)) where v = (W^(l-1))^-1 x^(l-1) + p_(l-1) is the
 * previous output read back in input space (the cumulative form of
 * W_l = W^(l) (W^(l-1))^-1, b_l = W^(l) (p_(l-1) - p_l)); a reset layer's
 * is [relu(z); relu(-z)] with z = v - c; the output W_out v + b_out.  The
 * same activations as the dense layers, up to the rounding of their
 * products; the hook sees them the same way.  work: 4 rows n doubles. */
static void structured_forward(const td_model *mdl, const double *x,
                               int64_t rows, double *out, double *work,
                               td_layer_hook hook, void *ctx)
{
    int m = mdl->m, n = mdl->width, q = mdl->q, c = 0;
    const td_network *net = &mdl->net;
    double *V = work, *A = work + rows * n, *t = work + 3 * rows * n;
    for (int64_t r = 0; r < rows; r++) {
        memcpy(V + r * n, x + r * m, sizeof(double) * m);
        memset(V + r * n + m, 0, sizeof(double) * (size_t)(n - m));
    }
    for (int k = 0; k < net->num_layers - 1; k++) {
        int reset = net->kind[k] == TD_LAYER_RESET, d = reset ? 2 * n : n;
        const td_cone *cn = &mdl->cones[c];   /* reset: centred at p_c */
        for (int64_t r = 0; r < rows; r++) {
            double *v = V + r * n, *a = A + r * d;
            if (!reset) {
                td_cone_step(cn, v, a, t);
                continue;
            }
            for (int i = 0; i < n; i++) {
                t[i] = v[i] - cn->p[i];
                a[i] = t[i] > 0 ? t[i] : 0.0;
                a[n + i] = -t[i] > 0 ? -t[i] : 0.0;
                v[i] = a[i] - a[n + i] + cn->p[i];
            }
        }
        if (hook)
            hook(ctx, k, A, rows);
        c += !reset;
    }
    for (int64_t r = 0; r < rows; r++)
        for (int i = 0; i < q; i++)
            out[r * q + i] = mdl->b_out[i] +
                             td_dot(mdl->w_out + (size_t)i * n, V + r * n, n);
}

/* Cost, max error and correct count of one block of rows; with f, the
 * departures from the construction too; with g, the layer diagnostics;
 * pred and conf (this thread's q x q) when asked. */
static void verify_block(const td_engine *e, const td_model *mdl, int64_t i0,
                         int64_t rows, double *out, double *work,
                         double *xbuf, fates *f, layer_diag *g, nc_acc *n,
                         int *pred, int64_t *conf, double *acc, int bal,
                         double *maxerr, int64_t *correct)
{
    int q = mdl->q;
    double *o1 = NULL;      /* NC: per class, sum of x^(L) - y_c */
    if (n) {
        n->cls = e->cls + i0;
        n->pen = acc + 1 + 2 * q;
        o1 = n->pen + (size_t)q * (n->d + 1);
    }
    if (f) {
        f->fate = e->layer + i0;
        memset(f->left, 0, (size_t)rows);
    }
    if (g)
        g->cls = e->cls + i0;
    block_hooks h = {f, g, n};
    td_layer_hook hook = f || g || n ? check_fates : NULL;
    const double *x = block_points(e, i0, rows, xbuf);
    if (mdl->structured)
        structured_forward(mdl, x, rows, out, work, hook, &h);
    else
        td_network_forward_hook(&mdl->net, x, rows, out, work, hook, &h);
    for (int64_t r = 0; r < rows; r++) {
        const double *o = out + r * q;
        const double *y = mdl->targets + (size_t)e->cls[i0 + r] * q;
        int nearest = 0;
        double best = INFINITY;
        for (int j = 0; j < q; j++) {     /* nearest target, ties to lower */
            const double *t = mdl->targets + (size_t)j * q;
            double d = 0;
            for (int k = 0; k < q; k++)
                d += (o[k] - t[k]) * (o[k] - t[k]);
            if (d < best) {
                best = d;
                nearest = j;
            }
        }
        *correct += nearest == e->cls[i0 + r];
        if (pred)
            pred[i0 + r] = nearest;
        if (conf)
            conf[(size_t)e->cls[i0 + r] * q + nearest]++;
        double sq = 0;
        for (int k = 0; k < q; k++) {
            double d = o[k] - y[k];
            sq += d * d;
            if (o1)
                o1[(size_t)e->cls[i0 + r] * q + k] += d;
            *maxerr = fmax(*maxerr, fabs(d));
        }
        acc[0] += 0.5 * sq;
        if (bal) {          /* per class: the squared errors, the rows */
            acc[1 + e->cls[i0 + r]] += sq;
            acc[1 + q + e->cls[i0 + r]] += 1;
        }
    }
}

/* Net layer -> cone (hidden) layer index, when the fates of the rows
 * are those of an exact construction (not best effort, whose points may
 * end in neither cone). */
static int fate_maps(const td_model *mdl, int *cone_of)
{
    if (!mdl->sequentially_separable)
        return 0;
    for (int k = 0, c = 0; k < mdl->net.num_layers; k++)
        cone_of[k] = mdl->net.kind[k] == TD_LAYER_CONE ? c++ : -1;
    return 1;
}

/* Net layer -> hidden cone layer, for the diagnostics (any model). */
static void cone_map(const td_model *mdl, int *cone_of)
{
    for (int k = 0, c = 0; k < mdl->net.num_layers; k++)
        cone_of[k] = mdl->net.kind[k] == TD_LAYER_CONE && c < mdl->nlayers
                     ? c++ : -1;
}

/* This thread's scratch for the blocks it verifies. */
typedef struct {
    double *out, *work, *xbuf;
    int64_t *dep, *conf, *diag;
    fates f;
    layer_diag g;
    int ok;
} thread_scratch;

static void scratch_init(thread_scratch *t, const td_engine *e,
                         const td_model *mdl, const td_verify_extra *x,
                         const int *cone_of, const int *diag_of, int nl)
{
    int64_t br = e->block_rows, q = mdl->q;
    int64_t wn = mdl->structured ? 4 * br * mdl->width + mdl->width
                                 : td_network_work_size(&mdl->net, br);
    *t = (thread_scratch){0};
    t->out = malloc(sizeof(double) * br * q);
    t->work = malloc(sizeof(double) * wn);
    t->xbuf = e->x0 ? NULL : malloc(sizeof(double) * br * e->m);
    t->dep = calloc((size_t)nl, sizeof(int64_t));
    t->conf = x && x->confusion ? calloc((size_t)(q * q), sizeof(int64_t))
                                : NULL;
    t->diag = x && x->layer_class
              ? calloc((size_t)nl * q * 3, sizeof(int64_t)) : NULL;
    t->f = (fates){&mdl->net, cone_of, NULL, malloc((size_t)br), t->dep};
    t->g = (layer_diag){diag_of, mdl->net.dims, NULL, (int)q, t->diag};
    t->ok = t->out && t->work && (e->x0 || t->xbuf) && t->dep && t->f.left &&
            (!x || !x->confusion || t->conf) &&
            (!x || !x->layer_class || t->diag);
}

static void scratch_free(thread_scratch *t)
{
    free(t->out); free(t->work); free(t->xbuf); free(t->dep);
    free(t->conf); free(t->diag); free(t->f.left);
}

/* Add this thread's counts into the shared ones (inside a critical). */
static void scratch_merge(const thread_scratch *t, td_model *mdl,
                          td_verify_extra *x)
{
    int64_t q = mdl->q;
    for (int c = 0; t->ok && c < mdl->nlayers; c++)
        mdl->n_departed[c] += t->dep[c];
    for (int64_t i = 0; t->ok && t->conf && i < q * q; i++)
        x->confusion[i] += t->conf[i];
    for (int64_t i = 0; t->ok && t->diag && i < mdl->nlayers * q * 3; i++)
        x->layer_class[i] += t->diag[i];
}

/* mdl->nc from the reduced sums; 0 when it is there (local: the caller
 * agrees, so no rank writes a result without it). */
static int nc_store(td_model *mdl, int d, const double *sums,
                    const double *ref)
{
    int q = mdl->q, L = mdl->net.num_layers;
    const double *pen = sums + 1 + 2 * q;
    double *WL = malloc(sizeof(double) * (size_t)q * d);
    double *bL = malloc(sizeof(double) * q);
    td_nc_free(mdl->nc);
    mdl->nc = calloc(1, sizeof(td_nc));
    int ok = WL && bL && mdl->nc &&
             td_network_layer(&mdl->net, L - 1, WL, bL) == 0;
    if (ok) {
        mdl->nc->layer = L - 1;
        ok = td_nc_finish(mdl->nc, q, d, sums + 1 + q, sums + 1, pen,
                          pen + (size_t)q * (d + 1), ref, WL) == 0;
    }
    if (!ok) {
        td_nc_free(mdl->nc);
        mdl->nc = NULL;
    }
    free(WL);
    free(bL);
    return ok ? 0 : -1;
}

void td_verify_say_nc(const td_model *mdl)
{
    const td_nc *n = mdl->nc;
    if (!n && mdl->net.num_layers > 1)
        td_say("neural collapse: not computed (its per-block sums would "
               "pass 64 MB; a larger parallel.block_rows makes fewer "
               "blocks)\n");
    if (!n)
        return;
    td_say("neural collapse (layer %d, width %d): NC1 within %.3e (relative "
           "%.3e), NC2 norm spread %.3e, max |cos + 1/(Q-1)| %.3e, ETF "
           "distance %.3e, NC3 %.3e; C_N = %.3e within + %.3e between\n",
           n->layer, n->dim, n->nc1_within, n->nc1_relative,
           n->nc2_norm_spread, n->nc2_max_cos_dev, n->nc2_etf_dist,
           n->nc3_dual_dist, n->cn_within, n->cn_between);
}

int td_verify(td_engine *e, td_model *mdl, td_err *err)
{
    return td_verify_ex(e, mdl, NULL, err);
}

int td_verify_ex(td_engine *e, td_model *mdl, td_verify_extra *x,
                 td_err *err)
{
    int64_t br = e->block_rows, q = mdl->q;
    int L = mdl->net.num_layers, nl = mdl->nlayers > 0 ? mdl->nlayers : 1;
    /* per block: the cost, and (up to 64 MB of partials at the global
     * block count: the same answer, and the same reduction length, on
     * every rank at any rank count) each class's squared errors and rows
     * for the class-balanced cost, and the NC sums when asked */
    int64_t nb = e->nblocks > 0 ? e->nblocks : 1;
    double nbg = ceil((double)e->n_total / br);
    int bal = nbg * (1 + 2 * q) * 8 <= 64e6;
    int d = td_nc_dim(mdl);
    int nc = x && x->nc && d > 0 &&
             nbg * (1 + 2 * q + td_nc_stride((int)q, d)) * 8 <= 64e6;
    int64_t stride = bal ? 1 + 2 * q + (nc ? td_nc_stride((int)q, d) : 0) : 1;
    double *part = calloc((size_t)(nb * stride), sizeof(double));
    double *ref = nc ? malloc(sizeof(double) * (size_t)q * d) : NULL;
    int *cone_of = malloc(sizeof(int) * (L > 0 ? L : 1));
    int *diag_of = malloc(sizeof(int) * (L > 0 ? L : 1));
    double maxerr = 0;
    int64_t correct = 0;
    int fail = !part || !cone_of || !diag_of || (nc && !ref) ||
               (!mdl->structured && td_network_materialize(&mdl->net));
    int check = !fail && fate_maps(mdl, cone_of), setup = !fail;
    if (!fail)
        cone_map(mdl, diag_of);
    if (!fail && nc)
        fail = td_nc_refs(mdl, d, ref) != 0;
    memset(mdl->n_departed, 0, sizeof(int64_t) * mdl->nlayers);
    if (x && x->confusion)
        memset(x->confusion, 0, sizeof(int64_t) * q * q);
    if (x && x->layer_class)
        memset(x->layer_class, 0, sizeof(int64_t) * mdl->nlayers * q * 3);
    td_progress_begin("verify");
    #pragma omp parallel reduction(max : maxerr) reduction(+ : correct)
    {
        thread_scratch t;
        nc_acc na = {L - 2, d, ref, NULL, NULL};
        scratch_init(&t, e, mdl, x, cone_of, diag_of, nl);
        if (!t.ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < e->nblocks; b++) {
            int64_t i0 = b * br, rows = e->n_local - i0 < br ? e->n_local - i0 : br;
            if (t.ok && setup)      /* else the maps may be NULL */
                verify_block(e, mdl, i0, rows, t.out, t.work, t.xbuf,
                             check ? &t.f : NULL, t.diag ? &t.g : NULL,
                             nc ? &na : NULL, x ? x->pred : NULL, t.conf, &part[b * stride],
                             bal, &maxerr, &correct);
            if (t.ok && setup && x && x->out)
                memcpy(x->out + i0 * q, t.out, sizeof(double) * rows * q);
            /* rank 0, thread 0: a bar on a terminal, else a line every
             * 10 s (Fashion-MNIST 60k, 275 layers: half a minute) */
            if (omp_get_thread_num() == 0) {
                int64_t nb = e->nblocks / omp_get_num_threads();
                td_progress_tick(b + 1, nb, "block %lld of about %lld on "
                                 "rank 0 (thread 0)", (long long)b + 1,
                                 (long long)nb);
            }
        }
        #pragma omp critical
        scratch_merge(&t, mdl, x);
        scratch_free(&t);
    }
    free(cone_of);
    free(diag_of);
    td_progress_end();
    td_err local;
    td_err_clear(&local);
    if (fail)
        td_err_set(&local, TD_ERR_INTERNAL, "out of memory in verification");
    if (td_comm_agree(&local)) {
        free(part);
        free(ref);
        return td_err_set(err, local.code, "%s", local.msg);
    }
    double *sums = calloc((size_t)stride, sizeof(double));
    int bad = !td_all_ok(sums != NULL) ||                 /* every rank */
              td_comm_sum_blocks(part, e->nblocks, (int)stride, sums);
    if (bad) {
        free(part);
        free(ref);
        free(sums);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory in verification");
    }
    mdl->cost = sums[0];
    mdl->cost_balanced = bal ? 0 : NAN;
    for (int64_t c = 0; bal && c < q; c++)
        if (sums[1 + q + c] > 0)
            mdl->cost_balanced += sums[1 + c] / sums[1 + q + c];
    bad = nc && !td_all_ok(nc_store(mdl, d, sums, ref) == 0);
    free(ref);
    free(sums);
    if (bad) {
        free(part);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (section 6.2 "
                          "quantities)");
    }
    td_comm_max(&maxerr, 1);
    td_comm_sum_i64(mdl->n_departed, mdl->nlayers);
    if (x && x->confusion)
        td_comm_sum_i64(x->confusion, (int)(q * q));
    if (x && x->layer_class)
        td_comm_sum_i64(x->layer_class, (int)(mdl->nlayers * q * 3));
    mdl->max_error = maxerr;
    mdl->n_correct = correct;
    td_comm_sum_i64(&mdl->n_correct, 1);
    mdl->n_points = e->n_total;
    free(part);
    return TD_OK;
}

/* Rounding floor of the exported network: every cone adds about u cond
 * of the data scale in input space, which the output layer multiplies by
 * |W_out| (README, "Rounding, and the reset layers"). */
static double rounding_scale(const td_model *mdl, int *worst)
{
    double sum = 0, w = 0;
    *worst = 0;
    for (int l = 0; l < mdl->nlayers; l++) {
        sum += mdl->layers[l].cond;
        if (mdl->layers[l].cond > mdl->layers[*worst].cond)
            *worst = l;
    }
    for (int k = 0; k < mdl->q * mdl->width; k++)
        w += mdl->w_out[k] * mdl->w_out[k];
    return DBL_EPSILON / 2 * sum * sqrt(w);
}

void td_verify_explain(const td_model *mdl, char *buf, size_t len)
{
    int first = -1, worst;
    int64_t total = 0;
    for (int l = 0; l < mdl->nlayers; l++) {
        total += mdl->n_departed[l];
        if (first < 0 && mdl->n_departed[l] > 0)
            first = l;
    }
    double scale = rounding_scale(mdl, &worst);
    const td_layer_rec *r = &mdl->layers[first >= 0 ? first : worst];
    if (first >= 0)
        snprintf(buf, len, "; in float64 %lld points leave the construction, "
                 "first at hidden layer %d (class %lld, cond %.3g, margins "
                 "%.3g kept / %.3g collapsed): rounding upstream crossed its "
                 "ReLU kinks", (long long)total, first + 1,
                 (long long)r->label, r->cond, r->margin_kept,
                 r->margin_collapsed);
    else
        snprintf(buf, len, "; the float64 pass follows the construction at "
                 "every layer, so this is rounding in the affine maps, not a "
                 "crossed kink: cond(W^(l)) up to %.3g (hidden layer %d, "
                 "class %lld), u * sum of cond * |W_out| = %.2g; at these "
                 "margins this construction cannot do better in double "
                 "precision", r->cond, worst + 1, (long long)r->label, scale);
}
