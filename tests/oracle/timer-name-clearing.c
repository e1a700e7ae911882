/* timer-name-clearing: the C side of timer-name-clearing.pl (see there). */
#include "oracle.h"

static double t0;

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", (const char *)poe_ctx_heap(c));
        return poe_nil();
}

/* _default: ARG0 is the event's name, ARG1 its arguments. */
static poe_value on_default(poe_ctx *c)
{
        const poe_value *args = poe_ctx_arg(c, 1);

        printf("%s %s %s\n", (const char *)poe_ctx_heap(c), val(poe_ctx_arg(c, 0)),
               args->len ? val(&args->u.list[0]) : "undef");
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        poe_kernel_alarm(poe_ctx_kernel(c), "tick", t0 + 0.06, POE_ARGS(poe_str("B1")));
        return poe_nil();
}

static poe_value a_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alarm(k, "tick", t0 + 0.05, POE_ARGS(poe_str("A1")));
        poe_kernel_alarm_add(k, "tick", t0 + 0.10, POE_ARGS(poe_str("A2")));
        poe_kernel_delay_add(k, "tick", 0.12, POE_ARGS(poe_str("A3")));
        poe_kernel_alarm_set(k, "tick", t0 + 0.14, POE_ARGS(poe_str("A4")), NULL);
        poe_kernel_delay_set(k, "tick", 0.16, POE_ARGS(poe_str("A5")), NULL);
        poe_kernel_alarm(k, "tock", t0 + 0.5, POE_ARGS(poe_str("A6")));
        printf("A alarm -> %d\n", -poe_kernel_alarm(k, "tick", t0 + 0.52, POE_ARGS(poe_str("A7"))));

        poe_kernel_delay(k, "ding", 0.04, POE_ARGS(poe_str("D1")));
        poe_kernel_delay_add(k, "ding", 0.06, POE_ARGS(poe_str("D2")));
        poe_kernel_alarm_set(k, "ding", t0 + 0.01, POE_ARGS(poe_str("D3")), NULL);
        printf("A delay -> %d\n", -poe_kernel_delay(k, "ding", 0.08, POE_ARGS(poe_str("D4"))));

        poe_kernel_alarm_add(k, "multi", t0 + 0.02, POE_ARGS(poe_str("M1")));
        poe_kernel_alarm_add(k, "multi", t0 + 0.03, POE_ARGS(poe_str("M2")));
        poe_kernel_delay_add(k, "multi", 0.09, POE_ARGS(poe_str("M3")));

        poe_kernel_alarm_add(k, "gone", t0 + 0.01, POE_ARGS(poe_str("G1")));
        poe_kernel_delay_add(k, "gone", 0.01, POE_ARGS(poe_str("G2")));
        printf("A alarm without time -> %d\n",
               -poe_kernel_alarm(k, "gone", POE_NO_TIME, POE_NOARGS));
        poe_kernel_delay_set(k, "gone2", 0.01, POE_ARGS(poe_str("G3")), NULL);
        printf("A delay without time -> %d\n",
               -poe_kernel_delay(k, "gone2", POE_NO_TIME, POE_NOARGS));
        printf("A alarm nothing to clear -> %d\n",
               -poe_kernel_alarm(k, "none", POE_NO_TIME, POE_NOARGS));
        return poe_nil();
}

int main(void)
{
        static const poe_handler b[] = {
                { "_start", b_start, NULL },
                { "_stop", on_stop, NULL },
                { "_default", on_default, NULL },
        };
        static const poe_handler a[] = {
                { "_start", a_start, NULL },
                { "_stop", on_stop, NULL },
                { "_default", on_default, NULL },
        };
        poe_kernel *k = oracle_kernel();

        t0 = poe_kernel_time(k);
        oracle_create(k, b, ORACLE_N(b), POE_NOARGS, "B");
        oracle_create(k, a, ORACLE_N(a), POE_NOARGS, "A");
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
