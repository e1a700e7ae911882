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

#include "owned-loop.h"
#include "poe/poe-glib.h"

typedef struct poe_source {
        GSource source;
        poe_kernel *k;
        gpointer tag; /* the fd's, from g_source_add_unix_fd */
        bool owned;   /* the loop a kernel owns: wake only, never dispatch */
        bool fd_off;  /* not watching the fd: no dispatch is wanted */
        gint64 owned_deadline; /* its iteration's timeout, or -1 */
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
        if (ps->owned) {
                g_source_set_ready_time(s, ps->owned_deadline);
                return FALSE;
        }
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
        if (ps->owned)
                ps->owned_deadline = -1;
        else
                (void)poe_kernel_dispatch(ps->k); /* errors stay in the kernel */
        return G_SOURCE_CONTINUE;
}

static GSourceFuncs poe_source_funcs = {
        .prepare = src_prepare,
        .check = src_check,
        .dispatch = src_dispatch,
};

static GSource *source_new(poe_kernel *k, int fd, bool owned)
{
        GSource *s = g_source_new(&poe_source_funcs, sizeof(poe_source));
        poe_source *ps = (poe_source *)s;

        ps->k = k;
        ps->owned = owned;
        ps->owned_deadline = -1;
        ps->tag = g_source_add_unix_fd(s, fd, G_IO_IN);
        g_source_set_name(s, "libpoe");
        return s;
}

POE_EXPORT GSource *poe_glib_source_new(poe_kernel *k)
{
        int fd = k ? poe_kernel_get_fd(k) : -EINVAL;

        return fd < 0 ? NULL : source_new(k, fd, false);
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

typedef struct owned {
        GMainContext *ctx;
        GSource *src;
} owned;

static void *owned_open(int fd)
{
        owned *o = g_new0(owned, 1);

        o->ctx = g_main_context_new();
        o->src = source_new(NULL, fd, true);
        g_source_attach(o->src, o->ctx);
        return o;
}

static int owned_iterate(void *loop, int64_t timeout_ns)
{
        owned *o = loop;
        poe_source *ps = (poe_source *)o->src;

        ps->owned_deadline = timeout_ns < 0 ? -1 : ready_after(o->src, timeout_ns);
        /* Returns after one dispatch: the kernel's fd, its deadline, or a
         * source of the program's own. */
        g_main_context_iteration(o->ctx, TRUE);
        ps->owned_deadline = -1;
        return 0;
}

static int owned_forked(void *loop, int fd)
{
        owned *o = loop;
        poe_source *ps = (poe_source *)o->src;

        /* GLib polls with poll(): nothing of the parent's to detach. */
        g_source_remove_unix_fd(o->src, ps->tag);
        ps->tag = g_source_add_unix_fd(o->src, fd, G_IO_IN);
        return 0;
}

static void owned_close(void *loop)
{
        owned *o = loop;

        g_source_destroy(o->src);
        g_source_unref(o->src);
        g_main_context_unref(o->ctx);
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
        .iterate = owned_iterate,
        .forked = owned_forked,
        .close = owned_close,
        .native = owned_native,
};

/* A function rather than the table itself: an exported variable gets
 * sanitizer companions (__odr_asan.*) outside the poe_ namespace. */
POE_EXPORT const poe__owned_ops *poe_glib_owned_v1(void)
{
        return &owned_ops;
}
