/* h5_netreader.c - a result file read back for evaluation (see
 * td_h5net.h): the geometric form of a cone network, or the dense layers
 * of a polytope, whatever rank reads it (serial HDF5, read only). */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_h5.h"
#include "td_h5child.h"
#include "td_h5net.h"

typedef struct {
    const char *path;
    hid_t file;
    td_err *err;
} rd;

static int bad(rd *r, const char *what)
{
    if (r->err->code == TD_OK)
        td_err_set(r->err, TD_ERR_INPUT, "%s: not a trunc-dist result: cannot "
                   "read %s", r->path, what);
    return -1;
}

static int attr_read(rd *r, const char *obj, const char *name, hid_t type,
                     void *out)
{
    if (r->err->code || H5Aexists_by_name(r->file, obj, name, H5P_DEFAULT) <= 0)
        return bad(r, name);
    hid_t a = H5Aopen_by_name(r->file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Aread(a, type, out) >= 0;
    if (a >= 0)
        H5Aclose(a);
    return ok ? 0 : bad(r, name);
}

/* A string attribute (variable or fixed length) into buf. */
static int attr_string(rd *r, const char *obj, const char *name, char *buf,
                       size_t len)
{
    buf[0] = '\0';
    if (r->err->code || H5Aexists_by_name(r->file, obj, name, H5P_DEFAULT) <= 0)
        return bad(r, name);
    hid_t a = H5Aopen_by_name(r->file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    int ok = t >= 0;
    if (ok && H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        ok = H5Aread(a, mt, &s) >= 0 && s;
        if (ok)
            snprintf(buf, len, "%s", s);
        free(s);
        H5Tclose(mt);
    } else if (ok) {
        size_t n = H5Tget_size(t);
        char *s = calloc(n + 1, 1);
        ok = s && H5Aread(a, t, s) >= 0;
        if (ok)
            snprintf(buf, len, "%s", s);
        free(s);
    }
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return ok ? 0 : bad(r, name);
}

/* A whole dataset of exactly `count` elements into out (memory type). */
static int data_read(rd *r, const char *name, hid_t type, size_t count,
                     void *out)
{
    if (r->err->code || H5Lexists(r->file, name, H5P_DEFAULT) <= 0)
        return bad(r, name);
    hid_t d = H5Dopen2(r->file, name, H5P_DEFAULT);
    hid_t s = d >= 0 ? H5Dget_space(d) : -1;
    hssize_t n = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    int ok = n == (hssize_t)count &&
             (count == 0 || H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                    out) >= 0);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return ok ? 0 : bad(r, name);
}

/* The layer kinds and widths of /network. */
static int read_shape(rd *r, int L, int *dims, int *kind)
{
    for (int k = 0; k < L && !r->err->code; k++) {
        char obj[64], s[32];
        snprintf(obj, sizeof obj, "/network/layer_%d", k + 1);
        attr_string(r, obj, "kind", s, sizeof s);
        kind[k] = !strcmp(s, "reset") ? TD_LAYER_RESET
                  : !strcmp(s, "output") ? TD_LAYER_OUTPUT
                  : !strcmp(s, "cone") ? TD_LAYER_CONE : -1;
        snprintf(obj, sizeof obj, "/network/layer_%d/bias", k + 1);
        hid_t d = r->err->code ? -1 : H5Dopen2(r->file, obj, H5P_DEFAULT);
        hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
        dims[k + 1] = sp >= 0 ? (int)H5Sget_simple_extent_npoints(sp) : -1;
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
        if (dims[k + 1] < 1)
            bad(r, obj);
    }
    return r->err->code ? -1 : 0;
}

/* The dense weights of every layer (a polytope's two small layers, a
 * clustered network's Q-wide ones). */
static int read_dense(rd *r, td_network *net)
{
    for (int k = 0; k < net->num_layers && !r->err->code; k++) {
        char name[64];
        snprintf(name, sizeof name, "/network/layer_%d/weight", k + 1);
        data_read(r, name, H5T_NATIVE_DOUBLE,
                  (size_t)net->dims[k + 1] * net->dims[k], net->W[k]);
        snprintf(name, sizeof name, "/network/layer_%d/bias", k + 1);
        data_read(r, name, H5T_NATIVE_DOUBLE, (size_t)net->dims[k + 1],
                  net->b[k]);
    }
    return r->err->code ? -1 : 0;
}

/* The cones from h, p and lambda, and the output layer. */
static int read_cones(rd *r, td_model *mdl)
{
    int L = mdl->nlayers, n = mdl->width;
    double *h = malloc(sizeof(double) * ((size_t)L * n + 1));
    double *p = malloc(sizeof(double) * ((size_t)L * n + 1));
    double *lam = malloc(sizeof(double) * (L + 1));
    if (!h || !p || !lam)
        td_err_set(r->err, TD_ERR_INTERNAL, "out of memory reading %s", r->path);
    data_read(r, "/construction/h", H5T_NATIVE_DOUBLE, (size_t)L * n, h);
    data_read(r, "/construction/p", H5T_NATIVE_DOUBLE, (size_t)L * n, p);
    data_read(r, "/construction/lambda", H5T_NATIVE_DOUBLE, L, lam);
    data_read(r, "/construction/output_weight", H5T_NATIVE_DOUBLE,
              (size_t)mdl->q * n, mdl->w_out);
    data_read(r, "/construction/output_bias", H5T_NATIVE_DOUBLE, mdl->q,
              mdl->b_out);
    for (int l = 0; l < L && !r->err->code; l++)
        if (td_cone_init(&mdl->cones[l], n, h + (size_t)l * n,
                         p + (size_t)l * n, lam[l]))
            bad(r, "/construction/h (a zero or non-finite normal)");
    free(h);
    free(p);
    free(lam);
    return r->err->code ? -1 : 0;
}

/* Shape, labels and targets; then the cones or the dense layers. */
static int read_model(rd *r, td_model *mdl)
{
    int m = 0, q = 0, L = 0, width = 0, nl = 0;
    char cons[32] = "";
    attr_read(r, "/network", "input_dim", H5T_NATIVE_INT, &m);
    attr_read(r, "/network", "output_dim", H5T_NATIVE_INT, &q);
    attr_read(r, "/network", "num_layers", H5T_NATIVE_INT, &L);
    attr_string(r, "/construction", "construction", cons, sizeof cons);
    if (!r->err->code && (m < 1 || q < 2 || L < 1))
        return bad(r, "/network's shape");
    /* a polytope has no cones, a clustered network's live in z-space:
     * both are small, and their dense layers are read as stored */
    int polytope = !strcmp(cons, "polytope");
    int clustered = !strcmp(cons, "clustered"), dense = polytope || clustered;
    if (!r->err->code && !polytope) {
        attr_read(r, "/construction", "width", H5T_NATIVE_INT, &width);
        hid_t d = H5Dopen2(r->file, "/construction/lambda", H5P_DEFAULT);
        hid_t s = d >= 0 ? H5Dget_space(d) : -1;
        nl = s >= 0 ? (int)H5Sget_simple_extent_npoints(s) : -1;
        if (s >= 0)
            H5Sclose(s);
        if (d >= 0)
            H5Dclose(d);
        if (nl < 1 || (width < m && !clustered))
            return bad(r, "/construction's layers");
    }
    if (r->err->code)
        return -1;
    if (td_model_alloc(mdl, m, q) || td_model_reserve(mdl, nl > 0 ? nl : 1) ||
        (!polytope && td_model_set_width(mdl, width)))
        return td_err_set(r->err, TD_ERR_INTERNAL, "out of memory reading %s",
                          r->path);
    mdl->nlayers = nl;
    mdl->construction = polytope ? TD_CONS_POLYTOPE
                        : clustered ? TD_CONS_CLUSTERED : TD_CONS_PIECES;
    if (H5Aexists_by_name(r->file, "/construction", "input_scale",
                          H5P_DEFAULT) > 0)     /* older results: 1 */
        attr_read(r, "/construction", "input_scale", H5T_NATIVE_DOUBLE,
                  &mdl->input_scale);
    if (!r->err->code && !(mdl->input_scale > 0 && isfinite(mdl->input_scale)))
        return bad(r, "/construction input_scale");
    if (dense)              /* its dense layers take x as stored */
        mdl->input_scale = 1;
    data_read(r, "/network/label_values", H5T_NATIVE_INT64, q, mdl->labels);
    data_read(r, "/network/targets", H5T_NATIVE_DOUBLE, (size_t)q * q,
              mdl->targets);
    int *dims = calloc((size_t)L + 1, sizeof(int));
    int *kind = calloc((size_t)L, sizeof(int));
    if (!dims || !kind)
        td_err_set(r->err, TD_ERR_INTERNAL, "out of memory reading %s", r->path);
    else if (read_shape(r, L, dims, kind) == 0) {
        dims[0] = m;
        if (td_network_alloc(&mdl->net, L, dims))
            td_err_set(r->err, TD_ERR_INTERNAL, "out of memory reading %s",
                       r->path);
        for (int k = 0; !r->err->code && k < L; k++)
            mdl->net.kind[k] = kind[k] < 0 ? TD_LAYER_CONE : kind[k];
    }
    free(dims);
    free(kind);
    if (r->err->code)
        return -1;
    return dense ? read_dense(r, &mdl->net) : read_cones(r, mdl);
}

int td_h5_read_network(const char *path, td_model *mdl, td_err *err)
{
    rd r = {path, -1, err};
    *mdl = (td_model){0};
    /* a missing file, a dangling link, a directory or a FIFO (whose open
     * would block), a truncated or corrupt file: said as such */
    if (td_h5_check_file(path, err))
        return err->code;
    H5E_BEGIN_TRY {
        r.file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (r.file < 0)
            td_err_set(err, TD_ERR_INPUT, "%s: cannot open as HDF5", path);
        else
            read_model(&r, mdl);
    } H5E_END_TRY;
    if (r.file >= 0)
        H5Fclose(r.file);
    return err->code;
}

static int read_and_drop(void *ctx, td_buf *out, td_err *err)
{
    td_model mdl;
    (void)out;
    int rc = td_h5_read_network(ctx, &mdl, err);
    td_model_free(&mdl);
    return rc;
}

int td_h5_check_network(const char *path, td_err *err)
{
    td_buf out = {0};
    int rc = td_h5_in_child(path, "it", read_and_drop, (void *)path, &out,
                            err);
    td_buf_free(&out);
    return rc;
}
