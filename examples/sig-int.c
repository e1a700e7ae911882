/*
 * sig-int: catch Ctrl-C (SIGINT) and shut down cleanly.
 *
 * Watching "INT" installs the OS handler; a caught SIGINT becomes a POE
 * signal raised at the kernel, dispatched like any event.  INT is
 * terminal: unhandled, it would stop every session.  This handler calls
 * sig_handled, then tidies up itself: it clears the timeout and stops
 * watching INT (a signal watcher alone keeps no session alive), so the
 * session stops because it owns nothing any more.
 */
#include <stdio.h>
#include <stdlib.h>

#include <poe/poe.h>

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "INT", "got_int", POE_NOARGS);
        /* Something to keep us alive meanwhile, and a way out if no
         * signal ever comes. */
        poe_kernel_delay(k, "timeout", 10, POE_NOARGS);
        printf("ready: waiting for SIGINT\n");
        return poe_nil();
}

static poe_value on_int(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        printf("caught SIG%s\n", poe_value_str(poe_ctx_arg(c, 0)));
        poe_kernel_sig_handled(k);
        poe_kernel_delay(k, "timeout", POE_NO_TIME, POE_NOARGS);
        poe_kernel_sig(k, "INT", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_timeout(poe_ctx *c)
{
        printf("no signal after 10 seconds\n");
        poe_kernel_sig(poe_ctx_kernel(c), "INT", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("stopped cleanly\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "got_int", on_int, NULL },
                { "timeout", on_timeout, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 4 };
        poe_kernel *k;

        /* Line-buffered: whoever waits for "ready" must see it at once. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (poe_kernel_new(&k, NULL) < 0 || poe_session_create(k, &spec, NULL) < 0)
                return EXIT_FAILURE;
        poe_kernel_run(k);
        printf("run() returned\n");
        poe_kernel_free(k);
        return EXIT_SUCCESS;
}
