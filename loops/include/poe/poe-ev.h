/*
 * libpoe-ev: libpoe inside a libev program.  The kernel rides an
 * ev_loop beside the program's own watchers, as POE::Loop::EV does: an
 * io watcher on the kernel's fd, a timer for its next timer, and a
 * prepare watcher that re-arms the timer before each sleep.
 *
 *     poe_ev *h;
 *     poe_ev_attach(k, loop, &h);
 *     ev_run(loop, 0);         returns when the sessions and the
 *                              program's watchers are done
 *     poe_ev_detach(h); poe_kernel_free(k);
 *
 * libev's default loop reaps every child process itself (its SIGCHLD
 * watcher), which takes them from sig_child: a program that uses
 * sig_child should drive the kernel from a loop made with ev_loop_new.
 *
 * pkg-config: libpoe-ev.
 */
#ifndef POE_EV_H
#define POE_EV_H

#include <ev.h>

#include "poe/poe.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A kernel's attachment to a libev loop.  Opaque. */
typedef struct poe_ev poe_ev;

/**
 * Drives k from loop.  The kernel's watchers keep ev_run() running
 * while sessions remain, and stop doing so when none do; sessions made
 * later wake it again on the next run.  A handler that dies unhandled is
 * left in poe_kernel_exception().  k and loop are borrowed until
 * poe_ev_detach().  Returns 0, -EINVAL, -ENOMEM, or the error of
 * poe_kernel_get_fd().
 */
POE_EXPORT int poe_ev_attach(poe_kernel *k, struct ev_loop *loop, poe_ev **ret_attachment);

/**
 * Stops the kernel's watchers and frees the attachment, at once.  Never
 * from inside a libpoe handler of the same kernel.  Takes NULL; returns
 * NULL.
 */
POE_EXPORT poe_ev *poe_ev_detach(poe_ev *h);

#ifdef __cplusplus
}
#endif

#endif
