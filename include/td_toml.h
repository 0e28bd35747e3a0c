/* td_toml.h - a tiny C view of a TOML document (parsed by toml++).
 *
 * The shim flattens the document into leaf entries with dotted paths and
 * source lines; validation against our schema is done in C (io/config.c). */
#ifndef TD_TOML_H
#define TD_TOML_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TD_TOML_STRING, TD_TOML_INT, TD_TOML_FLOAT, TD_TOML_BOOL,
    TD_TOML_ARRAY,  /* array; elements described by elem_type */
    TD_TOML_TABLE,  /* an empty table (n = 0) or an array of tables (n =
                       its length), kept so it can be rejected by name */
    TD_TOML_OTHER   /* dates, times, mixed arrays ... */
} td_toml_type;

typedef struct td_toml_entry td_toml_entry;

struct td_toml_entry {
    char *path;            /* dotted key path, e.g. "data.path" */
    int line;              /* 1-based line of the key in the source */
    td_toml_type type;
    char *s;               /* TD_TOML_STRING */
    int64_t i;             /* TD_TOML_INT, TD_TOML_BOOL (0/1) */
    double f;              /* TD_TOML_FLOAT (and TD_TOML_INT as double) */
    /* TD_TOML_ARRAY: n elements; elem_type is the common type, or
       TD_TOML_OTHER when mixed, non-scalar or empty (n = 0).  Integers
       and floats together are numbers: elem_type TD_TOML_FLOAT, every
       element in floats (integers converted).  An array whose elements
       are all arrays has elem_type TD_TOML_ARRAY and rows. */
    size_t n;
    td_toml_type elem_type;
    int64_t *ints;         /* when elem_type == TD_TOML_INT */
    double *floats;        /* when elem_type is INT or FLOAT */
    char **strs;           /* when elem_type == TD_TOML_STRING */
    td_toml_entry *rows;   /* when elem_type == TD_TOML_ARRAY: n entries of
                              type TD_TOML_ARRAY, each with its own line and
                              path "<path>[<j>]" (arrays of arrays, e.g.
                              construction.targets) */
};

typedef struct {
    size_t n;
    td_toml_entry *e;      /* in document order */
} td_toml_doc;

/* Parse TOML text.  Returns 0, TD_ERR_INPUT on a syntax error (errbuf
 * gets "<source>:<line>:<col>: <parser message>") or TD_ERR_INTERNAL when
 * memory runs out.  Strings containing NUL are rejected (C strings could
 * not hold them). */
int td_toml_parse(const char *text, const char *source, td_toml_doc *doc,
                  char *errbuf, size_t errlen);

void td_toml_free(td_toml_doc *doc);

#endif
