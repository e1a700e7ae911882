/* signal-propagation: the C side of signal-propagation.pl (see there). */
#include "oracle.h"

static void chain(poe_kernel *k, int depth);

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
        poe_sid me = poe_ctx_session(c);

        printf("%s on_sig [", id_of(me));
        for (size_t i = 0; i < poe_ctx_argc(c); i++)
                printf("%s%s", i ? " " : "", val(poe_ctx_arg(c, i)));
        printf("] sender=%s\n", id_of(poe_ctx_sender(c)));
        if (strcmp(val(poe_ctx_arg(c, 0)), "INT") == 0 && me == 3) {
                poe_kernel_sig_handled(poe_ctx_kernel(c));
                printf("%s handled INT\n", id_of(me));
        }
        return poe_nil();
}

static poe_value on_start(poe_ctx *c)
{
        static const char *const signals[] = { "PING", "INT", "TERM" };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        int depth = *(int *)poe_ctx_heap(c);
        char name[32];

        snprintf(name, sizeof(name), "w%" PRIu64, me);
        for (size_t i = 0; i < ORACLE_N(signals); i++)
                poe_kernel_sig(k, signals[i], "on_sig", POE_ARGS(poe_str(name)));
        if (depth < 3)
                chain(k, depth + 1);
        if (depth == 1)
                poe_kernel_yield(k, "step", POE_ARGS(poe_int(1)));
        snprintf(name, sizeof(name), "s%" PRIu64, me);
        poe_kernel_alias_set(k, name);
        return poe_nil();
}

static poe_value on_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        printf("step %" PRId64 "\n", n);
        if (n == 1)
                poe_kernel_signal(k, me, "PING", POE_ARGS(poe_str("a"), poe_str("b")));
        if (n == 2) {
                poe_kernel_sig(k, "PING", NULL, POE_NOARGS);
                poe_kernel_signal(k, POE_KERNEL, "PING", POE_ARGS(poe_str("c")));
        }
        if (n == 3)
                poe_kernel_signal(k, me, "INT", POE_NOARGS);
        if (n == 4)
                poe_kernel_signal(k, 2, "TERM", POE_NOARGS);
        if (n == 5) {
                poe_kernel_alias_remove(k, "s1");
                return poe_nil();
        }
        poe_kernel_yield(k, "step", POE_ARGS(poe_int(n + 1)));
        return poe_nil();
}

static void chain(poe_kernel *k, int depth)
{
        static int depths[] = { 0, 1, 2, 3 };
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "step", on_step, NULL },
                { "on_sig", on_sig, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, &depths[depth]);
}

int main(void)
{
        poe_kernel *k = oracle_kernel();

        chain(k, 1);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
