/* eval.c - trunc-dist eval NETWORK.h5 DATA.h5: a built network's accuracy
 * and cost on other labelled data (a test split), on any number of ranks.
 *
 * Every rank reads the network (small: the geometric form) and its block
 * of the data's rows; the pass is the verification's, in the structured
 * O(width) form for cone networks (the same function as the dense layers
 * up to rounding) and dense for a polytope. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_eval.h"
#include "td_h5.h"
#include "td_h5net.h"
#include "td_verify.h"

#define EVAL_BLOCK_ROWS 1024

/* Class index of each row in the network's label order: every data label
 * must be one of the network's.  Local; the caller agrees. */
static int map_labels(td_engine *e, const int64_t *dlab, const td_model *mdl,
                      const char *data, td_err *err)
{
    int *to = malloc(sizeof(int) * (e->q > 0 ? e->q : 1));
    if (!to)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (labels)");
    for (int c = 0; c < e->q; c++) {
        to[c] = -1;
        for (int j = 0; j < mdl->q; j++)
            if (mdl->labels[j] == dlab[c])
                to[c] = j;
        if (to[c] < 0) {
            free(to);
            return td_err_set(err, TD_ERR_INPUT, "%s: label %lld is not a "
                              "class of the network", data,
                              (long long)dlab[c]);
        }
    }
    for (int64_t i = 0; i < e->n_local; i++)
        e->cls[i] = to[e->cls[i]];
    free(to);
    return TD_OK;
}

static int load(const char *net_path, const char *data, td_model *mdl,
                td_engine *e, td_err *err)
{
    td_h5_read_network(net_path, mdl, err);
    if (td_comm_agree(err))
        return err->code;
    td_shard_data d = {0};
    td_h5_read_shard(data, "X", "y", td_comm_world(), EVAL_BLOCK_ROWS, &d, err);
    if (td_comm_agree(err)) {
        td_shard_data_free(&d);
        return err->code;
    }
    int64_t *dlab = NULL;
    int q = 0;
    td_engine_init(e, &d, EVAL_BLOCK_ROWS, &dlab, &q, err);
    td_shard_data_free(&d);
    if (!err->code && e->m != mdl->m)
        td_err_set(err, TD_ERR_INPUT, "%s: %d features, the network takes %d",
                   data, e->m, mdl->m);
    if (!err->code)
        map_labels(e, dlab, mdl, data, err);
    /* the cones live where the construction ran: at s x (the dense
     * layers of a polytope take x itself) */
    if (!err->code && mdl->construction != TD_CONS_POLYTOPE &&
        mdl->input_scale != 1 && td_engine_scale(e, mdl->input_scale))
        td_err_set(err, TD_ERR_INTERNAL, "out of memory (scaled copy)");
    free(dlab);
    return td_comm_agree(err);
}

int td_eval_main(const char *net_path, const char *data, td_err *err)
{
    td_model mdl = {0};
    td_engine e = {0};
    double t0 = td_comm_wtime();
    if (load(net_path, data, &mdl, &e, err) == TD_OK) {
        mdl.structured = mdl.construction != TD_CONS_POLYTOPE;
        td_verify(&e, &mdl, err);
    }
    if (td_comm_agree(err) == TD_OK)
        td_say("eval: %s on %s: accuracy %.4f%% (%lld / %lld), cost C = "
               "%.6g, max |x^(L) - y| = %.3g (%s forward pass, %.3f s)\n",
               net_path, data, 100.0 * mdl.n_correct / mdl.n_points,
               (long long)mdl.n_correct, (long long)mdl.n_points, mdl.cost,
               mdl.max_error, mdl.structured ? "structured" : "dense",
               td_comm_wtime() - t0);
    td_model_free(&mdl);
    td_engine_free(&e);
    return err->code;
}
