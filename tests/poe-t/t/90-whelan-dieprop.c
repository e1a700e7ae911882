/*
 * POE t/90_regression/whelan-dieprop.t: DIE goes to the dying session
 * and then to its parent, which handles it.
 */
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value child_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "child_exception", POE_NOARGS);
        poe_kernel_yield(poe_ctx_kernel(c), "throw_exception", POE_NOARGS);
        return poe_nil();
}

static poe_value throw_exception(poe_ctx *c)
{
        poe_die(c, "goodbye sweet world");
}

static poe_value child_exception(poe_ctx *c)
{
        (void)c;
        tap_pass("child got exception");
        return poe_nil();
}

static poe_value parent_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                {"_start", child_start, NULL},
                {"throw_exception", throw_exception, NULL},
                {"child_exception", child_exception, NULL},
                {"_stop", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 4};

        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "parent_exception", POE_NOARGS);
        poe_session_create(poe_ctx_kernel(c), &spec, NULL);
        return poe_nil();
}

static poe_value parent_exception(poe_ctx *c)
{
        tap_pass("parent got exception");
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", parent_start, NULL},
                {"parent_exception", parent_exception, NULL},
                {"_stop", nop, NULL},
                {"_child", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 4};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(2);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
