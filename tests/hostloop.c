/*
 * The scenarios every host loop runs (hostloop.h).  Each makes its
 * sessions on tl.k, puts the kernel on the driver's loop, and iterates
 * that loop until what it waits for has happened, with a deadline in
 * real time (never a sleep): a kernel that does not wake its host fails
 * the test instead of hanging it.  POE's order is asserted in full with
 * the transcript; the timer scenario also runs under poe_kernel_run(),
 * so the two paths are seen to agree.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostloop.h"

const hl_driver *hl;

static double now_real(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool fd_readable(int fd)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };

        return poll(&p, 1, 0) == 1;
}

/*
 * Iterates the host loop until *flag is set, failing after seconds of
 * real time (scaled under valgrind).  With the fake clock, time moves
 * where the host would sleep: when the kernel has a timer and its fd is
 * quiet, the clock is advanced to the timer before the host iterates,
 * which then finds the kernel's work due at once.
 */
static void run_until(poe_kernel *k, const volatile bool *flag, int seconds, bool fake)
{
        double deadline = now_real() + seconds * tl_time_scale();

        while (!*flag) {
                if (now_real() > deadline)
                        fail_msg("%s: not done within %d s", hl->name, seconds);
                if (fake) {
                        int64_t ns;

                        if (poe_kernel_prepare(k, &ns) == 1 && ns > 0 &&
                            !fd_readable(poe_kernel_get_fd(k)))
                                TL_EQ(poe_kernel_clock_advance(k, (double)ns / 1e9), 0);
                }
                hl->iterate(100);
        }
}

static bool ended;

/* Iterates until the kernel has no sessions left. */
static void run_to_end(poe_kernel *k, int seconds, bool fake)
{
        double deadline = now_real() + seconds * tl_time_scale();

        while (poe_kernel_prepare(k, NULL) == 1) {
                if (now_real() > deadline)
                        fail_msg("%s: sessions left after %d s", hl->name, seconds);
                if (fake) {
                        int64_t ns;

                        if (poe_kernel_prepare(k, &ns) == 1 && ns > 0 &&
                            !fd_readable(poe_kernel_get_fd(k)))
                                TL_EQ(poe_kernel_clock_advance(k, (double)ns / 1e9), 0);
                }
                hl->iterate(100);
        }
        ended = true;
}

/* ---- timers and posts: POE's order, the same as under run() ---- */

static poe_value t_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        double t = poe_kernel_time(k);

        tl_log_ctx(c);
        TL_EQ(poe_kernel_post(k, poe_ctx_session(c), "a", POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay(k, "t2", 2.0, POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay(k, "t1", 1.0, POE_NOARGS), 0);
        /* Equal deadlines fire in the order they were set. */
        TL_EQ(poe_kernel_alarm(k, "e1", t + 1.5, POE_NOARGS), 0);
        TL_EQ(poe_kernel_alarm_add(k, "e2", t + 1.5, POE_NOARGS), 0);
        TL_EQ(poe_kernel_yield(k, "b", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value t_a(poe_ctx *c)
{
        tl_log_ctx(c);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "c", POE_NOARGS), 0);
        return poe_nil();
}

static void make_timers(poe_kernel *k)
{
        TL_EQ(poe_kernel_clock_fake(k, 1e9), 0);
        TL_CREATE(k, { "_start", t_start }, { "a", t_a }, { "b", tl_h_log }, { "c", tl_h_log },
                  { "t1", tl_h_log }, { "t2", tl_h_log }, { "e1", tl_h_log },
                  { "e2", tl_h_log }, { "_stop", tl_h_log });
}

#define TIMERS_ORDER "1 _start", "1 a", "1 b", "1 c", "1 t1", "1 e1", "1 e2", "1 t2", "1 _stop"

static void test_timers_in_order(void **state)
{
        poe_kernel *k2;

        (void)state;
        /* The kernel's own loop first, as the reference. */
        TL_EQ(poe_kernel_new(&k2, NULL), 0);
        make_timers(k2);
        TL_EQ(poe_kernel_run(k2), 0);
        poe_kernel_free(k2);
        TL_EXPECT(TIMERS_ORDER);

        hl->attach(tl.k);
        make_timers(tl.k);
        ended = false;
        run_to_end(tl.k, 20, true);
        TL_EXPECT(TIMERS_ORDER);
        /* Two seconds of fake time passed, none of them slept. */
        assert_true(poe_kernel_time(tl.k) >= 1e9 + 2.0);
        hl->detach(tl.k);
}

/* ---- a socket, and the host's own watcher beside the kernel's ---- */

static int sp[2], host_pipe[2];
static volatile bool got_ping;

static poe_value s_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), sp[0], "rd", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value s_rd(poe_ctx *c)
{
        char buf[16] = "";
        ssize_t n = read(sp[0], buf, sizeof(buf) - 1);

        assert_true(n > 0);
        tl_log("%llu rd fd=%s %s", (unsigned long long)poe_ctx_session(c),
               poe_ctx_arg(c, 0)->u.i == sp[0] ? "ok" : "wrong", buf);
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), sp[0], NULL, POE_NOARGS), 0);
        got_ping = true;
        return poe_nil();
}

/* The host's watcher: a byte on its own pipe makes it write to the
 * kernel's socket. */
static void host_cb(int fd)
{
        char b;

        TL_EQ(read(fd, &b, 1), 1);
        tl_log("host read %c", b);
        TL_EQ(write(sp[1], "ping", 4), 4);
}

static void test_socket_and_host_watcher(void **state)
{
        (void)state;
        assert_true(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
        assert_true(pipe(host_pipe) == 0);
        hl->attach(tl.k);
        hl->watch(host_pipe[0], host_cb);
        TL_CREATE(tl.k, { "_start", s_start }, { "rd", s_rd }, { "_stop", tl_h_log });
        got_ping = false;
        TL_EQ(write(host_pipe[1], "x", 1), 1);
        run_until(tl.k, &got_ping, 20, false);
        run_to_end(tl.k, 20, false);
        TL_EXPECT("host read x", "1 rd fd=ok ping", "1 _stop");
        hl->unwatch(host_pipe[0]);
        hl->detach(tl.k);
        close(sp[0]);
        close(sp[1]);
        close(host_pipe[0]);
        close(host_pipe[1]);
}

/* ---- an OS signal, while the host sleeps ---- */

static volatile bool got_sig;

static poe_value g_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_sig(k, "USR1", "got", POE_NOARGS), 0);
        /* Something far away keeps the session (sig() does not) and the
         * host asleep until the signal comes. */
        TL_EQ(poe_kernel_delay(k, "never", 3600, POE_NOARGS), 0);
        TL_EQ(kill(getpid(), SIGUSR1), 0);
        return poe_nil();
}

static poe_value g_got(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log_ctx(c);
        TL_EQ(poe_kernel_sig_handled(k), 0);
        TL_EQ(poe_kernel_sig(k, "USR1", NULL, POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay(k, "never", POE_NO_TIME, POE_NOARGS), 0);
        got_sig = true;
        return poe_nil();
}

static void test_os_signal(void **state)
{
        (void)state;
        hl->attach(tl.k);
        TL_CREATE(tl.k, { "_start", g_start }, { "got", g_got }, { "never", tl_h_log },
                  { "_stop", tl_h_log });
        got_sig = false;
        run_until(tl.k, &got_sig, 20, false);
        run_to_end(tl.k, 20, false);
        TL_EXPECT("1 got USR1", "1 _stop");
        hl->detach(tl.k);
}

/* ---- a child process ---- */

static volatile bool got_child;
static pid_t child;

static poe_value c_start(poe_ctx *c)
{
        fflush(NULL);
        child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(7);
        TL_EQ(poe_kernel_sig_child(poe_ctx_kernel(c), child, "chld", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value c_chld(poe_ctx *c)
{
        int status = (int)poe_ctx_arg(c, 2)->u.i;

        tl_log("%llu chld %s %s exit %d", (unsigned long long)poe_ctx_session(c),
               poe_ctx_arg(c, 0)->u.s, poe_ctx_arg(c, 1)->u.i == child ? "pid" : "other",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        got_child = true;
        return poe_nil();
}

static void test_child_process(void **state)
{
        (void)state;
        hl->attach(tl.k);
        TL_CREATE(tl.k, { "_start", c_start }, { "chld", c_chld }, { "_stop", tl_h_log });
        got_child = false;
        run_until(tl.k, &got_child, 20, false);
        run_to_end(tl.k, 20, false);
        TL_EXPECT("1 chld CHLD pid exit 7", "1 _stop");
        hl->detach(tl.k);
}

/* ---- another thread's post wakes the host ---- */

static volatile bool got_post;
static poe_sid post_to;

static void *poster(void *arg)
{
        poe_kernel *k = arg;

        TL_EQ(poe_kernel_post_from_thread(k, post_to, "hello", POE_ARGS(poe_int(42))), 0);
        return NULL;
}

static poe_value p_start(poe_ctx *c)
{
        /* Only the other thread can make something happen. */
        TL_EQ(poe_kernel_refcount_increment(poe_ctx_kernel(c), poe_ctx_session(c), "t"), 1);
        return poe_nil();
}

static poe_value p_hello(poe_ctx *c)
{
        tl_log_ctx(c);
        TL_EQ(poe_kernel_refcount_decrement(poe_ctx_kernel(c), poe_ctx_session(c), "t"), 0);
        got_post = true;
        return poe_nil();
}

static void test_thread_post(void **state)
{
        pthread_t t;
        int64_t ns = 0;

        (void)state;
        hl->attach(tl.k);
        post_to = TL_CREATE(tl.k, { "_start", p_start }, { "hello", p_hello },
                            { "_stop", tl_h_log });
        /* Once the session's start is done, nothing is due: the host
         * may sleep without limit. */
        for (int i = 0; i < 10 && ns != -1; i++) {
                hl->iterate(0);
                TL_EQ(poe_kernel_prepare(tl.k, &ns), 1);
        }
        TL_EQ(ns, -1);
        got_post = false;
        assert_true(pthread_create(&t, NULL, poster, tl.k) == 0);
        run_until(tl.k, &got_post, 20, false);
        pthread_join(t, NULL);
        run_to_end(tl.k, 20, false);
        TL_EXPECT("1 hello 42", "1 _stop");
        hl->detach(tl.k);
}

/* ---- IDLE, then ZOMBIE, end a session that only has an alias ---- */

static poe_value i_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "idler"), 0);
        return poe_nil();
}

static void test_idle_then_zombie(void **state)
{
        (void)state;
        hl->attach(tl.k);
        TL_CREATE(tl.k, { "_start", i_start }, { "_stop", tl_h_log });
        ended = false;
        run_to_end(tl.k, 20, false);
        TL_EXPECT("1 _stop");
        /* Nothing left: the host is told so, and dispatch does nothing. */
        TL_EQ(poe_kernel_prepare(tl.k, NULL), 0);
        TL_EQ(poe_kernel_dispatch(tl.k), 0);
        hl->detach(tl.k);
}

/* ---- a wake-up with no sessions left does not spin the host ---- */

static void in_loop(poe_kernel *k, void *ctx)
{
        (void)k;
        (void)ctx;
}

static void test_no_spin_without_sessions(void **state)
{
        double end;
        int n = 0;

        (void)state;
        hl->attach(tl.k);
        TL_CREATE(tl.k, { "_start", tl_h_nop });
        run_to_end(tl.k, 20, false);
        /* The wake-up makes the kernel's fd readable, and nothing will
         * take it while there are no sessions: the host must sleep its
         * bounds all the same (a loop with the fd still registered may
         * wake once more, to drop it), not spin on the fd. */
        TL_EQ(poe_kernel_run_in_loop(tl.k, in_loop, NULL), 0);
        end = now_real() + 0.05;
        while (now_real() < end) {
                hl->iterate(10);
                n++;
        }
        assert_true(n <= 10);
        hl->detach(tl.k);
}

/* ---- a select or poll kernel asked for its fd moves to epoll ---- */

static void test_get_fd_moves_to_epoll(void **state)
{
        (void)state;
        assert_true(poe_kernel_get_fd(tl.k) >= 0);
        assert_string_equal(poe_kernel_loop_name(tl.k), "epoll");
        hl->attach(tl.k);
        make_timers(tl.k);
        run_to_end(tl.k, 20, true);
        TL_EXPECT(TIMERS_ORDER);
        hl->detach(tl.k);
}

/* ---- hostile: the host loop's calls from inside a handler ---- */

static poe_value h_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t ns = 12345;

        TL_EQ(poe_kernel_dispatch(k), -EPERM);
        TL_EQ(poe_kernel_prepare(k, &ns), -EPERM);
        TL_EQ(ns, 12345);
        assert_true(poe_kernel_get_fd(k) >= 0);
        TL_EQ(poe_kernel_yield(k, "next", POE_NOARGS), 0);
        return poe_nil();
}

static void test_calls_from_a_handler(void **state)
{
        (void)state;
        hl->attach(tl.k);
        TL_CREATE(tl.k, { "_start", h_start }, { "next", tl_h_log }, { "_stop", tl_h_log });
        run_to_end(tl.k, 20, false);
        TL_EXPECT("1 next", "1 _stop");
        hl->detach(tl.k);
}

const struct CMUnitTest hl_tests[] = {
        TL_TEST(test_timers_in_order),
        TL_TEST(test_socket_and_host_watcher),
        TL_TEST(test_os_signal),
        TL_TEST(test_child_process),
        TL_TEST(test_thread_post),
        TL_TEST(test_idle_then_zombie),
        TL_TEST(test_calls_from_a_handler),
        TL_TEST(test_no_spin_without_sessions),
        TL_TEST(test_get_fd_moves_to_epoll),
};
const size_t hl_n_tests = sizeof(hl_tests) / sizeof(hl_tests[0]);

int hl_main(const hl_driver *driver)
{
        hl = driver;
        return _cmocka_run_group_tests(driver->name, hl_tests, hl_n_tests, NULL, NULL);
}
