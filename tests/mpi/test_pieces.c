/* test_pieces.c - the lifted constructions on synthetic shards (no files),
 * at 1-4 ranks with rows spread in blocks of 16: the claims of MATH.md
 * "Lifting removes blocking" and "Pieces", checked on the built model.
 *  - lifted: Q - 1 layers for Q classes (greedy never backtracks, the last
 *    class needs no layer), each collapses its whole class; every earlier
 *    base point is kept by every later cone (a collapsed point never
 *    blocks); base points sit at height t in their class coordinate only;
 *    the output layer reads only the class coordinates; at M = 1 with
 *    Q = 3, where Theorem 6 cannot even have an output layer.
 *  - pieces: overlapping classes (no duplicates) are collapsed piece by
 *    piece, every row exactly once, each piece from a single class.
 *  - zero loss by the dense forward pass of the exported layers and by the
 *    structured one, which agree. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mpi_cunit.h"
#include "td_comm.h"
#include "td_pieces.h"
#include "td_shard.h"
#include "td_verify.h"

static double hash01(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* Row r: class r % q, centred at 5 class on the first axis (collinear
 * clusters), uniform noise of half-width `noise` in every coordinate. */
static void make_shard(int64_t n, int m, int q, double noise,
                       td_shard_data *d)
{
    *d = (td_shard_data){.n_total = n, .m = m};
    td_partition_rows(n, 16, td_comm_rank(), td_comm_size(), &d->row0,
                      &d->n_local);
    d->x = malloc(sizeof(double) * (size_t)(d->n_local ? d->n_local : 1) * m);
    d->y = malloc(sizeof(int64_t) * (d->n_local ? d->n_local : 1));
    for (int64_t i = 0; i < d->n_local; i++) {
        int64_t r = d->row0 + i;
        int c = (int)(r % q);
        d->y[i] = 3 * c;
        for (int k = 0; k < m; k++)
            d->x[i * m + k] = (k == 0 ? 5.0 * c : 0.0) +
                              noise * (2 * hash01((uint64_t)r * 977 + k) - 1);
    }
}

static td_config config(void)
{
    return (td_config){.kappa = 0.5, .working_set = 32, .max_rounds = 50,
                       .hull_tol = 1e-10, .gap = 1e-3, .fisher_warm_start = 1,
                       .block_rows = 16, .scalapack_threshold = 1024,
                       .tolerance = 1e-8, .grow_rounds = 3, .margin_floor = 1e-4,
                       .source = "test"};
}

static int build(int64_t n, int m, int q, double noise, int construction,
                 td_model *mdl, td_engine *e)
{
    td_config cfg = config();
    td_shard_data d;
    td_err err;
    td_err_clear(&err);
    make_shard(n, m, q, noise, &d);
    int64_t *labels;
    int qq;
    CU_ASSERT_FATAL(td_engine_init(e, &d, 16, &labels, &qq, &err) == 0);
    td_shard_data_free(&d);
    CU_ASSERT_FATAL(qq == q && td_model_alloc(mdl, m, q) == 0);
    memcpy(mdl->labels, labels, sizeof(int64_t) * q);
    free(labels);
    int rc = td_pieces_build(e, &cfg, construction, mdl, NULL, &err);
    td_comm_agree(&err);
    return rc;
}

/* Zero loss through the dense layers and through the structured form. */
static void check_zero_loss(td_engine *e, td_model *mdl, int64_t n)
{
    td_err err;
    td_err_clear(&err);
    double dense_err;
    mdl->structured = 0;
    CU_ASSERT_FATAL(td_verify(e, mdl, &err) == TD_OK);
    CU_ASSERT(mdl->n_correct == n);
    CU_ASSERT(mdl->max_error < 1e-8);
    dense_err = mdl->max_error;
    for (int l = 0; l < mdl->nlayers; l++)
        CU_ASSERT(mdl->n_departed[l] == 0);
    mdl->structured = 1;
    CU_ASSERT_FATAL(td_verify(e, mdl, &err) == TD_OK);
    CU_ASSERT(mdl->n_correct == n);
    CU_ASSERT(mdl->max_error < 1e-8 && fabs(mdl->max_error - dense_err) < 1e-8);
}

/* Base point l: its class coordinate is t, the other class coordinates
 * 0; every later cone keeps it (all units alive). */
static void check_base_points(const td_model *mdl)
{
    int m = mdl->m, n = mdl->width;
    double *work = malloc(sizeof(double) * 2 * n), margin;
    for (int l = 0; l < mdl->nlayers; l++) {
        const double *p = mdl->cones[l].p;
        for (int c = 0; c < mdl->q; c++)
            CU_ASSERT(p[m + c] == (c == mdl->layers[l].class_index
                                   ? mdl->lift_height : 0.0));
        for (int k = l + 1; k < mdl->nlayers; k++)
            CU_ASSERT(td_cone_classify(&mdl->cones[k], p, &margin, work) == 1);
    }
    for (int i = 0; i < mdl->q; i++)        /* the output reads classes only */
        for (int k = 0; k < m; k++)
            CU_ASSERT(mdl->w_out[(size_t)i * n + k] == 0.0);
    free(work);
}

static void check_lifted(int64_t n, int m, int q)
{
    td_model mdl;
    td_engine e;
    CU_ASSERT_FATAL(build(n, m, q, 1.0, TD_CONS_LIFTED, &mdl, &e) == TD_OK);
    CU_ASSERT(mdl.width == m + q);
    CU_ASSERT(mdl.nlayers == q - 1);
    CU_ASSERT(mdl.backtracks == 0);
    for (int l = 0; l < mdl.nlayers; l++) {
        CU_ASSERT(mdl.layers[l].n_class_left == 0);
        CU_ASSERT(mdl.layers[l].n_collapsed == n / q ||
                  mdl.layers[l].n_collapsed == n / q + 1);
        CU_ASSERT(mdl.layers[l].n_mixed == 0);
    }
    CU_ASSERT(mdl.last_class >= 0 && mdl.last_class < q);
    check_base_points(&mdl);
    check_zero_loss(&e, &mdl, n);
    td_model_free(&mdl);
    td_engine_free(&e);
}

static void test_lifted_line(void) { check_lifted(600, 1, 3); }
static void test_lifted_plane(void) { check_lifted(1000, 2, 5); }
static void test_lifted_wide(void) { check_lifted(900, 6, 3); }

/* Overlapping classes: lifted fails with the classes named, pieces builds. */
static void test_pieces_overlap(void)
{
    const int64_t n = 800;
    td_model mdl;
    td_engine e;
    /* noise 6 > spacing 5: neighbouring classes overlap */
    CU_ASSERT(build(n, 2, 3, 6.0, TD_CONS_LIFTED, &mdl, &e) ==
              TD_ERR_INSEPARABLE);
    td_model_free(&mdl);
    td_engine_free(&e);
    CU_ASSERT_FATAL(build(n, 2, 3, 6.0, TD_CONS_PIECES, &mdl, &e) == TD_OK);
    CU_ASSERT(mdl.nlayers > 2);
    int64_t collapsed = 0, left = 0;
    for (int l = 0; l < mdl.nlayers; l++) {
        CU_ASSERT(mdl.layers[l].n_collapsed >= 1);
        CU_ASSERT(mdl.layers[l].n_mixed == 0);
        collapsed += mdl.layers[l].n_collapsed;
    }
    for (int64_t i = 0; i < e.n_local; i++)   /* rows of one class remain */
        if (e.layer[i] < 0)
            CU_ASSERT(e.cls[i] == mdl.last_class);
    for (int64_t i = 0; i < e.n_local; i++)
        left += e.layer[i] < 0;
    td_comm_sum_i64(&left, 1);
    CU_ASSERT(collapsed + left == n);
    CU_ASSERT(left >= 1 && left <= mdl.counts[mdl.last_class]);
    check_base_points(&mdl);
    check_zero_loss(&e, &mdl, n);
    td_model_free(&mdl);
    td_engine_free(&e);
}

int main(int argc, char **argv)
{
    td_comm_init(&argc, &argv);
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("pieces", NULL, NULL);
    CU_add_test(s, "lifted: 3 classes on a line (M = 1)", test_lifted_line);
    CU_add_test(s, "lifted: 5 classes in the plane", test_lifted_plane);
    CU_add_test(s, "lifted: M > Q", test_lifted_wide);
    CU_add_test(s, "pieces: overlapping classes", test_pieces_overlap);
    return td_mpi_cunit_run();
}
