/* sig-kernel: the C side of sig-kernel.pl (see there). */
#include <signal.h>
#include <unistd.h>

#include "oracle.h"

static int step;

static poe_value on_child(poe_ctx *c)
{
        const char *op = val(poe_ctx_arg(c, 0));

        if (strcmp(op, "create") != 0)
                printf("%s _child %s %s\n", id_of(poe_ctx_session(c)), op,
                       val(poe_ctx_arg(c, 1)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value on_sig(poe_ctx *c)
{
        size_t i;

        printf("%s on_sig [", id_of(poe_ctx_session(c)));
        for (i = 0; i < poe_ctx_argc(c); i++)
                printf("%s%s", i ? " " : "", val(poe_ctx_arg(c, i)));
        printf("] sender=%s\n", id_of(poe_ctx_sender(c)));
        if (poe_ctx_session(c) == 1 && strcmp(val(poe_ctx_arg(c, 0)), "HELLO") == 0)
                poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

static poe_value on_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        step++;
        printf("step %d\n", step);
        if (step == 1) {
                poe_kernel_signal(k, POE_KERNEL, "HELLO", POE_ARGS(poe_str("x")));
        } else if (step == 2) {
                poe_kernel_delay(k, "timeout", 5, POE_NOARGS);
                kill(getpid(), SIGTERM);
        }
        return poe_nil();
}

static poe_value on_timeout(poe_ctx *c)
{
        (void)c;
        printf("timeout: TERM never came\n");
        return poe_nil();
}

static void member(poe_kernel *k, int depth);

/* The depth travels as _start's argument. */
static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int depth = (int)poe_value_int(poe_ctx_arg(c, 0));
        char name[16], w[16];

        snprintf(name, sizeof(name), "d%d", depth);
        snprintf(w, sizeof(w), "w%d", depth);
        poe_kernel_alias_set(k, name);
        poe_kernel_sig(k, "HELLO", "on_sig", POE_ARGS(poe_str(w)));
        if (depth == 1)
                poe_kernel_sig(k, "TERM", "on_sig", POE_ARGS(poe_str(w)));
        if (depth < 3)
                member(k, depth + 1);
        if (depth == 1)
                poe_kernel_yield(k, "step", POE_NOARGS);
        return poe_nil();
}

static void member(poe_kernel *k, int depth)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
                { "on_sig", on_sig, NULL },
                { "step", on_step, NULL },
                { "timeout", on_timeout, NULL },
        };

        oracle_create(k, h, ORACLE_N(h), POE_ARGS(poe_int(depth)), NULL);
}

int main(void)
{
        poe_kernel *k = oracle_kernel();

        member(k, 1);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
