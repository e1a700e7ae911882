/*
 * The page's scale subject: a kernel with many sessions and a long trace
 * log, and an inspector on a free port.  The root has GROUPS children,
 * each of which has workers; every worker has an alias and a timer due
 * in 30 to 90 s (re-armed when it fires), so countdowns are long enough
 * to watch.  A chatter session yields to itself in bursts, writing trace
 * records quickly until the log holds about RECORDS of them, then slowly.
 * Prints "URL <url>" and "DB <path>" like tests/inspector/fixture.c; runs
 * until SIGTERM.  Under valgrind (the test sets POE_TEST_WRAPPER and runs
 * this program under it) a question over 10,000 sessions takes seconds:
 * the inspector waits ten seconds for the kernel, not one, before it
 * calls it busy.
 *
 *   fixture-big DB_PATH [TOKEN] [SESSIONS] [RECORDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poe/inspector.h>
#include <poe/poe.h>

#define GROUPS 100

static long n_sessions = 10000, n_records = 100000;
static long chats;

static poe_value wake(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "wake", 60.0, POE_NOARGS);
        return poe_nil();
}

static poe_value worker_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t g = poe_value_int(poe_ctx_arg(c, 0)), w = poe_value_int(poe_ctx_arg(c, 1));
        char alias[64];

        snprintf(alias, sizeof(alias), "worker-%lld-%lld", (long long)g, (long long)w);
        poe_kernel_alias_set(k, alias);
        poe_kernel_delay(k, "wake", 30.0 + (double)((g * 7 + w) % 60), POE_NOARGS);
        return poe_nil();
}

static poe_value group_start(poe_ctx *c)
{
        static const poe_handler h[] = { { "_start", worker_start, NULL }, { "wake", wake, NULL } };
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t g = poe_value_int(poe_ctx_arg(c, 0)), per = poe_value_int(poe_ctx_arg(c, 1)), w;
        char alias[32];

        snprintf(alias, sizeof(alias), "group-%lld", (long long)g);
        poe_kernel_alias_set(k, alias);
        for (w = 0; w < per; w++) {
                poe_value args[2] = { poe_int(g), poe_int(w) };
                poe_session_spec spec = { .handlers = h, .n_handlers = 2, .args = args, .n_args = 2 };

                poe_session_create(k, &spec, NULL);
        }
        return poe_nil();
}

/* Bursts of yields: about three records a dispatch. */
static poe_value chat(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        chats++;
        if (chats * 3 < n_records && chats % 200 != 0)
                poe_kernel_yield(k, "chat", POE_NOARGS);
        else
                poe_kernel_delay(k, "chat", chats * 3 < n_records ? 0.02 : 0.25, POE_NOARGS);
        return poe_nil();
}

static poe_value chatter_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "chatter");
        poe_kernel_yield(poe_ctx_kernel(c), "chat", POE_NOARGS);
        return poe_nil();
}

static poe_value on_term(poe_ctx *c)
{
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value root_start(poe_ctx *c)
{
        static const poe_handler gh[] = { { "_start", group_start, NULL } };
        static const poe_handler ch[] = { { "_start", chatter_start, NULL }, { "chat", chat, NULL } };
        poe_session_spec chatter = { .handlers = ch, .n_handlers = 2 };
        poe_kernel *k = poe_ctx_kernel(c);
        /* root, chatter, the groups and their workers */
        long per = (n_sessions - 2 - GROUPS) / GROUPS, extra = (n_sessions - 2 - GROUPS) % GROUPS;
        int64_t g;

        poe_kernel_alias_set(k, "root");
        poe_kernel_sig(k, "TERM", "on_term", POE_NOARGS);
        poe_session_create(k, &chatter, NULL);
        for (g = 0; g < GROUPS; g++) {
                poe_value args[2] = { poe_int(g), poe_int(per + (g < extra ? 1 : 0)) };
                poe_session_spec spec = { .handlers = gh, .n_handlers = 1, .args = args, .n_args = 2 };

                poe_session_create(k, &spec, NULL);
        }
        poe_kernel_refcount_increment(k, poe_ctx_session(c), "keep");
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = { { "_start", root_start, NULL }, { "on_term", on_term, NULL } };
        poe_session_spec spec = { .handlers = h, .n_handlers = 2 };
        poe_inspector_options o;
        poe_inspector *in;
        poe_kernel *k;
        int r;

        if (argc < 2 || poe_kernel_new(&k, NULL) < 0)
                return 2;
        if (argc > 3)
                n_sessions = atol(argv[3]);
        if (argc > 4)
                n_records = atol(argv[4]);
        if (n_sessions < GROUPS + 2)
                n_sessions = GROUPS + 2;
        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = argv[1];
        o.token = argc > 2 && *argv[2] ? argv[2] : NULL;
        if (getenv("POE_TEST_WRAPPER") && *getenv("POE_TEST_WRAPPER"))
                o.answer_timeout_ms = 10000;
        if (poe_session_create(k, &spec, NULL) < 0)
                return 2;
        r = poe_inspector_start(k, &o, &in);
        if (r < 0) {
                fprintf(stderr, "fixture-big: poe_inspector_start: %s\n", strerror(-r));
                return 2;
        }
        printf("URL %s\nDB %s\n", poe_inspector_url(in), poe_inspector_trace_db(in));
        fflush(stdout);
        r = poe_kernel_run(k);
        in = poe_inspector_stop(in);
        poe_kernel_free(k);
        return r == 0 ? 0 : 1;
}
