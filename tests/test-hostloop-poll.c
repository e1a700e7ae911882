/*
 * The external-loop API driven by a plain poll() loop, written here the
 * way a program with its own loop would embed libpoe: the kernel's fd
 * beside the host's own, poe_kernel_prepare's timeout (rounded up to
 * milliseconds) bounding the sleep, poe_kernel_dispatch after it.  The
 * scenarios are tests/hostloop.c's.
 */
#include <errno.h>
#include <poll.h>

#include "hostloop.h"

#define MAX_WATCH 8

static poe_kernel *kernel;
static struct {
        int fd;
        void (*cb)(int fd);
} watches[MAX_WATCH];
static int n_watches;

static void p_attach(poe_kernel *k)
{
        kernel = k;
}

static void p_detach(poe_kernel *k)
{
        (void)k;
        kernel = NULL;
}

static void p_watch(int fd, void (*cb)(int fd))
{
        assert_true(n_watches < MAX_WATCH);
        watches[n_watches].fd = fd;
        watches[n_watches].cb = cb;
        n_watches++;
}

static void p_unwatch(int fd)
{
        int i;

        for (i = 0; i < n_watches; i++)
                if (watches[i].fd == fd)
                        watches[i] = watches[--n_watches];
}

static void p_iterate(int max_ms)
{
        struct pollfd p[MAX_WATCH + 1];
        int64_t ns = -1;
        int i, ms = max_ms, alive;

        alive = poe_kernel_prepare(kernel, &ns);
        assert_true(alive >= 0);
        if (alive && ns >= 0 && (ns + 999999) / 1000000 < ms)
                ms = (int)((ns + 999999) / 1000000);
        /* With no sessions the fd may stay readable and is not watched
         * (poe_kernel_prepare); poll() ignores a negative fd. */
        p[0].fd = alive ? poe_kernel_get_fd(kernel) : -1;
        p[0].events = POLLIN;
        assert_true(p[0].fd >= 0 || !alive);
        for (i = 0; i < n_watches; i++) {
                p[i + 1].fd = watches[i].fd;
                p[i + 1].events = POLLIN;
        }
        /* SIGCHLD and the tests' own signals interrupt the sleep. */
        if (poll(p, (nfds_t)n_watches + 1, ms) < 0) {
                assert_true(errno == EINTR);
                for (i = 0; i <= n_watches; i++)
                        p[i].revents = 0;
        }
        for (i = n_watches - 1; i >= 0; i--)
                if (p[i + 1].revents)
                        watches[i].cb(watches[i].fd);
        /* A dispatch with nothing due does nothing, so the loop need not
         * work out whether the kernel's fd or its timer woke it. */
        if (alive)
                assert_true(poe_kernel_dispatch(kernel) >= 0);
}

static const hl_driver poll_driver = {
        .name = "poll",
        .attach = p_attach,
        .detach = p_detach,
        .watch = p_watch,
        .unwatch = p_unwatch,
        .iterate = p_iterate,
};

int main(void)
{
        return hl_main(&poll_driver);
}
