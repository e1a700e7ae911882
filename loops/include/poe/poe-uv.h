/*
 * libpoe-uv: libpoe inside a libuv program.  The kernel rides a
 * uv_loop_t beside the program's own handles: a poll handle on the
 * kernel's fd, a timer for its next timer, and a prepare handle that
 * re-arms the timer before each sleep.
 *
 *     poe_uv *h;
 *     poe_uv_attach(k, uv_default_loop(), &h);
 *     uv_run(uv_default_loop(), UV_RUN_DEFAULT);  returns when the
 *                                                 sessions and the
 *                                                 program's handles end
 *     poe_uv_detach(h); uv_run(loop, UV_RUN_NOWAIT); poe_kernel_free(k);
 *
 * pkg-config: libpoe-uv.
 */
#ifndef POE_UV_H
#define POE_UV_H

#include <uv.h>

#include "poe/poe.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A kernel's attachment to a libuv loop.  Opaque. */
typedef struct poe_uv poe_uv;

/**
 * Drives k from loop.  The kernel's handles keep the loop alive (as an
 * active handle does) while sessions remain, and stop doing so when
 * none do, so uv_run(UV_RUN_DEFAULT) returns once the kernel and the
 * program's own handles are done; sessions made later wake it again on
 * the next run.  A handler that dies unhandled is left in
 * poe_kernel_exception().  k and loop are borrowed until
 * poe_uv_detach().  Returns 0, -EINVAL, -ENOMEM, or the error of
 * poe_kernel_get_fd() or of uv_poll_init() (a libuv error, negative
 * errno on Linux).
 */
POE_EXPORT int poe_uv_attach(poe_kernel *k, uv_loop_t *loop, poe_uv **ret_attachment);

/**
 * Stops driving the kernel: its handles are closed, and the attachment
 * is freed by their close callbacks, so the loop must run once more
 * (uv_run(loop, UV_RUN_NOWAIT) will do) before it is closed.  Never
 * from inside a libpoe handler of the same kernel.  Takes NULL;
 * returns NULL.
 */
POE_EXPORT poe_uv *poe_uv_detach(poe_uv *h);

#ifdef __cplusplus
}
#endif

#endif
