/* h5_reader.c - training data from HDF5 (see td_h5.h).
 *
 * Every rank opens the file through MPI-IO, checks the same metadata and
 * reads its own contiguous block of rows with one collective hyperslab read
 * per dataset.  Metadata is identical everywhere, so contract errors are
 * found by every rank before the collective reads and no rank ever skips a
 * collective call that another rank makes.  Value errors (non-finite X, a
 * uint64 label beyond int64) are found after the reads, on the rank that
 * holds the row; the caller agrees on them.  MPI is used here only for the
 * rank / size and to hand the communicator to HDF5.
 *
 * X keeps its precision: float32 stays float (half the memory of double;
 * the engine widens a row when it reads it, to the same double HDF5 would
 * give) and float64 stays double.  HDF5 1.10 turns a collective read into
 * independent I/O when it has to convert types, so native float64 and
 * float32 X (the bulk of the data) are read without conversion; other
 * types (big-endian, y narrower than int64) are converted by HDF5 and read
 * independently - still correct. */
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_h5.h"
#include "td_shard.h"

/* Every id this reader opens; all start at -1 and are closed on every path
 * out, success or error. */
typedef struct {
    hid_t fapl, file, xset, yset, xspace, yspace, xtype, ytype;
} h5_ids;

/* One dataset's contract: its name, required rank and type class. */
typedef struct {
    const char *name;
    int rank;
    H5T_class_t cls;
} ds_want;

static void close_ids(h5_ids *h)
{
    /* close failures cannot be acted on; the ids are gone either way */
    if (h->ytype >= 0) H5Tclose(h->ytype);
    if (h->xtype >= 0) H5Tclose(h->xtype);
    if (h->yspace >= 0) H5Sclose(h->yspace);
    if (h->xspace >= 0) H5Sclose(h->xspace);
    if (h->yset >= 0) H5Dclose(h->yset);
    if (h->xset >= 0) H5Dclose(h->xset);
    if (h->file >= 0) H5Fclose(h->file);
    if (h->fapl >= 0) H5Pclose(h->fapl);
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "floating-point";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
    }
}

/* H5Fis_hdf5 says only "no"; errno-level detail makes the message useful. */
static int open_failure(const char *path, td_err *err)
{
    if (access(path, F_OK) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: %s", path,
                          strerror(errno));
    if (access(path, R_OK) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: not readable "
                          "(%s)", path, strerror(errno));
    return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: not an HDF5 file",
                      path);
}

static int open_file(const char *path, MPI_Comm comm, h5_ids *h, td_err *err)
{
    h->fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (h->fapl < 0 || H5Pset_fapl_mpio(h->fapl, comm, MPI_INFO_NULL) < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "%s: cannot set up MPI-IO "
                          "file access", path);
    /* Checked before the collective open so that a bad path gives the same
     * clear message on every rank. */
    if (H5Fis_hdf5(path) <= 0)
        return open_failure(path, err);
    h->file = H5Fopen(path, H5F_ACC_RDONLY, h->fapl);
    if (h->file < 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open HDF5 file "
                          "(MPI-IO open failed)", path);
    return TD_OK;
}

/* Open dataset w->name and check its rank and type class; dims gets its
 * shape. */
static int open_dataset(const char *path, hid_t file, const ds_want *w,
                        hid_t *set, hid_t *space, hid_t *type, hsize_t *dims,
                        td_err *err)
{
    /* H5Lexists fails (< 0) when an intermediate group is missing: that is
     * a missing dataset too. */
    if (H5Lexists(file, w->name, H5P_DEFAULT) <= 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: no dataset '%s'", path,
                          w->name);
    if ((*set = H5Dopen2(file, w->name, H5P_DEFAULT)) < 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: '%s' is not a dataset",
                          path, w->name);
    if ((*space = H5Dget_space(*set)) < 0 || (*type = H5Dget_type(*set)) < 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s': cannot read "
                          "its shape or type", path, w->name);
    int r = H5Sget_simple_extent_ndims(*space);
    if (r != w->rank)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has rank %d, "
                          "expected %d (%s)", path, w->name, r, w->rank,
                          w->rank == 2 ? "N x M" : "N");
    if (H5Sget_simple_extent_dims(*space, dims, NULL) < 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s': cannot read "
                          "its shape", path, w->name);
    H5T_class_t c = H5Tget_class(*type);
    if (c != w->cls)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' must hold %s, "
                          "found %s data", path, w->name, w->cls == H5T_FLOAT
                          ? "floating-point values (float32 or float64)"
                          : "integer labels", class_name(c));
    return TD_OK;
}

/* Shape agreement between X (N x M) and y (N). */
static int check_shape(const char *path, const char *xname, const char *yname,
                       const hsize_t *xd, const hsize_t *yd, td_err *err)
{
    if (xd[0] != yd[0])
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has %llu rows "
                          "but '%s' has %llu", path, xname,
                          (unsigned long long)xd[0], yname,
                          (unsigned long long)yd[0]);
    if (xd[0] == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has no rows "
                          "(N = 0)", path, xname);
    if (xd[1] == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has no columns "
                          "(M = 0)", path, xname);
    if (xd[1] > INT_MAX || xd[0] > (hsize_t)INT64_MAX / xd[1])
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' is too large "
                          "(%llu x %llu)", path, xname,
                          (unsigned long long)xd[0], (unsigned long long)xd[1]);
    return TD_OK;
}

/* Memory types of the two reads. */
typedef struct {
    hid_t x, y;
} mem_types;

/* X of at most 4 bytes a value (float32 of either byte order) is held as
 * float: a float holds it exactly, and native float32 then needs no
 * conversion, so its read stays collective.  Wider X is held as double. */
static hid_t values_memtype(hid_t xtype)
{
    size_t size = H5Tget_size(xtype);
    return size > 0 && size <= sizeof(float) ? H5T_NATIVE_FLOAT
                                             : H5T_NATIVE_DOUBLE;
}

/* Memory type for y.  Labels are int64; HDF5 would silently clip uint64
 * values above INT64_MAX, so those are read unconverted and checked. */
static int label_memtype(const char *path, const char *yname, hid_t ytype,
                         hid_t *mt, td_err *err)
{
    size_t size = H5Tget_size(ytype);
    H5T_sign_t sign = H5Tget_sign(ytype);
    if (size == 0 || sign == H5T_SGN_ERROR)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s': cannot read "
                          "its integer type", path, yname);
    if (size > 8)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' holds %zu-byte "
                          "integers; labels must fit in 64 bits", path, yname,
                          size);
    *mt = size == 8 && sign == H5T_SGN_NONE ? H5T_NATIVE_UINT64
                                             : H5T_NATIVE_INT64;
    return TD_OK;
}

/* Select rows [row0, row0 + n) of a dataset (rank 1 or 2, `cols` columns)
 * in `space` and return a matching memory space.  A rank with no rows
 * selects nothing on both sides but still joins the collective read. */
static hid_t select_rows(hid_t space, int rank, int64_t row0, int64_t n,
                         hsize_t cols)
{
    hsize_t start[2] = {(hsize_t)row0, 0}, count[2] = {(hsize_t)n, cols};
    hsize_t mdims[2] = {(hsize_t)(n > 0 ? n : 1), cols};
    herr_t st = n > 0 ? H5Sselect_hyperslab(space, H5S_SELECT_SET, start,
                                            NULL, count, NULL)
                      : H5Sselect_none(space);
    if (st < 0)
        return -1;
    hid_t mem = H5Screate_simple(rank, mdims, NULL);
    if (mem >= 0 && n == 0 && H5Sselect_none(mem) < 0) {
        H5Sclose(mem);
        return -1;
    }
    return mem;
}

/* One collective read of this rank's rows.  Returns 0 on success. */
static int read_rows(hid_t set, hid_t space, hid_t memtype, int rank,
                     int64_t row0, int64_t n, hsize_t cols, void *buf)
{
    hid_t mem = select_rows(space, rank, row0, n, cols);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    int bad = mem < 0 || dxpl < 0 ||
              H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0 ||
              H5Dread(set, memtype, mem, space, dxpl, buf) < 0;
    if (dxpl >= 0) H5Pclose(dxpl);
    if (mem >= 0) H5Sclose(mem);
    return bad;
}

/* Index of the first non-finite value in whichever array X was read
 * into, or -1. */
static int64_t first_nonfinite(const td_shard_data *d)
{
    int64_t count = d->n_local * d->m;
    for (int64_t j = 0; j < count; j++)
        if (d->xf ? !isfinite(d->xf[j]) : !isfinite(d->x[j]))
            return j;
    return -1;
}

/* Values are checked here, where the global row is known. */
static int check_finite(const td_shard_data *d, const char *path,
                        const char *xname, td_err *err)
{
    int64_t j = first_nonfinite(d);
    if (j < 0)
        return TD_OK;
    return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' row %lld column "
                      "%d is not finite", path, xname,
                      (long long)(d->row0 + j / d->m), (int)(j % d->m));
}

/* y was read as uint64 (same width as int64): reject values beyond int64. */
static int check_uint64_labels(const td_shard_data *d, const char *path,
                               const char *yname, td_err *err)
{
    const uint64_t *u = (const uint64_t *)d->y;
    for (int64_t i = 0; i < d->n_local; i++)
        if (u[i] > (uint64_t)INT64_MAX)
            return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' row %lld "
                              "has label %llu, beyond the int64 range", path,
                              yname, (long long)(d->row0 + i),
                              (unsigned long long)u[i]);
    return TD_OK;
}

/* Open, check the contract on every rank alike, and size the shard. */
static int open_and_check(const char *path, const char *xname,
                          const char *yname, MPI_Comm comm, h5_ids *h,
                          hsize_t *xd, mem_types *mt, td_err *err)
{
    ds_want wx = {xname, 2, H5T_FLOAT}, wy = {yname, 1, H5T_INTEGER};
    hsize_t yd[1] = {0};
    int rc;
    if ((rc = open_file(path, comm, h, err)) ||
        (rc = open_dataset(path, h->file, &wx, &h->xset, &h->xspace,
                           &h->xtype, xd, err)) ||
        (rc = open_dataset(path, h->file, &wy, &h->yset, &h->yspace,
                           &h->ytype, yd, err)) ||
        (rc = check_shape(path, xname, yname, xd, yd, err)))
        return rc;
    mt->x = values_memtype(h->xtype);
    return label_memtype(path, yname, h->ytype, &mt->y, err);
}

/* Allocate and read this rank's rows.  An allocation failure is local, so
 * that rank still joins both collective reads (with an empty selection)
 * and only then reports. */
static int read_shard(const char *path, const char *xname, const char *yname,
                      h5_ids *h, mem_types mt, td_shard_data *out,
                      td_err *err)
{
    size_t nl = (size_t)(out->n_local > 0 ? out->n_local : 1);
    void *xbuf;
    if (mt.x == H5T_NATIVE_FLOAT)
        xbuf = out->xf = malloc(sizeof(float) * nl * (size_t)out->m);
    else
        xbuf = out->x = malloc(sizeof(double) * nl * (size_t)out->m);
    out->y = malloc(sizeof(int64_t) * nl);
    int nomem = !xbuf || !out->y;
    double xdummy;
    int64_t ydummy;
    int64_t n = nomem ? 0 : out->n_local;
    int bad_x = read_rows(h->xset, h->xspace, mt.x, 2, out->row0, n,
                          (hsize_t)out->m, nomem ? &xdummy : xbuf);
    int bad_y = read_rows(h->yset, h->yspace, mt.y, 1, out->row0, n, 1,
                          nomem ? &ydummy : (void *)out->y);
    if (nomem)
        return td_err_set(err, TD_ERR_INTERNAL, "%s: out of memory for %lld "
                          "rows of '%s'", path, (long long)out->n_local, xname);
    if (bad_x || bad_y)
        return td_err_set(err, TD_ERR_INPUT, "%s: reading dataset '%s' "
                          "failed", path, bad_x ? xname : yname);
    if (mt.y == H5T_NATIVE_UINT64)
        return check_uint64_labels(out, path, yname, err);
    return TD_OK;
}

int td_h5_read_shard(const char *path, const char *xname, const char *yname,
                     MPI_Comm comm, int block_rows, td_shard_data *out,
                     td_err *err)
{
    h5_ids h = {-1, -1, -1, -1, -1, -1, -1, -1};
    hsize_t xd[2] = {0, 0};
    mem_types mt = {H5T_NATIVE_DOUBLE, H5T_NATIVE_INT64};
    int rank, size, rc;
    *out = (td_shard_data){0};
    if (block_rows < 1)     /* same on every rank: no collective is skipped */
        return td_err_set(err, TD_ERR_INTERNAL, "block_rows must be >= 1, "
                          "got %d", block_rows);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* Our one-line messages replace HDF5's stack dump; the caller's
     * handler comes back before we return. */
    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    rc = open_and_check(path, xname, yname, comm, &h, xd, &mt, err);
    if (rc == TD_OK) {
        out->n_total = (int64_t)xd[0];
        out->m = (int)xd[1];
        td_partition_rows(out->n_total, block_rows, rank, size, &out->row0,
                          &out->n_local);
        rc = read_shard(path, xname, yname, &h, mt, out, err);
    }
    if (rc == TD_OK)
        rc = check_finite(out, path, xname, err);
    close_ids(&h);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    if (rc) {               /* nothing half-filled goes back to the caller */
        td_shard_data_free(out);
        *out = (td_shard_data){0};
    }
    return rc;
}

void td_shard_data_free(td_shard_data *d)
{
    free(d->x);
    free(d->xf);
    free(d->y);
    d->x = NULL;
    d->xf = NULL;
    d->y = NULL;
}
