/*
 * What a timeslice has to do besides dispatching (kernel.c's
 * do_timeslice, and events.c, where run()'s next slice may begin).
 */
#ifndef POE_SLICE_H
#define POE_SLICE_H

#include "internal.h"
#include "debug.h"
#include "signals.h"

/*
 * Can this timeslice skip the wait?  When posts are due, nothing but
 * events can be pending besides them: no fd is watched (so no wait is
 * made anyway), no thread has posted, no OS signal or child reap waits,
 * and no I/O tracing wants its line.  Then the slice is only the
 * dispatch, which is what keeps a busy kernel's cost per event low.
 */
static inline bool poe__slice_only_events(poe_kernel *k)
{
        return !poe__list_empty(&k->fifo) && k->n_watched_fds == 0 && !k->wake_ready &&
               !k->sig_ready && !atomic_load_explicit(&k->xposts_waiting, memory_order_relaxed) &&
               !poe__os_signals_pending(k) && k->chld_poll_due < 0 && !k->retry_soon &&
               !POE__ON(k, POE_TRACE_FILES | POE_ASSERT_FILES);
}

#endif
