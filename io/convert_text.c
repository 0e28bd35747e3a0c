/* convert_text.c - text input for trunc-dist convert: CSV, LIBSVM /
 * SVMlight, and labels files of one integer per line (td_convert.h).
 *
 * Read a line at a time (zlib, so .gz works too): memory is one line and
 * the sink's block, whatever the file's size.  Line numbers in messages
 * count every physical line from 1; columns count from 0, like
 * --label-column. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_convert.h"

/* ---- fields and numbers ---------------------------------------------- */

/* Trim blanks and one pair of double quotes, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
        e[-1] = '\0';
        s++;
    }
    return s;
}

/* What is wrong with a number field, or NULL when *v holds it. */
static const char *parse_number(const char *s, double *v)
{
    if (!*s)
        return "empty field";
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end)
        return "malformed number";
    if (isnan(*v))
        return "NaN is not allowed";
    if (isinf(*v))
        return errno == ERANGE ? "number out of double range"
                               : "Inf is not allowed";
    return NULL;
}

/* Does the whole field read as a number (NaN and Inf included)? */
static int numeric(const char *s)
{
    char *end;
    strtod(s, &end);
    return end != s && !*end;
}

/* An integer label: exact through int64, or a double that is integral
 * and at most 2^53 in magnitude ("3.0", "1e2"). */
static const char *parse_label(const char *s, int64_t *y)
{
    if (!*s)
        return "empty label";
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end != s && !*end) {
        if (errno == ERANGE)
            return "label out of int64 range";
        *y = v;
        return NULL;
    }
    double d;
    if (parse_number(s, &d) || td_cv_label_from_double(d, y))
        return "non-integer label";
    return NULL;
}

/* ---- CSV ------------------------------------------------------------- */

typedef struct {
    char **f;
    size_t n, cap;
} fields;

/* Split `line` at `delim` in place. */
static int split(char *line, char delim, fields *fs)
{
    fs->n = 0;
    char *p = line;
    for (;;) {
        if (fs->n == fs->cap) {
            size_t nc = fs->cap ? 2 * fs->cap : 64;
            char **nf = realloc(fs->f, nc * sizeof *nf);
            if (!nf)
                return -1;
            fs->f = nf;
            fs->cap = nc;
        }
        char *d = strchr(p, delim);
        if (d)
            *d = '\0';
        fs->f[fs->n++] = trim(p);
        if (!d)
            return 0;
        p = d + 1;
    }
}

/* The most frequent of comma, tab and semicolon on the first line
 * (outside double quotes); comma when there is none. */
static char detect_delim(const char *line)
{
    size_t c = 0, t = 0, s = 0;
    int q = 0;
    for (const char *p = line; *p; p++) {
        if (*p == '"')
            q = !q;
        else if (!q)
            c += *p == ',', t += *p == '\t', s += *p == ';';
    }
    if (t > c && t >= s)
        return '\t';
    if (s > c && s > t)
        return ';';
    return ',';
}

static int blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static const char *delim_name(char d)
{
    return d == '\t' ? "tab" : d == ';' ? "semicolon" : "comma";
}

/* Resolve --label-column against nf fields; -1 when out of range. */
static long label_col(const td_convert_opts *o, size_t nf)
{
    long k = o->has_label_column ? o->label_column : -1;
    if (k < 0)
        k += (long)nf;
    return k >= 0 && (size_t)k < nf ? k : -1;
}

int td_cv_csv(const char *path, const td_convert_opts *o, td_cv_sink *k,
              td_err *err)
{
    td_cv_stream s;
    if (td_cv_open(&s, path, err))
        return err->code;
    char *line = NULL;
    size_t cap = 0, len = 0;
    fields fs = {0};
    char delim = 0;
    long lab = -1;          /* the label column of the data rows */
    size_t nf = 0;          /* fields per data row */
    int64_t lineno = 0, first_data = 0, nrows = 0;
    double *row = NULL;
    int r;
    while ((r = td_cv_getline(&s, &line, &cap, &len, err)) == 1) {
        lineno++;
        if (blank(line))
            continue;
        if (!delim)
            delim = detect_delim(line);
        if (split(line, delim, &fs)) {
            td_err_set(err, TD_ERR_INTERNAL, "out of memory");
            break;
        }
        if (!first_data) {
            /* a header: a non-numeric field outside the label column (of
             * this row: sklearn's headers are shorter than their rows) */
            long kc = label_col(o, fs.n);
            int header = 0;
            for (size_t i = 0; i < fs.n; i++)
                header |= (long)i != kc && *fs.f[i] && !numeric(fs.f[i]);
            if (header) {
                first_data = -1;         /* the next non-blank row */
                continue;
            }
        }
        if (first_data <= 0) {
            first_data = lineno;
            nf = fs.n;
            lab = label_col(o, nf);
            if (nf < 2) {
                td_err_set(err, TD_ERR_INPUT, "%s: line %lld: 1 column: need "
                           "features and a label, separated by commas, tabs "
                           "or semicolons", path, (long long)lineno);
                break;
            }
            if (lab < 0) {
                td_err_set(err, TD_ERR_INPUT, "%s: line %lld: --label-column "
                           "%ld is outside the %zu columns", path,
                           (long long)lineno, o->label_column, nf);
                break;
            }
            if (td_cv_sink_start(k, (int64_t)nf - 1, 0, err))
                break;
        }
        if (fs.n != nf) {
            td_err_set(err, TD_ERR_INPUT, "%s: line %lld: %zu columns, "
                       "expected %zu (as on line %lld; %s-separated)", path,
                       (long long)lineno, fs.n, nf, (long long)first_data,
                       delim_name(delim));
            break;
        }
        int64_t one = 1;
        row = td_cv_sink_rows(k, &one, err);
        if (!row)
            break;
        int64_t y = 0;
        const char *why = NULL;
        size_t bad = 0;
        for (size_t i = 0, j = 0; i < nf && !why; i++) {
            if ((long)i == lab)
                why = parse_label(fs.f[i], &y);
            else
                why = parse_number(fs.f[i], &row[j++]);
            bad = i;
        }
        if (why) {
            td_err_set(err, TD_ERR_INPUT, "%s: line %lld, column %zu: %s "
                       "'%.40s'", path, (long long)lineno, bad, why,
                       fs.f[bad]);
            break;
        }
        if (td_cv_sink_commit(k, 1, err) || td_cv_sink_labels(k, &y, 1, err))
            break;
        nrows++;
    }
    if (!err->code && nrows == 0)
        td_err_set(err, TD_ERR_INPUT, "%s: no data rows", path);
    free(line);
    free(fs.f);
    td_cv_close(&s);
    return err->code;
}

/* ---- LIBSVM / SVMlight ------------------------------------------------ */

/* One line: "label idx:val idx:val ... # comment", "qid:N" skipped.
 * Calls put(ctx, idx, val) for each feature; returns 0 for a blank or
 * comment line, 1 for a data line, -1 on an error (set). */
typedef struct {
    const char *path;
    int64_t lineno;
    int64_t maxidx;
    double *row;             /* pass 2: the dense row */
    int64_t *seen;           /* pass 2: the line that last set each index */
    int64_t m;
} svm_ctx;

static int svm_line(svm_ctx *c, char *line, int64_t *y, td_err *err)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *tok = strtok_r(line, " \t", &save);
    if (!tok)
        return 0;
    const char *why = parse_label(tok, y);
    if (why) {
        td_err_set(err, TD_ERR_INPUT, "%s: line %lld: %s '%.40s'", c->path,
                   (long long)c->lineno, why, tok);
        return -1;
    }
    while ((tok = strtok_r(NULL, " \t", &save))) {
        if (!strncmp(tok, "qid:", 4))
            continue;
        char *colon = strchr(tok, ':');
        if (!colon) {
            td_err_set(err, TD_ERR_INPUT, "%s: line %lld: malformed feature "
                       "'%.40s' (expected index:value)", c->path,
                       (long long)c->lineno, tok);
            return -1;
        }
        *colon = '\0';
        char *end;
        errno = 0;
        long long idx = strtoll(tok, &end, 10);
        if (end == tok || *end || errno == ERANGE) {
            td_err_set(err, TD_ERR_INPUT, "%s: line %lld: malformed index "
                       "'%.40s'", c->path, (long long)c->lineno, tok);
            return -1;
        }
        if (idx <= 0) {
            td_err_set(err, TD_ERR_INPUT, "%s: line %lld: index %lld is not "
                       "positive (LIBSVM indices start at 1)", c->path,
                       (long long)c->lineno, idx);
            return -1;
        }
        if (idx > 2147483647LL) {
            td_err_set(err, TD_ERR_INPUT, "%s: line %lld: index %lld: more "
                       "features than trunc-dist reads", c->path,
                       (long long)c->lineno, idx);
            return -1;
        }
        double v;
        why = parse_number(colon + 1, &v);
        if (why) {
            td_err_set(err, TD_ERR_INPUT, "%s: line %lld: index %lld: %s "
                       "'%.40s'", c->path, (long long)c->lineno, idx, why,
                       colon + 1);
            return -1;
        }
        if (idx > c->maxidx)
            c->maxidx = idx;
        if (c->row) {
            if (c->seen[idx - 1] == c->lineno) {
                td_err_set(err, TD_ERR_INPUT, "%s: line %lld: duplicate "
                           "index %lld", c->path, (long long)c->lineno, idx);
                return -1;
            }
            c->seen[idx - 1] = c->lineno;
            c->row[idx - 1] = v;
        }
    }
    return 1;
}

/* Pass 1 (row == NULL): validate, count rows, find M.  Pass 2: write. */
static int svm_pass(const char *path, svm_ctx *c, td_cv_sink *k,
                    int64_t *nrows, td_err *err)
{
    td_cv_stream s;
    if (td_cv_open(&s, path, err))
        return err->code;
    char *line = NULL;
    size_t cap = 0, len = 0;
    int r;
    c->lineno = 0;
    *nrows = 0;
    while ((r = td_cv_getline(&s, &line, &cap, &len, err)) == 1) {
        c->lineno++;
        int64_t y, one = 1;
        if (k) {
            c->row = td_cv_sink_rows(k, &one, err);
            if (!c->row)
                break;
            memset(c->row, 0, sizeof(double) * c->m);
        }
        int got = svm_line(c, line, &y, err);
        if (got < 0)
            break;
        if (got == 0)
            continue;
        (*nrows)++;
        if (k && (td_cv_sink_commit(k, 1, err) ||
                  td_cv_sink_labels(k, &y, 1, err)))
            break;
    }
    free(line);
    td_cv_close(&s);
    return err->code;
}

int td_cv_svm(const char *path, td_cv_sink *k, td_err *err)
{
    svm_ctx c = {.path = path};
    int64_t n1 = 0, n2 = 0;
    if (svm_pass(path, &c, NULL, &n1, err))
        return err->code;
    if (n1 == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: no data rows", path);
    if (c.maxidx == 0)
        return td_err_set(err, TD_ERR_INPUT, "%s: no features: every line "
                          "holds a label only", path);
    c.m = c.maxidx;
    c.seen = malloc(sizeof(int64_t) * c.m);
    if (!c.seen)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (%lld "
                          "features)", (long long)c.m);
    for (int64_t i = 0; i < c.m; i++)
        c.seen[i] = 0;
    if (td_cv_sink_start(k, c.m, 0, err) == TD_OK) {
        td_cv_sink_expect(k, n1);
        svm_pass(path, &c, k, &n2, err);
    }
    free(c.seen);
    if (!err->code && n2 != n1)
        td_err_set(err, TD_ERR_INPUT, "%s: changed while being read (%lld "
                   "rows, then %lld)", path, (long long)n1, (long long)n2);
    return err->code;
}

/* ---- labels, one integer per line ------------------------------------- */

typedef struct {
    td_cv_stream s;
    char *line;
    size_t cap;
    int64_t lineno;
} text_labels;

/* The next non-blank line; 0 at the end. */
static int next_line(text_labels *t, td_err *err)
{
    size_t len;
    int r;
    while ((r = td_cv_getline(&t->s, &t->line, &t->cap, &len, err)) == 1) {
        t->lineno++;
        if (!blank(t->line))
            return 1;
    }
    return r;
}

static int text_next(td_cv_labels *l, int64_t *y, int64_t n, td_err *err)
{
    text_labels *t = l->state;
    for (int64_t i = 0; i < n; i++) {
        int r = next_line(t, err);
        if (r < 0)
            return err->code;
        if (r == 0)
            return td_err_set(err, TD_ERR_INPUT, "%s: N mismatch: %lld "
                              "labels, but X has more rows", l->name,
                              (long long)(l->done + i));
        const char *why = parse_label(trim(t->line), &y[i]);
        if (why)
            return td_err_set(err, TD_ERR_INPUT, "%s: line %lld: %s '%.40s'",
                              l->name, (long long)t->lineno, why, t->line);
    }
    return TD_OK;
}

static int text_finish(td_cv_labels *l, td_err *err)
{
    text_labels *t = l->state;
    int r = next_line(t, err);
    if (r > 0)
        td_err_set(err, TD_ERR_INPUT, "%s: line %lld: N mismatch: more "
                   "labels than the %lld rows of X", l->name,
                   (long long)t->lineno, (long long)l->done);
    return err->code;
}

static void text_close(td_cv_labels *l)
{
    text_labels *t = l->state;
    td_cv_close(&t->s);
    free(t->line);
    free(t);
    free(l);
}

td_cv_labels *td_cv_text_labels(const char *path, td_err *err)
{
    td_cv_labels *l = calloc(1, sizeof *l);
    text_labels *t = calloc(1, sizeof *t);
    if (!l || !t) {
        free(l);
        free(t);
        td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (td_cv_open(&t->s, path, err)) {
        free(l);
        free(t);
        return NULL;
    }
    l->name = path;
    l->n = -1;
    l->next = text_next;
    l->finish = text_finish;
    l->close = text_close;
    l->state = t;
    return l;
}
