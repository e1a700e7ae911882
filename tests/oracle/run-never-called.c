/* run-never-called: the C side of run-never-called.pl (see there). */
#include "oracle.h"

static poe_value on_start(poe_ctx *c)
{
        printf("_start\n");
        poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS);
        return poe_nil();
}

static poe_value on_tick(poe_ctx *c)
{
        (void)c;
        printf("tick\n");
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("_stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"tick", on_tick, NULL},
                {"_stop", on_stop, NULL},
        };
        poe_kernel *k = oracle_kernel();
        int go = 1;

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run_while(k, &go);
        printf("run_while returned\n");
        oracle_warn_begin();
        poe_kernel_free(k);
        oracle_warn_end();
        return 0;
}
