/* td_shard.h - how rows are split across ranks.
 *
 * Rows are grouped into fixed blocks of `block_rows` global rows; each rank
 * owns a contiguous run of whole blocks.  Every reduction sums per-block
 * partials (computed in a fixed order inside the block) exactly, so results
 * do not depend on the number of ranks or threads. */
#ifndef TD_SHARD_H
#define TD_SHARD_H

#include <stdint.h>

/* Rows [*row0, *row0 + *nrows) of n_total belong to `rank` of `nranks`. */
void td_partition_rows(int64_t n_total, int block_rows, int rank, int nranks,
                       int64_t *row0, int64_t *nrows);

/* The rank holding global row `row` (0 <= row < n_total) under that split. */
int td_partition_rank_of(int64_t n_total, int block_rows, int nranks,
                         int64_t row);

#endif
