/* td_paths.h - the checks every command that writes a file makes first
 * (the result, a checkpoint's output, eval's predictions, convert's and
 * generate's OUT), so each refuses the same things with the same words. */
#ifndef TD_PATHS_H
#define TD_PATHS_H

#include "td_err.h"

/* 1 if a and b name the same existing file (through links too); 0 when
 * either is NULL or missing. */
int td_same_file(const char *a, const char *b);

/* `path` may become a new file: it is not a directory (TD_ERR_INPUT), it
 * does not exist unless force (TD_ERR_INPUT: "PATH exists: run with
 * --force to replace it"), and its directory exists and is writable
 * (TD_ERR_OUTPUT).  Local (rank 0); the caller agrees. */
int td_check_new_file(const char *path, int force, td_err *err);

#endif
