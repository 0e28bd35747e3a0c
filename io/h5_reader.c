/* h5_reader.c - training data from HDF5 (see td_h5.h).
 *
 * Rank 0 probes the file alone with serial HDF5 (td_h5_probe: what the
 * path is, whether it is HDF5, both datasets' kind, rank, shape and type)
 * and broadcasts what it found, so every rank reports the same error and
 * only one process reads a damaged file's metadata.  Then every rank opens
 * the file through MPI-IO and reads its own contiguous block of rows with
 * one collective hyperslab read per dataset; the ranks agree (td_comm) on
 * the collective open before the first collective read, so no rank ever
 * enters a read another rank skips.  Value errors (non-finite X, a uint64
 * label beyond int64) are found after the reads, on the rank that holds
 * the row; the caller agrees on them.  MPI is reached only through
 * td_comm and HDF5's MPI-IO driver.
 *
 * X keeps its precision: float32 stays float (half the memory of double;
 * the engine widens a row when it reads it, to the same double HDF5 would
 * give) and float64 stays double.  HDF5 1.10 turns a collective read into
 * independent I/O when it has to convert types, so native float64 and
 * float32 X (the bulk of the data) are read without conversion; other
 * types (big-endian, y narrower than int64) are converted by HDF5 and read
 * independently - still correct. */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "td_comm.h"
#include "td_h5.h"
#include "td_h5child.h"
#include "td_shard.h"

/* Open MPI 4.1's OMPIO copies a file name with a suffix into 256-byte
 * buffers when it opens a file, and aborts every rank ("buffer overflow
 * detected") for names of about 245 bytes or more.  Longer names are
 * opened through /proc/self/fd instead (see open_collective). */
#define MPIIO_NAME_MAX 200

/* Every id this reader opens; all start at -1 and are closed on every path
 * out, success or error. */
typedef struct {
    hid_t fapl, file, xset, yset, xspace, yspace, xtype, ytype;
    int fd;             /* a long name's descriptor (open_collective) */
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
    if (h->fd >= 0) close(h->fd);
    *h = (h5_ids){-1, -1, -1, -1, -1, -1, -1, -1, -1};
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

/* ---------------------------------------------------------------------
 * What HDF5 said: its error stack, read right after a failed call.
 * ------------------------------------------------------------------- */

typedef struct {
    char desc[160];                /* the innermost message */
    int truncated;                 /* H5E_TRUNCATED: the file is cut short */
    unsigned long long stored_eof; /* the size its superblock records */
} h5_why;

static herr_t why_step(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_why *w = data;
    const char *d = e->desc ? e->desc : "";
    if (n == 0)
        snprintf(w->desc, sizeof w->desc, "%s", d);
    if (e->min_num == H5E_TRUNCATED) {
        const char *s = strstr(d, "stored_eof = ");
        w->truncated = 1;
        if (s)
            w->stored_eof = strtoull(s + strlen("stored_eof = "), NULL, 10);
    }
    return 0;
}

static h5_why why_now(void)
{
    h5_why w = {"", 0, 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, why_step, &w);
    if (!w.desc[0])
        snprintf(w.desc, sizeof w.desc, "no detail");
    return w;
}

/* ---------------------------------------------------------------------
 * The probe (rank 0, serial HDF5)
 * ------------------------------------------------------------------- */

static const char *file_kind(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket"
         : "not a file";
}

/* The target of symbolic link `path` (malloc'd), or NULL. */
static char *link_target(const char *path)
{
    for (size_t len = 256; len <= ((size_t)1 << 20); len *= 2) {
        char *buf = malloc(len);
        if (!buf)
            return NULL;
        ssize_t n = readlink(path, buf, len);
        if (n >= 0 && (size_t)n < len) {
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        if (n < 0)
            return NULL;
    }
    return NULL;
}

/* What the path is, before HDF5 touches it: missing, a dangling link, a
 * directory, a FIFO (whose open would block forever), empty, unreadable.
 * *size gets the file's size. */
static int check_path(const char *path, long long *size, td_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: %s", path,
                          strerror(errno));
    if (S_ISLNK(st.st_mode) && stat(path, &st) != 0) {
        int e = errno;
        char *to = link_target(path);
        td_err_set(err, TD_ERR_INPUT, "%s: cannot open: %s symbolic link to "
                   "'%s' (%s)", path, e == ENOENT ? "dangling" : "a",
                   to ? to : "?", strerror(e));
        free(to);
        return err->code;
    }
    if (S_ISDIR(st.st_mode))
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: is a "
                          "directory, not an HDF5 file", path);
    if (!S_ISREG(st.st_mode))
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: not a regular "
                          "file (%s)", path, file_kind(st.st_mode));
    if (access(path, R_OK) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: not readable "
                          "(%s)", path, strerror(errno));
    if (st.st_size == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: not an HDF5 file (the file "
                          "is empty)", path);
    *size = (long long)st.st_size;
    return TD_OK;
}

/* Serial open, read only, without file locks (the MPI-IO open takes none
 * either, and some parallel file systems refuse them). */
static int probe_open(const char *path, long long size, hid_t *fapl,
                      hid_t *file, td_err *err)
{
    htri_t is = H5Fis_hdf5(path);
    if (is == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: not an HDF5 file (no HDF5 "
                          "signature in its %lld bytes)", path, size);
    if (is < 0) {
        h5_why w = why_now();
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open (HDF5: %s)",
                          path, w.desc);
    }
    *fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (*fapl < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "%s: cannot set up file "
                          "access", path);
    H5Pset_file_locking(*fapl, 0, 1);  /* best effort: a default lock is fine */
    *file = H5Fopen(path, H5F_ACC_RDONLY, *fapl);
    if (*file >= 0)
        return TD_OK;
    h5_why w = why_now();
    if (w.truncated && w.stored_eof > (unsigned long long)size)
        return td_err_set(err, TD_ERR_INPUT, "%s: truncated HDF5 file: %lld "
                          "bytes, but its superblock says %llu (cut short, or "
                          "still being copied?)", path, size, w.stored_eof);
    if (w.truncated)
        return td_err_set(err, TD_ERR_INPUT, "%s: truncated HDF5 file (%lld "
                          "bytes; HDF5: %s)", path, size, w.desc);
    return td_err_set(err, TD_ERR_INPUT, "%s: corrupt HDF5 file: it has an "
                      "HDF5 signature but cannot be opened (HDF5: %s)", path,
                      w.desc);
}

/* A link that leads nowhere says where it points. */
static int dangling_link(const char *path, hid_t file, const char *name,
                         td_err *err)
{
    H5L_info_t li;
    if (H5Lget_info(file, name, &li, H5P_DEFAULT) < 0 ||
        (li.type != H5L_TYPE_SOFT && li.type != H5L_TYPE_EXTERNAL) ||
        li.u.val_size == 0 || li.u.val_size > 65536)
        return TD_OK;
    char *val = calloc(li.u.val_size + 1, 1);
    if (!val || H5Lget_val(file, name, val, li.u.val_size, H5P_DEFAULT) < 0) {
        free(val);
        return TD_OK;
    }
    const char *ext_file = NULL, *ext_obj = NULL;
    unsigned flags = 0;
    if (li.type == H5L_TYPE_SOFT)
        td_err_set(err, TD_ERR_INPUT, "%s: '%s' is a soft link to '%s', "
                   "which does not exist", path, name, val);
    else if (H5Lunpack_elink_val(val, li.u.val_size, &flags, &ext_file,
                                 &ext_obj) >= 0)
        td_err_set(err, TD_ERR_INPUT, "%s: '%s' is an external link to "
                   "'%s:%s', which cannot be opened", path, name, ext_file,
                   ext_obj);
    free(val);
    return err->code;
}

/* The object `name` must be a dataset; a missing one, a dangling link,
 * a group or a named datatype is said as such. */
static int check_object(const char *path, hid_t file, const char *name,
                        td_err *err)
{
    /* H5Lexists fails (< 0) when an intermediate group is missing, and
     * for names that are no link ("/"): then the object decides. */
    htri_t link = H5Lexists(file, name, H5P_DEFAULT);
    h5_why lw = link < 0 ? why_now() : (h5_why){"", 0, 0};
    H5O_info_t oi;
    if (H5Oget_info_by_name2(file, name, &oi, H5O_INFO_BASIC,
                             H5P_DEFAULT) < 0) {
        h5_why ow = why_now();
        if (link > 0 && dangling_link(path, file, name, err))
            return err->code;
        if (link == 0 || (link < 0 && strstr(lw.desc, "not found")))
            return td_err_set(err, TD_ERR_INPUT, "%s: no dataset '%s'", path,
                              name);
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot read '%s', a "
                          "corrupt HDF5 file? (HDF5: %s)", path, name,
                          (link < 0 ? lw : ow).desc);
    }
    if (oi.type == H5O_TYPE_DATASET)
        return TD_OK;
    return td_err_set(err, TD_ERR_INPUT, "%s: '%s' is %s, not a dataset",
                      path, name, oi.type == H5O_TYPE_GROUP ? "a group"
                      : oi.type == H5O_TYPE_NAMED_DATATYPE
                      ? "a named datatype" : "an unknown object");
}

/* A filter this HDF5 cannot decode (h5py's lzf, a blosc plugin) would
 * fail only at the read; say which one now. */
static int check_filters(const char *path, hid_t set, const char *name,
                         td_err *err)
{
    hid_t dcpl = H5Dget_create_plist(set);
    int nf = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0;
    for (int i = 0; i < nf && err->code == TD_OK; i++) {
        unsigned flags = 0, cd[8];
        size_t ncd = 8;
        char fname[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd,
                                         sizeof fname, fname, NULL);
        if (id >= 0 && H5Zfilter_avail(id) <= 0)
            td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' is stored with "
                       "filter %d (%s), which this HDF5 library cannot "
                       "decode", path, name, (int)id,
                       fname[0] ? fname : "unnamed");
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return err->code;
}

/* Open dataset w->name and check its rank and type class; dims gets its
 * shape.  Used by the probe and, without the object checks, by every
 * rank's collective open. */
static int open_dataset(const char *path, hid_t file, const ds_want *w,
                        hid_t *set, hid_t *space, hid_t *type, hsize_t *dims,
                        td_err *err)
{
    if ((*set = H5Dopen2(file, w->name, H5P_DEFAULT)) < 0) {
        h5_why why = why_now();
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open dataset '%s' "
                          "(HDF5: %s)", path, w->name, why.desc);
    }
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

/* One collective read of this rank's rows.  Returns 0 on success; on a
 * failure *why gets HDF5's reason. */
static int read_rows(hid_t set, hid_t space, hid_t memtype, int rank,
                     int64_t row0, int64_t n, hsize_t cols, void *buf,
                     h5_why *why)
{
    hid_t mem = select_rows(space, rank, row0, n, cols);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    int bad = mem < 0 || dxpl < 0 ||
              H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0 ||
              H5Dread(set, memtype, mem, space, dxpl, buf) < 0;
    if (bad)
        *why = why_now();
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

/* ---------------------------------------------------------------------
 * The probe: the whole contract, checked by one process
 * ------------------------------------------------------------------- */

static int probe_sets(const char *path, hid_t file, const char *xname,
                      const char *yname, td_h5_info *info, td_err *err)
{
    ds_want wx = {xname, 2, H5T_FLOAT}, wy = {yname, 1, H5T_INTEGER};
    h5_ids h = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    hsize_t xd[2] = {0, 0}, yd[1] = {0};
    hid_t ymt = H5T_NATIVE_INT64;
    if (!check_object(path, file, xname, err) &&
        !open_dataset(path, file, &wx, &h.xset, &h.xspace, &h.xtype, xd,
                      err) &&
        !check_filters(path, h.xset, xname, err) &&
        !check_object(path, file, yname, err) &&
        !open_dataset(path, file, &wy, &h.yset, &h.yspace, &h.ytype, yd,
                      err) &&
        !check_filters(path, h.yset, yname, err) &&
        !check_shape(path, xname, yname, xd, yd, err) &&
        !label_memtype(path, yname, h.ytype, &ymt, err)) {
        info->n = (int64_t)xd[0];
        info->m = (int)xd[1];
        info->x_float = values_memtype(h.xtype) == H5T_NATIVE_FLOAT;
        info->y_uint64 = ymt == H5T_NATIVE_UINT64;
    }
    close_ids(&h);
    return err->code;
}

int td_h5_check_file(const char *path, td_err *err)
{
    long long size = 0;
    if (check_path(path, &size, err))
        return err->code;
    H5E_BEGIN_TRY {
        hid_t fapl = -1, file = -1;
        probe_open(path, size, &fapl, &file, err);
        if (file >= 0) H5Fclose(file);
        if (fapl >= 0) H5Pclose(fapl);
    } H5E_END_TRY;
    return err->code;
}

int td_h5_probe_here(const char *path, const char *xname, const char *yname,
                     td_h5_info *info, td_err *err)
{
    *info = (td_h5_info){0};
    long long size = 0;
    if (check_path(path, &size, err))
        return err->code;
    /* Our one-line messages replace HDF5's stack dump; the caller's
     * handler comes back before we return. */
    H5E_BEGIN_TRY {
        hid_t fapl = -1, file = -1;
        if (!probe_open(path, size, &fapl, &file, err))
            probe_sets(path, file, xname, yname, info, err);
        if (file >= 0) H5Fclose(file);
        if (fapl >= 0) H5Pclose(fapl);
    } H5E_END_TRY;
    return err->code;
}

/* The probe's work in the child: what it found, as bytes. */
typedef struct {
    const char *path, *xname, *yname;
} probe_job;

static int probe_work(void *ctx, td_buf *out, td_err *err)
{
    const probe_job *j = ctx;
    td_h5_info info;
    int rc = td_h5_probe_here(j->path, j->xname, j->yname, &info, err);
    td_buf_put(out, &info, sizeof info);
    return rc;
}

/* In a child process (td_h5child.h): a file whose metadata crashes HDF5
 * is reported as corrupt instead of killing rank 0 and the job. */
int td_h5_probe(const char *path, const char *xname, const char *yname,
                td_h5_info *info, td_err *err)
{
    probe_job j = {path, xname, yname};
    td_buf out = {0};
    *info = (td_h5_info){0};
    int rc = td_h5_in_child(path, "its metadata", probe_work, &j, &out, err);
    if (rc == TD_OK)
        td_buf_get(&out, info, sizeof *info);
    td_buf_free(&out);
    return rc;
}

/* ---------------------------------------------------------------------
 * The collective read
 * ------------------------------------------------------------------- */

/* Every rank opens the file through MPI-IO.  A name too long for Open
 * MPI's buffers (MPIIO_NAME_MAX) is opened by this rank first and handed
 * to MPI-IO as /proc/self/fd/N, which stays open until the file is
 * closed. */
static int open_collective(const char *path, MPI_Comm comm, int rank,
                           h5_ids *h, td_err *err)
{
    h->fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (h->fapl < 0 || H5Pset_fapl_mpio(h->fapl, comm, MPI_INFO_NULL) < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "%s: cannot set up MPI-IO "
                          "file access", path);
    const char *name = path;
    char alias[64];
    if (strlen(path) > MPIIO_NAME_MAX) {
        h->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (h->fd < 0)
            return td_err_set(err, TD_ERR_INPUT, "%s: cannot open on rank "
                              "%d: %s", path, rank, strerror(errno));
        snprintf(alias, sizeof alias, "/proc/self/fd/%d", h->fd);
        name = alias;
    }
    h->file = H5Fopen(name, H5F_ACC_RDONLY, h->fapl);
    if (h->file < 0) {
        h5_why w = why_now();
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open with MPI-IO on "
                          "rank %d (HDF5: %s)", path, rank, w.desc);
    }
    return TD_OK;
}

/* Both datasets, on every rank; their shape must still be the probe's. */
static int open_sets(const char *path, const char *xname, const char *yname,
                     h5_ids *h, const td_h5_info *info, td_err *err)
{
    ds_want wx = {xname, 2, H5T_FLOAT}, wy = {yname, 1, H5T_INTEGER};
    hsize_t xd[2] = {0, 0}, yd[1] = {0};
    if (open_dataset(path, h->file, &wx, &h->xset, &h->xspace, &h->xtype, xd,
                     err) ||
        open_dataset(path, h->file, &wy, &h->yset, &h->yspace, &h->ytype, yd,
                     err))
        return err->code;
    if (xd[0] != (hsize_t)info->n || xd[1] != (hsize_t)info->m ||
        yd[0] != xd[0])
        return td_err_set(err, TD_ERR_INPUT, "%s: the file changed while it "
                          "was opened (dataset '%s' was %lld x %d, is now "
                          "%llu x %llu)", path, xname, (long long)info->n,
                          info->m, (unsigned long long)xd[0],
                          (unsigned long long)xd[1]);
    return TD_OK;
}

/* Allocate and read this rank's rows.  An allocation failure is local, so
 * that rank still joins both collective reads (with an empty selection)
 * and only then reports. */
/* MPI-IO and HDF5 count a request's bytes in an int: a rank's rows are
 * read in pieces of at most TD_READ_PIECE bytes of X (1 GiB, SWIFT's
 * rule of staying well under 2 GiB; TD_READ_PIECE_BYTES overrides it for
 * tests).  The read is collective, so every rank makes as many calls as
 * the rank with the most pieces (extra calls select nothing). */
#define TD_READ_PIECE ((int64_t)1 << 30)

static int64_t piece_rows(int64_t m, int elem)
{
    const char *v = getenv("TD_READ_PIECE_BYTES");
    int64_t bytes = v && atoll(v) > 0 ? atoll(v) : TD_READ_PIECE;
    int64_t rows = bytes / (m * elem);
    return rows > 0 ? rows : 1;
}

static int read_pieces(h5_ids *h, mem_types mt, td_shard_data *out,
                       int64_t n, void *xbuf, void *ybuf, int elem,
                       h5_why *wx, h5_why *wy, int *which)
{
    int64_t per = piece_rows(out->m, elem);
    double pieces = n > 0 ? (double)((n + per - 1) / per) : 0;
    td_comm_max(&pieces, 1);
    int bad = 0;
    for (int64_t k = 0; k < (int64_t)(pieces > 0 ? pieces : 1); k++) {
        int64_t r0 = k * per, c = n - r0 < per ? n - r0 : per;
        if (c < 0)
            c = 0;
        char *xb = (char *)xbuf + (c ? r0 * out->m * elem : 0);
        char *yb = (char *)ybuf + (c ? r0 * (int64_t)sizeof(int64_t) : 0);
        int bx = read_rows(h->xset, h->xspace, mt.x, 2, out->row0 + r0, c,
                           (hsize_t)out->m, xb, wx);
        int by = read_rows(h->yset, h->yspace, mt.y, 1, out->row0 + r0, c, 1,
                           yb, wy);
        if (!bad && (bx || by))
            *which = bx ? 0 : 1;
        bad |= bx || by;
    }
    return bad;
}

/* The memory a shard takes while it is loaded and checked: the points in
 * their precision, the labels (8), class and layer index (8) and the
 * duplicate check's records and sort buffer (48), per row; plus the
 * runtime.  Refused, naming what would fit, when it is more than this
 * rank's share of the node's available memory (MemAvailable / ranks on
 * the node; TD_MEMORY_AVAILABLE=bytes overrides the reading for tests;
 * unknown: no check).  The same verdict on every rank (agreed). */
static double available_bytes(void)
{
    const char *v = getenv("TD_MEMORY_AVAILABLE");
    if (v)
        return atof(v);
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb > 0 ? kb * 1024 : -1;
}

static int check_fits(const char *path, const td_shard_data *out, int elem,
                      td_err *err)
{
    double need = (double)out->n_local * (out->m * elem + 64) + 29.0 * (1 << 20);
    double avail = available_bytes(), local = td_comm_node_ranks();
    double share = avail / local;
    double worst[2] = {avail > 0 && need > share ? need : 0, need};
    td_comm_max(worst, 2);
    if (worst[0] > 0 && td_comm_rank() == 0) {
        double per_row = out->m * elem + 64.0, base = 29.0 * (1 << 20);
        double n_ok = (share - base) / per_row;
        td_err_set(err, TD_ERR_INPUT, "%s: the largest shard, %.0f rows x %d "
                   "features, needs about %.3g GiB per rank to load, but each "
                   "of the %d ranks on this node has %.3g GiB available (room "
                   "for about %.0f rows): use more ranks or nodes", path,
                   (worst[1] - base) / per_row, out->m,
                   worst[1] / (1 << 30), (int)local, share / (1 << 30),
                   n_ok > 0 ? n_ok : 0);
    }
    return td_comm_agree(err);
}

static int read_shard(const char *path, const char *xname, const char *yname,
                      h5_ids *h, mem_types mt, td_shard_data *out,
                      td_err *err)
{
    int elem = mt.x == H5T_NATIVE_FLOAT ? (int)sizeof(float)
                                         : (int)sizeof(double);
    if (check_fits(path, out, elem, err))
        return err->code;
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
    h5_why wx = {"", 0, 0}, wy = {"", 0, 0};
    int which = 0;
    int bad = read_pieces(h, mt, out, n, nomem ? (void *)&xdummy : xbuf,
                          nomem ? (void *)&ydummy : (void *)out->y, elem,
                          &wx, &wy, &which);
    if (nomem)
        return td_err_set(err, TD_ERR_INTERNAL, "%s: out of memory for %lld "
                          "rows of '%s'", path, (long long)out->n_local, xname);
    if (bad)
        return td_err_set(err, TD_ERR_INPUT, "%s: reading dataset '%s' "
                          "failed (HDF5: %s)", path, which ? yname : xname,
                          which ? wy.desc : wx.desc);
    if (mt.y == H5T_NATIVE_UINT64)
        return check_uint64_labels(out, path, yname, err);
    return TD_OK;
}

/* What rank 0's probe found, broadcast. */
typedef struct {
    int code;
    char msg[TD_ERR_MSG_LEN];
    td_h5_info info;
} probe_msg;

int td_h5_read_shard(const char *path, const char *xname, const char *yname,
                     MPI_Comm comm, int block_rows, td_shard_data *out,
                     td_err *err)
{
    h5_ids h = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    int rank, size, rc;
    *out = (td_shard_data){0};
    if (block_rows < 1)     /* same on every rank: no collective is skipped */
        return td_err_set(err, TD_ERR_INTERNAL, "block_rows must be >= 1, "
                          "got %d", block_rows);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    probe_msg pm;
    memset(&pm, 0, sizeof pm);
    if (rank == 0) {
        td_err e;
        td_err_clear(&e);
        pm.code = td_h5_probe(path, xname, yname, &pm.info, &e);
        memcpy(pm.msg, e.msg, sizeof pm.msg);
    }
    td_comm_bcast(&pm, sizeof pm);
    if (pm.code)            /* every rank: rank 0's finding, word for word */
        return td_err_set(err, pm.code, "%s", pm.msg);
    H5E_BEGIN_TRY {
        if (!open_collective(path, comm, rank, &h, err))
            open_sets(path, xname, yname, &h, &pm.info, err);
        rc = td_comm_agree(err);     /* before the first collective read */
        if (rc == TD_OK) {
            mem_types mt = {pm.info.x_float ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE,
                            pm.info.y_uint64 ? H5T_NATIVE_UINT64
                                             : H5T_NATIVE_INT64};
            out->n_total = pm.info.n;
            out->m = pm.info.m;
            td_partition_rows(out->n_total, block_rows, rank, size, &out->row0,
                              &out->n_local);
            rc = read_shard(path, xname, yname, &h, mt, out, err);
        }
        if (rc == TD_OK)
            rc = check_finite(out, path, xname, err);
        close_ids(&h);
    } H5E_END_TRY;
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

/* ---------------------------------------------------------------------
 * A small dataset read whole by one process (data.targets_dataset)
 * ------------------------------------------------------------------- */

/* Open `name`, a rank-2 dataset of numbers; dims gets its shape and, when
 * it is want[0] x want[1], *v its values as double (HDF5 converts any
 * integer or float type). */
static int matrix_sets(const char *path, hid_t file, const char *name,
                       const int64_t *want, double **v, int64_t *dims,
                       td_err *err)
{
    hid_t set = -1, space = -1, type = -1;
    hsize_t d[2] = {0, 0};
    if (!check_object(path, file, name, err) &&
        (set = H5Dopen2(file, name, H5P_DEFAULT)) >= 0 &&
        (space = H5Dget_space(set)) >= 0 && (type = H5Dget_type(set)) >= 0 &&
        !check_filters(path, set, name, err)) {
        int r = H5Sget_simple_extent_ndims(space);
        H5T_class_t c = H5Tget_class(type);
        if (r != 2)
            td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has rank %d, "
                       "expected 2 (Q x Q target vectors)", path, name, r);
        else if (c != H5T_FLOAT && c != H5T_INTEGER)
            td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' must hold "
                       "numbers (float or integer), found %s data", path,
                       name, class_name(c));
        else
            H5Sget_simple_extent_dims(space, d, NULL);
    } else if (!err->code) {
        td_err_set(err, TD_ERR_INPUT, "%s: cannot open dataset '%s' (HDF5: "
                   "%s)", path, name, why_now().desc);
    }
    dims[0] = (int64_t)d[0];
    dims[1] = (int64_t)d[1];
    if (!err->code && dims[0] == want[0] && dims[1] == want[1] &&
        dims[0] > 0 && dims[1] > 0) {
        *v = malloc(sizeof(double) * (size_t)(dims[0] * dims[1]));
        if (!*v)
            td_err_set(err, TD_ERR_INTERNAL, "out of memory (%s)", name);
        else if (H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                         H5P_DEFAULT, *v) < 0)
            td_err_set(err, TD_ERR_INPUT, "%s: cannot read dataset '%s' "
                       "(HDF5: %s)", path, name, why_now().desc);
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (set >= 0) H5Dclose(set);
    return err->code;
}

static int read_matrix_here(const char *path, const char *name,
                            const int64_t *want, double **v, int64_t *dims,
                            td_err *err)
{
    long long size = 0;
    *v = NULL;
    dims[0] = dims[1] = 0;
    if (check_path(path, &size, err))
        return err->code;
    H5E_BEGIN_TRY {
        hid_t fapl = -1, file = -1;
        if (!probe_open(path, size, &fapl, &file, err))
            matrix_sets(path, file, name, want, v, dims, err);
        if (file >= 0) H5Fclose(file);
        if (fapl >= 0) H5Pclose(fapl);
    } H5E_END_TRY;
    if (err->code) {
        free(*v);
        *v = NULL;
    }
    return err->code;
}

/* The matrix read's work in the child: the shape, then the values. */
typedef struct {
    const char *path, *name;
    const int64_t *want;
} matrix_job;

static int matrix_work(void *ctx, td_buf *out, td_err *err)
{
    const matrix_job *j = ctx;
    double *v = NULL;
    int64_t dims[2] = {0, 0};
    int rc = read_matrix_here(j->path, j->name, j->want, &v, dims, err);
    td_buf_put(out, dims, sizeof dims);
    if (v)
        td_buf_put(out, v, sizeof(double) * (size_t)(dims[0] * dims[1]));
    free(v);
    return rc;
}

/* Like the probe, in a child process: a file that crashes HDF5 is
 * reported as corrupt instead of killing rank 0. */
int td_h5_read_matrix(const char *path, const char *name, int64_t rows,
                      int64_t cols, double **v, int64_t *dims, td_err *err)
{
    const int64_t want[2] = {rows, cols};
    matrix_job j = {path, name, want};
    td_buf out = {0};
    *v = NULL;
    dims[0] = dims[1] = 0;
    int rc = td_h5_in_child(path, "it", matrix_work, &j, &out, err);
    if (out.len >= sizeof(int64_t) * 2)
        td_buf_get(&out, dims, sizeof(int64_t) * 2);
    size_t n = (size_t)(dims[0] * dims[1]);
    if (rc == TD_OK && out.len - out.pos == sizeof(double) * n && n > 0) {
        *v = malloc(sizeof(double) * n);
        if (*v)
            td_buf_get(&out, *v, sizeof(double) * n);
        else
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (%s)", name);
    }
    td_buf_free(&out);
    return rc;
}
