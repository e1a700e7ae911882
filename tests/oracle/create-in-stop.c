/* create-in-stop: the C side of create-in-stop.pl (see there). */
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
        return poe_str("gone");
}

static poe_value late_start(poe_ctx *c)
{
        printf("%s _start sender=%s\n", id_of(poe_ctx_session(c)), id_of(poe_ctx_sender(c)));
        return poe_str("late");
}

static poe_value mid_start(poe_ctx *c)
{
        (void)c;
        return poe_str("mid");
}

static poe_value mid_stop(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", late_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_sid me = poe_ctx_session(c);

        printf("%s _stop creating\n", id_of(me));
        oracle_create(poe_ctx_kernel(c), h, ORACLE_N(h), POE_NOARGS, NULL);
        printf("%s _stop done\n", id_of(me));
        return poe_str("mid-gone");
}

static poe_value top_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", mid_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", mid_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_yield(k, "tick", POE_ARGS(poe_int(1)));
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        return poe_nil();
}

static poe_value top_tick(poe_ctx *c)
{
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        printf("%s tick %" PRId64 "\n", id_of(poe_ctx_session(c)), n);
        if (n < 3)
                poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_ARGS(poe_int(n + 1)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", top_start, NULL },
                { "tick", top_tick, NULL },
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
