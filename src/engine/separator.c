/* separator.c - working-set max-margin separators, all candidate classes
 * sharing each pass (see td_separator.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_hull.h"
#include "td_linalg.h"
#include "td_model.h"
#include "td_separator.h"

#define WS_CAP 4096            /* points per class at most */
#define WS_MIN 512             /* ... and at least, whatever the budget */
#define WS_BUDGET (2.0 * 1024 * 1024 * 1024)  /* working-set bytes of nc classes */
#define BAND_SLACK 1e-6        /* relative slack of the optimality band */
#define PROGRESS_S 10.0        /* seconds between progress lines */
/* A hull-meeting test below this distance cannot be told from underflow:
 * its square is no longer a normal double. */
#define MEET_RESOLVABLE 1.4916681462400413e-154   /* sqrt(DBL_MIN) */

/* The owning rank's working set of one class: class points (side 0), the
 * rest. */
typedef struct {
    int m, n[2], cap[2], limit;   /* limit: points per class */
    double *x[2];
    int64_t *gidx[2];
    int *cls[2];         /* class index of each point (-1: base point) */
    td_hull_warm warm;   /* last solve's support, to restart from */
} wset;

static void ws_free(wset *w)
{
    td_hull_warm_free(&w->warm);
    for (int s = 0; s < 2; s++) {
        free(w->x[s]);
        free(w->gidx[s]);
        free(w->cls[s]);
    }
}

static int ws_grow(wset *w, int side)
{
    int cap = w->cap[side] ? 2 * w->cap[side] : 64;
    double *x = realloc(w->x[side], sizeof(double) * (size_t)cap * w->m);
    if (x)
        w->x[side] = x;
    int64_t *g = realloc(w->gidx[side], sizeof(int64_t) * cap);
    if (g)
        w->gidx[side] = g;
    int *c = realloc(w->cls[side], sizeof(int) * cap);
    if (c)
        w->cls[side] = c;
    if (!x || !g || !c)
        return -1;
    w->cap[side] = cap;
    return 0;
}

/* Add a point unless present or full; 1 if added, -1 out of memory. */
static int ws_add(wset *w, int side, int64_t gidx, int cls, const double *x)
{
    for (int i = 0; i < w->n[side]; i++)
        if (w->gidx[side][i] == gidx)
            return 0;
    if (w->n[0] + w->n[1] >= w->limit)
        return 0;
    if (w->n[side] == w->cap[side] && ws_grow(w, side))
        return -1;
    int i = w->n[side]++;
    w->gidx[side][i] = gidx;
    w->cls[side][i] = cls;
    memcpy(w->x[side] + (size_t)i * w->m, x, sizeof(double) * w->m);
    return 1;
}

/* What the owner decided for one class; broadcast at the end. */
typedef struct {
    int status, rounds, ws_size, nev_a, nev_b, nsupp_a, nsupp_b, uses_base;
    int ncert_cls, cert_cls[TD_SEP_CERT_CLASSES];
    long hull_iters;
    double work;            /* iterations x working-set size x M, summed */
    double c, margin, hull_dist, hull_lower, hull_scale;
    int64_t ev_a[TD_SEP_EVIDENCE], ev_b[TD_SEP_EVIDENCE];
} sep_ctrl;

/* Rank 0's clock for the working-set solves of one pass, shared by its
 * solving threads: a line every PROGRESS_S seconds however long a single
 * solve, or the wait for other ranks' solves, takes. */
typedef struct {
    double t0, last;
    int64_t pass;
} solve_clock;

static void solve_tick(void *ctx)
{
    solve_clock *ck = ctx;
    double now = omp_get_wtime(), last;
    if (td_comm_rank() != 0)
        return;
    #pragma omp atomic read
    last = ck->last;
    if (now - last < PROGRESS_S)
        return;
    #pragma omp critical (td_solve_clock)
    if (now - ck->last >= PROGRESS_S) {
        ck->last = now;
        td_say("  separator: working-set solves after pass %lld still "
               "running, %.0f s\n", (long long)ck->pass, now - ck->t0);
    }
}

/* The owner's state of one class's solve. */
typedef struct {
    wset w;
    sep_ctrl ctl;
    double band;       /* points with violation above -band join the set */
    double *best_h;    /* best certified normal so far */
    solve_clock *clock;
    int oom;
    int failed;        /* a hull solve failed in floating point */
} cls_state;

/* Rows carrying the largest hull weights: the evidence of a failure. */
static int top_weights(const double *wt, const int64_t *gidx, int n,
                       int64_t *out, int *nsupp)
{
    int k = 0;
    *nsupp = 0;
    for (int i = 0; i < n; i++)
        *nsupp += wt[i] > 0;
    for (; k < TD_SEP_EVIDENCE; k++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int used = 0;
            for (int t = 0; t < k; t++)
                used |= out[t] == gidx[i];
            if (!used && wt[i] > 0 && (best < 0 || wt[i] > wt[best]))
                best = i;
        }
        if (best < 0)
            break;
        out[k] = gidx[best];
    }
    return k;
}

/* Remember which classes the rest side of a certificate draws on; -1
 * once there are more than TD_SEP_CERT_CLASSES of them. */
static void note_class(sep_ctrl *ctl, int c)
{
    for (int t = 0; t < ctl->ncert_cls; t++)
        if (ctl->cert_cls[t] == c)
            return;
    if (ctl->ncert_cls < 0 || ctl->ncert_cls == TD_SEP_CERT_CLASSES)
        ctl->ncert_cls = -1;
    else
        ctl->cert_cls[ctl->ncert_cls++] = c;
}

/* The rest side of a working-set solution: does a base point carry weight,
 * and which classes' rows do.  The solution depends on these alone, so it
 * stays optimal (or a certificate stays valid) while they remain. */
static void note_support(const wset *w, const double *be, sep_ctrl *ctl)
{
    ctl->uses_base = 0;
    ctl->ncert_cls = 0;
    for (int i = 0; i < w->n[1]; i++) {
        if (!(be[i] > 0))
            continue;
        ctl->uses_base |= w->gidx[1][i] < 0;
        if (w->gidx[1][i] >= 0)
            note_class(ctl, w->cls[1][i]);
    }
}

static void record_certificate(cls_state *st, const double *al,
                               const double *be)
{
    wset *w = &st->w;
    sep_ctrl *ctl = &st->ctl;
    ctl->status = TD_SEP_INSEPARABLE;
    ctl->nev_a = top_weights(al, w->gidx[0], w->n[0], ctl->ev_a, &ctl->nsupp_a);
    ctl->nev_b = top_weights(be, w->gidx[1], w->n[1], ctl->ev_b, &ctl->nsupp_b);
    note_support(w, be, ctl);
}

/* Put c in the middle of the working set's slab along h and return the
 * slab's width: every working-set point is then at least half of it away,
 * so a pass that finds no point nearer proves the margin optimal within
 * the solver's gap. */
static void centre_slab(const wset *w, const double *h, double *c,
                        double *width)
{
    double amax = -INFINITY, bmin = INFINITY;
    for (int i = 0; i < w->n[0]; i++)
        amax = fmax(amax, td_dot(h, w->x[0] + (size_t)i * w->m, w->m));
    for (int i = 0; i < w->n[1]; i++)
        bmin = fmin(bmin, td_dot(h, w->x[1] + (size_t)i * w->m, w->m));
    *c = 0.5 * (amax + bmin);
    *width = bmin - amax;
}

/* Solve the hard-margin problem on the working set: the next (h, c) to
 * certify, or the certificate that the hulls meet. */
static void ws_solve(cls_state *st, const td_sep_params *prm, double *h,
                     double *c)
{
    wset *w = &st->w;
    int m = w->m;
    double *u = malloc(sizeof(double) * m), *v = malloc(sizeof(double) * m);
    double *al = malloc(sizeof(double) * w->n[0]);
    double *be = malloc(sizeof(double) * w->n[1]);
    td_hull_info info;
    td_hull_opts opt = {.gap = prm->gap, .meet_tol = prm->hull_tol,
                        .tick = solve_tick, .tick_ctx = st->clock};
    double per_iter = (double)(w->n[0] + w->n[1]) * m;
    if (prm->work_cap > 0)      /* what is left of this class's budget */
        opt.max_iter = (long)fmax(1.0, (prm->work_cap - st->ctl.work) / per_iter);
    int rc = !u || !v || !al || !be ? -1
             : td_hull_nearest(m, w->n[0], w->x[0], w->n[1], w->x[1], &opt,
                               u, v, al, be, &info, &w->warm);
    /* A solve that failed in floating point is no certificate: NaN or
     * inf (squares overflow), or a meeting too close to underflow to be
     * told from it.  Not a separator either: the run stops (internal). */
    int meet = rc == 0 && info.converged == TD_HULL_MEET;
    if (rc == 0 && (!isfinite(info.dist) || !isfinite(info.lower) ||
                    (meet && !(prm->hull_tol * info.scale >= MEET_RESOLVABLE))))
        rc = -2;
    if (rc) {
        if (rc == -1 && !isfinite(info.scale))
            rc = -2;            /* the points' squares overflow */
        st->oom |= rc == -1;
        st->failed |= rc == -2;
        free(u); free(v); free(al); free(be);
        return;
    }
    st->ctl.hull_dist = info.dist;
    st->ctl.hull_lower = info.lower;
    st->ctl.hull_scale = info.scale;
    st->ctl.hull_iters += info.iters;
    st->ctl.work += info.iters * per_iter;
    if (meet) {
        record_certificate(st, al, be);
    } else {
        note_support(w, be, &st->ctl);
        for (int k = 0; k < m; k++)
            h[k] = (v[k] - u[k]) / info.dist;
        centre_slab(w, h, c, &st->ctl.hull_lower);
    }
    free(u); free(v); free(al); free(be);
}

/* Keep the hyperplane just certified if it is the best so far; shifting
 * c balances the two sides' margins exactly. */
static void keep_best(cls_state *st, const double *mx, const double *h,
                      double c, int m)
{
    double ma = -mx[0], mb = -mx[1];
    if (st->ctl.rounds == 0 || 0.5 * (ma + mb) > st->ctl.margin) {
        st->ctl.margin = 0.5 * (ma + mb);
        st->ctl.c = c + 0.5 * (mb - ma);
        memcpy(st->best_h, h, sizeof(double) * m);
    }
}

/* The owner, after the pass that certified (h, c) for scan slot j: keep the
 * best, stop if optimal, else grow the set and solve for the next (h, c).
 * Returns 1 to stop. */
static int sep_round(cls_state *st, const td_scan *sc, int j,
                     const td_sep_params *prm, double *h, double *c)
{
    const double *mx = sc->maxv + 2 * j;
    keep_best(st, mx, h, *c, sc->m);
    if (st->ctl.rounds > 0 && mx[0] <= -st->band && mx[1] <= -st->band) {
        st->ctl.status = TD_SEP_OPTIMAL;   /* nothing inside the WS margin */
        return 1;
    }
    int added = 0;
    for (int side = 0; side < 2; side++)
        for (int t = 0; t < sc->k; t++) {
            size_t it = ((size_t)2 * j + side) * sc->k + t;
            if (sc->items[it].gidx == INT64_MAX || !(sc->items[it].v > -st->band))
                break;
            int r = ws_add(&st->w, side, sc->items[it].gidx,
                           (int)sc->items[it].cls,
                           sc->coords + it * sc->m);
            st->oom |= r < 0;
            added += r > 0;
        }
    st->ctl.ws_size = st->w.n[0] + st->w.n[1];
    if (st->oom || st->ctl.rounds + 1 >= prm->max_rounds || added == 0 ||
        !st->w.n[0] || !st->w.n[1] ||
        (prm->work_cap > 0 && st->ctl.work >= prm->work_cap)) {
        st->ctl.status = st->ctl.margin > 0 ? TD_SEP_CERTIFIED : TD_SEP_CAPPED;
        return 1;
    }
    ws_solve(st, prm, h, c);
    if (st->oom || st->failed || st->ctl.status == TD_SEP_INSEPARABLE)
        return 1;
    st->band = 0.5 * fmax(st->ctl.hull_lower, 0.0) * (1 - BAND_SLACK);
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
    out->work = ctl->work;
    out->uses_base = ctl->uses_base;
    out->ncert_cls = ctl->ncert_cls;
    memcpy(out->cert_cls, ctl->cert_cls, sizeof ctl->cert_cls);
    out->nev_a = ctl->nev_a;
    out->nev_b = ctl->nev_b;
    out->nsupp_a = ctl->nsupp_a;
    out->nsupp_b = ctl->nsupp_b;
    memcpy(out->ev_a, ctl->ev_a, sizeof ctl->ev_a);
    memcpy(out->ev_b, ctl->ev_b, sizeof ctl->ev_b);
}

/* Points per class working set: WS_CAP unless nc sets of m-vectors would
 * pass WS_BUDGET bytes on rank 0 (many classes in high dimension). */
static int ws_limit(int nc, int m)
{
    double fit = WS_BUDGET / ((double)nc * m * sizeof(double));
    return fit >= WS_CAP ? WS_CAP : fit <= WS_MIN ? WS_MIN : (int)fit;
}

/* The rank that keeps class i's working set and solves it: classes are
 * dealt round-robin, so the serial solves spread over up to nc ranks. */
static int owner_of(int i)
{
    return i % td_comm_size();
}

static int states_init(cls_state *st, int nc, int m, const double *P, int np)
{
    for (int i = 0; i < nc; i++) {
        if (owner_of(i) != td_comm_rank())
            continue;
        st[i].w.m = m;
        st[i].w.limit = ws_limit(nc, m);
        st[i].band = INFINITY;
        st[i].best_h = malloc(sizeof(double) * m);
        if (!st[i].best_h || td_hull_warm_init(&st[i].w.warm, m))
            return -1;
        for (int j = 0; j < np; j++)       /* base points always count */
            if (ws_add(&st[i].w, 1, -(int64_t)(j + 1), -1, P + (size_t)j * m) < 0)
                return -1;
    }
    return 0;
}

static void states_free(cls_state *st, int nc)
{
    for (int i = 0; st && i < nc; i++) {
        ws_free(&st[i].w);
        free(st[i].best_h);
    }
    free(st);
}

/* A line at least every PROGRESS_S seconds while classes are open (how
 * many, how big the working sets, how far from separating).  Collective:
 * the owners' figures are reduced first. */
static void progress(const cls_state *st, const int *open, int nc,
                     int64_t passes, double t0, double *tlast)
{
    int no = 0;
    double v[3] = {0, INFINITY, -INFINITY};   /* -ws, min, max margin */
    for (int i = 0; i < nc; i++) {
        if (!open[i])
            continue;
        no++;
        if (owner_of(i) != td_comm_rank())
            continue;
        v[0] = fmin(v[0], -(double)(st[i].w.n[0] + st[i].w.n[1]));
        v[1] = fmin(v[1], st[i].ctl.margin);
        v[2] = fmax(v[2], st[i].ctl.margin);
    }
    double lo[2] = {v[0], v[1]};
    td_comm_min(lo, 2);
    td_comm_max(&v[2], 1);
    double now = omp_get_wtime();
    if (no == 0 || now - *tlast < PROGRESS_S)
        return;                 /* a finished batch: its layer line follows */
    td_say("  separator: %d of %d classes open after %lld passes, %.0f s; "
           "working sets up to %.0f points; best margins %.3g to %.3g\n", no,
           nc, (long long)passes, now - t0, -lo[0], lo[1], v[2]);
    *tlast = now;
}

/* Solve this rank's open classes' next working-set problems (in parallel
 * threads: they share nothing).  Returns 1 if memory ran out, 2 if a
 * hull solve failed (bits). */
static int solve_open(cls_state *st, const td_scan *sc, const int *oidx,
                      int no, const td_sep_params *prm, double *H, double *C,
                      int *open, solve_clock *clock)
{
    int m = sc->m, oom = 0, me = td_comm_rank();
    #pragma omp parallel for schedule(dynamic, 1) reduction(| : oom)
    for (int j = 0; j < no; j++) {
        int i = oidx[j];
        if (owner_of(i) != me)
            continue;
        st[i].clock = clock;
        if (sep_round(&st[i], sc, j, prm, H + (size_t)i * m, &C[i]))
            open[i] = 0;
        st[i].ctl.rounds++;
        oom |= st[i].oom | st[i].failed << 1;
    }
    td_comm_wait_all(solve_tick, clock);   /* rank 0 reports while others solve */
    return oom;
}

/* Each open class's owner tells every rank whether it stays open and its
 * next hyperplane. */
static int share_open(const int *oidx, int no, int m, int *open, double *H,
                      double *C)
{
    double *buf = malloc(sizeof(double) * (m + 2));
    int bad = !buf;
    td_comm_any(&bad);
    for (int j = 0; !bad && j < no; j++) {
        int i = oidx[j];
        buf[0] = open[i];
        buf[1] = C[i];
        memcpy(buf + 2, H + (size_t)i * m, sizeof(double) * m);
        td_comm_bcast_from(owner_of(i), buf, sizeof(double) * (m + 2));
        open[i] = buf[0] != 0;
        C[i] = buf[1];
        memcpy(H + (size_t)i * m, buf + 2, sizeof(double) * m);
    }
    free(buf);
    return bad;
}

/* Collect the open classes' current hyperplanes for the next pass. */
static int open_set(int nc, const int *cls, const int *open, const double *H,
                    const double *C, int m, int *oidx, int *ocls, int *oown,
                    double *Ho, double *Co)
{
    int no = 0;
    for (int i = 0; i < nc; i++)
        if (open[i]) {
            oidx[no] = i;
            ocls[no] = cls[i];
            oown[no] = owner_of(i);
            memcpy(Ho + (size_t)no * m, H + (size_t)i * m, sizeof(double) * m);
            Co[no++] = C[i];
        }
    return no;
}

/* The owners' results to every rank, class by class. */
static void publish_all(cls_state *st, int nc, int m, td_sep *out)
{
    for (int i = 0; i < nc; i++) {
        int own = owner_of(i) == td_comm_rank();
        sep_ctrl ctl = own ? st[i].ctl : (sep_ctrl){0};
        td_comm_bcast_from(owner_of(i), &ctl, sizeof ctl);
        if (own)
            memcpy(out[i].h, st[i].best_h, sizeof(double) * m);
        td_comm_bcast_from(owner_of(i), out[i].h, sizeof(double) * m);
        sep_publish(&out[i], &ctl);
        out[i].passes = ctl.rounds;
        out[i].rounds = ctl.rounds > 0 ? ctl.rounds - 1 : 0;
    }
}

/* One pass for every open class, then each owner's solves; 1 to stop. */
static int sep_pass(td_engine *e, cls_state *st, int nc, const int *cls,
                    double *H, double *C, int *open, double *Ho, double *Co,
                    const double *P, int np, const td_sep_params *prm,
                    td_sep_stats *stats, int *bad)
{
    int m = e->m, *oidx = open + nc, *ocls = open + 2 * nc, *oown = open + 3 * nc;
    int no = open_set(nc, cls, open, H, C, m, oidx, ocls, oown, Ho, Co);
    if (no == 0)
        return 1;
    td_scan sc;
    double t1 = omp_get_wtime();
    if (td_engine_scan(e, no, ocls, Ho, Co, P, np, prm->working_set, oown, &sc)) {
        *bad = 1;                       /* agreed inside the scan */
        return 1;
    }
    double t2 = omp_get_wtime();
    stats->passes++;
    stats->t_scan += t2 - t1;
    stats->bytes_root += (int64_t)2 * no * prm->working_set *
                         (int64_t)(sizeof(td_topk_item) + sizeof(double) * m);
    solve_clock clock = {t2, t2, stats->passes};
    int res = solve_open(st, &sc, oidx, no, prm, H, C, open, &clock);
    td_scan_free(&sc);
    int64_t why[2] = {res & 1, (res & 2) != 0};
    td_comm_sum_i64(why, 2);            /* every rank: out of memory, failed */
    *bad = why[0] ? 1 : why[1] ? 2 : 0;
    *bad = *bad ? *bad : share_open(oidx, no, m, open, H, C);
    stats->t_solve += omp_get_wtime() - t2;
    return *bad;
}

int td_separate(td_engine *e, int nc, const int *cls, const double *H0,
                const double *C0, const double *P, int np,
                const td_sep_params *prm, td_sep *out, td_sep_stats *stats)
{
    int m = e->m;
    size_t hm = sizeof(double) * (size_t)(nc ? nc : 1) * m;
    double *H = malloc(hm), *Ho = malloc(hm);
    double *C = malloc(sizeof(double) * (nc ? nc : 1));
    double *Co = malloc(sizeof(double) * (nc ? nc : 1));
    int *open = malloc(sizeof(int) * (nc ? nc : 1) * 4);
    cls_state *st = calloc((size_t)(nc ? nc : 1), sizeof *st);
    int bad = !H || !Ho || !C || !Co || !open || !st;
    for (int i = 0; i < nc; i++) {
        out[i] = (td_sep){0};
        bad |= !(out[i].h = malloc(sizeof(double) * m));
    }
    if (!bad)
        bad = states_init(st, nc, m, P, np);
    td_comm_any(&bad);                  /* no rank may enter a scan alone */
    if (!bad) {
        memcpy(H, H0, sizeof(double) * (size_t)nc * m);
        memcpy(C, C0, sizeof(double) * nc);
        for (int i = 0; i < nc; i++)
            open[i] = 1;
    }
    double t0 = omp_get_wtime(), tlast = t0;
    while (!bad && !sep_pass(e, st, nc, cls, H, C, open, Ho, Co, P, np, prm,
                             stats, &bad))
        progress(st, open, nc, stats->passes, t0, &tlast);
    if (!bad)
        publish_all(st, nc, m, out);
    states_free(st, nc);
    free(H); free(Ho); free(C); free(Co); free(open);
    return bad == 2 ? -2 : bad ? -1 : 0;
}

const char *td_sep_failure(int rc)
{
    return rc == -2 ? "separator: a working-set hull solve failed in double "
                      "precision (coordinates too large or too small to "
                      "square); this is no evidence about separability"
                    : "out of memory (separator)";
}

void td_sep_free(td_sep *s)
{
    free(s->h);
    s->h = NULL;
}

int td_sep_copy(td_sep *dst, const td_sep *src, int m)
{
    *dst = *src;
    dst->h = malloc(sizeof(double) * m);
    if (!dst->h)
        return -1;
    memcpy(dst->h, src->h, sizeof(double) * m);
    return 0;
}
