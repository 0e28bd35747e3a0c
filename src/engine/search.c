/* search.c - order search and layer construction (see td_search.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_basepoint.h"
#include "td_dense.h"
#include "td_search.h"
#include "td_separator.h"

static const char *sep_status_name(int s)
{
    static const char *names[] = {"optimal", "certified", "inseparable",
                                  "capped", "soft"};
    return s >= 0 && s <= 4 ? names[s] : "?";
}

/* True on every rank when `ok` holds on every rank.  Every local failure
 * (an allocation) goes through here before the next collective call, so
 * no rank is left waiting in a reduction the others skipped. */
static int all_ok(int ok)
{
    int bad = !ok;
    td_comm_any(&bad);
    return !bad;
}

/* Per-step scratch shared by the helpers below. */
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
} step_state;

/* One level of the depth-first order search: every candidate's
 * separator, the separable ones ordered best margin first (order[0..nok)),
 * and which of those is being tried. */
typedef struct {
    int opened, n, nok, tried;
    int *cls;
    td_sep *seps;
    int *order;
} level;

static int sep_ok(const td_sep *sp)
{
    return sp->status == TD_SEP_OPTIMAL || sp->status == TD_SEP_CERTIFIED ||
           sp->status == TD_SEP_SOFT;
}

static double dotm(const double *a, const double *b, int m)
{
    double t = 0;
    for (int k = 0; k < m; k++)
        t += a[k] * b[k];
    return t;
}

/* A base point p closer than half the margin to (or beyond) another
 * remaining class's hyperplane voids that separator: it must be solved
 * again, and p may block that class for good. */
static int voids(const td_sep *sp, const double *p, int m)
{
    return dotm(sp->h, p, m) - sp->c < 0.5 * sp->margin;
}

/* How many other remaining classes' separators at this level p voids. */
static int blocking(const level *lv, int a, const double *p, int m)
{
    int n = 0;
    for (int i = 0; lv && i < lv->n; i++)
        if (lv->cls[i] != a && sep_ok(&lv->seps[i]))
            n += voids(&lv->seps[i], p, m);
    return n;
}

/* Pick the base point among the candidates of td_base_candidates, scored
 * in one pass: fewest later separators voided first; then the segment
 * rule unless another candidate at least doubles lambda_max (better
 * conditioned, further from the ReLU kinks).  Returns the rule index. */
static int choose_base_point(td_engine *e, const step_state *s,
                             const td_config *cfg, int a, const td_sep *sp,
                             const level *lv, double *p, double *lmax,
                             double *cmin, td_model *mdl)
{
    int m = s->m, soft = sp->status == TD_SEP_SOFT, best = 0, ok = 1;
    int ncand = cfg->base_point == TD_BASE_SEGMENT ? 1 : TD_NBASE;
    double *cb = malloc(sizeof(double) * TD_NBASE * m);
    td_cone probe[TD_NBASE];
    double lm[TD_NBASE] = {0}, cm[TD_NBASE] = {0};
    ok = cb && td_base_candidates(m, s->q, s->counts, s->means, s->done, a,
                                  sp->h, sp->c, cb) == 0;
    int ninit = 0;
    for (; ok && ninit < ncand; ninit++)
        ok = td_cone_init(&probe[ninit], m, sp->h, cb + (size_t)ninit * m, 1.0) == 0;
    if (all_ok(ok))
        ok = td_engine_lambda_pass(e, ncand, probe, a, s->P, s->np, soft,
                                   lm, cm) == 0;
    else
        ok = 0;
    mdl->data_passes++;
    int bl[TD_NBASE];
    for (int i = 0; ok && i < ncand; i++)
        bl[i] = blocking(soft ? NULL : lv, a, cb + (size_t)i * m, m);
    for (int i = 1; ok && i < ncand; i++) {
        if (!(lm[i] > 0))
            continue;
        if (!(lm[best] > 0) || bl[i] < bl[best] ||
            (bl[i] == bl[best] && lm[i] >= 2 * lm[0] && lm[i] > lm[best]))
            best = i;
    }
    if (ok) {
        memcpy(p, cb + (size_t)best * m, sizeof(double) * m);
        *lmax = lm[best];
        *cmin = cm[best];
    }
    for (int i = 0; i < ninit; i++)
        td_cone_free(&probe[i]);
    free(cb);
    return ok ? best : -1;
}

/* Candidate classes for this step: the configured one, or all remaining. */
static int step_candidates(const step_state *s, const td_config *cfg, int l,
                           const int64_t *labels, int *cand)
{
    int n = 0;
    if (cfg->norder > 0) {
        for (int j = 0; j < s->q; j++)
            if (labels[j] == cfg->order[l])
                cand[n++] = j;
        return n;
    }
    for (int j = 0; j < s->q; j++)
        if (!s->done[j])
            cand[n++] = j;
    return n;
}

/* Append to the one-line failure summary, keeping it within bounds. */
static void summary_add(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void summary_add(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static void describe_failure(const td_sep *sp, int64_t label, char *buf,
                             size_t len)
{
    if (sp->status == TD_SEP_INSEPARABLE) {
        summary_add(buf, len, " class %lld: hulls meet (a convex combination "
                    "of %d of its rows lies within %.3g of one of %d points of "
                    "the rest, radius %.3g", (long long)label, sp->nsupp_a,
                    sp->hull_dist, sp->nsupp_b, sp->hull_scale);
        for (int i = 0; i < sp->nev_a && i < 1; i++)
            summary_add(buf, len, "; e.g. row %lld", (long long)sp->ev_a[i]);
        for (int i = 0; i < sp->nev_b && i < 1; i++) {
            if (sp->ev_b[i] < 0)
                summary_add(buf, len, " vs base point of layer %lld",
                            (long long)(-sp->ev_b[i]));
            else
                summary_add(buf, len, " vs row %lld", (long long)sp->ev_b[i]);
        }
        summary_add(buf, len, ");");
    } else {
        summary_add(buf, len, " class %lld: no separator after %d rounds "
                    "(best margin %.3g, hull distance <= %.3g, not proven "
                    "zero);", (long long)label, sp->rounds, sp->margin,
                    sp->hull_dist);
    }
}

/* Pooled within-class scatter of all classes, regularised so that flat
 * data (points on a subspace) still gives a positive definite system. */
static int prepare_scatter(td_engine *e, step_state *s, td_err *err)
{
    int m = s->m;
    s->S = malloc(sizeof(double) * (size_t)m * m);
    if (!all_ok(s->S != NULL) || td_engine_scatter(e, s->means, s->S))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (scatter)");
    double tr = 0;
    for (int k = 0; k < m; k++)
        tr += s->S[(size_t)k * m + k];
    double delta = tr > 0 ? 1e-6 * tr / m : 1.0;
    for (int k = 0; k < m; k++)
        s->S[(size_t)k * m + k] += delta;
    return TD_OK;
}

/* Warm starts for every candidate: the Fisher direction
 * S^-1 (mu_rest - mu_a) or, without S, the difference of means.  H is
 * ncand x m (unit rows), C the offsets through the midpoint of the means. */
static int warm_starts(step_state *s, const td_config *cfg,
                       const int *cand, int ncand, double *H, double *C,
                       td_err *err)
{
    int m = s->m;
    double *d = malloc(sizeof(double) * (size_t)ncand * m);
    double *mid = malloc(sizeof(double) * (size_t)ncand * m);
    if (!all_ok(d && mid)) {
        free(d); free(mid);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (warm start)");
    }
    for (int i = 0; i < ncand; i++) {
        const double *ma = s->means + (size_t)cand[i] * m;
        td_mean_of_rest(m, s->q, s->counts, s->means, s->done, cand[i], s->P,
                        s->np, mid + (size_t)i * m);
        for (int k = 0; k < m; k++) {
            d[(size_t)i * m + k] = mid[(size_t)i * m + k] - ma[k];
            mid[(size_t)i * m + k] = 0.5 * (mid[(size_t)i * m + k] + ma[k]);
        }
    }
    memcpy(H, d, sizeof(double) * (size_t)ncand * m);
    int rc = TD_OK;
    if (s->S)
        rc = td_dense_spd_solve(m, s->S, ncand, H, cfg->scalapack_threshold,
                                &s->used_scalapack, err);
    for (int i = 0; rc == TD_OK && i < ncand; i++) {
        double *h = H + (size_t)i * m, nn = 0;
        for (int k = 0; k < m; k++)
            nn += h[k] * h[k];
        if (!(nn > 0) || !isfinite(nn)) {      /* coincident means */
            memset(h, 0, sizeof(double) * m);
            h[0] = nn = 1;
        }
        C[i] = 0;
        for (int k = 0; k < m; k++) {
            /* only a starting direction: rounding it to single precision
             * hides the last-bit differences of grid-shaped ScaLAPACK
             * solves, so the working set does not depend on the ranks */
            h[k] = (double)(float)(h[k] / sqrt(nn));
            C[i] += h[k] * mid[(size_t)i * m + k];
        }
    }
    free(d);
    free(mid);
    return rc;
}

static td_sep_params sep_params(const td_config *cfg)
{
    return (td_sep_params){cfg->working_set, cfg->max_rounds, cfg->gap,
                           cfg->hull_tol};
}

/* The previous level's separator of class c still holds at this level if
 * the base point just added keeps clear of it: the rest has only lost the
 * collapsed class's rows, so its certified margin still bounds the new
 * one from below.  Exact mode only (best effort moves points). */
static int reuse_previous(const step_state *s, const td_config *cfg,
                          const level *prev, int c, td_sep *out, int *oom)
{
    if (!prev || s->np == 0 || cfg->on_inseparable == TD_INSEP_BEST_EFFORT)
        return 0;
    for (int i = 0; i < prev->n; i++) {
        const td_sep *sp = &prev->seps[i];
        if (prev->cls[i] != c || !sep_ok(sp) || sp->status == TD_SEP_SOFT)
            continue;
        const double *p = s->P + (size_t)(s->np - 1) * s->m;
        if (voids(sp, p, s->m))
            return 0;
        if (td_sep_copy(out, sp, s->m)) {
            *oom = 1;
            return 0;
        }
        out->margin = fmin(sp->margin, dotm(sp->h, p, s->m) - sp->c);
        out->passes = 0;
        return 1;
    }
    return 0;
}

/* Separate the candidates in need[0..nn) together (one pass per round),
 * warm-started from each class's last normal or the Fisher direction. */
static int solve_batch(td_engine *e, step_state *s, const td_config *cfg,
                       const int *cand, const int *need, int nn, td_sep *seps,
                       td_model *mdl, td_err *err)
{
    int m = s->m, *ncls = malloc(sizeof(int) * (nn ? nn : 1));
    double *H = malloc(sizeof(double) * (size_t)(nn ? nn : 1) * m);
    double *C = malloc(sizeof(double) * (nn ? nn : 1));
    td_sep *tmp = calloc((size_t)(nn ? nn : 1), sizeof(td_sep));
    int rc = all_ok(ncls && H && C && tmp) ? TD_OK
             : td_err_set(err, TD_ERR_INTERNAL, "out of memory (separator)");
    for (int j = 0; rc == TD_OK && j < nn; j++)
        ncls[j] = cand[need[j]];
    if (rc == TD_OK)
        rc = warm_starts(s, cfg, ncls, nn, H, C, err);
    for (int j = 0; rc == TD_OK && j < nn; j++)
        if (s->has_last[ncls[j]])   /* lost a class, gained a base point */
            memcpy(H + (size_t)j * m, s->last_h + (size_t)ncls[j] * m,
                   sizeof(double) * m);
    int64_t passes = 0;
    td_sep_params prm = sep_params(cfg);
    if (rc == TD_OK &&
        td_separate(e, nn, ncls, H, C, s->P, s->np, &prm, tmp, &passes))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (separator)");
    mdl->separator_solves += nn;
    mdl->data_passes += passes;
    for (int j = 0; j < nn; j++) {
        if (rc == TD_OK && sep_ok(&tmp[j])) {
            memcpy(s->last_h + (size_t)ncls[j] * m, tmp[j].h, sizeof(double) * m);
            s->has_last[ncls[j]] = 1;
        }
        if (rc == TD_OK)
            seps[need[j]] = tmp[j];
        else
            td_sep_free(&tmp[j]);
    }
    free(ncls); free(H); free(C); free(tmp);
    return rc;
}

/* Separate every candidate (seps[i] for cand[i]): reuse what the previous
 * level proved, solve the rest in one batch. */
static int separate_all(td_engine *e, step_state *s, const td_config *cfg,
                        const level *prev, const int *cand, int ncand,
                        td_sep *seps, td_model *mdl, td_err *err)
{
    int *need = malloc(sizeof(int) * (ncand ? ncand : 1)), nn = 0, oom = 0;
    if (!all_ok(need != NULL))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
    for (int i = 0; i < ncand; i++)
        if (!reuse_previous(s, cfg, prev, cand[i], &seps[i], &oom))
            need[nn++] = i;
    int rc = all_ok(!oom) ? TD_OK
             : td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
    mdl->separators_reused += ncand - nn;
    if (rc == TD_OK && nn > 0)
        rc = solve_batch(e, s, cfg, cand, need, nn, seps, mdl, err);
    free(need);
    return rc;
}

/* Best effort: the candidate whose best scanned hyperplane has the least
 * negative margin becomes a soft-margin layer. */
static void soften_best(int ncand, td_sep *seps)
{
    int best = -1;
    for (int i = 0; i < ncand; i++)
        if (best < 0 || seps[i].margin > seps[best].margin)
            best = i;
    if (best >= 0)
        seps[best].status = TD_SEP_SOFT;
}

/* Index (into cand) of the separable candidate with the largest margin,
 * ties to the lower class index; -1 if none. */
static int pick_class(int ncand, const td_sep *seps)
{
    int best = -1;
    for (int i = 0; i < ncand; i++)
        if (sep_ok(&seps[i]) && (best < 0 || seps[i].margin > seps[best].margin))
            best = i;
    return best;
}

/* Turn the chosen hyperplane into a cone layer, apply it to all shards and
 * record everything about it. */
static int build_layer(td_engine *e, step_state *s, const td_config *cfg,
                       int l, int a, const td_sep *sp, const level *lv,
                       td_model *mdl, td_err *err)
{
    int m = s->m;
    td_layer_rec *r = &mdl->layers[l];
    r->h = malloc(sizeof(double) * m);
    r->p = malloc(sizeof(double) * m);
    if (!all_ok(r->h && r->p))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (layer)");
    memcpy(r->h, sp->h, sizeof(double) * m);
    double lmax = 0, cmin = -1;
    r->base_rule = choose_base_point(e, s, cfg, a, sp, lv, r->p, &lmax, &cmin,
                                     mdl);
    if (!all_ok(r->base_rule >= 0))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (base point)");
    if (!(lmax > 0))
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: a point lies on the "
                          "hyperplane of class %lld (lambda_max = 0)", l + 1,
                          (long long)mdl->labels[a]);
    r->lambda_max = lmax;
    r->lambda = cfg->kappa * lmax;
    if (!all_ok(td_cone_init(&mdl->cones[l], m, r->h, r->p, r->lambda) == 0))
        return td_err_set(err, TD_ERR_INTERNAL, "layer %d: bad cone", l + 1);
    td_apply_stats st;
    if (td_engine_apply(e, &mdl->cones[l], a, l, s->P, s->np,
                        cfg->on_inseparable == TD_INSEP_BEST_EFFORT, &st))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (apply)");
    mdl->data_passes++;
    r->class_index = a;
    r->label = mdl->labels[a];
    r->offset = sp->c;
    r->geo_margin = sp->margin;
    r->theta = td_theta_of_lambda(r->lambda, m);
    r->theta_min = 2.0 * acos(fmin(1.0, fmax(-1.0, cmin)));
    r->cond = td_cone_cond(&mdl->cones[l]);
    r->margin_kept = st.margin_kept;
    r->margin_collapsed = st.margin_collapsed;
    r->n_kept = st.n_kept;
    r->n_collapsed = st.n_collapsed;
    r->n_mixed = st.n_mixed + st.n_wrong;
    r->sep_status = sp->status;
    r->sep_rounds = sp->rounds;
    r->hull_dist = sp->hull_dist;
    mdl->nlayers = l + 1;
    memcpy(s->P + (size_t)l * m, r->p, sizeof(double) * m);
    s->np = l + 1;
    s->done[a] = 1;
    td_say("  layer %2d: class %-8lld margin %-10.4g %-9s theta %.4f "
           "(min %.4f) lambda %-9.3g cond %-9.3g kept %lld collapsed %lld\n",
           l + 1, (long long)r->label, r->geo_margin,
           sep_status_name(sp->status), r->theta, r->theta_min, r->lambda,
           r->cond, (long long)r->n_kept, (long long)r->n_collapsed);
    if (st.n_wrong + st.n_mixed > 0 && cfg->on_inseparable == TD_INSEP_FAIL)
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: %lld points fell "
                          "outside their cone (smallest margins %.3g / %.3g)",
                          l + 1, (long long)(st.n_wrong + st.n_mixed),
                          st.margin_kept, st.margin_collapsed);
    return TD_OK;
}

/* Report that step l found no separable class, on stdout and in err. */
static int report_inseparable(const step_state *s, const td_model *mdl,
                              int l, const int *cand, int ncand,
                              const td_sep *seps, td_err *err)
{
    char buf[TD_ERR_MSG_LEN] = "";
    summary_add(buf, sizeof buf, "not sequentially separable: ordered %d of "
                "%d classes [", l, s->q);
    for (int i = 0; i < l; i++)
        summary_add(buf, sizeof buf, "%s%lld", i ? ", " : "",
                    (long long)mdl->layers[i].label);
    summary_add(buf, sizeof buf, "]; no remaining class separates from the "
                "rest:");
    for (int i = 0; i < ncand; i++)
        describe_failure(&seps[i], mdl->labels[cand[i]], buf, sizeof buf);
    return td_err_set(err, TD_ERR_INSEPARABLE, "%s", buf);
}

static int finish_network(td_model *mdl, const step_state *s, td_err *err)
{
    int m = mdl->m, q = mdl->q, rc = TD_OK;
    double *P = malloc(sizeof(double) * (size_t)q * m);
    if (!all_ok(P != NULL)) {
        free(P);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (output layer)");
    }
    for (int l = 0; l < q; l++)     /* row j: base point of class j */
        memcpy(P + (size_t)mdl->layers[l].class_index * m, s->P + (size_t)l * m,
               sizeof(double) * m);
    rc = td_output_layer(m, q, P, q, mdl->targets, mdl->w_out, mdl->b_out,
                         &mdl->output_bias, &mdl->output_cond, err);
    free(P);
    if (rc)
        return rc;
    rc = td_network_from_cones(&mdl->net, m, q, mdl->cones, q, mdl->w_out,
                               mdl->b_out, err);
    if (!all_ok(rc == TD_OK))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (network)");
    /* rank 0's bytes are the network: no rank may differ in the last bit */
    td_comm_bcast(mdl->w_out, sizeof(double) * (size_t)q * m);
    td_comm_bcast(mdl->b_out, sizeof(double) * q);
    for (int k = 0; k < mdl->net.num_layers; k++) {
        int din = mdl->net.dims[k], dout = mdl->net.dims[k + 1];
        td_comm_bcast(mdl->net.W[k], sizeof(double) * (size_t)din * dout);
        td_comm_bcast(mdl->net.b[k], sizeof(double) * dout);
    }
    return TD_OK;
}

/* The configured order must name every class exactly once. */
static int check_order(const td_config *cfg, const td_model *mdl, td_err *err)
{
    if (cfg->norder == 0)
        return TD_OK;
    if (cfg->norder != mdl->q)
        return td_err_set(err, TD_ERR_INPUT, "%s: construction.order lists %d "
                          "labels but the data has %d classes", cfg->source,
                          cfg->norder, mdl->q);
    for (int i = 0; i < cfg->norder; i++) {
        int found = 0;
        for (int j = 0; j < mdl->q; j++)
            found |= mdl->labels[j] == cfg->order[i];
        if (!found)
            return td_err_set(err, TD_ERR_INPUT, "%s: label %lld in "
                              "construction.order is not a class of the data",
                              cfg->source, (long long)cfg->order[i]);
    }
    return TD_OK;
}

static void level_free(level *lv)
{
    for (int i = 0; lv->seps && i < lv->n; i++)
        td_sep_free(&lv->seps[i]);
    free(lv->cls);
    free(lv->seps);
    free(lv->order);
    *lv = (level){0};
}

/* Keep every candidate's separator (the next level reuses them) and order
 * the separable ones by margin (desc), class (asc).  Takes over seps. */
static int level_keep(level *lv, const int *cand, int ncand, td_sep *seps)
{
    *lv = (level){.opened = 1, .n = ncand, .tried = -1};
    lv->cls = malloc(sizeof(int) * (ncand ? ncand : 1));
    lv->order = malloc(sizeof(int) * (ncand ? ncand : 1));
    lv->seps = seps;
    if (!lv->cls || !lv->order)
        return -1;
    memcpy(lv->cls, cand, sizeof(int) * ncand);
    for (int i = 0; i < ncand; i++) {
        if (!sep_ok(&seps[i]))
            continue;
        int j = lv->nok++;
        while (j > 0 && seps[i].margin > seps[lv->order[j - 1]].margin) {
            lv->order[j] = lv->order[j - 1];
            j--;
        }
        lv->order[j] = i;
    }
    return 0;
}

/* A dead end no other order can avoid: every remaining class's hull meets
 * the hull of the other remaining classes' rows with no base point in the
 * certificate.  Whichever of them an order collapses first, all the others
 * are still there, so it fails too. */
static int level_proven(const level *lv)
{
    if (lv->n == 0)
        return 0;
    for (int i = 0; i < lv->n; i++)
        if (lv->seps[i].status != TD_SEP_INSEPARABLE || lv->seps[i].uses_base)
            return 0;
    return 1;
}

/* Remove layer l from the shards and the model (backtracking). */
static void undo_layer(td_engine *e, step_state *s, td_model *mdl, int l)
{
    td_engine_undo(e, l);
    s->done[mdl->layers[l].class_index] = 0;
    free(mdl->layers[l].h);
    free(mdl->layers[l].p);
    mdl->layers[l] = (td_layer_rec){0};
    td_cone_free(&mdl->cones[l]);
    s->np = l;
    mdl->nlayers = l;
    mdl->backtracks++;
}

/* Search bookkeeping: the deepest dead end is what a failure reports. */
typedef struct {
    int best_depth;
    char report[TD_ERR_MSG_LEN];
} search_log;

/* Explore level l: separate its candidates and keep them all.  On a dead
 * end, remember the report if it is the deepest so far. */
static int open_level(td_engine *e, step_state *s, const td_config *cfg,
                      int l, level *lv, const level *prev, td_model *mdl,
                      search_log *log, td_err *err)
{
    int *cand = malloc(sizeof(int) * s->q);
    td_sep *seps = calloc((size_t)s->q, sizeof(td_sep));
    if (!all_ok(cand && seps)) {
        free(cand); free(seps);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
    }
    if (cfg->on_inseparable == TD_INSEP_BEST_EFFORT && l > 0) {
        td_engine_class_stats(e, s->counts, s->means);   /* points moved */
        mdl->data_passes++;
    }
    int ncand = step_candidates(s, cfg, l, mdl->labels, cand);
    int rc = separate_all(e, s, cfg, prev, cand, ncand, seps, mdl, err);
    if (rc == TD_OK && pick_class(ncand, seps) < 0 && l >= log->best_depth) {
        td_err tmp;
        td_err_clear(&tmp);
        report_inseparable(s, mdl, l, cand, ncand, seps, &tmp);
        log->best_depth = l;
        snprintf(log->report, sizeof log->report, "%s", tmp.msg);
    }
    if (rc == TD_OK && cfg->on_inseparable == TD_INSEP_BEST_EFFORT &&
        pick_class(ncand, seps) < 0)
        soften_best(ncand, seps);
    if (rc == TD_OK && !all_ok(level_keep(lv, cand, ncand, seps) == 0))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
    if (rc != TD_OK && lv->seps != seps) {
        for (int i = 0; i < ncand; i++)
            td_sep_free(&seps[i]);
        free(seps);
    }
    free(cand);
    return rc;
}

/* Depth-first search over orders: at each level try the separable classes
 * best margin first; at a dead end undo the previous layer and try its
 * next candidate, within the backtrack budget. */
static int search_orders(td_engine *e, step_state *s, const td_config *cfg,
                         td_model *mdl, td_err *err)
{
    level *lv = calloc((size_t)s->q, sizeof(level));
    search_log log = {0, ""};
    int l = 0, rc = all_ok(lv != NULL) ? TD_OK
                    : td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    while (rc == TD_OK && l < s->q) {
        if (!lv[l].opened)
            rc = open_level(e, s, cfg, l, &lv[l], l > 0 ? &lv[l - 1] : NULL,
                            mdl, &log, err);
        if (rc)
            break;
        int next = lv[l].tried + 1;
        if (next < lv[l].nok) {
            int i = lv[l].order[next];
            lv[l].tried = next;
            rc = build_layer(e, s, cfg, l, lv[l].cls[i], &lv[l].seps[i],
                             &lv[l], mdl, err);
            l++;
            continue;
        }
        int proven = l > 0 && lv[l].tried < 0 && level_proven(&lv[l]);
        if (l == 0 || proven || mdl->backtracks >= cfg->backtrack_budget) {
            if (proven)
                td_say("search: dead end at step %d is final: every remaining "
                       "class meets the others' rows, no base point "
                       "involved, so no order helps\n", l + 1);
            else if (l > 0)
                td_say("search: backtrack budget of %d exhausted\n",
                       cfg->backtrack_budget);
            td_say("%s\n", log.report);
            rc = td_err_set(err, TD_ERR_INSEPARABLE, "%s", log.report);
            break;
        }
        level_free(&lv[l]);
        l--;
        td_say("  backtrack: undo layer %d (class %lld)\n", l + 1,
               (long long)mdl->layers[l].label);
        undo_layer(e, s, mdl, l);
    }
    for (int i = 0; lv && i < s->q; i++)
        level_free(&lv[i]);
    free(lv);
    return rc;
}

int td_search_build(td_engine *e, const td_config *cfg, td_model *mdl,
                    td_err *err)
{
    int m = e->m, q = e->q, rc = TD_OK;
    step_state s = {m, q, 0, calloc((size_t)q, sizeof(int64_t)),
                    calloc((size_t)q * m, sizeof(double)),
                    calloc((size_t)q * m, sizeof(double)),
                    calloc((size_t)q, sizeof(int)), NULL,
                    malloc(sizeof(double) * (size_t)q * m),
                    calloc((size_t)q, sizeof(int)), 0};
    if (!all_ok(s.counts && s.means && s.P && s.done && s.last_h && s.has_last)) {
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
        goto done;
    }
    if ((rc = check_order(cfg, mdl, err)))
        goto done;
    td_engine_class_stats(e, s.counts, s.means);
    mdl->data_passes++;
    memcpy(mdl->counts, s.counts, sizeof(int64_t) * q);
    memcpy(mdl->means, s.means, sizeof(double) * q * m);
    if (cfg->fisher_warm_start && (rc = prepare_scatter(e, &s, err)))
        goto done;
    td_say("search: %s warm start%s, working set %d per side, kappa %g\n",
           s.S ? "Fisher" : "mean-difference",
           s.S && m >= cfg->scalapack_threshold ? " (ScaLAPACK)" : "",
           cfg->working_set, cfg->kappa);
    rc = search_orders(e, &s, cfg, mdl, err);
    if (rc == TD_OK) {
        mdl->sequentially_separable = 1;
        for (int l = 0; l < q; l++)
            mdl->sequentially_separable &= mdl->layers[l].sep_status <= TD_SEP_CERTIFIED;
        rc = finish_network(mdl, &s, err);
    }
    td_say("search: %lld separator solves, %lld backtracks, %lld data passes\n",
           (long long)mdl->separator_solves, (long long)mdl->backtracks,
           (long long)mdl->data_passes);
done:
    free(s.counts); free(s.means); free(s.P); free(s.done); free(s.S);
    free(s.last_h); free(s.has_last);
    return rc;
}

int td_search_separate_one(td_engine *e, const td_config *cfg, int a,
                           td_sep *out, double *t_warm, td_err *err)
{
    int m = e->m, q = e->q, rc = TD_OK;
    double t0 = td_comm_wtime();
    step_state s = {m, q, 0, calloc((size_t)q, sizeof(int64_t)),
                    calloc((size_t)q * m, sizeof(double)), NULL,
                    calloc((size_t)q, sizeof(int)), NULL, NULL, NULL, 0};
    double *h = malloc(sizeof(double) * m), c = 0;
    if (!all_ok(s.counts && s.means && s.done && h)) {
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        goto done;
    }
    td_engine_class_stats(e, s.counts, s.means);
    if (cfg->fisher_warm_start && (rc = prepare_scatter(e, &s, err)))
        goto done;
    if ((rc = warm_starts(&s, cfg, &a, 1, h, &c, err)))
        goto done;
    *t_warm = td_comm_wtime() - t0;
    td_sep_params prm = sep_params(cfg);
    int64_t passes = 0;
    if (td_separate(e, 1, &a, h, &c, NULL, 0, &prm, out, &passes))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (separator)");
done:
    free(s.counts); free(s.means); free(s.done); free(s.S); free(h);
    return rc;
}
