/* convert.c - trunc-dist convert: the driver (format from the name, the
 * output checks, the atomic rename), byte streams over zlib and libzip,
 * and the HDF5 sink that writes X and y in row blocks (td_convert.h).
 *
 * The sink creates X (N, M) and y (N,) as chunked datasets with an
 * unlimited first dimension and appends a block of rows at a time, so no
 * input is ever held whole in memory: the buffers are a few MiB whatever
 * N is.  Chunks are about 1 MiB of whole rows (one row for a very wide
 * M), written whole; a conversion that fits in one block gets chunks of
 * exactly its size, so a small file stays small. */
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <zip.h>
#include <zlib.h>
#include "td_convert.h"
#include "td_paths.h"
#include "td_progress.h"
#include "td_stop.h"

#define CHUNK_BYTES (1 << 20)
#define BLOCK_BYTES (4 << 20)
#define YBLOCK 65536
#define LABEL_SET 65536     /* distinct labels counted up to this many */

/* ---- file names ------------------------------------------------------ */

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

td_format td_convert_format(const char *path, int *gz)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    *gz = ends_with(base, n, ".gz");
    if (*gz)
        n -= 3;
    if (ends_with(base, n, ".csv"))
        return TD_FMT_CSV;
    if (ends_with(base, n, ".npy"))
        return TD_FMT_NPY;
    if (ends_with(base, n, ".npz"))
        return TD_FMT_NPZ;
    if (ends_with(base, n, ".svm") || ends_with(base, n, ".libsvm") ||
        ends_with(base, n, ".txt"))
        return TD_FMT_SVM;
    /* IDX: "name.idx3", "t10k.idx1-ubyte", "train-images-idx3-ubyte" */
    for (size_t i = 0; i + 4 < n; i++)
        if ((base[i] == '.' || base[i] == '-') &&
            strncasecmp(base + i + 1, "idx", 3) == 0 &&
            base[i + 4] >= '0' && base[i + 4] <= '9')
            return TD_FMT_IDX;
    return TD_FMT_UNKNOWN;
}

static const char *format_name(td_format f)
{
    switch (f) {
    case TD_FMT_CSV: return "CSV";
    case TD_FMT_NPY: return "NumPy .npy";
    case TD_FMT_NPZ: return "NumPy .npz";
    case TD_FMT_SVM: return "LIBSVM";
    case TD_FMT_IDX: return "IDX";
    default: return "unknown";
    }
}

/* ---- byte streams ---------------------------------------------------- */

int td_cv_open(td_cv_stream *s, const char *path, td_err *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->namebuf, sizeof s->namebuf, "%s", path);
    s->name = s->namebuf;
    struct stat st;
    if (stat(path, &st) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: %s", path,
                          strerror(errno));
    if (S_ISDIR(st.st_mode))
        return td_err_set(err, TD_ERR_INPUT, "%s: is a directory", path);
    errno = 0;
    gzFile g = gzopen(path, "rb");
    if (!g)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: %s", path,
                          errno ? strerror(errno) : "out of memory");
    gzbuffer(g, 1 << 18);
    s->gz = g;
    /* gzdirect looks at the first bytes: 1 for a plain file */
    s->seekable = gzdirect(g) == 1 && S_ISREG(st.st_mode);
    return TD_OK;
}

int td_cv_more(td_cv_stream *s, int *more, td_err *err)
{
    unsigned char c;
    size_t got = 0;
    *more = 0;
    if (td_cv_read(s, &c, 1, &got, err))
        return err->code;
    *more = got > 0;
    return TD_OK;
}

int td_cv_read(td_cv_stream *s, void *buf, size_t n, size_t *got,
               td_err *err)
{
    size_t done = 0;
    char *p = buf;
    while (done < n) {
        size_t want = n - done > (1u << 30) ? (1u << 30) : n - done;
        if (s->zf) {
            zip_int64_t r = zip_fread(s->zf, p + done, want);
            if (r < 0) {
                zip_error_t *ze = zip_file_get_error(s->zf);
                return td_err_set(err, TD_ERR_INPUT, "%s: read error after "
                                  "%llu bytes: %s", s->name,
                                  (unsigned long long)(s->pos + done),
                                  zip_error_strerror(ze));
            }
            if (r == 0)
                break;
            done += (size_t)r;
        } else {
            int r = gzread(s->gz, p + done, (unsigned)want);
            if (r < 0) {
                int e;
                const char *m = gzerror(s->gz, &e);
                return td_err_set(err, TD_ERR_INPUT, "%s: read error after "
                                  "%llu bytes: %s", s->name,
                                  (unsigned long long)(s->pos + done),
                                  e == Z_ERRNO ? strerror(errno) : m);
            }
            if (r == 0) {
                /* a gzip stream cut short ("unexpected end of file",
                 * Z_BUF_ERROR) ends here: binary headers say how much
                 * should follow, so the caller names the row or record */
                int e;
                const char *m = gzerror(s->gz, &e);
                if (e != Z_OK && e != Z_STREAM_END && e != Z_BUF_ERROR)
                    return td_err_set(err, TD_ERR_INPUT, "%s: truncated or "
                                      "corrupt after %llu bytes: %s",
                                      s->name,
                                      (unsigned long long)(s->pos + done),
                                      m);
                break;
            }
            done += (size_t)r;
        }
    }
    s->pos += done;
    *got = done;
    return TD_OK;
}

int td_cv_seek(td_cv_stream *s, uint64_t off, td_err *err)
{
    int bad;
    if (s->zf)
        bad = zip_fseek(s->zf, (zip_int64_t)off, SEEK_SET) != 0;
    else
        bad = gzseek(s->gz, (z_off_t)off, SEEK_SET) != (z_off_t)off;
    if (bad)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot seek to byte %llu",
                          s->name, (unsigned long long)off);
    s->pos = off;
    return TD_OK;
}

void td_cv_close(td_cv_stream *s)
{
    if (s->zf)
        zip_fclose(s->zf);
    if (s->gz)
        gzclose(s->gz);
    s->zf = s->gz = NULL;
}

int td_cv_getline(td_cv_stream *s, char **buf, size_t *cap, size_t *len,
                  td_err *err)
{
    size_t n = 0;
    for (;;) {
        if (*cap - n < 2) {
            size_t nc = *cap ? *cap * 2 : 1 << 16;
            char *nb = realloc(*buf, nc);
            if (!nb) {
                td_err_set(err, TD_ERR_INTERNAL, "%s: out of memory (a line "
                           "of %zu bytes)", s->name, n);
                return -1;
            }
            *buf = nb;
            *cap = nc;
        }
        if (!gzgets(s->gz, *buf + n, (int)(*cap - n > INT_MAX ? INT_MAX
                                                          : *cap - n))) {
            int e;
            const char *m = gzerror(s->gz, &e);
            if (e != Z_OK && e != Z_STREAM_END) {
                td_err_set(err, TD_ERR_INPUT, "%s: truncated or corrupt: %s",
                           s->name, e == Z_ERRNO ? strerror(errno) : m);
                return -1;
            }
            if (n == 0)
                return 0;
            break;                       /* last line without "\n" */
        }
        n += strlen(*buf + n);
        if (n > 0 && (*buf)[n - 1] == '\n')
            break;
    }
    s->pos += n;
    if (n > 0 && (*buf)[n - 1] == '\n')
        n--;
    if (n > 0 && (*buf)[n - 1] == '\r')
        n--;
    (*buf)[n] = '\0';
    *len = n;
    return 1;
}

/* ---- the HDF5 sink --------------------------------------------------- */

struct td_cv_sink {
    const char *in, *out;
    char tmp[PATH_MAX + 32];
    hid_t file, x, y;
    int started;
    int64_t m;
    int f32;
    size_t esz;
    int64_t chunk_rows, buf_rows;
    char *xbuf;
    int64_t xfill, nx;
    int64_t expect;          /* rows announced by a header, 0: unknown */
    int64_t *ybuf;
    int64_t yfill, ny;
    /* label statistics */
    int64_t *set;            /* open addressing, INT64_MIN = empty */
    int64_t nset;
    int set_full;
    int64_t lmin, lmax;
};

static int out_err(td_cv_sink *k, td_err *err, const char *what)
{
    return td_err_set(err, TD_ERR_OUTPUT, "%s: cannot write %s (temporary "
                      "%s): HDF5 error or disk full", k->out, what, k->tmp);
}

int64_t td_cv_sink_m(const td_cv_sink *k) { return k->m; }
void td_cv_sink_expect(td_cv_sink *k, int64_t n) { k->expect = n; }
int td_cv_sink_f32(const td_cv_sink *k) { return k->f32; }

int td_cv_sink_start(td_cv_sink *k, int64_t m, int x_f32, td_err *err)
{
    if (m < 1)
        return td_err_set(err, TD_ERR_INPUT, "%s: no features (M = 0)",
                          k->in);
    if (m > INT_MAX)
        return td_err_set(err, TD_ERR_INPUT, "%s: %lld features: more than "
                          "trunc-dist reads (%d)", k->in, (long long)m,
                          INT_MAX);
    k->m = m;
    k->f32 = x_f32;
    k->esz = x_f32 ? 4 : 8;
    size_t row = (size_t)m * k->esz;
    k->chunk_rows = row >= CHUNK_BYTES ? 1 : CHUNK_BYTES / row;
    int64_t per = row >= BLOCK_BYTES ? 1 : BLOCK_BYTES / row;
    k->buf_rows = per < k->chunk_rows ? k->chunk_rows
                                      : per / k->chunk_rows * k->chunk_rows;
    k->xbuf = malloc(row * k->buf_rows);
    k->ybuf = malloc(sizeof(int64_t) * YBLOCK);
    k->set = malloc(sizeof(int64_t) * LABEL_SET);
    if (!k->xbuf || !k->ybuf || !k->set)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (a block of "
                          "%lld rows of %lld features)",
                          (long long)k->buf_rows, (long long)m);
    for (int i = 0; i < LABEL_SET; i++)
        k->set[i] = INT64_MIN;
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    errno = 0;
    k->file = H5Fcreate(k->tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    if (k->file < 0)
        return td_err_set(err, TD_ERR_OUTPUT, "%s: cannot create the "
                          "temporary file %s: %s", k->out, k->tmp,
                          errno ? strerror(errno) : "HDF5 error");
    k->started = 1;
    return TD_OK;
}

/* Create a dataset of rank 1 or 2 with an unlimited first dimension. */
static hid_t create_ext(hid_t file, const char *name, hid_t type, int rank,
                        int64_t cols, int64_t chunk)
{
    hsize_t dims[2] = {0, (hsize_t)cols};
    hsize_t maxd[2] = {H5S_UNLIMITED, (hsize_t)cols};
    hsize_t ch[2] = {(hsize_t)chunk, (hsize_t)cols};
    hid_t sp = H5Screate_simple(rank, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, ch) >= 0 &&
        H5Pset_obj_track_times(dcpl, 0) >= 0)
        d = H5Dcreate2(file, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return d;
}

/* Append `n` rows from buf to dataset d (rank 1 or 2) holding `have`. */
static int append(hid_t d, int rank, int64_t cols, int64_t have, int64_t n,
                  hid_t mtype, const void *buf)
{
    hsize_t size[2] = {(hsize_t)(have + n), (hsize_t)cols};
    hsize_t start[2] = {(hsize_t)have, 0}, count[2] = {(hsize_t)n,
                                                       (hsize_t)cols};
    if (H5Dset_extent(d, size) < 0)
        return -1;
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(rank, count, NULL);
    int bad = fs < 0 || ms < 0 ||
              H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count,
                                  NULL) < 0 ||
              H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf) < 0;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return bad ? -1 : 0;
}

/* final: the last flush, so a first flush sizes the chunks to the data */
static int flush_x(td_cv_sink *k, int final, td_err *err)
{
    if (k->xfill == 0)
        return TD_OK;
    if (k->x < 0) {
        int64_t ch = final && k->xfill < k->chunk_rows ? k->xfill
                                                       : k->chunk_rows;
        k->x = create_ext(k->file, "X", k->f32 ? H5T_IEEE_F32LE
                                               : H5T_IEEE_F64LE, 2, k->m, ch);
        if (k->x < 0)
            return out_err(k, err, "dataset X");
    }
    if (append(k->x, 2, k->m, k->nx, k->xfill, k->f32 ? H5T_NATIVE_FLOAT
                                                      : H5T_NATIVE_DOUBLE,
               k->xbuf) < 0)
        return td_err_set(err, TD_ERR_OUTPUT, "%s: cannot write rows %lld.."
                          "%lld of X (temporary %s): HDF5 error or disk full",
                          k->out, (long long)k->nx,
                          (long long)(k->nx + k->xfill - 1), k->tmp);
    k->nx += k->xfill;
    k->xfill = 0;
    td_progress_tick(k->nx, k->expect, "%lld rows", (long long)k->nx);
    td_stop_fault_point();      /* TD_FAULT_SIGNAL: a stop here, for tests */
    return td_cv_check_stop(k->out, err);
}

static int flush_y(td_cv_sink *k, int final, td_err *err)
{
    if (k->yfill == 0)
        return TD_OK;
    if (k->y < 0) {
        int64_t ch = final && k->yfill < YBLOCK ? k->yfill : YBLOCK;
        k->y = create_ext(k->file, "y", H5T_STD_I64LE, 1, 1, ch);
        if (k->y < 0)
            return out_err(k, err, "dataset y");
    }
    if (append(k->y, 1, 1, k->ny, k->yfill, H5T_NATIVE_INT64, k->ybuf) < 0)
        return out_err(k, err, "labels y");
    k->ny += k->yfill;
    k->yfill = 0;
    return TD_OK;
}

void *td_cv_sink_rows(td_cv_sink *k, int64_t *rows, td_err *err)
{
    if (k->xfill == k->buf_rows && flush_x(k, 0, err))
        return NULL;
    int64_t room = k->buf_rows - k->xfill;
    if (*rows <= 0 || *rows > room)
        *rows = room;
    return k->xbuf + (size_t)k->xfill * k->m * k->esz;
}

int td_cv_sink_commit(td_cv_sink *k, int64_t rows, td_err *err)
{
    k->xfill += rows;
    return k->xfill == k->buf_rows ? flush_x(k, 0, err) : TD_OK;
}

static void count_label(td_cv_sink *k, int64_t v)
{
    if (k->ny + k->yfill == 0 || v < k->lmin)
        k->lmin = v;
    if (k->ny + k->yfill == 0 || v > k->lmax)
        k->lmax = v;
    if (k->set_full || v == INT64_MIN)
        return;
    uint64_t h = (uint64_t)v * 0x9E3779B97F4A7C15ull;
    for (uint64_t i = h >> 48;; i = (i + 1) & (LABEL_SET - 1)) {
        if (k->set[i] == v)
            return;
        if (k->set[i] == INT64_MIN) {
            if (k->nset + 1 > LABEL_SET / 2) {
                k->set_full = 1;
                return;
            }
            k->set[i] = v;
            k->nset++;
            return;
        }
    }
}

int td_cv_sink_labels(td_cv_sink *k, const int64_t *y, int64_t n,
                      td_err *err)
{
    for (int64_t i = 0; i < n; i++) {
        if (k->yfill == YBLOCK && flush_y(k, 0, err))
            return err->code;
        count_label(k, y[i]);
        k->ybuf[k->yfill++] = y[i];
    }
    return TD_OK;
}

int td_cv_pair_block(td_cv_sink *k, td_cv_labels *l, int64_t rows,
                     td_err *err)
{
    int64_t buf[4096];
    while (rows > 0) {
        int64_t n = rows > 4096 ? 4096 : rows;
        if (l->next(l, buf, n, err) || td_cv_sink_labels(k, buf, n, err))
            return err->code;
        l->done += n;
        rows -= n;
    }
    return TD_OK;
}

int td_cv_check_stop(const char *what, td_err *err)
{
    int sig = td_stop_signal();
    if (sig)
        return td_err_set(err, TD_ERR_INTERRUPTED, "stopped by %s while "
                          "converting to %s: nothing written",
                          td_stop_name(sig), what);
    return TD_OK;
}

int td_cv_label_from_double(double v, int64_t *out)
{
    if (!(fabs(v) <= 9007199254740992.0) || v != floor(v))
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* A scalar string attribute on the root (provenance). */
static int root_attr(hid_t file, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = -1;
    if (t >= 0 && sp >= 0 && H5Tset_size(t, strlen(s) + 1) >= 0)
        a = H5Acreate2(file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int bad = a < 0 || H5Awrite(a, t, s) < 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return bad ? -1 : 0;
}

/* Flush everything and close the temporary file. */
static int sink_finish(td_cv_sink *k, const char *in, const char *format,
                       td_err *err)
{
    if (!k->started)
        return td_err_set(err, TD_ERR_INPUT, "%s: no data rows", in);
    if (flush_x(k, 1, err) || flush_y(k, 1, err))
        return err->code;
    if (k->nx == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: no data rows", in);
    if (k->nx != k->ny)     /* the readers pair them; a slip is a bug */
        return td_err_set(err, TD_ERR_INTERNAL, "%s: %lld rows but %lld "
                          "labels written", in, (long long)k->nx,
                          (long long)k->ny);
    if (root_attr(k->file, "converted_from", in) ||
        root_attr(k->file, "converted_format", format))
        return out_err(k, err, "the provenance attributes");
    H5Dclose(k->x);
    H5Dclose(k->y);
    k->x = k->y = -1;
    herr_t rc = H5Fclose(k->file);
    k->file = -1;
    if (rc < 0)
        return out_err(k, err, "the file (closing it)");
    /* the data reach the disk before the name does */
    int fd = open(k->tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0)
            close(fd);
        return td_err_set(err, TD_ERR_OUTPUT, "%s: cannot sync the "
                          "temporary %s: %s", k->out, k->tmp,
                          strerror(errno));
    }
    close(fd);
    return TD_OK;
}

static void sink_free(td_cv_sink *k)
{
    if (k->x >= 0) H5Dclose(k->x);
    if (k->y >= 0) H5Dclose(k->y);
    if (k->file >= 0) H5Fclose(k->file);
    free(k->xbuf);
    free(k->ybuf);
    free(k->set);
}

/* ---- the driver ------------------------------------------------------ */

/* OUT: not an input, not a directory, not existing unless --force, in a
 * writable directory. */
static int check_out(const td_convert_opts *o, td_err *err)
{
    if (td_same_file(o->out, o->in) || td_same_file(o->out, o->labels))
        return td_err_set(err, TD_ERR_INPUT, "%s: the output is the input "
                          "file %s: refusing to overwrite it", o->out,
                          td_same_file(o->out, o->in) ? o->in : o->labels);
    return td_check_new_file(o->out, o->force, err);
}

/* Which options go with which format. */
static int check_opts(const td_convert_opts *o, td_format f, int gz,
                      td_err *err)
{
    if (f == TD_FMT_UNKNOWN)
        return td_err_set(err, TD_ERR_INPUT, "%s: unknown extension: "
                          "expected .csv, .npy, .npz, .svm, .libsvm, .txt "
                          "(LIBSVM), .idx* or -idx*-ubyte (IDX), each "
                          "optionally with .gz", o->in);
    if (f == TD_FMT_NPZ && gz)
        return td_err_set(err, TD_ERR_INPUT, "%s: a gzipped .npz cannot be "
                          "read as a stream (an .npz is a zip archive, "
                          "compressed already): gunzip it first", o->in);
    if (o->has_label_column && f != TD_FMT_CSV)
        return td_err_set(err, TD_ERR_INPUT, "%s: --label-column is for CSV "
                          "input only", o->in);
    if (o->labels && (f == TD_FMT_CSV || f == TD_FMT_SVM))
        return td_err_set(err, TD_ERR_INPUT, "%s: --labels is for IDX and "
                          "NumPy input; %s keeps the labels in its lines%s",
                          o->in, format_name(f), f == TD_FMT_CSV ?
                          " (choose the column with --label-column)" : "");
    if (!o->labels && (f == TD_FMT_NPY || f == TD_FMT_IDX))
        return td_err_set(err, TD_ERR_INPUT, "%s: %s data hold no labels: "
                          "give the labels file with --labels FILE", o->in,
                          format_name(f));
    return TD_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int td_convert(const td_convert_opts *o, td_convert_stats *st, td_err *err)
{
    double t0 = now();
    int gz = 0;
    td_format f = td_convert_format(o->in, &gz);
    memset(st, 0, sizeof *st);
    st->format = format_name(f);
    if (check_opts(o, f, gz, err))
        return err->code;
    struct stat sb;
    if (stat(o->in, &sb) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: %s", o->in,
                          strerror(errno));
    if (o->labels && stat(o->labels, &sb) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot open: %s",
                          o->labels, strerror(errno));
    if (check_out(o, err))
        return err->code;

    td_cv_sink k = {.in = o->in, .out = o->out, .file = -1, .x = -1, .y = -1};
    if ((size_t)snprintf(k.tmp, sizeof k.tmp, "%s.tmp.%ld", o->out,
                         (long)getpid()) >= sizeof k.tmp)
        return td_err_set(err, TD_ERR_OUTPUT, "%s: path too long", o->out);
    H5E_BEGIN_TRY {

        td_progress_begin("convert");
        td_cv_labels *lab = NULL;
        if (o->labels && f != TD_FMT_NPZ)
            lab = td_cv_labels_open(o->labels, err);
        if (!err->code) {
            switch (f) {
            case TD_FMT_CSV: td_cv_csv(o->in, o, &k, err); break;
            case TD_FMT_SVM: td_cv_svm(o->in, &k, err); break;
            case TD_FMT_NPY: td_cv_npy(o->in, lab, &k, err); break;
            case TD_FMT_NPZ: td_cv_npz(o->in, o->labels, &k, err); break;
            case TD_FMT_IDX: td_cv_idx(o->in, lab, &k, err); break;
            default: break;
            }
        }
        if (!err->code && lab && lab->finish)
            lab->finish(lab, err);
        if (lab)
            lab->close(lab);
        if (!err->code)
            sink_finish(&k, o->in, format_name(f), err);
        st->n = k.nx;
        st->m = k.m;
        st->x_f32 = k.f32;
        st->classes = k.set_full ? -1 : k.nset;
        st->label_min = k.lmin;
        st->label_max = k.lmax;
        sink_free(&k);
        td_progress_end();
    } H5E_END_TRY;
    if (!err->code && rename(k.tmp, o->out) != 0)
        td_err_set(err, TD_ERR_OUTPUT, "%s: cannot rename the temporary %s "
                   "to it: %s", o->out, k.tmp, strerror(errno));
    if (err->code) {
        if (k.started)
            remove(k.tmp);    /* never leave a partial file behind */
        return err->code;
    }
    st->seconds = now() - t0;
    return TD_OK;
}

/* ---- labels files ---------------------------------------------------- */

td_cv_labels *td_cv_labels_open(const char *path, td_err *err)
{
    int gz = 0;
    td_format f = td_convert_format(path, &gz);
    if (f == TD_FMT_NPY) {
        td_cv_stream *s = malloc(sizeof *s);
        if (!s) {
            td_err_set(err, TD_ERR_INTERNAL, "out of memory");
            return NULL;
        }
        if (td_cv_open(s, path, err)) {
            free(s);
            return NULL;
        }
        td_cv_labels *l = td_cv_npy_labels(s, 1, err);
        if (!l) {
            td_cv_close(s);
            free(s);
        }
        return l;            /* closing it closes and frees s */
    }
    if (f == TD_FMT_IDX)
        return td_cv_idx_labels(path, err);
    if (f == TD_FMT_CSV || f == TD_FMT_SVM)
        return td_cv_text_labels(path, err);
    td_err_set(err, TD_ERR_INPUT, "%s: unknown extension for a labels file: "
               "expected .npy, IDX (.idx1*, -idx1-ubyte) or text with one "
               "integer per line (.txt, .csv), each optionally with .gz",
               path);
    return NULL;
}
