/*
 * POE t/90_regression/averell-callback-ret.t: a callback returns its
 * handler's return value.
 */
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_postback *callback;

static poe_value on_start(poe_ctx *c)
{
        poe_session_callback(poe_ctx_kernel(c), poe_ctx_session(c), "callback_event", POE_NOARGS,
                             &callback);
        poe_kernel_yield(poe_ctx_kernel(c), "try_callback", POE_NOARGS);
        return poe_nil();
}

static poe_value try_callback(poe_ctx *c)
{
        poe_postback *cb = callback;
        poe_value retval = poe_nil();

        (void)c;
        callback = NULL;
        poe_postback_invoke(cb, POE_NOARGS, &retval);
        poe_postback_free(cb);
        if (poe_value_int(&retval) == 42) {
                tap_pass("Callback returns correct value");
        } else {
                tap_diag("Callback returned %lld (should be 42)",
                         (long long)poe_value_int(&retval));
                tap_fail("Callback returns correct value");
        }
        return poe_nil();
}

static poe_value callback_event(poe_ctx *c)
{
        (void)c;
        return poe_int(42);
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"try_callback", try_callback, NULL},
                {"callback_event", callback_event, NULL},
                {"_stop", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 4};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(2);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
