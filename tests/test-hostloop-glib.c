/*
 * hostloop.c's scenarios on a GLib main context, through libpoe-glib's
 * GSource; the host's own watcher is a GLib unix-fd source and the
 * iteration is bounded by a timeout source of its own.
 */
#include <errno.h>
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

/* ---- signal_ui_destroy ---- */

static volatile bool ui_seen;

static poe_value u_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_sig(k, "UIDESTROY", "on_ui", POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay(k, "never", 3600, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value u_on_ui(poe_ctx *c)
{
        tl_log_ctx(c);
        /* Nonmaskable: handled or not, the session is stopped. */
        TL_EQ(poe_kernel_sig_handled(poe_ctx_kernel(c)), 0);
        ui_seen = true;
        return poe_nil();
}

static gboolean drop_window(gpointer data)
{
        g_object_unref(data);
        return G_SOURCE_REMOVE;
}

/* The window goes in the host's own code (an idle source), while the
 * sessions sleep on an hour-long timer: every one is stopped. */
static void test_ui_destroy_stops_every_session(void **state)
{
        GObject *window = g_object_new(G_TYPE_OBJECT, NULL);
        GSource *idle;
        int n = 0;

        (void)state;
        g_attach(tl.k);
        TL_EQ(poe_kernel_signal_ui_destroy(tl.k, window), 0);
        TL_CREATE(tl.k, { "_start", u_start }, { "on_ui", u_on_ui }, { "never", tl_h_log },
                  { "_stop", tl_h_log });
        TL_CREATE(tl.k, { "_start", u_start }, { "on_ui", u_on_ui }, { "never", tl_h_log },
                  { "_stop", tl_h_log });
        idle = g_idle_source_new();
        g_source_set_callback(idle, drop_window, window, NULL);
        g_source_attach(idle, ctx);
        g_source_unref(idle);
        while (poe_kernel_prepare(tl.k, NULL) == 1) {
                assert_true(++n < 1000);
                g_iterate(100);
        }
        assert_true(ui_seen);
        /* The kernel's children, as POE reaches them for a signal to it. */
        TL_EXPECT("2 on_ui UIDESTROY", "1 on_ui UIDESTROY", "2 _stop", "1 _stop");
        g_detach(tl.k);
}

static void test_ui_destroy_bad_arguments(void **state)
{
        GObject *o = g_object_new(G_TYPE_OBJECT, NULL);

        (void)state;
        TL_EQ(poe_kernel_signal_ui_destroy(NULL, o), -EINVAL);
        TL_EQ(poe_kernel_signal_ui_destroy(tl.k, NULL), -EINVAL);
        /* Finalized with no session to reach: nothing happens. */
        TL_EQ(poe_kernel_signal_ui_destroy(tl.k, o), 0);
        g_object_unref(o);
        TL_EQ(poe_kernel_dispatch(tl.k), 0);
        TL_EQ(poe_kernel_prepare(tl.k, NULL), 0);
}

int main(void)
{
        const struct CMUnitTest ui[] = {
                TL_TEST(test_ui_destroy_stops_every_session),
                TL_TEST(test_ui_destroy_bad_arguments),
        };
        int failed = hl_main(&glib_driver);

        return failed + cmocka_run_group_tests(ui, NULL, NULL);
}
