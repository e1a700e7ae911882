/*
 * POE t/20_resources/00_base/events.pm: queueing timers and events, the
 * counts of events a session has sent and has pending, and removing
 * timers by id, by name and all at once.  Upstream calls
 * POE::Resource::Events' private _data_ev_* on the kernel's own session;
 * here a session does the same from its handlers through the public
 * timer calls (_data_ev_enqueue of an ET_ALARM is alarm_set,
 * _data_ev_clear_alarm_by_id alarm_remove, ..._by_name alarm() with no
 * time, ..._by_session alarm_remove_all), and the counts are read with
 * poe_peek_session: _data_ev_get_count_from is reasons[EVENTS_FROM],
 * _data_ev_get_count_to reasons[EVENTS_TO] plus reasons[TIMERS] (POE
 * counts a session's timers among the events due to it).
 * _data_ev_dispatch_due is returning to the kernel, which dispatches the
 * due timer to the next handler.  The clears aimed at a session id
 * nobody has have no public counterpart (the public calls act on the
 * active session) and are skips.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../dies.h"

#define BOGUS_SESSION 31415

static poe_sid me, other;
static int base_refcount;

static int count_from(poe_kernel *k, poe_sid sid)
{
        poe_session_info info;

        return poe_peek_session(k, sid, &info) == 0 ? (int)info.reasons[POE_REASON_EVENTS_FROM] : 0;
}

static int gc_item(void *ctx, const poe_peek_item *it)
{
        if (it->reason == POE_REASON_EVENTS_TO && it->name &&
            strcmp(it->name, "_garbage_collect") == 0)
                ++*(int *)ctx;
        return 0;
}

/* The kernel queues a _garbage_collect to a session once its _start has
 * run (as POE does); the kernel's own session, upstream's subject, has
 * none, so it is left out of the count. */
static int count_to(poe_kernel *k, poe_sid sid)
{
        poe_session_info info;
        int gc = 0;

        if (poe_peek_session(k, sid, &info) < 0)
                return 0;
        poe_peek_reasons(k, sid, gc_item, &gc);
        return (int)(info.reasons[POE_REASON_EVENTS_TO] + info.reasons[POE_REASON_TIMERS]) - gc;
}

static int refcount(poe_kernel *k, poe_sid sid)
{
        poe_session_info info;

        return poe_peek_session(k, sid, &info) == 0 ? (int)info.refcount : -1;
}

static void check_references(poe_kernel *k, int expected_from, int expected_to, const char *when)
{
        char name[160];
        int from = count_from(k, me), to = count_to(k, me);

        snprintf(name, sizeof(name), "from evcount %d == %d %s", from, expected_from, when);
        tap_is_int(from, expected_from, name);
        snprintf(name, sizeof(name), "to evcount %d == %d %s", to, expected_to, when);
        tap_is_int(to, expected_to, name);
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id id = 0;

        me = poe_ctx_session(c);
        base_refcount = refcount(k, me);
        poe_kernel_alarm_set(k, "event", 0, POE_NOARGS, &id);
        tap_is_int((long long)id, 1, "first user created event has correct ID");
        tap_is_int(count_from(k, me), 0, "POE::Kernel has enqueued correct number of events");
        tap_is_int(count_to(k, me), 1, "POE::Kernel has three events enqueued for it");
        tap_is_int(count_from(k, BOGUS_SESSION), 0, "unknown session has enqueued no events");
        tap_is_int(count_to(k, BOGUS_SESSION), 0, "unknown session has no events enqueued for it");
        tap_is_int(refcount(k, me), base_refcount + 1, "POE::Kernel's timer count is correct");
        return poe_nil(); /* _data_ev_dispatch_due: the kernel dispatches "event" */
}

static int removed_all;

static void on_removed(void *ctx, const poe_alarm_info *a)
{
        (void)ctx;
        removed_all++;
        tap_is_str(a->event, "other-timer", "last alarm had the corrent name");
        tap_ok(a->time == 4, "last alarm had the corrent due time");
}

static void post_moo(poe_kernel *k)
{
        poe_kernel_post_alias(k, "moo", "event", POE_NOARGS);
}

static poe_value on_event(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id ids[4];
        poe_alarm_info info;
        int r;

        check_references(k, 0, 0, "after due events are dispatched");

        for (int i = 1; i <= 4; i++)
                poe_kernel_alarm_set(k, i == 4 ? "other-timer" : "timer", i, POE_NOARGS,
                                     &ids[i - 1]);
        check_references(k, 0, 4, "after some timers are enqueued");

        r = poe_kernel_alarm_remove(k, ids[1], &info);
        tap_ok(r == 0 && info.time == 2, "removed event has the expected due time");
        tap_is_str(r == 0 ? info.event : NULL, "timer", "removed event has the expected name");
        check_references(k, 0, 3, "after a single named event is removed");

        tap_ok(poe_kernel_alarm_remove(k, 8675309, &info) == -ESRCH,
               "can't clear bogus alarm by nonexistent ID");
        check_references(k, 0, 3, "after trying to clear a bogus alarm");

        tap_skip("from evcount 0 == 0 after removing timers from a bogus session",
                 "POE's private _data_ev_clear_alarm_by_name for another session: the public "
                 "alarm() clears the active session's timers only");
        tap_skip("to evcount 3 == 3 after removing timers from a bogus session",
                 "POE's private _data_ev_clear_alarm_by_name for another session: the public "
                 "alarm() clears the active session's timers only");
        tap_is_int(count_from(k, BOGUS_SESSION), 0, "bogus session has created no events");
        tap_is_int(count_to(k, BOGUS_SESSION), 0, "bogus session has no events enqueued for it");

        poe_kernel_alarm(k, "timer", POE_NO_TIME, POE_NOARGS);
        check_references(k, 0, 1, "after removing 'timer' by name");

        tap_skip("didn't remove alarm from nonexistent session",
                 "POE's private _data_ev_clear_alarm_by_session for another session: the public "
                 "alarm_remove_all acts on the active session only");

        r = poe_kernel_alarm_remove_all(k, on_removed, NULL);
        tap_ok(r == 1 && removed_all == 1, "removed the last alarm successfully");
        if (!removed_all) {
                tap_fail("last alarm had the corrent name");
                tap_fail("last alarm had the corrent due time");
        }
        check_references(k, 0, 0, "after clearing all alarms for a session");

        /* Upstream enqueues for the string "moo", which is no session, and
         * traps; the C counterpart is a post to an alias nobody has, fatal
         * under ASSERT_DATA. */
        tap_dies(k, post_moo, "Cannot resolve ``moo'' into a session reference",
                 "trap while enqueuing event for non-existent session");

        /* Events between two sessions: one this session sends, one it is
         * sent (upstream: between the kernel and a new session). */
        poe_kernel_post(k, other, "event-1", POE_NOARGS);
        poe_kernel_call(k, other, "send-back", POE_NOARGS, NULL);
        check_references(k, 1, 1, "after creating inter-session messages");
        return poe_nil();
}

static poe_value on_event_2(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        /* _data_ev_clear_session: here the two events have left the queue
         * the public way, by being dispatched. */
        check_references(k, 0, 0, "after clearing inter-session messages");
        check_references(k, 0, 0, "after clearing kernel messages");
        return poe_nil();
}

/* An alias keeps the other session until event-1 reaches it. */
static poe_value other_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "other");
        return poe_nil();
}

static poe_value other_event_1(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "other");
        return poe_nil();
}

static poe_value other_send_back(poe_ctx *c)
{
        poe_kernel_post(poe_ctx_kernel(c), me, "event-2", POE_NOARGS);
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"event", on_event, NULL},
                {"event-2", on_event_2, NULL},
                {"_stop", nop, NULL},
        };
        static const poe_handler o[] = {
                {"_start", other_start, NULL},
                {"send-back", other_send_back, NULL},
                {"event-1", other_event_1, NULL},
                {"_stop", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 4};
        poe_kernel_info info;
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(38);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = o, .n_handlers = 4};
        poe_session_create(k, &spec, &other);
        poe_kernel_run(k);
        tap_ok(poe_peek_kernel(k, &info) == 0 && info.queue_length == 0 && info.sessions == 0,
               "POE::Resource::Events finalized cleanly");
        poe_kernel_free(k);
        return tap_done();
}
