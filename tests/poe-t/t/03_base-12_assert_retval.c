/*
 * POE t/10_units/03_base/12_assert_retval.t: under ASSERT_RETVALS (and
 * only it) every failing call is fatal.  Upstream catches each death
 * with eval {} and matches POE's message; an ASSERT_RETVALS failure in
 * C aborts the process, so each call runs in a forked child and the
 * assertion is that the child aborted with libpoe's message naming the
 * call ("<rv> poe_kernel_alarm_at() failed ...").  POE's undef ids are
 * id 0, which no timer ever has; a NaN time is POE's undef time.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../dies.h"

static void c_alarm(poe_kernel *k)
{
        poe_kernel_alarm(k, NULL, 0, POE_NOARGS);
}
static void c_alarm_add(poe_kernel *k)
{
        poe_kernel_alarm_add(k, NULL, 0, POE_NOARGS);
}
static void c_delay(poe_kernel *k)
{
        poe_kernel_delay(k, NULL, 0, POE_NOARGS);
}
static void c_delay_add(poe_kernel *k)
{
        poe_kernel_delay_add(k, NULL, 0, POE_NOARGS);
}
static void c_id_to_session(poe_kernel *k)
{
        poe_kernel_ID_id_to_session(k, 999);
}
static void c_refcount_inc(poe_kernel *k)
{
        poe_kernel_refcount_increment(k, 999, "tag");
}
static void c_refcount_dec(poe_kernel *k)
{
        poe_kernel_refcount_decrement(k, 999, "tag");
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static void c_state(poe_kernel *k)
{
        poe_kernel_state(k, "moo", nop, NULL);
}
static void c_alarm_set(poe_kernel *k)
{
        poe_kernel_alarm_set(k, NULL, 0, POE_NOARGS, NULL);
}
static void c_alarm_set_time(poe_kernel *k)
{
        poe_kernel_alarm_set(k, "moo", NAN, POE_NOARGS, NULL);
}
static void c_alarm_remove(poe_kernel *k)
{
        poe_kernel_alarm_remove(k, 0, NULL);
}
static void c_alarm_adjust(poe_kernel *k)
{
        poe_kernel_alarm_adjust(k, 0, 1, NULL);
}
static void c_alarm_adjust_delta(poe_kernel *k)
{
        poe_kernel_alarm_adjust(k, 1, NAN, NULL);
}
static void c_delay_set(poe_kernel *k)
{
        poe_kernel_delay_set(k, NULL, 0, POE_NOARGS, NULL);
}
static void c_delay_set_secs(poe_kernel *k)
{
        poe_kernel_delay_set(k, "moo", NAN, POE_NOARGS, NULL);
}
static void c_delay_adjust(poe_kernel *k)
{
        poe_kernel_delay_adjust(k, 0, 1, NULL);
}
static void c_delay_adjust_secs(poe_kernel *k)
{
        poe_kernel_delay_adjust(k, 1, NAN, NULL);
}
static void c_alias_set_moo(poe_kernel *k)
{
        poe_kernel_alias_set(k, "moo");
}
static void c_alias_remove_moo(poe_kernel *k)
{
        poe_kernel_alias_remove(k, "moo");
}
static void c_alias_remove_narf(poe_kernel *k)
{
        poe_kernel_alias_remove(k, "narf");
}

static poe_value first_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "moo");
        return poe_nil();
}

static poe_value second_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_dies(k, c_alias_set_moo, "poe_kernel_alias_set() failed", "alias already in use");
        tap_dies(k, c_alias_remove_moo, "poe_kernel_alias_remove() failed",
                 "alias belongs to another session");
        return poe_nil();
}

int main(void)
{
        static const poe_handler first[] = {{"_start", first_start, NULL}};
        static const poe_handler second[] = {{"_start", second_start, NULL}};
        poe_session_spec spec = {.handlers = first, .n_handlers = 1};
        poe_kernel *k;

        unsetenv("POE_ASSERT_USAGE");
        setenv("POE_ASSERT_RETVALS", "1", 1);
        tap_plan(22);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_kernel_run(k);

        tap_dies(k, c_alarm, "poe_kernel_alarm_at() failed", "alarm with undefined event name");
        tap_dies(k, c_alarm_add, "poe_kernel_alarm_add_at() failed",
                 "alarm_add with undefined event name");
        tap_dies(k, c_delay, "poe_kernel_delay_at() failed", "delay with undefined event name");
        tap_dies(k, c_delay_add, "poe_kernel_delay_add_at() failed",
                 "delay_add with undefined event name");
        tap_dies(k, c_id_to_session, "poe_kernel_ID_id_to_session() failed",
                 "ID_id_to_session with unknown ID");
        tap_skip("ID_session_to_id with unknown session",
                 "ID_session_to_id takes a Perl reference; sessions are ids in C");
        tap_dies(k, c_refcount_inc, "poe_kernel_refcount_increment_at() failed",
                 "refcount_increment with unknown session ID");
        tap_dies(k, c_refcount_dec, "poe_kernel_refcount_decrement() failed",
                 "refcount_decrement with unknown session ID");
        tap_dies(k, c_state, "poe_kernel_state() failed", "state with nonexistent active session");

        tap_dies(k, c_alarm_set, "poe_kernel_alarm_set_at() failed",
                 "event undefined in alarm_set");
        tap_dies(k, c_alarm_set_time, "poe_kernel_alarm_set_at() failed",
                 "time undefined in alarm_set");
        tap_dies(k, c_alarm_remove, "poe_kernel_alarm_remove() failed",
                 "alarm ID undefined in alarm_remove");
        tap_dies(k, c_alarm_adjust, "poe_kernel_alarm_adjust() failed",
                 "alarm ID undefined in alarm_adjust");
        tap_dies(k, c_alarm_adjust_delta, "poe_kernel_alarm_adjust() failed",
                 "alarm time undefined in alarm_adjust");
        tap_dies(k, c_delay_set, "poe_kernel_delay_set_at() failed",
                 "event name undefined in delay_set");
        tap_dies(k, c_delay_set_secs, "poe_kernel_delay_set_at() failed",
                 "seconds undefined in delay_set");
        tap_dies(k, c_delay_adjust, "poe_kernel_delay_adjust() failed",
                 "delay ID undefined in delay_adjust");
        tap_dies(k, c_delay_adjust_secs, "poe_kernel_delay_adjust() failed",
                 "delay seconds undefined in delay_adjust");

        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = second, .n_handlers = 1};
        poe_session_create(k, &spec, NULL);

        tap_dies(k, c_alias_remove_narf, "poe_kernel_alias_remove() failed",
                 "alias does not exist");
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
