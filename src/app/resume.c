/* resume.c - a run's checkpoint (see td_resume.h). */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "td_comm.h"
#include "td_progress.h"
#include "td_resume.h"
#include "td_version.h"

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

/* "<base>.tmp.<pid>" of a process that no longer runs here. */
static int stale_result_tmp(const char *name, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(name, base, n) || strncmp(name + n, ".tmp.", 5))
        return 0;
    char *end;
    long pid = strtol(name + n + 5, &end, 10);
    return *end == '\0' && pid > 0 && kill((pid_t)pid, 0) != 0 &&
           errno == ESRCH;
}

/* Temporaries a killed run left beside the output. */
static void remove_stale(const char *output)
{
    char *d = strdup(output), *b = strdup(output);
    char *ck_tmp = join(output, ".checkpoint.tmp");
    if (d && b && ck_tmp) {
        const char *dir = dirname(d), *base = basename(b);
        DIR *dp = opendir(dir);
        struct dirent *ent;
        while (dp && (ent = readdir(dp))) {
            if (!stale_result_tmp(ent->d_name, base))
                continue;
            char *full = join(dir, "/");
            char *path = full ? join(full, ent->d_name) : NULL;
            if (path && remove(path) == 0)
                td_say("removed %s, left by a run that was killed\n", path);
            free(full);
            free(path);
        }
        if (dp)
            closedir(dp);
        if (remove(ck_tmp) == 0)
            td_say("removed %s, left by a run that was killed\n", ck_tmp);
    }
    free(d);
    free(b);
    free(ck_tmp);
}

int td_resume_check(const td_config *cfg, int resume, int force, int dry,
                    td_err *err)
{
    struct stat st;
    char *path = join(cfg->output_path, ".checkpoint");
    if (!path)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    if (!dry)
        remove_stale(cfg->output_path);
    if (!resume && stat(path, &st) == 0) {
        if (force && dry)
            td_say("dry run: %s would be removed (--force)\n", path);
        else if (force && remove(path) == 0)
            td_say("removed %s (--force: starting afresh)\n", path);
        else if (!force)
            td_err_set(err, TD_ERR_INPUT, "%s: checkpoint of an unfinished "
                       "run for output.path '%s': continue it with "
                       "trunc-dist --resume %s, or start afresh with "
                       "--force", path, cfg->output_path, cfg->source);
    }
    free(path);
    return err->code;
}

/* Every row's saved layer must be a layer the saved model has. */
static int rows_fit(const td_engine *e, int nlayers)
{
    int ok = 1;
    for (int64_t i = 0; i < e->n_local; i++)
        ok &= e->layer[i] >= -1 && e->layer[i] < nlayers;
    return ok;
}

static int load(td_resume *r, td_engine *e, td_err *err)
{
    int exists = 0, nlayers = 0;
    struct stat st;
    if (td_comm_rank() == 0)
        exists = stat(r->path, &st) == 0;
    td_comm_any(&exists);
    if (!exists) {
        td_say("resume: no checkpoint %s; starting from the beginning\n",
               r->path);
        return TD_OK;
    }
    td_h5_read_checkpoint(&r->meta, e->row0, e->n_local, e->layer,
                          &r->ck.phase, &nlayers, &r->ck.resume, err);
    if (err->code == TD_OK && !rows_fit(e, nlayers))
        td_err_set(err, TD_ERR_INPUT, "%s: cannot resume: a row's layer is "
                   "out of range (damaged file)", r->path);
    if (td_comm_agree(err))
        return err->code;
    td_say("resume: %s: %d layers built when it was saved\n", r->path,
           nlayers);
    return TD_OK;
}

int td_resume_setup(td_resume *r, const td_config *cfg, td_engine *e,
                    td_model *mdl, int resume, td_err *err)
{
    int q = mdl->q, m = mdl->m;
    *r = (td_resume){0};
    r->path = join(cfg->output_path, ".checkpoint");
    r->counts = malloc(sizeof(int64_t) * q);
    r->means = malloc(sizeof(double) * (size_t)q * m);
    if (!td_all_ok(r->path && r->counts && r->means))
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    if (td_engine_class_stats(e, r->counts, r->means))  /* every rank */
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory (class "
                          "statistics)");
    r->meta = (td_h5ckpt_meta){r->path, TD_VERSION, cfg->text, e->n_total,
                               m, q, mdl->labels, r->counts, r->means,
                               td_comm_world(), mdl->targets};
    r->ck = (td_ckpt){.write = cfg->checkpoint ? td_h5_write_checkpoint
                                               : NULL,
                      .ctx = &r->meta, .path = r->path,
                      .interval = cfg->checkpoint_interval,
                      .last = td_comm_wtime()};
    return resume ? load(r, e, err) : TD_OK;
}

void td_resume_finish(td_resume *r, int code)
{
    int final = code == TD_OK || code == TD_ERR_INSEPARABLE ||
                code == TD_ERR_VERIFY;
    if (final && r->path && td_comm_rank() == 0)
        remove(r->path);
    if (r->ck.written)      /* detail: the summary closes a run */
        td_say_at(TD_VERBOSE, "checkpoints: %lld written in %.3f s%s\n",
               (long long)r->ck.written, r->ck.seconds,
               final ? ", removed at the end" : "");
    td_buf_free(&r->ck.resume);
    free(r->path);
    free(r->counts);
    free(r->means);
    *r = (td_resume){0};
}
