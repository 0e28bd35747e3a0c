/* enospc.c - a full disk for one kind of file, by LD_PRELOAD.
 *
 * Every write(2), pwrite(2) and pwrite64 to a file whose path contains
 * ".tmp." (the result writer's temporary "<output>.tmp.<pid>") fails with
 * ENOSPC, as on a full file system, once TD_ENOSPC_AFTER bytes (default
 * 0) have been written to such files; everything else is passed through.
 * fallocate(2) on such a file claims the space as a file system would:
 * ENOSPC when more is asked than is left, else the writes that follow
 * no longer fail (the space is theirs).
 * Used by the corpus case "disk_full" (tests/bad/gen_cases.py), which
 * checks that the error names the device error and the file and that
 * nothing is left behind. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int is_target(int fd)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    return strstr(path, ".tmp.") != NULL;
}

static long long budget = -1;      /* bytes still allowed; -1: not read */

/* 1 if this write to fd must fail. */
static int is_full(int fd, size_t count)
{
    if (count == 0 || !is_target(fd))
        return 0;
    if (budget < 0) {
        const char *s = getenv("TD_ENOSPC_AFTER");
        budget = s ? atoll(s) : 0;
    }
    if ((long long)count > budget) {
        errno = ENOSPC;
        return 1;
    }
    budget -= (long long)count;
    return 0;
}


ssize_t write(int fd, const void *buf, size_t count)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
                                                             "write");
    if (is_full(fd, count))
        return -1;
    return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(
            RTLD_NEXT, "pwrite");
    if (is_full(fd, count))
        return -1;
    return real(fd, buf, count, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(
            RTLD_NEXT, "pwrite64");
    if (is_full(fd, count))
        return -1;
    return real(fd, buf, count, off);
}

static int claim(int fd, off_t len)
{
    if (!is_target(fd))
        return 0;
    if (budget < 0) {
        const char *s = getenv("TD_ENOSPC_AFTER");
        budget = s ? atoll(s) : 0;
    }
    if ((long long)len > budget) {
        errno = ENOSPC;
        return -1;
    }
    budget = LLONG_MAX;
    return 1;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    static int (*real)(int, int, off_t, off_t);
    if (!real)
        real = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");
    int c = claim(fd, len);
    if (c < 0)
        return -1;
    return real(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
    static int (*real)(int, int, off_t, off_t);
    if (!real)
        real = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT,
                                                      "fallocate64");
    int c = claim(fd, len);
    if (c < 0)
        return -1;
    return real(fd, mode, off, len);
}
