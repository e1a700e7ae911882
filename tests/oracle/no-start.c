/* no-start: the C side of no-start.pl (see there). */
#include <errno.h>

#include "oracle.h"

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static const char *outcome(int rc, poe_sid sid)
{
        char *b = oracle_buf();

        if (rc < 0)
                snprintf(b, 256, "undef");
        else
                snprintf(b, 256, "created %s", id_of(sid));
        return b;
}

static poe_sid try_create(poe_kernel *k, const poe_handler *h, size_t n, int *rc)
{
        poe_session_spec spec;
        poe_sid sid = 0;

        memset(&spec, 0, sizeof(spec));
        spec.handlers = h;
        spec.n_handlers = n;
        oracle_warn_begin();
        *rc = poe_session_create(k, &spec, &sid);
        oracle_warn_end();
        return sid;
}

static poe_value child_start(poe_ctx *c)
{
        printf("child %s _start\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value parent_start(poe_ctx *c)
{
        static const poe_handler bad[] = {{"_stop", nop, NULL}};
        static const poe_handler good[] = {{"_start", child_start, NULL}};
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid sid;
        int rc;

        printf("parent %s _start\n", id_of(poe_ctx_session(c)));
        sid = try_create(k, bad, ORACLE_N(bad), &rc);
        printf("inside: %s\n", outcome(rc, sid));
        sid = try_create(k, good, ORACLE_N(good), &rc);
        printf("then: %s\n", outcome(rc, sid));
        return poe_nil();
}

static poe_value parent_child(poe_ctx *c)
{
        printf("parent _child %s %s\n", val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)));
        return poe_nil();
}

static poe_value parent_stop(poe_ctx *c)
{
        (void)c;
        printf("parent _stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler none[] = {{"other", nop, NULL}};
        static const poe_handler parent[] = {
                {"_start", parent_start, NULL},
                {"_child", parent_child, NULL},
                {"_stop", parent_stop, NULL},
        };
        poe_kernel *k = oracle_kernel();
        poe_sid sid;
        int rc;

        sid = try_create(k, none, ORACLE_N(none), &rc);
        printf("outside: %s\n", outcome(rc, sid));
        oracle_create(k, parent, ORACLE_N(parent), POE_NOARGS, NULL);
        if (poe_kernel_run(k) < 0)
                printf("run failed\n");
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
