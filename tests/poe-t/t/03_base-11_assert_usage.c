/*
 * POE t/10_units/03_base/11_assert_usage.t: under ASSERT_USAGE bad
 * parameters to the kernel's public calls, and calls that act on the
 * active session made outside one, are fatal.  Upstream catches each
 * death with eval {} and matches POE's message; an ASSERT_USAGE failure
 * in C aborts the process, so each call runs in a forked child that must
 * abort with libpoe's message (../dies.h).  POE's undef maps to what C
 * can say: a NULL string, a NaN time, timer id 0 (no timer has it),
 * descriptor -1; a closed filehandle (gensym) is a descriptor that was
 * just closed.  Sessions are numeric ids in C, so an undef destination
 * or session has no C form: those assertions are skips.
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../dies.h"

static int closed_fd = -1; /* a descriptor that is not open: gensym() */

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

/* Calls outside a running session, with otherwise good parameters. */
static void o_alarm(poe_kernel *k)
{
        poe_kernel_alarm(k, "moo", 0, POE_NOARGS);
}
static void o_alarm_add(poe_kernel *k)
{
        poe_kernel_alarm_add(k, "moo", 0, POE_NOARGS);
}
static void o_alarm_adjust(poe_kernel *k)
{
        poe_kernel_alarm_adjust(k, 1, 1, NULL);
}
static void o_alarm_remove(poe_kernel *k)
{
        poe_kernel_alarm_remove(k, 1, NULL);
}
static void o_alarm_remove_all(poe_kernel *k)
{
        poe_kernel_alarm_remove_all(k, NULL, NULL);
}
static void o_alarm_set(poe_kernel *k)
{
        poe_kernel_alarm_set(k, "moo", 0, POE_NOARGS, NULL);
}
static void o_delay(poe_kernel *k)
{
        poe_kernel_delay(k, "moo", 0, POE_NOARGS);
}
static void o_delay_add(poe_kernel *k)
{
        poe_kernel_delay_add(k, "moo", 0, POE_NOARGS);
}
static void o_delay_adjust(poe_kernel *k)
{
        poe_kernel_delay_adjust(k, 1, 1, NULL);
}
static void o_delay_set(poe_kernel *k)
{
        poe_kernel_delay_set(k, "moo", 0, POE_NOARGS, NULL);
}
static void o_detach_child(poe_kernel *k)
{
        poe_kernel_detach_child(k, 999);
}
static void o_detach_myself(poe_kernel *k)
{
        poe_kernel_detach_myself(k);
}
static void o_select(poe_kernel *k)
{
        poe_kernel_select(k, 0, "r", NULL, NULL, POE_NOARGS);
}
static void o_select_expedite(poe_kernel *k)
{
        poe_kernel_select_expedite(k, 0, "e", POE_NOARGS);
}
static void o_select_pause_read(poe_kernel *k)
{
        poe_kernel_select_pause_read(k, 0);
}
static void o_select_pause_write(poe_kernel *k)
{
        poe_kernel_select_pause_write(k, 1);
}
static void o_select_read(poe_kernel *k)
{
        poe_kernel_select_read(k, 0, "r", POE_NOARGS);
}
static void o_select_resume_read(poe_kernel *k)
{
        poe_kernel_select_resume_read(k, 0);
}
static void o_select_resume_write(poe_kernel *k)
{
        poe_kernel_select_resume_write(k, 1);
}
static void o_select_write(poe_kernel *k)
{
        poe_kernel_select_write(k, 1, "w", POE_NOARGS);
}
static void o_sig(poe_kernel *k)
{
        poe_kernel_sig(k, "USR1", "usr1", POE_NOARGS);
}
static void o_state(poe_kernel *k)
{
        poe_kernel_state(k, "moo", nop, NULL);
}
static void o_yield(poe_kernel *k)
{
        poe_kernel_yield(k, "moo", POE_NOARGS);
}

static const struct {
        const char *method, *c_name; /* POE's method, the libpoe call */
        tap_call_fn fn;
} outside[] = {
        {"alarm", "poe_kernel_alarm_at", o_alarm},
        {"alarm_add", "poe_kernel_alarm_add_at", o_alarm_add},
        {"alarm_adjust", "poe_kernel_alarm_adjust", o_alarm_adjust},
        {"alarm_remove", "poe_kernel_alarm_remove", o_alarm_remove},
        {"alarm_remove_all", "poe_kernel_alarm_remove_all", o_alarm_remove_all},
        {"alarm_set", "poe_kernel_alarm_set_at", o_alarm_set},
        {"delay", "poe_kernel_delay_at", o_delay},
        {"delay_add", "poe_kernel_delay_add_at", o_delay_add},
        {"delay_adjust", "poe_kernel_delay_adjust", o_delay_adjust},
        {"delay_set", "poe_kernel_delay_set_at", o_delay_set},
        {"detach_child", "poe_kernel_detach_child", o_detach_child},
        {"detach_myself", "poe_kernel_detach_myself", o_detach_myself},
        {"select", "poe_kernel_select", o_select},
        {"select_expedite", "poe_kernel_select_expedite", o_select_expedite},
        {"select_pause_read", "poe_kernel_select_pause_read", o_select_pause_read},
        {"select_pause_write", "poe_kernel_select_pause_write", o_select_pause_write},
        {"select_read", "poe_kernel_select_read", o_select_read},
        {"select_resume_read", "poe_kernel_select_resume_read", o_select_resume_read},
        {"select_resume_write", "poe_kernel_select_resume_write", o_select_resume_write},
        {"select_write", "poe_kernel_select_write", o_select_write},
        {"sig", "poe_kernel_sig", o_sig},
        {"state", "poe_kernel_state", o_state},
        {"yield", "poe_kernel_yield_at", o_yield},
};

/* Signal functions. */
static void c_sig_undef(poe_kernel *k)
{
        poe_kernel_sig(k, NULL, "moo", POE_NOARGS);
}
static void c_signal_undef(poe_kernel *k)
{
        poe_kernel_signal(k, POE_KERNEL, NULL, POE_NOARGS);
}

static poe_value signal_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_dies(k, c_sig_undef, "bad parameters to poe_kernel_sig()",
                 "undefined signal assertion");
        tap_skip("undefined destination in signal",
                 "signal's destination is a numeric session id in C: there is no undef one");
        tap_dies(k, c_signal_undef, "bad parameters to poe_kernel_signal_at()",
                 "undefined signal in signal");
        return poe_nil();
}

/* Post, yield, call. */
static void c_post_event(poe_kernel *k)
{
        poe_kernel_post(k, POE_KERNEL, NULL, POE_NOARGS);
}
static void c_yield_event(poe_kernel *k)
{
        poe_kernel_yield(k, NULL, POE_NOARGS);
}
static void c_call_event(poe_kernel *k)
{
        poe_kernel_call(k, POE_KERNEL, NULL, POE_NOARGS, NULL);
}

static poe_value post_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_skip("destination undefined in post",
                 "post's destination is a numeric session id in C: there is no undef one");
        tap_dies(k, c_post_event, "bad parameters to poe_kernel_post_at()",
                 "event undefined in post");
        tap_dies(k, c_yield_event, "bad parameters to poe_kernel_yield_at()",
                 "event undefined in yield");
        tap_skip("destination undefined in call",
                 "call's destination is a numeric session id in C: there is no undef one");
        tap_dies(k, c_call_event, "bad parameters to poe_kernel_call_at()",
                 "event undefined in call");
        return poe_nil();
}

/* Classic alarms. */
static void c_alarm_event(poe_kernel *k)
{
        poe_kernel_alarm(k, NULL, 0, POE_NOARGS);
}
static void c_alarm_add_event(poe_kernel *k)
{
        poe_kernel_alarm_add(k, NULL, 0, POE_NOARGS);
}
static void c_alarm_add_time(poe_kernel *k)
{
        poe_kernel_alarm_add(k, "moo", NAN, POE_NOARGS);
}
static void c_delay_event(poe_kernel *k)
{
        poe_kernel_delay(k, NULL, 0, POE_NOARGS);
}
static void c_delay_add_event(poe_kernel *k)
{
        poe_kernel_delay_add(k, NULL, 0, POE_NOARGS);
}
static void c_delay_add_time(poe_kernel *k)
{
        poe_kernel_delay_add(k, "moo", NAN, POE_NOARGS);
}

static poe_value classic_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_dies(k, c_alarm_event, "undefined event name in poe_kernel_alarm_at()",
                 "event undefined in alarm");
        tap_dies(k, c_alarm_add_event, "undefined event name in poe_kernel_alarm_add_at()",
                 "event undefined in alarm_add");
        tap_dies(k, c_alarm_add_time, "undefined time in poe_kernel_alarm_add_at()",
                 "time undefined in alarm_add");
        tap_dies(k, c_delay_event, "undefined event name in poe_kernel_delay_at()",
                 "event undefined in delay");
        tap_dies(k, c_delay_add_event, "undefined event name in poe_kernel_delay_add_at()",
                 "event undefined in delay_add");
        tap_dies(k, c_delay_add_time, "undefined time in poe_kernel_delay_add_at()",
                 "time undefined in delay_add");
        return poe_nil();
}

/* New alarms. */
static void c_alarm_set_event(poe_kernel *k)
{
        poe_kernel_alarm_set(k, NULL, 0, POE_NOARGS, NULL);
}
static void c_alarm_set_time(poe_kernel *k)
{
        poe_kernel_alarm_set(k, "moo", NAN, POE_NOARGS, NULL);
}
static void c_alarm_remove_id(poe_kernel *k)
{
        poe_kernel_alarm_remove(k, 0, NULL);
}
static void c_alarm_adjust_id(poe_kernel *k)
{
        poe_kernel_alarm_adjust(k, 0, 1, NULL);
}
static void c_alarm_adjust_delta(poe_kernel *k)
{
        poe_kernel_alarm_adjust(k, 1, NAN, NULL);
}
static void c_delay_set_event(poe_kernel *k)
{
        poe_kernel_delay_set(k, NULL, 0, POE_NOARGS, NULL);
}
static void c_delay_set_secs(poe_kernel *k)
{
        poe_kernel_delay_set(k, "moo", NAN, POE_NOARGS, NULL);
}
static void c_delay_adjust_id(poe_kernel *k)
{
        poe_kernel_delay_adjust(k, 0, 1, NULL);
}
static void c_delay_adjust_secs(poe_kernel *k)
{
        poe_kernel_delay_adjust(k, 1, NAN, NULL);
}

static poe_value new_alarms_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_dies(k, c_alarm_set_event, "undefined event name in poe_kernel_alarm_set_at()",
                 "event undefined in alarm_set");
        tap_dies(k, c_alarm_set_time, "undefined time in poe_kernel_alarm_set_at()",
                 "time undefined in alarm_set");
        tap_dies(k, c_alarm_remove_id, "undefined alarm id in poe_kernel_alarm_remove()",
                 "alarm ID undefined in alarm_remove");
        tap_dies(k, c_alarm_adjust_id, "undefined alarm id in poe_kernel_alarm_adjust()",
                 "alarm ID undefined in alarm_adjust");
        tap_dies(k, c_alarm_adjust_delta, "bad parameters to poe_kernel_alarm_adjust()",
                 "alarm time undefined in alarm_adjust");
        tap_dies(k, c_delay_set_event, "undefined event name in poe_kernel_delay_set_at()",
                 "event name undefined in delay_set");
        tap_dies(k, c_delay_set_secs, "undefined time in poe_kernel_delay_set_at()",
                 "seconds undefined in delay_set");
        tap_dies(k, c_delay_adjust_id, "undefined alarm id in poe_kernel_delay_adjust()",
                 "delay ID undefined in delay_adjust");
        tap_dies(k, c_delay_adjust_secs, "bad parameters to poe_kernel_delay_adjust()",
                 "delay seconds undefined in delay_adjust");
        return poe_nil();
}

/* Aliases held by another session, and by no one. */
static poe_value moo_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "moo");
        return poe_nil();
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

static poe_value moo_user_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_dies(k, c_alias_set_moo, "alias 'moo' is in use by another session",
                 "alias already in use");
        tap_dies(k, c_alias_remove_moo, "alias 'moo' does not belong to current session",
                 "alias belongs to another session");
        return poe_nil();
}

static poe_value narf_start(poe_ctx *c)
{
        tap_dies(poe_ctx_kernel(c), c_alias_remove_narf, "alias 'narf' does not exist",
                 "alias does not exist");
        return poe_nil();
}

/* Filehandle I/O: -1 is POE's undef filehandle, closed_fd its gensym. */
#define FH_CALLS(name, call)                                                                       \
        static void u_##name(poe_kernel *k)                                                        \
        {                                                                                          \
                int fd = -1;                                                                       \
                (void)call;                                                                        \
        }                                                                                          \
        static void c_##name(poe_kernel *k)                                                        \
        {                                                                                          \
                int fd = closed_fd;                                                                \
                (void)call;                                                                        \
        }
FH_CALLS(select, poe_kernel_select(k, fd, "r", NULL, NULL, POE_NOARGS))
FH_CALLS(select_read, poe_kernel_select_read(k, fd, "r", POE_NOARGS))
FH_CALLS(select_write, poe_kernel_select_write(k, fd, "w", POE_NOARGS))
FH_CALLS(select_expedite, poe_kernel_select_expedite(k, fd, "e", POE_NOARGS))
FH_CALLS(select_pause_write, poe_kernel_select_pause_write(k, fd))
FH_CALLS(select_resume_write, poe_kernel_select_resume_write(k, fd))
FH_CALLS(select_pause_read, poe_kernel_select_pause_read(k, fd))
FH_CALLS(select_resume_read, poe_kernel_select_resume_read(k, fd))

static poe_value fh_start(poe_ctx *c)
{
        static const struct {
                const char *method;
                tap_call_fn undef_fn, closed_fn;
        } calls[] = {
                {"select", u_select, c_select},
                {"select_read", u_select_read, c_select_read},
                {"select_write", u_select_write, c_select_write},
                {"select_expedite", u_select_expedite, c_select_expedite},
                {"select_pause_write", u_select_pause_write, c_select_pause_write},
                {"select_resume_write", u_select_resume_write, c_select_resume_write},
                {"select_pause_read", u_select_pause_read, c_select_pause_read},
                {"select_resume_read", u_select_resume_read, c_select_resume_read},
        };
        poe_kernel *k = poe_ctx_kernel(c);
        char want[128], name[128];
        int fds[2];

        if (pipe(fds) == 0) { /* gensym(): a filehandle that is not open */
                closed_fd = fds[0];
                close(fds[0]);
                close(fds[1]);
        }
        for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
                snprintf(want, sizeof(want), "bad parameters to poe_kernel_%s()", calls[i].method);
                snprintf(name, sizeof(name), "filehandle undefined in %s", calls[i].method);
                tap_dies(k, calls[i].undef_fn, want, name);
                snprintf(want, sizeof(want), "invalid filehandle in %s", calls[i].method);
                snprintf(name, sizeof(name), "filehandle closed in %s", calls[i].method);
                tap_dies(k, calls[i].closed_fn, want, name);
        }
        return poe_nil();
}

/* Aliases. */
static void c_alias_set_undef(poe_kernel *k)
{
        poe_kernel_alias_set(k, NULL);
}
static void c_alias_remove_undef(poe_kernel *k)
{
        poe_kernel_alias_remove(k, NULL);
}
static void c_alias_resolve_undef(poe_kernel *k)
{
        poe_sid sid;

        poe_kernel_alias_resolve(k, NULL, &sid);
}

static poe_value aliases_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_dies(k, c_alias_set_undef, "bad parameters to poe_kernel_alias_set()",
                 "undefined alias in alias_set");
        tap_dies(k, c_alias_remove_undef, "bad parameters to poe_kernel_alias_remove()",
                 "undefined alias in alias_remove");
        tap_dies(k, c_alias_resolve_undef, "bad parameters to poe_kernel_alias_resolve()",
                 "undefined alias in alias_resolve");
        return poe_nil();
}

/* Kernel and session IDs. */
static poe_value ids_start(poe_ctx *c)
{
        (void)c;
        tap_skip("undefined ID in ID_id_to_session",
                 "session ids are numbers in C: there is no undef one");
        tap_skip("undefined session in ID_session_to_id",
                 "ID_session_to_id takes a Perl reference; sessions are ids in C");
        return poe_nil();
}

/* Extra references. */
static void c_refcount_inc_tag(poe_kernel *k)
{
        poe_kernel_refcount_increment(k, poe_kernel_get_active_session(k), NULL);
}
static void c_refcount_dec_tag(poe_kernel *k)
{
        poe_kernel_refcount_decrement(k, poe_kernel_get_active_session(k), NULL);
}

static poe_value refs_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_skip("undefined session ID in refcount_increment",
                 "session ids are numbers in C: there is no undef one");
        tap_dies(k, c_refcount_inc_tag, "bad parameters to poe_kernel_refcount_increment_at()",
                 "undefined tag in refcount_increment");
        tap_skip("undefined session ID in refcount_decrement",
                 "session ids are numbers in C: there is no undef one");
        tap_dies(k, c_refcount_dec_tag, "bad parameters to poe_kernel_refcount_decrement()",
                 "undefined tag in refcount_decrement");
        return poe_nil();
}

/* Event handlers. */
static void c_state_undef(poe_kernel *k)
{
        poe_kernel_state(k, NULL, nop, NULL);
}

static poe_value state_start(poe_ctx *c)
{
        tap_dies(poe_ctx_kernel(c), c_state_undef, "bad parameters to poe_kernel_state()",
                 "undefined event name in state");
        return poe_nil();
}

static void create(poe_kernel *k, poe_handler_fn start)
{
        poe_handler h[] = {{"_start", start, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 1};

        poe_session_create(k, &spec, NULL);
}

int main(void)
{
        char want[128], msg[128];
        poe_kernel *k;

        setenv("POE_ASSERT_USAGE", "1", 1);
        tap_plan(76);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_kernel_run(k);

        /* Usage outside a running session. */
        for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
                snprintf(want, sizeof(want), "must call %s() from a running session",
                         outside[i].method);
                snprintf(msg, sizeof(msg), "must call %s() from a running session",
                         outside[i].c_name);
                tap_dies(k, outside[i].fn, msg, want);
        }

        create(k, signal_start);
        create(k, post_start);
        create(k, classic_start);
        create(k, new_alarms_start);
        create(k, moo_start);
        create(k, moo_user_start);
        create(k, narf_start);
        create(k, fh_start);
        create(k, aliases_start);
        create(k, ids_start);
        create(k, refs_start);
        create(k, state_start);

        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
