/* detach-myself: the C side of detach-myself.pl (see there). */
#include "oracle.h"

static poe_value on_child(poe_ctx *c)
{
        printf("%s _child %s %s ret=%s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               val(poe_ctx_arg(c, 1)), val(poe_ctx_arg(c, 2)));
        return poe_nil();
}

static poe_value on_parent(poe_ctx *c)
{
        printf("%s _parent old=%s new=%s sender=%s in %s\n", id_of(poe_ctx_session(c)),
               val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)), id_of(poe_ctx_sender(c)),
               poe_kernel_get_active_event(poe_ctx_kernel(c)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value leaf_start(poe_ctx *c)
{
        printf("%s _start\n", id_of(poe_ctx_session(c)));
        return poe_str("leaf");
}

static poe_value early_start(poe_ctx *c)
{
        int rc = poe_kernel_detach_myself(poe_ctx_kernel(c));

        printf("%s _start detach_myself -> %s\n", id_of(poe_ctx_session(c)), err(rc));
        return poe_str("early");
}

static poe_value late_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", leaf_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_sid leaf;

        printf("%s _start\n", id_of(me));
        leaf = oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        printf("%s created %s\n", id_of(me), id_of(leaf));
        poe_kernel_yield(k, "leave", POE_NOARGS);
        return poe_str("late");
}

static poe_value late_leave(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        printf("%s detach_myself -> %s\n", id_of(me), err(poe_kernel_detach_myself(k)));
        printf("%s detach_myself again -> %s\n", id_of(me), err(poe_kernel_detach_myself(k)));
        return poe_nil();
}

static poe_value top_start(poe_ctx *c)
{
        static const poe_handler early[] = {
                { "_start", early_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler late[] = {
                { "_start", late_start, NULL },
                { "leave", late_leave, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_sid sid;

        printf("%s _start\n", id_of(me));
        sid = oracle_create(k, early, ORACLE_N(early), POE_NOARGS, NULL);
        printf("%s created %s\n", id_of(me), id_of(sid));
        sid = oracle_create(k, late, ORACLE_N(late), POE_NOARGS, NULL);
        printf("%s created %s\n", id_of(me), id_of(sid));
        return poe_str("top");
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", top_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
