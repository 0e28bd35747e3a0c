/* h5_checkpoint.c - the checkpoint file (see td_h5ckpt.h). */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_h5ckpt.h"
#include "td_h5par.h"

#define FORMAT "trunc-dist checkpoint 1"

typedef struct {
    hid_t file;
    int bad;                /* an HDF5 call failed */
} ck_file;

static void put_attr(ck_file *f, const char *name, hid_t type,
                     const void *v, hsize_t n)
{
    f->bad |= td_h5par_attr(f->file, name, type, v, n) != 0;
}

static void put_text(ck_file *f, const char *name, const char *s)
{
    f->bad |= td_h5par_text(f->file, name, s) != 0;
}

static void put_rows(ck_file *f, const char *name, hid_t type, hsize_t n,
                     hsize_t off, hsize_t cnt, const void *v)
{
    f->bad |= td_h5par_rows(f->file, name, type, n, 0, off, cnt, v) != 0;
}

static void write_all(ck_file *f, const td_h5ckpt_meta *mt,
                      const td_ckpt_image *img, int rank)
{
    int64_t head[] = {img->phase, img->nlayers, mt->n_total, mt->m, mt->q};
    put_text(f, "format", FORMAT);
    put_text(f, "version", mt->version);
    put_text(f, "config_text", mt->config_text);
    put_attr(f, "head", H5T_NATIVE_INT64, head, 5);
    put_attr(f, "labels", H5T_NATIVE_INT64, mt->labels, mt->q);
    put_attr(f, "counts", H5T_NATIVE_INT64, mt->counts, mt->q);
    put_attr(f, "means", H5T_NATIVE_DOUBLE, mt->means,
             (hsize_t)mt->q * mt->m);
    if (mt->targets)
        put_attr(f, "targets", H5T_NATIVE_DOUBLE, mt->targets,
                 (hsize_t)mt->q * mt->q);
    hsize_t len = img->state->len;
    put_rows(f, "state", H5T_NATIVE_UCHAR, len ? len : 1, 0,
             rank == 0 ? len : 0, img->state->p);
    put_rows(f, "row_layer", H5T_NATIVE_INT, (hsize_t)img->n_total,
             (hsize_t)img->row0, (hsize_t)img->n_local, img->row_layer);
}

typedef struct {
    const td_h5ckpt_meta *mt;
    const td_ckpt_image *img;
    int rank;
} ck_write;

static int fill(hid_t file, void *ctx)
{
    ck_write *c = ctx;
    ck_file f = {file, 0};
    write_all(&f, c->mt, c->img, c->rank);
    return f.bad;
}

int td_h5_write_checkpoint(void *meta, const td_ckpt_image *img,
                           td_err *err)
{
    const td_h5ckpt_meta *mt = meta;
    ck_write c = {mt, img, 0};
    MPI_Comm_rank(mt->comm, &c.rank);
    return td_h5par_write(mt->path, mt->comm, "checkpoint", fill, &c, err);
}

/* Attribute `name` of n elements into v; -1 if it is missing or its size
 * differs. */
static int get_attr(hid_t file, const char *name, hid_t type, void *v,
                    hsize_t n)
{
    if (H5Aexists(file, name) <= 0)
        return -1;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    hssize_t have = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    int rc = have == (hssize_t)n && H5Aread(a, type, v) >= 0 ? 0 : -1;
    if (sp >= 0) H5Sclose(sp);
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* 1 when text attribute `name` (a fixed-length string) equals s. */
static int same_text(hid_t file, const char *name, const char *s)
{
    size_t n = strlen(s) + 1;
    if (H5Aexists(file, name) <= 0)
        return 0;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    hid_t ft = a < 0 ? -1 : H5Aget_type(a);
    hid_t mt = H5Tcopy(H5T_C_S1);
    char *v = malloc(n);
    int same = v && ft >= 0 && mt >= 0 && H5Tget_class(ft) == H5T_STRING &&
               !H5Tis_variable_str(ft) && H5Tget_size(ft) == n &&
               H5Tset_size(mt, n) >= 0 && H5Aread(a, mt, v) >= 0 &&
               memcmp(v, s, n) == 0;
    free(v);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return same;
}

/* 1 when the checkpoint's target vectors are not this run's; one
 * without them (written before they were stored) had one-hot targets. */
static int other_targets(hid_t file, const td_h5ckpt_meta *mt)
{
    size_t q = (size_t)mt->q;
    double *t = mt->targets ? malloc(sizeof(double) * q * q) : NULL;
    if (!mt->targets || !t) {
        free(t);
        return mt->targets != NULL;     /* out of memory: refuse */
    }
    int differ = 0;
    if (H5Aexists(file, "targets") > 0)
        differ = get_attr(file, "targets", H5T_NATIVE_DOUBLE, t, q * q) ||
                 memcmp(t, mt->targets, sizeof(double) * q * q) != 0;
    else
        for (size_t i = 0; i < q * q; i++)
            differ |= mt->targets[i] != (double)(i / q == i % q);
    free(t);
    return differ;
}

/* What in the file differs from this run, or NULL. */
static const char *mismatch(hid_t file, const td_h5ckpt_meta *mt,
                            int64_t *head)
{
    size_t q = (size_t)mt->q, m = (size_t)mt->m;
    int64_t *iv = malloc(sizeof(int64_t) * (2 * q + 1));
    double *means = malloc(sizeof(double) * (q * m + 1));
    const char *why = NULL;
    if (!iv || !means)
        why = "out of memory";
    else if (!same_text(file, "format", FORMAT))
        why = "not a trunc-dist checkpoint";
    else if (!same_text(file, "version", mt->version))
        why = "written by another version of trunc-dist";
    else if (!same_text(file, "config_text", mt->config_text))
        why = "written for another config (the config file changed)";
    else if (get_attr(file, "head", H5T_NATIVE_INT64, head, 5) ||
             head[2] != mt->n_total || head[3] != mt->m || head[4] != mt->q)
        why = "written for data of another shape";
    else if (get_attr(file, "labels", H5T_NATIVE_INT64, iv, q) ||
             memcmp(iv, mt->labels, sizeof(int64_t) * q) ||
             get_attr(file, "counts", H5T_NATIVE_INT64, iv + q, q) ||
             memcmp(iv + q, mt->counts, sizeof(int64_t) * q) ||
             get_attr(file, "means", H5T_NATIVE_DOUBLE, means, q * m) ||
             memcmp(means, mt->means, sizeof(double) * q * m))
        why = "written for other data (labels, class counts or means "
              "differ)";
    else if (other_targets(file, mt))
        why = "written for other target vectors (data.targets_dataset "
              "changed)";
    free(iv);
    free(means);
    return why;
}

/* Read all of 1-D dataset `name` or rows [off, off + cnt) of it. */
static int get_rows(hid_t file, const char *name, hid_t type, hsize_t n,
                    hsize_t off, hsize_t cnt, void *v)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    hid_t mem = H5Screate_simple(1, &cnt, NULL);
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    int ok = sp >= 0 && mem >= 0 && x >= 0 &&
             H5Sget_simple_extent_npoints(sp) == (hssize_t)n &&
             H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE) >= 0;
    if (ok && cnt > 0)
        ok = H5Sselect_hyperslab(sp, H5S_SELECT_SET, &off, NULL, &cnt,
                                 NULL) >= 0;
    else if (ok)
        ok = H5Sselect_none(sp) >= 0 && H5Sselect_none(mem) >= 0;
    ok = ok && H5Dread(d, type, mem, sp, x, v) >= 0;
    if (x >= 0) H5Pclose(x);
    if (mem >= 0) H5Sclose(mem);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return ok ? 0 : -1;
}

static hsize_t state_len(hid_t file)
{
    hid_t d = H5Dopen2(file, "state", H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    hssize_t n = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return n > 0 ? (hsize_t)n : 0;
}

static void read_parts(hid_t file, const td_h5ckpt_meta *mt, int64_t row0,
                       int64_t n_local, int *row_layer, td_buf *state,
                       td_err *err)
{
    hsize_t len = state_len(file);
    state->p = malloc(len ? len : 1);
    state->len = state->cap = len;
    state->pos = 0;
    if (!state->p || len == 0)
        td_err_set(err, TD_ERR_INPUT, "%s: checkpoint has no state",
                   mt->path);
    else if (get_rows(file, "state", H5T_NATIVE_UCHAR, len, 0, len,
                      state->p) ||
             get_rows(file, "row_layer", H5T_NATIVE_INT,
                      (hsize_t)mt->n_total, (hsize_t)row0,
                      (hsize_t)n_local, row_layer))
        td_err_set(err, TD_ERR_INPUT, "%s: cannot read the checkpoint "
                   "(truncated or damaged file)", mt->path);
}

int td_h5_read_checkpoint(const td_h5ckpt_meta *meta, int64_t row0,
                          int64_t n_local, int *row_layer, int *phase,
                          int *nlayers, td_buf *state, td_err *err)
{
    H5E_BEGIN_TRY {
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        hid_t file = -1;
        if (fapl >= 0 && H5Pset_fapl_mpio(fapl, meta->comm, MPI_INFO_NULL) >= 0 &&
            H5Fis_hdf5(meta->path) > 0)
            file = H5Fopen(meta->path, H5F_ACC_RDONLY, fapl);
        int64_t head[5] = {0};
        const char *why = file < 0 ? "not an HDF5 file (truncated or damaged)"
                                   : mismatch(file, meta, head);
        if (why)
            td_err_set(err, TD_ERR_INPUT, "%s: cannot resume: %s; remove it to "
                       "start afresh", meta->path, why);
        else
            read_parts(file, meta, row0, n_local, row_layer, state, err);
        *phase = (int)head[0];
        *nlayers = (int)head[1];
        if (file >= 0)
            H5Fclose(file);
        if (fapl >= 0)
            H5Pclose(fapl);
    } H5E_END_TRY;
    return err->code;
}
