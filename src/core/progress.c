/* progress.c - report levels and the progress of long phases (see
 * td_progress.h).  One process-wide state: rank 0 talks, one phase at a
 * time; a named OpenMP critical section keeps a thread's line and the bar
 * from interleaving. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "td_progress.h"

#define BAR_REDRAW_S 0.1     /* at most ten redraws a second */
#define BAR_CELLS 20

static struct {
    int level;
    td_progress_mode mode;
    FILE *bar;               /* where the bar is drawn (BAR mode) */
    char phase[32];          /* current phase, "" when none */
    double t0;               /* phase start */
    double last_out;         /* last line printed (LINES mode: silence) */
    double last_draw;        /* last bar redraw */
    char line[512];          /* the bar as drawn; "" when none is shown */
} S = {TD_NORMAL, TD_PROGRESS_OFF, NULL, "", 0, 0, -1e300, ""};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void td_report_init(int level, td_progress_mode mode, FILE *bar_stream)
{
    S.level = level < TD_QUIET ? TD_QUIET
            : level > TD_VERBOSE ? TD_VERBOSE : level;
    S.mode = mode;
    S.bar = bar_stream ? bar_stream : stdout;
    S.line[0] = S.phase[0] = '\0';
    S.last_out = now();
}

int td_report_level(void) { return S.level; }
td_progress_mode td_report_progress_mode(void) { return S.mode; }

static FILE *bar_stream(void)
{
    return S.bar ? S.bar : stdout;
}

static void bar_erase(void)
{
    if (!S.line[0])
        return;
    fputs("\r\033[K", bar_stream());
    fflush(bar_stream());
}

static void bar_draw(void)
{
    if (!S.line[0])
        return;
    fprintf(bar_stream(), "\r%s\033[K", S.line);
    fflush(bar_stream());
}

void td_report_vprintf(int level, const char *fmt, va_list ap)
{
    if (level > S.level)
        return;
    #pragma omp critical(td_report)
    {
        bar_erase();
        vprintf(fmt, ap);
        fflush(stdout);
        bar_draw();
        S.last_out = now();
    }
}

void td_report_printf(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    td_report_vprintf(level, fmt, ap);
    va_end(ap);
}

/* Columns of the bar's terminal (80 when it does not say: Open MPI's
 * forwarding pseudo-terminal reports 0). */
static int columns(void)
{
    struct winsize ws;
    if (ioctl(fileno(bar_stream()), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

void td_progress_format(char *buf, size_t len, int width, const char *phase,
                        int64_t done, int64_t total, const char *words,
                        double seconds)
{
    if (len == 0)
        return;
    char cells[BAR_CELLS + 1];
    if (total > 0) {
        double f = done <= 0 ? 0 : done >= total ? 1 : (double)done / total;
        int full = (int)(f * BAR_CELLS);
        memset(cells, '#', (size_t)full);
        memset(cells + full, '-', (size_t)(BAR_CELLS - full));
        cells[BAR_CELLS] = '\0';
        snprintf(buf, len, "  %-6s [%s] %3d%%  %s  %.0f s", phase, cells,
                 (int)(100 * f), words, seconds);
    } else {
        snprintf(buf, len, "  %-6s %s  %.0f s", phase, words, seconds);
    }
    /* the cursor must stay on the line: never fill the last column */
    if (width > 1 && strlen(buf) >= (size_t)width)
        buf[width - 1] = '\0';
}

void td_progress_begin(const char *phase)
{
    #pragma omp critical(td_report)
    {
        snprintf(S.phase, sizeof S.phase, "%s", phase);
        S.t0 = now();
        S.last_out = S.t0;       /* a first plain line after 10 s */
        S.last_draw = -1e300;    /* a bar at once */
    }
}

void td_progress_tick(int64_t done, int64_t total, const char *fmt, ...)
{
    if (S.mode == TD_PROGRESS_OFF || S.level < TD_NORMAL || !S.phase[0])
        return;
    double t = now();
    if (S.mode == TD_PROGRESS_BAR ? t - S.last_draw < BAR_REDRAW_S
                                  : t - S.last_out < TD_PROGRESS_LINE_S)
        return;
    char words[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(words, sizeof words, fmt, ap);
    va_end(ap);
    #pragma omp critical(td_report)
    {
        if (S.mode == TD_PROGRESS_BAR) {
            td_progress_format(S.line, sizeof S.line, columns(), S.phase,
                               done, total, words, t - S.t0);
            bar_draw();
            S.last_draw = t;
        } else {
            printf("  %s: %s, %.0f s\n", S.phase, words, t - S.t0);
            fflush(stdout);
            S.last_out = t;
        }
    }
}

void td_progress_end(void)
{
    #pragma omp critical(td_report)
    {
        bar_erase();
        S.line[0] = S.phase[0] = '\0';
    }
}
