/* stop.c - the note a stop signal leaves (see td_stop.h). */
#include <signal.h>
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

