/* separator.c - working-set max-margin separator (see td_separator.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_hull.h"
#include "td_model.h"
#include "td_separator.h"

#define WS_CAP 4096            /* Gram matrix of the working set: 128 MiB */
#define BAND_SLACK 1e-6        /* relative slack of the optimality band */

/* Rank 0's working set: points of class a (side 0) and of the rest. */
typedef struct {
    int m, n[2], cap;
    double *x[2];
    int64_t *gidx[2];
    td_hull_warm warm;   /* last solve's support, to restart from */
} wset;

static int ws_init(wset *w, int m)
{
    *w = (wset){.m = m, .cap = WS_CAP};
    if (td_hull_warm_init(&w->warm, m))
        return -1;
    for (int s = 0; s < 2; s++) {
        w->x[s] = malloc(sizeof(double) * (size_t)WS_CAP * m);
        w->gidx[s] = malloc(sizeof(int64_t) * WS_CAP);
        if (!w->x[s] || !w->gidx[s])
            return -1;
    }
    return 0;
}

static void ws_free(wset *w)
{
    td_hull_warm_free(&w->warm);
    for (int s = 0; s < 2; s++) {
        free(w->x[s]);
        free(w->gidx[s]);
    }
}

/* Add a point unless present; returns 1 if added. */
static int ws_add(wset *w, int side, int64_t gidx, const double *x)
{
    for (int i = 0; i < w->n[side]; i++)
        if (w->gidx[side][i] == gidx)
            return 0;
    if (w->n[0] + w->n[1] >= w->cap)
        return 0;
    int i = w->n[side]++;
    w->gidx[side][i] = gidx;
    memcpy(w->x[side] + (size_t)i * w->m, x, sizeof(double) * w->m);
    return 1;
}

/* What rank 0 decided after a pass; broadcast to all ranks. */
typedef struct {
    int stop, status, rounds, ws_size, nev_a, nev_b;
    long hull_iters;
    double c, margin, hull_dist, hull_lower, hull_scale;
    int64_t ev_a[TD_SEP_EVIDENCE], ev_b[TD_SEP_EVIDENCE];
} sep_ctrl;

/* Rows carrying the largest hull weights: the evidence of a failure. */
static int top_weights(const double *wt, const int64_t *gidx, int n,
                       int64_t *out)
{
    int k = 0;
    char *used = calloc((size_t)n, 1);
    for (; k < TD_SEP_EVIDENCE && used; k++) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!used[i] && wt[i] > 0 && (best < 0 || wt[i] > wt[best]))
                best = i;
        if (best < 0)
            break;
        used[best] = 1;
        out[k] = gidx[best];
    }
    free(used);
    return k;
}

/* Solve the hard-margin problem on the working set: the next (h, c) to
 * certify, or the evidence that the hulls meet. */
static void ws_solve(wset *w, const td_config *cfg, double *h,
                     double *c, sep_ctrl *ctl)
{
    int m = w->m;
    double *u = malloc(sizeof(double) * m), *v = malloc(sizeof(double) * m);
    double *al = malloc(sizeof(double) * w->n[0]);
    double *be = malloc(sizeof(double) * w->n[1]);
    td_hull_info info;
    td_hull_opts opt = {.gap = cfg->gap, .meet_tol = cfg->hull_tol};
    td_hull_nearest(m, w->n[0], w->x[0], w->n[1], w->x[1], &opt, u, v, al,
                    be, &info, &w->warm);
    ctl->hull_dist = info.dist;
    ctl->hull_lower = info.lower;
    ctl->hull_scale = info.scale;
    ctl->hull_iters = info.iters;
    if (info.converged == 2 || !(info.dist > 0)) {
        ctl->status = TD_SEP_INSEPARABLE;
        ctl->nev_a = top_weights(al, w->gidx[0], w->n[0], ctl->ev_a);
        ctl->nev_b = top_weights(be, w->gidx[1], w->n[1], ctl->ev_b);
    } else {
        *c = 0;
        for (int k = 0; k < m; k++) {
            h[k] = (v[k] - u[k]) / info.dist;
            *c += h[k] * 0.5 * (u[k] + v[k]);
        }
    }
    free(u); free(v); free(al); free(be);
}

/* Rank 0, after the pass that certified (h, c): keep the best certified
 * hyperplane, stop if it is optimal, else grow the working set and solve
 * for the next (h, c).  Returns 1 to stop. */
static int sep_round(wset *w, const td_scan *sc, const td_config *cfg,
                     double *h, double *c, double *band, double *best_h,
                     sep_ctrl *ctl)
{
    double ma = -sc->maxv[0], mb = -sc->maxv[1];
    if (ctl->rounds == 0 || 0.5 * (ma + mb) > ctl->margin) {
        /* shifting c balances the two sides' margins exactly */
        ctl->margin = 0.5 * (ma + mb);
        ctl->c = *c + 0.5 * (mb - ma);
        memcpy(best_h, h, sizeof(double) * w->m);
    }
    if (ctl->rounds > 0 && sc->maxv[0] <= -*band && sc->maxv[1] <= -*band) {
        ctl->status = TD_SEP_OPTIMAL;     /* nothing inside the WS margin */
        return 1;
    }
    int added = 0;
    for (int i = 0; i < sc->ncand; i++)
        if (sc->cand[i].v > -*band)
            added += ws_add(w, sc->cand[i].side, sc->cand[i].gidx, sc->cand[i].x);
    ctl->ws_size = w->n[0] + w->n[1];
    if (ctl->rounds >= cfg->max_rounds || added == 0 || !w->n[0] || !w->n[1]) {
        ctl->status = ctl->margin > 0 ? TD_SEP_CERTIFIED : TD_SEP_CAPPED;
        return 1;
    }
    ws_solve(w, cfg, h, c, ctl);
    if (ctl->status == TD_SEP_INSEPARABLE)
        return 1;
    *band = 0.5 * fmax(ctl->hull_lower, 0.0) * (1 - BAND_SLACK);
    return 0;
}

static void sep_publish(td_sep *out, const sep_ctrl *ctl)
{
    out->c = ctl->c;
    out->margin = ctl->margin;
    out->status = ctl->status;
    out->rounds = ctl->rounds;
    out->ws_size = ctl->ws_size;
    out->hull_dist = ctl->hull_dist;
    out->hull_lower = ctl->hull_lower;
    out->hull_scale = ctl->hull_scale;
    out->hull_iters = ctl->hull_iters;
    out->nev_a = ctl->nev_a;
    out->nev_b = ctl->nev_b;
    memcpy(out->ev_a, ctl->ev_a, sizeof ctl->ev_a);
    memcpy(out->ev_b, ctl->ev_b, sizeof ctl->ev_b);
}

int td_separate(td_engine *e, int a, const double *h0, double c0,
                const double *P, int np, const td_config *cfg, td_sep *out)
{
    int m = e->m, root = td_comm_rank() == 0;
    *out = (td_sep){0};
    double *h = malloc(sizeof(double) * m);
    out->h = malloc(sizeof(double) * m);
    wset w = {0};
    int bad = !h || !out->h || (root && ws_init(&w, m));
    td_comm_any(&bad);          /* no rank may enter a scan alone */
    if (bad) {
        free(h);
        if (root)
            ws_free(&w);
        return -1;
    }
    for (int j = 0; root && j < np; j++)       /* base points always count */
        ws_add(&w, 1, -(int64_t)(j + 1), P + (size_t)j * m);
    double c = c0, band = INFINITY;
    memcpy(h, h0, sizeof(double) * m);
    sep_ctrl ctl = {0};
    for (int stop = 0; !stop; ctl.rounds++) {
        td_scan sc;
        td_engine_scan(e, a, h, c, P, np, cfg->working_set, &sc);
        out->passes++;
        if (root)
            stop = sep_round(&w, &sc, cfg, h, &c, &band, out->h, &ctl);
        td_scan_free(&sc);
        td_comm_bcast(&stop, sizeof stop);
        td_comm_bcast(h, sizeof(double) * m);
        td_comm_bcast(&c, sizeof c);
    }
    ctl.rounds--;
    td_comm_bcast(&ctl, sizeof ctl);
    td_comm_bcast(out->h, sizeof(double) * m);
    sep_publish(out, &ctl);
    free(h);
    if (root)
        ws_free(&w);
    return 0;
}

void td_sep_free(td_sep *s)
{
    free(s->h);
    s->h = NULL;
}
