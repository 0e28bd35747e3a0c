/* h5_writer.c - the result file: the network, the construction behind it,
 * the verification and the run facts (layout: io/README.md).
 *
 * Serial HDF5, called on one rank.  The file is written to
 * "<path>.tmp.<pid>" in the same directory and renamed over `path` only
 * when complete, so a failed run never leaves a half-written result.
 * Object times are not tracked and strings are fixed-length (kept in the
 * object headers rather than in a global heap, whose allocation HDF5 does
 * not promise to zero), so the same model gives the same bytes. */
#define _GNU_SOURCE             /* fallocate, memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "td_clustered.h"
#include "td_cone.h"
#include "td_h5.h"
#include "td_nc.h"
#include "td_progress.h"
#include "td_stop.h"
#include "td_version.h"

/* An attribute lives in one object-header message (< 64 KiB); longer
 * strings (a huge config text) become a scalar string dataset instead. */
#define ATTR_STR_MAX 60000

/* Writer state.  The first failure is recorded in `why`; every later call
 * is a no-op, so the write functions read as a plain list of items. */
typedef struct {
    hid_t file, gcpl, dcpl;
    int stopped;         /* a stop signal came while writing */
    double t0;           /* when writing started (the write time in /run) */
    char why[512];
} h5w;

static int failed(const h5w *w)
{
    return w->why[0] != '\0';
}

static herr_t errno_step(unsigned n, const H5E_error2_t *e, void *data)
{
    const char *s = e->desc ? strstr(e->desc, "errno = ") : NULL;
    (void)n;
    if (s && *(int *)data == 0)
        *(int *)data = atoi(s + strlen("errno = "));
    return 0;
}

/* The system error behind HDF5's last failure ("errno = 28" in its
 * stack: ENOSPC), or 0; read before any other HDF5 call. */
static int stack_errno(void)
{
    int e = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, errno_step, &e);
    return e;
}

/* Record that HDF5 could not create or write `name` under `loc`, with
 * the device's word for it when there is one. */
static void fail_at(h5w *w, hid_t loc, const char *name)
{
    if (failed(w))
        return;
    int e = stack_errno();
    if (e) {
        snprintf(w->why, sizeof w->why, "%s (writing '%s')", strerror(e),
                 name);
        return;
    }
    char where[256] = "";
    if (loc < 0 || H5Iget_name(loc, where, sizeof where) < 0)
        where[0] = '\0';
    snprintf(w->why, sizeof w->why, "HDF5 could not write '%s/%s'",
             strcmp(where, "/") ? where : "", name);
}

static hid_t group(h5w *w, hid_t parent, const char *name)
{
    if (failed(w))
        return -1;
    hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
    if (g < 0)
        fail_at(w, parent, name);
    return g;
}

static void close_group(hid_t g)
{
    if (g >= 0)
        H5Gclose(g);
}

/* A dataset of `rank` (0, 1 or 2) dims, file type ft, from memory of type
 * mt.  Empty datasets are created but not written. */
static void dataset(h5w *w, hid_t g, const char *name, hid_t ft, hid_t mt,
                    int rank, hsize_t d0, hsize_t d1, const void *buf)
{
    if (failed(w))
        return;
    hsize_t dims[2] = {d0, d1};
    hsize_t count = rank == 0 ? 1 : rank == 1 ? d0 : d0 * d1;
    hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR)
                         : H5Screate_simple(rank, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(g, name, ft, sp, H5P_DEFAULT,
                                         w->dcpl, H5P_DEFAULT);
    if (ds < 0 || (count > 0 &&
                   H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0))
        fail_at(w, g, name);
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
}

static void f64(h5w *w, hid_t g, const char *name, int rank, hsize_t d0,
                hsize_t d1, const double *buf)
{
    dataset(w, g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, d0, d1, buf);
}

static void i64(h5w *w, hid_t g, const char *name, hsize_t d0,
                const int64_t *buf)
{
    dataset(w, g, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, d0, 0, buf);
}

/* Scalar attribute of file type ft from memory of type mt. */
static void attr(h5w *w, hid_t obj, const char *name, hid_t ft, hid_t mt,
                 const void *val)
{
    if (failed(w))
        return;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp < 0 ? -1 : H5Acreate2(obj, name, ft, sp, H5P_DEFAULT,
                                        H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mt, val) < 0)
        fail_at(w, obj, name);
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
}

static void attr_i32(h5w *w, hid_t o, const char *name, int v)
{
    attr(w, o, name, H5T_STD_I32LE, H5T_NATIVE_INT, &v);
}

static void attr_i64(h5w *w, hid_t o, const char *name, int64_t v)
{
    attr(w, o, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

static void attr_f64(h5w *w, hid_t o, const char *name, double v)
{
    attr(w, o, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

/* Fixed-length, NUL-terminated UTF-8 string attribute (see ATTR_STR_MAX
 * for the long-string fallback). */
static void attr_str(h5w *w, hid_t o, const char *name, const char *s)
{
    if (failed(w))
        return;
    const char *v = s ? s : "";
    size_t len = strlen(v);
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, len + 1) < 0 ||
        H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0)
        fail_at(w, o, name);
    else if (len <= ATTR_STR_MAX)
        attr(w, o, name, t, t, v);
    else
        dataset(w, o, name, t, t, 0, 0, 0, v);
    if (t >= 0)
        H5Tclose(t);
}

static const char *layer_kind_name(int kind)
{
    return kind == TD_LAYER_CONE ? "cone"
         : kind == TD_LAYER_RESET ? "reset"
         : kind == TD_LAYER_FACET ? "facets"
         : kind == TD_LAYER_INDICATOR ? "indicator" : "output";
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Layer by layer, each built when it is written (td_network_layer): a
 * deep network's dense weights never need to fit in memory at once.  The
 * writer runs on one rank: it says where it is (td_progress.h: a bar on a
 * terminal, else a line every 10 s; Fashion-MNIST 60k: 5.5 GB, 20 s). */
static void write_layer_weights(h5w *w, hid_t g, const td_network *net,
                                double input_scale)
{
    int dmax = 0;
    for (int l = 0; l <= net->num_layers; l++)
        dmax = net->dims[l] > dmax ? net->dims[l] : dmax;
    double *W = malloc(sizeof(double) * (size_t)dmax * dmax);
    double *b = malloc(sizeof(double) * dmax);
    if (!W || !b)
        snprintf(w->why, sizeof w->why, "out of memory (layer weights)");
    td_progress_begin("write");
    for (int l = 0; l < net->num_layers && !failed(w); l++) {
        char name[32];
        td_stop_fault_point();
        if (td_stop_signal()) {     /* before Slurm's SIGKILL comes */
            w->stopped = td_stop_signal();
            snprintf(w->why, sizeof w->why, "stopped by %s at layer %d of "
                     "%d", td_stop_name(w->stopped), l + 1, net->num_layers);
            break;
        }
        snprintf(name, sizeof name, "layer_%d", l + 1);
        if (td_network_layer(net, l, W, b)) {
            snprintf(w->why, sizeof w->why, "out of memory (layer %d)", l + 1);
            break;
        }
        if (l == 0 && input_scale != 1)  /* built on s x: exact, 2^k */
            for (size_t i = 0; i < (size_t)net->dims[1] * net->dims[0]; i++)
                W[i] *= input_scale;
        hid_t gl = group(w, g, name);
        attr_str(w, gl, "kind", layer_kind_name(net->kind[l]));
        f64(w, gl, "weight", 2, net->dims[l + 1], net->dims[l], W);
        f64(w, gl, "bias", 1, net->dims[l + 1], 0, b);
        close_group(gl);
        td_progress_tick(l + 1, net->num_layers, "layer %d of %d", l + 1,
                         net->num_layers);
    }
    td_progress_end();
    free(W);
    free(b);
}

static void write_network(h5w *w, const td_model *mdl)
{
    hid_t g = group(w, w->file, "network");
    attr_i32(w, g, "num_layers", mdl->net.num_layers);
    attr_str(w, g, "activation", "relu");
    attr_str(w, g, "activation_rule", "relu after every layer except the last");
    attr_i32(w, g, "input_dim", mdl->m);
    attr_i32(w, g, "output_dim", mdl->q);
    write_layer_weights(w, g, &mdl->net, mdl->input_scale);
    i64(w, g, "label_values", mdl->q, mdl->labels);
    f64(w, g, "targets", 2, mdl->q, mdl->q, mdl->targets);
    close_group(g);
}

/* One column of the per-layer table: the field of `size` bytes at offset
 * `off` of every td_layer_rec, stored natively as memory type mt. */
static void column(h5w *w, hid_t g, const td_model *mdl, const char *name,
                   size_t off, size_t size, hid_t ft, hid_t mt)
{
    if (failed(w))
        return;
    size_t n = (size_t)mdl->nlayers;
    char *col = malloc(size * (n ? n : 1));
    if (!col) {
        snprintf(w->why, sizeof w->why, "out of memory");
        return;
    }
    for (size_t l = 0; l < n; l++)
        memcpy(col + l * size, (const char *)&mdl->layers[l] + off, size);
    dataset(w, g, name, ft, mt, 1, n, 0, col);
    free(col);
}

#define COLUMN(name, field, ft, mt)                                       \
    column(w, g, mdl, name, offsetof(td_layer_rec, field),                \
           sizeof(((td_layer_rec *)0)->field), ft, mt)
#define COL_F64(field) COLUMN(#field, field, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE)
#define COL_I64(field) COLUMN(#field, field, H5T_STD_I64LE, H5T_NATIVE_INT64)
#define COL_I32(field) COLUMN(#field, field, H5T_STD_I32LE, H5T_NATIVE_INT)

/* h or p of every built layer as an (nlayers, M) matrix; a vector a layer
 * never got is stored as NaN rather than failing the whole result. */
static void layer_vectors(h5w *w, hid_t g, const td_model *mdl, int want_p)
{
    if (failed(w))
        return;
    size_t n = (size_t)mdl->nlayers, m = (size_t)mdl->width;
    double *v = malloc(sizeof(double) * (n * m > 0 ? n * m : 1));
    if (!v) {
        snprintf(w->why, sizeof w->why, "out of memory");
        return;
    }
    for (size_t l = 0; l < n; l++) {
        const double *src = want_p ? mdl->layers[l].p : mdl->layers[l].h;
        for (size_t k = 0; k < m; k++)
            v[l * m + k] = src ? src[k] : NAN;
    }
    f64(w, g, want_p ? "p" : "h", 2, n, m, v);
    free(v);
}

/* Attribute "codes" on dataset `name` of g, explaining its integer codes. */
static void codes_attr(h5w *w, hid_t g, const char *name, const char *codes)
{
    if (failed(w))
        return;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0)
        fail_at(w, g, name);
    else
        attr_str(w, ds, "codes", codes);
    if (ds >= 0)
        H5Dclose(ds);
}

/* Meaning of the integer codes (td_model.h), stored with the data. */
#define SEP_STATUS_CODES \
    "0 optimal, 1 certified, 2 inseparable, 3 capped, 4 soft, 5 given " \
    "(clustered: the cone axis f_j, checked on every point)"
#define BASE_RULE_CODES \
    "0 segment rule, 1 class mean projected, 2 mean of the remaining " \
    "points projected, 3 free (moved along the hyperplane away from the " \
    "data), 4 the piece's mean projected (lifted), 5 mean_j + mu_j f_j " \
    "(clustered), 6 the same with mu_j fitted to the data (clustered, " \
    "where the paper's mu_j does not separate)"

static void write_layer_table(h5w *w, hid_t g, const td_model *mdl)
{
    COLUMN("order_labels", label, H5T_STD_I64LE, H5T_NATIVE_INT64);
    COLUMN("order_class_index", class_index, H5T_STD_I32LE, H5T_NATIVE_INT);
    layer_vectors(w, g, mdl, 0);
    layer_vectors(w, g, mdl, 1);
    COL_F64(offset);
    COL_F64(geo_margin);
    COL_F64(theta);
    COL_F64(theta_min);
    COL_F64(lambda);
    COL_F64(lambda_max);
    COL_F64(cond);
    COL_F64(margin_kept);
    COL_F64(margin_collapsed);
    COL_F64(hull_dist);
    COL_F64(lift);
    COL_I64(n_class_left);
    COL_I64(n_kept);
    COL_I64(n_collapsed);
    COL_I64(n_mixed);
    i64(w, g, "n_departed", (hsize_t)mdl->nlayers, mdl->n_departed);
    COL_I32(sep_status);
    COL_I32(sep_rounds);
    COL_I32(base_rule);
    codes_attr(w, g, "sep_status", SEP_STATUS_CODES);
    codes_attr(w, g, "base_rule", BASE_RULE_CODES);
}

/* The per-layer table of rows kept / collapsed / only partly truncated,
 * per class: three nlayers x q datasets under g. */
static void write_layer_classes(h5w *w, hid_t g, const td_model *mdl,
                                const int64_t *lc)
{
    static const char *names[3] = {"layer_kept", "layer_collapsed",
                                   "layer_partial"};
    size_t nq = (size_t)mdl->nlayers * mdl->q;
    int64_t *t = malloc(sizeof(int64_t) * (nq ? nq : 1));
    if (!t && !failed(w))
        snprintf(w->why, sizeof w->why, "out of memory (layer table)");
    for (int kind = 0; kind < 3 && t; kind++) {
        for (size_t i = 0; i < nq; i++)
            t[i] = lc[i * 3 + kind];
        dataset(w, g, names[kind], H5T_STD_I64LE, H5T_NATIVE_INT64, 2,
                (hsize_t)mdl->nlayers, (hsize_t)mdl->q, t);
    }
    free(t);
}

/* Proposition 3's conditions as the data gave them (auto and clustered
 * runs) and, for a clustered network, its input coordinates. */
static void write_clustered(h5w *w, hid_t parent, const td_model *mdl)
{
    const td_clustered *c = mdl->clustered;
    if (!c || failed(w))
        return;
    int q = c->q, m = c->m;
    int64_t *lab = malloc(sizeof(int64_t) * q);
    if (!lab) {
        snprintf(w->why, sizeof w->why, "out of memory (clustered)");
        return;
    }
    hid_t g = group(w, parent, "clustered");
    attr_str(w, g, "description", "Proposition 3 (section 4): barycentre "
             "xbar of the class means, mean_distance[j] = |mean_j - xbar|, "
             "f[j] the unit vector from mean_j to xbar, delta_class[j] the "
             "largest |x - mean_j| over class j, delta their maximum; (18) "
             "holds iff c0 = delta / min_j mean_distance[j] < 1/4; "
             "theta_star[j] the full aperture of the smallest cone at mean_j "
             "around f[j] holding every other class's 4 delta ball (2 pi: a "
             "ball holds mean_j), set by the ball of class "
             "theta_star_ball_label[j]; (20) holds iff max theta_star < pi; "
             "mu[j] puts class j's base point at mean_j + mu[j] f[j] (2.5 "
             "delta, or fitted to the data: base_rule 6).  A "
             "clustered network reads z = (projection (x - xbar), "
             "projection_height) in R^Q: projection has orthonormal rows "
             "spanning the mean differences, and h, p of the layer table are "
             "in z-coordinates");
    f64(w, g, "barycentre", 1, m, 0, c->xbar);
    f64(w, g, "mean_distance", 1, q, 0, c->dist);
    f64(w, g, "f", 2, q, m, c->f);
    f64(w, g, "delta_class", 1, q, 0, c->delta_class);
    f64(w, g, "theta_star", 1, q, 0, c->theta_star);
    f64(w, g, "mu", 1, q, 0, c->mu);
    for (int j = 0; j < q; j++)
        lab[j] = mdl->labels[c->theta_arg[j]];
    i64(w, g, "theta_star_ball_label", q, lab);
    attr_f64(w, g, "delta", c->delta);
    attr_i64(w, g, "delta_label", mdl->labels[c->delta_arg]);
    attr_f64(w, g, "min_mean_distance", c->r);
    attr_i64(w, g, "min_mean_distance_label", mdl->labels[c->r_arg]);
    attr_f64(w, g, "c0", c->c0);
    attr_i32(w, g, "condition_18", c->holds18);
    attr_f64(w, g, "theta_star_max", c->theta_max);
    attr_i64(w, g, "theta_star_max_label", mdl->labels[c->theta_max_arg]);
    attr_i32(w, g, "condition_20", c->holds20);
    if (mdl->construction == TD_CONS_CLUSTERED) {
        f64(w, g, "projection", 2, q - 1, m, c->U);
        attr_f64(w, g, "projection_height", c->t);
    }
    free(lab);
    close_group(g);
}

/* The network's parameter counts and the paper's, as attributes of g. */
static void write_params(h5w *w, hid_t g, const td_model *mdl)
{
    int64_t pd, pg, t6, c4;
    td_model_params(mdl, &pd, &pg);
    td_paper_params(mdl->m, mdl->q, &t6, &c4);
    attr_i64(w, g, "params_dense", pd);
    attr_i64(w, g, "params_geometric", pg);
    attr_i64(w, g, "params_paper_theorem6", t6);
    attr_i64(w, g, "params_paper_corollary4", c4);
}

/* construction.output_layer and what came of it (both layouts). */
static void write_output_kind(h5w *w, hid_t g, const td_model *mdl)
{
    attr_str(w, g, "output_layer", td_output_kind_name(mdl->output_kind));
    attr_i32(w, g, "output_rank", mdl->output_rank);
    attr_f64(w, g, "output_bias_ybar_dist", mdl->output_bias_dev);
}

static void write_construction(h5w *w, const td_model *mdl)
{
    hid_t g = group(w, w->file, "construction");
    attr_str(w, g, "description", "row l-1 of each per-layer dataset is "
             "hidden layer l: it collapses class order_labels[l-1] to base "
             "point p[l-1] with the cone of axis h[l-1] and angle theta[l-1]; "
             "hyperplane <h, x> = offset.  Lifted constructions (attribute "
             "construction 'lifted' or 'pieces'): h and p have width = M + Q "
             "entries, the input's M coordinates then one per class (label "
             "order); the first layer embeds x as (x, 0); a layer collapses "
             "the rows of its class with <h, (x, 0)> < offset (n_collapsed "
             "of them; n_class_left remain), base point l sits at height "
             "lift_height in its class's coordinate, and the output layer "
             "reads those coordinates; rows never collapsed belong to "
             "last_class_label");
    /* also on the group, where scripts/analyze.py looks for them */
    attr_str(w, g, "sep_status_codes", SEP_STATUS_CODES);
    attr_str(w, g, "base_rule_codes", BASE_RULE_CODES);
    write_layer_table(w, g, mdl);
    if (mdl->layer_class)
        write_layer_classes(w, g, mdl, mdl->layer_class);
    i64(w, g, "class_counts", mdl->q, mdl->counts);
    f64(w, g, "class_means", 2, mdl->q, mdl->m, mdl->means);
    f64(w, g, "output_weight", 2, mdl->q, mdl->width, mdl->w_out);
    f64(w, g, "output_bias", 1, mdl->q, 0, mdl->b_out);
    attr_i32(w, g, "output_uses_bias", mdl->output_bias);
    attr_f64(w, g, "output_cond", mdl->output_cond);
    write_output_kind(w, g, mdl);
    attr_f64(w, g, "theta_n", td_theta_n(mdl->width));
    attr_str(w, g, "construction", td_construction_name(mdl->construction));
    attr_str(w, g, "construction_reason", mdl->reason);
    attr_f64(w, g, "input_scale", mdl->input_scale);
    attr_i32(w, g, "width", mdl->width);
    write_params(w, g, mdl);
    write_clustered(w, g, mdl);
    attr_f64(w, g, "lift_height", mdl->lift_height);
    attr_i64(w, g, "last_class_label", mdl->last_class >= 0
             ? mdl->labels[mdl->last_class] : -1);
    attr_i64(w, g, "separator_solves", mdl->separator_solves);
    attr_i64(w, g, "separators_reused", mdl->separators_reused);
    attr_i64(w, g, "backtracks", mdl->backtracks);
    attr_i64(w, g, "data_passes", mdl->data_passes);
    attr_i64(w, g, "separator_passes", mdl->separator_passes);
    attr_i32(w, g, "sequentially_separable", mdl->sequentially_separable);
    close_group(g);
}

/* Section 6.2 on the training data's penultimate features (td_nc.h). */
static void write_nc(h5w *w, const td_model *mdl)
{
    const td_nc *n = mdl->nc;
    hid_t g = group(w, w->file, "neural_collapse");
    attr_str(w, g, "description", "section 6.2 on the training data: "
             "class_means_penultimate row j is the mean over class "
             "label_values[j] of x^(L-1), the output of the last hidden "
             "layer (network layer 'layer'); c_j = its mean minus the "
             "average of the class means.  nc1_within = sum_j 1/N_j sum_i "
             "|x - mean_j|^2, nc1_relative = nc1_within / sum_j |c_j|^2, "
             "nc2_norm_spread = std / mean of |c_j|, nc2_max_cos_dev = "
             "max_(j<k) |cos(c_j, c_k) + 1/(Q-1)|, nc2_etf_dist = "
             "|G/|G|_F - E/|E|_F|_F with G_jk = <c_j, c_k> and E = I - "
             "1 1^T/Q, nc3_dual_dist = |W_L/|W_L|_F - C/|C|_F|_F (W_L the "
             "exported last layer, C rows c_j); C_N = cn_within + "
             "cn_between, eq. (31) on the outputs");
    f64(w, g, "class_means_penultimate", 2, mdl->q, n->dim, n->means);
    attr_i32(w, g, "layer", n->layer);
    attr_i32(w, g, "width", n->dim);
    attr_f64(w, g, "nc1_within", n->nc1_within);
    attr_f64(w, g, "nc1_relative", n->nc1_relative);
    attr_f64(w, g, "nc2_norm_spread", n->nc2_norm_spread);
    attr_f64(w, g, "nc2_max_cos_dev", n->nc2_max_cos_dev);
    attr_f64(w, g, "nc2_etf_dist", n->nc2_etf_dist);
    attr_f64(w, g, "nc3_dual_dist", n->nc3_dual_dist);
    attr_f64(w, g, "cn_within", n->cn_within);
    attr_f64(w, g, "cn_between", n->cn_between);
    close_group(g);
}

/* polytope: the facets instead of the cone layer table. */
static void write_polytope(h5w *w, const td_model *mdl)
{
    hid_t g = group(w, w->file, "construction");
    attr_f64(w, g, "input_scale", mdl->input_scale);
    int k = mdl->nfacets;
    attr_str(w, g, "description", "binary data: every row of class "
             "outer_label is cut off every row of class inner_label by one "
             "of the facets i (rows of facet_w, facet_beta, facet_gap): "
             "<facet_w[i], x> >= facet_beta[i] + facet_gap[i] on every inner "
             "row, <= facet_beta[i] - facet_gap[i] on the facet_n[i] outer "
             "rows it first covers (and on any others).  Hidden layer 1 "
             "(kind 'facets', width k): z_i = relu(2 (beta_i - <w_i, x>) / "
             "g_i), 0 on the inner class, >= 2 on facet i's rows; hidden "
             "layer 2 (kind 'indicator', width 1): u = relu(1 - sum z_i), "
             "1 inside, 0 on the outer class; output y_outer + u (y_inner - "
             "y_outer)");
    f64(w, g, "facet_w", 2, k, mdl->m, mdl->facet_w);
    f64(w, g, "facet_beta", 1, k, 0, mdl->facet_beta);
    f64(w, g, "facet_gap", 1, k, 0, mdl->facet_gap);
    i64(w, g, "facet_n", k, mdl->facet_n);
    i64(w, g, "class_counts", mdl->q, mdl->counts);
    f64(w, g, "class_means", 2, mdl->q, mdl->m, mdl->means);
    attr_str(w, g, "construction", td_construction_name(mdl->construction));
    attr_str(w, g, "construction_reason", mdl->reason);
    attr_i64(w, g, "inner_label", mdl->labels[mdl->inner_class]);
    attr_i64(w, g, "outer_label", mdl->labels[mdl->outer_class]);
    attr_i32(w, g, "n_facets", k);
    write_output_kind(w, g, mdl);
    attr_i32(w, g, "width", k);
    write_params(w, g, mdl);
    write_clustered(w, g, mdl);
    attr_i64(w, g, "separator_solves", mdl->separator_solves);
    attr_i64(w, g, "data_passes", mdl->data_passes);
    attr_i64(w, g, "separator_passes", mdl->separator_passes);
    attr_i32(w, g, "sequentially_separable", mdl->sequentially_separable);
    close_group(g);
}

/* The config's test set: its totals, confusion and layer table. */
static void write_eval(h5w *w, const td_model *mdl)
{
    const td_test_eval *t = mdl->test;
    hid_t g = group(w, w->file, "eval");
    attr_str(w, g, "data_path", t->path);
    attr_i64(w, g, "n_points", t->n_points);
    attr_i64(w, g, "n_correct", t->n_correct);
    attr_f64(w, g, "accuracy", t->n_points > 0 ?
             (double)t->n_correct / (double)t->n_points : 0.0);
    attr_f64(w, g, "cost", t->cost);
    attr_f64(w, g, "cost_balanced", t->cost_balanced);
    attr_f64(w, g, "max_error", t->max_error);
    dataset(w, g, "confusion", H5T_STD_I64LE, H5T_NATIVE_INT64, 2,
            (hsize_t)mdl->q, (hsize_t)mdl->q, t->confusion);
    if (t->layer_class)
        write_layer_classes(w, g, mdl, t->layer_class);
    close_group(g);
}

static void write_verification(h5w *w, const td_model *mdl)
{
    hid_t g = group(w, w->file, "verification");
    attr_str(w, g, "forward", mdl->structured ? "structured" : "dense");
    attr_f64(w, g, "cost", mdl->cost);
    attr_f64(w, g, "cost_balanced", mdl->cost_balanced);
    attr_f64(w, g, "max_error", mdl->max_error);
    attr_i64(w, g, "n_points", mdl->n_points);
    attr_i64(w, g, "n_correct", mdl->n_correct);
    attr_f64(w, g, "accuracy", mdl->n_points > 0 ?
             (double)mdl->n_correct / (double)mdl->n_points : 0.0);
    close_group(g);
}

/* The run's phase times, in seconds of wall-clock time; writing counts
 * until now (only closing and renaming the file are left). */
static void write_times(h5w *w, hid_t g, td_run_times *t)
{
    t->write = seconds() - w->t0;
    time_t start = (time_t)t->started;
    struct tm tm;
    char utc[32] = "";
    if (t->started > 0 && gmtime_r(&start, &tm))
        strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    attr_str(w, g, "started_utc", utc);
    attr_f64(w, g, "time_load", t->load);
    attr_f64(w, g, "time_build", t->build);
    attr_f64(w, g, "time_verify", t->verify);
    attr_f64(w, g, "time_write", t->write);
    attr_f64(w, g, "time_total", t->load + t->build + t->verify + t->write);
}

static void write_run(h5w *w, const td_run_info *run)
{
    hid_t g = group(w, w->file, "run");
    attr_str(w, g, "config_text", run->config_text);
    attr_str(w, g, "config_source", run->config_source);
    attr_str(w, g, "version", run->version);
    attr_str(w, g, "data_path", run->data_path);
    attr_str(w, g, "status", run->status);
    attr_i32(w, g, "nranks", run->nranks);
    attr_i32(w, g, "nthreads", run->nthreads);
    attr_i32(w, g, "block_rows", run->block_rows);
    attr_f64(w, g, "kappa", run->kappa);
    attr_str(w, g, "git_commit", run->git_commit ? run->git_commit : "");
    attr_str(w, g, "hostnames", run->hostnames ? run->hostnames : "");
    if (run->times)
        write_times(w, g, run->times);
    close_group(g);
}

/* Property lists that keep object times out of the file; the file
 * creation list covers the root group. */
static hid_t untimed_plist(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
        H5Pclose(p);
        p = -1;
    }
    return p;
}

/* ---------------------------------------------------------------------
 * A full disk.  HDF5 1.10 cannot close a file once a write from its
 * metadata cache has failed: H5Fclose fails and the half-closed file
 * crashes the library's cleanup in MPI_Finalize (rank 0 then exits 139,
 * the others 5).  So the space is claimed first: a block written by us
 * before HDF5 creates the file, then the whole result's estimated size
 * reserved (fallocate, where the file system has it); ENOSPC is then
 * reported from here.  After any failure the descriptor under HDF5 is
 * pointed at an anonymous memory file, so whatever HDF5 still writes
 * when it closes lands there and the close succeeds.
 * ------------------------------------------------------------------- */

/* Bytes the result will take: the data, with room for HDF5's headers. */
static double result_bytes(const td_model *mdl, const td_run_info *run)
{
    double b = 1 << 20;
    for (int l = 0; l < mdl->net.num_layers; l++)
        b += 8.0 * mdl->net.dims[l + 1] * (mdl->net.dims[l] + 1.0) + 4096;
    b += 8.0 * mdl->nlayers * (2.0 * mdl->width + 32) + 4096;
    b += 8.0 * mdl->q * (mdl->m + mdl->q + mdl->width + 4);
    b += 8.0 * mdl->nfacets * (mdl->m + 4);
    if (mdl->nc)                        /* /neural_collapse: class means */
        b += 8.0 * mdl->q * mdl->nc->dim + 4096;
    if (mdl->test)                      /* /eval: confusion, layer table */
        b += 8.0 * mdl->q * (mdl->q + 3.0 * mdl->nlayers);
    if (run && run->config_text)
        b += 2.0 * strlen(run->config_text);
    return 1.25 * b;
}

/* The descriptor of a file HDF5 writes with its sec2 driver, or NULL. */
static int *sec2_fd(hid_t file)
{
    void *handle = NULL;
    hid_t fapl = H5Fget_access_plist(file);
    int sec2 = fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2;
    if (fapl >= 0)
        H5Pclose(fapl);
    if (!sec2 || H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0)
        return NULL;
    return handle;
}

/* One block of our own: a disk that is already full says so here. */
static void claim_block(h5w *w, const char *tmp)
{
    static const char zeros[4096];
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ssize_t n = fd < 0 ? -1 : write(fd, zeros, sizeof zeros);
    int e = fd < 0 || n < 0 ? errno : n != (ssize_t)sizeof zeros ? ENOSPC : 0;
    if (fd >= 0 && close(fd) != 0 && !e)
        e = errno;
    if (e)
        snprintf(w->why, sizeof w->why, "cannot create the temporary file: "
                 "%s", strerror(e));
}

static void reserve(h5w *w, const td_model *mdl, const td_run_info *run)
{
    int *fd = sec2_fd(w->file);
    double bytes = result_bytes(mdl, run);
    if (fd && bytes < 9e18 &&
        fallocate(*fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) != 0 &&
        (errno == ENOSPC || errno == EDQUOT || errno == EFBIG))
        snprintf(w->why, sizeof w->why, "%s (the result needs about %.3g "
                 "MB)", strerror(errno), bytes / 1e6);
}

/* The reservation beyond the end is given back (ftruncate to the same
 * size frees it); the bytes stay what HDF5 wrote. */
static void trim(const char *tmp)
{
    struct stat st;
    if (stat(tmp, &st) == 0)
        (void)!truncate(tmp, st.st_size);
}

static void discard_pending(hid_t file)
{
    int *fd = sec2_fd(file);
    int mem = fd ? memfd_create("td-discard", MFD_CLOEXEC) : -1;
    if (mem >= 0) {
        dup2(mem, *fd);
        close(mem);
    }
}

/* Write everything to `tmp`; a failure is left in w->why. */
static void write_file(h5w *w, const char *tmp, const td_model *mdl,
                       const td_run_info *run)
{
    hid_t fcpl = untimed_plist(H5P_FILE_CREATE);
    w->gcpl = untimed_plist(H5P_GROUP_CREATE);
    w->dcpl = untimed_plist(H5P_DATASET_CREATE);
    if (fcpl < 0 || w->gcpl < 0 || w->dcpl < 0) {
        snprintf(w->why, sizeof w->why, "HDF5 property lists failed");
    } else {
        claim_block(w, tmp);
    }
    if (!failed(w)) {
        w->file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
        if (w->file < 0) {
            int e = stack_errno();
            snprintf(w->why, sizeof w->why, "cannot create the temporary "
                     "file: %s", e ? strerror(e) : "HDF5 error");
        } else {
            reserve(w, mdl, run);
        }
    }
    if (w->file >= 0) {
        attr_str(w, w->file, "format", "trunc-dist result");
        attr_i32(w, w->file, "schema_version", TD_SCHEMA_VERSION);
        attr_str(w, w->file, "targets_source", mdl->targets_source[0]
                 ? mdl->targets_source : "one_hot");
    }
    if (mdl->net.num_layers > 0)
        write_network(w, mdl);
    if (mdl->construction == TD_CONS_POLYTOPE)
        write_polytope(w, mdl);
    else
        write_construction(w, mdl);
    write_verification(w, mdl);
    if (mdl->nc)
        write_nc(w, mdl);
    if (mdl->test)
        write_eval(w, mdl);
    if (run)
        write_run(w, run);
    if (w->file >= 0 && failed(w))
        discard_pending(w->file);
    if (w->file >= 0 && H5Fclose(w->file) < 0 && !failed(w)) {
        int e = stack_errno();
        snprintf(w->why, sizeof w->why, "closing the temporary file failed%s"
                 "%s", e ? ": " : "", e ? strerror(e) : "");
    }
    if (!failed(w))
        trim(tmp);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (w->gcpl >= 0) H5Pclose(w->gcpl);
    if (w->dcpl >= 0) H5Pclose(w->dcpl);
}

int td_h5_write_model(const char *path, const td_model *mdl,
                      const td_run_info *run, td_err *err)
{
    char tmp[PATH_MAX + 32];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path,
                         (long)getpid()) >= sizeof tmp)
        return td_err_set(err, TD_ERR_OUTPUT, "cannot write result '%s': "
                          "path too long", path);
    h5w w = {.file = -1, .gcpl = -1, .dcpl = -1, .t0 = seconds(), .why = ""};
    /* One-line messages instead of HDF5's stack dump; the caller's handler
     * is restored before returning. */
    H5E_BEGIN_TRY {
        write_file(&w, tmp, mdl, run);
    } H5E_END_TRY;
    if (!failed(&w) && rename(tmp, path) != 0)
        snprintf(w.why, sizeof w.why, "renaming the temporary file failed: "
                 "%s", strerror(errno));
    if (!failed(&w))
        return TD_OK;
    remove(tmp);        /* never leave a partial file behind */
    if (w.stopped)
        return td_err_set(err, TD_ERR_INTERRUPTED, "%s while writing '%s': "
                          "nothing written", w.why, path);
    return td_err_set(err, TD_ERR_OUTPUT, "cannot write result '%s': %s",
                      path, w.why);
}
