/*
 * bench-glib WORKLOAD N: bench/raw.c's io_pipe and timers_fire on a
 * GLib main context, the host loop libpoe-glib's kernel is set against
 * (bench/run --adapters).  The same mapping as raw.c:
 *
 *   timers_fire  N timeout sources due within 1 ms, all fire once.
 *   io_pipe      one byte back and forth over a socketpair, each end a
 *                unix-fd source; one op = one round trip.
 *
 * Prints bench-libpoe's line with impl=glib, or exits 3 for a workload
 * with no mapping.
 */
#include <glib-unix.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long n, done;
static double t0, t1;
static GMainLoop *main_loop;
static int io_fd[2];

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The same generator and seed as workloads.c. */
static guint64 rng = 88172645463325252ULL;

static guint64 next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static gboolean tf_cb(gpointer data)
{
        (void)data;
        if (++done == n) {
                t1 = now();
                g_main_loop_quit(main_loop);
        }
        return G_SOURCE_REMOVE;
}

static void timers_fire(void)
{
        long i;

        t0 = now();
        /* GLib's timeouts take milliseconds: a delay under 1 ms is 0 or 1. */
        for (i = 0; i < n; i++)
                g_timeout_add((guint)(next_rand() % 1000 >= 500), tf_cb, NULL);
        g_main_loop_run(main_loop);
}

static gboolean io_cb(gint fd, GIOCondition cond, gpointer data)
{
        char b;

        (void)cond;
        (void)data;
        if (read(fd, &b, 1) != 1)
                abort();
        if (fd == io_fd[0] && ++done == n) {
                t1 = now();
                g_main_loop_quit(main_loop);
                return G_SOURCE_REMOVE;
        }
        if (write(fd, &b, 1) != 1)
                abort();
        return G_SOURCE_CONTINUE;
}

static void io_pipe(void)
{
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, io_fd) < 0)
                abort();
        g_unix_fd_add(io_fd[0], G_IO_IN, io_cb, NULL);
        g_unix_fd_add(io_fd[1], G_IO_IN, io_cb, NULL);
        t0 = now();
        if (write(io_fd[0], "x", 1) != 1)
                abort();
        g_main_loop_run(main_loop);
}

int main(int argc, char **argv)
{
        if (argc != 3 || (n = atol(argv[2])) <= 0) {
                fprintf(stderr, "usage: bench-glib WORKLOAD N\n");
                return 2;
        }
        main_loop = g_main_loop_new(NULL, FALSE);
        if (strcmp(argv[1], "timers_fire") == 0)
                timers_fire();
        else if (strcmp(argv[1], "io_pipe") == 0)
                io_pipe();
        else
                return 3; /* no raw-loop equivalent */
        if (done != n) {
                fprintf(stderr, "bench-glib: %s finished %ld of %ld ops\n", argv[1], done, n);
                return 1;
        }
        printf("workload=%s impl=glib n=%ld seconds=%.6f rate=%.0f\n", argv[1], n, t1 - t0,
               n / (t1 - t0));
        return 0;
}
