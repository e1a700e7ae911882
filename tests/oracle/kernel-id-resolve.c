/* kernel-id-resolve: the C side of kernel-id-resolve.pl (see there).
 * signal() takes an id: the one alias_resolve gave for the id string. */
#include "oracle.h"

static char kid[256];

static const char *resolved(poe_kernel *k)
{
        poe_sid sid;

        if (poe_kernel_alias_resolve(k, kid, &sid) < 0)
                return "undef";
        return id_of(sid);
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid sid = 1;
        int rc;

        poe_kernel_sig(k, "USR1", "on_usr1", POE_NOARGS);
        printf("inside: %s\n", resolved(k));
        rc = poe_kernel_alias_resolve(k, kid, &sid);
        if (rc == 0)
                rc = poe_kernel_signal(k, sid, "USR1", POE_ARGS(poe_str("x")));
        printf("signal: %s\n", rc == 0 ? "ok" : "failed");
        return poe_nil();
}

static poe_value on_usr1(poe_ctx *c)
{
        printf("%s on_usr1 %s %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               val(poe_ctx_arg(c, 1)));
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        poe_kernel_sig(poe_ctx_kernel(c), "USR1", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"on_usr1", on_usr1, NULL},
                {"_stop", on_stop, NULL},
        };
        poe_kernel *k = oracle_kernel();

        snprintf(kid, sizeof(kid), "%s", poe_kernel_id(k));
        printf("before: %s\n", resolved(k));
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("after: %s\n", resolved(k));
        printf("id unchanged: %d\n", strcmp(kid, poe_kernel_id(k)) == 0);
        poe_kernel_free(k);
        return 0;
}
