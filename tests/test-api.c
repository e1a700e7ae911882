/*
 * The inspector's live-state API (inspector/api.c): each endpoint's JSON
 * against a kernel whose state is known, the filters, exact paging
 * totals, the 400 and 404 answers, 10,000 sessions, a tree 100,000 deep,
 * and every allocation failing in turn.
 *
 * poe__api_get is called directly, between timeslices or from inside a
 * handler, as http.c does through poe_kernel_run_in_loop.
 *
 * Built alone (before the inspector's other files exist), define
 * TEST_API_STUB_EXTRA to get a stand-in for poe__inspector_summary_extra.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#include "http.h"
#include "inspector-internal.h"

#ifdef TEST_API_STUB_EXTRA
/* The inspector's fields in the kernel summary: given only for the
 * sentinel inspector, so the test can see them merged, and winning a
 * clash ("uptime"). */
static int extra_sentinel;
#define EXTRA_IN ((poe_inspector *)&extra_sentinel)

json_t *poe__inspector_summary_extra(poe_inspector *in)
{
        if (in != EXTRA_IN)
                return NULL;
        return json_pack("{s:s, s:{s:n}, s:i}", "url", "http://127.0.0.1:1/", "trace_log", "path",
                         "uptime", 42);
}
#endif

/* ---- asking ---- */

static struct answer {
        int status;
        json_t *data, *page;
        char err[512];
} ans;

static void ans_clear(void)
{
        json_decref(ans.data);
        json_decref(ans.page);
        memset(&ans, 0, sizeof(ans));
}

/* The JSON as text, for failure messages. */
static const char *dump(const json_t *j)
{
        static char buf[4096];
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

        snprintf(buf, sizeof(buf), "%s", s ? s : "(null)");
        free(s);
        return buf;
}

/*
 * GET /api/v1/<url> ("sessions?limit=2&q=x") into ans.  Values are taken
 * as they are (the tests need no %-decoding).  Checks the contract every
 * answer keeps: 200 with data (and a page for lists), or a status with a
 * message and the outputs untouched.
 */
static int get_in(poe_inspector *in, const char *url)
{
        static char buf[1024];
        poe__params p;
        char *q, *tok, *save, *eq;

        ans_clear();
        memset(&p, 0, sizeof(p));
        snprintf(buf, sizeof(buf), "%s", url);
        q = strchr(buf, '?');
        if (q) {
                *q++ = '\0';
                for (tok = strtok_r(q, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
                        assert_true(p.n < POE__MAX_PARAMS);
                        eq = strchr(tok, '=');
                        if (eq)
                                *eq++ = '\0';
                        p.kv[p.n].key = tok;
                        p.kv[p.n].value = eq;
                        p.n++;
                }
        }
        ans.status = poe__api_get(tl.k, in, buf, &p, &ans.data, &ans.page, ans.err,
                                  sizeof(ans.err));
        if (ans.status == 200) {
                assert_non_null(ans.data);
                assert_string_equal(ans.err, "");
        } else {
                assert_null(ans.data);
                assert_null(ans.page);
                assert_true(ans.err[0] != '\0');
        }
        return ans.status;
}

#define GET(url) get_in(NULL, (url))

/* A 200 with a page, or the test fails with the message. */
#define GET_OK(url)                                                                         \
        do {                                                                                \
                if (GET(url) != 200)                                                        \
                        fail_msg("%s: %d %s", (url), ans.status, ans.err);                 \
        } while (0)

#define GET_LIST(url, total)                                                               \
        do {                                                                               \
                GET_OK(url);                                                               \
                assert_non_null(ans.page);                                                 \
                TL_EQ(jint(ans.page, "total"), (total));                                   \
        } while (0)

/* An error whose message mentions `what`. */
#define GET_ERR(url, status, what)                                                          \
        do {                                                                                \
                TL_EQ(GET(url), (status));                                                  \
                if (!strstr(ans.err, (what)))                                               \
                        fail_msg("%s: message \"%s\" does not mention \"%s\"", (url), ans.err, \
                                 (what));                                                   \
        } while (0)

static json_t *jget(const json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!v)
                fail_msg("no \"%s\" in %s", key, dump(o));
        return v;
}

static long long jint(const json_t *o, const char *key)
{
        json_t *v = jget(o, key);

        if (!json_is_integer(v))
                fail_msg("\"%s\" is not an integer in %s", key, dump(o));
        return (long long)json_integer_value(v);
}

static double jnum(const json_t *o, const char *key)
{
        json_t *v = jget(o, key);

        if (!json_is_number(v))
                fail_msg("\"%s\" is not a number in %s", key, dump(o));
        return json_number_value(v);
}

static const char *jtext(const json_t *o, const char *key)
{
        json_t *v = jget(o, key);

        if (!json_is_string(v))
                fail_msg("\"%s\" is not a string in %s", key, dump(o));
        return json_string_value(v);
}

static bool jtrue(const json_t *o, const char *key)
{
        json_t *v = jget(o, key);

        if (!json_is_boolean(v))
                fail_msg("\"%s\" is not a boolean in %s", key, dump(o));
        return json_is_true(v);
}

/* The items of an array joined with spaces: "key" of each object (an
 * integer or a string), or the items themselves when key is NULL. */
static const char *joined(const json_t *arr, const char *key)
{
        static char buf[8192];
        size_t i, n = 0;
        json_t *v;

        buf[0] = '\0';
        if (!json_is_array(arr))
                fail_msg("not an array: %s", dump(arr));
        json_array_foreach(arr, i, v) {
                json_t *x = key ? jget(v, key) : v;

                if (json_is_integer(x))
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%lld", i ? " " : "",
                                              (long long)json_integer_value(x));
                else if (json_is_string(x))
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
                                              json_string_value(x));
                else
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s?", i ? " " : "");
                if (n >= sizeof(buf))
                        break;
        }
        return buf;
}

/* "1 2 3" from session ids, for comparing with joined(). */
static const char *sids(int n, ...)
{
        static char buf[512];
        size_t len = 0;
        va_list ap;
        int i;

        buf[0] = '\0';
        va_start(ap, n);
        for (i = 0; i < n; i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%llu", i ? " " : "",
                                        (unsigned long long)va_arg(ap, poe_sid));
        va_end(ap);
        return buf;
}

#define SIDS(...) sids((int)(sizeof((poe_sid[]){ __VA_ARGS__ }) / sizeof(poe_sid)), __VA_ARGS__)

#define EXPECT_IDS(arr, key, ...) assert_string_equal(joined((arr), (key)), SIDS(__VA_ARGS__))

static json_t *by_id(const json_t *arr, poe_sid id)
{
        size_t i;
        json_t *v;

        json_array_foreach(arr, i, v) {
                if ((poe_sid)jint(v, "id") == id)
                        return v;
        }
        fail_msg("no id %llu in %s", (unsigned long long)id, dump(arr));
        return NULL;
}

/* ---- the world ---- */

/*
 * On the fake clock at 1000, after one timeslice:
 *
 *   A  aliases root, alpha; posted "ping" (2 args) to B
 *   +- B  alias worker-1; a "tick" timer at 1005; the ping queued to it
 *   +- C  alias io; reads the pipe ("readable")
 *      +- D  an extra reference "test-ref"
 *   E  "pong" queued from outside; extref "held" twice; a postback;
 *      watches user signal CUSTOM; awaits pid 999999
 *   F  nothing but its child
 *   +- G  alias leaf
 */
static struct world {
        poe_sid a, b, c, d, e, f, g;
        int pipe[2];
        poe_postback *pb;
        poe_alarm_id timer;
        /* What a handler saw (asserted after it returns). */
        int in_status;
        bool in_dispatching;
        long long in_active;
        char in_event[64];
} W;

static poe_value b_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "worker-1"), 0);
        TL_EQ(poe_kernel_delay_set(poe_ctx_kernel(c), "tick", 5.0, POE_NOARGS, &W.timer), 0);
        return poe_nil();
}

static poe_value d_start(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value c_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_session_spec s = TL_SPEC({ "_start", d_start }, { "poke", tl_h_nop });

        TL_EQ(poe_kernel_alias_set(k, "io"), 0);
        TL_EQ(poe_kernel_select_read(k, W.pipe[0], "readable", POE_NOARGS), 0);
        TL_EQ(poe_session_create(k, &s, &W.d), 0);
        return poe_nil();
}

static poe_value c_pause(poe_ctx *c)
{
        TL_EQ(poe_kernel_select_pause_read(poe_ctx_kernel(c), W.pipe[0]), 1);
        return poe_nil();
}

static poe_value a_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_session_spec sb = TL_SPEC({ "_start", b_start }, { "ping", tl_h_nop },
                                      { "tick", tl_h_nop });
        poe_session_spec sc = TL_SPEC({ "_start", c_start }, { "readable", tl_h_nop },
                                      { "pause", c_pause });

        TL_EQ(poe_kernel_alias_set(k, "root"), 0);
        TL_EQ(poe_kernel_alias_set(k, "alpha"), 0);
        TL_EQ(poe_session_create(k, &sb, &W.b), 0);
        TL_EQ(poe_session_create(k, &sc, &W.c), 0);
        return poe_nil();
}

static poe_value a_send(poe_ctx *c)
{
        TL_EQ(poe_kernel_post(poe_ctx_kernel(c), W.b, "ping", POE_ARGS(poe_int(1), poe_str("two"))),
              0);
        return poe_nil();
}

/* Reads the kernel summary from inside a handler. */
static poe_value a_inspect(poe_ctx *c)
{
        (void)c;
        W.in_status = GET("kernel");
        if (W.in_status == 200) {
                W.in_dispatching = jtrue(ans.data, "dispatching");
                W.in_active = jint(ans.data, "active_session");
                snprintf(W.in_event, sizeof(W.in_event), "%s", jtext(ans.data, "active_event"));
        }
        ans_clear();
        return poe_nil();
}

static poe_value e_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_sig(k, "CUSTOM", "on_custom", POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig_child(k, 999999, "child_gone", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value g_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "leaf"), 0);
        return poe_nil();
}

static poe_value f_start(poe_ctx *c)
{
        poe_session_spec s = TL_SPEC({ "_start", g_start });

        TL_EQ(poe_session_create(poe_ctx_kernel(c), &s, &W.g), 0);
        return poe_nil();
}

static int world_setup(void **state)
{
        poe_kernel *k;

        memset(&W, 0, sizeof(W));
        W.pipe[0] = W.pipe[1] = -1;
        if (tl_setup(state) != 0)
                return -1;
        k = tl.k;
        TL_EQ(poe_kernel_clock_fake(k, 1000.0), 0);
        TL_EQ(pipe(W.pipe), 0);
        W.a = TL_CREATE(k, { "_start", a_start }, { "inspect", a_inspect }, { "send", a_send });
        TL_EQ(poe_kernel_refcount_increment(k, W.d, "test-ref"), 1);
        W.e = TL_CREATE(k, { "_start", e_start }, { "pong", tl_h_nop },
                        { "on_custom", tl_h_nop }, { "child_gone", tl_h_nop }, { "pb", tl_h_nop });
        TL_EQ(poe_kernel_refcount_increment(k, W.e, "held"), 1);
        TL_EQ(poe_kernel_refcount_increment(k, W.e, "held"), 2);
        W.f = TL_CREATE(k, { "_start", f_start });
        /* Each new session has a _garbage_collect queued, as in POE: one
         * timeslice clears them, and leaves the timer. */
        TL_EQ(poe_kernel_run_one_timeslice(k), 1);
        TL_EQ(poe_kernel_get_event_count(k), 1);
        TL_EQ(poe_kernel_call(k, W.a, "send", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_post(k, W.e, "pong", POE_ARGS(poe_int(1))), 0);
        TL_EQ(poe_session_postback(k, W.e, "pb", POE_NOARGS, &W.pb), 0);
        tl_check_kernel(k);
        return 0;
}

static int world_teardown(void **state)
{
        int r;

        ans_clear();
        /* Back to libc's, should t_oom have failed half-way (its
         * allocator is malloc underneath, so either frees the other's). */
        json_set_alloc_funcs(malloc, free);
        W.pb = poe_postback_free(W.pb);
        r = tl_teardown(state);
        /* Closed only now: a watched fd closed first is reported. */
        if (W.pipe[0] >= 0) {
                close(W.pipe[0]);
                close(W.pipe[1]);
        }
        return r;
}

#define WORLD_TEST(fn) cmocka_unit_test_setup_teardown(fn, world_setup, world_teardown)

/* A kernel without the world, torn down the same way. */
static int bare_setup(void **state)
{
        memset(&W, 0, sizeof(W));
        W.pipe[0] = W.pipe[1] = -1;
        return tl_setup(state);
}

#define BARE_TEST(fn) cmocka_unit_test_setup_teardown(fn, bare_setup, world_teardown)

/* ---- sorting, and the lints ---- */

static void t_sessions_sort(void **state)
{
        json_t *prev = NULL;
        size_t i;

        (void)state;
        GET_LIST("sessions?sort=id&order=desc", 7);
        EXPECT_IDS(ans.data, "id", W.g, W.f, W.e, W.d, W.c, W.b, W.a);
        /* The page is a slice of all sessions in that order. */
        GET_LIST("sessions?sort=id&order=desc&offset=1&limit=2", 7);
        EXPECT_IDS(ans.data, "id", W.f, W.e);
        GET_LIST("sessions?sort=refcount&order=desc", 7);
        for (i = 0; i < json_array_size(ans.data); i++) {
                json_t *x = json_array_get(ans.data, i);

                if (prev)
                        assert_true(jint(prev, "refcount") >= jint(x, "refcount"));
                prev = x;
        }
        GET_LIST("sessions?sort=queue", 7);
        prev = NULL;
        for (i = 0; i < json_array_size(ans.data); i++) {
                json_t *x = json_array_get(ans.data, i);

                if (prev)
                        assert_true(jint(prev, "queue") <= jint(x, "queue"));
                prev = x;
        }
        GET_LIST("sessions?sort=busy&order=asc", 7);
        GET_LIST("sessions?sort=dispatches", 7);
        GET_LIST("sessions?sort=last_activity&order=desc", 7);
        TL_EQ(GET("sessions?sort=colour"), 400);
        assert_non_null(strstr(ans.err, "sort=colour"));
        assert_non_null(strstr(ans.err, "last_activity"));
        TL_EQ(GET("sessions?sort=id&order=up"), 400);
        assert_non_null(strstr(ans.err, "order=up"));
        TL_EQ(GET("sessions?order=asc"), 400);
}

static double lint_spin;

static poe_value l_keep(poe_ctx *c)
{
        char name[32];

        snprintf(name, sizeof(name), "lint-%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), name), 0);
        return poe_nil();
}

static poe_value l_spin(poe_ctx *c)
{
        TL_EQ(poe_kernel_clock_advance(poe_ctx_kernel(c), lint_spin), 0);
        return poe_nil();
}

static poe_value l_later(poe_ctx *c)
{
        TL_EQ(poe_kernel_delay_add(poe_ctx_kernel(c), "spin", 1000, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value l_late(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alarm_set(k, "spin", poe_kernel_time(k) - 10, POE_NOARGS, NULL), 0);
        return poe_nil();
}

/* The finding of kind for session sid in the last answer, or NULL. */
static json_t *lint_of(const char *kind, poe_sid sid)
{
        json_t *list = jget(ans.data, "lints");
        size_t i;

        for (i = 0; i < json_array_size(list); i++) {
                json_t *x = json_array_get(list, i);

                if (strcmp(jtext(x, "kind"), kind) == 0 && (poe_sid)jint(x, "session") == sid)
                        return x;
        }
        return NULL;
}

static void t_lints(void **state)
{
        static poe_inspector lin;
        poe_sid idle, slow, q, t, late;
        poe_postback *pb;
        json_t *x;
        int i;

        (void)state;
        memset(&lin, 0, sizeof(lin));
        poe__lint_cfg_default(&lin.lint_cfg);
        TL_EQ(poe_kernel_clock_fake(tl.k, 1000.0), 0);
        idle = TL_CREATE(tl.k, { "_start", l_keep });
        slow = TL_CREATE(tl.k, { "_start", l_keep }, { "spin", l_spin });
        q = TL_CREATE(tl.k, { "_start", l_keep }, { "spin", l_spin });
        t = TL_CREATE(tl.k, { "_start", l_keep }, { "later", l_later }, { "spin", l_spin });
        late = TL_CREATE(tl.k, { "_start", l_keep }, { "late", l_late }, { "spin", l_spin });
        TL_EQ(poe_kernel_refcount_increment(tl.k, idle, "forgotten"), 1);
        TL_EQ(poe_session_postback(tl.k, late, "spin", POE_NOARGS, &pb), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1); /* the _garbage_collects */

        /* Nothing yet. */
        TL_EQ(get_in(&lin, "lints"), 200);
        TL_EQ(json_array_size(jget(ans.data, "lints")), 0);
        TL_EQ(jint(jget(ans.data, "counts"), "idle_held"), 0);
        assert_true(jnum(jget(ans.data, "thresholds"), "idle") == 60);

        /* A slow handler: 2 s at the default 0.5 s. */
        lint_spin = 2;
        TL_EQ(poe_kernel_post(tl.k, slow, "spin", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        lint_spin = 0;
        /* The queue and the timers grow, a sample each 2 s; the late one
         * sets timers in the past again and again. */
        for (i = 0; i < 5; i++) {
                TL_EQ(poe_kernel_post(tl.k, q, "spin", POE_NOARGS), 0);
                TL_EQ(poe_kernel_call(tl.k, t, "later", POE_NOARGS, NULL), 0);
                TL_EQ(poe_kernel_call(tl.k, late, "late", POE_NOARGS, NULL), 0);
                TL_EQ(poe_kernel_clock_advance(tl.k, 2), 0);
                TL_EQ(get_in(&lin, "lints?grow=5"), 200);
        }
        x = lint_of("queue_grows", q);
        if (!x)
                fail_msg("no queue_grows for %llu: %s", (unsigned long long)q, dump(ans.data));
        if (!strstr(jtext(x, "evidence"), "from 0 to 5 in 12 s"))
                fail_msg("%s", dump(x));
        assert_true(jnum(x, "since") == 1000.0); /* the first sample */
        assert_non_null(lint_of("timers_grow", t));
        assert_null(lint_of("queue_grows", t));
        x = lint_of("slow_handler", slow);
        assert_non_null(x);
        assert_non_null(strstr(jtext(x, "evidence"), "'spin', 2.000 s"));
        assert_true(jnum(x, "since") == 1000.0);
        x = lint_of("timer_in_past", late);
        assert_non_null(x);
        assert_true(jnum(x, "value") == 5);
        /* Not idle long enough yet; the threshold as a parameter. */
        assert_null(lint_of("idle_held", idle));
        TL_EQ(get_in(&lin, "lints?idle=5&postback=5"), 200);
        x = lint_of("idle_held", idle);
        assert_non_null(x);
        assert_non_null(strstr(jtext(x, "evidence"), "alias 'lint-"));
        assert_non_null(strstr(jtext(x, "evidence"), "extra reference 'forgotten' x1 (taken at"));
        assert_non_null(strstr(jtext(x, "evidence"), "test-api.c"));
        assert_true(jnum(x, "since") == 1000.0);
        x = lint_of("postback_unused", late);
        assert_non_null(x);
        assert_non_null(strstr(jtext(x, "evidence"), "test-api.c"));
        TL_EQ(jint(jget(ans.data, "counts"), "idle_held"), 2); /* and the slow one, idle since */
        /* By kind, with the counts of all. */
        TL_EQ(get_in(&lin, "lints?idle=5&kind=idle_held"), 200);
        TL_EQ(json_array_size(jget(ans.data, "lints")), 2);
        TL_EQ(jint(jget(ans.data, "counts"), "slow_handler"), 1);
        /* Invoked, the postback is no finding; the default thresholds
         * find no idle session after 10 s. */
        TL_EQ(poe_postback_invoke(pb, POE_NOARGS, NULL), 0);
        TL_EQ(get_in(&lin, "lints?postback=5"), 200);
        assert_null(lint_of("postback_unused", late));
        assert_null(lint_of("idle_held", idle));
        /* A dispatch makes it active again. */
        TL_EQ(poe_kernel_clock_advance(tl.k, 60), 0);
        TL_EQ(get_in(&lin, "lints"), 200);
        assert_non_null(lint_of("idle_held", idle));
        TL_EQ(get_in(&lin, "lints?slow=5"), 200);
        assert_null(lint_of("slow_handler", slow));

        TL_EQ(get_in(&lin, "lints?idle=0"), 400);
        assert_non_null(strstr(ans.err, "idle=0"));
        TL_EQ(get_in(&lin, "lints?past=1.5"), 400);
        TL_EQ(get_in(&lin, "lints?kind=bogus"), 400);
        assert_non_null(strstr(ans.err, "kind=bogus"));
        pb = poe_postback_free(pb);
        poe__lints_free(lin.lints);
}

/* ---- kernel ---- */

static void t_kernel(void **state)
{
        bool profile;
        json_t *d;

        (void)state;
        profile = (poe_debug_compiled() & POE_TRACE_PROFILE) != 0;
        if (profile)
                TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_PROFILE, 1), 0);
        GET_OK("kernel");
        d = ans.data;
        assert_null(ans.page);
        TL_EQ(jint(d, "pid"), getpid());
        assert_string_equal(jtext(d, "kernel_id"), poe_kernel_id(tl.k));
        assert_string_equal(jtext(d, "loop"), poe_kernel_loop_name(tl.k));
        assert_true(jnum(d, "now") == 1000.0);
        /* uptime is now - started, both from the kernel's clock. */
        assert_true(fabs(jnum(d, "uptime") - (jnum(d, "now") - jnum(d, "started"))) < 1e-6);
        TL_EQ(jint(d, "sessions"), 7);
        TL_EQ(jint(d, "queue_length"), 3);
        TL_EQ(jint(d, "timers"), 1);
        TL_EQ(jint(d, "fds_watched"), 1);
        TL_EQ(jint(d, "signal_watchers"), 1);
        TL_EQ(jint(d, "pid_watchers"), 1);
        TL_EQ(jint(d, "postbacks"), 1);
        assert_true(jint(d, "events_dispatched") >= 0);
        TL_EQ(jint(d, "active_session"), 0);
        assert_true(json_is_null(jget(d, "active_event")));
        assert_false(jtrue(d, "dispatching"));
        assert_true(jtrue(d, "running"));
        assert_string_equal(joined(jget(d, "debug_enabled"), NULL), profile ? "TRACE_PROFILE" : "");
        if (poe_debug_compiled() & POE_TRACE_EVENTS)
                assert_non_null(strstr(joined(jget(d, "debug_compiled"), NULL), "TRACE_EVENTS"));
        /* Nothing of the inspector's without an inspector. */
        assert_null(json_object_get(d, "url"));
        if (profile)
                TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_PROFILE, 0), 0);
}

/* From inside a handler: the kernel says who is running. */
static void t_kernel_in_handler(void **state)
{
        (void)state;
        TL_EQ(poe_kernel_call(tl.k, W.a, "inspect", POE_NOARGS, NULL), 0);
        TL_EQ(W.in_status, 200);
        assert_true(W.in_dispatching);
        TL_EQ(W.in_active, W.a);
        assert_string_equal(W.in_event, "inspect");
}

#ifdef TEST_API_STUB_EXTRA
static void t_kernel_extra(void **state)
{
        (void)state;
        TL_EQ(get_in(EXTRA_IN, "kernel"), 200);
        assert_string_equal(jtext(ans.data, "url"), "http://127.0.0.1:1/");
        assert_true(json_is_null(jget(jget(ans.data, "trace_log"), "path")));
        TL_EQ(jint(ans.data, "uptime"), 42);
        TL_EQ(jint(ans.data, "sessions"), 7);
}
#endif

/* ---- sessions ---- */

static void t_sessions(void **state)
{
        json_t *b, *r;

        (void)state;
        GET_LIST("sessions", 7);
        EXPECT_IDS(ans.data, "id", W.a, W.b, W.c, W.d, W.e, W.f, W.g);
        TL_EQ(jint(ans.page, "offset"), 0);
        TL_EQ(jint(ans.page, "limit"), 100);

        b = by_id(ans.data, W.b);
        TL_EQ(jint(b, "parent"), W.a);
        assert_string_equal(joined(jget(b, "aliases"), NULL), "worker-1");
        TL_EQ(jint(b, "refcount"), 3);
        r = jget(b, "reasons");
        TL_EQ(json_object_size(r), 4);
        TL_EQ(jint(r, "events to"), 1);
        TL_EQ(jint(r, "aliases"), 1);
        TL_EQ(jint(r, "timers"), 1);
        TL_EQ(jint(r, "total"), 3);
        TL_EQ(jint(b, "n_children"), 0);
        TL_EQ(jint(b, "n_handlers"), 3);
        assert_true(jint(b, "events_dispatched") >= 1); /* _start */
        assert_true(jnum(b, "busy_seconds") >= 0);
        assert_true(jnum(b, "created") == 1000.0);
        assert_false(jtrue(b, "stopping"));
        assert_false(jtrue(b, "marked_for_gc"));

        assert_string_equal(joined(jget(by_id(ans.data, W.a), "aliases"), NULL), "alpha root");
        TL_EQ(jint(by_id(ans.data, W.a), "n_children"), 2);
        r = jget(by_id(ans.data, W.e), "reasons");
        TL_EQ(jint(r, "events to"), 1);
        TL_EQ(jint(r, "extra refs"), 1);
        TL_EQ(jint(r, "child pids"), 1);
        TL_EQ(jint(r, "postbacks"), 1);
        TL_EQ(jint(r, "total"), 4);
        TL_EQ(json_array_size(jget(by_id(ans.data, W.f), "aliases")), 0);
}

static void t_sessions_filters(void **state)
{
        char url[128];

        (void)state;
        GET_LIST("sessions?q=worker", 1); /* an alias */
        EXPECT_IDS(ans.data, "id", W.b);
        GET_LIST("sessions?q=WORKER", 1); /* in any case */
        GET_LIST("sessions?q=readable", 1); /* a handler */
        EXPECT_IDS(ans.data, "id", W.c);
        GET_LIST("sessions?q=child_", 1);
        EXPECT_IDS(ans.data, "id", W.e);
        snprintf(url, sizeof(url), "sessions?q=%llu", (unsigned long long)W.d); /* the id */
        GET_LIST(url, 1);
        EXPECT_IDS(ans.data, "id", W.d);
        GET_LIST("sessions?q=nothing-like-it", 0);
        TL_EQ(json_array_size(ans.data), 0);
        GET_LIST("sessions?q=", 7); /* empty: no filter */

        snprintf(url, sizeof(url), "sessions?parent=%llu", (unsigned long long)W.a);
        GET_LIST(url, 2);
        EXPECT_IDS(ans.data, "id", W.b, W.c);
        GET_LIST("sessions?parent=0", 3);
        EXPECT_IDS(ans.data, "id", W.a, W.e, W.f);
        snprintf(url, sizeof(url), "sessions?parent=%llu&q=io", (unsigned long long)W.a);
        GET_LIST(url, 1);
        EXPECT_IDS(ans.data, "id", W.c);
        GET_LIST("sessions?parent=999", 0);

        /* Paging: the total counts every match. */
        GET_LIST("sessions?limit=2&offset=1", 7);
        EXPECT_IDS(ans.data, "id", W.b, W.c);
        TL_EQ(jint(ans.page, "offset"), 1);
        TL_EQ(jint(ans.page, "limit"), 2);
        GET_LIST("sessions?offset=6", 7);
        EXPECT_IDS(ans.data, "id", W.g);
        GET_LIST("sessions?offset=100", 7);
        TL_EQ(json_array_size(ans.data), 0);
        /* "o": A (root), B (worker-1), C (io), D (poke), E (pong, ...). */
        GET_LIST("sessions?q=o&limit=2&offset=1", 5);
        EXPECT_IDS(ans.data, "id", W.b, W.c);
}

static void t_bad_params(void **state)
{
        (void)state;
        GET_ERR("sessions?limit=0", 400, "limit");
        GET_ERR("sessions?limit=1001", 400, "1 to 1000");
        GET_ERR("sessions?limit=ten", 400, "limit=ten");
        GET_ERR("sessions?offset=-1", 400, "offset");
        GET_ERR("sessions?offset=1x", 400, "offset");
        GET_ERR("sessions?parent=x", 400, "parent");
        GET_ERR("sessions?parent=-3", 400, "session id");
        GET_ERR("queue?session=abc", 400, "session=abc");
        GET_ERR("queue?type=bogus", 400, "post, alarm, signal, die, sig_child, gc");
        GET_ERR("timers?session=1.5", 400, "session");
        GET_ERR("watchers?limit=", 400, "limit");
        GET_ERR("signals?session=x", 400, "session");
        GET_ERR("tree?depth=0", 400, "depth");
        GET_ERR("tree?depth=deep", 400, "depth");
        GET_ERR("tree?root=zz", 400, "root");
        GET_ERR("tree?root=999", 404, "no such session: 999");
        GET_ERR("why?items=-1", 400, "items");
        GET_ERR("why?items=1001", 400, "0 to 1000");
        GET_ERR("aliases?limit=5000", 400, "limit");
        GET_ERR("extrefs?session=e", 400, "session");
        /* Control bytes never reach the message. */
        GET_ERR("sessions?limit=\x01\x7f", 400, "limit=??");
}

static void t_session_one(void **state)
{
        char url[128];
        json_t *d;

        (void)state;
        snprintf(url, sizeof(url), "sessions/%llu", (unsigned long long)W.a);
        GET_OK(url);
        assert_null(ans.page);
        d = ans.data;
        TL_EQ(jint(d, "id"), W.a);
        TL_EQ(jint(d, "parent"), 0);
        assert_string_equal(joined(jget(d, "aliases"), NULL), "alpha root");
        assert_string_equal(joined(jget(d, "handlers"), NULL), "_start inspect send");
        EXPECT_IDS(jget(d, "children"), NULL, W.b, W.c);
        TL_EQ(jint(d, "refcount"), 5);
        TL_EQ(jint(jget(d, "reasons"), "events from"), 1);
        TL_EQ(jint(jget(d, "reasons"), "children"), 2);
        TL_EQ(jint(jget(d, "reasons"), "aliases"), 2);

        snprintf(url, sizeof(url), "sessions/%llu/", (unsigned long long)W.e); /* trailing / */
        GET_OK(url);
        assert_string_equal(joined(jget(ans.data, "handlers"), NULL),
                            "_start child_gone on_custom pb pong");
        TL_EQ(json_array_size(jget(ans.data, "children")), 0);

        snprintf(url, sizeof(url), "sessions/%llu", (unsigned long long)W.c);
        GET_OK(url);
        EXPECT_IDS(jget(ans.data, "children"), NULL, W.d);

        GET_ERR("sessions/999", 404, "no such session: 999");
        GET_ERR("sessions/0", 404, "kernel");
        GET_ERR("sessions/abc", 400, "malformed session id 'abc'");
        GET_ERR("sessions/-1", 400, "malformed");
        GET_ERR("sessions/1x", 400, "'1x'");
        GET_ERR("sessions/99999999999999999999", 400, "malformed");
        GET_ERR("sessions//reasons", 400, "malformed session id ''");
        GET_ERR("sessions/abc/reasons", 400, "'abc'");
        GET_ERR("sessions/999/reasons", 404, "no such session");
        snprintf(url, sizeof(url), "sessions/%llu/bogus", (unsigned long long)W.a);
        GET_ERR(url, 404, "no such endpoint");
        snprintf(url, sizeof(url), "sessions/%llu/reasons/x", (unsigned long long)W.a);
        GET_ERR(url, 404, "no such endpoint");
}

/* ---- reasons, item by item ---- */

static json_t *item_of(const json_t *items, const char *reason)
{
        size_t i;
        json_t *v;

        json_array_foreach(items, i, v) {
                if (strcmp(jtext(v, "reason"), reason) == 0)
                        return v;
        }
        fail_msg("no \"%s\" item in %s", reason, dump(items));
        return NULL;
}

static void t_reasons(void **state)
{
        poe_postback *pb2;
        poe_sid all[7];
        json_t *items, *it;
        char url[128];
        size_t i;

        (void)state;
        snprintf(url, sizeof(url), "sessions/%llu/reasons", (unsigned long long)W.e);
        GET_LIST(url, 4);
        TL_EQ(jint(ans.data, "session"), W.e);
        TL_EQ(jint(ans.data, "refcount"), 4);
        TL_EQ(jint(ans.data, "sum"), 4);
        items = jget(ans.data, "items");
        TL_EQ(json_array_size(items), 4);
        it = item_of(items, "events to");
        assert_string_equal(jtext(it, "name"), "pong");
        TL_EQ(jint(it, "other"), 0);
        assert_true(jnum(it, "when") == 1000.0);
        assert_true(json_is_null(jget(it, "count")));
        it = item_of(items, "extra refs");
        assert_string_equal(jtext(it, "name"), "held");
        TL_EQ(jint(it, "count"), 2);
        assert_true(json_is_null(jget(it, "id")));
        assert_true(json_is_null(jget(it, "other")));
        assert_true(json_is_null(jget(it, "when")));
        it = item_of(items, "child pids");
        TL_EQ(jint(it, "id"), 999999);
        assert_string_equal(jtext(it, "name"), "child_gone");
        it = item_of(items, "postbacks");
        TL_EQ(jint(it, "count"), 1);
        assert_true(json_is_null(jget(it, "name")));

        snprintf(url, sizeof(url), "sessions/%llu/reasons", (unsigned long long)W.c);
        GET_LIST(url, 3);
        items = jget(ans.data, "items");
        it = item_of(items, "handles");
        TL_EQ(jint(it, "id"), W.pipe[0]);
        assert_string_equal(jtext(it, "name"), "readable");
        TL_EQ(jint(it, "count"), 1);
        assert_string_equal(joined(jget(it, "modes"), NULL), "read");
        it = item_of(items, "children");
        TL_EQ(jint(it, "id"), W.d);
        TL_EQ(jint(it, "other"), W.d);
        assert_string_equal(jtext(item_of(items, "aliases"), "name"), "io");

        snprintf(url, sizeof(url), "sessions/%llu/reasons", (unsigned long long)W.b);
        GET_LIST(url, 3);
        it = item_of(jget(ans.data, "items"), "timers");
        TL_EQ(jint(it, "id"), (long long)W.timer);
        assert_string_equal(jtext(it, "name"), "tick");
        assert_true(jnum(it, "when") == 1005.0);
        it = item_of(jget(ans.data, "items"), "events to");
        TL_EQ(jint(it, "other"), W.a);

        /* Paged: the sum is still every item's. */
        snprintf(url, sizeof(url), "sessions/%llu/reasons?limit=2&offset=1",
                 (unsigned long long)W.a);
        GET_LIST(url, 5);
        TL_EQ(json_array_size(jget(ans.data, "items")), 2);
        TL_EQ(jint(ans.data, "sum"), 5);
        TL_EQ(jint(ans.data, "refcount"), 5);

        /* Two postbacks are one item that holds two. */
        TL_EQ(poe_session_postback(tl.k, W.e, "pb", POE_NOARGS, &pb2), 0);
        snprintf(url, sizeof(url), "sessions/%llu/reasons", (unsigned long long)W.e);
        GET_LIST(url, 4);
        TL_EQ(jint(item_of(jget(ans.data, "items"), "postbacks"), "count"), 2);
        TL_EQ(jint(ans.data, "refcount"), 5);
        TL_EQ(jint(ans.data, "sum"), 5);
        pb2 = poe_postback_free(pb2);

        /* Every session's items add up to its refcount. */
        GET_OK("sessions");
        for (i = 0; i < 7; i++)
                all[i] = (poe_sid)jint(json_array_get(ans.data, i), "id");
        for (i = 0; i < 7; i++) {
                snprintf(url, sizeof(url), "sessions/%llu/reasons", (unsigned long long)all[i]);
                GET_OK(url);
                TL_EQ(jint(ans.data, "sum"), jint(ans.data, "refcount"));
                TL_EQ(jint(ans.data, "sum"), tl_refcnt(tl.k, all[i]));
        }
}

/* ---- why ---- */

static void t_why(void **state)
{
        json_t *d, *k, *a;

        (void)state;
        GET_LIST("why", 6);
        d = ans.data;
        assert_true(jtrue(d, "running"));
        TL_EQ(jint(d, "sessions_alive"), 7);
        TL_EQ(jint(d, "holding_own"), 6);
        TL_EQ(jint(d, "only_children"), 1); /* F */
        TL_EQ(jint(d, "holding_nothing"), 0);
        EXPECT_IDS(jget(d, "sessions"), "id", W.a, W.b, W.c, W.d, W.e, W.g);
        k = jget(d, "kernel");
        TL_EQ(jint(k, "queue_length"), 3);
        TL_EQ(jint(k, "events_queued"), 2);
        TL_EQ(jint(k, "timers"), 1);
        TL_EQ(jint(k, "fds_watched"), 1);
        TL_EQ(jint(k, "pid_watchers"), 1);
        TL_EQ(jint(k, "postbacks"), 1);
        TL_EQ(jint(k, "extref_sessions"), 2);
        TL_EQ(jint(k, "extrefs"), 2);
        TL_EQ(jint(k, "aliases"), 5);
        TL_EQ(jint(jget(d, "totals"), "children"), 4);
        TL_EQ(jint(jget(d, "totals"), "total"), 5 + 3 + 3 + 1 + 4 + 1 + 1);
        assert_non_null(strstr(jtext(d, "summary"), "7 sessions alive"));
        assert_non_null(strstr(jtext(d, "summary"), "1 watched fd"));
        /* A's children are not items: they are on the list themselves. */
        a = by_id(jget(d, "sessions"), W.a);
        TL_EQ(jint(a, "items_total"), 3);
        assert_string_equal(joined(jget(a, "items"), "reason"), "events from aliases aliases");
        TL_EQ(jint(a, "refcount"), 5);

        GET_LIST("why?items=1&limit=2&offset=4", 6);
        EXPECT_IDS(jget(ans.data, "sessions"), "id", W.e, W.g);
        a = by_id(jget(ans.data, "sessions"), W.e);
        TL_EQ(json_array_size(jget(a, "items")), 1);
        TL_EQ(jint(a, "items_total"), 4);
        GET_LIST("why?items=0", 6);
        TL_EQ(json_array_size(jget(by_id(jget(ans.data, "sessions"), W.e), "items")), 0);
}

/* ---- tree ---- */

static void t_tree(void **state)
{
        json_t *a, *c, *e;
        char url[128];

        (void)state;
        GET_LIST("tree", 3);
        EXPECT_IDS(ans.data, "id", W.a, W.e, W.f);
        a = by_id(ans.data, W.a);
        assert_string_equal(joined(jget(a, "aliases"), NULL), "alpha root");
        TL_EQ(jint(a, "refcount"), 5);
        TL_EQ(jint(a, "n_children"), 2);
        EXPECT_IDS(jget(a, "children"), "id", W.b, W.c);
        c = by_id(jget(a, "children"), W.c);
        EXPECT_IDS(jget(c, "children"), "id", W.d);
        TL_EQ(json_array_size(jget(by_id(jget(c, "children"), W.d), "children")), 0);
        e = by_id(ans.data, W.e);
        TL_EQ(json_array_size(jget(e, "children")), 0);
        EXPECT_IDS(jget(by_id(ans.data, W.f), "children"), "id", W.g);

        /* At the depth limit, no "children" key: n_children tells. */
        GET_LIST("tree?depth=1", 3);
        a = by_id(ans.data, W.a);
        assert_null(json_object_get(a, "children"));
        TL_EQ(jint(a, "n_children"), 2);
        GET_LIST("tree?depth=2", 3);
        a = by_id(ans.data, W.a);
        c = by_id(jget(a, "children"), W.c);
        assert_null(json_object_get(c, "children"));
        TL_EQ(jint(c, "n_children"), 1);

        GET_LIST("tree?limit=1&offset=1", 3);
        EXPECT_IDS(ans.data, "id", W.e);
        GET_LIST("tree?offset=2", 3);
        EXPECT_IDS(ans.data, "id", W.f);
        EXPECT_IDS(jget(json_array_get(ans.data, 0), "children"), "id", W.g);

        snprintf(url, sizeof(url), "tree?root=%llu", (unsigned long long)W.c);
        GET_LIST(url, 1);
        EXPECT_IDS(ans.data, "id", W.d);
        snprintf(url, sizeof(url), "tree?root=%llu&depth=1", (unsigned long long)W.a);
        GET_LIST(url, 2);
        EXPECT_IDS(ans.data, "id", W.b, W.c);
        assert_null(json_object_get(json_array_get(ans.data, 1), "children"));
        snprintf(url, sizeof(url), "tree?root=%llu", (unsigned long long)W.d);
        GET_LIST(url, 0);
        GET_LIST("tree?root=0", 3);
}

/* ---- queue, timers, watchers, signals ---- */

static void t_queue(void **state)
{
        json_t *ping, *tick;
        char url[128];

        (void)state;
        GET_LIST("queue", 3);
        assert_string_equal(joined(ans.data, "event"), "ping pong tick");
        ping = json_array_get(ans.data, 0);
        TL_EQ(jint(ping, "to"), W.b);
        TL_EQ(jint(ping, "from"), W.a);
        assert_string_equal(jtext(ping, "type"), "post");
        assert_true(jnum(ping, "due") == 1000.0);
        assert_true(jnum(ping, "in") == 0.0);
        assert_non_null(strstr(jtext(ping, "file"), "test-api.c"));
        assert_true(jint(ping, "line") > 0);
        TL_EQ(jint(ping, "nargs"), 2);
        assert_true(jint(ping, "id") > 0);
        TL_EQ(jint(json_array_get(ans.data, 1), "from"), 0);
        tick = json_array_get(ans.data, 2);
        assert_string_equal(jtext(tick, "type"), "alarm");
        TL_EQ(jint(tick, "id"), (long long)W.timer);
        assert_true(jnum(tick, "due") == 1005.0);
        assert_true(jnum(tick, "in") == 5.0);

        snprintf(url, sizeof(url), "queue?session=%llu", (unsigned long long)W.b);
        GET_LIST(url, 2);
        assert_string_equal(joined(ans.data, "event"), "ping tick");
        snprintf(url, sizeof(url), "queue?session=%llu", (unsigned long long)W.a); /* sender */
        GET_LIST(url, 1);
        assert_string_equal(joined(ans.data, "event"), "ping");
        GET_LIST("queue?session=0", 1);
        assert_string_equal(joined(ans.data, "event"), "pong");
        GET_LIST("queue?type=alarm", 1);
        assert_string_equal(joined(ans.data, "event"), "tick");
        snprintf(url, sizeof(url), "queue?type=post&session=%llu", (unsigned long long)W.e);
        GET_LIST(url, 1);
        GET_LIST("queue?type=signal", 0);
        GET_LIST("queue?limit=1&offset=2", 3);
        assert_string_equal(joined(ans.data, "event"), "tick");

        /* "in" runs down with the clock. */
        TL_EQ(poe_kernel_clock_advance(tl.k, 2.0), 0);
        GET_LIST("queue?type=alarm", 1);
        assert_true(jnum(json_array_get(ans.data, 0), "in") == 3.0);
}

static void t_timers(void **state)
{
        json_t *t;
        char url[128];

        (void)state;
        GET_LIST("timers", 1);
        t = json_array_get(ans.data, 0);
        TL_EQ(jint(t, "id"), (long long)W.timer);
        TL_EQ(jint(t, "session"), W.b);
        assert_string_equal(jtext(t, "event"), "tick");
        assert_true(jnum(t, "due") == 1005.0);
        assert_true(jnum(t, "remaining") == 5.0);
        TL_EQ(json_object_size(t), 5);
        snprintf(url, sizeof(url), "timers?session=%llu", (unsigned long long)W.b);
        GET_LIST(url, 1);
        snprintf(url, sizeof(url), "timers?session=%llu", (unsigned long long)W.a);
        GET_LIST(url, 0);
        GET_LIST("timers?offset=1", 1);
        TL_EQ(json_array_size(ans.data), 0);
}

static void t_watchers(void **state)
{
        json_t *w;
        char url[128];

        (void)state;
        GET_LIST("watchers", 1);
        w = json_array_get(ans.data, 0);
        TL_EQ(jint(w, "fd"), W.pipe[0]);
        assert_string_equal(jtext(w, "mode"), "read");
        TL_EQ(jint(w, "session"), W.c);
        assert_string_equal(jtext(w, "event"), "readable");
        assert_false(jtrue(w, "paused"));
        snprintf(url, sizeof(url), "watchers?session=%llu", (unsigned long long)W.c);
        GET_LIST(url, 1);
        snprintf(url, sizeof(url), "watchers?session=%llu", (unsigned long long)W.b);
        GET_LIST(url, 0);

        TL_EQ(poe_kernel_call(tl.k, W.c, "pause", POE_NOARGS, NULL), 0);
        GET_LIST("watchers", 1);
        assert_true(jtrue(json_array_get(ans.data, 0), "paused"));
}

static void t_signals(void **state)
{
        json_t *s;
        char url[128];

        (void)state;
        GET_LIST("signals", 2);
        s = json_array_get(ans.data, 0);
        assert_string_equal(jtext(s, "signal"), "CUSTOM");
        TL_EQ(jint(s, "session"), W.e);
        assert_string_equal(jtext(s, "event"), "on_custom");
        assert_null(json_object_get(s, "pid"));
        s = json_array_get(ans.data, 1);
        assert_string_equal(jtext(s, "signal"), "CHLD");
        TL_EQ(jint(s, "pid"), 999999);
        TL_EQ(jint(s, "session"), W.e);
        assert_string_equal(jtext(s, "event"), "child_gone");
        snprintf(url, sizeof(url), "signals?session=%llu", (unsigned long long)W.a);
        GET_LIST(url, 0);
        GET_LIST("signals?signal=CHLD", 1);
        TL_EQ(jint(json_array_get(ans.data, 0), "pid"), 999999);
        GET_LIST("signals?offset=1&limit=1", 2);
        assert_string_equal(joined(ans.data, "signal"), "CHLD");
}

/* ---- aliases and extrefs ---- */

static void t_aliases(void **state)
{
        (void)state;
        GET_LIST("aliases", 5);
        assert_string_equal(joined(ans.data, "alias"), "alpha io leaf root worker-1");
        EXPECT_IDS(ans.data, "session", W.a, W.c, W.g, W.a, W.b);
        GET_LIST("aliases?q=o", 3);
        assert_string_equal(joined(ans.data, "alias"), "io root worker-1");
        GET_LIST("aliases?q=ROOT", 1);
        GET_LIST("aliases?limit=2&offset=3", 5);
        assert_string_equal(joined(ans.data, "alias"), "root worker-1");
        GET_LIST("aliases?q=zzz", 0);
}

static void t_extrefs(void **state)
{
        json_t *x;
        char url[128];

        (void)state;
        GET_LIST("extrefs", 2);
        EXPECT_IDS(ans.data, "session", W.d, W.e);
        x = json_array_get(ans.data, 1);
        assert_string_equal(jtext(x, "tag"), "held");
        TL_EQ(jint(x, "count"), 2);
        assert_string_equal(jtext(json_array_get(ans.data, 0), "tag"), "test-ref");
        TL_EQ(jint(json_array_get(ans.data, 0), "count"), 1);
        GET_LIST("extrefs?offset=1&limit=1", 2);
        assert_string_equal(joined(ans.data, "tag"), "held");
        GET_LIST("extrefs?offset=2", 2);
        TL_EQ(json_array_size(ans.data), 0);
        snprintf(url, sizeof(url), "extrefs?session=%llu", (unsigned long long)W.e);
        GET_LIST(url, 1);
        assert_string_equal(joined(ans.data, "tag"), "held");
        /* Where it was last taken: world_setup's line. */
        x = json_array_get(ans.data, 0);
        assert_non_null(strstr(jtext(x, "file"), "test-api.c"));
        assert_true(jint(x, "line") > 0);
        /* The session's postback, and where it was made. */
        snprintf(url, sizeof(url), "sessions/%llu", (unsigned long long)W.e);
        GET_OK(url);
        x = json_array_get(jget(ans.data, "postbacks"), 0);
        assert_string_equal(jtext(x, "event"), "pb");
        assert_non_null(strstr(jtext(x, "file"), "test-api.c"));
        TL_EQ(jint(x, "invocations"), 0);
        /* The why view lists them too, for the sessions that have some. */
        GET_OK("why");
        x = json_array_get(jget(by_id(jget(ans.data, "sessions"), W.e), "postbacks"), 0);
        assert_non_null(x);
        assert_non_null(strstr(jtext(x, "file"), "test-api.c"));
        assert_null(json_object_get(by_id(jget(ans.data, "sessions"), W.a), "postbacks"));

        /* A second tag on E; decremented away again. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, W.e, "more"), 1);
        GET_LIST("extrefs?offset=1", 3);
        assert_string_equal(joined(ans.data, "tag"), "held more");
        TL_EQ(poe_kernel_refcount_decrement(tl.k, W.e, "more"), 0);
        GET_LIST("extrefs", 2);
}

static void t_unknown(void **state)
{
        (void)state;
        GET_ERR("nope", 404, "no such endpoint: nope");
        GET_ERR("", 404, "no such endpoint");
        GET_ERR("kernel/x", 404, "no such endpoint: kernel/x");
        GET_ERR("Kernel", 404, "no such endpoint");
        GET_ERR("sessionsx", 404, "no such endpoint");
        GET_ERR("queue/1", 404, "no such endpoint");
        GET_OK("kernel/"); /* a trailing slash names the same */
}

/* Names that are not UTF-8 come out as U+FFFD, not as a failed answer. */
static poe_value bytes_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "bad\xff\xc0name\xe2\x82"), 0);
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "caf\xc3\xa9"), 0);
        return poe_nil();
}

static void t_not_utf8(void **state)
{
        poe_sid s;
        char url[128];

        (void)state;
        s = TL_CREATE(tl.k, { "_start", bytes_start }, { "ev\xfe", tl_h_nop });
        snprintf(url, sizeof(url), "sessions/%llu", (unsigned long long)s);
        GET_OK(url);
        assert_string_equal(joined(jget(ans.data, "aliases"), NULL),
                            "bad\xef\xbf\xbd\xef\xbf\xbdname\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9");
        assert_string_equal(joined(jget(ans.data, "handlers"), NULL), "_start ev\xef\xbf\xbd");
        GET_LIST("aliases?q=caf", 1);
}

/* ---- every allocation failing in turn ---- */

static struct {
        unsigned long calls, fail_at, live;
} J;

static void *j_malloc(size_t n)
{
        if (++J.calls == J.fail_at)
                return NULL;
        J.live++;
        return malloc(n);
}

static void j_free(void *p)
{
        if (!p)
                return;
        J.live--;
        free(p);
}

/*
 * Each endpoint with its nth jansson (and api.c) allocation failing, for
 * n = 1, 2, ... until it succeeds: every failure is a 500 and leaves
 * nothing allocated.
 */
static void t_oom(void **state)
{
        char one[64], reasons[64];
        const char *const urls[] = {
                "kernel", "sessions", "sessions?q=o", one,      reasons, "why",
                "tree",   "tree?depth=1", "queue",    "timers", "watchers", "signals",
                "aliases", "extrefs", "nope",         "sessions?limit=0",
        };
        unsigned long n, failures = 0;
        size_t i;

        (void)state;
        snprintf(one, sizeof(one), "sessions/%llu", (unsigned long long)W.a);
        snprintf(reasons, sizeof(reasons), "sessions/%llu/reasons", (unsigned long long)W.e);
        ans_clear();
        json_set_alloc_funcs(j_malloc, j_free);
        for (i = 0; i < sizeof(urls) / sizeof(*urls); i++) {
                for (n = 1;; n++) {
                        memset(&J, 0, sizeof(J));
                        J.fail_at = n;
                        if (GET(urls[i]) != 500)
                                break;
                        assert_string_equal(ans.err, "out of memory while building the answer");
                        TL_EQ(J.live, 0);
                        failures++;
                        if (n > 100000)
                                fail_msg("%s never succeeds", urls[i]);
                }
                /* It got through: the answer is whole, and frees whole. */
                assert_true(J.calls < n);
                ans_clear();
                TL_EQ(J.live, 0);
        }
        json_set_alloc_funcs(malloc, free);
        assert_true(failures > 100);

        /* The kernel's allocations too: the queue's walk sorts the timers. */
        tl_alloc_fail_nth(&tl.alloc, 1, false);
        TL_EQ(GET("queue"), 500);
        tl_alloc_fail_nth(&tl.alloc, 1, false);
        TL_EQ(GET("timers"), 500);
        tl_alloc_disarm(&tl.alloc);
        GET_LIST("queue", 3);
}

/* ---- big kernels ---- */

/* ARG0: an alias to take, or 1 for an extra reference "hold", or
 * nothing (kept alive by children only). */
static poe_value big_start(poe_ctx *c)
{
        const poe_value *arg = poe_ctx_arg(c, 0);

        if (arg->type == POE_T_STR)
                TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), poe_value_str(arg)), 0);
        else if (poe_value_int(arg) == 1)
                TL_EQ(poe_kernel_refcount_increment(poe_ctx_kernel(c), poe_ctx_session(c), "hold"),
                      1);
        return poe_nil();
}

static poe_value big_spawn(poe_ctx *c);

/* Session number n: aliased "s-n" when n is a multiple of 10, else
 * holding an extref, unless it is bare. */
static poe_sid big_create(poe_kernel *k, unsigned n, bool bare)
{
        char alias[32];
        poe_value arg = poe_int(bare ? 0 : 1);
        poe_session_spec s = TL_SPEC({ "_start", big_start }, { "spawn", big_spawn });
        poe_sid sid;

        if (!bare && n % 10 == 0) {
                snprintf(alias, sizeof(alias), "s-%u", n);
                arg = poe_str(alias);
        }
        s.args = &arg;
        s.n_args = 1;
        TL_EQ(poe_session_create(k, &s, &sid), 0);
        return sid;
}

/* Makes a child of the session it runs in: ARG0 is its number. */
static poe_value big_spawn(poe_ctx *c)
{
        return poe_int((int64_t)big_create(poe_ctx_kernel(c),
                                           (unsigned)poe_value_int(poe_ctx_arg(c, 0)), false));
}

static poe_sid spawn_in(poe_sid parent, unsigned n)
{
        poe_value ret;

        TL_EQ(poe_kernel_call(tl.k, parent, "spawn", POE_ARGS(poe_int(n)), &ret), 0);
        return (poe_sid)poe_value_int(&ret);
}

/* Clears the _garbage_collect events that creation queued: every session
 * holds something (or has children), so all stay. */
static void big_settle(size_t sessions)
{
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(tl_session_count(tl.k), sessions);
}

/* 10,000 sessions: 100 bare top-level ones with 99 children each, every
 * tenth child aliased, the others holding an extref. */
static void t_big(void **state)
{
        poe_sid top[100];
        unsigned n = 0, i, j;
        json_t *node;
        char url[128];
        size_t x;

        (void)state;
        for (i = 0; i < 100; i++) {
                top[i] = big_create(tl.k, n++, true);
                for (j = 0; j < 99; j++)
                        spawn_in(top[i], n++);
        }
        big_settle(10000);

        GET_LIST("sessions?limit=50", 10000);
        TL_EQ(json_array_size(ans.data), 50);
        TL_EQ(jint(json_array_get(ans.data, 0), "id"), top[0]);
        TL_EQ(jint(json_array_get(ans.data, 0), "n_children"), 99);
        GET_LIST("sessions?limit=50&offset=9990", 10000);
        TL_EQ(json_array_size(ans.data), 10);
        GET_LIST("sessions?q=s-5010", 1);
        assert_string_equal(joined(jget(json_array_get(ans.data, 0), "aliases"), NULL), "s-5010");
        GET_LIST("sessions?q=spawn&limit=1", 10000);
        snprintf(url, sizeof(url), "sessions?parent=%llu&limit=1000", (unsigned long long)top[7]);
        GET_LIST(url, 99);
        TL_EQ(json_array_size(ans.data), 99);

        GET_LIST("tree?depth=2", 100);
        TL_EQ(json_array_size(ans.data), 100);
        json_array_foreach(ans.data, x, node) {
                TL_EQ(json_array_size(jget(node, "children")), 99);
                assert_null(json_object_get(json_array_get(jget(node, "children"), 0),
                                            "children"));
        }
        GET_LIST("tree?limit=10&offset=95", 100);
        TL_EQ(json_array_size(ans.data), 5);

        /* The children hold something each; the tops only children. */
        GET_LIST("why?limit=50", 9900);
        TL_EQ(json_array_size(jget(ans.data, "sessions")), 50);
        TL_EQ(jint(ans.data, "holding_own"), 9900);
        TL_EQ(jint(ans.data, "only_children"), 100);
        TL_EQ(jint(ans.data, "holding_nothing"), 0);
        TL_EQ(jint(jget(ans.data, "kernel"), "extref_sessions"), 9000);
        GET_LIST("aliases?limit=1000", 900);
        assert_string_equal(jtext(json_array_get(ans.data, 0), "alias"), "s-10");
        GET_LIST("aliases?q=s-99", 10); /* s-9910 .. s-9990, s-990 */
        GET_LIST("extrefs?limit=1000", 9000);
        TL_EQ(json_array_size(ans.data), 1000);
        GET_LIST("extrefs?offset=8995", 9000);
        TL_EQ(json_array_size(ans.data), 5);
        assert_string_equal(joined(ans.data, "tag"), "hold hold hold hold hold");
        GET_LIST("queue", 0);
}

/* A chain 100,000 deep: walked without recursion, the answer nested no
 * deeper than TREE_MAX_DEPTH (64) levels, whatever the chain, so
 * jansson's dump and free (which recurse per level) stay shallow; the
 * deeper sessions are reached with root=ID.  The kernel builds, lists
 * and frees such a tree without recursion too. */
#define DEEP 100000
#define TREE_MAX 64

static void t_deep(void **state)
{
        poe_sid first, last;
        json_t *node;
        unsigned i;
        size_t depth = 0;
        char url[128], *text;

        (void)state;
        first = last = big_create(tl.k, 1, false);
        for (i = 2; i <= DEEP; i++)
                last = spawn_in(last, i);
        big_settle(DEEP);
        GET_LIST("tree", 1);
        node = json_array_get(ans.data, 0);
        TL_EQ(jint(node, "id"), first);
        for (;;) {
                json_t *children = json_object_get(node, "children");

                depth++;
                if (!children)
                        break;
                TL_EQ(json_array_size(children), 1);
                node = json_array_get(children, 0);
        }
        TL_EQ(depth, TREE_MAX);
        TL_EQ(jint(node, "id"), first + TREE_MAX - 1);
        TL_EQ(jint(node, "n_children"), 1);
        text = json_dumps(ans.data, JSON_COMPACT);
        assert_non_null(text);
        free(text);
        GET_ERR("tree?depth=65", 400, "depth");
        GET_LIST("tree?depth=64", 1);

        GET_LIST("tree?depth=2", 1);
        node = json_array_get(jget(json_array_get(ans.data, 0), "children"), 0);
        assert_null(json_object_get(node, "children"));
        /* The bottom of the chain, from a root near it. */
        snprintf(url, sizeof(url), "tree?root=%llu", (unsigned long long)(last - 10));
        GET_LIST(url, 1);
        node = json_array_get(ans.data, 0);
        TL_EQ(jint(node, "id"), last - 9);
        for (depth = 1; json_array_size(jget(node, "children")) == 1; depth++)
                node = json_array_get(jget(node, "children"), 0);
        TL_EQ(depth, 10);
        TL_EQ(jint(node, "id"), last);
        snprintf(url, sizeof(url), "sessions/%llu", (unsigned long long)last);
        GET_OK(url);
        TL_EQ(jint(ans.data, "parent"), last - 1);
        GET_LIST("sessions?limit=50", DEEP);
        GET_LIST("why", DEEP);
        ans_clear();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                WORLD_TEST(t_kernel),
                WORLD_TEST(t_kernel_in_handler),
#ifdef TEST_API_STUB_EXTRA
                WORLD_TEST(t_kernel_extra),
#endif
                WORLD_TEST(t_sessions),
                WORLD_TEST(t_sessions_filters),
                WORLD_TEST(t_bad_params),
                WORLD_TEST(t_session_one),
                WORLD_TEST(t_reasons),
                WORLD_TEST(t_why),
                WORLD_TEST(t_tree),
                WORLD_TEST(t_queue),
                WORLD_TEST(t_timers),
                WORLD_TEST(t_watchers),
                WORLD_TEST(t_signals),
                WORLD_TEST(t_aliases),
                WORLD_TEST(t_extrefs),
                WORLD_TEST(t_sessions_sort),
                BARE_TEST(t_lints),
                WORLD_TEST(t_unknown),
                WORLD_TEST(t_not_utf8),
                WORLD_TEST(t_oom),
                BARE_TEST(t_big),
                BARE_TEST(t_deep),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
