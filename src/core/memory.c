/* memory.c - the per-rank memory model of a run (see td_memory.h; the
 * README's "Memory" paragraph lists the same terms). */
#include "td_memory.h"

/* The separator's working sets (separator.c): at most 4096 points per
 * class, fewer when Q sets of M doubles would pass 2 GiB, never < 512. */
#define WS_CAP 4096.0
#define WS_MIN 512.0
#define WS_BUDGET (2.0 * 1024 * 1024 * 1024)

static double dmax(double a, double b) { return a > b ? a : b; }

void td_memory_estimate(const td_mem_in *in, td_mem_est *out)
{
    double n = (double)in->n_rows, m = in->m, q = in->q;
    double t = in->threads > 0 ? in->threads : 1;
    double b = in->block_rows, k = in->working_set;
    double w = in->width > 0 ? in->width : m;
    int p = in->nranks > 0 ? in->nranks : 1;

    out->shard = n * (in->value_bytes * m + 8);
    out->duplicates = 48 * n;
    out->best_effort = in->best_effort ? 8 * n * m : 0;
    out->stats = 16 * q * m + 24 * q * m * t;
    out->scatter = in->fisher ? 24 * m * m + t * (24 * m * m + 8 * (b + 1) * m)
                              : 0;
    /* class i's set lives on rank i mod P */
    double owned = (double)((in->q + p - 1) / p);
    double fit = WS_BUDGET / (q * m * 8);
    double limit = fit >= WS_CAP ? WS_CAP : fit <= WS_MIN ? WS_MIN : fit;
    if (limit > in->n_total + q)     /* no more points than the data */
        limit = (double)in->n_total + q;
    double solvers = owned < t ? owned : t;
    out->working_sets = owned * limit * (8 * m + 12)   /* points, row, class */
                      + solvers * limit * 8 * m         /* centred copies */
                      + 2 * q * k * 24                  /* candidate lists */
                      + owned * 2 * k * m * 8;          /* their points */
    out->lifted = w > m ? 8 * m * m + 64 * q * m * 8 : 0;
    out->network = in->dense_network ? 8 * q * (w * w + w) : 0;
    out->projection = 0;
    if (in->clustered) {     /* no separators: cones from the class means */
        out->scatter = out->working_sets = out->lifted = 0;
        out->projection = n * (8 * q + 8);
        out->network = 8 * q * (m + 1) + 8 * q * (q + 1) * (q + 2);
    }
    /* per thread: a block's outputs and two activations (2 n wide with a
     * reset layer), its rows widened, fates; a row of scratch */
    double d = dmax(2 * w, q);
    out->verify = t * (8 * b * (q + 2 * d + m) + b + 8 * m);
    out->runtime = TD_MEM_RUNTIME;
    double search = out->stats + out->scatter + out->working_sets +
                    out->lifted + out->projection + out->network;
    out->peak = out->runtime + out->shard + out->best_effort +
                dmax(out->duplicates, dmax(search, out->verify + out->network));
}
