/*
 * The inspector on a kernel that a libuv program drives (libpoe-uv): a
 * real HTTP request from another thread is answered while only the uv
 * loop runs, since the inspector reads live state on the kernel's thread
 * (poe_kernel_run_in_loop) and that wake-up reaches the host loop through
 * the kernel's fd.  The client thread tells the host it is done with a
 * uv_async_t, a handle of the program's own beside the kernel's.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "poe/inspector.h"
#include "poe/poe-uv.h"

static uv_loop_t loop;
static uv_async_t done_async;
static uv_timer_t bound;
static int port;
static char answer[16384];
static atomic_bool done, async_seen;

static void *client(void *arg)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct timeval tv = { .tv_sec = 30 * tl_time_scale() };
        const char *req = "GET /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Connection: close\r\n\r\n";
        size_t len = 0;
        ssize_t n;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        (void)arg;
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
            connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req))
                while (len < sizeof(answer) - 1 &&
                       (n = recv(fd, answer + len, sizeof(answer) - 1 - len, 0)) > 0)
                        len += (size_t)n;
        answer[len] = '\0';
        if (fd >= 0)
                close(fd);
        atomic_store(&done, true);
        uv_async_send(&done_async);
        return NULL;
}

static void on_async(uv_async_t *h)
{
        (void)h;
        atomic_store(&async_seen, true);
}

static void on_bound(uv_timer_t *t)
{
        (void)t;
}

static poe_value s_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "embedded-in-uv"), 0);
        TL_EQ(poe_kernel_refcount_increment(k, poe_ctx_session(c), "kept"), 1);
        return poe_nil();
}

static double now_real(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_inspector_over_http(void **state)
{
        poe_inspector_options o = { .address = "127.0.0.1:0", .trace_db = "" };
        double deadline = now_real() + 60.0 * tl_time_scale();
        poe_inspector *in = NULL;
        poe_uv *h = NULL;
        pthread_t t;

        (void)state;
        TL_EQ(uv_loop_init(&loop), 0);
        TL_EQ(uv_async_init(&loop, &done_async, on_async), 0);
        TL_EQ(uv_timer_init(&loop, &bound), 0);
        TL_EQ(poe_uv_attach(tl.k, &loop, &h), 0);
        TL_CREATE(tl.k, { "_start", s_start });
        TL_EQ(poe_inspector_start(tl.k, &o, &in), 0);
        port = poe_inspector_port(in);
        assert_true(port > 0);
        assert_true(pthread_create(&t, NULL, client, NULL) == 0);
        while (!atomic_load(&async_seen)) {
                if (now_real() > deadline)
                        fail_msg("no answer within the deadline");
                uv_timer_start(&bound, on_bound, 100, 0);
                uv_run(&loop, UV_RUN_ONCE);
        }
        pthread_join(t, NULL);
        assert_true(atomic_load(&done));
        assert_non_null(strstr(answer, "HTTP/1.1 200"));
        assert_non_null(strstr(answer, "embedded-in-uv"));
        in = poe_inspector_stop(in);
        h = poe_uv_detach(h);
        uv_close((uv_handle_t *)&done_async, NULL);
        uv_close((uv_handle_t *)&bound, NULL);
        TL_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
        TL_EQ(uv_loop_close(&loop), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_inspector_over_http),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
