/*
 * POE t/90_regression/leolo-sig-die.t: with POE_CATCH_EXCEPTIONS=0,
 * call() returns a handler's value (a scalar, and a list where upstream
 * calls in list context), and a die in a handler reached by call() from
 * another handler goes through that handler and out of run(), with its
 * message.  The checks of Perl's $SIG{__DIE__} as each handler sees it
 * are skips: a C program has no die hook for the kernel to preserve.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

#define SKIP_SIGDIE "Perl's $SIG{__DIE__} as a handler sees it: no C counterpart"

static poe_value on_start(poe_ctx *c)
{
        tap_skip("_start", SKIP_SIGDIE);
        poe_kernel_yield(poe_ctx_kernel(c), "step2", POE_NOARGS);
        return poe_nil();
}

static poe_value step2(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value ret = poe_nil();
        int same;

        tap_skip("step2", SKIP_SIGDIE);
        poe_kernel_call(k, poe_ctx_session(c), "scalar_ctx", POE_NOARGS, &ret);
        tap_is_int(ret.type == POE_T_INT ? poe_value_int(&ret) : -1, 42, "scalar_ctx return value");
        poe_value_release(&ret);
        poe_kernel_call(k, poe_ctx_session(c), "array_ctx", POE_NOARGS, &ret);
        same = ret.type == POE_T_LIST && ret.len == 17;
        for (uint32_t i = 0; same && i < 17; i++)
                same = poe_value_int(&ret.u.list[i]) == (int64_t)i + 1;
        tap_ok(same, "array_ctx return value");
        poe_value_release(&ret);
        poe_kernel_post(k, poe_ctx_session(c), "step3", POE_NOARGS);
        return poe_nil();
}

static poe_value scalar_ctx(poe_ctx *c)
{
        (void)c;
        tap_skip("scalar_ctx", SKIP_SIGDIE);
        return poe_int(42);
}

static poe_value array_ctx(poe_ctx *c)
{
        static poe_value items[17];

        (void)c;
        tap_skip("array_ctx", SKIP_SIGDIE);
        for (int i = 0; i < 17; i++)
                items[i] = poe_int(i + 1);
        return poe_list(items, 17);
}

static poe_value step3(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value ret = poe_nil();

        tap_skip("step3", SKIP_SIGDIE);
        poe_kernel_call(k, poe_ctx_session(c), "scalar_ctx3", POE_NOARGS, &ret);
        tap_is_int(ret.type == POE_T_INT ? poe_value_int(&ret) : -1, 42,
                   "scalar_ctx3 return value");
        poe_value_release(&ret);
        poe_kernel_call(k, poe_ctx_session(c), "array_ctx3", POE_NOARGS, &ret);
        poe_value_release(&ret);
        tap_fail("array_ctx3 returned unexpectedly");
        return poe_nil();
}

static poe_value scalar_ctx3(poe_ctx *c)
{
        (void)c;
        tap_skip("scalar_ctx3", SKIP_SIGDIE);
        return poe_int(42);
}

static poe_value array_ctx3(poe_ctx *c)
{
        tap_skip("array_ctx3", SKIP_SIGDIE);
        poe_die(c, "array_ctx3\nmore\n");
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},       {"step2", step2, NULL},
                {"scalar_ctx", scalar_ctx, NULL}, {"array_ctx", array_ctx, NULL},
                {"step3", step3, NULL},           {"scalar_ctx3", scalar_ctx3, NULL},
                {"array_ctx3", array_ctx3, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 7};
        poe_kernel *k;
        int r;

        setenv("POE_CATCH_EXCEPTIONS", "0", 1);
        tap_plan(11);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        r = poe_kernel_run(k);
        tap_ok(r == -ECANCELED && poe_kernel_exception(k) &&
                       strcmp(poe_kernel_exception(k), "array_ctx3\nmore\n") == 0,
               "exited when expected");
        poe_kernel_free(k);
        return tap_done();
}
