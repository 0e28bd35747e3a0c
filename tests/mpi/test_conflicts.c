/* test_conflicts.c - identical points with different labels, found on
 * synthetic shards spread over the ranks in small blocks: none in distinct
 * data; none for copies with the same label; one across ranks; several,
 * counted once per point with the same smallest pair at any rank count;
 * -0 equals +0 while one ulp apart does not; collapsed rows do not count;
 * float32 storage gives the answer of the same values as double; and
 * forced hash collisions (td_conflicts_test_key_bits) change nothing.
 * Run by ctest at 1, 2, 3 and 4 ranks. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mpi_cunit.h"
#include "td_comm.h"
#include "td_conflicts.h"
#include "td_shard.h"

#define NROWS 601          /* 38 blocks of 16: every rank owns several */
#define MDIM 4
#define BLOCK 16

/* A data set, the same on every rank: row r takes the values of row
 * src[r] and label lab[r]; zero[r] (if set) negates a zero coordinate and
 * ulp[r] nudges the last one, after the copy. */
typedef struct {
    int64_t src[NROWS], lab[NROWS];
    int zero[NROWS], ulp[NROWS];
} dataset;

static double value_at(int64_t row, int col)
{
    uint64_t z = (uint64_t)row * 0x9e3779b97f4a7c15ULL + (uint64_t)col * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 31)) * 0x94d049bb133111ebULL;
    z ^= z >> 29;
    double v = (double)(z >> 11) / 9007199254740992.0 - 0.5;
    return col == 1 ? 0.0 : (double)(float)v;   /* float32-exact; a zero
                                                    column for the -0 case */
}

/* Distinct rows, labels 5, 9, 12 by r % 3. */
static void distinct(dataset *s)
{
    memset(s, 0, sizeof *s);
    for (int64_t r = 0; r < NROWS; r++) {
        s->src[r] = r;
        s->lab[r] = r % 3 == 0 ? 5 : r % 3 == 1 ? 9 : 12;
    }
}

static void copy_row(dataset *s, int64_t to, int64_t from, int64_t label)
{
    s->src[to] = from;
    s->lab[to] = label;
}

static void make_engine(const dataset *s, int use_float, td_engine *e,
                        int64_t **labels)
{
    td_shard_data d = {.n_total = NROWS, .m = MDIM};
    td_partition_rows(NROWS, BLOCK, td_comm_rank(), td_comm_size(), &d.row0,
                      &d.n_local);
    size_t n = (size_t)(d.n_local ? d.n_local : 1);
    if (use_float)
        d.xf = malloc(sizeof(float) * n * MDIM);
    else
        d.x = malloc(sizeof(double) * n * MDIM);
    d.y = malloc(sizeof(int64_t) * n);
    CU_ASSERT_FATAL((d.x || d.xf) && d.y);
    for (int64_t i = 0; i < d.n_local; i++) {
        int64_t r = d.row0 + i;
        d.y[i] = s->lab[r];
        for (int k = 0; k < MDIM; k++) {
            double v = value_at(s->src[r], k);
            if (k == 1 && s->zero[r])
                v = -v;                  /* -0.0 */
            if (k == MDIM - 1 && s->ulp[r])
                v = nextafterf((float)v, 1.0f);
            if (use_float)
                d.xf[i * MDIM + k] = (float)v;
            else
                d.x[i * MDIM + k] = v;
        }
    }
    td_err err;
    td_err_clear(&err);
    int q;
    CU_ASSERT_FATAL(td_engine_init(e, &d, BLOCK, labels, &q, &err) == 0);
    CU_ASSERT_FATAL(q == 3);
    td_shard_data_free(&d);
}

/* The report on s, checked to be the same for float32 storage and for
 * hashes cut to 2 bits (4 values) and to 0 bits (all rows collide).
 * collapse: a row marked collapsed by layer 0 (-1: none). */
static td_conflict_report run(const dataset *s, int64_t collapse)
{
    static const int bits[] = {64, 2, 0};
    td_conflict_report first = {0};
    for (int use_float = 0; use_float < 2; use_float++)
        for (int b = 0; b < 3; b++) {
            td_engine e;
            int64_t *labels;
            make_engine(s, use_float, &e, &labels);
            if (collapse >= e.row0 && collapse < e.row0 + e.n_local)
                e.layer[collapse - e.row0] = 0;
            td_conflicts_test_key_bits(bits[b]);
            td_conflict_report c;
            CU_ASSERT(td_engine_conflicts(&e, &c) == 0);
            td_conflicts_test_key_bits(64);
            if (use_float == 0 && b == 0)
                first = c;
            CU_ASSERT(memcmp(&c, &first, sizeof c) == 0);
            free(labels);
            td_engine_free(&e);
        }
    return first;
}

/* Class index of a label: labels are 5, 9, 12. */
static int cls_of(int64_t label)
{
    return label == 5 ? 0 : label == 9 ? 1 : 2;
}

static void test_distinct_rows(void)
{
    dataset *s = malloc(sizeof *s);
    CU_ASSERT_FATAL(s != NULL);
    distinct(s);
    td_conflict_report c = run(s, -1);
    CU_ASSERT(c.n_points == 0 && c.row_a == -1 && c.row_b == -1);
    CU_ASSERT(c.cls_a == -1 && c.cls_b == -1);
    free(s);
}

/* Copies with their own label, on the same rank and across ranks: fine. */
static void test_same_label_copies(void)
{
    dataset *s = malloc(sizeof *s);
    CU_ASSERT_FATAL(s != NULL);
    distinct(s);
    for (int64_t r = 100; r < 110; r++)
        copy_row(s, r, 7, s->lab[7]);
    copy_row(s, 598, 3, s->lab[3]);
    copy_row(s, 599, 3, s->lab[3]);
    td_conflict_report c = run(s, -1);
    CU_ASSERT(c.n_points == 0 && c.row_a == -1);
    free(s);
}

/* Row 2 (rank 0) and its copy 590 (the last rank) with another label. */
static void test_conflict_across_ranks(void)
{
    dataset *s = malloc(sizeof *s);
    CU_ASSERT_FATAL(s != NULL);
    distinct(s);
    copy_row(s, 590, 2, 9);
    td_conflict_report c = run(s, -1);
    CU_ASSERT(c.n_points == 1);
    CU_ASSERT(c.row_a == 2 && c.row_b == 590);
    CU_ASSERT(c.cls_a == cls_of(s->lab[2]) && c.cls_b == cls_of(9));
    free(s);
}

/* Four conflicting points (one with three labels and many copies), a
 * same-label copy, and a near copy one ulp away: counted per point, and
 * the smallest pair is (15, 401): the lowest row of 15's point, then its
 * lowest row with another label. */
static void test_several_conflicts(void)
{
    dataset *s = malloc(sizeof *s);
    CU_ASSERT_FATAL(s != NULL);
    distinct(s);
    copy_row(s, 120, 50, s->lab[50]);      /* point of 50: 50, 120, 580 */
    copy_row(s, 580, 50, 9);
    copy_row(s, 590, 30, 12);              /* point of 30: 30, 590 */
    copy_row(s, 15, 401, 5);               /* point of 401 (label 12): */
    for (int64_t r = 16; r < 40; r += 3)   /* 15, 16, 19, ..., 37 with */
        copy_row(s, r, 401, 5);            /* label 5, 410 with 9 and */
    copy_row(s, 410, 401, 9);              /* 411 with 12 */
    copy_row(s, 411, 401, 12);
    copy_row(s, 4, 3, s->lab[3]);          /* same label: no conflict */
    copy_row(s, 61, 60, 12);               /* 60 (label 5) and 61: the */
    s->zero[61] = 1;                       /* same point, 0 vs -0 */
    copy_row(s, 71, 70, 5);                /* 70 (label 9) and 71: one */
    s->ulp[71] = 1;                        /* ulp apart, no conflict */
    CU_ASSERT_FATAL(s->lab[30] == 5 && s->lab[50] == 12 && s->lab[401] == 12 &&
                    s->lab[60] == 5 && s->lab[70] == 9);
    td_conflict_report c = run(s, -1);
    CU_ASSERT(c.n_points == 4);
    CU_ASSERT(c.row_a == 15 && c.row_b == 401);
    CU_ASSERT(c.cls_a == cls_of(5) && c.cls_b == cls_of(12));
    /* without row 401 (collapsed, no longer data) the pair is (15, 410) */
    c = run(s, 401);
    CU_ASSERT(c.n_points == 4);
    CU_ASSERT(c.row_a == 15 && c.row_b == 410);
    CU_ASSERT(c.cls_a == cls_of(5) && c.cls_b == cls_of(9));
    /* collapsing 590 leaves the point of 30 with one label */
    c = run(s, 590);
    CU_ASSERT(c.n_points == 3 && c.row_a == 15 && c.row_b == 401);
    free(s);
}

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("conflicts", NULL, NULL);
    CU_add_test(s, "distinct rows: none", test_distinct_rows);
    CU_add_test(s, "same-label copies: none", test_same_label_copies);
    CU_add_test(s, "a conflict across ranks", test_conflict_across_ranks);
    CU_add_test(s, "several conflicts, smallest pair", test_several_conflicts);
    return td_mpi_cunit_run();
}
