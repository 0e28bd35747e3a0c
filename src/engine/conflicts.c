/* conflicts.c - identical points with different labels (td_conflicts.h).
 *
 * 1. Every rank hashes its active rows and sorts (hash, class, row)
 *    records by hash; exact copies of a point with the same class on one
 *    rank are dropped, since only the lowest row of each can be named.
 *    That keeps a point copied a million times down to one record per
 *    rank and class, so no owner ever has to look at every copy.
 * 2. One all-to-all sends each record to the owner of its hash (a range
 *    split of the 64-bit hash, so sorted records are already grouped by
 *    owner).  Owners sort what they get: a run of equal hashes holding two
 *    classes is a candidate.
 * 3. Only when some rank has a candidate: owners fetch the candidates'
 *    coordinates from the ranks holding them, split each run into exactly
 *    equal points (a collision gives two), and the count and the smallest
 *    pair are reduced.
 * The hash (four independent lanes) and both sorts (radix) are linear in
 * the rows: at 1e6 x 64 a one-lane hash and qsort cost as much as loading
 * the data.  The answer depends only on the data: which records reach an
 * owner, and what it concludes, do not depend on the rank count. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "td_comm.h"
#include "td_conflicts.h"
#include "td_shard.h"

typedef struct {
    uint64_t key;   /* hash of the point */
    int64_t cls;    /* class index */
    int64_t row;    /* global row */
} rec;

typedef struct {
    int64_t a, b, ca, cb;   /* smallest pair so far: rows and classes */
} pair;

static int g_key_bits = 64;

void td_conflicts_test_key_bits(int bits)
{
    g_key_bits = bits < 0 ? 0 : bits > 64 ? 64 : bits;
}

/* One coordinate into a hash lane.  v + 0.0 turns -0 into +0 (and
 * changes nothing else): the two are the same coordinate. */
static inline uint64_t lane(uint64_t h, double v)
{
    uint64_t b;
    v = v + 0.0;
    memcpy(&b, &v, sizeof b);
    h = (h ^ b) * 0x9fb21c651e98df25u;
    return h ^ (h >> 29);
}

/* Hash of a point's m coordinates: four independent lanes (coordinate k
 * feeds lane k mod 4) keep the multiplier busy, then a splitmix64
 * finaliser spreads every bit over the high bits that pick the owner. */
static uint64_t point_key(const double *x, int m)
{
    uint64_t h[4] = {0x9e3779b97f4a7c15u, 0xbf58476d1ce4e5b9u,
                     0x94d049bb133111ebu, 0xd6e8feb86659fd93u};
    int k = 0;
    for (; k + 4 <= m; k += 4)
        for (int l = 0; l < 4; l++)
            h[l] = lane(h[l], x[k + l]);
    for (; k < m; k++)
        h[k & 3] = lane(h[k & 3], x[k]);
    uint64_t z = h[0] ^ (h[1] << 16 | h[1] >> 48) ^ (h[2] << 32 | h[2] >> 32)
                 ^ (h[3] << 48 | h[3] >> 16) ^ (uint64_t)m;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    if (g_key_bits >= 64)
        return z;
    return g_key_bits == 0 ? 0 : z >> (64 - g_key_bits) << (64 - g_key_bits);
}

/* Owner of a hash: its high bits scaled to the rank count, so owners
 * grow with the hash and sorted records are packed by owner. */
static int key_owner(uint64_t key, int np)
{
    return (int)(((unsigned __int128)key * (unsigned)np) >> 64);
}

/* Stable LSD radix sort of n records by hash, 16 bits a pass (a pass in
 * which every record has the same digit is skipped).  Equal hashes keep
 * their order: rows ascending at the sender, so the first record of a
 * point and class is its lowest row.  tmp: n records.  -1 if out of
 * memory (r unsorted). */
static int sort_by_key(rec *r, rec *tmp, int64_t n)
{
    enum { BITS = 16, NB = 1 << BITS };
    int64_t *cnt = malloc(sizeof(int64_t) * NB);
    if (!cnt)
        return -1;
    rec *src = r, *dst = tmp;
    for (int sh = 0; sh < 64 && n > 0; sh += BITS) {
        memset(cnt, 0, sizeof(int64_t) * NB);
        for (int64_t i = 0; i < n; i++)
            cnt[src[i].key >> sh & (NB - 1)]++;
        if (cnt[src[0].key >> sh & (NB - 1)] == n)
            continue;
        for (int64_t d = 0, at = 0, c; d < NB; d++)
            c = cnt[d], cnt[d] = at, at += c;
        for (int64_t i = 0; i < n; i++)
            dst[cnt[src[i].key >> sh & (NB - 1)]++] = src[i];
        rec *t = src;
        src = dst;
        dst = t;
    }
    if (src != r)
        memcpy(r, src, sizeof(rec) * (size_t)n);
    free(cnt);
    return 0;
}

/* Exact equality of values (== : -0 equals +0). */
static int same_values(const double *x, const double *y, int m)
{
    for (int k = 0; k < m; k++)
        if (x[k] != y[k])
            return 0;
    return 1;
}

static int same_local_rows(const td_engine *e, int64_t ga, int64_t gb,
                           double *ba, double *bb)
{
    return same_values(td_engine_row(e, ga - e->row0, ba),
                       td_engine_row(e, gb - e->row0, bb), e->m);
}

/* Records of the active rows, hashed by OpenMP threads; *n gets the
 * count.  -1 if memory ran out. */
static int hash_rows(const td_engine *e, rec **out, int64_t *n)
{
    int m = e->m, fail = 0;
    rec *r = malloc(sizeof *r * (size_t)(e->n_local ? e->n_local : 1));
    *out = r;
    if (!r)
        return -1;
    #pragma omp parallel
    {
        double *buf = malloc(sizeof(double) * (size_t)m);
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        int64_t i0 = e->n_local * id / nt, i1 = e->n_local * (id + 1) / nt;
        for (int64_t i = i0; buf && i < i1; i++)   /* row -1: collapsed */
            r[i] = e->layer[i] >= 0 ? (rec){0, -1, -1}
                 : (rec){point_key(td_engine_row(e, i, buf), m), e->cls[i],
                         e->row0 + i};
        if (!buf) {
            #pragma omp atomic write
            fail = 1;
        }
        free(buf);
    }
    if (fail)
        return -1;
    int64_t k = 0;            /* collapsed rows are no longer data */
    for (int64_t i = 0; i < e->n_local; i++)
        if (r[i].row >= 0)
            r[k++] = r[i];
    *n = k;
    return 0;
}

/* In records sorted by hash (rows ascending within a hash), keep the
 * lowest row of each point and class: a run of equal hashes is nearly
 * always copies of one point, each compared with the run's records kept
 * so far. */
static int64_t drop_local_copies(const td_engine *e, rec *r, int64_t n,
                                 double *ba, double *bb)
{
    int64_t k = 0;
    for (int64_t s = 0, t; s < n; s = t) {
        for (t = s + 1; t < n && r[t].key == r[s].key;)
            t++;
        int64_t first = k;    /* records of this run kept: r[first, k) */
        for (int64_t j = s; j < t; j++) {
            int64_t u = first;
            while (u < k && (r[u].cls != r[j].cls ||
                             !same_local_rows(e, r[u].row, r[j].row, ba, bb)))
                u++;
            if (u == k)
                r[k++] = r[j];
        }
    }
    return k;
}

/* Stage 1: this rank's records, sorted (so packed by owner) and without
 * local copies; cnt (np) records go to each owner. */
static int local_records(const td_engine *e, rec **r, int64_t *n, int *cnt)
{
    int np = td_comm_size();
    double *buf = malloc(sizeof(double) * 2 * (size_t)e->m);
    rec *tmp = NULL;
    int bad = hash_rows(e, r, n) || !buf;
    bad = bad || !(tmp = malloc(sizeof(rec) * (size_t)(*n ? *n : 1))) ||
          sort_by_key(*r, tmp, *n);
    free(tmp);
    if (!bad)
        *n = drop_local_copies(e, *r, *n, buf, buf + e->m);
    free(buf);
    if (bad)
        return -1;
    memset(cnt, 0, sizeof(int) * (size_t)np);
    for (int64_t i = 0; i < *n; i++)
        cnt[key_owner((*r)[i].key, np)]++;
    return 0;
}

/* Stage 2 (owner): sort the received records by hash and keep, in c,
 * the runs of equal hashes that hold two classes.  -1 if out of memory. */
static int candidates(rec *got, int64_t n, rec **c, int64_t *nc)
{
    rec *tmp = malloc(sizeof(rec) * (size_t)(n ? n : 1));
    int bad = !tmp || sort_by_key(got, tmp, n);
    free(tmp);
    if (bad)
        return -1;
    int64_t k = 0;
    for (int pass = 0; pass < 2; pass++) {      /* count, then copy */
        k = 0;
        for (int64_t s = 0, t; s < n; s = t) {
            int two = 0;
            for (t = s + 1; t < n && got[t].key == got[s].key; t++)
                two |= got[t].cls != got[s].cls;
            if (!two)                           /* one class: fine */
                continue;
            if (pass)
                memcpy(*c + k, got + s, sizeof(rec) * (size_t)(t - s));
            k += t - s;
        }
        if (!pass && !(*c = malloc(sizeof(rec) * (size_t)(k ? k : 1))))
            return -1;
    }
    *nc = k;
    return 0;
}

/* Stage 3 helper: every rank sends the rows others ask for (req, rcnt
 * per rank) back in the order asked.  Collective. */
static int serve_rows(const td_engine *e, const int64_t *req, const int *rcnt,
                      double **back, int *bcnt)
{
    int np = td_comm_size(), m = e->m, bad = 0;
    int64_t total = 0;
    int *scnt = malloc(sizeof(int) * (size_t)np);
    for (int r = 0; scnt && r < np; r++) {
        bad |= (int64_t)rcnt[r] * m > INT32_MAX;
        scnt[r] = bad ? 0 : rcnt[r] * m;
        total += rcnt[r];
    }
    double *send = malloc(sizeof(double) * (size_t)(total ? total * m : 1));
    bad |= !scnt || !send;
    for (int64_t j = 0; !bad && j < total; j++) {
        double *dst = send + j * m;
        const double *x = td_engine_row(e, req[j] - e->row0, dst);
        if (x != dst)
            memcpy(dst, x, sizeof(double) * (size_t)m);
    }
    td_comm_any(&bad);
    int rc = bad ? -1 : td_comm_alltoall_doubles(send, scnt, back, bcnt);
    free(scnt);
    free(send);
    return rc;
}

/* Stage 3: coordinates xc (nc x m) of the candidate rows, fetched from
 * the ranks holding them.  Collective; -1 on every rank if memory ran
 * out anywhere. */
static int fetch_rows(const td_engine *e, const rec *c, int64_t nc, double *xc)
{
    int np = td_comm_size(), m = e->m, bad = 0;
    int *cnt = calloc((size_t)np * 3, sizeof(int));
    int *rcnt = cnt ? cnt + np : NULL;
    int64_t *at = calloc((size_t)np + 1, sizeof(int64_t));
    int64_t *pos = malloc(sizeof(int64_t) * (size_t)(nc ? nc : 1));
    int64_t *req = malloc(sizeof(int64_t) * (size_t)(nc ? nc : 1));
    bad = !cnt || !at || !pos || !req;
    for (int64_t j = 0; !bad && j < nc; j++)
        cnt[td_partition_rank_of(e->n_total, e->block_rows, np, c[j].row)]++;
    for (int r = 0; !bad && r < np; r++)
        at[r + 1] = at[r] + cnt[r];
    for (int64_t j = 0; !bad && j < nc; j++) {   /* packed by holder */
        int h = td_partition_rank_of(e->n_total, e->block_rows, np, c[j].row);
        pos[j] = at[h]++;
        req[pos[j]] = c[j].row;
    }
    td_comm_any(&bad);
    void *asked = NULL;
    double *back = NULL;
    int rc = bad ? -1 : td_comm_alltoall_records(req, sizeof(int64_t), cnt,
                                                  &asked, rcnt);
    if (!rc)
        rc = serve_rows(e, asked, rcnt, &back, cnt + 2 * np);
    for (int64_t j = 0; !rc && j < nc; j++)
        memcpy(xc + j * m, back + pos[j] * m, sizeof(double) * (size_t)m);
    free(cnt); free(at); free(pos); free(req); free(asked); free(back);
    return rc;
}

/* One run of equal hashes c[s, t) (nearly always one point): split it
 * into exactly equal points (grp[j]: the first record of j's point) and
 * count each point that carries two classes, keeping the smallest pair:
 * a point's lowest row, then its lowest row of another class. */
static void judge_run(const rec *c, const double *xc, int m, int64_t s,
                      int64_t t, int64_t *grp, int64_t *count, pair *best)
{
    for (int64_t j = s; j < t; j++) {
        grp[j] = j;
        for (int64_t u = s; u < j; u++)
            if (grp[u] == u && same_values(xc + u * m, xc + j * m, m)) {
                grp[j] = u;
                break;
            }
    }
    for (int64_t u = s; u < t; u++) {
        if (grp[u] != u)
            continue;
        pair p = {INT64_MAX, INT64_MAX, -1, -1};
        for (int64_t j = u; j < t; j++)
            if (grp[j] == u && c[j].row < p.a)
                p.a = c[j].row, p.ca = c[j].cls;
        for (int64_t j = u; j < t; j++)
            if (grp[j] == u && c[j].cls != p.ca && c[j].row < p.b)
                p.b = c[j].row, p.cb = c[j].cls;
        if (p.b == INT64_MAX)             /* copies of one class */
            continue;
        ++*count;
        if (p.a < best->a)
            *best = p;
    }
}

/* Stage 3, after the fetch: this owner's count and smallest pair. */
static int judge(const rec *c, int64_t nc, const double *xc, int m,
                 int64_t *count, pair *best)
{
    int64_t *grp = malloc(sizeof(int64_t) * (size_t)(nc ? nc : 1));
    if (!grp)
        return -1;
    for (int64_t s = 0, t; s < nc; s = t) {
        for (t = s + 1; t < nc && c[t].key == c[s].key;)
            t++;
        judge_run(c, xc, m, s, t, grp, count, best);
    }
    free(grp);
    return 0;
}

/* Stage 3 in full and the reductions: the global count and the smallest
 * pair (row a is unique to one point, hence to one owner). */
static int confirm(const td_engine *e, const rec *c, int64_t nc,
                   td_conflict_report *out)
{
    int m = e->m;
    double *xc = malloc(sizeof(double) * (size_t)(nc ? nc * m : 1));
    int bad = !xc;
    td_comm_any(&bad);
    if (bad || fetch_rows(e, c, nc, xc)) {
        free(xc);
        return -1;
    }
    int64_t v[2] = {0, 0}, a;         /* count, out of memory */
    pair best = {INT64_MAX, INT64_MAX, -1, -1};
    v[1] = judge(c, nc, xc, m, &v[0], &best) != 0;
    free(xc);
    td_comm_sum_i64(v, 2);
    if (v[1])
        return -1;
    a = best.a;
    td_comm_min_i64(&a, 1);
    out->n_points = v[0];
    if (v[0] == 0)
        return 0;
    int mine = best.a == a;
    int64_t w[3] = {mine ? best.b : 0, mine ? best.ca : 0, mine ? best.cb : 0};
    td_comm_sum_i64(w, 3);
    out->row_a = a;
    out->row_b = w[0];
    out->cls_a = (int)w[1];
    out->cls_b = (int)w[2];
    return 0;
}

int td_engine_conflicts(td_engine *e, td_conflict_report *out)
{
    *out = (td_conflict_report){0, -1, -1, -1, -1};
    int np = td_comm_size();
    int *cnt = malloc(sizeof(int) * 2 * (size_t)np);
    int *rcnt = cnt ? cnt + np : NULL;
    rec *r = NULL, *c = NULL;
    void *got = NULL;
    int64_t n = 0, nc = 0, v[2] = {0, 0};     /* bad, candidates */
    int bad = !cnt || local_records(e, &r, &n, cnt);
    td_comm_any(&bad);
    if (bad || td_comm_alltoall_records(r, sizeof(rec), cnt, &got, rcnt)) {
        free(cnt);
        free(r);
        return -1;
    }
    free(r);
    int64_t ngot = 0;
    for (int i = 0; i < np; i++)
        ngot += rcnt[i];
    v[0] = candidates(got, ngot, &c, &nc) != 0;
    v[1] = nc;
    free(got);
    free(cnt);
    td_comm_sum_i64(v, 2);
    int rc = v[0] ? -1 : v[1] == 0 ? 0 : confirm(e, c, nc, out);
    free(c);
    return rc;
}
