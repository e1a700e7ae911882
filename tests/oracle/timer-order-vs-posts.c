/* timer-order-vs-posts: the C side of timer-order-vs-posts.pl (see there). */
#include "oracle.h"

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        double t1;

        poe_kernel_yield(k, "p1", POE_NOARGS);
        poe_kernel_alarm_add(k, "past", poe_kernel_time(k) - 1, POE_NOARGS);
        poe_kernel_yield(k, "p2", POE_NOARGS);
        poe_kernel_alarm_add(k, "older", poe_kernel_time(k) - 2, POE_NOARGS);
        poe_kernel_delay_add(k, "soon", 0.5, POE_NOARGS);
        t1 = poe_kernel_time(k); /* after soon was set: see the .pl */
        poe_kernel_alarm_add(k, "same1", t1 + 0.6, POE_NOARGS);
        poe_kernel_alarm_add(k, "same2", t1 + 0.6, POE_NOARGS);
        poe_kernel_alarm_set(k, "same3", t1 + 0.6, POE_NOARGS, NULL);
        poe_kernel_delay_add(k, "neg", -0.5, POE_NOARGS);
        poe_kernel_yield(k, "p3", POE_NOARGS);
        return poe_nil();
}

static poe_value on_p1(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        printf("p1\n");
        poe_kernel_yield(k, "p4", POE_NOARGS);
        poe_kernel_alarm_add(k, "late_past", poe_kernel_time(k) - 10, POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("_stop\n");
        return poe_nil();
}

static poe_value on_default(poe_ctx *c)
{
        const char *name = poe_value_str(poe_ctx_arg(c, 0));

        if (name && name[0] != '_')
                printf("%s\n", name);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "p1", on_p1, NULL },
                { "_stop", on_stop, NULL },
                { "_default", on_default, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
