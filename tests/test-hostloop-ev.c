/*
 * hostloop.c's scenarios on a libev loop, through libpoe-ev; the host's
 * own watcher is an ev_io and the iteration is bounded by an ev_timer of
 * its own.  The loop is made with ev_loop_new: the default loop's
 * SIGCHLD watcher would reap the kernel's children (poe/poe-ev.h).
 */
#include "hostloop.h"
#include "poe/poe-ev.h"

#define MAX_WATCH 8

static struct ev_loop *loop;
static ev_timer bound;
static poe_ev *attachment;
static struct {
        ev_io io;
        void (*cb)(int fd);
        bool used;
} watches[MAX_WATCH];

static void e_attach(poe_kernel *k)
{
        loop = ev_loop_new(EVFLAG_AUTO);
        assert_non_null(loop);
        TL_EQ(poe_ev_attach(k, loop, &attachment), 0);
}

static void e_detach(poe_kernel *k)
{
        (void)k;
        attachment = poe_ev_detach(attachment);
        /* Nothing of the kernel's keeps the loop going. */
        TL_EQ(ev_run(loop, EVRUN_NOWAIT), 0);
        ev_loop_destroy(loop);
        loop = NULL;
}

static void on_io(struct ev_loop *l, ev_io *w, int revents)
{
        (void)l;
        (void)revents;
        for (int i = 0; i < MAX_WATCH; i++)
                if (&watches[i].io == w)
                        watches[i].cb(w->fd);
}

static void e_watch(int fd, void (*cb)(int fd))
{
        int i;

        for (i = 0; watches[i].used; i++)
                assert_true(i < MAX_WATCH - 1);
        watches[i].used = true;
        watches[i].cb = cb;
        ev_io_init(&watches[i].io, on_io, fd, EV_READ);
        ev_io_start(loop, &watches[i].io);
}

static void e_unwatch(int fd)
{
        for (int i = 0; i < MAX_WATCH; i++)
                if (watches[i].used && watches[i].io.fd == fd) {
                        ev_io_stop(loop, &watches[i].io);
                        watches[i].used = false;
                }
}

static void on_bound(struct ev_loop *l, ev_timer *w, int revents)
{
        (void)l;
        (void)w;
        (void)revents;
}

static void e_iterate(int max_ms)
{
        ev_timer_init(&bound, on_bound, max_ms / 1000.0, 0.);
        ev_timer_start(loop, &bound);
        ev_run(loop, EVRUN_ONCE);
        ev_timer_stop(loop, &bound);
}

static const hl_driver ev_driver = {
        .name = "ev",
        .attach = e_attach,
        .detach = e_detach,
        .watch = e_watch,
        .unwatch = e_unwatch,
        .iterate = e_iterate,
};

int main(void)
{
        return hl_main(&ev_driver);
}
