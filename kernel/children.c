/*
 * Child processes: sig_child, reaping, and has_forked
 * (POE::Resource::Signals' pid watchers and _data_sig_reap_pids).
 *
 * A session that calls sig_child(pid, event) stays alive until that
 * child is reaped and the event is dispatched: the watch holds it until
 * the reap, the queued event after.  The event carries ARG0 "CHLD", ARG1
 * the pid, ARG2 the wait status, then the watch's arguments.  Every
 * reaped child also raises CHLD at the kernel, for sig() watchers.
 *
 * Reaping is waitpid(-1, WNOHANG) in a loop, as POE does, so it reaps
 * every child of the process, watched or not.  With POE_USE_SIGCHLD on
 * (the default) a SIGCHLD triggers it; off, the kernel polls every
 * POE_CHILD_POLLING_INTERVAL seconds while anyone waits for a child.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "clock.h"
#include "events.h"
#include "io.h"
#include "sessions.h"
#include "signals.h"
#include "trace.h"

/* Anyone waiting for children?  (pid watches, or sig(CHLD) watchers) */
static bool chld_wanted(const poe_kernel *k)
{
        uint32_t chld = poe__name_find(k, "CHLD");

        return k->n_pidwatches > 0 ||
               (chld != POE__NO_NAME && chld < k->cap_sig_watchers && k->sig_watchers[chld] > 0);
}

/* Starts or stops the SIGCHLD handler or the polling, to match demand. */
void poe__children_update(poe_kernel *k)
{
        bool want = chld_wanted(k);

        if (want && !k->chld_active) {
                k->chld_active = true;
                if (k->use_sigchld && poe__os_watch(k, SIGCHLD) < 0)
                        poe__warn(k, "<sg> cannot catch SIGCHLD; polling for children\n");
                /* Reap at once: a child may have exited before the watch. */
                k->chld_poll_due = poe__mono(k);
        } else if (!want && k->chld_active) {
                k->chld_active = false;
                if (k->use_sigchld)
                        poe__os_unwatch(k, SIGCHLD);
                k->chld_poll_due = -1;
        }
}

static void pidwatch_remove(poe_kernel *k, poe__pidwatch *w)
{
        poe__list_remove(&w->in_session);
        poe__list_remove(&w->in_kernel);
        k->n_pidwatches--;
        poe__unref(k, w->session, POE_REASON_SIGCHILD);
        poe__free(k, w->args);
        poe__free(k, w);
}

static poe__pidwatch *pidwatch_find(poe__session *s, pid_t pid)
{
        poe__list_node *pos;

        poe__list_foreach(pos, POE__MORE_LIST(s, pidwatch))
        {
                poe__pidwatch *w = poe__container_of(pos, poe__pidwatch, in_session);

                if (w->pid == pid)
                        return w;
        }
        return NULL;
}

POE_EXPORT int poe_kernel_sig_child(poe_kernel *k, int pid, const char *event,
                                    const poe_value *args, size_t nargs)
{
        poe__session *s;
        poe__pidwatch *w;
        uint32_t name;
        poe_value *copy = NULL;

        POE_CHECK(k, k && pid > 0 && (args || !nargs), -EINVAL);
        s = k->active;
        POE_CHECK(k, !s->is_kernel && s->alive, -EPERM);
        w = pidwatch_find(s, (pid_t)pid);
        if (!event) {
                if (w) {
                        pidwatch_remove(k, w);
                        poe__children_update(k);
                }
                return poe__rv(k, 0, __func__);
        }
        name = poe__intern(k, event);
        if (name == POE__NO_NAME || poe__values_dup(k, args, nargs, &copy) < 0)
                return poe__rv(k, -ENOMEM, __func__);
        if (w) {
                /* A second sig_child for the same pid replaces the first.
                 * (POE 1.37 counts it twice and never releases the extra
                 * count; libpoe does not copy that leak.) */
                poe__free(k, w->args);
        } else {
                w = poe__need_more(k, s) < 0 ? NULL : poe__calloc(k, 1, sizeof(*w));
                if (!w) {
                        poe__free(k, copy);
                        return poe__rv(k, -ENOMEM, __func__);
                }
                w->pid = (pid_t)pid;
                w->session = s;
                poe__list_append(&s->more->pidwatch, &w->in_session);
                poe__list_append(&k->pidwatches, &w->in_kernel);
                k->n_pidwatches++;
                poe__ref(k, s, POE_REASON_SIGCHILD);
                /* Assume the child runs until a reap says otherwise, so
                 * the kernel does not call itself idle before looking
                 * (POE counts the pending poll, or sets has_child_procs). */
                k->has_child_procs = true;
        }
        w->event = name;
        w->args = copy;
        w->nargs = (uint32_t)nargs;
        poe__children_update(k);
        return poe__rv(k, 0, __func__);
}

/* Queues the watcher's event for a reaped child, then drops the watch. */
static void child_event(poe_kernel *k, poe__pidwatch *w, pid_t pid, int status)
{
        poe_value pre[3] = { poe_str("CHLD"), poe_int(pid), poe_int(status) };
        poe__event *ev = poe__event_new2(k, pre, 3, w->args, w->nargs);

        if (ev)
                poe__enqueue(k, ev, w->session, k->ksession, w->event, POE__ET_SIGCLD,
                             poe__kfile(k, __FILE__), __LINE__);
        else
                poe__warn(k, "<sg> out of memory: session %llu not told that child %d "
                             "exited with status %d\n",
                          (unsigned long long)w->session->id, (int)pid, status);
        pidwatch_remove(k, w);
}

/* POE's _data_sig_reap_pids. */
void poe__children_reap(poe_kernel *k)
{
        for (;;) {
                int status = 0;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                poe__list_node *pos, *tmp;

                if (pid > 0) {
                        if (!WIFEXITED(status) && !WIFSIGNALED(status))
                                continue;
                        POE_TRACE(k, POE_TRACE_SIGNALS, NULL, POE__NO_NAME, NULL, NULL,
                                  .kind = POE_TK_REAP, .arg.i = { pid, status });
                        poe__list_foreach_safe(pos, tmp, &k->pidwatches) {
                                poe__pidwatch *w = poe__container_of(pos, poe__pidwatch,
                                                                     in_kernel);

                                if (w->pid == pid)
                                        child_event(k, w, pid, status);
                        }
                        poe__kernel_signal_args(k, "CHLD", pid, status);
                        continue;
                }
                if (pid < 0 && errno == EINTR)
                        continue;
                /* 0: children still run.  -1 (ECHILD): none are left. */
                k->has_child_procs = pid == 0;
                break;
        }
        poe__children_update(k);
}

/* Called by the loop each timeslice: reaps when a poll is due. */
void poe__children_poll(poe_kernel *k)
{
        if (k->chld_poll_due < 0 || poe__mono(k) < k->chld_poll_due)
                return;
        k->chld_poll_due = -1;
        poe__children_reap(k);
        /* Without SIGCHLD, keep polling while anyone waits. */
        if (k->chld_active && !k->use_sigchld)
                k->chld_poll_due = poe__mono(k) + (int64_t)(k->child_poll_interval * 1e9);
}

/* POE's _data_sig_kernel_awaits_pids: idleness waits for children. */
bool poe__children_awaited(const poe_kernel *k)
{
        return chld_wanted(k) && k->has_child_procs;
}

void poe__children_clear_session(poe_kernel *k, poe__session *s)
{
        if (poe__list_empty(POE__MORE_LIST(s, pidwatch)))
                return;
        while (!poe__list_empty(&s->more->pidwatch))
                pidwatch_remove(k, poe__container_of(poe__list_first(&s->more->pidwatch),
                                                     poe__pidwatch, in_session));
        poe__children_update(k);
}

POE_EXPORT int poe_kernel_has_forked(poe_kernel *k)
{
        int err;

        POE_CHECK(k, k, -EINVAL);
        /* The parent's children are not ours to wait for, and the id,
         * which holds the pid, is recalculated (POE's _recalc_id). */
        k->has_child_procs = false;
        k->pid = getpid();
        k->forked = true;
        poe__make_id(k);
        err = poe__os_signals_forked(k);
        if (err == 0)
                err = poe__loop_forked(k);
        return poe__rv(k, err, __func__);
}
