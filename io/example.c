/* example.c - the embedded example data set and its config. */
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

/* splitmix64: a fixed generator, so the example is the same everywhere */
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

/* Class k sits at 3 e_k plus a small shared tilt; rows cycle through the
 * classes so no rank's block holds a single class. */
static void make_points(double *X, int64_t *y)
{
    uint64_t s = 20240601;
    for (int i = 0; i < EX_Q * EX_PER_CLASS; i++) {
        int k = i % EX_Q;
        y[i] = 10 * (k + 1);
        for (int j = 0; j < EX_M; j++)
            X[i * EX_M + j] = (j == k ? 3.0 : 0.0) + 0.2 * (j == EX_M - 1) * k
                              + 0.3 * gaussian(&s);
    }
}

static int write_h5(const char *path, const double *X, const int64_t *y)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return -1;
    hsize_t dx[2] = {EX_Q * EX_PER_CLASS, EX_M}, dy[1] = {EX_Q * EX_PER_CLASS};
    hid_t sx = H5Screate_simple(2, dx, NULL), sy = H5Screate_simple(1, dy, NULL);
    hid_t ds_x = H5Dcreate2(f, "X", H5T_IEEE_F64LE, sx, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT);
    hid_t ds_y = H5Dcreate2(f, "y", H5T_STD_I64LE, sy, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT);
    int bad = ds_x < 0 || ds_y < 0 ||
              H5Dwrite(ds_x, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, X) < 0 ||
              H5Dwrite(ds_y, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) < 0;
    if (ds_x >= 0) H5Dclose(ds_x);
    if (ds_y >= 0) H5Dclose(ds_y);
    H5Sclose(sx);
    H5Sclose(sy);
    return (H5Fclose(f) < 0) | bad;
}

static int write_toml(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("# trunc-dist example: four Gaussian clusters in 8 dimensions\n"
          "[data]\n"
          "path = \"example.h5\"\n"
          "[output]\n"
          "path = \"example_network.h5\"\n", f);
    return fclose(f) != 0;
}

int td_example_write(const char *dir, td_err *err)
{
    char h5[4096], toml[4096];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return td_err_set(err, TD_ERR_OUTPUT, "cannot create directory '%s': "
                          "%s", dir, strerror(errno));
    snprintf(h5, sizeof h5, "%s/example.h5", dir);
    snprintf(toml, sizeof toml, "%s/example.toml", dir);
    double *X = malloc(sizeof(double) * EX_Q * EX_PER_CLASS * EX_M);
    int64_t *y = malloc(sizeof(int64_t) * EX_Q * EX_PER_CLASS);
    if (!X || !y) {
        free(X);
        free(y);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (example)");
    }
    make_points(X, y);
    int bad = write_h5(h5, X, y);
    free(X);
    free(y);
    if (bad)
        return td_err_set(err, TD_ERR_OUTPUT, "cannot write '%s'", h5);
    if (write_toml(toml))
        return td_err_set(err, TD_ERR_OUTPUT, "cannot write '%s'", toml);
    return TD_OK;
}
