/* targets.c - where a run's target vectors come from (td_targets.h):
 * one-hot, construction.targets, or data.targets_dataset.  Every rank
 * holds the config, so config targets are checked on every rank alike;
 * a dataset is read and checked by rank 0 alone, the ranks agree on the
 * outcome, and only then is the matrix broadcast (local work, one
 * agreement, then the collective). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_h5.h"
#include "td_targets.h"

/* Rank 0: the dataset, read and checked; *Y the q x q values. */
static void read_dataset(const td_config *cfg, const td_model *mdl,
                         double **Y, td_err *err)
{
    int64_t dims[2] = {0, 0};
    int q = mdl->q;
    char what[TD_ERR_MSG_LEN / 2];
    if (td_h5_read_matrix(cfg->data_path, cfg->targets_dataset, q, q, Y, dims,
                          err))
        return;
    snprintf(what, sizeof what, "%s: dataset '%s'", cfg->data_path,
             cfg->targets_dataset);
    /* a shape other than q x q came without values: clamp it into int for
     * the message (it is wrong either way) */
    int rows = dims[0] > 1 << 30 ? 1 << 30 : (int)dims[0];
    int cols = dims[1] > 1 << 30 ? 1 << 30 : (int)dims[1];
    td_targets_check(*Y, rows, cols, q, mdl->labels, what, err);
}

static int from_dataset(const td_config *cfg, td_model *mdl, td_err *err)
{
    double *Y = NULL;
    size_t bytes = sizeof(double) * (size_t)mdl->q * mdl->q;
    if (td_comm_rank() == 0)
        read_dataset(cfg, mdl, &Y, err);
    if (td_comm_agree_print(err)) {
        free(Y);
        return err->code;
    }
    if (td_comm_rank() == 0)
        memcpy(mdl->targets, Y, bytes);
    free(Y);
    td_comm_bcast(mdl->targets, bytes);
    snprintf(mdl->targets_source, sizeof mdl->targets_source, "dataset:%s",
             cfg->targets_dataset);
    return TD_OK;
}

/* The same config on every rank: the same verdict, no communication. */
static int from_config(const td_config *cfg, td_model *mdl, td_err *err)
{
    char what[TD_ERR_MSG_LEN / 2];
    snprintf(what, sizeof what, "%s:%d: construction.targets", cfg->source,
             cfg->targets_line);
    td_targets_check(cfg->targets, cfg->targets_rows, cfg->targets_cols,
                     mdl->q, mdl->labels, what, err);
    if (td_comm_agree_print(err))   /* memory may differ between ranks */
        return err->code;
    memcpy(mdl->targets, cfg->targets,
           sizeof(double) * (size_t)mdl->q * mdl->q);
    snprintf(mdl->targets_source, sizeof mdl->targets_source, "config");
    return TD_OK;
}

int td_targets_setup(td_config *cfg, td_model *mdl, td_err *err)
{
    snprintf(mdl->targets_source, sizeof mdl->targets_source, "one_hot");
    if (cfg->targets_dataset && from_dataset(cfg, mdl, err))
        return err->code;
    if (cfg->targets && from_config(cfg, mdl, err))
        return err->code;
    /* outputs and their rounding scale with the targets: the tolerance is
     * relative to max(1, max |y_jk|), absolute for one-hot targets */
    double s = td_targets_scale(mdl->targets, mdl->q);
    cfg->tolerance *= s;
    if (strcmp(mdl->targets_source, "one_hot") == 0)
        return TD_OK;
    if (s != 1)
        td_say("targets: %s (%d x %d), max |y_jk| = %.3g: verify.tolerance "
               "is %.3g (relative to it)\n", mdl->targets_source, mdl->q,
               mdl->q, s, cfg->tolerance);
    else
        td_say("targets: %s (%d x %d)\n", mdl->targets_source, mdl->q,
               mdl->q);
    return TD_OK;
}
