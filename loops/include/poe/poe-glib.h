/*
 * libpoe-glib: libpoe inside a GLib program.  The kernel becomes a
 * GSource of any GMainContext, so a GTK-style program's main loop runs
 * POE sessions beside its own sources, as POE::Loop::Glib does.
 *
 *     poe_kernel *k;
 *     poe_kernel_new(&k, NULL);
 *     ... create sessions ...
 *     guint id = poe_glib_attach(k, NULL);      the default context
 *     g_main_loop_run(loop);
 *     g_source_remove(id); poe_kernel_free(k);
 *
 * pkg-config: libpoe-glib.
 */
#ifndef POE_GLIB_H
#define POE_GLIB_H

#include <glib-object.h>
#include <glib.h>

#include "poe/poe.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A new GSource that drives k: it watches poe_kernel_get_fd(k), wakes
 * when poe_kernel_prepare says a timer or a post is due, and runs
 * poe_kernel_dispatch when either happens.  The caller owns the one
 * reference returned, and attaches it with g_source_attach (then may
 * unref it: the context holds its own).  k is borrowed: destroy the
 * source before freeing the kernel.  The source never removes itself;
 * when no sessions remain it only stops waking.  A handler that dies
 * unhandled is left in poe_kernel_exception().  Priority
 * G_PRIORITY_DEFAULT.  NULL for a NULL kernel or when the kernel has no
 * fd (poe_kernel_get_fd failed).
 */
POE_EXPORT GSource *poe_glib_source_new(poe_kernel *k);

/**
 * Makes k's source (poe_glib_source_new) and attaches it to ctx (NULL:
 * the default context), keeping no reference of its own.  Returns the
 * source's id for g_source_remove (with the default context), or 0 on
 * failure.
 */
POE_EXPORT guint poe_glib_attach(poe_kernel *k, GMainContext *ctx);

/**
 * POE's signal_ui_destroy for GLib: when object (any GObject: a window,
 * a widget) is finalized, the UIDESTROY signal is sent to every session
 * (poe_kernel_signal to POE_KERNEL).  UIDESTROY is nonmaskable, as in
 * POE: it stops each session it reaches even if a watcher calls
 * sig_handled, so the program's sessions end with its window.  The
 * signal is queued, and dispatched by the kernel's next timeslice.  The
 * watch holds a weak reference only; k is borrowed and must outlive the
 * object.  Returns 0, or -EINVAL for a NULL kernel or object (anything
 * else must be a GObject: GLib cannot tell a stray pointer from one).
 */
POE_EXPORT int poe_kernel_signal_ui_destroy(poe_kernel *k, gpointer object);

#ifdef __cplusplus
}
#endif

#endif
