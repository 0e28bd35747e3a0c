/* engine.c - the shard and the passes over it (see td_engine.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <cblas.h>
#include "td_comm.h"
#include "td_engine.h"
#include "td_xsum.h"

#define TD_MAX_CLASSES 100000
#define TD_SCATTER_BLOCKS 64     /* blocks sampled for the Fisher scatter */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t unique_sorted(int64_t *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (k == 0 || v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

/* The sorted set of labels over all ranks, known to every rank. */
static int global_labels(const int64_t *y, int64_t n, int64_t **labels,
                         int *q, td_err *err)
{
    int64_t *loc = malloc(sizeof(int64_t) * (n > 0 ? n : 1));
    if (!loc)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory reading labels");
    memcpy(loc, y, sizeof(int64_t) * n);
    int64_t nu = unique_sorted(loc, n);
    void *all = NULL;
    int64_t bytes = 0;
    td_comm_gather(loc, nu * (int64_t)sizeof(int64_t), &all, &bytes);
    free(loc);
    int64_t nq = 0;
    if (td_comm_rank() == 0)
        nq = unique_sorted(all, bytes / (int64_t)sizeof(int64_t));
    td_comm_bcast(&nq, sizeof nq);
    if (nq > TD_MAX_CLASSES) {
        free(all);
        return td_err_set(err, TD_ERR_INPUT, "%lld distinct labels: more than "
                          "%d classes (is y really a class label?)",
                          (long long)nq, TD_MAX_CLASSES);
    }
    *labels = malloc(sizeof(int64_t) * (nq > 0 ? nq : 1));
    if (!*labels) {
        free(all);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (labels)");
    }
    if (td_comm_rank() == 0)
        memcpy(*labels, all, sizeof(int64_t) * nq);
    free(all);
    td_comm_bcast(*labels, sizeof(int64_t) * nq);
    *q = (int)nq;
    return TD_OK;
}

int td_engine_init(td_engine *e, td_shard_data *d, int block_rows,
                   int64_t **labels, int *q, td_err *err)
{
    *e = (td_engine){0};
    e->m = d->m;
    e->n_total = d->n_total;
    e->row0 = d->row0;
    e->n_local = d->n_local;
    e->block_rows = block_rows;
    e->nblocks = (d->n_local + block_rows - 1) / block_rows;
    int rc = global_labels(d->y, d->n_local, labels, q, err);
    if (rc)
        return rc;
    e->q = *q;
    size_t n = (size_t)(d->n_local > 0 ? d->n_local : 1);
    e->cls = malloc(sizeof(int) * n);
    e->layer = malloc(sizeof(int) * n);
    e->score = malloc(sizeof(double) * n);
    if (!e->cls || !e->layer || !e->score)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (shard state)");
    for (int64_t i = 0; i < d->n_local; i++) {
        int64_t *hit = bsearch(&d->y[i], *labels, (size_t)*q, sizeof(int64_t),
                               cmp_i64);
        e->cls[i] = (int)(hit - *labels);
        e->layer[i] = -1;
    }
    e->x0 = e->x = d->x;        /* the engine owns the points from here */
    d->x = NULL;
    return TD_OK;
}

void td_engine_free(td_engine *e)
{
    if (e->x != e->x0)
        free(e->x);
    free(e->x0);
    free(e->cls);
    free(e->layer);
    free(e->score);
    *e = (td_engine){0};
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* ---- class statistics ------------------------------------------------ */

static double active_absmax(const td_engine *e)
{
    double amax = 0;
    #pragma omp parallel for reduction(max : amax) schedule(static)
    for (int64_t i = 0; i < e->n_local; i++) {
        if (e->layer[i] >= 0)
            continue;
        const double *xi = e->x + i * e->m;
        for (int k = 0; k < e->m; k++)
            amax = fmax(amax, fabs(xi[k]));
    }
    td_comm_max(&amax, 1);
    return amax;
}

int td_engine_class_stats(td_engine *e, int64_t *counts, double *means)
{
    int m = e->m, q = e->q;
    size_t len = (size_t)q * m;
    int64_t nb = e->nblocks;
    td_comm_sum_i64(&nb, 1);
    /* bound on any block partial fixes one scale for all ranks */
    int shift = td_xsum_shift(e->block_rows * active_absmax(e), nb > 0 ? nb : 1);
    td_i128 *acc = calloc(len, sizeof *acc);
    memset(counts, 0, sizeof(int64_t) * q);
    int fail = acc == NULL;
    #pragma omp parallel
    {
        td_i128 *tacc = calloc(len, sizeof *tacc);
        double *part = malloc(sizeof(double) * len);
        int64_t *tcnt = calloc((size_t)q, sizeof *tcnt);
        if (!tacc || !part || !tcnt) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < e->nblocks; b++) {
            if (!tacc || !part || !tcnt)
                continue;
            memset(part, 0, sizeof(double) * len);
            int64_t i1 = (b + 1) * e->block_rows;
            for (int64_t i = b * e->block_rows; i < i1 && i < e->n_local; i++) {
                if (e->layer[i] >= 0)
                    continue;
                double *pc = part + (size_t)e->cls[i] * m;
                const double *xi = e->x + i * m;
                for (int k = 0; k < m; k++)
                    pc[k] += xi[k];
                tcnt[e->cls[i]]++;
            }
            td_xsum_add(tacc, part, len, shift);
        }
        #pragma omp critical
        if (tacc && tcnt && acc) {
            for (size_t j = 0; j < len; j++)
                acc[j] += tacc[j];
            for (int j = 0; j < q; j++)
                counts[j] += tcnt[j];
        }
        free(tacc); free(part); free(tcnt);
    }
    if (fail) {
        free(acc);
        return -1;
    }
    td_comm_sum_i128(acc, (int)len);
    td_comm_sum_i64(counts, q);
    td_xsum_get(acc, len, shift, means);
    for (int j = 0; j < q; j++)
        for (int k = 0; k < m; k++)
            means[(size_t)j * m + k] = counts[j] ?
                means[(size_t)j * m + k] / (double)counts[j] : 0.0;
    free(acc);
    return 0;
}

/* ---- separator scans -------------------------------------------------- */

typedef struct { double v; int64_t gidx; int64_t row; } heap_item;

/* a ranks before b: worse violation first, then the lower global row, a
 * total order that makes the selected set independent of the partition */
static int worse(const heap_item *a, const heap_item *b)
{
    return a->v > b->v || (a->v == b->v && a->gidx < b->gidx);
}

/* Min-heap on `worse`: the root is the mildest of the k kept so far. */
static void heap_offer(heap_item *h, int *n, int k, heap_item it)
{
    if (*n < k) {
        int i = (*n)++;
        h[i] = it;
        while (i > 0 && worse(&h[(i - 1) / 2], &h[i])) {
            heap_item t = h[i]; h[i] = h[(i - 1) / 2]; h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    if (k == 0 || !worse(&it, &h[0]))
        return;
    h[0] = it;
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, s = i;
        if (l < *n && worse(&h[s], &h[l])) s = l;
        if (r < *n && worse(&h[s], &h[r])) s = r;
        if (s == i) break;
        heap_item t = h[i]; h[i] = h[s]; h[s] = t;
        i = s;
    }
}

static int cmp_cand(const void *pa, const void *pb)
{
    const td_cand *a = pa, *b = pb;
    if (a->side != b->side)
        return a->side - b->side;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return (a->gidx > b->gidx) - (a->gidx < b->gidx);
}

/* violations of every active row into e->score; per-side maxima */
static void scan_scores(td_engine *e, int a, const double *h, double c,
                        double *mx)
{
    double m0 = -INFINITY, m1 = -INFINITY;
    #pragma omp parallel for reduction(max : m0, m1) schedule(static)
    for (int64_t i = 0; i < e->n_local; i++) {
        if (e->layer[i] >= 0) {
            e->score[i] = -INFINITY;
            continue;
        }
        double s = dot(h, e->x + i * e->m, e->m) - c;
        if (e->cls[i] == a) {
            e->score[i] = s;
            m0 = fmax(m0, s);
        } else {
            e->score[i] = -s;
            m1 = fmax(m1, -s);
        }
    }
    mx[0] = m0;
    mx[1] = m1;
}

/* The k worst rows of each side, packed as (v, gidx, side, x[m]). */
static double *scan_pack(const td_engine *e, int a, int k, int64_t *nrec)
{
    heap_item *hp[2] = {malloc(sizeof(heap_item) * (k ? k : 1)),
                        malloc(sizeof(heap_item) * (k ? k : 1))};
    int nh[2] = {0, 0};
    for (int64_t i = 0; i < e->n_local; i++) {
        if (e->layer[i] >= 0)
            continue;
        heap_item it = {e->score[i], e->row0 + i, i};
        int side = e->cls[i] == a ? 0 : 1;
        heap_offer(hp[side], &nh[side], k, it);
    }
    int rec = 3 + e->m;
    double *buf = malloc(sizeof(double) * (size_t)rec * (nh[0] + nh[1] + 1));
    int64_t n = 0;
    for (int side = 0; side < 2; side++)
        for (int j = 0; j < nh[side]; j++, n++) {
            double *r = buf + n * rec;
            r[0] = hp[side][j].v;
            r[1] = (double)hp[side][j].gidx;
            r[2] = side;
            memcpy(r + 3, e->x + hp[side][j].row * e->m, sizeof(double) * e->m);
        }
    free(hp[0]);
    free(hp[1]);
    *nrec = n;
    return buf;
}

/* Rank 0: unpack, sort, and keep the k worst per side. */
static void scan_select(td_scan *out, double *all, int64_t n, int m, int k)
{
    int rec = 3 + m;
    td_cand *c = malloc(sizeof(td_cand) * (n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        double *r = all + i * rec;
        c[i] = (td_cand){r[0], (int64_t)r[1], (int)r[2], r + 3};
    }
    qsort(c, (size_t)n, sizeof *c, cmp_cand);
    int64_t keep = 0, per_side[2] = {0, 0};
    for (int64_t i = 0; i < n; i++)
        if (per_side[c[i].side]++ < k)
            c[keep++] = c[i];
    out->cand = c;
    out->ncand = (int)keep;
    out->coords = all;
}

int td_engine_scan(td_engine *e, int a, const double *h, double c,
                   const double *P, int np, int k, td_scan *out)
{
    *out = (td_scan){0};
    scan_scores(e, a, h, c, out->maxv);
    if (td_comm_rank() == 0)      /* base points belong to the rest */
        for (int j = 0; j < np; j++)
            out->maxv[1] = fmax(out->maxv[1], c - dot(h, P + (size_t)j * e->m, e->m));
    td_comm_max(out->maxv, 2);
    int64_t nrec = 0, bytes = 0;
    double *buf = scan_pack(e, a, k, &nrec);
    void *all = NULL;
    td_comm_gather(buf, nrec * (int64_t)sizeof(double) * (3 + e->m), &all, &bytes);
    free(buf);
    if (td_comm_rank() == 0)
        scan_select(out, all, bytes / (int64_t)sizeof(double) / (3 + e->m), e->m, k);
    return 0;
}

void td_scan_free(td_scan *s)
{
    free(s->cand);
    free(s->coords);
    *s = (td_scan){0};
}

/* ---- layer passes ------------------------------------------------------ */

/* Fold one point's constraints into (lmax, cmin); a soft layer ignores
 * points on the wrong side of its hyperplane (they cannot be honoured). */
static void lambda_point(const td_cone *cone, const double *x, int side,
                         int soft, double *work, double *lmax, double *cmin)
{
    double lb = td_cone_lambda_bound(cone, x, side, work);
    if (soft && lb == 0)
        return;
    *lmax = fmin(*lmax, lb);
    *cmin = fmin(*cmin, td_cone_cos_angle(cone, x, side));
}

void td_engine_lambda_pass(td_engine *e, const td_cone *cone, int a,
                           const double *P, int np, int soft,
                           double *lambda_max, double *cos_min)
{
    double lmax = 1.0, cmin = 1.0;
    int m = e->m;
    #pragma omp parallel reduction(min : lmax, cmin)
    {
        double *work = malloc(sizeof(double) * m);
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (e->layer[i] >= 0)
                continue;
            lambda_point(cone, e->x + i * m, e->cls[i] == a ? -1 : 1, soft,
                         work, &lmax, &cmin);
        }
        if (td_comm_rank() == 0 && omp_get_thread_num() == 0)
            for (int j = 0; j < np; j++)
                lambda_point(cone, P + (size_t)j * m, 1, soft, work, &lmax,
                             &cmin);
        free(work);
    }
    double v[2] = {lmax, cmin};
    td_comm_min(v, 2);
    *lambda_max = v[0];
    *cos_min = v[1];
}

static void count_point(int code, int expect, double margin,
                        td_apply_stats *st)
{
    if (code == expect && expect == 1) {
        st->n_kept++;
        st->margin_kept = fmin(st->margin_kept, margin);
    } else if (code == expect) {
        st->n_collapsed++;
        st->margin_collapsed = fmin(st->margin_collapsed, margin);
    } else if (code == 0) {
        st->n_mixed++;
    } else {
        st->n_wrong++;
    }
}

int td_engine_apply(td_engine *e, const td_cone *cone, int a, int l,
                    const double *P, int np, int best_effort,
                    td_apply_stats *st)
{
    int m = e->m;
    if (best_effort && e->x == e->x0) {     /* points may move: copy once */
        double *copy = malloc(sizeof(double) * (size_t)(e->n_local > 0 ? e->n_local : 1) * m);
        int bad = copy == NULL;
        td_comm_any(&bad);                  /* every rank returns, or none */
        if (bad) {
            free(copy);
            return -1;
        }
        memcpy(copy, e->x0, sizeof(double) * (size_t)e->n_local * m);
        e->x = copy;
    }
    int64_t nk = 0, nc = 0, nm = 0, nw = 0;
    double mk = INFINITY, mc = INFINITY;
    #pragma omp parallel reduction(+ : nk, nc, nm, nw) reduction(min : mk, mc)
    {
        double *work = malloc(sizeof(double) * 2 * m);
        td_apply_stats t = {0, 0, 0, 0, INFINITY, INFINITY};
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < e->n_local; i++) {
            if (e->layer[i] >= 0)
                continue;
            double *xi = e->x + i * m, margin;
            int expect = e->cls[i] == a ? -1 : 1;
            int code = td_cone_classify(cone, xi, &margin, work);
            if (code == 0 && best_effort)   /* the network moves it */
                td_cone_truncate(cone, xi, xi, work);
            count_point(code, expect, margin, &t);
            if (code == -1 && (expect == -1 || best_effort))
                e->layer[i] = l;
        }
        if (td_comm_rank() == 0 && omp_get_thread_num() == 0)
            for (int j = 0; j < np; j++) {
                double margin;
                int code = td_cone_classify(cone, P + (size_t)j * m, &margin, work);
                if (code == 1)              /* base points are not data */
                    t.margin_kept = fmin(t.margin_kept, margin);
                else
                    t.n_wrong++;
            }
        nk += t.n_kept; nc += t.n_collapsed; nm += t.n_mixed; nw += t.n_wrong;
        mk = fmin(mk, t.margin_kept);
        mc = fmin(mc, t.margin_collapsed);
        free(work);
    }
    int64_t cnt[4] = {nk, nc, nm, nw};
    double mg[2] = {mk, mc};
    td_comm_sum_i64(cnt, 4);
    td_comm_min(mg, 2);
    *st = (td_apply_stats){cnt[0], cnt[1], cnt[2], cnt[3], mg[0], mg[1]};
    return 0;
}

void td_engine_undo(td_engine *e, int l)
{
    #pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < e->n_local; i++)
        if (e->layer[i] == l)
            e->layer[i] = -1;
}

/* ---- within-class scatter (Fisher warm start) --------------------------- */

static double centred_absmax(const td_engine *e, const double *means)
{
    double amax = 0;
    int m = e->m;
    #pragma omp parallel for reduction(max : amax) schedule(static)
    for (int64_t i = 0; i < e->n_local; i++) {
        if (e->layer[i] >= 0)
            continue;
        const double *xi = e->x + i * m, *mu = means + (size_t)e->cls[i] * m;
        for (int k = 0; k < m; k++)
            amax = fmax(amax, fabs(xi[k] - mu[k]));
    }
    td_comm_max(&amax, 1);
    return amax;
}

/* Scatter of one block's active rows, centred on their class means. */
static void block_scatter(const td_engine *e, const double *means, int64_t b,
                          double *buf, double *part)
{
    int m = e->m, rows = 0;
    int64_t i1 = (b + 1) * e->block_rows;
    for (int64_t i = b * e->block_rows; i < i1 && i < e->n_local; i++) {
        if (e->layer[i] >= 0)
            continue;
        const double *xi = e->x + i * m, *mu = means + (size_t)e->cls[i] * m;
        for (int k = 0; k < m; k++)
            buf[(size_t)rows * m + k] = xi[k] - mu[k];
        rows++;
    }
    memset(part, 0, sizeof(double) * m * m);
    if (rows)
        cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, m, rows, 1.0,
                    buf, m, 0.0, part, m);
    for (int j = 0; j < m; j++)          /* mirror the lower triangle */
        for (int i = 0; i < j; i++)
            part[(size_t)j * m + i] = part[(size_t)i * m + j];
}

int td_engine_scatter(td_engine *e, const double *means, double *S)
{
    int m = e->m;
    size_t len = (size_t)m * m;
    int64_t nb = e->nblocks;
    td_comm_sum_i64(&nb, 1);
    /* A warm start needs a good estimate, not every row: every stride-th
     * global block (about TD_SCATTER_BLOCKS of them), a choice that does
     * not depend on the partition. */
    int64_t stride = nb / TD_SCATTER_BLOCKS > 1 ? nb / TD_SCATTER_BLOCKS : 1;
    int64_t b0 = e->row0 / e->block_rows;
    double amax = centred_absmax(e, means);
    int shift = td_xsum_shift(e->block_rows * amax * amax, nb > 0 ? nb : 1);
    td_i128 *acc = calloc(len, sizeof *acc);
    int fail = acc == NULL;
    #pragma omp parallel
    {
        td_i128 *tacc = calloc(len, sizeof *tacc);
        double *part = malloc(sizeof(double) * len);
        double *buf = malloc(sizeof(double) * (size_t)e->block_rows * m);
        int ok = tacc && part && buf;
        if (!ok) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int64_t b = 0; b < e->nblocks; b++)
            if (ok && (b0 + b) % stride == 0) {
                block_scatter(e, means, b, buf, part);
                td_xsum_add(tacc, part, len, shift);
            }
        #pragma omp critical
        if (ok && acc)
            for (size_t j = 0; j < len; j++)
                acc[j] += tacc[j];
        free(tacc); free(part); free(buf);
    }
    td_comm_any(&fail);
    if (fail) {
        free(acc);
        return -1;
    }
    td_comm_sum_i128(acc, (int)len);
    td_xsum_get(acc, len, shift, S);
    free(acc);
    return 0;
}
