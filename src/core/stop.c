/* stop.c - the note a stop signal leaves (see td_stop.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_stop.h"

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    g_signal = sig;
}

void td_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int td_stop_signal(void)
{
    return (int)g_signal;
}

const char *td_stop_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT"
           : sig == SIGUSR1 ? "SIGUSR1" : "a signal";
}


/* The rank from the launcher's environment: core code has no MPI. */
static int env_rank(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (!r)
        r = getenv("PMIX_RANK");
    return r ? atoi(r) : 0;
}

void td_stop_fault_point(void)
{
    static long count;
    const char *v = getenv("TD_FAULT_SIGNAL");
    int rank, sig;
    long k;
    count++;
    if (v && sscanf(v, "%d:%ld:%d", &rank, &k, &sig) == 3 &&
        rank == env_rank() && k == count)
        raise(sig);
}
