/*
 * The loop's cross-thread wake-ups under stress: while the kernel runs
 * timeslices whose every wait is an hour long (a timer an hour away is
 * all it has), threads post (poe_kernel_post_from_thread) and queue
 * callbacks (poe_kernel_run_in_loop) one at a time, each waiting for the
 * kernel to answer that one before it sends the next.  Each send lands
 * at a different moment of the kernel's cycle (before its wait, inside
 * it, during a dispatch, while the list is being taken), helped by
 * random pauses and by threads that only burn CPU, so the machine is
 * loaded whatever else runs beside the test.
 *
 * A lost wake-up leaves the kernel asleep for an hour: the sending
 * thread notices at its deadline (far beyond any scheduling delay, far
 * below the hour) and ends the program with the thread and the send
 * named.  Every send must be answered, each thread's in order, and each
 * post exactly once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define SENDERS 4
#define BURNERS 2
#define ROUNDS 2000

struct sender {
        int n;
        int ack_fd;          /* written by the kernel's thread per answer */
        unsigned seed;
        long seq;            /* the send in flight (for run_in_loop's callback) */
        long answered;       /* kernel thread only */
        long order_errors;   /* kernel thread only */
};

static struct {
        poe_kernel *k;
        poe_sid dest;
        struct sender s[SENDERS];
        pthread_barrier_t start;
        atomic_int finished;
        atomic_bool stop_burning;
        int deadline_ms;
        long max_ms;          /* the slowest answer seen, for the log */
        pthread_mutex_t max_lock;
} st;

static double mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* On the kernel's thread: one answer to sender s for send seq. */
static void answer(struct sender *s, long seq)
{
        uint64_t one = 1;

        if (seq != s->answered)
                s->order_errors++;
        s->answered++;
        if (write(s->ack_fd, &one, sizeof(one)) < 0)
                abort();
}

static poe_value h_ping(poe_ctx *c)
{
        int n = (int)poe_ctx_arg(c, 0)->u.i;

        answer(&st.s[n], (long)poe_ctx_arg(c, 1)->u.i);
        return poe_nil();
}

static void cb_ping(poe_kernel *k, void *ctx)
{
        struct sender *s = ctx;

        if (k)
                answer(s, s->seq);
}

/* The session's one resource: a timer an hour away, so every wait of the
 * loop is a wait of an hour unless another thread wakes it. */
static poe_value h_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "hour", 3600, POE_NOARGS);
        return poe_nil();
}

static poe_value h_done(poe_ctx *c)
{
        poe_kernel_alarm_remove_all(poe_ctx_kernel(c), NULL, NULL);
        return poe_nil();
}

static void noop(poe_kernel *k, void *ctx)
{
        (void)k;
        (void)ctx;
}

/* A pause of a random kind: none, a few yields, or a short spin. */
static void jitter(unsigned *seed)
{
        int r = rand_r(seed) % 4, i;
        volatile int spin = 0;

        if (r == 1)
                for (i = rand_r(seed) % 4; i >= 0; i--)
                        sched_yield();
        else if (r == 2)
                for (i = rand_r(seed) % 20000; i > 0; i--)
                        spin++;
}

static void *sender_main(void *arg)
{
        struct sender *s = arg;
        long i;

        pthread_barrier_wait(&st.start);
        for (i = 0; i < ROUNDS; i++) {
                struct pollfd p = { .fd = s->ack_fd, .events = POLLIN };
                double t0, waited;
                uint64_t n;
                int r;

                jitter(&s->seed);
                s->seq = i;
                t0 = mono_ms();
                if (i % 2 == 0)
                        r = poe_kernel_post_from_thread(st.k, st.dest, "ping",
                                                        POE_ARGS(poe_int(s->n), poe_int(i)));
                else
                        r = poe_kernel_run_in_loop(st.k, cb_ping, s);
                if (r != 0) {
                        fprintf(stderr, "sender %d: send %ld failed: %s\n", s->n, i,
                                strerror(-r));
                        _exit(1);
                }
                do
                        r = poll(&p, 1, st.deadline_ms);
                while (r < 0 && errno == EINTR);
                if (r <= 0) {
                        /* The kernel is asleep in a wait an hour long
                         * with this send queued: nothing else will wake
                         * it, so end here rather than at the watchdog. */
                        fprintf(stderr,
                                "lost wake-up: sender %d's %s %ld not dispatched within %d ms "
                                "(%s backend)\n",
                                s->n, i % 2 ? "run_in_loop" : "post_from_thread", i,
                                st.deadline_ms, poe_kernel_loop_name(st.k));
                        _exit(1);
                }
                if (read(s->ack_fd, &n, sizeof(n)) != sizeof(n) || n != 1)
                        abort();
                waited = mono_ms() - t0;
                pthread_mutex_lock(&st.max_lock);
                if (waited > st.max_ms)
                        st.max_ms = (long)waited;
                pthread_mutex_unlock(&st.max_lock);
        }
        /* The kernel's loop ends when every sender is finished: the last
         * one's wake-up is what lets it see that. */
        atomic_fetch_add(&st.finished, 1);
        poe_kernel_run_in_loop(st.k, noop, NULL);
        return NULL;
}

static void *burner_main(void *arg)
{
        (void)arg;
        pthread_barrier_wait(&st.start);
        while (!atomic_load(&st.stop_burning))
                sched_yield();
        return NULL;
}

static void test_every_send_wakes_a_sleeping_loop(void **state)
{
        pthread_t senders[SENDERS], burners[BURNERS];
        const char *wrapper = getenv("POE_TEST_WRAPPER");
        int i;

        (void)state;
        memset(&st, 0, sizeof(st));
        st.k = tl.k;
        /* An answer takes microseconds; a lost wake-up takes the hour.
         * The deadline sits far from both, ten times further under
         * valgrind, and the watchdog beyond it. */
        st.deadline_ms = wrapper && *wrapper ? 200000 : 20000;
        tl_watchdog_arm(st.deadline_ms / 1000 + 600);
        pthread_mutex_init(&st.max_lock, NULL);
        st.dest = TL_CREATE(tl.k, { "_start", h_start, NULL }, { "ping", h_ping, NULL },
                            { "hour", tl_h_nop, NULL }, { "done", h_done, NULL });
        TL_EQ(pthread_barrier_init(&st.start, NULL, SENDERS + BURNERS + 1), 0);
        for (i = 0; i < SENDERS; i++) {
                st.s[i].n = i;
                st.s[i].seed = 12345u + (unsigned)i;
                st.s[i].ack_fd = eventfd(0, EFD_CLOEXEC);
                assert_true(st.s[i].ack_fd >= 0);
                TL_EQ(pthread_create(&senders[i], NULL, sender_main, &st.s[i]), 0);
        }
        for (i = 0; i < BURNERS; i++)
                TL_EQ(pthread_create(&burners[i], NULL, burner_main, NULL), 0);
        pthread_barrier_wait(&st.start);
        while (atomic_load(&st.finished) < SENDERS)
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        atomic_store(&st.stop_burning, true);
        for (i = 0; i < SENDERS; i++)
                TL_EQ(pthread_join(senders[i], NULL), 0);
        for (i = 0; i < BURNERS; i++)
                TL_EQ(pthread_join(burners[i], NULL), 0);
        for (i = 0; i < SENDERS; i++) {
                TL_EQ(st.s[i].answered, ROUNDS);
                TL_EQ(st.s[i].order_errors, 0);
                close(st.s[i].ack_fd);
        }
        tl_log("%d sends answered, the slowest in %ld ms (%s backend)", SENDERS * ROUNDS,
               st.max_ms, poe_kernel_loop_name(tl.k));
        fprintf(stderr, "%s\n", tl_transcript());
        pthread_barrier_destroy(&st.start);
        pthread_mutex_destroy(&st.max_lock);
        /* The timer goes, and with it the session: the loop closes clean. */
        TL_EQ(poe_kernel_post(tl.k, st.dest, "done", POE_NOARGS), 0);
        tl_run_to_end(tl.k, 10);
        tl_kernel_free_checked();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_WD_TEST(test_every_send_wakes_a_sleeping_loop),
        };

        tl_watchdog_start();
        int failed = cmocka_run_group_tests(tests, NULL, NULL);

        tl_watchdog_stop();
        return failed;
}
