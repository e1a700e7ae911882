/*
 * The select backend, POE::Loop::Select's own: three fd_sets and the
 * highest fd.  fds at or above FD_SETSIZE cannot be watched (-EINVAL).
 * Each wait is O(highest fd).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/select.h>

#include "internal.h"
#include "io.h"

struct select_data {
        fd_set sets[POE__MODES];
        int maxfd;
};

static int select_init(poe_kernel *k)
{
        struct select_data *d = poe__calloc(k, 1, sizeof(*d));
        int i;

        if (!d)
                return -ENOMEM;
        for (i = 0; i < POE__MODES; i++)
                FD_ZERO(&d->sets[i]);
        d->maxfd = -1;
        k->loop_data = d;
        return 0;
}

static void select_fini(poe_kernel *k)
{
        poe__free(k, k->loop_data);
        k->loop_data = NULL;
}

static int select_update(poe_kernel *k, int fd, unsigned old_mask, unsigned new_mask)
{
        struct select_data *d = k->loop_data;
        int i;

        if (fd >= FD_SETSIZE)
                return -EINVAL;
        for (i = 0; i < POE__MODES; i++) {
                if (new_mask & POE__IO_BIT(i))
                        FD_SET(fd, &d->sets[i]);
                else
                        FD_CLR(fd, &d->sets[i]);
        }
        if (new_mask && fd > d->maxfd)
                d->maxfd = fd;
        while (d->maxfd >= 0 && !FD_ISSET(d->maxfd, &d->sets[0]) &&
               !FD_ISSET(d->maxfd, &d->sets[1]) && !FD_ISSET(d->maxfd, &d->sets[2]))
                d->maxfd--;
        (void)old_mask;
        return 0;
}

static int select_wait(poe_kernel *k, int64_t timeout_ns)
{
        struct select_data *d = k->loop_data;
        fd_set out[POE__MODES];
        struct timeval tv, *tvp = NULL;
        int n, fd, i;

        if (timeout_ns >= 0) {
                if (timeout_ns > (int64_t)3600 * 1000000000)
                        timeout_ns = (int64_t)3600 * 1000000000;
                tv.tv_sec = (time_t)(timeout_ns / 1000000000);
                tv.tv_usec = (suseconds_t)((timeout_ns % 1000000000 + 999) / 1000);
                tvp = &tv;
        }
        memcpy(out, d->sets, sizeof(out));
        n = select(d->maxfd + 1, &out[0], &out[1], &out[2], tvp);
        if (n < 0 && errno == EBADF) {
                /* select names no culprit: find the closed fds ourselves. */
                for (fd = d->maxfd; fd >= 0; fd--)
                        if ((FD_ISSET(fd, &d->sets[0]) || FD_ISSET(fd, &d->sets[1]) ||
                             FD_ISSET(fd, &d->sets[2])) &&
                            fcntl(fd, F_GETFD) < 0)
                                poe__io_bad(k, fd);
                return 0;
        }
        if (n < 0)
                return -errno;
        for (i = 0; i < POE__MODES && n > 0; i++)
                for (fd = 0; fd <= d->maxfd; fd++)
                        if (FD_ISSET(fd, &out[i]))
                                poe__io_ready(k, fd, i);
        return n;
}

const poe__loop_ops poe__loop_select = {
        .version = POE__LOOP_OPS_VERSION,
        .name = "select",
        .init = select_init,
        .fini = select_fini,
        .update = select_update,
        .wait = select_wait,
};
