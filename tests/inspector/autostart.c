/*
 * A program that links libpoe-inspector but never calls it: with
 * POE_INSPECTOR in its environment, poe_kernel_new starts an inspector
 * anyway.  Mode "wait": one session held by an extra reference until
 * SIGTERM.  Mode "count": a session that counts to 1000 by yields and
 * ends, so the program must exit by itself, inspector or not.
 */
#include <stdio.h>
#include <string.h>

#include <poe/poe.h>

static int count;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *mode = poe_ctx_heap(c);

        if (strcmp(mode, "wait") == 0) {
                poe_kernel_refcount_increment(k, poe_ctx_session(c), "until-term");
                poe_kernel_sig(k, "TERM", "on_term", POE_NOARGS);
        } else {
                poe_kernel_yield(k, "step", POE_NOARGS);
        }
        return poe_nil();
}

static poe_value on_step(poe_ctx *c)
{
        if (++count < 1000)
                poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

static poe_value on_term(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig_handled(k);
        poe_kernel_refcount_decrement(k, poe_ctx_session(c), "until-term");
        return poe_nil();
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL }, { "step", on_step, NULL }, { "on_term", on_term, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 3 };
        poe_kernel *k;
        int r;

        spec.heap = argc > 1 ? argv[1] : "count";
        if (poe_kernel_new(&k, NULL) < 0 || poe_session_create(k, &spec, NULL) < 0)
                return 2;
        r = poe_kernel_run(k);
        poe_kernel_free(k);
        printf("EXIT %d count %d\n", r, count);
        return r == 0 ? 0 : 1;
}
