/* fault_alloc.c - allocation fault injection for trunc-dist-faults.
 *
 * trunc-dist-faults is trunc-dist linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup: every
 * allocation that trunc-dist's own objects make comes here first, while
 * HDF5, MPI, OpenMP and the C++ runtime (shared libraries) keep the real
 * allocator.  No source file of the program is changed for the hook.
 *
 *   TD_FAULT_ALLOC=RANK:K   the K-th allocation (1-based, counting every
 *                           wrapped call in order) on MPI rank RANK returns
 *                           NULL with errno ENOMEM, once; every other call
 *                           and every other rank is untouched
 *   TD_FAULT_TRACE=PREFIX   every rank writes PREFIX.RANK: one line per
 *                           allocation, "K ADDR" (ADDR: the return address
 *                           of the call, in the executable, which is linked
 *                           without PIE so addresses are stable: addr2line
 *                           names the function and line), "K ADDR FAIL" for
 *                           the injected one
 *
 * The rank comes from the launcher's environment (Open MPI's
 * OMPI_COMM_WORLD_RANK, or PMIX_RANK / PMI_RANK), so the hook needs no MPI
 * call and also counts the allocations made before MPI_Init returns.
 * OpenMP threads may allocate concurrently: the counter is atomic (with one
 * thread per rank, as the fault test runs, the count is deterministic). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t sz);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_long g_count;
static long g_target = -1;      /* K on this rank, -1: never fail */
static FILE *g_trace;

static int env_rank(void)
{
    static const char *names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK",
                                  "PMI_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

static void flush_trace(void)
{
    if (g_trace)
        fflush(g_trace);
}

static void setup(void)
{
    int rank = env_rank();
    const char *spec = getenv("TD_FAULT_ALLOC");
    int r;
    long k;
    if (spec && sscanf(spec, "%d:%ld", &r, &k) == 2 && r == rank && k > 0)
        g_target = k;
    const char *prefix = getenv("TD_FAULT_TRACE");
    if (prefix && *prefix) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%d", prefix, rank);
        g_trace = fopen(path, "w");     /* libc's own allocations: unwrapped */
        if (g_trace)
            atexit(flush_trace);
    }
}

/* Count this allocation; 1 if it is the one to fail. */
static int fail_here(void *caller)
{
    pthread_once(&g_once, setup);
    long k = atomic_fetch_add(&g_count, 1) + 1;
    int fail = k == g_target;
    if (g_trace) {
        fprintf(g_trace, "%ld %p%s\n", k, caller, fail ? " FAIL" : "");
        if (fail)
            fflush(g_trace);
    }
    if (fail)
        errno = ENOMEM;
    return fail;
}

void *__wrap_malloc(size_t n)
{
    return fail_here(__builtin_return_address(0)) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t sz)
{
    return fail_here(__builtin_return_address(0)) ? NULL
                                                  : __real_calloc(n, sz);
}

void *__wrap_realloc(void *p, size_t n)
{
    /* a failed realloc leaves p allocated, as the real one does */
    return fail_here(__builtin_return_address(0)) ? NULL
                                                  : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_here(__builtin_return_address(0)) ? NULL : __real_strdup(s);
}
