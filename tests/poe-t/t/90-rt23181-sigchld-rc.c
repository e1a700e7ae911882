/*
 * POE t/90_regression/rt23181-sigchld-rc.t: sig_child() on a pid that
 * is not a child of ours does not keep the session alive forever, and
 * does not die.
 */
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "test", POE_NOARGS);
        return poe_nil();
}

static poe_value on_test(poe_ctx *c)
{
        poe_kernel_sig_child(poe_ctx_kernel(c), 12, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        tap_pass("didn't die");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"test", on_test, NULL},
                {"_stop", on_stop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 3};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(1);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
