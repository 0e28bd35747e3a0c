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
#include "td_h5pred.h"
#include "td_step.h"
#include "td_verify.h"

#define EVAL_BLOCK_ROWS 1024

/* Class index of each row in the network's label order: every data label
 * must be one of the network's; the message names those that are not.
 * Local; the caller agrees. */
static int map_labels(td_engine *e, const int64_t *dlab, const td_model *mdl,
                      const char *data, td_err *err)
{
    int *to = malloc(sizeof(int) * (e->q > 0 ? e->q : 1));
    char unseen[256] = "";
    int nbad = 0;
    size_t used = 0;
    if (!to)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (labels)");
    for (int c = 0; c < e->q; c++) {
        to[c] = -1;
        for (int j = 0; j < mdl->q; j++)
            if (mdl->labels[j] == dlab[c])
                to[c] = j;
        if (to[c] < 0 && nbad++ < 8 && used < sizeof unseen)
            used += snprintf(unseen + used, sizeof unseen - used, "%s%lld",
                             nbad > 1 ? ", " : "", (long long)dlab[c]);
    }
    if (nbad) {
        free(to);
        return td_err_set(err, TD_ERR_INPUT, "%s: label%s %s%s %s not "
                          "seen in training (the network has %d classes, "
                          "labels %lld..%lld)", data, nbad > 1 ? "s" : "",
                          unseen, nbad > 8 ? ", ..." : "",
                          nbad > 1 ? "were" : "was", mdl->q,
                          (long long)mdl->labels[0],
                          (long long)mdl->labels[mdl->q - 1]);
    }
    for (int64_t i = 0; i < e->n_local; i++)
        e->cls[i] = to[e->cls[i]];
    free(to);
    return TD_OK;
}

static int load(const char *net_path, const char *data, td_model *mdl,
                td_engine *e, td_err *err)
{
    /* rank 0 reads it first in a child process: a corrupt file that
     * crashes HDF5 is then an error on every rank, not a dead job */
    if (td_comm_rank() == 0)
        td_h5_check_network(net_path, err);
    if (td_comm_agree(err))
        return err->code;
    td_h5_read_network(net_path, mdl, err);
    if (td_comm_agree(err))
        return err->code;
    return td_eval_load_data(data, mdl, e, err);
}

int td_eval_load_data(const char *data, const td_model *mdl, td_engine *e,
                      td_err *err)
{
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
    /* the layers in memory live where the construction ran: at s x (a
     * polytope read from a file has the dense layers, which take x
     * itself: the reader sets its scale to 1) */
    if (!err->code && mdl->input_scale != 1 &&
        td_engine_scale(e, mdl->input_scale))
        td_err_set(err, TD_ERR_INTERNAL, "out of memory (scaled copy)");
    free(dlab);
    return td_comm_agree(err);
}

/* The confusion matrix and per-class accuracy, for up to 20 classes
 * (beyond, only the file has them). */
static void report_classes(const td_model *mdl, const int64_t *conf)
{
    int q = mdl->q;
    td_say("eval: per class (label: accuracy, rows)");
    for (int c = 0; c < q; c++) {
        int64_t n = 0;
        for (int j = 0; j < q; j++)
            n += conf[(size_t)c * q + j];
        td_say(" %lld: %.2f%% of %lld%s", (long long)mdl->labels[c],
               n ? 100.0 * conf[(size_t)c * q + c] / n : 0.0, (long long)n,
               c + 1 < q ? ";" : "\n");
    }
    if (q > 20)
        return;
    td_say("eval: confusion (rows: true label, columns: predicted)\n%8s", "");
    for (int j = 0; j < q; j++)
        td_say(" %7lld", (long long)mdl->labels[j]);
    for (int c = 0; c < q; c++) {
        td_say("\n%8lld", (long long)mdl->labels[c]);
        for (int j = 0; j < q; j++)
            td_say(" %7lld", (long long)conf[(size_t)c * q + j]);
    }
    td_say("\n");
}

/* What the pass keeps: the confusion matrix always, the per-row results
 * and layer table for a predictions file. */
static int extra_alloc(td_verify_extra *x, const td_model *mdl,
                       const td_engine *e, int want_rows)
{
    int64_t q = mdl->q, n = e->n_local > 0 ? e->n_local : 1;
    *x = (td_verify_extra){calloc((size_t)(q * q), sizeof(int64_t)),
                           NULL, NULL, NULL, 0};
    if (want_rows) {
        x->pred = malloc(sizeof(int) * n);
        x->out = malloc(sizeof(double) * n * q);
        if (mdl->nlayers > 0 && (double)mdl->nlayers * q <= 1e7)
            x->layer_class = calloc((size_t)mdl->nlayers * q * 3,
                                    sizeof(int64_t));
    }
    return td_all_ok(x->confusion && (!want_rows || (x->pred && x->out &&
                          (x->layer_class || mdl->nlayers == 0 ||
                           (double)mdl->nlayers * q > 1e7))));
}

static void extra_free(td_verify_extra *x)
{
    free(x->confusion); free(x->layer_class); free(x->pred); free(x->out);
}

static int write_predictions(const td_eval_opts *o, const td_model *mdl,
                             const td_engine *e, const td_verify_extra *x,
                             td_err *err)
{
    int64_t q = mdl->q, *counts = calloc((size_t)q, sizeof(int64_t));
    for (int64_t c = 0; counts && c < q; c++)
        for (int64_t j = 0; j < q; j++)
            counts[c] += x->confusion[c * q + j];
    if (!td_all_ok(counts != NULL))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    td_h5pred p = {o->predictions, o->network, o->data, mdl->q,
                   mdl->nlayers, mdl->labels, counts, x->confusion,
                   x->layer_class, (double)mdl->n_correct / mdl->n_points,
                   mdl->cost, mdl->max_error, e->n_total, e->row0,
                   e->n_local, e->cls, x->pred, x->out};
    td_h5_write_predictions(&p, td_comm_world(), err);
    free(counts);
    if (td_comm_agree(err) == TD_OK)
        td_say("eval: wrote %s (labels, predictions, outputs, confusion, "
               "per-layer kept/collapsed counts)\n", o->predictions);
    return err->code;
}

int td_eval_main(const td_eval_opts *o, td_err *err)
{
    td_model mdl = {0};
    td_engine e = {0};
    td_verify_extra x = {0};
    double t0 = td_comm_wtime();
    if (load(o->network, o->data, &mdl, &e, err) == TD_OK) {
        mdl.structured = mdl.construction != TD_CONS_POLYTOPE &&
                         mdl.construction != TD_CONS_CLUSTERED;
        if (!extra_alloc(&x, &mdl, &e, o->predictions != NULL))
            td_err_set(err, TD_ERR_INTERNAL, "out of memory (evaluation)");
        else
            td_verify_ex(&e, &mdl, &x, err);
    }
    if (td_comm_agree(err) == TD_OK) {
        td_say("eval: %s on %s: accuracy %.4f%% (%lld / %lld), cost C = "
               "%.6g (class-balanced C_N = %.6g), max |x^(L) - y| = %.3g "
               "(%s forward pass, %.3f s)\n",
               o->network, o->data, 100.0 * mdl.n_correct / mdl.n_points,
               (long long)mdl.n_correct, (long long)mdl.n_points, mdl.cost,
               mdl.cost_balanced,
               mdl.max_error, mdl.structured ? "structured" : "dense",
               td_comm_wtime() - t0);
        report_classes(&mdl, x.confusion);
        if (o->predictions)
            write_predictions(o, &mdl, &e, &x, err);
    }
    extra_free(&x);
    td_model_free(&mdl);
    td_engine_free(&e);
    return err->code;
}

/* Allocate what the test set's record keeps; 0 on every rank or none. */
static int test_alloc(td_test_eval *t, const td_model *mdl, const char *path)
{
    int64_t q = mdl->q;
    t->path = strdup(path);
    t->confusion = calloc((size_t)(q * q), sizeof(int64_t));
    if (mdl->nlayers > 0 && (double)mdl->nlayers * q <= 1e7 &&
        mdl->construction != TD_CONS_POLYTOPE)
        t->layer_class = calloc((size_t)mdl->nlayers * q * 3,
                                sizeof(int64_t));
    return td_all_ok(t->path && t->confusion &&
                     (t->layer_class || mdl->nlayers == 0 ||
                      (double)mdl->nlayers * q > 1e7 ||
                      mdl->construction == TD_CONS_POLYTOPE)) ? 0 : -1;
}

int td_eval_test(const char *path, td_model *mdl, td_err *err)
{
    td_engine e = {0};
    td_test_eval *t = calloc(1, sizeof *t);
    if (!td_all_ok(t != NULL))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    mdl->test = t;
    if (test_alloc(t, mdl, path))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (eval)");
    if (td_eval_load_data(path, mdl, &e, err) == TD_OK) {
        /* the pass sets the model's totals: keep the training ones */
        int64_t n = mdl->n_points, c = mdl->n_correct;
        double cost = mdl->cost, cb = mdl->cost_balanced, me = mdl->max_error;
        int64_t *dep = malloc(sizeof(int64_t) * (mdl->nlayers + 1));
        td_verify_extra x = {t->confusion, t->layer_class, NULL, NULL, 0};
        if (!td_all_ok(dep != NULL))
            td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        else {
            memcpy(dep, mdl->n_departed, sizeof(int64_t) * mdl->nlayers);
            int exact = mdl->sequentially_separable;
            mdl->sequentially_separable = 0;    /* no training fates here */
            td_verify_ex(&e, mdl, &x, err);
            mdl->sequentially_separable = exact;
            t->n_points = mdl->n_points;
            t->n_correct = mdl->n_correct;
            t->cost = mdl->cost;
            t->cost_balanced = mdl->cost_balanced;
            t->max_error = mdl->max_error;
            memcpy(mdl->n_departed, dep, sizeof(int64_t) * mdl->nlayers);
        }
        mdl->n_points = n;
        mdl->n_correct = c;
        mdl->cost = cost;
        mdl->cost_balanced = cb;
        mdl->max_error = me;
        free(dep);
    }
    td_engine_free(&e);
    if (td_comm_agree(err) == TD_OK)
        td_say("eval: %s: accuracy %.4f%% (%lld / %lld), cost C = %.6g\n",
               path, t->n_points ? 100.0 * t->n_correct / t->n_points : 0.0,
               (long long)t->n_correct, (long long)t->n_points, t->cost);
    return err->code;
}
