/*
 * POE's trace lines, rendered from trace records (poe_trace_format), and
 * the names of the kinds.  The lines are exactly those POE prints (the
 * oracle tests compare them with real POE's), made from the fields each
 * kind's trace point fills:
 *
 *   kind            fields besides session, sender, event, event_id, refcount
 *   enqueue         arg.i[0] 1 for a timer (num: its due time) else a post
 *                   (peer_name: the sender)
 *   dispatch        peer_name: the sender
 *   return          arg.i[0] the value's poe_type, arg.i[1] an integer,
 *                   session or pointer, num a double, text a string or a
 *                   list (at most 63 bytes, as POE's line shows it)
 *   discard         arg.i[0] 1 for a timer, else a post
 *   watch, unwatch, pause, resume   arg.i[0] the fd, arg.i[1] the mode
 *   wait            arg.i[0] the loop's interned name, arg.i[1..3] the fds
 *                   ready to read, write and expedite, num the timeout
 *   gc_mark         -
 *   refcount_*      arg.u[0..8] the session's reasons to live, arg.u[9] the
 *                   one that changed
 *   create, move    peer_name: the parent, the new parent
 *   stop, free, signal_stop   -
 *   destroy         text: the leak check
 *   profile         arg.i[0] the events dispatched, num the seconds
 *   os_signal       arg.i[0] the signal's number, text its name
 *   reap            arg.i[0] the pid, arg.i[1] the wait status
 *   signal          text: the signal's name (event: its interned id, if any)
 *   signal_deliver  text: the signal's name (event: the watcher's event)
 *   retval          arg.i[0] the errno, arg.i[1] the caller's line,
 *                   arg.i[2] 1 inside a handler, text the function's name
 *                   and, after a NUL, the caller's file
 *   assert          text: the message
 *
 * A kind whose group is compiled out keeps no format here either (each
 * case is a constant-false branch then), as the trace points themselves.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "debug.h"

static const char *const kind_names[POE_TK_KINDS] = {
        [POE_TK_NONE] = NULL,
        [POE_TK_ENQUEUE] = "enqueue",
        [POE_TK_DISPATCH] = "dispatch",
        [POE_TK_RETURN] = "return",
        [POE_TK_DISCARD] = "discard",
        [POE_TK_WATCH] = "watch",
        [POE_TK_UNWATCH] = "unwatch",
        [POE_TK_PAUSE] = "pause",
        [POE_TK_RESUME] = "resume",
        [POE_TK_WAIT] = "wait",
        [POE_TK_GC_MARK] = "gc_mark",
        [POE_TK_REFCOUNT_INC] = "refcount_inc",
        [POE_TK_REFCOUNT_DEC] = "refcount_dec",
        [POE_TK_CREATE] = "create",
        [POE_TK_STOP] = "stop",
        [POE_TK_FREE] = "free",
        [POE_TK_MOVE] = "move",
        [POE_TK_DESTROY] = "destroy",
        [POE_TK_PROFILE] = "profile",
        [POE_TK_OS_SIGNAL] = "os_signal",
        [POE_TK_REAP] = "reap",
        [POE_TK_SIGNAL] = "signal",
        [POE_TK_SIGNAL_DELIVER] = "signal_deliver",
        [POE_TK_SIGNAL_STOP] = "signal_stop",
        [POE_TK_RETVAL] = "retval",
        [POE_TK_ASSERT] = "assert",
        [POE_TK_DIE] = "die",
};

POE_EXPORT const char *poe_trace_kind_name(unsigned kind)
{
        if (kind < POE_TK_KINDS)
                return kind_names[kind];
        if (kind == POE_TK_DEF_NAME)
                return "define_name";
        if (kind == POE_TK_DEF_LOGGABLE)
                return "define_loggable";
        return NULL;
}

POE_EXPORT unsigned poe_trace_kind_parse(const char *name)
{
        unsigned i;

        if (!name)
                return POE_TK_NONE;
        for (i = 1; i < POE_TK_KINDS; i++)
                if (strcmp(name, kind_names[i]) == 0)
                        return i;
        if (strcmp(name, "define_name") == 0)
                return POE_TK_DEF_NAME;
        if (strcmp(name, "define_loggable") == 0)
                return POE_TK_DEF_LOGGABLE;
        return POE_TK_NONE;
}

/* A name for the text: "" for none (as the kernel's poe__name gives),
 * "?" for an id the lookup does not know. */
static const char *name_of(poe_trace_lookup_fn lookup, void *ctx, uint32_t id)
{
        const char *s;

        if (id == POE_TRACE_NO_NAME)
                return "";
        s = lookup ? lookup(ctx, POE_TRACE_LOOKUP_NAME, id) : NULL;
        return s ? s : "?";
}

static const char *loggable_of(poe_trace_lookup_fn lookup, void *ctx, uint32_t serial)
{
        const char *s;

        if (serial == POE_TRACE_NOBODY)
                return "nobody";
        if (serial == POE_TRACE_THE_KERNEL)
                return "the kernel";
        s = lookup ? lookup(ctx, POE_TRACE_LOOKUP_LOGGABLE, serial) : NULL;
        return s ? s : "?";
}

#define EV name_of(lookup, ctx, r->event)
#define SN loggable_of(lookup, ctx, r->session_name)
#define PN loggable_of(lookup, ctx, r->peer_name)
#define TEXT (int)r->text_len, (r->text ? r->text : "")

/* A handler's return value as POE's line shows it: as poe_value_format
 * writes it into 64 bytes, "undef" for nil. */
static void return_value(const poe_trace_record *r, char *v, size_t size)
{
        switch (r->arg.i[0]) {
        case POE_T_NIL:
                snprintf(v, size, "undef");
                break;
        case POE_T_INT:
                snprintf(v, size, "%" PRId64, r->arg.i[1]);
                break;
        case POE_T_DOUBLE:
                snprintf(v, size, "%.15g", r->num);
                break;
        case POE_T_SESSION:
                snprintf(v, size, "%" PRIu64, (uint64_t)r->arg.i[1]);
                break;
        case POE_T_PTR:
                snprintf(v, size, "PTR(%p)", (void *)(uintptr_t)r->arg.i[1]);
                break;
        default: /* strings and lists: their text */
                snprintf(v, size, "%.*s", TEXT);
                break;
        }
}

/* TRACE_REFCNT's items: the session's reasons to live, by name. */
static void refcount_items(const poe_trace_record *r, char *items, size_t size)
{
        size_t n = 0;
        int i;

        items[0] = '\0';
        for (i = 0; i < POE_REASON_MAX && n < size; i++)
                if (r->arg.u[i])
                        n += (size_t)snprintf(items + n, size - n, "%s%s=%u", n ? ", " : "",
                                              poe__reason_name(i), r->arg.u[i]);
}

/* TRACE_RETVALS' line: where the failing call was made, as POE says.
 * The caller holds the format, so that it goes with its group. */
static size_t retval_where(const poe_trace_record *r, poe_trace_lookup_fn lookup, void *ctx,
                           char *where, size_t size)
{
        const char *func = r->text ? r->text : "";
        size_t flen = strnlen(func, r->text_len), n = 0;

        where[0] = '\0';
        if (flen < r->text_len)
                n = (size_t)snprintf(where, size, " at %.*s line %d",
                                     (int)(r->text_len - flen - 1), func + flen + 1,
                                     (int)r->arg.i[1]);
        if (n < size && r->arg.i[2])
                snprintf(where + n, size - n, " in %s's handler for '%s'", SN, EV);
        return flen;
}

/* Each case is compiled only with its group (see the header comment). */
#define IN(g) (POE__DEBUG_COMPILED & (g))

POE_EXPORT int poe_trace_format(const poe_trace_record *r, poe_trace_lookup_fn lookup,
                                void *ctx, char *buf, size_t size)
{
        char tmp[256];

        if (!r || (!buf && size))
                return -EINVAL;
        switch (r->kind) {
        case POE_TK_ENQUEUE:
                if (!IN(POE_TRACE_EVENTS))
                        break;
                if (r->arg.i[0])
                        return snprintf(buf, size, "enqueued alarm %llu ``%s'' for %s at %.6f",
                                        (unsigned long long)r->event_id, EV, SN, r->num);
                return snprintf(buf, size, "enqueued event %llu ``%s'' from %s to %s",
                                (unsigned long long)r->event_id, EV, PN, SN);
        case POE_TK_DISPATCH:
                if (!IN(POE_TRACE_EVENTS))
                        break;
                return snprintf(buf, size, "dispatching event %lld ``%s'' from %s to %s",
                                (long long)r->event_id, EV, PN, SN);
        case POE_TK_RETURN:
                if (!IN(POE_TRACE_EVENTS))
                        break;
                return_value(r, tmp, 64);
                return snprintf(buf, size, "event ``%s'' returns (%s)", EV, tmp);
        case POE_TK_DISCARD:
                if (!IN(POE_TRACE_EVENTS))
                        break;
                if (r->arg.i[0])
                        return snprintf(buf, size, "removed alarm %llu ``%s'' of %s",
                                        (unsigned long long)r->event_id, EV, SN);
                return snprintf(buf, size, "removed event %llu ``%s'' to %s",
                                (unsigned long long)r->event_id, EV, SN);
        case POE_TK_WATCH:
                if (!IN(POE_TRACE_FILES))
                        break;
                return snprintf(buf, size, "adding fd (%d) in mode (%d) for %s",
                                (int)r->arg.i[0], (int)r->arg.i[1], SN);
        case POE_TK_UNWATCH:
                if (!IN(POE_TRACE_FILES))
                        break;
                return snprintf(buf, size, "removing fd (%d) mode (%d) from %s",
                                (int)r->arg.i[0], (int)r->arg.i[1], SN);
        case POE_TK_PAUSE:
        case POE_TK_RESUME:
                if (!IN(POE_TRACE_FILES))
                        break;
                return snprintf(buf, size, "%s fd (%d) mode (%d)",
                                r->kind == POE_TK_PAUSE ? "pausing" : "resuming",
                                (int)r->arg.i[0], (int)r->arg.i[1]);
        case POE_TK_WAIT:
                if (!IN(POE_TRACE_FILES))
                        break;
                return snprintf(buf, size,
                                "%s waited (timeout %.6f s): %zu read, %zu write, %zu expedite "
                                "ready",
                                name_of(lookup, ctx, (uint32_t)r->arg.i[0]), r->num,
                                (size_t)r->arg.i[1], (size_t)r->arg.i[2], (size_t)r->arg.i[3]);
        case POE_TK_GC_MARK:
                if (!IN(POE_TRACE_REFCNT))
                        break;
                return snprintf(buf, size, "session %llu marked for gc",
                                (unsigned long long)r->session);
        case POE_TK_REFCOUNT_INC:
        case POE_TK_REFCOUNT_DEC:
                if (!IN(POE_TRACE_REFCNT))
                        break;
                refcount_items(r, tmp, sizeof(tmp));
                return snprintf(buf, size, "%s refcount for %s (%s): now %u [%s]",
                                r->kind == POE_TK_REFCOUNT_INC ? "incremented" : "decremented",
                                SN, poe__reason_name((int)r->arg.u[9]), r->refcount, tmp);
        case POE_TK_CREATE:
                if (!IN(POE_TRACE_SESSIONS))
                        break;
                return snprintf(buf, size, "%s has parent %s", SN, PN);
        case POE_TK_STOP:
                if (!IN(POE_TRACE_SESSIONS))
                        break;
                return snprintf(buf, size, "stopping %s", SN);
        case POE_TK_FREE:
                if (!IN(POE_TRACE_SESSIONS))
                        break;
                return snprintf(buf, size, "freeing %s", SN);
        case POE_TK_MOVE:
                if (!IN(POE_TRACE_SESSIONS))
                        break;
                return snprintf(buf, size, "moving %s to %s", SN, PN);
        case POE_TK_PROFILE:
                if (!IN(POE_TRACE_PROFILE))
                        break;
                return snprintf(buf, size, "%s dispatched %llu events in %.6f s", SN,
                                (unsigned long long)r->arg.i[0], r->num);
        case POE_TK_OS_SIGNAL:
                if (!IN(POE_TRACE_SIGNALS))
                        break;
                return snprintf(buf, size, "Caught SIG%.*s", TEXT);
        case POE_TK_REAP:
                if (!IN(POE_TRACE_SIGNALS))
                        break;
                return snprintf(buf, size, "POE::Kernel detected SIGCHLD (pid=%d; exit=%d)",
                                (int)r->arg.i[0], (int)r->arg.i[1]);
        case POE_TK_SIGNAL:
                if (!IN(POE_TRACE_SIGNALS))
                        break;
                return snprintf(buf, size, "dispatching ET_SIGNAL (%.*s) to %s", TEXT, SN);
        case POE_TK_SIGNAL_DELIVER:
                if (!IN(POE_TRACE_SIGNALS))
                        break;
                return snprintf(buf, size, "propagating explicit signal %s (%.*s) to %s", EV,
                                TEXT, SN);
        case POE_TK_SIGNAL_STOP:
                if (!IN(POE_TRACE_SIGNALS))
                        break;
                return snprintf(buf, size, "stopping signaled %s", SN);
        case POE_TK_RETVAL:
                if (!IN(POE_TRACE_RETVALS))
                        break;
                {
                        size_t flen = retval_where(r, lookup, ctx, tmp, sizeof(tmp));

                        return snprintf(buf, size, "%.*s() failed%s: %s", (int)flen,
                                        r->text ? r->text : "", tmp,
                                        strerror((int)r->arg.i[0]));
                }
        case POE_TK_DIE:
                if (!IN(POE_TRACE_EVENTS))
                        break;
                {
                        /* The message, a NUL, the file (see poe.h). */
                        const char *t = r->text ? r->text : "";
                        size_t mlen = strnlen(t, r->text_len);
                        int m = (int)mlen;

                        /* Perl's die message ends in a newline: the line
                         * does not. */
                        while (m > 0 && t[m - 1] == '\n')
                                m--;
                        return snprintf(buf, size, "event ``%s'' of %s died at %.*s line %d: %.*s",
                                        EV, SN,
                                        mlen < r->text_len ? (int)(r->text_len - mlen - 1) : 0,
                                        mlen < r->text_len ? t + mlen + 1 : "",
                                        (int)r->arg.i[0], m, t);
                }
        case POE_TK_DESTROY:
        case POE_TK_ASSERT:
        case POE_TK_DEF_NAME:
        case POE_TK_DEF_LOGGABLE:
        default:
                /* Free text, made where it was known. */
                return snprintf(buf, size, "%.*s", TEXT);
        }
        if (size)
                buf[0] = '\0';
        return 0;
}
