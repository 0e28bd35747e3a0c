/* report.c - why a step found no separable class, in one line. */
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_step.h"

/* Append to the one-line failure summary, keeping it within bounds. */
static void summary_add(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void summary_add(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static void describe_failure(const td_sep *sp, int64_t label, char *buf,
                             size_t len)
{
    if (sp->status == TD_SEP_INSEPARABLE) {
        summary_add(buf, len, " class %lld: hulls meet (a convex combination "
                    "of %d of its rows lies within %.3g of one of %d points of "
                    "the rest, radius %.3g", (long long)label, sp->nsupp_a,
                    sp->hull_dist, sp->nsupp_b, sp->hull_scale);
        for (int i = 0; i < sp->nev_a && i < 1; i++)
            summary_add(buf, len, "; e.g. row %lld", (long long)sp->ev_a[i]);
        for (int i = 0; i < sp->nev_b && i < 1; i++) {
            if (sp->ev_b[i] < 0)
                summary_add(buf, len, " vs base point of layer %lld",
                            (long long)(-sp->ev_b[i]));
            else
                summary_add(buf, len, " vs row %lld", (long long)sp->ev_b[i]);
        }
        summary_add(buf, len, ");");
    } else {
        summary_add(buf, len, " class %lld: no separator after %d rounds "
                    "(best margin %.3g, hull distance <= %.3g, not proven "
                    "zero);", (long long)label, sp->rounds, sp->margin,
                    sp->hull_dist);
    }
}

/* Report that step l found no separable class, on stdout and in err. */
int td_report_inseparable(const td_step *s, const td_model *mdl,
                              int l, const int *cand, int ncand,
                              const td_sep *seps, td_err *err)
{
    char buf[TD_ERR_MSG_LEN] = "";
    summary_add(buf, sizeof buf, "not sequentially separable: ordered %d of "
                "%d classes [", l, s->q);
    for (int i = 0; i < l; i++)
        summary_add(buf, sizeof buf, "%s%lld", i ? ", " : "",
                    (long long)mdl->layers[i].label);
    summary_add(buf, sizeof buf, "]; no remaining class separates from the "
                "rest:");
    for (int i = 0; i < ncand; i++)
        describe_failure(&seps[i], mdl->labels[cand[i]], buf, sizeof buf);
    return td_err_set(err, TD_ERR_INSEPARABLE, "%s", buf);
}
