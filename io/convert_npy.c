/* convert_npy.c - NumPy input for trunc-dist convert: .npy (plain or
 * gzipped) and .npz archives, stored or compressed (np.savez_compressed),
 * zip64 included (libzip), see td_convert.h.
 *
 * An .npy is a magic string, a Python dict literal ('descr', 'fortran_order',
 * 'shape') and the raw array.  C-order arrays are streamed a block of rows
 * at a time.  Fortran order (column-major) is gathered a block of rows at a
 * time by seeking into each column, which needs a seekable stream (a plain
 * .npy or an entry that np.savez stored); a compressed stream is read into
 * memory when it is at most FORTRAN_MEM bytes, and refused beyond. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include "td_convert.h"

#define FORTRAN_MEM ((uint64_t)1 << 30)
#define TWO53 9007199254740992.0

typedef struct {
    char kind;               /* 'f', 'i', 'u', 'b' */
    int size;                /* bytes */
    int swap;                /* big-endian data on this (little) host */
    int fortran;
    int ndim;
    int64_t shape[8];
    uint64_t data_off;       /* where the array starts */
    char descr[16];
} npy_head;

static int host_big(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 0;
}

/* The value of 'key' in the header dict: a pointer just past its ':'. */
static const char *dict_value(const char *h, const char *key)
{
    char q1[32], q2[32];
    snprintf(q1, sizeof q1, "'%s'", key);
    snprintf(q2, sizeof q2, "\"%s\"", key);
    const char *p = strstr(h, q1);
    if (!p)
        p = strstr(h, q2);
    if (!p)
        return NULL;
    p = strchr(p + strlen(q1), ':');
    if (!p)
        return NULL;
    p++;
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

static int read_exact(td_cv_stream *s, void *buf, size_t n, td_err *err)
{
    size_t got;
    if (td_cv_read(s, buf, n, &got, err))
        return err->code;
    if (got < n)
        return td_err_set(err, TD_ERR_INPUT, "%s: truncated: the file ends "
                          "inside the .npy header", s->name);
    return TD_OK;
}

static int parse_head(td_cv_stream *s, npy_head *h, td_err *err)
{
    unsigned char pre[10];
    memset(h, 0, sizeof *h);
    if (read_exact(s, pre, 8, err))
        return err->code;
    if (memcmp(pre, "\x93NUMPY", 6) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: not a .npy file (no "
                          "\\x93NUMPY magic)", s->name);
    int major = pre[6];
    uint32_t hlen;
    if (major == 1) {
        if (read_exact(s, pre + 8, 2, err))
            return err->code;
        hlen = pre[8] | (uint32_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        unsigned char b[4];
        if (read_exact(s, b, 4, err))
            return err->code;
        hlen = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
               (uint32_t)b[3] << 24;
    } else {
        return td_err_set(err, TD_ERR_INPUT, "%s: .npy format version %d is "
                          "not known (1, 2 or 3)", s->name, major);
    }
    if (hlen > (1u << 24))
        return td_err_set(err, TD_ERR_INPUT, "%s: .npy header of %u bytes: "
                          "corrupt", s->name, hlen);
    char *txt = malloc(hlen + 1);
    if (!txt)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    if (read_exact(s, txt, hlen, err)) {
        free(txt);
        return err->code;
    }
    txt[hlen] = '\0';
    h->data_off = s->pos;
    const char *d = dict_value(txt, "descr");
    const char *f = dict_value(txt, "fortran_order");
    const char *sh = dict_value(txt, "shape");
    if (!d || !f || !sh) {
        td_err_set(err, TD_ERR_INPUT, "%s: .npy header without descr, "
                   "fortran_order or shape: '%.80s'", s->name, txt);
        free(txt);
        return err->code;
    }
    /* descr: '<f8', '>i4', '|u1', '=f4' */
    size_t dl = 0;
    if (*d == '\'' || *d == '"') {
        char q = *d++;
        while (d[dl] && d[dl] != q && dl < sizeof h->descr - 1)
            dl++;
        memcpy(h->descr, d, dl);
    }
    h->descr[dl] = '\0';
    char order = h->descr[0];
    char *end = NULL;
    h->kind = dl >= 3 ? h->descr[1] : 0;
    h->size = dl >= 3 ? (int)strtol(h->descr + 2, &end, 10) : 0;
    int ok_size = end && !*end &&
                  (h->kind == 'f' ? h->size == 4 || h->size == 8
                   : h->kind == 'i' || h->kind == 'u'
                       ? h->size == 1 || h->size == 2 || h->size == 4 ||
                         h->size == 8
                   : h->kind == 'b' ? h->size == 1 : 0);
    if (!strchr("<>|=", order) || !ok_size) {
        td_err_set(err, TD_ERR_INPUT, "%s: dtype '%s' is not supported: "
                   "float32/64, integers or bool (descr '<f8', '>i4', ...)",
                   s->name, dl ? h->descr : "(structured)");
        free(txt);
        return err->code;
    }
    if (order == '<')
        h->swap = h->size > 1 && host_big();
    else if (order == '>')
        h->swap = h->size > 1 && !host_big();
    else
        h->swap = 0;
    h->fortran = strncmp(f, "True", 4) == 0;
    if (!h->fortran && strncmp(f, "False", 5) != 0) {
        td_err_set(err, TD_ERR_INPUT, "%s: bad fortran_order in the .npy "
                   "header", s->name);
        free(txt);
        return err->code;
    }
    if (*sh != '(') {
        td_err_set(err, TD_ERR_INPUT, "%s: bad shape in the .npy header",
                   s->name);
        free(txt);
        return err->code;
    }
    const char *p = sh + 1;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (*p == ')')
            break;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || h->ndim == 8) {
            td_err_set(err, TD_ERR_INPUT, "%s: bad shape in the .npy header",
                       s->name);
            free(txt);
            return err->code;
        }
        h->shape[h->ndim++] = v;
        p = end;
        while (*p == 'L')
            p++;
    }
    free(txt);
    return TD_OK;
}

static void swap_bytes(unsigned char *p, int size, size_t n)
{
    for (size_t i = 0; i < n; i++, p += size)
        for (int a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Element i of a host-order block as a double; *exact = 0 when an
 * integer is beyond 2^53 (float64 would round it). */
static double element(const unsigned char *raw, const npy_head *h, size_t i,
                      int *exact)
{
    const unsigned char *p = raw + i * h->size;
    *exact = 1;
    if (h->kind == 'f') {
        if (h->size == 4) {
            float v;
            memcpy(&v, p, 4);
            return v;
        }
        double v;
        memcpy(&v, p, 8);
        return v;
    }
    if (h->kind == 'b')
        return *p != 0;
    if (h->kind == 'u') {
        uint64_t v = 0;
        switch (h->size) {
        case 1: v = *p; break;
        case 2: { uint16_t t; memcpy(&t, p, 2); v = t; } break;
        case 4: { uint32_t t; memcpy(&t, p, 4); v = t; } break;
        default: memcpy(&v, p, 8);
        }
        *exact = v <= (uint64_t)1 << 53;
        return (double)v;
    }
    int64_t v = 0;
    switch (h->size) {
    case 1: { int8_t t; memcpy(&t, p, 1); v = t; } break;
    case 2: { int16_t t; memcpy(&t, p, 2); v = t; } break;
    case 4: { int32_t t; memcpy(&t, p, 4); v = t; } break;
    default: memcpy(&v, p, 8);
    }
    *exact = v <= ((int64_t)1 << 53) && v >= -((int64_t)1 << 53);
    return (double)v;
}

/* float32 holds every value of these types exactly */
static int x_is_f32(const npy_head *h)
{
    return (h->kind == 'f' && h->size == 4) || h->kind == 'b' ||
           ((h->kind == 'i' || h->kind == 'u') && h->size <= 2);
}

/* Convert n host-order elements into the sink's type; element indices
 * start at e0 (for messages, as row and column of M). */
static int convert_x(const unsigned char *raw, const npy_head *h, size_t n,
                     void *out, int f32, uint64_t e0, int64_t m,
                     const char *name, td_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int exact;
        double v = element(raw, h, i, &exact);
        if (!isfinite(v) || !exact) {
            uint64_t e = e0 + i;
            return td_err_set(err, TD_ERR_INPUT, "%s: row %llu, column %llu "
                              "(element %llu): %s", name,
                              (unsigned long long)(e / m),
                              (unsigned long long)(e % m),
                              (unsigned long long)e,
                              isnan(v) ? "NaN is not allowed"
                              : isinf(v) ? "Inf is not allowed"
                              : "integer beyond 2^53 would not be exact in "
                                "float64");
        }
        if (f32)
            ((float *)out)[i] = (float)v;
        else
            ((double *)out)[i] = v;
    }
    return TD_OK;
}

static int truncated(td_cv_stream *s, const npy_head *h, uint64_t elems,
                     uint64_t got_elems, int64_t m, td_err *err)
{
    return td_err_set(err, TD_ERR_INPUT, "%s: truncated: the header promises "
                      "%llu elements of %s, the data end in row %llu "
                      "(element %llu)", s->name, (unsigned long long)elems,
                      h->descr, (unsigned long long)(got_elems / m),
                      (unsigned long long)got_elems);
}

/* Nothing may follow the array. */
static int at_end(td_cv_stream *s, td_err *err)
{
    int more;
    if (td_cv_more(s, &more, err))
        return err->code;
    if (more)
        return td_err_set(err, TD_ERR_INPUT, "%s: trailing bytes after the "
                          "array (byte %llu): not one .npy array", s->name,
                          (unsigned long long)(s->pos - 1));
    return TD_OK;
}

/* ---- labels ---------------------------------------------------------- */

typedef struct {
    td_cv_stream *s;
    npy_head h;
    int own;
    unsigned char *raw;
} npy_labels;

static int npy_next(td_cv_labels *l, int64_t *y, int64_t n, td_err *err)
{
    npy_labels *t = l->state;
    size_t got;
    if (td_cv_read(t->s, t->raw, (size_t)n * t->h.size, &got, err))
        return err->code;
    if (got < (size_t)n * t->h.size)
        return td_err_set(err, TD_ERR_INPUT, "%s: truncated: the header "
                          "promises %lld labels, the data end at label %lld",
                          l->name, (long long)l->n,
                          (long long)(l->done + got / t->h.size));
    if (t->h.swap)
        swap_bytes(t->raw, t->h.size, n);
    for (int64_t i = 0; i < n; i++) {
        int exact;
        double v = element(t->raw, &t->h, i, &exact);
        if (t->h.kind == 'i' && t->h.size == 8)
            memcpy(&y[i], t->raw + i * 8, 8);
        else if (t->h.kind == 'u' && t->h.size == 8) {
            uint64_t u;
            memcpy(&u, t->raw + i * 8, 8);
            if (u > (uint64_t)INT64_MAX)
                return td_err_set(err, TD_ERR_INPUT, "%s: label %lld: %llu "
                                  "is beyond int64", l->name,
                                  (long long)(l->done + i),
                                  (unsigned long long)u);
            y[i] = (int64_t)u;
        } else if (t->h.kind != 'f')
            y[i] = (int64_t)v;
        else if (td_cv_label_from_double(v, &y[i]))
            return td_err_set(err, TD_ERR_INPUT, "%s: label %lld: "
                              "non-integer label %.17g", l->name,
                              (long long)(l->done + i), v);
    }
    return TD_OK;
}

static int npy_finish(td_cv_labels *l, td_err *err)
{
    npy_labels *t = l->state;
    return at_end(t->s, err);
}

static void npy_close(td_cv_labels *l)
{
    npy_labels *t = l->state;
    if (t->own) {
        td_cv_close(t->s);
        free(t->s);
    }
    free(t->raw);
    free(t);
    free(l);
}

td_cv_labels *td_cv_npy_labels(td_cv_stream *s, int own, td_err *err)
{
    npy_head h;
    if (parse_head(s, &h, err))
        return NULL;
    int ok = h.ndim == 1 || (h.ndim == 2 && h.shape[1] == 1);
    if (!ok) {
        char shape[64] = "";
        for (int i = 0; i < h.ndim; i++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape),
                     "%s%lld", i ? ", " : "", (long long)h.shape[i]);
        td_err_set(err, TD_ERR_INPUT, "%s: labels must have shape (N,), "
                   "got (%s)", s->name, shape);
        return NULL;
    }
    td_cv_labels *l = calloc(1, sizeof *l);
    npy_labels *t = calloc(1, sizeof *t);
    unsigned char *raw = malloc(4096 * 8);
    if (!l || !t || !raw) {
        free(l);
        free(t);
        free(raw);
        td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    t->s = s;
    t->h = h;
    t->own = own;
    t->raw = raw;
    l->name = s->name;
    l->n = h.shape[0];
    l->next = npy_next;
    l->finish = npy_finish;
    l->close = npy_close;
    l->state = t;
    return l;
}

/* ---- X --------------------------------------------------------------- */

/* A block of rows [r0, r0 + nr) of a Fortran-order array into raw (row-
 * major, host order): from memory (mem) or by seeking into each column. */
static int fortran_rows(td_cv_stream *s, const npy_head *h,
                        const unsigned char *mem, int64_t n, int64_t m,
                        int64_t r0, int64_t nr, unsigned char *col,
                        unsigned char *raw, td_err *err)
{
    size_t sz = h->size;
    for (int64_t c = 0; c < m; c++) {
        uint64_t off = ((uint64_t)c * n + r0) * sz;
        const unsigned char *src = mem ? mem + off : col;
        if (!mem) {
            size_t got;
            if (td_cv_seek(s, h->data_off + off, err) ||
                td_cv_read(s, col, nr * sz, &got, err))
                return err->code;
            if (got < nr * sz)
                return truncated(s, h, (uint64_t)n * m,
                                 (uint64_t)(r0 + (int64_t)(got / sz)) * m + c,
                                 m, err);
        }
        for (int64_t r = 0; r < nr; r++)
            memcpy(raw + ((size_t)r * m + c) * sz, src + r * sz, sz);
    }
    return TD_OK;
}

static int read_x(td_cv_stream *s, td_cv_labels *lab, td_cv_sink *k,
                  td_err *err)
{
    npy_head h;
    if (parse_head(s, &h, err))
        return err->code;
    if (h.ndim < 2)
        return td_err_set(err, TD_ERR_INPUT, "%s: X must be 2-D (N, M), got "
                          "%d dimension%s", s->name, h.ndim,
                          h.ndim == 1 ? "" : "s");
    int64_t n = h.shape[0], m = 1;
    for (int i = 1; i < h.ndim; i++)
        m *= h.shape[i];
    if (h.fortran && h.ndim > 2)
        return td_err_set(err, TD_ERR_INPUT, "%s: a Fortran-order array of "
                          "%d dimensions: save it in C order "
                          "(np.ascontiguousarray)", s->name, h.ndim);
    if (lab && lab->n >= 0 && lab->n != n)
        return td_err_set(err, TD_ERR_INPUT, "%s: N mismatch: X has %lld "
                          "rows, the labels %s hold %lld", s->name,
                          (long long)n, lab->name, (long long)lab->n);
    if (n == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: no data rows (N = 0)",
                          s->name);
    uint64_t total = (uint64_t)n * m * h.size;
    unsigned char *mem = NULL;
    if (h.fortran && !s->seekable) {
        if (total > FORTRAN_MEM)
            return td_err_set(err, TD_ERR_INPUT, "%s: a Fortran-order array "
                              "of %.3g GB in a compressed stream: save it in "
                              "C order (np.ascontiguousarray) or uncompressed",
                              s->name, total / 1e9);
        mem = malloc(total ? total : 1);
        if (!mem)
            return td_err_set(err, TD_ERR_INTERNAL, "out of memory (a "
                              "Fortran-order array of %.3g GB)", total / 1e9);
        size_t got;
        if (td_cv_read(s, mem, total, &got, err) == TD_OK && got < total)
            truncated(s, &h, (uint64_t)n * m, got / h.size, m, err);
        if (err->code) {
            free(mem);
            return err->code;
        }
    }
    if (td_cv_sink_start(k, m, x_is_f32(&h), err)) {
        free(mem);
        return err->code;
    }
    td_cv_sink_expect(k, n);
    int f32 = td_cv_sink_f32(k);
    int in_mem = mem != NULL;
    unsigned char *raw = NULL, *col = NULL;
    int64_t r0 = 0;
    while (r0 < n && !err->code) {
        int64_t nr = n - r0;
        void *dst = td_cv_sink_rows(k, &nr, err);
        if (!dst)
            break;
        if (!raw) {     /* the sink's block size, in the source's type */
            int64_t cap = nr;
            raw = malloc((size_t)cap * m * h.size);
            col = h.fortran && !mem ? malloc((size_t)cap * h.size) : NULL;
            if (!raw || (h.fortran && !mem && !col)) {
                td_err_set(err, TD_ERR_INTERNAL, "out of memory");
                break;
            }
        }
        if (h.fortran) {
            if (fortran_rows(s, &h, mem, n, m, r0, nr, col, raw, err))
                break;
        } else {
            size_t want = (size_t)nr * m * h.size, got;
            if (td_cv_read(s, raw, want, &got, err))
                break;
            if (got < want) {
                truncated(s, &h, (uint64_t)n * m,
                          (uint64_t)r0 * m + got / h.size, m, err);
                break;
            }
        }
        if (h.swap)
            swap_bytes(raw, h.size, (size_t)nr * m);
        if (convert_x(raw, &h, (size_t)nr * m, dst, f32, (uint64_t)r0 * m, m,
                      s->name, err) ||
            td_cv_sink_commit(k, nr, err) ||
            td_cv_pair_block(k, lab, nr, err))
            break;
        r0 += nr;
    }
    free(raw);
    free(col);
    free(mem);
    /* nothing after the array (seeking past it when read by columns) */
    if (!err->code && h.fortran && !in_mem)
        td_cv_seek(s, h.data_off + total, err);
    if (!err->code)
        at_end(s, err);
    return err->code;
}

int td_cv_npy(const char *path, td_cv_labels *labels, td_cv_sink *k,
              td_err *err)
{
    td_cv_stream s;
    if (td_cv_open(&s, path, err))
        return err->code;
    read_x(&s, labels, k, err);
    td_cv_close(&s);
    return err->code;
}

/* ---- .npz ------------------------------------------------------------ */

static int open_entry(zip_t *za, const char *path, zip_int64_t idx,
                      td_cv_stream *s, td_err *err)
{
    memset(s, 0, sizeof *s);
    zip_stat_t st;
    zip_stat_init(&st);
    const char *ename = zip_get_name(za, idx, 0);
    snprintf(s->namebuf, sizeof s->namebuf, "%s:%s", path,
             ename ? ename : "?");
    s->name = s->namebuf;
    if (zip_stat_index(za, idx, 0, &st) != 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: %s", s->name,
                          zip_strerror(za));
    s->zf = zip_fopen_index(za, idx, 0);
    if (!s->zf)
        return td_err_set(err, TD_ERR_INPUT, "%s: cannot read the entry: %s",
                          s->name, zip_strerror(za));
    s->seekable = (st.valid & ZIP_STAT_COMP_METHOD) &&
                  st.comp_method == ZIP_CM_STORE;
    return TD_OK;
}

int td_cv_npz(const char *path, const char *labels_path, td_cv_sink *k,
              td_err *err)
{
    static const char *pairs[][2] = {{"X", "y"}, {"x", "y"},
                                     {"data", "labels"}, {"arr_0", "arr_1"}};
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        td_err_set(err, TD_ERR_INPUT, "%s: not a readable .npz (zip) "
                   "archive: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return err->code;
    }
    zip_int64_t xi = -1, yi = -1;
    const char *xn = NULL, *yn = NULL;
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0] && xi < 0; p++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%s.npy", pairs[p][0]);
        snprintf(b, sizeof b, "%s.npy", pairs[p][1]);
        xi = zip_name_locate(za, a, 0);
        if (xi >= 0) {
            yi = zip_name_locate(za, b, 0);
            xn = pairs[p][0];
            yn = pairs[p][1];
        }
    }
    td_cv_stream xs = {0}, ys = {0};
    td_cv_labels *lab = NULL;
    if (xi < 0) {
        char names[256] = "";
        zip_int64_t ne = zip_get_num_entries(za, 0);
        for (zip_int64_t i = 0; i < ne && i < 8; i++) {
            const char *nm = zip_get_name(za, i, 0);
            snprintf(names + strlen(names), sizeof names - strlen(names),
                     "%s%s", i ? ", " : "", nm ? nm : "?");
        }
        td_err_set(err, TD_ERR_INPUT, "%s: no array named X (or x, data, "
                   "arr_0); the archive holds: %s", path,
                   ne ? names : "nothing");
    } else if (yi >= 0 && labels_path) {
        td_err_set(err, TD_ERR_INPUT, "%s: holds the labels %s already: drop "
                   "--labels %s", path, yn, labels_path);
    } else if (yi < 0 && !labels_path) {
        td_err_set(err, TD_ERR_INPUT, "%s: has %s but no labels %s.npy: give "
                   "them with --labels FILE", path, xn, yn);
    } else if (yi >= 0) {
        if (open_entry(za, path, yi, &ys, err) == TD_OK)
            lab = td_cv_npy_labels(&ys, 0, err);
    } else {
        lab = td_cv_labels_open(labels_path, err);
    }
    if (!err->code && open_entry(za, path, xi, &xs, err) == TD_OK)
        read_x(&xs, lab, k, err);
    if (!err->code && lab && lab->finish)
        lab->finish(lab, err);
    if (lab)
        lab->close(lab);
    td_cv_close(&xs);
    td_cv_close(&ys);
    zip_discard(za);
    return err->code;
}
