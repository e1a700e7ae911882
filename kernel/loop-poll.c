/*
 * The poll backend: an array of pollfd, with each fd's slot recorded so
 * that a change is O(1) (removal swaps the last slot in).  Each wait is
 * O(watched fds).
 */
#include <poll.h>
#include <string.h>

#include "internal.h"
#include "io.h"

struct poll_data {
        struct pollfd *pfd;
        int n, cap;
        int *slot; /* fd -> index in pfd, or -1 */
        int slot_cap;
};

static int poll_init(poe_kernel *k)
{
        struct poll_data *d = poe__calloc(k, 1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        k->loop_data = d;
        return 0;
}

static void poll_fini(poe_kernel *k)
{
        struct poll_data *d = k->loop_data;

        poe__free(k, d->pfd);
        poe__free(k, d->slot);
        poe__free(k, d);
        k->loop_data = NULL;
}

static short to_poll(unsigned mask)
{
        return (short)((mask & POE__IO_BIT(POE__MODE_RD) ? POLLIN : 0) |
                       (mask & POE__IO_BIT(POE__MODE_WR) ? POLLOUT : 0) |
                       (mask & POE__IO_BIT(POE__MODE_EX) ? POLLPRI : 0));
}

static int poll_update(poe_kernel *k, int fd, unsigned old_mask, unsigned new_mask)
{
        struct poll_data *d = k->loop_data;
        int i;

        if (fd >= d->slot_cap) {
                int cap = d->slot_cap ? d->slot_cap : 64;
                int *v;

                while (cap <= fd)
                        cap *= 2;
                v = poe__realloc(k, d->slot, (size_t)cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                for (i = d->slot_cap; i < cap; i++)
                        v[i] = -1;
                d->slot = v;
                d->slot_cap = cap;
        }
        i = d->slot[fd];
        if (!new_mask) {
                if (i >= 0) {
                        d->pfd[i] = d->pfd[--d->n];
                        d->slot[d->pfd[i].fd] = i;
                        d->slot[fd] = -1;
                }
                return 0;
        }
        if (i < 0) {
                if (d->n == d->cap) {
                        int cap = d->cap ? d->cap * 2 : 64;
                        struct pollfd *v = poe__realloc(k, d->pfd, (size_t)cap * sizeof(*v));

                        if (!v)
                                return -ENOMEM;
                        d->pfd = v;
                        d->cap = cap;
                }
                i = d->n++;
                d->slot[fd] = i;
                d->pfd[i].fd = fd;
        }
        d->pfd[i].events = to_poll(new_mask);
        d->pfd[i].revents = 0;
        (void)old_mask;
        return 0;
}

static int poll_wait(poe_kernel *k, int64_t timeout_ns)
{
        struct poll_data *d = k->loop_data;
        int ms, n, i, bad = 0;

        ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
        if (timeout_ns > (int64_t)3600 * 1000000000)
                ms = 3600 * 1000;
        n = poll(d->pfd, (nfds_t)d->n, ms);
        if (n < 0)
                return -errno;
        for (i = 0; i < d->n && n > 0; i++) {
                short e = d->pfd[i].revents;

                if (!e)
                        continue;
                if (e & POLLNVAL) {
                        bad = 1;
                        continue;
                }
                if (e & (POLLIN | POLLHUP | POLLERR))
                        poe__io_ready(k, d->pfd[i].fd, POE__MODE_RD);
                if (e & (POLLOUT | POLLHUP | POLLERR))
                        poe__io_ready(k, d->pfd[i].fd, POE__MODE_WR);
                if (e & POLLPRI)
                        poe__io_ready(k, d->pfd[i].fd, POE__MODE_EX);
        }
        /* Closed fds are dealt with after the scan, which they change. */
        for (i = d->n - 1; bad && i >= 0; i--)
                if (d->pfd[i].revents & POLLNVAL)
                        poe__io_bad(k, d->pfd[i].fd);
        return n;
}

const poe__loop_ops poe__loop_poll = {
        .version = POE__LOOP_OPS_VERSION,
        .name = "poll",
        .init = poll_init,
        .fini = poll_fini,
        .update = poll_update,
        .wait = poll_wait,
};
