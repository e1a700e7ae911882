/*
 * Exceptions: poe_die, the DIE signal and its fields, where DIE goes
 * (descendants, the session, its ancestors, never siblings), handled
 * and unhandled dies, dies in call(), in _stop, in a DIE handler, and
 * with POE_CATCH_EXCEPTIONS=0.
 *
 * Expected behaviour is POE 1.37's: Kernel.pm's _dispatch_event (the
 * eval around a handler, the DIE event it queues), _dispatch_signal_event
 * (step 1c: DIE climbs to the ancestors; the rethrow when nobody
 * handled it), _data_ev_dispatch_due (stop() once kr_exception is set)
 * and call() (the rethrow into the caller).  The orders and messages
 * were checked against small perl scripts doing the same; the oracle
 * scenarios die-handled and die-unhandled keep the main ones honest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* The line numbers the assertions expect, recorded next to the calls. */
static int die_line;
static int post_line;

/* A session of the family below: its name is its alias and its heap. */
typedef struct member {
        const char *name;
        bool handle;        /* call sig_handled from on_die */
        poe_exception seen; /* what on_die read; its strings are borrowed, */
        char error_str[256], event[64], from_state[64], file[256]; /* so copied */
        bool from_state_nil;
        int n_die;
} member;

static member *heap_of(poe_ctx *c)
{
        return poe_ctx_heap(c);
}

static poe_value m_start(poe_ctx *c)
{
        member *m = heap_of(c);
        poe_kernel *k = poe_ctx_kernel(c);

        /* The alias keeps every member alive until the kernel idles. */
        TL_EQ(poe_kernel_alias_set(k, m->name), 0);
        TL_EQ(poe_kernel_sig(k, "DIE", "on_die", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value m_stop(poe_ctx *c)
{
        tl_log("%s _stop", heap_of(c)->name);
        return poe_nil();
}

static void copy_str(char *dst, size_t n, const char *s)
{
        snprintf(dst, n, "%s", s ? s : "");
}

static poe_value m_on_die(poe_ctx *c)
{
        member *m = heap_of(c);
        poe_exception e;

        tl_log("%s on_die %s", m->name, tl_fmt(poe_ctx_arg(c, 0)));
        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        m->seen = e;
        m->n_die++;
        copy_str(m->error_str, sizeof(m->error_str), e.error_str);
        copy_str(m->event, sizeof(m->event), e.event);
        copy_str(m->from_state, sizeof(m->from_state), e.from_state);
        copy_str(m->file, sizeof(m->file), e.file);
        m->from_state_nil = e.from_state == NULL;
        /* The DIE signal itself comes from the kernel. */
        TL_EQ(poe_ctx_sender(c), POE_KERNEL);
        if (m->handle)
                TL_EQ(poe_kernel_sig_handled(poe_ctx_kernel(c)), 0);
        return poe_nil();
}

static poe_value m_boom(poe_ctx *c)
{
        tl_log("%s boom", heap_of(c)->name);
        die_line = __LINE__ + 1;
        poe_die(c, "oops %d", 42);
        tl_log("%s not reached", heap_of(c)->name);
        return poe_nil();
}

/* Posts boom to C from a handler, so the DIE names a sender and state. */
static poe_value m_kick(poe_ctx *c)
{
        poe_sid target = poe_ctx_arg(c, 0)->u.sid;

        post_line = __LINE__ + 1;
        TL_EQ(poe_kernel_post(poe_ctx_kernel(c), target, "boom", POE_NOARGS), 0);
        return poe_nil();
}

static const poe_handler member_handlers[] = {
        { "_start", m_start, NULL },  { "_stop", m_stop, NULL }, { "on_die", m_on_die, NULL },
        { "boom", m_boom, NULL },     { "kick", m_kick, NULL },
};

/* The family: P with children C and S, and C's child G; T stands alone.
 * Each is made from its parent's _start, so the tree is P(C(G), S). */
static member fam[5];
enum { P, C, G, S, T };
static poe_sid fam_id[5];

static poe_sid make_member(int i, poe_handler_fn start)
{
        poe_handler h[sizeof(member_handlers) / sizeof(member_handlers[0])];
        poe_session_spec spec;

        memcpy(h, member_handlers, sizeof(h));
        h[0].fn = start;
        spec = tl_spec(h, sizeof(h) / sizeof(h[0]), &fam[i]);
        return tl_create_spec(tl.k, &spec);
}

static poe_value c_start(poe_ctx *c)
{
        m_start(c);
        fam_id[G] = make_member(G, m_start);
        return poe_nil();
}

static poe_value p_start(poe_ctx *c)
{
        m_start(c);
        fam_id[C] = make_member(C, c_start);
        fam_id[S] = make_member(S, m_start);
        return poe_nil();
}

static void make_family(bool with_t)
{
        static const char *const names[] = { "P", "C", "G", "S", "T" };
        poe_sid parent;
        int i;

        memset(fam, 0, sizeof(fam));
        memset(fam_id, 0, sizeof(fam_id));
        for (i = 0; i < 5; i++)
                fam[i].name = names[i];
        fam_id[P] = make_member(P, p_start);
        if (with_t)
                fam_id[T] = make_member(T, m_start);
        TL_EQ(poe_session_get_parent(tl.k, fam_id[C], &parent), 0);
        TL_EQ(parent, fam_id[P]);
        TL_EQ(poe_session_get_parent(tl.k, fam_id[G], &parent), 0);
        TL_EQ(parent, fam_id[C]);
        TL_EQ(poe_session_get_parent(tl.k, fam_id[S], &parent), 0);
        TL_EQ(parent, fam_id[P]);
}

static bool exists(poe_sid sid)
{
        return poe_kernel_ID_id_to_session(tl.k, sid) == 0;
}

/* What poe_die appends when the message has no newline: Perl's
 * " at FILE line N.\n", naming the poe_die call. */
static const char *expected_message(const char *msg, int line)
{
        static char buf[512];

        snprintf(buf, sizeof(buf), "%s at %s line %d.\n", msg, __FILE__, line);
        return buf;
}

/* ---- where DIE goes, and its fields ---- */

static void test_die_fields_and_order_handled(void **state)
{
        (void)state;
        make_family(true);
        fam[P].handle = true;
        tl_transcript_clear();
        post_line = __LINE__ + 1;
        TL_EQ(poe_kernel_post(tl.k, fam_id[C], "boom", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, fam[P].n_die > 0, 10);
        /* The descendants first, then the session, then its ancestors;
         * never the sibling S, nor the unrelated T. */
        TL_EXPECT("C boom", "G on_die DIE", "C on_die DIE", "P on_die DIE");
        TL_EQ(fam[S].n_die, 0);
        TL_EQ(fam[T].n_die, 0);
        /* Every watcher saw the same fields. */
        for (int i = P; i <= G; i++) {
                member *m = &fam[i];

                assert_string_equal(m->error_str, expected_message("oops 42", die_line));
                assert_string_equal(m->event, "boom");
                TL_EQ(m->seen.dest_session, fam_id[C]);
                /* Posted from outside any handler: the kernel sent it,
                 * from no state. */
                TL_EQ(m->seen.source_session, POE_KERNEL);
                assert_true(m->from_state_nil);
                assert_string_equal(m->file, __FILE__);
                TL_EQ(m->seen.line, post_line);
        }
        /* Handled: nobody stopped. */
        for (int i = P; i <= T; i++)
                assert_true(exists(fam_id[i]));
        assert_null(strstr(tl_transcript(), "_stop"));
        /* The rest is an ordinary idle shutdown, and run() succeeds. */
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_null(poe_kernel_exception(tl.k));
        TL_EQ(tl_session_count(tl.k), 0);
}

static void test_die_fields_from_a_handler(void **state)
{
        (void)state;
        make_family(false);
        fam[C].handle = true;
        TL_EQ(poe_kernel_post(tl.k, fam_id[S], "kick", POE_ARGS(poe_session(fam_id[C]))), 0);
        TL_RUN_UNTIL(tl.k, fam[C].n_die > 0, 10);
        /* The event was posted by S from its kick handler, at post_line. */
        TL_EQ(fam[C].seen.source_session, fam_id[S]);
        assert_false(fam[C].from_state_nil);
        assert_string_equal(fam[C].from_state, "kick");
        assert_string_equal(fam[C].file, __FILE__);
        TL_EQ(fam[C].seen.line, post_line);
        TL_EQ(fam[C].seen.dest_session, fam_id[C]);
        assert_string_equal(fam[C].event, "boom");
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_null(poe_kernel_exception(tl.k));
}

static poe_value die_with_newline(poe_ctx *c)
{
        poe_die(c, "plain message %s\n", "here");
}

static poe_value watch_die_handled(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("die: %s", e.error_str);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value start_watch_die(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "boom", POE_NOARGS), 0);
        return poe_nil();
}

static void test_die_message_with_newline_is_kept(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", start_watch_die }, { "boom", die_with_newline },
                  { "on_die", watch_die_handled });
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* A trailing newline means "no location", as with Perl's die. */
        TL_EXPECT("die: plain message here", "");
}

/*
 * The *_at functions take the file name as a borrowed string, like every
 * string passed in (poe.h's conventions), for bindings that name their
 * own source files.  The DIE fields must still name it after the caller
 * has reused its buffer.
 */
static char caller_file_seen[64];

static poe_value boom_note_caller(poe_ctx *c)
{
        snprintf(caller_file_seen, sizeof(caller_file_seen), "%s", poe_ctx_caller_file(c));
        m_boom(c);
        return poe_nil();
}

static void test_die_fields_from_borrowed_file_name(void **state)
{
        char file[32];
        poe_sid sid;
        poe_handler h[sizeof(member_handlers) / sizeof(member_handlers[0])];
        poe_session_spec spec;

        (void)state;
        memset(fam, 0, sizeof(fam));
        fam[P].name = "P";
        fam[P].handle = true;
        memcpy(h, member_handlers, sizeof(h));
        h[3].fn = boom_note_caller; /* "boom" */
        spec = tl_spec(h, sizeof(h) / sizeof(h[0]), &fam[P]);
        sid = tl_create_spec(tl.k, &spec);
        snprintf(file, sizeof(file), "%s", "binding.pl");
        TL_EQ(poe_kernel_post_at(tl.k, file, 77, sid, "boom", POE_NOARGS), 0);
        /* The caller's buffer is its own again once post returns. */
        snprintf(file, sizeof(file), "%s", "reused buffer");
        TL_RUN_UNTIL(tl.k, fam[P].n_die > 0, 10);
        assert_string_equal(caller_file_seen, "binding.pl");
        assert_string_equal(fam[P].file, "binding.pl");
        TL_EQ(fam[P].seen.line, 77);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- die in _start ---- */

static bool start_die_handles;

static poe_value sd_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        tl_log("C _start");
        poe_die(c, "start died\n");
}

static poe_value sd_on_die(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("C on_die %s %s", e.event, e.error_str);
        if (start_die_handles)
                poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value sd_stop(poe_ctx *c)
{
        tl_log("%s _stop", poe_ctx_session(c) == 1 ? "P" : "C");
        return poe_nil();
}

static poe_value sd_parent_start(poe_ctx *c)
{
        TL_CREATE(poe_ctx_kernel(c), { "_start", sd_start }, { "on_die", sd_on_die },
                  { "_stop", sd_stop });
        tl_log("P after create");
        return poe_nil();
}

static poe_value sd_child(poe_ctx *c)
{
        tl_log("P _child %s %s", tl_fmt(poe_ctx_arg(c, 0)), tl_fmt(poe_ctx_arg(c, 2)));
        return poe_nil();
}

/* POE: the DIE goes to the new session, which lives until it is
 * delivered; _child create gets undef as _start's value. */
static void die_in_start(bool handle)
{
        start_die_handles = handle;
        TL_CREATE(tl.k, { "_start", sd_parent_start }, { "_child", sd_child },
                  { "_stop", sd_stop });
        if (handle) {
                TL_EQ(poe_kernel_run(tl.k), 0);
        } else {
                TL_EQ(poe_kernel_run(tl.k), -ECANCELED);
                assert_string_equal(poe_kernel_exception(tl.k), "start died\n");
        }
        TL_EXPECT("C _start", "P _child create undef", "P after create",
                  "C on_die _start start died", "" /* the message's own newline */, "C _stop",
                  "P _child lose undef", "P _stop");
}

static void test_die_in_start_handled(void **state)
{
        (void)state;
        die_in_start(true);
}

static void test_die_in_start_unhandled(void **state)
{
        (void)state;
        die_in_start(false);
}

/* ---- die in _child create ---- */

/* The parent's _child create dies in the middle of the child's create
 * (POE: the eval around that dispatch catches it; the create goes on,
 * the child lives until collected).  The parent watches DIE. */
static poe_value cd_child_start(poe_ctx *c)
{
        (void)c;
        tl_log("C _start");
        return poe_int(7);
}

static poe_value cd_parent_child(poe_ctx *c)
{
        tl_log("P _child %s %s", tl_fmt(poe_ctx_arg(c, 0)), tl_fmt(poe_ctx_arg(c, 2)));
        if (strcmp(poe_value_str(poe_ctx_arg(c, 0)), "create") == 0)
                poe_die(c, "child died\n");
        return poe_nil();
}

static poe_value cd_parent_start(poe_ctx *c)
{
        poe_sid sid = 0;

        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        TL_EQ(poe_session_create(poe_ctx_kernel(c),
                                 &(poe_session_spec){ .handlers = TL_HANDLERS({ "_start", cd_child_start },
                                                                              { "_stop", sd_stop }),
                                                      .n_handlers = 2 },
                                 &sid),
              0);
        tl_log("P after create %d", (int)sid);
        return poe_nil();
}

static poe_value cd_on_die(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("P on_die %s %s", e.event, e.error_str);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static void test_die_in_child_create(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", cd_parent_start }, { "_child", cd_parent_child },
                  { "on_die", cd_on_die }, { "_stop", sd_stop });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("C _start", "P _child create 7", "P after create 2", "P on_die _child child died",
                  "" /* the message's own newline */, "C _stop", "P _child lose undef",
                  "P _stop");
}

/* ---- unhandled ---- */

static void test_die_unhandled_stops_everything(void **state)
{
        int r;
        const char *tr;

        (void)state;
        make_family(true);
        tl_transcript_clear();
        TL_EQ(poe_kernel_post(tl.k, fam_id[C], "boom", POE_NOARGS), 0);
        r = poe_kernel_run(tl.k);
        TL_EQ(r, -ECANCELED);
        assert_non_null(poe_kernel_exception(tl.k));
        assert_string_equal(poe_kernel_exception(tl.k), expected_message("oops 42", die_line));
        /* The touched sessions stop in the order they were signaled (G,
         * C, P: POE's _data_sig_free_terminated_sessions); P gives S to
         * the kernel when it stops, and stop() then takes S and T. */
        tr = tl_transcript();
        assert_non_null(strstr(tr, "C boom\nG on_die DIE\nC on_die DIE\nP on_die DIE\n"
                                   "G _stop\nC _stop\nP _stop\n"));
        assert_non_null(strstr(tr, "S _stop\n"));
        assert_non_null(strstr(tr, "T _stop\n"));
        assert_true(strstr(tr, "S _stop") > strstr(tr, "P _stop"));
        assert_true(strstr(tr, "T _stop") > strstr(tr, "P _stop"));
        TL_EQ(fam[S].n_die, 0);
        TL_EQ(fam[T].n_die, 0);
        TL_EQ(tl_session_count(tl.k), 0);
        /* The kernel can run again, and the old exception is gone. */
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_die_unhandled_run_one_timeslice(void **state)
{
        int r = 1, n = 0;

        (void)state;
        make_family(false);
        TL_EQ(poe_kernel_post(tl.k, fam_id[G], "boom", POE_NOARGS), 0);
        while (r == 1 && n++ < 20)
                r = poe_kernel_run_one_timeslice(tl.k);
        /* The slice that delivered the unhandled DIE reports it. */
        TL_EQ(r, -ECANCELED);
        assert_string_equal(poe_kernel_exception(tl.k), expected_message("oops 42", die_line));
        TL_EQ(tl_session_count(tl.k), 0);
}

/* ---- die inside call() ---- */

static int call_rc;

static poe_value caller_ev(poe_ctx *c)
{
        poe_value ret = poe_int(99);
        poe_sid target = poe_ctx_arg(c, 0)->u.sid;

        post_line = __LINE__ + 1;
        call_rc = poe_kernel_call(poe_ctx_kernel(c), target, "boom", POE_NOARGS, &ret);
        /* The caller goes on after its callee died. */
        tl_log("caller after call rc=%d", call_rc);
        /* ret is written only on success. */
        TL_EQ(ret.type, POE_T_INT);
        TL_EQ(ret.u.i, 99);
        return poe_nil();
}

static void test_die_in_call_returns_ecanceled(void **state)
{
        poe_sid caller;

        (void)state;
        make_family(false);
        fam[C].handle = true;
        caller = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "go", caller_ev });
        tl_transcript_clear();
        TL_EQ(poe_kernel_post(tl.k, caller, "go", POE_ARGS(poe_session(fam_id[C]))), 0);
        TL_RUN_UNTIL(tl.k, strstr(tl_transcript(), "caller after") != NULL, 10);
        TL_EQ(call_rc, -ECANCELED);
        /* The DIE is queued, not delivered inside call(). */
        TL_EQ(fam[C].n_die, 0);
        TL_RUN_UNTIL(tl.k, fam[C].n_die > 0, 10);
        TL_EXPECT("C boom", "caller after call rc=-125", "G on_die DIE", "C on_die DIE",
                  "P on_die DIE");
        TL_EQ(fam[C].seen.source_session, caller);
        assert_string_equal(fam[C].from_state, "go");
        assert_string_equal(fam[C].event, "boom");
        TL_EQ(fam[C].seen.line, post_line);
        assert_string_equal(fam[C].error_str, expected_message("oops 42", die_line));
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_die_in_call_from_outside(void **state)
{
        poe_value ret = poe_nil();

        (void)state;
        make_family(false);
        fam[P].handle = true;
        tl_transcript_clear();
        TL_EQ(poe_kernel_call(tl.k, fam_id[G], "boom", POE_NOARGS, &ret), -ECANCELED);
        TL_EXPECT("G boom");
        TL_EQ(poe_kernel_get_active_session(tl.k), POE_KERNEL);
        TL_RUN_UNTIL(tl.k, fam[P].n_die > 0, 10);
        TL_EXPECT("G on_die DIE", "C on_die DIE", "P on_die DIE");
        TL_EQ(fam[G].seen.source_session, POE_KERNEL);
        assert_true(fam[G].from_state_nil);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* A calls B, B calls C, C dies: only the innermost call unwinds. */
static poe_value n_outer(poe_ctx *c)
{
        poe_value ret = poe_nil();
        int rc = poe_kernel_call(poe_ctx_kernel(c), poe_ctx_arg(c, 0)->u.sid, "mid",
                                 POE_ARGS(*poe_ctx_arg(c, 1)), &ret);

        tl_log("outer rc=%d ret=%s", rc, tl_fmt(&ret));
        return poe_nil();
}

static poe_value n_mid(poe_ctx *c)
{
        int rc = poe_kernel_call(poe_ctx_kernel(c), poe_ctx_arg(c, 0)->u.sid, "boom",
                                 POE_NOARGS, NULL);

        tl_log("mid rc=%d active=%llu event=%s", rc,
               (unsigned long long)poe_kernel_get_active_session(poe_ctx_kernel(c)),
               poe_kernel_get_active_event(poe_ctx_kernel(c)));
        return poe_int(7);
}

static void test_nested_call_inner_die(void **state)
{
        poe_sid a, b;

        (void)state;
        make_family(false);
        fam[P].handle = true;
        a = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "outer", n_outer });
        b = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "mid", n_mid });
        tl_transcript_clear();
        TL_EQ(poe_kernel_post(tl.k, a, "outer", POE_ARGS(poe_session(b), poe_session(fam_id[G]))),
              0);
        TL_RUN_UNTIL(tl.k, fam[P].n_die > 0, 10);
        {
                char want[128];

                snprintf(want, sizeof(want), "mid rc=-125 active=%llu event=mid",
                         (unsigned long long)b);
                TL_EXPECT("G boom", want, "outer rc=0 ret=7", "G on_die DIE", "C on_die DIE",
                          "P on_die DIE");
        }
        /* The DIE names the innermost call: G's boom, sent by B from mid. */
        TL_EQ(fam[G].seen.dest_session, fam_id[G]);
        TL_EQ(fam[G].seen.source_session, b);
        assert_string_equal(fam[G].from_state, "mid");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* A session calling itself runs the handler directly, without POE's
 * eval: a die there unwinds the calling handler too, and the DIE names
 * the outer event (POE's call() uses _invoke_state for self-calls). */
static int self_pointer_destroyed;

static poe_value s_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "outer", POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value s_outer(poe_ctx *c)
{
        poe_value many[10];
        int i;

        tl_log("outer");
        /* Ten arguments, one a pointer with a destructor: the kernel's
         * copy of them must not leak when the die unwinds past it. */
        for (i = 0; i < 9; i++)
                many[i] = poe_int(i);
        many[9] = poe_ptr(&self_pointer_destroyed, tl_count_destroy);
        poe_kernel_call(poe_ctx_kernel(c), poe_ctx_session(c), "inner", many, 10, NULL);
        tl_log("after self call");
        return poe_nil();
}

static poe_value s_inner(poe_ctx *c)
{
        tl_log("inner argc=%zu", poe_ctx_argc(c));
        poe_die(c, "inner died\n");
}

static poe_value s_on_die(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("on_die event=%s error=%s", e.event, e.error_str);
        return poe_nil();
}

static poe_value s_stop(poe_ctx *c)
{
        tl_log("_stop");
        return poe_nil();
}

static void test_die_in_self_call_unwinds_caller(void **state)
{
        poe_sid sid;

        (void)state;
        self_pointer_destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", s_start }, { "outer", s_outer }, { "inner", s_inner },
                        { "on_die", s_on_die }, { "_stop", s_stop });
        TL_EQ(poe_kernel_run(tl.k), -ECANCELED);
        TL_EXPECT("outer", "inner argc=10", "on_die event=outer error=inner died\n", "_stop");
        assert_string_equal(poe_kernel_exception(tl.k), "inner died\n");
        /* The session is really gone, and the argument was destroyed. */
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(self_pointer_destroyed, 1);
        tl_kernel_free_checked();
}

/* ---- dies the DIE signal cannot take ---- */

static poe_value stop_dies(poe_ctx *c)
{
        tl_log("_stop dies");
        die_line = __LINE__ + 1;
        poe_die(c, "died in _stop");
}

static void test_die_in_stop(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", start_watch_die }, { "boom", tl_h_nop },
                  { "on_die", watch_die_handled }, { "_stop", stop_dies });
        TL_EQ(poe_kernel_run(tl.k), -ECANCELED);
        /* Not delivered as DIE (the session is going away): straight to
         * run()'s caller, even though the session handles DIE. */
        TL_EXPECT("_stop dies");
        assert_string_equal(poe_kernel_exception(tl.k),
                            expected_message("died in _stop", die_line));
        TL_EQ(tl_session_count(tl.k), 0);
}

static poe_value dh_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "boom", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value dh_boom(poe_ctx *c)
{
        poe_die(c, "first\n");
}

static bool dh_handle_first;

static poe_value dh_on_die(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("on_die: %s", e.error_str);
        /* Handling it first does not save the kernel: the die in the
         * handler still ends everything, but the first error is then
         * considered dealt with and is not chained. */
        if (dh_handle_first)
                poe_kernel_sig_handled(poe_ctx_kernel(c));
        poe_die(c, "second\n");
}

static poe_value ticker_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value ticker_tick(poe_ctx *c)
{
        tl_log("tick");
        TL_EQ(poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value log_stop(poe_ctx *c)
{
        tl_log("%llu _stop", (unsigned long long)poe_ctx_session(c));
        return poe_nil();
}

static void die_in_die_handler(bool handle_first, const char *want)
{
        poe_sid a, b;
        char sa[32], sb[32];

        dh_handle_first = handle_first;
        /* The ticker's 10 ms timer must not fire before the die chain
         * ends.  On the real clock a slow run (valgrind on a loaded
         * machine) let it fire first; on the fake clock time only moves
         * when the loop would sleep, which it never does while "boom" is
         * queued, so the order no longer depends on the machine. */
        TL_EQ(poe_kernel_clock_fake(tl.k, 1e9), 0);
        a = TL_CREATE(tl.k, { "_start", dh_start }, { "boom", dh_boom },
                      { "on_die", dh_on_die }, { "_stop", log_stop });
        b = TL_CREATE(tl.k, { "_start", ticker_start }, { "tick", ticker_tick },
                      { "_stop", log_stop });
        TL_EQ(poe_kernel_run(tl.k), -ECANCELED);
        snprintf(sa, sizeof(sa), "%llu _stop", (unsigned long long)a);
        snprintf(sb, sizeof(sb), "%llu _stop", (unsigned long long)b);
        /* POE's transcript: the second die ends everything, and its
         * message follows the first one's. */
        assert_non_null(strstr(tl_transcript(), "on_die: first\n\n"));
        assert_non_null(strstr(tl_transcript(), sa));
        assert_non_null(strstr(tl_transcript(), sb));
        assert_null(strstr(tl_transcript(), "tick"));
        assert_string_equal(poe_kernel_exception(tl.k), want);
}

static void test_die_in_die_handler(void **state)
{
        (void)state;
        die_in_die_handler(false, "first\nAdditional error thrown in handler for previous "
                                  "error:\nsecond\n");
}

static void test_die_in_die_handler_after_sig_handled(void **state)
{
        (void)state;
        die_in_die_handler(true, "second\n");
}

/* ---- a die in one of a signal's watchers ---- */

/* The child's PING watcher dies; the walk goes on to the parent's, which
 * has arguments of its own (so its dispatch gets a copy), and the DIE
 * reaches the parent afterwards, which handles it. */
static poe_value sw_child_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "PING", "ping", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value sw_child_ping(poe_ctx *c)
{
        tl_log("child ping %s", poe_value_str(poe_ctx_arg(c, 0)));
        poe_die(c, "child died\n");
}

static poe_value sw_parent_ping(poe_ctx *c)
{
        tl_log("parent ping %s %lld", poe_value_str(poe_ctx_arg(c, 0)),
               (long long)poe_value_int(poe_ctx_arg(c, 1)));
        return poe_nil();
}

static poe_value sw_parent_die(poe_ctx *c)
{
        poe_exception e;

        TL_EQ(poe_value_exception(poe_ctx_arg(c, 1), &e), 0);
        tl_log("parent on_die %s", e.error_str);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value sw_parent_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_session_spec spec = TL_SPEC({ "_start", sw_child_start }, { "ping", sw_child_ping });

        TL_EQ(poe_kernel_sig(k, "PING", "ping", POE_ARGS(poe_int(7))), 0);
        TL_EQ(poe_kernel_sig(k, "DIE", "on_die", POE_NOARGS), 0);
        TL_EQ(poe_session_create(k, &spec, NULL), 0);
        TL_EQ(poe_kernel_signal(k, poe_ctx_session(c), "PING", POE_NOARGS), 0);
        return poe_nil();
}

static void test_die_in_signal_watcher_walk_goes_on(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", sw_parent_start }, { "ping", sw_parent_ping },
                  { "on_die", sw_parent_die });
        /* PING is not terminal: the watchers keep both sessions alive,
         * so the test runs slices until the transcript is complete. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        assert_string_equal(tl_transcript(), "child ping PING\n"
                                             "parent ping PING 7\n"
                                             "parent on_die child died\n\n");
        tl_check_kernel(tl.k);
        poe_kernel_stop(tl.k);
}

/* ---- POE_CATCH_EXCEPTIONS=0 ---- */

static poe_value m_boom_plain(poe_ctx *c)
{
        tl_log("boom");
        die_line = __LINE__ + 1;
        poe_die(c, "plain");
}

static void test_catch_exceptions_off(void **state)
{
        poe_allocator al = tl_allocator(&tl.alloc);
        poe_sid a, b;
        char sa[32], sb[32];

        (void)state;
        tl_kernel_free_checked();
        setenv("POE_CATCH_EXCEPTIONS", "0", 1);
        TL_EQ(poe_kernel_new(&tl.k, &al), 0);
        unsetenv("POE_CATCH_EXCEPTIONS");
        a = TL_CREATE(tl.k, { "_start", start_watch_die }, { "boom", m_boom_plain },
                      { "on_die", watch_die_handled }, { "_stop", log_stop });
        b = TL_CREATE(tl.k, { "_start", ticker_start }, { "tick", ticker_tick },
                      { "_stop", log_stop });
        TL_EQ(poe_kernel_run(tl.k), -ECANCELED);
        snprintf(sa, sizeof(sa), "%llu _stop", (unsigned long long)a);
        snprintf(sb, sizeof(sb), "%llu _stop", (unsigned long long)b);
        /* No DIE signal: the die goes straight to run()'s caller, and
         * every session stops at once (b's timer never fires). */
        assert_true(strncmp(tl_transcript(), "boom\n", 5) == 0);
        assert_non_null(strstr(tl_transcript(), sa));
        assert_non_null(strstr(tl_transcript(), sb));
        assert_null(strstr(tl_transcript(), "die:"));
        assert_null(strstr(tl_transcript(), "tick"));
        assert_string_equal(poe_kernel_exception(tl.k),
                            expected_message("plain", die_line));
}

/* With POE_CATCH_EXCEPTIONS=0 a die in a called handler unwinds its
 * caller too (POE's call() rethrows kr_exception), and run() fails with
 * the one message, not a chain of it. */
static poe_value nc_boom(poe_ctx *c)
{
        tl_log("B boom");
        poe_die(c, "b died\n");
}

static poe_value nc_go(poe_ctx *c)
{
        tl_log("A go");
        poe_kernel_call(poe_ctx_kernel(c), poe_ctx_arg(c, 0)->u.sid, "boom", POE_NOARGS, NULL);
        tl_log("A after call");
        return poe_nil();
}

static void test_catch_exceptions_off_call_rethrows(void **state)
{
        poe_allocator al = tl_allocator(&tl.alloc);
        poe_sid a, b;

        (void)state;
        tl_kernel_free_checked();
        setenv("POE_CATCH_EXCEPTIONS", "0", 1);
        TL_EQ(poe_kernel_new(&tl.k, &al), 0);
        unsetenv("POE_CATCH_EXCEPTIONS");
        b = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "boom", nc_boom });
        a = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "go", nc_go });
        TL_EQ(poe_kernel_refcount_increment(tl.k, b, "keep"), 1);
        TL_EQ(poe_kernel_post(tl.k, a, "go", POE_ARGS(poe_session(b))), 0);
        TL_EQ(poe_kernel_run(tl.k), -ECANCELED);
        TL_EXPECT("A go", "B boom");
        assert_string_equal(poe_kernel_exception(tl.k), "b died\n");
        TL_EQ(tl_session_count(tl.k), 0);
        tl_kernel_free_checked();
}

/* ---- memory ---- */

static int ptr_destroyed;

static poe_value leak_boom(poe_ctx *c)
{
        /* The handler allocated nothing of its own; the kernel owns the
         * event and its pointer argument. */
        tl_log("boom %s", poe_ctx_arg(c, 0)->type == POE_T_PTR ? "ptr" : "?");
        die_line = __LINE__ + 1;
        poe_die(c, "leak check %d", 1);
}

static poe_value leak_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS), 0);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "boom",
                               POE_ARGS(poe_ptr(&ptr_destroyed, tl_count_destroy),
                                        poe_str("a string copied into the event"))),
              0);
        return poe_nil();
}

static void test_die_leaks_nothing(void **state)
{
        (void)state;
        ptr_destroyed = 0;
        TL_CREATE(tl.k, { "_start", leak_start }, { "boom", leak_boom },
                  { "on_die", watch_die_handled });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("boom ptr", expected_message("die: leak check 1", die_line));
        TL_EQ(ptr_destroyed, 1);
        tl_kernel_free_checked();
        TL_EQ(ptr_destroyed, 1);
}

static void test_die_unhandled_leaks_nothing(void **state)
{
        (void)state;
        ptr_destroyed = 0;
        make_family(true);
        TL_EQ(poe_kernel_post(tl.k, fam_id[G], "boom",
                              POE_ARGS(poe_ptr(&ptr_destroyed, tl_count_destroy))),
              0);
        TL_EQ(poe_kernel_run(tl.k), -ECANCELED);
        TL_EQ(ptr_destroyed, 1);
        tl_kernel_free_checked();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_die_fields_and_order_handled),
                TL_TEST(test_die_fields_from_a_handler),
                TL_TEST(test_die_message_with_newline_is_kept),
                TL_TEST(test_die_fields_from_borrowed_file_name),
                TL_TEST(test_die_in_start_handled),
                TL_TEST(test_die_in_start_unhandled),
                TL_TEST(test_die_in_child_create),
                TL_TEST(test_die_unhandled_stops_everything),
                TL_TEST(test_die_unhandled_run_one_timeslice),
                TL_TEST(test_die_in_call_returns_ecanceled),
                TL_TEST(test_die_in_call_from_outside),
                TL_TEST(test_nested_call_inner_die),
                TL_TEST(test_die_in_self_call_unwinds_caller),
                TL_TEST(test_die_in_stop),
                TL_TEST(test_die_in_die_handler),
                TL_TEST(test_die_in_die_handler_after_sig_handled),
                TL_TEST(test_catch_exceptions_off),
                TL_TEST(test_catch_exceptions_off_call_rethrows),
                TL_TEST(test_die_leaks_nothing),
                TL_TEST(test_die_unhandled_leaks_nothing),
                TL_TEST(test_die_in_signal_watcher_walk_goes_on),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
