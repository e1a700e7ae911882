/* sig-zombie: the C side of sig-zombie.pl (see there). */
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
        printf("%s on_sig %s (handled)\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static void watch_both(poe_kernel *k)
{
        poe_kernel_sig(k, "ZOMBIE", "on_sig", POE_NOARGS);
        poe_kernel_sig(k, "UIDESTROY", "on_sig", POE_NOARGS);
}

static poe_value kid_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), poe_value_str(poe_ctx_arg(c, 0)));
        watch_both(poe_ctx_kernel(c));
        return poe_nil();
}

static void kid(poe_kernel *k, const char *name)
{
        static const poe_handler h[] = {
                { "_start", kid_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
                { "on_sig", on_sig, NULL },
        };

        oracle_create(k, h, ORACLE_N(h), POE_ARGS(poe_str(name)), NULL);
}

static poe_value p_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "P");
        watch_both(k);
        kid(k, "C");
        poe_kernel_yield(k, "step", POE_NOARGS);
        return poe_nil();
}

static poe_value p_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid sid = 0;

        step++;
        printf("step %d\n", step);
        if (step == 1) {
                poe_kernel_alias_resolve(k, "C", &sid);
                poe_kernel_signal(k, sid, "ZOMBIE", POE_NOARGS);
        } else if (step == 2) {
                kid(k, "D");
        } else if (step == 3) {
                poe_kernel_signal(k, poe_ctx_session(c), "UIDESTROY", POE_NOARGS);
                return poe_nil();
        }
        poe_kernel_yield(k, "step", POE_NOARGS);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", p_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
                { "on_sig", on_sig, NULL },
                { "step", p_step, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
