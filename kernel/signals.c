/*
 * Signals as POE events: sig, sig_handled, signal, and their dispatch
 * (POE::Resource::Signals and POE::Kernel's _dispatch_signal_event).
 * The kernel's own IDLE and ZOMBIE signals use the same path.  OS
 * signals join in with issue 4.
 */
#include <signal.h>
#include <string.h>

#include "internal.h"
#include "aliases.h"
#include "debug.h"
#include "events.h"
#include "exceptions.h"
#include "io.h"
#include "postbacks.h"
#include "queue.h"
#include "sessions.h"
#include "signals.h"
#include "trace.h"

enum { SIG_BENIGN = 0, SIG_TERMINAL = 1, SIG_NONMASKABLE = 2 };

/* POE's %_signal_types. */
static int sig_type(const char *name)
{
        static const char *const terminal[] = { "QUIT", "INT", "KILL", "TERM", "HUP", "IDLE", "DIE" };
        size_t i;

        for (i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++)
                if (strcmp(name, terminal[i]) == 0)
                        return SIG_TERMINAL;
        if (strcmp(name, "ZOMBIE") == 0 || strcmp(name, "UIDESTROY") == 0)
                return SIG_NONMASKABLE;
        return SIG_BENIGN;
}

/*
 * The first watcher of an OS signal installs its handler, the last one
 * gone removes it (POE's _data_sig_signal_watch and _ignore).  CHLD is
 * the children's business: it reaps rather than signals.
 */
static int os_follow(poe_kernel *k, uint32_t signal, bool first)
{
        int signo = poe__os_signo(poe__name(k, signal));

        if (!signo)
                return 0;
        if (signo == SIGCHLD) {
                poe__children_update(k);
                return 0;
        }
        if (first)
                return poe__os_watch(k, signo);
        poe__os_unwatch(k, signo);
        return 0;
}

static void watch_remove(poe_kernel *k, poe__sigwatch *w)
{
        uint32_t signal = w->signal;

        poe__list_remove(&w->in_session);
        poe__free(k, w->args);
        poe__free(k, w);
        if (--k->sig_watchers[signal] == 0)
                os_follow(k, signal, false);
}

/* Grows the per-name watcher counts to cover name id `name`. */
static int counts_reserve(poe_kernel *k, uint32_t name)
{
        uint32_t cap = k->cap_sig_watchers;
        uint32_t *v;

        if (name < cap)
                return 0;
        while (cap <= name)
                cap = cap ? cap * 2 : 64;
        v = poe__realloc(k, k->sig_watchers, cap * sizeof(*v));
        if (!v)
                return -ENOMEM;
        memset(v + k->cap_sig_watchers, 0, (cap - k->cap_sig_watchers) * sizeof(*v));
        k->sig_watchers = v;
        k->cap_sig_watchers = cap;
        return 0;
}

POE_EXPORT int poe_kernel_sig(poe_kernel *k, const char *signal, const char *event,
                              const poe_value *args, size_t nargs)
{
        poe__session *s;
        poe__sigwatch *w;
        uint32_t sig, ev;
        poe_value *copy = NULL;

        POE_CHECK(k, k && signal && *signal && (args || !nargs), -EINVAL);
        s = k->active;
        POE_CHECK_SESSION(k, !s->is_kernel && s->alive, -EPERM);
        if (!event) {
                sig = poe__name_find(k, signal);
                w = sig == POE__NO_NAME ? NULL : poe__sigwatch_find(s, sig);
                if (w)
                        watch_remove(k, w);
                return poe__rv(k, 0, __func__);
        }
        sig = poe__intern(k, signal);
        ev = poe__intern(k, event);
        if (sig == POE__NO_NAME || ev == POE__NO_NAME || counts_reserve(k, sig) < 0)
                return poe__rv(k, -ENOMEM, __func__);
        /* Watcher arguments are plain data: pointers are not owned, so
         * their destructors go, and a handler that takes one gets none
         * (it would run at every delivery). */
        if (poe__values_dup(k, args, nargs, &copy) < 0)
                return poe__rv(k, -ENOMEM, __func__);
        poe__values_strip(copy, nargs);
        w = poe__sigwatch_find(s, sig);
        if (!w) {
                w = poe__need_more(k, s) < 0 ? NULL : poe__calloc(k, 1, sizeof(*w));
                if (!w) {
                        poe__free(k, copy);
                        return poe__rv(k, -ENOMEM, __func__);
                }
                w->signal = sig;
                if (k->sig_watchers[sig] == 0) {
                        int err = os_follow(k, sig, true);

                        if (err < 0) {
                                poe__free(k, w);
                                poe__free(k, copy);
                                return poe__rv(k, err, __func__);
                        }
                }
                poe__list_append(&s->more->sigwatch, &w->in_session);
                k->sig_watchers[sig]++;
                if (poe__os_signo(signal) == SIGCHLD)
                        poe__children_update(k);
        } else {
                poe__free(k, w->args);
        }
        w->event = ev;
        w->args = copy;
        w->nargs = (uint32_t)nargs;
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_sig_handled(poe_kernel *k)
{
        POE_CHECK(k, k, -EINVAL);
        k->sig_handled++;
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_signal_at(poe_kernel *k, const char *file, int line, poe_sid dest,
                                    const char *signal, const poe_value *args, size_t nargs)
{
        poe__session *s;
        poe__event *ev;
        poe_value name;
        uint32_t fid;

        POE_CHECK_ARGS_AT(k, file, line, k && signal && *signal && (args || !nargs), -EINVAL,
                          args, nargs);
        s = poe__session_get(k, dest);
        if (!s) {
                poe__resolve_failed(k, NULL, dest);
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv_unresolved(k, __func__, file, line);
        }
        name = poe_str(signal);
        fid = poe__file(k, file);
        ev = fid != POE__NO_NAME ? poe__event_new2(k, &name, 1, args, nargs) : NULL;
        if (!ev) {
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv_at(k, file, line, -ENOMEM, __func__);
        }
        poe__enqueue(k, ev, s, k->active, POE__N_SIGNAL, POE__ET_SIGNAL, fid, line);
        return poe__rv_at(k, file, line, 0, __func__);
}

/* Queues one of the kernel's own signals (IDLE, ZOMBIE) to itself. */
static void raise_kernel(poe_kernel *k, const char *signal, const poe_value *args, size_t nargs)
{
        poe_value name = poe_str(signal);
        poe__event *ev;

        if (!k->ksession->alive)
                return;
        ev = poe__event_new2(k, &name, 1, args, nargs);
        if (!ev) {
                /* IDLE and ZOMBIE are retried at the next slice, which the
                 * loop makes come soon: the kernel must not sleep forever
                 * for want of the event that would end it. */
                poe__warn(k, "<sg> out of memory: cannot raise %s\n", signal);
                k->retry_soon = true;
                k->raise_failures++;
                return;
        }
        k->raise_failures = 0;
        poe__enqueue(k, ev, k->ksession, k->ksession, POE__N_SIGNAL, POE__ET_SIGNAL,
                     poe__kfile(k, __FILE__), __LINE__);
}

static void kernel_signal(poe_kernel *k, uint32_t which)
{
        raise_kernel(k, poe__name(k, which), NULL, 0);
}

/* An OS signal, as POE's generic handler queues it: to the kernel. */
void poe__kernel_signal_name(poe_kernel *k, const char *name)
{
        raise_kernel(k, name, NULL, 0);
}

void poe__kernel_signal_args(poe_kernel *k, const char *name, int64_t a, int64_t b)
{
        poe_value args[2] = { poe_int(a), poe_int(b) };

        raise_kernel(k, name, args, 2);
}

/*
 * POE::Kernel::_invoke_state: the kernel's own handler.  It watches IDLE
 * while run() runs, and because signals reach descendants first, it
 * sees IDLE last: if nothing happened meanwhile, ZOMBIE follows.
 */
void poe__kernel_invoke(poe_kernel *k, uint32_t name, uint32_t type, poe_value *args,
                        size_t nargs)
{
        (void)type;
        if (name != POE__N_SIGNAL || nargs < 1 || args[0].type != POE_T_STR)
                return;
        if (strcmp(args[0].u.s, "IDLE") == 0 && k->queue_count == 0 && k->n_watched_fds == 0)
                kernel_signal(k, POE__N_ZOMBIE);
}

/* POE's _test_if_kernel_is_idle. */
void poe__test_if_idle(poe_kernel *k)
{
        if (k->queue_count > 0 || k->n_watched_fds > 0 || k->n_extref_sessions > 0 ||
            k->n_live_postbacks > 0 ||
            poe__children_awaited(k) || k->n_sessions == 0)
                return;
        kernel_signal(k, POE__N_IDLE);
}

/*
 * Frees a watcher delivery's copy of the arguments (r->d.ev).  The signal
 * event owns the pointers the copy begins with; a handler that took one
 * of them (poe_ctx_take_arg clears its destructor in the copy) took it
 * from the event, which must not destroy it too.  Also after a die.
 */
void poe__signal_delivery_done(poe_kernel *k, poe__sigwalk *r)
{
        poe_value *own, *v;
        size_t i, n;

        if (!r->d.ev)
                return;
        own = poe__ev_args(r->ev);
        v = poe__ev_args(r->d.ev);
        n = poe__ev_nargs(r->ev);
        for (i = 0; i < n; i++)
                if (own[i].type == POE_T_PTR && !v[i].u.ptr.destroy)
                        own[i].u.ptr.destroy = NULL;
        poe__free(k, r->d.ev);
        r->d.ev = NULL;
        r->d.c.args = own;
        r->d.c.nargs = n;
}

/* The kernel's session in the walk of an IDLE it watches (run()): its
 * own dispatch, under a frame of its own, as POE's _invoke_state. */
void poe__signal_kernel_idle(poe_kernel *k, poe__sigwalk *r)
{
        poe__event *ev = r->ev;
        poe__delivery kd;
        poe_value ret;

        poe__delivery_init(&kd, k, k->ksession, k->ksession, POE__N_SIGNAL, POE__ET_SIGNAL);
        kd.c.args = poe__ev_args(ev);
        kd.c.nargs = poe__ev_nargs(ev);
        kd.c.file = poe__name(k, ev->file);
        kd.c.line = ev->line;
        kd.c.from_state = ev->from_state;
        ret = poe__dispatch(k, &kd);
        poe__value_drop(&ret);
}

/* ARG0 the signal name, then the signal's arguments, then the
 * watcher's, copied, since the handler may remove its watcher.  (Without
 * watcher arguments the signal's own are passed: the signal event owns
 * them until every watcher has run.) */
bool poe__signal_args_copy(poe_kernel *k, poe__sigwalk *r, const poe__sigwatch *w)
{
        poe_value *args = poe__ev_args(r->ev);
        poe__event *tmp = poe__event_new2(k, args, poe__ev_nargs(r->ev), w->args, w->nargs);

        if (!tmp) {
                poe__warn(k, "<sg> out of memory: signal %s not delivered to session %llu\n",
                          args[0].u.s, (unsigned long long)r->touched[r->w]->id);
                return false;
        }
        /* The signal event owns its pointer arguments, not this copy. */
        r->d.ev = tmp;
        r->d.c.args = poe__ev_args(tmp);
        r->d.c.nargs = poe__ev_nargs(tmp);
        return true;
}

/* The error_str of a DIE signal's field list. */
static const char *die_message(const poe__event *ev)
{
        poe_exception e;

        if (poe__ev_nargs(ev) >= 2 && poe_value_exception(&poe__ev_args(ev)[1], &e) == 0 &&
            e.error_str)
                return e.error_str;
        return "died\n";
}

/* DIE also reaches the target's ancestors (never the kernel): they go
 * before it in the walk, so they are visited after it. */
static int add_ancestors(poe_kernel *k, poe__session *s, poe__session ***touched, int n)
{
        poe__session *p;
        poe__session **v;
        int depth = 0, i;

        for (p = s->parent; p && !p->is_kernel; p = p->parent)
                depth++;
        if (!depth)
                return n;
        v = poe__realloc(k, *touched, (size_t)(n + depth) * sizeof(*v));
        if (!v) {
                for (i = 0; i < n; i++)
                        poe__session_unpin(k, (*touched)[i]);
                poe__free(k, *touched);
                return -ENOMEM;
        }
        memmove(v + depth, v, (size_t)n * sizeof(*v));
        for (p = s->parent, i = depth - 1; i >= 0; p = p->parent, i--) {
                v[i] = p;
                p->pins++;
        }
        *touched = v;
        return n + depth;
}

/*
 * POE's _dispatch_signal_event: the target and its descendants,
 * collected breadth first, are visited in reverse (descendants first);
 * each watcher's event is dispatched; then, if the signal is
 * nonmaskable, or terminal and nobody called sig_handled, every visited
 * session is stopped, in visiting order.
 */
void poe__signal_dispatch(poe_kernel *k, poe__event *ev)
{
        const char *signame = poe__ev_args(ev)[0].u.s;
        uint32_t sig = poe__name_find(k, signame);
        int hold_handled = k->sig_handled;
        poe__session **touched = NULL;
        int n, i, type = sig_type(signame);
        bool idle_watch = sig == POE__N_IDLE && k->kernel_watches_idle, lent = false;
        poe__sigwalk r;
        poe__frame f;

        /* DIE's walk adds the target's ancestors to its array. */
        if (sig == POE__N_DIE) {
                n = poe__session_tree(k, ev->to, &touched);
                if (n >= 0)
                        n = add_ancestors(k, ev->to, &touched, n);
        } else {
                n = poe__session_tree_lend(k, ev->to, &touched, &lent);
        }
        if (n < 0) {
                poe__warn(k, "<sg> out of memory: signal %s not dispatched\n", signame);
                if (sig == POE__N_DIE)
                        poe__exception_set(k, poe__strdup(k, die_message(ev)));
                return;
        }
        k->sig_handled = 0;
        POE_TRACE(k, POE_TRACE_SIGNALS, ev->to, sig, ev->u.from, NULL, .kind = POE_TK_SIGNAL,
                  .text = signame, .text_len = (uint16_t)strnlen(signame, UINT16_MAX));
        if (idle_watch || (sig != POE__NO_NAME && sig < k->cap_sig_watchers &&
                           k->sig_watchers[sig] > 0)) {
                /* Every watcher's delivery comes from the kernel, of the
                 * signal's kind, with the signal's file and line. */
                poe__delivery_init(&r.d, k, k->ksession, k->ksession, POE__NO_NAME,
                                   POE__ET_SIGNAL | (ev->type & POE__ET_SIGDIE));
                r.d.c.file = poe__name(k, ev->file);
                r.d.c.line = ev->line;
                r.d.c.from_state = ev->from_state;
                r.d.ev = NULL;
                r.touched = touched;
                r.w = n - 1;
                r.sig = sig;
                r.idle_watch = idle_watch;
                r.ev = ev;
                /* One landing frame for every watcher's handler, rather
                 * than one per dispatch: a handler that dies comes back
                 * here, its dispatch is finished, and the walk goes on
                 * with the next session. */
                poe__frame_push(k, &f);
                if (POE__SETJMP(f.jb) != 0) {
                        /* The die path (exceptions.c): the watcher's
                         * dispatch finished, its copy freed, the walk
                         * goes on. */
                        k->frame = &f;
                        poe__landed(k, &f);
                        poe__signal_delivery_done(k, &r);
                        r.w--;
                }
                poe__dispatch_signal(k, &r);
                k->frame = f.up;
        }
        if (type == SIG_NONMASKABLE || (type == SIG_TERMINAL && !k->sig_handled)) {
                for (i = n - 1; i >= 0; i--) {
                        if (!touched[i]->alive)
                                continue;
                        POE_TRACE(k, POE_TRACE_SIGNALS, touched[i], sig, NULL, NULL,
                                  .kind = POE_TK_SIGNAL_STOP);
                        poe__session_stop(k, touched[i]);
                }
        }
        /* An unhandled DIE goes on to run()'s caller, as POE rethrows it;
         * a die while handling an earlier one is appended to it. */
        if (sig == POE__N_DIE && !k->sig_handled) {
                const char *add = "Additional error thrown in handler for previous error:\n";
                const char *msg = die_message(ev);
                size_t len = strlen(msg) + (k->exception ? strlen(add) + strlen(k->exception) : 0);
                char *chained = poe__malloc(k, len + 1);

                if (chained) {
                        strcpy(chained, msg);
                        if (k->exception) {
                                strcat(chained, add);
                                strcat(chained, k->exception);
                        }
                }
                poe__exception_set(k, chained);
        }
        k->sig_handled = hold_handled;
        poe__session_tree_return(k, touched, n, lent);
}

void poe__signals_clear_session(poe_kernel *k, poe__session *s)
{
        while (!poe__list_empty(POE__MORE_LIST(s, sigwatch)))
                watch_remove(k, poe__container_of(poe__list_first(&s->more->sigwatch),
                                                  poe__sigwatch, in_session));
}
