/*
 * The epoll backend (Linux), level-triggered, so that a ready fd nobody
 * read is reported again, as select and poll would.  O(1) per change and
 * O(ready) per wait; the default.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "io.h"

/* A regular file (or another fd epoll refuses with EPERM) and the modes
 * it is watched in: always ready, as select(2) and poll(2) report such
 * files and as POE's loops treat them (t/20_resources/00_base/
 * filehandles.pm watches its own script).  Few, so a plain array. */
struct epoll_file {
        int fd;
        unsigned mask;
};

struct epoll_state {
        int fd;
        int cap;
        struct epoll_event *events;
        struct epoll_file *files;
        int n_files, cap_files;
        /* An eventfd kept readable and in the set while there are files,
         * so that epoll_wait returns at once and the epoll fd itself is
         * readable for a host loop (the contract of .fd); -1 until the
         * first file. */
        int ready_fd;
};

static int epoll_init(poe_kernel *k)
{
        struct epoll_state *d = poe__calloc(k, 1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->fd = epoll_create1(EPOLL_CLOEXEC);
        d->ready_fd = -1;
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
        if (d->ready_fd >= 0)
                close(d->ready_fd);
        poe__free(k, d->events);
        poe__free(k, d->files);
        poe__free(k, d);
        k->loop_data = NULL;
}

static uint32_t to_epoll(unsigned mask)
{
        return (mask & POE__IO_BIT(POE__MODE_RD) ? EPOLLIN : 0) |
               (mask & POE__IO_BIT(POE__MODE_WR) ? EPOLLOUT : 0) |
               (mask & POE__IO_BIT(POE__MODE_EX) ? EPOLLPRI : 0);
}

/* The ready eventfd in the set (on) or out of it. */
static int ready_set(struct epoll_state *d, int on)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = -1};

        if (d->ready_fd < 0) {
                uint64_t one = 1;

                d->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (d->ready_fd < 0 || write(d->ready_fd, &one, sizeof(one)) != sizeof(one))
                        return -errno;
        }
        if (epoll_ctl(d->fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, d->ready_fd, &ev) < 0)
                return -errno;
        return 0;
}

/* Watches or unwatches an always-ready fd: 1 if fd is one, 0 if not,
 * -errno. */
static int file_update(poe_kernel *k, struct epoll_state *d, int fd, unsigned new_mask, int add)
{
        for (int i = 0; i < d->n_files; i++) {
                if (d->files[i].fd != fd)
                        continue;
                if (new_mask) {
                        d->files[i].mask = new_mask;
                } else {
                        d->files[i] = d->files[--d->n_files];
                        if (!d->n_files)
                                ready_set(d, 0);
                }
                return 1;
        }
        if (!add)
                return 0;
        if (!d->n_files) {
                int r = ready_set(d, 1);

                if (r < 0)
                        return r;
        }
        if (d->n_files == d->cap_files) {
                int cap = d->cap_files ? d->cap_files * 2 : 4;
                struct epoll_file *v = poe__realloc(k, d->files, (size_t)cap * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                d->files = v;
                d->cap_files = cap;
        }
        d->files[d->n_files++] = (struct epoll_file){.fd = fd, .mask = new_mask};
        return 1;
}

static int epoll_update(poe_kernel *k, int fd, unsigned old_mask, unsigned new_mask)
{
        struct epoll_state *d = k->loop_data;
        struct epoll_event ev = { .events = to_epoll(new_mask), .data.fd = fd };
        int op = !old_mask ? EPOLL_CTL_ADD : !new_mask ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
        int r;

        if (d->n_files && op != EPOLL_CTL_ADD) {
                r = file_update(k, d, fd, new_mask, 0);
                if (r)
                        return r < 0 ? r : 0;
        }
        r = epoll_ctl(d->fd, op, fd, &ev);

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
                if (op == EPOLL_CTL_ADD && errno == EPERM) {
                        r = file_update(k, d, fd, new_mask, 1);
                        return r < 0 ? r : 0;
                }
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
        /* O(files) per wait: regular files are read and written, never
         * exceptional, as select(2) says of them. */
        for (i = 0; i < d->n_files; i++) {
                if (d->files[i].mask & POE__IO_BIT(POE__MODE_RD))
                        poe__io_ready(k, d->files[i].fd, POE__MODE_RD);
                if (d->files[i].mask & POE__IO_BIT(POE__MODE_WR))
                        poe__io_ready(k, d->files[i].fd, POE__MODE_WR);
        }
        for (i = 0; i < n; i++) {
                uint32_t e = d->events[i].events;
                int fd = d->events[i].data.fd;

                if (fd < 0)
                        continue; /* the ready eventfd: the files, below */

                /* Hang-ups and errors wake readers and writers, as select
                 * reports such an fd readable and writable. */
                if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        poe__io_ready(k, fd, POE__MODE_RD);
                if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                        poe__io_ready(k, fd, POE__MODE_WR);
                if (e & EPOLLPRI)
                        poe__io_ready(k, fd, POE__MODE_EX);
        }
        return n + d->n_files;
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
