/* sig-terminal: the C side of sig-terminal.pl (see there). */
#include "oracle.h"

static int step, handle_term = 1;

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
        const char *me = id_of(poe_ctx_session(c));
        const char *sig = val(poe_ctx_arg(c, 0));

        printf("%s on_sig %s\n", me, sig);
        if (poe_ctx_session(c) == 2 && strcmp(sig, "TERM") == 0 && handle_term) {
                poe_kernel_sig_handled(poe_ctx_kernel(c));
                printf("%s handled TERM\n", me);
        }
        return poe_nil();
}

static poe_value c_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "TERM", "on_sig", POE_NOARGS);
        poe_kernel_sig(k, "INT", "on_sig", POE_NOARGS);
        poe_kernel_alias_set(k, "C");
        return poe_nil();
}

static const char *plain_name;

static poe_value plain_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), plain_name);
        return poe_nil();
}

static void plain(poe_kernel *k, const char *name)
{
        static const poe_handler h[] = {
                { "_start", plain_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };

        plain_name = name;
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
}

static poe_value p_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", c_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
                { "on_sig", on_sig, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "TERM", "on_sig", POE_NOARGS);
        poe_kernel_sig(k, "INT", "on_sig", POE_NOARGS);
        poe_kernel_alias_set(k, "P");
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_yield(k, "step", POE_NOARGS);
        return poe_nil();
}

static poe_sid resolve(poe_kernel *k, const char *alias)
{
        poe_sid sid = 0;

        poe_kernel_alias_resolve(k, alias, &sid);
        return sid;
}

static poe_value p_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        step++;
        printf("step %d\n", step);
        if (step == 1) {
                poe_kernel_signal(k, poe_ctx_session(c), "TERM", POE_NOARGS);
        } else if (step == 2) {
                poe_kernel_signal(k, resolve(k, "C"), "INT", POE_NOARGS);
        } else if (step == 3) {
                plain(k, "H");
        } else if (step == 4) {
                poe_kernel_signal(k, resolve(k, "H"), "HUP", POE_NOARGS);
        } else if (step == 5) {
                plain(k, "Q");
        } else if (step == 6) {
                poe_kernel_signal(k, resolve(k, "Q"), "QUIT", POE_NOARGS);
        } else if (step == 7) {
                handle_term = 0;
                poe_kernel_signal(k, poe_ctx_session(c), "TERM", POE_NOARGS);
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
