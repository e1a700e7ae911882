/*
 * tick: the POE::Kernel synopsis, in C.
 *
 *      POE::Session->create(inline_states => {
 *              _start => sub { $_[KERNEL]->yield("next") },
 *              next   => sub { print "tick...\n"; $_[KERNEL]->delay(next => 1) },
 *      });
 *
 * The Perl original ticks forever; this one stops after N ticks so it can
 * be a test.  Usage: tick [N [SECONDS]] (default 5 ticks, 1 second apart).
 * Once the last tick sets no new delay, the session owns nothing, so the
 * kernel stops it and run() returns: no explicit "quit" is needed.
 */
#include <stdio.h>
#include <stdlib.h>

#include <poe/poe.h>

struct ticker {
        int ticks, max;
        double interval;
};

static poe_value tick_start(poe_ctx *c)
{
        /* yield rather than delay: the first tick comes at once. */
        poe_kernel_yield(poe_ctx_kernel(c), "next", POE_NOARGS);
        return poe_nil();
}

static poe_value tick_next(poe_ctx *c)
{
        struct ticker *t = poe_ctx_heap(c);

        t->ticks++;
        printf("tick %d...\n", t->ticks);
        /* The pending delay is what keeps the session alive. */
        if (t->ticks < t->max)
                poe_kernel_delay(poe_ctx_kernel(c), "next", t->interval, POE_NOARGS);
        return poe_nil();
}

static poe_value tick_stop(poe_ctx *c)
{
        struct ticker *t = poe_ctx_heap(c);

        printf("stopped after %d ticks.\n", t->ticks);
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = {
                { "_start", tick_start, NULL },
                { "next", tick_next, NULL },
                { "_stop", tick_stop, NULL },
        };
        struct ticker t = { .max = 5, .interval = 1.0 };
        poe_session_spec spec = { .handlers = h, .n_handlers = 3, .heap = &t };
        poe_kernel *k;

        if (argc > 1)
                t.max = atoi(argv[1]);
        if (argc > 2)
                t.interval = atof(argv[2]);
        if (t.max < 1 || !(t.interval >= 0)) {
                fprintf(stderr, "usage: tick [N [SECONDS]]\n");
                return EXIT_FAILURE;
        }
        if (poe_kernel_new(&k, NULL) < 0 || poe_session_create(k, &spec, NULL) < 0)
                return EXIT_FAILURE;
        poe_kernel_run(k);
        poe_kernel_free(k);
        return EXIT_SUCCESS;
}
