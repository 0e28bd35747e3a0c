/* err.c - error records (see td_err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_err.h"

void td_err_clear(td_err *err)
{
    err->code = TD_OK;
    err->msg[0] = '\0';
}

/* A byte that starts a UTF-8 character (not a continuation byte). */
static int char_start(unsigned char c)
{
    return (c & 0xC0) != 0x80;
}

/* The message did not fit (n bytes): keep its start and its end, which
 * says what went wrong ("...: no dataset 'y'"), and drop the middle of
 * what is then nearly always a long path, marked "[...]", never cutting a
 * UTF-8 character.  Without memory for the full text, msg stays cut. */
static void elide_middle(char *msg, size_t len, size_t n, const char *fmt,
                         va_list ap)
{
    char *full = malloc(n + 1);
    if (!full)
        return;
    vsnprintf(full, n + 1, fmt, ap);
    static const char mark[] = " [...] ";
    size_t keep = len - sizeof mark;          /* bytes of text kept */
    size_t head = keep / 4, tail = keep - head;
    while (head > 0 && !char_start((unsigned char)full[head]))
        head--;
    size_t from = n - tail;
    while (from < n && !char_start((unsigned char)full[from]))
        from++;
    memcpy(msg, full, head);
    memcpy(msg + head, mark, sizeof mark - 1);
    memcpy(msg + head + sizeof mark - 1, full + from, n - from + 1);
    free(full);
}

int td_err_set(td_err *err, int code, const char *fmt, ...)
{
    if (err->code != TD_OK)     /* keep the first, root-cause message */
        return err->code;
    err->code = code;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof err->msg)      /* a long path: say what happened */
        elide_middle(err->msg, sizeof err->msg, (size_t)n, fmt, again);
    va_end(again);
    /* one line only: messages may embed parser text with newlines */
    for (char *c = err->msg; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return code;
}

const char *td_status_name(int code)
{
    switch (code) {
    case TD_OK: return "ok";
    case TD_ERR_INTERNAL: return "internal error";
    case TD_ERR_INPUT: return "input error";
    case TD_ERR_INSEPARABLE: return "not sequentially separable";
    case TD_ERR_VERIFY: return "verification failed";
    case TD_ERR_OUTPUT: return "output error";
    case TD_ERR_INTERRUPTED: return "interrupted";
    default: return "unknown error";
    }
}
