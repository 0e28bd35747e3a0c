/* td_convert.h - trunc-dist convert IN OUT.h5: CSV, NumPy .npy/.npz,
 * LIBSVM/SVMlight and IDX files (each also gzipped, except .npz) to the
 * input contract (README: X (N, M) float32 or float64, y (N,) int64).
 *
 * Serial: one process (rank 0) converts.  Inputs are streamed (a line or a
 * block of rows at a time) and X is written in row blocks to a chunked,
 * extendible dataset of a temporary file "<OUT>.tmp.<pid>", renamed over
 * OUT only when complete: no output file exists after any error.
 *
 * Errors are one line naming the file and the line (text) or the row,
 * column and element (binary): TD_ERR_INPUT for bad input, TD_ERR_OUTPUT
 * when OUT cannot be written, TD_ERR_INTERRUPTED for SIGINT/SIGTERM/
 * SIGUSR1 between blocks (the temporary is removed).
 *
 * The second half of this header is the interface between the driver
 * (io/convert.c: options, output checks, the HDF5 sink, byte streams) and
 * the format readers (io/convert_text.c, io/convert_npy.c,
 * io/convert_idx.c). */
#ifndef TD_CONVERT_H
#define TD_CONVERT_H

#include <stdint.h>
#include <stdio.h>
#include "td_err.h"

typedef struct {
    const char *in;          /* input file; the format from its extension */
    const char *out;         /* the HDF5 file to write */
    const char *labels;      /* --labels FILE (IDX and .npy X), or NULL */
    int has_label_column;    /* --label-column given (CSV only) */
    long label_column;       /* 0-based; negative counts from the end */
    int force;               /* --force: replace an existing OUT */
} td_convert_opts;

/* What was written. */
typedef struct {
    int64_t n, m;            /* rows and features */
    int x_f32;               /* X stored as float32 (else float64) */
    int64_t classes;         /* distinct labels (-1: more than counted) */
    int64_t label_min, label_max;
    double seconds;          /* wall clock of the conversion */
    const char *format;      /* "CSV", "NumPy .npy", ... */
} td_convert_stats;

/* Convert opts->in (with opts->labels) to opts->out.  Serial. */
int td_convert(const td_convert_opts *opts, td_convert_stats *st,
               td_err *err);

/* The command (src/app/convert.c): argv[0] is "convert"; rank 0
 * converts, every rank returns the agreed exit code. */
int td_convert_main(int argc, char **argv);

/* The input format, from the file name (a .gz suffix stripped first). */
typedef enum {
    TD_FMT_UNKNOWN = 0, TD_FMT_CSV, TD_FMT_NPY, TD_FMT_NPZ, TD_FMT_SVM,
    TD_FMT_IDX
} td_format;
td_format td_convert_format(const char *path, int *gz);

/* ---- for the format readers ------------------------------------------ */

/* A byte stream over a plain or gzip file (zlib reads both) or one entry
 * of a zip archive (libzip).  `pos` counts the bytes read. */
typedef struct {
    const char *name;        /* for messages: "x.npz:X.npy" or the path */
    void *gz;                /* gzFile, or NULL */
    void *zf;                /* zip_file_t *, or NULL */
    int seekable;            /* plain file, or a stored zip entry */
    uint64_t pos;
    char namebuf[512];
} td_cv_stream;

int td_cv_open(td_cv_stream *s, const char *path, td_err *err);
/* Read up to n bytes; *got < n only at the end of the stream. */
int td_cv_read(td_cv_stream *s, void *buf, size_t n, size_t *got,
               td_err *err);
/* *more = 1 when a byte follows (a format whose data must end here
 * reports it; the byte is consumed). */
int td_cv_more(td_cv_stream *s, int *more, td_err *err);
/* Absolute position (s->seekable streams only). */
int td_cv_seek(td_cv_stream *s, uint64_t off, td_err *err);
void td_cv_close(td_cv_stream *s);

/* One text line without its "\n" or "\r\n" into *buf (grown as needed);
 * returns 1 for a line, 0 at the end, -1 on an error (set). */
int td_cv_getline(td_cv_stream *s, char **buf, size_t *cap, size_t *len,
                  td_err *err);

/* The output: X rows and labels are appended independently (the labels
 * may come from another file), buffered and written in row blocks. */
typedef struct td_cv_sink td_cv_sink;

/* Create the temporary file with X of M columns (float32 or float64). */
int td_cv_sink_start(td_cv_sink *k, int64_t m, int x_f32, td_err *err);
/* Room for up to *rows rows of X, in the sink's type (float or double),
 * row-major; then commit how many were filled. */
void *td_cv_sink_rows(td_cv_sink *k, int64_t *rows, td_err *err);
int td_cv_sink_commit(td_cv_sink *k, int64_t rows, td_err *err);
/* Append labels. */
int td_cv_sink_labels(td_cv_sink *k, const int64_t *y, int64_t n,
                      td_err *err);
int64_t td_cv_sink_m(const td_cv_sink *k);
/* The rows a header announces (for the progress bar's fraction). */
void td_cv_sink_expect(td_cv_sink *k, int64_t n);
int td_cv_sink_f32(const td_cv_sink *k);

/* Labels kept apart from X (--labels, or y of an .npz): exactly n at a
 * time; an early end is an error naming the file. */
typedef struct td_cv_labels {
    const char *name;
    int64_t n;               /* count from the header, -1 if unknown */
    int64_t done;
    int (*next)(struct td_cv_labels *l, int64_t *y, int64_t n, td_err *err);
    /* after the last row of X: more labels left is an error */
    int (*finish)(struct td_cv_labels *l, td_err *err);
    void (*close)(struct td_cv_labels *l);
    void *state;
} td_cv_labels;

/* Open a labels file by its extension (.npy, IDX, or text with one
 * integer per line); NULL with err set on failure. */
td_cv_labels *td_cv_labels_open(const char *path, td_err *err);

/* Exact integer from a double label: integral and |v| <= 2^53. */
int td_cv_label_from_double(double v, int64_t *out);

/* Format readers.  `labels` is NULL when the format holds them. */
int td_cv_csv(const char *path, const td_convert_opts *o, td_cv_sink *k,
              td_err *err);
int td_cv_svm(const char *path, td_cv_sink *k, td_err *err);
int td_cv_npy(const char *path, td_cv_labels *labels, td_cv_sink *k,
              td_err *err);
int td_cv_npz(const char *path, const char *labels_path, td_cv_sink *k,
              td_err *err);
int td_cv_idx(const char *path, td_cv_labels *labels, td_cv_sink *k,
              td_err *err);
/* Labels from an .npy stream; own: closing the labels closes and frees
 * the (malloc'd) stream too. */
td_cv_labels *td_cv_npy_labels(td_cv_stream *s, int own, td_err *err);
td_cv_labels *td_cv_idx_labels(const char *path, td_err *err);
td_cv_labels *td_cv_text_labels(const char *path, td_err *err);

/* X and labels in lockstep: after each block of X rows the same number of
 * labels; checks the counts at the end. */
int td_cv_pair_block(td_cv_sink *k, td_cv_labels *l, int64_t rows,
                     td_err *err);

/* A stop signal between blocks (TD_ERR_INTERRUPTED, set). */
int td_cv_check_stop(const char *what, td_err *err);

#endif
