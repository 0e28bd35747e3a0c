/* config.c - the run configuration: schema, validation, defaults
 * (see td_config.h).  The TOML syntax is handled by io/toml_shim.cpp; this
 * file only checks the flattened entries against the schema below.
 *
 * Every rank parses the same bytes, so everything here must be a pure
 * function of (text, source): no environment, no file system, no printing. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_config.h"
#include "td_toml.h"

/* A config is a few hundred bytes; anything this large is the wrong file. */
#define TD_CONFIG_MAX_BYTES ((size_t)1 << 20)

enum key_kind {
    K_STR,    /* non-empty string */
    K_PATH,   /* non-empty string the kernel accepts as a path */
    K_INT,    /* integer in [imin, imax] */
    K_NUM,    /* float (or integer) accepted by in_range() */
    K_INSEP,  /* "fail" | "best_effort" */
    K_ORDER,  /* array of distinct integers */
    K_BOOL,   /* true | false */
    K_BASE,   /* "conditioned" | "segment" */
    K_MODE,   /* "auto" | "theorem6" | "lifted" | "pieces" | "polytope" |
                 "clustered" */
    K_OUTLAYER, /* "affine" | "linear" | "neural_collapse" */
    K_FORWARD, /* "auto" | "dense" | "structured" */
    K_TARGETS  /* array of equally long arrays of finite numbers */
};

typedef struct {
    const char *path;
    enum key_kind kind;
    size_t off;            /* field in td_config */
    int required;
    int64_t imin, imax;    /* K_INT */
    double lo, hi;         /* K_NUM: lo is open unless closed & 2; hi is
                              closed if closed & 1 */
    int hi_closed;
    const char *range;     /* K_NUM: the accepted set, for messages */
} key_spec;

#define OFF(f) offsetof(td_config, f)

static const key_spec schema[] = {
    {"data.path", K_PATH, OFF(data_path), 1, 0, 0, 0, 0, 0, NULL},
    {"data.x_dataset", K_STR, OFF(x_dataset), 0, 0, 0, 0, 0, 0, NULL},
    {"data.y_dataset", K_STR, OFF(y_dataset), 0, 0, 0, 0, 0, 0, NULL},
    {"data.targets_dataset", K_STR, OFF(targets_dataset), 0, 0, 0, 0, 0, 0,
     NULL},
    {"output.path", K_PATH, OFF(output_path), 1, 0, 0, 0, 0, 0, NULL},
    {"output.overwrite", K_BOOL, OFF(overwrite), 0, 0, 0, 0, 0, 0, NULL},
    {"eval.path", K_PATH, OFF(eval_path), 0, 0, 0, 0, 0, 0, NULL},
    {"checkpoint.enabled", K_BOOL, OFF(checkpoint), 0, 0, 0, 0, 0, 0, NULL},
    {"checkpoint.interval", K_INT, OFF(checkpoint_interval), 0, 0,
     1000000000, 0, 0, 0, NULL},
    {"construction.kappa", K_NUM, OFF(kappa), 0, 0, 0, 1e-4, 0.999, 3,
     "in [1e-4, 0.999] (a smaller kappa makes ill-conditioned layers, "
     "cond(W) = 1/(kappa lambda_max); a larger one leaves rounding no room "
     "at the ReLU kinks)"},
    {"construction.order", K_ORDER, OFF(order), 0, 0, 0, 0, 0, 0, NULL},
    {"construction.on_inseparable", K_INSEP, OFF(on_inseparable), 0, 0, 0,
     0, 0, 0, NULL},
    {"construction.base_point", K_BASE, OFF(base_point), 0, 0, 0, 0, 0, 0,
     NULL},
    {"construction.mode", K_MODE, OFF(mode), 0, 0, 0, 0, 0, 0, NULL},
    {"construction.targets", K_TARGETS, OFF(targets), 0, 0, 0, 0, 0, 0,
     NULL},
    {"construction.output_layer", K_OUTLAYER, OFF(output_layer), 0, 0, 0, 0,
     0, 0, NULL},
    {"construction.auto_budget", K_NUM, OFF(auto_budget), 0, 0, 0, 0.0,
     INFINITY, 0, "finite and > 0"},
    {"construction.margin_floor", K_NUM, OFF(margin_floor), 0, 0, 0, 0.0,
     0.1, 1, "in (0, 0.1]"},
    {"construction.grow_rounds", K_INT, OFF(grow_rounds), 0, 0, 1000, 0, 0,
     0, NULL},
    {"construction.backtrack_budget", K_INT, OFF(backtrack_budget), 0, 0,
     INT_MAX, 0, 0, 0, NULL},
    {"separator.working_set", K_INT, OFF(working_set), 0, 8, INT_MAX, 0, 0,
     0, NULL},
    {"separator.max_rounds", K_INT, OFF(max_rounds), 0, 1, INT_MAX, 0, 0, 0,
     NULL},
    {"separator.fisher_warm_start", K_BOOL, OFF(fisher_warm_start), 0, 0, 0,
     0, 0, 0, NULL},
    {"separator.hull_tol", K_NUM, OFF(hull_tol), 0, 0, 0, 0.0, 1e-6, 1,
     "in (0, 1e-6]"},
    {"separator.gap", K_NUM, OFF(gap), 0, 0, 0, 0.0, 0.5, 1,
     "in (0, 0.5]"},
    {"parallel.block_rows", K_INT, OFF(block_rows), 0, 1, (int64_t)1 << 24,
     0, 0, 0, NULL},
    {"parallel.scalapack_threshold", K_INT, OFF(scalapack_threshold), 0, 1,
     INT_MAX, 0, 0, 0, NULL},
    {"verify.forward", K_FORWARD, OFF(forward), 0, 0, 0, 0, 0, 0, NULL},
    {"verify.tolerance", K_NUM, OFF(tolerance), 0, 0, 0, 0.0, INFINITY, 0,
     "finite and > 0"},
};

#define NKEYS (sizeof schema / sizeof schema[0])

static void *field(td_config *cfg, const key_spec *k)
{
    return (char *)cfg + k->off;
}

static int oom(td_err *err)
{
    return td_err_set(err, TD_ERR_INTERNAL, "out of memory reading config");
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* Shortest %g form that reads back exactly: "1.5", not "1.5000000000000000"
 * nor a rounded "1" for 1.0000000000001 (which would contradict the range). */
static void fmt_double(char *buf, size_t len, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static const char *type_name(const td_toml_entry *e)
{
    switch (e->type) {
    case TD_TOML_STRING: return "a string";
    case TD_TOML_INT: return "an integer";
    case TD_TOML_FLOAT: return "a float";
    case TD_TOML_BOOL: return "a boolean";
    case TD_TOML_ARRAY: return "an array";
    case TD_TOML_TABLE: return e->n ? "an array of tables" : "a table";
    default: return "a date/time or other value";
    }
}

static int type_error(const td_toml_entry *e, const char *src,
                      const char *want, td_err *err)
{
    return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' must be %s, got %s",
                      src, e->line, e->path, want, type_name(e));
}

static int set_string(const td_toml_entry *e, const key_spec *k,
                      td_config *cfg, const char *src, td_err *err)
{
    if (e->type != TD_TOML_STRING)
        return type_error(e, src, "a string", err);
    if (e->s[0] == '\0')
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' must not be empty",
                          src, e->line, e->path);
    char **dst = field(cfg, k);
    char *s = dup_str(e->s);
    if (!s)
        return oom(err);
    free(*dst);            /* the default */
    *dst = s;
    return TD_OK;
}

/* Room the result writer's temporary name "<output>.tmp.<pid>" needs. */
#define TMP_SUFFIX_MAX 16

/* A path the kernel would refuse (ENAMETOOLONG) is refused here, naming
 * the key, before any work: at most PATH_MAX - 1 bytes, and no name
 * between slashes longer than NAME_MAX bytes (the output's file name
 * leaves room for the temporary suffix). */
static int check_path(const td_toml_entry *e, const char *src, td_err *err)
{
    const char *base = strrchr(e->s, '/');
    base = base ? base + 1 : e->s;
    if (strcmp(e->path, "output.path") == 0 &&
        strlen(base) > NAME_MAX - TMP_SUFFIX_MAX &&
        strlen(base) <= NAME_MAX)
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' names a file "
                          "of %zu bytes; with the temporary suffix "
                          "'.tmp.<pid>' it is written under, file names are "
                          "limited to %d", src, e->line, e->path,
                          strlen(base), NAME_MAX - TMP_SUFFIX_MAX);
    size_t len = strlen(e->s);
    if (len > PATH_MAX - 1)
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' is a path of "
                          "%zu bytes; paths are limited to %d (PATH_MAX - 1)",
                          src, e->line, e->path, len, PATH_MAX - 1);
    for (const char *c = e->s; *c;) {
        size_t n = strcspn(c, "/");
        if (n > NAME_MAX)
            return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' holds a "
                              "name of %zu bytes ('%.24s...'); names between "
                              "slashes are limited to %d (NAME_MAX)", src,
                              e->line, e->path, n, c, NAME_MAX);
        c += n;
        c += strspn(c, "/");
    }
    return TD_OK;
}

static int set_path(const td_toml_entry *e, const key_spec *k,
                    td_config *cfg, const char *src, td_err *err)
{
    int rc = set_string(e, k, cfg, src, err);
    return rc ? rc : check_path(e, src, err);
}

static int set_int(const td_toml_entry *e, const key_spec *k, td_config *cfg,
                   const char *src, td_err *err)
{
    if (e->type != TD_TOML_INT)
        return type_error(e, src, "an integer", err);
    if (e->i < k->imin || e->i > k->imax) {
        if (k->imax == INT_MAX && e->i < k->imin)  /* the bound that matters */
            return td_err_set(err, TD_ERR_INPUT,
                              "%s:%d: key '%s' must be >= %lld, got %lld", src,
                              e->line, e->path, (long long)k->imin,
                              (long long)e->i);
        return td_err_set(err, TD_ERR_INPUT,
                          "%s:%d: key '%s' must be in [%lld, %lld], got %lld",
                          src, e->line, e->path, (long long)k->imin,
                          (long long)k->imax, (long long)e->i);
    }
    *(int *)field(cfg, k) = (int)e->i;
    return TD_OK;
}

/* Written so that NaN fails every comparison and is rejected. */
static int in_range(double v, const key_spec *k)
{
    if (!isfinite(v) || !((k->hi_closed & 2) ? v >= k->lo : v > k->lo))
        return 0;
    return (k->hi_closed & 1) ? v <= k->hi : v < k->hi;
}

static int set_number(const td_toml_entry *e, const key_spec *k,
                      td_config *cfg, const char *src, td_err *err)
{
    if (e->type != TD_TOML_FLOAT && e->type != TD_TOML_INT)
        return type_error(e, src, "a number", err);
    if (!in_range(e->f, k)) {
        char got[32];
        fmt_double(got, sizeof got, e->f);
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' must be %s, got %s",
                          src, e->line, e->path, k->range, got);
    }
    *(double *)field(cfg, k) = e->f;
    return TD_OK;
}

/* The words each enumerated kind accepts; a word's index is its value. */
static const char *const choices[][7] = {
    [K_INSEP] = {"fail", "best_effort", NULL},
    [K_BASE] = {"conditioned", "segment", NULL},
    [K_MODE] = {"auto", "theorem6", "lifted", "pieces", "polytope",
                "clustered", NULL},
    [K_OUTLAYER] = {"affine", "linear", "neural_collapse", NULL},
    [K_FORWARD] = {"auto", "dense", "structured", NULL},
};

static int set_choice(const td_toml_entry *e, const key_spec *k,
                      td_config *cfg, const char *src, td_err *err)
{
    if (e->type != TD_TOML_STRING)
        return type_error(e, src, "a string", err);
    const char *const *w = choices[k->kind];
    char list[160] = "";
    for (int i = 0; w[i]; i++) {
        if (strcmp(e->s, w[i]) == 0) {
            *(int *)field(cfg, k) = i;
            return TD_OK;
        }
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s\"%s\"",
                 !i ? "" : w[i + 1] ? ", " : " or ", w[i]);
    }
    return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' must be %s, got "
                      "\"%s\"", src, e->line, e->path, list, e->s);
}

static int set_bool(const td_toml_entry *e, const key_spec *k,
                    td_config *cfg, const char *src, td_err *err)
{
    if (e->type != TD_TOML_BOOL)
        return type_error(e, src, "a boolean", err);
    *(int *)field(cfg, k) = (int)e->i;
    return TD_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Reports the smallest repeated label, so the message is deterministic. */
static int check_distinct(const td_toml_entry *e, const char *src, td_err *err)
{
    int64_t *s = malloc(e->n * sizeof *s);
    if (!s)
        return oom(err);
    memcpy(s, e->ints, e->n * sizeof *s);
    qsort(s, e->n, sizeof *s, cmp_i64);
    for (size_t j = 1; j < e->n; j++) {
        if (s[j] == s[j - 1]) {
            long long dup = (long long)s[j];
            free(s);
            return td_err_set(err, TD_ERR_INPUT,
                              "%s:%d: key '%s' lists label %lld more than once",
                              src, e->line, e->path, dup);
        }
    }
    free(s);
    return TD_OK;
}

static int set_order(const td_toml_entry *e, td_config *cfg, const char *src,
                     td_err *err)
{
    if (e->type != TD_TOML_ARRAY || (e->n > 0 && e->elem_type != TD_TOML_INT))
        return type_error(e, src, "an array of integers", err);
    if (e->n == 0)
        return TD_OK;      /* same as absent: search the order */
    if (e->n > INT_MAX)
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' is too long",
                          src, e->line, e->path);
    int rc = check_distinct(e, src, err);
    if (rc)
        return rc;
    cfg->order = malloc(e->n * sizeof *cfg->order);
    if (!cfg->order)
        return oom(err);
    memcpy(cfg->order, e->ints, e->n * sizeof *cfg->order);
    cfg->norder = (int)e->n;
    return TD_OK;
}

/* What a row of construction.targets holds instead of numbers. */
static const char *row_kind(const td_toml_entry *r)
{
    if (r->n == 0)
        return "an empty array";
    switch (r->elem_type) {
    case TD_TOML_STRING: return "strings";
    case TD_TOML_BOOL: return "booleans";
    case TD_TOML_ARRAY: return "arrays";
    default: return "values that are not all numbers";
    }
}

/* One row: numbers, as many as row 0, all finite. */
static int check_target_row(const td_toml_entry *e, size_t j,
                            const char *src, td_err *err)
{
    const td_toml_entry *r = &e->rows[j];
    if (r->n == 0 || (r->elem_type != TD_TOML_INT &&
                      r->elem_type != TD_TOML_FLOAT))
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' row %zu must "
                          "hold numbers, got %s", src, r->line, e->path, j,
                          row_kind(r));
    if (r->n != e->rows[0].n)
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' row %zu has "
                          "%zu numbers, row 0 has %zu (ragged); every target "
                          "vector has Q numbers", src, r->line, e->path, j,
                          r->n, e->rows[0].n);
    for (size_t k = 0; k < r->n; k++)
        if (!isfinite(r->floats[k]))
            return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' row %zu "
                              "element %zu is %g; targets must be finite",
                              src, r->line, e->path, j, k, r->floats[k]);
    return TD_OK;
}

/* construction.targets: an array of Q arrays of Q numbers (the shape is
 * checked against the data's Q after loading, td_targets.h). */
static int set_targets(const td_toml_entry *e, td_config *cfg,
                       const char *src, td_err *err)
{
    if (e->type != TD_TOML_ARRAY || e->elem_type != TD_TOML_ARRAY)
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' must be an "
                          "array of arrays of numbers (a target vector per "
                          "class), got %s", src, e->line, e->path,
                          e->type != TD_TOML_ARRAY ? type_name(e)
                          : e->n == 0 ? "an empty array"
                          : "an array that is not all arrays");
    for (size_t j = 0; j < e->n; j++)
        if (check_target_row(e, j, src, err))
            return err->code;
    size_t cols = e->rows[0].n;
    if (e->n > 65536 || cols > 65536)      /* Q x Q doubles: ample */
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: key '%s' is too large "
                          "(%zu x %zu)", src, e->line, e->path, e->n, cols);
    cfg->targets = malloc(sizeof(double) * e->n * cols);
    if (!cfg->targets)
        return oom(err);
    for (size_t j = 0; j < e->n; j++)
        memcpy(cfg->targets + j * cols, e->rows[j].floats,
               sizeof(double) * cols);
    cfg->targets_rows = (int)e->n;
    cfg->targets_cols = (int)cols;
    cfg->targets_line = e->line;
    return TD_OK;
}

static int find_key(const char *path)
{
    for (size_t k = 0; k < NKEYS; k++)
        if (strcmp(schema[k].path, path) == 0)
            return (int)k;
    return -1;
}

/* "data" is a table name because "data.path" is a key. */
static int is_table_name(const char *path)
{
    size_t n = strlen(path);
    for (size_t k = 0; k < NKEYS; k++)
        if (strncmp(schema[k].path, path, n) == 0 && schema[k].path[n] == '.')
            return 1;
    return 0;
}

/* An entry naming a schema table: only an empty `[data]` is fine (its
 * required keys are then reported missing). */
static int check_table(const td_toml_entry *e, const char *src, td_err *err)
{
    if (e->type == TD_TOML_TABLE && e->n == 0)
        return TD_OK;
    return td_err_set(err, TD_ERR_INPUT, "%s:%d: '%s' must be a table, got %s",
                      src, e->line, e->path, type_name(e));
}

static int apply_entry(const td_toml_entry *e, td_config *cfg, int *seen,
                       const char *src, td_err *err)
{
    int k = find_key(e->path);
    if (k < 0) {
        if (is_table_name(e->path))
            return check_table(e, src, err);
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: unknown key '%s'", src,
                          e->line, e->path);
    }
    seen[k] = e->line > 0 ? e->line : 1;    /* its line, for messages */
    const key_spec *s = &schema[k];
    switch (s->kind) {
    case K_STR: return set_string(e, s, cfg, src, err);
    case K_PATH: return set_path(e, s, cfg, src, err);
    case K_INT: return set_int(e, s, cfg, src, err);
    case K_NUM: return set_number(e, s, cfg, src, err);
    case K_INSEP:
    case K_MODE:
    case K_OUTLAYER:
    case K_FORWARD:
    case K_BASE: return set_choice(e, s, cfg, src, err);
    case K_ORDER: return set_order(e, cfg, src, err);
    case K_BOOL: return set_bool(e, s, cfg, src, err);
    case K_TARGETS: return set_targets(e, cfg, src, err);
    }
    return td_err_set(err, TD_ERR_INTERNAL, "config schema: bad kind");
}

static int apply_doc(const td_toml_doc *doc, td_config *cfg, td_err *err)
{
    int seen[NKEYS] = {0};
    for (size_t j = 0; j < doc->n; j++) {
        int rc = apply_entry(&doc->e[j], cfg, seen, cfg->source, err);
        if (rc)
            return rc;
    }
    for (size_t k = 0; k < NKEYS; k++)   /* schema order: deterministic */
        if (schema[k].required && !seen[k])
            return td_err_set(err, TD_ERR_INPUT,
                              "%s: missing required key '%s'", cfg->source,
                              schema[k].path);
    int t = find_key("construction.targets"),
        d = find_key("data.targets_dataset");
    if (seen[t] && seen[d])
        return td_err_set(err, TD_ERR_INPUT, "%s:%d: keys 'data.targets_"
                          "dataset' (line %d) and 'construction.targets' "
                          "(line %d) both give the target vectors; set only "
                          "one", cfg->source, seen[t] > seen[d] ? seen[t]
                          : seen[d], seen[d], seen[t]);
    return TD_OK;
}

/* Relative data/output paths mean "next to the config file", so a run does
 * not depend on the directory it was launched from.  No normalisation and
 * no file-system access: the result must be identical on every rank. */
static int resolve_path(char **path, const char *key, const char *source,
                        td_err *err)
{
    const char *slash = strrchr(source, '/');
    if (strcmp(source, "<string>") == 0 || (*path)[0] == '/' || !slash)
        return TD_OK;      /* no slash: the config is in the cwd already */
    size_t dlen = (size_t)(slash - source) + 1;    /* keeps the '/' */
    size_t plen = strlen(*path);
    char *r = malloc(dlen + plen + 1);
    if (!r)
        return oom(err);
    memcpy(r, source, dlen);
    memcpy(r + dlen, *path, plen + 1);
    free(*path);
    *path = r;
    if (dlen + plen > PATH_MAX - 1)
        return td_err_set(err, TD_ERR_INPUT, "%s: key '%s' is a path of %zu "
                          "bytes next to the config; paths are limited to %d "
                          "(PATH_MAX - 1)", source, key, dlen + plen,
                          PATH_MAX - 1);
    return TD_OK;
}

static int set_defaults(td_config *cfg, const char *text, const char *source)
{
    cfg->source = dup_str(source);
    cfg->text = dup_str(text);
    cfg->x_dataset = dup_str("X");
    cfg->y_dataset = dup_str("y");
    cfg->kappa = 0.5;
    cfg->on_inseparable = TD_INSEP_FAIL;
    cfg->backtrack_budget = 1000;
    cfg->mode = TD_MODE_AUTO;
    cfg->grow_rounds = 3;
    cfg->margin_floor = 1e-4;
    cfg->auto_budget = TD_AUTO_BUDGET;
    cfg->base_point = TD_BASE_CONDITIONED;
    cfg->working_set = 256;
    cfg->max_rounds = 50;
    cfg->hull_tol = 1e-10;
    cfg->gap = 1e-3;
    cfg->fisher_warm_start = 1;
    cfg->block_rows = 1024;
    cfg->scalapack_threshold = 1024;
    cfg->tolerance = 1e-8;
    cfg->checkpoint = 1;
    cfg->checkpoint_interval = 60;
    return cfg->source && cfg->text && cfg->x_dataset && cfg->y_dataset;
}

static int parse_into(const char *text, td_config *cfg, td_err *err)
{
    char msg[TD_ERR_MSG_LEN];
    td_toml_doc doc;
    int rc = td_toml_parse(text, cfg->source, &doc, msg, sizeof msg);
    if (rc)
        return td_err_set(err, rc == TD_ERR_INTERNAL ? TD_ERR_INTERNAL
                                                     : TD_ERR_INPUT, "%s", msg);
    rc = apply_doc(&doc, cfg, err);
    td_toml_free(&doc);
    if (rc == TD_OK)
        rc = resolve_path(&cfg->data_path, "data.path", cfg->source, err);
    if (rc == TD_OK)
        rc = resolve_path(&cfg->output_path, "output.path", cfg->source, err);
    if (rc == TD_OK && cfg->eval_path)
        rc = resolve_path(&cfg->eval_path, "eval.path", cfg->source, err);
    return rc;
}

int td_config_parse(const char *text, const char *source, td_config *cfg,
                    td_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (!source)
        source = "<string>";
    if (!text)
        return td_err_set(err, TD_ERR_INTERNAL, "%s: no config text", source);
    int rc = set_defaults(cfg, text, source) ? parse_into(text, cfg, err)
                                             : oom(err);
    if (rc != TD_OK)
        td_config_free(cfg);
    return rc;
}

int td_read_text_file(const char *path, char **text, td_err *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return td_err_set(err, TD_ERR_INPUT, "cannot read config '%s': %s",
                          path, strerror(errno));
    /* one byte beyond the limit tells "too large" from "exactly the limit" */
    char *buf = malloc(TD_CONFIG_MAX_BYTES + 2);
    if (!buf) {
        fclose(f);
        return oom(err);
    }
    errno = 0;
    size_t n = fread(buf, 1, TD_CONFIG_MAX_BYTES + 1, f);
    int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    int rc = TD_OK;
    if (read_errno)        /* e.g. EISDIR: fopen succeeds on a directory */
        rc = td_err_set(err, TD_ERR_INPUT, "cannot read config '%s': %s",
                        path, strerror(read_errno));
    else if (n > TD_CONFIG_MAX_BYTES)
        rc = td_err_set(err, TD_ERR_INPUT,
                        "config '%s' is larger than 1 MiB; is it the right file?",
                        path);
    else if (memchr(buf, '\0', n))
        rc = td_err_set(err, TD_ERR_INPUT,
                        "config '%s' contains a NUL byte at offset %zu; "
                        "it is not a text file",
                        path, (size_t)((char *)memchr(buf, '\0', n) - buf));
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    char *small = realloc(buf, n + 1);  /* give back the unused megabyte */
    *text = small ? small : buf;
    return TD_OK;
}

void td_config_free(td_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->source);
    free(cfg->text);
    free(cfg->data_path);
    free(cfg->x_dataset);
    free(cfg->y_dataset);
    free(cfg->output_path);
    free(cfg->eval_path);
    free(cfg->order);
    free(cfg->targets_dataset);
    free(cfg->targets);
    memset(cfg, 0, sizeof *cfg);
}
