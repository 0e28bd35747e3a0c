/* test_io.c - the HDF5 boundary at a fixed rank count: every rank reads
 * exactly its block of rows, with HDF5 converting float32 / small integer
 * types; contract violations give the same input error on every rank,
 * naming file and dataset; the writer is atomic and byte-reproducible.
 * argv[1]: a scratch directory for this run. */
#include <CUnit/Basic.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mpi_cunit.h"
#include "td_comm.h"
#include "td_h5.h"
#include "td_shard.h"

#define N 53
#define M 3
static char dir[512];

static double xval(int r, int c) { return r * 0.25 + c - 1.5; }

/* Rank 0 writes a file: X of type xt and shape dims, y of type yt. */
static void write_file(const char *name, hid_t xt, int xrank, hsize_t n,
                       hid_t yt, int nan_row, int with_y)
{
    if (td_comm_rank() == 0) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hsize_t dx[3] = {n, M, 1}, dy[1] = {N};
        double *X = malloc(sizeof(double) * n * M);
        int64_t y[N];
        for (hsize_t r = 0; r < n; r++)
            for (int c = 0; c < M; c++)
                X[r * M + c] = (int)r == nan_row && c == 1 ? NAN : xval((int)r, c);
        for (int r = 0; r < N; r++)
            y[r] = 100 + r % 4;
        hid_t sx = H5Screate_simple(xrank, dx, NULL), sy = H5Screate_simple(1, dy, NULL);
        hid_t ds = H5Dcreate2(f, "X", xt, sx, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, X);
        H5Dclose(ds);
        if (with_y) {
            ds = H5Dcreate2(f, "y", yt, sy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y);
            H5Dclose(ds);
        }
        H5Sclose(sx); H5Sclose(sy); H5Fclose(f);
        free(X);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static int read_file(const char *name, int block, td_shard_data *d, td_err *err)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    td_err_clear(err);
    return td_h5_read_shard(path, "X", "y", td_comm_world(), block, d, err);
}

/* Value (i, c) of a shard, whichever precision holds it. */
static double xat(const td_shard_data *d, int64_t i, int c)
{
    return d->xf ? d->xf[i * d->m + c] : d->x[i * d->m + c];
}

static void check_rows(hid_t xt, hid_t yt, int block)
{
    write_file("ok.h5", xt, 2, N, yt, -1, 1);
    td_shard_data d;
    td_err err;
    CU_ASSERT_FATAL(read_file("ok.h5", block, &d, &err) == TD_OK);
    int64_t row0, n;
    td_partition_rows(N, block, td_comm_rank(), td_comm_size(), &row0, &n);
    CU_ASSERT(d.row0 == row0 && d.n_local == n && d.n_total == N && d.m == M);
    CU_ASSERT((d.xf != NULL) == (H5Tget_size(xt) == 4) && (d.x == NULL) == (d.xf != NULL));
    int bad = 0;
    for (int64_t i = 0; i < d.n_local; i++) {
        bad += d.y[i] != 100 + (d.row0 + i) % 4;
        for (int c = 0; c < M; c++)
            bad += xat(&d, i, c) != xval((int)(d.row0 + i), c);
    }
    CU_ASSERT(bad == 0);
    int64_t total = d.n_local;
    td_comm_sum_i64(&total, 1);
    CU_ASSERT(total == N);
    td_shard_data_free(&d);
}

static void test_float32_int16(void) { check_rows(H5T_IEEE_F32LE, H5T_STD_I16LE, 4); }
static void test_float64_uint8(void) { check_rows(H5T_IEEE_F64BE, H5T_STD_U8LE, 10); }
static void test_empty_ranks(void) { check_rows(H5T_IEEE_F64LE, H5T_STD_I32LE, 1000); }

/* Every rank gets TD_ERR_INPUT and a message with all the needles. */
static void expect_input_error(const char *name, const char *n1, const char *n2)
{
    td_shard_data d;
    td_err err;
    int rc = read_file(name, 8, &d, &err);
    int worst = td_comm_agree(&err);
    CU_ASSERT(rc == TD_ERR_INPUT || (rc == TD_OK && worst == TD_ERR_INPUT));
    CU_ASSERT(worst == TD_ERR_INPUT);
    CU_ASSERT(strstr(err.msg, n1) != NULL);
    CU_ASSERT(n2 == NULL || strstr(err.msg, n2) != NULL);
    if (td_comm_rank() == 0 && (!strstr(err.msg, n1) || (n2 && !strstr(err.msg, n2))))
        printf("\n    message was: %s\n", err.msg);
    td_shard_data_free(&d);
}

static void test_contract_errors(void)
{
    expect_input_error("missing.h5", "missing.h5", "cannot open");
    write_file("noy.h5", H5T_IEEE_F64LE, 2, N, H5T_STD_I32LE, -1, 0);
    expect_input_error("noy.h5", "noy.h5", "no dataset 'y'");
    write_file("rank3.h5", H5T_IEEE_F64LE, 3, N, H5T_STD_I32LE, -1, 1);
    expect_input_error("rank3.h5", "dataset 'X' has rank 3", NULL);
    write_file("yfloat.h5", H5T_IEEE_F64LE, 2, N, H5T_IEEE_F32LE, -1, 1);
    expect_input_error("yfloat.h5", "dataset 'y' must hold integer", NULL);
    write_file("xint.h5", H5T_STD_I32LE, 2, N, H5T_STD_I32LE, -1, 1);
    expect_input_error("xint.h5", "dataset 'X' must hold floating-point", NULL);
    write_file("short.h5", H5T_IEEE_F64LE, 2, N - 1, H5T_STD_I32LE, -1, 1);
    expect_input_error("short.h5", "has 52 rows but 'y' has 53", NULL);
    write_file("nan.h5", H5T_IEEE_F64LE, 2, N, H5T_STD_I32LE, 37, 1);
    expect_input_error("nan.h5", "row 37 column 1 is not finite", "nan.h5");
}

static void fake_model(td_model *mdl)
{
    int dims[3] = {2, 2, 2};
    td_model_alloc(mdl, 2, 2);
    mdl->labels[0] = 3;
    mdl->labels[1] = 5;
    td_network_alloc(&mdl->net, 2, dims);
    mdl->net.W[0][0] = mdl->net.W[0][3] = mdl->net.W[1][1] = 1.5;
    mdl->net.b[1][0] = -0.25;
    mdl->n_points = 10;
    mdl->n_correct = 10;
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb, ca, cb;
    while (same && (ca = fgetc(fa)) != EOF) {
        cb = fgetc(fb);
        same = ca == cb;
    }
    if (same)
        same = fgetc(fb) == EOF;
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static void test_writer_atomic_and_reproducible(void)
{
    if (td_comm_rank() != 0)
        return;
    td_model mdl;
    fake_model(&mdl);
    td_run_info run = {"[data]\n", "c.toml", "test", "d.h5", 1, 1, 64, 0.5, "zero_loss",
                       "test-commit", "host",
                       NULL};
    char a[600], b[600], bad[600];
    snprintf(a, sizeof a, "%s/out_a.h5", dir);
    snprintf(b, sizeof b, "%s/out_b.h5", dir);
    snprintf(bad, sizeof bad, "%s/no_such_dir/out.h5", dir);
    td_err err;
    td_err_clear(&err);
    CU_ASSERT(td_h5_write_model(a, &mdl, &run, &err) == TD_OK);
    sleep(1);                      /* a time stamp would now differ */
    CU_ASSERT(td_h5_write_model(b, &mdl, &run, &err) == TD_OK);
    CU_ASSERT(same_bytes(a, b));
    CU_ASSERT(td_h5_write_model(bad, &mdl, &run, &err) == TD_ERR_OUTPUT);
    CU_ASSERT(strstr(err.msg, "no_such_dir/out.h5") != NULL);
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", a, (long)getpid());
    CU_ASSERT(access(tmp, F_OK) != 0);
    hid_t f = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    double w[4];
    hid_t ds = H5Dopen2(f, "/network/layer_1/weight", H5P_DEFAULT);
    CU_ASSERT(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0);
    CU_ASSERT(w[0] == 1.5 && w[1] == 0 && w[3] == 1.5);
    H5Dclose(ds);
    H5Fclose(f);
    td_model_free(&mdl);
}

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp/td_test_io");
    if (td_comm_rank() == 0)
        mkdir(dir, 0755);
    MPI_Barrier(MPI_COMM_WORLD);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("io", NULL, NULL);
    CU_add_test(s, "float32 X, int16 y, 4-row blocks", test_float32_int16);
    CU_add_test(s, "big-endian float64 X, uint8 y", test_float64_uint8);
    CU_add_test(s, "ranks without rows", test_empty_ranks);
    CU_add_test(s, "contract errors on every rank", test_contract_errors);
    CU_add_test(s, "writer: atomic, reproducible bytes", test_writer_atomic_and_reproducible);
    return td_mpi_cunit_run();
}
