/*
 * POE t/90_regression/neyuki_detach.t: a child that detaches itself
 * gets _parent (to the kernel) and its parent _child "lose", in order.
 */
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static int seq;

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value child_start(poe_ctx *c)
{
        tap_is_int(++seq, 3, "child started in sequence");
        poe_kernel_yield(poe_ctx_kernel(c), "child", POE_NOARGS);
        return poe_nil();
}

static poe_value child_parent(poe_ctx *c)
{
        const poe_value *p = poe_ctx_arg(c, 1);

        tap_is_int(++seq, 7, "child received _parent in sequence");
        tap_ok(p->type == POE_T_SESSION && p->u.sid == POE_KERNEL, "child parent is POE::Kernel");
        return poe_nil();
}

static poe_value child_child(poe_ctx *c)
{
        (void)c;
        tap_fail("child received unexpected _child");
        return poe_nil();
}

static poe_value child_child_event(poe_ctx *c)
{
        tap_is_int(++seq, 5, "child detached itself in sequence");
        poe_kernel_detach_myself(poe_ctx_kernel(c));
        poe_kernel_yield(poe_ctx_kernel(c), "done", POE_NOARGS);
        return poe_nil();
}

static poe_value parent_start(poe_ctx *c)
{
        tap_is_int(++seq, 1, "starting parent in sequence");
        poe_kernel_yield(poe_ctx_kernel(c), "parent", POE_NOARGS);
        return poe_nil();
}

static poe_value parent_parent(poe_ctx *c)
{
        (void)c;
        tap_fail("parent received unexpected _parent");
        return poe_nil();
}

static poe_value parent_child(poe_ctx *c)
{
        const char *op = poe_value_str(poe_ctx_arg(c, 0));
        char name[64];

        if (op && strcmp(op, "create") == 0) {
                tap_is_int(++seq, 4, "parent received _child create in sequence");
                return poe_nil();
        }
        if (op && strcmp(op, "lose") == 0) {
                tap_is_int(++seq, 6, "parent received _child lose in sequence");
                return poe_nil();
        }
        snprintf(name, sizeof(name), "parent received unexpected _child %s", op ? op : "");
        tap_fail(name);
        return poe_nil();
}

static poe_value parent_event(poe_ctx *c)
{
        static const poe_handler h[] = {
                {"_start", child_start, NULL},      {"_stop", nop, NULL},
                {"_parent", child_parent, NULL},    {"_child", child_child, NULL},
                {"child", child_child_event, NULL}, {"done", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 6};

        tap_is_int(++seq, 2, "parent spawning child in sequence");
        poe_session_create(poe_ctx_kernel(c), &spec, NULL);
        poe_kernel_yield(poe_ctx_kernel(c), "done", POE_NOARGS);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", parent_start, NULL},
                {"_stop", nop, NULL},
                {"_parent", parent_parent, NULL},
                {"_child", parent_child, NULL},
                {"done", nop, NULL},
                {"parent", parent_event, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 6};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(8);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
