/* h5_writer.c - the result file: the network, the construction behind it,
 * the verification and the run facts (layout in io/README.md).  Written by
 * one rank to a temporary name and renamed, so a failed run never leaves a
 * half-written file; creation times are not recorded, so the same model
 * gives the same bytes. */
#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_cone.h"
#include "td_h5.h"

/* Writer state: the first failure sticks, later calls become no-ops. */
typedef struct {
    hid_t file, dcpl, gcpl;
    int failed;
} h5w;

static hid_t group(h5w *w, hid_t parent, const char *name)
{
    hid_t g = w->failed ? -1 : H5Gcreate2(parent, name, H5P_DEFAULT, w->gcpl,
                                           H5P_DEFAULT);
    if (g < 0)
        w->failed = 1;
    return g;
}

static void close_group(hid_t g)
{
    if (g >= 0)
        H5Gclose(g);
}

/* A dataset of `rank` dims (1 or 2) from memory of type mt. */
static void dataset(h5w *w, hid_t g, const char *name, hid_t ft, hid_t mt,
                    int rank, hsize_t d0, hsize_t d1, const void *buf)
{
    if (w->failed)
        return;
    hsize_t dims[2] = {d0, d1};
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, w->dcpl,
                                         H5P_DEFAULT);
    if (ds < 0 || (d0 * (rank == 2 ? d1 : 1) > 0 &&
                   H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0))
        w->failed = 1;
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
}

static void f64(h5w *w, hid_t g, const char *name, int rank, hsize_t d0,
                hsize_t d1, const double *buf)
{
    dataset(w, g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, d0, d1, buf);
}

static void attr(h5w *w, hid_t obj, const char *name, hid_t ft, hid_t mt,
                 const void *val)
{
    if (w->failed)
        return;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mt, val) < 0)
        w->failed = 1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
}

static void attr_i64(h5w *w, hid_t o, const char *name, int64_t v)
{
    attr(w, o, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

static void attr_f64(h5w *w, hid_t o, const char *name, double v)
{
    attr(w, o, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

/* Variable-length UTF-8 string attribute (reads as str in h5py). */
static void attr_str(h5w *w, hid_t o, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const char *v = s ? s : "";
    attr(w, o, name, t, t, &v);
    H5Tclose(t);
}

static void write_network(h5w *w, const td_model *mdl)
{
    const td_network *net = &mdl->net;
    hid_t g = group(w, w->file, "network");
    attr_i64(w, g, "num_layers", net->num_layers);
    attr_str(w, g, "activation", "relu");
    attr_str(w, g, "activation_rule", "relu after every layer except the last");
    attr_i64(w, g, "input_dim", mdl->m);
    attr_i64(w, g, "output_dim", mdl->q);
    for (int l = 0; l < net->num_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "layer_%d", l + 1);
        hid_t gl = group(w, g, name);
        f64(w, gl, "weight", 2, net->dims[l + 1], net->dims[l], net->W[l]);
        f64(w, gl, "bias", 1, net->dims[l + 1], 0, net->b[l]);
        close_group(gl);
    }
    dataset(w, g, "label_values", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, mdl->q,
            0, mdl->labels);
    f64(w, g, "targets", 2, mdl->q, mdl->q, mdl->targets);
    close_group(g);
}

/* One column of the per-layer table: field at byte offset `off` of every
 * td_layer_rec, of C type double, int64_t or int (kind 'd', 'l', 'i'). */
static void layer_column(h5w *w, hid_t g, const td_model *mdl,
                         const char *name, size_t off, char kind)
{
    int n = mdl->nlayers;
    void *col = malloc(8 * (size_t)(n ? n : 1));
    for (int l = 0; l < n && col; l++) {
        const char *rec = (const char *)&mdl->layers[l] + off;
        if (kind == 'd')
            memcpy((double *)col + l, rec, sizeof(double));
        else if (kind == 'l')
            memcpy((int64_t *)col + l, rec, sizeof(int64_t));
        else
            memcpy((int32_t *)col + l, rec, sizeof(int32_t));
    }
    if (!col)
        w->failed = 1;
    else if (kind == 'd')
        f64(w, g, name, 1, n, 0, col);
    else if (kind == 'l')
        dataset(w, g, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, n, 0, col);
    else
        dataset(w, g, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 1, n, 0, col);
    free(col);
}

#define COLUMN_AS(field, name, kind) \
    layer_column(w, g, mdl, name, offsetof(td_layer_rec, field), kind)
#define COLUMN(field, kind) COLUMN_AS(field, #field, kind)

static void write_layer_table(h5w *w, hid_t g, const td_model *mdl)
{
    int n = mdl->nlayers, m = mdl->m;
    double *hp = malloc(sizeof(double) * (size_t)(n ? n : 1) * m * 2);
    for (int l = 0; l < n; l++) {
        memcpy(hp + (size_t)l * m, mdl->layers[l].h, sizeof(double) * m);
        memcpy(hp + (size_t)(n + l) * m, mdl->layers[l].p, sizeof(double) * m);
    }
    f64(w, g, "h", 2, n, m, hp);
    f64(w, g, "p", 2, n, m, hp + (size_t)n * m);
    free(hp);
    COLUMN_AS(label, "order_labels", 'l');
    COLUMN_AS(class_index, "order_class_index", 'i');
    COLUMN(offset, 'd');
    COLUMN(geo_margin, 'd');
    COLUMN(theta, 'd');
    COLUMN(theta_min, 'd');
    COLUMN(lambda, 'd');
    COLUMN(lambda_max, 'd');
    COLUMN(cond, 'd');
    COLUMN(margin_kept, 'd');
    COLUMN(margin_collapsed, 'd');
    COLUMN(hull_dist, 'd');
    COLUMN(n_kept, 'l');
    COLUMN(n_collapsed, 'l');
    COLUMN(n_mixed, 'l');
    COLUMN(sep_status, 'i');
    COLUMN(sep_rounds, 'i');
    COLUMN(base_rule, 'i');
}

static void write_construction(h5w *w, const td_model *mdl)
{
    hid_t g = group(w, w->file, "construction");
    attr_str(w, g, "description", "layer l (row l-1) collapses class "
             "label[l-1] to base point p[l-1] with the cone of axis h, angle "
             "theta; hyperplane <h, x> = offset");
    attr_str(w, g, "sep_status_codes", "0 optimal, 1 certified, "
             "2 inseparable, 3 capped, 4 soft");
    attr_str(w, g, "base_rule_codes", "0 segment rule, 1 class mean "
             "projected, 2 mean of remaining points projected");
    write_layer_table(w, g, mdl);
    dataset(w, g, "class_counts", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, mdl->q,
            0, mdl->counts);
    f64(w, g, "class_means", 2, mdl->q, mdl->m, mdl->means);
    f64(w, g, "output_weight", 2, mdl->q, mdl->m, mdl->w_out);
    f64(w, g, "output_bias", 1, mdl->q, 0, mdl->b_out);
    attr_i64(w, g, "output_uses_bias", mdl->output_bias);
    attr_f64(w, g, "output_cond", mdl->output_cond);
    attr_f64(w, g, "theta_n", td_theta_n(mdl->m));
    attr_i64(w, g, "separator_solves", mdl->separator_solves);
    attr_i64(w, g, "backtracks", mdl->backtracks);
    attr_i64(w, g, "data_passes", mdl->data_passes);
    attr_i64(w, g, "sequentially_separable", mdl->sequentially_separable);
    close_group(g);
}

static void write_verification(h5w *w, const td_model *mdl)
{
    hid_t g = group(w, w->file, "verification");
    attr_f64(w, g, "cost", mdl->cost);
    attr_f64(w, g, "max_error", mdl->max_error);
    attr_i64(w, g, "n_points", mdl->n_points);
    attr_i64(w, g, "n_correct", mdl->n_correct);
    attr_f64(w, g, "accuracy", mdl->n_points ?
             (double)mdl->n_correct / (double)mdl->n_points : 0.0);
    close_group(g);
}

static void write_run(h5w *w, const td_run_info *run)
{
    hid_t g = group(w, w->file, "run");
    attr_str(w, g, "config_text", run->config_text);
    attr_str(w, g, "config_source", run->config_source);
    attr_str(w, g, "version", run->version);
    attr_str(w, g, "data_path", run->data_path);
    attr_str(w, g, "status", run->status);
    attr_i64(w, g, "nranks", run->nranks);
    attr_i64(w, g, "nthreads", run->nthreads);
    attr_i64(w, g, "block_rows", run->block_rows);
    attr_f64(w, g, "kappa", run->kappa);
    close_group(g);
}

int td_h5_write_model(const char *path, const td_model *mdl,
                      const td_run_info *run, td_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h5w w = {-1, H5Pcreate(H5P_DATASET_CREATE), H5Pcreate(H5P_GROUP_CREATE), 0};
    H5Pset_obj_track_times(w.dcpl, 0);
    H5Pset_obj_track_times(w.gcpl, 0);
    w.file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    w.failed = w.file < 0;
    if (mdl->net.num_layers > 0)
        write_network(&w, mdl);
    write_construction(&w, mdl);
    write_verification(&w, mdl);
    write_run(&w, run);
    if (w.file >= 0 && H5Fclose(w.file) < 0)
        w.failed = 1;
    H5Pclose(w.dcpl);
    H5Pclose(w.gcpl);
    if (!w.failed && rename(tmp, path) == 0)
        return TD_OK;
    remove(tmp);
    return td_err_set(err, TD_ERR_OUTPUT, "cannot write result '%s': HDF5 "
                      "write or rename failed", path);
}
