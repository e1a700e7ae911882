/*
 * POE::Test::Loops ses_nfa.pm: POE::NFA machines.  A switch (initial,
 * off and on states; off's handlers a "package" state, on's an object
 * state, both a handler's object in C) toggles a light for an operator
 * session that pushes it ten times; a machine stops itself with stop();
 * a Fibonacci server goes to a calculating state with call_state and
 * back with return_state for a client session; a machine gets a handler
 * through state(), as a wheel would add one, reads and resets an
 * option, and is called back and posted back in two different states.
 * Upstream's ASSERT_DEFAULT is POE_ASSERT_DEFAULT=1; no assertion here
 * is Perl-only ($NEW_POE is true: POE 1.37's 39 assertions).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static poe_value ret0(poe_ctx *c)
{
        (void)c;
        return poe_int(0);
}

/* ---- the switch: package Switch ---- */

/* The "package" Switch and an object of it (Switch->new). */
static const char switch_package[] = "Switch";
static struct switch_obj {
        const char *isa;
} the_switch = {switch_package};

static poe_value off_enter(poe_ctx *c)
{
        tap_ok(poe_ctx_object(c) == switch_package, "$_[OBJECT] is a package");
        poe_kernel_post(poe_ctx_kernel(c), poe_ctx_arg(c, 0)->u.sid, "visibility",
                        POE_ARGS(poe_int(0)));
        return poe_nil();
}

static poe_value off_pushed(poe_ctx *c)
{
        poe_nfa_goto_state(poe_ctx_kernel(c), poe_ctx_session(c), "on", "enter",
                           POE_ARGS(poe_session(poe_ctx_sender(c))));
        return poe_nil();
}

static poe_value on_enter(poe_ctx *c)
{
        struct switch_obj *o = poe_ctx_object(c);

        tap_ok(o == &the_switch && o->isa == switch_package, "'$_[OBJECT]' isa 'Switch'");
        poe_kernel_post(poe_ctx_kernel(c), poe_ctx_arg(c, 0)->u.sid, "visibility",
                        POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value on_pushed(poe_ctx *c)
{
        poe_nfa_goto_state(poe_ctx_kernel(c), poe_ctx_session(c), "off", "enter",
                           POE_ARGS(poe_session(poe_ctx_sender(c))));
        return poe_nil();
}

static poe_value switch_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_ok(poe_ctx_object(c) == NULL, "no object");
        poe_kernel_alias_set(k, "switch");
        poe_nfa_goto_state(k, poe_ctx_session(c), "off", NULL, POE_NOARGS);
        return poe_nil();
}

/* ---- the machine that stops itself ---- */

static poe_value stopper_start(poe_ctx *c)
{
        poe_nfa_stop(poe_ctx_kernel(c), poe_ctx_session(c));
        return poe_nil();
}

/* ---- package Operator ---- */

struct operator
{
        int push_count;
};

static poe_value op_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "operator");
        poe_kernel_yield(k, "push", POE_NOARGS);
        ((struct operator*)poe_ctx_heap(c))->push_count = 0;
        return poe_nil();
}

static poe_value op_push(poe_ctx *c)
{
        ((struct operator*)poe_ctx_heap(c))->push_count++;
        poe_kernel_post_alias(poe_ctx_kernel(c), "switch", "pushed", POE_NOARGS);
        return poe_nil();
}

static poe_value op_visibility(poe_ctx *c)
{
        struct operator* h = poe_ctx_heap(c);

        tap_ok((h->push_count & 1) == poe_value_int(poe_ctx_arg(c, 0)),
               "light state matches expected state");
        if (h->push_count < 10)
                poe_kernel_yield(poe_ctx_kernel(c), "push", POE_NOARGS);
        return poe_nil();
}

/* ---- package FibServer ---- */

struct fib_server {
        poe_sid client;
        long long f[3];
        long long n, target;
};

static poe_value fs_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "server");
        poe_nfa_goto_state(k, poe_ctx_session(c), "listen", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value fs_request(poe_ctx *c)
{
        struct fib_server *rs = poe_ctx_heap(c);

        rs->client = poe_ctx_sender(c);
        poe_nfa_call_state(poe_ctx_kernel(c), poe_ctx_session(c), "answer", "calculate", "start",
                           poe_ctx_arg(c, 0), 1);
        return poe_nil();
}

static poe_value fs_answer(poe_ctx *c)
{
        struct fib_server *rs = poe_ctx_heap(c);
        poe_sid client = rs->client;

        rs->client = 0;
        poe_kernel_post(poe_ctx_kernel(c), client, "fib", poe_ctx_arg(c, 0), 1);
        return poe_nil();
}

static poe_value fs_calc_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct fib_server *rs = poe_ctx_heap(c);
        long long want = poe_value_int(poe_ctx_arg(c, 0));

        if (want == 0)
                poe_nfa_return_state(k, poe_ctx_session(c), POE_ARGS(poe_int(0)));
        if (want == 1)
                poe_nfa_return_state(k, poe_ctx_session(c), POE_ARGS(poe_int(1)));
        rs->f[0] = 0;
        rs->f[1] = 1;
        rs->n = 1;
        rs->target = want;
        poe_kernel_yield(k, "next", POE_NOARGS);
        return poe_nil();
}

static poe_value fs_calc_next(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct fib_server *rs = poe_ctx_heap(c);

        rs->n++;
        rs->f[2] = rs->f[0] + rs->f[1];
        rs->f[0] = rs->f[1];
        rs->f[1] = rs->f[2];
        if (rs->n == rs->target)
                poe_nfa_return_state(k, poe_ctx_session(c), POE_ARGS(poe_int(rs->f[1])));
        else
                poe_kernel_yield(k, "next", POE_NOARGS);
        return poe_nil();
}

/* ---- package FibClient ---- */

static const long long fib_tests[][2] = {
        {0, 0}, {1, 1},     {2, 1},      {3, 2},       {4, 3},
        {5, 5}, {17, 1597}, {23, 28657}, {29, 514229}, {43, 433494437},
};
static size_t fib_next;

static poe_value fc_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "client");
        poe_kernel_yield(k, "next_test", POE_NOARGS);
        return poe_nil();
}

static poe_value fc_next_test(poe_ctx *c)
{
        poe_kernel_post_alias(poe_ctx_kernel(c), "server", "request",
                              POE_ARGS(poe_int(fib_tests[fib_next][0])));
        return poe_nil();
}

static poe_value fc_fib(poe_ctx *c)
{
        long long got = poe_value_int(poe_ctx_arg(c, 0));
        char name[128];

        snprintf(name, sizeof(name), "fib(%lld) returned %lld (wanted %lld)",
                 fib_tests[fib_next][0], got, fib_tests[fib_next][1]);
        tap_ok(got == fib_tests[fib_next][1], name);
        fib_next++;
        if (fib_next < N(fib_tests))
                poe_kernel_yield(poe_ctx_kernel(c), "next_test", POE_NOARGS);
        return poe_nil();
}

/* ---- package DynamicStates ---- */

static int dynamic_runstate;

static poe_value ds_wheel_event(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "happened", POE_NOARGS);
        return poe_nil();
}

static poe_value ds_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_value orig = poe_nil(), rv = poe_nil();
        poe_postback *pb = NULL;

        poe_kernel_alias_set(k, "dynamicstates");
        poe_nfa_goto_state(k, me, "listen", "send", POE_NOARGS);
        poe_kernel_state(k, "test_wheel_event", ds_wheel_event, NULL);

        /* test options (the old value is nil: a copy of it is kept) */
        poe_session_option_set(k, me, "default", poe_int(1), &orig);
        poe_session_option_get(k, me, "default", &rv);
        tap_ok(poe_value_true(&rv), "set default option successfully");
        poe_session_option_set(k, me, "default", orig, &rv);
        tap_ok(poe_value_true(&rv), "reset default option successfully");
        poe_session_option_get(k, me, "default", &rv);
        tap_ok(poe_value_true(&rv) == poe_value_true(&orig), "reset default option successfully");

        /* test (post|call)backs */
        if (poe_session_callback(k, me, "callback", POE_NOARGS, &pb) == 0)
                poe_postback_invoke(pb, POE_NOARGS, NULL);
        poe_postback_free(pb);
        pb = NULL;
        if (poe_session_postback(k, me, "postback", POE_NOARGS, &pb) == 0)
                poe_postback_invoke(pb, POE_NOARGS, NULL);
        poe_postback_free(pb);
        return poe_nil();
}

static poe_value ds_initial_callback(poe_ctx *c)
{
        (void)c;
        tap_pass("POE::NFA::callback");
        return poe_nil();
}

static poe_value ds_initial_postback(poe_ctx *c)
{
        (void)c;
        tap_fail("POE::NFA::postback");
        return poe_nil();
}

static poe_value ds_send(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "test_wheel_event", POE_NOARGS);
        return poe_nil();
}

static poe_value ds_happened(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *cur = NULL;

        tap_pass("wheel event happened");
        poe_nfa_get_current_state(k, poe_ctx_session(c), &cur);
        tap_is_str(cur, poe_nfa_ctx_state(c), "get_current_state returns the same as $_[STATE]");
        tap_ok(poe_nfa_get_runstate(k, poe_ctx_session(c)) == poe_ctx_heap(c) &&
                       poe_ctx_heap(c) == &dynamic_runstate,
               "get_runstate returns the same as $_[RUNSTATE]");
        return poe_nil();
}

static poe_value ds_listen_callback(poe_ctx *c)
{
        (void)c;
        tap_fail("POE::NFA::callback");
        return poe_nil();
}

static poe_value ds_listen_postback(poe_ctx *c)
{
        (void)c;
        tap_pass("POE::NFA::postback");
        return poe_nil();
}

int main(void)
{
        static const poe_handler sw_initial[] = {{"start", switch_start, NULL},
                                                 {"_default", ret0, NULL}};
        /* package_states: off => [ Switch => { ... } ] */
        static const poe_handler sw_off[] = {{"enter", off_enter, (void *)switch_package},
                                             {"pushed", off_pushed, (void *)switch_package},
                                             {"_default", ret0, (void *)switch_package}};
        /* object_states: on => [ $self => [qw(enter pushed _default)] ] */
        static const poe_handler sw_on[] = {{"enter", on_enter, &the_switch},
                                            {"pushed", on_pushed, &the_switch},
                                            {"_default", ret0, &the_switch}};
        static const poe_nfa_state sw_states[] = {{"initial", sw_initial, N(sw_initial)},
                                                  {"off", sw_off, N(sw_off)},
                                                  {"on", sw_on, N(sw_on)}};
        static const poe_handler st_initial[] = {{"start", stopper_start, NULL}};
        static const poe_nfa_state st_states[] = {{"initial", st_initial, N(st_initial)}};
        static const poe_handler op_h[] = {{"_start", op_start, NULL},
                                           {"push", op_push, NULL},
                                           {"visibility", op_visibility, NULL},
                                           {"_stop", ret0, NULL}};
        static const poe_handler fs_initial[] = {{"start", fs_start, NULL},
                                                 {"_default", ret0, NULL}};
        static const poe_handler fs_listen[] = {{"request", fs_request, NULL},
                                                {"answer", fs_answer, NULL},
                                                {"_default", ret0, NULL}};
        static const poe_handler fs_calculate[] = {{"start", fs_calc_start, NULL},
                                                   {"next", fs_calc_next, NULL},
                                                   {"_default", ret0, NULL}};
        static const poe_nfa_state fs_states[] = {{"initial", fs_initial, N(fs_initial)},
                                                  {"listen", fs_listen, N(fs_listen)},
                                                  {"calculate", fs_calculate, N(fs_calculate)}};
        static const poe_handler fc_h[] = {{"_start", fc_start, NULL},
                                           {"next_test", fc_next_test, NULL},
                                           {"fib", fc_fib, NULL},
                                           {"_stop", ret0, NULL}};
        static const poe_handler ds_initial[] = {{"start", ds_start, NULL},
                                                 {"_default", ret0, NULL},
                                                 {"callback", ds_initial_callback, NULL},
                                                 {"postback", ds_initial_postback, NULL}};
        static const poe_handler ds_listen[] = {{"send", ds_send, NULL},
                                                {"happened", ds_happened, NULL},
                                                {"callback", ds_listen_callback, NULL},
                                                {"postback", ds_listen_postback, NULL}};
        static const poe_nfa_state ds_states[] = {{"initial", ds_initial, N(ds_initial)},
                                                  {"listen", ds_listen, N(ds_listen)}};
        static struct operator op_heap;
        static struct fib_server fs_runstate;
        static int sw_runstate, st_runstate;
        poe_nfa_spec sw = {.states = sw_states, .n_states = N(sw_states), .runstate = &sw_runstate};
        poe_nfa_spec st = {.states = st_states, .n_states = N(st_states), .runstate = &st_runstate};
        poe_nfa_spec fs = {.states = fs_states, .n_states = N(fs_states), .runstate = &fs_runstate};
        poe_nfa_spec ds = {
                .states = ds_states, .n_states = N(ds_states), .runstate = &dynamic_runstate};
        poe_session_spec op = {.handlers = op_h, .n_handlers = N(op_h), .heap = &op_heap};
        poe_session_spec fc = {.handlers = fc_h, .n_handlers = N(fc_h)};
        poe_kernel *k;
        poe_sid m;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(39);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;

        if (poe_nfa_spawn(k, &sw, &m) == 0)
                poe_nfa_goto_state(k, m, "initial", "start", POE_NOARGS);
        if (poe_nfa_spawn(k, &st, &m) == 0)
                poe_nfa_goto_state(k, m, "initial", "start", POE_NOARGS);
        poe_session_create(k, &op, NULL);
        if (poe_nfa_spawn(k, &fs, &m) == 0)
                poe_nfa_goto_state(k, m, "initial", "start", POE_NOARGS);
        poe_session_create(k, &fc, NULL);
        if (poe_nfa_spawn(k, &ds, &m) == 0)
                poe_nfa_goto_state(k, m, "initial", "start", POE_NOARGS);

        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
