/*
 * POE t/10_units/07_exceptions/01_normal.t: a die in a handler becomes
 * the DIE signal; a session that handles it survives.  The half-second
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
        poe_kernel_sig(k, "DIE", "avoid_death", POE_NOARGS);
        poe_kernel_yield(k, "death", POE_NOARGS);
        poe_kernel_delay(k, "party", 0.5, POE_NOARGS);
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

static poe_value avoid_death(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_exception e = {0};
        int have = poe_value_exception(poe_ctx_arg(c, 1), &e) == 0;

        tap_is_str(poe_value_str(poe_ctx_arg(c, 0)), "DIE", "Caught DIE signal");
        tap_is_str(have ? e.from_state : NULL, "_start", "Signal came from the correct state");
        tap_like(have ? e.error_str : NULL, "OMG THEY CANCELLED FRIENDS",
                 "error_str contains correct value");
        poe_kernel_sig(k, "DIE", NULL, POE_NOARGS);
        poe_kernel_sig_handled(k);
        return poe_nil();
}

static poe_value party(poe_ctx *c)
{
        (void)c;
        tap_pass("Environment survived exception attempt");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL}, {"_stop", on_stop, NULL},
                {"death", death, NULL},     {"avoid_death", avoid_death, NULL},
                {"party", party, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 5};
        poe_kernel *k;

        tap_plan(7);
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1e9) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_pass("POE environment shut down");
        poe_kernel_free(k);
        return tap_done();
}
