/* td_memory.h - what a run needs in memory per rank, estimated before it
 * starts (trunc-dist --dry-run): the README's model ("Determinism and
 * scale", Memory) as arithmetic, no MPI.
 *
 * The shard is exact; the working arrays are upper bounds of the buffers
 * the engine allocates (working sets at their cap, reset layers not
 * counted: their number is known only after the search); the runtime is
 * the measured size of MPI, HDF5 and OpenBLAS at start (about 29 MiB per
 * rank). */
#ifndef TD_MEMORY_H
#define TD_MEMORY_H

#include <stdint.h>

#define TD_MEM_RUNTIME (29.0 * 1024 * 1024)

typedef struct {
    int64_t n_rows;       /* rows on the rank with most of them */
    int64_t n_total;      /* N (a working set holds no more points) */
    int m, q;             /* features M, classes Q */
    int value_bytes;      /* 4: float32 X stays float32; 8: float64 */
    int nranks, threads;  /* P, OpenMP threads per rank T */
    int block_rows;       /* parallel.block_rows */
    int working_set;      /* separator.working_set (k) */
    int width;            /* cone width: M (Theorem 6), M + Q (lifted) */
    int fisher;           /* separator.fisher_warm_start */
    int best_effort;      /* on_inseparable = "best_effort": a widened copy */
    int dense_network;    /* Theorem 6 at width M, verified dense: the whole
                             network on every rank */
    int clustered;        /* the clustered construction (width Q after a
                             Q x M first layer): no separators, the rows
                             projected to R^Q */
} td_mem_in;

/* Bytes; peak = runtime + shard + best_effort + max(duplicates, search,
 * verify). */
typedef struct {
    double shard;         /* the points (s M), class and layer index (8) */
    double duplicates;    /* the check after loading: 48 per row, freed */
    double best_effort;   /* 8 M per row once a soft layer moves points */
    double stats;         /* class counts and means, per-thread partials */
    double scatter;       /* the Fisher scatter (0 without the warm start) */
    double working_sets;  /* this rank's classes' sets, a centred copy per
                             solving thread, candidate lists */
    double lifted;        /* lifted: eigenvectors and cut candidates */
    double projection;    /* clustered: the rows in R^Q, class and layer
                             index (8 Q + 8 per row) */
    double network;       /* the dense network (or none) */
    double verify;        /* per-thread buffers of the forward pass */
    double runtime;       /* TD_MEM_RUNTIME */
    double peak;
} td_mem_est;

void td_memory_estimate(const td_mem_in *in, td_mem_est *out);

#endif
