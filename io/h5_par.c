/* h5_par.c - collective parallel-HDF5 writes (see td_h5par.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_h5par.h"

hid_t td_h5par_create(const char *path, MPI_Comm comm)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file = -1;
    if (fapl >= 0 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) >= 0)
        file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return file;
}

int td_h5par_rows(hid_t file, const char *name, hid_t type, hsize_t n,
                  hsize_t cols, hsize_t off, hsize_t cnt, const void *v)
{
    int rank = cols ? 2 : 1;
    hsize_t dims[2] = {n, cols}, start[2] = {off, 0}, count[2] = {cnt, cols};
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(file, name, type, sp, H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT);
    hid_t mem = H5Screate_simple(rank, count, NULL);
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    int ok = d >= 0 && mem >= 0 && x >= 0 &&
             H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE) >= 0;
    if (ok && cnt > 0)
        ok = H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count,
                                 NULL) >= 0;
    else if (ok)
        ok = H5Sselect_none(sp) >= 0 && H5Sselect_none(mem) >= 0;
    ok = ok && H5Dwrite(d, type, mem, sp, x, v) >= 0;
    if (x >= 0) H5Pclose(x);
    if (mem >= 0) H5Sclose(mem);
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

int td_h5par_attr(hid_t obj, const char *name, hid_t type, const void *v,
                  hsize_t n)
{
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t a = sp < 0 ? -1 : H5Acreate2(obj, name, type, sp, H5P_DEFAULT,
                                       H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, v) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

/* A scalar fixed-length string: what h5py, Julia and MATLAB read as text. */
int td_h5par_text(hid_t obj, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
    int ok = t >= 0 && sp >= 0 && H5Tset_size(t, strlen(s) + 1) >= 0 &&
             H5Tset_strpad(t, H5T_STR_NULLTERM) >= 0 &&
             (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT,
                             H5P_DEFAULT)) >= 0 &&
             H5Awrite(a, t, s) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : -1;
}

int td_h5par_commit(const char *path, const char *final)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return rename(path, final);
}

int td_h5par_write(const char *path, MPI_Comm comm, const char *what,
                   int (*fill)(hid_t file, void *ctx), void *ctx,
                   td_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    size_t len = strlen(path) + 8;
    char *tmp = malloc(len);
    int nomem = !tmp;           /* every rank creates the file, or none */
    MPI_Allreduce(MPI_IN_PLACE, &nomem, 1, MPI_INT, MPI_LOR, comm);
    if (nomem) {
        free(tmp);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (%s)", what);
    }
    snprintf(tmp, len, "%s.tmp", path);
    hid_t f = -1;
    int saved = 0, bad = 0;
    H5E_BEGIN_TRY {
        errno = 0;
        f = td_h5par_create(tmp, comm);
        saved = errno;
        bad = f >= 0 && fill(f, ctx) != 0;
        if (f >= 0 && H5Fclose(f) < 0)
            bad = 1;
    } H5E_END_TRY;
    if (f < 0)
        td_err_set(err, TD_ERR_OUTPUT, "cannot create %s '%s': %s", what, tmp,
                   saved ? strerror(saved) : "HDF5 error");
    else if (bad)
        td_err_set(err, TD_ERR_OUTPUT, "cannot write %s '%s' (disk full or "
                   "I/O error)", what, tmp);
    else if (rank == 0 && td_h5par_commit(tmp, path) != 0)
        td_err_set(err, TD_ERR_OUTPUT, "cannot save %s '%s': %s", what, path,
                   strerror(errno));
    if (err->code && rank == 0)
        remove(tmp);
    free(tmp);
    return err->code;
}
