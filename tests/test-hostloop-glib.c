/*
 * hostloop.c's scenarios on a GLib main context, through libpoe-glib's
 * GSource; the host's own watcher is a GLib unix-fd source and the
 * iteration is bounded by a timeout source of its own.
 */
#include <glib-unix.h>

#include "hostloop.h"
#include "poe/poe-glib.h"

#define MAX_WATCH 8

static GMainContext *ctx;
static GSource *poe_src;
static struct {
        int fd;
        void (*cb)(int fd);
        GSource *src;
} watches[MAX_WATCH];

static void g_attach(poe_kernel *k)
{
        ctx = g_main_context_new();
        poe_src = poe_glib_source_new(k);
        assert_non_null(poe_src);
        assert_true(g_source_attach(poe_src, ctx) > 0);
}

static void g_detach(poe_kernel *k)
{
        (void)k;
        g_source_destroy(poe_src);
        g_source_unref(poe_src);
        /* Nothing of the kernel's is left on the context. */
        assert_false(g_main_context_pending(ctx));
        g_main_context_unref(ctx);
        ctx = NULL;
}

static gboolean on_fd(gint fd, GIOCondition cond, gpointer data)
{
        int i = *(int *)data;

        (void)cond;
        watches[i].cb(fd);
        return G_SOURCE_CONTINUE;
}

static int slots[MAX_WATCH] = { 0, 1, 2, 3, 4, 5, 6, 7 };

static void g_watch(int fd, void (*cb)(int fd))
{
        int i;

        for (i = 0; watches[i].src; i++)
                assert_true(i < MAX_WATCH - 1);
        watches[i].fd = fd;
        watches[i].cb = cb;
        watches[i].src = g_unix_fd_source_new(fd, G_IO_IN);
        g_source_set_callback(watches[i].src, (GSourceFunc)(void (*)(void))on_fd, &slots[i], NULL);
        g_source_attach(watches[i].src, ctx);
}

static void g_unwatch(int fd)
{
        int i;

        for (i = 0; i < MAX_WATCH; i++)
                if (watches[i].src && watches[i].fd == fd) {
                        g_source_destroy(watches[i].src);
                        g_source_unref(watches[i].src);
                        watches[i].src = NULL;
                }
}

static gboolean on_timeout(gpointer data)
{
        (void)data;
        return G_SOURCE_REMOVE;
}

static void g_iterate(int max_ms)
{
        GSource *t = g_timeout_source_new((guint)max_ms);

        g_source_set_callback(t, on_timeout, NULL, NULL);
        g_source_attach(t, ctx);
        g_main_context_iteration(ctx, TRUE);
        g_source_destroy(t);
        g_source_unref(t);
}

static const hl_driver glib_driver = {
        .name = "glib",
        .attach = g_attach,
        .detach = g_detach,
        .watch = g_watch,
        .unwatch = g_unwatch,
        .iterate = g_iterate,
};

int main(void)
{
        return hl_main(&glib_driver);
}
