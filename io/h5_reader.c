/* h5_reader.c - training data from HDF5: every rank reads its own block of
 * rows with one collective hyperslab read per dataset (see td_h5.h). */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include "td_h5.h"
#include "td_shard.h"

/* Open ids to close on every path out. */
typedef struct {
    hid_t fapl, file, xset, yset, xspace, yspace, xtype, ytype;
} h5_ids;

static void close_ids(h5_ids *h)
{
    if (h->ytype >= 0) H5Tclose(h->ytype);
    if (h->xtype >= 0) H5Tclose(h->xtype);
    if (h->yspace >= 0) H5Sclose(h->yspace);
    if (h->xspace >= 0) H5Sclose(h->xspace);
    if (h->yset >= 0) H5Dclose(h->yset);
    if (h->xset >= 0) H5Dclose(h->xset);
    if (h->file >= 0) H5Fclose(h->file);
    if (h->fapl >= 0) H5Pclose(h->fapl);
}

static int open_file(const char *path, MPI_Comm comm, h5_ids *h, td_err *err)
{
    h->fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (h->fapl < 0 || H5Pset_fapl_mpio(h->fapl, comm, MPI_INFO_NULL) < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "%s: cannot set up MPI-IO", path);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: %s", path, is == 0 ?
                          "not an HDF5 file" : "cannot open (missing or unreadable)");
    h->file = H5Fopen(path, H5F_ACC_RDONLY, h->fapl);
    if (h->file < 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open HDF5 file", path);
    return TD_OK;
}

/* Open dataset `name`, check its rank and type class, return its dims. */
static int open_dataset(const char *path, hid_t file, const char *name,
                        int rank, H5T_class_t cls, hid_t *set, hid_t *space,
                        hid_t *type, hsize_t *dims, td_err *err)
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0 ||
        (*set = H5Dopen2(file, name, H5P_DEFAULT)) < 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: no dataset '%s'", path, name);
    *space = H5Dget_space(*set);
    *type = H5Dget_type(*set);
    if (*space < 0 || *type < 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' is unreadable",
                          path, name);
    int r = H5Sget_simple_extent_ndims(*space);
    if (r != rank)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has rank %d, "
                          "expected %d (%s)", path, name, r, rank,
                          rank == 2 ? "N x M" : "N");
    H5Sget_simple_extent_dims(*space, dims, NULL);
    if (H5Tget_class(*type) != cls)
        return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' must hold %s",
                          path, name, cls == H5T_FLOAT ? "floating-point "
                          "values (float32 or float64)" : "integer labels");
    return TD_OK;
}

/* Select rows [row0, row0+n) of a 1-D or 2-D dataset (none if n == 0). */
static hid_t select_rows(hid_t space, int rank, int64_t row0, int64_t n,
                         hsize_t cols)
{
    hsize_t start[2] = {(hsize_t)row0, 0}, count[2] = {(hsize_t)n, cols};
    if (n == 0)
        H5Sselect_none(space);
    else
        H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
    hsize_t mdims[2] = {(hsize_t)(n > 0 ? n : 1), cols};
    hid_t mem = H5Screate_simple(rank, mdims, NULL);
    if (n == 0)
        H5Sselect_none(mem);
    return mem;
}

static int read_rows(hid_t set, hid_t space, hid_t memtype, int rank,
                     int64_t row0, int64_t n, hsize_t cols, void *buf)
{
    hid_t mem = select_rows(space, rank, row0, n, cols);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    herr_t st = H5Dread(set, memtype, mem, space, dxpl, buf);
    H5Pclose(dxpl);
    H5Sclose(mem);
    return st < 0;
}

/* Values are checked here, where the global row is known. */
static int check_finite(const td_shard_data *d, const char *path,
                        const char *xname, td_err *err)
{
    for (int64_t i = 0; i < d->n_local; i++)
        for (int k = 0; k < d->m; k++)
            if (!isfinite(d->x[i * d->m + k]))
                return td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' row "
                                  "%lld column %d is not finite", path, xname,
                                  (long long)(d->row0 + i), k);
    return TD_OK;
}

int td_h5_read_shard(const char *path, const char *xname, const char *yname,
                     MPI_Comm comm, int block_rows, td_shard_data *out,
                     td_err *err)
{
    h5_ids h = {-1, -1, -1, -1, -1, -1, -1, -1};
    hsize_t xd[2] = {0, 0}, yd[1] = {0};
    int rank, size, rc;
    *out = (td_shard_data){0};
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* our messages, not its stack */
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if ((rc = open_file(path, comm, &h, err)) ||
        (rc = open_dataset(path, h.file, xname, 2, H5T_FLOAT, &h.xset,
                           &h.xspace, &h.xtype, xd, err)) ||
        (rc = open_dataset(path, h.file, yname, 1, H5T_INTEGER, &h.yset,
                           &h.yspace, &h.ytype, yd, err)))
        goto out;
    if (xd[0] != yd[0]) {
        rc = td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has %llu rows "
                        "but '%s' has %llu", path, xname,
                        (unsigned long long)xd[0], yname,
                        (unsigned long long)yd[0]);
        goto out;
    }
    if (xd[0] == 0 || xd[1] == 0 || xd[1] > (1 << 20)) {
        rc = td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has shape (%llu, "
                        "%llu): needs N >= 1 and 1 <= M <= 2^20", path, xname,
                        (unsigned long long)xd[0], (unsigned long long)xd[1]);
        goto out;
    }
    out->n_total = (int64_t)xd[0];
    out->m = (int)xd[1];
    td_partition_rows(out->n_total, block_rows, rank, size, &out->row0,
                      &out->n_local);
    size_t nl = (size_t)(out->n_local > 0 ? out->n_local : 1);
    out->x = malloc(sizeof(double) * nl * out->m);
    out->y = malloc(sizeof(int64_t) * nl);
    /* a rank that cannot allocate must not leave the others waiting in
     * the collective read */
    int nomem = !out->x || !out->y;
    MPI_Allreduce(MPI_IN_PLACE, &nomem, 1, MPI_INT, MPI_LOR, comm);
    if (nomem) {
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory for %lld rows "
                        "of '%s'", (long long)out->n_local, xname);
        goto out;
    }
    if (read_rows(h.xset, h.xspace, H5T_NATIVE_DOUBLE, 2, out->row0,
                  out->n_local, xd[1], out->x) |
        read_rows(h.yset, h.yspace, H5T_NATIVE_INT64, 1, out->row0,
                  out->n_local, 1, out->y)) {
        rc = td_err_set(err, TD_ERR_INPUT, "%s: reading '%s'/'%s' failed "
                        "(labels must fit in int64)", path, xname, yname);
        goto out;
    }
    rc = check_finite(out, path, xname, err);
out:
    close_ids(&h);
    if (rc)
        td_shard_data_free(out);
    return rc;
}

void td_shard_data_free(td_shard_data *d)
{
    free(d->x);
    free(d->y);
    d->x = NULL;
    d->y = NULL;
}
