/* test_search.c - the whole construction on synthetic shards (no files):
 * separable clusters at several (Q, M) give a network whose forward pass
 * is at zero loss; the layer records satisfy the cone conditions; an
 * explicit order is honoured; overlapping classes are reported as not
 * sequentially separable and best-effort mode still builds a network;
 * float32 points stay float32 in the engine and give the same network, bit
 * for bit, as the same values held as double. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mpi_cunit.h"
#include "td_comm.h"
#include "td_search.h"
#include "td_shard.h"
#include "td_verify.h"

static double hash01(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* How make_shard stores the points: doubles; float32 values held as
 * float; the same float32 values held as double. */
enum { PREC_DOUBLE, PREC_FLOAT, PREC_FLOAT_AS_DOUBLE };

/* Row r: class r % q, centred at 4 e_(class mod m) (+4 e_0 shift for
 * classes >= m), uniform noise of half-width `noise`; label 10 + 7 class. */
static void make_shard(int64_t n, int m, int q, double noise, int block,
                       int prec, td_shard_data *d)
{
    *d = (td_shard_data){.n_total = n, .m = m};
    td_partition_rows(n, block, td_comm_rank(), td_comm_size(), &d->row0, &d->n_local);
    size_t len = (size_t)(d->n_local ? d->n_local : 1) * m;
    if (prec == PREC_FLOAT)
        d->xf = malloc(sizeof(float) * len);
    else
        d->x = malloc(sizeof(double) * len);
    d->y = malloc(sizeof(int64_t) * (d->n_local ? d->n_local : 1));
    for (int64_t i = 0; i < d->n_local; i++) {
        int64_t r = d->row0 + i;
        int c = (int)(r % q);
        d->y[i] = 10 + 7 * c;
        for (int k = 0; k < m; k++) {
            double centre = (k == c % m ? 4.0 : 0.0) + (c >= m && k == 0 ? -4.0 : 0.0);
            double v = centre + noise * (2 * hash01((uint64_t)r * 131 + k) - 1);
            if (prec == PREC_FLOAT)
                d->xf[i * m + k] = (float)v;
            else
                d->x[i * m + k] = prec == PREC_DOUBLE ? v : (double)(float)v;
        }
    }
}

static td_config base_config(void)
{
    td_config cfg = {.kappa = 0.5, .working_set = 32, .max_rounds = 50,
                     .hull_tol = 1e-10, .gap = 1e-3, .fisher_warm_start = 1,
                     .block_rows = 64, .scalapack_threshold = 1024,
                     .backtrack_budget = 100, .tolerance = 1e-8,
                     .source = "test"};
    return cfg;
}

/* Build from points stored as `prec` and verify; returns the search
 * status. */
static int build_prec(int64_t n, int m, int q, double noise, int prec,
                      td_config *cfg, td_model *mdl, td_engine *e)
{
    td_shard_data d;
    td_err err;
    td_err_clear(&err);
    make_shard(n, m, q, noise, cfg->block_rows, prec, &d);
    int64_t *labels;
    int qq;
    CU_ASSERT_FATAL(td_engine_init(e, &d, cfg->block_rows, &labels, &qq, &err) == 0);
    CU_ASSERT(d.x == NULL && d.xf == NULL);     /* the engine owns them */
    td_shard_data_free(&d);
    CU_ASSERT_FATAL(qq == q);
    CU_ASSERT_FATAL(td_model_alloc(mdl, m, q) == 0);
    memcpy(mdl->labels, labels, sizeof(int64_t) * q);
    free(labels);
    int rc = td_search_build(e, cfg, mdl, NULL, &err);
    td_comm_agree(&err);
    if (rc == TD_OK)
        CU_ASSERT(td_verify(e, mdl, &err) == TD_OK);
    return rc;
}

static int build(int64_t n, int m, int q, double noise, td_config *cfg,
                 td_model *mdl, td_engine *e)
{
    return build_prec(n, m, q, noise, PREC_DOUBLE, cfg, mdl, e);
}

static void check_zero_loss(int64_t n, int m, int q, int fisher)
{
    td_config cfg = base_config();
    cfg.fisher_warm_start = fisher;
    td_model mdl;
    td_engine e;
    CU_ASSERT_FATAL(build(n, m, q, 1.0, &cfg, &mdl, &e) == TD_OK);
    CU_ASSERT(mdl.n_correct == n);
    CU_ASSERT(mdl.max_error < 1e-8);
    CU_ASSERT(mdl.cost < 1e-15 * n);
    CU_ASSERT(mdl.net.num_layers == q + 1);
    CU_ASSERT(mdl.sequentially_separable == 1);
    for (int l = 0; l < q; l++) {
        td_layer_rec *r = &mdl.layers[l];
        CU_ASSERT(r->margin_kept > 0 && r->margin_collapsed > 0);
        /* the exact sign test admits at least what Lemma 2's round cone
         * admits (and often a smaller theta than theta_min) */
        CU_ASSERT(r->lambda_max >= td_lambda_of_theta(r->theta_min, m) * (1 - 1e-9));
        CU_ASSERT(r->theta > 0 && r->theta < M_PI);
        CU_ASSERT(r->lambda > 0 && r->lambda <= 0.5 * r->lambda_max * (1 + 1e-15));
        CU_ASSERT(r->n_mixed == 0);
    }
    td_model_free(&mdl);
    td_engine_free(&e);
}

static void test_zero_loss_m_gt_q(void) { check_zero_loss(3001, 6, 4, 1); }
static void test_zero_loss_m_eq_q(void) { check_zero_loss(2000, 5, 5, 0); }
static void test_zero_loss_m_lt_q(void) { check_zero_loss(1500, 3, 4, 1); }

/* The Fisher solves on a BLACS grid give the same construction (order,
 * zero loss) as LAPACK on rank 0. */
static void test_scalapack_path(void)
{
    td_config cfg = base_config();
    td_model m1, m2;
    td_engine e1, e2;
    CU_ASSERT_FATAL(build(2400, 8, 4, 1.0, &cfg, &m1, &e1) == TD_OK);
    cfg.scalapack_threshold = 1;
    CU_ASSERT_FATAL(build(2400, 8, 4, 1.0, &cfg, &m2, &e2) == TD_OK);
    CU_ASSERT(m2.n_correct == 2400 && m2.max_error < 1e-8);
    for (int l = 0; l < 4; l++) {
        CU_ASSERT(m1.layers[l].label == m2.layers[l].label);
        CU_ASSERT(fabs(m1.layers[l].geo_margin - m2.layers[l].geo_margin) <
                  1e-8 * m1.layers[l].geo_margin);
    }
    td_model_free(&m1);
    td_model_free(&m2);
    td_engine_free(&e1);
    td_engine_free(&e2);
}

static void test_explicit_order(void)
{
    td_config cfg = base_config();
    int64_t order[3] = {24, 10, 17};
    cfg.order = order;
    cfg.norder = 3;
    td_model mdl;
    td_engine e;
    CU_ASSERT_FATAL(build(999, 4, 3, 1.0, &cfg, &mdl, &e) == TD_OK);
    for (int l = 0; l < 3; l++)
        CU_ASSERT(mdl.layers[l].label == order[l]);
    CU_ASSERT(mdl.n_correct == 999);
    td_model_free(&mdl);
    td_engine_free(&e);
}

static void test_overlap_reported(void)
{
    td_config cfg = base_config();
    td_model mdl;
    td_engine e;
    /* noise 5 >> centre spacing 4: the clusters overlap */
    CU_ASSERT(build(1200, 3, 3, 5.0, &cfg, &mdl, &e) == TD_ERR_INSEPARABLE);
    td_model_free(&mdl);
    td_engine_free(&e);
}

static int count_kind(const td_network *net, int kind)
{
    int n = 0;
    for (int k = 0; k < net->num_layers; k++)
        n += net->kind[k] == kind;
    return n;
}

static void test_best_effort_builds(void)
{
    td_config cfg = base_config();
    cfg.on_inseparable = TD_INSEP_BEST_EFFORT;
    td_model mdl;
    td_engine e;
    CU_ASSERT_FATAL(build(1200, 3, 3, 5.0, &cfg, &mdl, &e) == TD_OK);
    CU_ASSERT(count_kind(&mdl.net, TD_LAYER_CONE) == 3);   /* + resets */
    CU_ASSERT(mdl.net.kind[mdl.net.num_layers - 1] == TD_LAYER_OUTPUT);
    CU_ASSERT(mdl.sequentially_separable == 0);
    CU_ASSERT(mdl.n_correct < 1200);      /* honest: not zero loss */
    CU_ASSERT(mdl.n_correct > 1200 / 3);  /* but better than chance */
    CU_ASSERT(mdl.cost > 0);
    td_model_free(&mdl);
    td_engine_free(&e);
}

/* Same layer count, dims, weights and biases, byte for byte. */
static int same_network(const td_network *a, const td_network *b)
{
    if (a->num_layers != b->num_layers ||
        memcmp(a->dims, b->dims, sizeof(int) * (a->num_layers + 1)) ||
        memcmp(a->kind, b->kind, sizeof(int) * a->num_layers))
        return 0;
    for (int k = 0; k < a->num_layers; k++) {
        size_t rows = (size_t)a->dims[k + 1], cols = (size_t)a->dims[k];
        if (memcmp(a->W[k], b->W[k], sizeof(double) * rows * cols) ||
            memcmp(a->b[k], b->b[k], sizeof(double) * rows))
            return 0;
    }
    return 1;
}

/* Float32 points held as float (x0f; no double copy) and the same values
 * held as double build byte-identical networks with identical reports. */
static void check_float_storage(double noise, int best_effort)
{
    td_config cfg = base_config();
    if (best_effort)
        cfg.on_inseparable = TD_INSEP_BEST_EFFORT;
    td_model mf, md;
    td_engine ef, ed;
    int rf = build_prec(1500, 5, 4, noise, PREC_FLOAT, &cfg, &mf, &ef);
    int rd = build_prec(1500, 5, 4, noise, PREC_FLOAT_AS_DOUBLE, &cfg, &md, &ed);
    CU_ASSERT_FATAL(rf == TD_OK && rd == TD_OK);
    CU_ASSERT(ef.x0f != NULL && ef.x0 == NULL);
    CU_ASSERT(ed.x0f == NULL && ed.x0 != NULL);
    /* exact layers never widen the points; best-effort moves a copy */
    CU_ASSERT(best_effort ? ef.x != NULL : ef.x == NULL);
    CU_ASSERT(same_network(&mf.net, &md.net));
    CU_ASSERT(mf.n_correct == md.n_correct);
    CU_ASSERT(memcmp(&mf.cost, &md.cost, sizeof mf.cost) == 0);
    CU_ASSERT(memcmp(&mf.max_error, &md.max_error, sizeof mf.max_error) == 0);
    CU_ASSERT(best_effort ? mf.n_correct < 1500 : mf.n_correct == 1500);
    td_model_free(&mf);
    td_model_free(&md);
    td_engine_free(&ef);
    td_engine_free(&ed);
}

static void test_float_storage_exact(void) { check_float_storage(1.0, 0); }
static void test_float_storage_best_effort(void) { check_float_storage(5.0, 1); }

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("search", NULL, NULL);
    CU_add_test(s, "zero loss, M > Q", test_zero_loss_m_gt_q);
    CU_add_test(s, "zero loss, M = Q", test_zero_loss_m_eq_q);
    CU_add_test(s, "zero loss, M = Q - 1", test_zero_loss_m_lt_q);
    CU_add_test(s, "ScaLAPACK path builds the same network", test_scalapack_path);
    CU_add_test(s, "explicit order honoured", test_explicit_order);
    CU_add_test(s, "overlap reported inseparable", test_overlap_reported);
    CU_add_test(s, "best effort builds anyway", test_best_effort_builds);
    CU_add_test(s, "float32 storage: same network as double",
                test_float_storage_exact);
    CU_add_test(s, "float32 storage, best effort: same network",
                test_float_storage_best_effort);
    return td_mpi_cunit_run();
}
