/*
 * Hostile and unusual use: handlers that stop or rewrite their own
 * session while running, API calls with stale ids or from the wrong
 * place, work done from _stop, detaching, very deep trees and many
 * sessions.  None of it may crash, corrupt the kernel's books or leak;
 * where POE defines an answer the test asserts it, as perl printed it
 * for the same scenario.
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

/* ---- a handler stops its own session ---- */

static int heap_value = 7;

static poe_value on_stop_self(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid self = poe_ctx_session(c);

        poe_kernel_stop(k);
        /* Everything the handler was given is still readable. */
        TL_EQ(poe_ctx_session(c), self);
        assert_ptr_equal(poe_ctx_heap(c), &heap_value);
        assert_string_equal(poe_ctx_state(c), "go");
        assert_string_equal(poe_value_str(poe_ctx_arg(c, 0)), "arg");
        TL_EQ(poe_ctx_sender(c), POE_KERNEL);
        /* The session itself is gone. */
        TL_EQ(poe_kernel_ID_id_to_session(k, self), -ESRCH);
        TL_EQ(poe_kernel_post(k, self, "go", POE_NOARGS), -ESRCH);
        tl_check_kernel(k);
        tl_log("returned");
        return poe_str("done");
}

static void test_handler_stops_own_session(void **state)
{
        const poe_handler h[] = { { "_start", tl_h_nop }, { "go", on_stop_self },
                                  { "_stop", tl_h_log } };
        poe_session_spec spec = tl_spec(h, 3, &heap_value);
        poe_value ret;
        poe_sid sid;

        (void)state;
        sid = tl_create_spec(tl.k, &spec);
        TL_EQ(poe_kernel_post(tl.k, sid, "go", POE_ARGS(poe_str("arg"))), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _stop", "returned");
        /* The same through call(): the return value still arrives. */
        sid = tl_create_spec(tl.k, &spec);
        TL_EQ(poe_kernel_call(tl.k, sid, "go", POE_ARGS(poe_str("arg")), &ret), 0);
        assert_string_equal(poe_value_str(&ret), "done");
        TL_EXPECT("2 _stop", "returned");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* A session whose watcher gets an unhandled TERM is stopped when the
 * signal's walk ends, right after its own handler returned. */
static poe_value on_start_watch_term(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "TERM", "term", POE_NOARGS), 0);
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "t"), 0);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "kill_me", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_kill_me(poe_ctx *c)
{
        TL_EQ(poe_kernel_signal(poe_ctx_kernel(c), poe_ctx_session(c), "TERM", POE_NOARGS), 0);
        tl_log("signalled");
        return poe_nil();
}

static poe_value on_term(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log_ctx(c);
        /* Still alive while its watcher runs; the stop comes after. */
        TL_EQ(poe_kernel_ID_id_to_session(k, poe_ctx_session(c)), 0);
        /* Removing its own watcher mid-dispatch is harmless. */
        TL_EQ(poe_kernel_sig(k, "TERM", NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void test_signal_to_self(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_watch_term }, { "kill_me", on_kill_me },
                  { "term", on_term }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("signalled", "1 term TERM", "1 _stop");
}

/* A session stopped underneath its running handler, by a handler of
 * another session that it called.  What the handler then gets from the
 * API is recorded and checked after the run, so that a failure does
 * not leave the kernel in the middle of a dispatch. */
static struct {
        int yield, alias_set, sig, state, detach, create;
        poe_sid self, child, parent;
        int parent_r, parent_exists;
} under;

static poe_value on_call_stopper(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_session_spec spec = TL_SPEC({ "_start", tl_h_log }, { "_stop", tl_h_log });

        under.self = poe_ctx_session(c);
        TL_EQ(poe_kernel_call_alias(k, "stopper", "stop_all", POE_NOARGS, NULL), 0);
        tl_log("back in %llu", (unsigned long long)under.self);
        TL_EQ(poe_kernel_ID_id_to_session(k, under.self), -ESRCH);
        under.yield = poe_kernel_yield(k, "x", POE_NOARGS);
        under.alias_set = poe_kernel_alias_set(k, "late");
        under.sig = poe_kernel_sig(k, "USR1", "x", POE_NOARGS);
        under.state = poe_kernel_state(k, "x", tl_h_nop, NULL);
        under.detach = poe_kernel_detach_myself(k);
        under.create = poe_session_create(k, &spec, &under.child);
        if (under.create == 0) {
                under.parent_r = poe_session_get_parent(k, under.child, &under.parent);
                under.parent_exists = poe_kernel_ID_id_to_session(k, under.parent) == 0;
        }
        return poe_nil();
}

static poe_value on_stop_all(poe_ctx *c)
{
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value on_start_stopper(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "stopper"), 0);
        return poe_nil();
}

static void test_stopped_underneath_by_nested_call(void **state)
{
        poe_sid a;

        (void)state;
        memset(&under, 0, sizeof(under));
        a = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "go", on_call_stopper },
                      { "_stop", tl_h_log });
        TL_CREATE(tl.k, { "_start", on_start_stopper }, { "stop_all", on_stop_all },
                  { "_stop", tl_h_log });
        TL_EQ(poe_kernel_post(tl.k, a, "go", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_true(strncmp(tl_transcript(), "2 _stop\n1 _stop\nback in 1\n", 26) == 0 ||
                    strncmp(tl_transcript(), "1 _stop\n2 _stop\nback in 1\n", 26) == 0);
        /* Whatever the API now says, it says it safely. */
        TL_EQ(under.yield, -EPERM);
        TL_EQ(under.alias_set, -EPERM);
        TL_EQ(under.sig, -EPERM);
        TL_EQ(under.state, -ESRCH);
        TL_EQ(under.detach, -EPERM);
        /* A session made now cannot be the child of a freed session:
         * either it is refused, or it lives under a live parent.  (POE
         * itself traps here: _data_ses_allocate's "parent session ...
         * does not exist", POE/Resource/Sessions.pm 99.) */
        if (under.create == 0) {
                TL_EQ(under.parent_r, 0);
                assert_true(under.parent != under.self);
                assert_true(under.parent_exists);
        } else {
                assert_true(under.create == -ESRCH || under.create == -EPERM);
        }
        TL_EQ(tl_session_count(tl.k), 0);
}

/* ---- a handler changes its own handler table ---- */

static int obj;

static poe_value on_remove_self(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char name[16];
        int i;

        TL_EQ(poe_kernel_state(k, "ev", NULL, NULL), 0);
        /* Growing the table moves every slot, the running one too. */
        for (i = 0; i < 100; i++) {
                snprintf(name, sizeof(name), "filler%d", i);
                TL_EQ(poe_kernel_state(k, name, tl_h_nop, NULL), 0);
        }
        assert_ptr_equal(poe_ctx_object(c), &obj);
        assert_string_equal(poe_ctx_state(c), "ev");
        tl_log("removed");
        TL_EQ(poe_kernel_yield(k, "ev", POE_NOARGS), 0);
        return poe_nil();
}

static void test_handler_removes_own_state(void **state)
{
        const poe_handler h[] = { { "_start", tl_h_nop }, { "ev", on_remove_self, &obj },
                                  { "_default", tl_h_log }, { "_stop", tl_h_nop } };
        poe_session_spec spec = tl_spec(h, 4, NULL);
        poe_sid sid;

        (void)state;
        sid = tl_create_spec(tl.k, &spec);
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("removed", "1 _default ev []");
}

/* ---- work done from _stop ---- */

static int late_destroyed;

static poe_value on_stop_busy(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid self = poe_ctx_session(c);

        /* POE accepts all of these from _stop (perl printed success
         * for each), then frees the session with everything it just
         * acquired: the events to and from it are dropped. */
        TL_EQ(poe_kernel_yield(k, "late", POE_ARGS(poe_ptr(&late_destroyed, tl_count_destroy))), 0);
        TL_EQ(poe_kernel_post(k, self, "late", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post_alias(k, "b", "late", POE_NOARGS), 0);
        TL_EQ(poe_kernel_alias_set(k, "dying"), 0);
        TL_EQ(poe_kernel_refcount_increment(k, self, "x"), 1);
        TL_EQ(poe_kernel_sig(k, "USR1", "late", POE_NOARGS), 0);
        TL_EQ(poe_kernel_signal(k, self, "USR1", POE_NOARGS), 0);
        TL_EQ(late_destroyed, 0);
        tl_check_kernel(k);
        tl_log("a _stop done");
        return poe_nil();
}

static poe_value on_start_b(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "b"), 0);
        return poe_nil();
}

static void test_work_from_stop_is_dropped(void **state)
{
        poe_sid a, b, sid = 0;

        (void)state;
        late_destroyed = 0;
        b = TL_CREATE(tl.k, { "_start", on_start_b }, { "late", tl_h_log }, { "tick", tl_h_nop },
                      { "_stop", tl_h_log });
        a = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "late", tl_h_log },
                      { "_stop", on_stop_busy });
        TL_EQ(poe_kernel_post(tl.k, b, "tick", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("a _stop done");
        assert_false(alive(a));
        TL_EQ(late_destroyed, 1);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "dying", &sid), -ESRCH);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* b never got "late" (perl: no "b got late" line). */
        TL_EXPECT("1 _stop");
}

/* A session made in _stop belongs to the stopping session, which gets
 * _child create; when that is freed, the new one moves silently to the
 * grandparent (POE's _data_ses_free; perl printed no _parent for it). */
static poe_value on_stop_spawn(poe_ctx *c)
{
        TL_CREATE(poe_ctx_kernel(c), { "_start", tl_h_log }, { "_parent", tl_h_log },
                  { "_stop", tl_h_log }, { "tick", tl_h_nop });
        tl_log("%llu _stop done", (unsigned long long)poe_ctx_session(c));
        return poe_nil();
}

static poe_value on_start_grandparent(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "gp"), 0);
        TL_CREATE(k, { "_start", tl_h_nop }, { "_stop", on_stop_spawn }, { "_child", tl_h_log },
                  { "_parent", tl_h_log });
        return poe_nil();
}

static void test_stop_handler_creates_session(void **state)
{
        poe_sid gp, parent = 99;

        (void)state;
        gp = TL_CREATE(tl.k, { "_start", on_start_grandparent }, { "_child", tl_h_log },
                       { "tick", tl_h_nop }, { "_stop", tl_h_log });
        TL_EXPECT("1 _child create 2 undef");
        TL_EQ(poe_kernel_post(tl.k, gp, "tick", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("3 _start", "2 _child create 3 undef", "2 _stop done", "1 _child lose 2 undef");
        assert_false(alive(2));
        assert_true(alive(3));
        TL_EQ(poe_session_get_parent(tl.k, 3, &parent), 0);
        TL_EQ(parent, gp);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_post(tl.k, gp, "tick", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        /* Then it is collected like any idle session. */
        TL_EXPECT("3 _stop", "1 _child lose 3 undef");
        TL_EQ(poe_kernel_signal(tl.k, gp, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _stop");
}

/* ---- stale ids ---- */

static void test_stale_ids_everywhere(void **state)
{
        const char *names[2];
        poe_value v;
        poe_sid sid, parent;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_post(tl.k, sid, "x", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_call(tl.k, sid, "x", POE_NOARGS, NULL), -ESRCH);
        TL_EQ(poe_kernel_signal(tl.k, sid, "TERM", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "t"), -ESRCH);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "t"), -ESRCH);
        TL_EQ(poe_session_option_set(tl.k, sid, "o", poe_int(1), NULL), -ESRCH);
        TL_EQ(poe_session_option_get(tl.k, sid, "o", &v), -ESRCH);
        TL_EQ(poe_session_get_parent(tl.k, sid, &parent), -ESRCH);
        TL_EQ(poe_kernel_alias_list(tl.k, sid, names, 2), -ESRCH);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
        TL_EQ(poe_kernel_detach_child(tl.k, sid), -ESRCH);
        assert_null(poe_session_get_heap(tl.k, sid));
        /* Ids never issued are just as unknown. */
        TL_EQ(poe_kernel_post(tl.k, 1000000, "x", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_signal(tl.k, UINT64_MAX, "TERM", POE_NOARGS), -ESRCH);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
}

/* ---- alias collisions ---- */

static poe_value on_start_claim(poe_ctx *c)
{
        tl_log("%llu claim %d", (unsigned long long)poe_ctx_session(c),
               poe_kernel_alias_set(poe_ctx_kernel(c), "the-one"));
        return poe_nil();
}

static void test_alias_collision(void **state)
{
        poe_sid sid = 0;

        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_claim }, { "_stop", tl_h_log });
        TL_CREATE(tl.k, { "_start", on_start_claim }, { "_stop", tl_h_log });
        TL_CREATE(tl.k, { "_start", on_start_claim }, { "_stop", tl_h_log });
        TL_EXPECT("1 claim 0", "2 claim -17", "3 claim -17");
        TL_EQ(poe_kernel_alias_resolve(tl.k, "the-one", &sid), 0);
        TL_EQ(sid, 1);
        /* The losers have nothing and are collected; the winner stays. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        assert_true(alive(1));
        assert_false(alive(2));
        assert_false(alive(3));
        tl_transcript_clear();
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _stop");
}

/* ---- calls from outside handlers ---- */

static void test_outside_handlers(void **state)
{
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_yield(tl.k, "x", POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_alias_set(tl.k, "x"), -EPERM);
        TL_EQ(poe_kernel_sig(tl.k, "USR1", "x", POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_detach_myself(tl.k), -EPERM);
        TL_EQ(poe_kernel_detach_child(tl.k, sid), -EPERM);
        TL_EQ(poe_kernel_state(tl.k, "x", tl_h_nop, NULL), -ESRCH);
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- detaching ---- */

static poe_value on_start_kid(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char alias[8];

        snprintf(alias, sizeof(alias), "k%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(k, alias), 0);
        /* Session 3 leaves at once: no _child lose, since its parent
         * never saw a create, and then no create either. */
        if (poe_ctx_session(c) == 3)
                tl_log("3 detach_myself in _start: %d", poe_kernel_detach_myself(k));
        return poe_nil();
}

static poe_value on_detach_self(poe_ctx *c)
{
        tl_log("%llu detach_myself: %d", (unsigned long long)poe_ctx_session(c),
               poe_kernel_detach_myself(poe_ctx_kernel(c)));
        return poe_nil();
}

static poe_value on_start_family(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int i;

        TL_EQ(poe_kernel_alias_set(k, "p"), 0);
        for (i = 0; i < 3; i++)
                TL_CREATE(k, { "_start", on_start_kid }, { "_parent", tl_h_log },
                          { "self", on_detach_self }, { "_stop", tl_h_nop });
        return poe_nil();
}

static poe_value on_family_go(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log("detach_child 2: %d", poe_kernel_detach_child(k, 2));
        tl_log("detach_child 2 again: %d", poe_kernel_detach_child(k, 2));
        tl_log("detach_child 5 (a stranger): %d", poe_kernel_detach_child(k, 5));
        tl_log("detach_child 99: %d", poe_kernel_detach_child(k, 99));
        tl_log("detach_child self: %d", poe_kernel_detach_child(k, 1));
        TL_EQ(poe_kernel_call_alias(k, "k4", "self", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_call_alias(k, "k4", "self", POE_NOARGS, NULL), 0);
        return poe_nil();
}

static void test_detach(void **state)
{
        poe_sid p, parent;
        int i;

        (void)state;
        p = TL_CREATE(tl.k, { "_start", on_start_family }, { "_child", tl_h_log },
                      { "go", on_family_go }, { "_stop", tl_h_nop });
        TL_EQ(TL_CREATE(tl.k, { "_start", on_start_b }, { "_stop", tl_h_nop }), 5);
        TL_EQ(poe_kernel_post(tl.k, p, "go", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        /* perl printed the same, with EPERM 1, ESRCH 3. */
        TL_EXPECT("1 _child create 2 undef", "3 _parent 1 0", "3 detach_myself in _start: 0",
                  "1 _child create 4 undef", "1 _child lose 2 undef", "2 _parent 1 0",
                  "detach_child 2: 0", "detach_child 2 again: -1",
                  "detach_child 5 (a stranger): -1", "detach_child 99: -3",
                  "detach_child self: -1", "1 _child lose 4 undef", "4 _parent 1 0",
                  "4 detach_myself: 0", "4 detach_myself: -1");
        for (i = 2; i <= 4; i++) {
                TL_EQ(poe_session_get_parent(tl.k, (poe_sid)i, &parent), 0);
                TL_EQ(parent, POE_KERNEL);
        }
        TL_EQ(tl_reason(tl.k, p, POE_REASON_CHILDREN), 0);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- deep trees ---- */

#define DEPTH 1000

static int stops;

static poe_value on_count_stop(poe_ctx *c)
{
        (void)c;
        stops++;
        return poe_nil();
}

static poe_value on_spawn_deeper(poe_ctx *c)
{
        if (poe_ctx_session(c) < DEPTH)
                TL_CREATE(poe_ctx_kernel(c), { "_start", tl_h_nop }, { "spawn", on_spawn_deeper },
                          { "_stop", on_count_stop }, { "_child", tl_h_nop });
        if (poe_ctx_session(c) < DEPTH)
                TL_EQ(poe_kernel_post(poe_ctx_kernel(c), poe_ctx_session(c) + 1, "spawn",
                                      POE_NOARGS),
                      0);
        return poe_nil();
}

static poe_value on_start_nest(poe_ctx *c)
{
        /* Each _start creates the next level from inside itself. */
        if (poe_ctx_session(c) < DEPTH)
                TL_CREATE(poe_ctx_kernel(c), { "_start", on_start_nest },
                          { "_stop", on_count_stop }, { "_child", tl_h_nop },
                          { "hold", tl_h_nop });
        return poe_nil();
}

static void check_chain(void)
{
        poe_sid parent = 0;

        TL_EQ(tl_session_count(tl.k), DEPTH);
        TL_EQ(poe_session_get_parent(tl.k, DEPTH, &parent), 0);
        TL_EQ(parent, DEPTH - 1);
        tl_check_kernel(tl.k);
}

/* A chain built one level per timeslice, collected in one sweep when
 * the leaf runs out of work: each stop releases its parent, so the
 * cascade must not recurse. */
static void test_deep_tree_collected(void **state)
{
        poe_sid root;

        (void)state;
        stops = 0;
        root = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "spawn", on_spawn_deeper },
                         { "_stop", on_count_stop }, { "_child", tl_h_nop });
        TL_EQ(poe_kernel_post(tl.k, root, "spawn", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, stops > 0, DEPTH + 10);
        TL_EQ(stops, DEPTH);
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_deep_tree_nested_create_then_signal(void **state)
{
        (void)state;
        stops = 0;
        /* 1000 nested _start dispatches on the C stack. */
        TL_CREATE(tl.k, { "_start", on_start_nest }, { "_stop", on_count_stop },
                  { "_child", tl_h_nop }, { "hold", tl_h_nop });
        check_chain();
        TL_EQ(poe_kernel_refcount_increment(tl.k, DEPTH, "hold"), 1);
        TL_EQ(poe_kernel_signal(tl.k, 1, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(stops, DEPTH);
}

static void test_deep_tree_stop(void **state)
{
        (void)state;
        stops = 0;
        TL_CREATE(tl.k, { "_start", on_start_nest }, { "_stop", on_count_stop },
                  { "_child", tl_h_nop }, { "hold", tl_h_nop });
        check_chain();
        poe_kernel_stop(tl.k);
        TL_EQ(stops, DEPTH);
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_deep_tree_freed(void **state)
{
        (void)state;
        stops = 0;
        TL_CREATE(tl.k, { "_start", on_start_nest }, { "_stop", on_count_stop },
                  { "_child", tl_h_nop }, { "hold", tl_h_nop });
        check_chain();
        tl_kernel_free_checked();
        TL_EQ(stops, 0);
}

/* ---- many sessions ---- */

#define MANY 10000

static int pings;

static poe_value on_ping(poe_ctx *c)
{
        (void)c;
        pings++;
        return poe_nil();
}

static poe_value on_start_ping(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "ping", POE_NOARGS), 0);
        return poe_nil();
}

static void test_many_sessions(void **state)
{
        poe_sid sid = 0;
        int i;

        (void)state;
        stops = pings = 0;
        for (i = 1; i <= MANY; i++) {
                sid = TL_CREATE(tl.k, { "_start", on_start_ping }, { "ping", on_ping },
                                { "_stop", on_count_stop });
                TL_EQ(sid, i);
        }
        TL_EQ(tl_session_count(tl.k), MANY);
        TL_EQ(poe_kernel_get_event_count(tl.k), 2 * MANY);
        tl_check_kernel(tl.k);
        /* Everything happens in the first slice: pings, then the sweep. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(pings, MANY);
        TL_EQ(stops, MANY);
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* And ids keep counting. */
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_nop }), MANY + 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_handler_stops_own_session),
                TL_TEST(test_signal_to_self),
                TL_TEST(test_stopped_underneath_by_nested_call),
                TL_TEST(test_handler_removes_own_state),
                TL_TEST(test_work_from_stop_is_dropped),
                TL_TEST(test_stop_handler_creates_session),
                TL_TEST(test_stale_ids_everywhere),
                TL_TEST(test_alias_collision),
                TL_TEST(test_outside_handlers),
                TL_TEST(test_detach),
                TL_TEST(test_deep_tree_collected),
                TL_TEST(test_deep_tree_nested_create_then_signal),
                TL_TEST(test_deep_tree_stop),
                TL_TEST(test_deep_tree_freed),
                TL_TEST(test_many_sessions),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
