/*
 * POE t/90_regression/tracing-sane-exit.t: with every TRACE and ASSERT
 * group on, a program still exits in time.  Upstream silences the
 * traces with $SIG{__WARN__}; here they go to /dev/null
 * (POE_TRACE_FILENAME).  Upstream's ten-second alarm() is the test
 * runner's timeout.  The one-second delay is real time, as upstream.
 */
#include <errno.h>
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "do_test", POE_NOARGS);
        return poe_nil();
}

static poe_value do_test(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "done", 1, POE_NOARGS);
        return poe_nil();
}

static poe_value done(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"do_test", do_test, NULL},
                {"done", done, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 3};
        poe_kernel *k;
        int rc;

        setenv("POE_TRACE_DEFAULT", "1", 1);
        setenv("POE_ASSERT_DEFAULT", "1", 1);
        setenv("POE_TRACE_FILENAME", "/dev/null", 1);
        tap_plan(1);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        rc = poe_kernel_run(k);
        tap_ok(rc == 0, "POE exited in time");
        poe_kernel_free(k);
        return tap_done();
}
