/* scan.c - separator scans: violations and the worst rows of each side. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_engine.h"

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}


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
        double s = dot(h, td_engine_row(e, i, td_engine_scratch(e)), e->m) - c;
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
            memcpy(r + 3, td_engine_row(e, hp[side][j].row, td_engine_scratch(e)), sizeof(double) * e->m);
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

