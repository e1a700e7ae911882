/*
 * poe_inspector_stop returns within a second in every state the server
 * can be in (inspector/http.c, http-work.c):
 *
 *  - idle;
 *  - holding 200 idle connections and 64 that send their headers a line
 *    at a time (from addresses across 127.0.0.0/8, under the limit per
 *    address);
 *  - with 8 long polls waiting for records that do not come;
 *  - with a request waiting for the kernel's thread while the kernel is
 *    stuck in a handler (stop is called from that handler);
 *  - while a trace query runs on the pool, and while an export does: the
 *    log's readers go through a SQLite VFS (inspector-harness.c) that
 *    makes each page read of a read-only database slow, so the read is
 *    surely still running when stop is called (it would run for
 *    seconds), and stop must interrupt it rather than wait for it;
 *  - while a trace query waits for a lock on the log that another
 *    connection holds (the VFS refuses the reader's lock, as SQLite does
 *    then): the reader would wait READER_BUSY_MS (2 s) for it, and stop
 *    must end the wait.  (In WAL mode, with the inspector's own writer
 *    connected, no other connection can take a lock that keeps a new
 *    reader out, so the VFS plays the lock's holder.)
 *
 * Each state is reached for sure before stop is called (the inspector's
 * own counts say so: connections, long polls, requests waiting, pool
 * workers busy, reads made), and the time poe_inspector_stop takes is
 * measured on CLOCK_MONOTONIC and must be under STOP_BOUND seconds, times
 * the run's slowness (valgrind, POE_TEST_SLOW): a bound on a deadline,
 * not a speed.  Every client then sees its connection end.  Waits poll a
 * condition against a deadline.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inspector-harness.h"

#define STOP_BOUND 1.0
#define IDLE_CONNS 200
#define SLOW_CONNS 64

/* Stops in and checks the bound; returns the time it took. */
static double stop_timed(poe_inspector *in, const char *state)
{
        double t0 = ih_now(), took;

        assert_null(poe_inspector_stop(in));
        took = ih_now() - t0;
        fprintf(stderr, "stop %s: %.3f s\n", state, took);
        if (took >= STOP_BOUND * ih_slowness())
                fail_msg("poe_inspector_stop took %.3f s %s (bound %.1f s)", took, state,
                         STOP_BOUND * ih_slowness());
        return took;
}

static int setup(void **state)
{
        unlink(ih_db);
        ih_vfs_reset();
        return tl_setup(state);
}

/* ---- the states ---- */

static void t_idle(void **state)
{
        (void)state;
        stop_timed(ih_start(1000), "idle");
}

static void t_connections(void **state)
{
        poe_inspector *in = ih_start(1000);
        int port = poe_inspector_port(in), fds[IDLE_CONNS + SLOW_CONNS], i;

        (void)state;
        /* 25 per address: under the limit of 32 per address. */
        for (i = 0; i < IDLE_CONNS; i++)
                fds[i] = ih_connect_from(port, 10 + i / 25);
        for (i = 0; i < SLOW_CONNS; i++) {
                fds[IDLE_CONNS + i] = ih_connect_from(port, 30 + i / 25);
                ih_send_str(fds[IDLE_CONNS + i], "GET /api/v1/kernel HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                              "X-Slow: 1\r\n");
        }
        IH_WAIT_FOR(ih_counts(in).connections == IDLE_CONNS + SLOW_CONNS, 10);
        stop_timed(in, "with 264 idle and slow connections");
        ih_all_end(fds, IDLE_CONNS + SLOW_CONNS);
}

static void t_long_polls(void **state)
{
        poe_inspector *in = ih_start(1000);
        int port = poe_inspector_port(in), fds[8], i;

        (void)state;
        for (i = 0; i < 8; i++)
                fds[i] = ih_request(port, 1, "/api/v1/trace/tail?after=999999999&wait=30");
        IH_WAIT_FOR(ih_counts(in).long_polls == 8 && ih_counts(in).pool_busy == 0, 10);
        stop_timed(in, "with 8 long polls waiting");
        ih_all_end(fds, 8);
}

/* Stuck in a handler: a request for live state waits for this thread
 * (with a 30 s answer timeout, it still waits at the stop), and the
 * handler stops the inspector. */
static poe_inspector *stuck_in;
static int stuck_fd;

static poe_value stuck_handler(poe_ctx *c)
{
        (void)c;
        stuck_fd = ih_request(poe_inspector_port(stuck_in), 1, "/api/v1/sessions");
        IH_WAIT_FOR(ih_counts(stuck_in).waiting_kernel == 1, 10);
        stop_timed(stuck_in, "with a request waiting for a stuck kernel");
        stuck_in = NULL;
        return poe_nil();
}

static void t_kernel_stuck(void **state)
{
        (void)state;
        stuck_in = ih_start(30000);
        TL_CREATE(tl.k, { "_start", stuck_handler });
        tl_run_to_end(tl.k, 100);
        assert_null(stuck_in);
        ih_all_end(&stuck_fd, 1);
}

/* A read on the pool, made slow: started, then stopped while it runs. */
static void slow_read(const char *path, const char *state)
{
        poe_inspector *in;
        int fd;

        ih_make_log();
        ih_vfs_install();
        in = ih_start(1000);
        atomic_store(&ih_slow_reads, 0);
        atomic_store(&ih_slowing, true);
        fd = ih_request(poe_inspector_port(in), 1, path);
        /* Some pages read, hundreds to go at 20 ms each: it runs. */
        IH_WAIT_FOR(ih_counts(in).pool_busy == 1 && atomic_load(&ih_slow_reads) >= 5, 10);
        stop_timed(in, state);
        atomic_store(&ih_slowing, false);
        ih_all_end(&fd, 1);
}

static void t_query(void **state)
{
        (void)state;
        /* The run's records all read: no index serves since= */
        slow_read("/api/v1/trace?since=4000000000&run=1", "during a trace query");
}

static void t_export(void **state)
{
        (void)state;
        slow_read("/api/v1/export/jsonl?run=1", "during an export");
}

/* A query waits for a lock another connection holds: refused twice, so
 * its busy handler is surely waiting (it would for 2 s), then stopped. */
static void t_lock_wait(void **state)
{
        poe_inspector *in;
        int fd;

        (void)state;
        ih_make_log();
        ih_vfs_install();
        in = ih_start(1000);
        atomic_store(&ih_lock_refusals, 0);
        atomic_store(&ih_locked, true);
        fd = ih_request(poe_inspector_port(in), 1, "/api/v1/trace?run=1");
        IH_WAIT_FOR(ih_counts(in).pool_busy == 1 && atomic_load(&ih_lock_refusals) >= 2, 10);
        stop_timed(in, "during a trace query waiting for a lock");
        atomic_store(&ih_locked, false);
        ih_all_end(&fd, 1);
}

static int teardown(void **state)
{
        ih_vfs_reset();
        return tl_teardown(state);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(t_idle, setup, teardown),
                cmocka_unit_test_setup_teardown(t_connections, setup, teardown),
                cmocka_unit_test_setup_teardown(t_long_polls, setup, teardown),
                cmocka_unit_test_setup_teardown(t_kernel_stuck, setup, teardown),
                cmocka_unit_test_setup_teardown(t_query, setup, teardown),
                cmocka_unit_test_setup_teardown(t_export, setup, teardown),
                cmocka_unit_test_setup_teardown(t_lock_wait, setup, teardown),
        };
        int r;

        if (ih_dir_make("inspector-stop") < 0)
                return 2;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        ih_dir_remove();
        return r;
}
