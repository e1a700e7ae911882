/*
 * Signals as events: sig, sig_handled and signal, to a session and to
 * the whole kernel; propagation from descendants up to the target;
 * which signals stop whom; IDLE and ZOMBIE.  The transcripts are those
 * perl printed with POE 1.37 for the same trees, except that the order
 * between siblings, which POE takes from a hash, is not asserted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"
#include "signals.h"

/* Sessions whose watcher calls sig_handled, by id. */
static bool handles[64];

/* The session whose watcher stops the kernel, if any. */
static poe_sid stopper;

static poe_value on_got(poe_ctx *c)
{
        poe_sid self = poe_ctx_session(c);

        tl_log_ctx(c);
        if (self == stopper)
                poe_kernel_stop(poe_ctx_kernel(c));
        if (self < 64 && handles[self]) {
                TL_EQ(poe_kernel_sig_handled(poe_ctx_kernel(c)), 0);
                tl_log("%llu handled", (unsigned long long)self);
        }
        return poe_nil();
}

static int tree_depth;

static poe_value on_start_tree(poe_ctx *c);

static poe_value on_child(poe_ctx *c)
{
        tl_log("%llu _child %s %s", (unsigned long long)poe_ctx_session(c),
               poe_value_str(poe_ctx_arg(c, 0)), tl_fmt(poe_ctx_arg(c, 1)));
        return poe_nil();
}

/* Gives the session to the kernel (detach_myself). */
static poe_value on_detach(poe_ctx *c)
{
        TL_EQ(poe_kernel_detach_myself(poe_ctx_kernel(c)), 0);
        return poe_nil();
}

/* Removes the alias that keeps the session alive: it is collected. */
static poe_value on_drop(poe_ctx *c)
{
        char alias[16];

        snprintf(alias, sizeof(alias), "s%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), alias), 0);
        return poe_nil();
}

static poe_sid make_tree(poe_kernel *k, int depth)
{
        int hold = tree_depth;
        poe_sid sid;

        tree_depth = depth;
        sid = TL_CREATE(k, { "_start", on_start_tree }, { "got", on_got }, { "_child", on_child },
                        { "_stop", tl_h_log }, { "detach", on_detach }, { "drop", on_drop });
        tree_depth = hold;
        return sid;
}

/* Watches USR1, TERM, ZOMBIE, HUP and DIE, takes the alias "s<id>" (which
 * keeps it alive), and makes a chain of tree_depth - 1 descendants. */
static poe_value on_start_tree(poe_ctx *c)
{
        static const char *const sigs[] = { "USR1", "TERM", "ZOMBIE", "HUP", "DIE" };
        poe_kernel *k = poe_ctx_kernel(c);
        char alias[16];
        size_t i;

        for (i = 0; i < 5; i++)
                TL_EQ(poe_kernel_sig(k, sigs[i], "got", POE_NOARGS), 0);
        snprintf(alias, sizeof(alias), "s%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(k, alias), 0);
        if (tree_depth > 1)
                make_tree(k, tree_depth - 1);
        return poe_nil();
}

static void reset(void)
{
        memset(handles, 0, sizeof(handles));
        stopper = 0;
        tl_transcript_clear();
}

static bool alive(poe_sid sid)
{
        return poe_kernel_ID_id_to_session(tl.k, sid) == 0;
}

/* Runs one timeslice with a signal queued. */
static void signal_and_slice(poe_sid dest, const char *sig)
{
        TL_EQ(poe_kernel_signal(tl.k, dest, sig, POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        tl_check_kernel(tl.k);
}

/* ---- delivery ---- */

static poe_value on_start_watch_args(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "USR1", "got",
                             POE_ARGS(poe_str("w1"), poe_int(2))),
              0);
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "held"), 0);
        return poe_nil();
}

static void test_signal_args(void **state)
{
        poe_sid sid;

        (void)state;
        reset();
        sid = TL_CREATE(tl.k, { "_start", on_start_watch_args }, { "got", on_got },
                        { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_signal(tl.k, sid, "USR1", POE_ARGS(poe_str("x"))), 0);
        /* Signals are queued like posts, not dispatched at once. */
        assert_string_equal(tl_transcript(), "");
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        /* ARG0 the signal, then the signal's arguments, then the
         * watcher's (POE: [ @$etc, @$target_etc ]). */
        TL_EXPECT("1 got USR1 x w1 2");
        TL_EQ(poe_kernel_signal(tl.k, sid, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/*
 * A handler may take a pointer argument of the signal (poe_ctx_take_arg)
 * when its watcher has arguments too, and it then gets a copy of the
 * arguments: what it takes is taken from the signal, whose event must
 * not destroy it again, whether the handler returns or dies.  The
 * watcher's own pointers are plain data the kernel never owns, so there
 * is no destructor to take.
 */
static int sig_destroyed, watch_destroyed;

static poe_value on_start_watch_ptr(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_sig(k, "USR1", "take",
                             POE_ARGS(poe_ptr(&watch_destroyed, tl_count_destroy))),
              0);
        TL_EQ(poe_kernel_sig(k, "USR2", "take",
                             POE_ARGS(poe_ptr(&watch_destroyed, tl_count_destroy))),
              0);
        TL_EQ(poe_kernel_sig(k, "DIE", "died", POE_NOARGS), 0);
        TL_EQ(poe_kernel_alias_set(k, "held"), 0);
        return poe_nil();
}

static poe_value on_died(poe_ctx *c)
{
        tl_log("DIE");
        TL_EQ(poe_kernel_sig_handled(poe_ctx_kernel(c)), 0);
        return poe_nil();
}

static poe_value on_take(poe_ctx *c)
{
        poe_value sv, wv;

        TL_EQ(poe_ctx_argc(c), 3);
        sv = poe_ctx_take_arg(c, 1);
        wv = poe_ctx_take_arg(c, 2);
        assert_ptr_equal(sv.u.ptr.p, &sig_destroyed);
        assert_ptr_equal(wv.u.ptr.p, &watch_destroyed);
        assert_null(wv.u.ptr.destroy);
        poe_value_release(&sv);
        TL_EQ(sig_destroyed, 1);
        tl_log("took");
        if (!strcmp(poe_value_str(poe_ctx_arg(c, 0)), "USR2"))
                poe_die(c, "after taking\n");
        return poe_nil();
}

static void test_take_signal_arg_with_watcher_args(void **state)
{
        poe_sid sid;
        int i;

        (void)state;
        reset();
        sig_destroyed = watch_destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", on_start_watch_ptr }, { "take", on_take },
                        { "died", on_died }, { "_stop", tl_h_nop });
        /* Twice as it returns, then as it dies. */
        for (i = 0; i < 3; i++) {
                sig_destroyed = 0;
                TL_EQ(poe_kernel_signal(tl.k, sid, i < 2 ? "USR1" : "USR2",
                                        POE_ARGS(poe_ptr(&sig_destroyed, tl_count_destroy))),
                      0);
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                if (i < 2) {
                        TL_EXPECT("took");
                } else {
                        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                        TL_EXPECT("took", "DIE");
                }
                /* Destroyed once, by the handler that took it. */
                TL_EQ(sig_destroyed, 1);
                tl_check_kernel(tl.k);
        }
        TL_EQ(watch_destroyed, 0);
        TL_EQ(poe_kernel_signal(tl.k, sid, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(watch_destroyed, 0);
}

static void test_propagation_children_first(void **state)
{
        (void)state;
        reset();
        TL_EQ(make_tree(tl.k, 3), 1);
        TL_EXPECT("2 _child create 3", "1 _child create 2");
        signal_and_slice(1, "USR1");
        TL_EXPECT("3 got USR1", "2 got USR1", "1 got USR1");
        /* A signal to a child does not reach its parent. */
        signal_and_slice(2, "USR1");
        TL_EXPECT("3 got USR1", "2 got USR1");
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* Position of a line in the transcript, or -1. */
static long line_pos(const char *line)
{
        char want[64];
        const char *t = tl_transcript(), *p;

        snprintf(want, sizeof(want), "%s\n", line);
        for (p = t; (p = strstr(p, want)); p++)
                if (p == t || p[-1] == '\n')
                        return p - t;
        return -1;
}

static void test_signal_to_kernel_reaches_everyone(void **state)
{
        long p1, p2, p3, p4;

        (void)state;
        reset();
        TL_EQ(make_tree(tl.k, 3), 1); /* 1 -> 2 -> 3 */
        TL_EQ(make_tree(tl.k, 1), 4);
        tl_transcript_clear();
        signal_and_slice(POE_KERNEL, "USR1");
        p1 = line_pos("1 got USR1");
        p2 = line_pos("2 got USR1");
        p3 = line_pos("3 got USR1");
        p4 = line_pos("4 got USR1");
        /* Everyone once; descendants before their ancestors.  The order
         * between subtrees is POE's hash order, so it is not checked. */
        assert_true(p1 >= 0 && p2 >= 0 && p3 >= 0 && p4 >= 0);
        assert_true(p3 < p2 && p2 < p1);
        TL_EQ(strlen(tl_transcript()), 4 * strlen("1 got USR1\n"));
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/*
 * The tree a signal walks is kept for the next signal to the same
 * session (sessions.c: collect_tree) only while no children list
 * changes: a session moved, made or stopped between two signals is
 * reached, or not, as if the tree were collected anew.
 */
static void test_kept_tree_follows_changes(void **state)
{
        (void)state;
        reset();
        TL_EQ(make_tree(tl.k, 3), 1); /* 1 -> 2 -> 3 */
        tl_transcript_clear();
        signal_and_slice(1, "USR1");
        signal_and_slice(1, "USR1");
        TL_EXPECT("3 got USR1", "2 got USR1", "1 got USR1", "3 got USR1", "2 got USR1",
                  "1 got USR1");
        /* Moved: 3 leaves 1's tree for the kernel's. */
        TL_EQ(poe_kernel_call(tl.k, 3, "detach", POE_NOARGS, NULL), 0);
        tl_transcript_clear();
        signal_and_slice(1, "USR1");
        TL_EXPECT("2 got USR1", "1 got USR1");
        /* Made: a new child of the kernel's. */
        signal_and_slice(POE_KERNEL, "USR1");
        TL_EQ(strlen(tl_transcript()), 3 * strlen("1 got USR1\n"));
        TL_EQ(make_tree(tl.k, 1), 4);
        tl_transcript_clear();
        signal_and_slice(POE_KERNEL, "USR1");
        assert_true(line_pos("4 got USR1") >= 0);
        TL_EQ(strlen(tl_transcript()), 4 * strlen("1 got USR1\n"));
        /* Stopped: 3 is collected once its alias goes, in the next slice. */
        TL_EQ(poe_kernel_call(tl.k, 3, "drop", POE_NOARGS, NULL), 0);
        signal_and_slice(POE_KERNEL, "USR2"); /* watched by nobody */
        assert_false(alive(3));
        tl_transcript_clear();
        signal_and_slice(POE_KERNEL, "USR1");
        assert_true(line_pos("3 got USR1") < 0);
        TL_EQ(strlen(tl_transcript()), 3 * strlen("1 got USR1\n"));
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/*
 * The walk of a signal to an unchanged tree reads the kept tree itself
 * (sessions.c: poe__session_tree_lend).  A watcher's handler that stops
 * the kernel collects the whole tree in the middle of that walk: every
 * session stops, the rest of the walk finds them gone, and the kept
 * tree is not overwritten under it.
 */
static void test_stop_in_walk_of_kept_tree(void **state)
{
        (void)state;
        reset();
        TL_EQ(make_tree(tl.k, 3), 1); /* 1 -> 2 -> 3 */
        signal_and_slice(1, "USR1");
        signal_and_slice(1, "USR1");
        tl_transcript_clear();
        stopper = 2;
        signal_and_slice(1, "USR1");
        TL_EXPECT("3 got USR1", "2 got USR1", "3 _stop", "2 _child lose 3", "2 _stop",
                  "1 _child lose 2", "1 _stop");
        assert_false(alive(1) || alive(2) || alive(3));
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- who stops ---- */

static void test_handled_terminal_signal_stops_nobody(void **state)
{
        (void)state;
        reset();
        make_tree(tl.k, 3);
        tl_transcript_clear();
        /* One handler anywhere in the walk saves every touched session. */
        handles[1] = true;
        signal_and_slice(1, "TERM");
        TL_EXPECT("3 got TERM", "2 got TERM", "1 got TERM", "1 handled");
        assert_true(alive(1) && alive(2) && alive(3));
        handles[1] = false;
        handles[3] = true;
        signal_and_slice(1, "HUP");
        TL_EXPECT("3 got HUP", "3 handled", "2 got HUP", "1 got HUP");
        assert_true(alive(1) && alive(2) && alive(3));
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_unhandled_terminal_signal_stops_subtree(void **state)
{
        (void)state;
        reset();
        make_tree(tl.k, 3);
        tl_transcript_clear();
        signal_and_slice(2, "TERM");
        /* Children stop first, each telling its parent (POE's
         * _data_sig_free_terminated_sessions walks the touched list). */
        TL_EXPECT("3 got TERM", "2 got TERM", "3 _stop", "2 _child lose 3", "2 _stop",
                  "1 _child lose 2");
        assert_true(alive(1));
        assert_false(alive(2));
        assert_false(alive(3));
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static poe_value on_start_plain_chain(poe_ctx *c)
{
        /* No watchers at all, and an alias to stay alive. */
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), poe_ctx_session(c) == 1 ? "p1" : "p2"), 0);
        if (poe_ctx_session(c) == 1)
                TL_CREATE(poe_ctx_kernel(c), { "_start", on_start_plain_chain },
                          { "_stop", tl_h_log });
        return poe_nil();
}

static void test_unwatched_terminal_signal_stops(void **state)
{
        (void)state;
        reset();
        TL_CREATE(tl.k, { "_start", on_start_plain_chain }, { "_stop", tl_h_log });
        signal_and_slice(1, "INT");
        TL_EXPECT("2 _stop", "1 _stop");
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_benign_signal_stops_nobody(void **state)
{
        (void)state;
        reset();
        make_tree(tl.k, 2);
        tl_transcript_clear();
        /* Watched, not handled. */
        signal_and_slice(1, "USR1");
        TL_EXPECT("2 got USR1", "1 got USR1");
        /* Not watched by anyone. */
        signal_and_slice(1, "FOO");
        TL_EXPECT_NONE();
        signal_and_slice(POE_KERNEL, "WINCH");
        assert_true(alive(1) && alive(2));
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_zombie_always_stops(void **state)
{
        (void)state;
        reset();
        make_tree(tl.k, 2);
        make_tree(tl.k, 1);
        tl_transcript_clear();
        handles[1] = handles[2] = handles[3] = true;
        signal_and_slice(1, "ZOMBIE");
        TL_EXPECT("2 got ZOMBIE", "2 handled", "1 got ZOMBIE", "1 handled", "2 _stop",
                  "1 _child lose 2", "1 _stop");
        assert_false(alive(1));
        assert_true(alive(3));
        /* UIDESTROY is the other signal nobody can handle. */
        TL_EQ(poe_kernel_signal(tl.k, 3, "UIDESTROY", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("3 _stop");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_terminal_signal_to_kernel_ends_run(void **state)
{
        (void)state;
        reset();
        make_tree(tl.k, 3);
        make_tree(tl.k, 2);
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "QUIT", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_signal(tl.k, 1, "QUIT", POE_NOARGS), -ESRCH);
}

/* ---- sig and signal errors and watcher management ---- */

static poe_value on_start_sig_errors(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_sig(k, NULL, "got", POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_sig(k, "", "got", POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_sig(k, "USR1", "got", NULL, 1), -EINVAL);
        /* Removing a watcher that does not exist is fine. */
        TL_EQ(poe_kernel_sig(k, "NEVER", NULL, POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig(k, "USR1", "first", POE_NOARGS), 0);
        /* A second sig replaces the first. */
        TL_EQ(poe_kernel_sig(k, "USR1", "got", POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig(k, "USR2", "got", POE_NOARGS), 0);
        TL_EQ(poe_kernel_alias_set(k, "held"), 0);
        return poe_nil();
}

static poe_value on_unwatch(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "USR2", NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void test_sig_errors_and_replacement(void **state)
{
        poe_sid sid;

        (void)state;
        reset();
        TL_EQ(poe_kernel_sig(tl.k, "USR1", "got", POE_NOARGS), -EPERM);
        sid = TL_CREATE(tl.k, { "_start", on_start_sig_errors }, { "got", on_got },
                        { "first", tl_h_log }, { "unwatch", on_unwatch }, { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_signal(tl.k, sid, NULL, POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_signal(tl.k, sid, "", POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_signal(tl.k, 42, "USR1", POE_NOARGS), -ESRCH);
        signal_and_slice(sid, "USR1");
        signal_and_slice(sid, "USR2");
        TL_EXPECT("1 got USR1", "1 got USR2");
        TL_EQ(poe_kernel_post(tl.k, sid, "unwatch", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        signal_and_slice(sid, "USR2");
        signal_and_slice(sid, "USR1");
        TL_EXPECT("1 got USR1");
        /* sig_handled outside a signal is harmless. */
        TL_EQ(poe_kernel_sig_handled(tl.k), 0);
        signal_and_slice(sid, "TERM");
        assert_false(alive(sid));
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static poe_value on_start_only_watch(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "USR1", "got", POE_NOARGS), 0);
        return poe_nil();
}

/* Watchers do not keep a session alive (POE 1.37: sig() holds no
 * reference). */
static void test_watchers_do_not_keep_alive(void **state)
{
        poe_sid sid;

        (void)state;
        reset();
        sid = TL_CREATE(tl.k, { "_start", on_start_only_watch }, { "got", on_got },
                        { "_stop", tl_h_log });
        TL_EQ(tl_refcnt(tl.k, sid), 1); /* the GC event */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 _stop");
        assert_false(alive(sid));
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- IDLE and ZOMBIE ---- */

static poe_value on_start_idle_watcher(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "a"), 0);
        TL_EQ(poe_kernel_sig(k, "IDLE", "got", POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig(k, "ZOMBIE", "got", POE_NOARGS), 0);
        TL_EQ(poe_kernel_yield(k, "work", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_work(poe_ctx *c)
{
        (void)c;
        tl_log("work");
        return poe_nil();
}

static poe_value on_start_alias_b(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "b"), 0);
        return poe_nil();
}

static void test_idle_then_zombie(void **state)
{
        (void)state;
        reset();
        handles[1] = true;
        TL_CREATE(tl.k, { "_start", on_start_idle_watcher }, { "got", on_got }, { "work", on_work },
                  { "_stop", tl_h_log });
        TL_CREATE(tl.k, { "_start", on_start_alias_b }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* perl: work / 1 got IDLE / 1 got ZOMBIE / 1 _stop /
         * 2 _stop, the two stops in hash order. */
        assert_true(strncmp(tl_transcript(), "work\n1 got IDLE\n1 handled\n1 got ZOMBIE\n"
                            "1 handled\n",
                            strlen("work\n1 got IDLE\n1 handled\n1 got ZOMBIE\n1 handled\n")) == 0);
        assert_true(line_pos("1 _stop") > 0 && line_pos("2 _stop") > 0);
        TL_EQ(tl_session_count(tl.k), 0);
}

static int idle_count;

static poe_value on_idle_more(poe_ctx *c)
{
        tl_log_ctx(c);
        TL_EQ(poe_kernel_sig_handled(poe_ctx_kernel(c)), 0);
        /* Work queued during IDLE means the kernel was not idle after
         * all: no ZOMBIE follows. */
        if (idle_count++ < 2)
                TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "more", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_start_idle_more(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "a"), 0);
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "IDLE", "got", POE_NOARGS), 0);
        return poe_nil();
}

static void test_idle_with_new_work_is_raised_again(void **state)
{
        (void)state;
        reset();
        idle_count = 0;
        TL_CREATE(tl.k, { "_start", on_start_idle_more }, { "got", on_idle_more },
                  { "more", tl_h_log }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* perl printed the same. */
        TL_EXPECT("1 got IDLE", "1 more", "1 got IDLE", "1 more", "1 got IDLE", "1 _stop");
}

static void test_unhandled_idle_stops_alias_holders(void **state)
{
        (void)state;
        reset();
        TL_CREATE(tl.k, { "_start", on_start_alias_b }, { "_stop", tl_h_log });
        /* First slice: the GC event; nothing is left but the alias. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT_NONE();
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        /* Next slice: the kernel finds itself idle and raises IDLE,
         * which nobody handles. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 _stop");
        TL_EQ(tl_run_to_end(tl.k, 5), 0);
}

/* An extra reference means work may still come from outside: no IDLE. */
static void test_no_idle_while_extref_held(void **state)
{
        poe_sid sid;

        (void)state;
        reset();
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "outside"), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        poe__test_if_idle(tl.k);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "outside"), 0);
        /* Marked but not yet swept: an idle test now queues IDLE. */
        poe__test_if_idle(tl.k);
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _stop");
}

/*
 * POE's _dispatch_signal_event, step 1c: "The DIE signal propagates up
 * through parents, too" (POE/Kernel.pm 940-948).  A DIE sent to session
 * 2 reaches 3, 2 and its ancestor 1, not the unrelated 4.  perl
 * printed "3 got DIE", "2 got DIE", "1 got DIE".
 */
static void test_die_reaches_ancestors(void **state)
{
        (void)state;
        reset();
        make_tree(tl.k, 3);
        make_tree(tl.k, 1);
        tl_transcript_clear();
        handles[1] = handles[2] = handles[3] = handles[4] = true;
        signal_and_slice(2, "DIE");
        TL_EXPECT("3 got DIE", "3 handled", "2 got DIE", "2 handled", "1 got DIE", "1 handled");
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_signal_args),
                TL_TEST(test_take_signal_arg_with_watcher_args),
                TL_TEST(test_propagation_children_first),
                TL_TEST(test_signal_to_kernel_reaches_everyone),
                TL_TEST(test_kept_tree_follows_changes),
                TL_TEST(test_stop_in_walk_of_kept_tree),
                TL_TEST(test_handled_terminal_signal_stops_nobody),
                TL_TEST(test_unhandled_terminal_signal_stops_subtree),
                TL_TEST(test_unwatched_terminal_signal_stops),
                TL_TEST(test_benign_signal_stops_nobody),
                TL_TEST(test_zombie_always_stops),
                TL_TEST(test_terminal_signal_to_kernel_ends_run),
                TL_TEST(test_sig_errors_and_replacement),
                TL_TEST(test_watchers_do_not_keep_alive),
                TL_TEST(test_idle_then_zombie),
                TL_TEST(test_idle_with_new_work_is_raised_again),
                TL_TEST(test_unhandled_idle_stops_alias_holders),
                TL_TEST(test_no_idle_while_extref_held),
                TL_TEST(test_die_reaches_ancestors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
