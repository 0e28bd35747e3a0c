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
#include "td_comm.h"
#include "td_basepoint.h"
#include "td_linalg.h"
#include "td_pieces.h"
#include "td_separator.h"
#include "td_step.h"

#define NRAND 2     /* random directions per step, tried for every class:
                       the class of the row extreme along one of them
                       always gets a piece (unless rows of two classes tie
                       there exactly: identical points) */
#define NMU 3       /* clearances mu tried for the earlier base points */

typedef struct {
    int m, q, n;            /* n = m + q */
    double t;               /* lift height: the data's radius */
    int np, cap;            /* base points (= layers) so far, room */
    int64_t scatter_rows;   /* active rows when st.S was last reduced */
    double *P;              /* cap x n lifted base points */
    int *pcls;              /* class of each base point */
    td_step st;             /* active counts and means, done, scatter,
                               last directions: the warm starts' view
                               (no base points: they are lifted away) */
} lstate;

typedef struct {
    int a;                  /* class the piece belongs to */
    double *w;              /* m, unit: the piece lies below */
    double r0, smax;        /* every other row has <w,x> >= r0 > smax */
    int64_t size;           /* rows in the piece */
    int status;             /* enum td_sep_status of the last max-margin
                               solve, -1 for a direction cut alone */
    int rounds;             /* working-set rounds of that solve */
} lpiece;

/* Counts and means of the active rows, and which classes are gone. */
static int refresh_stats(td_engine *e, lstate *L)
{
    td_engine_class_stats(e, L->st.counts, L->st.means);
    int nr = 0;
    for (int c = 0; c < L->q; c++) {
        L->st.done[c] = L->st.counts[c] == 0;
        nr += !L->st.done[c];
    }
    return nr;
}

/* Deterministic unit direction j at step l (splitmix64 and Box-Muller):
 * the same on every rank and at every rank count. */
static void random_direction(int l, int j, int m, double *v)
{
    uint64_t x = ((uint64_t)l << 20) ^ (uint64_t)j;
    double nn = 0;
    for (int k = 0; k < m; k += 2) {
        double u[2];
        for (int i = 0; i < 2; i++) {
            uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            z ^= z >> 31;
            u[i] = ((z >> 11) + 0.5) / 9007199254740992.0;
        }
        double r = sqrt(-2 * log(u[0]));
        v[k] = r * cos(2 * M_PI * u[1]);
        if (k + 1 < m)
            v[k + 1] = r * sin(2 * M_PI * u[1]);
    }
    for (int k = 0; k < m; k++)
        nn += v[k] * v[k];
    for (int k = 0; k < m; k++)
        v[k] /= sqrt(nn);
}

/* The candidate directions of step l: for every remaining class its warm
 * start (Fisher or mean difference), the difference of means, its last
 * piece's direction and NRAND random ones.  *cls and *H are malloc'd. */
static int candidates(lstate *L, const td_config *cfg, int l, int **cls,
                      double **H, int *K, td_err *err)
{
    int m = L->m, q = L->q, nr = 0, k = 0, per = 3 + NRAND;
    int *rem = malloc(sizeof(int) * q);
    *cls = malloc(sizeof(int) * (size_t)q * per);
    *H = malloc(sizeof(double) * (size_t)q * per * m);
    double *C = malloc(sizeof(double) * q);
    if (!td_all_ok(rem && *cls && *H && C)) {
        free(rem); free(C);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (pieces)");
    }
    for (int c = 0; c < q; c++)
        if (!L->st.done[c])
            rem[nr++] = c;
    int rc = td_warm_starts(&L->st, cfg, rem, nr, *H, C, err);
    for (int i = 0; i < nr; i++)
        (*cls)[k++] = rem[i];
    for (int i = 0; rc == TD_OK && i < nr; i++) {
        int c = rem[i];
        double *h = *H + (size_t)k * m, nn = 0;
        td_mean_of_rest(m, q, L->st.counts, L->st.means, L->st.done, c, NULL,
                        0, h);
        for (int j = 0; j < m; j++) {
            h[j] -= L->st.means[(size_t)c * m + j];
            nn += h[j] * h[j];
        }
        if (nn > 0) {
            for (int j = 0; j < m; j++)
                h[j] /= sqrt(nn);
            (*cls)[k++] = c;
        }
        if (L->st.has_last[c]) {
            memcpy(*H + (size_t)k * m, L->st.last_h + (size_t)c * m,
                   sizeof(double) * m);
            (*cls)[k++] = c;
        }
        for (int j = 0; j < NRAND; j++) {
            random_direction(l, j, m, *H + (size_t)k * m);
            (*cls)[k++] = c;
        }
    }
    *K = k;
    free(rem);
    free(C);
    return rc;
}

/* Largest piece first, then the wider gap, then the earlier candidate. */
static int better(int64_t n1, double gap1, int64_t n0, double gap0)
{
    return n1 > n0 || (n1 == n0 && gap1 > gap0);
}

/* Cut along direction h for class a alone: the piece it gives. */
static int cut_one(td_engine *e, td_model *mdl, int a, const double *h,
                   double *r0, int64_t *n, double *smax)
{
    mdl->data_passes += 2;
    return td_engine_cut(e, 1, &a, h, r0, n, smax);
}

/* Grow the piece: the max-margin hyperplane between the piece and the
 * other classes' rows, then the piece that hyperplane cuts (it contains
 * the old one); while it grows, up to cfg->grow_rounds times. */
static int grow_piece(td_engine *e, lstate *L, const td_config *cfg,
                      td_model *mdl, lpiece *pc, td_err *err)
{
    td_sep_params prm = td_sep_params_of(cfg);
    for (int g = 0; g < cfg->grow_rounds && pc->size > 0; g++) {
        td_sep sp = {0};
        td_sep_stats sst = {0};
        double c0 = 0.5 * (pc->smax + pc->r0);
        td_engine_park(e, pc->a, pc->w, pc->r0);
        int bad = td_separate(e, 1, &pc->a, pc->w, &c0, NULL, 0, &prm, &sp,
                              &sst);
        td_engine_unpark(e);
        mdl->separator_solves++;
        mdl->data_passes += sst.passes + 1;
        mdl->separator_passes += sst.passes;
        mdl->t_scan += sst.t_scan;
        mdl->t_solve += sst.t_solve;
        if (bad) {
            td_sep_free(&sp);
            return td_err_set(err, TD_ERR_INTERNAL, "out of memory (grow)");
        }
        double r0 = 0, smax = 0;
        int64_t n = 0;
        int ok = td_sep_ok(&sp) && sp.status != TD_SEP_SOFT;
        if (ok && cut_one(e, mdl, pc->a, sp.h, &r0, &n, &smax)) {
            td_sep_free(&sp);
            return td_err_set(err, TD_ERR_INTERNAL, "out of memory (cut)");
        }
        int grew = ok && better(n, r0 - smax, pc->size, pc->r0 - pc->smax);
        if (grew) {
            memcpy(pc->w, sp.h, sizeof(double) * L->m);
            *pc = (lpiece){pc->a, pc->w, r0, smax, n, sp.status, sp.rounds};
        }
        td_sep_free(&sp);
        if (!grew || n == L->st.counts[pc->a])
            break;
    }
    return TD_OK;
}

/* Step l of "pieces": every candidate direction cut in two passes, the
 * largest piece grown. */
static int next_piece(td_engine *e, lstate *L, const td_config *cfg, int l,
                      td_model *mdl, lpiece *pc, td_err *err)
{
    int m = L->m, K = 0, *cls = NULL;
    double *H = NULL;
    int64_t active = 0;
    for (int c = 0; c < L->q; c++)
        active += L->st.counts[c];
    /* the scatter costs M^2 per sampled row: reduce it again only once
     * half the rows it saw are gone (it only steers the directions) */
    if (cfg->fisher_warm_start && 2 * active <= L->scatter_rows) {
        free(L->st.S);
        L->st.S = NULL;
        if (td_step_scatter(e, &L->st, err))
            return err->code;
        L->scatter_rows = active;
        mdl->data_passes++;
    }
    int rc = candidates(L, cfg, l, &cls, &H, &K, err);
    double *r0 = malloc(sizeof(double) * 2 * (K ? K : 1));
    int64_t *n = malloc(sizeof(int64_t) * (K ? K : 1));
    if (rc == TD_OK && !td_all_ok(r0 && n))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (pieces)");
    if (rc == TD_OK && td_engine_cut(e, K, cls, H, r0, n, r0 + K))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (cut)");
    mdl->data_passes += 2;
    int best = -1;
    for (int k = 0; rc == TD_OK && k < K; k++)
        if (n[k] > 0 && (best < 0 || better(n[k], r0[k] - r0[K + k], n[best],
                                            r0[best] - r0[K + best])))
            best = k;
    if (rc == TD_OK && best < 0)
        rc = td_err_set(err, TD_ERR_INTERNAL, "step %d: no candidate direction "
                        "cuts a piece", l + 1);
    if (rc == TD_OK) {
        memcpy(pc->w, H + (size_t)best * m, sizeof(double) * m);
        *pc = (lpiece){cls[best], pc->w, r0[best], r0[K + best], n[best], -1, 0};
        rc = grow_piece(e, L, cfg, mdl, pc, err);
    }
    if (rc == TD_OK) {
        memcpy(L->st.last_h + (size_t)pc->a * m, pc->w, sizeof(double) * m);
        L->st.has_last[pc->a] = 1;
    }
    free(cls); free(H); free(r0); free(n);
    return rc;
}

/* A separator solved earlier that still separates its class. */
static int valid(const td_sep *sp)
{
    return sp->h && td_sep_ok(sp) && sp->status != TD_SEP_SOFT;
}

/* Step l of "lifted": the remaining class with the widest max-margin
 * separation from the other classes' remaining rows.  A separator stays
 * valid while only other classes lose rows (seps[c].status records it);
 * an inseparable class is solved again once the rest has shrunk. */
static int next_class(td_engine *e, lstate *L, const td_config *cfg, int l,
                      td_sep *seps, td_model *mdl, lpiece *pc, td_err *err)
{
    int m = L->m, q = L->q, nn = 0, *cls = malloc(sizeof(int) * q);
    double *H = malloc(sizeof(double) * (size_t)q * m);
    double *C = malloc(sizeof(double) * q);
    td_sep *tmp = calloc((size_t)q, sizeof(td_sep));
    int rc = td_all_ok(cls && H && C && tmp) ? TD_OK
             : td_err_set(err, TD_ERR_INTERNAL, "out of memory (lifted)");
    for (int c = 0; rc == TD_OK && c < q; c++)
        if (!L->st.done[c] && !valid(&seps[c]))
            cls[nn++] = c;
    if (rc == TD_OK && nn > 0)
        rc = td_warm_starts(&L->st, cfg, cls, nn, H, C, err);
    td_sep_params prm = td_sep_params_of(cfg);
    td_sep_stats sst = {0};
    if (rc == TD_OK && nn > 0 &&
        td_separate(e, nn, cls, H, C, NULL, 0, &prm, tmp, &sst))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (separator)");
    mdl->separator_solves += nn;
    mdl->data_passes += sst.passes;
    mdl->separator_passes += sst.passes;
    mdl->t_scan += sst.t_scan;
    mdl->t_solve += sst.t_solve;
    for (int i = 0; i < nn; i++) {
        td_sep_free(&seps[cls[i]]);
        seps[cls[i]] = tmp[i];
    }
    int a = -1;
    for (int c = 0; rc == TD_OK && c < q; c++)
        if (!L->st.done[c] && valid(&seps[c]) &&
            (a < 0 || seps[c].margin > seps[a].margin))
            a = c;
    if (rc == TD_OK && a < 0) {
        char list[256] = "";
        for (int c = 0, len = 0; c < q && len < 200; c++)
            if (!L->st.done[c])
                len += snprintf(list + len, sizeof list - len, "%s%lld",
                                len ? ", " : "", (long long)mdl->labels[c]);
        rc = td_err_set(err, TD_ERR_INSEPARABLE, "not sequentially separable, "
                        "even lifted: at step %d no remaining class (%s) is "
                        "linearly separable from the others' remaining rows; "
                        "construction.mode = \"pieces\" builds an exact "
                        "network from pieces of classes", l + 1, list);
    }
    if (rc == TD_OK) {
        memcpy(pc->w, seps[a].h, sizeof(double) * m);
        *pc = (lpiece){a, pc->w, 0, 0, 0, seps[a].status, seps[a].rounds};
        if (cut_one(e, mdl, a, pc->w, &pc->r0, &pc->size, &pc->smax))
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (cut)");
    }
    free(cls); free(H); free(C); free(tmp);
    return rc;
}

/* Mean of the piece's rows (the class mean when it is the whole class). */
static void piece_mean(td_engine *e, lstate *L, const lpiece *pc,
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
        td_engine_park(e, pc->a, pc->w, pc->r0);
        td_engine_class_stats(e, cnt, means);
        td_engine_unpark(e);
        mdl->data_passes += 2;
        memcpy(mu, means + (size_t)pc->a * m, sizeof(double) * m);
    } else {    /* any point works; the class mean keeps going */
        memcpy(mu, L->st.means + (size_t)pc->a * m, sizeof(double) * m);
    }
    free(cnt);
    free(means);
}

/* The lifted normal (w, eta) and base point (p, t e_a) of a layer whose
 * earlier base points all stay kept, at least mu clear (see the top). */
static void lifted_cone_data(const lstate *L, const lpiece *pc,
                             const double *mu_s, double mu, double *h,
                             double *p)
{
    int m = L->m, n = L->n;
    double beta = 0.5 * (pc->smax + pc->r0);
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
static int score_cones(td_engine *e, const lstate *L, const lpiece *pc,
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

static void record_layer(td_layer_rec *r, const lstate *L, const lpiece *pc,
                         const td_cone *cone, const td_apply_stats *st,
                         double lmax, double cmin, const td_model *mdl)
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
    r->geo_margin = 0.5 * (pc->r0 - pc->smax);
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
static int build_layer(td_engine *e, lstate *L, const td_config *cfg, int l,
                       const lpiece *pc, td_model *mdl, td_err *err)
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
    td_say("  layer %3d: class %-6lld piece %-8lld left %-8lld margin %-9.3g "
           "lambda %-9.3g cond %-9.3g lift %.3g\n", l + 1, (long long)r->label,
           (long long)st.n_collapsed, (long long)r->n_class_left,
           r->geo_margin, r->lambda, r->cond, r->lift);
    if (st.n_collapsed != pc->size || st.n_wrong + st.n_mixed > 0)
        return td_err_set(err, TD_ERR_VERIFY, "layer %d: %lld of %lld piece "
                          "rows collapsed, %lld points outside their cone",
                          l + 1, (long long)st.n_collapsed,
                          (long long)pc->size,
                          (long long)(st.n_wrong + st.n_mixed));
    return TD_OK;
}

/* Room for layer l: model records, base points. */
static int reserve(lstate *L, td_model *mdl, int l)
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

/* Output layer: W = [0 | (Y - y_last 1^T) / t], b = y_last: a base point of
 * class c (height t in coordinate M + c) goes to y_c, a row never
 * collapsed (class coordinates 0: the last class) to y_last. */
static int lifted_output(td_model *mdl, const lstate *L, int last,
                         double tolerance, td_err *err)
{
    int m = L->m, n = L->n, q = L->q;
    const double *Y = mdl->targets;
    memset(mdl->w_out, 0, sizeof(double) * (size_t)q * n);
    mdl->output_bias = 0;
    for (int i = 0; i < q; i++) {
        for (int c = 0; c < q; c++)
            mdl->w_out[(size_t)i * n + m + c] =
                (Y[(size_t)c * q + i] - Y[(size_t)last * q + i]) / L->t;
        mdl->b_out[i] = Y[(size_t)last * q + i];
        mdl->output_bias |= mdl->b_out[i] != 0;
    }
    mdl->output_cond = 1.0;     /* the class coordinates are orthogonal */
    int rc = td_network_from_cones(&mdl->net, m, n, mdl->nlayers, mdl->cones,
                                   q, mdl->w_out, mdl->b_out,
                                   td_reset_cond(tolerance), err);
    if (!td_all_ok(rc == TD_OK))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (network)");
    td_model_bcast_network(mdl);
    return TD_OK;
}

/* Lift height t: the largest distance of a row from the data's mean. */
static int lift_height(td_engine *e, lstate *L, td_model *mdl)
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

static int build_all(td_engine *e, lstate *L, const td_config *cfg,
                     int construction, td_model *mdl, td_err *err)
{
    td_sep *seps = calloc((size_t)L->q, sizeof(td_sep));
    double *w = malloc(sizeof(double) * L->m);
    int rc = td_all_ok(seps && w) ? TD_OK
             : td_err_set(err, TD_ERR_INTERNAL, "out of memory (pieces)");
    int l = 0, last = -1;
    for (; rc == TD_OK; l++) {
        int nr = refresh_stats(e, L);
        mdl->data_passes++;
        if (nr <= 1)
            break;
        lpiece pc = {0, w, 0, 0, 0, -1, 0};
        if (!td_all_ok(reserve(L, mdl, l) == 0))
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (layers)");
        else if (construction == TD_CONS_LIFTED)
            rc = next_class(e, L, cfg, l, seps, mdl, &pc, err);
        else
            rc = next_piece(e, L, cfg, l, mdl, &pc, err);
        if (rc == TD_OK)
            rc = build_layer(e, L, cfg, l, &pc, mdl, err);
    }
    for (int c = 0; c < L->q; c++) {
        if (rc == TD_OK && !L->st.done[c])
            last = c;
        td_sep_free(&seps[c]);
    }
    free(seps);
    free(w);
    if (rc == TD_OK) {
        mdl->last_class = last;
        mdl->sequentially_separable = 1;
        rc = lifted_output(mdl, L, last, cfg->tolerance, err);
    }
    return rc;
}

int td_pieces_build(td_engine *e, const td_config *cfg, int construction,
                    td_model *mdl, td_err *err)
{
    int m = e->m, q = e->q, n = m + q;
    lstate L = {m, q, n, 0, 0, 0, INT64_MAX, NULL, NULL,
                {m, q, 0, calloc((size_t)q, sizeof(int64_t)),
                 calloc((size_t)q * m, sizeof(double)), NULL,
                 calloc((size_t)q, sizeof(int)), NULL,
                 calloc((size_t)q * m, sizeof(double)),
                 calloc((size_t)q, sizeof(int)), 0}};
    int rc = td_all_ok(L.st.counts && L.st.means && L.st.done &&
                       L.st.last_h && L.st.has_last)
             ? TD_OK : td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    td_model_clear_layers(mdl);
    mdl->construction = construction;
    if (rc == TD_OK && !td_all_ok(td_model_set_width(mdl, n) == 0))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (model)");
    if (rc == TD_OK) {
        refresh_stats(e, &L);
        memcpy(mdl->counts, L.st.counts, sizeof(int64_t) * q);
        memcpy(mdl->means, L.st.means, sizeof(double) * (size_t)q * m);
        if (lift_height(e, &L, mdl))
            rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (radius)");
        mdl->lift_height = L.t;
    }
    if (rc == TD_OK && construction == TD_CONS_LIFTED &&
        cfg->fisher_warm_start)
        rc = td_step_scatter(e, &L.st, err);
    if (rc == TD_OK) {
        td_say("search: %s construction at width %d (M + Q), lift height "
               "%.4g\n", td_construction_name(construction), n, L.t);
        rc = build_all(e, &L, cfg, construction, mdl, err);
    }
    td_say("search: %d layers, %lld separator solves, %lld data passes "
           "(separator passes %.3f s, working-set solves %.3f s)\n",
           mdl->nlayers, (long long)mdl->separator_solves,
           (long long)mdl->data_passes, mdl->t_scan, mdl->t_solve);
    free(L.P); free(L.pcls);
    free(L.st.counts); free(L.st.means); free(L.st.done); free(L.st.S);
    free(L.st.last_h); free(L.st.has_last);
    return rc;
}
