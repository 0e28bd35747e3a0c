/* buf.c - the byte strings checkpoints are packed into (td_buf.h). */
#include <stdlib.h>
#include <string.h>
#include "td_buf.h"

void td_buf_put(td_buf *b, const void *x, size_t n)
{
    if (b->bad)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, x, n);
    b->len += n;
}

void td_buf_get(td_buf *b, void *x, size_t n)
{
    if (b->bad || n > b->len - b->pos) {
        b->bad = 1;
        memset(x, 0, n);
        return;
    }
    memcpy(x, b->p + b->pos, n);
    b->pos += n;
}

void td_buf_put_i64(td_buf *b, int64_t v) { td_buf_put(b, &v, sizeof v); }
void td_buf_put_f64(td_buf *b, double v) { td_buf_put(b, &v, sizeof v); }

int64_t td_buf_get_i64(td_buf *b)
{
    int64_t v;
    td_buf_get(b, &v, sizeof v);
    return v;
}

double td_buf_get_f64(td_buf *b)
{
    double v;
    td_buf_get(b, &v, sizeof v);
    return v;
}

/* An array is its length in bytes (-1: absent) and its bytes. */
void td_buf_put_arr(td_buf *b, const void *x, size_t bytes)
{
    td_buf_put_i64(b, x ? (int64_t)bytes : -1);
    if (x)
        td_buf_put(b, x, bytes);
}

void *td_buf_get_arr(td_buf *b, size_t bytes)
{
    int64_t n = td_buf_get_i64(b);
    if (n < 0 || b->bad)
        return NULL;
    if ((size_t)n != bytes || (size_t)n > b->len - b->pos) {
        b->bad = 1;
        return NULL;
    }
    void *x = malloc(bytes ? bytes : 1);
    if (!x) {
        b->bad = 1;
        return NULL;
    }
    td_buf_get(b, x, bytes);
    return x;
}

void td_buf_free(td_buf *b)
{
    free(b->p);
    *b = (td_buf){0};
}
