/* kernel-stop: the C side of kernel-stop.pl (see there). */
#include "oracle.h"

static void chain(poe_kernel *k, int depth);

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int depth = *(int *)poe_ctx_heap(c);

        if (depth < 3)
                chain(k, depth + 1);
        poe_kernel_yield(k, depth == 3 ? "halt" : "never", POE_NOARGS);
        return poe_nil();
}

static poe_value on_halt(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        printf("%s halt events=%zu\n", id_of(me), poe_kernel_get_event_count(k));
        poe_kernel_stop(k);
        printf("%s after stop active=%s events=%zu\n", id_of(me),
               id_of(poe_kernel_get_active_session(k)), poe_kernel_get_event_count(k));
        printf("%s post 1 -> %s\n", id_of(me), err(poe_kernel_post(k, 1, "never", POE_NOARGS)));
        return poe_nil();
}

static poe_value on_never(poe_ctx *c)
{
        printf("%s never\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value on_child(poe_ctx *c)
{
        const char *op = val(poe_ctx_arg(c, 0));

        if (strcmp(op, "create") != 0)
                printf("%s _child %s %s\n", id_of(poe_ctx_session(c)), op,
                       val(poe_ctx_arg(c, 1)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop sender=%s\n", id_of(poe_ctx_session(c)), id_of(poe_ctx_sender(c)));
        return poe_nil();
}

static void chain(poe_kernel *k, int depth)
{
        static int depths[] = { 0, 1, 2, 3 };
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "halt", on_halt, NULL },
                { "never", on_never, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, &depths[depth]);
}

int main(void)
{
        poe_kernel *k = oracle_kernel();

        chain(k, 1);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
