/*
 * POE t/10_units/03_base/15_kernel_internal.t: POE::Kernel's helpers
 * for its own modules.  The idle queue is POE's count of the items in
 * the kernel's queue that are not work (its SIGCHLD poll event); the
 * kernel is idle, and raises IDLE, when the queue holds no more than
 * that.  libpoe queues nothing of the kind (SIGCHLD comes through the
 * signal pipe), so its idle queue is what an idle kernel's queue holds,
 * and growing and shrinking it is queuing and removing an item: here a
 * timer set and removed by a session whose handlers main calls, the
 * count read with poe_kernel_get_event_count and poe_peek_kernel.
 * _trap, _croak, _confess, _cluck, _carp, _warn and _die are Perl
 * helpers around die and warn, checked through CORE::GLOBAL overrides:
 * skips.
 */
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_alarm_id timers[2];
static int n_timers;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "internal");
        return poe_nil();
}

static poe_value on_grow(poe_ctx *c)
{
        poe_alarm_id id = 0;

        if (poe_kernel_delay_set(poe_ctx_kernel(c), "never", 3600, POE_NOARGS, &id) == 0)
                timers[n_timers++] = id;
        return poe_nil();
}

static poe_value on_shrink(poe_ctx *c)
{
        poe_alarm_info ai;

        if (n_timers)
                poe_kernel_alarm_remove(poe_ctx_kernel(c), timers[--n_timers], &ai);
        return poe_nil();
}

static poe_value on_done(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "internal");
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

/* The queue's size, if get_event_count and the peek agree; else -1. */
static long queue_size(poe_kernel *k)
{
        poe_kernel_info ki;

        if (poe_peek_kernel(k, &ki) < 0 || ki.queue_length != poe_kernel_get_event_count(k))
                return -1;
        return (long)ki.queue_length;
}

static void step(poe_kernel *k, poe_sid sid, const char *event)
{
        poe_kernel_call(k, sid, event, POE_NOARGS, NULL);
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL},
                                        {"grow", on_grow, NULL},
                                        {"shrink", on_shrink, NULL},
                                        {"done", on_done, NULL},
                                        {"_stop", nop, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 5};
        poe_kernel *k;
        poe_sid sid = 0;
        long base_size;

        tap_plan(12);
        tap_skip("use POE::Kernel", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1e9) < 0)
                return 2;
        if (poe_session_create(k, &spec, &sid) < 0 || poe_kernel_run_one_timeslice(k) != 1)
                return 2;

        /* The expected size of the queue when the kernel is idle. */
        base_size = queue_size(k);
        step(k, sid, "grow");
        tap_is_int(queue_size(k), base_size + 1, "growing idle queue");
        step(k, sid, "grow");
        tap_is_int(queue_size(k), base_size + 2, "growing idle queue (2)");
        step(k, sid, "shrink");
        tap_is_int(queue_size(k), base_size + 1, "shrinking idle queue");
        step(k, sid, "shrink");
        tap_is_int(queue_size(k), base_size, "shrinking idle queue (2)");

        tap_skip("_trap confessed", "POE::Kernel::_trap, a Perl helper (CORE::GLOBAL::die)");
        tap_skip("_croak croaked", "POE::Kernel::_croak, a Perl helper (CORE::GLOBAL::die)");
        tap_skip("_confess confessed", "POE::Kernel::_confess, a Perl helper (CORE::GLOBAL::die)");
        tap_skip("_cluck clucked", "POE::Kernel::_cluck, a Perl helper (CORE::GLOBAL::warn)");
        tap_skip("_carp carped", "POE::Kernel::_carp, a Perl helper (CORE::GLOBAL::warn)");
        tap_skip("_warn warned", "POE::Kernel::_warn, a Perl helper (CORE::GLOBAL::warn)");
        tap_skip("_die died", "POE::Kernel::_die, a Perl helper (CORE::GLOBAL::die)");

        step(k, sid, "done");
        if (poe_kernel_run(k) != 0)
                return 1;
        poe_kernel_free(k);
        return tap_done();
}
