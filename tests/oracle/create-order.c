/* create-order: the C side of create-order.pl (see there). */
#include "oracle.h"

static poe_sid make(poe_kernel *k, int depth);

static poe_value on_start(poe_ctx *c)
{
        static char ret[4][16];
        poe_sid me = poe_ctx_session(c);
        int depth = *(int *)poe_ctx_heap(c);

        printf("%s _start sender=%s args=[%s %s]\n", id_of(me), id_of(poe_ctx_sender(c)),
               val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)));
        if (depth < 3) {
                poe_sid child = make(poe_ctx_kernel(c), depth + 1);
                printf("%s create returned %s\n", id_of(me), id_of(child));
        }
        snprintf(ret[depth], sizeof(ret[depth]), "r%" PRIu64, me);
        return poe_str(ret[depth]);
}

static poe_value on_child(poe_ctx *c)
{
        printf("%s _child %s %s ret=%s sender=%s\n", id_of(poe_ctx_session(c)),
               val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)), val(poe_ctx_arg(c, 2)),
               id_of(poe_ctx_sender(c)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        static char ret[16];

        printf("%s _stop sender=%s\n", id_of(poe_ctx_session(c)), id_of(poe_ctx_sender(c)));
        snprintf(ret, sizeof(ret), "s%" PRIu64, poe_ctx_session(c));
        return poe_str(ret);
}

static poe_sid make(poe_kernel *k, int depth)
{
        static int depths[] = { 0, 1, 2, 3 };
        static const poe_handler handlers[] = {
                { "_start", on_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };
        char name[16];

        snprintf(name, sizeof(name), "d%d", depth);
        return oracle_create(k, handlers, ORACLE_N(handlers),
                             POE_ARGS(poe_str(name), poe_str("x")), &depths[depth]);
}

int main(void)
{
        poe_kernel *k = oracle_kernel();

        printf("main create\n");
        printf("main create returned %s\n", id_of(make(k, 1)));
        printf("main create returned %s\n", id_of(make(k, 3)));
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
