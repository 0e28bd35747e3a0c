/* td_step.h - the order search's state, shared by its modules: the
 * search itself (search.c), the warm starts (warmstart.c), the layer
 * builder (layer.c) and the failure report (report.c). */
#ifndef TD_STEP_H
#define TD_STEP_H

#include <stdint.h>
#include "td_config.h"
#include "td_engine.h"
#include "td_model.h"
#include "td_separator.h"

/* What the search knows at the current step. */
typedef struct {
    int m, q, np;            /* np: base points so far = layers built */
    int64_t *counts;         /* active points per class */
    double *means;           /* q x m means of active points */
    double *P;               /* np x m base points, layer order */
    int *done;               /* class already collapsed */
    double *S;               /* m x m regularised within-class scatter, or
                                NULL for mean-difference warm starts */
    double *last_h;          /* q x m: each class's latest separator normal,
                                the best start for its next solve */
    int *has_last;
    int used_scalapack;      /* the Fisher solves ran on a BLACS grid */
} td_step;

/* One level of the depth-first order search: every candidate's
 * separator, the separable ones ordered best margin first (order[0..nok)),
 * and which of those is being tried. */
typedef struct {
    int opened, n, nok, tried;
    int retry;               /* the tried class's layer: 1 rebuild it with a
                                free base point next, 2 done so */
    int *cls;
    td_sep *seps;
    int *order;
} td_level;

/* True on every rank when `ok` holds on every rank.  Every local failure
 * (an allocation) goes through here before the next collective call, so
 * no rank is left waiting in a reduction the others skipped. */
int td_all_ok(int ok);

/* The separator's parameters from the config (no work cap). */
td_sep_params td_sep_params_of(const td_config *cfg);

/* The separator can make a layer (optimal, certified, or soft). */
int td_sep_ok(const td_sep *sp);
const char *td_sep_status_name(int status);

/* A base point p closer than half the margin to (or beyond) another
 * remaining class's hyperplane voids that separator: it must be solved
 * again, and p may block that class for good. */
int td_sep_voids(const td_sep *sp, const double *p, int m);

/* warmstart.c: the pooled within-class scatter (s->S, regularised), and
 * warm-start directions H (ncand x m, unit rows) and offsets C for the
 * classes cand (Fisher S^-1 (mu_rest - mu_a), or the mean difference). */
int td_step_scatter(td_engine *e, td_step *s, td_err *err);
int td_warm_starts(td_step *s, const td_config *cfg, const int *cand,
                   int ncand, double *H, double *C, td_err *err);

/* layer.c: turn class a's separator sp into layer l (base point, lambda,
 * cone), apply it to every shard and record it; undo it when the search
 * backtracks; the output layer and the per-layer network at the end.
 * force_free: take a free base point if there is one (the search's retry
 * after a dead end that involved base points). */
int td_layer_build(td_engine *e, td_step *s, const td_config *cfg, int l,
                   int a, const td_sep *sp, const td_level *lv,
                   int force_free, td_model *mdl, td_err *err);
/* Layer l's cone from its record (class_index, h, p, lambda and the
 * separator's fields set): built, applied to every shard (base points P,
 * l of them, layer order), the record completed from the pass, the layer
 * line printed (note appended; q: layers planned, for progress).
 * TD_ERR_VERIFY when rounding put points outside their cone (best
 * effort: allowed).  Collective. */
int td_layer_commit(td_engine *e, const td_config *cfg, int l,
                    const double *P, int q, const char *note, td_model *mdl,
                    td_err *err);

/* Free base points are allowed by the configuration. */
int td_layer_free_ok(const td_config *cfg);
void td_layer_undo(td_engine *e, td_step *s, td_model *mdl, int l);
/* kind: enum td_out_kind (construction.output_layer, td_output_layer);
 * tolerance (verify.tolerance) sets where reset layers go (td_reset_cond) */
int td_layer_output(td_model *mdl, const td_step *s, int kind,
                    double tolerance, td_err *err);

/* mdl->output_rank and output_bias_dev of the built output layer: W^(L),
 * b^(L) (a polytope: its exported last layer).  Collective (agreed);
 * TD_ERR_INTERNAL when LAPACK or memory failed anywhere. */
int td_model_describe_output(td_model *mdl);

/* Broadcast rank 0's output weights and the materialised layers of the
 * network, so every rank verifies and writes the same bytes. */
void td_model_bcast_network(td_model *mdl);

/* report.c: step l found no separable class among cand: a one-line
 * summary with each class's evidence, in err (TD_ERR_INSEPARABLE). */
int td_report_inseparable(const td_step *s, const td_model *mdl, int l,
                          const int *cand, int ncand, const td_sep *seps,
                          td_err *err);

#endif
