/* active-session: the C side of active-session.pl (see there). */
#include "oracle.h"

static poe_kernel *kernel;

static void where(const char *label)
{
        printf("%s: active=%s event=%s events=%zu\n", label,
               id_of(poe_kernel_get_active_session(kernel)), poe_kernel_get_active_event(kernel),
               poe_kernel_get_event_count(kernel));
}

static poe_value two_start(poe_ctx *c)
{
        (void)c;
        where("2 _start");
        return poe_nil();
}

static poe_value two_ask(poe_ctx *c)
{
        char label[64];

        snprintf(label, sizeof(label), "2 %s from %s", poe_ctx_state(c), id_of(poe_ctx_sender(c)));
        where(label);
        return poe_nil();
}

static poe_value two_stop(poe_ctx *c)
{
        (void)c;
        where("2 _stop");
        return poe_nil();
}

static poe_value one_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", two_start, NULL },
                { "ask", two_ask, NULL },
                { "_stop", two_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);

        where("1 _start");
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        where("1 _start after create");
        poe_kernel_call(k, 2, "ask", POE_NOARGS, NULL);
        where("1 _start after call 2");
        poe_kernel_call(k, poe_ctx_session(c), "myself", POE_NOARGS, NULL);
        where("1 _start after call self");
        poe_kernel_yield(k, "later", POE_NOARGS);
        where("1 _start after yield");
        return poe_nil();
}

static poe_value one_child(poe_ctx *c)
{
        char label[64];

        snprintf(label, sizeof(label), "1 _child %s", val(poe_ctx_arg(c, 0)));
        where(label);
        return poe_nil();
}

static poe_value one_myself(poe_ctx *c)
{
        char label[64];

        snprintf(label, sizeof(label), "1 %s", poe_ctx_state(c));
        where(label);
        return poe_nil();
}

static poe_value one_later(poe_ctx *c)
{
        (void)c;
        where("1 later");
        return poe_nil();
}

static poe_value one_stop(poe_ctx *c)
{
        (void)c;
        where("1 _stop");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", one_start, NULL },
                { "_child", one_child, NULL },
                { "myself", one_myself, NULL },
                { "later", one_later, NULL },
                { "_stop", one_stop, NULL },
        };

        kernel = oracle_kernel();
        oracle_create(kernel, h, ORACLE_N(h), POE_NOARGS, NULL);
        where("main");
        poe_kernel_run(kernel);
        where("main after run");
        poe_kernel_free(kernel);
        return 0;
}
