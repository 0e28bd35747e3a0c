/* layer.c - one cone layer from a separator: the base point, lambda,
 * the pass that applies it, its record; undo; the output layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_basepoint.h"
#include "td_linalg.h"
#include "td_step.h"

#define TD_NCAND (TD_NBASE + TD_NFREE)
#define TD_RULE_FREE TD_NBASE       /* base_rule of a free candidate */

/* How many other remaining classes' separators at this level p voids. */
static int blocking(const td_level *lv, int a, const double *p, int m)
{
    int n = 0;
    for (int i = 0; lv && i < lv->n; i++)
        if (lv->cls[i] != a && td_sep_ok(&lv->seps[i]))
            n += td_sep_voids(&lv->seps[i], p, m);
    return n;
}

/* What a candidate does to the classes after it, worse when larger and
 * compared in this order: later separators it voids plus later classes
 * without one that it shadows (a class no hyperplane cuts off yet may be
 * cut off once class a is a point, unless that point sits in its way);
 * then whether it is nearly in the affine hull of the earlier base points
 * (the output layer needs them independent). */
typedef struct {
    int block, dep;
} bp_key;

static int key_cmp(bp_key x, bp_key y)
{
    return x.block != y.block ? x.block - y.block : x.dep - y.dep;
}

/* What the candidates are judged against: the later classes' separators
 * (constraints for td_base_free), the later classes that have none (ucls),
 * and the points to keep away from (remaining class means, then the
 * earlier base points). */
typedef struct {
    td_later_seps ls;
    double *H, *C, *mg;
    int nu, *ucls;
    int nz;
    double *Z;
} bp_later;

static void later_free(bp_later *L)
{
    free(L->H); free(L->C); free(L->mg); free(L->ucls); free(L->Z);
}

static int later_init(bp_later *L, const td_step *s, const td_level *lv, int a)
{
    int m = s->m, n = lv->n + 1, q = s->q;
    *L = (bp_later){0};
    L->H = malloc(sizeof(double) * (size_t)n * m);
    L->C = malloc(sizeof(double) * n);
    L->mg = malloc(sizeof(double) * n);
    L->ucls = malloc(sizeof(int) * n);
    L->Z = malloc(sizeof(double) * (size_t)(q + s->np) * m);
    if (!L->H || !L->C || !L->mg || !L->ucls || !L->Z)
        return -1;
    for (int i = 0; i < lv->n; i++) {
        const td_sep *sp = &lv->seps[i];
        if (lv->cls[i] == a)
            continue;
        if (!td_sep_ok(sp)) {
            L->ucls[L->nu++] = lv->cls[i];
            continue;
        }
        int k = L->ls.n++;
        memcpy(L->H + (size_t)k * m, sp->h, sizeof(double) * m);
        L->C[k] = sp->c;
        L->mg[k] = sp->margin;
    }
    L->ls.h = L->H;
    L->ls.c = L->C;
    L->ls.margin = L->mg;
    for (int j = 0; j < q; j++)
        if (!s->done[j] && s->counts[j])
            memcpy(L->Z + (size_t)L->nz++ * m, s->means + (size_t)j * m,
                   sizeof(double) * m);
    memcpy(L->Z + (size_t)L->nz * m, s->P, sizeof(double) * (size_t)s->np * m);
    L->nz += s->np;
    return 0;
}

/* Nearly in the affine hull of the earlier base points (only judged while
 * they and p can still be independent, np <= m); -1 on allocation
 * failure. */
static int dependent(const td_step *s, const double *p)
{
    if (s->np == 0 || s->np > s->m)
        return 0;
    double scale = 0;
    for (int k = 0; k < s->np; k++) {
        double d2 = 0;
        for (int i = 0; i < s->m; i++) {
            double e = s->P[(size_t)k * s->m + i] - p[i];
            d2 += e * e;
        }
        scale = fmax(scale, sqrt(d2));
    }
    double d = td_affine_dist(s->m, s->np, s->P, p);
    return d < 0 ? -1 : d <= 1e-4 * scale;
}

/* How many unseparated later classes candidate p shadows: their mean lies
 * within `clear` of the hull of the base points with p.  A class whose
 * mean is inside that hull can never be cut off from the base points;
 * the clearance keeps its later margin from being much the thinner.  The
 * test looks at the mean only: a wide class may still be caught, and the
 * search then backtracks as before.  -1 on failure. */
static int shadows(const td_step *s, const bp_later *L, const double *p,
                   double clear)
{
    double *u = malloc(sizeof(double) * s->m), gap;
    int n = 0, rc = u ? 0 : -1;
    for (int k = 0; rc == 0 && k < L->nu; k++) {
        rc = td_base_hull_gap(s->m, s->np, s->P, p,
                              s->means + (size_t)L->ucls[k] * s->m, u, &gap);
        n += !(gap >= clear);
    }
    free(u);
    return rc ? -1 : n;
}

/* Key of candidate p; -1 on allocation failure. */
static int key_of(const td_step *s, const td_level *lv, int a,
                  const bp_later *L, const double *p, double clear,
                  bp_key *key)
{
    int sh = L->nu ? shadows(s, L, p, clear) : 0, dep = dependent(s, p);
    *key = (bp_key){blocking(lv, a, p, s->m) + sh, dep};
    return sh < 0 || dep < 0 ? -1 : 0;
}

/* The largest distance from p0 to a remaining class mean: the distance
 * scale for free candidates. */
static double reach_of(const td_step *s, const double *p0)
{
    double reach = 0;
    for (int j = 0; j < s->q; j++) {
        if (s->done[j] || !s->counts[j])
            continue;
        double d2 = 0;
        for (int k = 0; k < s->m; k++) {
            double e = s->means[(size_t)j * s->m + k] - p0[k];
            d2 += e * e;
        }
        reach = fmax(reach, sqrt(d2));
    }
    return reach;
}

/* The candidates: near ones (td_base_candidates) and, when every near
 * one shadows or voids a later class or is nearly dependent on the
 * earlier base points, free ones after them (td_base_free).  A later
 * class must keep clear of the base points by half this layer's margin.
 * Fills the keys; returns the count, -1 on failure. */
static int candidates(const td_step *s, int a, const td_sep *sp,
                      const bp_later *L, const td_level *lv, int nnear,
                      int free_ok, int force, double *cb, bp_key *key)
{
    int m = s->m, clean = 0;
    double clear = 0.5 * sp->margin;
    if (td_base_candidates(m, s->q, s->counts, s->means, s->done, a, sp->h,
                           sp->c, cb))
        return -1;
    for (int i = 0; free_ok && i < nnear; i++) {
        if (key_of(s, lv, a, L, cb + (size_t)i * m, clear, &key[i]))
            return -1;
        clean |= key[i].block == 0 && key[i].dep == 0;
    }
    if (!free_ok || (clean && !force))
        return nnear;
    int nf = td_base_free(m, sp->h, sp->c, cb, L->nz, L->Z, &L->ls,
                          reach_of(s, cb), cb + (size_t)nnear * m);
    for (int i = nnear; i < nnear + nf; i++)
        if (key_of(s, lv, a, L, cb + (size_t)i * m, clear, &key[i]))
            return -1;
    return nf < 0 ? -1 : nnear + nf;
}

/* Index of the chosen candidate: within reach of the best lambda_max
 * (1e-3), the best key first; among near candidates with equal keys the
 * segment rule unless another at least doubles lambda_max (better
 * conditioned, further from the ReLU kinks); among free ones the largest
 * lambda_max, and a free one never displaces a near one of equal key.
 * only_free: the near candidates are out (the search's retry). */
static int pick(int ncand, int nnear, int only_free, const double *lm,
                const bp_key *key)
{
    int i0 = only_free ? nnear : 0, best = i0;
    double lbest = 0;
    for (int i = i0; i < ncand; i++)
        lbest = fmax(lbest, lm[i]);
    for (int i = i0 + 1; i < ncand; i++) {
        if (!(lm[i] > 1e-3 * lbest))
            continue;
        int c = key_cmp(key[i], key[best]);
        if (!(lm[best] > 1e-3 * lbest) || c < 0)
            best = i;
        else if (c == 0 && i < nnear && lm[i] >= 2 * lm[0] && lm[i] > lm[best])
            best = i;
        else if (c == 0 && best >= nnear && lm[i] > lm[best])
            best = i;
    }
    return best;
}

/* Pick the base point among the candidates, scored in one lambda pass.
 * Returns the rule index (TD_RULE_FREE for a free point), -1 on failure. */
static int choose_base_point(td_engine *e, const td_step *s,
                             const td_config *cfg, int a, const td_sep *sp,
                             const td_level *lv, int force, double *p,
                             double *lmax, double *cmin, td_model *mdl)
{
    int m = s->m, soft = sp->status == TD_SEP_SOFT, best = 0, ninit = 0;
    int nnear = cfg->base_point == TD_BASE_SEGMENT ? 1 : TD_NBASE;
    int free_ok = td_layer_free_ok(cfg) && !soft && lv;
    double *cb = malloc(sizeof(double) * TD_NCAND * m);
    td_cone probe[TD_NCAND];
    double lm[TD_NCAND] = {0}, cm[TD_NCAND] = {0};
    bp_key key[TD_NCAND] = {{0, 0}};
    bp_later L = {0};
    int ok = cb && (!free_ok || later_init(&L, s, lv, a) == 0);
    int ncand = ok ? candidates(s, a, sp, &L, lv, nnear, free_ok, force, cb,
                                key) : -1;
    ok = ncand > 0;
    for (; ok && ninit < ncand; ninit++)
        ok = td_cone_init(&probe[ninit], m, sp->h, cb + (size_t)ninit * m, 1.0) == 0;
    if (td_all_ok(ok))
        ok = td_engine_lambda_pass(e, ncand, probe, a, s->P, s->np, soft,
                                   lm, cm) == 0;
    else
        ok = 0;
    mdl->data_passes++;
    if (ok && !free_ok)     /* the old rule: fewest voided separators */
        for (int i = 0; i < ncand; i++)
            key[i].block = blocking(soft ? NULL : lv, a, cb + (size_t)i * m, m);
    if (ok) {
        best = pick(ncand, nnear, force && ncand > nnear, lm, key);
        memcpy(p, cb + (size_t)best * m, sizeof(double) * m);
        *lmax = lm[best];
        *cmin = cm[best];
    }
    for (int i = 0; i < ninit; i++)
        td_cone_free(&probe[i]);
    later_free(&L);
    free(cb);
    return ok ? (best < nnear ? best : TD_RULE_FREE) : -1;
}

int td_layer_free_ok(const td_config *cfg)
{
    return cfg->base_point != TD_BASE_SEGMENT &&
           cfg->on_inseparable != TD_INSEP_BEST_EFFORT;
}

/* Turn the chosen hyperplane into a cone layer, apply it to all shards and
 * record everything about it. */
int td_layer_commit(td_engine *e, const td_config *cfg, int l,
                    const double *P, int q, const char *note, td_model *mdl,
                    td_err *err)
{
    td_layer_rec *r = &mdl->layers[l];
    int m = e->m, a = r->class_index;
    int soft = cfg->on_inseparable == TD_INSEP_BEST_EFFORT;
    if (!td_all_ok(td_cone_init(&mdl->cones[l], m, r->h, r->p, r->lambda) == 0))
        return td_err_set(err, TD_ERR_INTERNAL, "layer %d: bad cone", l + 1);
    td_apply_stats st;
    if (td_engine_apply(e, &mdl->cones[l], a, l, P, l, soft, &st))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (apply)");
    mdl->data_passes++;
    r->label = mdl->labels[a];
    r->theta = td_theta_of_lambda(r->lambda, m);
    r->cond = td_cone_cond(&mdl->cones[l]);
    r->margin_kept = st.margin_kept;
    r->margin_collapsed = st.margin_collapsed;
    r->n_kept = st.n_kept;
    r->n_collapsed = st.n_collapsed;
    r->n_mixed = st.n_mixed + st.n_wrong;
    mdl->nlayers = l + 1;
    td_say("  layer %2d: class %-8lld margin %-10.4g %-9s theta %.4f "
           "(min %.4f) lambda %-9.3g cond %-9.3g kept %lld collapsed %lld%s\n",
           l + 1, (long long)r->label, r->geo_margin,
           td_sep_status_name(r->sep_status), r->theta, r->theta_min,
           r->lambda, r->cond, (long long)r->n_kept,
           (long long)r->n_collapsed, note);
    td_progress_tick(e->n_total - r->n_kept, e->n_total, "layer %d of %d, "
                     "%lld rows left", l + 1, q, (long long)r->n_kept);
    if (st.n_wrong + st.n_mixed > 0 && !soft)
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: %lld points fell "
                          "outside their cone (smallest margins %.3g / %.3g): "
                          "rounding crossed a ReLU kink (construction.kappa "
                          "= %g keeps points only 1 - kappa of their distance "
                          "clear of the kinks)", l + 1,
                          (long long)(st.n_wrong + st.n_mixed),
                          st.margin_kept, st.margin_collapsed, cfg->kappa);
    return TD_OK;
}

int td_layer_build(td_engine *e, td_step *s, const td_config *cfg,
                       int l, int a, const td_sep *sp, const td_level *lv,
                       int force_free, td_model *mdl, td_err *err)
{
    int m = s->m;
    td_layer_rec *r = &mdl->layers[l];
    r->h = malloc(sizeof(double) * m);
    r->p = malloc(sizeof(double) * m);
    if (!td_all_ok(r->h && r->p))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (layer)");
    memcpy(r->h, sp->h, sizeof(double) * m);
    double lmax = 0, cmin = -1;
    r->base_rule = choose_base_point(e, s, cfg, a, sp, lv, force_free, r->p,
                                     &lmax, &cmin, mdl);
    if (!td_all_ok(r->base_rule >= 0))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (base point)");
    if (!(lmax > 0))
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: a point lies on the "
                          "hyperplane of class %lld (lambda_max = 0)", l + 1,
                          (long long)mdl->labels[a]);
    r->lambda_max = lmax;
    r->lambda = cfg->kappa * lmax;
    r->class_index = a;
    r->offset = sp->c;
    r->geo_margin = sp->margin;
    r->theta_min = 2.0 * acos(fmin(1.0, fmax(-1.0, cmin)));
    r->sep_status = sp->status;
    r->sep_rounds = sp->rounds;
    r->hull_dist = sp->hull_dist;
    int rc = td_layer_commit(e, cfg, l, s->P, s->q, r->base_rule ==
                             TD_RULE_FREE ? " (free base point)" : "", mdl,
                             err);
    if (rc != TD_OK && rc != TD_ERR_VERIFY)
        return rc;
    memcpy(s->P + (size_t)l * m, r->p, sizeof(double) * m);
    s->np = l + 1;
    s->done[a] = 1;
    return rc;
}

/* Remove layer l from the shards and the model (backtracking). */
void td_layer_undo(td_engine *e, td_step *s, td_model *mdl, int l)
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

int td_layer_output(td_model *mdl, const td_step *s, int kind,
                    double tolerance, td_err *err)
{
    int m = mdl->m, q = mdl->q, rc = TD_OK;
    double *P = malloc(sizeof(double) * (size_t)q * m);
    if (!td_all_ok(P != NULL)) {
        free(P);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (output layer)");
    }
    for (int l = 0; l < q; l++)     /* row j: base point of class j */
        memcpy(P + (size_t)mdl->layers[l].class_index * m, s->P + (size_t)l * m,
               sizeof(double) * m);
    mdl->output_kind = kind;
    td_output_layer(kind, m, q, P, q, mdl->targets, mdl->w_out, mdl->b_out,
                    &mdl->output_bias, &mdl->output_cond, err);
    free(P);
    if (td_comm_agree(err))     /* out of memory on one rank stops all */
        return err->code;
    rc = td_network_plan(&mdl->net, m, m, q, mdl->cones, q, mdl->w_out,
                               mdl->b_out, td_reset_cond(tolerance), err);
    if (!td_all_ok(rc == TD_OK))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (network)");
    td_model_bcast_network(mdl);
    return TD_OK;
}

int td_model_describe_output(td_model *mdl)
{
    const td_network *net = &mdl->net;
    int L = net->num_layers, rc = 0;
    if (mdl->construction != TD_CONS_POLYTOPE || L < 1)
        rc = td_output_describe(mdl->width, mdl->q, mdl->q, mdl->w_out,
                                mdl->b_out, mdl->targets, &mdl->output_rank,
                                &mdl->output_bias_dev);
    else        /* no cumulative form: the exported output layer itself */
        rc = td_output_describe(net->dims[L - 1], mdl->q, mdl->q,
                                net->W[L - 1], net->b[L - 1], mdl->targets,
                                &mdl->output_rank, &mdl->output_bias_dev);
    return td_all_ok(rc == 0) ? TD_OK : TD_ERR_INTERNAL;
}

void td_model_bcast_network(td_model *mdl)
{
    /* rank 0's bytes are the network: no rank may differ in the last bit */
    td_comm_bcast(mdl->w_out, sizeof(double) * (size_t)mdl->q * mdl->width);
    td_comm_bcast(mdl->b_out, sizeof(double) * mdl->q);
    for (int k = 0; k < mdl->net.num_layers && mdl->net.W[k]; k++) {
        int din = mdl->net.dims[k], dout = mdl->net.dims[k + 1];
        td_comm_bcast(mdl->net.W[k], sizeof(double) * (size_t)din * dout);
        td_comm_bcast(mdl->net.b[k], sizeof(double) * dout);
    }
}
