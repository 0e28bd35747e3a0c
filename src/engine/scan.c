/* scan.c - separator scans for many classes in one pass over the shard.
 *
 * Each candidate class c has a hyperplane {<h_c, x> = c_c} with class c on
 * the negative side.  One pass computes, for every active row and every
 * class, the violation (how far the row is on the wrong side), the largest
 * violation per class and side, and the k worst rows per class and side.
 * The selection is reduced in the reduction tree (td_comm_topk_reduce);
 * the coordinates of each class's candidates then go to the one rank that
 * solves that class (an all-to-all of O(Q k M) doubles in total, whatever
 * the number of ranks). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "td_comm.h"
#include "td_engine.h"
#include "td_linalg.h"
#include "td_shard.h"

/* Per-thread scratch of a scan. */
typedef struct {
    td_topk_item *heap;   /* nc x 2 heaps of k */
    int *n;               /* their sizes */
    double *mx, *buf, *s;
} scan_tls;

static int tls_init(scan_tls *t, int nc, int k, int m)
{
    t->heap = malloc(sizeof(td_topk_item) * (size_t)nc * 2 * (k ? k : 1));
    t->n = calloc((size_t)nc * 2, sizeof(int));
    t->mx = malloc(sizeof(double) * nc * 2);
    t->buf = malloc(sizeof(double) * m);
    t->s = malloc(sizeof(double) * nc);
    for (int j = 0; t->mx && j < 2 * nc; j++)
        t->mx[j] = -INFINITY;
    return t->heap && t->n && t->mx && t->buf && t->s ? 0 : -1;
}

static void tls_free(scan_tls *t)
{
    free(t->heap); free(t->n); free(t->mx); free(t->buf); free(t->s);
}

/* Scores of one row against every class: bitwise the plain dot product
 * minus the offset (td_dots_t). */
static void row_scores(const double *x, const double *HT, const double *C,
                       int m, int nc, double *s)
{
    td_dots_t(x, HT, m, nc, s);
    for (int c = 0; c < nc; c++)
        s[c] -= C[c];
}

static void scan_rows(const td_engine *e, int nc, const int *cls,
                      const double *HT, const double *C, int k, scan_tls *t,
                      int64_t i0, int64_t i1)
{
    for (int64_t i = i0; i < i1; i++) {
        if (e->layer[i] >= 0)
            continue;
        const double *x = td_engine_row(e, i, t->buf);
        row_scores(x, HT, C, e->m, nc, t->s);
        uint64_t key = 0;       /* hashed only for rows a heap may take */
        for (int c = 0, hashed = 0; c < nc; c++) {
            int side = e->cls[i] == cls[c] ? 0 : 1;
            double v = side ? -t->s[c] : t->s[c];
            int j = 2 * c + side;
            td_topk_item *heap = t->heap + (size_t)j * k;
            t->mx[j] = fmax(t->mx[j], v);
            if (!td_topk_may_enter(heap, t->n[j], k, v))
                continue;
            if (!hashed++)
                key = td_topk_key(x, e->m);
            td_topk_offer(heap, &t->n[j], k,
                          (td_topk_item){v, key, e->row0 + i, e->cls[i]});
        }
    }
}

/* Local pass: maxv (2 nc) and finished local lists (2 nc x k). */
static int scan_local(const td_engine *e, int nc, const int *cls,
                      const double *HT, const double *C, int k, double *maxv,
                      td_topk_item *lists)
{
    int fail = 0;
    td_topk_item *tmp = malloc(sizeof *tmp * (size_t)(k ? k : 1));
    for (int j = 0; j < 2 * nc; j++) {
        maxv[j] = -INFINITY;
        for (int t = 0; t < k; t++)
            lists[(size_t)j * k + t] = TD_TOPK_EMPTY;
    }
    #pragma omp parallel
    {
        scan_tls t;
        int ok = tls_init(&t, nc, k, e->m) == 0 && tmp;
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        int64_t i0 = e->n_local * id / nt, i1 = e->n_local * (id + 1) / nt;
        if (ok)
            scan_rows(e, nc, cls, HT, C, k, &t, i0, i1);
        #pragma omp critical
        {
            fail |= !ok;
            for (int j = 0; ok && j < 2 * nc; j++) {
                td_topk_item *h = t.heap + (size_t)j * k;
                td_topk_finish(h, t.n[j], k);
                td_topk_merge(h, lists + (size_t)j * k, k, tmp);
                memcpy(lists + (size_t)j * k, tmp, sizeof *tmp * (size_t)k);
                maxv[j] = fmax(maxv[j], t.mx[j]);
            }
        }
        tls_free(&t);
    }
    free(tmp);
    return fail ? -1 : 0;
}

/* Rank holding global row g: ranks own contiguous runs in rank order, so
 * a binary search over their first rows (start: nranks + 1). */
static int rank_of_row(const int64_t *start, int nranks, int64_t g)
{
    int lo = 0, hi = nranks - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (start[mid] <= g)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int64_t *rank_starts(const td_engine *e, int np)
{
    int64_t *start = malloc(sizeof(int64_t) * (np + 1)), nr;
    for (int r = 0; start && r < np; r++)
        td_partition_rows(e->n_total, e->block_rows, r, np, &start[r], &nr);
    if (start)
        start[np] = e->n_total;
    return start;
}

/* Every rank sends the rows it holds among the selected items, in item
 * order, to the owner of the item's list; each owner places what it gets
 * from rank r in the same item order.  A list's coordinates therefore
 * travel once, to the one rank that solves that class. */
static int deliver_coords(const td_engine *e, td_scan *sc, const int *owner)
{
    int m = e->m, np = td_comm_size(), me = td_comm_rank(), n = 2 * sc->nc * sc->k;
    int *cnt = calloc((size_t)2 * np, sizeof(int)), *rcnt = cnt + np;
    int64_t *at = calloc((size_t)np + 1, sizeof(int64_t));
    int64_t *start = rank_starts(e, np);
    int *src = malloc(sizeof(int) * (n ? n : 1));   /* rank holding item j */
    int bad = !cnt || !at || !start || !src;
    for (int j = 0; !bad && j < n; j++) {
        int64_t g = sc->items[j].gidx;
        src[j] = g == INT64_MAX ? -1 : rank_of_row(start, np, g);
        if (src[j] == me)
            cnt[owner[j / sc->k / 2]] += m;
    }
    for (int r = 0; !bad && r < np; r++)
        at[r + 1] = at[r] + cnt[r];
    double *send = bad ? NULL : malloc(sizeof(double) * (size_t)(at[np] ? at[np] : 1));
    bad = bad || !send;
    for (int j = 0; !bad && j < n; j++) {
        int64_t g = sc->items[j].gidx;
        if (src[j] != me)
            continue;
        double *dst = send + at[owner[j / sc->k / 2]];
        const double *x = td_engine_row(e, g - e->row0, dst);
        if (x != dst)
            memcpy(dst, x, sizeof(double) * m);
        at[owner[j / sc->k / 2]] += m;
    }
    td_comm_any(&bad);
    double *recv = NULL;
    if (bad || td_comm_alltoall_doubles(send, cnt, &recv, rcnt)) {
        free(cnt); free(at); free(send); free(start); free(src);
        return -1;
    }
    for (int r = 0, pos = 0; r < np; r++)
        for (int j = 0; j < n; j++)
            if (owner[j / sc->k / 2] == me && src[j] == r)
                memcpy(sc->coords + (size_t)j * m, recv + (size_t)(pos++) * m,
                       sizeof(double) * m);
    free(cnt); free(at); free(send); free(recv); free(start); free(src);
    return 0;
}

int td_engine_scan(td_engine *e, int nc, const int *cls, const double *H,
                   const double *C, const double *P, int np, int k,
                   const int *owner, td_scan *out)
{
    int m = e->m, root = td_comm_rank() == 0, mine = 0;
    size_t nitems = (size_t)nc * 2 * k;
    for (int c = 0; c < nc; c++)
        mine |= owner[c] == td_comm_rank();
    *out = (td_scan){.nc = nc, .k = k, .m = m};
    out->maxv = malloc(sizeof(double) * 2 * nc);
    out->items = malloc(sizeof(td_topk_item) * (nitems ? nitems : 1));
    /* sized for every list, touched for the owned ones only */
    out->coords = mine ? malloc(sizeof(double) * (nitems ? nitems : 1) * m) : NULL;
    double *HT = malloc(sizeof(double) * (size_t)nc * m);
    int bad = !out->maxv || !out->items || !HT || (mine && !out->coords);
    for (int c = 0; !bad && c < nc; c++)
        for (int d = 0; d < m; d++)
            HT[(size_t)d * nc + c] = H[(size_t)c * m + d];
    bad = bad || scan_local(e, nc, cls, HT, C, k, out->maxv, out->items);
    free(HT);
    td_comm_any(&bad);                  /* no rank reduces alone */
    if (bad)
        return -1;
    for (int c = 0; root && c < nc; c++)   /* base points belong to the rest */
        for (int j = 0; j < np; j++)
            out->maxv[2 * c + 1] = fmax(out->maxv[2 * c + 1],
                                        C[c] - td_dot(H + (size_t)c * m,
                                                      P + (size_t)j * m, m));
    td_comm_max(out->maxv, 2 * nc);
    if (td_comm_topk_reduce(out->items, 2 * nc, k))     /* -1 on every rank */
        return -1;
    td_comm_bcast(out->items, sizeof(td_topk_item) * nitems);
    return deliver_coords(e, out, owner);
}

void td_scan_free(td_scan *s)
{
    free(s->maxv);
    free(s->items);
    free(s->coords);
    *s = (td_scan){0};
}
