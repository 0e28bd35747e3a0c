/* polytope.c - binary data: the outer class cut off the inner one by
 * facets, a network of two hidden layers (see td_polytope.h).
 *
 * The facets are the pieces construction's pieces of the outer class B
 * against every row of the inner class A: A's rows are never removed,
 * B's rows are marked covered by the first facet that has them, so each
 * cut pass aims at the rest of B.  The candidate directions, the ladder
 * of thresholds with its margin floor and the growing by max-margin
 * re-solves are those of piecefind.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_lift.h"
#include "td_linalg.h"
#include "td_polytope.h"

/* The facets of one attempt (identical on every rank). */
typedef struct {
    int n, cap;
    double *w, *lo, *hi;
    int64_t *cnt;
} facets;

/* Why an attempt stopped: the outer row that no hyperplane separates
 * from the inner class, with the separator's evidence. */
typedef struct {
    int64_t row;            /* global row, -1 if none */
    int status;             /* enum td_sep_status of its solve */
    double hull_dist;
    int nsupp, nev;
    int64_t ev[TD_SEP_EVIDENCE];
    int nfacets;            /* facets built before it */
} stuck;

static void facets_free(facets *F)
{
    free(F->w); free(F->lo); free(F->hi); free(F->cnt);
    *F = (facets){0};
}

/* Append a facet; -1 on every rank when memory ran out anywhere. */
static int facets_push(facets *F, int m, const td_piece *pc, int64_t n)
{
    int ok = 1;
    if (F->n == F->cap) {
        int cap = F->cap ? 2 * F->cap : 16;
        double *w = realloc(F->w, sizeof(double) * (size_t)cap * m);
        if (w) F->w = w;
        double *lo = realloc(F->lo, sizeof(double) * cap);
        if (lo) F->lo = lo;
        double *hi = realloc(F->hi, sizeof(double) * cap);
        if (hi) F->hi = hi;
        int64_t *cnt = realloc(F->cnt, sizeof(int64_t) * cap);
        if (cnt) F->cnt = cnt;
        ok = w && lo && hi && cnt;
        if (ok)
            F->cap = cap;
    }
    if (!td_all_ok(ok))
        return -1;
    memcpy(F->w + (size_t)F->n * m, pc->w, sizeof(double) * m);
    F->lo[F->n] = pc->lo;
    F->hi[F->n] = pc->hi;
    F->cnt[F->n] = n;
    F->n++;
    return 0;
}

static void add_stats(td_model *mdl, const td_sep_stats *sst)
{
    mdl->separator_solves++;
    mdl->data_passes += sst->passes;
    mdl->separator_passes += sst->passes;
    mdl->t_scan += sst->t_scan;
    mdl->t_solve += sst->t_solve;
}

/* No candidate cut a piece: the first remaining row of b alone against
 * a.  Either its separator gives the piece along it (TD_OK), or the
 * row is the evidence (TD_ERR_INSEPARABLE, *why filled, err untouched). */
static int single_row(td_engine *e, td_lift *L, const td_config *cfg,
                      int a, int b, td_model *mdl, td_piece *pc, stuck *why,
                      td_err *err)
{
    int m = L->m;
    double floor_abs = cfg->margin_floor * L->t;
    int64_t row = td_engine_first_active(e, b), cnt[2];
    double *means = malloc(sizeof(double) * 2 * m);
    double *h0 = malloc(sizeof(double) * m);
    if (!td_all_ok(means && h0)) {
        free(means); free(h0);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (polytope)");
    }
    td_engine_park_all_but(e, b, row);
    if (td_engine_class_stats(e, cnt, means)) {  /* b's mean is the row */
        td_engine_unpark(e);                     /* (failed on every rank) */
        free(means); free(h0);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                          "statistics)");
    }
    mdl->data_passes += 2;
    double nn = 0, c0 = 0;
    for (int k = 0; k < m; k++) {
        h0[k] = means[(size_t)a * m + k] - means[(size_t)b * m + k];
        nn += h0[k] * h0[k];
    }
    for (int k = 0; k < m; k++)
        h0[k] = nn > 0 ? h0[k] / sqrt(nn) : (k == 0);
    for (int k = 0; k < m; k++)
        c0 += h0[k] * 0.5 * (means[(size_t)a * m + k] +
                             means[(size_t)b * m + k]);
    td_sep sp = {0};
    td_sep_stats sst = {0};
    td_sep_params prm = td_sep_params_of(cfg);
    int bad = td_separate(e, 1, &b, h0, &c0, NULL, 0, &prm, &sp, &sst);
    td_engine_unpark(e);
    add_stats(mdl, &sst);
    free(means);
    free(h0);
    int rc = TD_OK;
    if (bad) {
        rc = td_err_set(err, TD_ERR_INTERNAL, "%s", td_sep_failure(bad));
    } else if (td_sep_ok(&sp) && sp.status != TD_SEP_SOFT) {
        if (td_lift_cut_one(e, mdl, b, sp.h, floor_abs, pc))
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (cut)");
        else if (pc->size < 1)
            rc = td_err_set(err, TD_ERR_INTERNAL, "polytope: row %lld is "
                            "separated from class %lld but no cut along the "
                            "separator holds it", (long long)row,
                            (long long)mdl->labels[a]);
        pc->status = sp.status;
        pc->rounds = sp.rounds;
    } else {
        *why = (stuck){row, sp.status, sp.hull_dist, sp.nsupp_b, sp.nev_b,
                       {0}, 0};
        memcpy(why->ev, sp.ev_b, sizeof why->ev);
        rc = TD_ERR_INSEPARABLE;
    }
    td_sep_free(&sp);
    return rc;
}

/* The best piece of b over its candidate directions (two passes);
 * pc->size 0 when none cuts a row. */
static int best_piece(td_engine *e, td_lift *L, const td_config *cfg,
                      int step, int b, td_model *mdl, td_piece *pc,
                      td_err *err)
{
    int m = L->m, K;
    double floor_abs = cfg->margin_floor * L->t;
    if (cfg->fisher_warm_start && td_lift_refresh_eigen(e, L, mdl, err))
        return err->code;
    int per = td_lift_per(m);
    double *H = malloc(sizeof(double) * (size_t)per * m);
    double *tmp = malloc(sizeof(double) * 2 * m);
    int *cls = malloc(sizeof(int) * per);
    td_cut *cut = malloc(sizeof(td_cut) * 2 * (size_t)per * TD_CUT_LADDER);
    if (!td_all_ok(H && tmp && cls && cut)) {
        free(H); free(tmp); free(cls); free(cut);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (polytope)");
    }
    K = td_lift_candidates(L, step, b, H, cls, tmp);
    int rc = td_engine_cut(e, K, cls, H, 2 * floor_abs, cut);
    mdl->data_passes += 2;
    int best = -1;
    for (int i = 0; rc == 0 && i < 2 * K * TD_CUT_LADDER; i++)
        if (best < 0 ? cut[i].n >= 1
                     : td_lift_cut_better(&cut[i], &cut[best], floor_abs))
            best = i;
    pc->size = 0;
    if (best >= 0)
        td_lift_take(pc, b, H, K, m, best, cut);
    free(H); free(tmp); free(cls); free(cut);
    return rc ? td_err_set(err, TD_ERR_INTERNAL, "out of memory (cut)")
              : TD_OK;
}

/* Cover every row of b by facets against all of a: TD_OK, or
 * TD_ERR_INSEPARABLE with *why (err untouched), or another error. */
static int attempt(td_engine *e, td_lift *L, const td_config *cfg, int a,
                   int b, td_model *mdl, facets *F, stuck *why, td_err *err)
{
    int m = L->m, rc = TD_OK;
    double *w = malloc(sizeof(double) * m);
    if (!td_all_ok(w != NULL))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (polytope)");
    F->n = 0;
    while (rc == TD_OK) {
        if (td_lift_stats(e, L) < 0) {          /* on every rank */
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                            "statistics)");
            break;
        }
        mdl->data_passes++;
        if (L->st.counts[b] == 0)
            break;
        td_piece pc = {.w = w};
        rc = best_piece(e, L, cfg, F->n, b, mdl, &pc, err);
        if (rc == TD_OK && pc.size == 0) {
            rc = single_row(e, L, cfg, a, b, mdl, &pc, why, err);
            if (rc == TD_ERR_INSEPARABLE)
                why->nfacets = F->n;
        }
        if (rc == TD_OK)
            rc = td_lift_grow(e, L, cfg, mdl, &pc, err);
        if (rc != TD_OK)
            break;
        int64_t n = td_engine_mark(e, b, pc.w, pc.thr, F->n);
        mdl->data_passes++;
        if (!td_all_ok(n >= 0 && facets_push(F, m, &pc, n) == 0)) {
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (facets)");
            break;
        }
        /* a line per facet with --verbose, else progress */
        td_say_at(TD_VERBOSE, "  facet %3d: covers %-8lld left %-8lld gap "
                  "%-9.3g%s\n", F->n, (long long)n,
                  (long long)(L->st.counts[b] - n), 0.5 * (pc.hi - pc.lo),
                  pc.status >= 0 ? " (max-margin)" : "");
        td_progress_tick(mdl->counts[b] - (L->st.counts[b] - n),
                         mdl->counts[b], "facet %d, %lld rows of class %lld "
                         "left", F->n, (long long)(L->st.counts[b] - n),
                         (long long)mdl->labels[b]);
        if (n != pc.size)
            rc = td_err_set(err, TD_ERR_INTERNAL, "facet %d: %lld of %lld "
                            "rows marked", F->n, (long long)n,
                            (long long)pc.size);
    }
    free(w);
    return rc;
}

/* One clause of the exit-3 message: why class b is not outside a. */
static int explain(char *buf, size_t len, const td_model *mdl, int a, int b,
                   const stuck *s)
{
    long long la = mdl->labels[a], lb = mdl->labels[b];
    if (s->status != TD_SEP_INSEPARABLE)
        return snprintf(buf, len, "row %lld of class %lld was not separated "
                        "from class %lld within separator.max_rounds (after "
                        "%d facets)", (long long)s->row, lb, la, s->nfacets);
    int k = snprintf(buf, len, "row %lld of class %lld lies in the hull of "
                     "class %lld (after %d facets; hull distance %.2g, %d rows "
                     "of class %lld carry weight, e.g.", (long long)s->row,
                     lb, la, s->nfacets, s->hull_dist, s->nsupp, la);
    for (int i = 0; i < s->nev && k < (int)len; i++)
        k += snprintf(buf + k, len - k, "%s %lld", i ? "," : "",
                      (long long)s->ev[i]);
    if (k < (int)len)
        k += snprintf(buf + k, len - k, ")");
    return k;
}

/* The output layer: y_B + u (y_A - y_B) from the indicator u (affine).
 * linear and neural_collapse need a feature that is nonzero on B too (a
 * bias-free or ybar-centred map sends u = 0 to 0 or ybar, not y_B), so a
 * second indicator layer outputs (u, 1 - u), exactly (1, 0) on A and
 * (0, 1) on B, and the output is W = [y_A - c, y_B - c], b = c with c = 0
 * (linear, rank 2) or ybar (neural_collapse, rank 1 = Q - 1). */
static void polytope_output(td_model *mdl, int a, int b, int kind)
{
    td_network *net = &mdl->net;
    int q = mdl->q, L = net->num_layers;
    const double *Y = mdl->targets;
    if (kind != TD_OUT_AFFINE) {
        net->kind[2] = TD_LAYER_INDICATOR;
        net->W[2][0] = 1.0;
        net->W[2][1] = -1.0;
        net->b[2][1] = 1.0;
    }
    for (int c = 0; c < q; c++) {
        double ya = Y[(size_t)a * q + c], yb = Y[(size_t)b * q + c];
        double base = kind == TD_OUT_LINEAR ? 0.0
                    : kind == TD_OUT_NEURAL_COLLAPSE ? 0.5 * (ya + yb) : yb;
        if (kind == TD_OUT_AFFINE) {
            net->W[L - 1][c] = ya - yb;
        } else {
            net->W[L - 1][2 * c] = ya - base;
            net->W[L - 1][2 * c + 1] = yb - base;
        }
        net->b[L - 1][c] = base;
    }
    mdl->output_kind = kind;
    mdl->output_bias = kind != TD_OUT_LINEAR;
}

/* The network of td_polytope.h from the facets: dims M, k, 1, Q (M, k, 1,
 * 2, Q with a second indicator layer, see polytope_output). */
static int build_network(td_model *mdl, const facets *F, int a, int b,
                         int kind, td_err *err)
{
    int m = mdl->m, k = F->n, q = mdl->q;
    int pair = kind != TD_OUT_AFFINE;
    int dims[5] = {m, k, 1, pair ? 2 : q, q};
    mdl->facet_w = malloc(sizeof(double) * (size_t)k * m);
    mdl->facet_lo = malloc(sizeof(double) * k);
    mdl->facet_hi = malloc(sizeof(double) * k);
    mdl->facet_beta = malloc(sizeof(double) * k);
    mdl->facet_gap = malloc(sizeof(double) * k);
    mdl->facet_n = malloc(sizeof(int64_t) * k);
    int ok = mdl->facet_w && mdl->facet_lo && mdl->facet_hi &&
             mdl->facet_beta && mdl->facet_gap && mdl->facet_n &&
             td_model_set_width(mdl, k) == 0 &&
             td_network_alloc(&mdl->net, pair ? 4 : 3, dims) == 0;
    if (!td_all_ok(ok))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (network)");
    mdl->nfacets = k;
    mdl->inner_class = a;
    mdl->outer_class = b;
    memcpy(mdl->facet_w, F->w, sizeof(double) * (size_t)k * m);
    memcpy(mdl->facet_lo, F->lo, sizeof(double) * k);
    memcpy(mdl->facet_hi, F->hi, sizeof(double) * k);
    memcpy(mdl->facet_n, F->cnt, sizeof(int64_t) * k);
    td_network *net = &mdl->net;
    net->kind[0] = TD_LAYER_FACET;
    net->kind[1] = TD_LAYER_INDICATOR;
    for (int i = 0; i < k; i++) {
        double beta = 0.5 * (F->lo[i] + F->hi[i]);
        double g = 0.5 * (F->hi[i] - F->lo[i]);
        mdl->facet_beta[i] = beta;
        mdl->facet_gap[i] = g;
        for (int j = 0; j < m; j++)
            net->W[0][(size_t)i * m + j] = -2.0 * F->w[(size_t)i * m + j] / g;
        net->b[0][i] = 2.0 * beta / g;
        net->W[1][i] = -1.0;
    }
    net->b[1][0] = 1.0;
    polytope_output(mdl, a, b, kind);
    mdl->output_cond = 1.0;
    td_model_bcast_network(mdl);
    return TD_OK;
}


/* A fresh attempt: every row active, no last directions, no eigen-
 * decomposition (each attempt depends only on the data and its roles). */
static void reset(td_engine *e, td_lift *L)
{
    td_engine_undo_all(e);
    memset(L->st.has_last, 0, sizeof(int) * L->q);
    free(L->evec);
    free(L->eval);
    free(L->st.S);
    L->evec = L->eval = L->st.S = NULL;
    L->eig_rows = 0;
}

int td_polytope_build(td_engine *e, const td_config *cfg, td_model *mdl,
                      td_err *err)
{
    int m = e->m, q = e->q;
    if (q != 2)
        return td_err_set(err, TD_ERR_INPUT, "construction.mode = "
                          "\"polytope\" needs binary data (2 classes), the "
                          "data have %d", q);
    td_lift L;
    facets F = {0};
    stuck why[2] = {{-1, 0, 0, 0, 0, {0}, 0}, {-1, 0, 0, 0, 0, {0}, 0}};
    int rc = td_all_ok(td_lift_init(&L, m, q) == 0)
             ? TD_OK : td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    td_model_clear_layers(mdl);
    td_progress_begin("build");
    mdl->construction = TD_CONS_POLYTOPE;
    mdl->last_class = -1;
    if (rc == TD_OK && td_lift_stats(e, &L) < 0)
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                        "statistics)");
    if (rc == TD_OK) {
        mdl->data_passes++;
        memcpy(mdl->counts, L.st.counts, sizeof(int64_t) * q);
        memcpy(mdl->means, L.st.means, sizeof(double) * (size_t)q * m);
        if (td_lift_radius(e, &L, mdl))
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (radius)");
    }
    /* the smaller class inside first (the lower label on a tie) */
    int first = rc == TD_OK && L.st.counts[1] < L.st.counts[0], a = -1;
    for (int t = 0; rc == TD_OK && t < 2; t++) {
        a = t ? 1 - first : first;
        int b = 1 - a;
        td_say("search: polytope construction, class %lld inside, facets "
               "cut off class %lld (radius %.4g)\n",
               (long long)mdl->labels[a], (long long)mdl->labels[b], L.t);
        reset(e, &L);
        rc = attempt(e, &L, cfg, a, b, mdl, &F, &why[t], err);
        if (rc == TD_ERR_INSEPARABLE) {
            char line[400];
            explain(line, sizeof line, mdl, a, b, &why[t]);
            td_say("polytope: class %lld is not inside facets of class "
                   "%lld: %s\n", (long long)mdl->labels[a],
                   (long long)mdl->labels[b], line);
            rc = t == 0 ? TD_OK : rc;
            a = -1;
            continue;
        }
        break;
    }
    if (rc == TD_OK && a >= 0) {
        mdl->sequentially_separable = 1;
        rc = build_network(mdl, &F, a, 1 - a, cfg->output_layer, err);
    } else if (rc == TD_ERR_INSEPARABLE) {
        char one[400], two[400];
        explain(one, sizeof one, mdl, first, 1 - first, &why[0]);
        explain(two, sizeof two, mdl, 1 - first, first, &why[1]);
        td_err_set(err, TD_ERR_INSEPARABLE, "not polytope-separable: %s, and "
                   "%s; construction.mode = \"pieces\" builds an exact network "
                   "for any data", one, two);
    }
    td_progress_end();
    td_say("search: %d facets, %lld separator solves, %lld data passes "
           "(separator passes %.3f s, working-set solves %.3f s)\n",
           mdl->nfacets, (long long)mdl->separator_solves,
           (long long)mdl->data_passes, mdl->t_scan, mdl->t_solve);
    facets_free(&F);
    td_lift_free(&L);
    return rc;
}
