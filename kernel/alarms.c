/*
 * Timers: every POE timer call, as an API over the one queue
 * (POE::Kernel's alarm, alarm_add, delay, delay_add, alarm_set,
 * delay_set, alarm_adjust, delay_adjust, alarm_remove, alarm_remove_all
 * and get_next_event_time).
 *
 * A timer is an ET_ALARM event from a session to itself.  Its id is the
 * queue item id, as in POE, so ids count every event ever queued.  The
 * time POE reports back for a timer is EV_WALLTIME + EV_DELTA with undef
 * as zero, and delay() and delay_add() record neither, so such a timer
 * reports time 0 (plus any alarm_adjust deltas): that quirk is POE's,
 * and kept.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "clock.h"
#include "events.h"
#include "queue.h"
#include "sessions.h"

static int64_t seconds_ns(double s)
{
        double ns = s * 1e9;

        if (ns > 4e18)
                return (int64_t)4e18;
        if (ns < -4e18)
                return (int64_t)-4e18;
        return (int64_t)ns;
}

/* The active session, which must be a real one: timers belong to it. */
static poe__session *owner(poe_kernel *k)
{
        poe__session *s = k->active;

        return s->is_kernel || !s->alive ? NULL : s;
}

/* POE's _data_ev_clear_alarm_by_name: O(the session's timers).  0, or
 * -ENOMEM with nothing cleared: the lists are made first if they are
 * not yet (poe__timers_list), which may need memory. */
static int clear_by_name(poe_kernel *k, poe__session *s, uint32_t name)
{
        poe__list_node *pos, *tmp;

        if (!*poe__reason_slot(s, POE_REASON_TIMERS))
                return 0;
        if (poe__timers_list(k) < 0)
                return -ENOMEM;
        poe__list_foreach_safe(pos, tmp, &s->timers)
        {
                poe__event *ev = poe__container_of(pos, poe__event, link);

                if (ev->name != name)
                        continue;
                poe__dequeue(k, ev);
                poe__event_free(k, ev);
        }
        return 0;
}

/* Queues a timer for the active session.  time is POE's EV_WALLTIME +
 * EV_DELTA, undef as 0; due is monotonic. */
static inline __attribute__((always_inline)) int
set_timer(poe_kernel *k, const char *file, int line, poe__session *s, uint32_t name, int64_t due,
          double time, const poe_value *args, size_t nargs, bool clear, poe_alarm_id *ret_id)
{
        uint32_t fid = poe__file(k, file);
        uint32_t type = POE__ET_ALARM;
        poe__event *ev;

        /* An id handed back must be found again: the map is made now.
         * Clearing by name needs the lists: made now too, while a
         * failure changes nothing (and before the new timer's block is
         * chosen: with the lists made it is a full one). */
        if (fid == POE__NO_NAME || (ret_id && poe__timers_index(k) < 0) ||
            (clear && *poe__reason_slot(s, POE_REASON_TIMERS) && poe__timers_list(k) < 0) ||
            poe__queue_reserve(k) < 0 || !(ev = poe__timer_event_new(k, args, nargs, &type))) {
                poe__values_destroy_borrowed(args, nargs);
                return -ENOMEM;
        }
        /* Cleared only now that nothing can fail (the lists are made): a
         * failed alarm() keeps the timers it would have replaced. */
        if (clear)
                (void)clear_by_name(k, s, name);
        ev->due = due;
        ev->u.time = time;
        poe__enqueue_timer(k, ev, s, name, type, fid, line);
        if (ret_id)
                *ret_id = ev->seq;
        return 0;
}

/* Checks shared by every setter.  Returns the interned name or a
 * negative errno (with the arguments' destructors run: they were given). */
static inline __attribute__((always_inline)) int64_t prologue(poe_kernel *k, const char *event,
                                                              const poe_value *args, size_t nargs,
                                                              poe__session **ret_s,
                                                              const char *func)
{
        uint32_t name;

        if (!k || !event || (nargs && !args)) {
                poe__values_destroy_borrowed(args, nargs);
                /* POE's order under ASSERT_USAGE: outside a session
                 * first, then "undefined event name in alarm_add()". */
                if (k && !owner(k))
                        return poe__outside(k, -EINVAL, func);
                if (k && !event)
                        return poe__explain_usage(k, -EINVAL, "undefined event name in %s()", func);
                return -EINVAL;
        }
        *ret_s = owner(k);
        if (!*ret_s) {
                poe__values_destroy_borrowed(args, nargs);
                return poe__outside(k, -EPERM, func);
        }
        name = poe__intern_cached(k, event);
        if (name == POE__NO_NAME) {
                poe__values_destroy_borrowed(args, nargs);
                return -ENOMEM;
        }
        return name;
}

/*
 * The six setters differ only in these ways (POE::Kernel's alarm, alarm_add,
 * delay, delay_add, alarm_set, delay_set).
 */
enum {
        T_CLEAR = 1,        /* first remove the session's timers of that name */
        T_UNDEF_CLEARS = 2, /* POE_NO_TIME only clears (else it is -EINVAL) */
        T_RELATIVE = 4,     /* t is seconds from now, not an epoch time */
        T_STAMP = 8,        /* record now + t as POE's walltime + delta (delay_set) */
};

/* A timer due more than this before it is set was set in the past: its
 * time was late already (the "now" of time() read a moment ago is not). */
#define PAST_NS 1000000

/* The lint's evidence (poe_session_info's timers_past), in the
 * session's more: without memory for it, the evidence is not kept (the
 * timer is set all the same). */
static void set_in_past(poe_kernel *k, poe__session *s, int64_t now)
{
        if (poe__need_more(k, s) < 0)
                return;
        if (!s->more->past_n++)
                s->more->past_first = now;
        s->more->past_last = now;
}

/* Inline in each setter, so that how's tests are made at compile time:
 * delay_set's path has no test of the others' cases. */
static inline __attribute__((always_inline)) int set_common(poe_kernel *k, const char *file,
                                                            int line, const char *event, double t,
                                                            const poe_value *args, size_t nargs,
                                                            unsigned how, poe_alarm_id *ret_id,
                                                            const char *func)
{
        poe__session *s;
        int64_t name, due, now = 0;
        double time, stamp = 0;

        /* The clocks are read first, as POE's delay_set does ("always
         * grab time() ASAP"), before the arguments are looked at.  The
         * wall clock is read for delay_set: the time it records is the
         * wall time at the call plus the delay, never the monotonic
         * clock mapped onto the epoch, which runs up to the mapping's
         * error behind it.  The monotonic clock is read for every
         * timer, relative or not: posts made after it are stamped no
         * earlier (see poe__enqueue), so k->now takes it once the call
         * is known good. */
        if (__builtin_expect(k != NULL, 1)) {
                if (how & T_STAMP)
                        stamp = poe__wall_inline(k);
                now = poe__mono_inline(k);
        }
        name = prologue(k, event, args, nargs, &s, func);
        if (name < 0)
                return (int)name;
        k->now = now;
        if (isnan(t)) {
                poe__values_destroy_borrowed(args, nargs);
                if ((how & T_CLEAR) && clear_by_name(k, s, (uint32_t)name) < 0)
                        return -ENOMEM;
                if (how & T_UNDEF_CLEARS)
                        return 0;
                /* POE's "undefined time in alarm_add()" (ASSERT_USAGE). */
                return poe__explain_usage(k, -EINVAL, "undefined time in %s()", func);
        }
        /* The time POE reports, EV_WALLTIME + EV_DELTA with undef as 0
         * (t is a number here: a NaN returned above): */
        if (how & T_RELATIVE) {
                due = now + seconds_ns(t);
                /* delay_set records both; POE's delay() and delay_add()
                 * pass no wall time, so _data_ev_enqueue records
                 * neither: such a timer reports time 0. */
                time = (how & T_STAMP) ? stamp + t : 0.0;
        } else {
                /* alarm*() record the wall time given, no delta. */
                due = poe__wall2mono(k, t);
                time = t + 0.0;
        }
        if (due < now - PAST_NS)
                set_in_past(k, s, now);
        return set_timer(k, file, line, s, (uint32_t)name, due, time, args, nargs, how & T_CLEAR,
                         ret_id);
}

POE_EXPORT int poe_kernel_alarm_at(poe_kernel *k, const char *file, int line, const char *event,
                                   double when, const poe_value *args, size_t nargs)
{
        return poe__rv_at(k, file, line,
                          set_common(k, file, line, event, when, args, nargs,
                                     T_CLEAR | T_UNDEF_CLEARS, NULL, __func__),
                          __func__);
}

POE_EXPORT int poe_kernel_alarm_add_at(poe_kernel *k, const char *file, int line, const char *event,
                                       double when, const poe_value *args, size_t nargs)
{
        return poe__rv_at(k, file, line,
                          set_common(k, file, line, event, when, args, nargs, 0, NULL, __func__),
                          __func__);
}

POE_EXPORT int poe_kernel_delay_at(poe_kernel *k, const char *file, int line, const char *event,
                                   double seconds, const poe_value *args, size_t nargs)
{
        return poe__rv_at(k, file, line,
                          set_common(k, file, line, event, seconds, args, nargs,
                                     T_CLEAR | T_UNDEF_CLEARS | T_RELATIVE, NULL, __func__),
                          __func__);
}

POE_EXPORT int poe_kernel_delay_add_at(poe_kernel *k, const char *file, int line, const char *event,
                                       double seconds, const poe_value *args, size_t nargs)
{
        return poe__rv_at(
                k, file, line,
                set_common(k, file, line, event, seconds, args, nargs, T_RELATIVE, NULL, __func__),
                __func__);
}

POE_EXPORT int poe_kernel_alarm_set_at(poe_kernel *k, const char *file, int line, const char *event,
                                       double when, const poe_value *args, size_t nargs,
                                       poe_alarm_id *ret_id)
{
        return poe__rv_at(k, file, line,
                          set_common(k, file, line, event, when, args, nargs, 0, ret_id, __func__),
                          __func__);
}

POE_EXPORT int poe_kernel_delay_set_at(poe_kernel *k, const char *file, int line, const char *event,
                                       double seconds, const poe_value *args, size_t nargs,
                                       poe_alarm_id *ret_id)
{
        return poe__rv_at(k, file, line,
                          set_common(k, file, line, event, seconds, args, nargs,
                                     T_RELATIVE | T_STAMP, ret_id, __func__),
                          __func__);
}

/* Finds the active session's timer by id: -ESRCH if no such timer,
 * -EPERM if it is another session's (POE::Queue's answers).  Those two
 * are returned quietly: POE's alarm_remove, alarm_adjust and
 * delay_adjust return nothing for them without _explain_return, so they
 * are no failed call for TRACE_RETVALS and ASSERT_RETVALS.  A call from
 * outside a session is reported here, as every failed call is. */
static int find_own(poe_kernel *k, poe_alarm_id id, poe__event **ret, const char *func)
{
        poe__event *ev;
        poe__session *s = owner(k);

        if (!s)
                return poe__rv(k, poe__outside(k, -EPERM, func), func);
        /* No timer has id 0, POE's undef id: "undefined alarm id in
         * alarm_remove()" under ASSERT_USAGE, else quietly -ESRCH. */
        if (!id)
                return poe__explain_usage(k, -ESRCH, "undefined alarm id in %s()", func);
        ev = poe__timer_find(k, id);
        if (!ev)
                return -ESRCH;
        if (ev->to != s)
                return -EPERM;
        *ret = ev;
        return 0;
}

POE_EXPORT int poe_kernel_alarm_adjust(poe_kernel *k, poe_alarm_id id, double delta,
                                       double *ret_time)
{
        poe__event *ev = NULL;
        int r;

        POE_CHECK(k, k && !isnan(delta), -EINVAL);
        r = find_own(k, id, &ev, __func__);
        if (r < 0)
                return r;
        poe__queue_retime(k, ev, ev->due + seconds_ns(delta));
        ev->u.time += delta;
        if (ret_time)
                *ret_time = ev->u.time;
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_delay_adjust(poe_kernel *k, poe_alarm_id id, double seconds,
                                       double *ret_time)
{
        int64_t now;
        double wall;
        poe__event *ev = NULL;
        int r;

        POE_CHECK(k, k && !isnan(seconds), -EINVAL);
        /* As delay_set: the wall time at the call plus the delay. */
        wall = poe__wall(k);
        r = find_own(k, id, &ev, __func__);
        if (r < 0)
                return r;
        now = poe__clock_now(k);
        poe__queue_retime(k, ev, now + seconds_ns(seconds));
        ev->u.time = wall + seconds;
        if (ret_time)
                *ret_time = ev->u.time;
        return poe__rv(k, 0, __func__);
}

static void describe(poe_kernel *k, poe__event *ev, poe_alarm_info *info)
{
        info->id = ev->seq;
        info->event = poe__name(k, ev->name);
        info->time = ev->u.time;
        info->args = poe__ev_args(ev);
        info->nargs = poe__ev_nargs(ev);
}

POE_EXPORT int poe_kernel_alarm_remove(poe_kernel *k, poe_alarm_id id, poe_alarm_info *ret)
{
        poe__event *ev = NULL;
        int r;

        POE_CHECK(k, k, -EINVAL);
        r = find_own(k, id, &ev, __func__);
        if (r < 0)
                return r;
        poe__dequeue_timer(k, ev);
        /* The removed timer is parked so that its name and arguments stay
         * readable until the next removal. */
        if (k->parked_event)
                poe__timer_event_free(k, k->parked_event);
        k->parked_event = ev;
        if (ret)
                describe(k, ev, ret);
        return poe__rv(k, 0, __func__);
}

/* Orders timers as the queue would dispatch them. */
static int by_due(const void *a, const void *b)
{
        const poe__event *x = *(poe__event *const *)a, *y = *(poe__event *const *)b;

        if (x->due != y->due)
                return x->due < y->due ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

POE_EXPORT int poe_kernel_alarm_remove_all(poe_kernel *k,
                                           void (*fn)(void *ctx, const poe_alarm_info *alarm),
                                           void *ctx)
{
        poe__session *s;
        poe__list_node *pos;
        poe__event **v;
        size_t n = 0, i;

        POE_CHECK(k, k, -EINVAL);
        s = owner(k);
        if (!s)
                return poe__rv(k, poe__outside(k, -EPERM, __func__), __func__);
        if (!*poe__reason_slot(s, POE_REASON_TIMERS))
                return poe__rv(k, 0, __func__);
        v = poe__malloc(k, *poe__reason_slot(s, POE_REASON_TIMERS) * sizeof(*v));
        if (!v)
                return poe__rv(k, -ENOMEM, __func__);
        if (poe__timers_list(k) < 0) {
                poe__free(k, v);
                return poe__rv(k, -ENOMEM, __func__);
        }
        poe__list_foreach(pos, &s->timers) v[n++] = poe__container_of(pos, poe__event, link);
        qsort(v, n, sizeof(*v), by_due);
        for (i = 0; i < n; i++)
                poe__dequeue(k, v[i]);
        for (i = 0; i < n; i++) {
                if (fn) {
                        poe_alarm_info info;

                        describe(k, v[i], &info);
                        fn(ctx, &info);
                }
                poe__event_free(k, v[i]);
        }
        poe__free(k, v);
        return poe__rv(k, (int)n, __func__);
}

POE_EXPORT int poe_kernel_get_next_event_time(const poe_kernel *k, double *ret_time)
{
        poe__event *head;

        POE_CHECK(k, k, -EINVAL);
        head = poe__queue_head(k);
        if (!head)
                return poe__rv(k, -ENOENT, __func__);
        if (ret_time)
                *ret_time = poe__mono2wall(k, head->due);
        return poe__rv(k, 0, __func__);
}
