/* aliases: the C side of aliases.pl (see there). */
#include "oracle.h"

/* alias_list as "[a b]", or "err N". */
static const char *list_of(poe_kernel *k, poe_sid sid)
{
        static char buf[256];
        const char *names[8];
        int n = poe_kernel_alias_list(k, sid, names, 8);
        size_t len = 0;

        if (n < 0)
                return err(n);
        buf[len++] = '[';
        for (int i = 0; i < n && i < 8; i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
                                        names[i]);
        snprintf(buf + len, sizeof(buf) - len, "]");
        return buf;
}

static const char *resolve(poe_kernel *k, const char *name)
{
        poe_sid sid = 0;

        if (poe_kernel_alias_resolve(k, name, &sid) < 0)
                return "undef";
        return id_of(sid);
}

static poe_value holder_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        printf("%s alias_set beta -> %d\n", id_of(me), -poe_kernel_alias_set(k, "beta"));
        printf("%s alias_set alpha -> %d\n", id_of(me), -poe_kernel_alias_set(k, "alpha"));
        printf("%s alias_set beta again -> %d\n", id_of(me), -poe_kernel_alias_set(k, "beta"));
        printf("%s alias_list -> %s\n", id_of(me), list_of(k, me));
        return poe_nil();
}

static poe_value holder_hello(poe_ctx *c)
{
        printf("%s hello %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static poe_value holder_drop(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        const char *name = poe_value_str(poe_ctx_arg(c, 0));

        printf("%s alias_remove %s -> %d\n", id_of(me), name, -poe_kernel_alias_remove(k, name));
        printf("%s alias_list -> %s\n", id_of(me), list_of(k, me));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value client_start(poe_ctx *c)
{
        static const char *const names[] = { "alpha", "beta", "1", "2", "3", "nope" };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        for (size_t i = 0; i < ORACLE_N(names); i++)
                printf("%s alias_resolve %s -> %s\n", id_of(me), names[i], resolve(k, names[i]));
        printf("%s alias_list %s -> %s\n", id_of(me), id_of(me), list_of(k, me));
        printf("%s alias_list 99 -> %s\n", id_of(me), list_of(k, 99));
        poe_kernel_yield(k, "step", POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value client_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));
        int rc;

        printf("%s step %" PRId64 "\n", id_of(me), n);
        rc = poe_kernel_post_alias(k, "alpha", "hello", POE_ARGS(poe_int(n)));
        printf("%s post alpha hello -> %s\n", id_of(me), err(rc));
        if (n == 2)
                poe_kernel_post_alias(k, "beta", "drop", POE_ARGS(poe_str("alpha")));
        if (n == 4)
                poe_kernel_post_alias(k, "beta", "drop", POE_ARGS(poe_str("beta")));
        if (n < 6)
                poe_kernel_yield(k, "step", POE_ARGS(poe_int(n + 1)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler holder[] = {
                { "_start", holder_start, NULL },
                { "hello", holder_hello, NULL },
                { "drop", holder_drop, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler client[] = {
                { "_start", client_start, NULL },
                { "step", client_step, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, holder, ORACLE_N(holder), POE_NOARGS, NULL);
        oracle_create(k, client, ORACLE_N(client), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
