/*
 * POE t/90_regression/grinnz-die-in-die.t: a die in the DIE handler of
 * a die in _start: run() dies with both messages.
 */
#include <errno.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "sig_DIE", POE_NOARGS);
        poe_die(c, "original error");
}

static poe_value sig_die(poe_ctx *c)
{
        poe_exception e = {0};
        char name[128];

        poe_value_exception(poe_ctx_arg(c, 1), &e);
        snprintf(name, sizeof(name), "die in %s caught", e.event ? e.event : "undef");
        tap_is_str(e.event, "_start", name);
        poe_die(c, "error in error handler");
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"sig_DIE", sig_die, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 2};
        const char *e;
        poe_kernel *k;
        int rc;

        tap_plan(3);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        rc = poe_kernel_run(k);
        e = rc == -ECANCELED ? poe_kernel_exception(k) : NULL;
        tap_like(e, "original error", "run() rethrown exception contains original error");
        tap_like(e, "error in error handler",
                 "run() rethrown exception contains error in error handler");
        poe_kernel_free(k);
        return tap_done();
}
