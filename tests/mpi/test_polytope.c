/* test_polytope.c - the polytope construction (td_polytope.h) on
 * synthetic shards (no files), at 1-4 ranks with rows spread in blocks of
 * 16, its claims checked on every row:
 *  - concentric data (a ball inside a shell, M = 2 and M = 5) build two
 *    hidden layers of widths k and 1 at zero loss (dense verification);
 *  - the facet conditions: every inner row has <w_i, x> >= hi_i for every
 *    facet, every outer row is <= lo_f of the facet f that covered it;
 *    the first layer's pre-activations are <= -2 on the inner class and
 *    >= 2 on a facet's own rows, the indicator exactly 1 inside and
 *    exactly 0 outside; the facets are the same bytes on every rank;
 *  - swapped labels: the ball is found inside whichever label it has (the
 *    shell, tried first on the tie, cannot be inside the ball);
 *  - overlapping binary data (each class inside the other's hull): exit 3
 *    with the row and class named; three classes: exit 2. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mpi_cunit.h"
#include "td_comm.h"
#include "td_linalg.h"
#include "td_polytope.h"
#include "td_shard.h"
#include "td_verify.h"

static double hash01(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return ((double)((z ^ (z >> 31)) >> 11) + 0.5) / 9007199254740992.0;
}

enum { CONCENTRIC, SWAPPED, OVERLAP, THREE };

/* Row r: class r % 2 (r % 3 for THREE).  CONCENTRIC: class 0 (label 5)
 * uniform in the unit ball, class 1 (label 9) in the shell 2 <= |x| <= 3;
 * SWAPPED: the same points, the labels exchanged; OVERLAP and THREE:
 * every class uniform in the same cube. */
static void make_shard(int64_t n, int m, int kind, td_shard_data *d)
{
    *d = (td_shard_data){.n_total = n, .m = m};
    td_partition_rows(n, 16, td_comm_rank(), td_comm_size(), &d->row0,
                      &d->n_local);
    d->x = malloc(sizeof(double) * (size_t)(d->n_local ? d->n_local : 1) * m);
    d->y = malloc(sizeof(int64_t) * (d->n_local ? d->n_local : 1));
    for (int64_t i = 0; i < d->n_local; i++) {
        int64_t r = d->row0 + i;
        double *x = d->x + i * m, nn = 0;
        if (kind == OVERLAP || kind == THREE) {
            int c = (int)(r % (kind == THREE ? 3 : 2));
            d->y[i] = 5 + 4 * c;
            for (int k = 0; k < m; k++)
                x[k] = 2 * hash01((uint64_t)r * 131 + k) - 1;
            continue;
        }
        int c = (int)(r % 2);
        d->y[i] = (c ^ (kind == SWAPPED)) ? 9 : 5;
        for (int k = 0; k < m; k++) {          /* Box-Muller */
            double u = hash01((uint64_t)r * 131 + 2 * k);
            double v = hash01((uint64_t)r * 131 + 2 * k + 1);
            x[k] = sqrt(-2 * log(u)) * cos(2 * M_PI * v);
            nn += x[k] * x[k];
        }
        double u = hash01((uint64_t)r * 131 + 1000);
        double rad = c == 0 ? pow(u, 1.0 / m) : 2.0 + u;
        for (int k = 0; k < m; k++)
            x[k] *= rad / sqrt(nn);
    }
}

static td_config config(void)
{
    return (td_config){.kappa = 0.5, .working_set = 32, .max_rounds = 50,
                       .hull_tol = 1e-10, .gap = 1e-3, .fisher_warm_start = 1,
                       .block_rows = 16, .scalapack_threshold = 1024,
                       .tolerance = 1e-8, .grow_rounds = 2, .margin_floor = 1e-4,
                       .source = "test", .mode = TD_MODE_POLYTOPE};
}

static int build(int64_t n, int m, int kind, td_model *mdl, td_engine *e,
                 td_err *err)
{
    td_config cfg = config();
    td_shard_data d;
    td_err_clear(err);
    make_shard(n, m, kind, &d);
    int64_t *labels;
    int q;
    CU_ASSERT_FATAL(td_engine_init(e, &d, 16, &labels, &q, err) == 0);
    td_shard_data_free(&d);
    CU_ASSERT_FATAL(td_model_alloc(mdl, m, q) == 0);
    memcpy(mdl->labels, labels, sizeof(int64_t) * q);
    mdl->n_points = n;
    free(labels);
    int rc = td_polytope_build(e, &cfg, mdl, err);
    td_comm_agree(err);
    return rc;
}

/* The same double on every rank. */
static int same_everywhere(double v)
{
    double lo = v, hi = v;
    td_comm_min(&lo, 1);
    td_comm_max(&hi, 1);
    return lo == hi;
}

/* Facet conditions, layer values and zero loss on every row. */
static void check_polytope(td_engine *e, td_model *mdl, int64_t n)
{
    int m = mdl->m, k = mdl->nfacets, a = mdl->inner_class;
    const td_network *net = &mdl->net;
    CU_ASSERT_FATAL(k >= 1 && net->num_layers == 3);
    CU_ASSERT(net->dims[0] == m && net->dims[1] == k && net->dims[2] == 1 &&
              net->dims[3] == 2);
    CU_ASSERT(net->kind[0] == TD_LAYER_FACET &&
              net->kind[1] == TD_LAYER_INDICATOR &&
              net->kind[2] == TD_LAYER_OUTPUT);
    int64_t covered = 0, bad_a = 0, bad_b = 0, bad_pre = 0, bad_u = 0;
    double sum = 0;
    for (int i = 0; i < k; i++) {
        CU_ASSERT(mdl->facet_lo[i] < mdl->facet_hi[i]);
        CU_ASSERT(mdl->facet_gap[i] > 0);
        CU_ASSERT(fabs(td_dot(mdl->facet_w + (size_t)i * m,
                              mdl->facet_w + (size_t)i * m, m) - 1) < 1e-12);
        covered += mdl->facet_n[i];
        for (int j = 0; j < m; j++)
            sum += mdl->facet_w[(size_t)i * m + j] * (j + 1);
        sum += mdl->facet_beta[i] + mdl->facet_gap[i];
    }
    CU_ASSERT(same_everywhere(sum));
    CU_ASSERT(covered == mdl->counts[mdl->outer_class]);
    double *pre = malloc(sizeof(double) * k);
    for (int64_t r = 0; r < e->n_local; r++) {
        const double *x = e->x0 + r * m;
        int f = e->layer[r];
        double s = 0;
        for (int i = 0; i < k; i++) {
            pre[i] = td_dot(net->W[0] + (size_t)i * m, x, m) + net->b[0][i];
            s += -(pre[i] > 0 ? pre[i] : 0.0);
        }
        double u = s + 1.0 > 0 ? s + 1.0 : 0.0;
        if (e->cls[r] == a) {
            bad_a += f != -1;
            for (int i = 0; i < k; i++) {
                bad_a += td_dot(mdl->facet_w + (size_t)i * m, x, m) <
                         mdl->facet_hi[i];
                bad_pre += pre[i] > -2 + 1e-9;
            }
            bad_u += u != 1.0;
        } else {
            bad_b += f < 0 || f >= k ||
                     td_dot(mdl->facet_w + (size_t)f * m, x, m) >
                     mdl->facet_lo[f];
            bad_pre += f >= 0 && f < k && pre[f] < 2 - 1e-9;
            bad_u += u != 0.0;
        }
    }
    free(pre);
    td_comm_sum_i64(&bad_a, 1);
    td_comm_sum_i64(&bad_b, 1);
    td_comm_sum_i64(&bad_pre, 1);
    td_comm_sum_i64(&bad_u, 1);
    CU_ASSERT(bad_a == 0);
    CU_ASSERT(bad_b == 0);
    CU_ASSERT(bad_pre == 0);
    CU_ASSERT(bad_u == 0);
    td_err err;
    td_err_clear(&err);
    mdl->structured = 0;
    CU_ASSERT_FATAL(td_verify(e, mdl, &err) == TD_OK);
    CU_ASSERT(mdl->n_correct == n);
    CU_ASSERT(mdl->max_error == 0.0);
    CU_ASSERT(mdl->cost == 0.0);
}

static void concentric(int64_t n, int m, int kind)
{
    td_model mdl;
    td_engine e;
    td_err err;
    CU_ASSERT_FATAL(build(n, m, kind, &mdl, &e, &err) == TD_OK);
    CU_ASSERT(mdl.construction == TD_CONS_POLYTOPE);
    /* the ball is inside, whichever label it has */
    CU_ASSERT(mdl.labels[mdl.inner_class] == (kind == SWAPPED ? 9 : 5));
    CU_ASSERT(mdl.outer_class == 1 - mdl.inner_class);
    check_polytope(&e, &mdl, n);
    td_model_free(&mdl);
    td_engine_free(&e);
}

static void test_plane(void) { concentric(800, 2, CONCENTRIC); }
static void test_m5(void) { concentric(1200, 5, CONCENTRIC); }
static void test_swapped(void) { concentric(800, 2, SWAPPED); }
static void test_swapped_m5(void) { concentric(1200, 5, SWAPPED); }

static void test_overlap(void)
{
    td_model mdl;
    td_engine e;
    td_err err;
    CU_ASSERT(build(400, 2, OVERLAP, &mdl, &e, &err) == TD_ERR_INSEPARABLE);
    CU_ASSERT(err.code == TD_ERR_INSEPARABLE);
    CU_ASSERT(strstr(err.msg, "not polytope-separable: row ") != NULL);
    CU_ASSERT(strstr(err.msg, "lies in the hull of class 5") != NULL);
    CU_ASSERT(strstr(err.msg, "lies in the hull of class 9") != NULL);
    td_model_free(&mdl);
    td_engine_free(&e);
}

static void test_three(void)
{
    td_model mdl;
    td_engine e;
    td_err err;
    CU_ASSERT(build(300, 2, THREE, &mdl, &e, &err) == TD_ERR_INPUT);
    CU_ASSERT(strstr(err.msg, "construction.mode") != NULL);
    td_model_free(&mdl);
    td_engine_free(&e);
}

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("polytope", NULL, NULL);
    CU_add_test(s, "ball in a shell, M = 2", test_plane);
    CU_add_test(s, "ball in a shell, M = 5", test_m5);
    CU_add_test(s, "swapped labels, M = 2", test_swapped);
    CU_add_test(s, "swapped labels, M = 5", test_swapped_m5);
    CU_add_test(s, "overlapping classes: exit 3", test_overlap);
    CU_add_test(s, "three classes: exit 2", test_three);
    return td_mpi_cunit_run();
}
