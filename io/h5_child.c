/* h5_child.c - HDF5 work in a child process (td_h5child.h). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "td_h5child.h"

/* The child's answer: this header, then len bytes. */
typedef struct {
    int code;
    char msg[TD_ERR_MSG_LEN];
    uint64_t len;
} answer;

/* Both ends of the pipe move whole records. */
static int move_all(int fd, void *buf, size_t len, int out)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = out ? write(fd, p, len) : read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void child(int fd, td_h5_job job, void *ctx)
{
    answer a;
    td_buf out = {0};
    td_err e;
    memset(&a, 0, sizeof a);
    td_err_clear(&e);
    /* a crash ends the child quietly, not with the MPI library's
     * backtrace on stderr: the parent reports it */
    const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t k = 0; k < sizeof fatal / sizeof fatal[0]; k++)
        signal(fatal[k], SIG_DFL);
    signal(SIGPIPE, SIG_IGN);       /* a parent gone: write fails, exit 1 */
    a.code = job(ctx, &out, &e);
    if (out.bad && !a.code)
        a.code = td_err_set(&e, TD_ERR_INTERNAL, "out of memory");
    memcpy(a.msg, e.msg, sizeof a.msg);
    a.len = out.bad ? 0 : out.len;
    int bad = move_all(fd, &a, sizeof a, 1) ||
              (a.len && move_all(fd, out.p, (size_t)a.len, 1));
    _exit(bad ? 1 : 0);
}

static int parent(int fd, pid_t pid, const char *path, const char *what,
                  td_buf *out, td_err *err)
{
    answer a;
    int got = move_all(fd, &a, sizeof a, 0) == 0;
    size_t start = out->len;
    char chunk[65536];
    for (uint64_t left = got ? a.len : 0; got && left > 0;) {
        size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
        got = move_all(fd, chunk, n, 0) == 0;
        if (got)
            td_buf_put(out, chunk, n);
        left -= n;
    }
    close(fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got && !out->bad) {
        a.msg[sizeof a.msg - 1] = '\0';
        return a.code ? td_err_set(err, a.code, "%s", a.msg) : TD_OK;
    }
    out->len = start;
    if (WIFSIGNALED(status))
        return td_err_set(err, TD_ERR_INPUT, "%s: corrupt HDF5 file: the "
                          "HDF5 library crashed reading %s (%s)", path, what,
                          strsignal(WTERMSIG(status)));
    return td_err_set(err, TD_ERR_INTERNAL, "%s: reading %s failed (out of "
                      "memory, or the reader's exit status %d)", path, what,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int td_h5_in_child(const char *path, const char *what, td_h5_job job,
                   void *ctx, td_buf *out, td_err *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return job(ctx, out, err);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return job(ctx, out, err);
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], job, ctx);
    }
    close(fds[1]);
    return parent(fds[0], pid, path, what, out, err);
}
