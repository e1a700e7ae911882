/*
 * POE's TRACE_* and ASSERT_* groups: the environment rules POE::Kernel's
 * BEGIN block applies (POE/Kernel.pm, "Assimilate POE_TRACE_* and
 * POE_ASSERT_* environment variables", _define_trace, _define_assert, and
 * POE::Session's ASSERT_STATES and TRACE_DESTROY), POE_TRACE_FILENAME,
 * switching groups at run time, the structured records the sinks get,
 * assertions that abort (each in a forked child), and the text format
 * compared line by line with what POE 1.37 prints for the same program.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#include "internal.h"
#include "sessions.h"

extern char **environ;

/* Every group libpoe has, in bit order. */
static const unsigned all_groups[] = {
        POE_TRACE_EVENTS,  POE_TRACE_FILES,    POE_TRACE_REFCNT,  POE_TRACE_RETVALS,
        POE_TRACE_SESSIONS, POE_TRACE_SIGNALS, POE_TRACE_DESTROY, POE_TRACE_PROFILE,
        POE_ASSERT_DATA,   POE_ASSERT_EVENTS,  POE_ASSERT_FILES,  POE_ASSERT_RETVALS,
        POE_ASSERT_USAGE,  POE_ASSERT_STATES,
};
#define N_ALL (sizeof(all_groups) / sizeof(all_groups[0]))

/* The TRACE groups and the ASSERT groups that exist, built from the list
 * rather than from POE_TRACE_ALL/POE_ASSERT_ALL, which are checked on
 * their own below. */
static unsigned traces(void)
{
        unsigned m = 0;
        size_t i;

        for (i = 0; i < N_ALL; i++)
                if (all_groups[i] & 0xffffu)
                        m |= all_groups[i];
        return m;
}

static unsigned asserts(void)
{
        unsigned m = 0;
        size_t i;

        for (i = 0; i < N_ALL; i++)
                if (all_groups[i] & 0xffff0000u)
                        m |= all_groups[i];
        return m;
}

/* ---- helpers: the environment ---- */

/* Removes every POE_TRACE_* and POE_ASSERT_* variable, so no test sees
 * another's, nor the shell's. */
static void env_clear(void)
{
        bool again = true;

        /* unsetenv changes environ under the loop: start over each time. */
        while (again) {
                char **e;

                again = false;
                for (e = environ; *e; e++) {
                        if (strncmp(*e, "POE_TRACE_", 10) == 0 ||
                            strncmp(*e, "POE_ASSERT_", 11) == 0) {
                                char name[128];
                                size_t n = strcspn(*e, "=");

                                if (n >= sizeof(name))
                                        n = sizeof(name) - 1;
                                memcpy(name, *e, n);
                                name[n] = '\0';
                                unsetenv(name);
                                again = true;
                                break;
                        }
                }
        }
}

/* A fixture without a kernel: the test sets the environment first and
 * makes tl.k itself (with the counting allocator, so teardown still
 * checks for leaks). */
static int env_setup(void **state)
{
        (void)state;
        env_clear();
        memset(&tl, 0, sizeof(tl));
        tl_alloc_init(&tl.alloc);
        tl_transcript_clear();
        return 0;
}

static int env_teardown(void **state)
{
        env_clear();
        return tl_teardown(state);
}

#define ENV_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static void make_kernel(void)
{
        poe_allocator al = tl_allocator(&tl.alloc);

        tl.k = poe_kernel_free(tl.k);
        TL_EQ(poe_kernel_new(&tl.k, &al), 0);
        assert_non_null(tl.k);
}

/* The groups a kernel made under this environment switches on. */
static unsigned debug_under(const char *const *kv)
{
        unsigned r;

        env_clear();
        for (; kv[0]; kv += 2)
                assert_int_equal(setenv(kv[0], kv[1], 1), 0);
        make_kernel();
        r = poe_kernel_debug_get(tl.k);
        tl.k = poe_kernel_free(tl.k);
        env_clear();
        return r;
}
#define DEBUG_UNDER(...) debug_under((const char *const[]){ __VA_ARGS__, NULL })

/* ---- helpers: stderr and files ---- */

/* stderr is sent to a temporary file for a while.  A file rather than a
 * pipe: the kernel writing more than a pipe holds cannot block the test.
 * No cmocka assertion may run while stderr is captured. */
typedef struct capture {
        FILE *tmp;
        int saved;
} capture;

static void cap_begin(capture *c)
{
        fflush(stderr);
        c->tmp = tmpfile();
        assert_non_null(c->tmp);
        c->saved = dup(2);
        assert_true(c->saved >= 0);
        assert_true(dup2(fileno(c->tmp), 2) == 2);
}

/* Restores stderr; returns what was written (malloc'd). */
static char *cap_end(capture *c)
{
        char *buf;
        long n;

        fflush(stderr);
        dup2(c->saved, 2);
        close(c->saved);
        fseek(c->tmp, 0, SEEK_END);
        n = ftell(c->tmp);
        rewind(c->tmp);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        if (n > 0 && fread(buf, 1, (size_t)n, c->tmp) != (size_t)n)
                fail_msg("short read of captured stderr");
        buf[n] = '\0';
        fclose(c->tmp);
        return buf;
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        char *buf;
        long n;

        if (!f)
                fail_msg("can't open %s: %s", path, strerror(errno));
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
                fail_msg("short read of %s", path);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

/* Fresh paths in a per-process scratch directory, removed at exit. */
static char tmp_dir[64];
static char tmp_made[16][256];
static size_t n_tmp_made;

static const char *tmp_path(const char *name)
{
        char *p;
        size_t i;

        if (!tmp_dir[0]) {
                strcpy(tmp_dir, "/tmp/test-debug-XXXXXX");
                assert_non_null(mkdtemp(tmp_dir));
        }
        for (i = 0; i < n_tmp_made; i++)
                if (strcmp(strrchr(tmp_made[i], '/') + 1, name) == 0)
                        break;
        assert_true(i < sizeof(tmp_made) / sizeof(tmp_made[0]));
        p = tmp_made[i];
        if (i == n_tmp_made)
                n_tmp_made++;
        snprintf(p, sizeof(tmp_made[0]), "%s/%s", tmp_dir, name);
        unlink(p);
        return p;
}

static void tmp_cleanup(void)
{
        size_t i;

        for (i = 0; i < n_tmp_made; i++)
                unlink(tmp_made[i]);
        if (tmp_dir[0])
                rmdir(tmp_dir);
}

static bool contains(const char *hay, const char *needle)
{
        return strstr(hay, needle) != NULL;
}

#define ASSERT_CONTAINS(hay, needle)                                                   \
        do {                                                                           \
                if (!contains((hay), (needle)))                                        \
                        fail_msg("%s:%d: expected to find\n  \"%s\"\nin:\n%s", __FILE__, \
                                 __LINE__, (needle), (hay));                           \
        } while (0)

#define ASSERT_LACKS(hay, needle)                                                      \
        do {                                                                           \
                if (contains((hay), (needle)))                                         \
                        fail_msg("%s:%d: did not expect\n  \"%s\"\nin:\n%s", __FILE__,   \
                                 __LINE__, (needle), (hay));                           \
        } while (0)

/* "=== PID === " for this process. */
static const char *pid_prefix(void)
{
        static char buf[32];

        snprintf(buf, sizeof(buf), "=== %d === ", (int)getpid());
        return buf;
}

/* Every line of text starts with "=== PID === ". */
static void assert_all_prefixed(const char *text)
{
        const char *line = text, *p = pid_prefix();

        while (*line) {
                const char *nl = strchr(line, '\n');

                if (strncmp(line, p, strlen(p)) != 0)
                        fail_msg("line without \"%s\": \"%.*s\"", p,
                                 nl ? (int)(nl - line) : (int)strlen(line), line);
                line = nl ? nl + 1 : line + strlen(line);
        }
}

/* ---- helpers: a sink that keeps copies of the records ---- */

typedef struct rec {
        unsigned group;
        char group_name[32];
        char prefix[8];
        char kind[32];
        poe_sid session, sender;
        bool has_event;
        char event[64];
        uint32_t refcount;
        size_t queue_length;
        int64_t mono_ns;
        double wall;
        char message[1536];
} rec;

#define MAX_RECS 1024
static rec recs[MAX_RECS];
static size_t n_recs;
static int sink_calls[10];
static size_t defs_seen; /* definition records the sink was handed */

static void copy_str(char *dst, size_t size, const char *src)
{
        snprintf(dst, size, "%s", src ? src : "");
}

/* Keeps each record as text: its names and its line rendered by the
 * public formatter with the kernel's lookup, on the kernel's thread, as a
 * sink that wants text does.  Definitions are counted apart. */
static int sink(void *ctx, const poe_trace_record *r)
{
        rec *x;

        if (r->kind >= POE_TK_KINDS) {
                defs_seen++;
                return 0;
        }
        if (ctx)
                (*(int *)ctx)++;
        if (n_recs == MAX_RECS)
                return 0;
        x = &recs[n_recs++];
        x->group = r->group;
        copy_str(x->group_name, sizeof(x->group_name), poe_debug_group_name(r->group));
        copy_str(x->prefix, sizeof(x->prefix), poe_debug_group_prefix(r->group));
        copy_str(x->kind, sizeof(x->kind), poe_trace_kind_name(r->kind));
        x->session = r->session;
        x->sender = r->sender;
        x->has_event = r->event != POE_TRACE_NO_NAME;
        copy_str(x->event, sizeof(x->event),
                 poe_kernel_trace_lookup(tl.k, POE_TRACE_LOOKUP_NAME, r->event));
        x->refcount = r->refcount;
        x->queue_length = r->queue_length;
        x->mono_ns = r->mono_ns;
        x->wall = r->wall;
        poe_kernel_trace_format(tl.k, r, x->message, sizeof(x->message));
        return 0;
}

static void recs_clear(void)
{
        n_recs = 0;
        defs_seen = 0;
        memset(sink_calls, 0, sizeof(sink_calls));
}

/* The first record of this kind about this session (any session when
 * sid is (poe_sid)-1) whose message contains `text` (any when NULL). */
#define ANY ((poe_sid)-1)
static const rec *find_rec(const char *kind, poe_sid sid, const char *text)
{
        size_t i;

        for (i = 0; i < n_recs; i++)
                if (strcmp(recs[i].kind, kind) == 0 && (sid == ANY || recs[i].session == sid) &&
                    (!text || contains(recs[i].message, text)))
                        return &recs[i];
        return NULL;
}

static size_t count_group(unsigned group)
{
        size_t i, n = 0;

        for (i = 0; i < n_recs; i++)
                if (recs[i].group == group)
                        n++;
        return n;
}

static void dump_recs(void)
{
        size_t i;

        for (i = 0; i < n_recs; i++)
                print_error("  rec %zu: %s %s session=%llu sender=%llu refcount=%u event=%s: "
                            "%s\n", i, recs[i].group_name, recs[i].kind,
                            (unsigned long long)recs[i].session,
                            (unsigned long long)recs[i].sender, recs[i].refcount,
                            recs[i].has_event ? recs[i].event : "(none)", recs[i].message);
}

static const rec *must_find(const char *kind, poe_sid sid, const char *text, int line)
{
        const rec *r = find_rec(kind, sid, text);

        if (!r) {
                dump_recs();
                fail_msg("line %d: no \"%s\" record for session %lld containing \"%s\"", line,
                         kind, (long long)sid, text ? text : "");
        }
        return r;
}
#define MUST_FIND(kind, sid, text) must_find((kind), (sid), (text), __LINE__)

/* Adds the recording sink to tl.k and silences the text lines, so the
 * test output stays readable; tests of the text use their own file. */
static void record_only(void)
{
        recs_clear();
        assert_true(poe_kernel_trace_sink_add(tl.k, sink, NULL) > 0);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, 0), 0);
}

/* ---- handlers ---- */

static poe_value h_keep_alias(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "al"), 0);
        return poe_nil();
}

static poe_value h_drop_alias(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "al"), 0);
        return poe_nil();
}

static poe_value h_ret42(poe_ctx *c)
{
        tl_log_ctx(c);
        return poe_int(42);
}

/* ================================================================== */
/* The environment                                                     */
/* ================================================================== */

static void t_env_one_group(void **state)
{
        (void)state;
        TL_EQ(DEBUG_UNDER("POE_TRACE_EVENTS", "1"), POE_TRACE_EVENTS);
        TL_EQ(DEBUG_UNDER("POE_ASSERT_DATA", "1"), POE_ASSERT_DATA);
        TL_EQ(DEBUG_UNDER("POE_TRACE_EVENTS", "1", "POE_TRACE_FILES", "1"),
              POE_TRACE_EVENTS | POE_TRACE_FILES);
        /* Nothing set, nothing on. */
        TL_EQ(DEBUG_UNDER("POE_UNRELATED", "1"), 0);
        unsetenv("POE_UNRELATED");
        /* POE::Session's own groups come from the same environment. */
        TL_EQ(DEBUG_UNDER("POE_TRACE_DESTROY", "1"), POE_TRACE_DESTROY);
        TL_EQ(DEBUG_UNDER("POE_ASSERT_STATES", "1"), POE_ASSERT_STATES);
}

/* _define_trace: every TRACE group not named takes TRACE_DEFAULT's value;
 * a group named explicitly keeps its own. */
static void t_env_trace_default(void **state)
{
        (void)state;
        TL_EQ(DEBUG_UNDER("POE_TRACE_DEFAULT", "1"), traces());
        TL_EQ(DEBUG_UNDER("POE_TRACE_DEFAULT", "1", "POE_TRACE_EVENTS", "0"),
              traces() & ~POE_TRACE_EVENTS);
        /* DEFAULT=0 with one group on: just that group. */
        TL_EQ(DEBUG_UNDER("POE_TRACE_DEFAULT", "0", "POE_TRACE_SIGNALS", "1"),
              POE_TRACE_SIGNALS);
}

static void t_env_assert_default(void **state)
{
        (void)state;
        TL_EQ(DEBUG_UNDER("POE_ASSERT_DEFAULT", "1"), asserts());
        TL_EQ(DEBUG_UNDER("POE_ASSERT_DEFAULT", "1", "POE_ASSERT_USAGE", "0"),
              asserts() & ~POE_ASSERT_USAGE);
}

/* TRACE_DEFAULT supplies only TRACE_* values, ASSERT_DEFAULT only
 * ASSERT_* values. */
static void t_env_kinds_apart(void **state)
{
        unsigned d;

        (void)state;
        d = DEBUG_UNDER("POE_TRACE_DEFAULT", "1");
        TL_EQ(d & asserts(), 0);
        d = DEBUG_UNDER("POE_ASSERT_DEFAULT", "1");
        TL_EQ(d & traces(), 0);
        d = DEBUG_UNDER("POE_ASSERT_DEFAULT", "1", "POE_TRACE_REFCNT", "1");
        TL_EQ(d, asserts() | POE_TRACE_REFCNT);
        d = DEBUG_UNDER("POE_TRACE_DEFAULT", "1", "POE_ASSERT_DEFAULT", "0",
                        "POE_ASSERT_DATA", "1");
        TL_EQ(d, traces() | POE_ASSERT_DATA);
}

/* Values are constants in POE: numbers by value, anything else by Perl
 * truth, so "0" and "" are false and "yes" is true. */
static void t_env_values(void **state)
{
        static const struct {
                const char *v;
                bool on;
        } cases[] = {
                { "0", false }, { "", false }, { "1", true }, { "2", true },
                { "yes", true }, { "0.0", false }, { "-1", true }, { "0.5", true },
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                unsigned d = DEBUG_UNDER("POE_TRACE_EVENTS", cases[i].v);

                if ((d == POE_TRACE_EVENTS) != cases[i].on || (d & ~POE_TRACE_EVENTS))
                        fail_msg("POE_TRACE_EVENTS=\"%s\" gave groups 0x%x", cases[i].v, d);
                /* The same values for DEFAULT. */
                d = DEBUG_UNDER("POE_ASSERT_DEFAULT", cases[i].v);
                if ((d == asserts()) != cases[i].on || (!cases[i].on && d))
                        fail_msg("POE_ASSERT_DEFAULT=\"%s\" gave groups 0x%x", cases[i].v, d);
        }
}

/*
 * POE untaints each value with /^([-\@\w.]+)$/ before using it, so a
 * value holding anything else (a space, a quote) becomes undef: false.
 * `POE_TRACE_EVENTS=' 1' perl -MPOE -e 'print POE::Kernel::TRACE_EVENTS'`
 * prints nothing.
 */
static void t_env_untaint(void **state)
{
        (void)state;
        TL_EQ(DEBUG_UNDER("POE_TRACE_EVENTS", " 1"), 0);
        TL_EQ(DEBUG_UNDER("POE_TRACE_EVENTS", "1 "), 0);
        TL_EQ(DEBUG_UNDER("POE_TRACE_EVENTS", "'1'"), 0);
}

/* ================================================================== */
/* POE_TRACE_FILENAME                                                  */
/* ================================================================== */

static void describe_heap(void *ctx, poe_sid sid, void *heap, char *buf, size_t size)
{
        (void)ctx;
        snprintf(buf, size, "heap of %llu: %s", (unsigned long long)sid, (const char *)heap);
}

static void t_trace_filename(void **state)
{
        const char *path = tmp_path("trace.txt");
        poe_session_spec spec;
        poe_handler h[] = { { "_start", tl_h_nop }, { "ping", h_ret42 } };
        capture cap;
        char *err, *text, want[256];
        poe_sid sid;

        (void)state;
        setenv("POE_TRACE_FILENAME", path, 1);
        setenv("POE_TRACE_EVENTS", "1", 1);
        setenv("POE_TRACE_DESTROY", "1", 1);
        cap_begin(&cap);
        make_kernel();
        poe_kernel_set_heap_describer(tl.k, describe_heap, NULL);
        spec = tl_spec(h, 2, (void *)"H");
        poe_session_create(tl.k, &spec, &sid);
        poe_kernel_post(tl.k, sid, "ping", POE_NOARGS);
        poe_kernel_run(tl.k);
        tl.k = poe_kernel_free(tl.k);
        err = cap_end(&cap);
        /* Nothing went to stderr: it all went to the file. */
        assert_string_equal(err, "");
        free(err);
        TL_EXPECT("1 ping");

        text = slurp(path);
        assert_all_prefixed(text);
        snprintf(want, sizeof(want), "%s<ev> dispatching event ", pid_prefix());
        ASSERT_CONTAINS(text, want);
        snprintf(want, sizeof(want), "%s<ev> event ``ping'' returns (42)\n", pid_prefix());
        ASSERT_CONTAINS(text, want);
        ASSERT_CONTAINS(text, "``ping'' from the kernel to session 1\n");
        /* A message of several lines has the prefix on each (POE's
         * s/^/=== $$ === /mg), the group's prefix on the first only. */
        snprintf(want, sizeof(want), "%s----- Session 1 Leak Check -----\n%s-- Namespace (HEAP):\n"
                 "%sheap of 1: H\n", pid_prefix(), pid_prefix(), pid_prefix());
        ASSERT_CONTAINS(text, want);
        free(text);
}

/* POE dies when it can't open the file; libpoe says so on stderr and
 * traces there instead, and the kernel works. */
static void t_trace_filename_unwritable(void **state)
{
        poe_handler h[] = { { "_start", tl_h_nop }, { "ping", h_ret42 } };
        poe_session_spec spec = tl_spec(h, 2, NULL);
        capture cap;
        char *err, want[128];
        poe_sid sid;

        (void)state;
        setenv("POE_TRACE_FILENAME", "/nonexistent/dir/x", 1);
        setenv("POE_TRACE_EVENTS", "1", 1);
        cap_begin(&cap);
        make_kernel();
        sid = 0;
        poe_session_create(tl.k, &spec, &sid);
        poe_kernel_post(tl.k, sid, "ping", POE_NOARGS);
        poe_kernel_run(tl.k);
        err = cap_end(&cap);
        TL_EXPECT("1 ping");
        ASSERT_CONTAINS(err, "/nonexistent/dir/x");
        ASSERT_CONTAINS(err, strerror(ENOENT));
        ASSERT_CONTAINS(err, "stderr");
        snprintf(want, sizeof(want), "%s<ev> event ``ping'' returns (42)", pid_prefix());
        ASSERT_CONTAINS(err, want);
        free(err);
}

/* ================================================================== */
/* Switching at run time                                               */
/* ================================================================== */

static void t_debug_set_live(void **state)
{
        const char *path = tmp_path("live.txt");
        poe_sid sid;
        char *text;
        size_t n;

        (void)state;
        TL_EQ(poe_kernel_debug_get(tl.k), 0);
        recs_clear();
        assert_true(poe_kernel_trace_sink_add(tl.k, sink, NULL) > 0);
        TL_EQ(poe_kernel_trace_file(tl.k, path), 0);
        sid = TL_CREATE(tl.k, { "_start", h_keep_alias }, { "ping", h_ret42 },
                        { "bye", h_drop_alias });
        /* Off: neither records nor lines. */
        poe_kernel_post(tl.k, sid, "ping", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        TL_EQ(n_recs, 0);

        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS, 1), 0);
        TL_EQ(poe_kernel_debug_get(tl.k), POE_TRACE_EVENTS);
        poe_kernel_post(tl.k, sid, "ping", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        n = n_recs;
        assert_true(n >= 3); /* enqueue, dispatch, return */
        TL_EQ(count_group(POE_TRACE_EVENTS), n);

        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS, 0), 0);
        TL_EQ(poe_kernel_debug_get(tl.k), 0);
        poe_kernel_post(tl.k, sid, "ping", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        TL_EQ(n_recs, n);
        TL_EXPECT("1 ping", "1 ping", "1 ping");

        /* Other bits are left alone. */
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_FILES | POE_ASSERT_DATA, 1), 0);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_FILES, 0), 0);
        TL_EQ(poe_kernel_debug_get(tl.k), POE_ASSERT_DATA);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_DATA, 0), 0);

        poe_kernel_post(tl.k, sid, "bye", POE_NOARGS);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_trace_file(tl.k, NULL), 0);
        text = slurp(path);
        /* Exactly the one ping traced while the group was on. */
        {
                const char *p = text;
                int returns = 0;

                while ((p = strstr(p, "``ping'' returns (42)"))) {
                        returns++;
                        p++;
                }
                TL_EQ(returns, 1);
        }
        assert_all_prefixed(text);
        free(text);
}

static void t_debug_set_errors(void **state)
{
        unsigned before;

        (void)state;
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_SIGNALS, 1), 0);
        before = poe_kernel_debug_get(tl.k);
        /* Bits that name no group, on or off, alone or with good ones. */
        TL_EQ(poe_kernel_debug_set(tl.k, 1u << 12, 1), -EINVAL);
        TL_EQ(poe_kernel_debug_set(tl.k, 1u << 30, 1), -EINVAL);
        TL_EQ(poe_kernel_debug_set(tl.k, 1u << 30, 0), -EINVAL);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS | (1u << 8), 1), -EINVAL);
        TL_EQ(poe_kernel_debug_get(tl.k), before);
        /* Bits 22 and 23 are inside POE_ASSERT_ALL's mask but are no group
         * either. */
        TL_EQ(poe_kernel_debug_set(tl.k, 1u << 22, 1), -EINVAL);
        TL_EQ(poe_kernel_debug_set(tl.k, 1u << 23, 0), -EINVAL);
        TL_EQ(poe_kernel_debug_get(tl.k), before);
        TL_EQ(poe_kernel_debug_set(NULL, POE_TRACE_EVENTS, 1), -EINVAL);
        TL_EQ(poe_kernel_debug_get(NULL), 0);
}

static void t_group_names(void **state)
{
        static const char *const names[] = {
                "TRACE_EVENTS",  "TRACE_FILES",    "TRACE_REFCNT",  "TRACE_RETVALS",
                "TRACE_SESSIONS", "TRACE_SIGNALS", "TRACE_DESTROY", "TRACE_PROFILE",
                "ASSERT_DATA",   "ASSERT_EVENTS",  "ASSERT_FILES",  "ASSERT_RETVALS",
                "ASSERT_USAGE",  "ASSERT_STATES",
        };
        size_t i, j;

        (void)state;
        for (i = 0; i < N_ALL; i++) {
                const char *name = poe_debug_group_name(all_groups[i]);
                char buf[64];

                assert_non_null(name);
                assert_string_equal(name, names[i]);
                TL_EQ(poe_debug_group_parse(name), all_groups[i]);
                snprintf(buf, sizeof(buf), "POE_%s", name);
                TL_EQ(poe_debug_group_parse(buf), all_groups[i]);
                for (j = 0; buf[j]; j++)
                        buf[j] = (char)tolower((unsigned char)buf[j]);
                TL_EQ(poe_debug_group_parse(buf + 4), all_groups[i]);
        }
        assert_null(poe_debug_group_name(0));
        assert_null(poe_debug_group_name(POE_TRACE_EVENTS | POE_TRACE_FILES));
        assert_null(poe_debug_group_name(1u << 12));
        TL_EQ(poe_debug_group_parse(NULL), 0);
        TL_EQ(poe_debug_group_parse(""), 0);
        TL_EQ(poe_debug_group_parse("TRACE_BOGUS"), 0);
        TL_EQ(poe_debug_group_parse("EVENTS"), 0);
        TL_EQ(poe_debug_group_parse("TRACE_EVENTSX"), 0);
}

/* ================================================================== */
/* Compiled-in groups                                                  */
/* ================================================================== */

static void t_compiled(void **state)
{
        unsigned c = poe_debug_compiled();
        poe_kernel_info info;
        size_t i;

        (void)state;
        /* The default meson options compile every group in. */
        for (i = 0; i < N_ALL; i++)
                if (!(c & all_groups[i]))
                        fail_msg("%s is not compiled in (0x%x)",
                                 poe_debug_group_name(all_groups[i]), c);
        TL_EQ(c & ~(traces() | asserts()), 0);
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        TL_EQ(info.debug_compiled, c);
        /* So every group can be switched on, one by one. */
        for (i = 0; i < N_ALL; i++) {
                TL_EQ(poe_kernel_debug_set(tl.k, all_groups[i], 1), 0);
                TL_EQ(poe_kernel_debug_set(tl.k, all_groups[i], 0), 0);
        }
        TL_EQ(poe_kernel_debug_get(tl.k), 0);
}

/* POE_TRACE_ALL, POE_ASSERT_ALL and POE_DEBUG_ALL are "every group": with
 * every group compiled in, switching them on works, and they hold no bit
 * that is not a group. */
static void t_all_masks(void **state)
{
        unsigned b;

        (void)state;
        TL_EQ(POE_TRACE_ALL, traces());
        for (b = 1; b; b <<= 1)
                if ((POE_DEBUG_ALL & b) && !poe_debug_group_name(b))
                        fail_msg("POE_DEBUG_ALL (0x%x) holds bit 0x%x, which is no group",
                                 POE_DEBUG_ALL, b);
        TL_EQ(POE_ASSERT_ALL, asserts());
        TL_EQ(poe_kernel_debug_set(tl.k, POE_DEBUG_ALL, 1), 0);
        TL_EQ(poe_kernel_debug_get(tl.k), POE_DEBUG_ALL);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_DEBUG_ALL, 0), 0);
}

/* ================================================================== */
/* Sinks                                                               */
/* ================================================================== */

static poe_sid other_sid;

static poe_value h_post_to_other(poe_ctx *c)
{
        TL_EQ(poe_kernel_post(poe_ctx_kernel(c), other_sid, "ping", POE_NOARGS), 0);
        return poe_nil();
}

static void t_sink_events(void **state)
{
        const rec *r;
        poe_sid a;
        char want[160];

        (void)state;
        record_only();
        other_sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ping", h_ret42 });
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS, 1), 0);
        a = TL_CREATE(tl.k, { "_start", h_post_to_other });

        r = MUST_FIND("enqueue", other_sid, "``ping''");
        TL_EQ(r->group, POE_TRACE_EVENTS);
        assert_string_equal(r->group_name, "TRACE_EVENTS");
        assert_string_equal(r->prefix, "<ev>");
        assert_true(r->has_event);
        assert_string_equal(r->event, "ping");
        TL_EQ(r->sender, a);
        snprintf(want, sizeof(want), "``ping'' from session %llu to session %llu",
                 (unsigned long long)a, (unsigned long long)other_sid);
        ASSERT_CONTAINS(r->message, want);
        assert_true(r->message[0] != '<'); /* the prefix is not in the message */
        assert_true(r->mono_ns > 0);
        assert_true(r->wall > 1e9);

        /* _start itself was dispatched and returned. */
        r = MUST_FIND("dispatch", a, "``_start''");
        assert_string_equal(r->event, "_start");
        TL_EQ(r->sender, POE_KERNEL);

        recs_clear();
        poe_kernel_run_one_timeslice(tl.k);
        r = MUST_FIND("dispatch", other_sid, "``ping''");
        TL_EQ(r->group, POE_TRACE_EVENTS);
        assert_string_equal(r->event, "ping");
        TL_EQ(r->sender, a);
        ASSERT_CONTAINS(r->message, want);
        r = MUST_FIND("return", other_sid, "``ping'' returns (42)");
        assert_string_equal(r->event, "ping");
        TL_EQ(r->sender, a);
        TL_EXPECT("1 ping");
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void t_sink_sessions(void **state)
{
        const rec *r;
        poe_sid a;

        (void)state;
        record_only();
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_SESSIONS, 1), 0);
        a = TL_CREATE(tl.k, { "_start", tl_h_nop });
        r = MUST_FIND("create", a, NULL);
        TL_EQ(r->group, POE_TRACE_SESSIONS);
        assert_string_equal(r->prefix, "<ss>");
        assert_string_equal(r->message, "session 1 has parent the kernel");
        TL_EQ(r->sender, POE_KERNEL); /* the parent */
        assert_false(r->has_event);
        TL_EQ(poe_kernel_run(tl.k), 0);
        r = MUST_FIND("stop", a, NULL);
        assert_string_equal(r->message, "stopping session 1");
        r = MUST_FIND("free", a, NULL);
        assert_string_equal(r->message, "freeing session 1");
        /* Stop comes before free. */
        assert_true(find_rec("stop", a, NULL) < find_rec("free", a, NULL));
}

static poe_value h_refs(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "al"), 0);
        TL_EQ(poe_kernel_refcount_increment(k, poe_ctx_session(c), "tag"), 1);
        return poe_nil();
}

static void t_sink_refcnt(void **state)
{
        const rec *r;
        poe_sid a;

        (void)state;
        record_only();
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_REFCNT, 1), 0);
        a = TL_CREATE(tl.k, { "_start", h_refs }, { "bye", h_drop_alias });
        r = MUST_FIND("refcount_inc", a, "(aliases)");
        TL_EQ(r->group, POE_TRACE_REFCNT);
        assert_string_equal(r->prefix, "<rc>");
        TL_EQ(r->refcount, 1);
        assert_string_equal(r->message,
                            "incremented refcount for session 1 (al) (aliases): now 1 [aliases=1]");
        r = MUST_FIND("refcount_inc", a, "(extra refs)");
        TL_EQ(r->refcount, 2);
        assert_string_equal(r->message, "incremented refcount for session 1 (al) (extra refs): "
                                        "now 2 [aliases=1, extra refs=1]");
        /* The parent's count went up for its child. */
        r = MUST_FIND("refcount_inc", POE_KERNEL, "(children)");
        TL_EQ(r->refcount, 1);

        /* The GC event creation queued goes first, so only the alias and
         * the tag are left. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        recs_clear();
        TL_EQ(poe_kernel_refcount_decrement(tl.k, a, "tag"), 0);
        r = MUST_FIND("refcount_dec", a, "(extra refs)");
        TL_EQ(r->refcount, 1);
        assert_string_equal(r->message, "decremented refcount for session 1 (al) (extra refs): "
                                        "now 1 [aliases=1]");
        poe_kernel_post(tl.k, a, "bye", POE_NOARGS);
        TL_EQ(poe_kernel_run(tl.k), 0);
        r = MUST_FIND("refcount_dec", a, "(aliases)");
        TL_EQ(r->refcount, 0);
        assert_string_equal(r->message,
                            "decremented refcount for session 1 (aliases): now 0 []");
        MUST_FIND("gc_mark", a, "session 1 marked for gc");
}

static poe_value h_watch_sig(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "MYSIG", "got", POE_NOARGS), 0);
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "al"), 0);
        return poe_nil();
}

static void t_sink_signals(void **state)
{
        const rec *r;
        poe_sid a;

        (void)state;
        record_only();
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_SIGNALS, 1), 0);
        a = TL_CREATE(tl.k, { "_start", h_watch_sig }, { "got", tl_h_log },
                      { "bye", h_drop_alias });
        TL_EQ(poe_kernel_signal(tl.k, a, "MYSIG", POE_NOARGS), 0);
        poe_kernel_run_one_timeslice(tl.k);
        TL_EXPECT("1 got MYSIG");
        r = MUST_FIND("signal", a, NULL);
        TL_EQ(r->group, POE_TRACE_SIGNALS);
        assert_string_equal(r->prefix, "<sg>");
        assert_string_equal(r->event, "MYSIG");
        assert_string_equal(r->message, "dispatching ET_SIGNAL (MYSIG) to session 1 (al)");
        r = MUST_FIND("signal_deliver", a, NULL);
        assert_string_equal(r->event, "got");
        ASSERT_CONTAINS(r->message, "propagating explicit signal got (MYSIG)");
        ASSERT_CONTAINS(r->message, "to session 1 (al)");
        poe_kernel_post(tl.k, a, "bye", POE_NOARGS);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static int pipe_fds[2];

static poe_value h_watch_pipe(poe_ctx *c)
{
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), pipe_fds[0], "rd", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_unwatch_pipe(poe_ctx *c)
{
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), pipe_fds[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void t_sink_files(void **state)
{
        const rec *r;
        poe_sid a;
        char want[96];

        (void)state;
        TL_EQ(pipe(pipe_fds), 0);
        record_only();
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_FILES, 1), 0);
        a = TL_CREATE(tl.k, { "_start", h_watch_pipe }, { "off", h_unwatch_pipe });
        r = MUST_FIND("watch", a, NULL);
        TL_EQ(r->group, POE_TRACE_FILES);
        assert_string_equal(r->prefix, "<fh>");
        assert_string_equal(r->event, "rd");
        snprintf(want, sizeof(want), "adding fd (%d) in mode (0) for session 1", pipe_fds[0]);
        assert_string_equal(r->message, want);
        assert_null(find_rec("unwatch", ANY, NULL));
        TL_EQ(poe_kernel_call(tl.k, a, "off", POE_NOARGS, NULL), 0);
        r = MUST_FIND("unwatch", a, NULL);
        snprintf(want, sizeof(want), "removing fd (%d) mode (0) from session 1", pipe_fds[0]);
        assert_string_equal(r->message, want);
        TL_EQ(poe_kernel_run(tl.k), 0);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
}

static void t_sink_retvals(void **state)
{
        const rec *r;

        (void)state;
        record_only();
        TL_EQ(poe_kernel_post(tl.k, 42, "x", POE_NOARGS), -ESRCH);
        TL_EQ(n_recs, 0); /* off: nothing */
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_RETVALS, 1), 0);
        TL_EQ(poe_kernel_post(tl.k, 42, "x", POE_NOARGS), -ESRCH);
        TL_EQ(n_recs, 1);
        r = &recs[0];
        TL_EQ(r->group, POE_TRACE_RETVALS);
        assert_string_equal(r->prefix, "<rv>");
        ASSERT_CONTAINS(r->message, "poe_kernel_post");
        ASSERT_CONTAINS(r->message, strerror(ESRCH));
        /* Any function's failure, named. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, 42, "t"), -ESRCH);
        r = MUST_FIND("retval", ANY, "poe_kernel_refcount_increment");
        ASSERT_CONTAINS(r->message, strerror(ESRCH));
        /* alias_resolve finding nobody is not a failed call (POE's returns
         * undef without a word). */
        recs_clear();
        TL_EQ(poe_kernel_alias_resolve(tl.k, "nobody", &other_sid), -ESRCH);
        TL_EQ(n_recs, 0);
        /* Success is not traced. */
        recs_clear();
        TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(n_recs, 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void describe_counter(void *ctx, poe_sid sid, void *heap, char *buf, size_t size)
{
        (*(int *)ctx)++;
        snprintf(buf, size, "$VAR1 = { count => %d }; (session %llu)", *(int *)heap,
                 (unsigned long long)sid);
}

static void t_sink_destroy(void **state)
{
        poe_handler h[] = { { "_start", tl_h_nop }, { "ping", tl_h_nop } };
        poe_session_spec spec = tl_spec(h, 2, NULL);
        int heap = 3, described = 0;
        const rec *r;
        poe_sid a;

        (void)state;
        record_only();
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_DESTROY, 1), 0);
        poe_kernel_set_heap_describer(tl.k, describe_counter, &described);
        spec.heap = &heap;
        TL_EQ(poe_session_create(tl.k, &spec, &a), 0);
        TL_EQ(n_recs, 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(described, 1); /* the session's heap, not the kernel's */
        r = MUST_FIND("destroy", a, NULL);
        TL_EQ(r->group, POE_TRACE_DESTROY);
        ASSERT_CONTAINS(r->message, "----- Session 1 Leak Check -----\n");
        ASSERT_CONTAINS(r->message, "-- Namespace (HEAP):\n$VAR1 = { count => 3 }; (session 1)\n");
        ASSERT_CONTAINS(r->message, "-- States:");
        ASSERT_CONTAINS(r->message, "\n   ping");
        ASSERT_CONTAINS(r->message, "\n   _start");
}

static poe_value h_spin(poe_ctx *c)
{
        /* A quarter second of work, on the fake clock the profile reads. */
        TL_EQ(poe_kernel_clock_advance(poe_ctx_kernel(c), 0.25), 0);
        return poe_nil();
}

static void t_sink_profile(void **state)
{
        poe_session_info info;
        const rec *r;
        poe_sid a, b;

        (void)state;
        record_only();
        TL_EQ(poe_kernel_clock_fake(tl.k, 1000.0), 0);
        a = TL_CREATE(tl.k, { "_start", h_keep_alias }, { "spin", h_spin },
                      { "bye", h_drop_alias });
        /* Off, the time is measured all the same (it is always kept). */
        poe_kernel_post(tl.k, a, "spin", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        TL_EQ(poe_peek_session(tl.k, a, &info), 0);
        if (info.busy_seconds < 0.25 - 1e-9 || info.busy_seconds > 0.25 + 1e-9)
                fail_msg("busy_seconds is %.9f, expected 0.25", info.busy_seconds);

        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_PROFILE, 1), 0);
        poe_kernel_post(tl.k, a, "spin", POE_NOARGS);
        poe_kernel_post(tl.k, a, "spin", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        TL_EQ(poe_peek_session(tl.k, a, &info), 0);
        if (info.busy_seconds < 0.75 - 1e-9 || info.busy_seconds > 0.75 + 1e-9)
                fail_msg("busy_seconds is %.9f, expected 0.75", info.busy_seconds);
        /* Another session's time is its own. */
        b = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_peek_session(tl.k, b, &info), 0);
        assert_true(info.busy_seconds == 0);

        poe_kernel_post(tl.k, a, "bye", POE_NOARGS);
        TL_EQ(poe_kernel_run(tl.k), 0);
        r = MUST_FIND("profile", a, NULL);
        TL_EQ(r->group, POE_TRACE_PROFILE);
        assert_string_equal(r->prefix, "<pr>");
        ASSERT_CONTAINS(r->message, "in 0.750000 s");
}

/* ---- a consumer that cannot read the kernel's tables ---- */

/*
 * What the trace log's writer is: a FIFO consumer that knows ids only
 * from the definition records it was handed.  It renders every record
 * with its own map, at once, and keeps the text; the kernel's rendering
 * of the same record (its own tables, during the call) must be the same,
 * and no id may be unknown when a record uses it.
 */
#define FIFO_IDS 4096
static struct {
        char *names[FIFO_IDS];
        char *loggables[FIFO_IDS];
        size_t records, defs, unknown, mismatched;
        int redefine_once; /* return POE_TRACE_SINK_REDEFINE once, then forget all */
        char last[512];
        char lines[64][512]; /* the first records' lines */
} fifo;

static void fifo_forget(void)
{
        size_t i;

        for (i = 0; i < FIFO_IDS; i++) {
                free(fifo.names[i]);
                free(fifo.loggables[i]);
                fifo.names[i] = fifo.loggables[i] = NULL;
        }
}

static void fifo_reset(void)
{
        fifo_forget();
        memset(&fifo, 0, sizeof(fifo));
}

static const char *fifo_lookup(void *ctx, unsigned what, uint32_t id)
{
        const char *s = NULL;

        (void)ctx;
        if (id < FIFO_IDS)
                s = what == POE_TRACE_LOOKUP_NAME ? fifo.names[id] : fifo.loggables[id];
        if (!s)
                fifo.unknown++;
        return s;
}

static char *fifo_dup(const poe_trace_record *r)
{
        char *d = malloc((size_t)r->text_len + 1);

        assert_non_null(d);
        memcpy(d, r->text, r->text_len);
        d[r->text_len] = '\0';
        return d;
}

static int fifo_sink(void *ctx, const poe_trace_record *r)
{
        char mine[512], kernels[512];

        (void)ctx;
        if (r->kind == POE_TK_DEF_NAME || r->kind == POE_TK_DEF_LOGGABLE) {
                char **slot = r->kind == POE_TK_DEF_NAME ? &fifo.names[r->event]
                                                         : &fifo.loggables[r->session_name];

                assert_true((r->kind == POE_TK_DEF_NAME ? r->event : r->session_name) <
                            FIFO_IDS);
                assert_int_equal(r->group, 0);
                free(*slot);
                *slot = fifo_dup(r);
                fifo.defs++;
                return 0;
        }
        poe_trace_format(r, fifo_lookup, NULL, mine, sizeof(mine));
        poe_kernel_trace_format(tl.k, r, kernels, sizeof(kernels));
        if (strcmp(mine, kernels) != 0) {
                fifo.mismatched++;
                print_error("fifo: `%s'\n  kernel: `%s'\n", mine, kernels);
        }
        if (fifo.records < 64)
                snprintf(fifo.lines[fifo.records], sizeof(fifo.lines[0]), "%s", mine);
        snprintf(fifo.last, sizeof(fifo.last), "%s", mine);
        fifo.records++;
        if (fifo.redefine_once) {
                /* As a sink that lost a definition: it asks for them all
                 * again, and this one knows nothing any more. */
                fifo.redefine_once = 0;
                fifo_forget();
                return POE_TRACE_SINK_REDEFINE;
        }
        return 0;
}

/* The FIFO consumer's line that contains text; fails, listing them,
 * when there is none. */
static const char *fifo_line(const char *text)
{
        size_t i;

        for (i = 0; i < fifo.records && i < 64; i++)
                if (strstr(fifo.lines[i], text))
                        return fifo.lines[i];
        for (i = 0; i < fifo.records && i < 64; i++)
                print_error("  fifo %zu: %s\n", i, fifo.lines[i]);
        fail_msg("no line of the FIFO consumer contains `%s'", text);
        return NULL;
}

static poe_sid late_target;

static poe_value h_keep_alias2(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "al2"), 0);
        return poe_nil();
}

static poe_value h_drop_alias2(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "al2"), 0);
        return poe_nil();
}

static poe_value h_ping_target(poe_ctx *c)
{
        TL_EQ(poe_kernel_post(poe_ctx_kernel(c), late_target, "ping", POE_NOARGS), 0);
        return poe_nil();
}

/* A sink added while the kernel runs gets every definition again before
 * the first record that uses it: the names and sessions the kernel had
 * long defined to the sinks before it. */
static void t_definitions_late_sink(void **state)
{
        poe_sid a;
        int id;

        (void)state;
        fifo_reset();
        record_only();
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS | POE_TRACE_SESSIONS, 1), 0);
        late_target = TL_CREATE(tl.k, { "_start", h_keep_alias }, { "ping", h_ret42 },
                                { "bye", h_drop_alias });
        a = TL_CREATE(tl.k, { "_start", h_keep_alias2 }, { "go", h_ping_target },
                      { "bye", h_drop_alias2 });
        poe_kernel_post(tl.k, a, "go", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        poe_kernel_run_one_timeslice(tl.k);
        assert_true(defs_seen > 0);

        /* Late: "ping", "go", "session 1 (al)" are old to the kernel. */
        id = poe_kernel_trace_sink_add(tl.k, fifo_sink, NULL);
        assert_true(id > 0);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, id, POE_TRACE_EVENTS | POE_TRACE_SESSIONS), 0);
        poe_kernel_post(tl.k, a, "go", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        poe_kernel_run_one_timeslice(tl.k);
        assert_true(fifo.records >= 4);
        assert_true(fifo.defs >= 3);
        TL_EQ(fifo.unknown, 0);
        TL_EQ(fifo.mismatched, 0);
        fifo_line("``ping'' from session 2 (al2) to session 1 (al)");
        fifo_line("``go'' from the kernel to session 2 (al2)");

        /* A sink that lost one asks for them all: it gets them again. */
        fifo.redefine_once = 1;
        poe_kernel_post(tl.k, a, "go", POE_NOARGS);
        poe_kernel_run_one_timeslice(tl.k);
        poe_kernel_run_one_timeslice(tl.k);
        TL_EQ(fifo.unknown, 0);
        TL_EQ(fifo.mismatched, 0);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, id), 0);
        poe_kernel_post(tl.k, late_target, "bye", POE_NOARGS);
        poe_kernel_post(tl.k, a, "bye", POE_NOARGS);
        TL_EQ(poe_kernel_run(tl.k), 0);
        fifo_reset();
}

/* Aliases change between two records: each record names the session as
 * it was called when it was made, for the kernel's own lines and for a
 * consumer that renders them later from the definitions. */
static poe_value h_rename(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));
        poe_value next = poe_int(n + 1);

        if (n == 0) {
                TL_EQ(poe_kernel_alias_set(k, "one"), 0);
        } else if (n == 1) {
                TL_EQ(poe_kernel_alias_remove(k, "one"), 0);
                TL_EQ(poe_kernel_alias_set(k, "two"), 0);
                TL_EQ(poe_kernel_alias_set(k, "deux"), 0);
        } else if (n == 2) {
                TL_EQ(poe_kernel_alias_remove(k, "two"), 0);
                TL_EQ(poe_kernel_alias_remove(k, "deux"), 0);
        }
        if (n < 3)
                TL_EQ(poe_kernel_yield(k, "rename", &next, 1), 0);
        return poe_nil();
}

static poe_value h_rename_start(poe_ctx *c)
{
        poe_value zero = poe_int(0);

        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "rename", &zero, 1), 0);
        return poe_nil();
}

static void t_definitions_alias_change(void **state)
{
        const rec *r;
        poe_sid a;
        int id;

        (void)state;
        fifo_reset();
        record_only();
        id = poe_kernel_trace_sink_add(tl.k, fifo_sink, NULL);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, id, POE_TRACE_EVENTS), 0);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS, 1), 0);
        a = TL_CREATE(tl.k, { "_start", h_rename_start }, { "rename", h_rename });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(fifo.unknown, 0);
        TL_EQ(fifo.mismatched, 0);
        TL_EQ(a, 1);
        /* Each yield is made after its handler's renaming, and its
         * dispatch before the next one's. */
        r = MUST_FIND("enqueue", a, "event 1 ``rename'' from session 1 to session 1");
        assert_string_equal(r->message, "enqueued event 1 ``rename'' from session 1 to session 1");
        fifo_line("enqueued event 1 ``rename'' from session 1 to session 1");
        fifo_line("dispatching event 1 ``rename'' from session 1 to session 1");
        MUST_FIND("enqueue", a, "event 3 ``rename'' from session 1 (one) to session 1 (one)");
        fifo_line("enqueued event 3 ``rename'' from session 1 (one) to session 1 (one)");
        fifo_line("dispatching event 3 ``rename'' from session 1 (one) to session 1 (one)");
        MUST_FIND("enqueue", a, "event 4 ``rename'' from session 1 (deux, two) to session 1 "
                                "(deux, two)");
        fifo_line("enqueued event 4 ``rename'' from session 1 (deux, two) to session 1 (deux, "
                  "two)");
        fifo_line("dispatching event 4 ``rename'' from session 1 (deux, two) to session 1 "
                  "(deux, two)");
        fifo_line("enqueued event 5 ``rename'' from session 1 to session 1");
        fifo_line("dispatching event 5 ``rename'' from session 1 to session 1");
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, id), 0);
        fifo_reset();
}

static void t_sink_add_remove(void **state)
{
        int ids[9], c0 = 0, c1 = 0, i;
        capture cap;
        char *err;
        poe_sid a;

        (void)state;
        recs_clear();
        ids[0] = poe_kernel_trace_sink_add(tl.k, sink, &c0);
        ids[1] = poe_kernel_trace_sink_add(tl.k, sink, &c1);
        assert_true(ids[0] > 0 && ids[1] > 0 && ids[0] != ids[1]);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_SESSIONS, 1), 0);
        /* Removing id 0 silences the text lines; the sinks go on. */
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, 0), 0);
        cap_begin(&cap);
        a = TL_CREATE(tl.k, { "_start", h_keep_alias }, { "bye", h_drop_alias });
        err = cap_end(&cap);
        assert_string_equal(err, "");
        free(err);
        TL_EQ(c0, 1);
        TL_EQ(c1, 1);
        /* A removed sink hears nothing more; the other still does. */
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, ids[0]), 0);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, ids[0]), -ENOENT);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, 99), -ENOENT);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, -1), -ENOENT);
        poe_kernel_post(tl.k, a, "bye", POE_NOARGS);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(c0, 1);
        assert_true(c1 >= 3); /* stop, free, the kernel's own */
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, ids[1]), 0);

        /* Eight at most. */
        for (i = 0; i < 8; i++) {
                ids[i] = poe_kernel_trace_sink_add(tl.k, sink, NULL);
                assert_true(ids[i] > 0);
        }
        TL_EQ(poe_kernel_trace_sink_add(tl.k, sink, NULL), -ENOSPC);
        /* A freed slot can be taken again. */
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, ids[3]), 0);
        assert_true(poe_kernel_trace_sink_add(tl.k, sink, NULL) > 0);
        TL_EQ(poe_kernel_trace_sink_add(tl.k, sink, NULL), -ENOSPC);
        TL_EQ(poe_kernel_trace_sink_add(tl.k, NULL, NULL), -EINVAL);
}

/* With the text sink on (the default), the same trace goes to stderr. */
static void t_text_on_stderr(void **state)
{
        capture cap;
        char *err, want[96];

        (void)state;
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_SESSIONS, 1), 0);
        cap_begin(&cap);
        TL_CREATE(tl.k, { "_start", tl_h_nop });
        poe_kernel_run(tl.k);
        err = cap_end(&cap);
        snprintf(want, sizeof(want), "%s<ss> session 1 has parent the kernel\n", pid_prefix());
        ASSERT_CONTAINS(err, want);
        snprintf(want, sizeof(want), "%s<ss> freeing session 1\n", pid_prefix());
        ASSERT_CONTAINS(err, want);
        assert_all_prefixed(err);
        free(err);
}

/* ================================================================== */
/* Assertions: each in a child process that must die of SIGABRT        */
/* ================================================================== */

typedef void (*child_fn)(void);

/* The last child's "=== PID === ". */
static char child_prefix[32];

/* Runs fn in a child with stderr on a pipe; returns its wait status and
 * what it wrote. */
static int run_child(child_fn fn, char *out, size_t size)
{
        int p[2], status = 0;
        size_t n = 0;
        pid_t pid;

        assert_true(pipe(p) == 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rlimit no_core = { 0, 0 };

                /* No core files from the expected aborts. */
                setrlimit(RLIMIT_CORE, &no_core);
                signal(SIGABRT, SIG_DFL);
                close(p[0]);
                dup2(p[1], 2);
                close(p[1]);
                env_clear();
                fn();
                /* Still alive: the assertion did not fire. */
                _exit(3);
        }
        close(p[1]);
        snprintf(child_prefix, sizeof(child_prefix), "=== %d === ", (int)pid);
        for (;;) {
                ssize_t r = read(p[0], out + n, size - 1 - n);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                n += (size_t)r;
                if (n == size - 1)
                        break;
        }
        out[n] = '\0';
        close(p[0]);
        assert_true(waitpid(pid, &status, 0) == pid);
        return status;
}

static void assert_aborted(int status, const char *out)
{
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
                fail_msg("the child did not die of SIGABRT (status 0x%x); it wrote:\n%s",
                         status, out);
}

static poe_kernel *child_kernel(unsigned groups)
{
        poe_kernel *k = NULL;

        if (poe_kernel_new(&k, NULL) != 0 || poe_kernel_debug_set(k, groups, 1) != 0)
                _exit(4);
        return k;
}

static void child_usage(void)
{
        poe_kernel *k = child_kernel(POE_ASSERT_USAGE);

        poe_kernel_post(k, POE_KERNEL, NULL, POE_NOARGS);
}

/* A call POE explains with _explain_return, fatal under ASSERT_RETVALS.
 * (A post to no session only warns there, as POE's does:
 * t_retvals_unresolved.) */
static void child_retvals(void)
{
        poe_kernel *k = child_kernel(POE_ASSERT_RETVALS);

        poe_kernel_refcount_increment(k, 42, "x");
}

/* A failing call that knows its caller's file and line. */
static void child_retvals_at(void)
{
        poe_kernel *k = child_kernel(POE_ASSERT_RETVALS);

        poe_kernel_delay(k, NULL, 1.0, POE_NOARGS);
}

static void child_retvals_unresolved(void)
{
        poe_kernel *k = child_kernel(POE_ASSERT_RETVALS);
        int r = poe_kernel_post(k, 42, "x", POE_NOARGS);

        /* Freed first: the child exits, and valgrind's leak check with it. */
        poe_kernel_free(k);
        _exit(r == -ESRCH ? 0 : 1);
}

static void t_assert_usage(void **state)
{
        char out[4096];
        int status;

        (void)state;
        status = run_child(child_usage, out, sizeof(out));
        assert_aborted(status, out);
        ASSERT_CONTAINS(out, child_prefix);
        ASSERT_CONTAINS(out, "<us> ");
        ASSERT_CONTAINS(out, "poe_kernel_post");
        ASSERT_CONTAINS(out, "event");
        ASSERT_CONTAINS(out, "ASSERT_USAGE");
        /* Off, the same call is an error code. */
        TL_EQ(poe_kernel_post(tl.k, POE_KERNEL, NULL, POE_NOARGS), -EINVAL);
}

static void t_assert_retvals(void **state)
{
        char out[4096];
        int status;

        (void)state;
        status = run_child(child_retvals, out, sizeof(out));
        assert_aborted(status, out);
        ASSERT_CONTAINS(out, child_prefix);
        ASSERT_CONTAINS(out, "<rv> ");
        ASSERT_CONTAINS(out, "poe_kernel_refcount_increment");
        ASSERT_CONTAINS(out, strerror(ESRCH));
        ASSERT_CONTAINS(out, "ASSERT_RETVALS");
        TL_EQ(poe_kernel_refcount_increment(tl.k, 42, "x"), -ESRCH);
}

/* POE's _explain_resolve_failure: a destination naming no session only
 * carps under ASSERT_RETVALS; the call returns -ESRCH. */
static void t_retvals_unresolved(void **state)
{
        char out[4096];
        int status;

        (void)state;
        status = run_child(child_retvals_unresolved, out, sizeof(out));
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ASSERT_CONTAINS(out, "<rv> poe_kernel_post");
        ASSERT_CONTAINS(out, "session not resolved");
        ASSERT_CONTAINS(out, strerror(ESRCH));
}

/*
 * Where: POE confesses, so its message ends with the stack down to the
 * user's call ("called at script.pl line N").  The post macro hands the
 * kernel the caller's file and line; the message should name them, not
 * a fixed line inside the library.
 */
static void t_assert_names_caller(void **state)
{
        char out[4096];
        int status;

        (void)state;
        status = run_child(child_usage, out, sizeof(out));
        assert_aborted(status, out);
        ASSERT_CONTAINS(out, "test-debug.c");
        status = run_child(child_retvals_at, out, sizeof(out));
        assert_aborted(status, out);
        ASSERT_CONTAINS(out, "test-debug.c");
}

static void child_data(void)
{
        poe_kernel *k = child_kernel(POE_ASSERT_DATA);
        poe_session_spec spec;
        poe_handler h[] = { { "_start", tl_h_nop } };
        poe_sid sid;

        spec = tl_spec(h, 1, NULL);
        if (poe_session_create(k, &spec, &sid) != 0 || sid != 1)
                _exit(5);
        /* One more alias counted than the count holds: inconsistent. */
        poe__session_get(k, sid)->reasons[POE_REASON_ALIASES]++;
        /* Any change to its count checks it. */
        poe_kernel_refcount_increment(k, sid, "t");
}

static void t_assert_data(void **state)
{
        char out[4096], want[128];
        long before;
        int status;

        (void)state;
        /* The count the child's session has when it is corrupted: the
         * same steps here, without the corruption. */
        TL_CREATE(tl.k, { "_start", tl_h_nop });
        before = tl_refcnt(tl.k, 1);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_DATA, 1), 0);
        TL_EQ(poe_kernel_refcount_increment(tl.k, 1, "t"), 1);
        TL_EQ(tl_refcnt(tl.k, 1), before + 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "t"), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);

        status = run_child(child_data, out, sizeof(out));
        assert_aborted(status, out);
        ASSERT_CONTAINS(out, child_prefix);
        snprintf(want, sizeof(want), "<dt> session 1: reasons to live sum to %ld but its "
                 "refcount is %ld", before + 2, before + 1);
        ASSERT_CONTAINS(out, want);
        ASSERT_CONTAINS(out, "ASSERT_DATA failed at ");
        ASSERT_CONTAINS(out, " line ");
}

/* ASSERT_STATES: POE::Session's "default" option is on in every session,
 * so an event no handler takes is reported. */
static void run_unhandled(char **err)
{
        capture cap;

        TL_CREATE(tl.k, { "_start", h_keep_alias }, { "bye", h_drop_alias });
        cap_begin(&cap);
        poe_kernel_post(tl.k, 1, "nohandler", POE_NOARGS);
        poe_kernel_post(tl.k, 1, "bye", POE_NOARGS);
        poe_kernel_run(tl.k);
        *err = cap_end(&cap);
}

static void t_assert_states(void **state)
{
        char *err;

        (void)state;
        /* Off: silence. */
        make_kernel();
        run_unhandled(&err);
        ASSERT_LACKS(err, "nohandler");
        free(err);
        tl_kernel_free_checked();
        make_kernel();
        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_STATES, 1), 0);
        run_unhandled(&err);
        ASSERT_CONTAINS(err, "a 'nohandler' event was sent from ");
        ASSERT_CONTAINS(err, "test-debug.c at ");
        ASSERT_CONTAINS(err, "has neither a handler for it nor one for _default\n");
        free(err);
}

/* The option set explicitly wins over ASSERT_STATES, as in POE, where
 * create() applies the options after new() set the default. */
static void t_assert_states_option_wins(void **state)
{
        poe_option opt = { "default", poe_int(0) };
        poe_handler h[] = { { "_start", h_keep_alias }, { "bye", h_drop_alias } };
        poe_session_spec spec = tl_spec(h, 2, NULL);
        poe_session_info info;
        capture cap;
        char *err;

        (void)state;
        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_STATES, 1), 0);
        spec.options = &opt;
        spec.n_options = 1;
        tl_create_spec(tl.k, &spec);
        cap_begin(&cap);
        poe_kernel_post(tl.k, 1, "nohandler", POE_NOARGS);
        poe_kernel_post(tl.k, 1, "bye", POE_NOARGS);
        poe_kernel_run(tl.k);
        err = cap_end(&cap);
        ASSERT_LACKS(err, "nohandler");
        free(err);
        TL_EQ(poe_peek_session(tl.k, 1, &info), -ESRCH);
}

/*
 * POE's exact warning (POE/Session.pm, _invoke_state): through
 * POE::Kernel::_warn, so "=== PID === " leads, and the session is named
 * by _data_alias_loggable, aliases included:
 *   === 25222 === a 'nohandler' event was sent from /tmp/st.pl at 3 to
 *   session 1 (al) but session 1 (al) has neither a handler for it nor
 *   one for _default
 */
static void t_assert_states_poe_text(void **state)
{
        char *err, want[256];
        int line;

        (void)state;
        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_STATES, 1), 0);
        TL_CREATE(tl.k, { "_start", h_keep_alias }, { "bye", h_drop_alias });
        {
                capture cap;

                cap_begin(&cap);
                line = __LINE__ + 1;
                poe_kernel_post(tl.k, 1, "nohandler", POE_NOARGS);
                poe_kernel_post(tl.k, 1, "bye", POE_NOARGS);
                poe_kernel_run(tl.k);
                err = cap_end(&cap);
        }
        snprintf(want, sizeof(want),
                 "%sa 'nohandler' event was sent from %s at %d to session 1 (al) but session 1 "
                 "(al) has neither a handler for it nor one for _default\n",
                 pid_prefix(), __FILE__, line);
        ASSERT_CONTAINS(err, want);
        free(err);
}

/* ================================================================== */
/* The text, line by line against POE 1.37                             */
/* ================================================================== */

/*
 * The scenario: one session yields "ping" to itself from _start; ping
 * returns 42; the session then runs out of work, and the kernel stops on
 * IDLE.  Traced with TRACE_EVENTS and TRACE_SESSIONS.
 *
 * libpoe mirrors, of POE's lines:
 *   <ss> X has parent Y / stopping X / freeing X      word for word
 *   <ev> enqueued event N ``E'' from X to Y          word for word, without
 *        POE's trailing " at TIME, priority=P" (times differ run to run)
 *   <ev> dispatching event N ``E'' ... to Y          the event and target:
 *        POE writes two lines per dispatch ("Dispatching event N ``E''
 *        (ARGS) from X to Y" and "dispatching event N ``E'' to Y"), libpoe
 *        one, "dispatching event N ``E'' from X to Y"; and the N of a call
 *        (_start, _child, _stop) is the id of the event being dispatched
 *        around it (0 if none), where POE gives calls negative numbers
 *   <ev> event N ``E'' returns (V)                    the event: libpoe
 *        leaves out N, and POE reports posted events as (undef) (they are
 *        called in void context)
 * and not POE's "removed X from Y" (a cluck), the queue dumps, "Kernel::
 * run() iterating", "dispatching event N (E)" or "    signal(IDLE)";
 * nor libpoe's "removed event N ``E'' to X", which POE prints only for
 * alarm_remove, not when a session's queue is cleared.
 *
 * This is what POE prints, reduced to those kinds ("the kernel" for the
 * kernel's id, as libpoe says).  With perl and POE installed, the test
 * also checks it is still what POE prints.
 */
static const char *const poe_lines[] = {
        "<ss> session 1 has parent the kernel",
        "<ev> dispatch ``_start'' to session 1",
        "<ev> enqueued event 1 ``ping'' from session 1 to session 1",
        "<ev> return ``_start''",
        "<ev> dispatch ``_child'' to the kernel",
        "<ev> return ``_child''",
        "<ev> enqueued event 2 ``_garbage_collect'' from session 1 to session 1",
        "<ev> dispatch ``ping'' to session 1",
        "<ev> return ``ping''",
        "<ss> stopping session 1",
        "<ev> dispatch ``_stop'' to session 1",
        "<ev> return ``_stop''",
        "<ev> dispatch ``_child'' to the kernel",
        "<ev> return ``_child''",
        "<ss> freeing session 1",
        "<ev> enqueued event 3 ``_signal'' from the kernel to the kernel",
        "<ev> dispatch ``_signal'' to the kernel",
        "<ev> enqueued event 4 ``_signal'' from the kernel to the kernel",
        "<ev> return ``_signal''",
        "<ss> stopping the kernel",
        "<ev> dispatch ``_stop'' to the kernel",
        "<ev> return ``_stop''",
        "<ss> freeing the kernel",
        NULL,
};

static const char perl_scenario[] =
        "use strict;\n"
        "use POE;\n"
        "print \"KID \", $poe_kernel->ID, \"\\n\";\n"
        "POE::Session->create(inline_states => {\n"
        "  _start => sub { $_[KERNEL]->yield('ping'); return; },\n"
        "  ping => sub { return 42; },\n"
        "  _stop => sub { return; },\n"
        "});\n"
        "POE::Kernel->run;\n";

static poe_value h_yield_ping(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "ping", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_42(poe_ctx *c)
{
        (void)c;
        return poe_int(42);
}

/* Replaces every `from` in line (in place, size bytes) with `to`. */
static void replace_all(char *line, size_t size, const char *from, const char *to)
{
        char *p = line;
        size_t fl = strlen(from), tl_ = strlen(to);

        if (!fl)
                return;
        while ((p = strstr(p, from))) {
                size_t rest = strlen(p + fl);

                if ((size_t)(p - line) + tl_ + rest + 1 > size)
                        return;
                memmove(p + tl_, p + fl, rest + 1);
                memcpy(p, to, tl_);
                p += tl_;
        }
}

/* Strips Carp's and _warn's " at FILE line N." from the end of line. */
static void strip_at_line(char *line)
{
        char *at = NULL, *p = line;
        size_t n;

        while ((p = strstr(p, " at "))) {
                at = p;
                p++;
        }
        if (!at)
                return;
        p = strstr(at + 4, " line ");
        if (!p || strchr(at + 4, ' ') != p)
                return;
        p += 6;
        n = strspn(p, "0123456789");
        if (!n || (p[n] && strcmp(p + n, ".") != 0))
                return;
        *at = '\0';
}

/*
 * Reduces one trace line (without "=== PID === ") to the form compared:
 * NULL if it is not of a kind libpoe mirrors.  kernel_name is how the
 * input names the kernel ("session vm-...-00000001" for POE, "the
 * kernel" for libpoe).
 */
static const char *reduce(char *line, size_t size, const char *kernel_name, bool is_poe)
{
        static char out[512];

        if (is_poe) {
                char *pri;

                strip_at_line(line);
                replace_all(line, size, kernel_name, "the kernel");
                /* POE::Session=ARRAY(0x...) is the one session, 1. */
                while ((pri = strstr(line, "POE::Session=ARRAY(0x"))) {
                        char *end = strchr(pri, ')');

                        if (!end)
                                break;
                        memmove(pri + strlen("session 1"), end + 1, strlen(end + 1) + 1);
                        memcpy(pri, "session 1", strlen("session 1"));
                }
                /* The enqueue's " at TIME, priority=P". */
                pri = strstr(line, ", priority=");
                if (pri && strncmp(line, "<ev> enqueued event ", 20) == 0) {
                        *pri = '\0';
                        pri = strrchr(line, ' ');
                        if (pri && pri > line + 3 && strncmp(pri - 3, " at", 3) == 0)
                                pri[-3] = '\0';
                        else if (pri && strcmp(pri, " at") == 0)
                                *pri = '\0';
                        else
                                strcat(line, "[unparsed priority]");
                }
        }
        if (strncmp(line, "<ss> ", 5) == 0) {
                if (strncmp(line + 5, "removed ", 8) == 0)
                        return NULL;
                snprintf(out, sizeof(out), "%s", line);
                return out;
        }
        if (strncmp(line, "<ev> enqueued event ", 20) == 0) {
                snprintf(out, sizeof(out), "%s", line);
                return out;
        }
        if (strncmp(line, "<ev> dispatching event ", 23) == 0) {
                const char *q = strstr(line, "``"), *e = q ? strstr(q, "''") : NULL;
                const char *to = e ? strstr(e, " to ") : NULL;
                const char *last = to;

                if (!to)
                        return NULL; /* POE's "dispatching event N (E)" */
                while ((to = strstr(to + 1, " to ")))
                        last = to;
                snprintf(out, sizeof(out), "<ev> dispatch %.*s to %s", (int)(e + 2 - q), q,
                         last + 4);
                return out;
        }
        if (strncmp(line, "<ev> event ", 11) == 0 && strstr(line, " returns (")) {
                const char *q = strstr(line, "``"), *e = q ? strstr(q, "''") : NULL;

                if (!e)
                        return NULL;
                snprintf(out, sizeof(out), "<ev> return %.*s", (int)(e + 2 - q), q);
                return out;
        }
        return NULL;
}

/* Reduces a whole trace; lines not led by "=== N === " (Carp's stack
 * lines) are skipped.  Returns the reduced lines, one per line. */
static char *reduce_all(const char *text, const char *kernel_name, bool is_poe)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        const char *line = text;

        assert_non_null(f);
        while (*line) {
                const char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t)(nl - line) : strlen(line);
                char buf[2048];
                const char *r;
                int pid_end = 0;

                if (n < sizeof(buf) && sscanf(line, "=== %*d === %n", &pid_end) >= 0 &&
                    pid_end > 0) {
                        memcpy(buf, line + pid_end, n - (size_t)pid_end);
                        buf[n - (size_t)pid_end] = '\0';
                        r = reduce(buf, sizeof(buf), kernel_name, is_poe);
                        if (r)
                                fprintf(f, "%s\n", r);
                }
                line = nl ? nl + 1 : line + n;
        }
        fclose(f);
        return out;
}

static char *join_lines(const char *const *v)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        assert_non_null(f);
        for (; *v; v++)
                fprintf(f, "%s\n", *v);
        fclose(f);
        return out;
}

static void assert_same_lines(const char *what, const char *want, const char *got)
{
        if (strcmp(want, got) != 0)
                fail_msg("%s differs\n--- expected:\n%s--- got:\n%s---", what, want, got);
}

static void t_text_matches_poe(void **state)
{
        const char *path = tmp_path("libpoe.txt");
        char *text, *got, *want = join_lines(poe_lines);

        (void)state;
        /* libpoe's side. */
        TL_EQ(poe_kernel_trace_file(tl.k, path), 0);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_TRACE_EVENTS | POE_TRACE_SESSIONS, 1), 0);
        TL_CREATE(tl.k, { "_start", h_yield_ping }, { "ping", h_42 }, { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_trace_file(tl.k, NULL), 0);
        text = slurp(path);
        assert_all_prefixed(text);
        got = reduce_all(text, "the kernel", false);
        assert_same_lines("libpoe's trace, reduced,", want, got);
        free(got);
        free(text);

        /* POE's side, when there is a POE to ask. */
        if (system("perl -MPOE -e1 >/dev/null 2>&1") != 0) {
                print_message("perl with POE is not installed: the Perl side is skipped\n");
        } else {
                const char *pl = tmp_path("scenario.pl"), *err = tmp_path("poe-err.txt");
                const char *outp = tmp_path("poe-out.txt");
                char cmd[1024], *out, kid[256];
                FILE *f = fopen(pl, "w");

                assert_non_null(f);
                fputs(perl_scenario, f);
                fclose(f);
                snprintf(cmd, sizeof(cmd),
                         "env -u POE_TRACE_FILENAME POE_TRACE_EVENTS=1 POE_TRACE_SESSIONS=1 "
                         "perl %s >%s 2>%s", pl, outp, err);
                TL_EQ(system(cmd), 0);
                out = slurp(outp);
                assert_true(sscanf(out, "KID %200s", kid + 8) == 1);
                memcpy(kid, "session ", 8);
                free(out);
                text = slurp(err);
                got = reduce_all(text, kid, true);
                assert_same_lines("POE's trace, reduced,", want, got);
                free(got);
                free(text);
        }
        free(want);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                ENV_TEST(t_env_one_group),
                ENV_TEST(t_env_trace_default),
                ENV_TEST(t_env_assert_default),
                ENV_TEST(t_env_kinds_apart),
                ENV_TEST(t_env_values),
                ENV_TEST(t_env_untaint),
                ENV_TEST(t_trace_filename),
                ENV_TEST(t_trace_filename_unwritable),
                TL_TEST(t_debug_set_live),
                TL_TEST(t_debug_set_errors),
                TL_TEST(t_group_names),
                TL_TEST(t_compiled),
                TL_TEST(t_all_masks),
                TL_TEST(t_sink_events),
                TL_TEST(t_sink_sessions),
                TL_TEST(t_sink_refcnt),
                TL_TEST(t_sink_signals),
                TL_TEST(t_sink_files),
                TL_TEST(t_sink_retvals),
                TL_TEST(t_sink_destroy),
                TL_TEST(t_sink_profile),
                TL_TEST(t_definitions_late_sink),
                TL_TEST(t_definitions_alias_change),
                TL_TEST(t_sink_add_remove),
                TL_TEST(t_text_on_stderr),
                TL_TEST(t_assert_usage),
                TL_TEST(t_assert_retvals),
                TL_TEST(t_retvals_unresolved),
                TL_TEST(t_assert_names_caller),
                TL_TEST(t_assert_data),
                TL_TEST(t_assert_states),
                TL_TEST(t_assert_states_option_wins),
                TL_TEST(t_assert_states_poe_text),
                TL_TEST(t_text_matches_poe),
        };
        int failed;

        /* The shell's POE_TRACE_* must not reach the fixtures' kernels. */
        env_clear();
        failed = cmocka_run_group_tests(tests, NULL, NULL);
        tmp_cleanup();
        return failed;
}
