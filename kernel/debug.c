/*
 * POE's ASSERT_* and TRACE_* groups, with three switches:
 *
 *  - compile time: a meson option per group sets POE__DEBUG_COMPILED; a
 *    group compiled out is a constant-false test, so its calls, their
 *    arguments and their format strings are not in the library at all;
 *  - the environment, read once when a kernel is made, with POE's rules:
 *    POE_TRACE_X / POE_ASSERT_X set a group, POE_TRACE_DEFAULT /
 *    POE_ASSERT_DEFAULT set every group of its kind not named explicitly,
 *    POE_TRACE_FILENAME sends the text to a file instead of stderr;
 *  - at run time (beyond POE): poe_kernel_debug_set.
 *
 * Every trace is a binary record (trace.c) handed to the registered
 * sinks; the text line in POE's format ("=== PID === <ev> message") is
 * rendered from it (trace-format.c) when its group is switched on.
 * Assertions print through the same text path, then abort.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "debug.h"
#include "events.h"
#include "sessions.h"
#include "trace.h"

static const struct {
        unsigned bit;
        const char *name;
        const char *prefix;
} groups[] = {
        { POE_TRACE_EVENTS, "TRACE_EVENTS", "<ev>" },
        { POE_TRACE_FILES, "TRACE_FILES", "<fh>" },
        { POE_TRACE_REFCNT, "TRACE_REFCNT", "<rc>" },
        { POE_TRACE_RETVALS, "TRACE_RETVALS", "<rv>" },
        { POE_TRACE_SESSIONS, "TRACE_SESSIONS", "<ss>" },
        { POE_TRACE_SIGNALS, "TRACE_SIGNALS", "<sg>" },
        { POE_TRACE_DESTROY, "TRACE_DESTROY", "" },
        { POE_TRACE_PROFILE, "TRACE_PROFILE", "<pr>" },
        { POE_ASSERT_DATA, "ASSERT_DATA", "<dt>" },
        { POE_ASSERT_EVENTS, "ASSERT_EVENTS", "<ev>" },
        { POE_ASSERT_FILES, "ASSERT_FILES", "<fh>" },
        { POE_ASSERT_RETVALS, "ASSERT_RETVALS", "<rv>" },
        { POE_ASSERT_USAGE, "ASSERT_USAGE", "<us>" },
        { POE_ASSERT_STATES, "ASSERT_STATES", "" },
};

#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

POE_EXPORT unsigned poe_debug_compiled(void)
{
        return POE__DEBUG_COMPILED;
}

POE_EXPORT const char *poe_debug_group_name(unsigned group)
{
        size_t i;

        for (i = 0; i < N_GROUPS; i++)
                if (groups[i].bit == group)
                        return groups[i].name;
        return NULL;
}

POE_EXPORT unsigned poe_debug_group_parse(const char *name)
{
        size_t i;

        if (!name)
                return 0;
        if (strncmp(name, "POE_", 4) == 0)
                name += 4;
        for (i = 0; i < N_GROUPS; i++)
                if (strcasecmp(name, groups[i].name) == 0)
                        return groups[i].bit;
        return 0;
}

static const char *prefix_of(unsigned group)
{
        size_t i;

        for (i = 0; i < N_GROUPS; i++)
                if (groups[i].bit == group)
                        return groups[i].prefix;
        return "";
}

POE_EXPORT const char *poe_debug_group_prefix(unsigned group)
{
        return prefix_of(group);
}

POE_EXPORT unsigned poe_kernel_debug_get(const poe_kernel *k)
{
        /* Any thread (a monitor's HTTP threads, say): one atomic load. */
        return k ? atomic_load_explicit(&k->debug, memory_order_relaxed) : 0;
}

POE_EXPORT int poe_kernel_debug_set(poe_kernel *k, unsigned groups_mask, int on)
{
        POE_CHECK(k, k, -EINVAL);
        POE_CHECK(k, (groups_mask & ~POE_DEBUG_ALL) == 0, -EINVAL);
        /* A group that is not compiled in cannot be switched on. */
        if (on && (groups_mask & ~(unsigned)POE__DEBUG_COMPILED))
                return -EOPNOTSUPP;
        if (on)
                k->debug |= groups_mask;
        else
                k->debug &= ~groups_mask;
        poe__debug_recompute(k);
        return 0;
}

/* The groups that must be traced at all: switched on, or asked for by a
 * sink; and where each goes (see trace.c): the first sink that lends
 * slots is filled in place, straight from the trace point for
 * trace_solo, the groups that go to no text line and no other sink.  The
 * slot the kernel holds stays valid unless the slot sink is another one
 * now. */
void poe__debug_recompute(poe_kernel *k)
{
        unsigned on = k->debug, more = k->text_sink_off ? 0 : k->debug;
        void *slot_ctx = NULL;
        poe_trace_slot_fn slot = NULL;
        size_t i;
        int n = 0, slot_sink = -1;

        for (i = 0; i < POE__MAX_SINKS; i++) {
                if (!k->sinks[i].fn)
                        continue;
                on |= k->sinks[i].groups;
                k->active_sinks[n].fn = k->sinks[i].fn;
                k->active_sinks[n].ctx = k->sinks[i].ctx;
                k->active_sinks[n].groups = k->debug | k->sinks[i].groups;
                if (slot_sink < 0 && k->sinks[i].slot) {
                        slot_sink = n;
                        slot = k->sinks[i].slot;
                        slot_ctx = k->sinks[i].ctx;
                } else {
                        more |= k->active_sinks[n].groups;
                }
                n++;
        }
        k->n_active_sinks = n;
        k->debug_on = on & POE__DEBUG_COMPILED;
        if (slot != k->trace_slot_fn || slot_ctx != k->trace_slot_ctx) {
                /* The records the old slot sink's shedding slot counted
                 * are its own, whatever becomes of it. */
                if (k->trace_slot_fn)
                        poe__trace_shed_flush(k);
                k->trace_slot = NULL;
        }
        k->trace_slot_fn = slot;
        k->trace_slot_ctx = slot_ctx;
        k->trace_slot_sink = slot_sink;
        k->trace_slot_groups = slot_sink >= 0 ? k->active_sinks[slot_sink].groups : 0;
        k->trace_solo = k->trace_slot_groups & ~more;
        poe__dispatch_hooks_update(k);
}

POE_EXPORT int poe_kernel_trace_sink_groups(poe_kernel *k, int id, unsigned groups_mask)
{
        POE_CHECK(k, k, -EINVAL);
        POE_CHECK(k, (groups_mask & ~POE_TRACE_ALL) == 0, -EINVAL);
        if (id < 1 || id > POE__MAX_SINKS || !k->sinks[id - 1].fn)
                return poe__rv(k, -ENOENT, __func__);
        if (groups_mask & ~(unsigned)POE__DEBUG_COMPILED)
                return poe__rv(k, -EOPNOTSUPP, __func__);
        k->sinks[id - 1].groups = groups_mask;
        poe__debug_recompute(k);
        return 0;
}

/* POE's value test for a constant taken from %ENV: numbers by value,
 * anything else by Perl truth. */
static bool env_true(const char *v)
{
        char *end;
        double d;
        const char *p;

        /* POE untaints the value with /^([-\@\w.]+)$/ first: anything
         * else (spaces, quotes) becomes undef, which is false. */
        for (p = v; *p; p++)
                if (!(*p == '-' || *p == '@' || *p == '.' || *p == '_' ||
                      (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z')))
                        return false;
        d = strtod(v, &end);

        if (end != v && *end == '\0')
                return d != 0;
        return *v && strcmp(v, "0") != 0;
}

/*
 * POE's BEGIN block: POE_TRACE_X and POE_ASSERT_X name groups; DEFAULT
 * supplies the value of every group of its kind that was not named.
 */
void poe__debug_from_env(poe_kernel *k)
{
        const char *tdef = getenv("POE_TRACE_DEFAULT");
        const char *adef = getenv("POE_ASSERT_DEFAULT");
        const char *file = getenv("POE_TRACE_FILENAME");
        unsigned mask = 0;
        size_t i;

        for (i = 0; i < N_GROUPS; i++) {
                char var[64];
                const char *v;

                snprintf(var, sizeof(var), "POE_%s", groups[i].name);
                v = getenv(var);
                if (!v)
                        v = groups[i].bit & POE_TRACE_ALL ? tdef : adef;
                if (v && env_true(v))
                        mask |= groups[i].bit;
        }
        k->debug = mask & POE__DEBUG_COMPILED;
        poe__debug_recompute(k);
        if (mask & ~(unsigned)POE__DEBUG_COMPILED)
                fprintf(stderr, "libpoe: debug groups 0x%x requested in the environment are "
                                "not compiled in (meson options)\n",
                        mask & ~(unsigned)POE__DEBUG_COMPILED);
        k->trace_fd = 2;
        if (file && *file && poe_kernel_trace_file(k, file) < 0)
                fprintf(stderr, "libpoe: can't open trace file `%s': %s; tracing to stderr\n",
                        file, strerror(errno));
}

POE_EXPORT int poe_kernel_trace_file(poe_kernel *k, const char *path)
{
        FILE *f;

        POE_CHECK(k, k, -EINVAL);
        if (!path) {
                if (k->trace_file)
                        fclose(k->trace_file);
                k->trace_file = NULL;
                return 0;
        }
        f = fopen(path, "w");
        if (!f)
                return -errno;
        setvbuf(f, NULL, _IOLBF, 0);
        if (k->trace_file)
                fclose(k->trace_file);
        k->trace_file = f;
        return 0;
}

/* The text sink: one line per record, POE's format. */
/* POE's _warn format: every line of msg prefixed with "=== PID === ",
 * the first also with the group's prefix ("<ev>") when there is one. */
void poe__pid_lines(FILE *out, const char *prefix, const char *msg)
{
        const char *line = msg;

        while (*line) {
                const char *nl = strchr(line, '\n');
                int len = nl ? (int)(nl - line) : (int)strlen(line);

                if (line == msg && *prefix)
                        fprintf(out, "=== %d === %s %.*s\n", (int)getpid(), prefix, len, line);
                else
                        fprintf(out, "=== %d === %.*s\n", (int)getpid(), len, line);
                line += len + (nl ? 1 : 0);
        }
}

/* The text sink: stderr, or the trace file when one is set (k may be
 * NULL for an assertion without a kernel). */
static void text_line(poe_kernel *k, unsigned group, const char *msg)
{
        poe__pid_lines(k && k->trace_file ? k->trace_file : stderr, prefix_of(group), msg);
}

/* A record's text line, rendered from its fields, on the kernel's thread
 * while it traces (poe__trace). */
void poe__debug_text_line(poe_kernel *k, const poe_trace_record *r)
{
        poe_kernel_trace_format(k, r, k->trace_buf, sizeof(k->trace_buf));
        text_line(k, r->group, k->trace_buf);
}

static int sink_add(poe_kernel *k, poe_trace_sink_fn fn, poe_trace_slot_fn slot, void *ctx)
{
        size_t i;

        for (i = 0; i < POE__MAX_SINKS; i++) {
                if (!k->sinks[i].fn) {
                        k->sinks[i].fn = fn;
                        k->sinks[i].slot = slot;
                        k->sinks[i].ctx = ctx;
                        k->sinks[i].groups = 0;
                        k->n_sinks++;
                        poe__debug_recompute(k);
                        /* The new sink has seen no definition. */
                        poe__trace_redefine_all(k);
                        return (int)i + 1;
                }
        }
        return -ENOSPC;
}

POE_EXPORT int poe_kernel_trace_sink_add(poe_kernel *k, poe_trace_sink_fn fn, void *ctx)
{
        POE_CHECK(k, k && fn, -EINVAL);
        return sink_add(k, fn, NULL, ctx);
}

POE_EXPORT int poe_kernel_trace_sink_add_slots(poe_kernel *k, poe_trace_sink_fn fn,
                                               poe_trace_slot_fn slot, void *ctx)
{
        POE_CHECK(k, k && fn && slot, -EINVAL);
        return sink_add(k, fn, slot, ctx);
}

POE_EXPORT int poe_kernel_trace_sink_remove(poe_kernel *k, int id)
{
        POE_CHECK(k, k, -EINVAL);
        if (id == 0) {
                k->text_sink_off = true;
                poe__debug_recompute(k);
                return 0;
        }
        if (id < 1 || id > POE__MAX_SINKS || !k->sinks[id - 1].fn)
                return -ENOENT;
        k->sinks[id - 1].fn = NULL;
        k->sinks[id - 1].slot = NULL;
        k->n_sinks--;
        poe__debug_recompute(k);
        return 0;
}

/* POE's _data_alias_loggable into buf: "session 5 (alias1, alias2)", "the
 * kernel" or "nobody", cut to size.  Returns its length. */
size_t poe__loggable_into(const poe__session *s, char *buf, size_t size)
{
        const poe__alias *a;
        size_t n;

        if (!s || s->is_kernel)
                return (size_t)snprintf(buf, size, "%s", s ? "the kernel" : "nobody");
        n = (size_t)snprintf(buf, size, "session %llu", (unsigned long long)s->id);
        if (s->aliases && n < size) {
                const char *sep = " (";

                for (a = s->aliases; a; a = a->next) {
                        n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", sep,
                                              a->name);
                        sep = ", ";
                        if (n >= size)
                                break;
                }
                if (n < size)
                        n += (size_t)snprintf(buf + n, size - n, ")");
        }
        return n < size ? n : size - 1;
}

/* The same into one of a few rotating buffers, so a message can name two
 * sessions. */
const char *poe__loggable(poe_kernel *k, const poe__session *s)
{
        k->log_turn = (k->log_turn + 1) % 4;
        poe__loggable_into(s, k->log_names[k->log_turn], sizeof(k->log_names[0]));
        return k->log_names[k->log_turn];
}

void poe__assert_fail(poe_kernel *k, unsigned group, const char *file, int line,
                      const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof(msg) - 64)
                snprintf(msg + n, sizeof(msg) - (size_t)n, file ? " (%s failed at %s line %d)"
                                                                : " (%s failed)",
                         poe_debug_group_name(group), file, line);
        if (k) {
                poe_trace_record r = { .group = group, .kind = POE_TK_ASSERT,
                                       .event = k->active_event, .text = msg,
                                       .text_len = (uint16_t)strlen(msg) };

                poe__trace(k, &r, k->active, NULL, NULL);
        } else {
                text_line(NULL, group, msg);
        }
        abort();
}

/* ASSERT_USAGE and TRACE_RETVALS/ASSERT_RETVALS at the public boundary. */
/* Where a failing call was made, for the messages: the caller's file and
 * line when the call knows them (the *_at functions), and the handler it
 * was made from. */
static void call_site(poe_kernel *k, const char *file, int line, char *buf, size_t size)
{
        size_t n = 0;

        buf[0] = '\0';
        if (file)
                n = (size_t)snprintf(buf, size, " at %s line %d", file, line);
        if (n < size && k->dispatch_depth > 0)
                snprintf(buf + n, size - n, " in %s's handler for '%s'",
                         poe__loggable(k, k->active), poe__name(k, k->active_event));
}

int poe__usage(const poe_kernel *ck, int err, const char *what, const char *func,
               const char *file, int line)
{
        char where[256];

        /* Reporting writes the trace buffer, hence the cast. */
        poe_kernel *k = (poe_kernel *)ck;

        if (!k)
                return err;
        if (POE__ON(k, POE_ASSERT_USAGE)) {
                call_site(k, file, line, where, sizeof(where));
                poe__assert_fail(k, POE_ASSERT_USAGE, NULL, 0,
                                 "bad parameters to %s()%s: %s is false", func, where, what);
        }
        /* POE's _explain_usage reports through the retval groups too. */
        return poe__rv_at(k, file, line, err, func);
}

int poe__outside(const poe_kernel *ck, int err, const char *func)
{
        poe_kernel *k = (poe_kernel *)ck; /* reporting writes the trace buffer */

        if (k && POE__ON(k, POE_ASSERT_USAGE))
                poe__assert_fail(k, POE_ASSERT_USAGE, NULL, 0,
                                 "must call %s() from a running session", func);
        return err;
}

int poe__explain_usage(const poe_kernel *ck, int err, const char *fmt, ...)
{
        poe_kernel *k = (poe_kernel *)ck; /* reporting writes the trace buffer */
        char msg[512];
        va_list ap;

        if (!k || !POE__ON(k, POE_ASSERT_USAGE))
                return err;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        poe__assert_fail(k, POE_ASSERT_USAGE, NULL, 0, "%s", msg);
}

/* TRACE_RETVALS: the function's name and the caller's file travel as the
 * record's text ("func\0file"), the rest as numbers (trace-format.c). */
static void trace_retval(poe_kernel *k, int err, const char *func, const char *file, int line)
{
        size_t fl = strlen(func), room = sizeof(k->trace_payload);
        size_t n = fl < room - 1 ? fl : room - 1;
        poe_trace_record rec = { .group = POE_TRACE_RETVALS, .kind = POE_TK_RETVAL,
                                 .event = k->active_event,
                                 .arg.i = { -err, line, k->dispatch_depth > 0 } };

        memcpy(k->trace_payload, func, n);
        if (file && n + 1 < room) {
                size_t l = strlen(file);

                k->trace_payload[n++] = '\0';
                if (l > room - n)
                        l = room - n;
                memcpy(k->trace_payload + n, file, l);
                n += l;
        }
        rec.text = k->trace_payload;
        rec.text_len = (uint16_t)n;
        poe__trace(k, &rec, k->active, NULL, NULL);
}

int poe__rv_fail(const poe_kernel *ck, int r, const char *func, const char *file, int line)
{
        poe_kernel *k = (poe_kernel *)ck; /* reporting writes the trace buffer */
        char where[256];

        if (r >= 0 || !k)
                return r;
        if (!POE__ON(k, POE_TRACE_RETVALS | POE_ASSERT_RETVALS))
                return r;
        if (POE__ON(k, POE_TRACE_RETVALS))
                trace_retval(k, r, func, file, line);
        /* -ECANCELED is a handler's die reaching the caller (run(), call(),
         * a callback), which in POE is an exception the program may catch
         * and go on from (run() again, as k_signals_rerun does), not a
         * failed call: ASSERT_RETVALS leaves it to the caller. */
        if (POE__ON(k, POE_ASSERT_RETVALS) && r != -ECANCELED) {
                call_site(k, file, line, where, sizeof(where));
                poe__assert_fail(k, POE_ASSERT_RETVALS, NULL, 0, "%s() failed%s: %s", func,
                                 where, strerror(-r));
        }
        return r;
}

/*
 * A destination that names no session, in post, call, signal,
 * detach_child and alias_list: POE's _explain_resolve_failure sets $! to
 * ESRCH and only carps "<rv> session not resolved" under ASSERT_RETVALS
 * (TRACE_RETVALS carps the same), so the call returns -ESRCH and the
 * program goes on; a failed call that POE explains with
 * _explain_return or _explain_usage stays fatal (poe__rv_fail).
 */
int poe__rv_unresolved(const poe_kernel *ck, const char *func, const char *file, int line)
{
        poe_kernel *k = (poe_kernel *)ck; /* reporting writes the trace buffer */
        char where[256];

        if (!k || !POE__ON(k, POE_TRACE_RETVALS | POE_ASSERT_RETVALS))
                return -ESRCH;
        if (POE__ON(k, POE_TRACE_RETVALS)) {
                trace_retval(k, -ESRCH, func, file, line);
                return -ESRCH;
        }
        call_site(k, file, line, where, sizeof(where));
        poe__warn(k, "<rv> %s(): session not resolved: %s%s", func, strerror(ESRCH), where);
        return -ESRCH;
}

/*
 * POE's _explain_resolve_failure: under ASSERT_DATA a destination that
 * names no session (post, call, signal, detach_child) is fatal.  name
 * is the alias or id string given, or NULL for a numeric id.
 */
void poe__resolve_failed(poe_kernel *k, const char *name, poe_sid sid)
{
        /* A constant-false branch when ASSERT_DATA is compiled out. */
        if (!(POE__DEBUG_COMPILED & POE_ASSERT_DATA) || !k || !POE__ON(k, POE_ASSERT_DATA))
                return;
        if (name)
                poe__assert_fail(k, POE_ASSERT_DATA, NULL, 0,
                                 "Cannot resolve ``%s'' into a session reference", name);
        poe__assert_fail(k, POE_ASSERT_DATA, NULL, 0,
                         "Cannot resolve ``%llu'' into a session reference",
                         (unsigned long long)sid);
}

/* ASSERT_DATA: a session's itemized reasons sum to its count. */
void poe__assert_session(poe_kernel *k, const poe__session *s)
{
        uint32_t sum = 0;
        int i;

        /* The body is a constant-false branch when ASSERT_DATA is compiled
         * out, so even an unoptimized build drops its message. */
        if (POE__DEBUG_COMPILED & POE_ASSERT_DATA) {
                for (i = 0; i < POE_REASON_MAX; i++)
                        sum += poe__reason_get(s, i);
                if (sum != s->refcnt)
                        poe__assert_fail(k, POE_ASSERT_DATA, __FILE__, __LINE__,
                                         "%s: reasons to live sum to %u but its refcount is %u",
                                         poe__loggable(k, s), sum, s->refcnt);
        }
}

void poe__debug_free(poe_kernel *k)
{
        if (k->trace_file)
                fclose(k->trace_file);
        k->trace_file = NULL;
}
