/* td_progress.h - how much rank 0 says, and how it shows the progress of
 * long phases (the build's layers, verification blocks, writing layers).
 *
 * No MPI here: the callers decide who talks.  td_say (td_comm.h) prints on
 * rank 0 only and goes through td_report_vprintf; the result writer runs on
 * one rank and calls it directly.  Ranks other than 0 are set up with
 * TD_PROGRESS_OFF, so their progress calls cost a clock read at most.
 *
 * Levels: TD_QUIET shows only lines printed at TD_QUIET (the final summary
 * line) and errors (printed by the caller on stderr); TD_NORMAL adds the
 * usual report and progress; TD_VERBOSE adds detail that is otherwise
 * summarised (a line per piece layer or polytope facet).
 *
 * Progress: on a terminal (TD_PROGRESS_BAR) one line redrawn in place, at
 * most ten times a second, kept below the text other calls print;
 * elsewhere (TD_PROGRESS_LINES: files, pipes, Slurm logs) a plain line
 * when nothing was printed for 10 s, as before the bar existed. */
#ifndef TD_PROGRESS_H
#define TD_PROGRESS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

enum { TD_QUIET = 0, TD_NORMAL = 1, TD_VERBOSE = 2 };

typedef enum {
    TD_PROGRESS_OFF = 0,     /* no progress output (ranks other than 0) */
    TD_PROGRESS_LINES = 1,   /* a plain line after 10 s of silence */
    TD_PROGRESS_BAR = 2      /* a bar redrawn in place on a terminal */
} td_progress_mode;

/* Seconds of silence before a plain progress line. */
#define TD_PROGRESS_LINE_S 10.0

/* Before any output (again to change it).  bar_stream: where the bar is
 * drawn (a terminal; NULL = stdout), used with TD_PROGRESS_BAR only.  The
 * defaults before any call: TD_NORMAL, TD_PROGRESS_OFF (progress lines
 * are printed unconditionally, so only rank 0 may have them). */
void td_report_init(int level, td_progress_mode mode, FILE *bar_stream);
int td_report_level(void);
td_progress_mode td_report_progress_mode(void);

/* Print to stdout (flushed) when the level admits `level`, first erasing
 * a bar on the same terminal and then drawing it again below the text. */
void td_report_vprintf(int level, const char *fmt, va_list ap);
void td_report_printf(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A phase with progress: begin starts its clock; tick reports `done` of
 * `total` units (total <= 0: unknown, no bar fraction) with `fmt` saying
 * where the phase is in words ("layer 5 of 276"); the plain line reads
 * "  <phase>: <words>, <seconds> s".  end erases the bar.  One phase at a
 * time; tick and print may be called from any OpenMP thread. */
void td_progress_begin(const char *phase);
void td_progress_tick(int64_t done, int64_t total, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void td_progress_end(void);

/* The bar line for a phase, as drawn (no "\r", no newline): "  verify
 * [#####-----]  50%  block 3 of 6  2 s", cut to `width` columns.  For the
 * tests. */
void td_progress_format(char *buf, size_t len, int width, const char *phase,
                        int64_t done, int64_t total, const char *words,
                        double seconds);

#endif
