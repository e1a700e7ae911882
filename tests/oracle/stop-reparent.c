/* stop-reparent: the C side of stop-reparent.pl (see there). */
#include "oracle.h"

static poe_value on_child(poe_ctx *c)
{
        printf("%s _child %s %s ret=%s sender=%s\n", id_of(poe_ctx_session(c)),
               val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)), val(poe_ctx_arg(c, 2)),
               id_of(poe_ctx_sender(c)));
        return poe_nil();
}

static poe_value on_parent(poe_ctx *c)
{
        printf("%s _parent old=%s new=%s sender=%s\n", id_of(poe_ctx_session(c)),
               val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)), id_of(poe_ctx_sender(c)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        static char ret[16];

        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        snprintf(ret, sizeof(ret), "bye%" PRIu64, poe_ctx_session(c));
        return poe_str(ret);
}

static poe_value orphan_start(poe_ctx *c)
{
        printf("%s _start\n", id_of(poe_ctx_session(c)));
        return poe_str("o");
}

static poe_value middle_start(poe_ctx *c)
{
        printf("%s _start\n", id_of(poe_ctx_session(c)));
        poe_kernel_sig(poe_ctx_kernel(c), "TERM", "on_term", POE_NOARGS);
        return poe_str("m");
}

static poe_value middle_term(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", orphan_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };

        printf("%s on_term %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        oracle_create(poe_ctx_kernel(c), h, ORACLE_N(h), POE_NOARGS, NULL);
        printf("%s on_term returns\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value top_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", middle_start, NULL },
                { "on_term", middle_term, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid mid;
        int rc;

        printf("%s _start\n", id_of(poe_ctx_session(c)));
        mid = oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        rc = poe_kernel_signal(k, mid, "TERM", POE_NOARGS);
        printf("%s signal TERM -> %s\n", id_of(poe_ctx_session(c)), rc >= 0 ? "ok" : "err");
        return poe_str("t");
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", top_start, NULL },
                { "_child", on_child, NULL },
                { "_parent", on_parent, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
