/*
 * glib-embed: libpoe sessions inside a GLib program, through
 * libpoe-glib's GSource, beside a timeout source of the program's own.
 *
 * The program's timeout fires three times; a POE session ticks three
 * times on its own timer.  The main loop quits once both are done.  Run
 * it with POE_INSPECTOR=127.0.0.1:8080 to watch the session in a browser
 * while the GLib loop runs it.  Usage: glib-embed
 */
#include <stdbool.h>
#include <stdio.h>

#include <poe/inspector.h>
#include <poe/poe-glib.h>

static GMainLoop *main_loop;
static bool host_done, poe_done;

static gboolean host_timeout(gpointer data)
{
        int *n = data;

        printf("glib: timeout %d\n", ++*n);
        if (*n < 3)
                return G_SOURCE_CONTINUE;
        host_done = true;
        if (poe_done)
                g_main_loop_quit(main_loop);
        return G_SOURCE_REMOVE;
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value on_tick(poe_ctx *c)
{
        int64_t n = poe_ctx_arg(c, 0)->u.i;

        printf("poe: tick %lld\n", (long long)n);
        if (n < 3)
                poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_ARGS(poe_int(n + 1)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("poe: session stopped\n");
        poe_done = true;
        if (host_done)
                g_main_loop_quit(main_loop);
        return poe_nil();
}

int main(void)
{
        static const poe_handler handlers[] = {
                { "_start", on_start, NULL },
                { "tick", on_tick, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_session_spec spec = { .handlers = handlers, .n_handlers = 3 };
        poe_inspector *in = NULL;
        poe_kernel *k;
        int n = 0;
        guint id;

        if (poe_kernel_new(&k, NULL) < 0 || poe_inspector_start_from_env(k, &in) < 0)
                return 1;
        /* The kernel's source on the default context, the program's
         * timeout beside it. */
        id = poe_glib_attach(k, NULL);
        if (!id)
                return 1;
        g_timeout_add(10, host_timeout, &n);
        if (poe_session_create(k, &spec, NULL) < 0)
                return 1;
        main_loop = g_main_loop_new(NULL, FALSE);
        g_main_loop_run(main_loop);
        g_main_loop_unref(main_loop);
        g_source_remove(id);
        poe_inspector_stop(in);
        poe_kernel_free(k);
        printf("glib: main loop done\n");
        return 0;
}
