/* idle-zombie: the C side of idle-zombie.pl (see there). */
#include "oracle.h"

static void chain(poe_kernel *k, int depth);

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

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int depth = *(int *)poe_ctx_heap(c);
        char alias[32];

        snprintf(alias, sizeof(alias), "a%" PRIu64, poe_ctx_session(c));
        poe_kernel_alias_set(k, alias);
        if (depth < 3)
                chain(k, depth + 1);
        else
                poe_kernel_sig(k, "IDLE", "on_idle", POE_NOARGS);
        return poe_nil();
}

static poe_value on_idle(poe_ctx *c)
{
        printf("%s on_idle %s sender=%s events=%zu\n", id_of(poe_ctx_session(c)),
               val(poe_ctx_arg(c, 0)), id_of(poe_ctx_sender(c)),
               poe_kernel_get_event_count(poe_ctx_kernel(c)));
        return poe_nil();
}

static void chain(poe_kernel *k, int depth)
{
        static int depths[] = { 0, 1, 2, 3 };
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "on_idle", on_idle, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, &depths[depth]);
}

int main(void)
{
        poe_kernel *k = oracle_kernel();

        chain(k, 1);
        printf("main run\n");
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
