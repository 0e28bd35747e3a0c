/* test_h5.c - the HDF5 boundary under MPI (run at 1, 2, 3 and 4 ranks).
 *
 *  - the reader: every rank gets exactly the rows td_partition_rows gives
 *    it, with float32 / big-endian float64 X and int16 / uint8 / int32 /
 *    uint64 y converted exactly; float32 X (either byte order) is held as
 *    float, float64 as double; ranks without rows still take part;
 *  - every contract violation gives TD_ERR_INPUT on every rank, with a
 *    message naming the file and the dataset, and leaves no HDF5 id open;
 *  - non-finite X and oversized uint64 labels are reported by the rank
 *    holding the row, naming the global row (its first bad one);
 *  - the writer (rank 0): byte-identical files for the same model even with
 *    a dirty heap and a later clock, the documented layout, no temporary
 *    file left behind, TD_ERR_OUTPUT for an unwritable path;
 *  - the embedded example: readable, 4 x 500 interleaved points, and
 *    byte-reproducible.
 *
 * argv[1]: a scratch directory unique to this run (created here).
 * Exit status is non-zero when any rank saw a failure. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "td_example.h"
#include "td_h5.h"
#include "td_model.h"
#include "td_shard.h"

#define N 53
#define M 3

static char dir[900];
static int rank, nranks;

/* ---------------------------------------------------------------------
 * Input files, written by rank 0 with serial HDF5.
 * ------------------------------------------------------------------- */

/* Exactly representable in float32, so every conversion is exact. */
static double xval(int64_t r, int c) { return (double)r * 0.25 + c - 1.5; }
static int64_t yval(int64_t r) { return 100 + r % 4; }

typedef struct {
    hid_t xt, yt;            /* file types; -1: leave the dataset out */
    int xrank, yrank;
    hsize_t xdims[3], ydims[2];
    int64_t bad_rows[3];     /* rows of X whose column bad_col is bad_value */
    int bad_col;
    double bad_value;
    int x_is_group;          /* make "X" a group instead of a dataset */
} spec;

static spec good(hid_t xt, hid_t yt)
{
    return (spec){xt, yt, 2, 1, {N, M, 1}, {N, 1}, {-1, -1, -1}, 0, 0, 0};
}

static void path_of(const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static hsize_t count_of(int r, const hsize_t *d)
{
    hsize_t n = 1;
    for (int i = 0; i < r; i++)
        n *= d[i];
    return n;
}

static int is_bad_row(const spec *s, int64_t r)
{
    return r == s->bad_rows[0] || r == s->bad_rows[1] || r == s->bad_rows[2];
}

static void put(hid_t f, const char *name, hid_t ft, hid_t mt, int r,
                const hsize_t *dims, const void *buf)
{
    hid_t sp = H5Screate_simple(r, dims, NULL);
    hid_t ds = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    if (count_of(r, dims) > 0)
        H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(ds);
    H5Sclose(sp);
}

static void write_x(hid_t f, const spec *s)
{
    hsize_t n = count_of(s->xrank, s->xdims);
    hsize_t cols = s->xrank >= 2 ? s->xdims[1] : 1;
    double *X = malloc(sizeof(double) * (n ? n : 1));
    for (hsize_t i = 0; i < n; i++) {
        int64_t r = (int64_t)(i / cols);
        int c = (int)(i % cols);
        X[i] = is_bad_row(s, r) && c == s->bad_col ? s->bad_value : xval(r, c);
    }
    put(f, "X", s->xt, H5T_NATIVE_DOUBLE, s->xrank, s->xdims, X);
    free(X);
}

static void write_y(hid_t f, const spec *s, const uint64_t *labels)
{
    hsize_t n = count_of(s->yrank, s->ydims);
    uint64_t *y = malloc(sizeof(uint64_t) * (n ? n : 1));
    for (hsize_t i = 0; i < n; i++)
        y[i] = labels ? labels[i] : (uint64_t)yval((int64_t)i);
    put(f, "y", s->yt, H5T_NATIVE_UINT64, s->yrank, s->ydims, y);
    free(y);
}

/* Rank 0 writes `name` per the spec (labels: explicit y values or NULL);
 * everyone waits for it. */
static void make_file(const char *name, const spec *s, const uint64_t *labels)
{
    if (rank == 0) {
        char p[1000];
        path_of(name, p, sizeof p);
        hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (s->x_is_group)
            H5Gclose(H5Gcreate2(f, "X", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        else if (s->xt >= 0)
            write_x(f, s);
        if (s->yt >= 0)
            write_y(f, s, labels);
        H5Fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* ---------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------- */

static int read_file(const char *name, int block, td_shard_data *d,
                     td_err *err)
{
    char p[1000];
    path_of(name, p, sizeof p);
    td_err_clear(err);
    return td_h5_read_shard(p, "X", "y", MPI_COMM_WORLD, block, d, err);
}

/* Open HDF5 objects left anywhere in this process (files, datasets...). */
static ssize_t open_objects(void)
{
    return H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
}

/* Value (i, c) of a shard, whichever precision holds it. */
static double xat(const td_shard_data *d, int64_t i, int c)
{
    return d->xf ? d->xf[i * d->m + c] : d->x[i * d->m + c];
}

static int64_t sum_all(int64_t v)
{
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    return v;
}

static void check_rows(const char *name, const spec *s, int block)
{
    make_file(name, s, NULL);
    td_shard_data d;
    td_err err;
    int rc = read_file(name, block, &d, &err);
    CU_ASSERT(rc == TD_OK);
    if (rc != TD_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, err.msg);
        return;
    }
    int64_t row0, n;
    td_partition_rows(N, block, rank, nranks, &row0, &n);
    CU_ASSERT(d.row0 == row0 && d.n_local == n);
    CU_ASSERT(d.n_total == N && d.m == M);
    /* float32 stays float32 in memory (half the bytes), float64 double */
    int f32 = H5Tget_size(s->xt) == 4;
    CU_ASSERT(f32 ? d.xf != NULL && d.x == NULL : d.x != NULL && d.xf == NULL);
    int bad = 0;
    for (int64_t i = 0; i < d.n_local; i++) {
        bad += d.y[i] != yval(d.row0 + i);
        for (int c = 0; c < M; c++)
            bad += xat(&d, i, c) != xval(d.row0 + i, c);
    }
    CU_ASSERT(bad == 0);
    CU_ASSERT(sum_all(d.n_local) == N);
    CU_ASSERT(open_objects() == 0);
    td_shard_data_free(&d);
}

static void test_float32_int16(void)
{
    spec s = good(H5T_IEEE_F32LE, H5T_STD_I16LE);
    check_rows("f32_i16.h5", &s, 4);
}

static void test_float64_uint8(void)
{
    spec s = good(H5T_IEEE_F64LE, H5T_STD_U8LE);
    check_rows("f64_u8.h5", &s, 10);
}

static void test_bigendian_int32_block1(void)
{
    spec s = good(H5T_IEEE_F64BE, H5T_STD_I32BE);
    check_rows("f64be_i32be.h5", &s, 1);
}

static void test_uint64_labels(void)
{
    spec s = good(H5T_IEEE_F32BE, H5T_STD_U64LE);
    check_rows("f32be_u64.h5", &s, 7);
}

/* block_rows > N: the last rank holds everything, the others join with nothing. */
static void test_empty_ranks(void)
{
    spec s = good(H5T_IEEE_F64LE, H5T_STD_I64LE);
    check_rows("empty_ranks.h5", &s, 1000);
}

/* ---------------------------------------------------------------------
 * Contract errors: the same TD_ERR_INPUT on every rank.
 * ------------------------------------------------------------------- */

static void report_msg(const char *what, const td_err *err)
{
    fprintf(stderr, "rank %d: %s: message was: %s\n", rank, what, err->msg);
}

/* Every rank fails with TD_ERR_INPUT; the message names the file, the
 * dataset (if any) and contains `needle`. */
static void expect_input_error(const char *name, const char *dataset,
                               const char *needle)
{
    td_shard_data d;
    td_err err;
    int rc = read_file(name, 8, &d, &err);
    int lo = rc, hi = rc;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CU_ASSERT(lo == TD_ERR_INPUT && hi == TD_ERR_INPUT);
    char quoted[64] = "";
    if (dataset)
        snprintf(quoted, sizeof quoted, "'%s'", dataset);
    int ok = strstr(err.msg, name) && strstr(err.msg, quoted) &&
             strstr(err.msg, needle);
    CU_ASSERT(ok);
    if (!ok || rc != TD_ERR_INPUT)
        report_msg(name, &err);
    CU_ASSERT(d.x == NULL && d.xf == NULL && d.y == NULL && d.n_local == 0);
    CU_ASSERT(open_objects() == 0);
    td_shard_data_free(&d);
}

static void test_missing_and_not_hdf5(void)
{
    expect_input_error("missing.h5", NULL, "cannot open");
    if (rank == 0) {
        char p[1000];
        path_of("text.h5", p, sizeof p);
        FILE *f = fopen(p, "w");
        fputs("X,y\n1.0,2\n", f);
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    expect_input_error("text.h5", NULL, "not an HDF5 file");
}

static void test_missing_datasets(void)
{
    spec s = good(H5T_IEEE_F64LE, -1);
    make_file("no_y.h5", &s, NULL);
    expect_input_error("no_y.h5", "y", "no dataset");
    s = good(-1, H5T_STD_I32LE);
    make_file("no_x.h5", &s, NULL);
    expect_input_error("no_x.h5", "X", "no dataset");
    s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    s.x_is_group = 1;
    make_file("x_group.h5", &s, NULL);
    expect_input_error("x_group.h5", "X", "is a group, not a dataset");
}

static void test_wrong_ranks(void)
{
    spec s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    s.xrank = 3;
    make_file("x_rank3.h5", &s, NULL);
    expect_input_error("x_rank3.h5", "X", "has rank 3, expected 2");
    s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    s.xrank = 1;
    make_file("x_rank1.h5", &s, NULL);
    expect_input_error("x_rank1.h5", "X", "has rank 1, expected 2");
    s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    s.yrank = 2;
    make_file("y_rank2.h5", &s, NULL);
    expect_input_error("y_rank2.h5", "y", "has rank 2, expected 1");
}

static void test_wrong_types(void)
{
    spec s = good(H5T_STD_I32LE, H5T_STD_I32LE);
    make_file("x_int.h5", &s, NULL);
    expect_input_error("x_int.h5", "X", "must hold floating-point");
    s = good(H5T_IEEE_F64LE, H5T_IEEE_F32LE);
    make_file("y_float.h5", &s, NULL);
    expect_input_error("y_float.h5", "y", "must hold integer");
}

static void test_wrong_sizes(void)
{
    spec s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    s.xdims[0] = N - 1;
    make_file("short_x.h5", &s, NULL);
    expect_input_error("short_x.h5", "X", "has 52 rows but 'y' has 53");
    s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    s.xdims[0] = s.ydims[0] = 0;
    make_file("n0.h5", &s, NULL);
    expect_input_error("n0.h5", "X", "no rows (N = 0)");
    s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    s.xdims[1] = 0;
    make_file("m0.h5", &s, NULL);
    expect_input_error("m0.h5", "X", "no columns (M = 0)");
}

/* ---------------------------------------------------------------------
 * Value errors: found by the rank that holds the row.
 * ------------------------------------------------------------------- */

/* The first of `rows` (ascending, -1 unused) in this rank's block, or -1. */
static int64_t first_local(const int64_t *rows, int nrows, int block)
{
    int64_t row0, n;
    td_partition_rows(N, block, rank, nranks, &row0, &n);
    for (int i = 0; i < nrows; i++)
        if (rows[i] >= row0 && rows[i] < row0 + n)
            return rows[i];
    return -1;
}

/* Each rank reports its own first bad row, or succeeds if it has none. */
static void expect_row_error(const char *name, const char *dataset,
                             const int64_t *rows, int block,
                             const char *tail)
{
    td_shard_data d;
    td_err err;
    int rc = read_file(name, block, &d, &err);
    int64_t want = first_local(rows, 3, block);
    CU_ASSERT(rc == (want >= 0 ? TD_ERR_INPUT : TD_OK));
    CU_ASSERT(sum_all(rc != TD_OK) >= 1);
    if (want >= 0) {
        char needle[200];
        snprintf(needle, sizeof needle, "'%s' row %lld %s", dataset,
                 (long long)want, tail);
        int ok = strstr(err.msg, name) && strstr(err.msg, needle);
        CU_ASSERT(ok);
        if (!ok)
            report_msg(needle, &err);
        CU_ASSERT(d.x == NULL && d.xf == NULL && d.y == NULL);
    }
    CU_ASSERT(open_objects() == 0);
    td_shard_data_free(&d);
}

static void test_nan_rows(void)
{
    /* rows 37 and 39 share an 8-row block: its rank must name 37 */
    spec s = good(H5T_IEEE_F64LE, H5T_STD_I32LE);
    int64_t rows[3] = {5, 37, 39};
    memcpy(s.bad_rows, rows, sizeof rows);
    s.bad_col = 1;
    s.bad_value = NAN;
    make_file("nan.h5", &s, NULL);
    expect_row_error("nan.h5", "X", rows, 8, "column 1 is not finite");
}

static void test_inf_float32(void)
{
    spec s = good(H5T_IEEE_F32LE, H5T_STD_I32LE);
    int64_t rows[3] = {N - 1, -1, -1};
    s.bad_rows[0] = N - 1;
    s.bad_col = 2;
    s.bad_value = -INFINITY;
    make_file("inf.h5", &s, NULL);
    expect_row_error("inf.h5", "X", rows, 5, "column 2 is not finite");
}

static void test_uint64_beyond_int64(void)
{
    spec s = good(H5T_IEEE_F64LE, H5T_STD_U64LE);
    uint64_t y[N];
    for (int r = 0; r < N; r++)
        y[r] = (uint64_t)yval(r);
    y[20] = (uint64_t)INT64_MAX + 1;
    int64_t rows[3] = {20, -1, -1};
    make_file("u64_big.h5", &s, y);
    expect_row_error("u64_big.h5", "y", rows, 6, "has label");
}

/* ---------------------------------------------------------------------
 * The writer (rank 0 only: serial HDF5).
 * ------------------------------------------------------------------- */

/* A tiny complete model: M = 3, Q = 2, network 3 -> 3 -> 3 -> 2. */
static void fake_model(td_model *mdl, int nlayers, int with_net)
{
    td_model_alloc(mdl, M, 2);
    mdl->labels[0] = 7;
    mdl->labels[1] = 9;
    mdl->counts[0] = 6;
    mdl->counts[1] = 4;
    mdl->nlayers = nlayers;
    for (int l = 0; l < nlayers; l++) {
        td_layer_rec *r = &mdl->layers[l];
        r->class_index = l;
        r->label = mdl->labels[l];
        r->h = calloc(M, sizeof(double));
        r->p = calloc(M, sizeof(double));
        r->h[l] = 1.0;
        r->p[2] = 0.5 * (l + 1);
        r->theta = 1.25 + l;
        r->n_kept = 4 - l;
        r->sep_status = l ? TD_SEP_CERTIFIED : TD_SEP_OPTIMAL;
    }
    for (int i = 0; i < 2 * M; i++)
        mdl->w_out[i] = 0.125 * i;
    int dims[4] = {M, M, M, 2};
    if (with_net) {
        td_network_alloc(&mdl->net, 3, dims);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < dims[k + 1] * dims[k]; i++)
                mdl->net.W[k][i] = k * 100 + i + 0.5;
        mdl->net.b[2][1] = -0.25;
    }
    mdl->n_points = 10;
    mdl->n_correct = 9;
    mdl->sequentially_separable = 1;
}

static td_run_info fake_run(const char *config_text)
{
    return (td_run_info){config_text, "case.toml", "0.1.0-test", "train.h5",
                         nranks, 2, 64, 0.5, "zero_loss", "test-commit",
                         "host", NULL};
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* Files in dir whose name contains ".tmp." (left-over temporaries). */
static int temp_files(const char *d)
{
    DIR *dp = opendir(d);
    int n = 0;
    for (struct dirent *e; dp && (e = readdir(dp));)
        n += strstr(e->d_name, ".tmp.") != NULL;
    if (dp)
        closedir(dp);
    return n;
}

/* Reuse freed heap blocks with junk, so uninitialised bytes in a file
 * would differ from a first write made on a fresh heap. */
static void dirty_heap(void)
{
    for (int size = 16; size <= (1 << 20); size *= 2) {
        void *p[8];
        for (int i = 0; i < 8; i++)
            memset(p[i] = malloc(size), 0xA5 ^ i, size);
        for (int i = 0; i < 8; i++)
            free(p[i]);
    }
}

static int read_attr(hid_t f, const char *obj, const char *name, hid_t mt,
                     void *v)
{
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Aread(a, mt, v) >= 0;
    if (a >= 0)
        H5Aclose(a);
    return ok;
}

/* Fixed-length string attribute `name` of `obj` equals `want`. */
static int attr_is(hid_t f, const char *obj, const char *name,
                   const char *want)
{
    char buf[256] = "";
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    int ok = t >= 0 && H5Tget_class(t) == H5T_STRING &&
             !H5Tis_variable_str(t) && H5Tget_size(t) <= sizeof buf &&
             H5Aread(a, t, buf) >= 0 && !strcmp(buf, want);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return ok;
}

/* Read dataset `name` as mt into buf; dims (up to 2) into d. */
static int read_ds(hid_t f, const char *name, hid_t mt, void *buf,
                   hsize_t *d)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int ok = sp >= 0 && H5Sget_simple_extent_dims(sp, d, NULL) >= 0 &&
             H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return ok;
}

static void check_network_group(hid_t f, const td_model *mdl)
{
    int L = 0, in = 0, out = 0;
    CU_ASSERT(read_attr(f, "/network", "num_layers", H5T_NATIVE_INT, &L) && L == 3);
    CU_ASSERT(read_attr(f, "/network", "input_dim", H5T_NATIVE_INT, &in) && in == M);
    CU_ASSERT(read_attr(f, "/network", "output_dim", H5T_NATIVE_INT, &out) && out == 2);
    CU_ASSERT(attr_is(f, "/network", "activation", "relu"));
    CU_ASSERT(attr_is(f, "/network", "activation_rule",
                      "relu after every layer except the last"));
    double w[2 * M], b[2], t[4];
    hsize_t d[2] = {0, 0};
    CU_ASSERT(read_ds(f, "/network/layer_3/weight", H5T_NATIVE_DOUBLE, w, d));
    CU_ASSERT(d[0] == 2 && d[1] == M && !memcmp(w, mdl->net.W[2], sizeof w));
    CU_ASSERT(read_ds(f, "/network/layer_3/bias", H5T_NATIVE_DOUBLE, b, d));
    CU_ASSERT(d[0] == 2 && b[0] == 0 && b[1] == -0.25);
    int64_t lv[2];
    CU_ASSERT(read_ds(f, "/network/label_values", H5T_NATIVE_INT64, lv, d));
    CU_ASSERT(lv[0] == 7 && lv[1] == 9);
    CU_ASSERT(read_ds(f, "/network/targets", H5T_NATIVE_DOUBLE, t, d));
    CU_ASSERT(d[0] == 2 && d[1] == 2 && t[0] == 1 && t[1] == 0 && t[3] == 1);
}

static void check_other_groups(hid_t f, int nlayers)
{
    double h[2 * M], theta[2], acc = 0, tn = 0;
    int32_t st[2];
    hsize_t d[2] = {0, 0};
    CU_ASSERT(read_ds(f, "/construction/h", H5T_NATIVE_DOUBLE, h, d));
    CU_ASSERT(d[0] == (hsize_t)nlayers && d[1] == M && h[0] == 1.0);
    CU_ASSERT(read_ds(f, "/construction/theta", H5T_NATIVE_DOUBLE, theta, d));
    CU_ASSERT(d[0] == (hsize_t)nlayers && theta[0] == 1.25);
    CU_ASSERT(read_ds(f, "/construction/sep_status", H5T_NATIVE_INT32, st, d));
    CU_ASSERT(st[0] == TD_SEP_OPTIMAL);
    CU_ASSERT(attr_is(f, "/construction/sep_status", "codes", "0 optimal, "
                      "1 certified, 2 inseparable, 3 capped, 4 soft, 5 given "
                      "(clustered: the cone axis f_j, checked on every point)"));
    CU_ASSERT(read_attr(f, "/construction", "theta_n", H5T_NATIVE_DOUBLE, &tn));
    CU_ASSERT(fabs(tn - 2 * acos(sqrt((M - 1.0) / M))) < 1e-15);
    CU_ASSERT(read_attr(f, "/verification", "accuracy", H5T_NATIVE_DOUBLE, &acc));
    CU_ASSERT(acc == 0.9);
    CU_ASSERT(attr_is(f, "/run", "status", "zero_loss"));
    CU_ASSERT(attr_is(f, "/run", "data_path", "train.h5"));
}

static void write_ok(const char *path, const td_model *mdl,
                     const td_run_info *run)
{
    td_err err;
    td_err_clear(&err);
    int rc = td_h5_write_model(path, mdl, run, &err);
    CU_ASSERT(rc == TD_OK);
    if (rc)
        report_msg(path, &err);
}

static void test_writer_reproducible(void)
{
    if (rank != 0)
        return;
    td_model mdl;
    fake_model(&mdl, 2, 1);
    td_run_info run = fake_run("[data]\npath = \"train.h5\"\n");
    char a[1000], b[1000];
    path_of("model_a.h5", a, sizeof a);
    path_of("model_b.h5", b, sizeof b);
    write_ok(a, &mdl, &run);
    dirty_heap();
    sleep(1);                /* a recorded time stamp would now differ */
    write_ok(b, &mdl, &run);
    CU_ASSERT(same_bytes(a, b));
    CU_ASSERT(temp_files(dir) == 0);
    hid_t f = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT(f >= 0);
    if (f >= 0) {
        check_network_group(f, &mdl);
        check_other_groups(f, 2);
        H5Fclose(f);
    }
    CU_ASSERT(open_objects() == 0);
    td_model_free(&mdl);
}

/* With phase times, /run holds them (the write time measured by the
 * writer) and the start in UTC, the other groups as always; without
 * them (the reproducible-bytes test above) there are none. */
static void test_writer_times(void)
{
    if (rank != 0)
        return;
    td_model mdl;
    fake_model(&mdl, 2, 1);
    td_run_info run = fake_run("[data]\npath = \"train.h5\"\n");
    td_run_times t = {1.5, 2.25, 0.5, -1, 86400 + 3661};
    char a[1000], b[1000];
    path_of("times_a.h5", a, sizeof a);
    path_of("times_b.h5", b, sizeof b);
    write_ok(a, &mdl, &run);
    run.times = &t;
    write_ok(b, &mdl, &run);
    CU_ASSERT(t.write >= 0 && t.write < 60);
    hid_t f = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT(f >= 0);
    if (f >= 0) {
        double load = 0, build = 0, verify = 0, write = -1, total = 0;
        CU_ASSERT(read_attr(f, "/run", "time_load", H5T_NATIVE_DOUBLE, &load));
        CU_ASSERT(read_attr(f, "/run", "time_build", H5T_NATIVE_DOUBLE, &build));
        CU_ASSERT(read_attr(f, "/run", "time_verify", H5T_NATIVE_DOUBLE, &verify));
        CU_ASSERT(read_attr(f, "/run", "time_write", H5T_NATIVE_DOUBLE, &write));
        CU_ASSERT(read_attr(f, "/run", "time_total", H5T_NATIVE_DOUBLE, &total));
        CU_ASSERT(load == 1.5 && build == 2.25 && verify == 0.5);
        CU_ASSERT(write == t.write && total == 4.25 + t.write);
        CU_ASSERT(attr_is(f, "/run", "started_utc", "1970-01-02T01:01:01Z"));
        check_network_group(f, &mdl);
        check_other_groups(f, 2);
        H5Fclose(f);
    }
    f = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT(f >= 0 && H5Aexists_by_name(f, "/run", "time_write",
                                          H5P_DEFAULT) == 0);
    if (f >= 0)
        H5Fclose(f);
    CU_ASSERT(open_objects() == 0);
    td_model_free(&mdl);
}

/* nlayers < Q and no network yet: construction rows = nlayers, and no
 * /network group. */
static void test_writer_partial(void)
{
    if (rank != 0)
        return;
    td_model mdl;
    fake_model(&mdl, 1, 0);
    td_run_info run = fake_run("");
    char a[1000];
    path_of("partial.h5", a, sizeof a);
    write_ok(a, &mdl, &run);
    hid_t f = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT(f >= 0);
    if (f >= 0) {
        CU_ASSERT(H5Lexists(f, "network", H5P_DEFAULT) == 0);
        check_other_groups(f, 1);
        H5Fclose(f);
    }
    td_model_free(&mdl);
}

/* A config text too long for an attribute is kept whole, as a dataset. */
static void test_writer_long_config(void)
{
    if (rank != 0)
        return;
    size_t len = 100000;
    char *text = malloc(len + 1), *back = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        text[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
    text[len] = '\0';
    td_model mdl;
    fake_model(&mdl, 2, 1);
    td_run_info run = fake_run(text);
    char a[1000];
    path_of("long_config.h5", a, sizeof a);
    write_ok(a, &mdl, &run);
    hid_t f = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = f >= 0 ? H5Dopen2(f, "/run/config_text", H5P_DEFAULT) : -1;
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
    CU_ASSERT(t >= 0 && H5Tget_size(t) == len + 1);
    CU_ASSERT(t >= 0 && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0
              && !strcmp(back, text));
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    free(text);
    free(back);
    td_model_free(&mdl);
}

/* A failing write returns TD_ERR_OUTPUT naming the path and leaves no
 * file: once at create time (no such directory), once at rename time
 * (the target is a directory). */
static void expect_write_failure(const char *path, const char *parent)
{
    td_model mdl;
    fake_model(&mdl, 2, 1);
    td_run_info run = fake_run("x = 1");
    td_err err;
    td_err_clear(&err);
    CU_ASSERT(td_h5_write_model(path, &mdl, &run, &err) == TD_ERR_OUTPUT);
    char needle[1100];
    snprintf(needle, sizeof needle, "cannot write result '%s': ", path);
    CU_ASSERT(strstr(err.msg, needle) == err.msg);
    if (strstr(err.msg, needle) != err.msg)
        report_msg(path, &err);
    CU_ASSERT(temp_files(parent) == 0);
    CU_ASSERT(open_objects() == 0);
    td_model_free(&mdl);
}

static void test_writer_failures(void)
{
    if (rank != 0)
        return;
    char missing[1000], isdir[1000];
    path_of("no_such_dir/out.h5", missing, sizeof missing);
    expect_write_failure(missing, dir);
    path_of("no_such_dir", missing, sizeof missing);
    CU_ASSERT(access(missing, F_OK) != 0);
    path_of("a_directory", isdir, sizeof isdir);
    mkdir(isdir, 0755);
    expect_write_failure(isdir, dir);
}

/* ---------------------------------------------------------------------
 * The embedded example.
 * ------------------------------------------------------------------- */

static void test_example(void)
{
    char ex[1000], ex2[1000], a[1100], b[1100];
    path_of("example/nested", ex, sizeof ex);
    path_of("example2", ex2, sizeof ex2);
    int rc = 0;
    if (rank == 0) {
        td_err err;
        td_err_clear(&err);
        rc = td_example_write(ex, &err) | td_example_write(ex2, &err);
        snprintf(a, sizeof a, "%s/example.h5", ex);
        snprintf(b, sizeof b, "%s/example.h5", ex2);
        CU_ASSERT(same_bytes(a, b));
        snprintf(a, sizeof a, "%s/example.toml", ex);
        FILE *f = fopen(a, "r");
        char text[512] = "";
        CU_ASSERT(f && fread(text, 1, sizeof text - 1, f) > 0);
        if (f) fclose(f);
        CU_ASSERT(strstr(text, "[data]\npath = \"example.h5\"") != NULL);
        CU_ASSERT(strstr(text, "[output]\npath = \"example_network.h5\"") != NULL);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    CU_ASSERT(rc == TD_OK);
    if (rc)
        return;
    td_shard_data d;
    td_err err;
    td_err_clear(&err);
    snprintf(a, sizeof a, "%s/example.h5", ex);
    CU_ASSERT(td_h5_read_shard(a, "X", "y", MPI_COMM_WORLD, 64, &d, &err) == TD_OK);
    CU_ASSERT(d.n_total == 2000 && d.m == 8);
    int64_t per[4] = {0, 0, 0, 0}, other = 0, near = 0;
    for (int64_t i = 0; i < d.n_local; i++) {
        int64_t k = d.y[i] / 10 - 1;
        int ok = d.y[i] % 10 == 0 && k >= 0 && k < 4;
        other += !ok;
        if (ok) {
            per[k]++;
            near += fabs(xat(&d, i, k) - 3.0) < 1.5;    /* near its centre */
        }
        other += i > 0 && d.y[i] == d.y[i - 1];        /* interleaved */
    }
    MPI_Allreduce(MPI_IN_PLACE, per, 4, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    CU_ASSERT(per[0] == 500 && per[1] == 500 && per[2] == 500 && per[3] == 500);
    CU_ASSERT(sum_all(other) == 0);
    CU_ASSERT(sum_all(near) == 2000);
    td_shard_data_free(&d);
}

/* ---------------------------------------------------------------------
 * Driver
 * ------------------------------------------------------------------- */

static void add_tests(void)
{
    CU_pSuite s = CU_add_suite("h5", NULL, NULL);
    CU_add_test(s, "float32 X, int16 y, 4-row blocks", test_float32_int16);
    CU_add_test(s, "float64 X, uint8 y, 10-row blocks", test_float64_uint8);
    CU_add_test(s, "big-endian float64 X, int32 y, 1-row blocks",
                test_bigendian_int32_block1);
    CU_add_test(s, "float32 X, uint64 y", test_uint64_labels);
    CU_add_test(s, "block_rows > N: ranks without rows", test_empty_ranks);
    CU_add_test(s, "missing file, not HDF5", test_missing_and_not_hdf5);
    CU_add_test(s, "missing datasets", test_missing_datasets);
    CU_add_test(s, "wrong ranks", test_wrong_ranks);
    CU_add_test(s, "wrong type classes", test_wrong_types);
    CU_add_test(s, "N mismatch, N = 0, M = 0", test_wrong_sizes);
    CU_add_test(s, "NaN in X names the global row", test_nan_rows);
    CU_add_test(s, "-Inf in float32 X", test_inf_float32);
    CU_add_test(s, "uint64 label beyond int64", test_uint64_beyond_int64);
    CU_add_test(s, "writer: reproducible bytes, layout", test_writer_reproducible);
    CU_add_test(s, "writer: phase times under /run", test_writer_times);
    CU_add_test(s, "writer: partial model", test_writer_partial);
    CU_add_test(s, "writer: long config text", test_writer_long_config);
    CU_add_test(s, "writer: failures leave nothing", test_writer_failures);
    CU_add_test(s, "embedded example", test_example);
}

/* Failures of ranks other than 0 go to stderr (rank 0's are in the
 * CUnit report). */
static void print_own_failures(void)
{
    for (const CU_FailureRecord *f = CU_get_failure_list(); f; f = f->pNext)
        fprintf(stderr, "rank %d: %s:%u: %s\n", rank, f->strFileName,
                f->uiLineNumber, f->strCondition);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp/td_test_h5");
    if (rank == 0)
        mkdir(dir, 0755);
    MPI_Barrier(MPI_COMM_WORLD);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* expected failures are quiet */
    CU_initialize_registry();
    add_tests();
    if (rank != 0)           /* one CUnit report, from rank 0 */
        (void)!freopen("/dev/null", "w", stdout);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    long long fails = (long long)CU_get_number_of_failures() +
                      (CU_get_error() != CUE_SUCCESS);
    if (rank != 0)
        print_own_failures();
    CU_cleanup_registry();
    MPI_Allreduce(MPI_IN_PLACE, &fails, 1, MPI_LONG_LONG, MPI_SUM,
                  MPI_COMM_WORLD);
    if (rank == 0)
        printf("\ntest_h5: %d ranks, %lld failure(s) over all ranks\n",
               nranks, fails);
    MPI_Finalize();
    return fails != 0;
}
