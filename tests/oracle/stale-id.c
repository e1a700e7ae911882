/* stale-id: the C side of stale-id.pl (see there). */
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

static poe_value target_start(poe_ctx *c)
{
        (void)c;
        return poe_str("x");
}

static poe_value target_ping(poe_ctx *c)
{
        (void)c;
        return poe_str("pong");
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value nothing(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value driver_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "step", POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value driver_step(poe_ctx *c)
{
        static const poe_handler fresh[] = {
                { "_start", nothing, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));
        poe_value r = poe_nil();
        poe_sid sid = 0;
        int rc;

        printf("%s step %" PRId64 "\n", id_of(me), n);
        printf("%s ID_id_to_session 1 -> %s\n", id_of(me), err(poe_kernel_ID_id_to_session(k, 1)));
        rc = poe_kernel_call(k, 1, "ping", POE_NOARGS, &r);
        printf("%s call 1 ping -> %s\n", id_of(me), called(rc, &r));
        printf("%s alias_list 1 -> %s\n", id_of(me), list_of(k, 1));
        if (n == 1) {
                poe_kernel_yield(k, "step", POE_ARGS(poe_int(2)));
                return poe_nil();
        }
        printf("%s post 1 -> %s\n", id_of(me), err(poe_kernel_post(k, 1, "ping", POE_NOARGS)));
        printf("%s signal 1 -> %s\n", id_of(me),
               err(poe_kernel_signal(k, 1, "HUP", POE_NOARGS)));
        printf("%s refcount_increment 1 -> %s\n", id_of(me),
               err(poe_kernel_refcount_increment(k, 1, "t")));
        printf("%s refcount_decrement 1 -> %s\n", id_of(me),
               err(poe_kernel_refcount_decrement(k, 1, "t")));
        printf("%s detach_child 1 -> %s\n", id_of(me), err(poe_kernel_detach_child(k, 1)));
        rc = poe_kernel_alias_resolve(k, "1", &sid);
        printf("%s alias_resolve 1 -> %s\n", id_of(me), rc < 0 ? "undef" : id_of(sid));
        sid = oracle_create(k, fresh, ORACLE_N(fresh), POE_NOARGS, NULL);
        printf("%s created %s\n", id_of(me), id_of(sid));
        return poe_nil();
}

int main(void)
{
        static const poe_handler target[] = {
                { "_start", target_start, NULL },
                { "ping", target_ping, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler driver[] = {
                { "_start", driver_start, NULL },
                { "step", driver_step, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, target, ORACLE_N(target), POE_NOARGS, NULL);
        oracle_create(k, driver, ORACLE_N(driver), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
