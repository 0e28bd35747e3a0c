/* td_comm.h - every MPI call of the engine goes through here.
 *
 * Reductions are either exact (MIN/MAX, integer sums, and the fixed-point
 * sums of td_xsum) or gathered to rank 0 and combined there in a fixed
 * order, so no result depends on the number of ranks. */
#ifndef TD_COMM_H
#define TD_COMM_H

#include <stddef.h>
#include <stdint.h>
#include <mpi.h>
#include "td_err.h"
#include "td_progress.h"
#include "td_topk.h"

int td_comm_init(int *argc, char ***argv);
void td_comm_finalize(void);
int td_comm_rank(void);
int td_comm_size(void);
MPI_Comm td_comm_world(void);   /* for parallel HDF5 */
/* How many ranks share this rank's node (its memory).  Collective the
 * first time (every rank must call it then); cached after. */
int td_comm_node_ranks(void);
double td_comm_wtime(void);

/* printf on rank 0 only (stdout, flushed): progress and reports, at
 * level TD_NORMAL (td_progress.h: --quiet hides them, a progress bar
 * stays below them). */
void td_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same at another level: TD_VERBOSE for detail that is otherwise
 * summarised, TD_QUIET for what --quiet still shows. */
void td_say_at(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* All ranks agree on the worst status: every rank gets the highest code and
 * the message of the lowest rank that has it.  Returns the agreed code. */
int td_comm_agree(td_err *err);
/* The same, and rank 0 prints the agreed error as the one line
 * "trunc-dist: error: MSG" on stderr. */
int td_comm_agree_print(td_err *err);

/* Wait until every rank has arrived, calling beat(ctx) (may be NULL)
 * about every millisecond meanwhile: rank 0 keeps reporting while other
 * ranks finish long local work. */
void td_comm_wait_all(void (*beat)(void *), void *ctx);

/* Broadcast from rank 0, or from root. */
void td_comm_bcast(void *buf, size_t bytes);
void td_comm_bcast_from(int root, void *buf, size_t bytes);
/* Broadcast a malloc'd string (NULL allowed) from rank 0; others get a
 * malloc'd copy.  -1 on every rank (others get NULL) if any rank ran out
 * of memory. */
int td_comm_bcast_string(char **s);

/* Element-wise all-reduce in place. */
void td_comm_min(double *v, int n);
void td_comm_max(double *v, int n);
void td_comm_sum_i64(int64_t *v, int n);
void td_comm_min_i64(int64_t *v, int n);
/* Sum of arrays in which every entry is non-zero on at most one rank (a
 * distributed result being assembled): exact in any order. */
void td_comm_sum_disjoint(double *v, int n);
/* Logical OR of a flag over all ranks (0/1). */
void td_comm_any(int *flag);

/* Exact all-reduced sum of per-block partials: `partials` holds nblocks
 * local rows of `len` doubles; out (len) gets the sum over all blocks of
 * all ranks, independent of how blocks are spread over ranks.  -1 on
 * every rank if any rank ran out of memory. */
int td_comm_sum_blocks(const double *partials, int64_t nblocks, int len,
                       double *out);

/* Exact all-reduced sum of 128-bit fixed-point accumulators (td_xsum). */
void td_comm_sum_i128(void *acc, int n);

/* Gather variable-length byte arrays to rank 0 in rank order.  On rank 0
 * *recv is malloc'd and *total (bytes) set; elsewhere NULL / 0.  -1 on
 * every rank if rank 0 ran out of memory. */
int td_comm_gather(const void *send, int64_t bytes, void **recv,
                   int64_t *total);

/* Reduce nlists finished top-k lists (k items each, td_topk.h) to rank 0:
 * rank 0's lists become the global k worst of each list.  -1 on every
 * rank if any rank ran out of memory. */
int td_comm_topk_reduce(td_topk_item *lists, int nlists, int k);

/* Personalised exchange: counts[r] doubles of send (packed in rank order)
 * go to rank r; *recv (malloc'd) gets rcounts[r] doubles from each rank r,
 * in rank order.  -1 on every rank if any rank ran out of memory. */
int td_comm_alltoall_doubles(const double *send, const int *counts,
                             double **recv, int *rcounts);

/* The same for fixed-size records of rec_bytes bytes (plain structs; all
 * ranks share one architecture): counts and rcounts are in records. */
int td_comm_alltoall_records(const void *send, size_t rec_bytes,
                             const int *counts, void **recv, int *rcounts);

#endif
