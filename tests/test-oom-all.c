/*
 * Out of memory, for every public function of poe.h.
 *
 * oom_api below classifies each function: OA_SWEPT when it can allocate
 * (through the kernel's allocator or libc), naming the test that runs
 * it with its Nth allocation failing for every N (here or in
 * test-oom.c); OA_NONE when it cannot, with the reason.
 * tests/build/check-api-coverage.py fails the build tests when a poe.h
 * function is in neither list or a swept one names no registered test,
 * and test_no_alloc checks each OA_NONE claim by calling the function
 * with every allocation failing, the kernel's and libc's, and asserting
 * that neither allocator was asked for anything.
 *
 * The sweeps follow test-oom.c: N = 1, 2, ... until the call succeeds
 * with nothing failed, failing only the Nth allocation and failing the
 * Nth and all after it.  A failure returns the documented error and
 * changes nothing that can be seen, pointer arguments are destroyed
 * exactly once, the books balance, the kernel then runs to completion
 * and nothing is left allocated; a success has its full effect.
 * Functions that allocate with libc's malloc (post_from_thread,
 * run_in_loop, postbacks, trace_file, the default kernel) are failed
 * through oom-malloc.c, which replaces malloc for this program.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#include "internal.h"
#include "debug.h"
#include "io.h"
#include "postbacks.h"
#include "sessions.h"
#include "xthread.h"
#include "oom-malloc.h"

/* ---- the classification ---- */

typedef struct oa_row {
        const char *fn;
        bool allocates;
        const char *what; /* the sweep's test, or why nothing is allocated */
} oa_row;

#define OA_SWEPT(fn, test) { #fn, true, #test },
#define OA_NONE(fn, why) { #fn, false, why },

static const oa_row oom_api[] = {
        OA_NONE(poe_version, "returns a constant")
        OA_NONE(poe_version_string, "returns a static string")
        OA_NONE(poe_nil, "constructor returning a value by copy")
        OA_NONE(poe_int, "constructor returning a value by copy")
        OA_NONE(poe_double, "constructor returning a value by copy")
        OA_NONE(poe_str, "constructor returning a value by copy; borrows the string")
        OA_NONE(poe_strn, "constructor returning a value by copy; borrows the string")
        OA_NONE(poe_ptr, "constructor returning a value by copy")
        OA_NONE(poe_session, "constructor returning a value by copy")
        OA_NONE(poe_list, "constructor returning a value by copy; borrows the items")
        OA_NONE(poe_value_release, "runs the application's destructor and clears")
        OA_NONE(poe_value_true, "reads the value")
        OA_NONE(poe_value_int, "parses the value in place")
        OA_NONE(poe_value_str, "reads the value")
        OA_NONE(poe_value_format, "snprintf into the caller's buffer")
        OA_SWEPT(poe_kernel_new, test_kernel_new)
        OA_SWEPT(poe_kernel_default, test_kernel_default)
        OA_NONE(poe_kernel_free, "frees")
        OA_NONE(poe_kernel_hook_add, "a fixed table of 8 hooks")
        OA_NONE(poe_kernel_hook_remove, "a fixed table of 8 hooks")
        OA_SWEPT(poe_kernel_run, test_run)
        OA_SWEPT(poe_kernel_run_one_timeslice, test_run_one_timeslice)
        OA_SWEPT(poe_kernel_run_while, test_run_while)
        OA_SWEPT(poe_kernel_stop, test_stop)
        OA_NONE(poe_kernel_get_active_session, "reads a field")
        OA_NONE(poe_kernel_get_active_event, "reads the interned name")
        OA_NONE(poe_kernel_get_event_count, "reads a field")
        OA_NONE(poe_kernel_id, "reads a field made by poe_kernel_new")
        OA_SWEPT(poe_session_create, test_create)
        OA_SWEPT(poe_kernel_state, test_state)
        OA_SWEPT(poe_session_option_set, test_option_set)
        OA_NONE(poe_session_option_get, "looks the option up")
        OA_NONE(poe_session_get_heap, "looks the session up")
        OA_NONE(poe_kernel_ID_id_to_session, "looks the session up")
        OA_NONE(poe_session_get_parent, "looks the session up")
        OA_NONE(poe_kernel_detach_myself, "relinks the tree; _child and _parent are called "
                                          "with arguments on the stack")
        OA_NONE(poe_kernel_detach_child, "relinks the tree; _child and _parent are called "
                                         "with arguments on the stack")
        OA_SWEPT(poe_kernel_post_at, test_post)
        OA_SWEPT(poe_kernel_post_alias_at, test_post_alias)
        OA_SWEPT(poe_kernel_yield_at, test_yield)
        OA_SWEPT(poe_kernel_call_at, test_call)
        OA_SWEPT(poe_kernel_call_alias_at, test_call_alias)
        OA_NONE(poe_kernel_time, "reads the clock")
        OA_NONE(poe_kernel_clock_fake, "sets fields")
        OA_NONE(poe_kernel_clock_advance, "sets fields")
        OA_SWEPT(poe_kernel_alarm_at, test_alarm)
        OA_SWEPT(poe_kernel_alarm_add_at, test_alarm_add)
        OA_SWEPT(poe_kernel_delay_at, test_delay)
        OA_SWEPT(poe_kernel_delay_add_at, test_delay_add)
        OA_SWEPT(poe_kernel_alarm_set_at, test_alarm_set)
        OA_SWEPT(poe_kernel_delay_set_at, test_delay_set)
        OA_NONE(poe_kernel_alarm_adjust, "moves the timer within the heap")
        OA_NONE(poe_kernel_delay_adjust, "moves the timer within the heap")
        OA_NONE(poe_kernel_alarm_remove, "dequeues the timer and parks it")
        OA_SWEPT(poe_kernel_alarm_remove_all, test_alarm_remove_all)
        OA_NONE(poe_kernel_get_next_event_time, "reads the queue's head")
        OA_SWEPT(poe_kernel_select_read, test_select_read)
        OA_SWEPT(poe_kernel_select_write, test_select_write)
        OA_SWEPT(poe_kernel_select_expedite, test_select_expedite)
        OA_SWEPT(poe_kernel_select, test_select)
        OA_NONE(poe_kernel_select_pause_read, "takes the fd out of the backend's set")
        OA_SWEPT(poe_kernel_select_resume_read, test_select_resume_read)
        OA_NONE(poe_kernel_select_pause_write, "takes the fd out of the backend's set")
        OA_SWEPT(poe_kernel_select_resume_write, test_select_resume_write)
        OA_NONE(poe_kernel_loop_name, "reads a field")
        OA_SWEPT(poe_kernel_post_from_thread, test_post_from_thread)
        OA_SWEPT(poe_kernel_run_in_loop, test_run_in_loop)
        OA_SWEPT(poe_kernel_get_fd, test_run_host_loop)
        OA_SWEPT(poe_kernel_prepare, test_run_host_loop)
        OA_SWEPT(poe_kernel_dispatch, test_run_host_loop)
        OA_NONE(poe_kernel_owned_loop, "reads a field")
        OA_NONE(poe_kernel_activity_get, "atomic loads")
        OA_SWEPT(poe_kernel_alias_set, test_alias_set)
        OA_NONE(poe_kernel_alias_remove, "unlinks and frees")
        OA_NONE(poe_kernel_alias_resolve, "looks the alias up, parses digits in place")
        OA_NONE(poe_kernel_alias_list, "writes borrowed pointers into the caller's array")
        OA_SWEPT(poe_kernel_refcount_increment_at, test_refcount_increment)
        OA_SWEPT(poe_kernel_refcount_increment, test_refcount_increment_bare)
        OA_NONE(poe_kernel_refcount_decrement, "counts down and frees")
        OA_SWEPT(poe_kernel_sig, test_sig)
        OA_NONE(poe_kernel_sig_handled, "sets a flag")
        OA_SWEPT(poe_kernel_signal_at, test_signal)
        OA_SWEPT(poe_kernel_sig_child, test_sig_child)
        OA_SWEPT(poe_kernel_has_forked, test_has_forked)
        OA_SWEPT(poe_nfa_spawn, test_nfa_spawn)
        OA_SWEPT(poe_nfa_goto_state, test_nfa_transitions)
        OA_SWEPT(poe_nfa_call_state, test_nfa_transitions)
        OA_SWEPT(poe_nfa_return_state, test_nfa_transitions)
        OA_SWEPT(poe_nfa_stop, test_nfa_transitions)
        OA_NONE(poe_nfa_get_current_state, "reads the machine")
        OA_NONE(poe_nfa_get_runstate, "reads the machine")
        OA_NONE(poe_nfa_ctx_state, "reads the context")
        OA_SWEPT(poe_session_postback_at, test_postback)
        OA_SWEPT(poe_session_callback_at, test_callback)
        OA_SWEPT(poe_session_postback, test_postback_bare)
        OA_SWEPT(poe_session_callback, test_callback_bare)
        OA_SWEPT(poe_postback_invoke, test_postback_invoke)
        OA_NONE(poe_postback_weaken, "drops a count")
        OA_NONE(poe_postback_free, "frees")
        OA_NONE(poe_postback_session, "reads a field")
        OA_SWEPT(poe_die_at, test_die)
        OA_NONE(poe_value_exception, "reads the value's list into the caller's struct")
        OA_NONE(poe_kernel_exception, "reads a field")
        OA_NONE(poe_kernel_set_dispatch_timing, "sets a flag")
        OA_NONE(poe_kernel_set_slow_dispatch, "sets a field")
        OA_NONE(poe_kernel_dispatch_stats, "copies counters")
        OA_NONE(poe_debug_compiled, "returns a constant")
        OA_NONE(poe_debug_group_name, "reads a static table")
        OA_NONE(poe_debug_group_parse, "reads a static table")
        OA_NONE(poe_kernel_debug_get, "reads a field")
        OA_NONE(poe_kernel_debug_set, "sets bits")
        OA_SWEPT(poe_kernel_trace_file, test_trace_file)
        OA_NONE(poe_debug_group_prefix, "reads a static table")
        OA_NONE(poe_trace_format, "formats into the caller's buffer")
        OA_NONE(poe_kernel_trace_lookup, "reads the name table, or formats into the kernel's")
        OA_NONE(poe_kernel_trace_format, "formats into the caller's buffer")
        OA_NONE(poe_trace_kind_name, "reads a static table")
        OA_NONE(poe_trace_kind_parse, "reads a static table")
        OA_NONE(poe_kernel_trace_sink_add, "a slot in a fixed array of 8")
        OA_NONE(poe_kernel_trace_sink_add_slots, "a slot in a fixed array of 8")
        OA_NONE(poe_kernel_trace_sink_groups, "sets bits")
        OA_NONE(poe_kernel_trace_sink_remove, "clears a slot")
        OA_NONE(poe_kernel_set_heap_describer, "sets fields")
        OA_NONE(poe_reason_name, "reads a static table")
        OA_NONE(poe_peek_kernel, "fills the caller's struct")
        OA_NONE(poe_peek_session, "fills the caller's struct")
        OA_NONE(poe_peek_sessions, "walks the tree through its parent links")
        OA_NONE(poe_peek_handlers, "walks the handler table")
        OA_NONE(poe_peek_reasons, "walks the session's lists, the queue or the timer heap")
        OA_NONE(poe_peek_postbacks, "walks the kernel's list of postbacks")
        OA_SWEPT(poe_peek_queue, test_peek_queue)
        OA_SWEPT(poe_peek_timers, test_peek_timers)
        OA_NONE(poe_peek_watchers, "walks the fd table")
        OA_NONE(poe_peek_signals, "walks the watcher lists")
        OA_NONE(poe_ctx_kernel, "reads the context")
        OA_NONE(poe_ctx_session, "reads the context")
        OA_NONE(poe_ctx_heap, "reads the context")
        OA_NONE(poe_ctx_state, "reads the context")
        OA_NONE(poe_ctx_sender, "reads the context")
        OA_NONE(poe_ctx_object, "reads the context")
        OA_NONE(poe_ctx_caller_file, "reads the context")
        OA_NONE(poe_ctx_caller_line, "reads the context")
        OA_NONE(poe_ctx_caller_state, "reads the context")
        OA_NONE(poe_ctx_argc, "reads the context")
        OA_NONE(poe_ctx_arg, "reads the context")
        OA_NONE(poe_ctx_take_arg, "reads the context and clears a destructor")
};

#define N_API (sizeof(oom_api) / sizeof(oom_api[0]))

/* ---- the sweep ---- */

enum { INJ_KERNEL, INJ_LIBC };

static int inject;
static unsigned long oom_n;
static bool oom_rest;
static unsigned long last_failures; /* failures injected in the last armed call */

static void arm(void)
{
        if (inject == INJ_LIBC) {
                om_arm(oom_n, oom_rest, false);
                return;
        }
        tl_alloc_fail_nth(&tl.alloc, oom_n, oom_rest);
        tl.alloc.failures = 0;
}

static void disarm(void)
{
        if (inject == INJ_LIBC) {
                last_failures = om_disarm();
                return;
        }
        last_failures = tl.alloc.failures;
        tl_alloc_disarm(&tl.alloc);
}

static int destroyed;
static int handled;

typedef struct oom_case {
        int inject;
        /* Builds the world the operation runs in (nothing fails here). */
        void (*prepare)(void);
        /* Runs the operation, calling arm() and disarm() around exactly
         * the call under test; returns 0 for success or its error. */
        int (*op)(void);
        /* Checks the world after a failure, then after a success. */
        void (*failed)(void);
        void (*done)(void);
        /* The error a failure returns (-ENOMEM when 0). */
        int error;
        /* Cleans up what the kernel does not own (fds, postbacks). */
        void (*cleanup)(void);
} oom_case;

static void run_case(const oom_case *oc)
{
        int mode, error = oc->error ? oc->error : -ENOMEM;

        inject = oc->inject;
        if (inject == INJ_LIBC && !om_active())
                fail_msg("oom-malloc does not see this program's allocations");
        for (mode = 0; mode < 2; mode++) {
                unsigned long n;

                oom_rest = mode == 1;
                for (n = 1;; n++) {
                        long live = om_live();
                        int r;

                        if (n > 500)
                                fail_msg("the operation never succeeded");
                        assert_int_equal(tl_setup(NULL), 0);
                        destroyed = handled = 0;
                        last_failures = 0;
                        oom_n = n;
                        if (oc->prepare)
                                oc->prepare();
                        tl_check_kernel(tl.k);
                        tl_transcript_clear();
                        r = oc->op();
                        if (r != 0 && r != error)
                                fail_msg("allocation %lu (%s) failing gave %d, not %d", n,
                                         oom_rest ? "and after" : "alone", r, error);
                        if (r != 0 && last_failures == 0)
                                fail_msg("%d without a failed allocation (n=%lu)", r, n);
                        tl_check_kernel(tl.k);
                        if (r == 0)
                                oc->done();
                        else
                                oc->failed();
                        tl_check_kernel(tl.k);
                        TL_EQ(poe_kernel_run(tl.k), 0);
                        TL_EQ(tl_session_count(tl.k), 0);
                        if (oc->cleanup)
                                oc->cleanup();
                        tl_kernel_free_checked();
                        /* Blocks libc handed out (postbacks, thread posts,
                         * FILEs) are all back too.  (Only counted for those:
                         * libc keeps a few blocks of its own from a first
                         * use, stderr's lock or a locale, forever.) */
                        if (inject == INJ_LIBC && om_live_exact())
                                TL_EQ(om_live(), live);
                        if (r == 0 && last_failures == 0)
                                break;
                }
                if (getenv("TL_VERBOSE"))
                        print_message("%s: %lu allocations\n", oom_rest ? "rest" : "nth", n - 1);
                assert_true(n > 1);
        }
}

/* The transcript starts with prefix; then it is cleared. */
static void expect_start(const char *prefix)
{
        if (strncmp(tl_transcript(), prefix, strlen(prefix)) != 0)
                fail_msg("transcript \"%s\" does not start with \"%s\"", tl_transcript(), prefix);
        tl_transcript_clear();
}

/* ---- a session that runs the operation inside a handler ---- */

static int (*inside_op)(poe_ctx *c);
static int inside_r;

static poe_value on_op(poe_ctx *c)
{
        inside_r = inside_op(c);
        return poe_nil();
}

static poe_value on_fresh(poe_ctx *c)
{
        tl_log_ctx(c);
        handled++;
        return poe_int(5);
}

static poe_value on_start_target(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "target"), 0);
        return poe_nil();
}

static poe_value on_unalias(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "target"), 0);
        return poe_nil();
}

/* Session 1, alias "target", with a handler "op" that runs inside_op. */
static void prepare_target(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_target }, { "fresh_event", on_fresh },
                        { "_default", on_fresh }, { "op", on_op }, { "unalias", on_unalias },
                        { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1); /* its GC event */
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        inside_r = 12345;
}

/* Lets session 1 go, if an IDLE signal has not stopped it already. */
static void unalias(void)
{
        if (poe_kernel_ID_id_to_session(tl.k, 1) == 0)
                TL_EQ(poe_kernel_call(tl.k, 1, "unalias", POE_NOARGS, NULL), 0);
}

static int call_op(void)
{
        TL_EQ(poe_kernel_call(tl.k, 1, "op", POE_NOARGS, NULL), 0);
        assert_true(inside_r != 12345);
        return inside_r;
}

static int count_cb(void *ctx, const void *item)
{
        (void)item;
        ++*(int *)ctx;
        return 0;
}

static int queue_length(void)
{
        int n = 0;

        TL_EQ(poe_peek_queue(tl.k, (int (*)(void *, const poe_peek_event *))count_cb, &n), 0);
        return n;
}

static int watcher_count(void)
{
        int n = 0;

        TL_EQ(poe_peek_watchers(tl.k, (int (*)(void *, const poe_peek_watcher *))count_cb, &n),
              0);
        return n;
}

/* ---- call_alias ---- */

static poe_value call_ret;

static int do_call_alias(void)
{
        int r;

        call_ret = poe_nil();
        arm();
        /* More than eight arguments need a copy on the heap. */
        r = poe_kernel_call_alias(tl.k, "target", "new-call-event",
                                  POE_ARGS(poe_int(0), poe_int(1), poe_int(2), poe_int(3),
                                           poe_int(4), poe_int(5), poe_int(6), poe_int(7),
                                           poe_int(8), poe_ptr(&destroyed, tl_count_destroy)),
                                  &call_ret);
        disarm();
        return r;
}

static void call_failed(void)
{
        TL_EQ(handled, 0);
        TL_EQ(destroyed, 1);
        TL_EQ(call_ret.type, POE_T_NIL);
        unalias();
}

static void call_done(void)
{
        TL_EQ(handled, 1);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_value_int(&call_ret), 5);
        assert_non_null(strstr(tl_transcript(), "1 _default new-call-event [0 1 2 3 4 5 6 7 8 PTR("));
        tl_transcript_clear();
        unalias();
}

static void test_call_alias(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_target, do_call_alias, call_failed,
                              call_done, 0, NULL };

        (void)state;
        run_case(&oc);
}

/* ---- the six timer setters ---- */

/*
 * Session 1 already has a timer named "tick" (id 1 after the GC event's
 * id); each setter adds another "tick".  alarm and delay clear the old
 * one first, but only on success: a failed call leaves it in place.
 */
enum { T_ALARM, T_ALARM_ADD, T_DELAY, T_DELAY_ADD, T_ALARM_SET, T_DELAY_SET };

static int timer_kind;
static poe_alarm_id timer_id;

static int op_timer(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        double now = poe_kernel_time(k);
        poe_alarm_id id = 0;
        int r = 0;

        arm();
        /* An event name the kernel has never seen must be interned. */
#define TARGS POE_ARGS(poe_str("t"), poe_ptr(&destroyed, tl_count_destroy))
        switch (timer_kind) {
        case T_ALARM:
                r = poe_kernel_alarm(k, "tick", now + 20, TARGS);
                break;
        case T_ALARM_ADD:
                r = poe_kernel_alarm_add(k, "tick", now + 20, TARGS);
                break;
        case T_DELAY:
                r = poe_kernel_delay(k, "tick", 20, TARGS);
                break;
        case T_DELAY_ADD:
                r = poe_kernel_delay_add(k, "tick", 20, TARGS);
                break;
        case T_ALARM_SET:
                r = poe_kernel_alarm_set(k, "tick", now + 20, TARGS, &id);
                break;
        case T_DELAY_SET:
                r = poe_kernel_delay_set(k, "tick", 20, TARGS, &id);
                break;
        }
#undef TARGS
        disarm();
        timer_id = id;
        return r;
}

static poe_value on_start_timer(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_delay(k, "tick", 10, POE_NOARGS), 0);
        /* A name that is interned already does not hide the first
         * allocation. */
        return poe_nil();
}

static poe_value on_clear(poe_ctx *c)
{
        TL_EQ(poe_kernel_alarm_remove_all(poe_ctx_kernel(c), NULL, NULL) >= 0, 1);
        return poe_nil();
}

static void prepare_timer(void)
{
        TL_EQ(poe_kernel_clock_fake(tl.k, 1000), 0);
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_timer }, { "op", on_op },
                        { "tick", tl_h_log }, { "clear", on_clear }, { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(queue_length(), 1);
        inside_op = op_timer;
        inside_r = 12345;
        timer_id = 0;
}

static void timer_failed(void)
{
        TL_EQ(destroyed, 1);
        TL_EQ(timer_id, 0);
        /* The old timer alone, unchanged. */
        TL_EQ(queue_length(), 1);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_TIMERS), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 tick");
}

static void timer_done(void)
{
        bool clears = timer_kind == T_ALARM || timer_kind == T_DELAY;

        TL_EQ(destroyed, 0);
        if (timer_kind == T_ALARM_SET || timer_kind == T_DELAY_SET)
                assert_true(timer_id > 0);
        TL_EQ(queue_length(), clears ? 1 : 2);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_TIMERS), clears ? 1 : 2);
        if (!clears) {
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                TL_EXPECT("1 tick");
        }
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        expect_start("1 tick t PTR(0x");
        TL_EQ(destroyed, 1);
}

static void timer_sweep(int kind)
{
        const oom_case oc = { INJ_KERNEL, prepare_timer, call_op, timer_failed, timer_done, 0,
                              NULL };

        timer_kind = kind;
        run_case(&oc);
}

static void test_alarm(void **state)
{
        (void)state;
        timer_sweep(T_ALARM);
}

static void test_alarm_add(void **state)
{
        (void)state;
        timer_sweep(T_ALARM_ADD);
}

static void test_delay(void **state)
{
        (void)state;
        timer_sweep(T_DELAY);
}

static void test_delay_add(void **state)
{
        (void)state;
        timer_sweep(T_DELAY_ADD);
}

static void test_alarm_set(void **state)
{
        (void)state;
        timer_sweep(T_ALARM_SET);
}

static void test_delay_set(void **state)
{
        (void)state;
        timer_sweep(T_DELAY_SET);
}

/* ---- alarm_remove_all ---- */

static int removed_seen;

static void count_removed(void *ctx, const poe_alarm_info *a)
{
        (void)ctx;
        assert_string_equal(a->event, "tick");
        removed_seen++;
}

static int op_remove_all(poe_ctx *c)
{
        int r;

        removed_seen = 0;
        arm();
        r = poe_kernel_alarm_remove_all(poe_ctx_kernel(c), count_removed, NULL);
        disarm();
        if (r > 0) {
                TL_EQ(r, 1);
                return 0;
        }
        return r;
}

static void prepare_remove_all(void)
{
        prepare_timer();
        inside_op = op_remove_all;
}

static void remove_all_failed(void)
{
        TL_EQ(removed_seen, 0);
        TL_EQ(queue_length(), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 tick");
}

static void remove_all_done(void)
{
        TL_EQ(removed_seen, 1);
        TL_EQ(queue_length(), 0);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_TIMERS), 0);
}

static void test_alarm_remove_all(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_remove_all, call_op, remove_all_failed,
                              remove_all_done, 0, NULL };

        (void)state;
        run_case(&oc);
}

/* ---- peek_queue and peek_timers ---- */

static int peek_seen;

static int peek_count(void *ctx, const poe_peek_event *ev)
{
        (void)ctx;
        (void)ev;
        peek_seen++;
        return 0;
}

static bool peek_timers_too;

static int do_peek(void)
{
        int r;

        peek_seen = 0;
        arm();
        r = peek_timers_too ? poe_peek_timers(tl.k, peek_count, NULL)
                            : poe_peek_queue(tl.k, peek_count, NULL);
        disarm();
        return r;
}

static void peek_failed(void)
{
        TL_EQ(peek_seen, 0);
        TL_EQ(queue_length(), 1);
}

static void peek_done(void)
{
        TL_EQ(peek_seen, 1);
}

static void test_peek_queue(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_timer, do_peek, peek_failed, peek_done, 0,
                              NULL };

        (void)state;
        peek_timers_too = false;
        run_case(&oc);
}

static void test_peek_timers(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_timer, do_peek, peek_failed, peek_done, 0,
                              NULL };

        (void)state;
        peek_timers_too = true;
        run_case(&oc);
}

/* ---- I/O watchers ---- */

static int sv[2] = { -1, -1 };
static int select_kind; /* 0 read, 1 write, 2 expedite, 3 all */

static int op_select(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int r = 0;

        arm();
        switch (select_kind) {
        case 0:
                r = poe_kernel_select_read(k, sv[0], "io-new", POE_ARGS(poe_str("a")));
                break;
        case 1:
                r = poe_kernel_select_write(k, sv[0], "io-new", POE_ARGS(poe_str("a")));
                break;
        case 2:
                r = poe_kernel_select_expedite(k, sv[0], "io-new", POE_ARGS(poe_str("a")));
                break;
        default:
                r = poe_kernel_select(k, sv[0], "io-r", "io-w", "io-e", POE_ARGS(poe_str("a")));
                break;
        }
        disarm();
        return r;
}

static poe_value on_unwatch(poe_ctx *c)
{
        TL_EQ(poe_kernel_select(poe_ctx_kernel(c), sv[0], NULL, NULL, NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void prepare_select(void)
{
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_target }, { "op", on_op },
                        { "unwatch", on_unwatch }, { "unalias", on_unalias },
                        { "_default", tl_h_log }, { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        inside_op = op_select;
        inside_r = 12345;
}

static void close_sv(void)
{
        close(sv[0]);
        close(sv[1]);
        sv[0] = sv[1] = -1;
}

static void select_failed(void)
{
        TL_EQ(watcher_count(), 0);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_HANDLES), 0);
        TL_EQ(tl.k->n_watched_fds, 0);
        unalias();
}

static void select_done(void)
{
        TL_EQ(watcher_count(), select_kind == 3 ? 3 : 1);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_HANDLES), 1);
        /* The socket is writable: a write watcher is reported. */
        if (select_kind == 1 || select_kind == 3) {
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                assert_non_null(strstr(tl_transcript(), "1 _default io-"));
                tl_transcript_clear();
        }
        TL_EQ(poe_kernel_call(tl.k, 1, "unwatch", POE_NOARGS, NULL), 0);
        TL_EQ(watcher_count(), 0);
        unalias();
}

static void select_sweep(int kind)
{
        const oom_case oc = { INJ_KERNEL, prepare_select, call_op, select_failed, select_done,
                              0, close_sv };

        select_kind = kind;
        run_case(&oc);
}

static void test_select_read(void **state)
{
        (void)state;
        select_sweep(0);
}

static void test_select_write(void **state)
{
        (void)state;
        select_sweep(1);
}

static void test_select_expedite(void **state)
{
        (void)state;
        select_sweep(2);
}

static void test_select(void **state)
{
        (void)state;
        select_sweep(3);
}

/*
 * Resuming under the poll backend puts the fd back into the pollfd
 * array, which grows if other fds took its place meanwhile.  The
 * backend's array is private to loop-poll.c; its first three fields are
 * mirrored here to fill it to the brim.
 */
struct poll_mirror {
        void *pfd;
        int n, cap;
};

#define N_FILL 130
static int fill_fds[N_FILL];
static int n_fill;
static int resume_mode;

static int op_resume(poe_ctx *c)
{
        int r;

        arm();
        r = resume_mode ? poe_kernel_select_resume_write(poe_ctx_kernel(c), sv[0])
                        : poe_kernel_select_resume_read(poe_ctx_kernel(c), sv[0]);
        disarm();
        return r == 1 ? 0 : r;
}

static poe_value on_fill(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct poll_mirror *d = k->loop_data;

        if (resume_mode)
                TL_EQ(poe_kernel_select_write(k, sv[0], "io-w", POE_NOARGS), 0);
        else
                TL_EQ(poe_kernel_select_read(k, sv[0], "io-r", POE_NOARGS), 0);
        TL_EQ(resume_mode ? poe_kernel_select_pause_write(k, sv[0])
                          : poe_kernel_select_pause_read(k, sv[0]),
              1);
        /* Other fds take every free slot. */
        while (d->n < d->cap) {
                assert_true(n_fill < N_FILL);
                fill_fds[n_fill] = dup(sv[1]);
                assert_true(fill_fds[n_fill] >= 0);
                TL_EQ(poe_kernel_select_read(k, fill_fds[n_fill], "io-fill", POE_NOARGS), 0);
                n_fill++;
        }
        return poe_nil();
}

static poe_value on_unfill(poe_ctx *c)
{
        int i;

        for (i = 0; i < n_fill; i++)
                TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), fill_fds[i], NULL, POE_NOARGS),
                      0);
        TL_EQ(poe_kernel_select(poe_ctx_kernel(c), sv[0], NULL, NULL, NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void prepare_resume(void)
{
        assert_string_equal(poe_kernel_loop_name(tl.k), "poll");
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        n_fill = 0;
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_target }, { "op", on_op },
                        { "fill", on_fill }, { "unfill", on_unfill }, { "unalias", on_unalias },
                        { "_default", tl_h_log }, { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_call(tl.k, 1, "fill", POE_NOARGS, NULL), 0);
        inside_op = op_resume;
        inside_r = 12345;
}

static int paused_cb(void *ctx, const poe_peek_watcher *w)
{
        if (w->fd == sv[0])
                *(int *)ctx = w->paused;
        return 0;
}

static int sv_paused(void)
{
        int paused = -1;

        TL_EQ(poe_peek_watchers(tl.k, paused_cb, &paused), 0);
        return paused;
}

static void unfill(void)
{
        int i;

        TL_EQ(poe_kernel_call(tl.k, 1, "unfill", POE_NOARGS, NULL), 0);
        unalias();
        for (i = 0; i < n_fill; i++)
                close(fill_fds[i]);
        n_fill = 0;
}

static void resume_failed(void)
{
        TL_EQ(sv_paused(), 1);
        unfill();
}

static void resume_done(void)
{
        TL_EQ(sv_paused(), 0);
        if (resume_mode) {
                /* Writable at once, and reported now. */
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                expect_start("1 _default io-w");
        }
        unfill();
}

static void resume_sweep(int mode)
{
        const oom_case oc = { INJ_KERNEL, prepare_resume, call_op, resume_failed, resume_done,
                              0, close_sv };

        resume_mode = mode;
        setenv("POE_EVENT_LOOP", "poll", 1);
        run_case(&oc);
        unsetenv("POE_EVENT_LOOP");
}

static void test_select_resume_read(void **state)
{
        (void)state;
        resume_sweep(0);
}

static void test_select_resume_write(void **state)
{
        (void)state;
        resume_sweep(1);
}

/* ---- post_from_thread and run_in_loop (libc's malloc) ---- */

static int do_post_from_thread(void)
{
        int r;

        arm();
        r = poe_kernel_post_from_thread(tl.k, 1, "fresh_event",
                                        POE_ARGS(poe_str("x"), poe_ptr(&destroyed,
                                                                       tl_count_destroy)));
        disarm();
        return r;
}

static void xpost_failed(void)
{
        TL_EQ(destroyed, 1);
        /* Nothing waits to be taken (a slice would block, with nothing
         * to do and the session held). */
        assert_null(tl.k->xposts);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "thread"), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(handled, 0);
        unalias();
}

static void xpost_done(void)
{
        TL_EQ(destroyed, 0);
        TL_RUN_UNTIL(tl.k, handled == 1, 10);
        expect_start("1 fresh_event x PTR(");
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "thread"), 0);
        unalias();
}

/* Other threads are not work: the target keeps itself alive. */
static void prepare_xpost(void)
{
        prepare_target();
        TL_EQ(poe_kernel_refcount_increment(tl.k, 1, "thread"), 1);
}

static void test_post_from_thread(void **state)
{
        const oom_case oc = { INJ_LIBC, prepare_xpost, do_post_from_thread, xpost_failed,
                              xpost_done, 0, NULL };

        (void)state;
        run_case(&oc);
}

static int ran_in_loop;

static void in_loop(poe_kernel *k, void *ctx)
{
        assert_ptr_equal(k, tl.k);
        ++*(int *)ctx;
}

static int do_run_in_loop(void)
{
        int r;

        ran_in_loop = 0;
        arm();
        r = poe_kernel_run_in_loop(tl.k, in_loop, &ran_in_loop);
        disarm();
        return r;
}

static void in_loop_failed(void)
{
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(ran_in_loop, 0);
        unalias();
}

static void in_loop_done(void)
{
        TL_RUN_UNTIL(tl.k, ran_in_loop == 1, 10);
        unalias();
}

static void test_run_in_loop(void **state)
{
        const oom_case oc = { INJ_LIBC, prepare_target, do_run_in_loop, in_loop_failed,
                              in_loop_done, 0, NULL };

        (void)state;
        run_case(&oc);
}

/* ---- sig_child ---- */

/* No process has this id (pid_max is at most 2^22), so nothing reaps it. */
#define NO_PID 0x7ffffff0

static int op_sig_child(poe_ctx *c)
{
        int r;

        arm();
        r = poe_kernel_sig_child(poe_ctx_kernel(c), NO_PID, "child-gone",
                                 POE_ARGS(poe_str("c"), poe_int(3)));
        disarm();
        return r;
}

static poe_value on_unchild(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig_child(poe_ctx_kernel(c), NO_PID, NULL, POE_NOARGS), 0);
        return poe_nil();
}

static int count_signals(void)
{
        int n = 0;

        TL_EQ(poe_peek_signals(tl.k, (int (*)(void *, const poe_peek_signal *))count_cb, &n), 0);
        return n;
}

static void prepare_sig_child(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_target }, { "op", on_op },
                        { "unchild", on_unchild }, { "unalias", on_unalias },
                        { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        inside_op = op_sig_child;
        inside_r = 12345;
}

static void sig_child_failed(void)
{
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_SIGCHILD), 0);
        TL_EQ(count_signals(), 0);
        unalias();
}

static void sig_child_done(void)
{
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_SIGCHILD), 1);
        TL_EQ(count_signals(), 1);
        TL_EQ(poe_kernel_call(tl.k, 1, "unchild", POE_NOARGS, NULL), 0);
        unalias();
}

static void test_sig_child(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_sig_child, call_op, sig_child_failed,
                              sig_child_done, 0, NULL };

        (void)state;
        run_case(&oc);
}

/* ---- has_forked (called in this process: it rebuilds the same way) ---- */

static poe_value on_watch_sv(poe_ctx *c)
{
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), sv[0], "io-r", POE_NOARGS), 0);
        return poe_nil();
}

static void prepare_forked(void)
{
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_target }, { "watch", on_watch_sv },
                        { "unwatch", on_unwatch }, { "unalias", on_unalias },
                        { "_default", tl_h_log }, { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_call(tl.k, 1, "watch", POE_NOARGS, NULL), 0);
}

static int do_has_forked(void)
{
        int r;

        arm();
        r = poe_kernel_has_forked(tl.k);
        disarm();
        return r;
}

/* Either way the loop still reports the watched fd. */
static void forked_check(void)
{
        TL_EQ(write(sv[1], "x", 1), 1);
        TL_RUN_UNTIL(tl.k, strstr(tl_transcript(), "1 _default io-r") != NULL, 10);
        tl_transcript_clear();
        TL_EQ(poe_kernel_call(tl.k, 1, "unwatch", POE_NOARGS, NULL), 0);
        unalias();
}

static void test_has_forked(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_forked, do_has_forked, forked_check,
                              forked_check, 0, close_sv };

        (void)state;
        run_case(&oc);
}

/* ---- postbacks (libc's malloc) and their invocation (the kernel's) ---- */

static poe_postback *pb;
static bool pb_callback;
static bool pb_bare; /* the functions without a place, not the macros */

static int do_postback(void)
{
        poe_value args[2] = { poe_str("made"), poe_ptr(&destroyed, tl_count_destroy) };
        int r;

        pb = NULL;
        arm();
        if (pb_bare)
                r = pb_callback ? (poe_session_callback)(tl.k, 1, "fresh_event", args, 2, &pb)
                                : (poe_session_postback)(tl.k, 1, "fresh_event", args, 2, &pb);
        else
                r = pb_callback ? poe_session_callback(tl.k, 1, "fresh_event", args, 2, &pb)
                                : poe_session_postback(tl.k, 1, "fresh_event", args, 2, &pb);
        disarm();
        return r;
}

static void postback_failed(void)
{
        assert_null(pb);
        TL_EQ(destroyed, 1);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_POSTBACKS), 0);
        TL_EQ(tl.k->n_live_postbacks, 0);
        unalias();
}

static void postback_done(void)
{
        poe_value ret;

        assert_non_null(pb);
        TL_EQ(destroyed, 0);
        TL_EQ(tl_reason(tl.k, 1, POE_REASON_POSTBACKS), 1);
        TL_EQ(poe_postback_invoke(pb, POE_ARGS(poe_int(7)), &ret), 0);
        if (!pb_callback)
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(handled, 1);
        expect_start("1 fresh_event [made PTR(");
        pb = poe_postback_free(pb);
        TL_EQ(destroyed, 1);
        unalias();
}

static void free_pb(void)
{
        pb = poe_postback_free(pb);
}

/*
 * A postback counts in its session's more (kernel/internal.h), which an
 * idle session has not made yet: the kernel's allocator makes it, before
 * libc's makes the postback.  The libc sweeps below start from a session
 * that has one (an extra reference raised and dropped leaves it), so
 * that only libc's allocations fail there; this one fails the kernel's.
 */
static void prepare_target_more(void)
{
        prepare_target();
        TL_EQ(poe_kernel_refcount_increment(tl.k, 1, "more"), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "more"), 0);
        assert_non_null(poe__session_get(tl.k, 1)->more);
}

/* A postback or callback made while allocations fail: inj says whose
 * (the kernel's or libc's), prepare whether the target session already
 * has its s->more block. */
static void postback_case(int inj, void (*prepare)(void), bool callback, bool bare)
{
        const oom_case oc = {inj, prepare, do_postback, postback_failed, postback_done, 0, free_pb};

        pb_callback = callback;
        pb_bare = bare;
        run_case(&oc);
}

static void test_postback_session_more(void **state)
{
        (void)state;
        postback_case(INJ_KERNEL, prepare_target, false, false);
}

static void test_postback(void **state)
{
        (void)state;
        postback_case(INJ_LIBC, prepare_target_more, false, false);
}

static void test_postback_bare(void **state)
{
        (void)state;
        postback_case(INJ_LIBC, prepare_target_more, false, true);
}

static void test_callback_bare(void **state)
{
        (void)state;
        postback_case(INJ_LIBC, prepare_target_more, true, true);
}

static void test_callback(void **state)
{
        (void)state;
        postback_case(INJ_LIBC, prepare_target_more, true, false);
}

static int invoke_destroyed;

static void prepare_invoke(void)
{
        prepare_target();
        TL_EQ(poe_session_postback(tl.k, 1, "fresh_event", POE_ARGS(poe_str("made")), &pb), 0);
        invoke_destroyed = 0;
}

static int do_invoke(void)
{
        poe_value ret = poe_int(9);
        int r;

        arm();
        r = poe_postback_invoke(pb, POE_ARGS(poe_str("now"), poe_ptr(&destroyed,
                                                                     tl_count_destroy)),
                                &ret);
        disarm();
        if (r == 0)
                TL_EQ(ret.type, POE_T_NIL);
        return r;
}

static void invoke_failed(void)
{
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(handled, 0);
        pb = poe_postback_free(pb);
        unalias();
}

static void invoke_done(void)
{
        TL_EQ(destroyed, 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(handled, 1);
        TL_EQ(destroyed, 1);
        expect_start("1 fresh_event [made] [now PTR(");
        pb = poe_postback_free(pb);
        unalias();
}

static void test_postback_invoke(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_invoke, do_invoke, invoke_failed,
                              invoke_done, 0, free_pb };

        (void)state;
        run_case(&oc);
}

/* ---- die ---- */

static poe_value on_die_op(poe_ctx *c)
{
        arm();
        poe_die(c, "boom %d", 42);
}

static poe_value on_die_signal(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("died: %s", e.error_str);
        TL_EQ(poe_kernel_sig_handled(poe_ctx_kernel(c)), 0);
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "target"), 0);
        return poe_nil();
}

static poe_value on_start_die(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "target"), 0);
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        return poe_nil();
}

static void prepare_die(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_die }, { "die_op", on_die_op },
                        { "on_die", on_die_signal }, { "unalias", on_unalias },
                        { "_stop", tl_h_nop }),
              1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
}

static int do_die(void)
{
        int r = poe_kernel_call(tl.k, 1, "die_op", POE_NOARGS, NULL);

        disarm();
        /* The handler always dies, memory or not. */
        TL_EQ(r, -ECANCELED);
        return 0;
}

static void die_failed(void)
{
        fail_msg("a die cannot fail");
}

static void die_done(void)
{
        char want[128];

        if (poe_kernel_exception(tl.k)) {
                /* No memory for the DIE signal: the die went to run()'s
                 * caller instead. */
                assert_true(last_failures > 0);
                TL_EQ(poe_kernel_get_event_count(tl.k), 0);
                unalias();
                return;
        }
        if (poe_kernel_get_event_count(tl.k) > 0)
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        snprintf(want, sizeof(want), "died: boom 42 at %s line", __FILE__);
        if (last_failures == 0 || strstr(tl_transcript(), want))
                expect_start(want);
        else
                expect_start("died: out of memory formatting a die message");
}

/* ---- state machines (POE::NFA) ---- */

static const poe_handler nfa_first[] = { { "enter", on_fresh, NULL },
                                         { "back", on_fresh, NULL } };
static const poe_handler nfa_second[] = { { "hello", on_fresh, NULL } };
static const poe_nfa_state nfa_states[] = { { "first", nfa_first, 2 },
                                            { "second", nfa_second, 1 } };
static const poe_option nfa_opts[] = { { "mine", { POE_T_INT, 0, { 7 } } } };
static int nfa_which; /* 0 goto_state, 1 call_state, 2 return_state, 3 stop */

static const char *nfa_state_of(poe_sid m)
{
        const char *st = NULL;

        TL_EQ(poe_nfa_get_current_state(tl.k, m, &st), 0);
        return st;
}

static int do_nfa_spawn(void)
{
        poe_nfa_spec spec = { nfa_states, 2, nfa_opts, 1, &destroyed };
        poe_sid sid = 0;
        int r;

        arm();
        r = poe_nfa_spawn(tl.k, &spec, &sid);
        disarm();
        if (r == 0)
                TL_EQ(sid, 1);
        return r;
}

static void nfa_spawn_failed(void)
{
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
}

static void nfa_spawn_done(void)
{
        poe_value v;

        TL_EQ(tl_session_count(tl.k), 1);
        assert_string_equal(nfa_state_of(1), "(undef)");
        assert_ptr_equal(poe_nfa_get_runstate(tl.k, 1), &destroyed);
        TL_EQ(poe_session_option_get(tl.k, 1, "mine", &v), 0);
        TL_EQ(poe_value_int(&v), 7);
        TL_EQ(poe_nfa_goto_state(tl.k, 1, "first", "enter", POE_NOARGS), 0);
        TL_EQ(handled, 1);
        assert_string_equal(nfa_state_of(1), "first");
}

static void test_nfa_spawn(void **state)
{
        const oom_case oc = { INJ_KERNEL, NULL, do_nfa_spawn, nfa_spawn_failed, nfa_spawn_done,
                              0, NULL };

        (void)state;
        run_case(&oc);
}

/* A machine in state "first" (after a call_state to "second" and back
 * in it for return_state's sweep), nothing queued. */
static void prepare_nfa(void)
{
        poe_nfa_spec spec = { nfa_states, 2, NULL, 0, NULL };

        TL_EQ(poe_nfa_spawn(tl.k, &spec, NULL), 0);
        TL_EQ(poe_kernel_refcount_increment(tl.k, 1, "keep"), 1);
        TL_EQ(poe_nfa_goto_state(tl.k, 1, "first", NULL, POE_NOARGS), 0);
        if (nfa_which == 2) {
                TL_EQ(poe_nfa_call_state(tl.k, 1, "back", "second", NULL, POE_NOARGS), 0);
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                assert_string_equal(nfa_state_of(1), "second");
        } else {
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1); /* its GC event */
        }
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        handled = 0;
}

static int do_nfa_transition(void)
{
        poe_value args[2] = { poe_str("x"), poe_ptr(&destroyed, tl_count_destroy) };
        int r;

        arm();
        switch (nfa_which) {
        case 0:
                r = poe_nfa_goto_state(tl.k, 1, "second", "hello", args, 2);
                break;
        case 1:
                r = poe_nfa_call_state(tl.k, 1, "back", "second", "hello", args, 2);
                break;
        case 2:
                r = poe_nfa_return_state(tl.k, 1, args, 2);
                break;
        default:
                r = poe_nfa_stop(tl.k, 1);
                break;
        }
        disarm();
        return r;
}

static void nfa_transition_failed(void)
{
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(destroyed, nfa_which == 3 ? 0 : 1);
        TL_EQ(tl_session_count(tl.k), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "keep"), 0);
}

static void nfa_transition_done(void)
{
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(destroyed, 0);
        (void)poe_kernel_run_one_timeslice(tl.k);
        if (nfa_which == 3) {
                TL_EQ(tl_session_count(tl.k), 0);
                return;
        }
        TL_EQ(handled, 1);
        TL_EQ(destroyed, 1);
        assert_string_equal(nfa_state_of(1), nfa_which == 2 ? "first" : "second");
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "keep"), 0);
}

static void test_nfa_transitions(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_nfa, do_nfa_transition, nfa_transition_failed,
                              nfa_transition_done, 0, NULL };

        (void)state;
        for (nfa_which = 0; nfa_which < 4; nfa_which++)
                run_case(&oc);
}

static void test_die(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_die, do_die, die_failed, die_done, 0, NULL };

        (void)state;
        run_case(&oc);
}

/* ---- trace_file (fopen) ---- */

static char trace_path[64];

static int do_trace_file(void)
{
        int r;

        arm();
        r = poe_kernel_trace_file(tl.k, trace_path);
        disarm();
        return r;
}

static void trace_failed(void)
{
        assert_null(tl.k->trace_file);
        unalias();
}

static void trace_done(void)
{
        FILE *f;
        char line[256] = "";

        assert_non_null(tl.k->trace_file);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS, 1), 0);
        TL_EQ(poe_kernel_post(tl.k, 1, "fresh_event", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS, 0), 0);
        TL_EQ(poe_kernel_trace_file(tl.k, NULL), 0);
        f = fopen(trace_path, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        fclose(f);
        assert_non_null(strstr(line, "<ev>"));
        tl_transcript_clear();
        unalias();
}

static void trace_cleanup(void)
{
        unlink(trace_path);
}

static void test_trace_file(void **state)
{
        const oom_case oc = { INJ_LIBC, prepare_target, do_trace_file, trace_failed,
                              trace_done, 0, trace_cleanup };

        (void)state;
        snprintf(trace_path, sizeof(trace_path), "/tmp/poe-oom-trace-%d.txt", (int)getpid());
        run_case(&oc);
}

/* ---- stop ---- */

#define STOP_KIDS 20

static poe_value on_start_kid(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value on_start_parent(poe_ctx *c)
{
        poe_session_spec spec = TL_SPEC({ "_start", on_start_kid }, { "_stop", tl_h_log });
        int i;

        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "target"), 0);
        /* More children than fit the stop's stack array. */
        for (i = 0; i < STOP_KIDS; i++)
                TL_EQ(poe_session_create(poe_ctx_kernel(c), &spec, NULL), 0);
        return poe_nil();
}

static void prepare_stop(void)
{
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_parent }, { "_stop", tl_h_log }), 1);
        TL_EQ(tl_session_count(tl.k), STOP_KIDS + 1);
}

static int do_stop(void)
{
        arm();
        poe_kernel_stop(tl.k);
        disarm();
        return 0;
}

static void stop_done(void)
{
        const char *p = tl_transcript();
        int stops = 0;

        /* Every session got _stop once, memory or not. */
        while ((p = strstr(p, " _stop")) != NULL) {
                stops++;
                p++;
        }
        TL_EQ(stops, STOP_KIDS + 1);
        TL_EQ(tl_session_count(tl.k), 0);
        tl_transcript_clear();
}

static void test_stop(void **state)
{
        const oom_case oc = { INJ_KERNEL, prepare_stop, do_stop, die_failed, stop_done, 0,
                              NULL };

        (void)state;
        run_case(&oc);
}

/* ---- run, run_one_timeslice, run_while ---- */

/*
 * A session that yields three ticks, sets a timer and keeps an alias:
 * it ends only through IDLE and ZOMBIE, which the kernel must queue.
 * Events its handlers fail to queue are their loss; run must still end,
 * with 0 or -ENOMEM when the kernel could not queue the signals that
 * would end it, leaving the sessions for a later run.
 */
static int ticks;

static poe_value on_tick(poe_ctx *c)
{
        tl_log_ctx(c);
        if (++ticks < 3)
                (void)poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_ARGS(poe_str("again")));
        else
                (void)poe_kernel_delay(poe_ctx_kernel(c), "later", 5, POE_NOARGS);
        return poe_nil();
}

static poe_value on_start_ticks(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "target"), 0);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS), 0);
        return poe_nil();
}

static void prepare_run(void)
{
        TL_EQ(poe_kernel_clock_fake(tl.k, 1000), 0);
        ticks = 0;
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_ticks }, { "tick", on_tick },
                        { "later", tl_h_log }, { "_stop", tl_h_log }),
              1);
}

static int run_kind;

static int do_run(void)
{
        volatile int flag = 1;
        int r, slices = 0;

        arm();
        switch (run_kind) {
        case 0:
                r = poe_kernel_run(tl.k);
                break;
        case 1:
                while ((r = poe_kernel_run_one_timeslice(tl.k)) == 1)
                        assert_true(++slices < 10000);
                break;
        case 2:
                r = poe_kernel_run_while(tl.k, &flag);
                break;
        default: {
                /* A host loop: poll the fd without waiting, and move the
                 * fake clock where a real loop would sleep. */
                int64_t ns;
                int fd = poe_kernel_get_fd(tl.k);

                r = fd < 0 ? fd : 0;
                while (fd >= 0 && (r = poe_kernel_prepare(tl.k, &ns)) == 1) {
                        struct pollfd p = { .fd = fd, .events = POLLIN };

                        if (ns > 0 && poll(&p, 1, 0) == 0)
                                TL_EQ(poe_kernel_clock_advance(tl.k, (double)ns / 1e9), 0);
                        r = poe_kernel_dispatch(tl.k);
                        if (r != 1)
                                break;
                        assert_true(++slices < 10000);
                }
                break;
        }
        }
        disarm();
        return r;
}

static void run_failed(void)
{
        /* The session waits for a run with memory. */
        TL_EQ(tl_session_count(tl.k), 1);
        tl_transcript_clear();
}

static void run_done(void)
{
        TL_EQ(tl_session_count(tl.k), 0);
        if (last_failures == 0)
                TL_EXPECT("1 tick", "1 tick again", "1 tick again", "1 later", "1 _stop");
        tl_transcript_clear();
}

static void run_sweep(int kind)
{
        const oom_case oc = { INJ_KERNEL, prepare_run, do_run, run_failed, run_done, 0, NULL };

        run_kind = kind;
        run_case(&oc);
}

static void test_run(void **state)
{
        (void)state;
        run_sweep(0);
}

static void test_run_one_timeslice(void **state)
{
        (void)state;
        run_sweep(1);
}

static void test_run_while(void **state)
{
        (void)state;
        run_sweep(2);
}

static void test_run_host_loop(void **state)
{
        (void)state;
        run_sweep(3);
}

/* ---- the default kernel (libc's allocator), one process per attempt ---- */

static poe_value on_start_nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

/* In a child: 2 when the default kernel was made with nothing failed,
 * 0 when made despite a failure or after a failed attempt returned NULL
 * leaving nothing behind, else an error code. */
static int default_child(unsigned long n, bool rest)
{
        poe_session_spec spec = TL_SPEC({ "_start", on_start_nop });
        long live = om_live();
        unsigned long failures;
        poe_kernel *k;
        bool clean;

        om_arm(n, rest, false);
        k = poe_kernel_default();
        failures = om_disarm();
        clean = k && failures == 0;
        if (!k) {
                if (failures == 0)
                        return 3;
                if (om_live_exact() && om_live() != live)
                        return 4;
                k = poe_kernel_default();
                if (!k)
                        return 5;
        }
        if (poe_kernel_default() != k)
                return 6;
        if (poe_session_create(k, &spec, NULL) != 0 || poe_kernel_run(k) != 0)
                return 7;
        return clean ? 2 : 0;
}

static void test_kernel_default(void **state)
{
        int mode;

        (void)state;
        assert_true(om_active());
        for (mode = 0; mode < 2; mode++) {
                unsigned long n;

                for (n = 1;; n++) {
                        int status = 0;
                        pid_t pid;

                        assert_true(n < 200);
                        fflush(NULL);
                        pid = fork();
                        assert_true(pid >= 0);
                        if (pid == 0)
                                _exit(default_child(n, mode == 1));
                        TL_EQ(waitpid(pid, &status, 0), pid);
                        assert_true(WIFEXITED(status));
                        if (WEXITSTATUS(status) == 2)
                                break;
                        if (WEXITSTATUS(status) != 0)
                                fail_msg("allocation %lu failing (%s): child said %d", n,
                                         mode ? "and after" : "alone", WEXITSTATUS(status));
                }
                assert_true(n > 1);
        }
}

/* ---- the functions that allocate nothing ---- */

/*
 * Each OA_NONE function is called with every allocation failing, the
 * kernel allocator's and libc's, and neither may have been asked for a
 * block.  The world gives each something real to work on: timers, a
 * watched socket, aliases, tags, children, a postback.
 */
static const char *probed[N_API];
static size_t n_probed;
static unsigned long probe_kcalls;

static void probe_arm(void)
{
        probe_kcalls = tl.alloc.calls;
        tl_alloc_fail_nth(&tl.alloc, 1, true);
        om_arm(1, true, false);
}

static void probe_check(const char *fn)
{
        unsigned long kernel = tl.alloc.calls - probe_kcalls, libc;

        om_disarm();
        libc = om_calls();
        tl_alloc_disarm(&tl.alloc);
        if (kernel || libc)
                fail_msg("%s asked for %lu blocks from the kernel's allocator and %lu from "
                         "libc's, but is listed as allocating nothing",
                         fn, kernel, libc);
        assert_true(n_probed < N_API);
        probed[n_probed++] = fn;
}

#define PROBE(fn, expr)                 \
        do {                            \
                probe_arm();            \
                (void)(expr);           \
                probe_check(#fn);       \
        } while (0)

static poe_alarm_id probe_timer;
static poe_postback *probe_pb;

static int sink(void *ctx, const poe_trace_record *r)
{
        (void)ctx;
        (void)r;
        return 0;
}

static void slot_sink(void *ctx, poe_trace_record **slot)
{
        (void)ctx;
        *slot = NULL;
}

static int any_cb(void *ctx, const void *item)
{
        (void)ctx;
        (void)item;
        return 0;
}

static poe_value on_detach(poe_ctx *c)
{
        int r = 1;

        PROBE(poe_kernel_detach_myself, r = poe_kernel_detach_myself(poe_ctx_kernel(c)));
        TL_EQ(r, 0);
        return poe_nil();
}

static poe_value on_probe(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_kernel_info ki;
        poe_session_info si;
        poe_kernel_activity act;
        poe_dispatch_stats st;
        poe_alarm_info ai;
        poe_exception ex;
        poe_value v, taken;
        const char *aliases[4];
        double t;
        poe_sid sid;
        int r = -1, id = 0;

        PROBE(poe_ctx_kernel, poe_ctx_kernel(c));
        PROBE(poe_ctx_session, poe_ctx_session(c));
        PROBE(poe_ctx_heap, poe_ctx_heap(c));
        PROBE(poe_ctx_state, poe_ctx_state(c));
        PROBE(poe_ctx_sender, poe_ctx_sender(c));
        PROBE(poe_ctx_object, poe_ctx_object(c));
        PROBE(poe_ctx_caller_file, poe_ctx_caller_file(c));
        PROBE(poe_ctx_caller_line, poe_ctx_caller_line(c));
        PROBE(poe_ctx_caller_state, poe_ctx_caller_state(c));
        PROBE(poe_ctx_argc, poe_ctx_argc(c));
        PROBE(poe_ctx_arg, poe_ctx_arg(c, 0));
        PROBE(poe_nfa_ctx_state, poe_nfa_ctx_state(c));
        PROBE(poe_nfa_get_runstate, poe_nfa_get_runstate(k, 1));
        PROBE(poe_nfa_get_current_state, poe_nfa_get_current_state(k, 1, aliases));
        PROBE(poe_ctx_take_arg, taken = poe_ctx_take_arg(c, 1));
        PROBE(poe_value_release, poe_value_release(&taken));
        TL_EQ(destroyed, 1);
        PROBE(poe_kernel_get_active_session, poe_kernel_get_active_session(k));
        PROBE(poe_kernel_get_active_event, poe_kernel_get_active_event(k));
        PROBE(poe_kernel_alarm_adjust, r = poe_kernel_alarm_adjust(k, probe_timer, 1, &t));
        TL_EQ(r, 0);
        PROBE(poe_kernel_delay_adjust, r = poe_kernel_delay_adjust(k, probe_timer, 3, &t));
        TL_EQ(r, 0);
        PROBE(poe_kernel_get_next_event_time, r = poe_kernel_get_next_event_time(k, &t));
        TL_EQ(r, 0);
        PROBE(poe_kernel_alarm_remove, r = poe_kernel_alarm_remove(k, probe_timer, &ai));
        TL_EQ(r, 0);
        PROBE(poe_kernel_select_pause_read, r = poe_kernel_select_pause_read(k, sv[0]));
        TL_EQ(r, 1);
        PROBE(poe_kernel_select_pause_write, r = poe_kernel_select_pause_write(k, sv[0]));
        TL_EQ(r, 1);
        TL_EQ(poe_kernel_select(k, sv[0], NULL, NULL, NULL, POE_NOARGS), 0);
        PROBE(poe_kernel_alias_remove, r = poe_kernel_alias_remove(k, "probe-alias"));
        TL_EQ(r, 0);
        PROBE(poe_kernel_alias_resolve, r = poe_kernel_alias_resolve(k, "target", &sid));
        TL_EQ(r, 0);
        PROBE(poe_kernel_alias_resolve, r = poe_kernel_alias_resolve(k, "1", &sid));
        TL_EQ(r, 0);
        PROBE(poe_kernel_alias_list, r = poe_kernel_alias_list(k, 1, aliases, 4));
        TL_EQ(r, 1);
        PROBE(poe_kernel_refcount_decrement, r = poe_kernel_refcount_decrement(k, 1, "tag"));
        TL_EQ(r, 1);
        PROBE(poe_kernel_refcount_decrement, r = poe_kernel_refcount_decrement(k, 1, "tag"));
        TL_EQ(r, 0);
        PROBE(poe_kernel_sig_handled, poe_kernel_sig_handled(k));
        PROBE(poe_kernel_detach_child, r = poe_kernel_detach_child(k, 3));
        TL_EQ(r, 0);
        PROBE(poe_session_option_get, r = poe_session_option_get(k, 1, "colour", &v));
        TL_EQ(r, 0);
        assert_string_equal(poe_value_str(&v), "blue");
        PROBE(poe_session_get_heap, poe_session_get_heap(k, 1));
        PROBE(poe_kernel_ID_id_to_session, poe_kernel_ID_id_to_session(k, 1));
        PROBE(poe_session_get_parent, poe_session_get_parent(k, 2, &sid));
        PROBE(poe_kernel_get_event_count, poe_kernel_get_event_count(k));
        PROBE(poe_kernel_id, poe_kernel_id(k));
        PROBE(poe_kernel_time, poe_kernel_time(k));
        PROBE(poe_kernel_clock_advance, poe_kernel_clock_advance(k, 0.5));
        PROBE(poe_kernel_loop_name, poe_kernel_loop_name(k));
        PROBE(poe_kernel_owned_loop, poe_kernel_owned_loop(k));
        PROBE(poe_kernel_activity_get, poe_kernel_activity_get(k, &act));
        PROBE(poe_postback_session, poe_postback_session(probe_pb));
        PROBE(poe_postback_weaken, poe_postback_weaken(probe_pb));
        PROBE(poe_postback_free, probe_pb = poe_postback_free(probe_pb));
        PROBE(poe_value_exception, poe_value_exception(poe_ctx_arg(c, 0), &ex));
        PROBE(poe_kernel_exception, poe_kernel_exception(k));
        PROBE(poe_kernel_set_dispatch_timing, poe_kernel_set_dispatch_timing(k, 1));
        PROBE(poe_kernel_set_slow_dispatch, poe_kernel_set_slow_dispatch(k, 0.5));
        PROBE(poe_kernel_dispatch_stats, poe_kernel_dispatch_stats(k, &st));
        PROBE(poe_kernel_debug_get, poe_kernel_debug_get(k));
        PROBE(poe_kernel_debug_set, poe_kernel_debug_set(k, POE_TRACE_PROFILE, 0));
        PROBE(poe_kernel_trace_lookup, poe_kernel_trace_lookup(k, POE_TRACE_LOOKUP_NAME, 0));
        {
                poe_trace_record tr = { .kind = POE_TK_STOP, .session_name = POE_TRACE_THE_KERNEL };
                char line[64];

                PROBE(poe_kernel_trace_format, poe_kernel_trace_format(k, &tr, line, sizeof(line)));
                assert_string_equal(line, "stopping the kernel");
        }
        PROBE(poe_kernel_trace_sink_add, id = poe_kernel_trace_sink_add(k, sink, NULL));
        assert_true(id > 0);
        PROBE(poe_kernel_trace_sink_groups, poe_kernel_trace_sink_groups(k, id, 0));
        PROBE(poe_kernel_trace_sink_remove, poe_kernel_trace_sink_remove(k, id));
        PROBE(poe_kernel_trace_sink_add_slots,
              id = poe_kernel_trace_sink_add_slots(k, sink, slot_sink, NULL));
        assert_true(id > 0);
        TL_EQ(poe_kernel_trace_sink_remove(k, id), 0);
        PROBE(poe_kernel_set_heap_describer, poe_kernel_set_heap_describer(k, NULL, NULL));
        PROBE(poe_peek_kernel, poe_peek_kernel(k, &ki));
        PROBE(poe_peek_session, poe_peek_session(k, 1, &si));
        PROBE(poe_peek_sessions,
              poe_peek_sessions(k, (int (*)(void *, const poe_session_info *))any_cb, NULL));
        PROBE(poe_peek_handlers,
              poe_peek_handlers(k, 1, (int (*)(void *, const char *))any_cb, NULL));
        PROBE(poe_peek_reasons,
              poe_peek_reasons(k, 1, (int (*)(void *, const poe_peek_item *))any_cb, NULL));
        PROBE(poe_peek_postbacks,
              poe_peek_postbacks(k, POE_KERNEL,
                                 (int (*)(void *, const poe_peek_postback *))any_cb, NULL));
        PROBE(poe_peek_watchers,
              poe_peek_watchers(k, (int (*)(void *, const poe_peek_watcher *))any_cb, NULL));
        PROBE(poe_peek_signals,
              poe_peek_signals(k, (int (*)(void *, const poe_peek_signal *))any_cb, NULL));
        TL_EQ(poe_kernel_call(k, 2, "detach", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_alias_remove(k, "target"), 0);
        return poe_nil();
}

static poe_value on_start_probe(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_session_spec kid = TL_SPEC({ "_start", on_start_nop }, { "detach", on_detach });

        TL_EQ(poe_kernel_alias_set(k, "target"), 0);
        TL_EQ(poe_kernel_alias_set(k, "probe-alias"), 0);
        TL_EQ(poe_kernel_refcount_increment(k, 1, "tag"), 1);
        TL_EQ(poe_kernel_refcount_increment(k, 1, "tag"), 2);
        TL_EQ(poe_kernel_alarm_set(k, "tick", poe_kernel_time(k) + 10, POE_NOARGS,
                                   &probe_timer),
              0);
        TL_EQ(poe_kernel_select(k, sv[0], "io-r", "io-w", NULL, POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig(k, "DIE", "on_die", POE_NOARGS), 0);
        TL_EQ(poe_session_option_set(k, 1, "colour", poe_str("blue"), NULL), 0);
        TL_EQ(poe_session_create(k, &kid, NULL), 0);
        TL_EQ(poe_session_create(k, &kid, NULL), 0);
        return poe_nil();
}

/* A kernel hook, added and removed again before any kernel is made. */
static void *probe_hook(poe_kernel *k, void *data)
{
        (void)k;
        (void)data;
        fail_msg("the probe's kernel hook ran");
        return NULL;
}

static void test_no_alloc(void **state)
{
        poe_value items[2] = { poe_int(1), poe_str("x") };
        poe_value v = poe_ptr(&destroyed, tl_count_destroy);
        const char *version_string;
        unsigned version;
        char buf[64];
        size_t i, j;
        long live;

        (void)state;
        assert_true(om_active());
        live = om_live();
        n_probed = 0;
        destroyed = 0;
        PROBE(poe_version, version = poe_version());
        assert_int_equal(version, POE_VERSION_NUMBER);
        PROBE(poe_version_string, version_string = poe_version_string());
        assert_string_equal(version_string, POE_VERSION_STRING);
        PROBE(poe_nil, poe_nil());
        PROBE(poe_int, poe_int(1));
        PROBE(poe_double, poe_double(1.5));
        PROBE(poe_str, poe_str("s"));
        PROBE(poe_strn, poe_strn("s\0t", 3));
        PROBE(poe_ptr, poe_ptr(NULL, NULL));
        PROBE(poe_session, poe_session(3));
        PROBE(poe_list, v = poe_list(items, 2));
        PROBE(poe_value_true, poe_value_true(&v));
        PROBE(poe_value_int, poe_value_int(&items[1]));
        PROBE(poe_value_str, poe_value_str(&items[1]));
        PROBE(poe_value_format, poe_value_format(&v, buf, sizeof(buf)));
        assert_string_equal(buf, "[1 x]");
        PROBE(poe_debug_compiled, poe_debug_compiled());
        PROBE(poe_debug_group_name, poe_debug_group_name(POE_TRACE_EVENTS));
        PROBE(poe_debug_group_parse, poe_debug_group_parse("trace_events"));
        PROBE(poe_debug_group_prefix, poe_debug_group_prefix(POE_TRACE_SIGNALS));
        PROBE(poe_trace_kind_name, poe_trace_kind_name(POE_TK_DISPATCH));
        PROBE(poe_trace_kind_parse, poe_trace_kind_parse("dispatch"));
        {
                poe_trace_record tr = { .kind = POE_TK_REAP, .arg.i = { 42, 0 } };

                PROBE(poe_trace_format, poe_trace_format(&tr, NULL, NULL, buf, sizeof(buf)));
                assert_string_equal(buf, "POE::Kernel detected SIGCHLD (pid=42; exit=0)");
        }
        PROBE(poe_reason_name, poe_reason_name(POE_REASON_TIMERS));
        PROBE(poe_kernel_hook_add, poe_kernel_hook_add(probe_hook, NULL, &destroyed));
        PROBE(poe_kernel_hook_remove, poe_kernel_hook_remove(probe_hook, NULL, &destroyed));

        assert_int_equal(tl_setup(NULL), 0);
        PROBE(poe_kernel_clock_fake, poe_kernel_clock_fake(tl.k, 1000));
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_probe }, { "probe", on_probe },
                        { "_default", tl_h_nop }),
              1);
        TL_EQ(poe_session_postback(tl.k, 1, "tick", POE_NOARGS, &probe_pb), 0);
        TL_EQ(poe_kernel_call(tl.k, 1, "probe",
                              POE_ARGS(poe_int(1), poe_ptr(&destroyed, tl_count_destroy)), NULL),
              0);
        assert_null(probe_pb);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_run(tl.k), 0);
        PROBE(poe_kernel_free, tl.k = poe_kernel_free(tl.k));
        TL_EQ(tl_alloc_release(&tl.alloc), 0);
        TL_EQ(tl.alloc.live_blocks, 0);
        close_sv();
        if (om_live_exact())
                TL_EQ(om_live(), live);

        /* Every function listed as allocating nothing was tried. */
        for (i = 0; i < N_API; i++) {
                if (oom_api[i].allocates)
                        continue;
                for (j = 0; j < n_probed && strcmp(probed[j], oom_api[i].fn) != 0; j++)
                        ;
                if (j == n_probed)
                        fail_msg("%s is listed as allocating nothing but was not probed",
                                 oom_api[i].fn);
        }
        /* And nothing probed is listed as allocating. */
        for (j = 0; j < n_probed; j++)
                for (i = 0; i < N_API; i++)
                        if (strcmp(probed[j], oom_api[i].fn) == 0 && oom_api[i].allocates)
                                fail_msg("%s is probed but listed as allocating", probed[j]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_alloc),
                cmocka_unit_test(test_kernel_default),
                cmocka_unit_test(test_run),
                cmocka_unit_test(test_run_one_timeslice),
                cmocka_unit_test(test_run_while),
                cmocka_unit_test(test_run_host_loop),
                cmocka_unit_test(test_stop),
                cmocka_unit_test(test_call_alias),
                cmocka_unit_test(test_alarm),
                cmocka_unit_test(test_alarm_add),
                cmocka_unit_test(test_delay),
                cmocka_unit_test(test_delay_add),
                cmocka_unit_test(test_alarm_set),
                cmocka_unit_test(test_delay_set),
                cmocka_unit_test(test_alarm_remove_all),
                cmocka_unit_test(test_peek_queue),
                cmocka_unit_test(test_peek_timers),
                cmocka_unit_test(test_select_read),
                cmocka_unit_test(test_select_write),
                cmocka_unit_test(test_select_expedite),
                cmocka_unit_test(test_select),
                cmocka_unit_test(test_select_resume_read),
                cmocka_unit_test(test_select_resume_write),
                cmocka_unit_test(test_post_from_thread),
                cmocka_unit_test(test_run_in_loop),
                cmocka_unit_test(test_sig_child),
                cmocka_unit_test(test_has_forked),
                cmocka_unit_test(test_postback),
                cmocka_unit_test(test_postback_session_more),
                cmocka_unit_test(test_callback),
                cmocka_unit_test(test_postback_bare),
                cmocka_unit_test(test_callback_bare),
                cmocka_unit_test(test_postback_invoke),
                cmocka_unit_test(test_die),
                cmocka_unit_test(test_nfa_spawn),
                cmocka_unit_test(test_nfa_transitions),
                cmocka_unit_test(test_trace_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
