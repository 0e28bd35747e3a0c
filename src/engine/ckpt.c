/* ckpt.c - signals, safe points and the packing of shared state (see
 * td_ckpt.h).  The bytes are the structs as this build lays them out: a
 * checkpoint is read back by the same build (the writer records the
 * version and refuses another). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_ckpt.h"
#include "td_comm.h"
#include "td_stop.h"

/* Rank 0's clock decides the interval, so every rank saves together. */
int td_ckpt_due(td_ckpt *c)
{
    if (!c)
        return 0;
    td_stop_fault_point();
    double now = td_comm_wtime();
    double v[2] = {(double)td_stop_signal(),
                   td_comm_rank() == 0 && c->write &&
                   (c->force || now - c->last >= c->interval)};
    td_comm_max(v, 2);
    c->stop = (int)v[0];
    c->force = 0;
    return c->stop || v[1] > 0;
}

int td_ckpt_stop_asked(td_ckpt *c, td_err *err)
{
    if (!c)
        return TD_OK;
    double v = td_stop_signal();
    td_comm_max(&v, 1);
    c->stop = (int)v;
    if (!c->stop)
        return TD_OK;
    return td_err_set(err, TD_ERR_INTERRUPTED, "stopped by %s%s%s",
                      td_stop_name(c->stop), c->written ? "; checkpoint "
                      : "", c->written ? c->path : "");
}

int td_ckpt_save(td_ckpt *c, int phase, const td_buf *state,
                 const td_engine *e, const td_model *mdl, td_err *err)
{
    double t0 = td_comm_wtime();
    if (c->write) {
        td_ckpt_image img = {phase, mdl->nlayers, state, e->layer, e->row0,
                             e->n_local, e->n_total};
        if (!td_all_ok(!state->bad))
            td_err_set(err, TD_ERR_INTERNAL, "out of memory (checkpoint)");
        else
            c->write(c->ctx, &img, err);
        if (td_comm_agree(err))
            return err->code;
        c->written++;
    }
    c->last = td_comm_wtime();
    c->seconds += c->last - t0;
    if (!c->stop)
        return TD_OK;
    char where[48] = "before the first layer";
    if (mdl->nlayers > 0)
        snprintf(where, sizeof where, "after layer %d", mdl->nlayers);
    if (!c->write)
        return td_err_set(err, TD_ERR_INTERRUPTED, "stopped by %s %s "
                          "(checkpoint.enabled = false: nothing saved)",
                          td_stop_name(c->stop), where);
    return td_err_set(err, TD_ERR_INTERRUPTED, "stopped by %s %s; "
                      "checkpoint saved to %s", td_stop_name(c->stop), where,
                      c->path);
}

/* Records are stored whole; their pointers are rebuilt on unpacking. */
static void pack_layer(td_buf *b, const td_layer_rec *r, const td_cone *c,
                       int width)
{
    td_buf_put(b, r, sizeof *r);
    td_buf_put_arr(b, r->h, sizeof(double) * width);
    td_buf_put_arr(b, r->p, sizeof(double) * width);
    td_buf_put(b, c, sizeof *c);
    td_buf_put_arr(b, c->h, sizeof(double) * c->n);
    td_buf_put_arr(b, c->p, sizeof(double) * c->n);
    td_buf_put_arr(b, c->v, sizeof(double) * c->n);
}

static void unpack_layer(td_buf *b, td_layer_rec *r, td_cone *c, int width)
{
    td_buf_get(b, r, sizeof *r);
    r->h = td_buf_get_arr(b, sizeof(double) * width);
    r->p = td_buf_get_arr(b, sizeof(double) * width);
    td_buf_get(b, c, sizeof *c);
    int n = b->bad ? 0 : c->n;
    c->h = td_buf_get_arr(b, sizeof(double) * n);
    c->p = td_buf_get_arr(b, sizeof(double) * n);
    c->v = td_buf_get_arr(b, sizeof(double) * n);
}

void td_ckpt_pack_model(td_buf *b, const td_model *mdl)
{
    int q = mdl->q, m = mdl->m;
    int64_t ints[] = {mdl->construction, mdl->width, mdl->last_class,
                      mdl->nlayers, mdl->separator_solves,
                      mdl->separators_reused, mdl->backtracks,
                      mdl->data_passes, mdl->separator_passes,
                      mdl->bytes_root, mdl->budget_spent,
                      mdl->sequentially_separable};
    double reals[] = {mdl->lift_height, mdl->t_scan, mdl->t_solve,
                      mdl->hull_work};
    td_buf_put(b, ints, sizeof ints);
    td_buf_put(b, reals, sizeof reals);
    td_buf_put(b, mdl->reason, sizeof mdl->reason);
    td_buf_put_arr(b, mdl->counts, sizeof(int64_t) * q);
    td_buf_put_arr(b, mdl->means, sizeof(double) * q * m);
    for (int l = 0; l < mdl->nlayers; l++)
        pack_layer(b, &mdl->layers[l], &mdl->cones[l], mdl->width);
}

void td_ckpt_unpack_model(td_buf *b, td_model *mdl)
{
    int q = mdl->q, m = mdl->m;
    int64_t ints[12];
    double reals[4];
    td_buf_get(b, ints, sizeof ints);
    td_buf_get(b, reals, sizeof reals);
    td_buf_get(b, mdl->reason, sizeof mdl->reason);
    mdl->reason[sizeof mdl->reason - 1] = '\0';
    int64_t *counts = td_buf_get_arr(b, sizeof(int64_t) * q);
    double *means = td_buf_get_arr(b, sizeof(double) * q * m);
    if (counts && means) {
        memcpy(mdl->counts, counts, sizeof(int64_t) * q);
        memcpy(mdl->means, means, sizeof(double) * q * m);
    }
    free(counts);
    free(means);
    int nl = (int)ints[3];
    td_model_clear_layers(mdl);
    if (b->bad || nl < 0 || td_model_set_width(mdl, (int)ints[1]) ||
        td_model_reserve(mdl, nl)) {
        b->bad = 1;
        return;
    }
    mdl->construction = (int)ints[0];
    mdl->last_class = ints[2];
    mdl->separator_solves = ints[4];
    mdl->separators_reused = ints[5];
    mdl->backtracks = ints[6];
    mdl->data_passes = ints[7];
    mdl->separator_passes = ints[8];
    mdl->bytes_root = ints[9];
    mdl->budget_spent = (int)ints[10];
    mdl->sequentially_separable = (int)ints[11];
    mdl->lift_height = reals[0];
    mdl->t_scan = reals[1];
    mdl->t_solve = reals[2];
    mdl->hull_work = reals[3];
    for (int l = 0; l < nl && !b->bad; l++, mdl->nlayers = l)
        unpack_layer(b, &mdl->layers[l], &mdl->cones[l], mdl->width);
}

/* The arrays a step owns are allocated by its owner (search or lift);
 * S, made on demand, is allocated here when it was saved. */
void td_ckpt_pack_step(td_buf *b, const td_step *s)
{
    int q = s->q, m = s->m;
    int64_t ints[] = {s->np, s->used_scalapack};
    td_buf_put(b, ints, sizeof ints);
    td_buf_put_arr(b, s->counts, sizeof(int64_t) * q);
    td_buf_put_arr(b, s->means, sizeof(double) * q * m);
    td_buf_put_arr(b, s->P, sizeof(double) * s->np * m);
    td_buf_put_arr(b, s->done, sizeof(int) * q);
    td_buf_put_arr(b, s->S, sizeof(double) * m * m);
    td_buf_put_arr(b, s->last_h, sizeof(double) * q * m);
    td_buf_put_arr(b, s->has_last, sizeof(int) * q);
}

/* Copy a saved array into the owner's, when both exist. */
static void get_into(td_buf *b, void *dst, size_t bytes)
{
    void *x = td_buf_get_arr(b, bytes);
    if (x && dst)
        memcpy(dst, x, bytes);
    else if ((x != NULL) != (dst != NULL))
        b->bad = 1;
    free(x);
}

void td_ckpt_unpack_step(td_buf *b, td_step *s)
{
    int q = s->q, m = s->m;
    int64_t ints[2];
    td_buf_get(b, ints, sizeof ints);
    s->np = (int)ints[0];
    s->used_scalapack = (int)ints[1];
    get_into(b, s->counts, sizeof(int64_t) * q);
    get_into(b, s->means, sizeof(double) * q * m);
    get_into(b, s->P, sizeof(double) * s->np * m);
    get_into(b, s->done, sizeof(int) * q);
    free(s->S);
    s->S = td_buf_get_arr(b, sizeof(double) * m * m);
    get_into(b, s->last_h, sizeof(double) * q * m);
    get_into(b, s->has_last, sizeof(int) * q);
}

void td_ckpt_pack_sep(td_buf *b, const td_sep *sp, int m)
{
    td_buf_put(b, sp, sizeof *sp);
    td_buf_put_arr(b, sp->h, sizeof(double) * m);
}

void td_ckpt_unpack_sep(td_buf *b, td_sep *sp, int m)
{
    td_buf_get(b, sp, sizeof *sp);
    sp->h = td_buf_get_arr(b, sizeof(double) * m);
}
