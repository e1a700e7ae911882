/*
 * Real OS signals: kill() reaching sig() watchers as POE signals raised
 * at the kernel, terminal and benign signals, the OS handler installed
 * only while watched and the old disposition restored, SIGPIPE ignored,
 * POE_USE_SIGNAL_PIPE=0, and signals from another process or thread
 * waking a kernel asleep in its wait.
 *
 * POE 1.37: POE::Loop::PerlSignals (the generic handler enqueues the
 * signal to the kernel; loop_ignore_signal puts DEFAULT back, IGNORE for
 * PIPE), POE::Resource::Signals (PIPE ignored at start-up; terminal
 * signals), POE::Kernel's _dispatch_signal_event (children first).
 *
 * Runs under each loop backend (POE_EVENT_LOOP).  Nothing waits by
 * sleeping: the kernel is driven until the transcript shows the signal,
 * with a guard timer as the deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

/* A watcher session: its heap says what to watch and how to react. */
typedef struct watcher {
        const char *name;
        const char *sigs[4]; /* signals to watch from _start, NULL-ended */
        bool handle;         /* sig_handled in on_sig */
        int got;
        poe_sid id;
} watcher;

static poe_value w_start(poe_ctx *c)
{
        watcher *w = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);
        int i;

        w->id = poe_ctx_session(c);
        /* The alias keeps it alive: watchers do not. */
        TL_EQ(poe_kernel_alias_set(k, w->name), 0);
        for (i = 0; i < 4 && w->sigs[i]; i++)
                TL_EQ(poe_kernel_sig(k, w->sigs[i], "on_sig", POE_ARGS(poe_str(w->name))), 0);
        return poe_nil();
}

static poe_value w_on_sig(poe_ctx *c)
{
        watcher *w = poe_ctx_heap(c);

        /* ARG0 the signal name, then the watcher's own arguments. */
        tl_log("%s on_sig %s %s", w->name, tl_fmt(poe_ctx_arg(c, 0)), tl_fmt(poe_ctx_arg(c, 1)));
        w->got++;
        if (w->handle)
                TL_EQ(poe_kernel_sig_handled(poe_ctx_kernel(c)), 0);
        return poe_nil();
}

static poe_value w_stop(poe_ctx *c)
{
        tl_log("%s _stop", ((watcher *)poe_ctx_heap(c))->name);
        return poe_nil();
}

/* sig(ARG0, ARG1) from inside the session; ARG1 nil unwatches. */
static poe_value w_watch(poe_ctx *c)
{
        const char *ev = poe_value_str(poe_ctx_arg(c, 1));

        return poe_int(poe_kernel_sig(poe_ctx_kernel(c), poe_value_str(poe_ctx_arg(c, 0)), ev,
                                      POE_NOARGS));
}

static poe_value w_guard(poe_ctx *c)
{
        tl_log("guard fired");
        return poe_nil();
}

/* Sets a guard timer: the deadline for a test waiting on a signal, its
 * seconds scaled for valgrind (a slow run must not look like a lost
 * signal). */
static poe_value w_set_guard(poe_ctx *c)
{
        TL_EQ(poe_kernel_delay(poe_ctx_kernel(c), "guard",
                               (double)(poe_value_int(poe_ctx_arg(c, 0)) * tl_time_scale()),
                               POE_NOARGS),
              0);
        return poe_nil();
}

static const poe_handler w_handlers[] = {
        { "_start", w_start, NULL },      { "on_sig", w_on_sig, NULL },
        { "_stop", w_stop, NULL },        { "watch", w_watch, NULL },
        { "guard", w_guard, NULL },       { "set_guard", w_set_guard, NULL },
};

static poe_sid make_watcher(poe_kernel *k, watcher *w)
{
        poe_session_spec spec = tl_spec(w_handlers, sizeof(w_handlers) / sizeof(w_handlers[0]),
                                        w);

        return tl_create_spec(k, &spec);
}

/* A parent that makes a child watcher from its _start. */
static watcher *child_to_make;

static poe_value parent_start(poe_ctx *c)
{
        w_start(c);
        if (child_to_make)
                make_watcher(poe_ctx_kernel(c), child_to_make);
        return poe_nil();
}

static poe_sid make_parent(poe_kernel *k, watcher *parent, watcher *child)
{
        poe_handler h[sizeof(w_handlers) / sizeof(w_handlers[0])];
        poe_session_spec spec;
        poe_sid sid;

        memcpy(h, w_handlers, sizeof(h));
        h[0].fn = parent_start;
        spec = tl_spec(h, sizeof(h) / sizeof(h[0]), parent);
        child_to_make = child;
        sid = tl_create_spec(k, &spec);
        child_to_make = NULL;
        return sid;
}

static bool alive(poe_kernel *k, poe_sid sid)
{
        return poe_kernel_ID_id_to_session(k, sid) == 0;
}

/* Ends whatever is left: KILL to the kernel reaches every session. */
static void finish(poe_kernel *k)
{
        if (tl_session_count(k) > 0)
                TL_EQ(poe_kernel_signal(k, POE_KERNEL, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(k), 0);
        TL_EQ(tl_session_count(k), 0);
}

static void (*disposition(int signo))(int)
{
        struct sigaction sa;

        TL_EQ(sigaction(signo, NULL, &sa), 0);
        return sa.sa_handler;
}

/* ---- delivery ---- */

static void test_usr1_reaches_every_watcher_children_first(void **state)
{
        watcher p = { .name = "P", .sigs = { "USR1" } };
        watcher c = { .name = "C", .sigs = { "USR1" } };
        watcher t = { .name = "T", .sigs = { "USR1" } };
        watcher quiet = { .name = "Q" }; /* watches nothing */
        const char *tr;

        (void)state;
        make_parent(tl.k, &p, &c);
        make_watcher(tl.k, &t);
        make_watcher(tl.k, &quiet);
        TL_EQ(kill(getpid(), SIGUSR1), 0);
        TL_RUN_UNTIL(tl.k, p.got && c.got && t.got, 20);
        tr = tl_transcript();
        /* Raised at the kernel: every watcher, each once, with its own
         * arguments after the name; C before its parent P. */
        assert_non_null(strstr(tr, "C on_sig USR1 C\n"));
        assert_non_null(strstr(tr, "P on_sig USR1 P\n"));
        assert_non_null(strstr(tr, "T on_sig USR1 T\n"));
        assert_true(strstr(tr, "C on_sig") < strstr(tr, "P on_sig"));
        TL_EQ(p.got + c.got + t.got, 3);
        /* USR1 is benign: nobody stopped. */
        assert_null(strstr(tr, "_stop"));
        assert_true(alive(tl.k, p.id) && alive(tl.k, c.id) && alive(tl.k, t.id) &&
                    alive(tl.k, quiet.id));
        /* A second signal is a second event.  The guard timer keeps the
         * kernel from calling itself idle meanwhile (IDLE would come
         * first and stop these alias-only sessions). */
        TL_EQ(poe_kernel_call(tl.k, t.id, "set_guard", POE_ARGS(poe_int(30)), NULL), 0);
        TL_EQ(kill(getpid(), SIGUSR1), 0);
        TL_RUN_UNTIL(tl.k, p.got == 2 && c.got == 2 && t.got == 2, 20);
        finish(tl.k);
}

static void test_benign_usr2_stops_nobody(void **state)
{
        watcher p = { .name = "P", .sigs = { "USR2" } };
        watcher c = { .name = "C" };
        watcher t = { .name = "T" };

        (void)state;
        make_parent(tl.k, &p, &c);
        make_watcher(tl.k, &t);
        tl_transcript_clear();
        TL_EQ(kill(getpid(), SIGUSR2), 0);
        TL_RUN_UNTIL(tl.k, p.got > 0, 20);
        TL_EXPECT("P on_sig USR2 P");
        /* Run one more slice: stops would have happened by its end. */
        TL_EQ(poe_kernel_signal(tl.k, p.id, "NOP", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        assert_true(alive(tl.k, p.id) && alive(tl.k, c.id) && alive(tl.k, t.id));
        finish(tl.k);
}

static void terminal(int signo, const char *name, bool handled)
{
        watcher p = { .name = "P", .sigs = { name }, .handle = handled };
        watcher c = { .name = "C" };
        watcher t = { .name = "T" };
        const char *tr;

        make_parent(tl.k, &p, &c);
        make_watcher(tl.k, &t);
        tl_transcript_clear();
        TL_EQ(kill(getpid(), signo), 0);
        TL_RUN_UNTIL(tl.k, p.got > 0, 20);
        if (handled) {
                /* sig_handled: nobody stops, not even after the slice. */
                TL_EQ(poe_kernel_signal(tl.k, p.id, "NOP", POE_NOARGS), 0);
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                assert_null(strstr(tl_transcript(), "_stop"));
                assert_true(alive(tl.k, p.id) && alive(tl.k, c.id) && alive(tl.k, t.id));
                finish(tl.k);
                return;
        }
        /* Unhandled: the signal went to the kernel, so every session
         * stops, watching or not. */
        TL_RUN_UNTIL(tl.k, tl_session_count(tl.k) == 0, 5);
        tr = tl_transcript();
        assert_non_null(strstr(tr, "P _stop"));
        assert_non_null(strstr(tr, "C _stop"));
        assert_non_null(strstr(tr, "T _stop"));
        assert_true(strstr(tr, "C _stop") < strstr(tr, "P _stop"));
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* The last watcher went with P: the default is back. */
        assert_true(disposition(signo) == SIG_DFL);
}

static void test_unhandled_term_stops_everyone(void **state)
{
        (void)state;
        terminal(SIGTERM, "TERM", false);
}

static void test_unhandled_int_stops_everyone(void **state)
{
        (void)state;
        terminal(SIGINT, "INT", false);
}

static void test_unhandled_hup_stops_everyone(void **state)
{
        (void)state;
        terminal(SIGHUP, "HUP", false);
}

static void test_handled_term_stops_nobody(void **state)
{
        (void)state;
        terminal(SIGTERM, "TERM", true);
}

static void test_handled_int_stops_nobody(void **state)
{
        (void)state;
        terminal(SIGINT, "INT", true);
}

static void test_handled_hup_stops_nobody(void **state)
{
        (void)state;
        terminal(SIGHUP, "HUP", true);
}

/* ---- the OS handler follows the watchers ---- */

static int call_watch(poe_kernel *k, poe_sid sid, const char *sig, const char *ev)
{
        poe_value ret = poe_nil();

        TL_EQ(poe_kernel_call(k, sid, "watch", POE_ARGS(poe_str(sig), poe_str(ev)), &ret), 0);
        return (int)poe_value_int(&ret);
}

static void test_handler_installed_only_while_watched(void **state)
{
        watcher a = { .name = "A" }, b = { .name = "B" };

        (void)state;
        /* The test process starts with the default disposition. */
        assert_true(disposition(SIGUSR1) == SIG_DFL);
        make_watcher(tl.k, &a);
        make_watcher(tl.k, &b);
        /* Nobody watches yet: making sessions installs nothing. */
        assert_true(disposition(SIGUSR1) == SIG_DFL);
        TL_EQ(call_watch(tl.k, a.id, "USR1", "on_sig"), 0);
        assert_true(disposition(SIGUSR1) != SIG_DFL);
        assert_true(disposition(SIGUSR1) != SIG_IGN);
        TL_EQ(call_watch(tl.k, b.id, "USR1", "on_sig"), 0);
        /* Replacing a watcher keeps the handler. */
        TL_EQ(call_watch(tl.k, a.id, "USR1", "on_sig"), 0);
        assert_true(disposition(SIGUSR1) != SIG_DFL);
        /* One of two watchers gone: still installed. */
        TL_EQ(call_watch(tl.k, a.id, "USR1", NULL), 0);
        assert_true(disposition(SIGUSR1) != SIG_DFL);
        /* Unwatching twice is harmless and changes nothing. */
        TL_EQ(call_watch(tl.k, a.id, "USR1", NULL), 0);
        assert_true(disposition(SIGUSR1) != SIG_DFL);
        /* The last watcher goes with its session. */
        TL_EQ(poe_kernel_signal(tl.k, b.id, "KILL", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, !alive(tl.k, b.id), 5);
        assert_true(disposition(SIGUSR1) == SIG_DFL);
        /* And it comes back on demand. */
        TL_EQ(call_watch(tl.k, a.id, "USR1", "on_sig"), 0);
        assert_true(disposition(SIGUSR1) != SIG_DFL);
        TL_EQ(call_watch(tl.k, a.id, "USR1", NULL), 0);
        assert_true(disposition(SIGUSR1) == SIG_DFL);
        /* User signal names touch no OS disposition. */
        TL_EQ(call_watch(tl.k, a.id, "SOMETHING", "on_sig"), 0);
        finish(tl.k);
}

static volatile sig_atomic_t custom_hits;

static void custom_handler(int signo)
{
        (void)signo;
        custom_hits++;
}

static void test_previous_handler_restored(void **state)
{
        watcher a = { .name = "A" };
        struct sigaction sa, old;

        (void)state;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = custom_handler;
        sigemptyset(&sa.sa_mask);
        TL_EQ(sigaction(SIGUSR2, &sa, &old), 0);
        make_watcher(tl.k, &a);
        TL_EQ(call_watch(tl.k, a.id, "USR2", "on_sig"), 0);
        assert_true(disposition(SIGUSR2) != custom_handler);
        /* While watched, the kernel has the signal, not the old handler. */
        custom_hits = 0;
        TL_EQ(kill(getpid(), SIGUSR2), 0);
        TL_RUN_UNTIL(tl.k, a.got > 0, 20);
        TL_EQ(custom_hits, 0);
        TL_EQ(call_watch(tl.k, a.id, "USR2", NULL), 0);
        assert_true(disposition(SIGUSR2) == custom_handler);
        TL_EQ(kill(getpid(), SIGUSR2), 0);
        TL_EQ(custom_hits, 1);
        TL_EQ(sigaction(SIGUSR2, &old, NULL), 0);
        finish(tl.k);
}

static void test_kernel_free_restores(void **state)
{
        watcher a = { .name = "A", .sigs = { "WINCH" } };

        (void)state;
        assert_true(disposition(SIGWINCH) == SIG_DFL);
        make_watcher(tl.k, &a);
        assert_true(disposition(SIGWINCH) != SIG_DFL);
        /* Freed with the watcher still in place (as at program exit). */
        tl_kernel_free_checked();
        assert_true(disposition(SIGWINCH) == SIG_DFL);
}

/* Two kernels watching the same signal: both get it; the handler stays
 * until neither watches. */
static void test_two_kernels(void **state)
{
        poe_kernel *k2 = NULL;
        watcher a = { .name = "A", .sigs = { "USR1" } };
        watcher b = { .name = "B", .sigs = { "USR1" } };

        (void)state;
        TL_EQ(poe_kernel_new(&k2, NULL), 0);
        make_watcher(tl.k, &a);
        make_watcher(k2, &b);
        /* Guard timers keep both kernels from going idle. */
        TL_EQ(poe_kernel_call(tl.k, a.id, "set_guard", POE_ARGS(poe_int(30)), NULL), 0);
        TL_EQ(poe_kernel_call(k2, b.id, "set_guard", POE_ARGS(poe_int(30)), NULL), 0);
        TL_EQ(kill(getpid(), SIGUSR1), 0);
        TL_RUN_UNTIL(tl.k, a.got > 0, 20);
        TL_RUN_UNTIL(k2, b.got > 0, 20);
        TL_EQ(call_watch(tl.k, a.id, "USR1", NULL), 0);
        assert_true(disposition(SIGUSR1) != SIG_DFL);
        TL_EQ(kill(getpid(), SIGUSR1), 0);
        TL_RUN_UNTIL(k2, b.got > 1, 20);
        TL_EQ(a.got, 1);
        finish(k2);
        poe_kernel_free(k2);
        assert_true(disposition(SIGUSR1) == SIG_DFL);
        finish(tl.k);
}

/* ---- SIGPIPE ---- */

static void test_sigpipe_ignored(void **state)
{
        watcher a = { .name = "A" };
        int sv[2];
        ssize_t r;

        (void)state;
        /* The kernel ignores SIGPIPE while nobody watches it, so writing
         * to a closed peer fails instead of killing the program. */
        assert_true(disposition(SIGPIPE) == SIG_IGN);
        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        close(sv[1]);
        errno = 0;
        r = write(sv[0], "x", 1);
        TL_EQ(r, -1);
        TL_EQ(errno, EPIPE);
        /* Watched, it is a POE signal like any other ... */
        make_watcher(tl.k, &a);
        TL_EQ(call_watch(tl.k, a.id, "PIPE", "on_sig"), 0);
        assert_true(disposition(SIGPIPE) != SIG_IGN);
        errno = 0;
        r = write(sv[0], "x", 1);
        TL_EQ(r, -1);
        TL_EQ(errno, EPIPE);
        TL_RUN_UNTIL(tl.k, a.got > 0, 20);
        TL_EXPECT("A on_sig PIPE undef");
        /* ... and unwatched it goes back to ignored (POE: IGNORE). */
        TL_EQ(call_watch(tl.k, a.id, "PIPE", NULL), 0);
        assert_true(disposition(SIGPIPE) == SIG_IGN);
        close(sv[0]);
        finish(tl.k);
}

/* ---- waking a sleeping kernel ---- */

/* The state letter of a task in /proc ('S' while blocked in a wait). */
static char task_state(const char *path)
{
        char buf[512], *p;
        FILE *f = fopen(path, "r");
        size_t n;

        if (!f)
                return '?';
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')'); /* the name may hold spaces */
        return p && p[1] == ' ' ? p[2] : '?';
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits (with a deadline) until the task sleeps, then signals it.  Used
 * from a child process or a thread: the kernel must be blocked in its
 * wait when the signal arrives, which is the case being tested. */
static int signal_when_asleep(const char *stat_path, pid_t pid, pid_t tid, int signo)
{
        double deadline = now_s() + 10.0 * tl_time_scale();
        int asleep = 0;

        while (now_s() < deadline) {
                if (task_state(stat_path) == 'S') {
                        /* Seen twice in a row: past any brief block. */
                        if (++asleep == 2)
                                break;
                } else {
                        asleep = 0;
                }
                sched_yield();
        }
        if (tid)
                return (int)syscall(SYS_tgkill, pid, tid, signo);
        return kill(pid, signo);
}

static void from_process(poe_kernel *k)
{
        watcher a = { .name = "A", .sigs = { "USR1" } };
        char path[64];
        pid_t parent = getpid(), child;
        int status = -1;

        make_watcher(k, &a);
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)parent);
        /* The guard is set before the fork: the child only waits and
         * signals. */
        TL_EQ(poe_kernel_call(k, a.id, "set_guard", POE_ARGS(poe_int(5)), NULL), 0);
        TL_RUN_UNTIL(k, poe_kernel_get_event_count(k) == 1, 10);
        tl_transcript_clear();
        fflush(NULL);
        child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(signal_when_asleep(path, parent, 0, SIGUSR1) == 0 ? 0 : 1);
        TL_RUN_UNTIL(k, a.got > 0 || strstr(tl_transcript(), "guard") != NULL, 50);
        assert_null(strstr(tl_transcript(), "guard fired"));
        TL_EQ(a.got, 1);
        TL_EQ(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        TL_EQ(WEXITSTATUS(status), 0);
        finish(k);
}

static void test_signal_from_another_process_wakes_kernel(void **state)
{
        (void)state;
        from_process(tl.k);
}

struct thread_arg {
        pid_t pid, tid;
        int rc;
};

static void *thread_main(void *p)
{
        struct thread_arg *t = p;
        char path[96];

        snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)t->pid, (int)t->tid);
        t->rc = signal_when_asleep(path, t->pid, t->tid, SIGUSR1);
        return NULL;
}

static void from_thread(poe_kernel *k)
{
        watcher a = { .name = "A", .sigs = { "USR1" } };
        struct thread_arg t = { getpid(), (pid_t)syscall(SYS_gettid), -1 };
        pthread_t th;

        make_watcher(k, &a);
        TL_EQ(poe_kernel_call(k, a.id, "set_guard", POE_ARGS(poe_int(5)), NULL), 0);
        TL_RUN_UNTIL(k, poe_kernel_get_event_count(k) == 1, 10);
        tl_transcript_clear();
        /* The thread sends the signal to this (the kernel's) thread. */
        TL_EQ(pthread_create(&th, NULL, thread_main, &t), 0);
        TL_RUN_UNTIL(k, a.got > 0 || strstr(tl_transcript(), "guard") != NULL, 50);
        TL_EQ(pthread_join(th, NULL), 0);
        TL_EQ(t.rc, 0);
        assert_null(strstr(tl_transcript(), "guard fired"));
        TL_EQ(a.got, 1);
        finish(k);
}

static void test_signal_from_another_thread_wakes_kernel(void **state)
{
        (void)state;
        from_thread(tl.k);
}

/* A signal caught just before the kernel goes to sleep must not wait
 * for something else to wake it. */
static void before_wait(poe_kernel *k)
{
        watcher a = { .name = "A", .sigs = { "USR1" } };

        make_watcher(k, &a);
        TL_EQ(poe_kernel_call(k, a.id, "set_guard", POE_ARGS(poe_int(5)), NULL), 0);
        TL_RUN_UNTIL(k, poe_kernel_get_event_count(k) == 1, 10);
        tl_transcript_clear();
        TL_EQ(kill(getpid(), SIGUSR1), 0);
        TL_RUN_UNTIL(k, a.got > 0 || strstr(tl_transcript(), "guard") != NULL, 50);
        assert_null(strstr(tl_transcript(), "guard fired"));
        TL_EQ(a.got, 1);
        finish(k);
}

static void test_signal_before_wait(void **state)
{
        (void)state;
        before_wait(tl.k);
}

/*
 * run() dispatches a chain of yields without waiting between them (only
 * posts are pending: kernel/slice.h), and begins each slice from the end
 * of the last (events.c).  An OS signal caught meanwhile must end that:
 * the next slice delivers it.  The handler raises it itself (kill: the
 * OS handler runs before kill returns), so it is pending before the next
 * yield; the chain has a thousand more for it to arrive in, where the
 * next slice needs one or two.  With the pipe and without.
 */
#define SPIN_LIMIT 1000

static long spins, spins_at_kill, spins_at_sig;

static poe_value spin_h(poe_ctx *c)
{
        if (++spins == 10) {
                TL_EQ(kill(getpid(), SIGUSR1), 0);
                spins_at_kill = spins;
        }
        if (!spins_at_sig && spins < SPIN_LIMIT)
                poe_kernel_yield(poe_ctx_kernel(c), "spin", POE_NOARGS);
        return poe_nil();
}

static poe_value spin_sig(poe_ctx *c)
{
        spins_at_sig = spins;
        /* The watch goes, so the session ends with its chain. */
        poe_kernel_sig(poe_ctx_kernel(c), "USR1", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value spin_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "USR1", "sig", POE_NOARGS);
        poe_kernel_yield(poe_ctx_kernel(c), "spin", POE_NOARGS);
        return poe_nil();
}

static void yield_chain_takes_signal(poe_kernel *k)
{
        spins = spins_at_kill = spins_at_sig = 0;
        TL_CREATE(k, { "_start", spin_start, NULL }, { "spin", spin_h, NULL },
                  { "sig", spin_sig, NULL });
        TL_EQ(poe_kernel_run(k), 0);
        TL_EQ(spins_at_kill, 10);
        assert_true(spins_at_sig > 0);
        assert_true(spins_at_sig <= spins_at_kill + 2);
        TL_EQ(tl_session_count(k), 0);
}

static void test_yield_chain_takes_signal(void **state)
{
        (void)state;
        yield_chain_takes_signal(tl.k);
}

/* ---- POE_USE_SIGNAL_PIPE=0 ---- */

static void renew_without_pipe(void)
{
        poe_allocator al = tl_allocator(&tl.alloc);

        tl_kernel_free_checked();
        setenv("POE_USE_SIGNAL_PIPE", "0", 1);
        TL_EQ(poe_kernel_new(&tl.k, &al), 0);
        unsetenv("POE_USE_SIGNAL_PIPE");
}

static void test_no_pipe_delivers(void **state)
{
        watcher p = { .name = "P", .sigs = { "USR1" } };
        watcher c = { .name = "C", .sigs = { "USR1" } };

        (void)state;
        renew_without_pipe();
        make_parent(tl.k, &p, &c);
        TL_EQ(kill(getpid(), SIGUSR1), 0);
        TL_RUN_UNTIL(tl.k, p.got && c.got, 20);
        TL_EXPECT("C on_sig USR1 C", "P on_sig USR1 P");
        finish(tl.k);
}

static void test_no_pipe_signal_before_wait(void **state)
{
        (void)state;
        renew_without_pipe();
        before_wait(tl.k);
}

/* libuv retries its wait when a signal interrupts it, so under
 * POE_EVENT_LOOP=uv only the signal pipe can wake the kernel (poe.h,
 * "Other event loops"): these two have nothing to test there. */
static void skip_under_uv(void)
{
        if (strcmp(poe_kernel_loop_name(tl.k), "uv") == 0)
                skip();
}

static void test_no_pipe_signal_from_another_process(void **state)
{
        (void)state;
        skip_under_uv();
        renew_without_pipe();
        from_process(tl.k);
}

static void test_no_pipe_signal_from_another_thread(void **state)
{
        (void)state;
        skip_under_uv();
        renew_without_pipe();
        from_thread(tl.k);
}

static void test_no_pipe_yield_chain_takes_signal(void **state)
{
        (void)state;
        renew_without_pipe();
        yield_chain_takes_signal(tl.k);
}

static void test_no_pipe_terminal(void **state)
{
        (void)state;
        renew_without_pipe();
        terminal(SIGTERM, "TERM", false);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_usr1_reaches_every_watcher_children_first),
                TL_TEST(test_benign_usr2_stops_nobody),
                TL_TEST(test_unhandled_term_stops_everyone),
                TL_TEST(test_unhandled_int_stops_everyone),
                TL_TEST(test_unhandled_hup_stops_everyone),
                TL_TEST(test_handled_term_stops_nobody),
                TL_TEST(test_handled_int_stops_nobody),
                TL_TEST(test_handled_hup_stops_nobody),
                TL_TEST(test_handler_installed_only_while_watched),
                TL_TEST(test_previous_handler_restored),
                TL_TEST(test_kernel_free_restores),
                TL_TEST(test_two_kernels),
                TL_TEST(test_sigpipe_ignored),
                TL_TEST(test_signal_before_wait),
                TL_TEST(test_signal_from_another_process_wakes_kernel),
                TL_TEST(test_signal_from_another_thread_wakes_kernel),
                TL_TEST(test_yield_chain_takes_signal),
                TL_TEST(test_no_pipe_delivers),
                TL_TEST(test_no_pipe_signal_before_wait),
                TL_TEST(test_no_pipe_signal_from_another_process),
                TL_TEST(test_no_pipe_signal_from_another_thread),
                TL_TEST(test_no_pipe_yield_chain_takes_signal),
                TL_TEST(test_no_pipe_terminal),
        };

        static const int tested[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2 };
        size_t i;

        /* The tests check that the kernel puts back the disposition it
         * found, and expect that to be the default: start from it,
         * whatever the parent left (nohup ignores SIGHUP, for one). */
        for (i = 0; i < sizeof(tested) / sizeof(*tested); i++)
                signal(tested[i], SIG_DFL);
        /* The hard backstop: a kernel asleep for good fails the run. */
        alarm(60);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
