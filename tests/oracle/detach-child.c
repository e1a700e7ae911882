/* detach-child: the C side of detach-child.pl (see there). */
#include "oracle.h"

static poe_value on_child(poe_ctx *c)
{
        printf("%s _child %s %s ret=%s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               val(poe_ctx_arg(c, 1)), val(poe_ctx_arg(c, 2)));
        return poe_nil();
}

static poe_value on_parent(poe_ctx *c)
{
        printf("%s _parent old=%s new=%s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               val(poe_ctx_arg(c, 1)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value child_start(poe_ctx *c)
{
        printf("%s _start\n", id_of(poe_ctx_session(c)));
        poe_kernel_yield(poe_ctx_kernel(c), "try_myself", POE_NOARGS);
        return poe_str("c");
}

static poe_value child_try_myself(poe_ctx *c)
{
        printf("%s detach_myself -> %s\n", id_of(poe_ctx_session(c)),
               err(poe_kernel_detach_myself(poe_ctx_kernel(c))));
        return poe_nil();
}

static poe_value parent_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", child_start, NULL },
                { "try_myself", child_try_myself, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_sid child;

        printf("%s _start\n", id_of(me));
        child = oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        printf("%s detach_child %s -> %s\n", id_of(me), id_of(child),
               err(poe_kernel_detach_child(k, child)));
        printf("%s detach_child %s again -> %s\n", id_of(me), id_of(child),
               err(poe_kernel_detach_child(k, child)));
        printf("%s detach_child 99 -> %s\n", id_of(me), err(poe_kernel_detach_child(k, 99)));
        printf("%s detach_child %s -> %s\n", id_of(me), id_of(me),
               err(poe_kernel_detach_child(k, poe_ctx_session(c))));
        poe_kernel_yield(k, "later", POE_NOARGS);
        return poe_str("p");
}

static poe_value parent_later(poe_ctx *c)
{
        printf("%s detach_child 3 -> %s\n", id_of(poe_ctx_session(c)),
               err(poe_kernel_detach_child(poe_ctx_kernel(c), 3)));
        return poe_nil();
}

static poe_value other_start(poe_ctx *c)
{
        printf("%s _start\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler parent[] = {
                { "_start", parent_start, NULL },
                { "later", parent_later, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler other[] = {
                { "_start", other_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, parent, ORACLE_N(parent), POE_NOARGS, NULL);
        oracle_create(k, other, ORACLE_N(other), POE_NOARGS, NULL);
        printf("main detach_child 1 -> %s\n", err(poe_kernel_detach_child(k, 1)));
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
