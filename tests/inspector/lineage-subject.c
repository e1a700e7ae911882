/*
 * The lineage endpoint's subject: causal chains whose shape the test
 * knows, in a trace log, behind an inspector on a free port.
 *
 *  - the main program posts "one" to session "a" before run(): a root
 *    posted outside any handler;
 *  - "one" starts a session (its "create" record belongs to one's
 *    dispatch), posts "two" to session "b" and calls "helper" on itself,
 *    which posts "three" to "a" (a post made inside a call is the
 *    calling item's child);
 *  - "two" posts "four" to "a" and sets a delay "later" for an hour
 *    (pending);
 *  - "four" posts FAN "leaf" events to "b" (more children than a small
 *    limit takes) and yields "deep" with a count, which yields itself
 *    DEEP times (deeper than the depth the test asks for);
 *  - the last "deep" prints "READY" with the event ids of "one" and of
 *    "later" as the kernel gave them (poe_kernel_get_event_count is not
 *    them: the ids are read from the log by the test).
 *
 * Session "a" keeps an extra reference, so the program runs until
 * SIGTERM.  It prints "URL <url>" first.
 *
 *   lineage-subject DB_PATH
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poe/inspector.h>
#include <poe/poe.h>

#define FAN  30
#define DEEP 20

static poe_sid a_sid, b_sid;

static poe_value on_nothing(poe_ctx *c);

static poe_value on_one(poe_ctx *c)
{
        static const poe_handler hc[] = {{"_start", on_nothing, NULL}};
        poe_session_spec sc = {.handlers = hc, .n_handlers = 1};
        poe_kernel *k = poe_ctx_kernel(c);

        /* A session made inside one's dispatch: its records carry no
         * event id, and belong to one. */
        poe_session_create(k, &sc, NULL);
        poe_kernel_post(k, b_sid, "two", POE_NOARGS);
        poe_kernel_call(k, poe_ctx_session(c), "helper", POE_NOARGS, NULL);
        return poe_nil();
}

static poe_value on_helper(poe_ctx *c)
{
        poe_kernel_post(poe_ctx_kernel(c), a_sid, "three", POE_NOARGS);
        return poe_nil();
}

static poe_value on_two(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_post(k, a_sid, "four", POE_NOARGS);
        poe_kernel_delay(k, "later", 3600, POE_NOARGS);
        return poe_nil();
}

static poe_value on_four(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int i;

        for (i = 0; i < FAN; i++)
                poe_kernel_post(k, b_sid, "leaf", POE_NOARGS);
        poe_kernel_yield(k, "deep", POE_ARGS(poe_int(DEEP)));
        return poe_nil();
}

static poe_value on_deep(poe_ctx *c)
{
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        if (n > 0) {
                poe_kernel_yield(poe_ctx_kernel(c), "deep", POE_ARGS(poe_int(n - 1)));
        } else {
                printf("READY\n");
                fflush(stdout);
        }
        return poe_nil();
}

static poe_value on_nothing(poe_ctx *c)
{
        return poe_nil();
}

static poe_value a_start(poe_ctx *c)
{
        poe_kernel_refcount_increment(poe_ctx_kernel(c), poe_ctx_session(c), "keep");
        poe_kernel_sig(poe_ctx_kernel(c), "TERM", "on_term", POE_NOARGS);
        return poe_nil();
}

static poe_value on_term(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_refcount_decrement(k, poe_ctx_session(c), "keep");
        poe_kernel_alarm_remove_all(k, NULL, NULL);
        poe_kernel_sig_handled(k);
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "TERM", "on_term_b", POE_NOARGS);
        return poe_nil();
}

static poe_value on_term_b(poe_ctx *c)
{
        poe_kernel_alarm_remove_all(poe_ctx_kernel(c), NULL, NULL);
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler ha[] = {
                {"_start", a_start, NULL},   {"one", on_one, NULL},   {"helper", on_helper, NULL},
                {"three", on_nothing, NULL}, {"four", on_four, NULL}, {"deep", on_deep, NULL},
                {"on_term", on_term, NULL},
        };
        static const poe_handler hb[] = {
                {"_start", b_start, NULL},      {"two", on_two, NULL},
                {"leaf", on_nothing, NULL},     {"later", on_nothing, NULL},
                {"on_term_b", on_term_b, NULL},
        };
        poe_session_spec sa = {.handlers = ha, .n_handlers = 7};
        poe_session_spec sb = {.handlers = hb, .n_handlers = 5};
        poe_inspector_options o;
        poe_inspector *in;
        poe_kernel *k;
        int r;

        if (argc < 2 || poe_kernel_new(&k, NULL) < 0)
                return 2;
        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = argv[1];
        /* The inspector first: its log records the sessions' starts. */
        r = poe_inspector_start(k, &o, &in);
        if (r < 0) {
                fprintf(stderr, "lineage-subject: poe_inspector_start: %s\n", strerror(-r));
                return 2;
        }
        if (poe_session_create(k, &sa, &a_sid) < 0 || poe_session_create(k, &sb, &b_sid) < 0)
                return 2;
        printf("URL %s\n", poe_inspector_url(in));
        fflush(stdout);
        poe_kernel_post(k, a_sid, "one", POE_NOARGS);
        r = poe_kernel_run(k);
        in = poe_inspector_stop(in);
        poe_kernel_free(k);
        return r == 0 ? 0 : 1;
}
