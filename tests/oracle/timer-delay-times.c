/* timer-delay-times: the C side of timer-delay-times.pl (see there). */
#include "oracle.h"

static double t0;

/* Seconds after the start, rounded down to a half second (see the .pl);
 * never negative, so truncating is rounding down. */
static double rel_half(double t)
{
        return (double)(long long)((t - t0 + 0.01) * 2) / 2;
}

/* Perl prints a small number as it is and an epoch time relative. */
static const char *when(double t)
{
        char *s = oracle_buf();

        if (t > 1e6)
                snprintf(s, 256, "%.1f", rel_half(t));
        else
                snprintf(s, 256, "%g", t);
        return s;
}

static void print_removed(void *ctx, const poe_alarm_info *a)
{
        printf("alarm_remove_all -> %s %s [%s]\n", a->event, when(a->time),
               a->nargs ? val(&a->args[0]) : "");
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id probe = 0;
        poe_alarm_info info;
        double t = -1;

        t0 = poe_kernel_time(k);
        poe_kernel_delay(k, "d1", 5, POE_ARGS(poe_str("a")));
        poe_kernel_alarm_set(k, "probe", t0 + 100, POE_NOARGS, &probe);
        if (poe_kernel_alarm_remove(k, probe - 1, &info) == 0)
                printf("alarm_remove delay() timer -> %s %s\n", info.event, when(info.time));

        poe_kernel_delay(k, "d2", 5, POE_ARGS(poe_str("b")));
        poe_kernel_alarm_adjust(k, probe + 1, 2, &t);
        printf("alarm_adjust delay() timer by 2 -> %s\n", when(t));
        poe_kernel_alarm_adjust(k, probe + 1, 1, &t);
        printf("alarm_adjust it by 1 more -> %s\n", when(t));
        poe_kernel_alarm_remove(k, probe, NULL);

        poe_kernel_delay_add(k, "d3", 6, POE_ARGS(poe_str("c")));
        poe_kernel_delay_set(k, "d4", 7, POE_ARGS(poe_str("d")), NULL);
        poe_kernel_alarm_set(k, "d5", t0 + 9, POE_ARGS(poe_str("e")), NULL);
        poe_kernel_alarm_remove_all(k, print_removed, NULL);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
