/*
 * alarms: every kind of POE timer call, with what each one returns.
 *
 * alarm() and delay() replace every pending timer of the same name;
 * alarm_add() and delay_add() do not; alarm_set() and delay_set() do not
 * either, and return an id that alarm_adjust() and alarm_remove() take.
 * The kernel runs on its fake clock (a libpoe addition for tests), so the
 * program finishes at once and prints the same times on every run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <poe/poe.h>

static double t0;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id keep, drop;
        poe_alarm_info info;
        double when;

        t0 = poe_kernel_time(k);
        /* alarm: one "ring" at +3; a second alarm() would replace it. */
        printf("alarm(ring, +3) = %d\n",
               poe_kernel_alarm(k, "ring", t0 + 3, POE_ARGS(poe_str("alarm"))));
        /* alarm_add: another "ring", the first one stays. */
        printf("alarm_add(ring, +1) = %d\n",
               poe_kernel_alarm_add(k, "ring", t0 + 1, POE_ARGS(poe_str("alarm_add"))));
        /* delay twice: the second replaces the first "beep". */
        poe_kernel_delay(k, "beep", 9, POE_ARGS(poe_str("never")));
        printf("delay(beep, 2) = %d\n", poe_kernel_delay(k, "beep", 2, POE_ARGS(poe_str("delay"))));
        /* delay_set and alarm_set: ids to act on later. */
        poe_kernel_delay_set(k, "ring", 5, POE_ARGS(poe_str("delay_set")), &keep);
        poe_kernel_alarm_set(k, "ring", t0 + 4, POE_ARGS(poe_str("alarm_set")), &drop);
        printf("delay_set and alarm_set gave ids (%s)\n", keep != drop ? "distinct" : "SAME");
        /* alarm_adjust: move delay_set's timer 2.5 seconds earlier. */
        if (poe_kernel_alarm_adjust(k, keep, -2.5, &when) == 0)
                printf("alarm_adjust(-2.5): now due at +%.1f\n", when - t0);
        /* alarm_remove: take alarm_set's timer back, with what it was. */
        if (poe_kernel_alarm_remove(k, drop, &info) == 0)
                printf("alarm_remove: %s at +%.1f with \"%s\"\n", info.event, info.time - t0,
                       poe_value_str(&info.args[0]));
        printf("alarm_remove again = %d (-ESRCH)\n", poe_kernel_alarm_remove(k, drop, NULL));
        return poe_nil();
}

/* ring and beep: print the (fake) time and which call set the timer. */
static poe_value on_timer(poe_ctx *c)
{
        printf("+%.1f: %s (%s)\n", poe_kernel_time(poe_ctx_kernel(c)) - t0, poe_ctx_state(c),
               poe_value_str(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("no timers left: stopped\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "ring", on_timer, NULL },
                { "beep", on_timer, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 4 };
        poe_kernel *k;

        if (poe_kernel_new(&k, NULL) < 0)
                return EXIT_FAILURE;
        /* A whole-second start, so times print the same everywhere. */
        poe_kernel_clock_fake(k, 1700000000.0);
        if (poe_session_create(k, &spec, NULL) < 0)
                return EXIT_FAILURE;
        poe_kernel_run(k);
        poe_kernel_free(k);
        return EXIT_SUCCESS;
}
