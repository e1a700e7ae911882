/*
 * The loop: choosing a backend, waiting for the next thing to happen,
 * and the one thread-safe entry, poe_kernel_post_from_thread.
 *
 * POE_EVENT_LOOP=select|poll|epoll picks the backend when the kernel is
 * made (default epoll).  The wait lasts until the queue's head is due:
 * zero when posted events wait, the next timer otherwise, and without
 * limit when only I/O or another thread can make something happen.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "clock.h"
#include "debug.h"
#include "events.h"
#include "io.h"
#include "queue.h"
#include "sessions.h"
#include "signals.h"
#include "trace.h"
#include "xthread.h"

/* A post from another thread, held until the loop takes it.  Allocated
 * with libc, not the kernel's allocator, which need not be thread-safe. */
struct poe__xpost {
        struct poe__xpost *next;
        void (*fn)(poe_kernel *k, void *ctx); /* run_in_loop, or NULL for a post */
        void *ctx;
        poe_sid dest;
        char *event;
        size_t nargs;
        poe_value *args; /* deep copy in the same allocation */
};

static const poe__loop_ops *backend_named(const char *name)
{
        if (!name || !*name || strcmp(name, "epoll") == 0)
                return &poe__loop_epoll;
        if (strcmp(name, "poll") == 0)
                return &poe__loop_poll;
        if (strcmp(name, "select") == 0)
                return &poe__loop_select;
        /* A loop of another library, whose own watchers watch the fds. */
        if (poe__owned_known(name))
                return &poe__loop_host;
        return NULL;
}

int poe__loop_init(poe_kernel *k)
{
        const char *name = getenv("POE_EVENT_LOOP");
        pthread_mutex_t *lock;
        int err;

        k->wake_fd = -1;
        k->loop = backend_named(name);
        if (!k->loop) {
                poe__warn(k, "POE_EVENT_LOOP=%s is not one of select, poll, epoll, glib, uv, "
                             "ev; using epoll\n", name);
                k->loop = &poe__loop_epoll;
        }
        lock = malloc(sizeof(*lock));
        if (!lock)
                return -ENOMEM;
        pthread_mutex_init(lock, NULL);
        k->xlock = lock;
        k->xposts_tail = &k->xposts;
        /* The host backend watches fds in the owned loop, made first. */
        err = k->loop == &poe__loop_host ? poe__owned_open(k, name) : 0;
        if (err == 0)
                err = k->loop->init(k);
        if (err < 0)
                return err;
        k->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (k->wake_fd < 0)
                return -errno;
        err = k->loop->update(k, k->wake_fd, 0, POE__IO_BIT(POE__MODE_RD));
        if (err < 0)
                return err;
        /* TRACE_FILES' wait records name the loop by its interned id. */
        k->loop_name = poe__intern(k, poe_kernel_loop_name(k));
        return k->loop_name == POE__NO_NAME ? -ENOMEM : 0;
}

static void xpost_free(struct poe__xpost *x, bool destroy)
{
        if (x->fn) {
                /* A callback that never ran: the kernel is going away, and
                 * its owner is told so by the callback running now with
                 * NULL for the kernel. */
                x->fn(NULL, x->ctx);
                free(x);
                return;
        }
        if (destroy)
                poe__values_destroy(x->args, x->nargs);
        free(x->event);
        free(x);
}

void poe__loop_fini(poe_kernel *k)
{
        struct poe__xpost *x = k->xposts;

        while (x) {
                struct poe__xpost *next = x->next;

                xpost_free(x, true);
                x = next;
        }
        k->xposts = NULL;
        /* The backend first: the host one unwatches its fds in the loop. */
        if (k->loop && k->loop_data)
                k->loop->fini(k);
        poe__owned_close(k);
        if (k->wake_fd >= 0)
                close(k->wake_fd);
        k->wake_fd = -1;
        if (k->xlock) {
                pthread_mutex_destroy(k->xlock);
                free(k->xlock);
                k->xlock = NULL;
        }
}

POE_EXPORT const char *poe_kernel_loop_name(const poe_kernel *k)
{
        if (k && k->owned)
                return poe__owned_name(k);
        return k && k->loop ? k->loop->name : "";
}

POE_EXPORT int poe_kernel_post_from_thread(poe_kernel *k, poe_sid dest, const char *event,
                                           const poe_value *args, size_t nargs)
{
        struct poe__xpost *x;
        uint64_t one = 1;
        char *pool;

        if (!k || !event || (nargs && !args)) {
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv(k, -EINVAL, __func__);
        }
        x = malloc(sizeof(*x) + nargs * sizeof(poe_value) + poe__values_size(args, nargs));
        if (x)
                x->event = strdup(event);
        if (!x || !x->event) {
                free(x);
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv(k, -ENOMEM, __func__);
        }
        x->next = NULL;
        x->fn = NULL;
        x->dest = dest;
        x->nargs = nargs;
        x->args = (poe_value *)(x + 1);
        pool = (char *)(x->args + nargs);
        poe__values_copy(x->args, args, nargs, &pool);
        pthread_mutex_lock(k->xlock);
        *k->xposts_tail = x;
        k->xposts_tail = &x->next;
        atomic_store(&k->xposts_waiting, true);
        pthread_mutex_unlock(k->xlock);
        /* An eventfd write only fails if the counter would overflow,
         * in which case the loop is already awake. */
        if (write(k->wake_fd, &one, sizeof(one)) < 0) {
                /* nothing to do: see above */
        }
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_run_in_loop(poe_kernel *k, void (*fn)(poe_kernel *k, void *ctx),
                                      void *ctx)
{
        struct poe__xpost *x;
        uint64_t one = 1;

        if (!k || !fn)
                return -EINVAL;
        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->fn = fn;
        x->ctx = ctx;
        pthread_mutex_lock(k->xlock);
        *k->xposts_tail = x;
        k->xposts_tail = &x->next;
        atomic_store(&k->xposts_waiting, true);
        pthread_mutex_unlock(k->xlock);
        if (write(k->wake_fd, &one, sizeof(one)) < 0) {
                /* the counter is full: the loop is awake already */
        }
        return 0;
}

/* Moves cross-thread posts into the queue, in the order they were made. */
static void take_xposts(poe_kernel *k)
{
        struct poe__xpost *x;
        uint64_t n;

        /* The eventfd is drained only when the backend saw it readable,
         * and the list taken only when a post is waiting: neither costs
         * a busy kernel anything (a syscall or a lock) per timeslice. */
        if (k->wake_ready) {
                k->wake_ready = false;
                if (read(k->wake_fd, &n, sizeof(n)) < 0) {
                        /* EAGAIN: drained already */
                }
        }
        if (!atomic_load(&k->xposts_waiting))
                return;
        pthread_mutex_lock(k->xlock);
        x = k->xposts;
        k->xposts = NULL;
        k->xposts_tail = &k->xposts;
        atomic_store(&k->xposts_waiting, false);
        pthread_mutex_unlock(k->xlock);
        while (x) {
                struct poe__xpost *next = x->next;
                poe__session *s;

                if (x->fn) {
                        x->fn(k, x->ctx);
                        free(x);
                        x = next;
                        continue;
                }
                s = poe__session_get(k, x->dest);
                uint32_t name = poe__intern(k, x->event);
                poe__event *ev = NULL;

                if (!s)
                        poe__warn(k, "<ev> post_from_thread: session %llu does not exist; "
                                     "event '%s' dropped\n",
                                  (unsigned long long)x->dest, x->event);
                else if (name == POE__NO_NAME || !(ev = poe__event_new(k, x->args, x->nargs)))
                        poe__warn(k, "<ev> post_from_thread: out of memory; event '%s' "
                                     "for session %llu dropped\n",
                                  x->event, (unsigned long long)x->dest);
                if (ev) {
                        poe__enqueue(k, ev, s, k->ksession, name, POE__ET_POST,
                                     poe__kfile(k, __FILE__), __LINE__);
                        xpost_free(x, false); /* the event owns the pointers now */
                } else {
                        xpost_free(x, true);
                }
                x = next;
        }
}

static bool xposts_pending(poe_kernel *k)
{
        return atomic_load(&k->xposts_waiting);
}

/*
 * How long the loop may sleep before something is due: 0 when posted
 * events, thread posts or caught signals wait, the time to the next
 * timer (or child poll, or retry) otherwise, and -1 (no limit) when only
 * I/O or another thread can make something happen.  Nanoseconds on the
 * kernel's clock (the fake one in tests).
 */
int64_t poe__loop_timeout(poe_kernel *k)
{
        int64_t timeout = -1;
        poe__event *head = poe__queue_head(k);

        if (head) {
                timeout = head->type & POE__ET_ALARM ? head->due - poe__mono(k) : 0;
                if (timeout < 0)
                        timeout = 0;
        }
        if (xposts_pending(k) || poe__os_signals_pending(k) || k->wake_ready || k->sig_ready)
                timeout = 0;
        if (k->retry_soon && (timeout < 0 || timeout > 10000000))
                timeout = 10000000;
        if (k->chld_poll_due >= 0) {
                int64_t t = k->chld_poll_due - poe__mono(k);

                if (t < 0)
                        t = 0;
                if (timeout < 0 || t < timeout)
                        timeout = t;
        }
        return timeout;
}

/* The backend's wait (the host backend's is the owned loop's iteration),
 * or, once a host asked an owned kernel for its fd, a sleep in the owned
 * loop followed by the epoll set's look at what is ready. */
static int backend_wait(poe_kernel *k, int64_t timeout)
{
        if (!k->owned || k->loop == &poe__loop_host || timeout == 0)
                return k->loop->wait(k, timeout);
        return poe__owned_wait(k, timeout);
}

/*
 * POE::Loop's wait step, for the kernel's own run loop (block) and for a
 * host loop's poe_kernel_dispatch (!block: the host has done the
 * sleeping, so every fd is only polled).  With the fake clock, a blocking
 * wait polls I/O without waiting and, if nothing is ready, time jumps to
 * the next timer; a host loop moves the fake clock itself.
 */
void poe__loop_wait(poe_kernel *k, bool block)
{
        int64_t timeout = block ? poe__loop_timeout(k) : 0;
        int err;

        k->retry_soon = false;
        /* The trace log's counts are current, and what it holds seen by
         * its writer, while the kernel sleeps. */
        if (timeout != 0)
                poe__trace_slot_idle(k);
        if (k->fake_clock && timeout != 0) {
                poe__event *head = poe__queue_head(k);
                size_t ready;

                err = backend_wait(k, 0);
                ready = k->n_ready[0] + k->n_ready[1] + k->n_ready[2];
                if (err >= 0 && !ready && head)
                        poe__clock_jump(k, head->due);
                else if (err >= 0 && !ready && timeout > 0)
                        /* No event, but a retry or a child poll is due:
                         * blocking would wait for nothing forever. */
                        poe__clock_jump(k, poe__mono(k) + timeout);
                else if (err >= 0 && !ready && !head && !xposts_pending(k))
                        err = backend_wait(k, -1); /* only I/O or threads remain */
        } else if (block && timeout == 0 && k->n_watched_fds == 0) {
                /* Events are due and no application fd is watched: the
                 * kernel's own fds (wake-ups, signals) are read through
                 * atomic flags instead, so no syscall is needed.  Not for
                 * a host loop, which polls the epoll set and would find it
                 * readable forever if the wake-up fds were never drained. */
                err = 0;
        } else {
                err = backend_wait(k, timeout);
        }
        if (POE__ON(k, POE_TRACE_FILES | POE_ASSERT_FILES)) {
                POE_TRACE_HOT(k, POE_TRACE_FILES, POE_TK_WAIT, NULL, POE__NO_NAME, NULL, NULL, 0,
                              0, k->loop_name, (int64_t)k->n_ready[0], (int64_t)k->n_ready[1],
                              (int64_t)k->n_ready[2],
                              timeout < 0 ? -1.0 : (double)timeout / 1e9);
                POE_ASSERT(k, POE_ASSERT_FILES, err >= 0 || err == -EINTR, "%s wait error: %s",
                           poe_kernel_loop_name(k), strerror(-err));
        }
        if (err < 0 && err != -EINTR)
                poe__warn(k, "<fh> %s wait failed: %s\n", poe_kernel_loop_name(k),
                          strerror(-err));
        take_xposts(k);
        /* Each only when it has something to do: a call apiece per
         * wake-up otherwise. */
        if (k->sig_ready || poe__os_signals_pending(k))
                poe__os_signals_deliver(k);
        if (k->chld_poll_due >= 0)
                poe__children_poll(k);
}

/*
 * Makes the backend anew, as ops, and registers every watched fd with it
 * again: after fork, in the child, where the epoll set and the wake-up
 * eventfd are shared with the parent (fresh_wake), and when a host loop
 * asks a select, poll or owned-loop kernel for an fd (poe_kernel_get_fd).
 */
int poe__loop_rebuild(poe_kernel *k, const poe__loop_ops *ops, bool fresh_wake)
{
        const poe__loop_ops *old_ops = k->loop;
        void *old = k->loop_data, *fresh;
        int fd, err;

        /* The new backend is made before the old one goes, so that a
         * failure (no memory, no fd) leaves the kernel a working loop. */
        k->loop_data = NULL;
        err = ops->init(k);
        if (err < 0) {
                k->loop_data = old;
                return err;
        }
        fresh = k->loop_data;
        k->loop_data = old;
        old_ops->fini(k);
        k->loop_data = fresh;
        k->loop = ops;
        if (fresh_wake) {
                if (k->wake_fd >= 0)
                        close(k->wake_fd);
                k->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
                if (k->wake_fd < 0)
                        return -errno;
        }
        err = k->loop->update(k, k->wake_fd, 0, POE__IO_BIT(POE__MODE_RD));
        if (err == 0 && k->sig_pipe[0] >= 0)
                err = k->loop->update(k, k->sig_pipe[0], 0, POE__IO_BIT(POE__MODE_RD));
        for (fd = 0; err == 0 && fd < k->n_fds_cap; fd++)
                if (k->fds[fd] && k->fds[fd]->mask)
                        err = k->loop->update(k, fd, 0, k->fds[fd]->mask);
        if (err == 0 && k->owned && ops != &poe__loop_host)
                err = poe__owned_watch_epoll(k);
        if (err == 0 && ops != old_ops && !k->owned) {
                uint32_t name = poe__intern(k, ops->name);

                if (name != POE__NO_NAME)
                        k->loop_name = name;
        }
        return err;
}

/* The owned loop's fix-ups come first: they forget the parent's
 * watches, which the rebuild then makes anew in the child's loop. */
int poe__loop_forked(poe_kernel *k)
{
        int err = poe__owned_forked(k);

        return err < 0 ? err : poe__loop_rebuild(k, k->loop, true);
}

/* ---- the external-loop API ---- */

POE_EXPORT int poe_kernel_get_fd(poe_kernel *k)
{
        int err;

        POE_ASSERT_RETURN(k, -EINVAL);
        if (!k->loop->fd) {
                /* select and poll have no fd of their own to give. */
                err = poe__loop_rebuild(k, &poe__loop_epoll, false);
                if (err < 0)
                        return err;
        }
        return k->loop->fd(k);
}

POE_EXPORT int poe_kernel_prepare(poe_kernel *k, int64_t *ret_timeout_ns)
{
        POE_ASSERT_RETURN(k, -EINVAL);
        POE_ASSERT_RETURN(k->dispatch_depth == 0, -EPERM);
        if (!k->ksession->alive || k->n_sessions == 0) {
                if (ret_timeout_ns)
                        *ret_timeout_ns = -1;
                return 0;
        }
        /* The host runs the kernel as run() would: IDLE is followed by
         * ZOMBIE, so sessions with nothing to wait for are stopped. */
        k->kernel_watches_idle = true;
        /* POE checks for idleness before each wait: IDLE, if raised, is
         * a posted event, and the host must not sleep past it. */
        poe__test_if_idle(k);
        poe__trace_slot_idle(k); /* the host may sleep now */
        if (ret_timeout_ns)
                *ret_timeout_ns = poe__loop_timeout(k);
        return 1;
}
