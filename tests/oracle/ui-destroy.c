/* ui-destroy: the C side of ui-destroy.pl (see there), on a GLib main
 * context through libpoe-glib, with a real GObject as the window. */
#include <poe/poe-glib.h>

#include "oracle.h"

static GObject *window;

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value on_ui(poe_ctx *c)
{
        printf("%s on_ui %s (handled)\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value on_later(poe_ctx *c)
{
        printf("%s later\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value kid_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "UIDESTROY", "on_ui", POE_NOARGS);
        poe_kernel_delay(k, "later", 3600, POE_NOARGS);
        return poe_nil();
}

static poe_value p_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", kid_start, NULL },
                { "_stop", on_stop, NULL },
                { "on_ui", on_ui, NULL },
                { "later", on_later, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "UIDESTROY", "on_ui", POE_NOARGS);
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_delay(k, "later", 3600, POE_NOARGS);
        poe_kernel_yield(k, "close_window", POE_NOARGS);
        return poe_nil();
}

static poe_value p_close_window(poe_ctx *c)
{
        printf("%s close_window\n", id_of(poe_ctx_session(c)));
        g_object_unref(window); /* finalized: UIDESTROY */
        window = NULL;
        poe_kernel_yield(poe_ctx_kernel(c), "later", POE_NOARGS);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", p_start, NULL },
                { "_stop", on_stop, NULL },
                { "on_ui", on_ui, NULL },
                { "later", on_later, NULL },
                { "close_window", p_close_window, NULL },
        };
        poe_kernel *k = oracle_kernel();
        guint id;

        window = g_object_new(G_TYPE_OBJECT, NULL);
        if (poe_kernel_signal_ui_destroy(k, window) != 0)
                return 1;
        id = poe_glib_attach(k, NULL);
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        /* The GLib loop runs until the kernel has no sessions. */
        while (poe_kernel_prepare(k, NULL) == 1)
                g_main_context_iteration(NULL, TRUE);
        printf("run returned\n");
        g_source_remove(id);
        poe_kernel_free(k);
        return 0;
}
