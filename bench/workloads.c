/*
 * bench-libpoe WORKLOAD N: the benchmark workloads of bench/run on
 * libpoe.  bench/poe/bench.pl runs the same workloads on real POE and
 * bench/raw.c those with a raw-loop equivalent on libev and libuv, so
 * each workload must do the same work in all of them.  Only the workload
 * itself is timed: building the kernel, drawing random numbers and
 * creating helper sessions happen before the clock starts.  Prints
 *
 *   workload=W impl=libpoe n=N seconds=S rate=R
 *
 * where R is operations per second; what one operation is depends on the
 * workload (see the comment above each).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <poe/poe.h>

#ifndef IMPL
#define IMPL "libpoe"
#endif

static long n;          /* operations asked for */
static long done;       /* operations finished */
static double t0, t1;   /* the timed span */

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The same xorshift generator as timers-scale.c: fixed seed, so every run
 * and every implementation sees the same delays. */
static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void die(const char *what, int rc)
{
        fprintf(stderr, "bench-libpoe: %s: %s\n", what, strerror(-rc));
        exit(1);
}

static poe_sid spawn(poe_kernel *k, const poe_handler *h, size_t nh, void *heap)
{
        poe_session_spec spec = { .handlers = h, .n_handlers = nh, .heap = heap };
        poe_sid sid;
        int rc = poe_session_create(k, &spec, &sid);

        if (rc < 0)
                die("session_create", rc);
        return sid;
}

/* yield_chain: one session yields to itself; one op = one yield+dispatch. */
static poe_value yc_step(poe_ctx *c)
{
        if (++done < n)
                poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        else
                t1 = now();
        return poe_nil();
}

static poe_value yc_start(poe_ctx *c)
{
        t0 = now();
        poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

static void yield_chain(poe_kernel *k)
{
        static const poe_handler h[] = { { "_start", yc_start, NULL }, { "step", yc_step, NULL } };

        spawn(k, h, 2, NULL);
}

/* post_pingpong: two sessions post to each other by alias; one op = one
 * post+dispatch.  The aliases keep both alive, so the last hit stops the
 * kernel rather than removing them one by one. */
static poe_value pp_hit(poe_ctx *c)
{
        if (++done < n)
                poe_kernel_post_alias(poe_ctx_kernel(c), (const char *)poe_ctx_heap(c), "hit",
                                      POE_NOARGS);
        else {
                t1 = now();
                poe_kernel_stop(poe_ctx_kernel(c));
        }
        return poe_nil();
}

static poe_value pp_pong_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "pong");
        return poe_nil();
}

static poe_value pp_ping_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "ping");
        t0 = now();
        poe_kernel_post_alias(poe_ctx_kernel(c), "pong", "hit", POE_NOARGS);
        return poe_nil();
}

static void post_pingpong(poe_kernel *k)
{
        static const poe_handler pong[] = { { "_start", pp_pong_start, NULL }, { "hit", pp_hit, NULL } };
        static const poe_handler ping[] = { { "_start", pp_ping_start, NULL }, { "hit", pp_hit, NULL } };

        spawn(k, pong, 2, (void *)"ping");
        spawn(k, ping, 2, (void *)"pong");
}

/* call_chain: call() into another session and use what it returns as the
 * next argument; one op = one call. */
static poe_value cc_add(poe_ctx *c)
{
        return poe_int(poe_value_int(poe_ctx_arg(c, 0)) + 1);
}

static poe_value cc_callee_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "callee");
        return poe_nil();
}

static poe_value cc_quit(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "callee");
        return poe_nil();
}

static poe_value cc_caller_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t v = 0;
        long i;

        t0 = now();
        for (i = 0; i < n; i++) {
                poe_value ret;
                int rc = poe_kernel_call_alias(k, "callee", "add", POE_ARGS(poe_int(v)), &ret);

                if (rc < 0)
                        die("call", rc);
                v = poe_value_int(&ret);
        }
        t1 = now();
        done = v;
        poe_kernel_call_alias(k, "callee", "quit", POE_NOARGS, NULL);
        return poe_nil();
}

static void call_chain(poe_kernel *k)
{
        static const poe_handler callee[] = { { "_start", cc_callee_start, NULL },
                                              { "add", cc_add, NULL },
                                              { "quit", cc_quit, NULL } };
        static const poe_handler caller[] = { { "_start", cc_caller_start, NULL } };

        spawn(k, callee, 3, NULL);
        spawn(k, caller, 1, NULL);
}

/* fanout_queue: N yields queued up front, then dispatched; one op = one
 * yield and its dispatch, so the queue is N deep at its peak. */
static poe_value fq_ev(poe_ctx *c)
{
        (void)c;
        if (++done == n)
                t1 = now();
        return poe_nil();
}

static poe_value fq_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        long i;

        t0 = now();
        for (i = 0; i < n; i++)
                poe_kernel_yield(k, "ev", POE_NOARGS);
        return poe_nil();
}

static void fanout_queue(poe_kernel *k)
{
        static const poe_handler h[] = { { "_start", fq_start, NULL }, { "ev", fq_ev, NULL } };

        spawn(k, h, 2, NULL);
}

/* timers_setremove: N delay_set 1..1000 s away, then alarm_remove of all
 * of them in a random order; one op = one set plus one remove.  The
 * delays and the order are drawn before the clock starts. */
static poe_value ts_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id *ids = malloc((size_t)n * sizeof(*ids));
        double *delay = malloc((size_t)n * sizeof(*delay));
        size_t *order = malloc((size_t)n * sizeof(*order));
        long i;

        if (!ids || !delay || !order)
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
        t0 = now();
        for (i = 0; i < n; i++)
                if (poe_kernel_delay_set(k, "t", delay[i], POE_NOARGS, &ids[i]) < 0)
                        abort();
        for (i = 0; i < n; i++)
                if (poe_kernel_alarm_remove(k, ids[order[i]], NULL) < 0)
                        abort();
        t1 = now();
        done = n;
        free(ids);
        free(delay);
        free(order);
        return poe_nil();
}

static void timers_setremove(poe_kernel *k)
{
        static const poe_handler h[] = { { "_start", ts_start, NULL } };

        spawn(k, h, 1, NULL);
}

/* timers_fire: N timers due within the next millisecond, all fire; one op
 * = one delay_set and its dispatch. */
static poe_value tf_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        double *delay = malloc((size_t)n * sizeof(*delay));
        long i;

        if (!delay)
                abort();
        for (i = 0; i < n; i++)
                delay[i] = (double)(next_rand() % 1000) / 1e6;
        t0 = now();
        for (i = 0; i < n; i++)
                if (poe_kernel_delay_set(k, "t", delay[i], POE_NOARGS, NULL) < 0)
                        abort();
        free(delay);
        return poe_nil();
}

static void timers_fire(poe_kernel *k)
{
        static const poe_handler h[] = { { "_start", tf_start, NULL }, { "t", fq_ev, NULL } };

        spawn(k, h, 2, NULL);
}

/* session_churn: a parent creates a child that has nothing to do, so it
 * stops; the parent's _child("lose") creates the next.  One op = one
 * session's whole life: _start, _child create, _stop, _child lose. */
static poe_value sc_child_start(poe_ctx *c)
{
        (void)c;
        return poe_int(1);
}

static poe_value sc_child_stop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static const poe_handler sc_child[] = { { "_start", sc_child_start, NULL },
                                        { "_stop", sc_child_stop, NULL } };

static poe_value sc_parent_child(poe_ctx *c)
{
        const char *why = poe_value_str(poe_ctx_arg(c, 0));

        if (why && strcmp(why, "lose") == 0) {
                if (++done < n)
                        spawn(poe_ctx_kernel(c), sc_child, 2, NULL);
                else
                        t1 = now();
        }
        return poe_nil();
}

static poe_value sc_parent_start(poe_ctx *c)
{
        t0 = now();
        spawn(poe_ctx_kernel(c), sc_child, 2, NULL);
        return poe_nil();
}

static void session_churn(poe_kernel *k)
{
        static const poe_handler h[] = { { "_start", sc_parent_start, NULL },
                                         { "_child", sc_parent_child, NULL } };

        spawn(k, h, 2, NULL);
}

/* io_pipe: one byte goes back and forth over a socketpair, each end
 * watched with select_read; one op = one round trip (two reads, two
 * writes, two dispatches). */
static int io_fd[2];

static poe_value io_read(poe_ctx *c)
{
        int fd = (int)poe_value_int(poe_ctx_arg(c, 0));
        char b;

        if (read(fd, &b, 1) != 1)
                abort();
        if (fd == io_fd[0] && ++done == n) {
                t1 = now();
                poe_kernel_select_read(poe_ctx_kernel(c), io_fd[0], NULL, POE_NOARGS);
                poe_kernel_select_read(poe_ctx_kernel(c), io_fd[1], NULL, POE_NOARGS);
                return poe_nil();
        }
        if (write(fd, &b, 1) != 1)
                abort();
        return poe_nil();
}

static poe_value io_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        if (poe_kernel_select_read(k, io_fd[0], "rd", POE_NOARGS) < 0 ||
            poe_kernel_select_read(k, io_fd[1], "rd", POE_NOARGS) < 0)
                abort();
        t0 = now();
        if (write(io_fd[0], "x", 1) != 1)
                abort();
        return poe_nil();
}

static void io_pipe(poe_kernel *k)
{
        static const poe_handler h[] = { { "_start", io_start, NULL }, { "rd", io_read, NULL } };

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, io_fd) < 0)
                abort();
        spawn(k, h, 2, NULL);
}

/* signal_fanout: a user signal raised at the kernel while 1000 sessions
 * watch it; one op = one signal, delivered to all 1000.  Signal watchers
 * do not keep a session alive, so each watcher holds an extra reference,
 * and the last delivery stops the kernel. */
#define WATCHERS 1000

static long delivered;

static poe_value sf_got(poe_ctx *c)
{
        if (++delivered % WATCHERS == 0) {
                if (++done < n)
                        poe_kernel_signal(poe_ctx_kernel(c), POE_KERNEL, "BENCH", POE_NOARGS);
                else {
                        t1 = now();
                        poe_kernel_stop(poe_ctx_kernel(c));
                }
        }
        return poe_nil();
}

static poe_value sf_watcher_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "BENCH", "got", POE_NOARGS);
        poe_kernel_refcount_increment(k, poe_ctx_session(c), "bench");
        return poe_nil();
}

static poe_value sf_driver_start(poe_ctx *c)
{
        t0 = now();
        poe_kernel_signal(poe_ctx_kernel(c), POE_KERNEL, "BENCH", POE_NOARGS);
        return poe_nil();
}

static void signal_fanout(poe_kernel *k)
{
        static const poe_handler w[] = { { "_start", sf_watcher_start, NULL }, { "got", sf_got, NULL } };
        static const poe_handler d[] = { { "_start", sf_driver_start, NULL } };
        int i;

        for (i = 0; i < WATCHERS; i++)
                spawn(k, w, 2, NULL);
        spawn(k, d, 1, NULL);
}

static const struct {
        const char *name;
        void (*setup)(poe_kernel *k);
} workloads[] = {
        { "yield_chain", yield_chain },       { "post_pingpong", post_pingpong },
        { "call_chain", call_chain },         { "fanout_queue", fanout_queue },
        { "timers_setremove", timers_setremove }, { "timers_fire", timers_fire },
        { "session_churn", session_churn },   { "io_pipe", io_pipe },
        { "signal_fanout", signal_fanout },
};

int main(int argc, char **argv)
{
        size_t i;
        poe_kernel *k;
        int rc;

        if (argc != 3 || (n = atol(argv[2])) <= 0) {
                fprintf(stderr, "usage: bench-libpoe WORKLOAD N\n");
                return 2;
        }
        for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
                if (strcmp(argv[1], workloads[i].name) == 0)
                        break;
        if (i == sizeof(workloads) / sizeof(workloads[0])) {
                fprintf(stderr, "bench-libpoe: unknown workload %s\n", argv[1]);
                return 2;
        }
        if ((rc = poe_kernel_new(&k, NULL)) < 0)
                die("kernel_new", rc);
        workloads[i].setup(k);
        poe_kernel_run(k);
        poe_kernel_free(k);
        if (done != n) {
                fprintf(stderr, "bench-libpoe: %s finished %ld of %ld ops\n", argv[1], done, n);
                return 1;
        }
        printf("workload=%s impl=%s n=%ld seconds=%.6f rate=%.0f\n", argv[1], IMPL, n, t1 - t0,
               n / (t1 - t0));
        return 0;
}
