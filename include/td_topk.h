/* td_topk.h - the k worst candidates of a scan, chosen independently of
 * how rows are spread over ranks and threads.
 *
 * Candidates are ordered totally: larger violation first, then a hash of
 * the point's coordinates.  Copies of one point (same violation, same
 * hash) count once, represented by their lowest global row, so duplicated
 * data cannot crowd distinct points out of the k.  Any partition of the
 * rows, each part keeping its own k worst and the parts merged in any
 * order, selects the same k. */
#ifndef TD_TOPK_H
#define TD_TOPK_H

#include <stdint.h>

typedef struct {
    double v;        /* violation: larger is worse */
    uint64_t key;    /* td_topk_key of the point */
    int64_t gidx;    /* lowest global row holding the point */
    int64_t cls;     /* its class index (copies share points, not labels:
                        a copy with another label makes data inseparable
                        anyway, and the certificate will show it) */
} td_topk_item;

/* Padding of a list with fewer than k entries. */
#define TD_TOPK_EMPTY ((td_topk_item){-1.0 / 0.0, UINT64_MAX, INT64_MAX, -1})

/* Hash of a point's m coordinates (their bit patterns). */
uint64_t td_topk_key(const double *x, int m);

/* 1 if a ranks before (is worse than) b; neither: the same point. */
int td_topk_worse(const td_topk_item *a, const td_topk_item *b);

/* Offer an item to a min-heap (root = mildest kept) of capacity k; a copy
 * of a point already kept only lowers its row. */
void td_topk_offer(td_topk_item *heap, int *n, int k, td_topk_item it);

/* 0 when an item of violation v cannot enter a full heap (it is milder
 * than the mildest kept), so its key need not be computed. */
static inline int td_topk_may_enter(const td_topk_item *heap, int n, int k,
                                    double v)
{
    return k > 0 && (n < k || v >= heap[0].v);
}

/* Turn a heap of n items into a list of exactly k, worst first, padded
 * with TD_TOPK_EMPTY (in place; heap has room for k). */
void td_topk_finish(td_topk_item *heap, int n, int k);

/* out (k) = the k worst of two finished lists a and b (k each); a point
 * in both appears once, with the lower row. */
void td_topk_merge(const td_topk_item *a, const td_topk_item *b, int k,
                   td_topk_item *out);

/* Number of real (non-padding) entries of a finished list. */
int td_topk_count(const td_topk_item *list, int k);

#endif
