/*
 * The epoll backend (Linux), level-triggered, so that a ready fd nobody
 * read is reported again, as select and poll would.  O(1) per change and
 * O(ready) per wait; the default.
 */
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

struct epoll_state {
        int fd;
        int cap;
        struct epoll_event *events;
};

static int epoll_init(poe_kernel *k)
{
        struct epoll_state *d = poe__calloc(k, 1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->fd = epoll_create1(EPOLL_CLOEXEC);
        d->cap = 64;
        d->events = poe__malloc(k, (size_t)d->cap * sizeof(*d->events));
        if (d->fd < 0 || !d->events) {
                int err = d->fd < 0 ? -errno : -ENOMEM;

                if (d->fd >= 0)
                        close(d->fd);
                poe__free(k, d->events);
                poe__free(k, d);
                return err;
        }
        k->loop_data = d;
        return 0;
}

static void epoll_fini(poe_kernel *k)
{
        struct epoll_state *d = k->loop_data;

        close(d->fd);
        poe__free(k, d->events);
        poe__free(k, d);
        k->loop_data = NULL;
}

static uint32_t to_epoll(unsigned mask)
{
        return (mask & POE__IO_BIT(POE__MODE_RD) ? EPOLLIN : 0) |
               (mask & POE__IO_BIT(POE__MODE_WR) ? EPOLLOUT : 0) |
               (mask & POE__IO_BIT(POE__MODE_EX) ? EPOLLPRI : 0);
}

static int epoll_update(poe_kernel *k, int fd, unsigned old_mask, unsigned new_mask)
{
        struct epoll_state *d = k->loop_data;
        struct epoll_event ev = { .events = to_epoll(new_mask), .data.fd = fd };
        int op = !old_mask ? EPOLL_CTL_ADD : !new_mask ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

        int r = epoll_ctl(d->fd, op, fd, &ev);

        /* A watched fd closed without unwatching has left epoll's set by
         * itself, while the kernel still counts it registered: when its
         * number comes back as a new file, a MOD finds nothing (ENOENT)
         * and must be an ADD.  An ADD that finds the number still there
         * (EEXIST) is the reverse, and becomes a MOD. */
        if (r < 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
                r = epoll_ctl(d->fd, EPOLL_CTL_ADD, fd, &ev);
        else if (r < 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
                r = epoll_ctl(d->fd, EPOLL_CTL_MOD, fd, &ev);
        if (r < 0) {
                /* A closed fd has already left the set. */
                if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT))
                        return 0;
                /* Regular files cannot be polled; POE's select would call
                 * them always ready, and so do we (see epoll_wait below). */
                return -errno;
        }
        return 0;
}

static int epoll_wait_(poe_kernel *k, int64_t timeout_ns)
{
        struct epoll_state *d = k->loop_data;
        int ms, n, i;

        /* Round up, so a timer due in 0.5 ms is not polled for in a spin. */
        ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
        if (timeout_ns > (int64_t)3600 * 1000000000)
                ms = 3600 * 1000;
        if (d->cap < (int)k->n_watched_fds + 1 && d->cap < 4096) {
                struct epoll_event *v = poe__realloc(k, d->events, (size_t)d->cap * 2 * sizeof(*v));

                if (v) {
                        d->events = v;
                        d->cap *= 2;
                }
        }
        n = epoll_wait(d->fd, d->events, d->cap, ms);
        if (n < 0)
                return -errno;
        for (i = 0; i < n; i++) {
                uint32_t e = d->events[i].events;
                int fd = d->events[i].data.fd;

                /* Hang-ups and errors wake readers and writers, as select
                 * reports such an fd readable and writable. */
                if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        poe__io_ready(k, fd, POE__MODE_RD);
                if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                        poe__io_ready(k, fd, POE__MODE_WR);
                if (e & EPOLLPRI)
                        poe__io_ready(k, fd, POE__MODE_EX);
        }
        return n;
}

/* The epoll set is itself pollable: readable while any fd in it is
 * ready, which is what a host loop watches (poe_kernel_get_fd). */
static int epoll_backend_fd(poe_kernel *k)
{
        return ((struct epoll_state *)k->loop_data)->fd;
}

const poe__loop_ops poe__loop_epoll = {
        .version = POE__LOOP_OPS_VERSION,
        .name = "epoll",
        .init = epoll_init,
        .fini = epoll_fini,
        .update = epoll_update,
        .wait = epoll_wait_,
        .fd = epoll_backend_fd,
};
