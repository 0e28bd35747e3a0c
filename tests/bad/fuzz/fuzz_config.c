/* fuzz_config.c - libFuzzer harness for the config parser: the TOML shim
 * (io/toml_shim.cpp, toml++) and the schema (io/config.c).
 *
 * The input is config text (cut at its first NUL byte, as
 * td_read_text_file refuses those).  Beyond crashes, leaks and undefined
 * behaviour, a run fails (abort) when a documented promise breaks:
 *   - the code is 0, 1 or 2 and equals err.code;
 *   - a message is one non-empty line; an input error names the source;
 *   - a parsed config holds both paths and every value inside the range
 *     README.md documents; a failed one is left freed.
 * scripts/fuzz builds it with clang -fsanitize=fuzzer; replay_main.c runs
 * it over saved inputs in the gcc build (ctest fuzz_replay_config). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_config.h"

#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            fprintf(stderr, "fuzz_config: broken promise: %s\n", #c);     \
            abort();                                                      \
        }                                                                 \
    } while (0)

static void check_message(int rc, const td_err *err)
{
    size_t len = strnlen(err->msg, sizeof err->msg);
    CHECK(len < sizeof err->msg);
    CHECK(rc == 0 ? len == 0 : len > 0);
    CHECK(!strchr(err->msg, '\n') && !strchr(err->msg, '\r'));
    if (rc == TD_ERR_INPUT)
        CHECK(strstr(err->msg, "fuzz.toml") != NULL);
}

static void check_config(const td_config *c)
{
    CHECK(c->data_path && c->data_path[0] && c->output_path &&
          c->output_path[0] && c->x_dataset && c->x_dataset[0] &&
          c->y_dataset && c->y_dataset[0]);
    CHECK(strlen(c->data_path) < PATH_MAX && strlen(c->output_path) < PATH_MAX);
    CHECK(!c->eval_path || (c->eval_path[0] && strlen(c->eval_path) < PATH_MAX));
    CHECK(c->kappa >= 1e-4 && c->kappa <= 0.999);
    CHECK(c->checkpoint == 0 || c->checkpoint == 1);
    CHECK(c->checkpoint_interval >= 0 && c->checkpoint_interval <= 1000000000);
    CHECK(isfinite(c->auto_budget) && c->auto_budget > 0);
    CHECK(c->margin_floor > 0 && c->margin_floor <= 0.1);
    CHECK(c->grow_rounds >= 0 && c->grow_rounds <= 1000);
    CHECK(c->backtrack_budget >= 0);
    CHECK(c->working_set >= 8 && c->max_rounds >= 1);
    CHECK(c->hull_tol > 0 && c->hull_tol <= 1e-6);
    CHECK(c->gap > 0 && c->gap <= 0.5);
    CHECK(c->block_rows >= 1 && c->block_rows <= (1 << 24));
    CHECK(c->scalapack_threshold >= 1);
    CHECK(isfinite(c->tolerance) && c->tolerance > 0);
    CHECK(c->mode >= TD_MODE_AUTO && c->mode <= TD_MODE_POLYTOPE);
    CHECK(c->forward >= 0 && c->forward <= 2);
    CHECK(c->on_inseparable == TD_INSEP_FAIL ||
          c->on_inseparable == TD_INSEP_BEST_EFFORT);
    CHECK(c->base_point == TD_BASE_CONDITIONED ||
          c->base_point == TD_BASE_SEGMENT);
    CHECK(c->overwrite == 0 || c->overwrite == 1);
    CHECK(c->fisher_warm_start == 0 || c->fisher_warm_start == 1);
    CHECK(c->norder >= 0 && (c->norder == 0) == (c->order == NULL));
    for (int i = 0; i < c->norder; i++)
        for (int j = 0; j < i; j++)
            CHECK(c->order[i] != c->order[j]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    td_config cfg;
    td_err err;
    td_err_clear(&err);
    int rc = td_config_parse(text, "fuzz.toml", &cfg, &err);
    CHECK(rc == err.code);
    CHECK(rc == TD_OK || rc == TD_ERR_INPUT || rc == TD_ERR_INTERNAL);
    check_message(rc, &err);
    if (rc == TD_OK)
        check_config(&cfg);
    else
        CHECK(!cfg.text && !cfg.data_path && !cfg.output_path && !cfg.order);
    td_config_free(&cfg);
    free(text);
    return 0;
}
