/* td_topk.h - the k worst candidates of a scan, chosen independently of
 * how rows are spread over ranks and threads.
 *
 * Candidates are ordered totally: larger violation first, then the lower
 * global row.  Any partition of the rows, each part keeping its own k
 * worst and the parts merged in any order, selects the same k. */
#ifndef TD_TOPK_H
#define TD_TOPK_H

#include <stdint.h>

typedef struct {
    double v;        /* violation: larger is worse */
    int64_t gidx;    /* global row, or -(j+1) for base point j */
} td_topk_item;

/* Padding of a list with fewer than k entries. */
#define TD_TOPK_EMPTY ((td_topk_item){-1.0 / 0.0, INT64_MAX})

/* 1 if a ranks before (is worse than) b. */
int td_topk_worse(const td_topk_item *a, const td_topk_item *b);

/* Offer an item to a min-heap (root = mildest kept) of capacity k. */
void td_topk_offer(td_topk_item *heap, int *n, int k, td_topk_item it);

/* Turn a heap of n items into a list of exactly k, worst first, padded
 * with TD_TOPK_EMPTY (in place; heap has room for k). */
void td_topk_finish(td_topk_item *heap, int n, int k);

/* out (k) = the k worst of two finished lists a and b (k each). */
void td_topk_merge(const td_topk_item *a, const td_topk_item *b, int k,
                   td_topk_item *out);

/* Number of real (non-padding) entries of a finished list. */
int td_topk_count(const td_topk_item *list, int k);

#endif
