/* alias-errors: the C side of alias-errors.pl (see there). */
#include "oracle.h"

static const char *resolve(poe_kernel *k, const char *name)
{
        poe_sid sid = 0;

        if (poe_kernel_alias_resolve(k, name, &sid) < 0)
                return "undef";
        return id_of(sid);
}

static poe_value one_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "one");
        poe_kernel_alias_set(poe_ctx_kernel(c), "uno");
        return poe_nil();
}

static poe_value one_stop(poe_ctx *c)
{
        const char *names[4];
        int n = poe_kernel_alias_list(poe_ctx_kernel(c), poe_ctx_session(c), names, 4);

        printf("%s _stop aliases [", id_of(poe_ctx_session(c)));
        for (int i = 0; i < n && i < 4; i++)
                printf("%s%s", i ? " " : "", names[i]);
        printf("]\n");
        return poe_nil();
}

static poe_value two_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        int rc;

        printf("%s alias_set one -> %d\n", id_of(me), -poe_kernel_alias_set(k, "one"));
        printf("%s alias_remove one -> %d\n", id_of(me), -poe_kernel_alias_remove(k, "one"));
        printf("%s alias_remove nosuch -> %d\n", id_of(me),
               -poe_kernel_alias_remove(k, "nosuch"));
        printf("%s alias_set two -> %d\n", id_of(me), -poe_kernel_alias_set(k, "two"));
        printf("%s alias_remove two -> %d\n", id_of(me), -poe_kernel_alias_remove(k, "two"));
        printf("%s alias_remove two again -> %d\n", id_of(me),
               -poe_kernel_alias_remove(k, "two"));
        /* POE's signal() takes an alias; here the alias is resolved first. */
        {
                poe_sid one = 0;

                rc = poe_kernel_alias_resolve(k, "one", &one);
                if (rc >= 0)
                        rc = poe_kernel_signal(k, one, "TERM", POE_NOARGS);
        }
        printf("%s signal one TERM -> %s\n", id_of(me), err(rc));
        poe_kernel_yield(k, "after", POE_NOARGS);
        return poe_nil();
}

static poe_value two_after(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        printf("%s alias_resolve one -> %s\n", id_of(me), resolve(k, "one"));
        printf("%s post one -> %s\n", id_of(me),
               err(poe_kernel_post_alias(k, "one", "x", POE_NOARGS)));
        printf("%s alias_set one -> %d\n", id_of(me), -poe_kernel_alias_set(k, "one"));
        printf("%s alias_resolve one -> %s\n", id_of(me), resolve(k, "one"));
        printf("%s alias_remove one -> %d\n", id_of(me), -poe_kernel_alias_remove(k, "one"));
        return poe_nil();
}

static poe_value two_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler one[] = {
                { "_start", one_start, NULL },
                { "_stop", one_stop, NULL },
        };
        static const poe_handler two[] = {
                { "_start", two_start, NULL },
                { "after", two_after, NULL },
                { "_stop", two_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, one, ORACLE_N(one), POE_NOARGS, NULL);
        oracle_create(k, two, ORACLE_N(two), POE_NOARGS, NULL);
        printf("main alias_remove one -> %d\n", -poe_kernel_alias_remove(k, "one"));
        printf("main alias_remove nosuch -> %d\n", -poe_kernel_alias_remove(k, "nosuch"));
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
