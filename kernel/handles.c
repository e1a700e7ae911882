/*
 * I/O watchers: POE::Resource::FileHandles and the select_* methods.
 *
 * One session at most watches an fd in a given mode (POE dies on a
 * second; libpoe returns -EEXIST).  A session registering the same fd
 * and mode again only resumes it, keeping the first event name and
 * arguments, as POE does.  A watched fd holds its session alive, paused
 * or not: pausing changes what the loop waits for and nothing else.  As
 * POE's _data_handle_condition does, a newly watched fd is made
 * non-blocking, so that a handler reading it never stalls the kernel.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "events.h"
#include "exceptions.h"
#include "io.h"
#include "sessions.h"
#include "signals.h"
#include "trace.h"

/* The modes the backend should wait for: the unpaused watchers'. */
static unsigned wanted_mask(const poe__fdrec *r)
{
        unsigned m = 0;
        int i;

        for (i = 0; i < POE__MODES; i++)
                if (r->watch[i] && !r->watch[i]->paused)
                        m |= POE__IO_BIT(i);
        return m;
}

static int sync_backend(poe_kernel *k, int fd, poe__fdrec *r)
{
        unsigned want = wanted_mask(r);
        int err;

        if (want == r->mask)
                return 0;
        err = k->loop->update(k, fd, r->mask, want);
        if (err < 0)
                return err;
        r->mask = want;
        return 0;
}

/* Does session s watch fd in any mode other than `except`? */
static bool session_on_fd(const poe__fdrec *r, const poe__session *s, int except)
{
        int i;

        for (i = 0; i < POE__MODES; i++)
                if (i != except && r->watch[i] && r->watch[i]->session == s)
                        return true;
        return false;
}

static bool rec_empty(const poe__fdrec *r)
{
        return !r->watch[0] && !r->watch[1] && !r->watch[2];
}

static void watch_remove(poe_kernel *k, poe__watch *w)
{
        poe__fdrec *r = k->fds[w->fd];
        poe__session *s = w->session;
        int fd = w->fd;

        POE_TRACE_HOT(k, POE_TRACE_FILES, POE_TK_UNWATCH, s, w->event, NULL, NULL, 0, 0, fd,
                      w->mode, 0, 0, 0.0);
        r->watch[w->mode] = NULL;
        poe__list_remove(&w->in_session);
        if (!session_on_fd(r, s, -1))
                poe__unref(k, s, POE_REASON_HANDLES);
        /* Failure to stop watching (a closed fd under epoll) changes
         * nothing: the fd is gone from the backend either way. */
        if (r->mask != wanted_mask(r)) {
                k->loop->update(k, fd, r->mask, wanted_mask(r));
                r->mask = wanted_mask(r);
        }
        if (rec_empty(r)) {
                poe__free(k, r);
                k->fds[fd] = NULL;
                k->n_watched_fds--;
        }
        poe__free(k, w->args);
        poe__free(k, w);
}

/* Room for fd in the table and for every watched fd in the ready lists,
 * so that the backend's reports never need memory. */
static int reserve(poe_kernel *k, int fd)
{
        int i;

        if (fd >= k->n_fds_cap) {
                int cap = k->n_fds_cap ? k->n_fds_cap : 64;
                poe__fdrec **v;

                while (cap <= fd)
                        cap *= 2;
                v = poe__realloc(k, k->fds, (size_t)cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                memset(v + k->n_fds_cap, 0, (size_t)(cap - k->n_fds_cap) * sizeof(*v));
                k->fds = v;
                k->n_fds_cap = cap;
        }
        if (k->n_watched_fds + 2 > k->cap_ready) {
                size_t cap = k->cap_ready ? k->cap_ready * 2 : 64;

                for (i = 0; i < POE__MODES; i++) {
                        int *v = poe__realloc(k, k->ready[i], cap * sizeof(*v));

                        if (!v)
                                return -ENOMEM;
                        k->ready[i] = v;
                }
                k->cap_ready = cap;
        }
        return 0;
}

static int watch_add(poe_kernel *k, poe__session *s, int fd, int mode, const char *event,
                     const poe_value *args, size_t nargs)
{
        poe__fdrec *r;
        poe__watch *w;
        bool new_rec = false;
        uint32_t name;
        int err, flags;

        r = poe__io_rec(k, fd);
        if (r && r->watch[mode]) {
                w = r->watch[mode];
                if (w->session != s)
                        return -EEXIST;
                /* Re-registration resumes; the first event and args stay. */
                w->paused = false;
                return sync_backend(k, fd, r);
        }
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -EBADF;
        name = poe__intern(k, event);
        /* The session lists its watchers in its more. */
        if (name == POE__NO_NAME || reserve(k, fd) < 0 || poe__need_more(k, s) < 0)
                return -ENOMEM;
        w = poe__calloc(k, 1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        if (poe__values_dup(k, args, nargs, &w->args) < 0) {
                poe__free(k, w);
                return -ENOMEM;
        }
        if (!r) {
                r = poe__calloc(k, 1, sizeof(*r));
                if (!r) {
                        poe__free(k, w->args);
                        poe__free(k, w);
                        return -ENOMEM;
                }
                k->fds[fd] = r;
                new_rec = true;
        }
        w->fd = fd;
        w->mode = mode;
        w->session = s;
        w->event = name;
        w->nargs = (uint32_t)nargs;
        r->watch[mode] = w;
        err = sync_backend(k, fd, r);
        if (err < 0) {
                r->watch[mode] = NULL;
                if (new_rec) {
                        k->fds[fd] = NULL;
                        poe__free(k, r);
                }
                poe__free(k, w->args);
                poe__free(k, w);
                return err;
        }
        if (new_rec) {
                k->n_watched_fds++;
                if (!(flags & O_NONBLOCK))
                        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        }
        if (!session_on_fd(r, s, mode))
                poe__ref(k, s, POE_REASON_HANDLES);
        poe__list_append(&s->more->watches, &w->in_session);
        POE_TRACE_HOT(k, POE_TRACE_FILES, POE_TK_WATCH, s, name, NULL, NULL, 0, 0, fd, mode, 0, 0,
                      0.0);
        return 0;
}

/* POE's _internal_select: an event name watches, none stops watching. */
/*
 * POE's "invalid filehandle in select_read()" (fileno of a closed
 * handle is undef): under ASSERT_USAGE a descriptor that is not open is
 * fatal in every select_* call, removals and pauses included.  One
 * fcntl(2), made only while the group is on.
 */
static int check_open(poe_kernel *k, int fd, const char *func)
{
        if (POE__ON(k, POE_ASSERT_USAGE) && fcntl(fd, F_GETFD) < 0 && errno == EBADF)
                return poe__explain_usage(k, -EBADF, "invalid filehandle in %s()", func);
        return 0;
}

/* func is the public call, for the ASSERT_USAGE messages. */
static int internal_select(poe_kernel *k, int fd, int mode, const char *event,
                           const poe_value *args, size_t nargs, const char *func)
{
        static const char *const funcs[POE__MODES] = {"select_read", "select_write",
                                                      "select_expedite"};
        poe__session *s;
        poe__fdrec *r;
        int err;

        if (!(k && fd >= 0 && (args || !nargs)))
                return poe__usage(k, -EINVAL, "k && fd >= 0 && (args || !nargs)", func, NULL, 0);
        s = k->active;
        if (s->is_kernel || !s->alive)
                return poe__outside(k, -EPERM, func);
        err = check_open(k, fd, funcs[mode]);
        if (err < 0)
                return err;
        if (event)
                return watch_add(k, s, fd, mode, event, args, nargs);
        r = poe__io_rec(k, fd);
        if (r && r->watch[mode] && r->watch[mode]->session == s)
                watch_remove(k, r->watch[mode]);
        return 0;
}

POE_EXPORT int poe_kernel_select_read(poe_kernel *k, int fd, const char *event,
                                      const poe_value *args, size_t nargs)
{
        return poe__rv(k, internal_select(k, fd, POE__MODE_RD, event, args, nargs, __func__),
                       __func__);
}

POE_EXPORT int poe_kernel_select_write(poe_kernel *k, int fd, const char *event,
                                       const poe_value *args, size_t nargs)
{
        return poe__rv(k, internal_select(k, fd, POE__MODE_WR, event, args, nargs, __func__),
                       __func__);
}

POE_EXPORT int poe_kernel_select_expedite(poe_kernel *k, int fd, const char *event,
                                          const poe_value *args, size_t nargs)
{
        return poe__rv(k, internal_select(k, fd, POE__MODE_EX, event, args, nargs, __func__),
                       __func__);
}

POE_EXPORT int poe_kernel_select(poe_kernel *k, int fd, const char *event_r, const char *event_w,
                                 const char *event_e, const poe_value *args, size_t nargs)
{
        const char *events[POE__MODES] = {event_r, event_w, event_e};
        bool had[POE__MODES];
        poe__fdrec *rec;
        int r = 0, m, n;

        POE_CHECK(k, k && fd >= 0 && (args || !nargs), -EINVAL);
        POE_CHECK_SESSION(k, !k->active->is_kernel && k->active->alive, -EPERM);
        r = check_open(k, fd, "select");
        if (r < 0)
                return poe__rv(k, r, __func__);
        rec = poe__io_rec(k, fd);
        for (m = 0; m < POE__MODES; m++)
                had[m] = rec && rec->watch[m] && rec->watch[m]->session == k->active;
        /* All or nothing: the watchers are added first, and those this
         * call added are taken back if a later one fails; removals,
         * which cannot fail, come last. */
        for (n = 0; n < POE__MODES && r == 0; n++)
                if (events[n])
                        r = internal_select(k, fd, n, events[n], args, nargs, __func__);
        if (r < 0) {
                for (m = 0; m < n - 1; m++)
                        if (events[m] && !had[m])
                                internal_select(k, fd, m, NULL, NULL, 0, __func__);
                return poe__rv(k, r, __func__);
        }
        for (m = 0; m < POE__MODES; m++)
                if (!events[m])
                        internal_select(k, fd, m, NULL, NULL, 0, __func__);
        return poe__rv(k, r, __func__);
}

/* POE's select_pause_* and select_resume_*: 1 if the fd is watched in
 * that mode (by anyone, as POE's _data_handle_is_good), else 0. */
static int set_paused(poe_kernel *k, int fd, int mode, bool paused, const char *func)
{
        static const char *const funcs[2][2] = {
                {"select_resume_read", "select_pause_read"},
                {"select_resume_write", "select_pause_write"},
        };
        poe__fdrec *r;
        bool was;
        int err;

        if (!(k && fd >= 0))
                return poe__usage(k, -EINVAL, "k && fd >= 0", func, NULL, 0);
        if (k->active->is_kernel)
                return poe__outside(k, -EPERM, func);
        err = check_open(k, fd, funcs[mode == POE__MODE_WR][paused]);
        if (err < 0)
                return err;
        r = poe__io_rec(k, fd);
        if (!r || !r->watch[mode])
                return 0;
        was = r->watch[mode]->paused;
        r->watch[mode]->paused = paused;
        POE_TRACE(k, POE_TRACE_FILES, r->watch[mode]->session, r->watch[mode]->event, NULL, NULL,
                  .kind = paused ? POE_TK_PAUSE : POE_TK_RESUME, .arg.i = {fd, mode});
        err = sync_backend(k, fd, r);
        if (err < 0) {
                /* The backend did not change (the poll backend may need
                 * memory to take the fd back): neither does the watcher. */
                r->watch[mode]->paused = was;
                return err;
        }
        return 1;
}

POE_EXPORT int poe_kernel_select_pause_read(poe_kernel *k, int fd)
{
        return poe__rv(k, set_paused(k, fd, POE__MODE_RD, true, __func__), __func__);
}

POE_EXPORT int poe_kernel_select_resume_read(poe_kernel *k, int fd)
{
        return poe__rv(k, set_paused(k, fd, POE__MODE_RD, false, __func__), __func__);
}

POE_EXPORT int poe_kernel_select_pause_write(poe_kernel *k, int fd)
{
        return poe__rv(k, set_paused(k, fd, POE__MODE_WR, true, __func__), __func__);
}

POE_EXPORT int poe_kernel_select_resume_write(poe_kernel *k, int fd)
{
        return poe__rv(k, set_paused(k, fd, POE__MODE_WR, false, __func__), __func__);
}

/* ---- readiness, reported by the backend, dispatched by the kernel ---- */

void poe__io_ready(poe_kernel *k, int fd, int mode)
{
        if (fd == k->wake_fd) {
                k->wake_ready = true; /* drained by the loop */
                return;
        }
        if (fd == k->sig_pipe[0]) {
                k->sig_ready = true;
                return;
        }
        if (!poe__io_rec(k, fd) || k->n_ready[mode] >= k->cap_ready)
                return;
        k->ready[mode][k->n_ready[mode]++] = fd;
}

/*
 * A watched fd was closed behind the kernel's back (select's EBADF,
 * poll's POLLNVAL).  Waiting on it again would spin, so its watchers are
 * removed, loudly: the sessions may then stop, which is what a closed
 * handle means.
 */
void poe__io_bad(poe_kernel *k, int fd)
{
        poe__fdrec *r = poe__io_rec(k, fd);
        int i;

        for (i = 0; r && i < POE__MODES; i++) {
                poe__watch *w = r->watch[i];

                if (!w)
                        continue;
                poe__warn(k,
                          "<fh> fd %d was closed while session %llu watched it "
                          "(mode %d, event '%s'); the watcher is removed\n",
                          fd, (unsigned long long)w->session->id, i, poe__name(k, w->event));
                watch_remove(k, w);
                r = poe__io_rec(k, fd);
        }
}

/*
 * POE's _data_handle_enqueue_ready: ready reads, then writes, then
 * expedites, each dispatched at once (events.c's poe__dispatch_io).
 * Every handler of the round runs under one landing frame, as a
 * signal's watchers do, rather than one each: a handler that dies comes
 * back here, its dispatch is finished (the die path, exceptions.c), its
 * argument copy freed, and the round goes on with the next fd.
 */
void poe__io_dispatch_ready(poe_kernel *k)
{
        poe__io_round r;
        poe__frame f;
        int mode;

        if (k->n_ready[POE__MODE_RD] | k->n_ready[POE__MODE_WR] | k->n_ready[POE__MODE_EX]) {
                poe__delivery_init(&r.d, k, k->ksession, k->ksession, POE__NO_NAME,
                                   POE__ET_SELECT);
                r.d.c.file = __FILE__;
                r.d.c.line = __LINE__;
                r.d.ev = NULL;
                r.pre[0] = r.pre[1] = (poe_value){.type = POE_T_INT};
                r.mode = 0;
                r.i = 0;
                poe__frame_push(k, &f);
                if (POE__SETJMP(f.jb) != 0) {
                        k->frame = &f;
                        poe__landed(k, &f);
                        poe__free(k, r.d.ev);
                        r.d.ev = NULL;
                        r.i++;
                }
                poe__dispatch_io(k, &r);
                k->frame = f.up;
        }
        for (mode = 0; mode < POE__MODES; mode++)
                k->n_ready[mode] = 0;
        poe__gc_sweep(k);
}

void poe__handles_clear_session(poe_kernel *k, poe__session *s)
{
        while (!poe__list_empty(POE__MORE_LIST(s, watches)))
                watch_remove(k, poe__container_of(poe__list_first(&s->more->watches), poe__watch,
                                                  in_session));
}

void poe__handles_free(poe_kernel *k)
{
        int i, m;

        for (i = 0; i < k->n_fds_cap; i++) {
                poe__fdrec *r = k->fds[i];

                for (m = 0; r && m < POE__MODES; m++) {
                        if (r->watch[m]) {
                                poe__free(k, r->watch[m]->args);
                                poe__free(k, r->watch[m]);
                        }
                }
                poe__free(k, r);
        }
        poe__free(k, k->fds);
        for (m = 0; m < POE__MODES; m++)
                poe__free(k, k->ready[m]);
        k->fds = NULL;
        k->n_fds_cap = 0;
}
