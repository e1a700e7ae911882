/* run-while: the C side of run-while.pl (see there). */
#include "oracle.h"

static volatile int flag = 1;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), (const char *)poe_ctx_heap(c), POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value on_tick(poe_ctx *c)
{
        const char *name = poe_ctx_state(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        printf("%s %s %" PRId64 "\n", id_of(poe_ctx_session(c)), name, n);
        if (strcmp(name, "tick") == 0 && n == 3) {
                flag = 0;
                printf("%s flag cleared\n", id_of(poe_ctx_session(c)));
        }
        if (n < 5)
                poe_kernel_yield(poe_ctx_kernel(c), name, POE_ARGS(poe_int(n + 1)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static void ticker(poe_kernel *k, const char *name)
{
        const poe_handler h[] = {
                { "_start", on_start, NULL },
                { name, on_tick, NULL },
                { "_stop", on_stop, NULL },
        };

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, (void *)name);
}

int main(void)
{
        poe_kernel *k = oracle_kernel();

        ticker(k, "tick");
        ticker(k, "tock");
        printf("main run_while\n");
        poe_kernel_run_while(k, &flag);
        printf("main run_while returned events=%zu\n", poe_kernel_get_event_count(k));
        poe_kernel_run_while(k, &flag);
        printf("main run_while returned events=%zu\n", poe_kernel_get_event_count(k));
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
