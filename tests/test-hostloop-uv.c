/*
 * hostloop.c's scenarios on a libuv loop, through libpoe-uv; the host's
 * own watcher is a uv_poll_t and the iteration is bounded by a timer of
 * its own.  Each test ends by closing the loop, which fails if a handle
 * of the kernel's was left behind.
 */
#include "hostloop.h"
#include "poe/poe-uv.h"

#define MAX_WATCH 8

static uv_loop_t loop;
static uv_timer_t bound;
static poe_uv *attachment;
static struct {
        uv_poll_t poll;
        void (*cb)(int fd);
        int fd;
        bool used;
} watches[MAX_WATCH];

static void u_attach(poe_kernel *k)
{
        TL_EQ(uv_loop_init(&loop), 0);
        TL_EQ(uv_timer_init(&loop, &bound), 0);
        TL_EQ(poe_uv_attach(k, &loop, &attachment), 0);
}

static void u_detach(poe_kernel *k)
{
        (void)k;
        attachment = poe_uv_detach(attachment);
        uv_close((uv_handle_t *)&bound, NULL);
        TL_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
        TL_EQ(uv_loop_close(&loop), 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
        (void)status;
        (void)events;
        for (int i = 0; i < MAX_WATCH; i++)
                if (&watches[i].poll == p)
                        watches[i].cb(watches[i].fd);
}

static void u_watch(int fd, void (*cb)(int fd))
{
        int i;

        for (i = 0; watches[i].used; i++)
                assert_true(i < MAX_WATCH - 1);
        watches[i].used = true;
        watches[i].fd = fd;
        watches[i].cb = cb;
        TL_EQ(uv_poll_init(&loop, &watches[i].poll, fd), 0);
        TL_EQ(uv_poll_start(&watches[i].poll, UV_READABLE, on_poll), 0);
}

static void u_unwatch(int fd)
{
        for (int i = 0; i < MAX_WATCH; i++)
                if (watches[i].used && watches[i].fd == fd) {
                        uv_close((uv_handle_t *)&watches[i].poll, NULL);
                        watches[i].used = false;
                }
}

static void on_bound(uv_timer_t *t)
{
        (void)t;
}

static void u_iterate(int max_ms)
{
        uv_timer_start(&bound, on_bound, (uint64_t)max_ms, 0);
        uv_run(&loop, UV_RUN_ONCE);
        uv_timer_stop(&bound);
}

static const hl_driver uv_driver = {
        .name = "uv",
        .attach = u_attach,
        .detach = u_detach,
        .watch = u_watch,
        .unwatch = u_unwatch,
        .iterate = u_iterate,
};

int main(void)
{
        return hl_main(&uv_driver);
}
