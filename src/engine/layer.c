/* layer.c - one cone layer from a separator: the base point, lambda,
 * the pass that applies it, its record; undo; the output layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_basepoint.h"
#include "td_step.h"

/* How many other remaining classes' separators at this level p voids. */
static int blocking(const td_level *lv, int a, const double *p, int m)
{
    int n = 0;
    for (int i = 0; lv && i < lv->n; i++)
        if (lv->cls[i] != a && td_sep_ok(&lv->seps[i]))
            n += td_sep_voids(&lv->seps[i], p, m);
    return n;
}

/* Pick the base point among the candidates of td_base_candidates, scored
 * in one pass: fewest later separators voided first; then the segment
 * rule unless another candidate at least doubles lambda_max (better
 * conditioned, further from the ReLU kinks).  Returns the rule index. */
static int choose_base_point(td_engine *e, const td_step *s,
                             const td_config *cfg, int a, const td_sep *sp,
                             const td_level *lv, double *p, double *lmax,
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
    if (td_all_ok(ok))
        ok = td_engine_lambda_pass(e, ncand, probe, a, s->P, s->np, soft,
                                   lm, cm) == 0;
    else
        ok = 0;
    mdl->data_passes++;
    int bl[TD_NBASE];
    for (int i = 0; ok && i < ncand; i++)
        bl[i] = blocking(soft ? NULL : lv, a, cb + (size_t)i * m, m);
    double lbest = 0;
    for (int i = 0; ok && i < ncand; i++)
        lbest = fmax(lbest, lm[i]);
    for (int i = 1; ok && i < ncand; i++) {
        /* blocking matters more than conditioning, within reason */
        if (!(lm[i] > 1e-3 * lbest))
            continue;
        if (!(lm[best] > 1e-3 * lbest) || bl[i] < bl[best] ||
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

/* Turn the chosen hyperplane into a cone layer, apply it to all shards and
 * record everything about it. */
int td_layer_build(td_engine *e, td_step *s, const td_config *cfg,
                       int l, int a, const td_sep *sp, const td_level *lv,
                       td_model *mdl, td_err *err)
{
    int m = s->m;
    td_layer_rec *r = &mdl->layers[l];
    r->h = malloc(sizeof(double) * m);
    r->p = malloc(sizeof(double) * m);
    if (!td_all_ok(r->h && r->p))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (layer)");
    memcpy(r->h, sp->h, sizeof(double) * m);
    double lmax = 0, cmin = -1;
    r->base_rule = choose_base_point(e, s, cfg, a, sp, lv, r->p, &lmax, &cmin,
                                     mdl);
    if (!td_all_ok(r->base_rule >= 0))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (base point)");
    if (!(lmax > 0))
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: a point lies on the "
                          "hyperplane of class %lld (lambda_max = 0)", l + 1,
                          (long long)mdl->labels[a]);
    r->lambda_max = lmax;
    r->lambda = cfg->kappa * lmax;
    if (!td_all_ok(td_cone_init(&mdl->cones[l], m, r->h, r->p, r->lambda) == 0))
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
           td_sep_status_name(sp->status), r->theta, r->theta_min, r->lambda,
           r->cond, (long long)r->n_kept, (long long)r->n_collapsed);
    if (st.n_wrong + st.n_mixed > 0 && cfg->on_inseparable == TD_INSEP_FAIL)
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: %lld points fell "
                          "outside their cone (smallest margins %.3g / %.3g)",
                          l + 1, (long long)(st.n_wrong + st.n_mixed),
                          st.margin_kept, st.margin_collapsed);
    return TD_OK;
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

int td_layer_output(td_model *mdl, const td_step *s, double tolerance,
                    td_err *err)
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
    rc = td_output_layer(m, q, P, q, mdl->targets, mdl->w_out, mdl->b_out,
                         &mdl->output_bias, &mdl->output_cond, err);
    free(P);
    if (rc)
        return rc;
    rc = td_network_from_cones(&mdl->net, m, m, q, mdl->cones, q, mdl->w_out,
                               mdl->b_out, td_reset_cond(tolerance), err);
    if (!td_all_ok(rc == TD_OK))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (network)");
    td_model_bcast_network(mdl);
    return TD_OK;
}

void td_model_bcast_network(td_model *mdl)
{
    /* rank 0's bytes are the network: no rank may differ in the last bit */
    td_comm_bcast(mdl->w_out, sizeof(double) * (size_t)mdl->q * mdl->width);
    td_comm_bcast(mdl->b_out, sizeof(double) * mdl->q);
    for (int k = 0; k < mdl->net.num_layers; k++) {
        int din = mdl->net.dims[k], dout = mdl->net.dims[k + 1];
        td_comm_bcast(mdl->net.W[k], sizeof(double) * (size_t)din * dout);
        td_comm_bcast(mdl->net.b[k], sizeof(double) * dout);
    }
}
