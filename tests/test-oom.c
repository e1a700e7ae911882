/*
 * Out of memory.  Each operation is run with its Nth allocation failing,
 * for N = 1, 2, ... until it succeeds with no failure injected, once
 * failing only the Nth allocation and once failing the Nth and every one
 * after it.  Every failure must return -ENOMEM and change nothing that
 * can be seen: no session, event, alias, tag, handler or watcher
 * appears, no handler runs, pointer arguments are destroyed exactly once
 * (they are stolen even on failure), the internal books balance, the
 * kernel then runs to completion, and after poe_kernel_free nothing is
 * left allocated.  Every success must have its full effect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"
#include "aliases.h"
#include "sessions.h"

/* The injection for the current round. */
static unsigned long oom_n;
static bool oom_rest;

static void arm(void)
{
        tl_alloc_fail_nth(&tl.alloc, oom_n, oom_rest);
        tl.alloc.failures = 0;
}

static unsigned long disarm(void)
{
        unsigned long failures = tl.alloc.failures;

        tl_alloc_disarm(&tl.alloc);
        return failures;
}

static int destroyed;
static int handled;

typedef struct oom_case {
        /* Builds the world the operation runs in (nothing fails here). */
        void (*prepare)(void);
        /* Runs the operation, calling arm() and disarm() around exactly
         * the call under test, and returns its result. */
        int (*op)(void);
        /* Checks the world after a failure, then after a success. */
        void (*failed)(void);
        void (*done)(void);
} oom_case;

static void run_case(const oom_case *oc)
{
        int mode;

        for (mode = 0; mode < 2; mode++) {
                unsigned long n;

                oom_rest = mode == 1;
                for (n = 1;; n++) {
                        unsigned long failures;
                        int r;

                        if (n > 500)
                                fail_msg("the operation never succeeded");
                        assert_int_equal(tl_setup(NULL), 0);
                        destroyed = handled = 0;
                        oom_n = n;
                        if (oc->prepare)
                                oc->prepare();
                        tl_check_kernel(tl.k);
                        tl_transcript_clear();
                        r = oc->op();
                        failures = tl.alloc.failures;
                        tl_alloc_disarm(&tl.alloc);
                        if (r != 0 && r != -ENOMEM)
                                fail_msg("allocation %lu (%s) failing gave %d, not -ENOMEM", n,
                                         oom_rest ? "and after" : "alone", r);
                        if (r == -ENOMEM && failures == 0)
                                fail_msg("-ENOMEM without a failed allocation (n=%lu)", n);
                        tl_check_kernel(tl.k);
                        if (r == 0)
                                oc->done();
                        else
                                oc->failed();
                        tl_check_kernel(tl.k);
                        TL_EQ(poe_kernel_run(tl.k), 0);
                        TL_EQ(tl_session_count(tl.k), 0);
                        tl_kernel_free_checked();
                        if (r == 0 && failures == 0)
                                break;
                }
                if (getenv("TL_VERBOSE"))
                        print_message("%s: %lu allocations\n", oom_rest ? "rest" : "nth", n - 1);
                /* Something must have been allocated, or the loop tested
                 * nothing. */
                assert_true(n > 1);
        }
}

/* ---- poe_kernel_new ---- */

static void test_kernel_new(void **state)
{
        unsigned long n;
        int mode;

        (void)state;
        for (mode = 0; mode < 2; mode++) {
                for (n = 1;; n++) {
                        tl_alloc a;
                        poe_allocator al = tl_allocator(&a);
                        poe_kernel *k = NULL;
                        int r;

                        tl_alloc_init(&a);
                        tl_alloc_fail_nth(&a, n, mode == 1);
                        r = poe_kernel_new(&k, &al);
                        if (r == 0) {
                                assert_non_null(k);
                                /* A kernel made under pressure works. */
                                tl_alloc_disarm(&a);
                                TL_EQ(TL_CREATE(k, { "_start", tl_h_nop }), 1);
                                TL_EQ(poe_kernel_run(k), 0);
                                poe_kernel_free(k);
                                TL_EQ(tl_alloc_release(&a), 0);
                                TL_EQ(a.live_blocks, 0);
                                if (a.failures == 0)
                                        break;
                                continue;
                        }
                        TL_EQ(r, -ENOMEM);
                        assert_null(k);
                        TL_EQ(tl_alloc_release(&a), 0);
                        TL_EQ(a.live_blocks, 0);
                        TL_EQ(a.live_bytes, 0);
                        assert_true(n < 500);
                }
                assert_true(n > 2);
        }
}

/* ---- create ---- */

static char handler_names[20][16];

static poe_value on_start_log(poe_ctx *c)
{
        tl_log_ctx(c);
        TL_EQ(destroyed, 0);
        return poe_str("started");
}

static int do_create(void)
{
        poe_handler h[20];
        poe_value inner[2] = { poe_str("in"), poe_int(2) };
        poe_value args[10];
        poe_option opts[3] = {
                { "trace", { .type = POE_T_INT } },
                { "colour", { .type = POE_T_STR, .len = 4, .u.s = "blue" } },
                { "Default", { .type = POE_T_STR, .len = 2, .u.s = "no" } },
        };
        poe_session_spec spec;
        poe_sid sid = 99;
        size_t i;
        int r;

        for (i = 0; i < 20; i++) {
                snprintf(handler_names[i], sizeof(handler_names[i]), "handler%zu", i);
                h[i].event = handler_names[i];
                h[i].fn = tl_h_log;
                h[i].object = NULL;
        }
        h[0].event = "_start";
        h[0].fn = on_start_log;
        h[1].event = "_stop";
        for (i = 0; i < 10; i++)
                args[i] = poe_int((int64_t)i);
        args[1] = poe_str("two");
        args[2] = poe_list(inner, 2);
        args[9] = poe_ptr(&destroyed, tl_count_destroy);
        spec = tl_spec(h, 20, &handled);
        spec.args = args;
        spec.n_args = 10;
        spec.options = opts;
        spec.n_options = 3;
        arm();
        r = poe_session_create(tl.k, &spec, &sid);
        disarm();
        if (r < 0)
                TL_EQ(sid, 99);
        return r;
}

static void create_failed(void)
{
        /* Nothing was created and nothing was dispatched. */
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        assert_string_equal(tl_transcript(), "");
        TL_EQ(destroyed, 1);
        /* The id was not used up. */
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_nop }), 1);
}

static void create_done(void)
{
        poe_value v;

        TL_EQ(tl_session_count(tl.k), 1);
        assert_true(strncmp(tl_transcript(), "1 _start 0 two [in 2] 3 4 5 6 7 8 PTR(", 38) == 0);
        tl_transcript_clear();
        TL_EQ(destroyed, 1);
        assert_ptr_equal(poe_session_get_heap(tl.k, 1), &handled);
        TL_EQ(poe_session_option_get(tl.k, 1, "colour", &v), 0);
        assert_string_equal(poe_value_str(&v), "blue");
        TL_EQ(poe_kernel_call(tl.k, 1, "handler19", POE_NOARGS, NULL), 0);
        TL_EXPECT("1 handler19");
}

static void test_create(void **state)
{
        const oom_case oc = { NULL, do_create, create_failed, create_done };

        (void)state;
        run_case(&oc);
}

/* After run() returned, create must remake the kernel's own session. */
static void prepare_finished_kernel(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_nop }), 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static int do_create_simple(void)
{
        poe_session_spec spec = TL_SPEC({ "_start", tl_h_log }, { "_stop", tl_h_log });
        int r;

        arm();
        r = poe_session_create(tl.k, &spec, NULL);
        disarm();
        return r;
}

static void create_again_failed(void)
{
        TL_EQ(tl_session_count(tl.k), 0);
        assert_string_equal(tl_transcript(), "");
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_nop }), 2);
}

static void create_again_done(void)
{
        TL_EXPECT("2 _start");
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("2 _stop");
}

static void test_create_after_run(void **state)
{
        const oom_case oc = { prepare_finished_kernel, do_create_simple, create_again_failed,
                              create_again_done };

        (void)state;
        run_case(&oc);
}

/* A child made inside a handler: the parent hears _child create only
 * on success. */
static int child_r;

static poe_value on_make_child(poe_ctx *c)
{
        poe_session_spec spec = TL_SPEC({ "_start", tl_h_log }, { "_stop", tl_h_nop });

        arm();
        child_r = poe_session_create(poe_ctx_kernel(c), &spec, NULL);
        disarm();
        return poe_nil();
}

static poe_value on_start_parent(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "parent"), 0);
        return poe_nil();
}

static void prepare_parent(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_parent }, { "make", on_make_child },
                        { "_child", tl_h_log }, { "_stop", tl_h_nop }),
              1);
}

static int do_create_child(void)
{
        TL_EQ(poe_kernel_call(tl.k, 1, "make", POE_NOARGS, NULL), 0);
        return child_r;
}

static void create_child_failed(void)
{
        assert_string_equal(tl_transcript(), "");
        TL_EQ(tl_session_count(tl.k), 1);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_CHILDREN), 0);
}

static void create_child_done(void)
{
        TL_EXPECT("2 _start", "1 _child create 2 undef");
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_CHILDREN), 1);
}

static void test_create_child(void **state)
{
        const oom_case oc = { prepare_parent, do_create_child, create_child_failed,
                              create_child_done };

        (void)state;
        run_case(&oc);
}

/* ---- post, post_alias, call, signal from outside ---- */

static poe_value on_start_target(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "target"), 0);
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "USR1", "fresh_event", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_fresh(poe_ctx *c)
{
        tl_log_ctx(c);
        handled++;
        TL_EQ(destroyed, 0);
        return poe_int(5);
}

static void prepare_target(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_target }, { "fresh_event", on_fresh },
                        { "_default", on_fresh }, { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1); /* its GC event */
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
}

static poe_value list_items[3];

static int do_post(void)
{
        int r;

        list_items[0] = poe_str("x");
        list_items[1] = poe_int(1);
        list_items[2] = poe_str("y");
        arm();
        /* An event name the kernel has never seen must be interned. */
        r = poe_kernel_post(tl.k, 1, "new-post-event",
                            POE_ARGS(poe_str("s"), poe_list(list_items, 3),
                                     poe_ptr(&destroyed, tl_count_destroy)));
        disarm();
        return r;
}

static int do_post_alias(void)
{
        int r;

        arm();
        r = poe_kernel_post_alias(tl.k, "target", "fresh_event",
                                  POE_ARGS(poe_str("s"), poe_ptr(&destroyed, tl_count_destroy)));
        disarm();
        return r;
}

static void post_failed(void)
{
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(destroyed, 1);
        TL_EQ(tl_refcnt(tl.k, 1), 1); /* the alias alone */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(handled, 0);
}

static void post_done(void)
{
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(destroyed, 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(handled, 1);
        TL_EQ(destroyed, 1);
        tl_transcript_clear();
}

static void test_post(void **state)
{
        const oom_case oc = { prepare_target, do_post, post_failed, post_done };

        (void)state;
        run_case(&oc);
}

static void test_post_alias(void **state)
{
        const oom_case oc = { prepare_target, do_post_alias, post_failed, post_done };

        (void)state;
        run_case(&oc);
}

static poe_value call_ret;

static int do_call(void)
{
        int r;

        call_ret = poe_nil();
        arm();
        /* More than eight arguments need a copy on the heap. */
        r = poe_kernel_call(tl.k, 1, "new-call-event",
                            POE_ARGS(poe_int(0), poe_int(1), poe_int(2), poe_int(3), poe_int(4),
                                     poe_int(5), poe_int(6), poe_int(7), poe_int(8),
                                     poe_ptr(&destroyed, tl_count_destroy)),
                            &call_ret);
        disarm();
        return r;
}

static void call_failed(void)
{
        TL_EQ(handled, 0);
        TL_EQ(destroyed, 1);
        TL_EQ(call_ret.type, POE_T_NIL);
}

static void call_done(void)
{
        TL_EQ(handled, 1);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_value_int(&call_ret), 5);
        tl_transcript_clear();
}

static void test_call(void **state)
{
        const oom_case oc = { prepare_target, do_call, call_failed, call_done };

        (void)state;
        run_case(&oc);
}

static int do_signal(void)
{
        int r;

        arm();
        r = poe_kernel_signal(tl.k, 1, "USR1",
                              POE_ARGS(poe_str("arg"), poe_ptr(&destroyed, tl_count_destroy)));
        disarm();
        return r;
}

static void signal_done(void)
{
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(handled, 1);
        TL_EQ(destroyed, 1);
        assert_non_null(strstr(tl_transcript(), "1 fresh_event USR1 arg PTR"));
        tl_transcript_clear();
}

static void test_signal(void **state)
{
        const oom_case oc = { prepare_target, do_signal, post_failed, signal_done };

        (void)state;
        run_case(&oc);
}

/* ---- refcount_increment ---- */

static bool refcount_bare; /* the function without a place, not the macro */

static int do_refcount(void)
{
        int r;

        arm();
        r = refcount_bare ? (poe_kernel_refcount_increment)(tl.k, 1, "a-new-tag")
                          : poe_kernel_refcount_increment(tl.k, 1, "a-new-tag");
        disarm();
        return r == 1 ? 0 : r;
}

static void refcount_failed(void)
{
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_EXTREFS), 0);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "a-new-tag"), -ENOENT);
        /* Not counted as held by an extra reference: the kernel can
         * still go idle. */
        TL_EQ(tl.k->n_extref_sessions, 0);
}

static void refcount_done(void)
{
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_EXTREFS), 1);
        TL_EQ(poe_kernel_refcount_increment(tl.k, 1, "a-new-tag"), 2);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "a-new-tag"), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "a-new-tag"), 0);
}

static void test_refcount_increment(void **state)
{
        const oom_case oc = { prepare_target, do_refcount, refcount_failed, refcount_done };

        (void)state;
        refcount_bare = false;
        run_case(&oc);
}

static void test_refcount_increment_bare(void **state)
{
        const oom_case oc = { prepare_target, do_refcount, refcount_failed, refcount_done };

        (void)state;
        refcount_bare = true;
        run_case(&oc);
}

/* ---- option_set ---- */

static int do_option(void)
{
        int r;

        arm();
        r = poe_session_option_set(tl.k, 1, "a-new-option", poe_str("a value"), NULL);
        disarm();
        return r;
}

static void option_failed(void)
{
        poe_value v;

        TL_EQ(poe_session_option_get(tl.k, 1, "a-new-option", &v), 0);
        TL_EQ(v.type, POE_T_NIL);
}

static void option_done(void)
{
        poe_value v;

        TL_EQ(poe_session_option_get(tl.k, 1, "a-new-option", &v), 0);
        assert_string_equal(poe_value_str(&v), "a value");
}

static void test_option_set(void **state)
{
        const oom_case oc = { prepare_target, do_option, option_failed, option_done };

        (void)state;
        run_case(&oc);
}

/* ---- inside handlers: yield, alias_set, state, sig ---- */

static int inside_r;

static poe_value on_yield_op(poe_ctx *c)
{
        arm();
        inside_r = poe_kernel_yield(poe_ctx_kernel(c), "new-yield-event",
                                    POE_ARGS(poe_str("y"), poe_ptr(&destroyed, tl_count_destroy)));
        disarm();
        return poe_nil();
}

static poe_value on_alias_op(poe_ctx *c)
{
        arm();
        inside_r = poe_kernel_alias_set(poe_ctx_kernel(c), "a-new-alias");
        disarm();
        return poe_nil();
}

static poe_value on_state_op(poe_ctx *c)
{
        char name[24];
        int i;

        /* Fill the table to the edge of growing, so adding one more
         * needs a new table as well as a new name. */
        for (i = 0; poe__session_get(tl.k, 1)->handlers->count + 1 <=
                    (poe__session_get(tl.k, 1)->handlers->mask + 1) * 3 / 4;
             i++) {
                snprintf(name, sizeof(name), "filler%d", i);
                TL_EQ(poe_kernel_state(poe_ctx_kernel(c), name, tl_h_nop, NULL), 0);
        }
        arm();
        inside_r = poe_kernel_state(poe_ctx_kernel(c), "a-new-state", on_fresh, NULL);
        disarm();
        return poe_nil();
}

static poe_value on_sig_op(poe_ctx *c)
{
        arm();
        inside_r = poe_kernel_sig(poe_ctx_kernel(c), "A-NEW-SIGNAL", "fresh_event",
                                  POE_ARGS(poe_str("w")));
        disarm();
        return poe_nil();
}

static poe_value on_start_inside(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "target"), 0);
        return poe_nil();
}

static void prepare_inside(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_inside }, { "fresh_event", on_fresh },
                        { "_default", on_fresh },
                        { "yield_op", on_yield_op }, { "alias_op", on_alias_op },
                        { "state_op", on_state_op }, { "sig_op", on_sig_op },
                        { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        inside_r = 12345;
}

static int call_inside(const char *op)
{
        TL_EQ(poe_kernel_call(tl.k, 1, op, POE_NOARGS, NULL), 0);
        assert_true(inside_r != 12345);
        return inside_r;
}

static int do_yield(void)
{
        return call_inside("yield_op");
}

static int do_alias(void)
{
        return call_inside("alias_op");
}

static int do_state(void)
{
        return call_inside("state_op");
}

static int do_sig(void)
{
        return call_inside("sig_op");
}

static void alias_failed(void)
{
        poe_sid sid;

        TL_EQ(poe_kernel_alias_resolve(tl.k, "a-new-alias", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_list(tl.k, 1, NULL, 0), 1);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_ALIASES), 1);
}

static void alias_done(void)
{
        poe_sid sid = 0;

        TL_EQ(poe_kernel_alias_resolve(tl.k, "a-new-alias", &sid), 0);
        TL_EQ(sid, 1);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_ALIASES), 2);
}

static void test_alias_set(void **state)
{
        const oom_case oc = { prepare_inside, do_alias, alias_failed, alias_done };

        (void)state;
        run_case(&oc);
}

static void test_yield(void **state)
{
        const oom_case oc = { prepare_inside, do_yield, post_failed, post_done };

        (void)state;
        run_case(&oc);
}

static void state_failed(void)
{
        poe_value ret;

        /* No handler: the event goes to _default. */
        TL_EQ(poe_kernel_call(tl.k, 1, "a-new-state", POE_NOARGS, &ret), 0);
        TL_EXPECT("1 _default a-new-state []");
        /* The handlers that were there are all still found. */
        TL_EQ(poe_kernel_call(tl.k, 1, "fresh_event", POE_NOARGS, &ret), 0);
        TL_EXPECT("1 fresh_event");
        TL_EQ(handled, 2);
}

static void state_done(void)
{
        poe_value ret;

        TL_EQ(poe_kernel_call(tl.k, 1, "a-new-state", POE_NOARGS, &ret), 0);
        TL_EQ(poe_value_int(&ret), 5);
        TL_EXPECT("1 a-new-state");
        TL_EQ(poe_kernel_call(tl.k, 1, "fresh_event", POE_NOARGS, &ret), 0);
        TL_EXPECT("1 fresh_event");
        TL_EQ(handled, 2);
}

static void test_state(void **state)
{
        const oom_case oc = { prepare_inside, do_state, state_failed, state_done };

        (void)state;
        run_case(&oc);
}

/*
 * Two sessions made from one list of handlers share one table: a handler
 * that one of them adds at run time goes into a copy made for it first,
 * whose allocation fails like any other, and the other session never
 * sees the change.
 */
static poe_value on_start_named(poe_ctx *c)
{
        char name[32];

        snprintf(name, sizeof(name), "named%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), name), 0);
        return poe_nil();
}

static poe_value on_state_shared_op(poe_ctx *c)
{
        arm();
        inside_r = poe_kernel_state(poe_ctx_kernel(c), "a-new-state", on_fresh, NULL);
        disarm();
        return poe_nil();
}

static void prepare_shared(void)
{
        poe_sid i;

        for (i = 1; i <= 2; i++)
                TL_EQ(TL_CREATE(tl.k, {"_start", on_start_named}, {"fresh_event", on_fresh},
                                {"_default", on_fresh}, {"state_op", on_state_shared_op},
                                {"_stop", tl_h_nop}),
                      i);
        assert_ptr_equal(poe__session_get(tl.k, 1)->handlers, poe__session_get(tl.k, 2)->handlers);
        while (poe_kernel_get_event_count(tl.k))
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        inside_r = 12345;
}

static int do_state_shared(void)
{
        return call_inside("state_op");
}

static void state_shared_failed(void)
{
        poe_value ret;

        assert_ptr_equal(poe__session_get(tl.k, 1)->handlers, poe__session_get(tl.k, 2)->handlers);
        TL_EQ(poe_kernel_call(tl.k, 1, "a-new-state", POE_NOARGS, &ret), 0);
        TL_EQ(poe_kernel_call(tl.k, 2, "a-new-state", POE_NOARGS, &ret), 0);
        TL_EXPECT("1 _default a-new-state []", "2 _default a-new-state []");
        TL_EQ(handled, 2);
}

static void state_shared_done(void)
{
        poe_value ret;

        assert_ptr_not_equal(poe__session_get(tl.k, 1)->handlers,
                             poe__session_get(tl.k, 2)->handlers);
        TL_EQ(poe_kernel_call(tl.k, 1, "a-new-state", POE_NOARGS, &ret), 0);
        TL_EQ(poe_value_int(&ret), 5);
        TL_EQ(poe_kernel_call(tl.k, 2, "a-new-state", POE_NOARGS, &ret), 0);
        TL_EXPECT("1 a-new-state", "2 _default a-new-state []");
        TL_EQ(poe_kernel_call(tl.k, 2, "fresh_event", POE_NOARGS, &ret), 0);
        TL_EXPECT("2 fresh_event");
        TL_EQ(handled, 3);
}

static void test_state_shared(void **state)
{
        const oom_case oc = {prepare_shared, do_state_shared, state_shared_failed,
                             state_shared_done};

        (void)state;
        run_case(&oc);
}

static void sig_failed(void)
{
        TL_EQ(poe_kernel_signal(tl.k, 1, "A-NEW-SIGNAL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(handled, 0);
}

static void sig_done(void)
{
        TL_EQ(poe_kernel_signal(tl.k, 1, "A-NEW-SIGNAL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 fresh_event A-NEW-SIGNAL w");
        TL_EQ(handled, 1);
}

static void test_sig(void **state)
{
        const oom_case oc = { prepare_inside, do_sig, sig_failed, sig_done };

        (void)state;
        run_case(&oc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kernel_new),
                cmocka_unit_test(test_create),
                cmocka_unit_test(test_create_after_run),
                cmocka_unit_test(test_create_child),
                cmocka_unit_test(test_post),
                cmocka_unit_test(test_post_alias),
                cmocka_unit_test(test_call),
                cmocka_unit_test(test_signal),
                cmocka_unit_test(test_refcount_increment),
                cmocka_unit_test(test_refcount_increment_bare),
                cmocka_unit_test(test_option_set),
                cmocka_unit_test(test_yield),
                cmocka_unit_test(test_state_shared),
                cmocka_unit_test(test_alias_set),
                cmocka_unit_test(test_state),
                cmocka_unit_test(test_sig),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
