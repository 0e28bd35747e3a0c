/* pieces.c - the lifted constructions, whole classes or pieces (see
 * td_pieces.h and MATH.md, "Pieces").
 *
 * Geometry of one layer.  The data live in R^M, embedded as (x, 0) in
 * R^(M+Q); base point k sits at (p_k, t e_c(k)).  A layer collapsing
 * rows of class a with <w, x> < beta (|w| = 1) uses the lifted normal
 * h = (w, eta) and base point (p, t e_a) with <w, p> = beta - t eta_a, so
 * that for a data row <h, (x,0) - (p, t e_a)> = <w, x> - beta: the data
 * test is the data hyperplane whatever eta is.  For base point k the same
 * value is <w, p_k> - beta + t eta_c(k): eta lifts every earlier base
 * point onto the kept side, at least mu clear of the hyperplane. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_ckpt.h"
#include "td_comm.h"
#include "td_basepoint.h"
#include "td_linalg.h"
#include "td_pieces.h"
#include "td_lift.h"

#define NMU 3       /* clearances mu tried for the earlier base points */

/* Mean of the piece's rows (the class mean when it is the whole class). */
static void piece_mean(td_engine *e, td_lift *L, const td_piece *pc,
                       td_model *mdl, double *mu)
{
    int m = L->m, q = L->q;
    if (pc->size == L->st.counts[pc->a]) {
        memcpy(mu, L->st.means + (size_t)pc->a * m, sizeof(double) * m);
        return;
    }
    int64_t *cnt = malloc(sizeof(int64_t) * q);
    double *means = malloc(sizeof(double) * (size_t)q * m);
    int ok = td_all_ok(cnt && means);
    if (ok) {
        td_engine_park(e, pc->a, pc->w, pc->thr);
        ok = td_engine_class_stats(e, cnt, means) == 0;  /* the same everywhere */
        td_engine_unpark(e);
        mdl->data_passes += 2;
    }
    if (ok) {
        memcpy(mu, means + (size_t)pc->a * m, sizeof(double) * m);
    } else {    /* any point works; the class mean keeps going */
        memcpy(mu, L->st.means + (size_t)pc->a * m, sizeof(double) * m);
    }
    free(cnt);
    free(means);
}

/* The lifted normal (w, eta) and base point (p, t e_a) of a layer whose
 * earlier base points all stay kept, at least mu clear (see the top). */
static void lifted_cone_data(const td_lift *L, const td_piece *pc,
                             const double *mu_s, double mu, double *h,
                             double *p)
{
    int m = L->m, n = L->n;
    double beta = 0.5 * (pc->lo + pc->hi);
    memcpy(h, pc->w, sizeof(double) * m);
    for (int c = 0; c < L->q; c++)
        h[m + c] = 0;
    for (int k = 0; k < L->np; k++) {
        const double *pk = L->P + (size_t)k * n;
        double need = (mu - (td_dot(pc->w, pk, m) - beta)) / L->t;
        double *eta = &h[m + L->pcls[k]];
        *eta = need > *eta ? need : *eta;
    }
    double shift = beta - L->t * h[m + pc->a] - td_dot(pc->w, mu_s, m);
    for (int k = 0; k < m; k++)
        p[k] = mu_s[k] + shift * pc->w[k];
    for (int c = 0; c < L->q; c++)
        p[m + c] = c == pc->a ? L->t : 0;
}

/* The NMU candidate cones of the piece (clearances t/16, t/4, t), scored
 * in one pass; the best one's lambda_max and cos_min.  Returns the index
 * of the best, -1 on allocation failure. */
static int score_cones(td_engine *e, const td_lift *L, const td_piece *pc,
                       const double *mu_s, td_cone *cones, double *lmax,
                       double *cmin, td_model *mdl)
{
    static const double frac[NMU] = {1.0 / 16, 0.25, 1.0};
    int n = L->n, ok = 1, ninit = 0, best = 0;
    double *h = malloc(sizeof(double) * n), *p = malloc(sizeof(double) * n);
    double lm[NMU], cm[NMU];
    ok = h && p;
    for (; ok && ninit < NMU; ninit++) {
        lifted_cone_data(L, pc, mu_s, frac[ninit] * L->t, h, p);
        ok = td_cone_init(&cones[ninit], n, h, p, 1.0) == 0;
    }
    ok = td_all_ok(ok) && td_engine_lambda_pass(e, NMU, cones, pc->a, L->P,
                                                L->np, TD_PASS_PIECE, lm,
                                                cm) == 0;
    mdl->data_passes++;
    for (int i = 1; ok && i < NMU; i++)
        if (lm[i] > lm[best])
            best = i;
    if (ok) {
        *lmax = lm[best];
        *cmin = cm[best];
    }
    for (int i = ok ? NMU : 0; i < ninit; i++)
        td_cone_free(&cones[i]);
    free(h);
    free(p);
    return ok ? best : -1;
}

static void record_layer(td_layer_rec *r, const td_lift *L,
                         const td_piece *pc, const td_cone *cone,
                         const td_apply_stats *st, double lmax, double cmin,
                         const td_model *mdl)
{
    int m = L->m, n = L->n;
    double lift = 0;
    memcpy(r->h, cone->h, sizeof(double) * n);
    memcpy(r->p, cone->p, sizeof(double) * n);
    for (int c = 0; c < L->q; c++)
        lift += (cone->h[m + c] * cone->h[m + c]);
    double hw = sqrt(1 - lift);               /* |w part| of the unit h */
    r->class_index = pc->a;
    r->label = mdl->labels[pc->a];
    r->base_rule = 4;
    r->offset = td_dot(cone->h, cone->p, n);
    r->geo_margin = 0.5 * (pc->hi - pc->lo);
    r->lift = hw > 0 ? sqrt(lift) / hw : INFINITY;
    r->n_class_left = L->st.counts[pc->a] - st->n_collapsed;
    r->lambda_max = lmax;
    r->lambda = cone->lambda;
    r->theta = td_theta_of_lambda(cone->lambda, n);
    r->theta_min = 2.0 * acos(fmin(1.0, fmax(-1.0, cmin)));
    r->cond = td_cone_cond(cone);
    r->margin_kept = st->margin_kept;
    r->margin_collapsed = st->margin_collapsed;
    r->n_kept = st->n_kept;
    r->n_collapsed = st->n_collapsed;
    r->n_mixed = st->n_mixed + st->n_wrong;
    r->sep_status = pc->status < 0 ? TD_SEP_CERTIFIED : pc->status;
    r->sep_rounds = pc->rounds;
}

/* Layer l collapses the piece: cone chosen, applied to every shard,
 * recorded; its base point joins L. */
static int build_layer(td_engine *e, td_lift *L, const td_config *cfg, int l,
                       const td_piece *pc, td_model *mdl, td_err *err)
{
    int m = L->m, n = L->n;
    td_layer_rec *r = &mdl->layers[l];
    td_cone cones[NMU];
    double lmax = 0, cmin = -1;
    double *mu_s = malloc(sizeof(double) * m);
    r->h = malloc(sizeof(double) * n);
    r->p = malloc(sizeof(double) * n);
    if (!td_all_ok(mu_s && r->h && r->p)) {
        free(mu_s);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (layer)");
    }
    piece_mean(e, L, pc, mdl, mu_s);
    int best = score_cones(e, L, pc, mu_s, cones, &lmax, &cmin, mdl);
    free(mu_s);
    if (best < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (cones)");
    mdl->cones[l] = cones[best];
    for (int i = 0; i < NMU; i++)
        if (i != best)
            td_cone_free(&cones[i]);
    if (!(lmax > 0))
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: a point lies on the "
                          "hyperplane of class %lld (lambda_max = 0)", l + 1,
                          (long long)mdl->labels[pc->a]);
    mdl->cones[l].lambda = cfg->kappa * lmax;
    td_apply_stats st;
    if (td_engine_apply(e, &mdl->cones[l], pc->a, l, L->P, L->np,
                        TD_PASS_PIECE, &st))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (apply)");
    mdl->data_passes++;
    record_layer(r, L, pc, &mdl->cones[l], &st, lmax, cmin, mdl);
    mdl->nlayers = l + 1;
    memcpy(L->P + (size_t)l * n, mdl->cones[l].p, sizeof(double) * n);
    L->pcls[l] = pc->a;
    L->np = l + 1;
    L->st.counts[pc->a] -= st.n_collapsed;     /* the means wait for the
                                                  next step's pass */
    /* hundreds of layers: a line each with --verbose, else progress */
    td_say_at(TD_VERBOSE, "  layer %3d: class %-6lld piece %-8lld left "
              "%-8lld margin %-9.3g lambda %-9.3g cond %-9.3g lift %.3g\n",
              l + 1, (long long)r->label, (long long)st.n_collapsed,
              (long long)r->n_class_left, r->geo_margin, r->lambda, r->cond,
              r->lift);
    int64_t left = 0;
    for (int c = 0; c < L->q; c++)
        left += L->st.counts[c];
    td_progress_tick(e->n_total - left, e->n_total, "layer %d, %lld rows "
                     "left", l + 1, (long long)left);
    if (st.n_collapsed != pc->size || st.n_wrong + st.n_mixed > 0)
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: %lld of %lld piece "
                          "rows collapsed, %lld points outside their cone: "
                          "rounding crossed a ReLU kink (construction.kappa "
                          "= %g keeps points only 1 - kappa of their distance "
                          "clear of the kinks)", l + 1,
                          (long long)st.n_collapsed, (long long)pc->size,
                          (long long)(st.n_wrong + st.n_mixed), cfg->kappa);
    return TD_OK;
}

/* Room for layer l: model records, base points. */
static int reserve(td_lift *L, td_model *mdl, int l)
{
    if (l < L->cap)
        return 0;
    int cap = 2 * L->cap > l + 1 ? 2 * L->cap : l + 1;
    double *P = realloc(L->P, sizeof(double) * (size_t)cap * L->n);
    if (P)
        L->P = P;
    int *pc = realloc(L->pcls, sizeof(int) * cap);
    if (pc)
        L->pcls = pc;
    if (!P || !pc || td_model_reserve(mdl, cap))
        return -1;
    L->cap = cap;
    return 0;
}

/* Output layer, reading the class coordinates (a base point of class c
 * has height t in coordinate M + c), by construction.output_layer:
 *  - affine: W = [0 | (Y - y_last 1^T) / t], b = y_last: a row never
 *    collapsed (class coordinates 0: the last class) goes to y_last;
 *  - linear: W = [0 | Y / t], b = 0, and neural_collapse:
 *    W = [0 | (Y - ybar 1^T) / t] (rank Q - 1), b = ybar.  Both need every
 *    class collapsed (last = -1): the class coordinates 0 of an
 *    uncollapsed class would go to b, not to its target. */
static int lifted_output(td_model *mdl, const td_lift *L, int last, int kind,
                         double tolerance, td_err *err)
{
    int m = L->m, n = L->n, q = L->q;
    const double *Y = mdl->targets;
    memset(mdl->w_out, 0, sizeof(double) * (size_t)q * n);
    mdl->output_bias = 0;
    mdl->output_kind = kind;
    for (int i = 0; i < q; i++) {
        double ybar = 0, base;
        for (int c = 0; c < q; c++)
            ybar += Y[(size_t)c * q + i] / q;
        base = kind == TD_OUT_LINEAR ? 0.0 : kind == TD_OUT_NEURAL_COLLAPSE
             ? ybar : Y[(size_t)last * q + i];
        for (int c = 0; c < q; c++)
            mdl->w_out[(size_t)i * n + m + c] = (Y[(size_t)c * q + i] - base) / L->t;
        mdl->b_out[i] = base;
        mdl->output_bias |= mdl->b_out[i] != 0;
    }
    mdl->output_cond = 1.0;     /* the class coordinates are orthogonal */
    int rc = td_network_plan(&mdl->net, m, n, mdl->nlayers, mdl->cones,
                                   q, mdl->w_out, mdl->b_out,
                                   td_reset_cond(tolerance), err);
    if (!td_all_ok(rc == TD_OK))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (network)");
    td_model_bcast_network(mdl);
    return TD_OK;
}

/* The last class's own layer (output_layer linear or neural_collapse):
 * all its rows as one piece, cut by a hyperplane 2t beyond the data's
 * mean along w = the direction from that mean to the class mean (e_1 when
 * they coincide).  Every row is within t of the mean, so each sits at
 * least t below the hyperplane; the lift keeps the earlier base points. */
static void last_piece(const td_lift *L, const td_model *mdl, int a,
                       td_piece *pc)
{
    int m = L->m, q = L->q;
    double total = 0, nw = 0, c0 = 0;
    for (int c = 0; c < q; c++)
        total += (double)mdl->counts[c];
    for (int k = 0; k < m; k++) {
        double g = 0;       /* the data's mean, as td_lift_radius takes it */
        for (int c = 0; c < q; c++)
            g += mdl->means[(size_t)c * m + k] * ((double)mdl->counts[c] / total);
        pc->w[k] = mdl->means[(size_t)a * m + k] - g;
        nw += pc->w[k] * pc->w[k];
        c0 += pc->w[k] * g;
    }
    if (nw > 0) {
        for (int k = 0; k < m; k++)
            pc->w[k] /= sqrt(nw);
        c0 /= sqrt(nw);
    } else {
        for (int k = 0; k < m; k++)
            pc->w[k] = k == 0;
        c0 = 0;
        for (int c = 0; c < q; c++)
            c0 += mdl->means[(size_t)c * m] * ((double)mdl->counts[c] / total);
    }
    *pc = (td_piece){a, pc->w, INFINITY, c0 + L->t, c0 + 3 * L->t,
                     L->st.counts[a], TD_SEP_CERTIFIED, 0};
}

int td_lift_radius(td_engine *e, td_lift *L, td_model *mdl)
{
    int m = L->m;
    double *mean = calloc((size_t)m, sizeof(double));
    int64_t total = 0;
    if (!td_all_ok(mean != NULL))
        return -1;
    for (int c = 0; c < L->q; c++)
        total += L->st.counts[c];
    for (int c = 0; c < L->q; c++)
        for (int k = 0; k < m; k++)
            mean[k] += L->st.means[(size_t)c * m + k] *
                       ((double)L->st.counts[c] / total);
    int rc = td_engine_radius(e, mean, &L->t);
    mdl->data_passes++;
    if (!(L->t > 0))
        L->t = 1;           /* one point: nothing to separate anyway */
    free(mean);
    return rc;
}

/* Classes with active rows left. */
static int remaining(const td_lift *L)
{
    int nr = 0;
    for (int c = 0; c < L->q; c++)
        nr += L->st.counts[c] > 0;
    return nr;
}

/* The loop's own state: the pieces of the current step, the next one to
 * build, the lifted construction's separators between steps. */
typedef struct {
    int l, np, next;
    int done;               /* one class left: the layers are complete */
    td_piece *pcs;          /* q; pcs[i].w = w + i m */
    double *w;              /* q x m */
    td_sep *seps;           /* q ("lifted") */
} piece_loop;

/* Everything a resumed run needs to continue after layer pl->l. */
static void pack(td_buf *b, const td_lift *L, const piece_loop *pl,
                 const td_model *mdl)
{
    int m = L->m, q = L->q;
    td_ckpt_pack_model(b, mdl);
    int64_t ints[] = {pl->l, pl->np, pl->next, L->np, L->cap, L->eig_rows,
                      pl->done};
    td_buf_put(b, ints, sizeof ints);
    td_buf_put_f64(b, L->t);
    td_buf_put_arr(b, L->P, sizeof(double) * L->np * L->n);
    td_buf_put_arr(b, L->pcls, sizeof(int) * L->np);
    td_ckpt_pack_step(b, &L->st);
    td_buf_put_arr(b, L->whole_rest, sizeof(int64_t) * q);
    td_buf_put_arr(b, L->evec, sizeof(double) * m * m);
    td_buf_put_arr(b, L->eval, sizeof(double) * m);
    for (int i = 0; i < pl->np; i++)
        td_buf_put(b, &pl->pcs[i], sizeof pl->pcs[i]);
    td_buf_put_arr(b, pl->w, sizeof(double) * q * m);
    for (int c = 0; c < q; c++)
        td_ckpt_pack_sep(b, &pl->seps[c], m);
}

static void unpack(td_buf *b, td_lift *L, piece_loop *pl, td_model *mdl)
{
    int m = L->m, q = L->q;
    td_ckpt_unpack_model(b, mdl);
    int64_t ints[7];
    td_buf_get(b, ints, sizeof ints);
    pl->done = (int)ints[6];
    pl->l = (int)ints[0];
    pl->np = (int)ints[1];
    pl->next = (int)ints[2];
    int np = (int)ints[3], cap = (int)ints[4];
    L->eig_rows = ints[5];
    L->t = td_buf_get_f64(b);
    double *P = td_buf_get_arr(b, sizeof(double) * np * L->n);
    int *pcls = td_buf_get_arr(b, sizeof(int) * np);
    if (b->bad || np < 0 || np > cap || pl->np < 0 || pl->np > q ||
        pl->next < 0 || pl->next > pl->np || reserve(L, mdl, cap - 1)) {
        b->bad = 1;
    } else if (np > 0) {
        memcpy(L->P, P, sizeof(double) * np * L->n);
        memcpy(L->pcls, pcls, sizeof(int) * np);
    }
    free(P);
    free(pcls);
    L->np = b->bad ? 0 : np;
    td_ckpt_unpack_step(b, &L->st);
    double *wr = td_buf_get_arr(b, sizeof(int64_t) * q);
    if (wr)
        memcpy(L->whole_rest, wr, sizeof(int64_t) * q);
    free(wr);
    free(L->evec);
    free(L->eval);
    L->evec = td_buf_get_arr(b, sizeof(double) * m * m);
    L->eval = td_buf_get_arr(b, sizeof(double) * m);
    for (int i = 0; i < pl->np && !b->bad; i++)
        td_buf_get(b, &pl->pcs[i], sizeof pl->pcs[i]);
    double *w = td_buf_get_arr(b, sizeof(double) * q * m);
    if (w)
        memcpy(pl->w, w, sizeof(double) * q * m);
    free(w);
    for (int i = 0; i < q; i++)
        pl->pcs[i].w = pl->w + (size_t)i * m;
    for (int c = 0; c < q; c++)
        td_ckpt_unpack_sep(b, &pl->seps[c], m);
}

/* After a layer: save when due (collective); TD_ERR_INTERRUPTED when a
 * signal asked to stop. */
static int safe_point(td_ckpt *ck, td_engine *e, const td_lift *L,
                      const piece_loop *pl, td_model *mdl, td_err *err)
{
    if (!td_ckpt_due(ck))
        return TD_OK;
    td_buf b = {0};
    pack(&b, L, pl, mdl);
    int rc = td_ckpt_save(ck, TD_PHASE_PIECES, &b, e, mdl, err);
    td_buf_free(&b);
    return rc;
}

/* The next piece of the current step, or the pieces of a new step (one
 * per class for "pieces", one whole class for "lifted"); 1 when no class
 * but one is left. */
static int next_piece(td_engine *e, td_lift *L, const td_config *cfg,
                      int construction, piece_loop *pl, td_model *mdl,
                      td_err *err)
{
    if (pl->next < pl->np && remaining(L) > 1)
        return TD_OK;
    mdl->data_passes++;
    int nr = td_lift_stats(e, L);
    if (nr < 0)                 /* on every rank */
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                          "statistics)");
    pl->np = 1;
    pl->next = 0;
    if (nr == 1 && cfg->output_layer != TD_OUT_AFFINE) {
        for (int c = 0; c < L->q; c++)
            if (L->st.counts[c] > 0)
                last_piece(L, mdl, c, &pl->pcs[0]);
        return TD_OK;
    }
    if (nr <= 1) {
        pl->done = 1;
        return TD_OK;
    }
    if (construction == TD_CONS_LIFTED)
        return td_lift_next_class(e, L, cfg, pl->l, pl->seps, mdl,
                                  &pl->pcs[0], err);
    return td_lift_find_pieces(e, L, cfg, pl->l, mdl, pl->pcs, &pl->np, err);
}

/* Collapse pieces until one class is left; each is grown and collapsed
 * by its own layer, and a piece stays pure while the others, of other
 * classes, go before it.  A resumed run starts with the saved loop. */
static int build_layers(td_engine *e, td_lift *L, const td_config *cfg,
                        int construction, td_model *mdl, td_ckpt *ck,
                        td_err *err)
{
    int m = L->m, q = L->q, rc = TD_OK;
    piece_loop pl = {0, 0, 0, 0, calloc((size_t)q, sizeof(td_piece)),
                     malloc(sizeof(double) * (size_t)q * m),
                     calloc((size_t)q, sizeof(td_sep))};
    if (!td_all_ok(pl.seps && pl.pcs && pl.w))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (pieces)");
    for (int i = 0; rc == TD_OK && i < q; i++)
        pl.pcs[i].w = pl.w + (size_t)i * m;
    if (rc == TD_OK && ck && ck->phase == TD_PHASE_PIECES) {
        unpack(&ck->resume, L, &pl, mdl);
        if (!td_all_ok(!ck->resume.bad))
            rc = td_err_set(err, TD_ERR_INPUT, "%s: the saved state does "
                            "not fit this data and build", ck->path);
        else
            td_say("resume: %s construction, %d layers from %s (lift "
                   "height %.4g)\n", td_construction_name(construction),
                   pl.l, ck->path, L->t);
    }
    while (rc == TD_OK && !pl.done) {
        rc = next_piece(e, L, cfg, construction, &pl, mdl, err);
        if (rc || pl.done)
            break;
        td_piece *pc = &pl.pcs[pl.next];
        if (!td_all_ok(reserve(L, mdl, pl.l) == 0))
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (layers)");
        if (rc == TD_OK && construction == TD_CONS_PIECES &&
            remaining(L) > 1)   /* not the last class's own layer */
            rc = td_lift_grow(e, L, cfg, mdl, pc, err);
        if (rc == TD_OK)
            rc = build_layer(e, L, cfg, pl.l, pc, mdl, err);
        if (rc == TD_OK) {
            pl.l++;
            pl.next++;
            rc = safe_point(ck, e, L, &pl, mdl, err);
        }
    }
    if (rc == TD_OK && ck) {     /* a stop now resumes at the output layer */
        ck->force = 1;
        rc = safe_point(ck, e, L, &pl, mdl, err);
    }
    for (int c = 0; pl.seps && c < q; c++)
        td_sep_free(&pl.seps[c]);
    free(pl.seps);
    free(pl.pcs);
    free(pl.w);
    return rc;
}

static int build_all(td_engine *e, td_lift *L, const td_config *cfg,
                     int construction, td_model *mdl, td_ckpt *ck,
                     td_err *err)
{
    int rc = build_layers(e, L, cfg, construction, mdl, ck, err), last = -1;
    for (int c = 0; rc == TD_OK && c < L->q; c++)
        if (L->st.counts[c] > 0)
            last = c;
    if (rc == TD_OK) {
        mdl->last_class = last;
        mdl->sequentially_separable = 1;
        rc = lifted_output(mdl, L, last, cfg->output_layer, cfg->tolerance,
                           err);
    }
    return rc;
}

/* The data's statistics and the lift height (a resumed run has them in
 * its saved state: the model and L are replaced by it). */
static int start(td_engine *e, const td_config *cfg, int construction,
                 td_lift *L, td_model *mdl, td_err *err)
{
    int m = e->m, q = e->q;
    if (td_lift_stats(e, L) < 0)            /* on every rank */
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                          "statistics)");
    memcpy(mdl->counts, L->st.counts, sizeof(int64_t) * q);
    memcpy(mdl->means, L->st.means, sizeof(double) * (size_t)q * m);
    if (td_lift_radius(e, L, mdl))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (radius)");
    mdl->lift_height = L->t;
    if (construction == TD_CONS_LIFTED && cfg->fisher_warm_start)
        return td_step_scatter(e, &L->st, err);
    return TD_OK;
}

int td_pieces_build(td_engine *e, const td_config *cfg, int construction,
                    td_model *mdl, td_ckpt *ck, td_err *err)
{
    int m = e->m, q = e->q, n = m + q;
    int resumed = ck && ck->phase == TD_PHASE_PIECES;
    td_lift L;
    int rc = td_all_ok(td_lift_init(&L, m, q) == 0)
             ? TD_OK : td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    td_model_clear_layers(mdl);
    td_progress_begin("build");
    mdl->construction = construction;
    if (rc == TD_OK && !td_all_ok(td_model_set_width(mdl, n) == 0))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (model)");
    if (rc == TD_OK && !resumed)
        rc = start(e, cfg, construction, &L, mdl, err);
    if (rc == TD_OK && !resumed)
        td_say("search: %s construction at width %d (M + Q), lift height "
               "%.4g\n", td_construction_name(construction), n, L.t);
    if (rc == TD_OK)
        rc = build_all(e, &L, cfg, construction, mdl, ck, err);
    td_progress_end();
    td_say("search: %d layers, %lld separator solves, %lld data passes "
           "(separator passes %.3f s, working-set solves %.3f s)\n",
           mdl->nlayers, (long long)mdl->separator_solves,
           (long long)mdl->data_passes, mdl->t_scan, mdl->t_solve);
    td_lift_free(&L);
    return rc;
}
