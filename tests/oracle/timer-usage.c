/* timer-usage: the C side of timer-usage.pl (see there).
 * POE_ASSERT_USAGE=1 is POE::Kernel::ASSERT_USAGE. */

#include <math.h>

#include "oracle.h"

static const char *const labels[] = {
        "alarm undef name",        "alarm undef time",      "alarm_add undef name",
        "alarm_add undef time",    "delay undef name",      "delay undef time",
        "delay_add undef name",    "delay_add undef time",  "alarm_set undef name",
        "alarm_set undef time",    "delay_set undef name",  "delay_set undef time",
        "alarm_remove undef id",   "alarm_adjust undef id", "delay_adjust undef id",
        "alarm_remove unknown id",
};

static void call(poe_kernel *k, int what)
{
        switch (what) {
        case 0:
                poe_kernel_alarm(k, NULL, NAN, POE_NOARGS);
                break;
        case 1:
                poe_kernel_alarm(k, "moo", NAN, POE_NOARGS);
                break;
        case 2:
                poe_kernel_alarm_add(k, NULL, 1, POE_NOARGS);
                break;
        case 3:
                poe_kernel_alarm_add(k, "moo", NAN, POE_NOARGS);
                break;
        case 4:
                poe_kernel_delay(k, NULL, NAN, POE_NOARGS);
                break;
        case 5:
                poe_kernel_delay(k, "moo", NAN, POE_NOARGS);
                break;
        case 6:
                poe_kernel_delay_add(k, NULL, 1, POE_NOARGS);
                break;
        case 7:
                poe_kernel_delay_add(k, "moo", NAN, POE_NOARGS);
                break;
        case 8:
                poe_kernel_alarm_set(k, NULL, 1, POE_NOARGS, NULL);
                break;
        case 9:
                poe_kernel_alarm_set(k, "moo", NAN, POE_NOARGS, NULL);
                break;
        case 10:
                poe_kernel_delay_set(k, NULL, 1, POE_NOARGS, NULL);
                break;
        case 11:
                poe_kernel_delay_set(k, "moo", NAN, POE_NOARGS, NULL);
                break;
        case 12:
                poe_kernel_alarm_remove(k, 0, NULL);
                break;
        case 13:
                poe_kernel_alarm_adjust(k, 0, 1, NULL);
                break;
        case 14:
                poe_kernel_delay_adjust(k, 0, 1, NULL);
                break;
        case 15:
                poe_kernel_alarm_remove(k, 999, NULL);
                break;
        }
}

/* eval { call() }, and what its death names, as the Perl side prints it. */
static void try(poe_kernel *k, int what)
{
        char out[4096];
        int lived = oracle_fork_eval(k, call, what, out, sizeof(out));

        if (lived < 0)
                exit(1);
        printf("%s: %s\n", labels[what],
               lived                                     ? "lived"
               : strstr(out, "undefined event name in ") ? "died: undefined event name"
               : strstr(out, "undefined time in ")       ? "died: undefined time"
               : strstr(out, "undefined alarm id in ")   ? "died: undefined id"
                                                         : "died: other");
}

static poe_value start(poe_ctx *c)
{
        for (int i = 0; i < (int)ORACLE_N(labels); i++)
                try(poe_ctx_kernel(c), i);
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", start, NULL}, {"_stop", nop, NULL}};
        poe_kernel *k;

        setenv("POE_ASSERT_USAGE", "1", 1);
        k = oracle_kernel();
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_stop(k);
        printf("stopped\n");
        poe_kernel_free(k);
        return 0;
}
