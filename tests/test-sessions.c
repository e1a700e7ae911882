/*
 * Sessions: ids, _start and _child, the heap and object pointers, the
 * parent/child tree, options, handlers changed at run time, and the
 * checks on a spec.  The order of _start and _child and the values they
 * carry follow POE 1.37's session_alloc (POE/Kernel.pm, 1458-1531):
 * _start runs at once, then the parent gets _child("create", child,
 * _start's return value), and only then does create return.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"
#include "sessions.h"

/* ---- ids ---- */

static void test_ids_count_up_and_are_never_reused(void **state)
{
        poe_sid a, b, c, d;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", tl_h_nop });
        b = TL_CREATE(tl.k, { "_start", tl_h_nop });
        c = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(a, 1);
        TL_EQ(b, 2);
        TL_EQ(c, 3);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, a), -ESRCH);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, c), -ESRCH);
        /* After every session is gone, and after run() returned, new
         * ids still continue the sequence. */
        d = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(d, 4);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_ids_are_per_kernel(void **state)
{
        tl_alloc a2;
        poe_allocator al = tl_allocator(&a2);
        poe_kernel *k2 = NULL;

        (void)state;
        tl_alloc_init(&a2);
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_nop }), 1);
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_nop }), 2);
        TL_EQ(poe_kernel_new(&k2, &al), 0);
        TL_EQ(TL_CREATE(k2, { "_start", tl_h_nop }), 1);
        /* A session id of one kernel means nothing to another. */
        TL_EQ(poe_kernel_ID_id_to_session(k2, 2), -ESRCH);
        TL_EQ(poe_kernel_run(k2), 0);
        poe_kernel_free(k2);
        TL_EQ(tl_alloc_release(&a2), 0);
        TL_EQ(a2.live_blocks, 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_ret_sid_may_be_null(void **state)
{
        poe_session_spec spec = TL_SPEC({ "_start", tl_h_log });

        (void)state;
        TL_EQ(poe_session_create(tl.k, &spec, NULL), 0);
        TL_EXPECT("1 _start");
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, 1), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- _start ---- */

static poe_sid seen_sender = 99, seen_active = 99;

static poe_value on_start_args(poe_ctx *c)
{
        tl_log_ctx(c);
        seen_sender = poe_ctx_sender(c);
        seen_active = poe_kernel_get_active_session(poe_ctx_kernel(c));
        assert_string_equal(poe_kernel_get_active_event(poe_ctx_kernel(c)), "_start");
        TL_EQ(poe_ctx_argc(c), 4);
        /* Past the end there is nil, never garbage. */
        TL_EQ(poe_ctx_arg(c, 4)->type, POE_T_NIL);
        TL_EQ(poe_ctx_arg(c, 1000)->type, POE_T_NIL);
        return poe_nil();
}

static void test_start_args(void **state)
{
        char buf[8] = "copied";
        poe_value inner[2] = { poe_int(1), poe_str("x") };
        poe_value args[4];
        poe_session_spec spec = TL_SPEC({ "_start", on_start_args });
        poe_sid sid;

        (void)state;
        args[0] = poe_str(buf);
        args[1] = poe_int(-3);
        args[2] = poe_list(inner, 2);
        args[3] = poe_nil();
        spec.args = args;
        spec.n_args = 4;
        sid = tl_create_spec(tl.k, &spec);
        TL_EXPECT("1 _start copied -3 [1 x] undef");
        /* Created from outside any handler: the kernel is the sender,
         * and the new session is active during its _start. */
        TL_EQ(seen_sender, POE_KERNEL);
        TL_EQ(seen_active, sid);
        /* Afterwards the kernel is active again. */
        TL_EQ(poe_kernel_get_active_session(tl.k), POE_KERNEL);
        assert_string_equal(poe_kernel_get_active_event(tl.k), "");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- heap and object ---- */

static int heap_a, heap_b, obj_start, obj_ev;
static int heap_ok;

static poe_value on_heap(poe_ctx *c)
{
        void *expect = poe_ctx_session(c) == 1 ? (void *)&heap_a : (void *)&heap_b;

        if (poe_ctx_heap(c) == expect &&
            poe_session_get_heap(poe_ctx_kernel(c), poe_ctx_session(c)) == expect)
                heap_ok++;
        tl_log("%llu %s object=%s", (unsigned long long)poe_ctx_session(c), poe_ctx_state(c),
               poe_ctx_object(c) == &obj_start ? "start"
               : poe_ctx_object(c) == &obj_ev  ? "ev"
               : poe_ctx_object(c) == NULL     ? "none"
                                                : "???");
        return poe_nil();
}

static void test_heap_and_object(void **state)
{
        const poe_handler h[] = {
                { "_start", on_heap, &obj_start },
                { "ev", on_heap, &obj_ev },
                { "plain", on_heap, NULL },
        };
        poe_session_spec spec = tl_spec(h, 3, &heap_a);
        poe_sid a, b;

        (void)state;
        heap_ok = 0;
        a = tl_create_spec(tl.k, &spec);
        spec.heap = &heap_b;
        b = tl_create_spec(tl.k, &spec);
        assert_ptr_equal(poe_session_get_heap(tl.k, a), &heap_a);
        assert_ptr_equal(poe_session_get_heap(tl.k, b), &heap_b);
        assert_null(poe_session_get_heap(tl.k, 77));
        TL_EQ(poe_kernel_post(tl.k, a, "ev", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post(tl.k, b, "plain", POE_NOARGS), 0);
        TL_EQ(poe_kernel_call(tl.k, b, "ev", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _start object=start", "2 _start object=start", "2 ev object=ev",
                  "1 ev object=ev", "2 plain object=none");
        TL_EQ(heap_ok, 5);
        /* The kernel never frees a heap: the session is gone, the
         * pointer is simply not reachable through it any more. */
        assert_null(poe_session_get_heap(tl.k, a));
}

/* ---- _start, _child and create order ---- */

static poe_value on_child_start(poe_ctx *c)
{
        tl_log("%llu _start sender=%llu", (unsigned long long)poe_ctx_session(c),
               (unsigned long long)poe_ctx_sender(c));
        return poe_str("r2");
}

static poe_value on_child_stop(poe_ctx *c)
{
        tl_log_ctx(c);
        return poe_str("s2");
}

static poe_value on_parent_start(poe_ctx *c)
{
        poe_session_spec spec = TL_SPEC({ "_start", on_child_start }, { "_stop", on_child_stop },
                                        { "_parent", tl_h_log });
        poe_sid child = 0;

        tl_log_ctx(c);
        TL_EQ(poe_session_create(poe_ctx_kernel(c), &spec, &child), 0);
        tl_log("%llu after create %llu", (unsigned long long)poe_ctx_session(c),
               (unsigned long long)child);
        return poe_str("r1");
}

static poe_value on_parent_stop(poe_ctx *c)
{
        tl_log_ctx(c);
        return poe_str("s1");
}

static void test_create_order_and_return_values(void **state)
{
        poe_value args[2] = { poe_str("a"), poe_str("b") };
        poe_session_spec spec = TL_SPEC({ "_start", on_parent_start }, { "_child", tl_h_log },
                                        { "_stop", on_parent_stop });

        (void)state;
        spec.args = args;
        spec.n_args = 2;
        tl_create_spec(tl.k, &spec);
        tl_log("created");
        TL_EQ(poe_kernel_run(tl.k), 0);
        tl_log("ran");
        /* The same transcript perl printed for this scenario with POE
         * 1.37. */
        TL_EXPECT("1 _start a b", "2 _start sender=1", "1 _child create 2 r2",
                  "1 after create 2", "created", "2 _stop", "1 _child lose 2 s2", "1 _stop",
                  "ran");
}

static poe_value on_start_make_child(poe_ctx *c)
{
        TL_CREATE(poe_ctx_kernel(c), { "_start", tl_h_nop });
        return poe_nil();
}

static void test_parent_queries(void **state)
{
        poe_sid top, parent = 99;

        (void)state;
        top = TL_CREATE(tl.k, { "_start", on_start_make_child }, { "_child", tl_h_nop });
        TL_EQ(top, 1);
        TL_EQ(poe_session_get_parent(tl.k, 1, &parent), 0);
        TL_EQ(parent, POE_KERNEL);
        TL_EQ(poe_session_get_parent(tl.k, 2, &parent), 0);
        TL_EQ(parent, 1);
        TL_EQ(poe_session_get_parent(tl.k, 2, NULL), 0);
        parent = 99;
        TL_EQ(poe_session_get_parent(tl.k, 3, &parent), -ESRCH);
        TL_EQ(parent, 99);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_session_get_parent(tl.k, 2, &parent), -ESRCH);
}

/* ---- options ---- */

static void test_options_at_create(void **state)
{
        /* The "default" option warns about unhandled events; this
         * session handles all it gets. */
        const poe_option opts[] = {
                { "trace", { .type = POE_T_INT, .u.i = 0 } },
                { "default", { .type = POE_T_INT, .u.i = 1 } },
                { "debug", { .type = POE_T_INT, .u.i = 1 } },
                { "color", { .type = POE_T_STR, .len = 3, .u.s = "red" } },
        };
        poe_session_spec spec = TL_SPEC({ "_start", tl_h_nop }, { "_stop", tl_h_nop });
        poe__session *s;
        poe_value v;
        poe_sid sid;

        (void)state;
        spec.options = opts;
        spec.n_options = 4;
        sid = tl_create_spec(tl.k, &spec);
        TL_EQ(poe_session_option_get(tl.k, sid, "color", &v), 0);
        assert_string_equal(poe_value_str(&v), "red");
        TL_EQ(poe_session_option_get(tl.k, sid, "default", &v), 0);
        TL_EQ(poe_value_int(&v), 1);
        TL_EQ(poe_session_option_get(tl.k, sid, "unset", &v), 0);
        TL_EQ(v.type, POE_T_NIL);
        s = poe__session_get(tl.k, sid);
        assert_false(s->opt_trace);
        assert_true(s->opt_default);
        assert_true(s->opt_debug);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_option_set_and_get(void **state)
{
        static const char *const yes[] = { "on", "yes", "true", "ON", "Yes", "tRuE" };
        static const char *const no[] = { "off", "no", "false", "OFF", "No", "False" };
        char name[16] = "colour";
        char value[16] = "blue";
        poe_value v, old;
        poe_sid sid;
        size_t i;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        for (i = 0; i < 6; i++) {
                TL_EQ(poe_session_option_set(tl.k, sid, "flag", poe_str(yes[i]), NULL), 0);
                TL_EQ(poe_session_option_get(tl.k, sid, "flag", &v), 0);
                TL_EQ(v.type, POE_T_INT);
                TL_EQ(v.u.i, 1);
                TL_EQ(poe_session_option_set(tl.k, sid, "flag", poe_str(no[i]), NULL), 0);
                TL_EQ(poe_session_option_get(tl.k, sid, "flag", &v), 0);
                TL_EQ(v.type, POE_T_INT);
                TL_EQ(v.u.i, 0);
        }
        /* Only whole words are converted. */
        TL_EQ(poe_session_option_set(tl.k, sid, "flag", poe_str("only"), NULL), 0);
        TL_EQ(poe_session_option_get(tl.k, sid, "flag", &v), 0);
        assert_string_equal(poe_value_str(&v), "only");

        /* The name and value are copied, and the old value returned. */
        TL_EQ(poe_session_option_set(tl.k, sid, name, poe_str(value), &old), 0);
        TL_EQ(old.type, POE_T_NIL);
        strcpy(name, "xxxxxx");
        strcpy(value, "gone");
        TL_EQ(poe_session_option_get(tl.k, sid, "colour", &v), 0);
        assert_string_equal(poe_value_str(&v), "blue");
        TL_EQ(poe_session_option_set(tl.k, sid, "colour", poe_int(7), &old), 0);
        assert_string_equal(poe_value_str(&old), "blue");
        TL_EQ(poe_session_option_get(tl.k, sid, "colour", &v), 0);
        TL_EQ(poe_value_int(&v), 7);

        /* nil deletes, handing back what was there. */
        TL_EQ(poe_session_option_set(tl.k, sid, "colour", poe_nil(), &old), 0);
        TL_EQ(poe_value_int(&old), 7);
        TL_EQ(poe_session_option_get(tl.k, sid, "colour", &v), 0);
        TL_EQ(v.type, POE_T_NIL);
        TL_EQ(poe_session_option_set(tl.k, sid, "colour", poe_nil(), &old), 0);
        TL_EQ(old.type, POE_T_NIL);

        /* The flags the kernel acts on follow their options. */
        TL_EQ(poe_session_option_set(tl.k, sid, "default", poe_str("yes"), NULL), 0);
        assert_true(poe__session_get(tl.k, sid)->opt_default);
        TL_EQ(poe_session_option_set(tl.k, sid, "default", poe_str("off"), NULL), 0);
        assert_false(poe__session_get(tl.k, sid)->opt_default);
        TL_EQ(poe_session_option_set(tl.k, sid, "debug", poe_int(1), NULL), 0);
        assert_true(poe__session_get(tl.k, sid)->opt_debug);
        TL_EQ(poe_session_option_set(tl.k, sid, "debug", poe_nil(), NULL), 0);
        assert_false(poe__session_get(tl.k, sid)->opt_debug);

        /* Unknown sessions, and the kernel, have no options. */
        TL_EQ(poe_session_option_set(tl.k, 99, "x", poe_int(1), NULL), -ESRCH);
        TL_EQ(poe_session_option_get(tl.k, 99, "x", &v), -ESRCH);
        TL_EQ(poe_session_option_set(tl.k, POE_KERNEL, "x", poe_int(1), NULL), -ESRCH);
        TL_EQ(poe_session_option_set(tl.k, sid, NULL, poe_int(1), NULL), -EINVAL);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_session_option_get(tl.k, sid, "flag", &v), -ESRCH);
}

/*
 * POE::Session::option lowercases the option name, when setting and
 * when fetching (POE/Session.pm 613 and 641: $flag = lc($flag)).
 * perl: $s->option("Color", "ON"); print $s->option("color")  # 1
 */
static void test_option_names_are_lowercased(void **state)
{
        poe_value v;
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_session_option_set(tl.k, sid, "Color", poe_str("ON"), NULL), 0);
        TL_EQ(poe_session_option_get(tl.k, sid, "color", &v), 0);
        TL_EQ(poe_value_int(&v), 1);
        TL_EQ(poe_session_option_get(tl.k, sid, "COLOR", &v), 0);
        TL_EQ(poe_value_int(&v), 1);
        TL_EQ(poe_session_option_set(tl.k, sid, "DEFAULT", poe_int(1), NULL), 0);
        assert_true(poe__session_get(tl.k, sid)->opt_default);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/*
 * POE::Session->create stores its options hash as given (POE/Session.pm
 * 240-242: $self->[SE_OPTIONS] = $params{options}), without option()'s
 * conversions: options => { trace => "off" } keeps the string "off",
 * which Perl finds true, so tracing is on.  perl printed "trace=off"
 * and the trace lines for a session created that way.
 */
static void test_create_options_are_stored_verbatim(void **state)
{
        const poe_option opts[] = {
                { "trace", { .type = POE_T_STR, .len = 3, .u.s = "off" } },
        };
        poe_session_spec spec = TL_SPEC({ "_start", tl_h_nop });
        poe_value v;
        poe_sid sid;

        (void)state;
        spec.options = opts;
        spec.n_options = 1;
        sid = tl_create_spec(tl.k, &spec);
        TL_EQ(poe_session_option_get(tl.k, sid, "trace", &v), 0);
        assert_non_null(poe_value_str(&v));
        assert_string_equal(poe_value_str(&v), "off");
        assert_true(poe__session_get(tl.k, sid)->opt_trace);
        /* Quiet the trace before the session runs its _stop. */
        TL_EQ(poe_session_option_set(tl.k, sid, "trace", poe_nil(), NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- handlers at run time ---- */

static poe_value on_h2(poe_ctx *c);

static poe_value on_h1(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log("h1 %s", poe_ctx_state(c));
        /* Replace the running handler; the new one serves the next ev. */
        TL_EQ(poe_kernel_state(k, "ev", on_h2, NULL), 0);
        TL_EQ(poe_kernel_yield(k, "ev", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value on_h2(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log("h2 %s", poe_ctx_state(c));
        TL_EQ(poe_kernel_state(k, "ev", NULL, NULL), 0);
        /* Removing a handler that does not exist is not an error. */
        TL_EQ(poe_kernel_state(k, "never-there", NULL, NULL), 0);
        TL_EQ(poe_kernel_yield(k, "ev", POE_ARGS(poe_str("x"))), 0);
        return poe_nil();
}

static poe_value on_start_add_state(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_state(k, "ev", on_h1, NULL), 0);
        TL_EQ(poe_kernel_state(k, NULL, on_h1, NULL), -EINVAL);
        TL_EQ(poe_kernel_yield(k, "ev", POE_NOARGS), 0);
        return poe_nil();
}

/*
 * Sessions made from the same handlers share one table (POE's sessions
 * of one package share their states); what one of them changes with
 * state() is its own.  The first session replaces, the second removes,
 * the third keeps the table they were made with.
 */
static poe_value on_shared_ev(poe_ctx *c)
{
        tl_log("%llu shared ev", (unsigned long long)poe_ctx_session(c));
        return poe_nil();
}

static poe_value on_own_ev(poe_ctx *c)
{
        tl_log("%llu own ev", (unsigned long long)poe_ctx_session(c));
        return poe_nil();
}

static poe_value on_start_shared(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid id = poe_ctx_session(c);

        if (id == 1)
                TL_EQ(poe_kernel_state(k, "ev", on_own_ev, NULL), 0);
        else if (id == 2)
                TL_EQ(poe_kernel_state(k, "ev", NULL, NULL), 0);
        TL_EQ(poe_kernel_yield(k, "ev", POE_NOARGS), 0);
        return poe_nil();
}

static void test_state_on_shared_table(void **state)
{
        static const poe_handler h[] = {{"_start", on_start_shared, NULL},
                                        {"ev", on_shared_ev, NULL},
                                        {"_default", tl_h_log, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 3};
        poe_handler copy[3];
        poe_sid sid;

        (void)state;
        TL_EQ(poe_session_create(tl.k, &spec, &sid), 0);
        /* The same list at another address is the same spec. */
        memcpy(copy, h, sizeof(copy));
        spec.handlers = copy;
        TL_EQ(poe_session_create(tl.k, &spec, &sid), 0);
        TL_EQ(poe_session_create(tl.k, &spec, &sid), 0);
        assert_ptr_not_equal(poe__session_get(tl.k, 1)->handlers,
                             poe__session_get(tl.k, 2)->handlers);
        assert_ptr_not_equal(poe__session_get(tl.k, 2)->handlers,
                             poe__session_get(tl.k, 3)->handlers);
        TL_EQ(poe__session_get(tl.k, 3)->handlers->refs, 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 own ev", "2 _default ev []", "3 shared ev", "3 _default _stop []",
                  "2 _default _stop []", "1 _default _stop []");
}

static void test_state_add_replace_remove(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_add_state }, { "_default", tl_h_log },
                  { "_stop", tl_h_log });
        /* Outside a handler the active session is the kernel: POE's
         * state() returns ESRCH then (POE/Kernel.pm, sub state). */
        TL_EQ(poe_kernel_state(tl.k, "ev", on_h1, NULL), -ESRCH);
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* perl printed: h1 ev / h2 ev / default ev x / stop */
        TL_EXPECT("h1 ev", "h2 ev", "1 _default ev [x]", "1 _stop");
}

static int obj_a, obj_b;

static poe_value on_obj(poe_ctx *c)
{
        tl_log("%s %s", poe_ctx_state(c), poe_ctx_object(c) == &obj_a ? "a" : "b");
        return poe_nil();
}

static poe_value on_start_state_object(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_state(k, "ev", on_obj, &obj_a), 0);
        TL_EQ(poe_kernel_call(k, poe_ctx_session(c), "ev", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_state(k, "ev", on_obj, &obj_b), 0);
        TL_EQ(poe_kernel_call(k, poe_ctx_session(c), "ev", POE_NOARGS, NULL), 0);
        return poe_nil();
}

static void test_state_object(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_state_object });
        TL_EXPECT("ev a", "ev b");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* Events already queued for a handler that is then removed go to
 * _default, or nowhere, when dispatched. */
static poe_value on_start_queue_then_remove(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_yield(k, "ev", POE_ARGS(poe_int(1))), 0);
        TL_EQ(poe_kernel_state(k, "ev", NULL, NULL), 0);
        return poe_nil();
}

static void test_state_removed_with_events_queued(void **state)
{
        (void)state;
        TL_CREATE(tl.k, { "_start", on_start_queue_then_remove }, { "ev", tl_h_log },
                  { "_default", tl_h_log });
        TL_CREATE(tl.k, { "_start", on_start_queue_then_remove }, { "ev", tl_h_log });
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* _stop too goes to _default when there is no _stop handler, as
         * in POE (perl: "default ev [1]" then "default _stop []"). */
        TL_EXPECT("1 _default ev [1]", "1 _default _stop []");
}

/* Many handlers, added and removed, stay findable (the handler table
 * grows and deletes by backward shift). */
static char names[300][16];

static poe_value on_numbered(poe_ctx *c)
{
        tl_log("%s", poe_ctx_state(c));
        return poe_nil();
}

static poe_value on_start_many_states(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        size_t i;

        for (i = 0; i < 300; i++) {
                snprintf(names[i], sizeof(names[i]), "e%zu", i);
                TL_EQ(poe_kernel_state(k, names[i], on_numbered, NULL), 0);
        }
        for (i = 0; i < 300; i += 3)
                TL_EQ(poe_kernel_state(k, names[i], NULL, NULL), 0);
        return poe_nil();
}

static void test_state_many(void **state)
{
        poe_sid sid;
        size_t i;
        poe_value ret;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", on_start_many_states }, { "_default", tl_h_ret_arg0 });
        for (i = 0; i < 300; i++) {
                tl_transcript_clear();
                TL_EQ(poe_kernel_call(tl.k, sid, names[i], POE_NOARGS, &ret), 0);
                if (i % 3 == 0) {
                        /* Removed: _default answered with ARG0, the name. */
                        assert_string_equal(tl_transcript(), "");
                        assert_string_equal(poe_value_str(&ret), names[i]);
                } else {
                        char want[24];

                        snprintf(want, sizeof(want), "%s\n", names[i]);
                        TL_EQ(ret.type, POE_T_NIL);
                        assert_string_equal(tl_transcript(), want);
                }
        }
        tl_transcript_clear();
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- bad specs ---- */

static void test_bad_specs(void **state)
{
        const poe_handler no_name[] = { { NULL, tl_h_nop } };
        const poe_handler no_fn[] = { { "_start", NULL } };
        const poe_option no_opt_name[] = { { NULL, { .type = POE_T_INT } } };
        poe_session_spec spec;
        poe_sid sid = 77;

        (void)state;
        TL_EQ(poe_session_create(tl.k, NULL, &sid), -EINVAL);
        TL_EQ(poe_session_create(NULL, &(poe_session_spec){ 0 }, &sid), -EINVAL);
        spec = tl_spec(no_name, 1, NULL);
        TL_EQ(poe_session_create(tl.k, &spec, &sid), -EINVAL);
        spec = tl_spec(no_fn, 1, NULL);
        TL_EQ(poe_session_create(tl.k, &spec, &sid), -EINVAL);
        spec = tl_spec(NULL, 2, NULL);
        TL_EQ(poe_session_create(tl.k, &spec, &sid), -EINVAL);
        spec = tl_spec(NULL, 0, NULL);
        spec.n_args = 1;
        TL_EQ(poe_session_create(tl.k, &spec, &sid), -EINVAL);
        spec = tl_spec(NULL, 0, NULL);
        spec.options = no_opt_name;
        spec.n_options = 1;
        TL_EQ(poe_session_create(tl.k, &spec, &sid), -EINVAL);
        spec.options = NULL;
        TL_EQ(poe_session_create(tl.k, &spec, &sid), -EINVAL);
        /* ret_sid is written only on success, and no id was used up. */
        TL_EQ(sid, 77);
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(TL_CREATE(tl.k, { "_start", tl_h_nop }), 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* A session with no handlers at all is valid: it does nothing and is
 * collected. */
static void test_session_without_handlers(void **state)
{
        poe_session_spec spec = tl_spec(NULL, 0, NULL);
        poe_sid sid = 0;

        (void)state;
        /* POE::Session's try_alloc discards a session without _start
         * before it is given an id (tests/oracle/no-start). */
        TL_EQ(poe_session_create(tl.k, &spec, &sid), -EINVAL);
        TL_EQ(sid, 0);
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(sid, 1);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
}

static void test_id_to_session(void **state)
{
        poe_sid sid;

        (void)state;
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, 1), -ESRCH);
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), 0);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid + 1), -ESRCH);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, UINT64_MAX), -ESRCH);
        TL_EQ(poe_kernel_ID_id_to_session(NULL, sid), -EINVAL);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
}

/* The kernel's id string: POE's "host-time-pid-seq", unique per kernel. */
static void test_kernel_id(void **state)
{
        tl_alloc a2;
        poe_allocator al = tl_allocator(&a2);
        poe_kernel *k2 = NULL;
        const char *id = poe_kernel_id(tl.k);
        int dashes = 0;
        const char *p;

        (void)state;
        tl_alloc_init(&a2);
        assert_non_null(id);
        for (p = id; *p; p++)
                dashes += *p == '-';
        assert_true(dashes >= 3);
        TL_EQ(poe_kernel_new(&k2, &al), 0);
        assert_string_not_equal(poe_kernel_id(k2), id);
        poe_kernel_free(k2);
        TL_EQ(tl_alloc_release(&a2), 0);
        TL_EQ(a2.live_blocks, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_ids_count_up_and_are_never_reused),
                TL_TEST(test_state_on_shared_table),
                TL_TEST(test_ids_are_per_kernel),
                TL_TEST(test_ret_sid_may_be_null),
                TL_TEST(test_start_args),
                TL_TEST(test_heap_and_object),
                TL_TEST(test_create_order_and_return_values),
                TL_TEST(test_parent_queries),
                TL_TEST(test_options_at_create),
                TL_TEST(test_option_set_and_get),
                TL_TEST(test_option_names_are_lowercased),
                TL_TEST(test_create_options_are_stored_verbatim),
                TL_TEST(test_state_add_replace_remove),
                TL_TEST(test_state_object),
                TL_TEST(test_state_removed_with_events_queued),
                TL_TEST(test_state_many),
                TL_TEST(test_bad_specs),
                TL_TEST(test_session_without_handlers),
                TL_TEST(test_id_to_session),
                TL_TEST(test_kernel_id),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
