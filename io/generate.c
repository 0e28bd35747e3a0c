/* generate.c - `trunc-dist generate`'s parallel HDF5 writer (td_h5gen.h). */
#include <errno.h>
#include <hdf5.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* The temporary's name, rank 0's pid on every rank. */
static char *temp_name(const char *out, MPI_Comm comm)
{
    long pid = (long)getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);
    size_t len = strlen(out) + 32;
    char *tmp = malloc(len);
    if (tmp)
        snprintf(tmp, len, "%s.tmp.%ld", out, pid);
    return tmp;
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

int td_h5gen_write(const td_gen *g, const td_h5gen_opts *o, MPI_Comm comm,
                   td_h5gen_stats *st, td_err *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(st, 0, sizeof *st);
    double t0 = MPI_Wtime();
    int m = g->m;
    size_t esz = o->f32 ? 4 : 8;
    int64_t row0 = split(g->n, rank, size);
    int64_t cnt = split(g->n, rank + 1, size) - row0, maxcnt = 0;
    for (int r = 0; r < size; r++) {
        int64_t c = split(g->n, r + 1, size) - split(g->n, r, size);
        maxcnt = c > maxcnt ? c : maxcnt;
    }
    int64_t B = (int64_t)(BLOCK_BYTES / ((size_t)m * esz));
    B = B < 1 ? 1 : B;
    const char *env = getenv("TD_GEN_BLOCK_ROWS");     /* tests: many blocks */
    if (env && atoll(env) > 0 && atoll(env) < B)
        B = atoll(env);
    if (B > maxcnt)
        B = maxcnt;
    int64_t nblocks = (maxcnt + B - 1) / B;
    st->block_rows = B;
    st->bytes = g->n * (int64_t)(m * esz + 8);

    buffers b = {0};
    int nt = omp_get_max_threads();
    b.scratch = malloc(sizeof(double) * 2 * (size_t)m * nt);
    b.xbuf = malloc((size_t)B * m * esz);
    b.ybuf = malloc(sizeof(int64_t) * (size_t)B);
    char *tmp = temp_name(o->out, comm);
    int ok = b.scratch && b.xbuf && b.ybuf && tmp;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (!ok) {
        free(b.scratch); free(b.xbuf); free(b.ybuf); free(tmp);
        return td_err_set(err, TD_ERR_INTERNAL, "generate: out of memory (a "
                          "block of %lld rows of %d features)", (long long)B,
                          m);
    }

    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), f = -1, x = -1, y = -1;
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    errno = 0;
    if (fapl >= 0 && fcpl >= 0 && H5Pset_fapl_mpio(fapl, comm,
                                                   MPI_INFO_NULL) >= 0 &&
        H5Pset_obj_track_times(fcpl, 0) >= 0)
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    int saved = errno;
    ok = f >= 0;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (!ok) {
        td_err_set(err, TD_ERR_OUTPUT, "%s: cannot create the temporary "
                   "%s: %s", o->out, tmp, saved ? strerror(saved)
                                                : "HDF5 error");
    } else {
        x = create(f, "X", o->f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, 2,
                   (hsize_t)g->n, (hsize_t)m);
        y = create(f, "y", H5T_STD_I64LE, 1, (hsize_t)g->n, 1);
        /* each rank's block is one contiguous run of the file: written
         * independently it goes straight to the file system, while MPI-IO's
         * collective buffering first ships it to the aggregator ranks (2
         * ranks, 528 MB: 340 MB/s independent, 95-175 MB/s collective);
         * TD_GEN_COLLECTIVE=1 for file systems that prefer it */
        ok = x >= 0 && y >= 0 && dxpl >= 0 &&
             H5Pset_dxpl_mpio(dxpl, getenv("TD_GEN_COLLECTIVE")
                                    ? H5FD_MPIO_COLLECTIVE
                                    : H5FD_MPIO_INDEPENDENT) >= 0;
        MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
        if (!ok)
            td_err_set(err, TD_ERR_OUTPUT, "%s: cannot create X (%lld x %d) "
                       "and y in the temporary %s: HDF5 error or disk full",
                       o->out, (long long)g->n, m, tmp);
    }

    /* the blocks: every rank makes nblocks pairs of collective writes */
    if (rank == 0)
        td_progress_begin("generate");
    for (int64_t k = 0; !err->code && k < nblocks; k++) {
        int64_t lo = k * B < cnt ? k * B : cnt;
        int64_t c = cnt - lo < B ? cnt - lo : B;
        double a = MPI_Wtime();
        generate(g, o->f32, row0 + lo, c, &b);
        double w = MPI_Wtime();
        int wok = write_rows(x, o->f32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE,
                             2, (hsize_t)(row0 + lo), (hsize_t)c, (hsize_t)m,
                             dxpl, b.xbuf) == 0;
        wok = wok && write_rows(y, H5T_NATIVE_INT64, 1, (hsize_t)(row0 + lo),
                                (hsize_t)c, 1, dxpl, b.ybuf) == 0;
        st->gen_seconds += w - a;
        st->write_seconds += MPI_Wtime() - w;
        td_stop_fault_point();      /* TD_FAULT_SIGNAL: a stop here (tests) */
        int flags[2] = {wok ? 0 : 1, td_stop_signal()};
        MPI_Allreduce(MPI_IN_PLACE, flags, 2, MPI_INT, MPI_MAX, comm);
        if (flags[0]) {
            td_err_set(err, TD_ERR_OUTPUT, "%s: cannot write a block of rows "
                       "to the temporary %s (disk full or I/O error)",
                       o->out, tmp);
        } else if (flags[1]) {
            td_err_set(err, TD_ERR_INTERRUPTED, "stopped by %s while "
                       "generating %s: nothing written", td_stop_name(flags[1]),
                       o->out);
        }
        if (rank == 0)
            td_progress_tick(k + 1, nblocks, "block %lld of %lld",
                             (long long)(k + 1), (long long)nblocks);
    }
    if (rank == 0)
        td_progress_end();

    if (!err->code) {
        ok = attributes(f, g, o) == 0;
        MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
        if (!ok)
            td_err_set(err, TD_ERR_OUTPUT, "%s: cannot write the attributes "
                       "to the temporary %s", o->out, tmp);
    }
    if (x >= 0) H5Dclose(x);
    if (y >= 0) H5Dclose(y);
    ok = f < 0 || H5Fclose(f) >= 0;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (!ok)
        td_err_set(err, TD_ERR_OUTPUT, "%s: cannot close the temporary %s "
                   "(disk full or I/O error)", o->out, tmp);
    if (dxpl >= 0) H5Pclose(dxpl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);

    /* rank 0 syncs and renames; everyone learns how it went */
    int e = 0;
    if (rank == 0 && !err->code && td_h5par_commit(tmp, o->out) != 0)
        e = errno ? errno : EIO;
    MPI_Bcast(&e, 1, MPI_INT, 0, comm);
    if (!err->code && e)
        td_err_set(err, TD_ERR_OUTPUT, "%s: cannot rename the temporary %s "
                   "to it: %s", o->out, tmp, strerror(e));
    if (err->code && rank == 0)
        remove(tmp);                /* never leave a partial file */
    st->seconds = MPI_Wtime() - t0;
    free(b.scratch);
    free(b.xbuf);
    free(b.ybuf);
    free(tmp);
    return err->code;
}
