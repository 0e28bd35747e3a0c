/* td_stop.h - SIGTERM, SIGINT and SIGUSR1 ask a run to stop.
 *
 * Slurm sends SIGTERM at a time limit or scancel (and the signal asked
 * with --signal some time before), then SIGKILL.  The handler only notes
 * the signal; the run looks at the note at safe points (after a layer,
 * between layers of the result file), saves what it can and stops with
 * TD_ERR_INTERRUPTED (td_ckpt.h).  The second such signal gets the
 * default action: a user who presses Ctrl-C twice means it. */
#ifndef TD_STOP_H
#define TD_STOP_H

/* Install the handlers (every rank, before any work). */
void td_stop_install(void);
/* The signal noted on this rank, 0 if none (local). */
int td_stop_signal(void);
/* "SIGTERM", "SIGINT", "SIGUSR1". */
const char *td_stop_name(int sig);

/* A place where a stop is looked at (a safe point of the build, a layer
 * of the result file).  Tests stop a run exactly there:
 * TD_FAULT_SIGNAL=RANK:K:SIG raises SIG on rank RANK at its K-th such
 * place (SIGKILL: only what was saved before survives). */
void td_stop_fault_point(void);

#endif
