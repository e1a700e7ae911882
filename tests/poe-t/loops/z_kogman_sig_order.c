/*
 * POE::Test::Loops z_kogman_sig_order.pm: the order in which signals
 * propagate through a session and its descendants (descendants first),
 * what _default sees of a signal whose handler does not exist, and
 * when terminal signals stop the tree.  Seven scenarios, one kernel run
 * each.  The sessions of all scenarios share their handlers; what their
 * _start does is the handlers' object (a struct variant).  Delays run
 * on the fake clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

struct variant {
        struct variant *child;  /* created first in _start */
        double delay_bar;       /* then delay("bar" => it), if set */
        const char *sig;        /* then sig(sig => sig) */
        const char *signal;     /* then signal(SESSION, signal) */
        int default_logs_state; /* _default logs STATE rather than ARG0 */
        poe_sid sid;            /* the session made with it */
};

static char log_buf[4096];

static void logx(const char *what, const char *name, poe_sid sid)
{
        size_t n = strlen(log_buf);

        snprintf(log_buf + n, sizeof(log_buf) - n, "[%s%s%s %llu]", what, name ? " " : "",
                 name ? name : "", (unsigned long long)sid);
}

static void create(poe_kernel *k, struct variant *v);

static poe_value gen_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct variant *v = poe_ctx_object(c);
        poe_sid self = poe_ctx_session(c);

        logx("enter_start", NULL, self);
        if (v->child)
                create(k, v->child);
        if (v->delay_bar > 0)
                poe_kernel_delay(k, "bar", v->delay_bar, POE_NOARGS);
        if (v->sig)
                poe_kernel_sig(k, v->sig, v->sig, POE_NOARGS);
        if (v->signal)
                poe_kernel_signal(k, self, v->signal, POE_NOARGS);
        logx("leave_start", NULL, self);
        return poe_nil();
}

static poe_value gen_child(poe_ctx *c)
{
        logx("child", NULL, poe_ctx_session(c));
        return poe_nil();
}

static poe_value gen_stop(poe_ctx *c)
{
        logx("stop", NULL, poe_ctx_session(c));
        return poe_nil();
}

static poe_value gen_default(poe_ctx *c)
{
        const struct variant *v = poe_ctx_object(c);

        logx("default", v->default_logs_state ? poe_ctx_state(c) : poe_value_str(poe_ctx_arg(c, 0)),
             poe_ctx_session(c));
        return poe_nil();
}

static poe_value gen_foo(poe_ctx *c)
{
        logx("foo", NULL, poe_ctx_session(c));
        return poe_nil();
}

static void create(poe_kernel *k, struct variant *v)
{
        poe_handler h[] = {
                {"_start", gen_start, v},     {"_child", gen_child, v}, {"_stop", gen_stop, v},
                {"_default", gen_default, v}, {"foo", gen_foo, v},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 5};

        poe_session_create(k, &spec, &v->sid);
}

/* Runs a scenario from its top session and returns its log. */
static const char *scenario(poe_kernel *k, struct variant *top)
{
        log_buf[0] = '\0';
        create(k, top);
        poe_kernel_run(k);
        return log_buf;
}

/* The expected log: pairs of (what, session), what with an optional
 * " name" part, NULL-terminated. */
static const char *expect(const char *first, ...)
{
        static char buf[4096];
        const char *what;
        va_list ap;

        buf[0] = '\0';
        va_start(ap, first);
        for (what = first; what; what = va_arg(ap, const char *)) {
                const struct variant *v = va_arg(ap, const struct variant *);
                size_t n = strlen(buf);

                snprintf(buf + n, sizeof(buf) - n, "[%s %llu]", what, (unsigned long long)v->sid);
        }
        va_end(ap);
        return buf;
}

int main(void)
{
        static struct variant s1 = {.sig = "foo", .signal = "foo", .default_logs_state = 1};
        static struct variant c2 = {.delay_bar = 0.1};
        static struct variant s2 = {.child = &c2, .sig = "foo", .signal = "foo"};
        static struct variant c3 = {.delay_bar = 0.1, .sig = "foo"};
        static struct variant s3 = {.child = &c3, .sig = "foo", .signal = "foo"};
        static struct variant c4 = {.delay_bar = 1, .sig = "TERM"};
        static struct variant s4 = {.child = &c4, .sig = "TERM", .signal = "TERM"};
        static struct variant c5 = {.delay_bar = 1};
        static struct variant s5 = {.child = &c5, .signal = "TERM"};
        static struct variant g6 = {.delay_bar = 1};
        static struct variant c6 = {.child = &g6, .delay_bar = 1, .sig = "TERM"};
        static struct variant s6 = {.child = &c6, .signal = "TERM"};
        static struct variant g7 = {.delay_bar = 1};
        static struct variant c7 = {.child = &g7, .delay_bar = 1};
        static struct variant s7 = {.child = &c7, .signal = "TERM"};
        poe_kernel *k;
        const char *got;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(7);
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1e9) < 0)
                return 2;

        got = scenario(k, &s1);
        tap_is_str(got,
                   expect("enter_start", &s1, "leave_start", &s1, "foo", &s1, "stop", &s1, NULL),
                   "simple signal on one session");

        got = scenario(k, &s2);
        tap_is_str(got,
                   expect("enter_start", &s2, "enter_start", &c2, "leave_start", &c2, "child", &s2,
                          "leave_start", &s2, "foo", &s2, "default bar", &c2, "stop", &c2, "child",
                          &s2, "stop", &s2, NULL),
                   "signal on parent, oblivious child");

        got = scenario(k, &s3);
        tap_is_str(got,
                   expect("enter_start", &s3, "enter_start", &c3, "leave_start", &c3, "child", &s3,
                          "leave_start", &s3, "foo", &c3, "foo", &s3, "default bar", &c3, "stop",
                          &c3, "child", &s3, "stop", &s3, NULL),
                   "signal on child, then parent");

        got = scenario(k, &s4);
        tap_is_str(got,
                   expect("enter_start", &s4, "enter_start", &c4, "leave_start", &c4, "child", &s4,
                          "leave_start", &s4, "default TERM", &c4, "default TERM", &s4, "stop", &c4,
                          "child", &s4, "stop", &s4, NULL),
                   "TERM signal on child, then parent");

        got = scenario(k, &s5);
        tap_is_str(got,
                   expect("enter_start", &s5, "enter_start", &c5, "leave_start", &c5, "child", &s5,
                          "leave_start", &s5, "stop", &c5, "child", &s5, "stop", &s5, NULL),
                   "TERM signal with no handlers on child, then parent");

        got = scenario(k, &s6);
        tap_is_str(got,
                   expect("enter_start", &s6, "enter_start", &c6, "enter_start", &g6, "leave_start",
                          &g6, "child", &c6, "leave_start", &c6, "child", &s6, "leave_start", &s6,
                          "default TERM", &c6, "stop", &g6, "child", &c6, "stop", &c6, "child", &s6,
                          "stop", &s6, NULL),
                   "TERM signal on granchild, then child (with handler), then parent");

        got = scenario(k, &s7);
        tap_is_str(got,
                   expect("enter_start", &s7, "enter_start", &c7, "enter_start", &g7, "leave_start",
                          &g7, "child", &c7, "leave_start", &c7, "child", &s7, "leave_start", &s7,
                          "stop", &g7, "child", &c7, "stop", &c7, "child", &s7, "stop", &s7, NULL),
                   "TERM signal with no handlers on granchild, then child, then parent");

        poe_kernel_free(k);
        return tap_done();
}
