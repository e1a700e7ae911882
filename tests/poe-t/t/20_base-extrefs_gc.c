/*
 * POE t/20_resources/00_base/extrefs_gc.pm (Yuval Kogman's case):
 * decrementing a reference count in _start must not collect the
 * session before _start returns, and a session held only by an extra
 * reference is stopped when that reference goes, before IDLE.
 */
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static int sigidle;
static poe_sid bystander_id;

static poe_value bystander_start(poe_ctx *c)
{
        poe_kernel_refcount_increment(poe_ctx_kernel(c), poe_ctx_session(c), "just hold me");
        return poe_nil();
}

static poe_value bystander_stop(poe_ctx *c)
{
        (void)c;
        tap_ok(!sigidle, "bystander stopped before sigidle");
        return poe_nil();
}

static poe_value idle_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "IDLE", "got_sigidle", POE_NOARGS);
        poe_kernel_alias_set(poe_ctx_kernel(c), "stayin_alive");
        return poe_nil();
}

static poe_value got_sigidle(poe_ctx *c)
{
        (void)c;
        sigidle++;
        tap_pass("got sigidle");
        return poe_nil();
}

static poe_value idle_stop(poe_ctx *c)
{
        (void)c;
        tap_pass("sigidle session is allowed to stop");
        return poe_nil();
}

static poe_value refcount_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_refcount_increment(k, poe_ctx_session(c), "just hold me");
        poe_kernel_refcount_decrement(k, poe_ctx_session(c), "just hold me");
        poe_kernel_yield(k, "do_something", POE_NOARGS);
        return poe_nil();
}

static poe_value do_something(poe_ctx *c)
{
        (void)c;
        tap_pass("refcount session is allowed to run");
        return poe_nil();
}

static poe_value refcount_stop(poe_ctx *c)
{
        tap_pass("refcount session is allowed to stop");
        poe_kernel_refcount_decrement(poe_ctx_kernel(c), bystander_id, "just hold me");
        return poe_nil();
}

int main(void)
{
        static const poe_handler bystander[] = {
                {"_start", bystander_start, NULL},
                {"_stop", bystander_stop, NULL},
        };
        static const poe_handler idle[] = {
                {"_start", idle_start, NULL},
                {"got_sigidle", got_sigidle, NULL},
                {"_stop", idle_stop, NULL},
        };
        static const poe_handler refcount[] = {
                {"_start", refcount_start, NULL},
                {"do_something", do_something, NULL},
                {"_stop", refcount_stop, NULL},
        };
        poe_session_spec spec = {.handlers = bystander, .n_handlers = 2};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(5);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, &bystander_id);
        spec = (poe_session_spec){.handlers = idle, .n_handlers = 3};
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = refcount, .n_handlers = 3};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
