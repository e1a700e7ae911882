/*
 * POE t/20_resources/00_base/aliases.pm: setting, resolving, listing
 * and removing a session's aliases, and the session's reference count
 * as they come and go.  Upstream calls POE::Resource::Aliases' private
 * _data_alias_* functions on the kernel's own session; here a session
 * does the same through the public calls from its _start (libpoe's
 * aliases belong to sessions, set from their handlers), and the counts
 * are read with poe_peek_session.  _data_alias_loggable is the session's
 * name in the kernel's traces ("session 1 (alias-1)"), read from a trace
 * sink; _data_alias_clear_session, which POE runs when a session stops,
 * is the session removing each of its aliases; finalize is "no alias
 * resolves and no session is left" once run() returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static char loggable[128];
static poe_sid subject;

static int refcount(poe_kernel *k, poe_sid sid)
{
        poe_session_info info;

        return poe_peek_session(k, sid, &info) == 0 ? (int)info.refcount : -1;
}

/* The subject's name in the trace of the event it enqueues. */
static int sink(void *ctx, const poe_trace_record *r)
{
        poe_kernel *k = ctx;
        const char *name;

        if (r->kind != POE_TK_ENQUEUE || r->session != subject)
                return 0;
        name = poe_kernel_trace_lookup(k, POE_TRACE_LOOKUP_LOGGABLE, r->session_name);
        snprintf(loggable, sizeof(loggable), "%s", name ? name : "");
        return 0;
}

static poe_value on_start(poe_ctx *c)
{
        static const char *const multi[] = {"alias-1", "alias-2", "alias-3"};
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c), sid = 0;
        const char *names[8];
        char want[64];
        int base = refcount(k, me), n, id, same;

        subject = me;
        poe_kernel_alias_set(k, "alias-1");
        tap_ok(poe_kernel_alias_resolve(k, "alias-1", &sid) == 0 && sid == me,
               "alias resolves to original reference");
        tap_is_int(refcount(k, me), base + 1, "session reference count is to be expected");

        id = poe_kernel_trace_sink_add(k, sink, k);
        poe_kernel_trace_sink_groups(k, id, POE_TRACE_EVENTS);
        poe_kernel_yield(k, "nothing", POE_NOARGS);
        poe_kernel_trace_sink_remove(k, id);
        snprintf(want, sizeof(want), "session %llu (alias-1)", (unsigned long long)me);
        tap_is_str(loggable, want, "loggable version of session is valid");
        base = refcount(k, me) - 1; /* the yield holds the session too */

        poe_kernel_alias_remove(k, "alias-1");
        tap_ok(poe_kernel_alias_resolve(k, "alias-1", &sid) == -ESRCH,
               "removed alias does not resolve");
        tap_is_int(refcount(k, me), base, "session reference count reduced correctly");

        for (size_t i = 0; i < 3; i++)
                poe_kernel_alias_set(k, multi[i]);
        tap_is_int(poe_kernel_alias_list(k, me, NULL, 0), 3,
                   "correct number of aliases were recorded");
        tap_is_int(refcount(k, me), base + 3, "correct number of references were recorded");
        n = poe_kernel_alias_list(k, me, names, 8);
        same = n == 3;
        for (int i = 0; same && i < n; i++)
                same = strcmp(names[i], multi[i]) == 0;
        tap_ok(same, "the aliases were retrieved correctly");

        /* POE clears a session's aliases when it stops; from inside, the
         * session removes each. */
        n = poe_kernel_alias_list(k, me, names, 8);
        for (int i = n - 1; i >= 0; i--)
                poe_kernel_alias_remove(k, names[i]);
        tap_is_int(poe_kernel_alias_list(k, me, NULL, 0), 0, "aliases were cleared successfully");
        tap_is_int(refcount(k, me), base, "proper number of references after alias clear");

        /* A session id no session has lists no alias (POE: an empty list
         * and $! ESRCH; libpoe: -ESRCH). */
        tap_ok(poe_kernel_alias_list(k, 31415, NULL, 0) <= 0, "unknown session has no aliases");
        tap_ok(poe_kernel_alias_resolve(k, "nothing", &sid) == -ESRCH,
               "unused alias does not resolve to anything");
        return poe_nil();
}

static poe_value on_nothing(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"nothing", on_nothing, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 2};
        poe_kernel_info info;
        poe_kernel *k;
        poe_sid sid;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(14);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_ok(poe_peek_kernel(k, &info) == 0 && info.sessions == 0 &&
                       poe_kernel_alias_resolve(k, "alias-1", &sid) == -ESRCH &&
                       poe_kernel_alias_resolve(k, "alias-3", &sid) == -ESRCH,
               "POE::Resource::Aliases finalizes cleanly");
        poe_kernel_free(k);
        return tap_done();
}
