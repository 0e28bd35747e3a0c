/* td_ux.h - what trunc-dist tells the user around a run: how much it says
 * and where progress goes (--quiet, --verbose, --progress), the final
 * summary, and the report of a dry run (--dry-run).  src/app/ux.c and
 * src/app/dryrun.c; main.c calls them at the edges of run(). */
#ifndef TD_UX_H
#define TD_UX_H

#include "td_config.h"
#include "td_engine.h"
#include "td_err.h"
#include "td_h5.h"
#include "td_model.h"

/* --progress */
enum { TD_UX_PROGRESS_AUTO = 0, TD_UX_PROGRESS_BAR = 1,
       TD_UX_PROGRESS_LINES = 2 };

/* Every rank, before anything is printed: the level (td_progress.h) and,
 * on rank 0, the progress mode.  auto: a bar when rank 0's stdout or
 * stderr is a terminal, except stdout under Open MPI's mpirun, which hands
 * every rank a pseudo-terminal wherever its own output goes (then
 * --progress=bar asks for the bar; it is forwarded like any output). */
void td_ux_setup(int level, int progress);

/* Rank 0, after the result was written: one line (shown even with
 * --quiet: construction, layers, parameters, zero loss and max error,
 * total time, output path), then the phase times (the "time:" line the
 * benchmark scripts read).  write_s: the whole write phase. */
void td_ux_summary(const td_config *cfg, const td_model *mdl,
                   const td_run_times *t, double write_s);

/* --dry-run, collective, after load_data's checks passed: one more pass
 * for the class counts, then what was found (shapes, types, classes, the
 * rows per rank), what a run would build and write, and the memory it
 * would need per rank (td_memory.h).  Writes nothing. */
int td_ux_dry_run(const td_config *cfg, td_engine *eng, td_model *mdl,
                  td_err *err);

#endif
