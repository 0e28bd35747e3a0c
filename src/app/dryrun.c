/* dryrun.c - trunc-dist --dry-run: the report after the checks a real run
 * makes before its search (main.c runs them: the config, the output
 * target, the reader's contract, labels and classes, identical points with
 * different labels).  It adds one pass for the class counts and writes
 * nothing. */
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "td_comm.h"
#include "td_memory.h"
#include "td_progress.h"
#include "td_search.h"
#include "td_ux.h"

/* Bytes in the unit that keeps 3 significant digits readable. */
static const char *human(double bytes, char *buf, size_t len)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", bytes, unit[u]);
    return buf;
}

/* What a run would build, in words (README, "Any data"). */
static void plan_text(const td_config *cfg, int m, int q, char *buf,
                      size_t len)
{
    switch (cfg->mode) {
    case TD_MODE_THEOREM6:
        snprintf(buf, len, "theorem6 at width %d (strict)", m);
        break;
    case TD_MODE_LIFTED:
        snprintf(buf, len, "lifted at width %d (M + Q)", m + q);
        break;
    case TD_MODE_PIECES:
        snprintf(buf, len, "pieces at width %d (M + Q)", m + q);
        break;
    case TD_MODE_POLYTOPE:
        snprintf(buf, len, "polytope (2 hidden layers)");
        break;
    case TD_MODE_CLUSTERED:
        snprintf(buf, len, "clustered at width %d after the first layer", q);
        break;
    default:
        if (m >= q - 1)
            snprintf(buf, len, "auto: clustered at width %d when "
                     "Proposition 3's conditions hold, else theorem6 at "
                     "width %d; if not sequentially separable, %spieces at "
                     "width %d", q, m, q == 2 ? "a polytope or " : "", m + q);
        else
            snprintf(buf, len, "auto: pieces at width %d (M < Q - 1)", m + q);
    }
}

/* The memory model for the construction(s) the mode may build; the
 * larger peak when auto may build either. */
static void estimate(const td_config *cfg, const td_engine *e, int64_t nmax,
                     td_mem_est *est, int *width)
{
    td_mem_in in = {nmax, e->n_total, e->m, e->q, e->x0 ? 8 : 4, td_comm_size(),
                    omp_get_max_threads(), cfg->block_rows, cfg->working_set,
                    e->m, cfg->fisher_warm_start,
                    cfg->on_inseparable == TD_INSEP_BEST_EFFORT, 0, 0};
    int auto_ = cfg->mode == TD_MODE_AUTO;
    int at_m = cfg->mode == TD_MODE_THEOREM6 || (auto_ && e->m >= e->q - 1);
    int lifted = cfg->mode != TD_MODE_THEOREM6 &&
                 cfg->mode != TD_MODE_CLUSTERED;
    int clustered = cfg->mode == TD_MODE_CLUSTERED ||
                    (auto_ && e->m >= e->q - 1);
    td_mem_est a = {0}, b = {0}, c = {0};
    if (at_m) {
        /* main.c's choose_forward: dense below 1e10 flops per rank */
        double flops = 2.0 * ((double)e->q * e->m * e->m + (double)e->m * e->q)
                       * e->n_total / td_comm_size();
        in.dense_network = cfg->forward == 1 ||
                           (cfg->forward == 0 && flops <= 1e10);
        td_memory_estimate(&in, &a);
    }
    if (lifted) {
        in.width = e->m + e->q;
        in.dense_network = 0;     /* depth unknown: structured, or small */
        td_memory_estimate(&in, &b);
    }
    if (clustered) {
        in.width = e->q;
        in.dense_network = 1;     /* always verified dense */
        in.clustered = 1;
        td_memory_estimate(&in, &c);
    }
    /* the largest of what the mode may build */
    *est = a;
    *width = e->m;
    if (lifted && b.peak > est->peak) {
        *est = b;
        *width = e->m + e->q;
    }
    if (clustered && c.peak > est->peak) {
        *est = c;
        *width = e->q;
    }
}

/* "label: rows" of every class (of the first 10 when there are many,
 * unless --verbose), wrapped at 78 columns. */
static void say_classes(const td_model *mdl)
{
    int show = td_report_level() >= TD_VERBOSE || mdl->q <= 12 ? mdl->q : 10;
    char line[128] = "  classes (label: rows):";
    size_t used = strlen(line);
    for (int j = 0; j < show; j++) {
        char item[64];
        int n = snprintf(item, sizeof item, " %lld: %lld%s",
                         (long long)mdl->labels[j], (long long)mdl->counts[j],
                         j + 1 < mdl->q ? "," : "");
        if (used + n > 78) {
            td_say("%s\n", line);
            used = (size_t)snprintf(line, sizeof line, "   ");
        }
        used += (size_t)snprintf(line + used, sizeof line - used, "%s", item);
    }
    if (show < mdl->q)
        td_say("%s ... and %d more (--verbose lists them)\n", line,
               mdl->q - show);
    else
        td_say("%s\n", line);
}

int td_ux_dry_run(const td_config *cfg, td_engine *eng, td_model *mdl,
                  td_err *err)
{
    /* the one check a run makes after loading, at the start of its
     * Theorem 6 search (main.c's build: theorem6, or auto with M >= Q-1) */
    if ((cfg->mode == TD_MODE_THEOREM6 ||
         (cfg->mode == TD_MODE_AUTO && eng->m >= mdl->q - 1)) &&
        td_search_check_order(cfg, mdl, err))
        return err->code;
    if (td_engine_class_stats(eng, mdl->counts, mdl->means))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                          "counts)");
    double nmax = (double)eng->n_local, nmin = nmax;
    td_comm_max(&nmax, 1);
    td_comm_min(&nmin, 1);
    struct stat st;
    int exists = td_comm_rank() == 0 && stat(cfg->output_path, &st) == 0;
    char plan[400], b1[32];
    plan_text(cfg, eng->m, mdl->q, plan, sizeof plan);
    td_mem_est est;
    int width;
    estimate(cfg, eng, (int64_t)nmax, &est, &width);

    td_say("dry run: the checks of a run passed; nothing is built or "
           "written\n");
    td_say("  X '%s': %s, %lld x %d (N x M); y '%s': %lld integer labels, "
           "%d classes\n", cfg->x_dataset, eng->x0 ? "float64" : "float32",
           (long long)eng->n_total, eng->m, cfg->y_dataset,
           (long long)eng->n_total, mdl->q);
    say_classes(mdl);
    td_say("  rows per rank: %.0f to %.0f (%d ranks, blocks of %d rows)\n",
           nmin, nmax, td_comm_size(), cfg->block_rows);
    td_say("  construction: %s\n", plan);
    td_say("  output: %s (%s)\n", cfg->output_path, exists
           ? "exists: a run replaces it" : "a new file");
    td_say("  memory per rank, estimated for the rank with the most rows "
           "(width %d, %d thread%s):\n", width, omp_get_max_threads(),
           omp_get_max_threads() == 1 ? "" : "s");
    td_say("    shard             %-10s %.0f rows of %s values + 8 bytes of "
           "indices\n", human(est.shard, b1, sizeof b1), nmax,
           eng->x0 ? "float64" : "float32");
    td_say("    duplicate check   %-10s after loading, freed before the "
           "search\n", human(est.duplicates, b1, sizeof b1));
    if (est.best_effort > 0)
        td_say("    best effort       %-10s a widened copy of the points\n",
               human(est.best_effort, b1, sizeof b1));
    td_say("    working sets      %-10s at most, with the candidate lists\n",
           human(est.working_sets + est.lifted, b1, sizeof b1));
    if (est.projection > 0)
        td_say("    projection        %-10s the rows in R^Q (clustered)\n",
               human(est.projection, b1, sizeof b1));
    td_say("    statistics        %-10s class sums%s\n",
           human(est.stats + est.scatter, b1, sizeof b1),
           est.scatter > 0 ? " and the Fisher scatter" : "");
    td_say("    verification      %-10s block buffers\n",
           human(est.verify, b1, sizeof b1));
    td_say("    dense network     %-10s %s\n", human(est.network, b1, sizeof b1),
           est.network > 0 ? "on every rank" : "none (structured or streamed)");
    td_say("    runtime           %-10s MPI, HDF5, BLAS\n",
           human(est.runtime, b1, sizeof b1));
    td_say("    peak              %-10s shard + runtime + the largest phase\n",
           human(est.peak, b1, sizeof b1));
    td_say_at(TD_QUIET, "dry run: ok: %lld points x %d features, %d "
              "classes, %d ranks; a run needs about %s per rank and would "
              "write %s\n", (long long)eng->n_total, eng->m, mdl->q,
              td_comm_size(), human(est.peak, b1, sizeof b1),
              cfg->output_path);
    return TD_OK;
}
