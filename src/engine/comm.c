/* comm.c - the MPI wrapper (see td_comm.h).  No other engine file calls
 * MPI, which keeps the communication pattern reviewable in one place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "td_comm.h"
#include "td_topk.h"
#include "td_xsum.h"

static int g_rank, g_size;
static int g_topk_k;         /* list length of the running top-k reduce */
static MPI_Datatype g_i128;
static MPI_Op g_i128_sum;

/* Integer addition is associative, so this op is exact in any tree. */
static void i128_sum(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    td_i128 a, b;
    for (int i = 0; i < *len; i++) {
        memcpy(&a, (char *)in + 16 * (size_t)i, 16);
        memcpy(&b, (char *)inout + 16 * (size_t)i, 16);
        b += a;
        memcpy((char *)inout + 16 * (size_t)i, &b, 16);
    }
}

/* Elementwise merge of finished top-k lists: the selection is a total
 * order, so the result is the same for any reduction tree. */
static td_topk_item *g_topk_tmp;   /* its scratch, allocated before */

static void topk_merge_op(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    int k = g_topk_k;
    td_topk_item *tmp = g_topk_tmp;
    for (int i = 0; i < *len; i++) {
        td_topk_item *a = (td_topk_item *)in + (size_t)i * k;
        td_topk_item *b = (td_topk_item *)inout + (size_t)i * k;
        td_topk_merge(a, b, k, tmp);
        memcpy(b, tmp, sizeof *tmp * (size_t)k);
    }
}

int td_comm_init(int *argc, char ***argv)
{
    int provided;
    /* OpenMP threads never call MPI: only the master thread does. */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided))
        return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Type_contiguous(16, MPI_BYTE, &g_i128);
    MPI_Type_commit(&g_i128);
    MPI_Op_create(i128_sum, 1, &g_i128_sum);
    return 0;
}

void td_comm_finalize(void)
{
    MPI_Op_free(&g_i128_sum);
    MPI_Type_free(&g_i128);
    MPI_Finalize();
}

int td_comm_node_ranks(void)
{
    static int n;
    if (n == 0) {               /* the ranks sharing this node's memory */
        MPI_Comm node;
        if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank,
                                MPI_INFO_NULL, &node) == MPI_SUCCESS) {
            MPI_Comm_size(node, &n);
            MPI_Comm_free(&node);
        } else {
            n = 1;
        }
    }
    return n;
}

int td_comm_rank(void) { return g_rank; }
int td_comm_size(void) { return g_size; }
MPI_Comm td_comm_world(void) { return MPI_COMM_WORLD; }
double td_comm_wtime(void) { return MPI_Wtime(); }

void td_say(const char *fmt, ...)
{
    if (g_rank != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    td_report_vprintf(TD_NORMAL, fmt, ap);
    va_end(ap);
}

void td_say_at(int level, const char *fmt, ...)
{
    if (g_rank != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    td_report_vprintf(level, fmt, ap);
    va_end(ap);
}

int td_comm_agree_print(td_err *err)
{
    int rc = td_comm_agree(err);
    if (rc && g_rank == 0) {
        fprintf(stderr, "trunc-dist: error: %s\n", err->msg);
        fflush(stderr);
    }
    return rc;
}

int td_comm_agree(td_err *err)
{
    int code = err->code, worst;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (worst == TD_OK)
        return TD_OK;
    int mine = code == worst ? g_rank : g_size, who;
    MPI_Allreduce(&mine, &who, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Bcast(err->msg, TD_ERR_MSG_LEN, MPI_CHAR, who, MPI_COMM_WORLD);
    err->code = worst;
    return worst;
}

void td_comm_bcast_from(int root, void *buf, size_t bytes)
{
    /* chunks keep each count inside int range */
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < bytes; off += chunk) {
        size_t n = bytes - off < chunk ? bytes - off : chunk;
        MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, MPI_COMM_WORLD);
    }
}

void td_comm_bcast(void *buf, size_t bytes)
{
    td_comm_bcast_from(0, buf, bytes);
}

int td_comm_bcast_string(char **s)
{
    int64_t len = g_rank == 0 && *s ? (int64_t)strlen(*s) + 1 : 0;
    MPI_Bcast(&len, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    int bad = 0;
    if (g_rank != 0) {
        *s = NULL;
        bad = len > 0 && !(*s = malloc((size_t)len));
    }
    td_comm_any(&bad);          /* every rank receives, or none */
    if (bad) {
        if (g_rank != 0) {
            free(*s);
            *s = NULL;
        }
        return -1;
    }
    if (len)
        td_comm_bcast(*s, (size_t)len);
    return 0;
}

void td_comm_min(double *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
}

void td_comm_max(double *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}

void td_comm_sum_i64(int64_t *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
}

void td_comm_min_i64(int64_t *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
}

void td_comm_sum_i128(void *acc, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, acc, n, g_i128, g_i128_sum, MPI_COMM_WORLD);
}

void td_comm_sum_disjoint(double *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void td_comm_any(int *flag)
{
    MPI_Allreduce(MPI_IN_PLACE, flag, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
}

int td_comm_sum_blocks(const double *partials, int64_t nblocks, int len,
                       double *out)
{
    /* Pass 1: a global bound and block count fix the common scale. */
    td_i128 *acc = calloc((size_t)(len > 0 ? len : 1), sizeof *acc);
    int bad = !acc;
    td_comm_any(&bad);          /* every rank reduces, or none */
    if (bad) {
        free(acc);
        return -1;
    }
    double amax = 0;
    for (int64_t i = 0; i < nblocks * len; i++) {
        double a = partials[i] < 0 ? -partials[i] : partials[i];
        amax = a > amax ? a : amax;      /* NaN never wins */
    }
    int64_t nb = nblocks;
    td_comm_max(&amax, 1);
    td_comm_sum_i64(&nb, 1);
    int shift = td_xsum_shift(amax, nb > 0 ? nb : 1);
    /* Pass 2: exact integer sums, combined by the exact MPI op. */
    for (int64_t b = 0; b < nblocks; b++)
        td_xsum_add(acc, partials + b * len, (size_t)len, shift);
    MPI_Allreduce(MPI_IN_PLACE, acc, len, g_i128, g_i128_sum, MPI_COMM_WORLD);
    td_xsum_get(acc, (size_t)len, shift, out);
    free(acc);
    return 0;
}

int td_comm_gather(const void *send, int64_t bytes, void **recv,
                   int64_t *total)
{
    int n = (int)bytes, *counts = NULL, *displs = NULL, bad = 0;
    *recv = NULL;
    *total = 0;
    if (g_rank == 0) {
        counts = malloc(sizeof(int) * g_size);
        displs = malloc(sizeof(int) * g_size);
        bad = !counts || !displs;
    }
    td_comm_any(&bad);          /* rank 0's buffers first: all gather, or none */
    if (bad) {
        free(counts);
        free(displs);
        return -1;
    }
    MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (g_rank == 0) {
        int64_t t = 0;
        for (int r = 0; r < g_size; r++) {
            displs[r] = (int)t;
            t += counts[r];
        }
        *total = t;
        bad = !(*recv = malloc(t > 0 ? (size_t)t : 1));
    }
    td_comm_any(&bad);          /* and its receive buffer */
    if (!bad)
        MPI_Gatherv(send, n, MPI_BYTE, *recv, counts, displs, MPI_BYTE, 0,
                    MPI_COMM_WORLD);
    free(counts);
    free(displs);
    if (bad) {
        free(*recv);
        *recv = NULL;
        *total = 0;
    }
    return bad ? -1 : 0;
}

int td_comm_topk_reduce(td_topk_item *lists, int nlists, int k)
{
    /* the merge op cannot fail inside the reduction: its scratch first,
     * and every rank reduces, or none */
    td_topk_item *tmp = malloc(sizeof *tmp * (size_t)(k > 0 ? k : 1));
    int bad = !tmp;
    td_comm_any(&bad);
    if (bad) {
        free(tmp);
        return -1;
    }
    g_topk_tmp = tmp;
    MPI_Datatype list;
    MPI_Op op;
    MPI_Type_contiguous((int)(sizeof(td_topk_item) * k), MPI_BYTE, &list);
    MPI_Type_commit(&list);
    MPI_Op_create(topk_merge_op, 1, &op);
    g_topk_k = k;
    MPI_Reduce(g_rank == 0 ? MPI_IN_PLACE : lists, lists, nlists, list, op, 0,
               MPI_COMM_WORLD);
    MPI_Op_free(&op);
    MPI_Type_free(&list);
    g_topk_tmp = NULL;
    free(tmp);
    return 0;
}

int td_comm_alltoall_doubles(const double *send, const int *counts,
                             double **recv, int *rcounts)
{
    return td_comm_alltoall_records(send, sizeof(double), counts,
                                    (void **)recv, rcounts);
}

int td_comm_alltoall_records(const void *send, size_t rec_bytes,
                             const int *counts, void **recv, int *rcounts)
{
    /* One derived type per record keeps the counts in records, so a
     * rank may send up to INT32_MAX records, not bytes. */
    MPI_Datatype rec;
    MPI_Type_contiguous((int)rec_bytes, MPI_BYTE, &rec);
    MPI_Type_commit(&rec);
    int *sd = malloc(sizeof(int) * 2 * g_size), *rd = sd + g_size, bad = !sd;
    *recv = NULL;
    MPI_Alltoall(counts, 1, MPI_INT, rcounts, 1, MPI_INT, MPI_COMM_WORLD);
    int64_t st = 0, rt = 0;
    for (int r = 0; !bad && r < g_size; r++) {
        sd[r] = (int)st;
        rd[r] = (int)rt;
        st += counts[r];
        rt += rcounts[r];
    }
    bad = bad || st > INT32_MAX || rt > INT32_MAX ||
          !(*recv = malloc(rec_bytes * (size_t)(rt ? rt : 1)));
    int any = bad;           /* every rank must enter the exchange, or none */
    MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (!any)
        MPI_Alltoallv(send, counts, sd, rec, *recv, rcounts, rd, rec,
                      MPI_COMM_WORLD);
    free(sd);
    MPI_Type_free(&rec);
    if (any) {
        free(*recv);
        *recv = NULL;
    }
    return any ? -1 : 0;
}

void td_comm_wait_all(void (*beat)(void *), void *ctx)
{
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    for (;;) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        if (beat)
            beat(ctx);
        usleep(1000);        /* waiting, not working: leave the core */
    }
}
