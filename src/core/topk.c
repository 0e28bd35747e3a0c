/* topk.c - partition-independent selection of the worst k (td_topk.h). */
#include <stdlib.h>
#include <string.h>
#include "td_topk.h"

int td_topk_worse(const td_topk_item *a, const td_topk_item *b)
{
    return a->v > b->v || (a->v == b->v && a->key < b->key);
}

static int same(const td_topk_item *a, const td_topk_item *b)
{
    return a->v == b->v && a->key == b->key;
}

uint64_t td_topk_key(const double *x, int m)
{
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < m; k++) {
        uint64_t b;
        memcpy(&b, &x[k], sizeof b);
        h ^= b + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
        h *= 0xbf58476d1ce4e5b9u;
    }
    return h ^ (h >> 31);
}

static void swap(td_topk_item *a, td_topk_item *b)
{
    td_topk_item t = *a;
    *a = *b;
    *b = t;
}

static void sift_down(td_topk_item *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, s = i;
        if (l < n && td_topk_worse(&h[s], &h[l]))
            s = l;
        if (r < n && td_topk_worse(&h[s], &h[r]))
            s = r;
        if (s == i)
            return;
        swap(&h[i], &h[s]);
        i = s;
    }
}

/* A copy of a kept point: keep the lower row.  Linear, but only reached
 * by offers the heap accepts, which are few once it has filled. */
static int absorb(td_topk_item *heap, int n, const td_topk_item *it)
{
    for (int i = 0; i < n; i++)
        if (same(&heap[i], it)) {
            if (it->gidx < heap[i].gidx) {
                heap[i].gidx = it->gidx;
                heap[i].cls = it->cls;
            }
            return 1;
        }
    return 0;
}

void td_topk_offer(td_topk_item *heap, int *n, int k, td_topk_item it)
{
    if (k == 0 || (*n == k && !td_topk_worse(&it, &heap[0]) &&
                   !same(&it, &heap[0])))
        return;
    if (absorb(heap, *n, &it))
        return;
    if (*n < k) {
        int i = (*n)++;
        heap[i] = it;
        while (i > 0 && td_topk_worse(&heap[(i - 1) / 2], &heap[i])) {
            swap(&heap[i], &heap[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
        return;
    }
    heap[0] = it;
    sift_down(heap, *n, 0);
}

static int cmp_item(const void *pa, const void *pb)
{
    const td_topk_item *a = pa, *b = pb;
    return td_topk_worse(a, b) ? -1 : td_topk_worse(b, a) ? 1 : 0;
}

void td_topk_finish(td_topk_item *heap, int n, int k)
{
    qsort(heap, (size_t)n, sizeof *heap, cmp_item);
    for (int i = n; i < k; i++)
        heap[i] = TD_TOPK_EMPTY;
}

void td_topk_merge(const td_topk_item *a, const td_topk_item *b, int k,
                   td_topk_item *out)
{
    int i = 0, j = 0;
    for (int t = 0; t < k; t++) {
        if (i < k && j < k && same(&a[i], &b[j]) && a[i].gidx != INT64_MAX) {
            out[t] = a[i].gidx < b[j].gidx ? a[i] : b[j];
            i++, j++;
        } else if (i >= k || (j < k && td_topk_worse(&b[j], &a[i]))) {
            out[t] = b[j++];
        } else {
            out[t] = a[i++];
        }
    }
}

int td_topk_count(const td_topk_item *list, int k)
{
    int n = 0;
    while (n < k && list[n].gidx != INT64_MAX)
        n++;
    return n;
}
