/*
 * Time.  The queue orders by the monotonic clock, so a wall-clock step
 * never reorders or stalls timers; the API speaks epoch seconds, as POE
 * does, converted at the boundary (POE's wall2mono and mono2wall).
 *
 * A fake clock replaces both for tests: time stands still until the test
 * advances it, and when the loop would sleep until the next timer it
 * jumps there instead, so timer tests neither sleep nor race.
 */
#include <math.h>
#include <time.h>

#include "internal.h"
#include "clock.h"
#include "events.h"
#include "queue.h"
#include "trace.h"

static int64_t real_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double real_wall(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int64_t poe__mono(const poe_kernel *k)
{
        return k->fake_clock ? k->fake_mono : real_mono();
}

/* Reads the clock and remembers it as the time posts are stamped with. */
int64_t poe__clock_now(poe_kernel *k)
{
        k->now = poe__mono(k);
        return k->now;
}

int64_t poe__coarse(const poe_kernel *k)
{
        return poe__coarse_inline(k);
}

double poe__wall(const poe_kernel *k)
{
        return poe__wall_inline(k);
}

/*
 * Epoch time and monotonic time are related by one offset taken when the
 * kernel is made (POE's USE_STATIC_EPOCH), so the same epoch time always
 * maps to the same queue position: timers set for one instant keep the
 * order they were set in.  A later step of the wall clock does not move
 * pending timers.
 */
void poe__clock_init(poe_kernel *k)
{
        k->epoch_offset = poe__wall(k) - (double)poe__mono(k) / 1e9;
        k->now = poe__mono(k);
}

int64_t poe__wall2mono(const poe_kernel *k, double wall)
{
        double d = (wall - k->epoch_offset) * 1e9;

        /* Far past and far future saturate rather than overflow. */
        if (d < -4e18)
                d = -4e18;
        if (d > 4e18)
                d = 4e18;
        return (int64_t)d;
}

double poe__mono2wall(const poe_kernel *k, int64_t mono)
{
        return k->epoch_offset + (double)mono / 1e9;
}

POE_EXPORT double poe_kernel_time(const poe_kernel *k)
{
        return k ? poe__wall(k) : real_wall();
}

POE_EXPORT int poe_kernel_clock_fake(poe_kernel *k, double wall_start)
{
        POE_CHECK(k, k && isfinite(wall_start), -EINVAL);
        /* Switching clocks under pending timers would move them. */
        POE_CHECK(k, k->heap_len == 0, -EBUSY);
        k->fake_clock = true;
        k->fake_wall = wall_start;
        k->fake_mono = 1000000000; /* any origin; one second avoids zero */
        k->started = wall_start;   /* uptime counts on the fake clock */
        k->started_mono = k->fake_mono;
        poe__clock_init(k);        /* which sets k->now too */
        k->slice_now = k->slice_prev = k->now; /* timer lag's floor */
        /* Busy time starts again on the fake clock. */
        k->busy_sess = NULL;
        k->busy_mark = k->fake_mono;
        /* A new static epoch: the definitions that carry it come first
         * again (see poe_trace_slot_fn). */
        poe__trace_redefine_all(k);
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_clock_advance(poe_kernel *k, double seconds)
{
        POE_CHECK(k, k && isfinite(seconds) && seconds >= 0, -EINVAL);
        POE_CHECK(k, k->fake_clock, -EPERM);
        /* The monotonic clock counts int64 nanoseconds: a step that
         * would carry it past ~146 years is a bad parameter, not an
         * overflow (1e300 s once wrapped it to INT64_MIN). */
        POE_CHECK(k, seconds * 1e9 < 4.6e18 - (double)k->fake_mono, -EINVAL);
        k->fake_mono += (int64_t)(seconds * 1e9);
        k->fake_wall += seconds;
        k->now = k->fake_mono;
        return poe__rv(k, 0, __func__);
}

/* The loop's own advance: to an exact monotonic instant. */
void poe__clock_jump(poe_kernel *k, int64_t mono)
{
        if (mono > k->fake_mono) {
                k->fake_wall += (double)(mono - k->fake_mono) / 1e9;
                k->fake_mono = mono;
                k->now = mono;
        }
}
