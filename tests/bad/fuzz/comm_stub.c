/* comm_stub.c - the td_comm functions io/h5_reader.c refers to, for the
 * h5probe fuzz harness (scripts/fuzz), which calls only the probe: they
 * are reached from td_h5_read_shard alone, so a call is a harness bug.
 * Keeps the fuzz build free of the engine and its libraries. */
#include <stdio.h>
#include <stdlib.h>
#include "td_comm.h"

static void unreachable(const char *what)
{
    fprintf(stderr, "comm_stub: %s called from the probe harness\n", what);
    abort();
}

void td_comm_bcast(void *buf, size_t bytes)
{
    (void)buf;
    (void)bytes;
    unreachable("td_comm_bcast");
}

int td_comm_agree(td_err *err)
{
    (void)err;
    unreachable("td_comm_agree");
    return 0;
}
