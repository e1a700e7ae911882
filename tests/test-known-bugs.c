/*
 * Kernel bugs found by tests/test-misuse.c, each reduced to its smallest
 * failing case and kept as a regression test (run under every backend).
 *
 * Usage: test-known-bugs NAME (one case per run).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

/*
 * epoll_reused_fd: kernel/loop-epoll.c, epoll_update().  A watched fd
 * closed without unwatching leaves epoll's set by itself, but the
 * kernel still has it registered (old_mask != 0).  When the number is
 * reused by a new socket, watching it in another mode takes the
 * EPOLL_CTL_MOD branch, which fails with ENOENT: select_write returns
 * -ENOENT, an error poe.h does not document ("under epoll it simply
 * stops reporting").  poll and select answer 0.  Fixed: a MOD that
 * fails with ENOENT is retried as an ADD (libuv's uv__io_poll does so).
 */
#define FD_NUM 710

static int reused_r;

static poe_value start_reuse(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int sv[2];

        TL_EQ(poe_kernel_select_read(k, FD_NUM, "io", POE_NOARGS), 0);
        /* Closed while watched, and the number taken by a new socket. */
        close(FD_NUM);
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        TL_EQ(dup2(sv[0], FD_NUM), FD_NUM);
        close(sv[0]);
        close(sv[1]);
        reused_r = poe_kernel_select_write(k, FD_NUM, "io", POE_NOARGS);
        poe_kernel_select(k, FD_NUM, NULL, NULL, NULL, POE_NOARGS);
        return poe_nil();
}

static void test_epoll_reused_fd(void **state)
{
        int sv[2];

        (void)state;
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        TL_EQ(dup2(sv[0], FD_NUM), FD_NUM);
        close(sv[0]);
        close(sv[1]);
        TL_CREATE(tl.k, { "_start", start_reuse }, { "io", tl_h_nop });
        close(FD_NUM);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(reused_r, 0);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_epoll_reused_fd, tl_setup, tl_teardown),
        };
        const char *names[] = { "epoll_reused_fd" };
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (argc > 1 && strcmp(argv[1], names[i]) == 0)
                        return _cmocka_run_group_tests(names[i], &tests[i], 1, NULL, NULL);
        fprintf(stderr, "usage: test-known-bugs NAME\n");
        return 2;
}
