/* post-vs-call: the C side of post-vs-call.pl (see there). */
#include "oracle.h"

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "bee");
        return poe_nil();
}

static poe_value b_ev(poe_ctx *c)
{
        printf("%s ev %s sender=%s from=%s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               id_of(poe_ctx_sender(c)), poe_ctx_caller_state(c));
        return poe_nil();
}

static poe_value b_ping(poe_ctx *c)
{
        static char ret[16];
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value r = poe_nil();
        int rc;

        printf("%s ping %s sender=%s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               id_of(poe_ctx_sender(c)));
        rc = poe_kernel_call(k, poe_ctx_sender(c), "reenter", poe_ctx_arg(c, 0), 1, &r);
        printf("%s call reenter -> %s\n", id_of(poe_ctx_session(c)), called(rc, &r));
        snprintf(ret, sizeof(ret), "pong%s", val(poe_ctx_arg(c, 0)));
        return poe_str(ret);
}

static poe_value b_unalias(poe_ctx *c)
{
        printf("%s alias_remove -> %d\n", id_of(poe_ctx_session(c)),
               -poe_kernel_alias_remove(poe_ctx_kernel(c), "bee"));
        return poe_nil();
}

static poe_value a_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_value r;
        int rc;

        rc = poe_kernel_post_alias(k, "bee", "ev", POE_ARGS(poe_int(1)));
        printf("%s post bee 1 -> %s\n", id_of(me), err(rc));
        poe_kernel_yield(k, "mine", POE_ARGS(poe_int(2)));
        printf("%s yield mine 2\n", id_of(me));
        rc = poe_kernel_post(k, 1, "ev", POE_ARGS(poe_int(3)));
        printf("%s post 1 3 -> %s\n", id_of(me), err(rc));
        r = poe_nil();
        rc = poe_kernel_call(k, 1, "ping", POE_ARGS(poe_int(4)), &r);
        printf("%s call ping -> %s\n", id_of(me), called(rc, &r));
        r = poe_nil();
        rc = poe_kernel_call(k, 1, "nosuch", POE_ARGS(poe_int(5)), &r);
        printf("%s call nosuch -> %s\n", id_of(me), called(rc, &r));
        poe_kernel_call_alias(k, "bee", "unalias", POE_NOARGS, NULL);
        rc = poe_kernel_post_alias(k, "bee", "ev", POE_ARGS(poe_int(6)));
        printf("%s post bee 6 -> %s\n", id_of(me), err(rc));
        rc = poe_kernel_post(k, 1, "ev", POE_ARGS(poe_int(7)));
        printf("%s post 1 7 -> %s\n", id_of(me), err(rc));
        rc = poe_kernel_post(k, 99, "ev", POE_ARGS(poe_int(8)));
        printf("%s post 99 -> %s\n", id_of(me), err(rc));
        r = poe_nil();
        rc = poe_kernel_call(k, 99, "ev", POE_ARGS(poe_int(9)), &r);
        printf("%s call 99 -> %s\n", id_of(me), called(rc, &r));
        printf("%s _start ends\n", id_of(me));
        return poe_nil();
}

static poe_value a_mine(poe_ctx *c)
{
        printf("%s mine %s sender=%s from=%s\n", id_of(poe_ctx_session(c)),
               val(poe_ctx_arg(c, 0)), id_of(poe_ctx_sender(c)), poe_ctx_caller_state(c));
        return poe_nil();
}

static poe_value a_reenter(poe_ctx *c)
{
        static char ret[16];

        printf("%s reenter %s sender=%s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               id_of(poe_ctx_sender(c)));
        snprintf(ret, sizeof(ret), "back%s", val(poe_ctx_arg(c, 0)));
        return poe_str(ret);
}

int main(void)
{
        static const poe_handler b[] = {
                { "_start", b_start, NULL },
                { "ev", b_ev, NULL },
                { "ping", b_ping, NULL },
                { "unalias", b_unalias, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler a[] = {
                { "_start", a_start, NULL },
                { "mine", a_mine, NULL },
                { "reenter", a_reenter, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, b, ORACLE_N(b), POE_NOARGS, NULL);
        oracle_create(k, a, ORACLE_N(a), POE_NOARGS, NULL);
        printf("main post 1 0 -> %s\n", err(poe_kernel_post(k, 1, "ev", POE_ARGS(poe_int(0)))));
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
