/*
 * Postbacks and callbacks (POE::Session's postback and callback): what
 * they post or call, how they keep their session alive, weaken, what
 * happens once the session or the whole kernel is gone, and a callback
 * whose handler dies.
 *
 * POE 1.37's Session.pm: postback posts [ @etc ] and [ @_ ] as ARG0 and
 * ARG1, callback calls with the same and returns the handler's value;
 * each holds an 'anon_event' extra reference on the session until it is
 * destroyed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"
#include "postbacks.h"

static poe_postback *pb_saved;

/* Logs the two lists, their kinds and lengths included. */
static poe_value on_event(poe_ctx *c)
{
        const poe_value *a0 = poe_ctx_arg(c, 0), *a1 = poe_ctx_arg(c, 1);

        TL_EQ(poe_ctx_argc(c), 2);
        TL_EQ(a0->type, POE_T_LIST);
        TL_EQ(a1->type, POE_T_LIST);
        tl_log("%llu %s %s(%u) %s(%u) sender=%llu", (unsigned long long)poe_ctx_session(c),
               poe_ctx_state(c), tl_fmt(a0), a0->len, tl_fmt(a1), a1->len,
               (unsigned long long)poe_ctx_sender(c));
        return poe_nil();
}

/* Makes a postback to itself, with creation arguments, from _start. */
static poe_value start_make_postback(poe_ctx *c)
{
        TL_EQ(poe_session_postback(poe_ctx_kernel(c), poe_ctx_session(c), "ev",
                                   POE_ARGS(poe_int(1), poe_str("a")), &pb_saved),
              0);
        return poe_nil();
}

static poe_value log_stop(poe_ctx *c)
{
        tl_log("%llu _stop", (unsigned long long)poe_ctx_session(c));
        return poe_nil();
}

static void test_postback_posts_both_lists(void **state)
{
        poe_sid sid;
        poe_value ret = poe_int(5);
        char want[128];

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", start_make_postback }, { "ev", on_event },
                        { "_stop", log_stop });
        assert_non_null(pb_saved);
        TL_EQ(poe_postback_session(pb_saved), sid);
        TL_EQ(poe_postback_invoke(pb_saved, POE_ARGS(poe_str("x"), poe_int(2)), &ret), 0);
        /* A postback posts: nothing yet, and *ret is nil. */
        assert_string_equal(tl_transcript(), "");
        TL_EQ(ret.type, POE_T_NIL);
        TL_EQ(poe_postback_invoke(pb_saved, POE_NOARGS, NULL), 0);
        TL_RUN_UNTIL(tl.k, strstr(tl_transcript(), "[]") != NULL, 10);
        /* Invoked from outside any handler: the kernel is the sender. */
        snprintf(want, sizeof(want), "%llu ev [1 a](2) [x 2](2) sender=0",
                 (unsigned long long)sid);
        {
                char want2[128];

                snprintf(want2, sizeof(want2), "%llu ev [1 a](2) [](0) sender=0",
                         (unsigned long long)sid);
                TL_EXPECT(want, want2);
        }
        pb_saved = poe_postback_free(pb_saved);
        assert_null(pb_saved);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* A postback made for one session and invoked from another's handler
 * is posted by that other session. */
static poe_value invoke_saved(poe_ctx *c)
{
        TL_EQ(poe_postback_invoke(pb_saved, POE_ARGS(poe_int(3)), NULL), 0);
        return poe_nil();
}

static void test_postback_sender_is_active_session(void **state)
{
        poe_sid a, b;
        char want[128];

        (void)state;
        a = TL_CREATE(tl.k, { "_start", start_make_postback }, { "ev", on_event });
        b = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "go", invoke_saved });
        TL_EQ(poe_kernel_post(tl.k, b, "go", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, strstr(tl_transcript(), " ev ") != NULL, 10);
        snprintf(want, sizeof(want), "%llu ev [1 a](2) [3](1) sender=%llu",
                 (unsigned long long)a, (unsigned long long)b);
        TL_EXPECT(want);
        pb_saved = poe_postback_free(pb_saved);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- lifetime ---- */

static void test_postback_keeps_session_alive(void **state)
{
        poe_sid sid;
        int i;
        char want[64];

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", start_make_postback }, { "ev", on_event },
                        { "_stop", log_stop });
        /* The session has nothing but the postback: after each event the
         * collector would stop it if the postback did not count.  (A
         * slice with nothing queued would wait for ever, as POE would:
         * a postback counts as work, so the kernel is not idle.) */
        for (i = 0; i < 5; i++) {
                /* A post keeps the slices from waiting forever. */
                TL_EQ(poe_postback_invoke(pb_saved, POE_NOARGS, NULL), 0);
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                assert_true(poe_kernel_ID_id_to_session(tl.k, sid) == 0);
        }
        assert_null(strstr(tl_transcript(), "_stop"));
        tl_transcript_clear();
        /* Freed: nothing holds the session any more. */
        pb_saved = poe_postback_free(pb_saved);
        TL_EQ(poe_kernel_run(tl.k), 0);
        snprintf(want, sizeof(want), "%llu _stop", (unsigned long long)sid);
        TL_EXPECT(want);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
}

static poe_value ev_counted(poe_ctx *c)
{
        tl_log("ev");
        return poe_nil();
}

static void test_weaken_stops_keeping_alive(void **state)
{
        poe_sid sid;
        char want[64];

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", start_make_postback }, { "ev", ev_counted },
                        { "_stop", log_stop });
        assert_true(poe_postback_weaken(pb_saved) == pb_saved);
        /* Weakened, it can still post while the session lives. */
        TL_EQ(poe_postback_invoke(pb_saved, POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        snprintf(want, sizeof(want), "%llu _stop", (unsigned long long)sid);
        TL_EXPECT("ev", want);
        /* Weakening twice, then freeing, releases nothing twice. */
        assert_true(poe_postback_weaken(pb_saved) == pb_saved);
        TL_EQ(poe_postback_invoke(pb_saved, POE_NOARGS, NULL), -ESRCH);
        pb_saved = poe_postback_free(pb_saved);
        tl_check_kernel(tl.k);
}

static void test_weaken_then_free_with_session_alive(void **state)
{
        poe_sid sid;
        long before;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", start_make_postback }, { "ev", ev_counted });
        /* Something else (an extra reference) keeps the session alive. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "test"), 1);
        before = tl_refcnt(tl.k, sid);
        poe_postback_weaken(pb_saved);
        TL_EQ(tl_refcnt(tl.k, sid), before - 1);
        pb_saved = poe_postback_free(pb_saved);
        /* Freeing a weak postback does not release a second time. */
        TL_EQ(tl_refcnt(tl.k, sid), before - 1);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "test"), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- callbacks ---- */

static poe_value on_callback(poe_ctx *c)
{
        const poe_value *a0 = poe_ctx_arg(c, 0), *a1 = poe_ctx_arg(c, 1);

        tl_log("cb %s %s", tl_fmt(a0), tl_fmt(a1));
        TL_EQ(a1->type, POE_T_LIST);
        if (a1->len < 1)
                return poe_str("nothing");
        /* creation arg times call arg */
        return poe_int(poe_value_int(&a0->u.list[0]) * poe_value_int(&a1->u.list[0]));
}

static poe_value cb_die(poe_ctx *c)
{
        tl_log("cb dies");
        poe_die(c, "callback died\n");
}

static poe_value on_die(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("DIE %s %s", e.event, e.error_str);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value start_watch_die(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        return poe_nil();
}

static void test_callback_returns_value(void **state)
{
        poe_postback *cb = NULL;
        poe_value ret = poe_nil();
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "cb", on_callback });
        TL_EQ(poe_session_callback(tl.k, sid, "cb", POE_ARGS(poe_int(6)), &cb), 0);
        TL_EQ(poe_postback_invoke(cb, POE_ARGS(poe_int(7)), &ret), 0);
        /* Called at once, not queued. */
        TL_EXPECT("cb [6] [7]");
        TL_EQ(ret.type, POE_T_INT);
        TL_EQ(ret.u.i, 42);
        TL_EQ(poe_postback_invoke(cb, POE_NOARGS, &ret), 0);
        TL_EXPECT("cb [6] []");
        assert_string_equal(poe_value_str(&ret), "nothing");
        /* A callback keeps its session alive too. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), 0);
        cb = poe_postback_free(cb);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
}

static void test_callback_handler_dies(void **state)
{
        poe_postback *cb = NULL;
        poe_value ret = poe_int(1);
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", start_watch_die }, { "cb", cb_die },
                        { "on_die", on_die });
        TL_EQ(poe_session_callback(tl.k, sid, "cb", POE_NOARGS, &cb), 0);
        TL_EQ(poe_postback_invoke(cb, POE_ARGS(poe_int(1)), &ret), -ECANCELED);
        TL_EXPECT("cb dies");
        /* *ret is written only on success. */
        TL_EQ(ret.type, POE_T_INT);
        cb = poe_postback_free(cb);
        /* The DIE went to the session, as for any call(). */
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("DIE cb callback died", "");
}

/* ---- a callback freed by the handler it calls ---- */

static int destroyed;

/* Frees the callback it was called through, then reads its creation
 * arguments: POE's handler holds \@etc in ARG0, which outlives the
 * callback, so the list and the objects in it are still there, and
 * their destructors have not run. */
static poe_value cb_frees_itself(poe_ctx *c)
{
        const poe_value *a0 = poe_ctx_arg(c, 0);

        pb_saved = poe_postback_free(pb_saved);
        TL_EQ(a0->type, POE_T_LIST);
        TL_EQ(a0->len, 3);
        tl_log("cb %s %s", tl_fmt(&a0->u.list[0]), tl_fmt(&a0->u.list[1]));
        assert_ptr_equal(a0->u.list[2].u.ptr.p, &destroyed);
        TL_EQ(destroyed, 0);
        return poe_int(poe_value_int(&a0->u.list[0]) + 1);
}

static void test_callback_freed_by_its_handler(void **state)
{
        poe_value ret = poe_nil();
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "cb", cb_frees_itself });
        TL_EQ(poe_session_callback(tl.k, sid, "cb",
                                   POE_ARGS(poe_int(41), poe_str("kept"),
                                            poe_ptr(&destroyed, tl_count_destroy)),
                                   &pb_saved),
              0);
        TL_EQ(poe_postback_invoke(pb_saved, POE_NOARGS, &ret), 0);
        TL_EXPECT("cb 41 kept");
        TL_EQ(ret.u.i, 42);
        /* Freed when the invocation returned: its pointer destroyed
         * once, its session released. */
        assert_null(pb_saved);
        TL_EQ(destroyed, 1);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
        TL_EQ(destroyed, 1);
}

/* The same when the session calls its own callback and the handler then
 * dies: the die unwinds past the invocation (a call to oneself has no
 * dispatch of its own to catch it), which must still finish the free. */
static poe_value cb_frees_itself_and_dies(poe_ctx *c)
{
        const poe_value *a0 = poe_ctx_arg(c, 0);

        pb_saved = poe_postback_free(pb_saved);
        TL_EQ(a0->len, 1);
        assert_ptr_equal(a0->u.list[0].u.ptr.p, &destroyed);
        TL_EQ(destroyed, 0);
        tl_log("cb dies");
        poe_die(c, "callback died\n");
}

static poe_value invoke_own_callback(poe_ctx *c)
{
        TL_EQ(poe_session_callback(poe_ctx_kernel(c), poe_ctx_session(c), "cb",
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &pb_saved),
              0);
        poe_postback_invoke(pb_saved, POE_NOARGS, NULL);
        tl_log("not reached");
        return poe_nil();
}

static void test_callback_freed_by_its_handler_that_dies(void **state)
{
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", start_watch_die }, { "go", invoke_own_callback },
                        { "cb", cb_frees_itself_and_dies }, { "on_die", on_die });
        TL_EQ(poe_kernel_post(tl.k, sid, "go", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("cb dies", "DIE go callback died", "");
        assert_null(pb_saved);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
}

/* ---- after the session, after the kernel ---- */

static void test_invoke_after_session_gone(void **state)
{
        poe_postback *pb = NULL, *cb = NULL;
        poe_value ret = poe_int(1);
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_event }, { "cb", on_callback });
        TL_EQ(poe_session_postback(tl.k, sid, "ev", POE_NOARGS, &pb), 0);
        TL_EQ(poe_session_callback(tl.k, sid, "cb", POE_ARGS(poe_int(2)), &cb), 0);
        poe_postback_weaken(pb);
        poe_postback_weaken(cb);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
        TL_EQ(poe_postback_invoke(pb, POE_ARGS(poe_int(1)), NULL), -ESRCH);
        TL_EQ(poe_postback_invoke(cb, POE_ARGS(poe_int(1)), &ret), -ESRCH);
        TL_EQ(ret.type, POE_T_INT);
        assert_string_equal(tl_transcript(), "");
        pb = poe_postback_free(pb);
        cb = poe_postback_free(cb);
}

static void test_postback_on_stopped_session_via_signal(void **state)
{
        poe_postback *pb = NULL;
        poe_sid sid;

        (void)state;
        /* A strong postback does not save its session from KILL. */
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_event });
        TL_EQ(poe_session_postback(tl.k, sid, "ev", POE_NOARGS, &pb), 0);
        TL_EQ(poe_kernel_signal(tl.k, sid, "KILL", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, poe_kernel_ID_id_to_session(tl.k, sid) == -ESRCH, 5);
        /* The postback's hold went with the session (POE clears a
         * stopped session's extra references): it must not count as
         * work any more, or the kernel never goes idle and run() waits
         * for ever.  Checked on the internals first so that a kernel
         * getting this wrong fails here instead of hanging below. */
        TL_EQ(tl.k->n_live_postbacks, 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_postback_invoke(pb, POE_NOARGS, NULL), -ESRCH);
        tl_check_kernel(tl.k);
        /* Freeing it now must not touch the session that is gone. */
        pb = poe_postback_free(pb);
        tl_check_kernel(tl.k);
}

static void test_postback_outlives_kernel(void **state)
{
        poe_postback *pb = NULL, *cb = NULL, *weak = NULL;
        poe_value ret = poe_int(1);
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_event }, { "cb", on_callback });
        TL_EQ(poe_session_postback(tl.k, sid, "ev", POE_ARGS(poe_str("kept")), &pb), 0);
        TL_EQ(poe_session_callback(tl.k, sid, "cb", POE_ARGS(poe_int(2)), &cb), 0);
        TL_EQ(poe_session_postback(tl.k, sid, "ev", POE_NOARGS, &weak), 0);
        poe_postback_weaken(weak);
        /* The kernel goes first: nothing it allocated may remain, even
         * with three postbacks still out there. */
        tl_kernel_free_checked();
        TL_EQ(poe_postback_session(pb), sid);
        TL_EQ(poe_postback_invoke(pb, POE_ARGS(poe_int(1)), NULL), -ESRCH);
        TL_EQ(poe_postback_invoke(cb, POE_ARGS(poe_int(1)), &ret), -ESRCH);
        TL_EQ(ret.type, POE_T_INT);
        TL_EQ(poe_postback_invoke(weak, POE_NOARGS, NULL), -ESRCH);
        /* A pointer handed to a dead postback is still destroyed (the
         * call failed, so the pointer's destructor runs). */
        TL_EQ(poe_postback_invoke(pb, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), NULL),
              -ESRCH);
        TL_EQ(destroyed, 1);
        assert_true(poe_postback_weaken(pb) == pb);
        pb = poe_postback_free(pb);
        cb = poe_postback_free(cb);
        weak = poe_postback_free(weak);
        assert_null(poe_postback_free(NULL));
}

static void test_bad_arguments(void **state)
{
        poe_postback *pb = NULL;
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_session_postback(tl.k, sid + 100, "ev", POE_NOARGS, &pb), -ESRCH);
        TL_EQ(poe_session_callback(tl.k, sid + 100, "ev", POE_NOARGS, &pb), -ESRCH);
        TL_EQ(poe_session_postback(tl.k, sid, NULL, POE_NOARGS, &pb), -EINVAL);
        TL_EQ(poe_session_postback(tl.k, sid, "ev", POE_NOARGS, NULL), -EINVAL);
        TL_EQ(poe_session_postback(NULL, sid, "ev", POE_NOARGS, &pb), -EINVAL);
        assert_null(pb);
        TL_EQ(poe_postback_invoke(NULL, POE_NOARGS, NULL), -EINVAL);
        TL_EQ(poe_postback_session(NULL), POE_KERNEL);
        assert_null(poe_postback_weaken(NULL));
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* A postback's pointer invocation argument is the event's: destroyed
 * once after dispatch. */
static void test_postback_pointer_argument(void **state)
{
        poe_postback *pb = NULL;
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_event });
        TL_EQ(poe_session_postback(tl.k, sid, "ev", POE_NOARGS, &pb), 0);
        TL_EQ(poe_postback_invoke(pb, POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), NULL),
              0);
        TL_EQ(destroyed, 0);
        pb = poe_postback_free(pb);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed, 1);
}

/* Creation arguments go out with every invocation, so no event may own
 * a pointer among them: the postback owns it (poe.h), and its destructor
 * runs once, when that postback is freed.  Each of the two objects here
 * was handed its own owned pointer value. */
static void test_postback_creation_pointer_not_destroyed_per_event(void **state)
{
        poe_postback *pb = NULL, *cb = NULL;
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_event }, { "cb", on_event });
        TL_EQ(poe_session_postback(tl.k, sid, "ev",
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &pb),
              0);
        TL_EQ(poe_session_callback(tl.k, sid, "cb",
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &cb),
              0);
        TL_EQ(poe_postback_invoke(pb, POE_NOARGS, NULL), 0);
        TL_EQ(poe_postback_invoke(pb, POE_NOARGS, NULL), 0);
        TL_EQ(poe_postback_invoke(cb, POE_NOARGS, NULL), 0);
        TL_EQ(poe_postback_invoke(cb, POE_NOARGS, NULL), 0);
        TL_RUN_UNTIL(tl.k, strstr(tl_transcript(), " ev ") != NULL &&
                                   strstr(strstr(tl_transcript(), " ev ") + 1, " ev ") != NULL,
                     10);
        TL_EQ(destroyed, 0);
        pb = poe_postback_free(pb);
        TL_EQ(destroyed, 1);
        cb = poe_postback_free(cb);
        TL_EQ(destroyed, 2);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed, 2);
}

/* A postback that cannot be made still runs its pointers' destructors,
 * as every call given them does when it fails (poe.h). */
static void test_postback_failure_destroys_pointer(void **state)
{
        poe_postback *pb = NULL;
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_session_postback(tl.k, sid + 100, "ev",
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), &pb),
              -ESRCH);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_session_callback(tl.k, sid, "ev",
                                   POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), NULL),
              -EINVAL);
        TL_EQ(destroyed, 2);
        assert_null(pb);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_postback_posts_both_lists),
                TL_TEST(test_postback_sender_is_active_session),
                TL_TEST(test_postback_keeps_session_alive),
                TL_TEST(test_weaken_stops_keeping_alive),
                TL_TEST(test_weaken_then_free_with_session_alive),
                TL_TEST(test_callback_returns_value),
                TL_TEST(test_callback_handler_dies),
                TL_TEST(test_callback_freed_by_its_handler),
                TL_TEST(test_callback_freed_by_its_handler_that_dies),
                TL_TEST(test_invoke_after_session_gone),
                TL_TEST(test_postback_on_stopped_session_via_signal),
                TL_TEST(test_postback_outlives_kernel),
                TL_TEST(test_bad_arguments),
                TL_TEST(test_postback_pointer_argument),
                TL_TEST(test_postback_creation_pointer_not_destroyed_per_event),
                TL_TEST(test_postback_failure_destroys_pointer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
