/*
 * POE t/20_resources/00_base/filehandles.pm: watching file descriptors
 * in each mode, the per-fd and per-session structures, pausing and
 * resuming, removing watchers, and the session's reference count (one
 * per descriptor, whatever its modes).  Upstream calls
 * POE::Resource::FileHandles' private _data_handle_* for the kernel's
 * own session; here a session watches with select_read/_write/_expedite
 * (and select_pause_read/_resume_read) from its handlers and everything
 * is read with poe_peek_watchers and poe_peek_session.  A handle is its
 * fd in C: POE::Pipe::TwoWay->new("inet") is socketpair(2), each end
 * being both a "read" and a "write" handle.  _data_handle_enqueue_ready
 * and _data_ev_dispatch_due are the kernel dispatching the socket's
 * write readiness, checked in the handler it reaches.  Upstream's
 * states: 'r' is watched and running, 'p' watched and paused or not
 * watched, 's' not watched.  Tied Perl handles are skips.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

#define SKIP_TIED "a tied Perl filehandle: no C counterpart"

static poe_kernel *k;
static poe_sid me;
static int a_fd = -1, b_fd = -1, base_refcount;

struct fdinfo {
        int fd;
        poe_sid session; /* 0: any */
        int watched[3], paused[3];
        const char *event[3];
        poe_sid owner[3];
        int fds[16], n_fds; /* distinct fds seen */
};

static int scan(void *ctx, const poe_peek_watcher *w)
{
        struct fdinfo *f = ctx;
        int seen = 0;

        if (f->session && w->session != f->session)
                return 0;
        for (int i = 0; i < f->n_fds; i++)
                seen |= f->fds[i] == w->fd;
        if (!seen && f->n_fds < 16)
                f->fds[f->n_fds++] = w->fd;
        if (w->fd == f->fd && w->mode >= 0 && w->mode < 3) {
                f->watched[w->mode] = 1;
                f->paused[w->mode] = w->paused;
                f->event[w->mode] = w->event;
                f->owner[w->mode] = w->session;
        }
        return 0;
}

static struct fdinfo fd_info(int fd, poe_sid session)
{
        struct fdinfo f = {.fd = fd, .session = session};

        poe_peek_watchers(k, scan, &f);
        return f;
}

/* The session's count less its events in flight (the _garbage_collect
 * queued after _start, I/O events): upstream's kernel session has none,
 * as its events are "dispatched right away". */
static int refcount(void)
{
        poe_session_info info;

        if (poe_peek_session(k, me, &info) < 0)
                return -1;
        return (int)(info.refcount - info.reasons[POE_REASON_EVENTS_TO] -
                     info.reasons[POE_REASON_EVENTS_FROM]);
}

static int is_good(int fd, int mode)
{
        return fd_info(fd, 0).watched[mode];
}

/* 1 assertion: the session's fds and their modes ("r", "w", "x"). */
static void verify_handle_structure(const char *name, int n, const int *fds, const char **modes)
{
        struct fdinfo all = fd_info(-1, me);
        char label[160];
        int ok = all.n_fds == n;

        for (int i = 0; ok && i < n; i++) {
                struct fdinfo f = fd_info(fds[i], me);

                ok = f.watched[0] == (strchr(modes[i], 'r') != NULL) &&
                     f.watched[1] == (strchr(modes[i], 'w') != NULL) &&
                     f.watched[2] == (strchr(modes[i], 'x') != NULL);
        }
        snprintf(label, sizeof(label), "%s: session to handles map", name);
        tap_ok(ok, label);
}

/* 3 assertions: which session and event watch each mode (NULL: none). */
static void verify_handle_sessions(const char *name, int fd, const char *rd, const char *wr,
                                   const char *ex)
{
        static const char *const what[] = {"read", "write", "expedite"};
        const char *want[] = {rd, wr, ex};
        struct fdinfo f = fd_info(fd, 0);
        char label[160];

        for (int m = 0; m < 3; m++) {
                int ok = want[m] ? f.watched[m] && f.owner[m] == me &&
                                           strcmp(f.event[m], want[m]) == 0
                                 : !f.watched[m];

                snprintf(label, sizeof(label), "%s: fileno %s session", name, what[m]);
                tap_ok(ok, label);
        }
}

/* 4 assertions: how many modes the fd is watched in, and which. */
static void verify_handle_refcounts(const char *name, int fd, const char *modes)
{
        struct fdinfo f = fd_info(fd, 0);
        int rd = strchr(modes, 'r') != NULL, wr = strchr(modes, 'w') != NULL,
            ex = strchr(modes, 'x') != NULL;
        char label[160];

        snprintf(label, sizeof(label), "%s: fd total refcount", name);
        tap_is_int(f.watched[0] + f.watched[1] + f.watched[2], rd + wr + ex, label);
        snprintf(label, sizeof(label), "%s: fd read refcount", name);
        tap_is_int(f.watched[0], rd, label);
        snprintf(label, sizeof(label), "%s: fd write refcount", name);
        tap_is_int(f.watched[1], wr, label);
        snprintf(label, sizeof(label), "%s: fd expedite refcount", name);
        tap_is_int(f.watched[2], ex, label);
}

/* 3 assertions: each mode's actual state (the first letter). */
static void verify_handle_state(const char *name, int fd, const char *rd, const char *wr,
                                const char *ex)
{
        static const char *const what[] = {"read", "write", "expedite"};
        const char *want[] = {rd, wr, ex};
        struct fdinfo f = fd_info(fd, 0);
        char label[160];

        for (int m = 0; m < 3; m++) {
                int ok;

                switch (want[m][0]) {
                case 'r':
                        ok = f.watched[m] && !f.paused[m];
                        break;
                case 'p':
                        ok = !f.watched[m] || f.paused[m];
                        break;
                default:
                        ok = !f.watched[m];
                        break;
                }
                snprintf(label, sizeof(label), "%s: %s actual state", name, what[m]);
                tap_ok(ok, label);
        }
}

static void verify_all(const char *name, int fd, const char *modes, const char *rd, const char *wr,
                       const char *ex, const char *ev_rd, const char *ev_wr, const char *ev_ex)
{
        verify_handle_refcounts(name, fd, modes);
        verify_handle_state(name, fd, rd, wr, ex);
        verify_handle_sessions(name, fd, ev_rd, ev_wr, ev_ex);
}

static poe_value on_start(poe_ctx *c)
{
        int sv[2];

        me = poe_ctx_session(c);
        base_refcount = refcount();
        tap_ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "created a two-way pipe");
        a_fd = sv[0];
        b_fd = sv[1];

        poe_kernel_select_read(k, a_fd, "event-rd", POE_NOARGS);
        tap_ok(refcount() == base_refcount + 1, "first read add: session reference count");
        verify_all("first read add", a_fd, "r", "rr", "pp", "pp", "event-rd", NULL, NULL);
        verify_handle_structure("first read add", 1, (int[]){a_fd}, (const char *[]){"r"});

        poe_kernel_select_read(k, b_fd, "event-rd", POE_NOARGS);
        tap_ok(refcount() == base_refcount + 2, "second read add: session reference count");
        verify_all("second read add", b_fd, "r", "rr", "pp", "pp", "event-rd", NULL, NULL);
        verify_handle_structure("second read add", 2, (int[]){a_fd, b_fd},
                                (const char *[]){"r", "r"});

        poe_kernel_select_write(k, a_fd, "event-wr", POE_NOARGS);
        tap_ok(refcount() == base_refcount + 2, "third write add: session reference count");
        verify_all("third write add", a_fd, "rw", "rr", "rr", "pp", "event-rd", "event-wr", NULL);
        verify_handle_structure("third write add", 2, (int[]){a_fd, b_fd},
                                (const char *[]){"rw", "r"});

        poe_kernel_select_expedite(k, b_fd, "event-ex", POE_NOARGS);
        tap_ok(refcount() == base_refcount + 2, "fourth expedite add: session reference count");
        verify_all("fourth expedite add", b_fd, "rx", "rr", "pp", "rr", "event-rd", NULL,
                   "event-ex");
        verify_handle_structure("third write add", 2, (int[]){a_fd, b_fd},
                                (const char *[]){"rw", "rx"});

        tap_ok(is_good(a_fd, 0), "a_read in read mode");
        tap_ok(is_good(a_fd, 1), "a_read in write mode");
        tap_ok(!is_good(a_fd, 2), "a_read in expedite mode");
        tap_ok(is_good(a_fd, 0), "a_write in read mode");
        tap_ok(is_good(a_fd, 1), "a_write in write mode");
        tap_ok(!is_good(a_fd, 2), "a_write in expedite mode");
        tap_ok(is_good(b_fd, 0), "b_read in read mode");
        tap_ok(!is_good(b_fd, 1), "b_read in write mode");
        tap_ok(is_good(b_fd, 2), "b_read in expedite mode");
        tap_ok(is_good(b_fd, 0), "b_write in read mode");
        tap_ok(!is_good(b_fd, 1), "b_write in write mode");
        tap_ok(is_good(b_fd, 2), "b_write in expedite mode");
        tap_ok(!is_good(0, 0), "untracked handle in read mode");
        tap_ok(!is_good(0, 1), "untracked handle in write mode");
        tap_ok(!is_good(0, 2), "untracked handle in expedite mode");
        /* _data_handle_enqueue_ready: the kernel sees a_fd writable. */
        return poe_nil();
}

static int step;

static void the_rest(void)
{
        int fd, n_total;
        struct fdinfo all;

        verify_handle_state("dispatch one", a_fd, "pp", "rr", "pp");
        poe_kernel_select_resume_read(k, a_fd);
        verify_handle_state("resume one", a_fd, "rr", "rr", "pp");

        all = fd_info(-1, 0);
        n_total = all.n_fds;
        tap_ok(n_total == 2, "number of handles tracked");
        tap_ok(fd_info(-1, me).n_fds == 2, "number of sessions tracking");
        tap_ok(fd_info(-1, 31415).n_fds == 0, "number of handles tracked by a nonexistent session");

        poe_kernel_select_read(k, a_fd, NULL, POE_NOARGS);
        tap_ok(refcount() == base_refcount + 2, "first remove: session reference count");
        verify_all("first remove", a_fd, "w", "ss", "rr", "pp", NULL, "event-wr", NULL);
        verify_handle_structure("third write add", 2, (int[]){a_fd, b_fd},
                                (const char *[]){"w", "rx"});

        poe_kernel_select_write(k, a_fd, NULL, POE_NOARGS);
        tap_ok(refcount() == base_refcount + 1, "second remove: session reference count");
        tap_ok(!is_good(a_fd, 1), "second remove: handle removed fully");

        /* Removing a watcher nobody has: libpoe returns quietly, as POE. */
        poe_kernel_select_read(k, 0, NULL, POE_NOARGS);
        tap_ok(refcount() == base_refcount + 1, "nonexistent remove: session reference count");

        /* A regular file (upstream: the test script itself). */
        fd = open("/proc/self/exe", O_RDONLY);
        if (fd < 0)
                fd = open("/dev/null", O_RDONLY);
        poe_kernel_select_read(k, fd, "event-rd", POE_NOARGS);
        poe_kernel_select_write(k, fd, "event-wr", POE_NOARGS);
        verify_all("regular file", fd, "rw", "rr", "rr", "pp", "event-rd", "event-wr", NULL);
        verify_handle_structure("regular file", 2, (int[]){fd, b_fd}, (const char *[]){"rw", "rx"});
        poe_kernel_select_pause_read(k, fd);
        verify_handle_state("regular file - paused", fd, "pp", "rr", "pp");
        poe_kernel_select_read(k, fd, "event-rd", POE_NOARGS);
        verify_handle_state("regular file - resumed", fd, "rr", "rr", "pp");
        tap_skip("failure when adding different handle but same FD",
                 "a handle is its fd in C: another handle for the same fd is that fd (upstream: "
                 "TODO, POE does not fail either)");
        poe_kernel_select_read(k, fd, NULL, POE_NOARGS);
        poe_kernel_select_write(k, fd, NULL, POE_NOARGS);
        tap_ok(refcount() == base_refcount + 1, "regular file: session reference count");
        tap_ok(!is_good(fd, 1) && !is_good(fd, 0), "regular file: handle removed fully");
        close(fd);

        for (int i = 0; i < 13; i++)
                tap_skip("tied fh", SKIP_TIED);

        poe_kernel_select_write(k, 1, "event-wr", POE_NOARGS);
        verify_handle_structure("before final remove all", 2, (int[]){b_fd, 1},
                                (const char *[]){"rx", "w"});

        /* _data_handle_clear_session: what the kernel does when the
         * session stops; here the session drops each of its watchers. */
        poe_kernel_select(k, b_fd, NULL, NULL, NULL, POE_NOARGS);
        poe_kernel_select_write(k, 1, NULL, POE_NOARGS);
        tap_ok(!is_good(b_fd, 2), "final remove all: session reference count");
        tap_ok(refcount() == base_refcount, "session reference count is back to base count");
}

static poe_value on_event_wr(poe_ctx *c)
{
        (void)c;
        if ((int)poe_value_int(poe_ctx_arg(c, 0)) != a_fd)
                return poe_nil();
        switch (step++) {
        case 0:
                /* Events are dispatched right away: nothing is paused. */
                verify_handle_state("dequeue one", a_fd, "rr", "rr", "pp");
                tap_is_int(refcount(), base_refcount + 2, "dequeue one: session reference count");
                poe_kernel_select_pause_read(k, a_fd);
                verify_handle_state("pause one", a_fd, "pp", "rr", "pp");
                break;
        case 1:
                the_rest();
                break;
        }
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},      {"_stop", nop, NULL},
                {"event-wr", on_event_wr, NULL}, {"event-rd", nop, NULL},
                {"event-ex", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 5};
        poe_kernel_info info;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(132);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_ok(poe_peek_kernel(k, &info) == 0 && info.fds_watched == 0 && info.sessions == 0,
               "filehandle subsystem finalization");
        close(a_fd);
        close(b_fd);
        poe_kernel_free(k);
        return tap_done();
}
