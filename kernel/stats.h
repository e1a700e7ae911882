/*
 * The counts /metrics reads (poe_kernel_dispatch_stats): dispatches by
 * kind, a sampled histogram of how long handlers take, and two kept for
 * every queued event: how long it waited in the queue, and how late a
 * timer fired.  The last two cost no clock read: both ends are times the
 * kernel has already (the stamp a post gets, a timer's due time, the
 * slice's start), so counting them is a subtraction and a few compares.
 */
#ifndef POE_STATS_H
#define POE_STATS_H

#include <stdint.h>

#include "poe/poe.h"

typedef struct poe__stats {
        /* Handlers run, by kind; their sum is the kernel's
         * total_dispatched, counted at the same place (invoke). */
        uint64_t by_kind[POE_DISPATCH_KINDS];
        /* Dispatch durations, sampled: a timed dispatch's duration
         * stands for it and the handlers run after it, up to the next
         * sample (its segment, from seg_start).  duration[] and
         * duration_sum hold the closed segments; the open one is added
         * when read, so that the histogram counts every dispatch and no
         * bucket ever goes down. */
        uint64_t duration[POE_DURATION_BUCKETS];
        double duration_sum;
        uint64_t timed, seg_start;
        int last_bucket;     /* the open segment's bucket, -1 before one */
        double last_seconds; /* and its duration */
        /* Queue waits (posts, signals) and timer lateness, in ns. */
        uint64_t wait[POE_LAG_BUCKETS];
        int64_t wait_ns;
        uint64_t lag[POE_LAG_BUCKETS];
        int64_t lag_ns;
} poe__stats;

/* The lag and wait histograms' upper bounds, in ns (the last is +Inf). */
#define POE__LAG_BOUNDS                                                                            \
        1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000,  \
                1000000000, 2500000000
extern const int64_t poe__lag_bounds_ns[POE_LAG_BUCKETS - 1];

/* One observation of ns into a lag or wait histogram.  Nearly all are
 * below the first bound (a loop that keeps up): one compare then; a
 * binary search (4 steps) for the others. */
static inline void poe__stats_lag_add(uint64_t *buckets, int64_t *sum, int64_t ns)
{
        int lo = 0, hi, mid;

        if (ns < 0) /* a clock that stood still: no wait */
                ns = 0;
        if (__builtin_expect(ns > 1000000, 0)) { /* poe__lag_bounds_ns[0] */
                /* The first bucket whose bound is >= ns, in [1, +Inf]. */
                lo = 1;
                hi = POE_LAG_BUCKETS - 1;
                while (lo < hi) {
                        mid = (lo + hi) / 2;
                        if (ns > poe__lag_bounds_ns[mid])
                                lo = mid + 1;
                        else
                                hi = mid;
                }
        }
        buckets[lo]++;
        *sum += ns;
}

/* A sampled dispatch took ns; n0 handlers had run before it (stats.c). */
void poe__stats_duration(poe_kernel *k, int64_t ns, uint64_t n0);

#endif
