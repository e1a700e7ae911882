/*
 * The live OTLP push's test subject (test_otlp_push.py): a kernel with an
 * inspector on a free port whose trace log the push reads, and chains to
 * send: a timer "tick" that re-arms itself TICKS times, each tick posting
 * "work" to a worker, whose handler calls "sub" of a helper session; the
 * third "work" dies
 * (poe_die), and the worker's DIE handler handles it.  It prints
 * "URL <url>" on stdout, then "DONE" once the ticks are over, and runs
 * until SIGTERM; then stops the inspector (the push's last sends) and
 * exits 0.
 *
 *   otlp-subject DB_PATH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poe/inspector.h>
#include <poe/poe.h>

#define TICKS 20

static int ticks;

static poe_value sub(poe_ctx *c)
{
        return poe_int(poe_value_int(poe_ctx_arg(c, 0)) * 2);
}

static poe_value work(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value n = *poe_ctx_arg(c, 0), r;

        /* Another session's handler: a session calling itself is not
         * traced, as in POE. */
        poe_kernel_call_alias(k, "helper", "sub", &n, 1, &r);
        if (poe_value_int(&n) == 3)
                poe_die(c, "work item %d failed", (int)poe_value_int(&n));
        return poe_nil();
}

static poe_value on_die(poe_ctx *c)
{
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value worker_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "worker");
        poe_kernel_sig(k, "DIE", "on_die", POE_NOARGS);
        return poe_nil();
}

static poe_value helper_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "helper");
        return poe_nil();
}

static poe_value tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value n = poe_int(++ticks);

        poe_kernel_post_alias(k, "worker", "work", &n, 1);
        if (ticks < TICKS) {
                poe_kernel_delay(k, "tick", 0.01, POE_NOARGS);
        } else {
                printf("DONE\n");
                fflush(stdout);
        }
        return poe_nil();
}

static poe_value on_term(poe_ctx *c)
{
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value ticker_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "TERM", "on_term", POE_NOARGS);
        poe_kernel_delay(k, "tick", 0.01, POE_NOARGS);
        /* Alive until TERM, after the ticks too. */
        poe_kernel_refcount_increment(k, poe_ctx_session(c), "until-term");
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler wh[] = {
                { "_start", worker_start, NULL },
                { "work", work, NULL },
                { "on_die", on_die, NULL },
        };
        static const poe_handler hh[] = {
                { "_start", helper_start, NULL },
                { "sub", sub, NULL },
        };
        static const poe_handler th[] = {
                { "_start", ticker_start, NULL },
                { "tick", tick, NULL },
                { "on_term", on_term, NULL },
        };
        poe_session_spec ws = { .handlers = wh, .n_handlers = 3 };
        poe_session_spec hs = { .handlers = hh, .n_handlers = 2 };
        poe_session_spec ts = { .handlers = th, .n_handlers = 3 };
        poe_inspector_options o;
        poe_inspector *in;
        poe_kernel *k;
        int r;

        if (argc < 2 || poe_kernel_new(&k, NULL) < 0)
                return 2;
        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = argv[1];
        r = poe_inspector_start(k, &o, &in);
        if (r < 0) {
                fprintf(stderr, "otlp-subject: poe_inspector_start: %s\n", strerror(-r));
                return 2;
        }
        printf("URL %s\n", poe_inspector_url(in));
        fflush(stdout);
        if (poe_session_create(k, &hs, NULL) < 0 || poe_session_create(k, &ws, NULL) < 0 ||
            poe_session_create(k, &ts, NULL) < 0)
                return 2;
        r = poe_kernel_run(k);
        in = poe_inspector_stop(in);
        poe_kernel_free(k);
        return r == 0 ? 0 : 1;
}
