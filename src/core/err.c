/* err.c - error records (see td_err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "td_err.h"

void td_err_clear(td_err *err)
{
    err->code = TD_OK;
    err->msg[0] = '\0';
}

int td_err_set(td_err *err, int code, const char *fmt, ...)
{
    if (err->code != TD_OK)     /* keep the first, root-cause message */
        return err->code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
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
