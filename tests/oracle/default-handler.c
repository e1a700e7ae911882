/* default-handler: the C side of default-handler.pl (see there). */
#include "oracle.h"

static poe_value plain_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "plain");
        return poe_nil();
}

static poe_value plain_known(poe_ctx *c)
{
        printf("%s known %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        return poe_str("k");
}

static poe_value plain_bye(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "plain");
        return poe_nil();
}

static poe_value plain_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value kid_start(poe_ctx *c)
{
        (void)c;
        return poe_str("kid");
}

/* ARG1 of _default, a list, with each item printed as val() does. */
static const char *items(const poe_value *v)
{
        static char buf[256];
        size_t len = 0;

        if (v->type != POE_T_LIST)
                return val(v);
        buf[len++] = '[';
        for (uint32_t i = 0; i < v->len; i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
                                        val(&v->u.list[i]));
        snprintf(buf + len, sizeof(buf) - len, "]");
        return buf;
}

static poe_value d_start(poe_ctx *c)
{
        static const poe_handler kid[] = { { "_start", kid_start, NULL } };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_value r;
        int rc;

        poe_kernel_yield(k, "known", POE_ARGS(poe_str("x")));
        poe_kernel_yield(k, "unknown", POE_ARGS(poe_str("a"), poe_str("b"), poe_str("c")));
        poe_kernel_yield(k, "empty", POE_NOARGS);
        poe_kernel_post(k, 1, "unknown", POE_ARGS(poe_str("lost")));
        oracle_create(k, kid, ORACLE_N(kid), POE_NOARGS, NULL);
        r = poe_nil();
        rc = poe_kernel_call(k, me, "mystery", POE_ARGS(poe_int(7), poe_int(8)), &r);
        printf("%s call mystery -> %s\n", id_of(me), called(rc, &r));
        r = poe_nil();
        rc = poe_kernel_call(k, 1, "nothing", POE_ARGS(poe_int(9)), &r);
        printf("%s call 1 nothing -> %s\n", id_of(me), called(rc, &r));
        r = poe_nil();
        rc = poe_kernel_call(k, 1, "known", POE_ARGS(poe_int(10)), &r);
        printf("%s call 1 known -> %s\n", id_of(me), called(rc, &r));
        return poe_nil();
}

static poe_value d_known(poe_ctx *c)
{
        printf("%s known %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static poe_value d_finish(poe_ctx *c)
{
        poe_kernel_post(poe_ctx_kernel(c), 1, "bye", POE_NOARGS);
        return poe_nil();
}

static poe_value d_default(poe_ctx *c)
{
        static char ret[64];
        const char *event = poe_value_str(poe_ctx_arg(c, 0));

        printf("%s _default %s %s state=%s sender=%s\n", id_of(poe_ctx_session(c)),
               event ? event : "(null)", items(poe_ctx_arg(c, 1)), poe_ctx_state(c),
               id_of(poe_ctx_sender(c)));
        if (event && strcmp(event, "empty") == 0)
                poe_kernel_yield(poe_ctx_kernel(c), "finish", POE_NOARGS);
        snprintf(ret, sizeof(ret), "d-%s", event ? event : "(null)");
        return poe_str(ret);
}

int main(void)
{
        static const poe_handler plain[] = {
                { "_start", plain_start, NULL },
                { "known", plain_known, NULL },
                { "bye", plain_bye, NULL },
                { "_stop", plain_stop, NULL },
        };
        static const poe_handler dflt[] = {
                { "_start", d_start, NULL },
                { "known", d_known, NULL },
                { "finish", d_finish, NULL },
                { "_default", d_default, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, plain, ORACLE_N(plain), POE_NOARGS, NULL);
        oracle_create(k, dflt, ORACLE_N(dflt), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
