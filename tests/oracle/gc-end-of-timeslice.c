/* gc-end-of-timeslice: the C side of gc-end-of-timeslice.pl (see there). */
#include "oracle.h"

static poe_value on_child(poe_ctx *c)
{
        printf("%s _child %s %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               val(poe_ctx_arg(c, 1)));
        return poe_nil();
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

static poe_value ticker_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value ticker_tick(poe_ctx *c)
{
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        printf("%s tick %" PRId64 "\n", id_of(poe_ctx_session(c)), n);
        if (n < 4)
                poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_ARGS(poe_int(n + 1)));
        return poe_nil();
}

static poe_value late_start(poe_ctx *c)
{
        printf("%s _start\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value receiver_hello(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", late_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        printf("%s hello from %s events=%zu\n", id_of(me), id_of(poe_ctx_sender(c)),
               poe_kernel_get_event_count(k));
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        printf("%s hello done events=%zu\n", id_of(me), poe_kernel_get_event_count(k));
        return poe_nil();
}

static poe_value sender_start(poe_ctx *c)
{
        poe_kernel_post(poe_ctx_kernel(c), 2, "hello", POE_NOARGS);
        return poe_nil();
}

int main(void)
{
        static const poe_handler ticker[] = {
                { "_start", ticker_start, NULL },
                { "tick", ticker_tick, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler receiver[] = {
                { "_start", nothing, NULL },
                { "hello", receiver_hello, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler sender[] = {
                { "_start", sender_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, ticker, ORACLE_N(ticker), POE_NOARGS, NULL);
        oracle_create(k, receiver, ORACLE_N(receiver), POE_NOARGS, NULL);
        oracle_create(k, sender, ORACLE_N(sender), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
