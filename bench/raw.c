/*
 * bench-libev / bench-libuv WORKLOAD N: the workloads of bench/run that a
 * raw event loop can do without a kernel on top, so libpoe's cost can be
 * set against the loop libraries'.  Built twice, with -DRAW_LIBEV or
 * -DRAW_LIBUV.  The mapping, and why:
 *
 *   yield_chain       an idle watcher run N times (ev_idle, uv_idle): the
 *                     loop's own "run this again on the next pass", which
 *                     is what a yield is; neither library has a queue of
 *                     posted events, so there is nothing closer.
 *   fanout_queue      not mapped: no event queue to fill.
 *   timers_setremove  N timers started 1..1000 s out, then stopped in a
 *                     random order (ev_timer_start/stop, uv_timer_start/
 *                     stop); both keep a heap, as libpoe does.  The
 *                     watcher structs are allocated before the clock
 *                     starts, since the libraries leave that to the
 *                     caller while libpoe allocates per timer.
 *   timers_fire       N timers due within 1 ms, all fire.
 *   io_pipe           one byte back and forth over a socketpair, each end
 *                     an ev_io / uv_poll_t read watcher; one op = one
 *                     round trip.
 *   post_pingpong, call_chain, session_churn, signal_fanout: not mapped,
 *                     these are kernel features (aliases, sessions,
 *                     synchronous calls, user signals) a loop lacks.
 *
 * Prints the line format of bench-libpoe with impl=libev or impl=libuv,
 * or exits 3 for a workload with no mapping.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(RAW_LIBEV)
#include <ev.h>
#define IMPL "libev"
#elif defined(RAW_LIBUV)
#include <uv.h>
#define IMPL "libuv"
#else
#error "build with -DRAW_LIBEV or -DRAW_LIBUV"
#endif

static long n, done;
static double t0, t1;

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The same generator and seed as workloads.c. */
static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static double *draw_setremove_delays(size_t **order_out)
{
        double *delay = malloc((size_t)n * sizeof(*delay));
        size_t *order = malloc((size_t)n * sizeof(*order));
        long i;

        if (!delay || !order)
                abort();
        for (i = 0; i < n; i++) {
                delay[i] = 1 + (double)(next_rand() % 999000) / 1000.0;
                order[i] = (size_t)i;
        }
        for (i = n - 1; i > 0; i--) {
                size_t j = next_rand() % (size_t)(i + 1), t = order[i];

                order[i] = order[j];
                order[j] = t;
        }
        *order_out = order;
        return delay;
}

static int io_fd[2];

#ifdef RAW_LIBEV

static struct ev_loop *loop;

static void yc_cb(struct ev_loop *l, ev_idle *w, int revents)
{
        (void)revents;
        if (++done == n) {
                t1 = now();
                ev_idle_stop(l, w);
        }
}

static void yield_chain(void)
{
        static ev_idle w;

        ev_idle_init(&w, yc_cb);
        ev_idle_start(loop, &w);
        t0 = now();
        ev_run(loop, 0);
}

static void timers_setremove(void)
{
        ev_timer *w = malloc((size_t)n * sizeof(*w));
        size_t *order;
        double *delay = draw_setremove_delays(&order);
        long i;

        if (!w)
                abort();
        t0 = now();
        for (i = 0; i < n; i++) {
                ev_timer_init(&w[i], NULL, delay[i], 0);
                ev_timer_start(loop, &w[i]);
        }
        for (i = 0; i < n; i++)
                ev_timer_stop(loop, &w[order[i]]);
        t1 = now();
        done = n;
        free(w);
        free(delay);
        free(order);
}

static void tf_cb(struct ev_loop *l, ev_timer *w, int revents)
{
        (void)l;
        (void)w;
        (void)revents;
        if (++done == n)
                t1 = now();
}

static void timers_fire(void)
{
        ev_timer *w = malloc((size_t)n * sizeof(*w));
        double *delay = malloc((size_t)n * sizeof(*delay));
        long i;

        if (!w || !delay)
                abort();
        for (i = 0; i < n; i++)
                delay[i] = (double)(next_rand() % 1000) / 1e6;
        t0 = now();
        /* libev takes "now" once per loop pass; refresh it so the timers
         * are due within 1 ms of the clock starting, as in libpoe. */
        ev_now_update(loop);
        for (i = 0; i < n; i++) {
                ev_timer_init(&w[i], tf_cb, delay[i], 0);
                ev_timer_start(loop, &w[i]);
        }
        ev_run(loop, 0);
        free(w);
        free(delay);
}

static ev_io io_w[2];

static void io_cb(struct ev_loop *l, ev_io *w, int revents)
{
        char b;

        (void)revents;
        if (read(w->fd, &b, 1) != 1)
                abort();
        if (w->fd == io_fd[0] && ++done == n) {
                t1 = now();
                ev_io_stop(l, &io_w[0]);
                ev_io_stop(l, &io_w[1]);
                return;
        }
        if (write(w->fd, &b, 1) != 1)
                abort();
}

static void io_pipe(void)
{
        int i;

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, io_fd) < 0)
                abort();
        for (i = 0; i < 2; i++) {
                ev_io_init(&io_w[i], io_cb, io_fd[i], EV_READ);
                ev_io_start(loop, &io_w[i]);
        }
        t0 = now();
        if (write(io_fd[0], "x", 1) != 1)
                abort();
        ev_run(loop, 0);
}

static void loop_init(void)
{
        loop = ev_default_loop(EVFLAG_AUTO);
        if (!loop)
                abort();
}

#else /* RAW_LIBUV */

static uv_loop_t *loop;

static void yc_cb(uv_idle_t *w)
{
        if (++done == n) {
                t1 = now();
                uv_idle_stop(w);
        }
}

static void yield_chain(void)
{
        static uv_idle_t w;

        uv_idle_init(loop, &w);
        uv_idle_start(&w, yc_cb);
        t0 = now();
        uv_run(loop, UV_RUN_DEFAULT);
        uv_close((uv_handle_t *)&w, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
}

static void ts_cb(uv_timer_t *w)
{
        (void)w;
}

static void timers_setremove(void)
{
        uv_timer_t *w = malloc((size_t)n * sizeof(*w));
        size_t *order;
        double *delay = draw_setremove_delays(&order);
        long i;

        if (!w)
                abort();
        /* uv_timer_init only links the handle into the loop's list; done
         * before the clock like libev's struct setup. */
        for (i = 0; i < n; i++)
                uv_timer_init(loop, &w[i]);
        t0 = now();
        for (i = 0; i < n; i++)
                uv_timer_start(&w[i], ts_cb, (uint64_t)(delay[i] * 1000), 0);
        for (i = 0; i < n; i++)
                uv_timer_stop(&w[order[i]]);
        t1 = now();
        done = n;
        for (i = 0; i < n; i++)
                uv_close((uv_handle_t *)&w[i], NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        free(w);
        free(delay);
        free(order);
}

static void tf_cb(uv_timer_t *w)
{
        (void)w;
        if (++done == n)
                t1 = now();
}

static void timers_fire(void)
{
        uv_timer_t *w = malloc((size_t)n * sizeof(*w));
        long i;

        if (!w)
                abort();
        for (i = 0; i < n; i++)
                uv_timer_init(loop, &w[i]);
        t0 = now();
        /* libuv's timers have millisecond resolution: "within 1 ms" is a
         * timeout of 0 or 1, drawn as the others draw microseconds. */
        uv_update_time(loop);
        for (i = 0; i < n; i++)
                uv_timer_start(&w[i], tf_cb, next_rand() % 1000 >= 500 ? 1 : 0, 0);
        uv_run(loop, UV_RUN_DEFAULT);
        for (i = 0; i < n; i++)
                uv_close((uv_handle_t *)&w[i], NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        free(w);
}

static uv_poll_t io_w[2];

static void io_cb(uv_poll_t *w, int status, int events)
{
        int fd = (int)(intptr_t)w->data;
        char b;

        (void)status;
        (void)events;
        if (read(fd, &b, 1) != 1)
                abort();
        if (fd == io_fd[0] && ++done == n) {
                t1 = now();
                uv_poll_stop(&io_w[0]);
                uv_poll_stop(&io_w[1]);
                return;
        }
        if (write(fd, &b, 1) != 1)
                abort();
}

static void io_pipe(void)
{
        int i;

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, io_fd) < 0)
                abort();
        for (i = 0; i < 2; i++) {
                uv_poll_init(loop, &io_w[i], io_fd[i]);
                io_w[i].data = (void *)(intptr_t)io_fd[i];
                uv_poll_start(&io_w[i], UV_READABLE, io_cb);
        }
        t0 = now();
        if (write(io_fd[0], "x", 1) != 1)
                abort();
        uv_run(loop, UV_RUN_DEFAULT);
}

static void loop_init(void)
{
        loop = uv_default_loop();
}

#endif

static const struct {
        const char *name;
        void (*run)(void);
} workloads[] = {
        { "yield_chain", yield_chain },
        { "timers_setremove", timers_setremove },
        { "timers_fire", timers_fire },
        { "io_pipe", io_pipe },
};

int main(int argc, char **argv)
{
        size_t i;

        if (argc != 3 || (n = atol(argv[2])) <= 0) {
                fprintf(stderr, "usage: bench-%s WORKLOAD N\n", IMPL);
                return 2;
        }
        for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
                if (strcmp(argv[1], workloads[i].name) == 0)
                        break;
        if (i == sizeof(workloads) / sizeof(workloads[0]))
                return 3; /* no raw-loop equivalent: bench/run skips it */
        loop_init();
        workloads[i].run();
        if (done != n) {
                fprintf(stderr, "bench-%s: %s finished %ld of %ld ops\n", IMPL, argv[1], done, n);
                return 1;
        }
        printf("workload=%s impl=%s n=%ld seconds=%.6f rate=%.0f\n", argv[1], IMPL, n, t1 - t0,
               n / (t1 - t0));
        return 0;
}
