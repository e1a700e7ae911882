/*
 * yield-chain: one session yields to itself N times.  The cheapest
 * complete cycle through the queue and the dispatcher (post, dequeue,
 * handler lookup, call, free), so it shows what the kernel itself costs
 * per event.  Built twice, against libpoe (every debug group compiled in
 * but switched off) and against libpoe-nodebug (every group compiled
 * out), so the cost of having the groups there at all can be read off:
 *
 *   workload=yield_chain impl=IMPL n=N seconds=S rate=R
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <poe/poe.h>

#ifndef IMPL
#define IMPL "libpoe"
#endif

static long remaining;

static poe_value step(poe_ctx *c)
{
        if (--remaining > 0)
                poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

static poe_value start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = { { "_start", start, NULL }, { "step", step, NULL } };
        poe_session_spec spec = { .handlers = h, .n_handlers = 2 };
        long n = argc > 1 ? atol(argv[1]) : 2000000;
        struct timespec t0, t1;
        poe_kernel *k;
        double s;

        remaining = n;
        if (poe_kernel_new(&k, NULL) < 0)
                return 1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (poe_session_create(k, &spec, NULL) < 0)
                return 1;
        poe_kernel_run(k);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("workload=yield_chain impl=%s n=%ld seconds=%.6f rate=%.0f\n", IMPL, n, s, n / s);
        poe_kernel_free(k);
        return 0;
}
