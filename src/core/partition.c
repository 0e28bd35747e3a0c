/* partition.c - block-aligned row split (see td_shard.h). */
#include "td_shard.h"

void td_partition_rows(int64_t n_total, int block_rows, int rank, int nranks,
                       int64_t *row0, int64_t *nrows)
{
    /* Whole blocks per rank keep every block's partial sum on one rank, which
     * is what makes reductions independent of the rank count. */
    int64_t nblocks = (n_total + block_rows - 1) / block_rows;
    int64_t b0 = nblocks * rank / nranks;
    int64_t b1 = nblocks * (rank + 1) / nranks;
    int64_t r0 = b0 * block_rows;
    int64_t r1 = b1 * block_rows;
    if (r1 > n_total)
        r1 = n_total;
    if (r0 > n_total)
        r0 = n_total;
    *row0 = r0;
    *nrows = r1 - r0;
}

int td_partition_rank_of(int64_t n_total, int block_rows, int nranks,
                         int64_t row)
{
    /* Rank r starts at block floor(nb r / P); the holder of block b is the
     * last rank starting at or before b (empty ranks start there too):
     * the largest r with nb r < (b + 1) P. */
    int64_t nblocks = (n_total + block_rows - 1) / block_rows;
    int64_t b = row / block_rows;
    int64_t r = ((b + 1) * nranks - 1) / nblocks;
    return (int)(r < nranks - 1 ? r : nranks - 1);
}
