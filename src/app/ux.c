/* ux.c - report level, progress mode and the final summary (td_ux.h). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "td_comm.h"
#include "td_progress.h"
#include "td_ux.h"

void td_ux_setup(int level, int progress)
{
    td_progress_mode mode = TD_PROGRESS_OFF;
    FILE *bar = NULL;
    if (td_comm_rank() == 0) {
        /* Open MPI's mpirun gives each rank a pseudo-terminal as stdout,
         * even when mpirun itself writes to a file or a pipe, and a pipe
         * as stderr: under it, isatty(stdout) says nothing */
        int out_tty = isatty(STDOUT_FILENO) &&
                      getenv("OMPI_COMM_WORLD_SIZE") == NULL;
        int err_tty = isatty(STDERR_FILENO);
        mode = TD_PROGRESS_LINES;
        if (progress == TD_UX_PROGRESS_BAR) {
            mode = TD_PROGRESS_BAR;
            bar = err_tty && !isatty(STDOUT_FILENO) ? stderr : stdout;
        } else if (progress == TD_UX_PROGRESS_AUTO && (out_tty || err_tty)) {
            mode = TD_PROGRESS_BAR;
            bar = out_tty ? stdout : stderr;
        }
    }
    td_report_init(level, mode, bar);
}

void td_ux_summary(const td_config *cfg, const td_model *mdl,
                   const td_run_times *t, double write_s)
{
    int64_t dense, geometric;
    td_model_params(mdl, &dense, &geometric);
    int L = mdl->net.num_layers;
    double total = t->load + t->build + t->verify + write_s;
    char loss[160];
    if (mdl->sequentially_separable)
        snprintf(loss, sizeof loss, "zero loss: yes (max error %.2g <= %.1g)",
                 mdl->max_error, cfg->tolerance);
    else
        snprintf(loss, sizeof loss, "zero loss: no (best effort, accuracy "
                 "%.4f%%, max error %.2g)", mdl->n_points > 0
                 ? 100.0 * mdl->n_correct / mdl->n_points : 0.0,
                 mdl->max_error);
    td_say_at(TD_QUIET, "summary: %s construction, %d layers (%d hidden + 1 "
              "output), %lld parameters, %s, %.3f s, %s\n",
              td_construction_name(mdl->construction), L, L - 1,
              (long long)dense, loss, total, cfg->output_path);
    td_say("  time: load %.3f s, search %.3f s, verify %.3f s, write %.3f s, "
           "total %.3f s (wall clock, %d ranks x %d threads)\n", t->load,
           t->build, t->verify, write_s, total, td_comm_size(),
           omp_get_max_threads());
}
