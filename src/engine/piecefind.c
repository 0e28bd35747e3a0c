/* piecefind.c - where the next pieces are (see td_lift.h).
 *
 * A piece of class c along a direction w is the rows of c below the
 * smallest value any other remaining row takes on w; the larger, the
 * fewer layers.  Candidates per class: the difference of means and the
 * Fisher directions (S_w + lambda I)^-1 (mu_rest - mu_c) at four
 * regularisations (from one eigen-decomposition of the pooled scatter),
 * the class's last direction and random directions shared by all classes
 * (whatever class the row extreme along one belongs to gets a piece; more
 * of them in few dimensions, where they are cheap), each with both signs,
 * all cut in two passes.  A ladder of thresholds lets a slightly smaller
 * piece with a wide gap win over one whose gap would make an
 * ill-conditioned layer (construction.margin_floor).  Pieces are then
 * grown by max-margin re-solves of the piece against the rest, and once
 * that stops, by a bounded try of the whole class. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_basepoint.h"
#include "td_comm.h"
#include "td_lift.h"
#include "td_linalg.h"

#define NRAND_MAX 64
#define NLAM 4      /* Fisher regularisations, lambda = LAM0 10^j tr/M */
#define LAM0 1e-3
/* The whole-class try of a grow: at most this much working-set work
 * (units of iterations x set size x M; 1e9 is about a core-second) and
 * these rounds; an inseparable class in many dimensions would otherwise
 * take minutes to prove so. */
#define WHOLE_WORK 5e9
#define WHOLE_ROUNDS 6

/* random directions per step in dimension m */
static int nrand(int m)
{
    int r = 256 / (m > 0 ? m : 1);
    return r < 2 ? 2 : r > NRAND_MAX ? NRAND_MAX : r;
}

int td_lift_per(int m)
{
    return 2 + NLAM + nrand(m);
}

int td_lift_init(td_lift *L, int m, int q)
{
    *L = (td_lift){.m = m, .q = q, .n = m + q};
    L->st = (td_step){.m = m, .q = q,
                      .counts = calloc((size_t)q, sizeof(int64_t)),
                      .means = calloc((size_t)q * m, sizeof(double)),
                      .done = calloc((size_t)q, sizeof(int)),
                      .last_h = calloc((size_t)q * m, sizeof(double)),
                      .has_last = calloc((size_t)q, sizeof(int))};
    L->whole_rest = calloc((size_t)q, sizeof(int64_t));
    return L->st.counts && L->st.means && L->st.done && L->st.last_h &&
           L->st.has_last && L->whole_rest ? 0 : -1;
}

void td_lift_free(td_lift *L)
{
    free(L->P); free(L->pcls);
    free(L->st.counts); free(L->st.means); free(L->st.done); free(L->st.S);
    free(L->st.last_h); free(L->st.has_last);
    free(L->evec); free(L->eval); free(L->whole_rest);
    *L = (td_lift){0};
}

int td_lift_stats(td_engine *e, td_lift *L)
{
    if (td_engine_class_stats(e, L->st.counts, L->st.means))
        return -1;
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

/* The scatter's eigen-decomposition, made again once half the rows it
 * saw are gone (it costs M^2 per sampled row and M^3; it only steers the
 * directions).  Every rank computes the same bytes: the same LAPACK call
 * on the same reduced matrix. */
int td_lift_refresh_eigen(td_engine *e, td_lift *L, td_model *mdl,
                          td_err *err)
{
    int m = L->m;
    int64_t active = 0;
    for (int c = 0; c < L->q; c++)
        active += L->st.counts[c];
    if (L->evec && 2 * active > L->eig_rows)
        return TD_OK;
    free(L->st.S);
    L->st.S = NULL;
    if (td_step_scatter(e, &L->st, err))
        return err->code;
    mdl->data_passes++;
    if (!L->evec) {
        L->evec = malloc(sizeof(double) * (size_t)m * m);
        L->eval = malloc(sizeof(double) * m);
    }
    int ok = L->evec && L->eval && td_sym_eig(m, L->st.S, L->eval, L->evec) == 0;
    if (!td_all_ok(ok))
        return td_err_set(err, TD_ERR_INTERNAL, "scatter eigen-decomposition "
                          "failed (out of memory or LAPACK)");
    L->eig_rows = active;
    return TD_OK;
}

/* h = (S + lam I)^-1 d through the eigenvectors, normalised; 0 if h = 0. */
static int fisher(const td_lift *L, const double *d, double lam, double *h,
                  double *tmp)
{
    int m = L->m;
    for (int i = 0; i < m; i++) {          /* tmp = V^T d / (w + lam) */
        double s = 0;
        for (int k = 0; k < m; k++)
            s += L->evec[(size_t)k * m + i] * d[k];
        tmp[i] = s / (fmax(L->eval[i], 0.0) + lam);
    }
    double nn = 0;
    for (int k = 0; k < m; k++) {
        h[k] = td_dot(L->evec + (size_t)k * m, tmp, m);
        nn += h[k] * h[k];
    }
    if (!(nn > 0) || !isfinite(nn))
        return 0;
    for (int k = 0; k < m; k++)
        h[k] /= sqrt(nn);
    return 1;
}

int td_lift_candidates(const td_lift *L, int l, int c, double *H, int *cls,
                       double *tmp)
{
    int m = L->m, k = 0;
    double *d = tmp + m, nn = 0, tr = 0;
    td_mean_of_rest(m, L->q, L->st.counts, L->st.means, L->st.done, c, NULL,
                    0, d);
    for (int j = 0; j < m; j++) {
        d[j] -= L->st.means[(size_t)c * m + j];
        nn += d[j] * d[j];
    }
    if (nn > 0) {
        for (int j = 0; j < m; j++)
            H[(size_t)k * m + j] = d[j] / sqrt(nn);
        cls[k++] = c;
    }
    for (int j = 0; L->evec && nn > 0 && j < m; j++)
        tr += fmax(L->eval[j], 0.0);
    for (int i = 0; L->evec && nn > 0 && i < NLAM; i++) {
        double lam = LAM0 * pow(10.0, i) * (tr > 0 ? tr / m : 1.0);
        if (fisher(L, d, lam, H + (size_t)k * m, tmp))
            cls[k++] = c;
    }
    if (L->st.has_last[c]) {
        memcpy(H + (size_t)k * m, L->st.last_h + (size_t)c * m,
               sizeof(double) * m);
        cls[k++] = c;
    }
    for (int j = 0; j < nrand(m); j++) {
        random_direction(l, j, m, H + (size_t)k * m);
        cls[k++] = c;
    }
    return k;
}

int td_lift_cut_better(const td_cut *x, const td_cut *y, double floor_abs)
{
    if (x->n < 1)
        return 0;
    if (y->n < 1)
        return 1;
    int fx = x->hi - x->lo >= 2 * floor_abs, fy = y->hi - y->lo >= 2 * floor_abs;
    if (fx != fy)
        return fx;
    return x->n > y->n || (x->n == y->n && x->hi - x->lo > y->hi - y->lo);
}

void td_lift_take(td_piece *pc, int a, const double *H, int K, int m, int i,
                  const td_cut *cut)
{
    int sk = i / TD_CUT_LADDER, k = sk % K;
    double sg = sk < K ? 1.0 : -1.0;
    for (int j = 0; j < m; j++)
        pc->w[j] = sg * H[(size_t)k * m + j];
    *pc = (td_piece){a, pc->w, cut[i].thr, cut[i].lo, cut[i].hi, cut[i].n,
                     -1, 0};
}

/* Best entry for each class (best[c], -1 if none). */
static void best_per_class(const td_lift *L, int K, const int *cls,
                           const td_cut *cut, double floor_abs, int *best)
{
    for (int c = 0; c < L->q; c++)
        best[c] = -1;
    for (int i = 0; i < 2 * K * TD_CUT_LADDER; i++) {
        int c = cls[(i / TD_CUT_LADDER) % K];
        if (best[c] < 0 ? cut[i].n >= 1
                        : td_lift_cut_better(&cut[i], &cut[best[c]], floor_abs))
            best[c] = i;
    }
}

/* Keep the classes' best pieces worth a layer now, largest first: each
 * at least an eighth of the largest (a small piece is better cut again
 * after the large ones have gone). */
static int order_pieces(const td_lift *L, const td_cut *cut, const int *best,
                        double floor_abs, int *pick)
{
    int n = 0;
    for (int c = 0; c < L->q; c++) {
        if (best[c] < 0)
            continue;
        int j = n++;
        while (j > 0 && td_lift_cut_better(&cut[best[c]],
                                           &cut[best[pick[j - 1]]], floor_abs)) {
            pick[j] = pick[j - 1];
            j--;
        }
        pick[j] = c;
    }
    int keep = 0;
    while (keep < n && 8 * cut[best[pick[keep]]].n >= cut[best[pick[0]]].n)
        keep++;
    return keep;
}

int td_lift_find_pieces(td_engine *e, td_lift *L, const td_config *cfg,
                        int l, td_model *mdl, td_piece *pc, int *np,
                        td_err *err)
{
    int m = L->m, q = L->q, K = 0;
    if (cfg->fisher_warm_start && td_lift_refresh_eigen(e, L, mdl, err))
        return err->code;
    int per = td_lift_per(m);
    double *H = malloc(sizeof(double) * (size_t)q * per * m);
    double *tmp = malloc(sizeof(double) * 2 * m);
    int *cls = malloc(sizeof(int) * (size_t)q * per);
    int *best = malloc(sizeof(int) * 2 * q);
    td_cut *cut = malloc(sizeof(td_cut) * (size_t)2 * q * per * TD_CUT_LADDER);
    int rc = td_all_ok(H && tmp && cls && best && cut) ? TD_OK
             : td_err_set(err, TD_ERR_INTERNAL, "out of memory (pieces)");
    for (int c = 0; rc == TD_OK && c < q; c++)
        if (!L->st.done[c])
            K += td_lift_candidates(L, l, c, H + (size_t)K * m, cls + K, tmp);
    double floor_abs = cfg->margin_floor * L->t;
    if (rc == TD_OK && td_engine_cut(e, K, cls, H, 2 * floor_abs, cut))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (cut)");
    mdl->data_passes += 2;
    *np = 0;
    if (rc == TD_OK) {
        best_per_class(L, K, cls, cut, floor_abs, best);
        *np = order_pieces(L, cut, best, floor_abs, best + q);
    }
    for (int i = 0; rc == TD_OK && i < *np; i++) {
        int c = best[q + i];
        td_lift_take(&pc[i], c, H, K, m, best[c], cut);
    }
    if (rc == TD_OK && *np == 0)
        rc = td_err_set(err, TD_ERR_INTERNAL, "step %d: no candidate direction "
                        "cuts a piece", l + 1);
    free(H); free(tmp); free(cls); free(best); free(cut);
    return rc;
}

int td_lift_cut_one(td_engine *e, td_model *mdl, int a, const double *w,
                    double floor_abs, td_piece *out)
{
    td_cut cut[2 * TD_CUT_LADDER];
    mdl->data_passes += 2;
    if (td_engine_cut(e, 1, &a, w, 2 * floor_abs, cut))
        return -1;
    int best = 0;
    for (int i = 1; i < TD_CUT_LADDER; i++)
        if (td_lift_cut_better(&cut[i], &cut[best], floor_abs))
            best = i;
    td_lift_take(out, a, w, 1, e->m, best, cut);
    return 0;
}

/* One re-solve: the max-margin hyperplane between the class's rows with
 * <w, x> < thr (the piece, or more) and the other classes' rows, then
 * the piece it cuts; pc takes it when it is better.  1 if it did, 0 if
 * not, -1 when memory ran out anywhere. */
static int grow_once(td_engine *e, td_lift *L, const td_config *cfg,
                     td_model *mdl, td_piece *pc, double thr, double *w)
{
    td_sep_params prm = td_sep_params_of(cfg);
    if (isinf(thr)) {           /* a try: bounded like auto's Theorem 6 */
        prm.work_cap = WHOLE_WORK;
        prm.max_rounds = prm.max_rounds < WHOLE_ROUNDS ? prm.max_rounds
                                                       : WHOLE_ROUNDS;
    }
    double floor_abs = cfg->margin_floor * L->t;
    td_sep sp = {0};
    td_sep_stats sst = {0};
    double c0 = 0.5 * (pc->lo + pc->hi);
    td_engine_park(e, pc->a, pc->w, thr);
    int bad = td_separate(e, 1, &pc->a, pc->w, &c0, NULL, 0, &prm, &sp, &sst);
    td_engine_unpark(e);
    mdl->separator_solves++;
    mdl->data_passes += sst.passes + 1;
    mdl->separator_passes += sst.passes;
    mdl->t_scan += sst.t_scan;
    mdl->t_solve += sst.t_solve;
    int ok = !bad && td_sep_ok(&sp) && sp.status != TD_SEP_SOFT;
    td_piece nx = {.w = w};
    if (ok && td_lift_cut_one(e, mdl, pc->a, sp.h, floor_abs, &nx))
        bad = 1;
    td_cut a = {nx.size, 0, nx.lo, nx.hi}, b = {pc->size, 0, pc->lo, pc->hi};
    int grew = ok && !bad && td_lift_cut_better(&a, &b, floor_abs);
    if (grew) {
        memcpy(pc->w, w, sizeof(double) * L->m);
        *pc = (td_piece){pc->a, pc->w, nx.thr, nx.lo, nx.hi, nx.size,
                         sp.status, sp.rounds};
    }
    td_sep_free(&sp);
    return bad == -2 ? -2 : bad ? -1 : grew;   /* -2: a failed hull solve */
}

int td_lift_grow(td_engine *e, td_lift *L, const td_config *cfg,
                 td_model *mdl, td_piece *pc, td_err *err)
{
    double *w = malloc(sizeof(double) * L->m);
    if (!td_all_ok(w != NULL))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (grow)");
    int64_t rest = 0;
    for (int c = 0; c < L->q; c++)
        rest += c != pc->a ? L->st.counts[c] : 0;
    int r = 1, whole = 2 * rest > L->whole_rest[pc->a] &&
                       L->whole_rest[pc->a] > 0;
    for (int g = 0; r >= 0 && g < cfg->grow_rounds &&
                    pc->size < L->st.counts[pc->a]; g++) {
        r = grow_once(e, L, cfg, mdl, pc, pc->thr, w);
        /* once it stops growing: the whole class's max-margin separator,
         * if there is one and it is found within a small budget, cuts
         * more (Fashion-MNIST 10k: 37 -> 33 layers); after a failure the
         * class is tried again only once half the other rows are gone */
        if (r == 0 && !whole++) {
            r = grow_once(e, L, cfg, mdl, pc, INFINITY, w);
            L->whole_rest[pc->a] = r == 0 ? rest : 0;
        }
        if (r == 0)
            break;
    }
    free(w);
    if (r < 0)
        return td_err_set(err, TD_ERR_INTERNAL, "%s", r == -2
                          ? td_sep_failure(r) : "out of memory (grow)");
    memcpy(L->st.last_h + (size_t)pc->a * L->m, pc->w, sizeof(double) * L->m);
    L->st.has_last[pc->a] = 1;
    return TD_OK;
}

/* A separator solved earlier that still separates its class. */
static int valid(const td_sep *sp)
{
    return sp->h && td_sep_ok(sp) && sp->status != TD_SEP_SOFT;
}

/* Exit 3 for "lifted": name the classes left. */
static int not_lifted(const td_lift *L, const td_model *mdl, int l,
                      td_err *err)
{
    char list[256] = "";
    for (int c = 0, len = 0; c < L->q && len < 200; c++)
        if (!L->st.done[c])
            len += snprintf(list + len, sizeof list - len, "%s%lld",
                            len ? ", " : "", (long long)mdl->labels[c]);
    return td_err_set(err, TD_ERR_INSEPARABLE, "not sequentially separable, "
                      "even lifted: at step %d no remaining class (%s) is "
                      "linearly separable from the others' remaining rows; "
                      "construction.mode = \"pieces\" builds an exact network "
                      "from pieces of classes", l + 1, list);
}

/* Solve the remaining classes whose separator is not valid (any more). */
static int solve_classes(td_engine *e, td_lift *L, const td_config *cfg,
                         td_sep *seps, td_model *mdl, td_err *err)
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
    int bad = rc == TD_OK && nn > 0
              ? td_separate(e, nn, cls, H, C, NULL, 0, &prm, tmp, &sst) : 0;
    if (bad)
        rc = td_err_set(err, TD_ERR_INTERNAL, "%s", td_sep_failure(bad));
    mdl->separator_solves += nn;
    mdl->data_passes += sst.passes;
    mdl->separator_passes += sst.passes;
    mdl->t_scan += sst.t_scan;
    mdl->t_solve += sst.t_solve;
    for (int i = 0; i < nn; i++) {
        td_sep_free(&seps[cls[i]]);
        seps[cls[i]] = tmp[i];
    }
    free(cls); free(H); free(C); free(tmp);
    return rc;
}

int td_lift_next_class(td_engine *e, td_lift *L, const td_config *cfg,
                       int l, td_sep *seps, td_model *mdl, td_piece *pc,
                       td_err *err)
{
    int rc = solve_classes(e, L, cfg, seps, mdl, err), a = -1;
    for (int c = 0; rc == TD_OK && c < L->q; c++)
        if (!L->st.done[c] && valid(&seps[c]) &&
            (a < 0 || seps[c].margin > seps[a].margin))
            a = c;
    if (rc == TD_OK && a < 0)
        return not_lifted(L, mdl, l, err);
    /* the separator puts the whole class below: no ladder, no floor */
    if (rc == TD_OK && td_lift_cut_one(e, mdl, a, seps[a].h, 0.0, pc))
        rc = td_err_set(err, TD_ERR_INTERNAL, "out of memory (cut)");
    if (rc == TD_OK) {
        pc->status = seps[a].status;
        pc->rounds = seps[a].rounds;
    }
    return rc;
}
