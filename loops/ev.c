/*
 * libpoe-ev: the kernel on an ev_loop (poe/poe-ev.h), and the loop a
 * kernel made with POE_EVENT_LOOP=ev owns (owned-loop.h).
 *
 * libev runs prepare watchers just before it computes how long to block,
 * so the prepare watcher sets the timer to the kernel's next deadline
 * (poe_kernel_prepare); the io watcher on the kernel's epoll set reports
 * I/O, signals and other threads' posts.  Either runs the dispatch.
 * The prepare watcher, which should not keep ev_run() going, is
 * ev_unref'd, libev's idiom, and ev_ref'd again before it is stopped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "owned-loop.h"
#include "poe/poe-ev.h"

struct poe_ev {
        poe_kernel *k;
        struct ev_loop *loop;
        ev_io io;
        ev_timer timer;
        ev_prepare prepare;
};

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
        poe_ev *h = w->data;

        (void)loop;
        (void)revents;
        (void)poe_kernel_dispatch(h->k); /* errors stay in the kernel */
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
        poe_ev *h = w->data;

        (void)loop;
        (void)revents;
        (void)poe_kernel_dispatch(h->k);
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
        poe_ev *h = w->data;
        int64_t ns = -1;
        int alive = poe_kernel_prepare(h->k, &ns);

        (void)revents;
        /* No sessions (or inside a handler, a nested ev_run): the fd is
         * not watched, which stops holding ev_run() up, as run() would
         * return, and keeps an fd that stays readable (a wake-up nobody
         * takes) from spinning the loop. */
        if (alive == 1 && !ev_is_active(&h->io))
                ev_io_start(loop, &h->io);
        else if (alive != 1 && ev_is_active(&h->io))
                ev_io_stop(loop, &h->io);
        ev_timer_stop(loop, &h->timer);
        if (alive == 1 && ns >= 0) {
                /* libev's timers take seconds from ev_now, the loop's
                 * cached time, brought up to date first so the timer
                 * does not fire before the kernel's deadline. */
                ev_now_update(loop);
                ev_timer_set(&h->timer, (double)ns / 1e9, 0.);
                ev_timer_start(loop, &h->timer);
        }
}

POE_EXPORT int poe_ev_attach(poe_kernel *k, struct ev_loop *loop, poe_ev **ret_attachment)
{
        poe_ev *h;
        int fd;

        if (!k || !loop || !ret_attachment)
                return -EINVAL;
        fd = poe_kernel_get_fd(k);
        if (fd < 0)
                return fd;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->k = k;
        h->loop = loop;
        ev_io_init(&h->io, on_io, fd, EV_READ);
        ev_timer_init(&h->timer, on_timer, 0., 0.);
        ev_prepare_init(&h->prepare, on_prepare);
        h->io.data = h->timer.data = h->prepare.data = h;
        ev_io_start(loop, &h->io);
        ev_prepare_start(loop, &h->prepare);
        ev_unref(loop); /* the prepare watcher's */
        *ret_attachment = h;
        return 0;
}

POE_EXPORT poe_ev *poe_ev_detach(poe_ev *h)
{
        if (!h)
                return NULL;
        ev_ref(h->loop);
        ev_prepare_stop(h->loop, &h->prepare);
        ev_io_stop(h->loop, &h->io);
        ev_timer_stop(h->loop, &h->timer);
        free(h);
        return NULL;
}

/* ---- the loop a kernel owns (POE_EVENT_LOOP=ev) ---- */

/* An fd's watcher, by fd: an ev_io in the kernel's modes. */
typedef struct owned_io {
        ev_io io;
        struct owned *o;
} owned_io;

typedef struct owned {
        struct ev_loop *loop;
        poe__owned_ready_fn *ready;
        void *kernel;
        owned_io **ios; /* by fd, NULL when not watched */
        int cap;
        ev_timer timer;
} owned;

static void owned_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
        owned_io *oi = (owned_io *)w;
        owned *o = oi->o;

        (void)loop;
        /* A bad fd (closed while watched): libev has stopped the watcher;
         * nothing is reported, as the epoll backend reports nothing for
         * an fd closed in its set. */
        if (revents & EV_ERROR)
                return;
        if (revents & EV_READ)
                o->ready(o->kernel, w->fd, POE__OWNED_RD);
        if (revents & EV_WRITE)
                o->ready(o->kernel, w->fd, POE__OWNED_WR);
}

static void owned_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
        (void)loop;
        (void)w;
        (void)revents;
}

static void *owned_open(poe__owned_ready_fn *ready, void *kernel)
{
        /* Not the default loop, whose SIGCHLD watcher would reap the
         * kernel's children. */
        owned *o = calloc(1, sizeof(*o));

        if (!o)
                return NULL;
        o->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (!o->loop) {
                free(o);
                return NULL;
        }
        o->ready = ready;
        o->kernel = kernel;
        ev_timer_init(&o->timer, owned_timeout, 0., 0.);
        return o;
}

static int owned_watch(void *loop, int fd, unsigned old_mask, unsigned new_mask)
{
        owned *o = loop;
        owned_io *oi = fd < o->cap ? o->ios[fd] : NULL;
        int events = (new_mask & (1u << POE__OWNED_RD) ? EV_READ : 0) |
                     (new_mask & (1u << POE__OWNED_WR) ? EV_WRITE : 0);

        (void)old_mask;
        if (oi && (!new_mask || (new_mask & (1u << POE__OWNED_EX)))) {
                ev_io_stop(o->loop, &oi->io);
                free(oi);
                o->ios[fd] = NULL;
        }
        /* libev has no exceptional condition: the kernel's epoll set. */
        if (new_mask & (1u << POE__OWNED_EX))
                return -EOPNOTSUPP;
        if (!new_mask)
                return 0;
        if (fd >= o->cap) {
                int cap = o->cap ? o->cap : 64;
                owned_io **v;

                while (cap <= fd)
                        cap *= 2;
                v = realloc(o->ios, (size_t)cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                for (int i = o->cap; i < cap; i++)
                        v[i] = NULL;
                o->ios = v;
                o->cap = cap;
        }
        if (!oi) {
                oi = calloc(1, sizeof(*oi));
                if (!oi)
                        return -ENOMEM;
                oi->o = o;
                ev_init(&oi->io, owned_on_io);
                o->ios[fd] = oi;
                ev_io_set(&oi->io, fd, events);
        } else {
                /* Stopped and started again on the same fd: libev makes
                 * it one change of the fd's epoll registration (and an
                 * ADD if the number now names another file). */
                ev_io_stop(o->loop, &oi->io);
                ev_io_modify(&oi->io, events);
        }
        ev_io_start(o->loop, &oi->io);
        return 0;
}

static int owned_iterate(void *loop, int64_t timeout_ns)
{
        owned *o = loop;

        if (timeout_ns == 0) {
                ev_run(o->loop, EVRUN_NOWAIT);
                return 0;
        }
        if (timeout_ns > 0) {
                /* libev's timers count from ev_now, the time cached at
                 * its last wake-up: brought up to date, so the timer does
                 * not fire before the kernel's deadline. */
                ev_now_update(o->loop);
                ev_timer_set(&o->timer, (double)timeout_ns / 1e9, 0.);
                ev_timer_start(o->loop, &o->timer);
        }
        ev_run(o->loop, EVRUN_ONCE);
        if (timeout_ns > 0)
                ev_timer_stop(o->loop, &o->timer);
        return 0;
}

/* Every fd watcher forgotten: after ev_loop_fork, stopping one would only
 * touch the child's new epoll set, but the kernel watches each anew. */
static void drop_all(owned *o)
{
        for (int fd = 0; fd < o->cap; fd++) {
                if (!o->ios[fd])
                        continue;
                ev_io_stop(o->loop, &o->ios[fd]->io);
                free(o->ios[fd]);
                o->ios[fd] = NULL;
        }
}

static int owned_forked(void *loop)
{
        owned *o = loop;

        /* libev makes its epoll set anew at the next iteration; the
         * watchers stopped now are not taken into it. */
        ev_loop_fork(o->loop);
        drop_all(o);
        return 0;
}

static void owned_close(void *loop)
{
        owned *o = loop;

        drop_all(o);
        free(o->ios);
        ev_timer_stop(o->loop, &o->timer);
        ev_loop_destroy(o->loop);
        free(o);
}

static void *owned_native(void *loop)
{
        return ((owned *)loop)->loop;
}

static const poe__owned_ops owned_ops = {
        .version = POE__OWNED_VERSION,
        .name = "ev",
        .open = owned_open,
        .watch = owned_watch,
        .iterate = owned_iterate,
        .forked = owned_forked,
        .close = owned_close,
        .native = owned_native,
};

/* A function rather than the table itself: an exported variable gets
 * sanitizer companions (__odr_asan.*) outside the poe_ namespace. */
POE_EXPORT const poe__owned_ops *poe_ev_owned_v2(void)
{
        return &owned_ops;
}
