/*
 * counters: the POE documentation's first example, in C.
 *
 * Three sessions each count to ten by yielding to themselves, so their
 * output interleaves: that is cooperative multitasking.  A fourth
 * session, aliased "echo", answers calls and posts by name.  When every
 * counter is done, only the alias keeps "echo" alive; the kernel notices
 * that nothing can happen any more, sends IDLE, and run() returns.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <poe/poe.h>

struct counter {
        int count;
};

static poe_value counter_start(poe_ctx *c)
{
        struct counter *heap = poe_ctx_heap(c);

        heap->count = 0;
        printf("session %" PRIu64 " has started.\n", poe_ctx_session(c));
        poe_kernel_yield(poe_ctx_kernel(c), "count", POE_NOARGS);
        return poe_nil();
}

static poe_value counter_count(poe_ctx *c)
{
        struct counter *heap = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value reply;

        heap->count++;
        printf("session %" PRIu64 " has counted to %d.\n", poe_ctx_session(c), heap->count);
        if (heap->count < 10) {
                poe_kernel_yield(k, "count", POE_NOARGS);
                return poe_nil();
        }
        /* Done: ask the echo service, by name, and tell it we finished. */
        if (poe_kernel_call_alias(k, "echo", "shout", POE_ARGS(poe_str("done")), &reply) == 0)
                printf("session %" PRIu64 " heard back: %s\n", poe_ctx_session(c),
                       poe_value_str(&reply));
        return poe_nil();
}

static poe_value counter_stop(poe_ctx *c)
{
        printf("session %" PRIu64 " has stopped.\n", poe_ctx_session(c));
        return poe_nil();
}

static char shout_buf[64];

static poe_value echo_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "echo");
        /* Watch IDLE without handling it: it is terminal, so it still
         * stops us, but we get to say goodbye. */
        poe_kernel_sig(poe_ctx_kernel(c), "IDLE", "idle", POE_NOARGS);
        return poe_nil();
}

static poe_value echo_shout(poe_ctx *c)
{
        const char *s = poe_value_str(poe_ctx_arg(c, 0));

        snprintf(shout_buf, sizeof(shout_buf), "%s!", s ? s : "");
        return poe_str(shout_buf); /* static storage outlives the call */
}

static poe_value echo_idle(poe_ctx *c)
{
        printf("echo: the kernel is idle; nothing left to do.\n");
        return poe_nil();
}

static poe_value echo_stop(poe_ctx *c)
{
        printf("echo has stopped.\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler counter[] = {
                { "_start", counter_start, NULL },
                { "count", counter_count, NULL },
                { "_stop", counter_stop, NULL },
        };
        static const poe_handler echo[] = {
                { "_start", echo_start, NULL },
                { "shout", echo_shout, NULL },
                { "_stop", echo_stop, NULL },
                { "idle", echo_idle, NULL },
        };
        struct counter heaps[3];
        poe_session_spec spec = { 0 };
        poe_kernel *k;
        int i;

        if (poe_kernel_new(&k, NULL) < 0)
                return EXIT_FAILURE;
        spec.handlers = echo;
        spec.n_handlers = 4;
        if (poe_session_create(k, &spec, NULL) < 0)
                return EXIT_FAILURE;
        for (i = 0; i < 3; i++) {
                spec.handlers = counter;
                spec.n_handlers = 3;
                spec.heap = &heaps[i];
                if (poe_session_create(k, &spec, NULL) < 0)
                        return EXIT_FAILURE;
        }
        poe_kernel_run(k);
        printf("run() returned: every session has stopped.\n");
        poe_kernel_free(k);
        return EXIT_SUCCESS;
}
