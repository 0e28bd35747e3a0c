/* td_err.h - status codes and error records shared by every module.
 *
 * A function that can fail fills a td_err and returns its code.  The record
 * travels up to main, where all ranks agree on the worst code before anyone
 * exits (td_comm_agree), so every rank leaves with the same exit status. */
#ifndef TD_ERR_H
#define TD_ERR_H

#include <stddef.h>

/* Exit codes; documented in the README.  Never renumber them: scripts and
 * Slurm job logic depend on the values. */
enum td_status {
    TD_OK = 0,
    TD_ERR_INTERNAL = 1,    /* bug or resource failure (allocation, MPI) */
    TD_ERR_INPUT = 2,       /* bad config, missing file/dataset, bad values */
    TD_ERR_INSEPARABLE = 3, /* data is not sequentially linearly separable */
    TD_ERR_VERIFY = 4,      /* forward pass did not reach zero loss */
    TD_ERR_OUTPUT = 5,      /* result file could not be written */
    TD_ERR_INTERRUPTED = 6  /* stopped by SIGTERM, SIGINT or SIGUSR1 at a
                               safe point; the checkpoint (if any) is kept
                               for --resume */
};

#define TD_ERR_MSG_LEN 1024

typedef struct {
    int code;                   /* enum td_status */
    char msg[TD_ERR_MSG_LEN];   /* one line, no trailing newline */
} td_err;

/* Reset to TD_OK with an empty message. */
void td_err_clear(td_err *err);

/* Record an error (printf-style one-line message) and return its code, so
 * callers can write `return td_err_set(err, TD_ERR_INPUT, "...")`.
 * The first error recorded wins: a later call does not overwrite it. */
int td_err_set(td_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Human name of a status code ("input error", ...). */
const char *td_status_name(int code);

#endif
