/* example.c - the embedded example data set and its config (td_example.h).
 *
 * Four Gaussian clusters (std 0.3) in R^8 around 3 e_k plus a small tilt,
 * labels 10, 20, 30, 40 - deliberately not 0..Q-1, so label handling is
 * exercised - and rows interleaved so every rank's block holds every class.
 * The clusters are ~14 standard deviations apart: clearly linearly
 * separable one-vs-rest.  Our own generator (splitmix64 + Box-Muller), not
 * rand(), so the file is the same on every machine. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "td_example.h"

#define EX_Q 4
#define EX_M 8
#define EX_PER_CLASS 500
#define EX_N (EX_Q * EX_PER_CLASS)

/* splitmix64 -> uniform in (0, 1), never 0 (log(0) in Box-Muller). */
static double uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return ((double)((z ^ (z >> 31)) >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(uint64_t *s)
{
    double u = uniform(s), v = uniform(s);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Row i belongs to class i mod Q: classes interleaved, not sorted. */
static void make_points(double *X, int64_t *y)
{
    uint64_t s = 20240601;
    for (int i = 0; i < EX_N; i++) {
        int k = i % EX_Q;
        y[i] = 10 * (k + 1);
        for (int j = 0; j < EX_M; j++) {
            double centre = (j == k ? 3.0 : 0.0) +
                            (j == EX_M - 1 ? 0.2 * k : 0.0);
            X[i * EX_M + j] = centre + 0.3 * gaussian(&s);
        }
    }
}

/* mkdir -p: create every missing component of dir. */
static int make_dirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = buf + 1; ; c++) {
        if (*c != '/' && *c != '\0')
            continue;
        char keep = *c;
        *c = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *c = keep;
        if (!keep)
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* One dataset of the example; returns 0 on success. */
static int put(hid_t f, const char *name, hid_t ft, hid_t mt, int rank,
               const hsize_t *dims, hid_t dcpl, const void *buf)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = sp < 0 ? -1 : H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, dcpl,
                                         H5P_DEFAULT);
    int bad = ds < 0 ||
              H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0;
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return bad;
}

/* Serial HDF5, object times untracked: the example is byte-reproducible. */
static int write_h5(const char *path, const double *X, const int64_t *y)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int bad = fcpl < 0 || dcpl < 0 || H5Pset_obj_track_times(fcpl, 0) < 0 ||
              H5Pset_obj_track_times(dcpl, 0) < 0;
    hid_t f = bad ? -1 : H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    hsize_t dx[2] = {EX_N, EX_M}, dy[1] = {EX_N};
    bad = bad || f < 0 ||
          put(f, "X", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dx, dcpl, X) ||
          put(f, "y", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dy, dcpl, y);
    if (f >= 0 && H5Fclose(f) < 0)
        bad = 1;
    if (fcpl >= 0) H5Pclose(fcpl);
    if (dcpl >= 0) H5Pclose(dcpl);
    return bad;
}

static int write_toml(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fputs("# trunc-dist example: four Gaussian clusters in 8 "
                    "dimensions, labels 10 20 30 40\n"
                    "[data]\n"
                    "path = \"example.h5\"\n"
                    "\n"
                    "[output]\n"
                    "path = \"example_network.h5\"\n", f) < 0;
    return (fclose(f) != 0) | bad;
}

static int write_data(const char *h5, td_err *err)
{
    double *X = malloc(sizeof(double) * EX_N * EX_M);
    int64_t *y = malloc(sizeof(int64_t) * EX_N);
    int rc = TD_OK;
    if (!X || !y) {
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (example)");
    } else {
        make_points(X, y);
        /* our message replaces HDF5's stack dump; handler restored after */
        H5E_BEGIN_TRY {
            if (write_h5(h5, X, y)) {
                remove(h5);
                rc = td_err_set(err, TD_ERR_OUTPUT, "cannot write '%s'", h5);
            }
        } H5E_END_TRY;
    }
    free(X);
    free(y);
    return rc;
}

int td_example_write(const char *dir, td_err *err)
{
    char h5[4200], toml[4200];
    if (make_dirs(dir) != 0)
        return td_err_set(err, TD_ERR_OUTPUT, "cannot create directory '%s': "
                          "%s", dir, strerror(errno));
    snprintf(h5, sizeof h5, "%s/example.h5", dir);
    snprintf(toml, sizeof toml, "%s/example.toml", dir);
    int rc = write_data(h5, err);
    if (rc)
        return rc;
    if (write_toml(toml))
        return td_err_set(err, TD_ERR_OUTPUT, "cannot write '%s'", toml);
    return TD_OK;
}
