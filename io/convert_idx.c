/* convert_idx.c - IDX input for trunc-dist convert (the MNIST family:
 * train-images-idx3-ubyte with train-labels-idx1-ubyte, also gzipped),
 * see td_convert.h.
 *
 * Header: two zero bytes, a type byte, the number of dimensions d, then d
 * big-endian uint32 sizes; the data follow, big-endian, row-major.  Record
 * i (the first dimension) becomes row i of X, its d1 x d2 x ... values
 * flattened in order.  ubyte, byte, short and float data are stored as
 * float32 (exact), int and double as float64. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_convert.h"

typedef struct {
    int type;                /* 0x08 .. 0x0E */
    int size;                /* bytes per value */
    int ndim;
    int64_t dims[16];
    int64_t n, m;            /* records, values per record */
} idx_head;

static const char *type_name(int t)
{
    switch (t) {
    case 0x08: return "ubyte";
    case 0x09: return "byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "?";
    }
}

static int parse_head(td_cv_stream *s, idx_head *h, td_err *err)
{
    unsigned char b[4];
    size_t got;
    memset(h, 0, sizeof *h);
    if (td_cv_read(s, b, 4, &got, err))
        return err->code;
    if (got < 4 || b[0] || b[1])
        return td_err_set(err, TD_ERR_INPUT, "%s: not an IDX file (the "
                          "first two bytes are not zero)", s->name);
    h->type = b[2];
    h->ndim = b[3];
    h->size = h->type == 0x08 || h->type == 0x09 ? 1
            : h->type == 0x0B ? 2
            : h->type == 0x0C || h->type == 0x0D ? 4
            : h->type == 0x0E ? 8 : 0;
    if (!h->size)
        return td_err_set(err, TD_ERR_INPUT, "%s: IDX type 0x%02X is not "
                          "known (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C "
                          "int, 0x0D float, 0x0E double)", s->name, h->type);
    if (h->ndim < 1 || h->ndim > 16)
        return td_err_set(err, TD_ERR_INPUT, "%s: IDX header with %d "
                          "dimensions", s->name, h->ndim);
    h->m = 1;
    for (int i = 0; i < h->ndim; i++) {
        if (td_cv_read(s, b, 4, &got, err))
            return err->code;
        if (got < 4)
            return td_err_set(err, TD_ERR_INPUT, "%s: truncated: the file "
                              "ends inside the IDX header", s->name);
        h->dims[i] = (int64_t)b[0] << 24 | (int64_t)b[1] << 16 |
                     (int64_t)b[2] << 8 | b[3];
        if (i > 0)
            h->m *= h->dims[i];
    }
    h->n = h->dims[0];
    return TD_OK;
}

/* Value i of a big-endian block, as a double. */
static double value(const unsigned char *raw, const idx_head *h, size_t i)
{
    const unsigned char *p = raw + i * h->size;
    switch (h->type) {
    case 0x08: return p[0];
    case 0x09: return (int8_t)p[0];
    case 0x0B: return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
    case 0x0C: return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                                (uint32_t)p[2] << 8 | p[3]);
    case 0x0D: {
        uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                     (uint32_t)p[2] << 8 | p[3];
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    default: {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++)
            u = u << 8 | p[k];
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    }
}

/* Nothing may follow the last record. */
static int at_end(td_cv_stream *s, const idx_head *h, td_err *err)
{
    int more;
    if (td_cv_more(s, &more, err))
        return err->code;
    if (more)
        return td_err_set(err, TD_ERR_INPUT, "%s: trailing bytes after the "
                          "%lld records the header announces", s->name,
                          (long long)h->n);
    return TD_OK;
}

static int truncated(td_cv_stream *s, const idx_head *h, int64_t rec,
                     td_err *err)
{
    return td_err_set(err, TD_ERR_INPUT, "%s: truncated: the header "
                      "announces %lld records of %lld %s values, the file "
                      "ends in record %lld", s->name, (long long)h->n,
                      (long long)h->m, type_name(h->type), (long long)rec);
}

/* ---- labels ---------------------------------------------------------- */

typedef struct {
    td_cv_stream s;
    idx_head h;
    unsigned char raw[4096 * 8];
} idx_labels;

static int idx_next(td_cv_labels *l, int64_t *y, int64_t n, td_err *err)
{
    idx_labels *t = l->state;
    size_t got;
    if (td_cv_read(&t->s, t->raw, (size_t)n * t->h.size, &got, err))
        return err->code;
    if (got < (size_t)n * t->h.size)
        return truncated(&t->s, &t->h, l->done + got / t->h.size, err);
    for (int64_t i = 0; i < n; i++)
        if (td_cv_label_from_double(value(t->raw, &t->h, i), &y[i]))
            return td_err_set(err, TD_ERR_INPUT, "%s: record %lld: "
                              "non-integer label %.17g", l->name,
                              (long long)(l->done + i),
                              value(t->raw, &t->h, i));
    return TD_OK;
}

static int idx_finish(td_cv_labels *l, td_err *err)
{
    idx_labels *t = l->state;
    return at_end(&t->s, &t->h, err);
}

static void idx_close(td_cv_labels *l)
{
    idx_labels *t = l->state;
    td_cv_close(&t->s);
    free(t);
    free(l);
}

td_cv_labels *td_cv_idx_labels(const char *path, td_err *err)
{
    td_cv_labels *l = calloc(1, sizeof *l);
    idx_labels *t = calloc(1, sizeof *t);
    if (!l || !t) {
        free(l);
        free(t);
        td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (td_cv_open(&t->s, path, err) == TD_OK &&
        parse_head(&t->s, &t->h, err) == TD_OK && t->h.m != 1)
        td_err_set(err, TD_ERR_INPUT, "%s: labels must be one value per "
                   "record (idx1), got %d dimensions", path, t->h.ndim);
    if (err->code) {
        td_cv_close(&t->s);
        free(t);
        free(l);
        return NULL;
    }
    l->name = path;
    l->n = t->h.n;
    l->next = idx_next;
    l->finish = idx_finish;
    l->close = idx_close;
    l->state = t;
    return l;
}

/* ---- X --------------------------------------------------------------- */

int td_cv_idx(const char *path, td_cv_labels *lab, td_cv_sink *k,
              td_err *err)
{
    td_cv_stream s;
    idx_head h;
    if (td_cv_open(&s, path, err) || parse_head(&s, &h, err)) {
        td_cv_close(&s);
        return err->code;
    }
    if (lab->n >= 0 && lab->n != h.n)
        td_err_set(err, TD_ERR_INPUT, "%s: N mismatch: %lld records, the "
                   "labels %s hold %lld", path, (long long)h.n, lab->name,
                   (long long)lab->n);
    else if (h.n == 0)
        td_err_set(err, TD_ERR_INPUT, "%s: no records", path);
    int f32 = h.type != 0x0C && h.type != 0x0E;
    unsigned char *raw = NULL;
    if (!err->code && td_cv_sink_start(k, h.m, f32, err) == TD_OK)
        td_cv_sink_expect(k, h.n);
    for (int64_t r0 = 0; r0 < h.n && !err->code;) {
        int64_t nr = h.n - r0;
        void *dst = td_cv_sink_rows(k, &nr, err);
        if (!dst)
            break;
        if (!raw && !(raw = malloc((size_t)nr * h.m * h.size))) {
            td_err_set(err, TD_ERR_INTERNAL, "out of memory");
            break;
        }
        size_t want = (size_t)nr * h.m * h.size, got;
        if (td_cv_read(&s, raw, want, &got, err))
            break;
        if (got < want) {
            truncated(&s, &h, r0 + (int64_t)(got / (h.m * h.size)), err);
            break;
        }
        for (size_t i = 0; i < (size_t)nr * h.m; i++) {
            double v = value(raw, &h, i);
            if (!isfinite(v)) {
                td_err_set(err, TD_ERR_INPUT, "%s: record %lld, element "
                           "%lld: %s is not allowed", path,
                           (long long)(r0 + (int64_t)(i / h.m)),
                           (long long)(i % h.m), isnan(v) ? "NaN" : "Inf");
                break;
            }
            if (f32)
                ((float *)dst)[i] = (float)v;
            else
                ((double *)dst)[i] = v;
        }
        if (err->code || td_cv_sink_commit(k, nr, err) ||
            td_cv_pair_block(k, lab, nr, err))
            break;
        r0 += nr;
    }
    if (!err->code)
        at_end(&s, &h, err);
    free(raw);
    td_cv_close(&s);
    return err->code;
}
