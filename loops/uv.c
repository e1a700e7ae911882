/*
 * libpoe-uv: the kernel on a uv_loop_t (poe/poe-uv.h), and the loop a
 * kernel made with POE_EVENT_LOOP=uv owns (owned-loop.h).
 *
 * libuv runs prepare handles after timers and before it computes how
 * long to poll, so the prepare handle sets the timer to the kernel's next
 * deadline (poe_kernel_prepare) just in time: a deadline of 0 makes a
 * timer already due, and the poll does not sleep.  The poll handle on
 * the kernel's epoll set (nested epoll is supported by Linux) reports
 * I/O, signals and other threads' posts.  Either runs the dispatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>

#include "owned-loop.h"
#include "poe/poe-uv.h"

struct poe_uv {
        poe_kernel *k;
        uv_poll_t poll;
        uv_timer_t timer;
        uv_prepare_t prepare;
        int open_handles; /* freed when the last close callback has run */
};

/* Milliseconds for a libuv timer, rounded up so it never fires early. */
static uint64_t ms_up(int64_t ns)
{
        return (uint64_t)((ns + 999999) / 1000000);
}

static void on_dispatch(poe_uv *h)
{
        (void)poe_kernel_dispatch(h->k); /* errors stay in the kernel */
}

static void on_poll(uv_poll_t *p, int status, int events)
{
        (void)status;
        (void)events;
        on_dispatch(p->data);
}

static void on_timer(uv_timer_t *t)
{
        on_dispatch(t->data);
}

static void on_prepare(uv_prepare_t *p)
{
        poe_uv *h = p->data;
        int64_t ns = -1;
        int alive = poe_kernel_prepare(h->k, &ns);

        /* No sessions (or inside a handler, a nested run): the fd is not
         * watched, which stops holding the loop up, as run() would
         * return, and keeps an fd that stays readable (a wake-up nobody
         * takes) from spinning the loop. */
        if (alive == 1)
                uv_poll_start(&h->poll, UV_READABLE, on_poll);
        else
                uv_poll_stop(&h->poll);
        if (alive == 1 && ns >= 0)
                uv_timer_start(&h->timer, on_timer, ms_up(ns), 0);
        else
                uv_timer_stop(&h->timer);
}

POE_EXPORT int poe_uv_attach(poe_kernel *k, uv_loop_t *loop, poe_uv **ret_attachment)
{
        poe_uv *h;
        int fd, err;

        if (!k || !loop || !ret_attachment)
                return -EINVAL;
        fd = poe_kernel_get_fd(k);
        if (fd < 0)
                return fd;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->k = k;
        err = uv_poll_init(loop, &h->poll, fd);
        if (err < 0) {
                free(h);
                return err;
        }
        uv_timer_init(loop, &h->timer);
        uv_prepare_init(loop, &h->prepare);
        h->poll.data = h->timer.data = h->prepare.data = h;
        h->open_handles = 3;
        uv_poll_start(&h->poll, UV_READABLE, on_poll);
        uv_prepare_start(&h->prepare, on_prepare);
        /* The prepare handle alone must not keep the loop running. */
        uv_unref((uv_handle_t *)&h->prepare);
        *ret_attachment = h;
        return 0;
}

static void on_closed(uv_handle_t *handle)
{
        poe_uv *h = handle->data;

        if (--h->open_handles == 0)
                free(h);
}

POE_EXPORT poe_uv *poe_uv_detach(poe_uv *h)
{
        if (!h)
                return NULL;
        uv_close((uv_handle_t *)&h->poll, on_closed);
        uv_close((uv_handle_t *)&h->timer, on_closed);
        uv_close((uv_handle_t *)&h->prepare, on_closed);
        return NULL;
}

/* ---- the loop a kernel owns (POE_EVENT_LOOP=uv) ---- */

/* An fd's poll handle, in the kernel's modes. */
typedef struct owned_poll {
        uv_poll_t poll;
        struct owned *o;
        int fd;
        int events;  /* UV_READABLE | UV_WRITABLE | UV_PRIORITIZED */
        bool queued; /* in the to-start list */
        struct owned_poll *next_queued;
} owned_poll;

typedef struct owned {
        uv_loop_t loop;
        poe__owned_ready_fn *ready;
        void *kernel;
        owned_poll **polls; /* by fd, NULL when not watched */
        int cap;
        /* Handles to (re)start at the next iteration: new, changed, or
         * stopped by libuv after an error. */
        owned_poll *queued;
        uv_timer_t timer;
} owned;

static void queue_start(owned *o, owned_poll *p)
{
        if (p->queued)
                return;
        p->queued = true;
        p->next_queued = o->queued;
        o->queued = p;
}

static void owned_on_poll(uv_poll_t *handle, int status, int events)
{
        owned_poll *p = (owned_poll *)handle;
        owned *o = p->o;

        if (status < 0) {
                /* POLLERR: libuv has stopped the handle.  The fd is ready
                 * in its modes, as select(2) reports an fd in error, and
                 * is watched again next iteration (level-triggered). */
                events = p->events;
                queue_start(o, p);
        }
        if (events & UV_READABLE)
                o->ready(o->kernel, p->fd, POE__OWNED_RD);
        if (events & UV_WRITABLE)
                o->ready(o->kernel, p->fd, POE__OWNED_WR);
        if (events & UV_PRIORITIZED)
                o->ready(o->kernel, p->fd, POE__OWNED_EX);
}

/* The kernel's deadline: the iteration must not sleep after it.  A timer
 * that fires before the poll (libuv runs timers first, and time passes
 * between start and run) would otherwise leave the poll to block with no
 * timeout at all; uv_stop makes it not block, for this run only. */
static void owned_on_timer(uv_timer_t *t)
{
        uv_stop(t->loop);
}

static void *owned_open(poe__owned_ready_fn *ready, void *kernel)
{
        owned *o = calloc(1, sizeof(*o));

        if (!o || uv_loop_init(&o->loop) < 0) {
                free(o);
                return NULL;
        }
        o->ready = ready;
        o->kernel = kernel;
        uv_timer_init(&o->loop, &o->timer);
        return o;
}

static void free_handle(uv_handle_t *handle)
{
        free(handle);
}

static void poll_close(owned *o, owned_poll *p)
{
        owned_poll **pp;

        for (pp = &o->queued; p->queued && *pp; pp = &(*pp)->next_queued) {
                if (*pp == p) {
                        *pp = p->next_queued;
                        break;
                }
        }
        o->polls[p->fd] = NULL;
        uv_close((uv_handle_t *)&p->poll, free_handle);
}

static int owned_watch(void *loop, int fd, unsigned old_mask, unsigned new_mask)
{
        owned *o = loop;
        owned_poll *p = fd < o->cap ? o->polls[fd] : NULL;
        int err;

        (void)old_mask;
        if (!new_mask) {
                if (p)
                        poll_close(o, p);
                return 0;
        }
        if (fd >= o->cap) {
                int cap = o->cap ? o->cap : 64;
                owned_poll **v;

                while (cap <= fd)
                        cap *= 2;
                v = realloc(o->polls, (size_t)cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                for (int i = o->cap; i < cap; i++)
                        v[i] = NULL;
                o->polls = v;
                o->cap = cap;
        }
        if (!p) {
                p = calloc(1, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                /* libuv checks the fd here: EPERM for a regular file,
                 * which the kernel's epoll set takes instead. */
                err = uv_poll_init(&o->loop, &p->poll, fd);
                if (err < 0) {
                        free(p);
                        return err;
                }
                p->o = o;
                p->fd = fd;
                o->polls[fd] = p;
        }
        p->events = (new_mask & (1u << POE__OWNED_RD) ? UV_READABLE : 0) |
                    (new_mask & (1u << POE__OWNED_WR) ? UV_WRITABLE : 0) |
                    (new_mask & (1u << POE__OWNED_EX) ? UV_PRIORITIZED : 0);
        queue_start(o, p);
        return 0;
}

/*
 * The handles changed since the last iteration start now, just before
 * libuv registers them in its epoll set, each stopped first so that the
 * registration is an ADD: libuv aborts on a failed epoll_ctl, and a MOD
 * fails when the fd was closed and its number reused.  An fd closed
 * while watched is not registered at all (an ADD would fail): the
 * kernel hears nothing of it, as with its own epoll set.
 */
static void start_queued(owned *o)
{
        while (o->queued) {
                owned_poll *p = o->queued;

                o->queued = p->next_queued;
                p->queued = false;
                uv_poll_stop(&p->poll);
                if (fcntl(p->fd, F_GETFD) >= 0)
                        uv_poll_start(&p->poll, p->events, owned_on_poll);
        }
}

static int owned_iterate(void *loop, int64_t timeout_ns)
{
        owned *o = loop;

        start_queued(o);
        if (timeout_ns == 0) {
                uv_run(&o->loop, UV_RUN_NOWAIT);
                return 0;
        }
        if (timeout_ns > 0) {
                /* From now, not from the loop's time cached at its last run. */
                uv_update_time(&o->loop);
                uv_timer_start(&o->timer, owned_on_timer, ms_up(timeout_ns), 0);
        }
        uv_run(&o->loop, UV_RUN_ONCE);
        if (timeout_ns > 0)
                uv_timer_stop(&o->timer);
        return 0;
}

static void close_all(owned *o)
{
        for (int fd = 0; fd < o->cap; fd++)
                if (o->polls[fd])
                        poll_close(o, o->polls[fd]);
}

static int owned_forked(void *loop)
{
        owned *o = loop;
        int err;

        /* libuv's new epoll set first: the handles closed after it leave
         * that one, not the set the parent shares. */
        err = uv_loop_fork(&o->loop);
        close_all(o);
        return err;
}

static void owned_close(void *loop)
{
        owned *o = loop;

        close_all(o);
        uv_close((uv_handle_t *)&o->timer, NULL);
        /* The close callbacks run; then every handle of the program's
         * own must have been closed too (libuv's rule). */
        uv_run(&o->loop, UV_RUN_NOWAIT);
        (void)uv_loop_close(&o->loop);
        free(o->polls);
        free(o);
}

static void *owned_native(void *loop)
{
        return &((owned *)loop)->loop;
}

static const poe__owned_ops owned_ops = {
        .version = POE__OWNED_VERSION,
        .name = "uv",
        .open = owned_open,
        .watch = owned_watch,
        .iterate = owned_iterate,
        .forked = owned_forked,
        .close = owned_close,
        .native = owned_native,
};

/* A function rather than the table itself: an exported variable gets
 * sanitizer companions (__odr_asan.*) outside the poe_ namespace. */
POE_EXPORT const poe__owned_ops *poe_uv_owned_v2(void)
{
        return &owned_ops;
}
