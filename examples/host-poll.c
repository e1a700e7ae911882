/*
 * host-poll: libpoe inside a program that has its own poll() loop, with
 * the external-loop API alone (poe/poe.h, "Other event loops").
 *
 * The program's loop watches its own pipe and the kernel's fd, sleeps no
 * longer than poe_kernel_prepare allows, and calls poe_kernel_dispatch
 * after each sleep.  A POE session ticks three times on a timer and
 * reads what the host writes into a socket; the host writes it when its
 * own pipe becomes readable, so both sides' watchers take part.  The
 * loop ends when the kernel has no sessions left and the host nothing to
 * do.  Usage: host-poll
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poe/poe.h>

static int sock[2];     /* the session reads sock[0]; the host writes sock[1] */
static int host_pipe[2]; /* the host's own work */

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_select_read(k, sock[0], "got_line", POE_NOARGS);
        poe_kernel_delay(k, "tick", 0.01, POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value on_tick(poe_ctx *c)
{
        int64_t n = poe_ctx_arg(c, 0)->u.i;

        printf("session: tick %lld\n", (long long)n);
        if (n < 3)
                poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_ARGS(poe_int(n + 1)));
        else if (write(host_pipe[1], "!", 1) != 1) /* ask the host for a line */
                perror("write");
        return poe_nil();
}

static poe_value on_line(poe_ctx *c)
{
        char buf[64];
        ssize_t n = read(sock[0], buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        printf("session: read \"%s\" from the host\n", buf);
        /* Unwatched, the session has nothing left and is stopped. */
        poe_kernel_select_read(poe_ctx_kernel(c), sock[0], NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("session: stopped\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler handlers[] = {
                { "_start", on_start, NULL }, { "tick", on_tick, NULL },
                { "got_line", on_line, NULL }, { "_stop", on_stop, NULL },
        };
        poe_session_spec spec = { .handlers = handlers, .n_handlers = 4 };
        poe_kernel *k;
        int kfd;

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sock) < 0 || pipe(host_pipe) < 0 ||
            poe_kernel_new(&k, NULL) < 0 || poe_session_create(k, &spec, NULL) < 0)
                return 1;
        kfd = poe_kernel_get_fd(k);
        if (kfd < 0)
                return 1;
        for (;;) {
                struct pollfd p[2] = { { .fd = kfd, .events = POLLIN },
                                       { .fd = host_pipe[0], .events = POLLIN } };
                int64_t ns;
                int ms = -1;

                /* 0: no sessions left, and this host has nothing else. */
                if (poe_kernel_prepare(k, &ns) == 0)
                        break;
                if (ns >= 0)
                        ms = (int)((ns + 999999) / 1000000); /* round up */
                if (poll(p, 2, ms) < 0 && errno != EINTR)
                        return 1;
                if (p[1].revents & POLLIN) {
                        char b;

                        if (read(host_pipe[0], &b, 1) == 1) {
                                printf("host: its own pipe is readable; writing a line\n");
                                if (write(sock[1], "hello", 5) != 5)
                                        return 1;
                        }
                }
                /* Whatever woke the loop, dispatch: it never blocks, and
                 * does nothing when nothing is due. */
                if (poe_kernel_dispatch(k) < 0)
                        fprintf(stderr, "a handler died: %s\n", poe_kernel_exception(k));
        }
        printf("host: the kernel has no sessions; done\n");
        poe_kernel_free(k);
        return 0;
}
