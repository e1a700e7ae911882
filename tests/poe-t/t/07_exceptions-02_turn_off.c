/*
 * POE t/10_units/07_exceptions/02_turn_off.t: with CATCH_EXCEPTIONS off
 * (POE_CATCH_EXCEPTIONS=0) a die is not turned into DIE: it reaches
 * run()'s caller (-ECANCELED, the message in poe_kernel_exception).
 */
#include <errno.h>
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value on_start(poe_ctx *c)
{
        tap_pass("Session started");
        poe_kernel_yield(poe_ctx_kernel(c), "death", POE_NOARGS);
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

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"_stop", on_stop, NULL},
                {"death", death, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 3};
        const char *e;
        poe_kernel *k;
        int rc;

        setenv("POE_CATCH_EXCEPTIONS", "0", 1);
        tap_plan(4);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        rc = poe_kernel_run(k);
        e = rc == -ECANCELED ? poe_kernel_exception(k) : NULL;
        tap_ok(e && *e, "die caused normal exception");
        tap_like(e, "OMG THEY CANCELLED FRIENDS", "$@ contains correct error message");
        poe_kernel_free(k);
        return tap_done();
}
