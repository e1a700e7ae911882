/* state-runtime: the C side of state-runtime.pl (see there). */
#include "oracle.h"

static poe_value new_a(poe_ctx *c)
{
        printf("%s new a %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static poe_value added_c(poe_ctx *c)
{
        static char ret[32];
        poe_kernel *k = poe_ctx_kernel(c);
        const char *arg = val(poe_ctx_arg(c, 0));

        printf("%s added c %s\n", id_of(poe_ctx_session(c)), arg);
        if (strcmp(arg, "first") == 0) {
                printf("%s state c remove -> %d\n", id_of(poe_ctx_session(c)),
                       -poe_kernel_state(k, "c", NULL, NULL));
                poe_kernel_yield(k, "c", POE_ARGS(poe_str("again")));
                poe_kernel_yield(k, "late", POE_NOARGS);
        }
        snprintf(ret, sizeof(ret), "c-%s", arg);
        return poe_str(ret);
}

static poe_value late(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        printf("%s late\n", id_of(poe_ctx_session(c)));
        printf("%s state _default remove -> %d\n", id_of(poe_ctx_session(c)),
               -poe_kernel_state(k, "_default", NULL, NULL));
        poe_kernel_yield(k, "c", POE_ARGS(poe_str("dropped")));
        poe_kernel_yield(k, "a", POE_ARGS(poe_str("still")));
        return poe_nil();
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_value r = poe_nil();
        int rc;

        poe_kernel_yield(k, "a", POE_ARGS(poe_int(1)));
        printf("%s state a replace -> %d\n", id_of(me), -poe_kernel_state(k, "a", new_a, NULL));
        poe_kernel_yield(k, "b", POE_ARGS(poe_int(2)));
        printf("%s state b remove -> %d\n", id_of(me), -poe_kernel_state(k, "b", NULL, NULL));
        rc = poe_kernel_call(k, me, "c", POE_ARGS(poe_str("zero")), &r);
        printf("%s call c -> %s\n", id_of(me), called(rc, &r));
        printf("%s state c add -> %d\n", id_of(me), -poe_kernel_state(k, "c", added_c, NULL));
        poe_kernel_yield(k, "c", POE_ARGS(poe_str("first")));
        printf("%s state late add -> %d\n", id_of(me), -poe_kernel_state(k, "late", late, NULL));
        return poe_nil();
}

static poe_value old_a(poe_ctx *c)
{
        printf("%s old a %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static poe_value on_b(poe_ctx *c)
{
        printf("%s b %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static poe_value on_default(poe_ctx *c)
{
        printf("%s _default %s %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               val(poe_ctx_arg(c, 1)));
        return poe_str("dflt");
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "a", old_a, NULL },
                { "b", on_b, NULL },
                { "_default", on_default, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        printf("main state -> %d\n", -poe_kernel_state(k, "x", late, NULL));
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
