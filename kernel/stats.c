/*
 * The counts behind /metrics (poe_kernel_dispatch_stats), and the
 * sampled timing of dispatches.  The hot parts are inline where they are
 * counted: by_kind in events.c's invoke, the lag and wait histograms
 * (stats.h) in its slice loop; this file has what runs once in a
 * sample or once a scrape.
 */
#include <string.h>

#include "internal.h"
#include "clock.h"
#include "events.h"
#include "sessions.h"

/* The duration histogram's upper bounds, in ns: 1 us to 10 s by decades. */
static const int64_t duration_bounds_ns[POE_DURATION_BUCKETS - 1] = {
        1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000,
};

const int64_t poe__lag_bounds_ns[POE_LAG_BUCKETS - 1] = {POE__LAG_BOUNDS};

/*
 * A timed dispatch took ns; n0 handlers had run before it.  Its duration
 * stands for it, what it called, and the handlers run after it up to the
 * next sample: the segment open until now closes at n0, into its
 * bucket, and this one opens.  The first segment also takes the handlers
 * run before it (timing switched on late), so that the histogram's count
 * is the dispatch count from the start.  A dispatch that ran no handler
 * (the kernel's own, or an event no handler takes) stands for nothing:
 * the next dispatch is sampled instead.
 */
void poe__stats_duration(poe_kernel *k, int64_t ns, uint64_t n0)
{
        poe__stats *st = &k->stats;
        double seconds = (double)ns / 1e9;
        int i;

        if (k->total_dispatched == n0) {
                if (k->time_dispatches)
                        k->time_countdown = 1;
                return;
        }
        /* A sample nested in this one (call()) opened a segment after n0:
         * this one takes it over. */
        if (n0 < st->seg_start)
                n0 = st->seg_start;
        if (st->last_bucket >= 0) {
                st->duration[st->last_bucket] += n0 - st->seg_start;
                st->duration_sum += st->last_seconds * (double)(n0 - st->seg_start);
                st->seg_start = n0;
        }
        for (i = 0; i < POE_DURATION_BUCKETS - 1 && ns > duration_bounds_ns[i]; i++)
                ;
        st->last_bucket = i;
        st->last_seconds = seconds;
        st->timed++;
}

POE_EXPORT int poe_kernel_set_dispatch_timing(poe_kernel *k, int every)
{
        POE_CHECK(k, k && every >= 0, -EINVAL);
        k->time_dispatches = every > 0;
        k->time_every = (uint32_t)every;
        k->time_countdown = 1; /* the next dispatch is the first sample */
        poe__dispatch_hooks_update(k);
        return 0;
}

/* A top-level dispatch took ns, at least k->slow_ns: the lint's evidence
 * (poe_session_info's slow_dispatches and the slowest), in the session's
 * more: without memory for it, this dispatch's evidence is not kept. */
void poe__busy_slow(poe_kernel *k, poe__session *s, int64_t ns)
{
        poe__session_more *m;

        if (poe__need_more(k, s) < 0)
                return;
        m = s->more;
        m->slow_n++;
        m->slow_last = k->busy_mark;
        if (ns > m->slow_max_ns) {
                m->slow_max_ns = ns;
                m->slow_event = k->busy_event;
        }
}

POE_EXPORT int poe_kernel_set_slow_dispatch(poe_kernel *k, double seconds)
{
        POE_CHECK(k, k && seconds > 0 && seconds < 1e9, -EINVAL);
        k->slow_ns = (int64_t)(seconds * 1e9);
        if (k->slow_ns < 1)
                k->slow_ns = 1;
        return 0;
}

static double seconds(int64_t ns)
{
        return (double)ns / 1e9;
}

/* Cost: O(buckets), no allocation: /metrics calls it on every scrape. */
POE_EXPORT int poe_kernel_dispatch_stats(const poe_kernel *k, poe_dispatch_stats *ret)
{
        const poe__stats *st;
        poe_dispatch_stats r;
        int i;

        POE_CHECK(k, k && ret, -EINVAL);
        st = &k->stats;
        memset(&r, 0, sizeof(r));
        for (i = 0; i < POE_DISPATCH_KINDS; i++)
                r.by_kind[i] = st->by_kind[i];
        r.dispatched = k->total_dispatched;
        for (i = 0; i < POE_DURATION_BUCKETS; i++) {
                r.duration_buckets[i] = st->duration[i];
                r.bucket_le[i] =
                        i < POE_DURATION_BUCKETS - 1 ? (double)duration_bounds_ns[i] / 1e9 : -1;
        }
        r.duration_sum = st->duration_sum;
        r.timed = st->timed;
        /* The open segment, as far as it goes now. */
        if (st->last_bucket >= 0) {
                uint64_t pending = k->total_dispatched - st->seg_start;

                r.duration_buckets[st->last_bucket] += pending;
                r.duration_sum += st->last_seconds * (double)pending;
        }
        for (i = 0; i < POE_LAG_BUCKETS; i++) {
                r.wait_buckets[i] = st->wait[i];
                r.lag_buckets[i] = st->lag[i];
                r.waited += st->wait[i];
                r.timers_fired += st->lag[i];
                r.lag_le[i] = i < POE_LAG_BUCKETS - 1 ? (double)poe__lag_bounds_ns[i] / 1e9 : -1;
        }
        r.wait_sum = seconds(st->wait_ns);
        r.lag_sum = seconds(st->lag_ns);
        *ret = r;
        return 0;
}
