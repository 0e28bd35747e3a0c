/* test_reduce.c - the distributed engine at a fixed rank count: exact
 * reductions equal a serial reference bit for bit, class statistics and
 * the separator agree with what a single process computes, and error
 * agreement picks the worst code.  Run by ctest at 1, 2, 3 and 4 ranks. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mpi_cunit.h"
#include "td_comm.h"
#include "td_engine.h"
#include "td_separator.h"
#include "td_shard.h"
#include "td_xsum.h"

#define NROWS 5003
#define MDIM 5
#define BLOCK 64

/* Deterministic value of (row, col), the same on every rank. */
static double value_at(int64_t row, int col)
{
    uint64_t z = (uint64_t)row * 0x9e3779b97f4a7c15ULL + (uint64_t)col * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 31)) * 0x94d049bb133111ebULL;
    z ^= z >> 29;
    return ((double)(z >> 11) / 9007199254740992.0 - 0.5) * pow(10.0, (double)(row % 7) - 3);
}

static void test_sum_blocks_matches_serial(void)
{
    int64_t row0, n;
    td_partition_rows(NROWS, BLOCK, td_comm_rank(), td_comm_size(), &row0, &n);
    int64_t nb = (n + BLOCK - 1) / BLOCK, b0 = row0 / BLOCK;
    double *part = calloc((size_t)(nb ? nb : 1), sizeof(double)), out;
    for (int64_t b = 0; b < nb; b++)
        for (int64_t r = (b0 + b) * BLOCK; r < (b0 + b + 1) * BLOCK && r < NROWS; r++)
            part[b] += value_at(r, 0);
    CU_ASSERT(td_comm_sum_blocks(part, nb, 1, &out) == 0);
    /* serial reference: the same block partials, summed in one place */
    int64_t ball = (NROWS + BLOCK - 1) / BLOCK;
    double *all = calloc((size_t)ball, sizeof(double)), amax = 0;
    for (int64_t r = 0; r < NROWS; r++)
        all[r / BLOCK] += value_at(r, 0);
    for (int64_t b = 0; b < ball; b++)
        amax = fmax(amax, fabs(all[b]));
    int shift = td_xsum_shift(amax, ball);
    td_i128 acc = 0;
    for (int64_t b = 0; b < ball; b++)
        td_xsum_add(&acc, &all[b], 1, shift);
    double ref;
    td_xsum_get(&acc, 1, shift, &ref);
    CU_ASSERT(memcmp(&ref, &out, sizeof ref) == 0);
    free(part);
    free(all);
}

/* A shard of two well separated classes (labels 5 and 9) plus a third. */
static void make_engine(td_engine *e, int64_t **labels, int *q)
{
    td_shard_data d = {0};
    d.n_total = NROWS;
    d.m = MDIM;
    td_partition_rows(NROWS, BLOCK, td_comm_rank(), td_comm_size(), &d.row0, &d.n_local);
    d.x = malloc(sizeof(double) * (d.n_local ? d.n_local : 1) * MDIM);
    d.y = malloc(sizeof(int64_t) * (d.n_local ? d.n_local : 1));
    for (int64_t i = 0; i < d.n_local; i++) {
        int64_t r = d.row0 + i;
        int cls = (int)(r % 3);
        d.y[i] = cls == 0 ? 5 : cls == 1 ? 9 : 12;
        for (int k = 0; k < MDIM; k++)
            d.x[i * MDIM + k] = value_at(r, k) / pow(10.0, (double)(r % 7) - 3)
                                + (k == cls ? 4.0 : 0.0);
    }
    td_err err;
    td_err_clear(&err);
    CU_ASSERT_FATAL(td_engine_init(e, &d, BLOCK, labels, q, &err) == 0);
    td_shard_data_free(&d);
}

static void test_class_stats_and_labels(void)
{
    td_engine e;
    int64_t *labels, counts[3];
    int q;
    double means[3 * MDIM];
    make_engine(&e, &labels, &q);
    CU_ASSERT_FATAL(q == 3);
    CU_ASSERT(labels[0] == 5 && labels[1] == 9 && labels[2] == 12);
    CU_ASSERT(td_engine_class_stats(&e, counts, means) == 0);
    CU_ASSERT(counts[0] == 1668 && counts[1] == 1668 && counts[2] == 1667);
    for (int j = 0; j < 3; j++) {
        long double s = 0;
        for (int64_t r = j; r < NROWS; r += 3)
            s += value_at(r, j) / pow(10.0, (double)(r % 7) - 3) + 4.0;
        CU_ASSERT_DOUBLE_EQUAL(means[j * MDIM + j], (double)(s / counts[j]), 1e-13);
    }
    free(labels);
    td_engine_free(&e);
}

static void test_separator_certifies(void)
{
    td_engine e;
    int64_t *labels, counts[3];
    int q;
    double means[3 * MDIM], rest[MDIM], h0[MDIM], c0 = 0, nn = 0;
    make_engine(&e, &labels, &q);
    td_engine_class_stats(&e, counts, means);
    for (int k = 0; k < MDIM; k++)
        rest[k] = 0.5 * (means[MDIM + k] + means[2 * MDIM + k]);
    for (int k = 0; k < MDIM; k++) {
        h0[k] = rest[k] - means[k];
        nn += h0[k] * h0[k];
    }
    for (int k = 0; k < MDIM; k++) {
        h0[k] /= sqrt(nn);
        c0 += h0[k] * 0.5 * (rest[k] + means[k]);
    }
    td_sep_params prm = {.working_set = 16, .max_rounds = 50, .gap = 1e-3,
                         .hull_tol = 1e-10};
    td_sep sp;
    int a = 0;
    td_sep_stats st = {0};
    CU_ASSERT_FATAL(td_separate(&e, 1, &a, h0, &c0, NULL, 0, &prm, &sp, &st) == 0);
    CU_ASSERT(st.passes == sp.passes && st.passes >= 2);
    CU_ASSERT(sp.status == 0);          /* TD_SEP_OPTIMAL */
    CU_ASSERT(sp.margin > 0.5);
    /* independent check of the certificate on this rank's rows */
    double worst = INFINITY;
    for (int64_t i = 0; i < e.n_local; i++) {
        double s = -sp.c;
        for (int k = 0; k < MDIM; k++)
            s += sp.h[k] * e.x0[i * MDIM + k];
        worst = fmin(worst, e.cls[i] == 0 ? -s : s);
    }
    td_comm_min(&worst, 1);
    CU_ASSERT(worst >= sp.margin * (1 - 1e-12));
    CU_ASSERT(worst <= sp.margin * (1 + 1e-9));
    td_sep_free(&sp);
    free(labels);
    td_engine_free(&e);
}

/* Row r of the synthetic data, as make_engine builds it. */
static void row_at(int64_t r, double *x)
{
    int cls = (int)(r % 3);
    for (int k = 0; k < MDIM; k++)
        x[k] = value_at(r, k) / pow(10.0, (double)(r % 7) - 3) + (k == cls ? 4.0 : 0.0);
}

/* The k worst rows per class and side, selected through the reduction
 * tree, equal a serial selection over all rows, coordinates included. */
static void test_scan_topk_matches_serial(void)
{
    td_engine e;
    int64_t *labels;
    int q, cls[3] = {0, 1, 2}, k = 7;
    double H[3 * MDIM], C[3] = {0.3, -0.2, 0.1}, x[MDIM];
    make_engine(&e, &labels, &q);
    for (int j = 0; j < 3 * MDIM; j++)
        H[j] = value_at(j, 1);
    td_scan sc;
    /* class c's coordinates go to its owner, the last rank for class 1 */
    int owner[3] = {0, td_comm_size() - 1, 0};
    CU_ASSERT_FATAL(td_engine_scan(&e, 3, cls, H, C, NULL, 0, k, owner, &sc) == 0);
    for (int c = 0; c < 3; c++) {
        if (owner[c] != td_comm_rank())
            continue;
        for (int side = 0; side < 2; side++) {
            td_topk_item heap[7];
            int n = 0;
            double mx = -INFINITY;
            for (int64_t r = 0; r < NROWS; r++) {
                if ((r % 3 == c) != (side == 0))
                    continue;
                row_at(r, x);
                double s = 0;
                for (int d = 0; d < MDIM; d++)
                    s += H[c * MDIM + d] * x[d];
                s -= C[c];
                double v = side ? -s : s;
                mx = fmax(mx, v);
                td_topk_offer(heap, &n, k,
                              (td_topk_item){v, td_topk_key(x, MDIM), r, r % 3});
            }
            td_topk_finish(heap, n, k);
            int j = 2 * c + side;
            CU_ASSERT(sc.maxv[j] == mx);
            for (int t = 0; t < k; t++) {
                const td_topk_item *it = &sc.items[(size_t)j * k + t];
                CU_ASSERT(it->gidx == heap[t].gidx && it->v == heap[t].v &&
                          it->cls == heap[t].cls);
                row_at(heap[t].gidx, x);
                CU_ASSERT(memcmp(x, sc.coords + ((size_t)j * k + t) * MDIM,
                                 sizeof x) == 0);
            }
        }
    }
    td_scan_free(&sc);
    free(labels);
    td_engine_free(&e);
}

static void test_agree_takes_worst(void)
{
    td_err err;
    td_err_clear(&err);
    int last = td_comm_size() - 1;
    if (td_comm_rank() == last)
        td_err_set(&err, TD_ERR_INSEPARABLE, "from rank %d", last);
    else if (td_comm_rank() == 0)
        td_err_set(&err, TD_ERR_INPUT, "from rank 0");
    CU_ASSERT(td_comm_agree(&err) == TD_ERR_INSEPARABLE);
    char want[64];
    snprintf(want, sizeof want, "from rank %d", last);
    CU_ASSERT(strcmp(err.msg, want) == 0);
}

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("reduce", NULL, NULL);
    CU_add_test(s, "exact block sums equal serial", test_sum_blocks_matches_serial);
    CU_add_test(s, "labels and class statistics", test_class_stats_and_labels);
    CU_add_test(s, "separator certifies its margin", test_separator_certifies);
    CU_add_test(s, "scan top-k equals a serial selection", test_scan_topk_matches_serial);
    CU_add_test(s, "agree takes the worst status", test_agree_takes_worst);
    return td_mpi_cunit_run();
}
