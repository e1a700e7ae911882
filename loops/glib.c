/*
 * libpoe-glib: the kernel as a GSource (poe/poe-glib.h), and the loop a
 * kernel made with POE_EVENT_LOOP=glib owns (owned-loop.h).
 *
 * The source watches the kernel's epoll set (its one fd), so libpoe's
 * I/O, signals and other threads' posts wake the context; its ready time
 * is the kernel's next timer, set in prepare from poe_kernel_prepare.
 * GLib rounds a source's ready time to microseconds and polls in
 * milliseconds, rounding up, so it never dispatches a timer early.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "owned-loop.h"
#include "poe/poe-glib.h"

typedef struct poe_source {
        GSource source;
        poe_kernel *k;
        gpointer tag; /* the fd's, from g_source_add_unix_fd */
        bool fd_off;  /* not watching the fd: no dispatch is wanted */
} poe_source;

static gint64 ready_after(GSource *s, int64_t ns)
{
        return g_source_get_time(s) + (ns + 999) / 1000;
}

static gboolean src_prepare(GSource *s, gint *timeout)
{
        poe_source *ps = (poe_source *)s;
        int64_t ns = -1;

        *timeout = -1;
        /* Not inside a handler (a nested main loop: -EPERM), and not
         * once the kernel has no sessions (0): no dispatch is wanted, and
         * the fd, which may stay readable (a wake-up nobody takes), is
         * not watched, lest the context spin on it. */
        if (poe_kernel_prepare(ps->k, &ns) != 1) {
                if (!ps->fd_off)
                        g_source_modify_unix_fd(s, ps->tag, 0);
                ps->fd_off = true;
                g_source_set_ready_time(s, -1);
                return FALSE;
        }
        if (ps->fd_off)
                g_source_modify_unix_fd(s, ps->tag, G_IO_IN);
        ps->fd_off = false;
        if (ns < 0) {
                g_source_set_ready_time(s, -1);
                return FALSE;
        }
        if (ns == 0)
                return TRUE;
        g_source_set_ready_time(s, ready_after(s, ns));
        return FALSE;
}

static gboolean src_check(GSource *s)
{
        poe_source *ps = (poe_source *)s;

        /* The ready time, once passed, GLib checks by itself.  An fd
         * not watched keeps the last poll's revents: not a wake-up. */
        return !ps->fd_off && (g_source_query_unix_fd(s, ps->tag) & G_IO_IN) != 0;
}

static gboolean src_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
        poe_source *ps = (poe_source *)s;

        (void)cb;
        (void)data;
        g_source_set_ready_time(s, -1);
        (void)poe_kernel_dispatch(ps->k); /* errors stay in the kernel */
        return G_SOURCE_CONTINUE;
}

static GSourceFuncs poe_source_funcs = {
        .prepare = src_prepare,
        .check = src_check,
        .dispatch = src_dispatch,
};

static GSource *source_new(poe_kernel *k, int fd)
{
        GSource *s = g_source_new(&poe_source_funcs, sizeof(poe_source));
        poe_source *ps = (poe_source *)s;

        ps->k = k;
        ps->tag = g_source_add_unix_fd(s, fd, G_IO_IN);
        g_source_set_name(s, "libpoe");
        return s;
}

POE_EXPORT GSource *poe_glib_source_new(poe_kernel *k)
{
        int fd = k ? poe_kernel_get_fd(k) : -EINVAL;

        return fd < 0 ? NULL : source_new(k, fd);
}

POE_EXPORT guint poe_glib_attach(poe_kernel *k, GMainContext *ctx)
{
        GSource *s = poe_glib_source_new(k);
        guint id;

        if (!s)
                return 0;
        id = g_source_attach(s, ctx);
        g_source_unref(s);
        return id;
}

/* ---- signal_ui_destroy ---- */

/* POE::Loop::Gtk's loop_attach_uidestroy: the window's end raises
 * UIDESTROY at the kernel, which reaches every session.  A weak
 * reference's notify runs while the object is finalized, wherever that
 * happens (a handler of the kernel's included), so the signal is queued
 * rather than dispatched there. */
static void on_finalized(gpointer data, GObject *where_the_object_was)
{
        (void)where_the_object_was;
        (void)poe_kernel_signal((poe_kernel *)data, POE_KERNEL, "UIDESTROY", POE_NOARGS);
}

POE_EXPORT int poe_kernel_signal_ui_destroy(poe_kernel *k, gpointer object)
{
        if (!k || !G_IS_OBJECT(object))
                return -EINVAL;
        g_object_weak_ref(G_OBJECT(object), on_finalized, k);
        return 0;
}

/* ---- the loop a kernel owns (POE_EVENT_LOOP=glib) ---- */

/* One GSource holds every fd the kernel watches, each a unix fd of its
 * own in the kernel's modes; its ready time is the iteration's deadline.
 * GLib polls with poll(2), level-triggered, and checks the fds' revents
 * and the ready time itself (the source has no check function). */
typedef struct owned_fd {
        gpointer tag;  /* from g_source_add_unix_fd; NULL when not polled */
        unsigned mask; /* the kernel's modes */
        int index;     /* in the dense list of watched fds */
} owned_fd;

typedef struct owned {
        GMainContext *ctx;
        GSource *src;
        poe__owned_ready_fn *ready;
        void *kernel;
        owned_fd *fds; /* by fd; mask 0 when not watched */
        int cap;
        int *watched; /* the fds with a mask, densely */
        int n_watched;
        gint64 deadline; /* the iteration's, g_get_monotonic_time's µs, or -1 */
} owned;

typedef struct owned_source {
        GSource source;
        owned *o;
} owned_source;

/* The deadline is the poll's timeout, given in prepare: a ready time
 * set from outside an iteration would wake the context (GLib signals its
 * wake-up fd), and the iteration would return at once for nothing. */
static gboolean owned_prepare(GSource *s, gint *timeout)
{
        owned *o = ((owned_source *)s)->o;
        gint64 left;

        *timeout = -1;
        if (o->deadline < 0)
                return FALSE;
        left = o->deadline - g_get_monotonic_time();
        if (left <= 0)
                return TRUE;
        /* Milliseconds, rounded up: never early. */
        *timeout = left / 1000 >= G_MAXINT ? G_MAXINT : (gint)((left + 999) / 1000);
        return FALSE;
}

/* The deadline passed, or else any fd that polled ready (GLib looks at
 * the fds itself when check says no). */
static gboolean owned_check(GSource *s)
{
        owned *o = ((owned_source *)s)->o;

        return o->deadline >= 0 && g_get_monotonic_time() >= o->deadline;
}

static gboolean owned_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
        owned *o = ((owned_source *)s)->o;
        int i;

        (void)cb;
        (void)data;
        o->deadline = -1;
        for (i = 0; i < o->n_watched; i++) {
                int fd = o->watched[i];
                owned_fd *f = &o->fds[fd];
                GIOCondition c = f->tag ? g_source_query_unix_fd(s, f->tag) : 0;

                if (!c)
                        continue;
                if (c & G_IO_NVAL) {
                        /* Closed while watched: poll(2) would report it
                         * at once forever.  Not polled until the kernel
                         * watches the number anew; nothing is reported,
                         * as the epoll backend reports nothing of an fd
                         * closed in its set. */
                        g_source_remove_unix_fd(s, f->tag);
                        f->tag = NULL;
                        continue;
                }
                /* A hang-up or an error makes the fd ready in each mode. */
                if (c & (G_IO_ERR | G_IO_HUP))
                        c |= G_IO_IN | G_IO_OUT;
                if ((c & G_IO_IN) && (f->mask & (1u << POE__OWNED_RD)))
                        o->ready(o->kernel, fd, POE__OWNED_RD);
                if ((c & G_IO_OUT) && (f->mask & (1u << POE__OWNED_WR)))
                        o->ready(o->kernel, fd, POE__OWNED_WR);
                if ((c & G_IO_PRI) && (f->mask & (1u << POE__OWNED_EX)))
                        o->ready(o->kernel, fd, POE__OWNED_EX);
        }
        return G_SOURCE_CONTINUE;
}

static GSourceFuncs owned_source_funcs = {
        .prepare = owned_prepare,
        .check = owned_check,
        .dispatch = owned_dispatch,
};

static void *owned_open(poe__owned_ready_fn *ready, void *kernel)
{
        owned *o = g_new0(owned, 1);

        o->ctx = g_main_context_new();
        o->ready = ready;
        o->kernel = kernel;
        o->deadline = -1;
        o->src = g_source_new(&owned_source_funcs, sizeof(owned_source));
        ((owned_source *)o->src)->o = o;
        g_source_set_name(o->src, "libpoe");
        /* A source that is not blocked while it dispatches: blocking takes
         * each of its fds out of the poll set and puts it back, and GLib
         * signals its wake-up fd for each, two writes per fd per wake-up.
         * The dispatch only notes what is ready, and calls nothing of
         * GLib that could recurse. */
        g_source_set_can_recurse(o->src, TRUE);
        g_source_attach(o->src, o->ctx);
        return o;
}

static GIOCondition condition(unsigned mask)
{
        return (mask & (1u << POE__OWNED_RD) ? G_IO_IN : 0) |
               (mask & (1u << POE__OWNED_WR) ? G_IO_OUT : 0) |
               (mask & (1u << POE__OWNED_EX) ? G_IO_PRI : 0);
}

static int owned_watch(void *loop, int fd, unsigned old_mask, unsigned new_mask)
{
        owned *o = loop;
        owned_fd *f;

        (void)old_mask;
        if (fd >= o->cap) {
                int cap = o->cap ? o->cap : 64;

                if (!new_mask)
                        return 0;
                while (cap <= fd)
                        cap *= 2;
                o->fds = g_renew(owned_fd, o->fds, cap);
                memset(o->fds + o->cap, 0, (size_t)(cap - o->cap) * sizeof(*o->fds));
                o->watched = g_renew(int, o->watched, cap);
                o->cap = cap;
        }
        f = &o->fds[fd];
        if (!new_mask) {
                if (!f->mask)
                        return 0;
                if (f->tag)
                        g_source_remove_unix_fd(o->src, f->tag);
                f->tag = NULL;
                f->mask = 0;
                o->watched[f->index] = o->watched[--o->n_watched];
                o->fds[o->watched[f->index]].index = f->index;
                return 0;
        }
        if (!f->mask) {
                f->index = o->n_watched;
                o->watched[o->n_watched++] = fd;
        }
        f->mask = new_mask;
        if (f->tag)
                g_source_modify_unix_fd(o->src, f->tag, condition(new_mask));
        else
                f->tag = g_source_add_unix_fd(o->src, fd, condition(new_mask));
        return 0;
}

static int owned_iterate(void *loop, int64_t timeout_ns)
{
        owned *o = loop;

        /* From now, rounded up to microseconds.  Returns after one
         * dispatch: a ready fd, the deadline, or a source of the
         * program's own. */
        o->deadline = timeout_ns <= 0 ? -1 : g_get_monotonic_time() + (timeout_ns + 999) / 1000;
        g_main_context_iteration(o->ctx, timeout_ns != 0);
        o->deadline = -1;
        return 0;
}

/* Every fd forgotten (GLib polls with poll(2): nothing of the parent's
 * to detach). */
static void drop_all(owned *o)
{
        int i;

        for (i = 0; i < o->n_watched; i++) {
                owned_fd *f = &o->fds[o->watched[i]];

                if (f->tag)
                        g_source_remove_unix_fd(o->src, f->tag);
                f->tag = NULL;
                f->mask = 0;
        }
        o->n_watched = 0;
}

static int owned_forked(void *loop)
{
        drop_all(loop);
        return 0;
}

static void owned_close(void *loop)
{
        owned *o = loop;

        drop_all(o);
        g_source_destroy(o->src);
        g_source_unref(o->src);
        g_main_context_unref(o->ctx);
        g_free(o->fds);
        g_free(o->watched);
        g_free(o);
}

static void *owned_native(void *loop)
{
        return ((owned *)loop)->ctx;
}

static const poe__owned_ops owned_ops = {
        .version = POE__OWNED_VERSION,
        .name = "glib",
        .open = owned_open,
        .watch = owned_watch,
        .iterate = owned_iterate,
        .forked = owned_forked,
        .close = owned_close,
        .native = owned_native,
};

/* A function rather than the table itself: an exported variable gets
 * sanitizer companions (__odr_asan.*) outside the poe_ namespace. */
POE_EXPORT const poe__owned_ops *poe_glib_owned_v2(void)
{
        return &owned_ops;
}
