/* td_ckpt.h - stopping safely and continuing later.
 *
 * A run on a cluster ends when its time limit or scancel says so: Slurm
 * sends SIGTERM (or the signal asked with --signal) and kills a little
 * later.  Every rank notes SIGTERM, SIGINT and SIGUSR1; the constructions
 * look at the note only at safe points (after a layer), where all ranks
 * agree on it, save a checkpoint and stop with TD_ERR_INTERRUPTED.  A
 * checkpoint is also saved every checkpoint.interval seconds, so a SIGKILL
 * loses at most that much work.
 *
 * A checkpoint holds the construction's whole state at a safe point: the
 * model so far and the builder's own state (identical on every rank, a
 * byte string packed here) and every row's layer index (-1 active), which
 * is all a shard's truncation state is.  Resuming at another rank count
 * reads the rows back by global index; every reduction is partition
 * independent, so the resumed run continues bit for bit. */
#ifndef TD_CKPT_H
#define TD_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include "td_buf.h"
#include "td_engine.h"
#include "td_err.h"
#include "td_model.h"
#include "td_separator.h"
#include "td_stop.h"
#include "td_step.h"


/* Where a construction was when it saved. */
enum td_phase {
    TD_PHASE_NONE = 0,
    TD_PHASE_THEOREM6 = 1,  /* inside the Theorem 6 order search */
    TD_PHASE_POLYTOPE = 2,  /* auto: Theorem 6 ruled out, the polytope
                               attempt starts (it is not saved within) */
    TD_PHASE_PIECES_START = 3, /* auto: the pieces start afresh */
    TD_PHASE_PIECES = 4     /* inside the lifted constructions */
};

/* The rows' part and the state of one checkpoint, for the writer. */
typedef struct {
    int phase;
    int nlayers;            /* layers built so far (for messages) */
    const td_buf *state;    /* identical on every rank */
    const int *row_layer;   /* this rank's rows, global rows row0.. */
    int64_t row0, n_local, n_total;
} td_ckpt_image;

/* Collective: writes img atomically (app/io provide it). */
typedef int (*td_ckpt_writer)(void *ctx, const td_ckpt_image *img,
                              td_err *err);

typedef struct {
    td_ckpt_writer write;   /* NULL: no checkpoints (signals still stop) */
    void *ctx;
    const char *path;       /* for messages */
    double interval;        /* seconds between checkpoints, 0 every layer */
    double last;            /* td_comm_wtime of the last one (or start) */
    int phase;              /* resuming: the saved phase, else NONE */
    td_buf resume;          /* resuming: the saved state */
    int stop;               /* agreed: the signal that asked to stop */
    int force;              /* the next safe point saves (a phase ends) */
    int64_t written;        /* checkpoints written this run */
    double seconds;         /* time spent writing them */
} td_ckpt;

/* A safe point.  Collective: 1 on every rank when a checkpoint is to be
 * saved now (a stop was asked on some rank, or the interval has passed). */
int td_ckpt_due(td_ckpt *c);

/* Collective: save state (the builder packs the model with td_ckpt_pack_
 * model first, then its own) with every row's layer index; then, when a
 * stop was asked, TD_ERR_INTERRUPTED naming the checkpoint. */
int td_ckpt_save(td_ckpt *c, int phase, const td_buf *state,
                 const td_engine *e, const td_model *mdl, td_err *err);

/* Collective: stop now (TD_ERR_INTERRUPTED) if a signal came, without a
 * checkpoint; for phases that are not saved within. */
int td_ckpt_stop_asked(td_ckpt *c, td_err *err);

/* Pack and unpack the pieces of state the builders share.  Unpacking
 * allocates; a bad buffer is reported by td_buf.bad. */
void td_ckpt_pack_model(td_buf *b, const td_model *mdl);
void td_ckpt_unpack_model(td_buf *b, td_model *mdl);
void td_ckpt_pack_step(td_buf *b, const td_step *s);
void td_ckpt_unpack_step(td_buf *b, td_step *s);
void td_ckpt_pack_sep(td_buf *b, const td_sep *sp, int m);
void td_ckpt_unpack_sep(td_buf *b, td_sep *sp, int m);

#endif
