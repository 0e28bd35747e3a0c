/* hull_driver.c - run td_hull_nearest on an instance file so that an
 * independent checker (hull_reference.py) can judge the answer.
 *
 *   td-hull-driver IN OUT
 *
 * IN (little-endian, no padding): int32 m, na, nb, na0, nb0; float64 gap,
 * meet_tol; int64 max_iter; then A (na x m) and B (nb x m), row-major.
 * If na0 > 0 and nb0 > 0 the driver first solves on the prefixes A[:na0],
 * B[:nb0] and then on the whole lists warm-started from that corral, the
 * way the separator grows its working set.
 *
 * OUT: int32 rc, converged; int64 iters; float64 dist, lower, scale,
 * wall and CPU seconds (of the last solve); then u, v (m each), alpha
 * (na), beta (nb).  CPU time is the number to compare: the build machine
 * is shared and wall time varies with its load.
 * Also prints one summary line on stdout (the library itself prints
 * nothing). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "td_hull.h"

typedef struct {
    int32_t m, na, nb, na0, nb0;
    double gap, meet_tol;
    int64_t max_iter;
    double *A, *B;
} instance;

static double now(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int read_instance(const char *path, instance *in)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int ok = fread(&in->m, 4, 5, f) == 5 && fread(&in->gap, 8, 2, f) == 2 &&
             fread(&in->max_iter, 8, 1, f) == 1 && in->m > 0 && in->na > 0 &&
             in->nb > 0 && in->na0 <= in->na && in->nb0 <= in->nb;
    size_t sa = ok ? (size_t)in->na * in->m : 0, sb = ok ? (size_t)in->nb * in->m : 0;
    in->A = ok ? malloc(8 * sa) : NULL;
    in->B = ok ? malloc(8 * sb) : NULL;
    ok = ok && in->A && in->B && fread(in->A, 8, sa, f) == sa &&
         fread(in->B, 8, sb, f) == sb;
    fclose(f);
    return ok ? 0 : -1;
}

static int write_result(const char *path, const instance *in, int rc,
                        const td_hull_info *info, const double secs[2],
                        const double *uvab)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int32_t head[2] = {rc, info->converged};
    int64_t iters = info->iters;
    double vals[5] = {info->dist, info->lower, info->scale, secs[0], secs[1]};
    size_t n = 2 * (size_t)in->m + in->na + in->nb;
    int ok = fwrite(head, 4, 2, f) == 2 && fwrite(&iters, 8, 1, f) == 1 &&
             fwrite(vals, 8, 5, f) == 5 && fwrite(uvab, 8, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    instance in = {0};
    if (argc != 3 || read_instance(argv[1], &in)) {
        fprintf(stderr, "usage: td-hull-driver IN OUT (bad or missing IN)\n");
        return 2;
    }
    int m = in.m;
    double *uvab = malloc(8 * (2 * (size_t)m + in.na + in.nb));
    double *u = uvab, *v = u + m, *al = v + m, *be = al + in.na;
    td_hull_opts opt = {.gap = in.gap, .meet_tol = in.meet_tol, .max_iter = in.max_iter};
    td_hull_info info = {0};
    td_hull_warm warm;
    int rc = !uvab || td_hull_warm_init(&warm, m) ? -1 : 0;
    if (!rc && in.na0 > 0 && in.nb0 > 0)
        rc = td_hull_nearest(m, in.na0, in.A, in.nb0, in.B, &opt, u, v, al,
                             be, &info, &warm);
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (!rc)
        rc = td_hull_nearest(m, in.na, in.A, in.nb, in.B, &opt, u, v, al, be,
                             &info, &warm);
    double secs[2] = {now(CLOCK_MONOTONIC) - t0,
                      now(CLOCK_PROCESS_CPUTIME_ID) - c0};
    printf("rc=%d converged=%d iters=%ld dist=%.17g lower=%.17g scale=%.6g "
           "wall_s=%.4f cpu_s=%.4f\n", rc, info.converged, info.iters,
           info.dist, info.lower, info.scale, secs[0], secs[1]);
    int wrc = write_result(argv[2], &in, rc, &info, secs, uvab);
    td_hull_warm_free(&warm);
    free(uvab); free(in.A); free(in.B);
    return rc || wrc ? 1 : 0;
}
