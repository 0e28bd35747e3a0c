/* td_buf.h - byte strings for checkpoints (td_ckpt.h). */
#ifndef TD_BUF_H
#define TD_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A growing byte string, read back in the order it was written; a read
 * past the end or a failed allocation sets `bad` and yields zeros. */
typedef struct {
    unsigned char *p;
    size_t len, cap, pos;
    int bad;
} td_buf;

void td_buf_put(td_buf *b, const void *x, size_t n);
void td_buf_get(td_buf *b, void *x, size_t n);
void td_buf_put_i64(td_buf *b, int64_t v);
int64_t td_buf_get_i64(td_buf *b);
void td_buf_put_f64(td_buf *b, double v);
double td_buf_get_f64(td_buf *b);
/* n doubles; a NULL array is stored as absent and read back as NULL. */
void td_buf_put_arr(td_buf *b, const void *x, size_t bytes);
/* malloc'd copy of a stored array (NULL when absent or empty); `bytes`
 * must match what was stored, else the buffer goes bad. */
void *td_buf_get_arr(td_buf *b, size_t bytes);
void td_buf_free(td_buf *b);

#endif
