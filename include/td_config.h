/* td_config.h - the run configuration (TOML), parsed and validated.
 *
 * Rank 0 reads the file; the text is broadcast and every rank parses the
 * same bytes, so all ranks hold identical configs and identical errors.
 * Unknown keys and wrong types are errors naming the key and the line. */
#ifndef TD_CONFIG_H
#define TD_CONFIG_H

#include <stdint.h>
#include "td_err.h"

typedef enum {
    TD_INSEP_FAIL = 0,        /* stop with TD_ERR_INSEPARABLE and a report */
    TD_INSEP_BEST_EFFORT = 1  /* build a soft-margin network anyway */
} td_insep_mode;

typedef enum {
    TD_BASE_CONDITIONED = 0,  /* best lambda among candidate base points */
    TD_BASE_SEGMENT = 1       /* the talk's rule: class mean -> barycentre */
} td_base_rule;

typedef enum {
    TD_MODE_AUTO = 0,         /* Theorem 6 when the data is SLS, else pieces */
    TD_MODE_THEOREM6 = 1,     /* width M, strict: exit 3 when not SLS */
    TD_MODE_LIFTED = 2,       /* width M + Q, whole classes, greedy */
    TD_MODE_PIECES = 3,       /* width M + Q, pieces of classes: any data */
    TD_MODE_POLYTOPE = 4,     /* binary: facets of one class around the
                                 other, two hidden layers (td_polytope.h) */
    TD_MODE_CLUSTERED = 5     /* Proposition 3 / Corollary 4: width Q after
                                 the first layer (td_clustered.h) */
} td_mode;

/* The output layer W^(L), b^(L) (td_network.h, td_output_layer). */
typedef enum {
    TD_OUT_AFFINE = 0,        /* minimum-norm W with a bias: needs the base
                                 points affinely independent (default) */
    TD_OUT_LINEAR = 1,        /* Y P^+, b = 0 as Theorem 6 / Proposition 3
                                 write it: needs them linearly independent */
    TD_OUT_NEURAL_COLLAPSE = 2 /* section 6.2: (Y - ybar 1^T) P^+, rank
                                 Q - 1, b = ybar (u/Q for one-hot) */
} td_out_kind;

/* Default construction.auto_budget: every SLS instance of the benchmark
 * corpus needs under 0.3 (BENCHMARKS.md, "Any data"); a unit is about a
 * second of one core here. */
#define TD_AUTO_BUDGET 10.0

typedef struct {
    char *source;        /* path the config was read from ("<string>" if none) */
    char *text;          /* the raw config text, stored in the output file */

    /* [data] */
    char *data_path;     /* required */
    char *x_dataset;     /* default "X" */
    char *y_dataset;     /* default "y" */
    char *targets_dataset; /* a (Q, Q) dataset of data_path holding the
                            target vectors (td_targets.h); NULL */

    /* [output] */
    char *output_path;   /* required */
    int overwrite;       /* replace an existing result file; default false
                            (trunc-dist --force sets it too) */

    /* [eval] */
    char *eval_path;     /* a test set (the data contract) evaluated with
                            the network and stored under /eval; NULL */

    /* [checkpoint] */
    int checkpoint;      /* save <output.path>.checkpoint during the build
                            (td_ckpt.h); default true */
    int checkpoint_interval;  /* seconds between checkpoints (0: after
                            every layer); default 60 */

    /* [construction] */
    td_mode mode;        /* "auto" (default) | "theorem6" | "lifted" | "pieces"
                            | "polytope" | "clustered" */
    td_out_kind output_layer; /* "affine" (default) | "linear" |
                            "neural_collapse" */
    double auto_budget;  /* auto: working-set work (units of 1e9 iterations
                            x set size x M) the Theorem 6 search may spend
                            before pieces are built instead (> 0) */
    int grow_rounds;     /* pieces: max-margin re-solves that grow a piece;
                            default 3 */
    double margin_floor; /* pieces: prefer pieces whose margin is at least
                            this fraction of the data's radius (smaller
                            margins make ill-conditioned layers); 1e-4 */
    double kappa;        /* lambda = kappa * lambda_max, in (0,1); default 0.5 */
    int64_t *order;      /* explicit class order by label value, or NULL */
    int norder;          /* length of order (0 = search the order) */
    td_insep_mode on_inseparable;  /* "fail" (default) | "best_effort" */
    int backtrack_budget;          /* max backtracks of the order search; default 1000 */
    td_base_rule base_point;       /* "conditioned" (default) | "segment" */
    double *targets;     /* construction.targets: targets_rows x
                            targets_cols numbers, row j the target of the
                            j-th smallest label, or NULL (one-hot); the
                            shape is checked against Q after loading */
    int targets_rows, targets_cols;
    int targets_line;    /* its line, for messages */

    /* [separator] */
    int working_set;     /* candidates gathered per side per round; default 256 */
    int max_rounds;      /* working-set rounds per separator solve; default 50 */
    double hull_tol;     /* hulls meet below hull_tol x radius; default 1e-10 */
    double gap;          /* relative margin gap at which a working-set solve
                            stops; default 1e-3 */
    int fisher_warm_start; /* start from the Fisher direction (true) or the
                              difference of means (false); default true */

    /* [parallel] */
    int block_rows;      /* rows per reduction block (fixes the summation
                            order; output bytes depend on it); default 1024 */
    int scalapack_threshold; /* use ScaLAPACK when M >= this; default 1024 */

    /* [verify] */
    int forward;         /* 0 "auto" (default): dense unless its cost passes
                            1e10 flops per rank, 1 "dense", 2 "structured"
                            (O(width) per layer and point) */
    double tolerance;    /* max |x^(L) - y| accepted as zero loss; default 1e-8 */
} td_config;

/* Parse and validate config text into a fresh *cfg (its previous contents
 * are not freed).  `source` names the file in messages.
 * On error returns TD_ERR_INPUT with a message like
 *   "config.toml:7: unknown key 'data.pth'"
 * and leaves *cfg freed (safe to call td_config_free on it again). */
int td_config_parse(const char *text, const char *source, td_config *cfg,
                    td_err *err);

/* Read a whole config file (at most 1 MiB, no NUL bytes) into a malloc'd
 * NUL-terminated string; errors name the file. */
int td_read_text_file(const char *path, char **text, td_err *err);

void td_config_free(td_config *cfg);

#endif
