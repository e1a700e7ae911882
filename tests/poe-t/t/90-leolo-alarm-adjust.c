/*
 * POE t/90_regression/leolo-alarm-adjust.t: alarm_adjust moves an
 * alarm relative to its time, delay_adjust a delay relative to now; both
 * ring after about a second instead of ten.  POE::Test::Sequence's
 * generic session is a _start and a _default that check each event
 * against the expected sequence (one unnamed is_deeply per step).
 * The order upstream expects (the alarm, then the delay) rests on
 * adjust_them running measurably later than _start, which Perl's speed
 * gives POE; C runs them microseconds apart, closer than the error of
 * the epoch-to-monotonic mapping, so this runs on the fake clock and
 * _start lets 10 ms pass.
 */
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static const char *sequence[] = {"_start", "adjust_them", "the_alarm", "the_delay", "_stop"};
static size_t step;
static double started;
static poe_alarm_id alarm_id, delay_id;

/* POE::Test::Sequence::next: is_deeply([$event, 0], [$expected, 0]). */
static void next_step(const char *event)
{
        if (step >= sizeof(sequence) / sizeof(sequence[0])) {
                char name[128];

                snprintf(name, sizeof(name), "Got an unexpected result (%s, 0). Time to bye.",
                         event);
                tap_fail(name);
                exit(tap_done());
        }
        tap_ok(strcmp(event, sequence[step++]) == 0, "");
}

static poe_value on_event(poe_ctx *c, const char *event)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char name[64];
        double took;

        next_step(event);
        if (strcmp(event, "_start") == 0) {
                double now = started = poe_kernel_time(k);

                poe_kernel_alarm_set(k, "the_alarm", now + 10, POE_NOARGS, &alarm_id);
                poe_kernel_delay_set(k, "the_delay", 10, POE_NOARGS, &delay_id);
                poe_kernel_yield(k, "adjust_them", POE_NOARGS);
                poe_kernel_clock_advance(k, 0.01);
        } else if (strcmp(event, "adjust_them") == 0) {
                poe_kernel_delay_adjust(k, delay_id, 1, NULL);
                poe_kernel_alarm_adjust(k, alarm_id, -9, NULL);
        } else if (strcmp(event, "the_alarm") == 0) {
                took = poe_kernel_time(k) - started;
                snprintf(name, sizeof(name), "Short alarm (%g)", took);
                tap_ok(took < 2, name);
        } else if (strcmp(event, "the_delay") == 0) {
                took = poe_kernel_time(k) - started;
                snprintf(name, sizeof(name), "Short delay (%g)", took);
                tap_ok(took < 2, name);
        }
        return poe_nil();
}

static poe_value on_start(poe_ctx *c)
{
        return on_event(c, poe_ctx_state(c));
}

static poe_value on_default(poe_ctx *c)
{
        return on_event(c, poe_value_str(poe_ctx_arg(c, 0)));
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"_default", on_default, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 2};
        poe_kernel *k;

        tap_plan(5 + 2);
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1.7e9) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
