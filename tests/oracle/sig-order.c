/* sig-order: the C side of sig-order.pl (see there). */
#include <signal.h>
#include <unistd.h>

#include "oracle.h"

static int step;

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
        /* The parent sees each signal last: it takes the next step. */
        if (poe_ctx_session(c) == 1)
                poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

static poe_value c_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "PING", "on_sig", POE_ARGS(poe_str("wC")));
        poe_kernel_sig(k, "USR1", "on_sig", POE_ARGS(poe_str("wC")));
        poe_kernel_alias_set(k, "C");
        return poe_nil();
}

static poe_value c_bye(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_remove(k, "C");
        poe_kernel_sig(k, "PING", NULL, POE_NOARGS);
        poe_kernel_sig(k, "USR1", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value p_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", c_start, NULL },
                { "_stop", on_stop, NULL },
                { "on_sig", on_sig, NULL },
                { "bye", c_bye, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "PING", "on_sig", POE_ARGS(poe_str("wP")));
        poe_kernel_sig(k, "USR1", "on_sig", POE_ARGS(poe_str("wP")));
        poe_kernel_alias_set(k, "P");
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_yield(k, "step", POE_NOARGS);
        return poe_nil();
}

static poe_value p_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid csid = 0;

        step++;
        printf("step %d\n", step);
        if (step == 1) {
                poe_kernel_signal(k, poe_ctx_session(c), "PING",
                                  POE_ARGS(poe_str("a"), poe_str("b")));
        } else if (step == 2) {
                /* Only C: step 3 is taken from here. */
                poe_kernel_alias_resolve(k, "C", &csid);
                poe_kernel_signal(k, csid, "PING", POE_ARGS(poe_str("c")));
                poe_kernel_yield(k, "step", POE_NOARGS);
        } else if (step == 3) {
                /* A real signal; the timer keeps the kernel from going
                 * idle before it arrives. */
                poe_kernel_delay(k, "timeout", 5, POE_NOARGS);
                kill(getpid(), SIGUSR1);
        } else if (step == 4) {
                poe_kernel_delay(k, "timeout", POE_NO_TIME, POE_NOARGS);
                poe_kernel_post_alias(k, "C", "bye", POE_NOARGS);
                poe_kernel_alias_remove(k, "P");
                poe_kernel_sig(k, "PING", NULL, POE_NOARGS);
                poe_kernel_sig(k, "USR1", NULL, POE_NOARGS);
        }
        return poe_nil();
}

static poe_value p_timeout(poe_ctx *c)
{
        (void)c;
        printf("timeout: USR1 never came\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", p_start, NULL },
                { "_stop", on_stop, NULL },
                { "on_sig", on_sig, NULL },
                { "step", p_step, NULL },
                { "timeout", p_timeout, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
