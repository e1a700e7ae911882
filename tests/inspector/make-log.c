/*
 * Writes a trace log of about N records the way a program with an
 * inspector does (the log's own sink and writer), for the export tests
 * (test_export.py) and bench/export to export.
 *
 *   make-log PATH N
 *
 * The workload: session "ticker" yields "tick" to itself; every 8th tick
 * also posts "ping" to session "pong", every 64th sets a 0-second alarm
 * "alarm" on itself, and every 4096th tick's handler calls itself
 * ("nested") once, so the Chrome and OTLP exports have posts, nested
 * dispatches and alarms to pair, as a real program's log does.  It stops
 * once the log's sink was handed N records.  The kernel's thread waits
 * for the writer whenever the ring is half full, so no record is
 * dropped.  Prints "records R" (the records in the file) and exits 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <poe/poe.h>

#include "tracelog-internal.h"

#define RING       65536
#define DEADLINE_S 600 /* for the whole log: 2M records take ~20 s here */

static poe__tracelog *log_;
static uint64_t want;
static poe_sid pong;
static long ticks;

static poe_value on_ping(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value on_pong_start(poe_ctx *c)
{
        pong = poe_ctx_session(c);
        /* An alias keeps it alive while the ticker runs. */
        poe_kernel_alias_set(poe_ctx_kernel(c), "pong");
        return poe_nil();
}

static poe_value on_nested(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value on_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        ticks++;
        if (atomic_load(&log_->produced) >= want) {
                poe_kernel_alias_remove(k, "pong");
                return poe_nil();
        }
        if (ticks % 8 == 0)
                poe_kernel_post(k, pong, "ping", POE_NOARGS);
        if (ticks % 64 == 0)
                poe_kernel_delay(k, "alarm", 0.0, POE_NOARGS);
        if (ticks % 4096 == 0)
                poe_kernel_call(k, poe_ctx_session(c), "nested", POE_NOARGS, NULL);
        poe_kernel_yield(k, "tick", POE_NOARGS);
        return poe_nil();
}

static poe_value on_ticker_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS);
        return poe_nil();
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        static const poe_handler pong_h[] = { { "_start", on_pong_start, NULL },
                                              { "ping", on_ping, NULL } };
        static const poe_handler tick_h[] = { { "_start", on_ticker_start, NULL },
                                              { "tick", on_tick, NULL },
                                              { "alarm", on_nested, NULL },
                                              { "nested", on_nested, NULL } };
        poe_session_spec ps = { .handlers = pong_h, .n_handlers = 2 };
        poe_session_spec ts = { .handlers = tick_h, .n_handlers = 4 };
        struct timespec pause = { 0, 1000000 };
        double deadline = now_s() + DEADLINE_S;
        char err[512];
        sqlite3 *db;
        sqlite3_stmt *st;
        long long records = -1;
        poe_kernel *k;
        int sink, r = 1, i;

        if (argc != 3 || atoll(argv[2]) <= 0) {
                fprintf(stderr, "usage: make-log PATH N\n");
                return 2;
        }
        want = (uint64_t)atoll(argv[2]);
        if (poe_kernel_new(&k, NULL) < 0)
                return 1;
        if (poe__tracelog_open(argv[1], RING, k, &log_, err, sizeof(err)) < 0) {
                fprintf(stderr, "make-log: %s\n", err);
                return 1;
        }
        /* As big as the log needs: the exports are what is measured. */
        poe__tracelog_set_bounds(log_, POE__TRACE_DB_MAX_MAX, 0);
        sink = poe_kernel_trace_sink_add(k, poe__tracelog_sink, log_);
        if (sink <= 0 || poe_kernel_trace_sink_groups(k, sink, POE_TRACE_EVENTS |
                                                                      POE_TRACE_SESSIONS) < 0 ||
            poe_session_create(k, &ps, NULL) < 0 || poe_session_create(k, &ts, NULL) < 0)
                return 1;
        for (i = 0; (r = poe_kernel_run_one_timeslice(k)) == 1; i++) {
                if (i % 256 != 0)
                        continue;
                /* The writer is behind: wait for it rather than drop. */
                while (poe__tl_ring_count(log_) > RING / 2 && now_s() < deadline)
                        nanosleep(&pause, NULL);
                if (now_s() >= deadline) {
                        fprintf(stderr, "make-log: not done after %d s\n", DEADLINE_S);
                        return 1;
                }
        }
        poe_kernel_trace_sink_remove(k, sink);
        poe__tracelog_close(log_);
        poe_kernel_free(k);
        if (r < 0)
                return 1;
        if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "SELECT count(*) FROM records", -1, &st, NULL) == SQLITE_OK) {
                if (sqlite3_step(st) == SQLITE_ROW)
                        records = sqlite3_column_int64(st, 0);
                sqlite3_finalize(st);
        }
        sqlite3_close(db);
        printf("records %lld\n", records);
        return records > 0 ? 0 : 1;
}
