/* td_example.h - the embedded default example (no download needed). */
#ifndef TD_EXAMPLE_H
#define TD_EXAMPLE_H

#include "td_err.h"

/* Write DIR/example.h5 (X: 2000 x 8 float64, y: int64 labels 10, 20, 30,
 * 40; four Gaussian clusters, rows interleaved) and DIR/example.toml (the
 * minimal config for it), creating DIR if needed.  Deterministic. */
int td_example_write(const char *dir, td_err *err);

#endif
