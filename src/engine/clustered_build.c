/* clustered_build.c - the clustered construction on the shards: the
 * conditions from two reductions, the rows projected to z-space, one cone
 * per class there, the output layer, the network with its input map
 * (td_clustered_build.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_clustered_build.h"
#include "td_comm.h"
#include "td_linalg.h"
#include "td_network.h"
#include "td_progress.h"
#include "td_search.h"
#include "td_step.h"
#include "td_stop.h"

int td_clustered_check(td_engine *e, td_model *mdl, td_err *err)
{
    int q = e->q;
    double *delta = malloc(sizeof(double) * q);
    td_clustered *c = calloc(1, sizeof *c);
    int ok = td_all_ok(delta && c) &&
             td_engine_class_stats(e, mdl->counts, mdl->means) == 0 &&
             td_engine_class_radius(e, mdl->means, delta) == 0;
    mdl->data_passes += 2;
    ok = ok && td_all_ok(td_clustered_conditions(q, e->m, mdl->means, delta,
                                                 c) == 0);
    free(delta);
    if (!ok) {
        free(c);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (clustered "
                          "conditions)");
    }
    td_model_set_clustered(mdl, c);
    return TD_OK;
}

/* The shard's rows in z-space, a fresh engine of width Q sharing nothing
 * with e (every row active).  -1 on every rank when memory ran out. */
static int project_rows(const td_engine *e, const td_clustered *c,
                        td_engine *z)
{
    int q = e->q, m = e->m, fail = 0;
    *z = *e;
    z->m = q;
    z->x0f = NULL;
    z->x0 = malloc(sizeof(double) * (size_t)(e->n_local ? e->n_local : 1) * q);
    z->x = z->x0;
    z->cls = malloc(sizeof(int) * (size_t)(e->n_local ? e->n_local : 1));
    z->layer = malloc(sizeof(int) * (size_t)(e->n_local ? e->n_local : 1));
    fail = !z->x0 || !z->cls || !z->layer;
    #pragma omp parallel if (!fail)
    {
        double *buf = fail ? NULL : malloc(sizeof(double) * m);
        if (!buf) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (!buf)
                continue;
            td_clustered_project(c, td_engine_row(e, i, buf), z->x0 + i * q);
            z->cls[i] = e->cls[i];
            z->layer[i] = -1;
        }
        free(buf);
    }
    return td_all_ok(!fail) ? 0 : -1;
}

/* Class a's rows and the rest along h, from the hyperplane <h, z> = c:
 * the largest <h, z> - c over the class's active rows (*lo) and the
 * smallest over the other rows and the np earlier base points (*hi), in
 * one scan.  -1 on failure (every rank). */
static int spread_along(td_engine *z, int a, const double *h, double c,
                        const double *P, int np, double *lo, double *hi)
{
    int owner = 0;
    td_scan sc;
    if (td_engine_scan(z, 1, &a, h, &c, P, np, 1, &owner, &sc)) {
        td_scan_free(&sc);
        return -1;
    }
    *lo = sc.maxv[0];
    *hi = -sc.maxv[1];
    td_scan_free(&sc);
    return 0;
}

/* Class a's cone probed: lambda_max, the smallest cosine and the margin
 * of the hyperplane through r->p (two passes; -1 on failure). */
static int probe(td_engine *z, int a, td_layer_rec *r, const double *P,
                 int np, double *lmax, double *cmin)
{
    td_cone cone = {0};
    double lo = NAN, hi = NAN;
    int ok = td_all_ok(td_cone_init(&cone, z->m, r->h, r->p, 1.0) == 0) &&
             td_engine_lambda_pass(z, 1, &cone, a, P, np, 0, lmax, cmin) == 0 &&
             spread_along(z, a, r->h, td_dot(r->h, r->p, z->m), P, np, &lo,
                          &hi) == 0;
    td_cone_free(&cone);
    r->geo_margin = fmin(-lo, hi);
    return ok ? 0 : -1;
}

/* The paper's mu_a failed: move the base point along f_a to the middle of
 * the gap between class a and the rest, when there is one (base rule 6).
 * 1 when moved, 0 when no hyperplane with normal f_a separates, -1 on
 * failure. */
static int fit_mu(td_engine *z, int a, td_layer_rec *r, const double *P,
                  int np, double *mu)
{
    double lo, hi, c = td_dot(r->h, r->p, z->m) - *mu;  /* through mean_a */
    if (spread_along(z, a, r->h, c, P, np, &lo, &hi))
        return -1;
    if (!(lo < hi))
        return 0;
    double fit = 0.5 * (lo + hi);
    for (int i = 0; i < z->m; i++)
        r->p[i] += (fit - *mu) * r->h[i];
    *mu = fit;
    r->base_rule = 6;
    return 1;
}

/* Layer l collapses class a with Proposition 3's cone (its base point fit
 * to the data when the paper's mu fails); P holds the l earlier base
 * points and gets this one. */
static int cone_layer(td_engine *z, const td_config *cfg, int l, int a,
                      double *P, const char *cond, td_model *mdl, td_err *err)
{
    td_clustered *c = mdl->clustered;
    int q = z->m, moved = 0;
    td_layer_rec *r = &mdl->layers[l];
    double lmax = 0, cmin = -1, paper = c->mu[a];
    r->h = malloc(sizeof(double) * q);
    r->p = malloc(sizeof(double) * q);
    r->base_rule = 5;
    int ok = td_all_ok(r->h && r->p);
    if (ok)
        td_clustered_cone(c, mdl->means, a, r->h, r->p);
    ok = ok && probe(z, a, r, P, l, &lmax, &cmin) == 0;
    if (ok && !(lmax > 0) && (moved = fit_mu(z, a, r, P, l, &c->mu[a])) > 0)
        ok = probe(z, a, r, P, l, &lmax, &cmin) == 0;
    mdl->data_passes += 2 + 3 * (moved > 0);
    if (!ok || moved < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (layer)");
    if (!(lmax > 0))
        return td_err_set(err, TD_ERR_INSEPARABLE, "clustered: layer %d: no "
                          "cone with axis f_j separates class %lld from the "
                          "rest, at the paper's mu_j = %.4g (geometric "
                          "margin %.3g) nor anywhere along f_j; %s; "
                          "construction.mode = \"auto\" builds another "
                          "network", l + 1, (long long)mdl->labels[a], paper,
                          r->geo_margin, cond);
    r->class_index = a;
    r->sep_status = TD_SEP_GIVEN;
    r->offset = td_dot(r->h, r->p, q);
    r->lambda_max = lmax;
    r->lambda = cfg->kappa * lmax;
    r->theta_min = 2.0 * acos(fmin(1.0, fmax(-1.0, cmin)));
    char note[96] = "";
    if (moved)
        snprintf(note, sizeof note, " (mu fitted: %.4g; the paper's %.4g "
                 "does not separate)", c->mu[a], paper);
    int rc = td_layer_commit(z, cfg, l, P, q, note, mdl, err);
    memcpy(P + (size_t)l * q, r->p, sizeof(double) * q);
    return rc;
}

/* After a layer: a stop signal ends the build (nothing saved within; the
 * test hook TD_FAULT_SIGNAL counts these points too). */
static int safe_point(td_ckpt *ck, td_err *err)
{
    td_stop_fault_point();
    return td_ckpt_stop_asked(ck, err);
}

/* The classes in layer order: construction.order, else the labels'. */
static void layer_order(const td_config *cfg, const td_model *mdl, int *cls)
{
    for (int l = 0; l < mdl->q; l++) {
        cls[l] = l;
        for (int j = 0; cfg->norder == mdl->q && j < mdl->q; j++)
            if (mdl->labels[j] == cfg->order[l])
                cls[l] = j;
    }
}

/* The output layer on the base points (row j: class j's) and the planned
 * network whose first layer reads x through the input map. */
static int clustered_output(td_model *mdl, const double *P, const int *cls,
                            int kind, double tolerance, td_err *err)
{
    int q = mdl->q, m = mdl->m;
    double *Pc = malloc(sizeof(double) * q * q);
    mdl->in_map = malloc(sizeof(double) * (size_t)q * m);
    mdl->in_shift = malloc(sizeof(double) * q);
    if (!td_all_ok(Pc && mdl->in_map && mdl->in_shift)) {
        free(Pc);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (output)");
    }
    for (int l = 0; l < q; l++)
        memcpy(Pc + (size_t)cls[l] * q, P + (size_t)l * q, sizeof(double) * q);
    mdl->output_kind = kind;   /* Q points in R^Q: linear and NC need them
                                  linearly independent (checked) */
    td_output_layer(kind, q, q, Pc, q, mdl->targets, mdl->w_out, mdl->b_out,
                    &mdl->output_bias, &mdl->output_cond, err);
    free(Pc);
    if (td_comm_agree(err))
        return err->code;
    td_clustered_input_map(mdl->clustered, mdl->in_map, mdl->in_shift);
    if (!td_all_ok(td_network_plan(&mdl->net, q, q, q, mdl->cones, q,
                                   mdl->w_out, mdl->b_out,
                                   td_reset_cond(tolerance), err) == TD_OK))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (network)");
    td_network_set_input(&mdl->net, m, mdl->in_map, mdl->in_shift);
    td_model_bcast_network(mdl);
    return TD_OK;
}

int td_clustered_build(td_engine *e, const td_config *cfg, td_model *mdl,
                       td_ckpt *ck, td_err *err)
{
    td_clustered *c = mdl->clustered;
    int q = e->q, rc = TD_OK;
    char cond[768];
    if (td_search_check_order(cfg, mdl, err))    /* the same on every rank */
        return err->code;
    td_clustered_describe(c, mdl->labels, cond, sizeof cond);
    if (!td_all_ok(td_clustered_basis(mdl->means, c) == 0))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (basis)");
    if (c->rank < q - 1)
        return td_err_set(err, TD_ERR_INSEPARABLE, "clustered: the class "
                          "means are affinely dependent (their differences "
                          "span %d of %d dimensions): no width-Q network "
                          "(Proposition 3 assumes independent means); %s",
                          c->rank, q - 1, cond);
    td_engine z = {0};
    double *P = malloc(sizeof(double) * q * q);
    int *cls = malloc(sizeof(int) * q);
    if (project_rows(e, c, &z) || !td_all_ok(P && cls) ||
        !td_all_ok(td_model_set_width(mdl, q) == 0))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (projection)");
    mdl->construction = TD_CONS_CLUSTERED;
    mdl->lift_height = c->t;
    if (!rc)
        layer_order(cfg, mdl, cls);
    for (int l = 0; !rc && l < q; l++)
        if (!(rc = cone_layer(&z, cfg, l, cls[l], P, cond, mdl, err)))
            rc = safe_point(ck, err);
    if (!rc) {
        memcpy(e->layer, z.layer, sizeof(int) * (size_t)e->n_local);
        mdl->sequentially_separable = 1;
        rc = clustered_output(mdl, P, cls, cfg->output_layer, cfg->tolerance,
                              err);
    }
    td_engine_free(&z);
    free(P);
    free(cls);
    return rc;
}
