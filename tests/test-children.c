/*
 * Child processes: sig_child with real fork()s.  The event's arguments
 * (ARG0 "CHLD", ARG1 the pid, ARG2 the wait status, then the watch's),
 * the session kept alive by the watch alone, the watch cleared after
 * delivery, children killed by signals, several children, cancelling a
 * watch, CHLD reaching sig() watchers, polling with POE_USE_SIGCHLD=0,
 * and has_forked in a child that runs the kernel it inherited.
 *
 * POE 1.37: POE::Resource::Signals' _data_sig_reap_pids (the sig_child
 * event, then CHLD raised at the kernel with the pid and status) and
 * _data_sig_has_forked; POE::Kernel's sig_child.
 *
 * Children block on a pipe until the test lets them go, so "still
 * running" is a fact, not a matter of timing.  Runs under each loop
 * backend (POE_EVENT_LOOP).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#include "internal.h"
#include "signals.h"

/* A child that waits for a byte on go[0], then exits with code. */
typedef struct kid {
        pid_t pid;
        int go[2];
} kid;

static void kid_spawn(kid *c, int code)
{
        assert_true(pipe(c->go) == 0);
        fflush(NULL);
        c->pid = fork();
        assert_true(c->pid >= 0);
        if (c->pid == 0) {
                char b;

                close(c->go[1]);
                /* EOF (the parent gone) also lets it go. */
                while (read(c->go[0], &b, 1) < 0 && errno == EINTR)
                        ;
                _exit(code);
        }
        close(c->go[0]);
}

static void kid_release(kid *c)
{
        if (c->go[1] >= 0) {
                TL_EQ(write(c->go[1], "g", 1), 1);
                close(c->go[1]);
                c->go[1] = -1;
        }
}

static bool kid_running(const kid *c)
{
        /* Not reaped yet and not a zombie: still blocked on its pipe. */
        char path[64], buf[256], *p;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)c->pid);
        f = fopen(path, "r");
        if (!f)
                return false;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        return p && p[1] == ' ' && p[2] != 'Z';
}

/* ---- the watching session ---- */

typedef struct watch {
        kid *kids;
        int n_kids;
        int got;
        int64_t pid[8], status[8];
        char extra[8][64];
        bool still_watched_in_handler;
        poe_sid id;
} watch;

static watch W;

static poe_value on_reaped(poe_ctx *c)
{
        int i = W.got++;

        assert_true(i < 8);
        TL_EQ(poe_ctx_argc(c), 5);
        assert_string_equal(poe_value_str(poe_ctx_arg(c, 0)), "CHLD");
        W.pid[i] = poe_value_int(poe_ctx_arg(c, 1));
        W.status[i] = poe_value_int(poe_ctx_arg(c, 2));
        snprintf(W.extra[i], sizeof(W.extra[i]), "%s %s", tl_fmt(poe_ctx_arg(c, 3)),
                 tl_fmt(poe_ctx_arg(c, 4)));
        /* The watch ended with the event: nothing holds the session for
         * this child any more (the other children may still). */
        W.still_watched_in_handler =
                tl_reason(poe_ctx_kernel(c), poe_ctx_session(c), POE_REASON_SIGCHILD) >=
                (long)(W.n_kids - W.got + 1);
        tl_log("reaped %d", (int)WEXITSTATUS((int)W.status[i]));
        return poe_nil();
}

static poe_value w_start(poe_ctx *c)
{
        int i;

        W.id = poe_ctx_session(c);
        for (i = 0; i < W.n_kids; i++)
                TL_EQ(poe_kernel_sig_child(poe_ctx_kernel(c), W.kids[i].pid, "reaped",
                                           POE_ARGS(poe_str("extra"), poe_int(i))),
                      0);
        return poe_nil();
}

static poe_value w_stop(poe_ctx *c)
{
        tl_log("watcher _stop");
        return poe_nil();
}

/* sig_child(ARG0, "reaped") again, with other arguments. */
static poe_value w_rewatch(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig_child(poe_ctx_kernel(c), (int)poe_value_int(poe_ctx_arg(c, 0)),
                                   "reaped", POE_ARGS(poe_str("second"), poe_int(1))),
              0);
        return poe_nil();
}

/* sig_child(ARG0, NULL) from inside the session. */
static poe_value w_cancel(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig_child(poe_ctx_kernel(c), (int)poe_value_int(poe_ctx_arg(c, 0)),
                                   NULL, POE_NOARGS),
              0);
        tl_log("cancelled");
        return poe_nil();
}

static poe_sid make_watch_session(kid *kids, int n)
{
        memset(&W, 0, sizeof(W));
        W.kids = kids;
        W.n_kids = n;
        return TL_CREATE(tl.k, { "_start", w_start }, { "reaped", on_reaped },
                         { "_stop", w_stop }, { "cancel", w_cancel },
                         { "rewatch", w_rewatch });
}

/* A ticker session: counts slices with yields, releases a child on its
 * last tick, and checks that the watcher is still there before that. */
typedef struct ticker {
        int ticks, left;
        kid *release;
        poe_sid watcher;
        bool watcher_alive_throughout;
} ticker;

static ticker TK;

static poe_value t_start(poe_ctx *c)
{
        TK.watcher_alive_throughout = true;
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value t_tick(poe_ctx *c)
{
        TK.ticks++;
        if (poe_kernel_ID_id_to_session(poe_ctx_kernel(c), TK.watcher) != 0)
                TK.watcher_alive_throughout = false;
        if (--TK.left > 0) {
                TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS), 0);
                return poe_nil();
        }
        if (TK.release)
                kid_release(TK.release);
        return poe_nil();
}

static void make_ticker(poe_sid watcher, int n, kid *release)
{
        memset(&TK, 0, sizeof(TK));
        TK.left = n;
        TK.release = release;
        TK.watcher = watcher;
        TL_CREATE(tl.k, { "_start", t_start }, { "tick", t_tick });
}

/* ---- the tests ---- */

static void test_exit_status_and_args(void **state)
{
        kid k1;
        poe_sid sid;

        (void)state;
        kid_spawn(&k1, 3);
        sid = make_watch_session(&k1, 1);
        TL_EQ(tl_reason(tl.k, sid, POE_REASON_SIGCHILD), 1);
        /* The watcher has nothing else; the ticker lives ten slices and
         * only then lets the child exit. */
        make_ticker(sid, 10, &k1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_true(TK.watcher_alive_throughout);
        TL_EQ(TK.ticks, 10);
        TL_EQ(W.got, 1);
        TL_EQ(W.pid[0], k1.pid);
        assert_true(WIFEXITED((int)W.status[0]));
        TL_EQ(WEXITSTATUS((int)W.status[0]), 3);
        assert_string_equal(W.extra[0], "extra 0");
        assert_false(W.still_watched_in_handler);
        /* Delivered, then the session had nothing left and stopped. */
        TL_EXPECT("reaped 3", "watcher _stop");
        TL_EQ(tl_session_count(tl.k), 0);
        TL_EQ(tl.k->n_pidwatches, 0);
        /* Reaped by the kernel: nothing left for us. */
        TL_EQ(waitpid(k1.pid, NULL, WNOHANG), -1);
        TL_EQ(errno, ECHILD);
}

static void test_child_exited_before_watch(void **state)
{
        kid k1;

        (void)state;
        /* The child is gone (a zombie) before sig_child is called: the
         * first reap must find it. */
        kid_spawn(&k1, 9);
        kid_release(&k1);
        {
                siginfo_t si;

                memset(&si, 0, sizeof(si));
                /* Wait for it to exit without reaping it. */
                TL_EQ(waitid(P_PID, (id_t)k1.pid, &si, WEXITED | WNOWAIT), 0);
        }
        make_watch_session(&k1, 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(W.got, 1);
        TL_EQ(WEXITSTATUS((int)W.status[0]), 9);
}

static void test_killed_by_signal(void **state)
{
        kid k1;

        (void)state;
        kid_spawn(&k1, 0);
        make_watch_session(&k1, 1);
        TL_EQ(kill(k1.pid, SIGKILL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        close(k1.go[1]);
        TL_EQ(W.got, 1);
        TL_EQ(W.pid[0], k1.pid);
        assert_true(WIFSIGNALED((int)W.status[0]));
        TL_EQ(WTERMSIG((int)W.status[0]), SIGKILL);
}

static void test_several_children(void **state)
{
        kid ks[3];
        int i, j, seen = 0;

        (void)state;
        for (i = 0; i < 3; i++)
                kid_spawn(&ks[i], 10 + i);
        make_watch_session(ks, 3);
        TL_EQ(tl_reason(tl.k, W.id, POE_REASON_SIGCHILD), 3);
        /* Released in reverse order of the watches. */
        for (i = 2; i >= 0; i--)
                kid_release(&ks[i]);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(W.got, 3);
        /* Each child's event carries its own pid, status and arguments. */
        for (i = 0; i < 3; i++) {
                for (j = 0; j < 3; j++) {
                        char want[64];

                        if (W.pid[i] != ks[j].pid)
                                continue;
                        seen |= 1 << j;
                        TL_EQ(WEXITSTATUS((int)W.status[i]), 10 + j);
                        snprintf(want, sizeof(want), "extra %d", j);
                        assert_string_equal(W.extra[i], want);
                }
        }
        TL_EQ(seen, 7);
        assert_non_null(strstr(tl_transcript(), "watcher _stop"));
}

static void test_cancel_stops_waiting(void **state)
{
        kid k1;
        int status = -1;
        poe_sid sid;

        (void)state;
        kid_spawn(&k1, 4);
        sid = make_watch_session(&k1, 1);
        TL_EQ(poe_kernel_call(tl.k, sid, "cancel", POE_ARGS(poe_int(k1.pid)), NULL), 0);
        TL_EQ(tl_reason(tl.k, sid, POE_REASON_SIGCHILD), 0);
        /* Nothing holds the session now: it stops although the child
         * runs on. */
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("cancelled", "watcher _stop");
        TL_EQ(W.got, 0);
        assert_true(kid_running(&k1));
        /* The child is ours to reap. */
        kid_release(&k1);
        TL_EQ(waitpid(k1.pid, &status, 0), k1.pid);
        TL_EQ(WEXITSTATUS(status), 4);
        /* Cancelling a watch that does not exist is fine. */
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "cancel", w_cancel });
        TL_EQ(poe_kernel_call(tl.k, sid, "cancel", POE_ARGS(poe_int(k1.pid)), NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void test_second_watch_replaces(void **state)
{
        kid k1;
        poe_sid sid;

        (void)state;
        kid_spawn(&k1, 6);
        sid = make_watch_session(&k1, 1);
        /* Watching the same pid again replaces the arguments: one event,
         * and one count held. */
        TL_EQ(poe_kernel_call(tl.k, sid, "rewatch", POE_ARGS(poe_int(k1.pid)), NULL), 0);
        TL_EQ(tl_reason(tl.k, sid, POE_REASON_SIGCHILD), 1);
        kid_release(&k1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(W.got, 1);
        assert_string_equal(W.extra[0], "second 1");
        TL_EXPECT("reaped 6", "watcher _stop");
}

/* sig("CHLD") watchers: the kernel raises CHLD with pid and status. */
typedef struct chld_watch {
        int got;
        int64_t pid, status;
} chld_watch;

static chld_watch CW;

static poe_value cw_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "chld-watcher"), 0);
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "CHLD", "on_chld", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value cw_on_chld(poe_ctx *c)
{
        assert_string_equal(poe_value_str(poe_ctx_arg(c, 0)), "CHLD");
        CW.pid = poe_value_int(poe_ctx_arg(c, 1));
        CW.status = poe_value_int(poe_ctx_arg(c, 2));
        CW.got++;
        tl_log("on_chld");
        /* Done: let the kernel wind down. */
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "chld-watcher"), 0);
        return poe_nil();
}

static void test_chld_reaches_sig_watchers(void **state)
{
        kid k1;

        (void)state;
        memset(&CW, 0, sizeof(CW));
        kid_spawn(&k1, 5);
        TL_CREATE(tl.k, { "_start", cw_start }, { "on_chld", cw_on_chld });
        make_watch_session(&k1, 1);
        kid_release(&k1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(W.got, 1);
        TL_EQ(CW.got, 1);
        TL_EQ(CW.pid, k1.pid);
        assert_true(WIFEXITED((int)CW.status));
        TL_EQ(WEXITSTATUS((int)CW.status), 5);
        /* The sig_child event is queued before the CHLD signal. */
        assert_true(strstr(tl_transcript(), "reaped 5") < strstr(tl_transcript(), "on_chld"));
}

static void test_chld_watcher_alone(void **state)
{
        kid k1;

        (void)state;
        /* Only a sig(CHLD) watcher and a live child: the kernel waits for
         * the child (POE's _data_sig_kernel_awaits_pids) instead of
         * calling itself idle. */
        memset(&CW, 0, sizeof(CW));
        kid_spawn(&k1, 8);
        TL_CREATE(tl.k, { "_start", cw_start }, { "on_chld", cw_on_chld });
        make_ticker(0, 5, &k1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(CW.got, 1);
        TL_EQ(CW.pid, k1.pid);
        TL_EQ(WEXITSTATUS((int)CW.status), 8);
}

/* ---- POE_USE_SIGCHLD=0 ---- */

static void test_polling(void **state)
{
        poe_allocator al = tl_allocator(&tl.alloc);
        struct sigaction sa;
        kid k1;
        poe_sid sid;

        (void)state;
        tl_kernel_free_checked();
        setenv("POE_USE_SIGCHLD", "0", 1);
        setenv("POE_CHILD_POLLING_INTERVAL", "0.05", 1);
        TL_EQ(poe_kernel_new(&tl.k, &al), 0);
        unsetenv("POE_USE_SIGCHLD");
        unsetenv("POE_CHILD_POLLING_INTERVAL");
        kid_spawn(&k1, 7);
        sid = make_watch_session(&k1, 1);
        /* Polling: no SIGCHLD handler is installed. */
        TL_EQ(sigaction(SIGCHLD, NULL, &sa), 0);
        assert_true(sa.sa_handler == SIG_DFL);
        make_ticker(sid, 5, &k1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_true(TK.watcher_alive_throughout);
        TL_EQ(W.got, 1);
        TL_EQ(W.pid[0], k1.pid);
        TL_EQ(WEXITSTATUS((int)W.status[0]), 7);
        TL_EXPECT("reaped 7", "watcher _stop");
}

/* ---- has_forked ---- */

/* In the child: a session of its own that uses a timer, I/O and a
 * signal, all of which need the state has_forked rebuilt. */
typedef struct forked {
        int ticks, reads, sigs;
        int pfd[2];
} forked;

static forked FK;

static poe_value f_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        if (poe_kernel_delay(k, "tick", 0.01, POE_NOARGS) < 0 ||
            poe_kernel_select_read(k, FK.pfd[0], "readable", POE_NOARGS) < 0 ||
            poe_kernel_sig(k, "USR1", "on_usr1", POE_NOARGS) < 0)
                _exit(20);
        if (write(FK.pfd[1], "r", 1) != 1)
                _exit(21);
        return poe_nil();
}

static poe_value f_tick(poe_ctx *c)
{
        if (++FK.ticks == 2)
                kill(getpid(), SIGUSR1);
        /* Three ticks, and on until the signal was dispatched: on a busy
         * machine the third tick can be due by the time the loop looks
         * at the signal pipe.  (alarm() below is the backstop.) */
        if (FK.ticks < 3 || !FK.sigs)
                poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_NOARGS);
        return poe_nil();
}

static poe_value f_readable(poe_ctx *c)
{
        char b;

        if (read(FK.pfd[0], &b, 1) == 1)
                FK.reads++;
        poe_kernel_select_read(poe_ctx_kernel(c), FK.pfd[0], NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value f_usr1(poe_ctx *c)
{
        FK.sigs++;
        poe_kernel_sig(poe_ctx_kernel(c), "USR1", NULL, POE_NOARGS);
        return poe_nil();
}

/*
 * In the parent: a session that waits for the child and watches a pipe
 * of its own from before the fork.  The child, which inherits that
 * watcher, stops the session in its copy of the kernel, unwatching the
 * pipe; without has_forked rebuilding the backend, that would remove the
 * pipe from an epoll set the two processes share, and the parent would
 * never hear of it again.
 */
typedef struct parent_side {
        pid_t child;
        int got, ticks, reads;
        int64_t status;
        int pp[2];
        double deadline;
} parent_side;

static parent_side PS;

static poe_value ps_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), PS.pp[0], "readable", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value ps_watch(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig_child(poe_ctx_kernel(c), PS.child, "reaped", POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_NOARGS), 0);
        return poe_nil();
}

static double mono_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ticks until the pipe was read, or until a real deadline: 5 s, scaled
 * for valgrind.  (It used to count 500 ticks, which is 5 s only when
 * every 10 ms timer fires on time.) */
static poe_value ps_tick(poe_ctx *c)
{
        if (!PS.ticks++)
                PS.deadline = mono_now() + 5.0 * tl_time_scale();
        if (!PS.reads && mono_now() < PS.deadline)
                TL_EQ(poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_NOARGS), 0);
        else if (!PS.reads)
                /* Deadline: give up on the pipe so that the session ends
                 * and the assertions below report it. */
                TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), PS.pp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value ps_reaped(poe_ctx *c)
{
        PS.got++;
        PS.status = poe_value_int(poe_ctx_arg(c, 2));
        /* The child is gone, its unwatching long done: now the pipe. */
        TL_EQ(write(PS.pp[1], "p", 1), 1);
        return poe_nil();
}

static poe_value ps_readable(poe_ctx *c)
{
        char b;

        TL_EQ(read(PS.pp[0], &b, 1), 1);
        PS.reads++;
        TL_EQ(poe_kernel_select_read(poe_ctx_kernel(c), PS.pp[0], NULL, POE_NOARGS), 0);
        return poe_nil();
}

static void test_has_forked(void **state)
{
        poe_sid ps;
        pid_t child;
        int r;

        (void)state;
        memset(&PS, 0, sizeof(PS));
        TL_EQ(pipe(PS.pp), 0);
        /* The kernel has a session watching a pipe (and its signal pipe,
         * its epoll set, its eventfd) before the fork. */
        ps = TL_CREATE(tl.k, { "_start", ps_start }, { "watch", ps_watch }, { "tick", ps_tick },
                       { "reaped", ps_reaped }, { "readable", ps_readable });
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        fflush(NULL);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                poe_session_spec spec;
                static const poe_handler fh[] = {
                        { "_start", f_start, NULL },
                        { "tick", f_tick, NULL },
                        { "readable", f_readable, NULL },
                        { "on_usr1", f_usr1, NULL },
                };

                char old_id[160], pid_part[16];
                int id_problem;

                /* No cmocka in here: plain checks and an exit code. */
                alarm(20 * (unsigned)tl_time_scale());
                snprintf(old_id, sizeof(old_id), "%s", poe_kernel_id(tl.k));
                if (poe_kernel_has_forked(tl.k) != 0)
                        _exit(10);
                /* POE's has_forked recalculates the kernel's id, which
                 * holds the pid ("host-time-pid-seq"). */
                snprintf(pid_part, sizeof(pid_part), "-%08x-", (unsigned)getpid());
                id_problem = strcmp(old_id, poe_kernel_id(tl.k)) == 0 ? 30
                             : !strstr(poe_kernel_id(tl.k), pid_part) ? 31
                                                                       : 0;
                /* The parent's session is the parent's business. */
                if (poe_kernel_signal(tl.k, ps, "KILL", POE_NOARGS) != 0)
                        _exit(11);
                if (pipe(FK.pfd) != 0)
                        _exit(12);
                memset(&spec, 0, sizeof(spec));
                spec.handlers = fh;
                spec.n_handlers = 4;
                if (poe_session_create(tl.k, &spec, NULL) != 0)
                        _exit(13);
                r = poe_kernel_run(tl.k);
                if (r != 0)
                        _exit(14);
                if (FK.ticks < 3 || FK.reads != 1 || FK.sigs != 1)
                        _exit(15 + (FK.ticks < 3) + 2 * (FK.reads != 1));
                _exit(id_problem ? id_problem : 42);
        }
        PS.child = child;
        TL_EQ(poe_kernel_call(tl.k, ps, "watch", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(PS.got, 1);
        /* The parent still hears its own pipe. */
        TL_EQ(PS.reads, 1);
        assert_true(WIFEXITED((int)PS.status));
        /* 42: all well.  10-14: has_forked, signal, pipe, create or run
         * failed; 15-18: the child's timer (+1) or pipe (+2) did not
         * work as it should, or its signal (15) did not arrive; 30: the
         * kernel id did not change; 31: it does not hold the new pid. */
        TL_EQ(WEXITSTATUS((int)PS.status), 42);
        close(PS.pp[0]);
        close(PS.pp[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_exit_status_and_args),
                TL_TEST(test_child_exited_before_watch),
                TL_TEST(test_killed_by_signal),
                TL_TEST(test_several_children),
                TL_TEST(test_cancel_stops_waiting),
                TL_TEST(test_second_watch_replaces),
                TL_TEST(test_chld_reaches_sig_watchers),
                TL_TEST(test_chld_watcher_alone),
                TL_TEST(test_polling),
                TL_TEST(test_has_forked),
        };

        /* The hard backstop: a kernel waiting for a child for good fails
         * the run instead of hanging it. */
        alarm(60);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
