/*
 * Events: post, post_alias, yield and call; their order, return values,
 * senders and caller information; _default; the active session and
 * event; the event count.  Expected values were checked against POE
 * 1.37 by running the same scenarios in perl.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* ---- order ---- */

static poe_value on_start_alias(poe_ctx *c)
{
        char alias[16];

        snprintf(alias, sizeof(alias), "s%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), alias), 0);
        return poe_nil();
}

static poe_value on_relay(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        tl_log_ctx(c);
        /* Posted during a dispatch: queued behind everything already
         * waiting. */
        if (n < 3)
                TL_EQ(poe_kernel_post_alias(k, "s2", "ev", POE_ARGS(poe_int(n + 10))), 0);
        if (n == 1 || n == 2)
                TL_EQ(poe_kernel_alias_remove(k, "s1"), n == 1 ? 0 : -ESRCH);
        return poe_nil();
}

static void test_fifo_order(void **state)
{
        poe_sid a, b;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", on_start_alias }, { "ev", on_relay });
        b = TL_CREATE(tl.k, { "_start", on_start_alias }, { "ev", on_relay },
                      { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_post(tl.k, a, "ev", POE_ARGS(poe_int(1))), 0);
        TL_EQ(poe_kernel_post(tl.k, b, "ev", POE_ARGS(poe_int(2))), 0);
        TL_EQ(poe_kernel_post_alias(tl.k, "s1", "ev", POE_ARGS(poe_int(3))), 0);
        TL_EQ(poe_kernel_post(tl.k, b, "ev", POE_ARGS(poe_int(4))), 0);
        TL_EQ(poe_kernel_post(tl.k, a, "ev", POE_ARGS(poe_int(5))), 0);
        /* s2 keeps its alias: end it from outside after the work. */
        TL_RUN_UNTIL(tl.k, strstr(tl_transcript(), "2 ev 12") != NULL, 10);
        TL_EXPECT("1 ev 1", "2 ev 2", "1 ev 3", "2 ev 4", "1 ev 5", "2 ev 11", "2 ev 12");
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(poe_kernel_signal(tl.k, b, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_many_posts_keep_order(void **state)
{
        poe_sid sid;
        int i;
        char *expect, *p;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", tl_h_log });
        for (i = 0; i < 1000; i++)
                TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_ARGS(poe_int(i))), 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 1001); /* and the GC event */
        TL_EQ(poe_kernel_run(tl.k), 0);
        expect = test_malloc(1000 * 16);
        p = expect;
        for (i = 0; i < 1000; i++)
                p += sprintf(p, "1 ev %d\n", i);
        assert_string_equal(tl_transcript(), expect);
        test_free(expect);
}

/* ---- yield ---- */

static poe_value on_start_yield(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "next", POE_ARGS(poe_str("a"), poe_int(2))), 0);
        tl_log("yielded");
        return poe_nil();
}

static poe_value on_next(poe_ctx *c)
{
        tl_log_ctx(c);
        tl_log("sender %llu", (unsigned long long)poe_ctx_sender(c));
        return poe_nil();
}

static void test_yield(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_yield }, { "next", on_next });
        /* yield never dispatches at once. */
        TL_EXPECT("yielded");
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 next a 2", "sender 1");
        TL_EQ(poe_kernel_yield(tl.k, "next", POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_yield(tl.k, NULL, POE_NOARGS), -EINVAL);
}

/* ---- call ---- */

static poe_value on_double(poe_ctx *c)
{
        tl_log_ctx(c);
        return poe_int(poe_value_int(poe_ctx_arg(c, 0)) * 2);
}

static void test_call_returns_value(void **state)
{
        poe_value ret = poe_nil();
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "dbl", on_double });
        TL_EQ(poe_kernel_call(tl.k, sid, "dbl", POE_ARGS(poe_int(21)), &ret), 0);
        TL_EQ(ret.type, POE_T_INT);
        TL_EQ(ret.u.i, 42);
        /* call dispatches at once, bypassing the queue. */
        TL_EXPECT("1 dbl 21");
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        /* No handler and no _default: nil, and still success. */
        ret = poe_int(5);
        TL_EQ(poe_kernel_call(tl.k, sid, "unknown", POE_NOARGS, &ret), 0);
        TL_EQ(ret.type, POE_T_NIL);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static poe_value on_start_b(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "b"), 0);
        return poe_nil();
}

static poe_value on_start_c(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "c"), 0);
        return poe_nil();
}

static poe_value on_level(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value ret = poe_nil();
        int64_t depth = poe_value_int(poe_ctx_arg(c, 0));

        tl_log("in %llu %s active=%llu/%s sender=%llu caller_state=%s",
               (unsigned long long)poe_ctx_session(c), poe_ctx_state(c),
               (unsigned long long)poe_kernel_get_active_session(k),
               poe_kernel_get_active_event(k), (unsigned long long)poe_ctx_sender(c),
               poe_ctx_caller_state(c));
        if (depth == 0)
                TL_EQ(poe_kernel_call_alias(k, "b", "level", POE_ARGS(poe_int(1)), &ret), 0);
        else if (depth == 1)
                TL_EQ(poe_kernel_call_alias(k, "c", "level", POE_ARGS(poe_int(2)), &ret), 0);
        else
                return poe_int(100);
        /* The nested dispatch has put back what was active. */
        tl_log("out %llu active=%llu/%s got %s", (unsigned long long)poe_ctx_session(c),
               (unsigned long long)poe_kernel_get_active_session(k),
               poe_kernel_get_active_event(k), tl_fmt(&ret));
        return poe_int(ret.u.i + 1);
}

static poe_value on_start_a(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static void test_call_nested(void **state)
{
        poe_value ret;
        poe_sid a;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", on_start_a }, { "level", on_level });
        TL_CREATE(tl.k, { "_start", on_start_b }, { "level", on_level }, { "_stop", tl_h_nop });
        TL_CREATE(tl.k, { "_start", on_start_c }, { "level", on_level }, { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_call(tl.k, a, "level", POE_ARGS(poe_int(0)), &ret), 0);
        TL_EQ(ret.u.i, 102);
        TL_EXPECT("in 1 level active=1/level sender=0 caller_state=",
                  "in 2 level active=2/level sender=1 caller_state=level",
                  "in 3 level active=3/level sender=2 caller_state=level",
                  "out 2 active=2/level got 100", "out 1 active=1/level got 101");
        TL_EQ(poe_kernel_get_active_session(tl.k), POE_KERNEL);
        assert_string_equal(poe_kernel_get_active_event(tl.k), "");
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/*
 * A session calling itself: POE invokes the handler directly, so the
 * active event stays the caller's (POE/Kernel.pm, sub call:
 * $session == $kr_active_session ? $session->_invoke_state(...)).
 * perl printed "ev2 state=ev2 active=ev1 callerstate=ev1 sender=1".
 */
static poe_value on_ev2(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log("ev2 state=%s active=%s caller_state=%s sender=%llu", poe_ctx_state(c),
               poe_kernel_get_active_event(k), poe_ctx_caller_state(c),
               (unsigned long long)poe_ctx_sender(c));
        return poe_int(poe_value_int(poe_ctx_arg(c, 0)) * 2);
}

static poe_value on_ev1(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value ret;

        TL_EQ(poe_kernel_call(k, poe_ctx_session(c), "ev2", POE_ARGS(poe_int(5)), &ret), 0);
        tl_log("ev1 got %s active=%s", tl_fmt(&ret), poe_kernel_get_active_event(k));
        return poe_nil();
}

static void test_call_to_self_keeps_active_event(void **state)
{
        poe_sid sid;
        poe_value ret;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev1", on_ev1 }, { "ev2", on_ev2 });
        TL_EQ(poe_kernel_post(tl.k, sid, "ev1", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("ev2 state=ev2 active=ev1 caller_state=ev1 sender=1", "ev1 got 10 active=ev1");
        /* From outside, the callee's event is the active one. */
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev2", on_ev2 });
        TL_EQ(poe_kernel_call(tl.k, sid, "ev2", POE_ARGS(poe_int(21)), &ret), 0);
        TL_EQ(ret.u.i, 42);
        TL_EXPECT("ev2 state=ev2 active=ev2 caller_state= sender=0");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- unknown destinations ---- */

static void test_esrch(void **state)
{
        poe_value ret = poe_int(3);
        poe_sid sid;

        (void)state;
        TL_EQ(poe_kernel_post(tl.k, 1, "ev", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_call(tl.k, 1, "ev", POE_NOARGS, &ret), -ESRCH);
        TL_EQ(ret.type, POE_T_INT);
        TL_EQ(poe_kernel_post_alias(tl.k, "nobody", "ev", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_call_alias(tl.k, "nobody", "ev", POE_NOARGS, &ret), -ESRCH);
        /* A session's id written as a string is not an alias for post. */
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_post(tl.k, sid + 1, "ev", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_call(tl.k, sid, "ev", POE_NOARGS, NULL), -ESRCH);
        /* Nothing was queued by the failures. */
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
}

static void test_einval(void **state)
{
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_post(tl.k, sid, NULL, POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", NULL, 2), -EINVAL);
        TL_EQ(poe_kernel_call(tl.k, sid, NULL, POE_NOARGS, NULL), -EINVAL);
        TL_EQ(poe_kernel_post_alias(tl.k, NULL, "ev", POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_post(NULL, sid, "ev", POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- _default ---- */

static poe_value on_default(poe_ctx *c)
{
        const poe_value *list = poe_ctx_arg(c, 1);

        tl_log_ctx(c);
        TL_EQ(poe_ctx_argc(c), 2);
        TL_EQ(poe_ctx_arg(c, 0)->type, POE_T_STR);
        TL_EQ(list->type, POE_T_LIST);
        assert_string_equal(poe_ctx_state(c), "_default");
        return poe_int((int64_t)list->len);
}

static void test_default(void **state)
{
        poe_value inner[2] = { poe_str("b"), poe_str("c") };
        poe_value ret;
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "_default", on_default },
                        { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_ARGS(poe_str("a"), poe_list(inner, 2))), 0);
        TL_EQ(poe_kernel_post(tl.k, sid, "empty", POE_NOARGS), 0);
        TL_EQ(poe_kernel_call(tl.k, sid, "called", POE_ARGS(poe_int(1), poe_int(2), poe_int(3)),
                              &ret),
              0);
        /* call() gets _default's return value. */
        TL_EQ(ret.u.i, 3);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _default called [1 2 3]", "1 _default ev [a [b c]]", "1 _default empty []");
}

/* ---- caller information and senders ---- */

static int post_line;

static poe_value on_poster(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        post_line = __LINE__ + 1;
        TL_EQ(poe_kernel_post(k, 2, "where", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_where(poe_ctx *c)
{
        tl_log("%llu %s from %llu file=%s line=%d state=%s", (unsigned long long)poe_ctx_session(c),
               poe_ctx_state(c), (unsigned long long)poe_ctx_sender(c),
               strcmp(poe_ctx_caller_file(c), __FILE__) == 0 ? "this" : poe_ctx_caller_file(c),
               poe_ctx_caller_line(c) - post_line, poe_ctx_caller_state(c));
        return poe_nil();
}

static void test_caller_and_sender(void **state)
{
        poe_sid a, b;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "poster", on_poster });
        b = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "where", on_where });
        TL_EQ(b, 2);
        /* From outside: the kernel is the sender and there is no state. */
        post_line = __LINE__ + 1;
        TL_EQ(poe_kernel_post(tl.k, b, "where", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post(tl.k, a, "poster", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* The lines are relative to the post that was made. */
        TL_EXPECT("2 where from 0 file=this line=0 state=",
                  "2 where from 1 file=this line=0 state=poster");

        /* The _at functions name another place, for other languages. */
        b = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "where", on_where });
        post_line = 0;
        TL_EQ(poe_kernel_post_at(tl.k, "script.pl", 77, b, "where", POE_NOARGS), 0);
        TL_EQ(poe_kernel_call_at(tl.k, "other.pl", 5, b, "where", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("3 where from 0 file=other.pl line=5 state=",
                  "3 where from 0 file=script.pl line=77 state=");
}

static poe_value on_report_sender(poe_ctx *c)
{
        tl_log("%llu %s sender=%llu", (unsigned long long)poe_ctx_session(c), poe_ctx_state(c),
               (unsigned long long)poe_ctx_sender(c));
        return poe_nil();
}

static poe_value on_send_both(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_post(k, 1, "p", POE_NOARGS), 0);
        TL_EQ(poe_kernel_call(k, 1, "c", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_yield(k, "y", POE_NOARGS), 0);
        return poe_nil();
}

static void test_senders(void **state)
{
        poe_sid a, b;

        (void)state;
        b = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "p", on_report_sender },
                      { "c", on_report_sender });
        a = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "go", on_send_both },
                      { "y", on_report_sender });
        TL_EQ(b, 1);
        TL_EQ(a, 2);
        TL_EQ(poe_kernel_post(tl.k, a, "go", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post(tl.k, b, "p", POE_NOARGS), 0);
        TL_EQ(poe_kernel_call(tl.k, b, "c", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* The sender is the session that posted, called or yielded; the
         * kernel (0) outside handlers. */
        TL_EXPECT("1 c sender=0", "1 c sender=2", "1 p sender=0", "1 p sender=2",
                  "2 y sender=2");
}

/* ---- counts and the active session ---- */

static poe_value on_active(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log("active %llu %s count=%zu", (unsigned long long)poe_kernel_get_active_session(k),
               poe_kernel_get_active_event(k), poe_kernel_get_event_count(k));
        return poe_nil();
}

static void test_event_count_and_active(void **state)
{
        poe_sid sid;

        (void)state;
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(poe_kernel_get_active_session(tl.k), POE_KERNEL);
        assert_string_equal(poe_kernel_get_active_event(tl.k), "");
        sid = TL_CREATE(tl.k, { "_start", on_active }, { "ev", on_active });
        /* _start runs before the GC event is queued (POE's session_alloc
         * enqueues it last). */
        TL_EXPECT("active 1 _start count=0");
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_NOARGS), 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 3);
        /* Each event is out of the queue while it is dispatched. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("active 1 ev count=1", "active 1 ev count=0");
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(poe_kernel_get_active_session(tl.k), POE_KERNEL);
        assert_string_equal(poe_kernel_get_active_event(tl.k), "");
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* NULL kernels answer harmlessly. */
        TL_EQ(poe_kernel_get_event_count(NULL), 0);
        TL_EQ(poe_kernel_get_active_session(NULL), POE_KERNEL);
        assert_string_equal(poe_kernel_get_active_event(NULL), "");
}

/* ---- names given through one reused buffer, and many arguments ---- */

static poe_value rb_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char name[16];

        /* The kernel caches event names by address: the same buffer with
         * other contents must still name another event. */
        strcpy(name, "first");
        TL_EQ(poe_kernel_yield(k, name, POE_NOARGS), 0);
        strcpy(name, "second");
        TL_EQ(poe_kernel_yield(k, name, POE_NOARGS), 0);
        strcpy(name, "first");
        TL_EQ(poe_kernel_yield(k, name, POE_NOARGS), 0);
        return poe_nil();
}

static void test_event_name_buffer_reused(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", rb_start }, { "first", tl_h_log }, { "second", tl_h_log });
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_non_null(strstr(tl_transcript(), "first"));
        assert_true(strstr(tl_transcript(), "first") < strstr(tl_transcript(), "second"));
        assert_non_null(strstr(strstr(tl_transcript(), "second"), "first"));
}

/* More arguments than an event header counts (65,535): the count is
 * kept beside them instead, and every one arrives. */
#define MANY_ARGS 70000

static poe_value many_start(poe_ctx *c)
{
        poe_value *v = malloc(MANY_ARGS * sizeof(*v));
        size_t i;

        assert_non_null(v);
        for (i = 0; i < MANY_ARGS; i++)
                v[i] = poe_int((int64_t)i);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "many", v, MANY_ARGS), 0);
        free(v);
        return poe_nil();
}

static poe_value many_got(poe_ctx *c)
{
        TL_EQ(poe_ctx_argc(c), MANY_ARGS);
        TL_EQ(poe_value_int(poe_ctx_arg(c, 0)), 0);
        TL_EQ(poe_value_int(poe_ctx_arg(c, 65535)), 65535);
        TL_EQ(poe_value_int(poe_ctx_arg(c, MANY_ARGS - 1)), MANY_ARGS - 1);
        tl_log("many");
        return poe_nil();
}

static void test_event_with_many_arguments(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", many_start }, { "many", many_got });
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_string_equal(tl_transcript(), "many\n");
}

/* A call's copy of its arguments (events.c, call()): what it holds that
 * is owned is let go of after the handler, whether the copy is on the
 * stack (up to eight) or on the heap, a pointer's destructor once, one
 * in a list too, and none for a pointer the handler took. */
static int call_destroyed;

static poe_value on_call_args(poe_ctx *c)
{
        tl_log("argc=%zu", poe_ctx_argc(c));
        TL_EQ(call_destroyed, 0);
        return poe_int((int64_t)poe_ctx_argc(c));
}

static poe_value on_call_take(poe_ctx *c)
{
        poe_value v = poe_ctx_take_arg(c, 0);

        tl_log("took %s", v.type == POE_T_PTR ? "ptr" : "?");
        return poe_nil();
}

static void test_call_lets_go_of_its_arguments(void **state)
{
        poe_value many[10], list[2], ret;
        poe_sid sid;
        int i;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "args", on_call_args },
                        { "take", on_call_take });
        call_destroyed = 0;
        TL_EQ(poe_kernel_call(tl.k, sid, "args", POE_ARGS(poe_ptr(&call_destroyed, tl_count_destroy)),
                              &ret),
              0);
        TL_EQ(poe_value_int(&ret), 1);
        TL_EQ(call_destroyed, 1);
        call_destroyed = 0;
        for (i = 0; i < 9; i++)
                many[i] = poe_int(i);
        many[9] = poe_ptr(&call_destroyed, tl_count_destroy);
        TL_EQ(poe_kernel_call(tl.k, sid, "args", many, 10, &ret), 0);
        TL_EQ(poe_value_int(&ret), 10);
        TL_EQ(call_destroyed, 1);
        call_destroyed = 0;
        list[0] = poe_str("in a list");
        list[1] = poe_ptr(&call_destroyed, tl_count_destroy);
        TL_EQ(poe_kernel_call(tl.k, sid, "args", POE_ARGS(poe_int(1), poe_list(list, 2)), &ret), 0);
        TL_EQ(poe_value_int(&ret), 2);
        TL_EQ(call_destroyed, 1);
        call_destroyed = 0;
        TL_EQ(poe_kernel_call(tl.k, sid, "take", POE_ARGS(poe_ptr(&call_destroyed, tl_count_destroy)),
                              NULL),
              0);
        TL_EQ(call_destroyed, 0);
        TL_EXPECT("argc=1", "argc=10", "argc=2", "took ptr");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* Dispatch timing samples one dispatch in N: on the fake clock, each
 * "slow" handler takes exactly 5 ms and the others none, so the
 * histogram's counts and sum say which dispatches were timed. */
static int slow_left;

static poe_value slow_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "slow", POE_NOARGS);
        return poe_nil();
}

static poe_value slow_step(poe_ctx *c)
{
        TL_EQ(poe_kernel_clock_advance(poe_ctx_kernel(c), 0.005), 0);
        if (--slow_left > 0)
                poe_kernel_yield(poe_ctx_kernel(c), "slow", POE_NOARGS);
        return poe_nil();
}

/* The one count of handlers run: by kind, in all, in the kernel's
 * summary and in the duration histogram, equal at any moment. */
static void assert_counts_agree(const poe_dispatch_stats *st)
{
        poe_kernel_info ki;
        uint64_t by_kind = 0, buckets = 0;
        int i;

        TL_EQ(poe_peek_kernel(tl.k, &ki), 0);
        for (i = 0; i < POE_DISPATCH_KINDS; i++)
                by_kind += st->by_kind[i];
        for (i = 0; i < POE_DURATION_BUCKETS; i++)
                buckets += st->duration_buckets[i];
        TL_EQ(by_kind, st->dispatched);
        TL_EQ(ki.events_dispatched, st->dispatched);
        TL_EQ(buckets, st->dispatched);
}

static void assert_near(double got, double want)
{
        if (!(got > want - 1e-9 && got < want + 1e-9))
                fail_msg("%.12f, expected %.12f", got, want);
}

static void test_dispatch_timing_samples(void **state)
{
        poe_dispatch_stats st;

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, 1000000), 0);
        TL_EQ(poe_kernel_set_dispatch_timing(tl.k, -1), -EINVAL);
        TL_EQ(poe_kernel_dispatch_stats(tl.k, &st), 0);
        TL_EQ(st.timed, 0);
        TL_EQ(poe_kernel_set_dispatch_timing(tl.k, 4), 0);
        slow_left = 64;
        TL_CREATE(tl.k, { "_start", slow_start }, { "slow", slow_step });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_dispatch_stats(tl.k, &st), 0);
        /* _start is the first dispatch timed (no time: the 1 us
         * bucket), then every 4th dispatch: the kernel's own (_child, no
         * handler) counts, so the 3rd, 7th, ... 63rd slow step, 16 of
         * them, each 5 ms (the 10 ms bucket).  Each stands for the
         * handlers up to the next one timed: _start for the first two
         * steps, the last for the last two.  The histogram counts all 65
         * handlers run. */
        TL_EQ(st.dispatched, 65);
        TL_EQ(st.timed, 17);
        TL_EQ(st.duration_buckets[0], 3);
        TL_EQ(st.duration_buckets[4], 62);
        assert_near(st.duration_sum, 62 * 0.005);
        assert_counts_agree(&st);

        /* Every dispatch, and none: the handlers run while timing is off
         * count as the latest one timed. */
        TL_EQ(poe_kernel_set_dispatch_timing(tl.k, 1), 0);
        slow_left = 8;
        TL_CREATE(tl.k, { "_start", slow_start }, { "slow", slow_step });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_dispatch_stats(tl.k, &st), 0);
        TL_EQ(st.timed, 17 + 9);
        TL_EQ(st.duration_buckets[0], 3 + 1);
        TL_EQ(st.duration_buckets[4], 62 + 8);
        assert_counts_agree(&st);
        TL_EQ(poe_kernel_set_dispatch_timing(tl.k, 0), 0);
        slow_left = 8;
        TL_CREATE(tl.k, { "_start", slow_start }, { "slow", slow_step });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_dispatch_stats(tl.k, &st), 0);
        TL_EQ(st.timed, 17 + 9);
        TL_EQ(st.duration_buckets[0], 3 + 1);
        TL_EQ(st.duration_buckets[4], 62 + 8 + 9);
        assert_near(st.duration_sum, (62 + 8 + 9) * 0.005);
        assert_counts_agree(&st);
}

/* Dispatch timing through call(), whose dispatch has its own hooks
 * (events.c, call_body): with every dispatch timed, three calls of
 * "slow" (5 ms each) from outside any handler are three samples, and a
 * call of "outer" (5 ms, then two calls of "slow") three more, the
 * outer one 15 ms with its two nested (the 25 ms bucket).  The two
 * _starts, run before timing was on, count with the first sample, as
 * the histogram counts handlers (test_dispatch_timing_samples). */
static poe_sid timed_callee;

static poe_value timed_outer(poe_ctx *c)
{
        poe_value ret;
        int i;

        TL_EQ(poe_kernel_clock_advance(poe_ctx_kernel(c), 0.005), 0);
        for (i = 0; i < 2; i++) {
                TL_EQ(poe_kernel_call(poe_ctx_kernel(c), timed_callee, "slow", POE_NOARGS, &ret),
                      0);
                TL_EQ(poe_value_int(&ret), 7);
        }
        return poe_nil();
}

static poe_value timed_slow(poe_ctx *c)
{
        TL_EQ(poe_kernel_clock_advance(poe_ctx_kernel(c), 0.005), 0);
        return poe_int(7);
}

static void test_dispatch_timing_of_calls(void **state)
{
        poe_dispatch_stats st;
        poe_value ret;
        poe_sid outer;
        int i;

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, 1000000), 0);
        timed_callee = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "slow", timed_slow });
        outer = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "outer", timed_outer });
        TL_EQ(poe_kernel_set_dispatch_timing(tl.k, 1), 0);
        for (i = 0; i < 3; i++) {
                ret = poe_nil();
                TL_EQ(poe_kernel_call(tl.k, timed_callee, "slow", POE_NOARGS, &ret), 0);
                TL_EQ(poe_value_int(&ret), 7);
        }
        TL_EQ(poe_kernel_dispatch_stats(tl.k, &st), 0);
        TL_EQ(st.dispatched, 5);
        TL_EQ(st.timed, 3);
        TL_EQ(st.duration_buckets[4], 5);
        assert_near(st.duration_sum, 5 * 0.005);
        assert_counts_agree(&st);
        TL_EQ(poe_kernel_call(tl.k, outer, "outer", POE_NOARGS, &ret), 0);
        TL_EQ(poe_kernel_dispatch_stats(tl.k, &st), 0);
        TL_EQ(st.dispatched, 8);
        TL_EQ(st.timed, 6);
        TL_EQ(st.duration_buckets[4], 7);
        TL_EQ(st.duration_buckets[5], 1);
        assert_near(st.duration_sum, 7 * 0.005 + 0.015);
        assert_counts_agree(&st);
        TL_EQ(poe_kernel_set_dispatch_timing(tl.k, 0), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* Queue waits and timer lag on the fake clock: "busy" takes 0.3 s, so
 * the event it yields first waits 0.3 s (the 0.5 s bucket) and the timer
 * due at 0.1 s fires 0.2 s late (the 0.25 s bucket); a timer set for a
 * time long past is on time. */
static poe_value lag_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_delay_set(k, "tick", 0.1, POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_alarm_set(k, "past", poe_kernel_time(k) - 100, POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_yield(k, "busy", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value lag_busy(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "after", POE_NOARGS), 0);
        TL_EQ(poe_kernel_clock_advance(poe_ctx_kernel(c), 0.3), 0);
        return poe_nil();
}

static void test_queue_wait_and_timer_lag(void **state)
{
        poe_dispatch_stats st;
        uint64_t n = 0;
        int i;

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, 1000000), 0);
        TL_CREATE(tl.k, {"_start", lag_start}, {"busy", lag_busy}, {"after", tl_h_nop},
                  {"tick", tl_h_nop}, {"past", tl_h_nop});
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_dispatch_stats(tl.k, &st), 0);
        TL_EQ(st.timers_fired, 2);
        TL_EQ(st.lag_buckets[0], 1);
        TL_EQ(st.lag_buckets[7], 1);
        assert_near(st.lag_sum, 0.2);
        assert_near(st.lag_le[7], 0.25);
        TL_EQ(st.lag_le[POE_LAG_BUCKETS - 1], -1);
        TL_EQ(st.wait_buckets[8], 1);
        TL_EQ(st.wait_buckets[0], st.waited - 1);
        assert_near(st.wait_sum, 0.3);
        for (i = 0; i < POE_LAG_BUCKETS; i++)
                n += st.wait_buckets[i];
        TL_EQ(n, st.waited);
        TL_EQ(st.by_kind[POE_DISPATCH_ALARM], 2);
        /* No dispatch was timed: no duration histogram yet. */
        TL_EQ(st.timed, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_fifo_order),
                TL_TEST(test_many_posts_keep_order),
                TL_TEST(test_yield),
                TL_TEST(test_call_returns_value),
                TL_TEST(test_call_nested),
                TL_TEST(test_call_to_self_keeps_active_event),
                TL_TEST(test_esrch),
                TL_TEST(test_einval),
                TL_TEST(test_default),
                TL_TEST(test_caller_and_sender),
                TL_TEST(test_senders),
                TL_TEST(test_event_count_and_active),
                TL_TEST(test_event_name_buffer_reused),
                TL_TEST(test_event_with_many_arguments),
                TL_TEST(test_call_lets_go_of_its_arguments),
                TL_TEST(test_dispatch_timing_samples),
                TL_TEST(test_dispatch_timing_of_calls),
                TL_TEST(test_queue_wait_and_timer_lag),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
