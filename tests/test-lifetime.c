/*
 * The lifetime rule: a session lives exactly while it owns something,
 * and its itemized reasons always add up to its refcount.  Also the run
 * loop's entry points: run, run_one_timeslice, run_while, stop, and
 * running again after run() returned.  POE 1.37 transcripts for the
 * same scenarios were checked with perl.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"

static bool alive(poe_sid sid)
{
        return poe_kernel_ID_id_to_session(tl.k, sid) == 0;
}

/* ---- reasons add up ---- */

static poe_value on_checked(poe_ctx *c)
{
        /* Inside a dispatch the books must balance too. */
        tl_check_kernel(poe_ctx_kernel(c));
        tl_log_ctx(c);
        return poe_nil();
}

static poe_value on_start_kid(poe_ctx *c)
{
        tl_check_kernel(poe_ctx_kernel(c));
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "kid_work", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_start_busy(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_check_kernel(k);
        TL_EQ(poe_kernel_alias_set(k, "busy"), 0);
        TL_EQ(poe_kernel_alias_set(k, "busy2"), 0);
        TL_EQ(poe_kernel_refcount_increment(k, poe_ctx_session(c), "t"), 1);
        TL_EQ(poe_kernel_sig(k, "USR1", "sig", POE_NOARGS), 0);
        TL_CREATE(k, { "_start", on_start_kid }, { "kid_work", on_checked },
                  { "_stop", on_checked });
        tl_check_kernel(k);
        TL_EQ(poe_kernel_yield(k, "step", POE_ARGS(poe_int(0))), 0);
        return poe_nil();
}

static poe_value on_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid self = poe_ctx_session(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        tl_check_kernel(k);
        tl_log_ctx(c);
        switch (n) {
        case 0:
                TL_EQ(poe_kernel_alias_remove(k, "busy2"), 0);
                TL_EQ(poe_kernel_signal(k, self, "USR1", POE_NOARGS), 0);
                break;
        case 1:
                TL_EQ(poe_kernel_refcount_increment(k, self, "u"), 1);
                TL_EQ(poe_kernel_refcount_decrement(k, self, "t"), 0);
                TL_EQ(poe_kernel_call(k, self, "sig", POE_NOARGS, NULL), 0);
                break;
        case 2:
                TL_EQ(poe_kernel_refcount_decrement(k, self, "u"), 0);
                TL_EQ(poe_kernel_alias_remove(k, "busy"), 0);
                tl_check_kernel(k);
                /* Held now by this post alone. */
                TL_EQ(poe_kernel_yield(k, "step", POE_ARGS(poe_int(n + 1))), 0);
                TL_EQ(tl_refcnt(k, self), 1);
                return poe_nil();
        default:
                return poe_nil();
        }
        TL_EQ(poe_kernel_yield(k, "step", POE_ARGS(poe_int(n + 1))), 0);
        tl_check_kernel(k);
        return poe_nil();
}

static void test_reasons_sum_at_every_step(void **state)
{
        poe_sid busy;
        int slices = 0;

        (void)state;
        busy = TL_CREATE(tl.k, { "_start", on_start_busy }, { "step", on_step },
                         { "sig", on_checked }, { "_child", on_checked }, { "_stop", on_checked });
        tl_check_kernel(tl.k);
        /* Two aliases, one extref tag, one child, the GC event and the
         * yielded step. */
        TL_EQ(tl_reason(tl.k, busy, POE_REASON_ALIASES), 2);
        TL_EQ(tl_reason(tl.k, busy, POE_REASON_EXTREFS), 1);
        TL_EQ(tl_reason(tl.k, busy, POE_REASON_CHILDREN), 1);
        TL_EQ(tl_reason(tl.k, busy, POE_REASON_EVENTS_TO), 2);
        TL_EQ(tl_refcnt(tl.k, busy), 6);
        while (poe_kernel_run_one_timeslice(tl.k) == 1) {
                tl_check_kernel(tl.k);
                assert_true(++slices < 20);
        }
        TL_EXPECT("1 _child create 2 undef", "2 kid_work", "1 step 0", "2 _stop",
                  "1 _child lose 2 undef", "1 sig USR1", "1 step 1", "1 sig", "1 step 2",
                  "1 step 3", "1 _stop");
        assert_false(alive(busy));
}

/* ---- posting keeps the sender alive ---- */

static poe_value on_start_b(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "b"), 0);
        return poe_nil();
}

static poe_value on_msg(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log("%llu msg from %llu", (unsigned long long)poe_ctx_session(c),
               (unsigned long long)poe_ctx_sender(c));
        /* The sender is alive, held by this very event until now. */
        TL_EQ(poe_kernel_ID_id_to_session(k, poe_ctx_sender(c)), 0);
        TL_EQ(poe_kernel_post(k, poe_ctx_sender(c), "reply", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_start_poster(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "go", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_go(poe_ctx *c)
{
        tl_log_ctx(c);
        TL_EQ(poe_kernel_post_alias(poe_ctx_kernel(c), "b", "msg", POE_NOARGS), 0);
        return poe_nil();
}

static void test_post_keeps_sender_alive(void **state)
{
        poe_sid b, a;

        (void)state;
        b = TL_CREATE(tl.k, { "_start", on_start_b }, { "msg", on_msg }, { "_stop", tl_h_log });
        a = TL_CREATE(tl.k, { "_start", on_start_poster }, { "go", on_go },
                      { "reply", tl_h_log }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("2 go");
        /* Its GC event is gone; only the message it sent holds it. */
        assert_true(alive(a));
        TL_EQ(tl_refcnt(tl.k, a), 1);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_EVENTS_FROM), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 msg from 2");
        /* Now the reply holds it, as the destination. */
        TL_EQ(tl_reason(tl.k, a, POE_REASON_EVENTS_TO), 1);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_EVENTS_FROM), 0);
        TL_EQ(tl_reason(tl.k, b, POE_REASON_EVENTS_FROM), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("2 reply", "2 _stop");
        assert_false(alive(a));
        assert_true(alive(b));
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _stop");
}

/* ---- nothing to do after _start ---- */

static void test_idle_session_stops_at_end_of_next_slice(void **state)
{
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_log }, { "_stop", tl_h_log });
        TL_EXPECT("1 _start");
        /* Alive until the delayed GC event has been dispatched. */
        assert_true(alive(sid));
        TL_EQ(tl_refcnt(tl.k, sid), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 _stop");
        assert_false(alive(sid));
        /* Then the kernel notices it is alone and finishes. */
        TL_EQ(tl_run_to_end(tl.k, 3) <= 2, 1);
}

static poe_value on_spawn(poe_ctx *c)
{
        tl_log_ctx(c);
        TL_CREATE(poe_ctx_kernel(c), { "_start", tl_h_log }, { "_stop", tl_h_log });
        return poe_nil();
}

static poe_value on_start_spawner(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "spawner"), 0);
        return poe_nil();
}

static void test_child_made_in_a_slice_lives_through_the_next(void **state)
{
        poe_sid p;

        (void)state;
        p = TL_CREATE(tl.k, { "_start", on_start_spawner }, { "spawn", on_spawn },
                      { "tick", tl_h_nop }, { "_child", tl_h_log }, { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_post(tl.k, p, "spawn", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 spawn", "2 _start", "1 _child create 2 undef");
        assert_true(alive(2));
        /* Keep the kernel busy, so it is not idle in the next slice. */
        TL_EQ(poe_kernel_post(tl.k, p, "tick", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("2 _stop", "1 _child lose 2 undef");
        assert_false(alive(2));
        TL_EQ(poe_kernel_signal(tl.k, p, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- run_while ---- */

static volatile int keep_running;
static int ticks;
static bool ticking;

static poe_value on_tick(poe_ctx *c)
{
        ticks++;
        if (ticks == 5)
                keep_running = 0;
        if (ticking)
                TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_start_ticker(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS), 0);
        return poe_nil();
}

static void test_run_while(void **state)
{
        poe_sid sid;

        (void)state;
        ticks = 0;
        ticking = true;
        keep_running = 1;
        sid = TL_CREATE(tl.k, { "_start", on_start_ticker }, { "tick", on_tick });
        /* The flag went to zero first: 1, with the session still there. */
        TL_EQ(poe_kernel_run_while(tl.k, &keep_running), 1);
        TL_EQ(ticks, 5);
        assert_true(alive(sid));
        /* A zero flag runs nothing. */
        TL_EQ(poe_kernel_run_while(tl.k, &keep_running), 1);
        TL_EQ(ticks, 5);
        TL_EQ(poe_kernel_run_while(tl.k, NULL), -EINVAL);
        /* The kernel runs out of sessions first: 0. */
        ticking = false;
        keep_running = 1;
        TL_EQ(poe_kernel_run_while(tl.k, &keep_running), 0);
        TL_EQ(ticks, 6);
        assert_false(alive(sid));
        TL_EQ(keep_running, 1);
}

/* ---- stop ---- */

static poe_value on_start_chain(poe_ctx *c)
{
        char alias[8];

        snprintf(alias, sizeof(alias), "s%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), alias), 0);
        if (poe_ctx_session(c) == 1)
                TL_CREATE(poe_ctx_kernel(c), { "_start", on_start_chain }, { "_stop", tl_h_log },
                          { "ev", tl_h_log });
        return poe_nil();
}

static poe_value on_stopper_go(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log_ctx(c);
        TL_EQ(poe_kernel_post_alias(k, "s2", "ev", POE_NOARGS), 0);
        poe_kernel_stop(k);
        /* The running handler finishes normally, its session gone. */
        tl_log("3 after stop active=%llu", (unsigned long long)poe_kernel_get_active_session(k));
        TL_EQ(poe_kernel_ID_id_to_session(k, 3), -ESRCH);
        TL_EQ(poe_kernel_post_alias(k, "s1", "ev", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_yield(k, "x", POE_NOARGS), -EPERM);
        return poe_nil();
}

static poe_value on_start_stopper(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_yield(k, "go", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post_alias(k, "s1", "ev", POE_NOARGS), 0);
        return poe_nil();
}

static void test_stop_from_handler(void **state)
{
        long p1, p2, p3;

        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_chain }, { "_stop", tl_h_log }, { "ev", tl_h_log },
                  { "_child", tl_h_log });
        TL_CREATE(tl.k, { "_start", on_start_stopper }, { "go", on_stopper_go },
                  { "x", tl_h_log }, { "_stop", tl_h_log });
        tl_transcript_clear();
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* perl: 3 go / 2 _stop / 1 _child lose 2 / 1 _stop /
         * 3 _stop / 3 after stop; 1 and 3 are siblings, stopped in hash
         * order.  No "ev" is ever dispatched: the one queued before is
         * discarded, as is the one posted just before stop(). */
        assert_true(strncmp(tl_transcript(), "3 go\n2 _stop\n", 13) == 0);
        p1 = strstr(tl_transcript(), "1 _stop\n") - tl_transcript();
        p2 = strstr(tl_transcript(), "1 _child lose 2") - tl_transcript();
        p3 = strstr(tl_transcript(), "3 _stop\n") - tl_transcript();
        assert_true(p1 > p2 && p2 > 0 && p3 > 0);
        assert_null(strstr(tl_transcript(), " ev"));
        /* The handler that called stop() ran to its end, after every
         * _stop, with the kernel active. */
        TL_EQ(strlen(strstr(tl_transcript(), "3 after stop active=0\n")),
              strlen("3 after stop active=0\n"));
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
}

static void test_stop_from_outside(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_chain }, { "_stop", tl_h_log }, { "ev", tl_h_log },
                  { "_child", tl_h_nop });
        TL_EQ(poe_kernel_post_alias(tl.k, "s2", "ev", POE_NOARGS), 0);
        tl_transcript_clear();
        poe_kernel_stop(tl.k);
        TL_EXPECT("2 _stop", "1 _stop");
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT_NONE();
        /* stop() on a stopped kernel does nothing. */
        poe_kernel_stop(tl.k);
        poe_kernel_stop(NULL);
}

/* ---- run again ---- */

static poe_value on_try_run(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_run(k), -EPERM);
        TL_EQ(poe_kernel_run_one_timeslice(k), -EPERM);
        tl_log_ctx(c);
        return poe_nil();
}

static void test_run_again(void **state)
{
        (void)state;
        /* No sessions: returns at once. */
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 0);
        TL_EQ(TL_CREATE(tl.k, { "_start", on_try_run }, { "_stop", tl_h_log }), 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _start", "1 _stop");
        /* A new session after run() returned: the kernel starts over,
         * ids continue (perl printed "new 4"). */
        TL_EQ(TL_CREATE(tl.k, { "_start", on_try_run }, { "_stop", tl_h_log }), 2);
        TL_EQ(poe_kernel_get_active_session(tl.k), POE_KERNEL);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("2 _start", "2 _stop");
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_run(NULL), -EINVAL);
}

/* ---- run() nested in a forked child's handler ---- */

static poe_value nest_tick(poe_ctx *c)
{
        tl_log_ctx(c);
        if (poe_value_int(poe_ctx_arg(c, 0)) < 2)
                poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_ARGS(poe_int(2)));
        return poe_nil();
}

static poe_value nest_inner_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log_ctx(c);
        /* A handler of the nested run is at depth 1 again, but was not
         * the one that stopped the kernel: no run from here. */
        TL_EQ(poe_kernel_run(k), -EPERM);
        poe_kernel_yield(k, "tick", POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value nest_outer(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value r = poe_nil();
        poe_sid inner;

        tl_log_ctx(c);
        /* Not a forked child: stop() does not open the way. */
        poe_kernel_stop(k);
        TL_EQ(poe_kernel_run(k), -EPERM);
        TL_EQ(poe_kernel_run_one_timeslice(k), -EPERM);
        /* has_forked (what a child calls, or stop() and run() imply on a
         * new pid), then stop(): this handler may run the kernel. */
        TL_EQ(poe_kernel_has_forked(k), 0);
        TL_EQ(poe_kernel_run(k), -EPERM);
        poe_kernel_stop(k);
        inner = TL_CREATE(k, { "_start", nest_inner_start }, { "tick", nest_tick },
                          { "_stop", tl_h_log });
        TL_EQ(inner, 2);
        TL_EQ(poe_kernel_run(k), 0);
        tl_log("nested run returned");
        /* The handler's dispatch is back as it was, stop() included
         * (which made the kernel the active session, as POE does). */
        TL_EQ(poe_kernel_get_active_session(k), POE_KERNEL);
        assert_string_equal(poe_kernel_get_active_event(k), "go");
        /* And it may run again, or make a session and call into it. */
        TL_EQ(poe_kernel_run(k), 0);
        inner = TL_CREATE(k, { "_start", tl_h_nop }, { "ret", tl_h_ret_arg0 });
        TL_EQ(poe_kernel_call(k, inner, "ret", POE_ARGS(poe_int(7)), &r), 0);
        TL_EQ(poe_value_int(&r), 7);
        TL_EQ(poe_kernel_run(k), 0);
        return poe_nil();
}

static poe_value nest_start(poe_ctx *c)
{
        tl_log_ctx(c);
        poe_kernel_yield(poe_ctx_kernel(c), "go", POE_NOARGS);
        return poe_nil();
}

static void test_run_nested_after_fork(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", nest_start }, { "go", nest_outer }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _start", "1 go", "1 _stop", "2 _start", "2 tick 1", "2 tick 2", "2 _stop",
                  "nested run returned");
        TL_EQ(tl_session_count(tl.k), 0);
        tl_check_kernel(tl.k);
        /* Outside handlers, as before. */
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_log }), 4);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("4 _start");
}

/* ---- freeing a kernel with sessions in it ---- */

static int destroyed;

static void test_free_with_live_sessions(void **state)
{
        poe_sid sid;

        (void)state;
        destroyed = 0;
        TL_CREATE(tl.k, { "_start", on_start_chain }, { "_stop", tl_h_log }, { "ev", tl_h_log },
                  { "_child", tl_h_nop });
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "x"), 1);
        TL_EQ(poe_kernel_post(tl.k, 2, "ev", POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), 0);
        TL_EQ(poe_kernel_signal(tl.k, 1, "USR1", POE_NOARGS), 0);
        tl_transcript_clear();
        /* As when a Perl program exits: no _stop, but everything freed
         * and every pointer argument destroyed. */
        tl_kernel_free_checked();
        TL_EXPECT_NONE();
        TL_EQ(destroyed, 1);
}

static poe_value on_start_named(poe_ctx *c)
{
        char alias[16];

        snprintf(alias, sizeof(alias), "n%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), alias), 0);
        return poe_nil();
}

/* Sessions held only by aliases, freed with the kernel: each loses its
 * alias as it goes, which must not touch the ones already freed. */
static void test_free_with_alias_held_sessions(void **state)
{
        int i;

        (void)state;
        for (i = 0; i < 20; i++)
                TL_CREATE(tl.k, { "_start", on_start_named }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(tl_session_count(tl.k), 20);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        tl_transcript_clear();
        tl_kernel_free_checked();
        TL_EXPECT_NONE();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_reasons_sum_at_every_step),
                TL_TEST(test_post_keeps_sender_alive),
                TL_TEST(test_idle_session_stops_at_end_of_next_slice),
                TL_TEST(test_child_made_in_a_slice_lives_through_the_next),
                TL_TEST(test_run_while),
                TL_TEST(test_stop_from_handler),
                TL_TEST(test_stop_from_outside),
                TL_TEST(test_run_again),
                TL_TEST(test_run_nested_after_fork),
                TL_TEST(test_free_with_live_sessions),
                TL_TEST(test_free_with_alias_held_sessions),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
