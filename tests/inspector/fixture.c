/*
 * The inspector's test subject: a kernel with a known, varied population
 * (a session tree with aliases, a ticker with a timer, a pipe watcher, an
 * extra reference, a session that hangs on request) and an inspector on
 * a free port.  It prints "URL <url>" and "DB <path>" on stdout, then
 * runs until SIGTERM (handled: every session stops, run() returns), and
 * says how long poe_inspector_stop took ("STOP <seconds>", measured on
 * CLOCK_MONOTONIC).
 * SIGUSR1 makes one handler block until the test creates DB_PATH.unhang
 * (the fixture removes it) or HANG_MAX_SECONDS pass, so a test can see
 * the inspector answer for a kernel that is stuck however slowly the
 * machine runs, and ends the hang once it has seen it.  Under valgrind
 * (the test sets POE_TEST_WRAPPER and runs this program under it) the
 * kernel's thread answers tens of times slower: the inspector waits
 * ANSWER_SLOW_MS before calling it busy, not 500 ms; POE_TEST_SLOW (the
 * sanitize setup's) multiplies the 500 ms.
 *
 *   fixture DB_PATH [TOKEN]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poe/inspector.h>
#include <poe/poe.h>

#define HANG_MAX_SECONDS 600
#define ANSWER_MS 500
#define ANSWER_SLOW_MS 4000

static int slow;
static char unhang[4096];

static int pipefd[2];
static long ticks;

static poe_value leaf_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "leaf");
        return poe_nil();
}

static poe_value mid_start(poe_ctx *c)
{
        static const poe_handler h[] = { { "_start", leaf_start, NULL } };
        poe_session_spec spec = { .handlers = h, .n_handlers = 1 };

        poe_kernel_alias_set(poe_ctx_kernel(c), "middle");
        poe_session_create(poe_ctx_kernel(c), &spec, NULL);
        return poe_nil();
}

static poe_value tick(poe_ctx *c)
{
        ticks++;
        poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.05, POE_NOARGS);
        return poe_nil();
}

/* A timer that stays pending long enough for a page to show it counting
 * down however slowly the machine runs (the ticks' 50 ms may all have
 * passed by the time a row is drawn); set again when it fires. */
#define LATER_SECONDS 30

static poe_value later(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "later", LATER_SECONDS, POE_NOARGS);
        return poe_nil();
}

static poe_value on_read(poe_ctx *c)
{
        char buf[64];

        if (read(pipefd[0], buf, sizeof(buf)) <= 0)
                poe_kernel_select_read(poe_ctx_kernel(c), pipefd[0], NULL, POE_NOARGS);
        return poe_nil();
}

/* Blocks the kernel on purpose: the stuck program the inspector must
 * still describe. */
static poe_value hang(poe_ctx *c)
{
        struct timespec t = { 0, 20 * 1000 * 1000 };
        long i;

        poe_kernel_sig_handled(poe_ctx_kernel(c));
        for (i = 0; i < HANG_MAX_SECONDS * 50L && access(unhang, F_OK) != 0; i++)
                nanosleep(&t, NULL);
        unlink(unhang);
        return poe_nil();
}

static poe_value on_term(poe_ctx *c)
{
        /* Unhandled TERM would stop everyone too; handling it and
         * stopping explicitly makes the exit deliberate. */
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_postback *held_postback;

static poe_value root_start(poe_ctx *c)
{
        static const poe_handler h[] = { { "_start", mid_start, NULL } };
        poe_session_spec spec = { .handlers = h, .n_handlers = 1 };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "root");
        poe_kernel_alias_set(k, "service");
        poe_session_create(k, &spec, NULL);
        poe_kernel_sig(k, "TERM", "on_term", POE_NOARGS);
        poe_kernel_sig(k, "USR1", "hang", POE_NOARGS);
        poe_kernel_delay(k, "tick", 0.05, POE_NOARGS);
        poe_kernel_delay(k, "later", LATER_SECONDS, POE_NOARGS);
        poe_kernel_select_read(k, pipefd[0], "on_read", POE_NOARGS);
        poe_kernel_refcount_increment(k, poe_ctx_session(c), "held-by-test");
        /* A live postback, never invoked: the why-alive views say where
         * it was made. */
        poe_session_postback(k, poe_ctx_session(c), "tick", POE_NOARGS, &held_postback);
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = {
                { "_start", root_start, NULL }, { "tick", tick, NULL },
                { "on_read", on_read, NULL },   { "hang", hang, NULL },
                { "on_term", on_term, NULL },   { "later", later, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 6 };
        poe_inspector_options o;
        poe_inspector *in;
        poe_kernel *k;
        struct timespec t0, t1;
        int r;

        slow = getenv("POE_TEST_WRAPPER") && *getenv("POE_TEST_WRAPPER");
        if (argc < 2 || pipe(pipefd) < 0 || poe_kernel_new(&k, NULL) < 0)
                return 2;
        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = argv[1];
        o.token = argc > 2 ? argv[2] : NULL;
        o.answer_timeout_ms = slow ? ANSWER_SLOW_MS : ANSWER_MS;
        if (!slow && getenv("POE_TEST_SLOW") && atoi(getenv("POE_TEST_SLOW")) > 1)
                o.answer_timeout_ms = ANSWER_MS * atoi(getenv("POE_TEST_SLOW"));
        snprintf(unhang, sizeof(unhang), "%s.unhang", argv[1]);
        unlink(unhang);
        if (poe_session_create(k, &spec, NULL) < 0)
                return 2;
        r = poe_inspector_start(k, &o, &in);
        if (r < 0) {
                fprintf(stderr, "fixture: poe_inspector_start: %s\n", strerror(-r));
                return 2;
        }
        printf("URL %s\nDB %s\n", poe_inspector_url(in), poe_inspector_trace_db(in));
        fflush(stdout);
        r = poe_kernel_run(k);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        in = poe_inspector_stop(in);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("STOP %.3f\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        poe_postback_free(held_postback);
        poe_kernel_free(k);
        printf("EXIT %d ticks %ld\n", r, ticks);
        return r == 0 ? 0 : 1;
}
