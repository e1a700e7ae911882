/*
 * I/O watchers: select_read, select_write, select_expedite, select and
 * the pause/resume calls, over pipes, socketpairs and real TCP sockets,
 * under whichever backend POE_EVENT_LOOP names (meson runs this program
 * once per backend).
 *
 * Tests that need time to pass while an fd stays quiet use the fake
 * clock and a ticker session, whose timers make each timeslice end
 * without sleeping.  Tests on real sockets use the real clock; a
 * watchdog thread fails any test that has not finished in time, so a
 * kernel that blocks forever fails instead of hanging the suite.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#include "internal.h"
#include "io.h"

#define T0 1000000.0

/* Each test runs under testlib's watchdog: a blocked kernel fails it
 * instead of hanging the suite. */
#define TEST(fn) TL_WD_TEST(fn)

/* ---- helpers ---- */

/* The loops of other libraries (POE_EVENT_LOOP=glib, uv, ev) sleep on
 * the epoll backend's set, and report fds as it does. */
static bool is_backend(const char *name)
{
        const char *loop = poe_kernel_loop_name(tl.k);

        if (strcmp(name, "epoll") == 0 &&
            (strcmp(loop, "glib") == 0 || strcmp(loop, "uv") == 0 || strcmp(loop, "ev") == 0))
                return true;
        return strcmp(loop, name) == 0;
}

static void fake_clock(void)
{
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);
}

static void put(int fd, const char *s)
{
        TL_EQ(write(fd, s, strlen(s)), (long)strlen(s));
}

/* Reads what is there (the fd is non-blocking once watched). */
static ssize_t get(int fd, char *buf, size_t size)
{
        ssize_t n = read(fd, buf, size - 1);

        buf[n > 0 ? n : 0] = '\0';
        return n;
}

/* Timer and watcher calls act on the active session, so tests run code
 * inside a session through its "as" handler. */
typedef void (*as_fn)(poe_kernel *k, void *ctx);

struct as_req {
        as_fn fn;
        void *ctx;
};

static poe_value h_as(poe_ctx *c)
{
        struct as_req *r = poe_ctx_arg(c, 0)->u.ptr.p;

        r->fn(poe_ctx_kernel(c), r->ctx);
        return poe_nil();
}

static void as(poe_sid sid, as_fn fn, void *ctx)
{
        struct as_req r = { fn, ctx };

        TL_EQ(poe_kernel_call(tl.k, sid, "as", POE_ARGS(poe_ptr(&r, NULL)), NULL), 0);
}

static bool alive(poe_sid sid)
{
        return poe_kernel_ID_id_to_session(tl.k, sid) == 0;
}


/*
 * A ticker: a session that sets `n` one-second delays in a row, so that
 * on the fake clock each timeslice ends at once, and that posts `event`
 * to `target` on its last tick.
 */
struct ticker {
        int left;
        poe_sid target;
        const char *event;
        int ticks;
};

static poe_value h_tick(poe_ctx *c)
{
        struct ticker *t = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);

        t->ticks++;
        if (--t->left > 0)
                TL_EQ(poe_kernel_delay(k, "tick", 1, POE_NOARGS), 0);
        else if (t->event)
                TL_EQ(poe_kernel_post(k, t->target, t->event, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_ticker_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_delay(poe_ctx_kernel(c), "tick", 1, POE_NOARGS), 0);
        return poe_nil();
}

static poe_sid ticker_start(struct ticker *t)
{
        poe_handler h[] = { { "_start", h_ticker_start, NULL }, { "tick", h_tick, NULL } };
        poe_session_spec spec = tl_spec(h, 2, t);

        return tl_create_spec(tl.k, &spec);
}

/* Logs "STATE fd=FD|other mode=M args...", FD compared with expect_fd. */
static int expect_fd = -1;

static void log_io(poe_ctx *c, const char *extra)
{
        char line[256];
        size_t i, n;
        const poe_value *fd = poe_ctx_arg(c, 0);

        TL_EQ(fd->type, POE_T_INT);
        n = (size_t)snprintf(line, sizeof(line), "%s fd=%s mode=%lld", poe_ctx_state(c),
                             fd->u.i == expect_fd ? "ok" : "WRONG",
                             (long long)poe_ctx_arg(c, 1)->u.i);
        for (i = 2; i < poe_ctx_argc(c) && n < sizeof(line); i++)
                n += (size_t)snprintf(line + n, sizeof(line) - n, " %s",
                                      tl_fmt(poe_ctx_arg(c, i)));
        tl_log("%s%s%s", line, extra ? " " : "", extra ? extra : "");
}

#define IO_HANDLERS                                                                   \
        { "_start", tl_h_nop, NULL }, { "_stop", tl_h_nop, NULL }, { "as", h_as, NULL }, \
        { "_child", tl_h_nop, NULL }, { "_parent", tl_h_nop, NULL }

/* ---- basic I/O: arguments and modes ---- */

static int sp[2];

static poe_value h_sp_write(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        expect_fd = sp[1];
        log_io(c, NULL);
        put(sp[1], "hello");
        TL_EQ(poe_kernel_select_write(k, sp[1], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_sp_read(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[64];

        expect_fd = sp[0];
        TL_EQ(get(sp[0], buf, sizeof(buf)), 5);
        log_io(c, buf);
        TL_EQ(poe_kernel_select_read(k, sp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void watch_sp(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, sp[0], "rd", POE_ARGS(poe_str("x"), poe_int(7))), 0);
        TL_EQ(poe_kernel_select_write(k, sp[1], "wr", POE_ARGS(poe_str("w"))), 0);
}

/* ARG0 is the fd, ARG1 the mode (0 read, 1 write), then the watcher's
 * arguments; the fds are made non-blocking, as POE does. */
static void test_socketpair_io_and_arguments(void **state)
{
        poe_sid s;

        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
        s = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_sp_read, NULL }, { "wr", h_sp_write, NULL });
        as(s, watch_sp, NULL);
        assert_true(fcntl(sp[0], F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(sp[1], F_GETFL) & O_NONBLOCK);
        TL_EQ(tl_reason(tl.k, s, POE_REASON_HANDLES), 2);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("wr fd=ok mode=1 w", "rd fd=ok mode=0 x 7 hello");
        close(sp[0]);
        close(sp[1]);
}

static int pp[2];

static poe_value h_pipe_write(poe_ctx *c)
{
        expect_fd = pp[1];
        log_io(c, NULL);
        put(pp[1], "ping\n");
        TL_EQ(poe_kernel_select_write(poe_ctx_kernel(c), pp[1], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_pipe_read(poe_ctx *c)
{
        char buf[64];

        expect_fd = pp[0];
        TL_EQ(get(pp[0], buf, sizeof(buf)), 5);
        buf[4] = '\0';
        log_io(c, buf);
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), pp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void watch_pipe(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, pp[0], "rd", POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_write(k, pp[1], "wr", POE_ARGS(poe_int(-1))), 0);
}

static void test_pipe_io(void **state)
{
        poe_sid s;

        TL_EQ(pipe(pp), 0);
        s = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_pipe_read, NULL }, { "wr", h_pipe_write, NULL });
        as(s, watch_pipe, NULL);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("wr fd=ok mode=1 -1", "rd fd=ok mode=0 ping");
        close(pp[0]);
        close(pp[1]);
}

static poe_value h_both(poe_ctx *c)
{
        log_io(c, NULL);
        return poe_nil();
}

static void select_all_three(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select(k, sp[0], "r", "w", NULL, POE_ARGS(poe_str("same"))), 0);
}

static void select_none(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select(k, sp[0], NULL, NULL, NULL, POE_NOARGS), 0);
}

/* select() sets every mode at once with the same arguments, and NULL
 * events unwatch all of them. */
static void test_select_sets_all_modes(void **state)
{
        poe_sid s;

        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
        put(sp[1], "z");
        expect_fd = sp[0];
        s = TL_CREATE(tl.k, IO_HANDLERS, { "r", h_both, NULL }, { "w", h_both, NULL });
        as(s, select_all_three, NULL);
        TL_EQ(tl_reason(tl.k, s, POE_REASON_HANDLES), 1); /* one fd, whatever its modes */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        /* Reads are dispatched before writes in a round. */
        TL_EXPECT("r fd=ok mode=0 same", "w fd=ok mode=1 same");
        as(s, select_none, NULL);
        TL_EQ(tl_reason(tl.k, s, POE_REASON_HANDLES), 0);
        tl_run_to_end(tl.k, 5);
        TL_EXPECT(NULL);
        close(sp[0]);
        close(sp[1]);
}

/* ---- expedite: TCP urgent data ---- */

/* A connected TCP pair over loopback, made with blocking calls before
 * the kernel sees either end. */
static void tcp_pair(int fds[2])
{
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int l = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(l >= 0);
        TL_EQ(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
        TL_EQ(listen(l, 1), 0);
        TL_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
        fds[0] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fds[0] >= 0);
        TL_EQ(connect(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
        fds[1] = accept(l, NULL, NULL);
        assert_true(fds[1] >= 0);
        close(l);
}

static int tp[2];

static poe_value h_expedite(poe_ctx *c)
{
        char ch = 0;

        expect_fd = tp[1];
        TL_EQ(recv(tp[1], &ch, 1, MSG_OOB), 1);
        log_io(c, ch == '!' ? "oob" : "wrong byte");
        TL_EQ(poe_kernel_select_expedite(poe_ctx_kernel(c), tp[1], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void watch_expedite(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_expedite(k, tp[1], "ex", POE_ARGS(poe_int(3))), 0);
}

/* Urgent data makes a socket ready in expedite mode (ARG1 2) under
 * every backend: select's exceptfds, poll's POLLPRI, epoll's EPOLLPRI. */
static void test_expedite_with_urgent_data(void **state)
{
        poe_sid s;

        tcp_pair(tp);
        s = TL_CREATE(tl.k, IO_HANDLERS, { "ex", h_expedite, NULL });
        as(s, watch_expedite, NULL);
        TL_EQ(send(tp[0], "!", 1, MSG_OOB), 1);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("ex fd=ok mode=2 3 oob");
        close(tp[0]);
        close(tp[1]);
}

/* ---- lifetime: a watched fd keeps its session ---- */

static poe_value h_read_and_stop(poe_ctx *c)
{
        char buf[64];
        int fd = (int)poe_ctx_arg(c, 0)->u.i;

        assert_true(get(fd, buf, sizeof(buf)) > 0);
        tl_log("%s %s@%g", poe_ctx_state(c), buf, poe_kernel_time(poe_ctx_kernel(c)) - T0);
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), fd, NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void watch_pp0(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, pp[0], "rd", POE_NOARGS), 0);
}

/* A read watcher is all the session has, and it lives through five
 * timeslices of someone else's timers until its data comes. */
static void test_read_watcher_keeps_session_alive(void **state)
{
        struct ticker t = { .left = 5 };
        poe_sid w;
        int i;

        fake_clock();
        TL_EQ(pipe(pp), 0);
        w = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_read_and_stop, NULL });
        as(w, watch_pp0, NULL);
        ticker_start(&t);
        for (i = 0; i < 6; i++) {
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                assert_true(alive(w));
        }
        TL_EQ(t.ticks, 5);
        TL_EQ(tl_refcnt(tl.k, w), 1);
        TL_EQ(tl_reason(tl.k, w, POE_REASON_HANDLES), 1);
        tl_check_kernel(tl.k);
        TL_EXPECT(NULL);
        put(pp[1], "late");
        tl_run_to_end(tl.k, 5);
        TL_EXPECT("rd late@5");
        close(pp[0]);
        close(pp[1]);
}

static int paused_calls;

static poe_value h_paused_rd(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[64];

        paused_calls++;
        tl_log("rd %d@%g", paused_calls, poe_kernel_time(k) - T0);
        if (paused_calls == 1) {
                /* Leave the data unread: paused, it must not be reported. */
                TL_EQ(poe_kernel_select_pause_read(k, pp[0]), 1);
                return poe_nil();
        }
        assert_true(get(pp[0], buf, sizeof(buf)) > 0);
        TL_EQ(poe_kernel_select_read(k, pp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_resume_rd(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log("resume@%g", poe_kernel_time(k) - T0);
        TL_EQ(poe_kernel_select_resume_read(k, pp[0]), 1);
        return poe_nil();
}

/* A paused watcher still keeps its session alive ("paused or not"), and
 * resuming it reports the data that waited. */
static void test_paused_watcher_keeps_session_alive(void **state)
{
        struct ticker t = { .left = 5 };
        poe_sid w;
        int i;

        fake_clock();
        TL_EQ(pipe(pp), 0);
        paused_calls = 0;
        w = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_paused_rd, NULL },
                      { "resume", h_resume_rd, NULL });
        as(w, watch_pp0, NULL);
        put(pp[1], "data");
        TL_RUN_UNTIL(tl.k, paused_calls == 1, 5);
        t.target = w;
        t.event = "resume";
        ticker_start(&t);
        for (i = 0; i < 4; i++) {
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                assert_true(alive(w));
                TL_EQ(paused_calls, 1);
                TL_EQ(tl_refcnt(tl.k, w), 1);
        }
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("rd 1@0", "resume@5", "rd 2@5");
        close(pp[0]);
        close(pp[1]);
}

static int wr_calls;

static poe_value h_paused_wr(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        wr_calls++;
        tl_log("wr %d@%g", wr_calls, poe_kernel_time(k) - T0);
        if (wr_calls == 1)
                TL_EQ(poe_kernel_select_pause_write(k, sp[0]), 1);
        else
                TL_EQ(poe_kernel_select_write(k, sp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_resume_wr(poe_ctx *c)
{
        TL_EQ(poe_kernel_select_resume_write(poe_ctx_kernel(c), sp[0]), 1);
        return poe_nil();
}

static void watch_sp0_write(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_write(k, sp[0], "wr", POE_NOARGS), 0);
}

/* The same for a write watcher: paused, an always-writable socket is
 * not reported, and the session lives on. */
static void test_paused_write_watcher(void **state)
{
        struct ticker t = { .left = 3 };
        poe_sid w;
        int i;

        fake_clock();
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
        wr_calls = 0;
        w = TL_CREATE(tl.k, IO_HANDLERS, { "wr", h_paused_wr, NULL },
                      { "resume", h_resume_wr, NULL });
        as(w, watch_sp0_write, NULL);
        TL_RUN_UNTIL(tl.k, wr_calls == 1, 5);
        t.target = w;
        t.event = "resume";
        ticker_start(&t);
        for (i = 0; i < 2; i++) {
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                assert_true(alive(w));
                TL_EQ(wr_calls, 1);
        }
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("wr 1@0", "wr 2@3");
        close(sp[0]);
        close(sp[1]);
}

/* ---- re-registering ---- */

static int rereg_calls;

static poe_value h_first(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[64];

        rereg_calls++;
        expect_fd = pp[0];
        log_io(c, NULL);
        if (rereg_calls == 1) {
                /* Paused, then registered again under another name:
                 * that only resumes the first registration. */
                TL_EQ(poe_kernel_select_pause_read(k, pp[0]), 1);
                TL_EQ(poe_kernel_select_read(k, pp[0], "third", POE_ARGS(poe_int(3))), 0);
                return poe_nil();
        }
        assert_true(get(pp[0], buf, sizeof(buf)) > 0);
        TL_EQ(poe_kernel_select_read(k, pp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void register_twice(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, pp[0], "first", POE_ARGS(poe_int(1))), 0);
        TL_EQ(poe_kernel_select_read(k, pp[0], "second", POE_ARGS(poe_int(2))), 0);
}

/* Registering the same fd and mode again keeps the first event name and
 * arguments (POE's _data_handle_add treats it as a resume). */
static void test_reregister_keeps_first_event_and_args(void **state)
{
        poe_sid w;

        TL_EQ(pipe(pp), 0);
        rereg_calls = 0;
        w = TL_CREATE(tl.k, IO_HANDLERS, { "first", h_first, NULL }, { "second", h_both, NULL },
                      { "third", h_both, NULL });
        as(w, register_twice, NULL);
        TL_EQ(tl_reason(tl.k, w, POE_REASON_HANDLES), 1);
        put(pp[1], "x");
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("first fd=ok mode=0 1", "first fd=ok mode=0 1");
        close(pp[0]);
        close(pp[1]);
}

/* ---- hostile: a handler unwatching its own fd ---- */

static int self_calls;

static poe_value h_unwatch_all(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[64];

        self_calls++;
        expect_fd = sp[0];
        log_io(c, NULL);
        assert_true(get(sp[0], buf, sizeof(buf)) > 0);
        /* Both of this fd's watchers go, the running one included; the
         * write watcher was ready in this round too and must not run. */
        TL_EQ(poe_kernel_select(k, sp[0], NULL, NULL, NULL, POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_pause_read(k, sp[0]), 0);
        return poe_nil();
}

static void watch_rw(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, sp[0], "rd", POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_write(k, sp[0], "wr", POE_NOARGS), 0);
}

static void test_handler_removes_its_own_watcher(void **state)
{
        poe_sid w;

        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
        self_calls = 0;
        w = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_unwatch_all, NULL }, { "wr", h_both, NULL });
        as(w, watch_rw, NULL);
        put(sp[1], "x");
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("rd fd=ok mode=0");
        /* Nothing left to live for: stopped at the end of that slice. */
        assert_false(alive(w));
        TL_EQ(tl.k->n_watched_fds, 0);
        tl_run_to_end(tl.k, 5);
        TL_EQ(self_calls, 1);
        close(sp[0]);
        close(sp[1]);
}

static int swap_calls;

static poe_value h_swap(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[64];

        swap_calls++;
        log_io(c, NULL);
        if (strcmp(poe_ctx_state(c), "rd") == 0) {
                /* Removed, then added anew: the new name and arguments hold. */
                TL_EQ(poe_kernel_select_read(k, sp[0], NULL, POE_NOARGS), 0);
                TL_EQ(poe_kernel_select_read(k, sp[0], "rd2", POE_ARGS(poe_str("new"))), 0);
                return poe_nil();
        }
        assert_true(get(sp[0], buf, sizeof(buf)) > 0);
        TL_EQ(poe_kernel_select_read(k, sp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void watch_swap(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, sp[0], "rd", POE_ARGS(poe_str("old"))), 0);
}

static void test_handler_replaces_its_own_watcher(void **state)
{
        poe_sid w;

        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
        swap_calls = 0;
        expect_fd = sp[0];
        w = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_swap, NULL }, { "rd2", h_swap, NULL });
        as(w, watch_swap, NULL);
        put(sp[1], "x");
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("rd fd=ok mode=0 old", "rd2 fd=ok mode=0 new");
        close(sp[0]);
        close(sp[1]);
}

/* ---- ownership between sessions ---- */

static int released_rd_calls;

static poe_value h_count_rd(poe_ctx *c)
{
        released_rd_calls++;
        return h_read_and_stop(c);
}

static void a_watches(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, pp[0], "a_rd", POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_write(k, pp[1], "a_wr", POE_NOARGS), 0);
        /* Paused at once, so that A's write watcher never fires. */
        TL_EQ(poe_kernel_select_pause_write(k, pp[1]), 1);
}

static void b_is_refused(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, pp[0], "b_rd", POE_NOARGS), -EEXIST);
        TL_EQ(poe_kernel_select_write(k, pp[1], "b_wr", POE_NOARGS), -EEXIST);
        /* Another mode of the same fd is free. */
        TL_EQ(poe_kernel_select_expedite(k, pp[0], "b_ex", POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_expedite(k, pp[0], NULL, POE_NOARGS), 0);
        /* Unwatching what another session watches changes nothing. */
        TL_EQ(poe_kernel_select_read(k, pp[0], NULL, POE_NOARGS), 0);
}

static void b_watches(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, pp[0], "b_rd", POE_NOARGS), 0);
}

/* One session at most watches an fd in a mode (-EEXIST), and a session
 * that stops releases its watchers: another may then watch the fd. */
static void test_session_stop_releases_watchers(void **state)
{
        poe_sid a, b;

        fake_clock();
        TL_EQ(pipe(pp), 0);
        released_rd_calls = 0;
        a = TL_CREATE(tl.k, IO_HANDLERS, { "a_rd", h_count_rd, NULL },
                      { "a_wr", h_both, NULL });
        b = TL_CREATE(tl.k, IO_HANDLERS, { "b_rd", h_read_and_stop, NULL });
        TL_EQ(poe_kernel_refcount_increment(tl.k, b, "test"), 1);
        as(a, a_watches, NULL);
        as(b, b_is_refused, NULL);
        TL_EQ(tl_reason(tl.k, b, POE_REASON_HANDLES), 0);
        TL_EQ(tl_reason(tl.k, a, POE_REASON_HANDLES), 2);

        TL_EQ(poe_kernel_signal(tl.k, a, "TERM", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, !alive(a), 5);
        TL_EQ(tl.k->n_watched_fds, 0);

        as(b, b_watches, NULL);
        put(pp[1], "mine");
        TL_EQ(poe_kernel_refcount_decrement(tl.k, b, "test"), 0);
        tl_run_to_end(tl.k, 10);
        TL_EXPECT("b_rd mine@0");
        TL_EQ(released_rd_calls, 0);
        close(pp[0]);
        close(pp[1]);
}

/* ---- errors ---- */

static int bad_fd, big_fd;

static void bad_calls(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, -1, "e", POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_select_write(k, -1, "e", POE_NOARGS), -EINVAL);
        TL_EQ(poe_kernel_select_read(k, bad_fd, "e", POE_NOARGS), -EBADF);
        TL_EQ(poe_kernel_select_write(k, bad_fd, "e", POE_NOARGS), -EBADF);
        TL_EQ(poe_kernel_select_expedite(k, bad_fd, "e", POE_NOARGS), -EBADF);
        TL_EQ(poe_kernel_select(k, bad_fd, "e", NULL, NULL, POE_NOARGS), -EBADF);
        /* Nothing watched: unwatching, pausing and resuming are no-ops. */
        TL_EQ(poe_kernel_select_read(k, pp[0], NULL, POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_pause_read(k, pp[0]), 0);
        TL_EQ(poe_kernel_select_resume_read(k, pp[0]), 0);
        TL_EQ(poe_kernel_select_pause_write(k, pp[1]), 0);
        TL_EQ(poe_kernel_select_resume_write(k, pp[1]), 0);
        if (big_fd >= 0) {
                int r = poe_kernel_select_read(k, big_fd, "big", POE_NOARGS);

                /* select cannot wait on an fd past FD_SETSIZE. */
                TL_EQ(r, is_backend("select") ? -EINVAL : 0);
                TL_EQ(poe_kernel_select_read(k, big_fd, NULL, POE_NOARGS), 0);
        }
}

static void test_errors(void **state)
{
        struct rlimit rl;
        poe_sid s;

        TL_EQ(pipe(pp), 0);
        bad_fd = dup(pp[0]);
        close(bad_fd);
        big_fd = -1;
        /* An fd past FD_SETSIZE, if the hard limit allows one. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur <= FD_SETSIZE + 10 &&
            (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_SETSIZE + 10)) {
                rl.rlim_cur = FD_SETSIZE + 64;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > FD_SETSIZE + 10)
                big_fd = dup2(pp[0], FD_SETSIZE + 5);

        /* Outside a handler the active session is the kernel. */
        TL_EQ(poe_kernel_select_read(tl.k, pp[0], "e", POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_select_write(tl.k, pp[1], "e", POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_select_expedite(tl.k, pp[0], "e", POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_select(tl.k, pp[0], "e", NULL, NULL, POE_NOARGS), -EPERM);
        TL_EQ(poe_kernel_select_pause_read(tl.k, pp[0]), -EPERM);
        TL_EQ(poe_kernel_select_resume_read(tl.k, pp[0]), -EPERM);
        TL_EQ(poe_kernel_select_pause_write(tl.k, pp[1]), -EPERM);
        TL_EQ(poe_kernel_select_resume_write(tl.k, pp[1]), -EPERM);

        s = TL_CREATE(tl.k, IO_HANDLERS);
        as(s, bad_calls, NULL);
        TL_EQ(tl_reason(tl.k, s, POE_REASON_HANDLES), 0);
        TL_EQ(tl.k->n_watched_fds, 0);
        tl_run_to_end(tl.k, 5);
        if (big_fd >= 0)
                close(big_fd);
        close(pp[0]);
        close(pp[1]);
}

/* ---- a real TCP conversation ---- */

struct tcp {
        int listener, server, client;
        char from_client[256], from_server[256];
        size_t n_from_client, n_from_server;
        bool accepted, connected, server_eof;
        struct sockaddr_in addr;
};

static struct tcp tcp;

static poe_value h_accept(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_ctx_arg(c, 0)->u.i, tcp.listener);
        tcp.server = accept4(tcp.listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (tcp.server < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return poe_nil();
        assert_true(tcp.server >= 0);
        tcp.accepted = true;
        /* One client is all this server takes. */
        TL_EQ(poe_kernel_select_read(k, tcp.listener, NULL, POE_NOARGS), 0);
        close(tcp.listener);
        tcp.listener = -1;
        TL_EQ(poe_kernel_select_read(k, tcp.server, "server_read", POE_NOARGS), 0);
        return poe_nil();
}

/* Echoes each complete line back as "echo: LINE". */
static poe_value h_server_read(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char *nl;
        ssize_t n;

        n = read(tcp.server, tcp.from_client + tcp.n_from_client,
                 sizeof(tcp.from_client) - 1 - tcp.n_from_client);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return poe_nil();
        assert_true(n >= 0);
        if (n == 0) {
                tcp.server_eof = true;
                TL_EQ(poe_kernel_select_read(k, tcp.server, NULL, POE_NOARGS), 0);
                close(tcp.server);
                tcp.server = -1;
                return poe_nil();
        }
        tcp.n_from_client += (size_t)n;
        tcp.from_client[tcp.n_from_client] = '\0';
        while ((nl = strchr(tcp.from_client, '\n'))) {
                char out[300];
                int len = snprintf(out, sizeof(out), "echo: %.*s\n",
                                   (int)(nl - tcp.from_client), tcp.from_client);

                TL_EQ(write(tcp.server, out, (size_t)len), len);
                memmove(tcp.from_client, nl + 1, strlen(nl + 1) + 1);
                tcp.n_from_client = strlen(tcp.from_client);
        }
        return poe_nil();
}

static poe_value h_connected(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        socklen_t len = sizeof(int);
        int err = -1;

        TL_EQ(poe_ctx_arg(c, 1)->u.i, 1);
        TL_EQ(getsockopt(tcp.client, SOL_SOCKET, SO_ERROR, &err, &len), 0);
        TL_EQ(err, 0);
        tcp.connected = true;
        TL_EQ(poe_kernel_select_write(k, tcp.client, NULL, POE_NOARGS), 0);
        put(tcp.client, "hello\nworld\n");
        TL_EQ(poe_kernel_select_read(k, tcp.client, "client_read", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_client_read(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        ssize_t n = read(tcp.client, tcp.from_server + tcp.n_from_server,
                         sizeof(tcp.from_server) - 1 - tcp.n_from_server);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return poe_nil();
        assert_true(n > 0);
        tcp.n_from_server += (size_t)n;
        tcp.from_server[tcp.n_from_server] = '\0';
        if (strcmp(tcp.from_server, "echo: hello\necho: world\n") == 0) {
                /* Done: hang up, which the server reads as end of file. */
                TL_EQ(poe_kernel_select_read(k, tcp.client, NULL, POE_NOARGS), 0);
                close(tcp.client);
                tcp.client = -1;
        }
        return poe_nil();
}

static poe_value h_server_start(poe_ctx *c)
{
        socklen_t len = sizeof(tcp.addr);

        tcp.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(tcp.listener >= 0);
        tcp.addr.sin_family = AF_INET;
        tcp.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        tcp.addr.sin_port = 0;
        TL_EQ(bind(tcp.listener, (struct sockaddr *)&tcp.addr, sizeof(tcp.addr)), 0);
        TL_EQ(listen(tcp.listener, 4), 0);
        TL_EQ(getsockname(tcp.listener, (struct sockaddr *)&tcp.addr, &len), 0);
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), tcp.listener, "accept", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_client_start(poe_ctx *c)
{
        int r;

        tcp.client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        assert_true(tcp.client >= 0);
        r = connect(tcp.client, (struct sockaddr *)&tcp.addr, sizeof(tcp.addr));
        assert_true(r == 0 || errno == EINPROGRESS);
        /* Writable once the connection is made (or has failed). */
        TL_EQ(poe_kernel_select_write(poe_ctx_kernel(c), tcp.client, "connected", POE_NOARGS),
              0);
        return poe_nil();
}

/* A listener on 127.0.0.1 port 0 accepts a client connecting without
 * blocking; lines are echoed; the client hangs up; everything stops. */
static void test_tcp_echo(void **state)
{
        memset(&tcp, 0, sizeof(tcp));
        tcp.listener = tcp.server = tcp.client = -1;
        TL_CREATE(tl.k, { "_start", h_server_start, NULL }, { "accept", h_accept, NULL },
                  { "server_read", h_server_read, NULL });
        assert_true(tcp.addr.sin_port != 0);
        TL_CREATE(tl.k, { "_start", h_client_start, NULL }, { "connected", h_connected, NULL },
                  { "client_read", h_client_read, NULL });
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_true(tcp.accepted);
        assert_true(tcp.connected);
        assert_string_equal(tcp.from_server, "echo: hello\necho: world\n");
        assert_true(tcp.server_eof);
        TL_EQ(tcp.listener, -1);
        TL_EQ(tcp.server, -1);
        TL_EQ(tcp.client, -1);
}

/* ---- a peer that goes away ---- */

static bool peer_eof;

static poe_value h_stream_read(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[64];
        ssize_t n;

        while ((n = get(sp[0], buf, sizeof(buf))) > 0)
                tl_log("data %s", buf);
        if (n == 0) {
                tl_log("eof");
                peer_eof = true;
                TL_EQ(poe_kernel_select_read(k, sp[0], NULL, POE_NOARGS), 0);
                close(sp[0]);
                return poe_nil();
        }
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        return poe_nil();
}

static void watch_stream(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, sp[0], "rd", POE_NOARGS), 0);
}

/* The peer writes, then writes more and closes: the reader sees the
 * data, then end of file, unwatches, and its session ends. */
static void test_peer_closes_mid_stream(void **state)
{
        poe_sid r;

        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
        peer_eof = false;
        r = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_stream_read, NULL });
        as(r, watch_stream, NULL);
        put(sp[1], "abc");
        TL_RUN_UNTIL(tl.k, strstr(tl_transcript(), "abc") != NULL, 5);
        TL_EXPECT("data abc");
        assert_true(alive(r));
        put(sp[1], "de");
        close(sp[1]);
        TL_RUN_UNTIL(tl.k, peer_eof, 5);
        TL_EXPECT("data de", "eof");
        tl_run_to_end(tl.k, 5);
        assert_false(alive(r));
}

/* ---- an fd closed behind the kernel's back ---- */

static int q[2];
static bool b_got;

static poe_value h_b_read(poe_ctx *c)
{
        char buf[16];

        assert_true(get(q[0], buf, sizeof(buf)) > 0);
        tl_log("b_rd %s", buf);
        b_got = true;
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), q[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void watch_q0(poe_kernel *k, void *ctx)
{
        TL_EQ(poe_kernel_select_read(k, q[0], "b_rd", POE_NOARGS), 0);
}

static void unwatch_pp0(poe_kernel *k, void *ctx)
{
        /* Unwatching an fd that is already closed is safe. */
        TL_EQ(poe_kernel_select_read(k, pp[0], NULL, POE_NOARGS), 0);
}

/*
 * A watched fd closed without unwatching: under select and poll the
 * kernel says so on stderr and removes the watcher (its session, with
 * nothing else, stops), without spinning and without disturbing other
 * watchers.  Under epoll the closed fd simply leaves the epoll set: the
 * watcher goes quiet and keeps its session until unwatched.
 */
static void test_fd_closed_behind_kernels_back(void **state)
{
        char err[1024];
        poe_sid a, b;
        int closed_fd;

        TL_EQ(pipe(pp), 0);
        TL_EQ(pipe(q), 0);
        b_got = false;
        a = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_both, NULL });
        b = TL_CREATE(tl.k, IO_HANDLERS, { "b_rd", h_b_read, NULL });
        as(a, watch_pp0, NULL);
        as(b, watch_q0, NULL);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1); /* the GC events */

        /* The capture's fds are made first, so none reuses the closed fd. */
        tl_stderr_begin();
        closed_fd = pp[0];
        close(pp[0]);
        put(q[1], "x");
        TL_RUN_UNTIL(tl.k, b_got, 5);
        if (is_backend("epoll")) {
                tl_stderr_end(err, sizeof(err));
                TL_EXPECT("b_rd x");
                assert_true(alive(a));
                TL_EQ(tl_reason(tl.k, a, POE_REASON_HANDLES), 1);
                assert_null(strstr(err, "was closed"));
                as(a, unwatch_pp0, NULL);
        } else {
                char want[64];

                TL_RUN_UNTIL(tl.k, !alive(a), 5);
                tl_stderr_end(err, sizeof(err));
                TL_EXPECT("b_rd x");
                snprintf(want, sizeof(want), "fd %d was closed", closed_fd);
                assert_non_null(strstr(err, want));
        }
        tl_run_to_end(tl.k, 5);
        assert_false(alive(a));
        assert_false(alive(b));
        close(pp[1]);
        close(q[0]);
        close(q[1]);
}

/* ---- many fds ---- */

struct many_fds {
        int n;
        int *fd;
        int *seen;
        int fired;
};

static struct many_fds mf;

static poe_value h_many_rd(poe_ctx *c)
{
        int i = (int)poe_ctx_arg(c, 2)->u.i;
        char ch;

        assert_true(i >= 0 && i < mf.n);
        TL_EQ(poe_ctx_arg(c, 0)->u.i, mf.fd[i]);
        TL_EQ(read(mf.fd[i], &ch, 1), 1);
        mf.seen[i]++;
        mf.fired++;
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), mf.fd[i], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void watch_many(poe_kernel *k, void *ctx)
{
        int i;

        for (i = 0; i < mf.n; i++)
                TL_EQ(poe_kernel_select_read(k, mf.fd[i], "rd", POE_ARGS(poe_int(i))), 0);
}

/* Thousands of watched fds, every one ready at once: each is reported
 * exactly once and unwatched by its handler.  10,000 under epoll, 2,000
 * under poll (O(watched fds) per wait); select cannot go past FD_SETSIZE. */
static void test_many_fds(void **state)
{
        struct rlimit rl;
        poe_sid w;
        int i;

        if (is_backend("select"))
                skip();
        mf.n = is_backend("epoll") ? 10000 : 2000;
        TL_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_cur < (rlim_t)mf.n + 100) {
                if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)mf.n + 100) {
                        print_message("RLIMIT_NOFILE hard limit %llu is too low\n",
                                      (unsigned long long)rl.rlim_max);
                        skip();
                }
                rl.rlim_cur = (rlim_t)mf.n + 100;
                TL_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
        }
        mf.fd = calloc((size_t)mf.n, sizeof(int));
        mf.seen = calloc((size_t)mf.n, sizeof(int));
        assert_true(mf.fd && mf.seen);
        mf.fired = 0;
        for (i = 0; i < mf.n; i += 2)
                TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, &mf.fd[i]), 0);
        w = TL_CREATE(tl.k, IO_HANDLERS, { "rd", h_many_rd, NULL });
        as(w, watch_many, NULL);
        TL_EQ(tl.k->n_watched_fds, (size_t)mf.n);
        /* A byte into each end makes the other end readable. */
        for (i = 0; i < mf.n; i++)
                TL_EQ(write(mf.fd[i], "x", 1), 1);
        TL_RUN_UNTIL(tl.k, mf.fired == mf.n, 100);
        for (i = 0; i < mf.n; i++)
                TL_EQ(mf.seen[i], 1);
        TL_EQ(tl.k->n_watched_fds, 0);
        tl_run_to_end(tl.k, 5);
        assert_false(alive(w));
        for (i = 0; i < mf.n; i++)
                close(mf.fd[i]);
        free(mf.fd);
        free(mf.seen);
}

int main(void)
{
        int failed;
        const struct CMUnitTest tests[] = {
                TEST(test_socketpair_io_and_arguments),
                TEST(test_pipe_io),
                TEST(test_select_sets_all_modes),
                TEST(test_expedite_with_urgent_data),
                TEST(test_read_watcher_keeps_session_alive),
                TEST(test_paused_watcher_keeps_session_alive),
                TEST(test_paused_write_watcher),
                TEST(test_reregister_keeps_first_event_and_args),
                TEST(test_handler_removes_its_own_watcher),
                TEST(test_handler_replaces_its_own_watcher),
                TEST(test_session_stop_releases_watchers),
                TEST(test_errors),
                TEST(test_tcp_echo),
                TEST(test_peer_closes_mid_stream),
                TEST(test_fd_closed_behind_kernels_back),
                TEST(test_many_fds),
        };

        tl_watchdog_start();
        failed = cmocka_run_group_tests(tests, NULL, NULL);
        tl_watchdog_stop();
        return failed;
}
