/* delay-wall-time: the C side of delay-wall-time.pl (see there). */
#include "oracle.h"

#define ROUNDS 2000

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int adjust_ok = 0, set_before = 0, set_after = 0, i;

        for (i = 0; i < ROUNDS; i++) {
                poe_alarm_id id = 0;
                double t0, t1, adjusted = 0;

                poe_kernel_delay_set(k, "never", 100, POE_NOARGS, &id);
                t0 = poe_kernel_time(k);
                poe_kernel_delay_adjust(k, id, 10, &adjusted);
                t1 = poe_kernel_time(k);
                poe_kernel_alarm_remove(k, id, NULL);
                if (adjusted >= t0 + 10 && adjusted <= t1 + 10)
                        adjust_ok++;
        }
        printf("adjust within the call: %d of %d\n", adjust_ok, ROUNDS);
        for (i = 0; i < ROUNDS; i++) {
                poe_alarm_id id = 0;
                poe_alarm_info info;
                double t0, t1;

                t0 = poe_kernel_time(k);
                poe_kernel_delay_set(k, "never", 100, POE_NOARGS, &id);
                t1 = poe_kernel_time(k);
                if (poe_kernel_alarm_remove(k, id, &info) < 0)
                        continue;
                if (info.time >= t0 + 100)
                        set_before++;
                if (info.time <= t1 + 100)
                        set_after++;
        }
        printf("delay_set not before the call: %d of %d\n", set_before, ROUNDS);
        printf("delay_set not after the call: %d of %d\n", set_after, ROUNDS);
        return poe_nil();
}

static poe_value never(poe_ctx *c)
{
        (void)c;
        printf("never\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}, {"never", never, NULL}};
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return 0;
}
