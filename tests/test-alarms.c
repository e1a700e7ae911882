/*
 * Timers: every timer call of POE::Kernel (alarm, alarm_add, delay,
 * delay_add, alarm_set, delay_set, alarm_adjust, delay_adjust,
 * alarm_remove, alarm_remove_all, get_next_event_time), their errors,
 * the ids they hand out, and the order of the one queue that timers
 * share with posted events.
 *
 * The tests run on the fake clock: time stands still unless a test
 * advances it, and a timeslice that would sleep until the next timer
 * jumps there instead, so nothing here sleeps and every time is exact.
 * (One test needs the real clock to show its bug, and sets its timers
 * in the past, so it does not wait either.)  Handlers log
 * "event@seconds-since-start args...".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"
#include "queue.h"
#include "sessions.h"

/* The fake clock's epoch start: a round number, so offsets print exactly. */
#define T0 1000000.0

static void fake_clock(void)
{
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);
}

static double now_rel(poe_kernel *k)
{
        return poe_kernel_time(k) - T0;
}

#define ASSERT_NEAR(a, b)                                                            \
        do {                                                                         \
                double a_ = (a), b_ = (b);                                           \
                if (!(fabs(a_ - b_) < 1e-6))                                         \
                        fail_msg("%s is %.9g, expected %.9g", #a, a_, b_);           \
        } while (0)

/* ---- acting as a session ---- */

/*
 * Timer calls act on the active session, so a test runs its code inside
 * a session by calling the session's "as" handler, which runs a function
 * given as a pointer argument.
 */
typedef void (*as_fn)(poe_kernel *k, void *ctx);

struct as_req {
        as_fn fn;
        void *ctx;
};

static poe_value h_as(poe_ctx *c)
{
        struct as_req *r = poe_ctx_arg(c, 0)->u.ptr.p;

        r->fn(poe_ctx_kernel(c), r->ctx);
        return poe_nil();
}

static void as(poe_sid sid, as_fn fn, void *ctx)
{
        struct as_req r = { fn, ctx };

        TL_EQ(poe_kernel_call(tl.k, sid, "as", POE_ARGS(poe_ptr(&r, NULL)), NULL), 0);
}

/* Logs every event nobody else handles as "name@t args". */
static poe_value h_any(poe_ctx *c)
{
        const poe_value *list = poe_ctx_arg(c, 1);
        char line[512];
        size_t n;
        uint32_t i;

        n = (size_t)snprintf(line, sizeof(line), "%s@%g", poe_value_str(poe_ctx_arg(c, 0)),
                             now_rel(poe_ctx_kernel(c)));
        for (i = 0; list->type == POE_T_LIST && i < list->len && n < sizeof(line); i++)
                n += (size_t)snprintf(line + n, sizeof(line) - n, " %s", tl_fmt(&list->u.list[i]));
        tl_log("%s", line);
        return poe_nil();
}

static poe_value h_log_stop(poe_ctx *c)
{
        tl_log("%llu _stop", (unsigned long long)poe_ctx_session(c));
        return poe_nil();
}

#define STD_HANDLERS                                                                     \
        { "_start", tl_h_nop, NULL }, { "_child", tl_h_nop, NULL },                      \
        { "_parent", tl_h_nop, NULL }, { "as", h_as, NULL }, { "_default", h_any, NULL }

/* A session that does nothing by itself: tests give it timers with as(). */
static poe_sid new_session(void)
{
        return TL_CREATE(tl.k, STD_HANDLERS, { "_stop", tl_h_nop, NULL });
}

/* As new_session, and its _stop is logged. */
static poe_sid new_logged_session(void)
{
        return TL_CREATE(tl.k, STD_HANDLERS, { "_stop", h_log_stop, NULL });
}

/* ---- the timer heap, checked from the inside ---- */

static bool earlier(const poe__event *a, const poe__event *b)
{
        return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* Every heap node knows its index and carries its event's due time, no
 * child is earlier than its parent (4-ary: the parent of i is (i-1)/4),
 * each node's four children are one 64-byte line, and once made, the id
 * map holds exactly the heap's timers: each slot of its window empty or
 * the pending timer whose id is in the window at that slot. */
static void check_heap(poe_kernel *k)
{
        const poe__timer_ids *m = &k->timer_ids;
        uint32_t i, used = 0;

        if (k->heap_len)
                TL_EQ((uintptr_t)&k->heap[1] % 64, 0);
        for (i = 0; i < k->heap_len; i++) {
                poe__event *ev = k->heap[i].ev;

                TL_EQ(ev->heap_index, i);
                TL_EQ(k->heap[i].due, ev->due);
                assert_true(ev->type & POE__ET_ALARM);
                if (i > 0)
                        assert_false(earlier(ev, k->heap[(i - 1) / 4].ev));
                if (k->timers_indexed)
                        assert_ptr_equal(poe__timer_find(k, ev->seq), ev);
        }
        TL_EQ(k->timer_ids.n_ring + k->timer_ids.old.count, k->timers_indexed ? k->heap_len : 0);
        for (i = 0; m->ring && i <= m->mask; i++) {
                const poe__event *ev = m->ring[i];

                if (!ev)
                        continue;
                used++;
                assert_true(ev->seq >= m->lo && ev->seq - m->lo <= m->mask);
                TL_EQ(ev->seq & m->mask, i);
                assert_true(ev->heap_index < k->heap_len);
                assert_ptr_equal(k->heap[ev->heap_index].ev, ev);
        }
        TL_EQ(used, m->n_ring);
}

/* ---- one timer, and its time ---- */

static void set_ring_and_buzz(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm(k, "ring", T0 + 2, POE_ARGS(poe_int(7), poe_str("x"))), 0);
        TL_EQ(poe_kernel_delay(k, "buzz", 1, POE_ARGS(poe_str("d"))), 0);
}

static void test_alarm_and_delay_fire_at_their_time(void **state)
{
        fake_clock();
        as(new_session(), set_ring_and_buzz, NULL);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("buzz@1 d", "ring@2 7 x");
        ASSERT_NEAR(poe_kernel_time(tl.k), T0 + 2);
        tl_check_kernel(tl.k);
}

/* ---- name-based clearing ---- */

static void set_b_tick(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm(k, "tick", T0 + 1, POE_ARGS(poe_str("B1"))), 0);
}

/* alarm() clears every pending timer of the same name in its own session,
 * however it was set ("alarm() will therefore blithely clear timers set
 * by other means"), and nothing of other names or other sessions. */
static void set_a_ticks_then_alarm(poe_kernel *k, void *ctx)
{
        poe_alarm_id id;

        TL_EQ(poe_kernel_alarm(k, "tick", T0 + 1, POE_ARGS(poe_str("A1"))), 0);
        TL_EQ(poe_kernel_alarm_add(k, "tick", T0 + 2, POE_ARGS(poe_str("A2"))), 0);
        TL_EQ(poe_kernel_delay_add(k, "tick", 2.5, POE_ARGS(poe_str("A3"))), 0);
        TL_EQ(poe_kernel_alarm_set(k, "tick", T0 + 3, POE_ARGS(poe_str("A4")), &id), 0);
        TL_EQ(poe_kernel_delay_set(k, "tick", 3.5, POE_ARGS(poe_str("A5")), &id), 0);
        TL_EQ(poe_kernel_alarm(k, "tock", T0 + 4, POE_ARGS(poe_str("A6"))), 0);
        TL_EQ(poe_kernel_alarm(k, "tick", T0 + 5, POE_ARGS(poe_str("A7"))), 0);
}

static void test_alarm_clears_same_name_in_own_session_only(void **state)
{
        poe_sid a, b;

        fake_clock();
        a = new_session();
        b = new_session();
        as(b, set_b_tick, NULL);
        as(a, set_a_ticks_then_alarm, NULL);
        tl_run_to_end(tl.k, 20);
        TL_EXPECT("tick@1 B1", "tock@4 A6", "tick@5 A7");
}

static void set_b_half_tick(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_delay(k, "tick", 0.5, POE_ARGS(poe_str("B"))), 0);
}

static void set_a_ticks_then_delay(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_delay(k, "tick", 1, POE_ARGS(poe_str("x1"))), 0);
        TL_EQ(poe_kernel_alarm_add(k, "tick", T0 + 2, POE_ARGS(poe_str("x2"))), 0);
        TL_EQ(poe_kernel_delay_set(k, "tick", 2.5, POE_ARGS(poe_str("x3")), NULL), 0);
        TL_EQ(poe_kernel_delay_add(k, "tock", 1.5, POE_ARGS(poe_str("x4"))), 0);
        TL_EQ(poe_kernel_delay(k, "tick", 3, POE_ARGS(poe_str("x5"))), 0);
}

static void test_delay_clears_same_name_in_own_session_only(void **state)
{
        poe_sid a, b;

        fake_clock();
        a = new_session();
        b = new_session();
        as(b, set_b_half_tick, NULL);
        as(a, set_a_ticks_then_delay, NULL);
        tl_run_to_end(tl.k, 20);
        TL_EXPECT("tick@0.5 B", "tock@1.5 x4", "tick@3 x5");
}

static void set_many_of_one_name(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm_add(k, "tick", T0 + 2, POE_ARGS(poe_str("a"))), 0);
        TL_EQ(poe_kernel_alarm_add(k, "tick", T0 + 1, POE_ARGS(poe_str("b"))), 0);
        TL_EQ(poe_kernel_delay_add(k, "tick", 1.5, POE_ARGS(poe_str("c"))), 0);
        TL_EQ(poe_kernel_delay_add(k, "tick", 1, POE_ARGS(poe_str("d"))), 0);
        TL_EQ(poe_kernel_alarm_set(k, "tick", T0 + 1, POE_ARGS(poe_str("e")), NULL), 0);
        TL_EQ(poe_kernel_delay_set(k, "tick", 1, POE_ARGS(poe_str("f")), NULL), 0);
}

/* alarm_add, delay_add, alarm_set and delay_set never clear anything. */
static void test_add_and_set_do_not_clear(void **state)
{
        fake_clock();
        as(new_session(), set_many_of_one_name, NULL);
        tl_run_to_end(tl.k, 20);
        TL_EXPECT("tick@1 b", "tick@1 d", "tick@1 e", "tick@1 f", "tick@1.5 c", "tick@2 a");
}

static int destroyed;

static void clear_with_no_time(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm_add(k, "tick", T0 + 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "tick", T0 + 2, POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay_add(k, "tock", 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay_set(k, "tock", 2, POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_delay_add(k, "keep", 3, POE_NOARGS), 0);
        /* No time only clears; arguments given with it are released. */
        TL_EQ(poe_kernel_alarm(k, "tick", POE_NO_TIME,
                               POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), 0);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_delay(k, "tock", POE_NO_TIME, POE_NOARGS), 0);
        /* Clearing a name that has no timers is fine too. */
        TL_EQ(poe_kernel_alarm(k, "none", POE_NO_TIME, POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay(k, "none", POE_NO_TIME, POE_NOARGS), 0);
}

static void test_no_time_clears(void **state)
{
        poe_sid a;

        fake_clock();
        destroyed = 0;
        a = new_session();
        as(a, clear_with_no_time, NULL);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_TIMERS), 1);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("keep@3");
}

static void clear_everything(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_delay_add(k, "tick", 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm(k, "tick", POE_NO_TIME, POE_NOARGS), 0);
}

/* Clearing a session's last timer leaves it nothing to live for: it
 * stops without the clock ever moving. */
static void test_clearing_last_timer_lets_session_stop(void **state)
{
        poe_sid a;

        fake_clock();
        a = new_logged_session();
        as(a, clear_everything, NULL);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_TIMERS), 0);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT("1 _stop");
        ASSERT_NEAR(poe_kernel_time(tl.k), T0);
}

/* ---- errors ---- */

static void bad_parameters(poe_kernel *k, void *ctx)
{
        poe_alarm_id id = 12345;
        double t = -1;

        destroyed = 0;
        /* The times only the clearing calls accept. */
        TL_EQ(poe_kernel_alarm_add(k, "e", POE_NO_TIME,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), -EINVAL);
        TL_EQ(poe_kernel_delay_add(k, "e", POE_NO_TIME,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), -EINVAL);
        TL_EQ(poe_kernel_alarm_set(k, "e", POE_NO_TIME,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &id),
              -EINVAL);
        TL_EQ(poe_kernel_delay_set(k, "e", POE_NO_TIME,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &id),
              -EINVAL);
        TL_EQ(id, 12345);
        /* No event name. */
        TL_EQ(poe_kernel_alarm(k, NULL, T0 + 1, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              -EINVAL);
        TL_EQ(poe_kernel_alarm_add(k, NULL, T0 + 1,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), -EINVAL);
        TL_EQ(poe_kernel_delay(k, NULL, 1, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              -EINVAL);
        TL_EQ(poe_kernel_delay_add(k, NULL, 1, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              -EINVAL);
        TL_EQ(poe_kernel_alarm_set(k, NULL, T0 + 1,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &id),
              -EINVAL);
        TL_EQ(poe_kernel_delay_set(k, NULL, 1, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)),
                                   &id),
              -EINVAL);
        TL_EQ(id, 12345);
        /* Every pointer given to a failing call was released once. */
        TL_EQ(destroyed, 10);

        TL_EQ(poe_kernel_alarm_set(k, "e", T0 + 1, POE_NOARGS, &id), 0);
        TL_EQ(poe_kernel_alarm_adjust(k, id, NAN, &t), -EINVAL);
        TL_EQ(poe_kernel_delay_adjust(k, id, NAN, &t), -EINVAL);
        ASSERT_NEAR(t, -1);
        TL_EQ(poe_kernel_alarm_remove(k, id, NULL), 0);
}

static void test_bad_parameters_are_einval(void **state)
{
        fake_clock();
        as(new_session(), bad_parameters, NULL);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT(NULL);
}

static poe_alarm_id shared_id;

static void set_shared(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm_set(k, "mine", T0 + 2, POE_ARGS(poe_str("A")), &shared_id), 0);
}

/* Outside any handler the active session is the kernel, which owns no
 * timers: every timer call is -EPERM, as POE's "must call ... from a
 * running session". */
static void test_outside_a_handler_is_eperm(void **state)
{
        poe_alarm_id id = 777;
        poe_alarm_info info;
        double t = -1;

        fake_clock();
        destroyed = 0;
        as(new_session(), set_shared, NULL);
        TL_EQ(poe_kernel_alarm(tl.k, "e", T0 + 1,
                               POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), -EPERM);
        TL_EQ(poe_kernel_alarm_add(tl.k, "e", T0 + 1,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), -EPERM);
        TL_EQ(poe_kernel_delay(tl.k, "e", 1, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              -EPERM);
        TL_EQ(poe_kernel_delay_add(tl.k, "e", 1,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), -EPERM);
        TL_EQ(poe_kernel_alarm_set(tl.k, "e", T0 + 1,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &id),
              -EPERM);
        TL_EQ(poe_kernel_delay_set(tl.k, "e", 1,
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &id),
              -EPERM);
        TL_EQ(destroyed, 6);
        TL_EQ(id, 777);
        TL_EQ(poe_kernel_alarm(tl.k, "mine", POE_NO_TIME, POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_alarm_adjust(tl.k, shared_id, 1, &t), -EPERM);
        TL_EQ(poe_kernel_delay_adjust(tl.k, shared_id, 1, &t), -EPERM);
        TL_EQ(poe_kernel_alarm_remove(tl.k, shared_id, &info), -EPERM);
        TL_EQ(poe_kernel_alarm_remove_all(tl.k, NULL, NULL), -EPERM);
        ASSERT_NEAR(t, -1);
        /* The session's timer was left alone. */
        tl_run_to_end(tl.k, 5);
        TL_EXPECT("mine@2 A");
}

static void meddle(poe_kernel *k, void *ctx)
{
        poe_alarm_info info = { 0 };
        double t = -1;

        TL_EQ(poe_kernel_alarm_remove(k, shared_id, &info), -EPERM);
        TL_EQ(poe_kernel_alarm_adjust(k, shared_id, -1, &t), -EPERM);
        TL_EQ(poe_kernel_delay_adjust(k, shared_id, 0, &t), -EPERM);
        /* Ids that name nothing pending. */
        TL_EQ(poe_kernel_alarm_remove(k, shared_id + 1000, &info), -ESRCH);
        TL_EQ(poe_kernel_alarm_adjust(k, shared_id + 1000, 1, &t), -ESRCH);
        TL_EQ(poe_kernel_delay_adjust(k, shared_id + 1000, 1, &t), -ESRCH);
        TL_EQ(poe_kernel_alarm_remove(k, 0, &info), -ESRCH);
        ASSERT_NEAR(t, -1);
        assert_null(info.event);
        /* Clearing by name touches only this session's timers. */
        TL_EQ(poe_kernel_alarm(k, "mine", POE_NO_TIME, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_remove_all(k, NULL, NULL), 0);
}

/* Another session's timer id is -EPERM; an id that names no pending
 * timer is -ESRCH (POE::Queue's answers). */
static void test_other_sessions_id_is_eperm_unknown_is_esrch(void **state)
{
        fake_clock();
        as(new_session(), set_shared, NULL);
        as(new_session(), meddle, NULL);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT("mine@2 A");
}

/* ---- ids ---- */

static poe_alarm_id first_id;

static poe_value h_start_alarm_set(poe_ctx *c)
{
        TL_EQ(poe_kernel_alarm_set(poe_ctx_kernel(c), "t", T0 + 1, POE_NOARGS, &first_id), 0);
        return poe_nil();
}

struct ids_ctx {
        poe_sid other;
        poe_alarm_id id1, id2, id3;
};

static void count_queue_items(poe_kernel *k, void *ctx)
{
        struct ids_ctx *x = ctx;
        poe_handler h[] = { { "_start", tl_h_nop, NULL } };
        poe_session_spec spec = tl_spec(h, 1, NULL);

        TL_EQ(poe_kernel_alarm_set(k, "t1", T0 + 1, POE_NOARGS, &x->id1), 0);
        TL_EQ(poe_kernel_yield(k, "p1", POE_NOARGS), 0);                   /* +1 */
        TL_EQ(poe_kernel_post(k, x->other, "p2", POE_NOARGS), 0);          /* +1 */
        TL_EQ(poe_kernel_signal(k, x->other, "USR1", POE_NOARGS), 0);      /* +1 */
        TL_EQ(poe_session_create(k, &spec, NULL), 0); /* its GC event: +1 */
        TL_EQ(poe_kernel_delay(k, "t2", 1, POE_NOARGS), 0);                /* +1 */
        TL_EQ(poe_kernel_delay_set(k, "t3", 1, POE_NOARGS, &x->id2), 0);   /* +1 */
}

static void one_more(poe_kernel *k, void *ctx)
{
        struct ids_ctx *x = ctx;

        TL_EQ(poe_kernel_alarm_set(k, "t4", T0 + 1, POE_NOARGS, &x->id3), 0);
}

static void remove_then_set(poe_kernel *k, void *ctx)
{
        struct ids_ctx *x = ctx;
        poe_alarm_info info;
        poe_alarm_id id;

        TL_EQ(poe_kernel_alarm_remove(k, x->id2, &info), 0);
        TL_EQ(info.id, x->id2);
        TL_EQ(poe_kernel_alarm_set(k, "t5", T0 + 1, POE_NOARGS, &id), 0);
        TL_EQ(id, x->id3 + 1);
}

/*
 * A timer's id is its POE queue item id: every event queued takes the
 * next one, posts, signals and each new session's garbage-collection
 * event included.  POE 1.37 gives the same numbers: in a _start that
 * does alarm_set; yield; post; signal; create; delay; delay_set, the
 * delay_set id is the alarm_set id + 6 (tests/oracle/timer-ids-returns).
 */
static void test_ids_count_every_queue_item(void **state)
{
        struct ids_ctx x = { 0 };
        poe_sid a;

        fake_clock();
        /* Nothing was queued before, so the first id is 1, as in POE. */
        a = TL_CREATE(tl.k, { "_start", h_start_alarm_set, NULL }, { "as", h_as, NULL },
                      { "_default", tl_h_nop, NULL });
        TL_EQ(first_id, 1);
        x.other = new_session();
        as(a, count_queue_items, &x);
        assert_true(x.id1 > first_id);
        TL_EQ(x.id2, x.id1 + 6);
        as(x.other, one_more, &x);
        TL_EQ(x.id3, x.id2 + 1);
        /* Removing a timer frees no id for reuse. */
        as(a, remove_then_set, &x);
        tl_run_to_end(tl.k, 10);
        tl_transcript_clear();
}

/* ---- alarm_remove and alarm_remove_all ---- */

static void remove_by_id(poe_kernel *k, void *ctx)
{
        char buf[8] = "two";
        poe_alarm_info info;
        poe_alarm_id id, id2, id3;

        TL_EQ(poe_kernel_alarm_set(k, "ev", T0 + 5, POE_ARGS(poe_int(1), poe_str(buf)), &id), 0);
        /* The arguments were copied when the timer was set. */
        strcpy(buf, "XXX");
        TL_EQ(poe_kernel_alarm_remove(k, id, &info), 0);
        TL_EQ(info.id, id);
        assert_string_equal(info.event, "ev");
        ASSERT_NEAR(info.time, T0 + 5);
        TL_EQ(info.nargs, 2);
        TL_EQ(info.args[0].type, POE_T_INT);
        TL_EQ(info.args[0].u.i, 1);
        assert_string_equal(poe_value_str(&info.args[1]), "two");
        /* Still readable after other timer calls that remove nothing. */
        TL_EQ(poe_kernel_delay_set(k, "ev2", 3, POE_NOARGS, &id2), 0);
        assert_string_equal(info.event, "ev");
        assert_string_equal(poe_value_str(&info.args[1]), "two");
        /* Gone: a second removal finds nothing. */
        TL_EQ(poe_kernel_alarm_remove(k, id, &info), -ESRCH);

        /* A delay_set timer reports its set time plus its delay. */
        TL_EQ(poe_kernel_alarm_remove(k, id2, &info), 0);
        assert_string_equal(info.event, "ev2");
        ASSERT_NEAR(info.time, T0 + 3);
        TL_EQ(info.nargs, 0);

        /* ret may be NULL. */
        TL_EQ(poe_kernel_alarm_set(k, "ev3", T0 + 1, POE_NOARGS, &id3), 0);
        TL_EQ(poe_kernel_alarm_remove(k, id3, NULL), 0);
        TL_EQ(poe_kernel_alarm_remove(k, id3, NULL), -ESRCH);
}

static void late_delay_set(poe_kernel *k, void *ctx)
{
        poe_alarm_info info;
        poe_alarm_id id;

        TL_EQ(poe_kernel_delay_set(k, "late", 4, POE_NOARGS, &id), 0);
        TL_EQ(poe_kernel_alarm_remove(k, id, &info), 0);
        ASSERT_NEAR(info.time, T0 + 1.5 + 4);
}

static void test_alarm_remove_returns_name_time_args(void **state)
{
        poe_sid a;

        fake_clock();
        a = new_session();
        as(a, remove_by_id, NULL);
        TL_EQ(poe_kernel_clock_advance(tl.k, 1.5), 0);
        as(a, late_delay_set, NULL);
        TL_EQ(poe_kernel_get_event_count(tl.k), 1); /* only the creation's GC event */
        tl_run_to_end(tl.k, 5);
        /* Removed timers never fire. */
        TL_EXPECT(NULL);
}

struct removed {
        char lines[16][64];   /* "name@seconds-after-T0 arg0" */
        char names[16][16];
        double times[16];     /* as reported */
        int n;
};

static void collect(void *ctx, const poe_alarm_info *a)
{
        struct removed *r = ctx;
        int n;

        assert_true(r->n < 16);
        r->times[r->n] = a->time;
        snprintf(r->names[r->n], sizeof(r->names[0]), "%s", a->event);
        n = snprintf(r->lines[r->n], sizeof(r->lines[0]), "%s@%g", a->event, a->time - T0);
        if (a->nargs)
                snprintf(r->lines[r->n] + n, sizeof(r->lines[0]) - (size_t)n, " %s",
                         tl_fmt(&a->args[0]));
        /* The arguments are still there while the callback runs. */
        if (a->nargs > 1)
                TL_EQ(destroyed, 0);
        r->n++;
}

static void remove_all(poe_kernel *k, void *ctx)
{
        struct removed *r = ctx;
        poe_alarm_id id;

        TL_EQ(poe_kernel_alarm_set(k, "c", T0 + 3, POE_ARGS(poe_str("c")), &id), 0);
        TL_EQ(poe_kernel_alarm(k, "a", T0 + 1,
                               POE_ARGS(poe_str("a"), poe_ptr(&destroyed, tl_count_destroy))), 0);
        TL_EQ(poe_kernel_alarm_add(k, "b", T0 + 2, POE_ARGS(poe_str("b"))), 0);
        TL_EQ(poe_kernel_alarm_add(k, "a2", T0 + 1, POE_ARGS(poe_str("a2"))), 0);
        TL_EQ(poe_kernel_delay_set(k, "d", 2.5, POE_ARGS(poe_str("d")), &id), 0);
        /* A posted event is not a timer: it stays. */
        TL_EQ(poe_kernel_yield(k, "posted", POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_remove_all(k, collect, r), 5);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_alarm_remove_all(k, collect, r), 0);
        TL_EQ(poe_kernel_alarm_add(k, "e", T0 + 9, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_remove_all(k, NULL, NULL), 1);
}

static void b_timer(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm(k, "other", T0 + 1.5, POE_ARGS(poe_str("B"))), 0);
}

/* alarm_remove_all removes the active session's timers, reports them in
 * due order (equal times in id order), and leaves posts and other
 * sessions' timers alone. */
static void test_alarm_remove_all_in_due_order(void **state)
{
        struct removed r = { .n = 0 };

        fake_clock();
        destroyed = 0;
        as(new_session(), b_timer, NULL);
        as(new_session(), remove_all, &r);
        TL_EQ(r.n, 5);
        assert_string_equal(r.lines[0], "a@1 a");
        assert_string_equal(r.lines[1], "a2@1 a2");
        assert_string_equal(r.lines[2], "b@2 b");
        assert_string_equal(r.lines[3], "d@2.5 d");
        assert_string_equal(r.lines[4], "c@3 c");
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("posted@0", "other@1.5 B");
}

static void remove_delay_timers(poe_kernel *k, void *ctx)
{
        struct removed *r = ctx;
        poe_alarm_info info;
        poe_alarm_id probe;
        double t = -1;

        /* delay() returns no id, but ids are consecutive queue item ids. */
        TL_EQ(poe_kernel_delay(k, "d1", 5, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_set(k, "probe", T0 + 100, POE_NOARGS, &probe), 0);
        TL_EQ(poe_kernel_alarm_remove(k, probe - 1, &info), 0);
        assert_string_equal(info.event, "d1");
        ASSERT_NEAR(info.time, 0);

        TL_EQ(poe_kernel_delay(k, "d2", 5, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_adjust(k, probe + 1, 2, &t), 0);
        ASSERT_NEAR(t, 2);

        TL_EQ(poe_kernel_alarm_remove(k, probe, NULL), 0);
        TL_EQ(poe_kernel_delay_add(k, "d3", 6, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_remove_all(k, collect, r), 2);
}

/*
 * What POE reports for a timer set by delay() or delay_add(): these
 * pass no wall time to _data_ev_enqueue, which then sets neither
 * EV_WALLTIME nor EV_DELTA (Resource/Events.pm: `if (defined $time)`),
 * so alarm_remove and alarm_remove_all report a time of 0 and
 * alarm_adjust reports only the sum of its adjustments.  POE 1.37 prints
 * exactly that (tests/oracle/timer-delay-times).
 */
static void test_delay_timers_report_times_as_poe_does(void **state)
{
        struct removed r = { .n = 0 };

        fake_clock();
        destroyed = 0;
        as(new_session(), remove_delay_timers, &r);
        TL_EQ(r.n, 2);
        /* In due order: d3 (due at 6), then d2 (adjusted by 2, due at 7). */
        assert_string_equal(r.names[0], "d3");
        ASSERT_NEAR(r.times[0], 0);
        assert_string_equal(r.names[1], "d2");
        ASSERT_NEAR(r.times[1], 2);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT(NULL);
}

/* ---- adjusting ---- */

static void adjust(poe_kernel *k, void *ctx)
{
        poe_alarm_id x, y, z, w;
        double t = -1;

        TL_EQ(poe_kernel_alarm_set(k, "x", T0 + 10, POE_NOARGS, &x), 0);
        TL_EQ(poe_kernel_alarm_set(k, "y", T0 + 5, POE_NOARGS, &y), 0);
        TL_EQ(poe_kernel_alarm_adjust(k, x, -7, &t), 0);
        ASSERT_NEAR(t, T0 + 3);
        /* delay_set keeps its set time and its delay: adjusting adds. */
        TL_EQ(poe_kernel_delay_set(k, "z", 4, POE_NOARGS, &z), 0);
        TL_EQ(poe_kernel_alarm_adjust(k, z, 2, &t), 0);
        ASSERT_NEAR(t, T0 + 6);
        TL_EQ(poe_kernel_alarm_adjust(k, z, 0, &t), 0);
        ASSERT_NEAR(t, T0 + 6);
        /* delay_adjust moves a timer to seconds from now. */
        TL_EQ(poe_kernel_delay_adjust(k, y, 1, &t), 0);
        ASSERT_NEAR(t, T0 + 1);
        /* ... into the past too, where it is due at once. */
        TL_EQ(poe_kernel_alarm_set(k, "w", T0 + 8, POE_NOARGS, &w), 0);
        TL_EQ(poe_kernel_delay_adjust(k, w, -2, &t), 0);
        ASSERT_NEAR(t, T0 - 2);
        /* ret_time may be NULL. */
        TL_EQ(poe_kernel_alarm_adjust(k, x, 0, NULL), 0);
}

static void test_adjust_moves_timers(void **state)
{
        fake_clock();
        as(new_session(), adjust, NULL);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("w@0", "y@1", "x@3", "z@6");
}

/* ---- get_next_event_time ---- */

static poe_value h_start_alarm_4(poe_ctx *c)
{
        TL_EQ(poe_kernel_alarm(poe_ctx_kernel(c), "x", T0 + 4, POE_NOARGS), 0);
        return poe_nil();
}

static void old_timer(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm_add(k, "old", T0 - 3, POE_NOARGS), 0);
}

static void test_get_next_event_time(void **state)
{
        double t = -1;
        poe_sid a;

        fake_clock();
        TL_EQ(poe_kernel_get_next_event_time(tl.k, &t), -ENOENT);
        ASSERT_NEAR(t, -1);
        a = TL_CREATE(tl.k, { "_start", h_start_alarm_4, NULL }, { "as", h_as, NULL },
                      { "_default", h_any, NULL }, { "_stop", tl_h_nop, NULL });
        /* The new session's GC event is due now. */
        TL_EQ(poe_kernel_get_next_event_time(tl.k, &t), 0);
        ASSERT_NEAR(t, T0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_get_next_event_time(tl.k, &t), 0);
        ASSERT_NEAR(t, T0 + 4);
        /* Reported in epoch time, even for a time in the past. */
        as(a, old_timer, NULL);
        TL_EQ(poe_kernel_get_next_event_time(tl.k, &t), 0);
        ASSERT_NEAR(t, T0 - 3);
        TL_EQ(poe_kernel_get_next_event_time(tl.k, NULL), 0);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("old@0", "x@4");
        TL_EQ(poe_kernel_get_next_event_time(tl.k, &t), -ENOENT);
}

/* ---- order ---- */

static void set_mixed(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm_add(k, "e1", T0 + 2, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "e2", T0 + 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "e3", T0 + 2, POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay_add(k, "e4", 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_set(k, "e5", T0 + 1, POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_delay_set(k, "e6", 2, POE_NOARGS, NULL), 0);
}

static void set_b1(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm_add(k, "b1", T0 + 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "b2", T0 + 2, POE_NOARGS), 0);
}

/* Timers fire in due order; equal times fire in the order they were
 * set, across sessions too (POE::Queue orders by priority, then id). */
static void test_order_by_due_time_then_fifo(void **state)
{
        poe_sid a, b;

        fake_clock();
        a = new_session();
        b = new_session();
        as(a, set_mixed, NULL);
        as(b, set_b1, NULL);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("e2@1", "e4@1", "e5@1", "b1@1", "e1@2", "e3@2", "e6@2", "b2@2");
}

static void posts_and_past_timers(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_yield(k, "p1", POE_NOARGS), 0);          /* due T0 */
        TL_EQ(poe_kernel_clock_advance(k, 1), 0);
        TL_EQ(poe_kernel_yield(k, "p2", POE_NOARGS), 0);          /* due T0+1 */
        TL_EQ(poe_kernel_alarm_add(k, "past", T0 + 0.5, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "older", T0 - 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "now", T0 + 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_yield(k, "p3", POE_NOARGS), 0);          /* due T0+1 */
        TL_EQ(poe_kernel_delay_add(k, "zero", 0, POE_NOARGS), 0); /* due T0+1 */
        TL_EQ(poe_kernel_delay_add(k, "neg", -0.25, POE_NOARGS), 0);
}

/*
 * One queue, ordered by due time then id: "a timer due before time()
 * will be delivered ahead of other events but not before timers with
 * even earlier due times" (POE::Kernel, alarm).  A timer due in the past
 * goes ahead of posts made after its due time, even ones queued before
 * it, and behind posts made before its due time; a timer due exactly now
 * goes behind the posts queued before it.
 */
static void test_past_timers_jump_ahead_of_later_posts(void **state)
{
        fake_clock();
        as(new_session(), posts_and_past_timers, NULL);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("older@1", "p1@1", "past@1", "neg@1", "p2@1", "now@1", "p3@1", "zero@1");
}

static void same_epoch_time(poe_kernel *k, void *ctx)
{
        double when = *(double *)ctx;
        char name[16];
        int i;

        for (i = 0; i < 100; i++) {
                snprintf(name, sizeof(name), "s%02d", i);
                if (i % 2)
                        TL_EQ(poe_kernel_alarm_set(k, name, when, POE_NOARGS, NULL), 0);
                else
                        TL_EQ(poe_kernel_alarm_add(k, name, when, POE_NOARGS), 0);
        }
}

/*
 * On the real clock too, timers set for the same epoch time fire in the
 * order they were set.  POE converts epoch times to its monotonic queue
 * time with one epoch offset taken at load time for exactly this reason
 * (Resource/Clock.pm, USE_STATIC_EPOCH: "without a static epoch the
 * tests fail because they expect alarm(), alarm_set() to arrive in
 * order"); a conversion that samples both clocks anew for each timer
 * gives equal epoch times unequal due times.  The time is in the past,
 * so nothing waits.
 */
static poe_value h_name(poe_ctx *c)
{
        tl_log("%s", poe_value_str(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static void test_same_epoch_time_keeps_set_order_on_real_clock(void **state)
{
        double when = poe_kernel_time(tl.k) - 1;
        char want[100 * 8], *p = want;
        poe_sid a;
        int i;

        a = TL_CREATE(tl.k, { "_start", tl_h_nop, NULL }, { "_stop", tl_h_nop, NULL },
                      { "as", h_as, NULL }, { "_default", h_name, NULL });
        as(a, same_epoch_time, &when);
        tl_run_to_end(tl.k, 10);
        for (i = 0; i < 100; i++)
                p += sprintf(p, "s%02d\n", i);
        if (strcmp(tl_transcript(), want) != 0) {
                const char *got = tl_transcript();

                for (i = 0; got[i] && got[i] == want[i]; i++)
                        ;
                fail_msg("timers set for one epoch time fired out of order; the first "
                         "difference: expected %.3s, got %.3s", want + i - i % 4,
                         got + i - i % 4);
        }
        tl_transcript_clear();
}

/* ---- lifetime ---- */

static void set_late(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_delay(k, "late", 100, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              0);
        TL_EQ(poe_kernel_alarm_add(k, "later", T0 + 200, POE_NOARGS), 0);
}

/* A timer keeps its session alive; a session that stops (here killed by
 * an unhandled TERM) loses its timers, which then never fire. */
static void test_timers_keep_alive_and_die_with_session(void **state)
{
        poe_sid a;

        fake_clock();
        destroyed = 0;
        a = new_logged_session();
        as(a, set_late, NULL);
        /* The GC event goes; the timers remain, and so does the session. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, a), 0);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_TIMERS), 2);
        TL_EQ(tl_refcnt(tl.k, a), 2);
        tl_check_kernel(tl.k);

        TL_EQ(poe_kernel_signal(tl.k, a, "TERM", POE_NOARGS), 0);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT("1 _stop");
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        /* The clock never jumped to the dead timers. */
        ASSERT_NEAR(poe_kernel_time(tl.k), T0);
}

static poe_alarm_id self_id, victim_id;

static poe_value h_self(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_info info;
        double t = -1;

        tl_log("self@%g", now_rel(k));
        /* The timer being dispatched has left the queue. */
        TL_EQ(poe_kernel_alarm_remove(k, self_id, &info), -ESRCH);
        TL_EQ(poe_kernel_alarm_adjust(k, self_id, 1, &t), -ESRCH);
        TL_EQ(poe_kernel_delay_adjust(k, self_id, 1, &t), -ESRCH);
        /* A timer due in the same slice can still be removed. */
        TL_EQ(poe_kernel_alarm_remove(k, victim_id, &info), 0);
        assert_string_equal(info.event, "victim");
        /* And the handler may set new ones. */
        TL_EQ(poe_kernel_delay(k, "after", 1, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_start_self(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alarm_set(k, "self", T0 + 1, POE_NOARGS, &self_id), 0);
        TL_EQ(poe_kernel_alarm_set(k, "victim", T0 + 1, POE_NOARGS, &victim_id), 0);
        return poe_nil();
}

static void test_handler_removes_its_own_timer(void **state)
{
        fake_clock();
        TL_CREATE(tl.k, { "_start", h_start_self, NULL }, { "self", h_self, NULL },
                  { "_default", h_any, NULL }, { "_stop", tl_h_nop, NULL });
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("self@1", "after@2");
}

/* ---- arguments ---- */

static int d_fired, d_cleared, d_removed, d_stopped;

static poe_value h_take_nothing(poe_ctx *c)
{
        /* The pointer is still the event's while the handler runs. */
        TL_EQ(d_fired, 0);
        return poe_nil();
}

static void set_pointer_timers(poe_kernel *k, void *ctx)
{
        poe_alarm_id id;

        TL_EQ(poe_kernel_delay(k, "fire", 1, POE_ARGS(poe_ptr(&d_fired, tl_count_destroy))), 0);
        TL_EQ(poe_kernel_delay(k, "clear", 1, POE_ARGS(poe_ptr(&d_cleared, tl_count_destroy))),
              0);
        TL_EQ(poe_kernel_delay(k, "clear", 2, POE_NOARGS), 0);
        TL_EQ(d_cleared, 1);
        TL_EQ(poe_kernel_alarm_set(k, "remove", T0 + 1,
                                   POE_ARGS(poe_ptr(&d_removed, tl_count_destroy)), &id),
              0);
        TL_EQ(poe_kernel_alarm_remove(k, id, NULL), 0);
        TL_EQ(poe_kernel_delay(k, "stop", 50, POE_ARGS(poe_ptr(&d_stopped, tl_count_destroy))),
              0);
}

/* Each pointer argument's destructor runs exactly once, however its
 * timer ends: dispatched, cleared by name, removed by id, or lost with
 * its session. */
static void test_timer_pointer_arguments_destroyed_once(void **state)
{
        poe_sid a;

        fake_clock();
        d_fired = d_cleared = d_removed = d_stopped = 0;
        a = TL_CREATE(tl.k, STD_HANDLERS, { "_stop", tl_h_nop, NULL },
                      { "fire", h_take_nothing, NULL });
        as(a, set_pointer_timers, NULL);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1); /* GC event */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1); /* fire at 1 */
        TL_EQ(d_fired, 1);
        TL_EQ(poe_kernel_signal(tl.k, a, "KILL", POE_NOARGS), 0);
        tl_run_to_end(tl.k, 5);
        TL_EQ(d_stopped, 1);
        tl_kernel_free_checked();
        TL_EQ(d_fired, 1);
        TL_EQ(d_cleared, 1);
        TL_EQ(d_removed, 1);
        TL_EQ(d_stopped, 1);
        TL_EXPECT(NULL);
}

/* ---- the fake clock's own contract ---- */

static void set_one(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_delay(k, "one", 1, POE_NOARGS), 0);
}

static void test_fake_clock_contract(void **state)
{
        TL_EQ(poe_kernel_clock_advance(tl.k, 1), -EPERM);
        TL_EQ(poe_kernel_clock_fake(tl.k, NAN), -EINVAL);
        fake_clock();
        ASSERT_NEAR(poe_kernel_time(tl.k), T0);
        TL_EQ(poe_kernel_clock_advance(tl.k, -1), -EINVAL);
        TL_EQ(poe_kernel_clock_advance(tl.k, 2.5), 0);
        ASSERT_NEAR(poe_kernel_time(tl.k), T0 + 2.5);
        as(new_session(), set_one, NULL);
        /* Switching clocks under a pending timer would move it. */
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), -EBUSY);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT("one@3.5");
}

/* ---- many timers ---- */

#define MANY 100000

struct many {
        int ms[MANY];              /* due, in ms after T0 (adjusted ones moved) */
        poe_alarm_id id[MANY];
        unsigned char state[MANY]; /* 0 set, 1 removed, 2 adjusted, 3 fired */
        int order[MANY];
        int n_fired;
        int idx[MANY];
        double adj_half;           /* adjusted timers land on half milliseconds */
};

static struct many *mt;

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
        /* xorshift64*: deterministic, so a failure reproduces. */
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return (uint32_t)((rng * 0x2545f4914f6cdd1du) >> 32);
}

static poe_value h_many(poe_ctx *c)
{
        int i = (int)poe_ctx_arg(c, 0)->u.i;
        double want = mt->ms[i] / 1000.0 + (mt->state[i] == 2 ? 0.0005 : 0);

        assert_true(i >= 0 && i < MANY);
        assert_true(mt->state[i] == 0 || mt->state[i] == 2);
        /* The fake clock jumped exactly to the timer's due time. */
        assert_true(fabs(now_rel(poe_ctx_kernel(c)) - want) < 1e-5);
        mt->state[i] = 3;
        mt->order[mt->n_fired++] = i;
        return poe_nil();
}

static void set_many(poe_kernel *k, void *ctx)
{
        int i, j, n_adj = 0;

        for (i = 0; i < MANY; i++) {
                /* 5000 distinct times for 1e5 timers: plenty of ties. */
                mt->ms[i] = (int)(rnd() % 5000);
                TL_EQ(poe_kernel_alarm_set(k, "many", T0 + mt->ms[i] / 1000.0,
                                           POE_ARGS(poe_int(i)), &mt->id[i]),
                      0);
                if (i > 0)
                        assert_true(mt->id[i] > mt->id[i - 1]);
                mt->idx[i] = i;
        }
        check_heap(k);
        /* Remove half, in random order. */
        for (i = MANY - 1; i > 0; i--) {
                int r = (int)(rnd() % (uint32_t)(i + 1)), t = mt->idx[i];

                mt->idx[i] = mt->idx[r];
                mt->idx[r] = t;
        }
        for (j = 0; j < MANY / 2; j++) {
                poe_alarm_info info;

                i = mt->idx[j];
                TL_EQ(poe_kernel_alarm_remove(k, mt->id[i], &info), 0);
                TL_EQ(info.id, mt->id[i]);
                TL_EQ(info.args[0].u.i, i);
                assert_true(fabs(info.time - (T0 + mt->ms[i] / 1000.0)) < 1e-6);
                mt->state[i] = 1;
                if (j % 5000 == 0)
                        check_heap(k);
        }
        check_heap(k);
        /* Move a tenth of the rest each to its own half millisecond past
         * the others, so that no adjusted timer ties with another. */
        for (j = MANY / 2; j < MANY / 2 + MANY / 10; j++) {
                double t, target;

                i = mt->idx[j];
                target = (5000 + n_adj) / 1000.0 + 0.0005;
                TL_EQ(poe_kernel_alarm_adjust(k, mt->id[i], target - mt->ms[i] / 1000.0, &t), 0);
                assert_true(fabs(t - (T0 + target)) < 1e-6);
                mt->ms[i] = 5000 + n_adj++;
                mt->state[i] = 2;
        }
        check_heap(k);
        /* And a few set and removed again at once, interleaved. */
        for (j = 0; j < 1000; j++) {
                poe_alarm_id id;

                TL_EQ(poe_kernel_alarm_set(k, "gone", T0 + (rnd() % 6000) / 1000.0, POE_NOARGS,
                                           &id),
                      0);
                if (j % 2)
                        TL_EQ(poe_kernel_alarm_remove(k, id, NULL), 0);
        }
        check_heap(k);
        TL_EQ(k->heap_len, MANY / 2 + 500);
}

/* Ids nobody was given: alarm_add and delay_add hand back no id, so the
 * kernel keeps no id map for them, yet an id learned another way (here
 * from poe_peek_timers) finds its timer as POE's would, with the same
 * answers: the timer, -EPERM for another session's, -ESRCH for none. */
struct lazy_ids {
        poe_alarm_id id[8];
        poe_sid owner[8];
        int n;
};

static int collect_ids(void *ctx, const poe_peek_event *ev)
{
        struct lazy_ids *l = ctx;

        l->id[l->n] = ev->id;
        l->owner[l->n++] = ev->to;
        return 0;
}

static void set_unnamed(poe_kernel *k, void *ctx)
{
        (void)ctx;
        TL_EQ(poe_kernel_alarm_add(k, "u1", T0 + 3, POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay_add(k, "u2", 1, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "u3", T0 + 2, POE_NOARGS), 0);
        check_heap(k);
}

static struct lazy_ids lazy;

static void remove_others(poe_kernel *k, void *ctx)
{
        (void)ctx;
        /* The first lookup makes the map, of every pending timer. */
        TL_EQ(poe_kernel_alarm_remove(k, lazy.id[0], NULL), -EPERM);
        assert_true(k->timers_indexed);
        check_heap(k);
        TL_EQ(poe_kernel_alarm_remove(k, lazy.id[2] + 1000, NULL), -ESRCH);
}

static void remove_own(poe_kernel *k, void *ctx)
{
        poe_alarm_info info;
        double t;

        (void)ctx;
        TL_EQ(poe_kernel_alarm_remove(k, lazy.id[0], &info), 0);
        TL_EQ(info.id, lazy.id[0]);
        TL_EQ(poe_kernel_alarm_remove(k, lazy.id[0], NULL), -ESRCH);
        TL_EQ(poe_kernel_alarm_adjust(k, lazy.id[1], 5, &t), 0);
        check_heap(k);
}

static void test_ids_never_handed_back_are_found(void **state)
{
        poe_sid a, b;

        (void)state;
        fake_clock();
        a = new_session();
        b = new_session();
        as(a, set_unnamed, NULL);
        assert_false(tl.k->timers_indexed);
        lazy.n = 0;
        TL_EQ(poe_peek_timers(tl.k, collect_ids, &lazy), 0);
        TL_EQ(lazy.n, 3);
        assert_true(lazy.owner[0] == a && lazy.owner[1] == a && lazy.owner[2] == a);
        as(b, remove_others, NULL);
        as(a, remove_own, NULL);
        TL_EQ(tl.k->heap_len, 2);
        /* A timer set after the map was made is in it at once. */
        as(a, set_unnamed, NULL);
        TL_EQ(tl.k->heap_len, 5);
}

/* Ids far apart: posts between timers take ids too, so the id window
 * moves on and pending timers' ids leave it for the map; each stays
 * found, removed once, and every count adds up. */
#define SPREAD 3000

static poe_alarm_id spread_id[SPREAD];

static void set_spread(poe_kernel *k, void *ctx)
{
        poe_sid self = *(poe_sid *)ctx;
        int i, j;

        for (i = 0; i < SPREAD; i++) {
                TL_EQ(poe_kernel_alarm_set(k, "gone", T0 + 1 + i % 7, POE_NOARGS, &spread_id[i]),
                      0);
                /* Bursts of posts, some long, so both the window's
                 * growth and its moving on are taken. */
                for (j = 0; j < (i % 97 == 0 ? 500 : i % 3); j++)
                        TL_EQ(poe_kernel_post(k, self, "n", POE_NOARGS), 0);
                if (i % 500 == 0)
                        check_heap(k);
        }
        check_heap(k);
        assert_true(k->timer_ids.old.count > 0);
        for (i = 0; i < SPREAD; i += 2) {
                poe_alarm_info info;

                TL_EQ(poe_kernel_alarm_remove(k, spread_id[i], &info), 0);
                TL_EQ(info.id, spread_id[i]);
                TL_EQ(poe_kernel_alarm_remove(k, spread_id[i], NULL), -ESRCH);
        }
        check_heap(k);
        for (i = 1; i < SPREAD; i += 2) {
                double t;

                TL_EQ(poe_kernel_alarm_adjust(k, spread_id[i], 1, &t), 0);
        }
        check_heap(k);
        for (i = 1; i < SPREAD; i += 2)
                TL_EQ(poe_kernel_alarm_remove(k, spread_id[i], NULL), 0);
        check_heap(k);
        TL_EQ(k->heap_len, 0);
}

/* The id window doubles in place while it is dense: wherever its first
 * id falls in the doubled ring (posts before the first timer move it),
 * the timers stay at their slots or move up by the old size, and the
 * slots the window does not cover are empty. */
#define DENSE 700

static void set_dense(poe_kernel *k, void *ctx)
{
        poe_sid self = *(poe_sid *)ctx;
        static poe_alarm_id id[DENSE];
        int offset, i, j;

        for (offset = 0; offset < 200; offset += 37) {
                for (j = 0; j < offset; j++)
                        TL_EQ(poe_kernel_post(k, self, "n", POE_NOARGS), 0);
                for (i = 0; i < DENSE; i++) {
                        uint32_t mask = k->timer_ids.mask;

                        TL_EQ(poe_kernel_delay_set(k, "gone", 1 + i % 5, POE_NOARGS, &id[i]), 0);
                        /* A post now and then leaves an empty slot. */
                        if (i % 11 == 0)
                                TL_EQ(poe_kernel_post(k, self, "n", POE_NOARGS), 0);
                        if (k->timer_ids.mask != mask)
                                check_heap(k);
                }
                check_heap(k);
                /* Removed from both ends inwards: holes all over. */
                for (i = 0; i < DENSE / 2; i++) {
                        TL_EQ(poe_kernel_alarm_remove(k, id[i], NULL), 0);
                        TL_EQ(poe_kernel_alarm_remove(k, id[DENSE - 1 - i], NULL), 0);
                }
                check_heap(k);
                TL_EQ(k->heap_len, 0);
        }
}

static void test_ids_window_doubles(void **state)
{
        poe_sid a;

        (void)state;
        fake_clock();
        a = TL_CREATE(tl.k, STD_HANDLERS, { "_stop", tl_h_nop, NULL }, { "n", tl_h_nop, NULL },
                      { "gone", tl_h_nop, NULL });
        as(a, set_dense, &a);
        tl_run_to_end(tl.k, 100);
}

static void test_ids_far_apart(void **state)
{
        poe_sid a;

        (void)state;
        fake_clock();
        a = TL_CREATE(tl.k, STD_HANDLERS, { "_stop", tl_h_nop, NULL }, { "n", tl_h_nop, NULL },
                      { "gone", tl_h_nop, NULL });
        as(a, set_spread, &a);
        tl_run_to_end(tl.k, 100);
}

/* 1e5 timers set, half removed in random order and a tenth adjusted:
 * the heap stays consistent and the survivors fire once each, in due
 * order, equal times in id order. */
static void test_many_timers_in_random_order(void **state)
{
        int i, a, b;

        fake_clock();
        mt = calloc(1, sizeof(*mt));
        assert_non_null(mt);
        as(TL_CREATE(tl.k, STD_HANDLERS, { "_stop", tl_h_nop, NULL }, { "many", h_many, NULL },
                     { "gone", tl_h_nop, NULL }),
           set_many, NULL);
        tl_run_to_end(tl.k, 40000);
        TL_EQ(mt->n_fired, MANY / 2);
        for (i = 0; i < MANY; i++)
                assert_true(mt->state[i] == 1 || mt->state[i] == 3);
        for (i = 1; i < mt->n_fired; i++) {
                a = mt->order[i - 1];
                b = mt->order[i];
                assert_true(mt->ms[a] < mt->ms[b] ||
                            (mt->ms[a] == mt->ms[b] && mt->id[a] < mt->id[b]));
        }
        free(mt);
        mt = NULL;
}

/* ---- the sessions' timer lists, made on first need ---- */

#define LATE 300

static unsigned late_rng = 12345;

static void set_one_late(poe_kernel *k, void *ctx)
{
        poe_alarm_id id;

        (void)ctx;
        late_rng = late_rng * 1103515245u + 12345u;
        /* Few distinct times, so that equal times are many. */
        TL_EQ(poe_kernel_delay_set(k, "late", 1 + (double)((late_rng >> 16) % 7), POE_NOARGS, &id),
              0);
}

static double late_due[LATE];
static uint64_t late_id[LATE];
static int late_n;

static void collect_late(void *ctx, const poe_alarm_info *a)
{
        (void)ctx;
        assert_true(late_n < LATE);
        late_due[late_n] = a->time;
        late_id[late_n] = a->id;
        late_n++;
}

static void remove_all_late(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm_remove_all(k, collect_late, ctx), LATE);
}

/* Timers set by ids only keep no per-session list; the first call that
 * needs one (here alarm_remove_all) makes every session's, in the order
 * the timers were set, and leaves a heap that still pops in (due, id)
 * order. */
static void test_session_lists_made_late(void **state)
{
        poe_sid a, b;
        poe__session *sb;
        const poe__list_node *pos;
        uint64_t prev = 0;
        int i, n = 0;

        (void)state;
        fake_clock();
        late_n = 0;
        a = new_session();
        b = new_session();
        for (i = 0; i < 2 * LATE; i++)
                as(i % 2 ? b : a, set_one_late, NULL);
        assert_false(tl.k->timers_listed);
        check_heap(tl.k);
        as(a, remove_all_late, NULL);
        assert_true(tl.k->timers_listed);
        check_heap(tl.k);
        TL_EQ(tl.k->heap_len, LATE);
        for (i = 1; i < LATE; i++)
                assert_true(late_due[i - 1] < late_due[i] ||
                            (late_due[i - 1] == late_due[i] && late_id[i - 1] < late_id[i]));
        sb = poe__session_get(tl.k, b);
        assert_non_null(sb);
        poe__list_foreach(pos, &sb->timers) {
                const poe__event *ev = poe__container_of(pos, poe__event, link);

                assert_true(ev->seq > prev);
                assert_ptr_equal(ev->to, sb);
                prev = ev->seq;
                n++;
        }
        TL_EQ(n, LATE);
        /* From now on new timers are linked as they are set. */
        as(b, set_one_late, NULL);
        TL_EQ(poe__container_of(sb->timers.prev, poe__event, link)->seq, tl.k->seq);
        check_heap(tl.k);
        tl_run_to_end(tl.k, 10 * LATE);
        TL_EQ(tl.k->heap_len, 0);
}

/* ---- short blocks: argumentless timers outside any list ---- */

static int n_short(const poe_kernel *k)
{
        uint32_t i;
        int n = 0;

        for (i = 0; i < k->heap_len; i++)
                n += (k->heap[i].ev->type & POE__EV_SHORT) != 0;
        return n;
}

/* An argumentless timer, "plain", or "kept" when ctx is not NULL. */
static void set_plain(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_delay_add(k, ctx ? "kept" : "plain", 5, POE_NOARGS), 0);
}

static void set_kept_id(poe_kernel *k, void *ctx)
{
        poe_alarm_id id;

        TL_EQ(poe_kernel_delay_set(k, "kept", 6, POE_NOARGS, &id), 0);
        if (!*(poe_alarm_id *)ctx)
                *(poe_alarm_id *)ctx = id;
}

static void set_with_args(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_delay_add(k, "args", 5, POE_ARGS(poe_int(1))), 0);
        (void)ctx;
}

static void alarm_plain(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_alarm(k, "plain", poe_kernel_time(k) + 9, POE_NOARGS), *(int *)ctx);
}

static void remove_kept_by_id(poe_kernel *k, void *ctx)
{
        poe_alarm_info info;

        TL_EQ(poe_kernel_alarm_remove(k, *(poe_alarm_id *)ctx, &info), 0);
        assert_string_equal(info.event, "kept");
        TL_EQ(info.nargs, 0);
}

/* Argumentless timers set before any list is kept are short blocks;
 * making the lists moves each to a full one and repoints the heap and
 * the id map, both its window and its older entries, at it. */
static void test_short_timers_move_when_listed(void **state)
{
        poe_sid a;
        poe_alarm_id first = 0;
        int i, ok = 0;

        (void)state;
        fake_clock();
        a = new_session();
        for (i = 0; i < 100; i++) {
                as(a, set_plain, NULL);
                as(a, set_plain, "kept");
        }
        as(a, set_with_args, NULL);
        /* The first id asked for makes the map: the 201 timers so far go
         * to its older part, the next ones to its window. */
        for (i = 0; i < 200; i++)
                as(a, set_kept_id, &first);
        assert_false(tl.k->timers_listed);
        TL_EQ(n_short(tl.k), 400);
        check_heap(tl.k);
        /* alarm() clears by name: the lists are made, and the 100
         * "plain" go. */
        as(a, alarm_plain, &ok);
        assert_true(tl.k->timers_listed);
        TL_EQ(n_short(tl.k), 0);
        TL_EQ(tl.k->heap_len, 302);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_TIMERS), 302);
        /* Every timer is found by its id, in the window and out of it. */
        check_heap(tl.k);
        as(a, remove_kept_by_id, &first);
        check_heap(tl.k);
        /* Timers set from now on are full blocks, linked as they are set. */
        as(a, set_plain, "kept");
        TL_EQ(n_short(tl.k), 0);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_TIMERS), 302);
        tl_run_to_end(tl.k, 10);
        TL_EQ(tl.k->heap_len, 0);
}

static int peek_count(void *ctx, const poe_peek_item *it)
{
        if (it->reason == POE_REASON_TIMERS)
                ++*(int *)ctx;
        return 0;
}

static void remove_all_enomem(poe_kernel *k, void *ctx)
{
        (void)ctx;
        TL_EQ(poe_kernel_alarm_remove_all(k, NULL, NULL), -ENOMEM);
}

static void stop_without_memory(poe_kernel *k, void *ctx)
{
        (void)ctx;
        tl_alloc_fail_nth(&tl.alloc, 1, true);
        poe_kernel_stop(k);
        tl_alloc_disarm(&tl.alloc);
}

/*
 * Without memory to make the lists (the short timers' full blocks):
 * alarm() and alarm_remove_all fail with nothing changed, poe_peek_reasons
 * still reports every timer (it allocates nothing), and a departing
 * session still loses its timers, found by walks of the heap.
 */
static void test_lists_without_memory(void **state)
{
        poe_sid a, b;
        int i, n = 0, enomem = -ENOMEM;

        (void)state;
        fake_clock();
        a = new_logged_session();
        b = new_session();
        for (i = 0; i < 300; i++)
                as(i % 3 ? a : b, set_plain, NULL);
        TL_EQ(n_short(tl.k), 300);

        tl_alloc_fail_nth(&tl.alloc, 1, true);
        as(a, alarm_plain, &enomem);
        as(a, remove_all_enomem, NULL);
        TL_EQ(poe_peek_reasons(tl.k, a, peek_count, &n), 0);
        tl_alloc_disarm(&tl.alloc);
        TL_EQ(n, 200);
        assert_false(tl.k->timers_listed);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_TIMERS), 200);
        TL_EQ(tl.k->heap_len, 300);
        check_heap(tl.k);

        /* Both depart (POE's stop, from b's handler) while the lists
         * cannot be made. */
        as(b, stop_without_memory, NULL);
        TL_EXPECT("1 _stop");
        assert_false(tl.k->timers_listed);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, a), -ESRCH);
        TL_EQ(tl.k->heap_len, 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_alarm_and_delay_fire_at_their_time),
                TL_TEST(test_alarm_clears_same_name_in_own_session_only),
                TL_TEST(test_delay_clears_same_name_in_own_session_only),
                TL_TEST(test_add_and_set_do_not_clear),
                TL_TEST(test_no_time_clears),
                TL_TEST(test_clearing_last_timer_lets_session_stop),
                TL_TEST(test_bad_parameters_are_einval),
                TL_TEST(test_outside_a_handler_is_eperm),
                TL_TEST(test_other_sessions_id_is_eperm_unknown_is_esrch),
                TL_TEST(test_ids_count_every_queue_item),
                TL_TEST(test_alarm_remove_returns_name_time_args),
                TL_TEST(test_alarm_remove_all_in_due_order),
                TL_TEST(test_delay_timers_report_times_as_poe_does),
                TL_TEST(test_adjust_moves_timers),
                TL_TEST(test_get_next_event_time),
                TL_TEST(test_order_by_due_time_then_fifo),
                TL_TEST(test_past_timers_jump_ahead_of_later_posts),
                TL_TEST(test_same_epoch_time_keeps_set_order_on_real_clock),
                TL_TEST(test_timers_keep_alive_and_die_with_session),
                TL_TEST(test_handler_removes_its_own_timer),
                TL_TEST(test_timer_pointer_arguments_destroyed_once),
                TL_TEST(test_fake_clock_contract),
                TL_TEST(test_many_timers_in_random_order),
                TL_TEST(test_ids_never_handed_back_are_found),
                TL_TEST(test_ids_window_doubles),
                TL_TEST(test_ids_far_apart),
                TL_TEST(test_session_lists_made_late),
                TL_TEST(test_short_timers_move_when_listed),
                TL_TEST(test_lists_without_memory),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
