/* search.c - the order search (see td_search.h): depth-first over class
 * orders, every step separating all remaining classes together. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_ckpt.h"
#include "td_comm.h"
#include "td_search.h"
#include "td_basepoint.h"
#include "td_linalg.h"
#include "td_step.h"

const char *td_sep_status_name(int s)
{
    static const char *names[] = {"optimal", "certified", "inseparable",
                                  "capped", "soft", "given"};
    return s >= 0 && s <= 5 ? names[s] : "?";
}

int td_all_ok(int ok)
{
    int bad = !ok;
    td_comm_any(&bad);
    return !bad;
}

int td_sep_ok(const td_sep *sp)
{
    return sp->status == TD_SEP_OPTIMAL || sp->status == TD_SEP_CERTIFIED ||
           sp->status == TD_SEP_SOFT;
}

int td_sep_voids(const td_sep *sp, const double *p, int m)
{
    return td_dot(sp->h, p, m) - sp->c < 0.5 * sp->margin;
}

/* Candidate classes for this step: the configured one, or all remaining. */
static int step_candidates(const td_step *s, const td_config *cfg, int l,
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

td_sep_params td_sep_params_of(const td_config *cfg)
{
    return (td_sep_params){cfg->working_set, cfg->max_rounds, cfg->gap,
                           cfg->hull_tol, 0};
}

/* Whether the class the previous level collapsed carried weight on the
 * rest side of sp's working-set solution. */
static int support_lost(const td_level *prev, const td_sep *sp)
{
    if (sp->ncert_cls < 0)
        return 1;
    int gone = prev->cls[prev->order[prev->tried]];
    for (int t = 0; t < sp->ncert_cls; t++)
        if (sp->cert_cls[t] == gone)
            return 1;
    return 0;
}

/* A certificate of inseparability stays valid at the next level if it
 * used no base point and no row of the class that level collapsed: the
 * same convex combinations are still in the two hulls. */
static int still_inseparable(const td_level *prev, const td_sep *sp)
{
    return sp->status == TD_SEP_INSEPARABLE && !sp->uses_base &&
           !support_lost(prev, sp);
}

/* The previous level's separator of class c still holds at this level if
 * the base point just added keeps clear of half its margin: the rest has only
 * lost the collapsed class's rows, so its certified margin still bounds
 * the new one from below (if those rows supported it, a fresh solve
 * could find a wider margin: conditioning, traded here for passes).
 * Exact mode only (best effort moves points). */
static int reuse_previous(const td_step *s, const td_config *cfg,
                          const td_level *prev, int c, td_sep *out, int *oom)
{
    if (!prev || s->np == 0 || cfg->on_inseparable == TD_INSEP_BEST_EFFORT)
        return 0;
    for (int i = 0; i < prev->n; i++) {
        const td_sep *sp = &prev->seps[i];
        if (prev->cls[i] == c && still_inseparable(prev, sp)) {
            *oom |= td_sep_copy(out, sp, s->m) != 0;
            return !*oom;
        }
        if (prev->cls[i] != c || !td_sep_ok(sp) || sp->status == TD_SEP_SOFT)
            continue;
        const double *p = s->P + (size_t)(s->np - 1) * s->m;
        if (td_sep_voids(sp, p, s->m))
            return 0;
        if (td_sep_copy(out, sp, s->m)) {
            *oom = 1;
            return 0;
        }
        out->margin = fmin(sp->margin, td_dot(sp->h, p, s->m) - sp->c);
        out->passes = 0;
        return 1;
    }
    return 0;
}

/* The working-set work the Theorem 6 search may spend when the mode is
 * "auto" (0: no limit): beyond it auto builds pieces instead. */
static double auto_budget(const td_config *cfg)
{
    return cfg->mode == TD_MODE_AUTO ? cfg->auto_budget * 1e9 : 0;
}

/* Separate the candidates in need[0..nn) together (one pass per round),
 * warm-started from each class's last normal or the Fisher direction. */
static int solve_batch(td_engine *e, td_step *s, const td_config *cfg,
                       const int *cand, const int *need, int nn, td_sep *seps,
                       td_model *mdl, td_err *err)
{
    int m = s->m, *ncls = malloc(sizeof(int) * (nn ? nn : 1));
    double *H = malloc(sizeof(double) * (size_t)(nn ? nn : 1) * m);
    double *C = malloc(sizeof(double) * (nn ? nn : 1));
    td_sep *tmp = calloc((size_t)(nn ? nn : 1), sizeof(td_sep));
    int rc = td_all_ok(ncls && H && C && tmp) ? TD_OK
             : td_err_set(err, TD_ERR_INTERNAL, "out of memory (separator)");
    for (int j = 0; rc == TD_OK && j < nn; j++)
        ncls[j] = cand[need[j]];
    if (rc == TD_OK)
        rc = td_warm_starts(s, cfg, ncls, nn, H, C, err);
    for (int j = 0; rc == TD_OK && j < nn; j++)
        if (s->has_last[ncls[j]])   /* lost a class, gained a base point */
            memcpy(H + (size_t)j * m, s->last_h + (size_t)ncls[j] * m,
                   sizeof(double) * m);
    td_sep_stats st = {0};
    td_sep_params prm = td_sep_params_of(cfg);
    double budget = auto_budget(cfg);
    if (budget > 0)             /* the classes share what is left */
        prm.work_cap = fmax((budget - mdl->hull_work) / nn, 1.0);
    int bad = rc == TD_OK ? td_separate(e, nn, ncls, H, C, s->P, s->np,
                                        &prm, tmp, &st) : 0;
    if (bad)
        rc = td_err_set(err, TD_ERR_INTERNAL, "%s", td_sep_failure(bad));
    for (int j = 0; rc == TD_OK && j < nn; j++)
        mdl->hull_work += tmp[j].work;
    mdl->separator_solves += nn;
    mdl->data_passes += st.passes;
    mdl->separator_passes += st.passes;
    mdl->t_scan += st.t_scan;
    mdl->t_solve += st.t_solve;
    mdl->bytes_root += st.bytes_root;
    for (int j = 0; tmp && j < nn; j++) {
        if (rc == TD_OK && td_sep_ok(&tmp[j])) {
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
static int separate_all(td_engine *e, td_step *s, const td_config *cfg,
                        const td_level *prev, const int *cand, int ncand,
                        td_sep *seps, td_model *mdl, td_err *err)
{
    int *need = malloc(sizeof(int) * (ncand ? ncand : 1)), nn = 0, oom = 0;
    if (!td_all_ok(need != NULL))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
    for (int i = 0; i < ncand; i++)
        if (!reuse_previous(s, cfg, prev, cand[i], &seps[i], &oom))
            need[nn++] = i;
    int rc = td_all_ok(!oom) ? TD_OK
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
        if (td_sep_ok(&seps[i]) && (best < 0 || seps[i].margin > seps[best].margin))
            best = i;
    return best;
}


int td_search_check_order(const td_config *cfg, const td_model *mdl,
                          td_err *err)
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

static void level_free(td_level *lv)
{
    for (int i = 0; lv->seps && i < lv->n; i++)
        td_sep_free(&lv->seps[i]);
    free(lv->cls);
    free(lv->seps);
    free(lv->order);
    *lv = (td_level){0};
}

/* Keep every candidate's separator (the next level reuses them) and order
 * the separable ones by margin (desc), class (asc).  Takes over seps. */
static int level_keep(td_level *lv, const int *cand, int ncand, td_sep *seps)
{
    *lv = (td_level){.opened = 1, .n = ncand, .tried = -1, .retry = 0};
    lv->cls = malloc(sizeof(int) * (ncand ? ncand : 1));
    lv->order = malloc(sizeof(int) * (ncand ? ncand : 1));
    lv->seps = seps;
    if (!lv->cls || !lv->order)
        return -1;
    memcpy(lv->cls, cand, sizeof(int) * ncand);
    for (int i = 0; i < ncand; i++) {
        if (!td_sep_ok(&seps[i]))
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
static int level_proven(const td_level *lv)
{
    if (lv->n == 0)
        return 0;
    for (int i = 0; i < lv->n; i++)
        if (lv->seps[i].status != TD_SEP_INSEPARABLE || lv->seps[i].uses_base)
            return 0;
    return 1;
}


/* Some certificate of this level uses a base point: a base point of an
 * earlier layer (not only the order) is in the way. */
static int base_in_way(const td_level *lv)
{
    for (int i = 0; i < lv->n; i++)
        if (lv->seps[i].status == TD_SEP_INSEPARABLE && lv->seps[i].uses_base)
            return 1;
    return 0;
}

/* After undoing layer l at a dead end whose certificates used base
 * points: build the same class again with a free base point, once, unless
 * its base point was free already. */
static void plan_retry(td_level *lv, const td_model *mdl, const td_config *cfg,
                       int l, int base)
{
    if (lv->retry == 0 && base && td_layer_free_ok(cfg) &&
        mdl->layers[l].base_rule < TD_NBASE)
        lv->retry = 1;
}

/* Search bookkeeping: the deepest dead end is what a failure reports. */
typedef struct {
    int best_depth;
    char report[TD_ERR_MSG_LEN];
} search_log;

/* Explore level l: separate its candidates and keep them all.  On a dead
 * end, remember the report if it is the deepest so far. */
static int open_level(td_engine *e, td_step *s, const td_config *cfg,
                      int l, td_level *lv, const td_level *prev, td_model *mdl,
                      search_log *log, td_err *err)
{
    int *cand = malloc(sizeof(int) * s->q);
    td_sep *seps = calloc((size_t)s->q, sizeof(td_sep));
    if (!td_all_ok(cand && seps)) {
        free(cand); free(seps);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
    }
    int rc = TD_OK;
    if (cfg->on_inseparable == TD_INSEP_BEST_EFFORT && l > 0) {
        if (td_engine_class_stats(e, s->counts, s->means))  /* points moved */
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                            "statistics)");         /* on every rank */
        mdl->data_passes++;
    }
    int ncand = step_candidates(s, cfg, l, mdl->labels, cand);
    if (rc == TD_OK)
        rc = separate_all(e, s, cfg, prev, cand, ncand, seps, mdl, err);
    if (rc == TD_OK && pick_class(ncand, seps) < 0 && l >= log->best_depth) {
        td_err tmp;
        td_err_clear(&tmp);
        td_report_inseparable(s, mdl, l, cand, ncand, seps, &tmp);
        log->best_depth = l;
        snprintf(log->report, sizeof log->report, "%s", tmp.msg);
    }
    if (rc == TD_OK && cfg->on_inseparable == TD_INSEP_BEST_EFFORT &&
        pick_class(ncand, seps) < 0)
        soften_best(ncand, seps);
    if (rc == TD_OK && !td_all_ok(level_keep(lv, cand, ncand, seps) == 0))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
    if (rc != TD_OK && lv->seps != seps) {
        for (int i = 0; i < ncand; i++)
            td_sep_free(&seps[i]);
        free(seps);
    }
    free(cand);
    return rc;
}

/* The search's whole state after layer l - 1: the step, every open level
 * with its separators, the deepest dead end's report. */
static void pack(td_buf *b, const td_step *s, const td_level *lv, int l,
                 const search_log *log, const td_model *mdl)
{
    td_ckpt_pack_model(b, mdl);
    td_ckpt_pack_step(b, s);
    int64_t head[] = {l, log->best_depth};
    td_buf_put(b, head, sizeof head);
    td_buf_put(b, log->report, sizeof log->report);
    for (int k = 0; k < s->q; k++) {
        int v[] = {lv[k].opened, lv[k].n, lv[k].nok, lv[k].tried,
                   lv[k].retry};
        td_buf_put(b, v, sizeof v);
        if (!lv[k].opened)
            continue;
        td_buf_put_arr(b, lv[k].cls, sizeof(int) * lv[k].n);
        td_buf_put_arr(b, lv[k].order, sizeof(int) * lv[k].nok);
        for (int i = 0; i < lv[k].n; i++)
            td_ckpt_pack_sep(b, &lv[k].seps[i], s->m);
    }
}

static void unpack_level(td_buf *b, td_level *lv, int q, int m)
{
    int v[5];
    td_buf_get(b, v, sizeof v);
    *lv = (td_level){v[0], v[1], v[2], v[3], v[4], NULL, NULL, NULL};
    if (!lv->opened || b->bad)
        return;
    if (lv->n < 0 || lv->n > q || lv->nok < 0 || lv->nok > lv->n) {
        *lv = (td_level){0};
        b->bad = 1;
        return;
    }
    int *cls = td_buf_get_arr(b, sizeof(int) * lv->n);
    int *order = td_buf_get_arr(b, sizeof(int) * lv->nok);
    lv->cls = calloc((size_t)q, sizeof(int));
    lv->order = calloc((size_t)q, sizeof(int));
    lv->seps = calloc((size_t)q, sizeof(td_sep));
    if (!lv->cls || !lv->order || !lv->seps || (lv->n && !cls) ||
        (lv->nok && !order))
        b->bad = 1;
    else {
        memcpy(lv->cls, cls, sizeof(int) * lv->n);
        memcpy(lv->order, order, sizeof(int) * lv->nok);
    }
    free(cls);
    free(order);
    for (int i = 0; i < lv->n && !b->bad; i++)
        td_ckpt_unpack_sep(b, &lv->seps[i], m);
}

static void unpack(td_buf *b, td_step *s, td_level *lv, int *l,
                   search_log *log, td_model *mdl)
{
    td_ckpt_unpack_model(b, mdl);
    td_ckpt_unpack_step(b, s);
    int64_t head[2];
    td_buf_get(b, head, sizeof head);
    *l = (int)head[0];
    log->best_depth = (int)head[1];
    td_buf_get(b, log->report, sizeof log->report);
    log->report[sizeof log->report - 1] = '\0';
    for (int k = 0; k < s->q; k++)
        unpack_level(b, &lv[k], s->q, s->m);
    if (*l < 0 || *l > s->q || s->np != *l || mdl->nlayers != *l)
        b->bad = 1;
}

/* After layer l - 1: save when due (collective).  Best effort moves the
 * points themselves, which a checkpoint does not hold: it only stops. */
static int safe_point(td_ckpt *ck, const td_config *cfg, td_engine *e,
                      const td_step *s, const td_level *lv, int l,
                      const search_log *log, td_model *mdl, td_err *err)
{
    if (cfg->on_inseparable == TD_INSEP_BEST_EFFORT)
        return td_ckpt_stop_asked(ck, err);
    if (!td_ckpt_due(ck))
        return TD_OK;
    td_buf b = {0};
    pack(&b, s, lv, l, log, mdl);
    int rc = td_ckpt_save(ck, TD_PHASE_THEOREM6, &b, e, mdl, err);
    td_buf_free(&b);
    return rc;
}

/* Depth-first search over orders: at each level try the separable classes
 * best margin first; at a dead end undo the previous layer and try its
 * next candidate, within the backtrack budget. */
static int search_orders(td_engine *e, td_step *s, const td_config *cfg,
                         td_model *mdl, td_ckpt *ck, td_err *err)
{
    td_level *lv = calloc((size_t)s->q, sizeof(td_level));
    search_log log = {0, ""};
    int l = 0, rc = td_all_ok(lv != NULL) ? TD_OK
                    : td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    if (rc == TD_OK && ck && ck->phase == TD_PHASE_THEOREM6) {
        unpack(&ck->resume, s, lv, &l, &log, mdl);
        if (!td_all_ok(!ck->resume.bad))
            rc = td_err_set(err, TD_ERR_INPUT, "%s: the saved state does "
                            "not fit this data and build", ck->path);
        else
            td_say("resume: Theorem 6 search, %d layers from %s\n", l,
                   ck->path);
    }
    while (rc == TD_OK && l < s->q) {
        if (!lv[l].opened)
            rc = open_level(e, s, cfg, l, &lv[l], l > 0 ? &lv[l - 1] : NULL,
                            mdl, &log, err);
        if (rc)
            break;
        if (auto_budget(cfg) > 0 && mdl->hull_work >= auto_budget(cfg)) {
            mdl->budget_spent = 1;
            td_say("search: %.3g s of working-set solves spent the "
                   "budget\n", mdl->t_solve);
            rc = td_err_set(err, TD_ERR_INSEPARABLE, "the Theorem 6 search "
                            "reached construction.auto_budget (%g) at step %d: "
                            "the data may still be sequentially separable "
                            "(mode = \"theorem6\" searches on)",
                            cfg->auto_budget, l + 1);
            break;
        }
        if (lv[l].retry == 1) {
            int i = lv[l].order[lv[l].tried];
            lv[l].retry = 2;
            td_say("  retry: layer %d (class %lld) with a free base point\n",
                   l + 1, (long long)mdl->labels[lv[l].cls[i]]);
            rc = td_layer_build(e, s, cfg, l, lv[l].cls[i], &lv[l].seps[i],
                                &lv[l], 1, mdl, err);
            l++;
            if (rc == TD_OK)
                rc = safe_point(ck, cfg, e, s, lv, l, &log, mdl, err);
            continue;
        }
        int next = lv[l].tried + 1;
        if (next < lv[l].nok) {
            int i = lv[l].order[next];
            lv[l].tried = next;
            lv[l].retry = 0;
            rc = td_layer_build(e, s, cfg, l, lv[l].cls[i], &lv[l].seps[i],
                                &lv[l], 0, mdl, err);
            l++;
            if (rc == TD_OK)
                rc = safe_point(ck, cfg, e, s, lv, l, &log, mdl, err);
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
        int base = base_in_way(&lv[l]);
        level_free(&lv[l]);
        l--;
        td_say("  backtrack: undo layer %d (class %lld)\n", l + 1,
               (long long)mdl->layers[l].label);
        plan_retry(&lv[l], mdl, cfg, l, base);
        td_layer_undo(e, s, mdl, l);
    }
    if (rc == TD_OK && ck) {     /* a stop now resumes at the output layer */
        ck->force = 1;
        rc = safe_point(ck, cfg, e, s, lv, l, &log, mdl, err);
    }
    for (int i = 0; lv && i < s->q; i++)
        level_free(&lv[i]);
    free(lv);
    return rc;
}

int td_search_build(td_engine *e, const td_config *cfg, td_model *mdl,
                    td_ckpt *ck, td_err *err)
{
    int m = e->m, q = e->q, rc = TD_OK;
    td_step s = {m, q, 0, calloc((size_t)q, sizeof(int64_t)),
                    calloc((size_t)q * m, sizeof(double)),
                    calloc((size_t)q * m, sizeof(double)),
                    calloc((size_t)q, sizeof(int)), NULL,
                    malloc(sizeof(double) * (size_t)q * m),
                    calloc((size_t)q, sizeof(int)), 0};
    /* width M, whatever an earlier attempt of auto left in the model */
    mdl->construction = TD_CONS_THEOREM6;
    mdl->lift_height = 0;
    if (!td_all_ok(s.counts && s.means && s.P && s.done && s.last_h &&
                   s.has_last && (mdl->width == m ||
                                  td_model_set_width(mdl, m) == 0))) {
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (search)");
        goto done;
    }
    if ((rc = td_search_check_order(cfg, mdl, err)))
        goto done;
    td_progress_begin("build");
    if (ck && ck->phase == TD_PHASE_THEOREM6) {
        rc = search_orders(e, &s, cfg, mdl, ck, err);
        goto finish;
    }
    if (td_engine_class_stats(e, s.counts, s.means)) {   /* every rank */
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                        "statistics)");
        goto done;
    }
    mdl->data_passes++;
    memcpy(mdl->counts, s.counts, sizeof(int64_t) * q);
    memcpy(mdl->means, s.means, sizeof(double) * q * m);
    if (cfg->fisher_warm_start && (rc = td_step_scatter(e, &s, err)))
        goto done;
    td_say("search: %s warm start%s, working set %d per side, kappa %g\n",
           s.S ? "Fisher" : "mean-difference",
           s.S && m >= cfg->scalapack_threshold ? " (ScaLAPACK)" : "",
           cfg->working_set, cfg->kappa);
    rc = search_orders(e, &s, cfg, mdl, ck, err);
finish:
    if (rc == TD_OK) {
        mdl->sequentially_separable = 1;
        for (int l = 0; l < q; l++)
            mdl->sequentially_separable &= mdl->layers[l].sep_status <= TD_SEP_CERTIFIED;
        rc = td_layer_output(mdl, &s, cfg->output_layer, cfg->tolerance,
                             err);
    }
    td_progress_end();
    td_say("search: %lld separator solves (%lld reused), %lld backtracks, "
           "%lld data passes (%lld separator passes %.3f s, working-set solves "
           "%.3f s, work %.3g G, %.3g MB of candidates)\n",
           (long long)mdl->separator_solves,
           (long long)mdl->separators_reused, (long long)mdl->backtracks,
           (long long)mdl->data_passes, (long long)mdl->separator_passes,
           mdl->t_scan, mdl->t_solve, mdl->hull_work / 1e9,
           mdl->bytes_root / 1e6);
done:
    td_progress_end();
    free(s.counts); free(s.means); free(s.P); free(s.done); free(s.S);
    free(s.last_h); free(s.has_last);
    return rc;
}

int td_search_separate_one(td_engine *e, const td_config *cfg, int a,
                           td_sep *out, double *t_warm, td_err *err)
{
    int m = e->m, q = e->q, rc = TD_OK;
    double t0 = td_comm_wtime();
    td_step s = {m, q, 0, calloc((size_t)q, sizeof(int64_t)),
                    calloc((size_t)q * m, sizeof(double)), NULL,
                    calloc((size_t)q, sizeof(int)), NULL, NULL, NULL, 0};
    double *h = malloc(sizeof(double) * m), c = 0;
    if (!td_all_ok(s.counts && s.means && s.done && h)) {
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory");
        goto done;
    }
    if (td_engine_class_stats(e, s.counts, s.means)) {   /* every rank */
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                        "statistics)");
        goto done;
    }
    if (cfg->fisher_warm_start && (rc = td_step_scatter(e, &s, err)))
        goto done;
    if ((rc = td_warm_starts(&s, cfg, &a, 1, h, &c, err)))
        goto done;
    *t_warm = td_comm_wtime() - t0;
    td_sep_params prm = td_sep_params_of(cfg);
    td_sep_stats st = {0};
    int bad = td_separate(e, 1, &a, h, &c, NULL, 0, &prm, out, &st);
    if (bad)
        rc = td_err_set(err, TD_ERR_INTERNAL, "%s", td_sep_failure(bad));
done:
    free(s.counts); free(s.means); free(s.done); free(s.S); free(h);
    return rc;
}

