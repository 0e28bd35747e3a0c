/* verify.c - forward pass over all shards, reducing cost and accuracy. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_linalg.h"
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

static void check_fates(void *ctx, int k, const double *act, int64_t rows)
{
    fates *f = ctx;
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
            for (int i = 0; i < n; i++)
                t[i] = v[i] - cn->p[i];
            if (reset)
                for (int i = 0; i < n; i++) {
                    a[i] = t[i] > 0 ? t[i] : 0.0;
                    a[n + i] = -t[i] > 0 ? -t[i] : 0.0;
                    v[i] = a[i] - a[n + i] + cn->p[i];
                }
            else {
                td_cone_apply_W(cn, t, a);
                for (int i = 0; i < n; i++)
                    a[i] = a[i] > 0 ? a[i] : 0.0;
                td_cone_apply_Winv(cn, a, v);
                for (int i = 0; i < n; i++)
                    v[i] += cn->p[i];
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
 * departures from the construction too. */
static void verify_block(const td_engine *e, const td_model *mdl, int64_t i0,
                         int64_t rows, double *out, double *work,
                         double *xbuf, fates *f, double *cost, double *maxerr,
                         int64_t *correct)
{
    int q = mdl->q;
    if (f) {
        f->fate = e->layer + i0;
        memset(f->left, 0, (size_t)rows);
    }
    const double *x = block_points(e, i0, rows, xbuf);
    if (mdl->structured)
        structured_forward(mdl, x, rows, out, work, f ? check_fates : NULL, f);
    else
        td_network_forward_hook(&mdl->net, x, rows, out, work,
                                f ? check_fates : NULL, f);
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
        for (int k = 0; k < q; k++) {
            double d = o[k] - y[k];
            *cost += 0.5 * d * d;
            *maxerr = fmax(*maxerr, fabs(d));
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

int td_verify(td_engine *e, td_model *mdl, td_err *err)
{
    int64_t br = e->block_rows;
    int q = mdl->q, L = mdl->net.num_layers;
    double *part = calloc((size_t)(e->nblocks > 0 ? e->nblocks : 1), sizeof(double));
    int *cone_of = malloc(sizeof(int) * (L > 0 ? L : 1));
    double maxerr = 0;
    int64_t correct = 0;
    int nl = mdl->nlayers > 0 ? mdl->nlayers : 1;
    int fail = !part || !cone_of ||
               (!mdl->structured && td_network_materialize(&mdl->net));
    int check = !fail && fate_maps(mdl, cone_of);
    memset(mdl->n_departed, 0, sizeof(int64_t) * mdl->nlayers);
    td_progress_begin("verify");
    #pragma omp parallel reduction(max : maxerr) reduction(+ : correct)
    {
        double *out = malloc(sizeof(double) * br * q);
        int64_t wn = mdl->structured ? 4 * br * mdl->width + mdl->width
                                     : td_network_work_size(&mdl->net, br);
        double *work = malloc(sizeof(double) * wn);
        /* float32 input: one block widened at a time */
        double *xbuf = e->x0 ? NULL : malloc(sizeof(double) * br * e->m);
        int64_t *dep = calloc((size_t)nl, sizeof(int64_t));
        fates f = {&mdl->net, cone_of, NULL, malloc((size_t)br), dep};
        int ok = out && work && (e->x0 || xbuf) && dep && f.left;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < e->nblocks; b++) {
            int64_t i0 = b * br, rows = e->n_local - i0 < br ? e->n_local - i0 : br;
            if (ok && part)
                verify_block(e, mdl, i0, rows, out, work, xbuf,
                             check ? &f : NULL, &part[b], &maxerr, &correct);
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
        for (int c = 0; ok && c < mdl->nlayers; c++)
            mdl->n_departed[c] += dep[c];
        free(out);
        free(work);
        free(xbuf);
        free(dep);
        free(f.left);
    }
    free(cone_of);
    td_progress_end();
    td_err local;
    td_err_clear(&local);
    if (fail)
        td_err_set(&local, TD_ERR_INTERNAL, "out of memory in verification");
    if (td_comm_agree(&local)) {
        free(part);
        return td_err_set(err, local.code, "%s", local.msg);
    }
    td_comm_sum_blocks(part, e->nblocks, 1, &mdl->cost);
    td_comm_max(&maxerr, 1);
    td_comm_sum_i64(mdl->n_departed, mdl->nlayers);
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
