/*
 * Exceptions: poe_die, and what POE's _dispatch_event does with a die.
 *
 * poe_die unwinds (longjmp) to the dispatch that called the handler, the
 * way Perl's die unwinds to POE's eval.  With CATCH_EXCEPTIONS on (the
 * default), the dying session then gets the DIE signal, with POE's
 * fields; a die in _stop or in a DIE handler, or after stop(), cannot be
 * delivered and becomes the kernel's exception, as does every die with
 * CATCH_EXCEPTIONS off.  A kernel exception stops every session and
 * makes run() return -ECANCELED; poe_kernel_exception() has the message.
 *
 * Whatever the handler allocated and did not free before poe_die is
 * lost, as it would be with longjmp anywhere: die from handler code, not
 * from a destructor or callback the kernel is running.
 *
 * The die path, all of it, is in this file, below poe_die:
 *
 *   1. poe_die keeps the message and unwinds to k->frame, the innermost
 *      landing frame (poe__unwind).  Every handler runs under one, with
 *      its dispatch's delivery open in it (f->open, events.c's
 *      dispatch()): a frame of its own (poe__dispatch: a call, _start,
 *      _stop, _child), the one a run() or timeslice sets for all the
 *      slice's queued events (kernel.c), the one a signal sets for all
 *      its watchers (signals.c), or the one an I/O round sets for all
 *      its ready watchers (handles.c).
 *   2. poe__landed, called by the frame's owner, finishes the open
 *      dispatch: the exception caught (poe__exception_caught: the DIE
 *      signal queued, or the kernel's exception set) and the dispatch's
 *      end (events.c's poe__dispatch_end: the active session and event
 *      restored, the target unpinned, busy time settled).  A call's
 *      frame (events.c's call_framed) then tells call() its handler
 *      died, for its -ECANCELED.
 *   3. Then the owner goes on: poe__dispatch returns nil; the slice's
 *      frame frees the event and resumes the slice (poe__slice_landed);
 *      a signal frees its watcher's argument copy and goes on with the
 *      next watcher, and an I/O round with the next ready fd.  A frame
 *      with nothing open (call()'s to its own session, a postback's)
 *      lets go of what it holds and unwinds on to the frame above.
 *   4. call() rethrows a pending kernel exception into its caller
 *      (poe__rethrow), as POE's call does.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "debug.h"
#include "events.h"
#include "exceptions.h"
#include "sessions.h"
#include "trace.h"

static char *vformat(poe_kernel *k, const char *fmt, va_list ap)
{
        va_list ap2;
        int n;
        char *s;

        va_copy(ap2, ap);
        n = vsnprintf(NULL, 0, fmt, ap2);
        va_end(ap2);
        if (n < 0)
                return NULL;
        s = poe__malloc(k, (size_t)n + 1);
        if (s)
                vsnprintf(s, (size_t)n + 1, fmt, ap);
        return s;
}

static char *format(poe_kernel *k, const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = vformat(k, fmt, ap);
        va_end(ap);
        return s;
}

POE_EXPORT void poe_die_at(poe_ctx *c, const char *file, int line, const char *fmt, ...)
{
        poe_kernel *k = c->k;
        va_list ap;
        char *msg;
        size_t n;

        va_start(ap, fmt);
        msg = vformat(k, fmt, ap);
        va_end(ap);
        /* Perl's die appends " at FILE line N.\n" to a message that does
         * not end in a newline. */
        n = msg ? strlen(msg) : 0;
        if (msg && (n == 0 || msg[n - 1] != '\n')) {
                char *full = format(k, "%s at %s line %d.\n", msg, file, line);

                poe__free(k, msg);
                msg = full;
        }
        poe__free(k, k->die_msg);
        k->die_msg = msg; /* NULL when out of memory: reported as such */
        snprintf(k->die_file, sizeof(k->die_file), "%s", file ? file : "");
        k->die_line = line;
        if (!k->frame) {
                fprintf(stderr, "poe_die outside a handler: %s", msg ? msg : "(no memory)\n");
                abort();
        }
        poe__unwind(k);
}

__attribute__((noinline)) void poe__unwind(poe_kernel *k)
{
        POE__LONGJMP(k->frame->jb);
}

/* The exception when there is no memory even for its message: static,
 * so that a die is never lost for want of a copy.  Never written. */
static char no_memory[] = "out of memory formatting an exception\n";

/* Sets POE's kr_exception, taking ownership of msg. */
void poe__exception_set(poe_kernel *k, char *msg)
{
        poe__exception_clear(k);
        k->exception = msg ? msg : no_memory;
}

void poe__exception_clear(poe_kernel *k)
{
        if (k->exception != no_memory)
                poe__free(k, k->exception);
        k->exception = NULL;
}

POE_EXPORT const char *poe_kernel_exception(const poe_kernel *k)
{
        return k ? k->exception : NULL;
}

/* call()'s rethrow: the pending exception unwinds into the caller. */
void poe__rethrow(poe_kernel *k)
{
        poe__free(k, k->die_msg);
        k->die_msg = poe__strdup(k, k->exception);
        poe__unwind(k);
}

/* The most of a die's message its trace record carries. */
#define DIE_TEXT_MAX 1024

/*
 * TRACE_EVENTS' die record, between the dispatch that died and its
 * return: the message (cut at DIE_TEXT_MAX), a NUL, and the file poe_die
 * was called in; its line in arg.i[0].  The trace log keeps it, so a
 * handler's death is more than a "returns (undef)" (poe.h, POE_TK_DIE).
 */
static __attribute__((noinline, cold)) void trace_die(poe_kernel *k, poe__session *to,
                                                      poe__session *from, uint32_t name,
                                                      const char *msg)
{
        char text[DIE_TEXT_MAX + 1 + sizeof(k->die_file)];
        size_t m = msg ? strnlen(msg, DIE_TEXT_MAX) : 0, f = strlen(k->die_file);
        poe_trace_record r;

        if (k->in_sink)
                return;
        if (m)
                memcpy(text, msg, m);
        text[m] = '\0';
        memcpy(text + m + 1, k->die_file, f);
        memset(&r, 0, sizeof(r));
        r.group = POE_TRACE_EVENTS;
        r.kind = POE_TK_DIE;
        r.event = name;
        r.event_id = (uint64_t)k->dispatch_seq;
        r.arg.i[0] = k->die_line;
        r.text = text;
        r.text_len = (uint16_t)(m + 1 + f);
        poe__trace(k, &r, to, from, NULL);
}

/* The DIE signal's second argument: POE's hash as key/value pairs. */
static const char *const fields[] = {
        "source_session", "dest_session", "event", "file", "line", "from_state", "error_str",
};

/*
 * POE's _dispatch_event after its eval caught a die: the DIE signal to
 * the dying session, with POE's fields, else the kernel's exception.
 */
void poe__exception_caught(poe_kernel *k, const poe__delivery *d)
{
        poe__session *to = d->c.s;
        char *msg = k->die_msg;
        poe_value kv[14], args[2];
        poe__event *ev;
        size_t i;

        k->die_msg = NULL;
        if (!msg)
                msg = poe__strdup(k, "out of memory formatting a die message\n");
        if (POE__ON(k, POE_TRACE_EVENTS))
                trace_die(k, to, d->from, d->c.state, msg ? msg : "(out of memory)\n");
        if (!k->catch_exceptions || (d->type & (POE__ET_STOP | POE__ET_SIGDIE)) ||
            k->active->is_kernel) {
                poe__exception_set(k, msg);
                return;
        }
        for (i = 0; i < 7; i++)
                kv[2 * i] = poe_str(fields[i]);
        kv[1] = poe_session(d->from->id);
        kv[3] = poe_session(to->id);
        kv[5] = poe_str(poe__name(k, d->c.state));
        kv[7] = poe_str(d->c.file ? d->c.file : "");
        kv[9] = poe_int(d->c.line);
        kv[11] = d->c.from_state == POE__NO_NAME ? poe_nil()
                                                 : poe_str(poe__name(k, d->c.from_state));
        kv[13] = poe_str(msg ? msg : "");
        args[0] = poe_str("DIE");
        args[1] = poe_list(kv, 14);
        ev = to->alive ? poe__event_new(k, args, 2) : NULL;
        if (!ev) {
                /* Nobody left to tell, or no memory to tell them: the die
                 * goes to run()'s caller instead of vanishing. */
                poe__exception_set(k, msg);
                return;
        }
        poe__enqueue(k, ev, to, k->ksession, POE__N_SIGNAL, POE__ET_SIGDIE, poe__kfile(k, __FILE__),
                     __LINE__);
        poe__free(k, msg);
}

/*
 * A die landed in f: finishes the dispatch open in it, if any, as the
 * dispatch would have finished had its handler returned nil, and
 * returns its delivery for the owner's own end (see the top of the
 * file).  The frame's owner has made k->frame what it is to be next.
 */
poe__delivery *poe__landed(poe_kernel *k, poe__frame *f)
{
        poe__delivery *d = f->open;
        poe_value nil = poe_nil();

        if (!d)
                return NULL;
        f->open = NULL;
        poe__exception_caught(k, d);
        poe__dispatch_end(k, d, &nil);
        return d;
}

/*
 * A top-level handler died and poe_die unwound to the frame run() or a
 * timeslice set (kernel.c): its dispatch is finished, its event freed,
 * and the slice goes on (events.c's poe__dispatch_resume).  A die with
 * no queued event's dispatch open (a rethrow outside one) just ends the
 * slice.
 */
void poe__slice_landed(poe_kernel *k, poe__frame *f)
{
        poe__delivery *d;

        k->frame = f;
        d = poe__landed(k, f);
        if (!d)
                return;
        poe__event_done(k, d->ev);
        poe__dispatch_resume(k);
}

POE_EXPORT int poe_value_exception(const poe_value *v, poe_exception *ret)
{
        poe_exception e;
        uint32_t i;

        POE_ASSERT_RETURN(v && ret, -EINVAL);
        if (v->type != POE_T_LIST || v->len != 14)
                return -EINVAL;
        memset(&e, 0, sizeof(e));
        for (i = 0; i < 14; i += 2) {
                const char *key = poe_value_str(&v->u.list[i]);
                const poe_value *val = &v->u.list[i + 1];

                if (!key)
                        return -EINVAL;
                if (strcmp(key, "source_session") == 0)
                        e.source_session = val->u.sid;
                else if (strcmp(key, "dest_session") == 0)
                        e.dest_session = val->u.sid;
                else if (strcmp(key, "event") == 0)
                        e.event = poe_value_str(val);
                else if (strcmp(key, "file") == 0)
                        e.file = poe_value_str(val);
                else if (strcmp(key, "line") == 0)
                        e.line = (int)poe_value_int(val);
                else if (strcmp(key, "from_state") == 0)
                        e.from_state = poe_value_str(val);
                else if (strcmp(key, "error_str") == 0)
                        e.error_str = poe_value_str(val);
                else
                        return -EINVAL;
        }
        *ret = e;
        return 0;
}

void poe__exceptions_free(poe_kernel *k)
{
        poe__free(k, k->die_msg);
        k->die_msg = NULL;
        poe__exception_clear(k);
}
