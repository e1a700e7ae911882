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

typedef struct owned {
        uv_loop_t loop;
        uv_poll_t *poll;
        uv_timer_t timer;
} owned;

static void owned_on_poll(uv_poll_t *p, int status, int events)
{
        /* Only a wake-up: the kernel reads its epoll set itself. */
        (void)p;
        (void)status;
        (void)events;
}

/* The kernel's deadline: the iteration must not sleep after it.  A timer
 * that fires before the poll (libuv runs timers first, and time passes
 * between start and run) would otherwise leave the poll to block with no
 * timeout at all; uv_stop makes it not block, for this run only. */
static void owned_on_timer(uv_timer_t *t)
{
        uv_stop(t->loop);
}

static int owned_watch(owned *o, int fd)
{
        int err;

        o->poll = malloc(sizeof(*o->poll));
        if (!o->poll)
                return -ENOMEM;
        err = uv_poll_init(&o->loop, o->poll, fd);
        if (err < 0) {
                free(o->poll);
                o->poll = NULL;
                return err;
        }
        return uv_poll_start(o->poll, UV_READABLE, owned_on_poll);
}

static void *owned_open(int fd)
{
        owned *o = calloc(1, sizeof(*o));

        if (!o || uv_loop_init(&o->loop) < 0) {
                free(o);
                return NULL;
        }
        uv_timer_init(&o->loop, &o->timer);
        if (owned_watch(o, fd) < 0) {
                uv_close((uv_handle_t *)&o->timer, NULL);
                uv_run(&o->loop, UV_RUN_NOWAIT);
                uv_loop_close(&o->loop);
                free(o);
                return NULL;
        }
        return o;
}

static int owned_iterate(void *loop, int64_t timeout_ns)
{
        owned *o = loop;

        /* From now, not from the loop's time cached at its last run. */
        uv_update_time(&o->loop);
        if (timeout_ns >= 0)
                uv_timer_start(&o->timer, owned_on_timer, ms_up(timeout_ns), 0);
        uv_run(&o->loop, UV_RUN_ONCE);
        uv_timer_stop(&o->timer);
        return 0;
}

static void free_handle(uv_handle_t *handle)
{
        free(handle);
}

static int owned_forked(void *loop, int fd)
{
        owned *o = loop;
        int err;

        /* Stopped before libuv makes its own epoll set anew, so the old
         * fd (closed by now) is not registered again. */
        uv_poll_stop(o->poll);
        err = uv_loop_fork(&o->loop);
        if (err < 0)
                return err;
        uv_close((uv_handle_t *)o->poll, free_handle);
        return owned_watch(o, fd);
}

static void owned_close(void *loop)
{
        owned *o = loop;

        uv_close((uv_handle_t *)o->poll, free_handle);
        uv_close((uv_handle_t *)&o->timer, NULL);
        /* The close callbacks run; then every handle of the program's
         * own must have been closed too (libuv's rule). */
        uv_run(&o->loop, UV_RUN_NOWAIT);
        (void)uv_loop_close(&o->loop);
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
        .iterate = owned_iterate,
        .forked = owned_forked,
        .close = owned_close,
        .native = owned_native,
};

/* A function rather than the table itself: an exported variable gets
 * sanitizer companions (__odr_asan.*) outside the poe_ namespace. */
POE_EXPORT const poe__owned_ops *poe_uv_owned_v1(void)
{
        return &owned_ops;
}
