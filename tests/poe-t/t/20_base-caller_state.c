/*
 * POE t/20_resources/00_base/caller_state.pm: CALLER_STATE for posts,
 * yields, calls, postbacks and callbacks (a postback invoked from a
 * call()ed handler looks as if it came from the caller's state).
 */
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

struct heap {
        poe_postback *postback, *callback;
};

static void drop(struct heap *h)
{
        h->postback = poe_postback_free(h->postback);
        h->callback = poe_postback_free(h->callback);
}

static int from(poe_ctx *c, const char *want, const char *name, const char *how)
{
        if (strcmp(poe_ctx_caller_state(c), want) == 0) {
                tap_pass(name);
                return 1;
        }
        tap_diag("%s failed: caller state is %s (should be %s)", how, poe_ctx_caller_state(c),
                 want);
        tap_fail(name);
        return 0;
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct heap *h = poe_ctx_heap(c);

        poe_kernel_post(k, poe_ctx_session(c), "check_1", POE_NOARGS);
        poe_session_postback(k, poe_ctx_session(c), "check_4", POE_NOARGS, &h->postback);
        poe_session_callback(k, poe_ctx_session(c), "check_5", POE_NOARGS, &h->callback);
        return poe_nil();
}

static poe_value check_1(poe_ctx *c)
{
        if (!from(c, "_start", "called from _start", "post")) {
                drop(poe_ctx_heap(c));
                return poe_nil();
        }
        poe_kernel_yield(poe_ctx_kernel(c), "check_2", POE_NOARGS);
        return poe_nil();
}

static poe_value check_2(poe_ctx *c)
{
        if (!from(c, "check_1", "called from check_1", "yield")) {
                drop(poe_ctx_heap(c));
                return poe_nil();
        }
        poe_kernel_call(poe_ctx_kernel(c), poe_ctx_session(c), "check_3", POE_NOARGS, NULL);
        return poe_nil();
}

static poe_value check_3(poe_ctx *c)
{
        struct heap *h = poe_ctx_heap(c);
        poe_postback *pb = h->postback;

        if (!from(c, "check_2", "called from check_2", "call"))
                return poe_nil();
        h->postback = NULL;
        poe_postback_invoke(pb, POE_NOARGS, NULL);
        poe_postback_free(pb);
        return poe_nil();
}

static poe_value check_4(poe_ctx *c)
{
        struct heap *h = poe_ctx_heap(c);
        poe_postback *cb = h->callback;

        from(c, "check_2", "called from check_2 (again)", "postback");
        h->callback = NULL;
        poe_postback_invoke(cb, POE_NOARGS, NULL);
        poe_postback_free(cb);
        return poe_nil();
}

static poe_value check_5(poe_ctx *c)
{
        from(c, "check_4", "called from check_4", "callback");
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL}, {"check_1", check_1, NULL}, {"check_2", check_2, NULL},
                {"check_3", check_3, NULL}, {"check_4", check_4, NULL}, {"check_5", check_5, NULL},
                {"_stop", nop, NULL},
        };
        static struct heap heap;
        poe_session_spec spec = {.handlers = h, .n_handlers = 7, .heap = &heap};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(6);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        drop(&heap);
        poe_kernel_free(k);
        return tap_done();
}
