/* post-from-stop: the C side of post-from-stop.pl (see there). */
#include "oracle.h"

static poe_value peer_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value peer_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        printf("%s tick %" PRId64 " events=%zu\n", id_of(poe_ctx_session(c)), n,
               poe_kernel_get_event_count(k));
        if (n < 3)
                poe_kernel_yield(k, "tick", POE_ARGS(poe_int(n + 1)));
        return poe_nil();
}

static poe_value peer_from_stop(poe_ctx *c)
{
        printf("%s from_stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value peer_called(poe_ctx *c)
{
        printf("%s called by %s\n", id_of(poe_ctx_session(c)), id_of(poe_ctx_sender(c)));
        return poe_str("answer");
}

static poe_value peer_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value nothing(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value stopper_after(poe_ctx *c)
{
        printf("%s after\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value stopper_stop(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);
        poe_value r = poe_nil();
        int rc;

        printf("%s _stop events=%zu\n", id_of(me), poe_kernel_get_event_count(k));
        poe_kernel_yield(k, "after", POE_NOARGS);
        printf("%s post 1 from_stop -> %s\n", id_of(me),
               err(poe_kernel_post(k, 1, "from_stop", POE_NOARGS)));
        printf("%s post 99 -> %s\n", id_of(me),
               err(poe_kernel_post(k, 99, "from_stop", POE_NOARGS)));
        rc = poe_kernel_call(k, 1, "called", POE_NOARGS, &r);
        printf("%s call 1 called -> %s\n", id_of(me), called(rc, &r));
        printf("%s _stop done events=%zu\n", id_of(me), poe_kernel_get_event_count(k));
        return poe_nil();
}

int main(void)
{
        static const poe_handler peer[] = {
                { "_start", peer_start, NULL },
                { "tick", peer_tick, NULL },
                { "from_stop", peer_from_stop, NULL },
                { "called", peer_called, NULL },
                { "_stop", peer_stop, NULL },
        };
        static const poe_handler stopper[] = {
                { "_start", nothing, NULL },
                { "after", stopper_after, NULL },
                { "_stop", stopper_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, peer, ORACLE_N(peer), POE_NOARGS, NULL);
        oracle_create(k, stopper, ORACLE_N(stopper), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
