/* td_resume.h - a run's checkpoint: where it lives, what it must agree
 * with, and when it goes (src/app/resume.c; the format is td_h5ckpt.h,
 * the safe points td_ckpt.h).
 *
 * <output.path>.checkpoint exists only while a build is unfinished: a
 * run without --resume refuses to start over one (unless --force), a
 * run with --resume continues from it (or starts afresh when there is
 * none), and a run that ends with its answer (exit 0, 3 or 4) removes
 * it.  A stop by signal, an internal or an output error keeps it. */
#ifndef TD_RESUME_H
#define TD_RESUME_H

#include <stdint.h>
#include "td_ckpt.h"
#include "td_config.h"
#include "td_engine.h"
#include "td_h5ckpt.h"
#include "td_model.h"

typedef struct {
    char *path;             /* <output.path>.checkpoint */
    int64_t *counts;        /* q, over all rows: the data's fingerprint */
    double *means;          /* q x m */
    td_h5ckpt_meta meta;
    td_ckpt ck;
} td_resume;

/* Rank 0, before any work: remove stale temporaries of this output
 * (<output>.tmp.<pid> of a process that is gone, <output>.checkpoint.tmp)
 * and refuse to start over an existing checkpoint unless resuming or
 * forced (forced: it is removed).  dry: the same verdict, nothing
 * removed (--dry-run changes no file). */
int td_resume_check(const td_config *cfg, int resume, int force, int dry,
                    td_err *err);

/* Collective, after the data are loaded with every row active: the
 * fingerprint and the writer; resuming, the saved phase and state in
 * r->ck and every row's layer in e->layer. */
int td_resume_setup(td_resume *r, const td_config *cfg, td_engine *e,
                    td_model *mdl, int resume, td_err *err);

/* The run ends with code: rank 0 removes the checkpoint when the answer
 * is final.  Then free. */
void td_resume_finish(td_resume *r, int code);

#endif
