/*
 * Time (clock.c): the real clocks or a fake one, and busy time.
 */
#include "internal.h"

#ifndef POE_CLOCK_H_PART
#define POE_CLOCK_H_PART

/* The clocks: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__CLOCK_PART                                                              \
        /* Time: the real clocks, or a fake one for tests. */                        \
        bool fake_clock;                                                             \
        int64_t now;        /* the monotonic clock as last read (poe__clock_now) */  \
        int64_t coarse_now; /* CLOCK_MONOTONIC_COARSE when it was */                 \
        int64_t fake_mono;                                                           \
        double fake_wall;                                                            \
        double epoch_offset; /* epoch seconds at monotonic zero */                   \
        double started; /* epoch seconds when made */                                \
        int64_t started_mono; /* and on the monotonic clock */

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_CLOCK_H)
#define POE_CLOCK_H

/* clock.c */
int64_t poe__mono(const poe_kernel *k);
/* The same, inline, for the trace records' path. */
static inline __attribute__((always_inline)) int64_t poe__mono_inline(const poe_kernel *k)
{
        struct timespec ts;

        if (k->fake_clock)
                return k->fake_mono;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
int64_t poe__clock_now(poe_kernel *k); /* reads the clock into k->now */
/* The wall clock in epoch seconds, or the fake one (POE's walltime()),
 * inline for the timer setters: delay_set reads it at each call. */
static inline __attribute__((always_inline)) double poe__wall_inline(const poe_kernel *k)
{
        struct timespec ts;

        if (k->fake_clock)
                return k->fake_wall;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The time a timeslice starts at: k->now, and the coarse clock returned
 * (poe__coarse), which busy time is measured on.  With timers pending
 * the monotonic clock is read, since the slice dispatches those due by
 * then.  Without, it is read only when the coarse clock (a memory read
 * in the vDSO, no syscall, 1-4 ms ticks) says a tick has passed: then
 * only posts use it, and a post's stamp matters only against a timer
 * later set in the past, which stays exact to a tick.  Inline: a busy
 * kernel's slices are one event each (a yield chain), so this is paid
 * per event.
 */
static inline __attribute__((always_inline)) int64_t poe__clock_slice(poe_kernel *k)
{
        struct timespec ts;
        int64_t coarse;

        if (__builtin_expect(k->fake_clock, 0))
                return poe__clock_now(k);
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        coarse = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        if (k->heap_len || coarse != k->coarse_now) {
                k->coarse_now = coarse;
                poe__clock_now(k);
        }
        return coarse;
}
/* CLOCK_MONOTONIC_COARSE (a memory read, 1-4 ms ticks), or the fake
 * clock: what busy time is measured on. */
int64_t poe__coarse(const poe_kernel *k);
/* The same, inline, for a reading per dispatch (events.c's busy_begin). */
static inline __attribute__((always_inline)) int64_t poe__coarse_inline(const poe_kernel *k)
{
        struct timespec ts;

        if (__builtin_expect(k->fake_clock, 0))
                return k->fake_mono;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
void poe__busy_slow(poe_kernel *k, poe__session *s, int64_t ns);
/* A dispatch this long is slow until poe_kernel_set_slow_dispatch. */
#define POE__SLOW_DEFAULT_NS 500000000

/*
 * Busy time, kept always at the cost of no clock read of its own in a
 * busy kernel: a slice's first dispatch is charged from the coarse
 * clock's reading the slice takes anyway (poe__clock_slice) to the next
 * reading: the next slice's, or the next top-level dispatch's of the same
 * slice, or the loop's before it waits (poe__busy_stop).  So is a
 * top-level dispatch the slice makes itself (a signal's watchers, the
 * sweep's _stop and _child: k->busy_defer) and an I/O watcher's from the
 * ready round: one reading each, at its start, but for the sweep's first
 * when nothing was charged since the slice's reading, which starts at
 * that reading as a slice's first queued event does (k->busy_reuse;
 * events.c, sweep_slice).  A dispatch outside a
 * slice (a call from outside handlers, a create before run) reads it at
 * both ends.  A coarse clock's tick falls inside a dispatch as often as
 * the dispatch is long, so the sums are right over many dispatches and a
 * long one is right to a tick.  Nested dispatches (call) count in their
 * caller's.
 */
static inline void poe__busy_settle(poe_kernel *k, int64_t t)
{
        poe__session *s = k->busy_sess;

        if (s) {
                int64_t d = t - k->busy_mark;

                s->busy_ns += d;
                if (__builtin_expect(d >= k->slow_ns, 0))
                        poe__busy_slow(k, s, d);
                k->busy_sess = NULL;
        }
        k->busy_mark = t;
}

/* The same where time passes next that is nobody's: a wait, or the
 * host's code after a timeslice or run().  No reading when no dispatch
 * is being charged: the mark is read only with busy_sess set, and each
 * place that sets it settles first (the slice's loop after the slice's
 * own reading). */
static inline void poe__busy_stop(poe_kernel *k)
{
        if (k->busy_sess)
                poe__busy_settle(k, poe__coarse(k));
}
double poe__wall(const poe_kernel *k);
void poe__clock_init(poe_kernel *k);
int64_t poe__wall2mono(const poe_kernel *k, double wall);
double poe__mono2wall(const poe_kernel *k, int64_t mono);
void poe__clock_jump(poe_kernel *k, int64_t mono);

#endif
