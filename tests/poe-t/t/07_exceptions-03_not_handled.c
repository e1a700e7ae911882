/*
 * POE t/10_units/07_exceptions/03_not_handled.t: a DIE nobody handles
 * stops every session and reaches run()'s caller.  The half-second
 * delay runs on the fake clock.
 */
#include <errno.h>
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_pass("Session started");
        poe_kernel_sig(k, "DIE", "mock_death", POE_NOARGS);
        poe_kernel_yield(k, "death", POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        tap_pass("Session stopping");
        return poe_nil();
}

static poe_value death(poe_ctx *c)
{
        poe_die(c, "OMG THEY CANCELLED FRIENDS");
}

static poe_value mock_death(poe_ctx *c)
{
        tap_is_str(poe_value_str(poe_ctx_arg(c, 0)), "DIE", "DIE signal sent");
        return poe_nil();
}

static poe_value other_start(poe_ctx *c)
{
        tap_pass("Other session started");
        poe_kernel_delay(poe_ctx_kernel(c), "last_breath", 0.5, POE_NOARGS);
        return poe_nil();
}

static poe_value other_stop(poe_ctx *c)
{
        (void)c;
        tap_pass("Other session stopping");
        return poe_nil();
}

static poe_value last_breath(poe_ctx *c)
{
        (void)c;
        tap_fail("POE environment survived uncaught exception");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"_stop", on_stop, NULL},
                {"death", death, NULL},
                {"mock_death", mock_death, NULL},
        };
        static const poe_handler other[] = {
                {"_start", other_start, NULL},
                {"_stop", other_stop, NULL},
                {"last_breath", last_breath, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 4};
        const char *e;
        poe_kernel *k;
        int rc;

        tap_plan(8);
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1e9) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = other, .n_handlers = 3};
        poe_session_create(k, &spec, NULL);
        rc = poe_kernel_run(k);
        e = rc == -ECANCELED ? poe_kernel_exception(k) : NULL;
        tap_ok(e && *e, "unhandled exception was propagated");
        tap_like(e, "OMG THEY CANCELLED FRIENDS", "$@contains the correct error message");
        tap_pass("POE environment shut down");
        poe_kernel_free(k);
        return tap_done();
}
