/* main.c - trunc-dist: load, search, build, verify, write.
 *
 * Every stage ends with td_comm_agree, so all ranks learn the worst status
 * and leave together with the same exit code; rank 0 does the talking. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "td_ckpt.h"
#include "td_clustered_build.h"
#include "td_comm.h"
#include "td_config.h"
#include "td_conflicts.h"
#include "td_convert.h"
#include "td_eval.h"
#include "td_example.h"
#include "td_generate.h"
#include "td_h5.h"
#include "td_h5ckpt.h"
#include "td_pieces.h"
#include "td_paths.h"
#include "td_polytope.h"
#include "td_resume.h"
#include "td_search.h"
#include "td_step.h"
#include "td_stop.h"
#include "td_targets.h"
#include "td_ux.h"
#include "td_verify.h"
#include "td_version.h"

/* OpenBLAS's own threads would fight OpenMP's; use it single-threaded when
 * it is the BLAS we were linked with. */
extern void openblas_set_num_threads(int) __attribute__((weak));

static const char *usage =
    "usage: mpirun -np N trunc-dist [OPTIONS] CONFIG.toml\n"
    "       trunc-dist --example DIR   write DIR/example.h5 and DIR/example.toml\n"
    "       mpirun -np N trunc-dist eval NETWORK.h5 DATA.h5 [--predictions\n"
    "                                  OUT.h5 [--force]]\n"
    "                                  accuracy, cost, per-class accuracy and\n"
    "                                  confusion of a result's network on other\n"
    "                                  labelled data (X, y); OUT.h5 gets every\n"
    "                                  row's prediction and output\n"
    "       mpirun -np N trunc-dist convert IN OUT.h5 [--labels FILE]\n"
    "                   [--label-column K] [--force]\n"
    "                                  CSV, .npy/.npz, LIBSVM or IDX (also\n"
    "                                  .gz) to the input contract; rank 0\n"
    "                                  converts\n"
    "       mpirun -np N trunc-dist generate KIND OUT.h5 --n N --m M --q Q\n"
    "                   [--seed S] [--dtype float32|float64] [--force] [...]\n"
    "                                  synthetic data (blobs, sls_not_ovr,\n"
    "                                  clustered, overlap, random), every\n"
    "                                  rank writing its rows; the same bytes\n"
    "                                  at any rank count (generate --help)\n"
    "       trunc-dist --version | --help\n"
    "Options of a run (any order, before or after CONFIG.toml):\n"
    "  --force            replace an existing result (and start afresh over\n"
    "                     an unfinished run's checkpoint)\n"
    "  --resume           continue from OUTPUT.checkpoint (a run stopped by\n"
    "                     SIGTERM, SIGINT, SIGUSR1 or a kill); without one,\n"
    "                     start from the beginning\n"
    "  --dry-run          check the config, the output path and the data as a\n"
    "                     run does, report shapes, classes and the memory per\n"
    "                     rank; build and write nothing (exit 0: a run can start)\n"
    "  --quiet            only errors and the final summary line\n"
    "  --verbose          also a line per piece layer and polytope facet\n"
    "  --progress=MODE    bar (redrawn in place), lines (a line after 10 s of\n"
    "                     silence) or auto (default: bar on a terminal; under\n"
    "                     mpirun, which hides whether it writes to one, lines)\n"
    "Builds a ReLU network with zero training loss (Chen & Munoz Ewald,\n"
    "Theorem 6) from the labelled points in an HDF5 file; see README.md.\n"
    "Exit codes: 0 ok, 1 internal, 2 input, 3 no network of the requested\n"
    "construction (not sequentially / polytope separable, or conflicts),\n"
    "4 verification failed, 5 output error, 6 stopped by a signal (the\n"
    "checkpoint is kept: continue with --resume).\n";

/* What the command line asked for beyond the config path. */
typedef struct {
    int force;      /* --force: replace an existing result (and start
                       afresh over a checkpoint) */
    int resume;     /* --resume: continue from the checkpoint, if any */
    int dry_run;    /* --dry-run: the checks and a report, nothing built */
    int level;      /* TD_QUIET, TD_NORMAL (default), TD_VERBOSE */
    int progress;   /* --progress: TD_UX_PROGRESS_AUTO, _BAR, _LINES */
} run_opts;

/* Rank 0 reads the file; every rank parses the same broadcast text. */
static int load_config(const char *path, td_config *cfg, td_err *err)
{
    char *text = NULL;
    if (td_comm_rank() == 0)
        td_read_text_file(path, &text, err);
    if (td_comm_agree_print(err))
        return err->code;
    if (td_comm_bcast_string(&text))     /* -1 on every rank */
        td_err_set(err, TD_ERR_INTERNAL, "out of memory (config text)");
    else
        td_config_parse(text, path, cfg, err);
    free(text);
    return td_comm_agree_print(err);
}


/* The result must never replace an input, nor be a directory. */
static void check_output_target(const td_config *cfg, td_err *err)
{
    struct stat st;
    if (td_same_file(cfg->output_path, cfg->data_path))
        td_err_set(err, TD_ERR_INPUT, "%s: output.path '%s' is the data file: "
                   "refusing to overwrite the training data", cfg->source,
                   cfg->output_path);
    else if (td_same_file(cfg->output_path, cfg->source))
        td_err_set(err, TD_ERR_INPUT, "%s: output.path '%s' is the config "
                   "file itself", cfg->source, cfg->output_path);
    else if (stat(cfg->output_path, &st) == 0 && S_ISDIR(st.st_mode))
        td_err_set(err, TD_ERR_INPUT, "%s: output.path '%s' is a directory",
                   cfg->source, cfg->output_path);
    else if (cfg->eval_path && stat(cfg->eval_path, &st) != 0)
        td_err_set(err, TD_ERR_INPUT, "%s: eval.path '%s': %s", cfg->source,
                   cfg->eval_path, strerror(errno));
    else if (cfg->eval_path && td_same_file(cfg->output_path, cfg->eval_path))
        td_err_set(err, TD_ERR_INPUT, "%s: output.path '%s' is the eval "
                   "data", cfg->source, cfg->output_path);
    else if (stat(cfg->output_path, &st) == 0 && !cfg->overwrite)
        td_err_set(err, TD_ERR_INPUT, "%s: output.path '%s' exists: set "
                   "output.overwrite = true or run with --force to replace it",
                   cfg->source, cfg->output_path);
}

/* Fail before hours of work, not after: the output directory must exist
 * and the result must not land on an input. */
static int check_output_dir(const td_config *cfg, td_err *err)
{
    if (td_comm_rank() == 0)
        check_output_target(cfg, err);
    if (td_comm_rank() == 0 && err->code == TD_OK) {
        char *copy = strdup(cfg->output_path);
        const char *dir = copy ? dirname(copy) : NULL;
        if (!dir)
            td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        else if (access(dir, W_OK) != 0)
            td_err_set(err, TD_ERR_OUTPUT, "cannot write result '%s': directory "
                       "'%s' does not exist or is not writable",
                       cfg->output_path, dir);
        free(copy);
    }
    return td_comm_agree_print(err);
}

/* Identical points with different labels defeat any network: say so
 * before the search, naming two such rows (collective). */
static void check_conflicts(const td_config *cfg, td_engine *eng,
                            const int64_t *labels, td_err *err)
{
    td_conflict_report c;
    if (td_engine_conflicts(eng, &c))
        td_err_set(err, TD_ERR_INTERNAL, "out of memory (duplicate check)");
    else if (c.n_points > 0)
        td_err_set(err, TD_ERR_INSEPARABLE, "%s: rows %lld and %lld of '%s' "
                   "are identical but labelled %lld and %lld (%lld distinct "
                   "point%s with conflicting labels); no network can separate "
                   "them", cfg->data_path, (long long)c.row_a,
                   (long long)c.row_b, cfg->x_dataset,
                   (long long)labels[c.cls_a], (long long)labels[c.cls_b],
                   (long long)c.n_points, c.n_points == 1 ? "" : "s");
}

/* Data of extreme magnitude (1e155, 1e-200) are built at a power-of-two
 * scale, so the construction commutes with scaling the data (collective,
 * the same outcome on every rank). */
static int normalize(const td_config *cfg, td_engine *eng, td_model *mdl,
                     td_err *err)
{
    double scale = td_engine_normalize(eng);
    if (scale == 0) {
        td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s': the largest |x| is "
                   "below double precision's normal range (< 2.2e-308); "
                   "rescale the data", cfg->data_path, cfg->x_dataset);
        return td_comm_agree_print(err);
    }
    mdl->input_scale = scale;
    if (scale != 1)
        td_say("data: extreme magnitudes: the construction runs on x * 2^%d "
               "(exact); /network takes x as it is\n", ilogb(scale));
    return TD_OK;
}

/* What the configured construction needs of the data's shape: classes
 * and features (local: every rank has the same numbers). */
static void check_shape(const td_config *cfg, int m, int q, td_err *err)
{
    if (!err->code && q < 2)
        td_err_set(err, TD_ERR_INPUT, "%s: dataset '%s' has %d class; at "
                   "least 2 are needed", cfg->data_path, cfg->y_dataset, q);
    if (!err->code && cfg->mode == TD_MODE_POLYTOPE && q != 2)
        td_err_set(err, TD_ERR_INPUT, "%s: construction.mode = \"polytope\" "
                   "needs binary data, dataset '%s' has %d classes; \"pieces\" "
                   "builds any number", cfg->data_path, cfg->y_dataset, q);
    if (!err->code && cfg->mode == TD_MODE_THEOREM6 && m < q - 1)
        td_err_set(err, TD_ERR_INPUT, "%s: %d classes need at least %d "
                   "features for construction.mode = \"theorem6\" (M >= Q-1 "
                   "for the output layer), dataset '%s' has %d; the lifted "
                   "constructions work at any M", cfg->data_path, q, q - 1,
                   cfg->x_dataset, m);
    if (!err->code && cfg->mode == TD_MODE_CLUSTERED && m < q - 1)
        td_err_set(err, TD_ERR_INPUT, "%s: %d classes need at least %d "
                   "features for construction.mode = \"clustered\" (the "
                   "class means must span Q - 1 dimensions), dataset '%s' "
                   "has %d", cfg->data_path, q, q - 1, cfg->x_dataset,
                   m);
    if (!err->code && cfg->mode == TD_MODE_THEOREM6 &&
        cfg->output_layer != TD_OUT_AFFINE && m < q)
        td_err_set(err, TD_ERR_INPUT, "%s: construction.output_layer = "
                   "\"%s\" needs the %d base points linearly independent, "
                   "so M >= Q = %d features for construction.mode = "
                   "\"theorem6\", dataset '%s' has %d; \"affine\" needs "
                   "M >= Q - 1, the lifted constructions any M",
                   cfg->data_path, td_output_kind_name(cfg->output_layer), q,
                   q, cfg->x_dataset, m);
}

static int load_data(const td_config *cfg, td_engine *eng, td_model *mdl,
                     td_err *err)
{
    td_shard_data d = {0};
    td_h5_read_shard(cfg->data_path, cfg->x_dataset, cfg->y_dataset,
                     td_comm_world(), cfg->block_rows, &d, err);
    if (td_comm_agree_print(err)) {
        td_shard_data_free(&d);
        return err->code;
    }
    int64_t *labels = NULL;
    int q = 0;
    td_engine_init(eng, &d, cfg->block_rows, &labels, &q, err);
    td_shard_data_free(&d);
    if (td_comm_agree(err) == TD_OK)     /* every rank checks, or none */
        check_conflicts(cfg, eng, labels, err);
    if (!err->code)
        check_shape(cfg, eng->m, q, err);
    if (!err->code && td_model_alloc(mdl, eng->m, q))
        td_err_set(err, TD_ERR_INTERNAL, "out of memory (model)");
    if (!err->code) {
        memcpy(mdl->labels, labels, sizeof(int64_t) * q);
        mdl->n_points = eng->n_total;
    }
    free(labels);
    if (td_comm_agree_print(err))
        return err->code;
    td_say("data: %s: %lld points x %d features, %d classes\n",
           cfg->data_path, (long long)eng->n_total, eng->m, q);
    return normalize(cfg, eng, mdl, err);
}

/* Proposition 3's conditions, from all rows before any build, so that
 * auto can prefer the clustered network and every auto or clustered
 * result (a resumed one too) reports them (collective). */
static int check_clustered(const td_config *cfg, td_engine *eng,
                           td_model *mdl, td_err *err)
{
    if (cfg->mode != TD_MODE_AUTO && cfg->mode != TD_MODE_CLUSTERED)
        return TD_OK;
    if (td_clustered_check(eng, mdl, err))
        return td_comm_agree_print(err);
    char line[768];
    td_clustered_describe(mdl->clustered, mdl->labels, line, sizeof line);
    td_say("clustered (Proposition 3): %s\n", line);
    return TD_OK;
}

/* The dense forward pass costs 2 N sum d_l d_(l-1) flops: tens of
 * teraflops for hundreds of 800-wide layers over 60000 points.  Beyond
 * 1e10 per rank the structured form checks the same layers in O(width).
 * The same choice on every rank (it depends on N, not the shard). */
static int choose_forward(const td_config *cfg, const td_engine *e,
                          td_model *mdl, td_err *err)
{
    double flops = 0;
    for (int k = 0; k < mdl->net.num_layers; k++)
        flops += 2.0 * mdl->net.dims[k] * mdl->net.dims[k + 1];
    flops *= (double)e->n_total / td_comm_size();
    mdl->structured = cfg->forward == 2 || (cfg->forward == 0 && flops > 1e10);
    if (mdl->construction == TD_CONS_POLYTOPE ||
        mdl->construction == TD_CONS_CLUSTERED)
        mdl->structured = 0;     /* no cones in input space: dense (small) */
    if (mdl->structured)
        return TD_OK;        /* the dense layers are only ever streamed */
    if (td_network_materialize(&mdl->net))
        td_err_set(err, TD_ERR_INTERNAL, "out of memory (dense network)");
    if (td_comm_agree_print(err))
        return err->code;
    td_model_bcast_network(mdl);
    return TD_OK;
}

/* The forward pass over the training rows, with the per-layer table of
 * kept / collapsed / partly truncated rows per class (cone networks up to
 * 1e7 layer x class entries; collective). */
static int verify(td_engine *eng, td_model *mdl, td_err *err)
{
    td_verify_extra x = {0};
    x.nc = 1;
    if (mdl->construction != TD_CONS_POLYTOPE && mdl->nlayers > 0 &&
        (double)mdl->nlayers * mdl->q <= 1e7) {
        mdl->layer_class = calloc((size_t)mdl->nlayers * mdl->q * 3,
                                  sizeof(int64_t));
        if (!td_all_ok(mdl->layer_class != NULL))
            return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        x.layer_class = mdl->layer_class;
    }
    return td_verify_ex(eng, mdl, &x, err);
}

static int check_zero_loss(const td_model *mdl, const td_config *cfg,
                           td_err *err)
{
    td_say("verify (%s forward pass): cost C = %.3e (class-balanced C_N = "
           "%.3e), max |x^(L) - y| = %.3e, accuracy %.4f%% "
           "(%lld / %lld)\n", mdl->structured ? "structured" : "dense",
           mdl->cost, mdl->cost_balanced, mdl->max_error,
           100.0 * mdl->n_correct / mdl->n_points, (long long)mdl->n_correct,
           (long long)mdl->n_points);
    td_verify_say_nc(mdl);
    /* a result file must never contradict itself: no file claims a cost
     * that its own outputs do not have */
    if (!isfinite(mdl->cost) || !isfinite(mdl->max_error))
        td_err_set(err, TD_ERR_VERIFY, "the forward pass gives non-finite "
                   "outputs (cost %g, max error %g): the layers overflow in "
                   "double precision (construction.kappa = %g; a larger kappa "
                   "gives better-conditioned layers); nothing written",
                   mdl->cost, mdl->max_error, cfg->kappa);
    if (err->code || !mdl->sequentially_separable)  /* best effort: honest */
        return td_comm_agree_print(err);
    char why[512];
    td_verify_explain(mdl, why, sizeof why);
    if (mdl->n_correct != mdl->n_points || !(mdl->max_error <= cfg->tolerance))
        td_err_set(err, TD_ERR_VERIFY, "forward pass is not at zero loss: max "
                   "error %.3e > tolerance %.1e or %lld points misclassified%s"
                   "; cond(W^(l)) = 1/(kappa lambda_max), construction.kappa "
                   "= %g", mdl->max_error, cfg->tolerance,
                   (long long)(mdl->n_points - mdl->n_correct), why,
                   cfg->kappa);
    return td_comm_agree_print(err);
}

/* What was built, in a line: the construction, depth, widths, size, and
 * its parameters next to the paper's counts. */
static void report_shape(const td_config *cfg, const td_model *mdl)
{
    struct stat st;
    int64_t pd, pg, t6, c4, resets = 0;
    td_model_params(mdl, &pd, &pg);
    td_paper_params(mdl->m, mdl->q, &t6, &c4);
    for (int k = 0; k < mdl->net.num_layers; k++)
        resets += mdl->net.kind[k] == TD_LAYER_RESET;
    double mb = td_comm_rank() == 0 && stat(cfg->output_path, &st) == 0
                ? st.st_size / 1e6 : 0;
    char shape[256];
    if (mdl->construction == TD_CONS_POLYTOPE)
        snprintf(shape, sizeof shape, "polytope construction, class %lld "
                 "inside %d facets of class %lld: %d hidden layers of widths "
                 "%d, 1%s (1 output)", (long long)mdl->labels[mdl->inner_class],
                 mdl->nfacets, (long long)mdl->labels[mdl->outer_class],
                 mdl->net.num_layers - 1, mdl->nfacets,
                 mdl->net.num_layers > 3 ? ", 2" : "");
    else
        snprintf(shape, sizeof shape, "%s construction, %d cone layers of "
                 "width %d%s (+%lld reset, 1 output)",
                 td_construction_name(mdl->construction), mdl->nlayers,
                 mdl->width, mdl->construction == TD_CONS_CLUSTERED
                 ? " (the first reads the M inputs)" : "", (long long)resets);
    td_say("wrote %s (%.3g MB): %s\n", cfg->output_path, mb, shape);
    td_say("parameters: %lld dense, %lld geometric; the paper's counts for "
           "M = %d, Q = %d: Theorem 6 Q(M + 2) = %lld geometric, Corollary 4 "
           "Q(M + Q^2) = %lld dense\n", (long long)pd, (long long)pg,
           mdl->m, mdl->q, (long long)t6, (long long)c4);
}

/* The ranks' host names, distinct, in rank order, comma-separated (rank
 * 0; NULL elsewhere or without memory).  Collective. */
static char *hostnames(void)
{
    char name[256] = "";
    gethostname(name, sizeof name - 1);
    void *all = NULL;
    int64_t total = 0;
    if (td_comm_gather(name, (int64_t)strlen(name) + 1, &all, &total) ||
        !all)
        return NULL;
    char *out = calloc((size_t)total + 1, 1), *p = all;
    for (int64_t used = 0; out && p < (char *)all + total; p += strlen(p) + 1) {
        int seen = 0;
        for (char *q = all; q < p && !seen; q += strlen(q) + 1)
            seen = !strcmp(q, p);
        if (seen)
            continue;
        used += snprintf(out + used, (size_t)(total + 1 - used), "%s%s",
                         used ? "," : "", p);
    }
    free(all);
    return out;
}

static int write_result(const td_config *cfg, const td_model *mdl,
                        td_run_times *times, td_err *err)
{
    char *hosts = hostnames();
    td_run_info run = {cfg->text, cfg->source, TD_VERSION, cfg->data_path,
                       td_comm_size(), omp_get_max_threads(), cfg->block_rows,
                       cfg->kappa, mdl->sequentially_separable ? "zero_loss"
                                                               : "best_effort",
                       TD_GIT_COMMIT, hosts, times};
    if (td_comm_rank() == 0)
        td_h5_write_model(cfg->output_path, mdl, &run, err);
    free(hosts);
    if (td_comm_agree_print(err))
        return err->code;
    report_shape(cfg, mdl);
    if (!mdl->sequentially_separable)
        td_err_set(err, TD_ERR_INSEPARABLE, "not sequentially separable; wrote "
                   "the best-effort network to %s (accuracy %.4f%%, cost %.4g)",
                   cfg->output_path, 100.0 * mdl->n_correct / mdl->n_points,
                   mdl->cost);
    return td_comm_agree_print(err);
}

/* A phase of "auto" ends: save the model (the reason so far) so that a
 * resumed run starts at the next phase. */
static int phase_ends(td_ckpt *ck, int next, const td_engine *eng,
                      const td_model *mdl, td_err *err)
{
    ck->force = 1;
    if (!td_ckpt_due(ck))
        return TD_OK;
    td_buf b = {0};
    td_ckpt_pack_model(&b, mdl);
    int rc = td_ckpt_save(ck, next, &b, eng, mdl, err);
    td_buf_free(&b);
    return rc;
}

/* auto, binary data beyond Theorem 6: two hidden layers when one class's
 * hull holds no point of the other (far smaller than pieces); when it
 * does, TD_ERR_INSEPARABLE with every row active again and the reason
 * extended, for the pieces to start afresh. */
static int try_polytope(td_engine *eng, const td_config *cfg, td_model *mdl,
                        td_ckpt *ck, td_err *err)
{
    size_t used = strlen(mdl->reason);
    td_say("construction: %.300s; trying a polytope (binary data)\n",
           mdl->reason);
    if (td_polytope_build(eng, cfg, mdl, err) != TD_ERR_INSEPARABLE)
        return err->code;
    snprintf(mdl->reason + used, sizeof mdl->reason - used, "; %.300s",
             err->msg);
    td_err_clear(err);
    td_engine_undo_all(eng);
    td_model_clear_layers(mdl);
    if (phase_ends(ck, TD_PHASE_PIECES_START, eng, mdl, err))
        return err->code;
    return TD_ERR_INSEPARABLE;
}

/* auto: Corollary 4's width-Q network when Proposition 3's conditions
 * hold and M >= Q (Q(M + Q^2) parameters against Theorem 6's Q M^2).  On
 * TD_ERR_INSEPARABLE (conditions fail, or the means are affinely
 * dependent) every row is active again and the reason is left empty. */
static int try_clustered(td_engine *eng, const td_config *cfg, td_model *mdl,
                         td_ckpt *ck, char *why_not, size_t len, td_err *err)
{
    const td_clustered *c = mdl->clustered;
    if (!c->holds18 || !c->holds20)
        return TD_ERR_INSEPARABLE;
    /* dense weights: Q (M + 1) + Q^2 (Q + 1) against Theorem 6's
     * Q (M + 1)^2, fewer exactly when M > Q (equal at M = Q, where the
     * clustered one needs no search); below M = Q - 1 only the lifted
     * constructions exist, and the build says why */
    if (eng->m == mdl->q - 1) {
        snprintf(why_not, len, "with M = %d = Q - 1 Theorem 6's width-M "
                 "network has fewer parameters", eng->m);
        return TD_ERR_INSEPARABLE;
    }
    snprintf(mdl->reason, sizeof mdl->reason, "auto: clustered data "
             "(Proposition 3's conditions hold: c0 = %.3g < 1/4, max "
             "theta_* = %.3g pi < pi): Corollary 4's network, width %d "
             "after the first layer, the fewest parameters", c->c0,
             c->theta_max / M_PI, mdl->q);
    if (td_clustered_build(eng, cfg, mdl, ck, err) != TD_ERR_INSEPARABLE)
        return err->code;
    td_say("construction: %.400s; trying Theorem 6\n", err->msg);
    /* the failure without the conditions, which the reason recalls */
    snprintf(why_not, len, "%.*s", (int)strcspn(err->msg, ";"), err->msg);
    mdl->reason[0] = 0;
    td_err_clear(err);
    td_engine_undo_all(eng);
    td_model_clear_layers(mdl);
    return TD_ERR_INSEPARABLE;
}

/* auto built something else: say why not the clustered network. */
static void note_not_clustered(td_model *mdl, const char *why_not)
{
    const td_clustered *c = mdl->clustered;
    size_t used = strlen(mdl->reason);
    if (mdl->construction == TD_CONS_CLUSTERED || !c ||
        used + 32 >= sizeof mdl->reason)
        return;
    if (c->holds18 && c->holds20)
        snprintf(mdl->reason + used, sizeof mdl->reason - used, "; "
                 "Proposition 3's conditions hold, but %s", *why_not ? why_not
                 : "its network could not be built");
    else
        snprintf(mdl->reason + used, sizeof mdl->reason - used, "; not "
                 "clustered (Proposition 3): %s%s%s",
                 c->holds18 ? "" : "(18) fails", c->holds18 || c->holds20
                 ? "" : " and ", c->holds20 ? "" : "(20) fails");
}

/* auto: Theorem 6 at width M when M >= Q - 1, within its budget.  On
 * TD_ERR_INSEPARABLE the reason says why and every row is active again. */
static int try_theorem6(td_engine *eng, const td_config *cfg, td_model *mdl,
                        td_ckpt *ck, td_err *err)
{
    char *why = mdl->reason;
    size_t len = sizeof mdl->reason;
    if (eng->m < mdl->q - 1) {
        snprintf(why, len, "auto: %d classes in %d dimensions (M < Q - 1): "
                 "no output layer at width M", mdl->q, eng->m);
        return TD_ERR_INSEPARABLE;
    }
    if (eng->m < mdl->q && cfg->output_layer != TD_OUT_AFFINE) {
        snprintf(why, len, "auto: %d classes in %d dimensions (M < Q): no "
                 "%s output layer at width M (it needs the base points "
                 "linearly independent)", mdl->q, eng->m,
                 td_output_kind_name(cfg->output_layer));
        return TD_ERR_INSEPARABLE;
    }
    if (ck->phase != TD_PHASE_THEOREM6)
        snprintf(why, len, "auto: sequentially separable at width M");
    td_search_build(eng, cfg, mdl, ck, err);
    if (err->code != TD_ERR_INSEPARABLE ||
        cfg->on_inseparable == TD_INSEP_BEST_EFFORT)
        return err->code;
    if (mdl->budget_spent)
        snprintf(why, len, "auto: %.900s", err->msg);
    else
        snprintf(why, len, "auto: not sequentially separable at width %d "
                 "(%.900s)", eng->m, err->msg);
    td_err_clear(err);
    td_engine_undo_all(eng);
    td_model_clear_layers(mdl);
    return TD_ERR_INSEPARABLE;
}

/* auto past the clustered network: Theorem 6 at width M, then (binary
 * data) a polytope, then pieces at width M + Q. */
static int build_beyond(td_engine *eng, const td_config *cfg, td_model *mdl,
                        td_ckpt *ck, int phase, td_err *err)
{
    if (phase <= TD_PHASE_THEOREM6 &&
        try_theorem6(eng, cfg, mdl, ck, err) != TD_ERR_INSEPARABLE)
        return err->code;
    if (phase <= TD_PHASE_THEOREM6 && mdl->q == 2 &&
        phase_ends(ck, TD_PHASE_POLYTOPE, eng, mdl, err))
        return err->code;
    if (phase <= TD_PHASE_POLYTOPE && mdl->q == 2 &&
        try_polytope(eng, cfg, mdl, ck, err) != TD_ERR_INSEPARABLE)
        return err->code;
    if (phase <= TD_PHASE_POLYTOPE && mdl->q != 2 &&
        phase_ends(ck, TD_PHASE_PIECES_START, eng, mdl, err))
        return err->code;
    if (phase < TD_PHASE_PIECES)
        td_say("construction: %.300s; building pieces at width %d (M + Q)\n",
               mdl->reason, eng->m + mdl->q);
    return td_pieces_build(eng, cfg, TD_CONS_PIECES, mdl, ck, err);
}

/* The construction the mode asks for; "auto" tries Theorem 6 at width M,
 * then (binary data) a polytope, then pieces at width M + Q, each with
 * every row active again.  A resumed run continues in the phase it saved
 * (td_ckpt.h): the earlier phases' outcome is in the saved reason. */
static int build(td_engine *eng, const td_config *cfg, td_model *mdl,
                 td_ckpt *ck, td_err *err)
{
    char *why = mdl->reason, why_not[400] = "";
    size_t len = sizeof mdl->reason;
    int phase = ck->phase;
    if (phase == TD_PHASE_POLYTOPE || phase == TD_PHASE_PIECES_START) {
        td_ckpt_unpack_model(&ck->resume, mdl);
        if (!td_all_ok(!ck->resume.bad))
            return td_err_set(err, TD_ERR_INPUT, "%s: the saved state does "
                              "not fit this data and build", ck->path);
    }
    if (cfg->mode == TD_MODE_POLYTOPE) {
        snprintf(why, len, "construction.mode = \"polytope\"");
        return td_polytope_build(eng, cfg, mdl, err);
    }
    if (cfg->mode == TD_MODE_LIFTED || cfg->mode == TD_MODE_PIECES) {
        snprintf(why, len, "construction.mode = \"%s\"",
                 cfg->mode == TD_MODE_LIFTED ? "lifted" : "pieces");
        return td_pieces_build(eng, cfg, cfg->mode == TD_MODE_LIFTED
                               ? TD_CONS_LIFTED : TD_CONS_PIECES, mdl, ck,
                               err);
    }
    if (cfg->mode == TD_MODE_THEOREM6) {
        snprintf(why, len, "construction.mode = \"theorem6\"");
        return td_search_build(eng, cfg, mdl, ck, err);
    }
    if (cfg->mode == TD_MODE_CLUSTERED) {
        const td_clustered *c = mdl->clustered;
        snprintf(why, len, "construction.mode = \"clustered\"%s",
                 c->holds18 && c->holds20 ? "" : " (a condition of "
                 "Proposition 3 fails; its cones were built and checked "
                 "anyway: the conditions are sufficient, not necessary)");
        return td_clustered_build(eng, cfg, mdl, ck, err);
    }
    if (phase == TD_PHASE_NONE &&
        try_clustered(eng, cfg, mdl, ck, why_not, sizeof why_not, err) !=
        TD_ERR_INSEPARABLE)
        return err->code;
    int rc = build_beyond(eng, cfg, mdl, ck, phase, err);
    if (rc == TD_OK)
        note_not_clustered(mdl, why_not);
    return rc;
}

/* Checks before any work: the output target, the directory, stale
 * temporaries and an unfinished run's checkpoint (rank 0, agreed). */
static int check_output(const td_config *cfg, const run_opts *o,
                        td_err *err)
{
    if (check_output_dir(cfg, err))
        return err->code;
    if (td_comm_rank() == 0)
        td_resume_check(cfg, o->resume, o->force, o->dry_run, err);
    return td_comm_agree_print(err);
}

/* The story of a run. */
static int run(const char *config_path, const run_opts *opts)
{
    td_err err;
    td_err_clear(&err);
    td_config cfg = {0};
    td_engine eng = {0};
    td_model mdl = {0};
    td_resume rs = {0};
    double t0 = td_comm_wtime(), t1 = t0, t2 = t0, t3 = t0;
    td_run_times times = {0, 0, 0, 0, (int64_t)time(NULL)};
    td_stop_install();
    td_ux_setup(opts->level, opts->progress);
    td_say("trunc-dist %s: %d ranks x %d threads\n", TD_VERSION,
           td_comm_size(), omp_get_max_threads());
    if (load_config(config_path, &cfg, &err))
        goto out;
    cfg.overwrite |= opts->force;
    if (check_output(&cfg, opts, &err) || load_data(&cfg, &eng, &mdl, &err) ||
        td_targets_setup(&cfg, &mdl, &err) ||
        check_clustered(&cfg, &eng, &mdl, &err))
        goto out;
    if (opts->dry_run) {         /* the checks above are a run's own */
        td_ux_dry_run(&cfg, &eng, &mdl, &err);
        td_comm_agree_print(&err);
        goto out;
    }
    td_resume_setup(&rs, &cfg, &eng, &mdl, opts->resume, &err);
    if (td_comm_agree_print(&err))
        goto out;
    t1 = td_comm_wtime();
    if (build(&eng, &cfg, &mdl, &rs.ck, &err) == TD_OK &&
        td_model_describe_output(&mdl))
        td_err_set(&err, TD_ERR_INTERNAL, "out of memory (output layer rank)");
    if (td_comm_agree_print(&err))
        goto out;
    td_say("construction: %.900s\n", mdl.reason);
    t2 = td_comm_wtime();
    if (choose_forward(&cfg, &eng, &mdl, &err))
        goto out;
    verify(&eng, &mdl, &err);
    if (td_comm_agree_print(&err) || check_zero_loss(&mdl, &cfg, &err))
        goto out;
    if (cfg.eval_path && td_eval_test(cfg.eval_path, &mdl, &err))
        goto out;
    t3 = td_comm_wtime();
    times.load = t1 - t0;
    times.build = t2 - t1;
    times.verify = t3 - t2;
    td_ckpt_stop_asked(&rs.ck, &err);
    if (td_comm_agree_print(&err))
        goto out;
    /* best effort (exit 3) wrote its network too: summarise it */
    if (write_result(&cfg, &mdl, &times, &err) == TD_OK ||
        err.code == TD_ERR_INSEPARABLE)
        td_ux_summary(&cfg, &mdl, &times, td_comm_wtime() - t3);
out:
    if (err.code == TD_ERR_INTERRUPTED && td_comm_rank() == 0)
        fprintf(stderr, "trunc-dist: continue with: trunc-dist --resume %s\n",
                config_path);
    td_resume_finish(&rs, err.code);
    td_model_free(&mdl);
    td_engine_free(&eng);
    td_config_free(&cfg);
    return err.code;
}

static int write_example(const char *dir)
{
    td_err err;
    td_err_clear(&err);
    if (td_comm_rank() == 0 && td_example_write(dir, &err) == TD_OK)
        printf("wrote %s/example.h5 and %s/example.toml\n", dir, dir);
    return td_comm_agree_print(&err);
}

/* eval's predictions file must not replace an input, nor an existing
 * file unless forced (rank 0, agreed). */
static void check_predictions(const td_eval_opts *o, int force, td_err *err)
{
    if (!o->predictions)
        return;
    if (td_same_file(o->predictions, o->network) ||
        td_same_file(o->predictions, o->data))
        td_err_set(err, TD_ERR_INPUT, "--predictions '%s' is an input of "
                   "the evaluation", o->predictions);
    else
        td_check_new_file(o->predictions, force, err);
}

/* trunc-dist eval NETWORK.h5 DATA.h5 [--predictions OUT.h5] [--force] */
static int run_eval(int argc, char **argv)
{
    td_err err;
    td_err_clear(&err);
    td_eval_opts o = {NULL, NULL, NULL};
    int force = 0, bad = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--predictions") && i + 1 < argc)
            o.predictions = argv[++i];
        else if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (argv[i][0] == '-' || (o.network && o.data))
            bad = 1;
        else if (!o.network)
            o.network = argv[i];
        else
            o.data = argv[i];
    }
    if (bad || !o.data) {
        if (td_comm_rank() == 0)
            fprintf(stderr, "trunc-dist: error: bad arguments\n%s", usage);
        return TD_ERR_INPUT;
    }
    if (td_comm_rank() == 0)
        check_predictions(&o, force, &err);
    if (td_comm_agree_print(&err))
        return err.code;
    td_eval_main(&o, &err);
    return td_comm_agree_print(&err);
}

/* Flags in any order, then exactly one CONFIG.toml; 0 when they parse. */
static int parse_run_args(int argc, char **argv, run_opts *o,
                          const char **config)
{
    *config = NULL;
    memset(o, 0, sizeof *o);
    o->level = TD_NORMAL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force"))
            o->force = 1;
        else if (!strcmp(argv[i], "--resume"))
            o->resume = 1;
        else if (!strcmp(argv[i], "--dry-run"))
            o->dry_run = 1;
        else if (!strcmp(argv[i], "--quiet"))
            o->level = TD_QUIET;
        else if (!strcmp(argv[i], "--verbose"))
            o->level = TD_VERBOSE;
        else if (!strcmp(argv[i], "--progress=auto"))
            o->progress = TD_UX_PROGRESS_AUTO;
        else if (!strcmp(argv[i], "--progress=bar"))
            o->progress = TD_UX_PROGRESS_BAR;
        else if (!strcmp(argv[i], "--progress=lines"))
            o->progress = TD_UX_PROGRESS_LINES;
        else if (argv[i][0] == '-' || *config)
            return -1;
        else
            *config = argv[i];
    }
    return *config ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (td_comm_init(&argc, &argv))
        return TD_ERR_INTERNAL;
    if (openblas_set_num_threads)
        openblas_set_num_threads(1);
    td_ux_setup(TD_NORMAL, TD_UX_PROGRESS_AUTO);   /* eval's progress too */
    int rc = TD_OK;
    run_opts opts;
    const char *config;
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        td_say("trunc-dist %s\n", TD_VERSION);
    } else if (argc == 2 && !strcmp(argv[1], "--help")) {
        td_say("%s", usage);
    } else if (argc == 3 && !strcmp(argv[1], "--example")) {
        rc = write_example(argv[2]);
    } else if (argc >= 2 && !strcmp(argv[1], "convert")) {
        rc = td_convert_main(argc - 1, argv + 1);
    } else if (argc >= 2 && !strcmp(argv[1], "generate")) {
        rc = td_generate_main(argc - 1, argv + 1);
    } else if (argc >= 2 && !strcmp(argv[1], "eval")) {
        rc = run_eval(argc, argv);
    } else if (parse_run_args(argc, argv, &opts, &config) == 0) {
        rc = run(config, &opts);
    } else {
        if (td_comm_rank() == 0)
            fprintf(stderr, "trunc-dist: error: bad arguments\n%s", usage);
        rc = TD_ERR_INPUT;
    }
    td_comm_finalize();
    return rc;
}
