/*
 * timers-scale: the cost of setting and removing one timer as the number
 * of pending timers grows from 10^3 to 10^6.  The heap makes each
 * operation O(log n), so the time per operation should grow by a small
 * constant per decade, not tenfold.  Prints one line per size:
 *
 *   workload=timers_setremove impl=libpoe n=N seconds=S rate=R ns_per_op=T
 *
 * where n is the number of timers pending while the operations run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <poe/poe.h>

#define OPS 200000

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static poe_value start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        size_t n = *(size_t *)poe_ctx_heap(c), i;
        poe_alarm_id *ids = malloc(n * sizeof(*ids));
        double t0, t1;

        if (!ids)
                abort();
        /* Fill the queue with n timers 1..1000 s away. */
        for (i = 0; i < n; i++)
                if (poe_kernel_delay_set(k, "t", 1 + (double)(next_rand() % 1000000) / 1000.0,
                                         POE_NOARGS, &ids[i]) < 0)
                        abort();
        /* Each op: remove a random pending timer, set a new one in its place. */
        t0 = now();
        for (i = 0; i < OPS; i++) {
                size_t j = next_rand() % n;

                if (poe_kernel_alarm_remove(k, ids[j], NULL) < 0 ||
                    poe_kernel_delay_set(k, "t", 1 + (double)(next_rand() % 1000000) / 1000.0,
                                         POE_NOARGS, &ids[j]) < 0)
                        abort();
        }
        t1 = now();
        printf("workload=timers_setremove impl=libpoe n=%zu seconds=%.6f rate=%.0f ns_per_op=%.1f\n",
               n, t1 - t0, OPS / (t1 - t0), (t1 - t0) * 1e9 / OPS);
        poe_kernel_alarm_remove_all(k, NULL, NULL);
        free(ids);
        return poe_nil();
}

int main(int argc, char **argv)
{
        size_t sizes[] = { 1000, 10000, 100000, 1000000 };
        size_t i, count = argc > 1 ? (size_t)atoi(argv[1]) : 4;

        for (i = 0; i < count && i < 4; i++) {
                poe_handler h[] = { { "_start", start, NULL } };
                poe_session_spec spec = { .handlers = h, .n_handlers = 1, .heap = &sizes[i] };
                poe_kernel *k;

                if (poe_kernel_new(&k, NULL) < 0 || poe_session_create(k, &spec, NULL) < 0)
                        return 1;
                poe_kernel_run(k);
                poe_kernel_free(k);
        }
        return 0;
}
