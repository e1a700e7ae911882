/* refcount-extref: the C side of refcount-extref.pl (see there). */
#include "oracle.h"

/* A count, or "err N". */
static const char *cnt(int rc)
{
        char *b;

        if (rc < 0)
                return err(rc);
        b = oracle_buf();
        snprintf(b, 256, "%d", rc);
        return b;
}

static const struct {
        poe_sid sid;
        const char *tag;
} plan[] = { { 0, NULL }, { 1, "t" }, { 1, "t" }, { 1, "u" }, { 1, "ext" }, { 1, "t" } };

static poe_value holder_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        printf("%s inc t -> %s\n", id_of(me), cnt(poe_kernel_refcount_increment(k, me, "t")));
        printf("%s inc t -> %s\n", id_of(me), cnt(poe_kernel_refcount_increment(k, me, "t")));
        printf("%s inc u -> %s\n", id_of(me), cnt(poe_kernel_refcount_increment(k, me, "u")));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value driver_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "step", POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value driver_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));
        poe_sid sid = plan[n].sid;
        const char *tag = plan[n].tag;

        printf("%s step %" PRId64 ": session %s %s\n", id_of(me), n, id_of(sid),
               err(poe_kernel_ID_id_to_session(k, sid)));
        printf("%s dec %s %s -> %s\n", id_of(me), id_of(sid), tag,
               cnt(poe_kernel_refcount_decrement(k, sid, tag)));
        if (n < (int64_t)ORACLE_N(plan) - 1)
                poe_kernel_yield(k, "step", POE_ARGS(poe_int(n + 1)));
        else
                printf("%s inc %s %s -> %s\n", id_of(me), id_of(sid), tag,
                       cnt(poe_kernel_refcount_increment(k, sid, tag)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler holder[] = {
                { "_start", holder_start, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler driver[] = {
                { "_start", driver_start, NULL },
                { "step", driver_step, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, holder, ORACLE_N(holder), POE_NOARGS, NULL);
        oracle_create(k, driver, ORACLE_N(driver), POE_NOARGS, NULL);
        printf("main inc 1 ext -> %s\n", cnt(poe_kernel_refcount_increment(k, 1, "ext")));
        printf("main inc 99 ext -> %s\n", cnt(poe_kernel_refcount_increment(k, 99, "ext")));
        printf("main dec 99 ext -> %s\n", cnt(poe_kernel_refcount_decrement(k, 99, "ext")));
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
