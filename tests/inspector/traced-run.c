/*
 * A real traced run for the Chrome export's checker (test_chrome.py):
 * the log's own sink and writer record a program that does what a
 * program's kernel posts for it, not only what its handlers post.
 *
 *   traced-run PATH ROUNDS
 *
 * Session "boss" watches USR1 and CHLD; each round it forks a child and
 * waits for it with sig_child (the kernel posts the reaped event when
 * the child exits), raises SIGUSR1 at the process (the kernel posts
 * _signal to every session), posts "work" to session "flaky", whose
 * handler dies every other time (the kernel signals DIE at it, and it
 * handles the DIE), calls "flaky" synchronously, sends the user signal
 * "NUDGE" to every session (poe_kernel_signal), and sets an alarm for
 * the next round.  The main program posts to boss before the kernel
 * runs, from outside any handler.  Writes the log with the groups
 * events, sessions and signals; prints "records R" and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poe/poe.h>

#include "tracelog-internal.h"

#define RING 65536

static long rounds, round_, reaped, works;
static poe_sid flaky;

static poe_value on_flaky_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        flaky = poe_ctx_session(c);
        poe_kernel_alias_set(k, "flaky");
        poe_kernel_sig(k, "DIE", "died", POE_NOARGS);
        poe_kernel_sig(k, "NUDGE", "nudged", POE_NOARGS);
        return poe_nil();
}

static poe_value on_work(poe_ctx *c)
{
        if (++works % 2 == 0)
                poe_die(c, "flaky: work %ld fails", works);
        return poe_int(works);
}

static poe_value on_died(poe_ctx *c)
{
        /* Handled: flaky lives on. */
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value on_nudged(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value on_flaky_done(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "flaky");
        return poe_nil();
}

static poe_value on_boss_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "USR1", "usr1", POE_NOARGS);
        poe_kernel_sig(k, "NUDGE", "nudged", POE_NOARGS);
        poe_kernel_yield(k, "round", POE_NOARGS);
        return poe_nil();
}

static poe_value on_round(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        pid_t pid;

        if (round_++ >= rounds) {
                poe_kernel_post(k, flaky, "done", POE_NOARGS);
                return poe_nil();
        }
        pid = fork();
        if (pid == 0)
                _exit(7);
        if (pid > 0)
                poe_kernel_sig_child(k, (int)pid, "reaped", POE_NOARGS);
        raise(SIGUSR1);
        poe_kernel_post(k, flaky, "work", POE_NOARGS);
        poe_kernel_call(k, flaky, "work", POE_NOARGS, NULL);
        poe_kernel_signal(k, POE_KERNEL, "NUDGE", POE_NOARGS);
        poe_kernel_delay(k, "round", 0.001, POE_NOARGS);
        return poe_nil();
}

static poe_value on_usr1(poe_ctx *c)
{
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value on_reaped(poe_ctx *c)
{
        (void)c;
        reaped++;
        return poe_nil();
}

static poe_value on_hello(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler flaky_h[] = {{"_start", on_flaky_start, NULL},
                                              {"work", on_work, NULL},
                                              {"died", on_died, NULL},
                                              {"nudged", on_nudged, NULL},
                                              {"done", on_flaky_done, NULL}};
        static const poe_handler boss_h[] = {
                {"_start", on_boss_start, NULL}, {"round", on_round, NULL},
                {"usr1", on_usr1, NULL},         {"nudged", on_nudged, NULL},
                {"reaped", on_reaped, NULL},     {"hello", on_hello, NULL}};
        poe_session_spec fs = {.handlers = flaky_h, .n_handlers = 5};
        poe_session_spec bs = {.handlers = boss_h, .n_handlers = 6};
        poe__tracelog *log;
        char err[512];
        sqlite3 *db;
        sqlite3_stmt *st;
        long long records = -1;
        poe_kernel *k;
        poe_sid boss;
        int sink, r;

        if (argc != 3 || atol(argv[2]) <= 0) {
                fprintf(stderr, "usage: traced-run PATH ROUNDS\n");
                return 2;
        }
        rounds = atol(argv[2]);
        if (poe_kernel_new(&k, NULL) < 0)
                return 1;
        if (poe__tracelog_open(argv[1], RING, k, &log, err, sizeof(err)) < 0) {
                fprintf(stderr, "traced-run: %s\n", err);
                return 1;
        }
        sink = poe_kernel_trace_sink_add(k, poe__tracelog_sink, log);
        if (sink <= 0 ||
            poe_kernel_trace_sink_groups(
                    k, sink, POE_TRACE_EVENTS | POE_TRACE_SESSIONS | POE_TRACE_SIGNALS) < 0 ||
            poe_session_create(k, &fs, NULL) < 0 || poe_session_create(k, &bs, &boss) < 0)
                return 1;
        /* From the main program, outside any handler. */
        poe_kernel_post(k, boss, "hello", POE_NOARGS);
        r = poe_kernel_run(k);
        poe_kernel_trace_sink_remove(k, sink);
        poe__tracelog_close(log);
        poe_kernel_free(k);
        if (r < 0 || reaped != rounds) {
                fprintf(stderr, "traced-run: run %d, %ld of %ld children reaped\n", r, reaped,
                        rounds);
                return 1;
        }
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
