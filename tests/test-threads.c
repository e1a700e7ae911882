/*
 * poe_kernel_post_from_thread, the kernel's one thread-safe call: posts
 * from many threads while the kernel runs, none lost and each thread's
 * in order; a destination that is gone by the time the kernel takes the
 * event; a loop blocked with nothing to wait for but other threads; and
 * a loop too busy with yields to wait at all.
 *
 * Handlers never assert while other threads post (a failed assertion
 * would unwind out of the kernel under their feet): they count what is
 * wrong, and the test asserts once every thread is joined.  A watchdog
 * thread fails a test that has not finished in time.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#include "internal.h"

/* Each test runs under testlib's watchdog: a blocked kernel fails it
 * instead of hanging the suite. */
#define TEST(fn) TL_WD_TEST(fn)

/* ---- many threads, many posts ---- */

#define THREADS 4
#define PER_THREAD 10000

struct flood {
        poe_kernel *k;
        poe_sid dest;
        pthread_barrier_t start;
        atomic_int post_errors;
        /* Kernel thread only: */
        int next[THREADS];
        long total;
        long order_errors, arg_errors, sender_errors;
};

static struct flood fl;

struct flood_thread {
        int n;
};

static void *flood_main(void *arg)
{
        struct flood_thread *t = arg;
        char text[32];
        int i;

        /* All threads start together, so their posts interleave. */
        pthread_barrier_wait(&fl.start);
        for (i = 0; i < PER_THREAD; i++) {
                /* The string lives on this stack: the kernel must copy it. */
                snprintf(text, sizeof(text), "t%d-%d", t->n, i);
                if (poe_kernel_post_from_thread(fl.k, fl.dest, "msg",
                                                POE_ARGS(poe_int(t->n), poe_int(i),
                                                         poe_str(text))) != 0)
                        atomic_fetch_add(&fl.post_errors, 1);
        }
        return NULL;
}

static poe_value h_msg(poe_ctx *c)
{
        int t = (int)poe_ctx_arg(c, 0)->u.i;
        int i = (int)poe_ctx_arg(c, 1)->u.i;
        const char *text = poe_value_str(poe_ctx_arg(c, 2));
        char want[32];

        if (t < 0 || t >= THREADS) {
                fl.order_errors++;
                return poe_nil();
        }
        if (i != fl.next[t])
                fl.order_errors++;
        fl.next[t] = i + 1;
        snprintf(want, sizeof(want), "t%d-%d", t, i);
        if (!text || strcmp(text, want) != 0)
                fl.arg_errors++;
        /* Events from other threads come from the kernel. */
        if (poe_ctx_sender(c) != POE_KERNEL)
                fl.sender_errors++;
        if (++fl.total == (long)THREADS * PER_THREAD)
                poe_kernel_refcount_decrement(poe_ctx_kernel(c), poe_ctx_session(c), "threads");
        return poe_nil();
}

/* 4 threads post 10,000 events each while the kernel runs: every event
 * arrives, each thread's in the order it posted them. */
static void test_many_threads_post_in_order(void **state)
{
        struct flood_thread ts[THREADS];
        pthread_t tid[THREADS];
        int i;

        memset(&fl, 0, sizeof(fl));
        fl.k = tl.k;
        fl.dest = TL_CREATE(tl.k, { "_start", tl_h_nop, NULL }, { "msg", h_msg, NULL });
        /* The kernel does not count other threads as work: hold it. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, fl.dest, "threads"), 1);
        TL_EQ(pthread_barrier_init(&fl.start, NULL, THREADS), 0);
        for (i = 0; i < THREADS; i++) {
                ts[i].n = i;
                TL_EQ(pthread_create(&tid[i], NULL, flood_main, &ts[i]), 0);
        }
        TL_EQ(poe_kernel_run(tl.k), 0);
        for (i = 0; i < THREADS; i++)
                TL_EQ(pthread_join(tid[i], NULL), 0);
        pthread_barrier_destroy(&fl.start);

        TL_EQ(atomic_load(&fl.post_errors), 0);
        TL_EQ(fl.total, (long)THREADS * PER_THREAD);
        TL_EQ(fl.order_errors, 0);
        TL_EQ(fl.arg_errors, 0);
        TL_EQ(fl.sender_errors, 0);
        for (i = 0; i < THREADS; i++)
                TL_EQ(fl.next[i], PER_THREAD);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, fl.dest), -ESRCH);
}

/* ---- a destination that is gone ---- */

static int destroyed;

struct lost {
        poe_kernel *k;
        poe_sid dest;
        int r;
};

static void *post_lost(void *arg)
{
        struct lost *l = arg;

        l->r = poe_kernel_post_from_thread(l->k, l->dest, "lost",
                                           POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)));
        return NULL;
}


/* The destination is checked when the kernel takes the event: a session
 * that does not exist gets a warning, and the event, with its pointer
 * argument, is destroyed. */
static void test_post_to_missing_session_is_dropped(void **state)
{
        struct lost l = { tl.k, 4242, -1 };
        char err[512];
        pthread_t t;
        poe_sid keeper;

        destroyed = 0;
        keeper = TL_CREATE(tl.k, { "_start", tl_h_nop, NULL }, { "_stop", tl_h_nop, NULL },
                           { "_default", tl_h_log, NULL });
        TL_EQ(poe_kernel_refcount_increment(tl.k, keeper, "hold"), 1);
        TL_EQ(pthread_create(&t, NULL, post_lost, &l), 0);
        TL_EQ(pthread_join(t, NULL), 0);
        /* Accepted: the thread cannot know whether the session exists. */
        TL_EQ(l.r, 0);
        TL_EQ(destroyed, 0);
        tl_stderr_begin();
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        tl_stderr_end(err, sizeof(err));
        TL_EQ(destroyed, 1);
        assert_non_null(strstr(err, "4242"));
        assert_non_null(strstr(err, "lost"));
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, keeper, "hold"), 0);
        tl_run_to_end(tl.k, 5);
        /* Nothing reached the keeper. */
        TL_EXPECT(NULL);
}

static void *kept_ptr;

static poe_value h_take(poe_ctx *c)
{
        poe_value v = poe_ctx_take_arg(c, 0);

        tl_log("take %s", poe_value_str(poe_ctx_arg(c, 1)));
        kept_ptr = v.u.ptr.p;
        return poe_nil();
}

/* Arguments are copied at the call and pointers are stolen: a failing
 * call destroys them, a handler may take them, an event nobody takes
 * destroys them after dispatch, and one never taken from the thread
 * queue is destroyed with the kernel. */
static void test_pointer_arguments(void **state)
{
        poe_sid s;
        int taken = 0;

        destroyed = 0;
        TL_EQ(poe_kernel_post_from_thread(tl.k, 1, NULL,
                                          POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              -EINVAL);
        TL_EQ(poe_kernel_post_from_thread(NULL, 1, "x",
                                          POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              -EINVAL);
        TL_EQ(destroyed, 2);

        s = TL_CREATE(tl.k, { "_start", tl_h_nop, NULL }, { "take", h_take, NULL },
                      { "_default", tl_h_nop, NULL });
        TL_EQ(poe_kernel_post_from_thread(tl.k, s, "take",
                                          POE_ARGS(poe_ptr(&taken, tl_count_destroy),
                                                   poe_str("mine"))),
              0);
        TL_EQ(poe_kernel_post_from_thread(tl.k, s, "leave",
                                          POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              0);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT("take mine");
        TL_EQ(destroyed, 3);
        TL_EQ(taken, 0);
        assert_ptr_equal(kept_ptr, &taken);

        /* Queued, never taken: the kernel's teardown destroys it. */
        TL_EQ(poe_kernel_post_from_thread(tl.k, 99, "never",
                                          POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              0);
        tl_kernel_free_checked();
        TL_EQ(destroyed, 4);
}

/* ---- waking a blocked loop ---- */

struct waker {
        poe_kernel *k;
        poe_sid dest;
        pid_t kernel_tid;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool go;
        bool saw_blocked;
        int r;
        bool woke;
};

static struct waker wk;

/* The scheduler state of a thread of this process ('S': sleeping in a
 * system call such as epoll_wait, poll or select). */
static char thread_state(pid_t tid)
{
        char path[64], buf[512], *p;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
        f = fopen(path, "r");
        if (!f)
                return '?';
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        return p && p[1] == ' ' ? p[2] : '?';
}

static void *waker_main(void *arg)
{
        struct timespec end, now;

        pthread_mutex_lock(&wk.lock);
        while (!wk.go)
                pthread_cond_wait(&wk.cond, &wk.lock);
        pthread_mutex_unlock(&wk.lock);
        /*
         * The kernel thread said it is about to wait.  Post only once it
         * is asleep: nothing else will ever wake it, as it has no timers
         * and no fds.  Polling the thread's state is bounded; the kernel
         * cannot finish without this post, so there is no race to lose.
         */
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += 10 * tl_time_scale();
        for (;;) {
                if (thread_state(wk.kernel_tid) == 'S') {
                        wk.saw_blocked = true;
                        break;
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec > end.tv_sec ||
                    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
                        break;
                sched_yield();
        }
        wk.r = poe_kernel_post_from_thread(wk.k, wk.dest, "wake", POE_NOARGS);
        return NULL;
}

static poe_value h_arm(poe_ctx *c)
{
        /* The last thing this kernel does before it has nothing to do. */
        pthread_mutex_lock(&wk.lock);
        wk.go = true;
        pthread_cond_signal(&wk.cond);
        pthread_mutex_unlock(&wk.lock);
        return poe_nil();
}

static poe_value h_wake(poe_ctx *c)
{
        wk.woke = true;
        poe_kernel_refcount_decrement(poe_ctx_kernel(c), poe_ctx_session(c), "waiting");
        return poe_nil();
}

static void run_blocked_wake(bool fake)
{
        pthread_t t;

        memset(&wk, 0, sizeof(wk));
        pthread_mutex_init(&wk.lock, NULL);
        pthread_cond_init(&wk.cond, NULL);
        wk.k = tl.k;
        wk.kernel_tid = (pid_t)syscall(SYS_gettid);
        if (fake)
                TL_EQ(poe_kernel_clock_fake(tl.k, 1e6), 0);
        wk.dest = TL_CREATE(tl.k, { "_start", tl_h_nop, NULL }, { "arm", h_arm, NULL },
                            { "wake", h_wake, NULL });
        /* An extra reference is all the session has: no timer, no fd. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, wk.dest, "waiting"), 1);
        TL_EQ(poe_kernel_post(tl.k, wk.dest, "arm", POE_NOARGS), 0);
        TL_EQ(pthread_create(&t, NULL, waker_main, NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(pthread_join(t, NULL), 0);
        TL_EQ(wk.r, 0);
        assert_true(wk.woke);
        /* The kernel was seen asleep before the post came. */
        assert_true(wk.saw_blocked);
        pthread_cond_destroy(&wk.cond);
        pthread_mutex_destroy(&wk.lock);
}

/* A loop asleep with no timers and no fds wakes for a cross-thread post. */
static void test_blocked_loop_wakes_on_post(void **state)
{
        run_blocked_wake(false);
}

/* The same with the fake clock, whose loop also blocks when only other
 * threads can make something happen. */
static void test_blocked_loop_wakes_on_post_fake_clock(void **state)
{
        run_blocked_wake(true);
}

/* ---- a busy kernel still takes other threads' posts ---- */

/*
 * run() dispatches a chain of yields without waiting between them (only
 * posts are pending: kernel/slice.h), and begins each slice from the end
 * of the last (events.c).  A post from another thread must end that: the
 * next slice sees it.  The handler asks a thread to post and waits until
 * the post is made, so the post is there before the next yield is
 * dispatched; the chain then has a thousand yields for the kernel to take
 * it, where taking it at the next slice needs one or two.
 */
#define SPIN_LIMIT 1000

struct spinner {
        poe_kernel *k;
        poe_sid dest;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool asked, posted;
        int r;
        long spins, spins_at_post, spins_at_msg;
        bool got;
};

static struct spinner sp;

static void *spin_poster_main(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&sp.lock);
        while (!sp.asked)
                pthread_cond_wait(&sp.cond, &sp.lock);
        pthread_mutex_unlock(&sp.lock);
        sp.r = poe_kernel_post_from_thread(sp.k, sp.dest, "msg", POE_NOARGS);
        pthread_mutex_lock(&sp.lock);
        sp.posted = true;
        pthread_cond_signal(&sp.cond);
        pthread_mutex_unlock(&sp.lock);
        return NULL;
}

static poe_value h_spin(poe_ctx *c)
{
        if (++sp.spins == 10) {
                pthread_mutex_lock(&sp.lock);
                sp.asked = true;
                pthread_cond_signal(&sp.cond);
                while (!sp.posted)
                        pthread_cond_wait(&sp.cond, &sp.lock);
                pthread_mutex_unlock(&sp.lock);
                sp.spins_at_post = sp.spins;
        }
        if (!sp.got && sp.spins < SPIN_LIMIT)
                poe_kernel_yield(poe_ctx_kernel(c), "spin", POE_NOARGS);
        return poe_nil();
}

static poe_value h_spin_msg(poe_ctx *c)
{
        (void)c;
        sp.got = true;
        sp.spins_at_msg = sp.spins;
        return poe_nil();
}

static poe_value h_spin_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "spin", POE_NOARGS);
        return poe_nil();
}

static void test_yield_chain_takes_thread_post(void **state)
{
        pthread_t t;

        (void)state;
        memset(&sp, 0, sizeof(sp));
        pthread_mutex_init(&sp.lock, NULL);
        pthread_cond_init(&sp.cond, NULL);
        sp.k = tl.k;
        TL_EQ(pthread_create(&t, NULL, spin_poster_main, NULL), 0);
        sp.dest = TL_CREATE(tl.k, { "_start", h_spin_start, NULL }, { "spin", h_spin, NULL },
                            { "msg", h_spin_msg, NULL });
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(pthread_join(t, NULL), 0);
        TL_EQ(sp.r, 0);
        assert_true(sp.got);
        TL_EQ(sp.spins_at_post, 10);
        /* Taken at the slice after the one that asked, not when the chain
         * ran out. */
        assert_true(sp.spins_at_msg <= sp.spins_at_post + 2);
        pthread_cond_destroy(&sp.cond);
        pthread_mutex_destroy(&sp.lock);
}

int main(void)
{
        int failed;
        const struct CMUnitTest tests[] = {
                TEST(test_many_threads_post_in_order),
                TEST(test_post_to_missing_session_is_dropped),
                TEST(test_pointer_arguments),
                TEST(test_blocked_loop_wakes_on_post),
                TEST(test_blocked_loop_wakes_on_post_fake_clock),
                TEST(test_yield_chain_takes_thread_post),
        };

        tl_watchdog_start();
        failed = cmocka_run_group_tests(tests, NULL, NULL);
        tl_watchdog_stop();
        return failed;
}
