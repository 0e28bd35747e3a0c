/* generate.c - `trunc-dist generate`'s parallel HDF5 writer (td_h5gen.h). */
#include <hdf5.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_h5gen.h"
#include "td_h5par.h"
#include "td_progress.h"
#include "td_stop.h"
#include "td_version.h"

#define BLOCK_BYTES (16 << 20)

/* Rows of rank r of p: [n r / p, n (r + 1) / p). */
static int64_t split(int64_t n, int r, int p)
{
    return (int64_t)((__int128)n * r / p);
}

/* X and y, contiguous, allocated when created and never filled (every
 * byte is written once), no object times (same request, same bytes). */
static hid_t create(hid_t f, const char *name, hid_t type, int rank,
                    hsize_t n, hsize_t m)
{
    hsize_t dims[2] = {n, m};
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), d = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0 &&
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0)
        d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return d;
}

/* One write of rows [off, off + cnt) (cnt 0: none; every rank calls it,
 * as a collective transfer needs). */
static int write_rows(hid_t d, hid_t mtype, int rank, hsize_t off,
                      hsize_t cnt, hsize_t m, hid_t dxpl, const void *buf)
{
    hsize_t start[2] = {off, 0}, count[2] = {cnt, m};
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(rank, count, NULL);
    int ok = fs >= 0 && ms >= 0;
    if (ok && cnt > 0)
        ok = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count,
                                 NULL) >= 0;
    else if (ok)
        ok = H5Sselect_none(fs) >= 0 && H5Sselect_none(ms) >= 0;
    ok = ok && H5Dwrite(d, mtype, ms, fs, dxpl, buf) >= 0;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return ok ? 0 : -1;
}

static int attr_f64(hid_t f, const char *name, double v)
{
    return td_h5par_attr(f, name, H5T_NATIVE_DOUBLE, &v, 1);
}

static int attr_i64(hid_t f, const char *name, int64_t v)
{
    return td_h5par_attr(f, name, H5T_NATIVE_INT64, &v, 1);
}

/* The provenance on the root: every rank, the same values. */
static int attributes(hid_t f, const td_gen *g, const td_h5gen_opts *o)
{
    int bad = 0;
    uint64_t seed = g->seed;
    bad |= td_h5par_text(f, "format", "trunc-dist generate 1");
    bad |= td_h5par_text(f, "generator", "trunc-dist " TD_VERSION);
    bad |= td_h5par_text(f, "git_commit", TD_GIT_COMMIT);
    bad |= td_h5par_text(f, "kind", td_gen_kind_name(g->kind));
    bad |= td_h5par_text(f, "description", td_gen_description(g->kind));
    bad |= td_h5par_text(f, "command", o->command);
    bad |= td_h5par_attr(f, "seed", H5T_NATIVE_UINT64, &seed, 1);
    bad |= attr_i64(f, "n", g->n);
    bad |= attr_i64(f, "m", g->m);
    bad |= attr_i64(f, "q", g->q);
    bad |= td_h5par_text(f, "dtype", o->f32 ? "float32" : "float64");
    bad |= attr_i64(f, "label_offset", g->label_offset);
    bad |= attr_i64(f, "label_step", g->label_step);
    bad |= td_h5par_text(f, "layout", td_gen_layout_name(g->layout));
    switch (g->kind) {
    case TD_GEN_BLOBS:
        bad |= attr_f64(f, "sep", g->sep);
        bad |= attr_f64(f, "sigma", g->sigma);
        bad |= attr_f64(f, "halfgap", g->halfgap);
        bad |= attr_f64(f, "centre_distance", g->dist);
        break;
    case TD_GEN_OVERLAP:
        bad |= attr_f64(f, "sep", g->sep);
        bad |= attr_f64(f, "sigma", g->sigma);
        bad |= attr_f64(f, "centre_distance", g->dist);
        break;
    case TD_GEN_SLS_NOT_OVR:
        bad |= attr_f64(f, "spacing", g->dist);
        bad |= attr_f64(f, "radius", g->radius);
        break;
    case TD_GEN_CLUSTERED:
        bad |= attr_f64(f, "centre_distance", g->dist);
        bad |= attr_f64(f, "delta", g->delta);
        bad |= attr_f64(f, "delta_crit", g->delta_crit);
        bad |= attr_f64(f, "prop3_r_min", g->r_min);
        bad |= attr_f64(f, "prop3_proj_min", g->proj_min);
        bad |= attr_f64(f, "prop3_bound18", g->bound18);
        bad |= attr_f64(f, "prop3_bound20", g->bound20);
        bad |= attr_i64(f, "prop3_binding", g->binding);
        bad |= attr_f64(f, "violate", g->has_violate ? g->violate : 0.0);
        bad |= attr_i64(f, "prop3_holds", !g->has_violate);
        break;
    case TD_GEN_RANDOM:
        bad |= attr_f64(f, "half_width", g->radius);
        break;
    default:
        break;
    }
    return bad;
}

typedef struct {
    double *scratch;         /* 2 M per thread */
    void *xbuf;              /* B rows in the file's precision */
    int64_t *ybuf;
} buffers;

/* Generate local rows [r0, r0 + c) into the buffers (threads share the
 * rows; every row is a function of its index alone). */
static void generate(const td_gen *g, int f32, int64_t r0, int64_t c,
                     buffers *b)
{
    int m = g->m;
    #pragma omp parallel
    {
        double *x = b->scratch + (size_t)omp_get_thread_num() * 2 * m;
        #pragma omp for schedule(static)
        for (int64_t i = 0; i < c; i++) {
            td_gen_row(g, r0 + i, x, &b->ybuf[i]);
            if (f32) {
                float *o = (float *)b->xbuf + (size_t)i * m;
                for (int j = 0; j < m; j++)
                    o[j] = (float)x[j];
            } else {
                memcpy((double *)b->xbuf + (size_t)i * m, x,
                       sizeof(double) * (size_t)m);
            }
        }
    }
}

/* What the fill callback of td_h5par_write needs. */
typedef struct {
    const td_gen *g;
    const td_h5gen_opts *o;
    MPI_Comm comm;
    int rank;
    int64_t row0, cnt, B, nblocks;
    buffers b;
    td_h5gen_stats *st;
    td_err *err;
} job;

/* All ranks agree on a flag (MIN), so every rank takes the same branch. */
static int all_ok(int ok, MPI_Comm comm)
{
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    return ok;
}

/* The blocks: every rank makes nblocks pairs of writes, then agrees on
 * errors and stop signals. */
static int blocks(job *j, hid_t x, hid_t y, hid_t dxpl)
{
    const td_gen *g = j->g;
    if (j->rank == 0)
        td_progress_begin("generate");
    for (int64_t k = 0; !j->err->code && k < j->nblocks; k++) {
        int64_t lo = k * j->B < j->cnt ? k * j->B : j->cnt;
        int64_t c = j->cnt - lo < j->B ? j->cnt - lo : j->B;
        hsize_t off = (hsize_t)(j->row0 + lo);
        double a = MPI_Wtime();
        generate(g, j->o->f32, j->row0 + lo, c, &j->b);
        double w = MPI_Wtime();
        int ok = write_rows(x, j->o->f32 ? H5T_NATIVE_FLOAT
                                         : H5T_NATIVE_DOUBLE, 2, off,
                            (hsize_t)c, (hsize_t)g->m, dxpl, j->b.xbuf) == 0;
        ok = write_rows(y, H5T_NATIVE_INT64, 1, off, (hsize_t)c, 1, dxpl,
                        j->b.ybuf) == 0 && ok;
        j->st->gen_seconds += w - a;
        j->st->write_seconds += MPI_Wtime() - w;
        td_stop_fault_point();      /* TD_FAULT_SIGNAL: a stop here (tests) */
        int flags[2] = {!ok, td_stop_signal()};
        MPI_Allreduce(MPI_IN_PLACE, flags, 2, MPI_INT, MPI_MAX, j->comm);
        if (flags[0])
            td_err_set(j->err, TD_ERR_OUTPUT, "%s: cannot write rows to its "
                       "temporary %s.tmp (disk full or I/O error)", j->o->out,
                       j->o->out);
        else if (flags[1])
            td_err_set(j->err, TD_ERR_INTERRUPTED, "stopped by %s while "
                       "generating %s: nothing written",
                       td_stop_name(flags[1]), j->o->out);
        if (j->rank == 0)
            td_progress_tick(k + 1, j->nblocks, "block %lld of %lld",
                             (long long)(k + 1), (long long)j->nblocks);
    }
    if (j->rank == 0)
        td_progress_end();
    return j->err->code;
}

/* td_h5par_write's fill: X and y, the blocks, the attributes.  Nonzero
 * (the same on every rank) when something failed, with err set. */
static int fill(hid_t f, void *ctx)
{
    job *j = ctx;
    const td_gen *g = j->g;
    hid_t x = create(f, "X", j->o->f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, 2,
                     (hsize_t)g->n, (hsize_t)g->m);
    hid_t y = create(f, "y", H5T_STD_I64LE, 1, (hsize_t)g->n, 1);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    /* each rank's block is one contiguous run of the file: written
     * independently it goes straight to the file system, while MPI-IO's
     * collective buffering first ships it to the aggregator ranks (2
     * ranks, 528 MB: 340 MB/s independent, 95-175 MB/s collective);
     * TD_GEN_COLLECTIVE=1 for file systems that prefer it */
    int ok = x >= 0 && y >= 0 && dxpl >= 0 &&
             H5Pset_dxpl_mpio(dxpl, getenv("TD_GEN_COLLECTIVE")
                                    ? H5FD_MPIO_COLLECTIVE
                                    : H5FD_MPIO_INDEPENDENT) >= 0;
    if (!all_ok(ok, j->comm))
        td_err_set(j->err, TD_ERR_OUTPUT, "%s: cannot create X (%lld x %d) "
                   "and y in its temporary %s.tmp: HDF5 error or disk full",
                   j->o->out, (long long)g->n, g->m, j->o->out);
    if (!j->err->code)
        blocks(j, x, y, dxpl);
    if (!j->err->code && !all_ok(attributes(f, g, j->o) == 0, j->comm))
        td_err_set(j->err, TD_ERR_OUTPUT, "%s: cannot write the attributes "
                   "to its temporary %s.tmp", j->o->out, j->o->out);
    if (x >= 0) H5Dclose(x);
    if (y >= 0) H5Dclose(y);
    if (dxpl >= 0) H5Pclose(dxpl);
    return j->err->code;
}

int td_h5gen_write(const td_gen *g, const td_h5gen_opts *o, MPI_Comm comm,
                   td_h5gen_stats *st, td_err *err)
{
    job j = {g, o, comm, 0, 0, 0, 0, 0, {0}, st, err};
    int size;
    MPI_Comm_rank(comm, &j.rank);
    MPI_Comm_size(comm, &size);
    memset(st, 0, sizeof *st);
    double t0 = MPI_Wtime();
    int m = g->m;
    size_t esz = o->f32 ? 4 : 8;
    j.row0 = split(g->n, j.rank, size);
    j.cnt = split(g->n, j.rank + 1, size) - j.row0;
    int64_t maxcnt = 0;
    for (int r = 0; r < size; r++) {
        int64_t c = split(g->n, r + 1, size) - split(g->n, r, size);
        maxcnt = c > maxcnt ? c : maxcnt;
    }
    int64_t B = (int64_t)(BLOCK_BYTES / ((size_t)m * esz));
    B = B < 1 ? 1 : B;
    const char *env = getenv("TD_GEN_BLOCK_ROWS");     /* tests: many blocks */
    if (env && atoll(env) > 0 && atoll(env) < B)
        B = atoll(env);
    j.B = B > maxcnt ? maxcnt : B;
    j.nblocks = (maxcnt + j.B - 1) / j.B;
    st->block_rows = j.B;
    st->bytes = g->n * (int64_t)(m * esz + 8);

    int nt = omp_get_max_threads();
    j.b.scratch = malloc(sizeof(double) * 2 * (size_t)m * nt);
    j.b.xbuf = malloc((size_t)j.B * m * esz);
    j.b.ybuf = malloc(sizeof(int64_t) * (size_t)j.B);
    if (!all_ok(j.b.scratch && j.b.xbuf && j.b.ybuf, comm))
        td_err_set(err, TD_ERR_INTERNAL, "generate: out of memory (a block "
                   "of %lld rows of %d features)", (long long)j.B, m);
    else    /* OUT.tmp, collective; rank 0 syncs and renames it; removed on
             * any failure */
        td_h5par_write(o->out, comm, "generated data", fill, &j, err);
    st->seconds = MPI_Wtime() - t0;
    free(j.b.scratch);
    free(j.b.xbuf);
    free(j.b.ybuf);
    return err->code;
}
