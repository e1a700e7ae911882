/* timer-session-stop: the C side of timer-session-stop.pl (see there). */
#include "oracle.h"

static double t0;
static poe_sid a;

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", (const char *)poe_ctx_heap(c));
        return poe_nil();
}

static poe_value on_default(poe_ctx *c)
{
        const char *name = poe_value_str(poe_ctx_arg(c, 0));

        if (name && name[0] != '_')
                printf("%s %s\n", (const char *)poe_ctx_heap(c), name);
        return poe_nil();
}

static poe_value a_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "late", 5, POE_NOARGS);
        poe_kernel_alarm_add(poe_ctx_kernel(c), "later", t0 + 6, POE_NOARGS);
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "kill", 0.05, POE_NOARGS);
        return poe_nil();
}

static poe_value b_kill(poe_ctx *c)
{
        printf("B kills A\n");
        poe_kernel_signal(poe_ctx_kernel(c), a, "TERM", POE_NOARGS);
        return poe_nil();
}

static poe_value c_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.3, POE_NOARGS);
        return poe_nil();
}

static poe_value d_start(poe_ctx *c)
{
        return poe_nil();
}

static poe_value e_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "never", 0.01, POE_NOARGS);
        poe_kernel_alarm(poe_ctx_kernel(c), "never", POE_NO_TIME, POE_NOARGS);
        return poe_nil();
}

static poe_sid mk(poe_kernel *k, const char *name, poe_handler_fn start, const char *event,
                  poe_handler_fn fn)
{
        poe_handler h[4] = {
                { "_start", start, NULL },
                { "_stop", on_stop, NULL },
                { "_default", on_default, NULL },
        };
        size_t n = 3;

        if (event)
                h[n++] = (poe_handler){ event, fn, NULL };
        return oracle_create(k, h, n, POE_NOARGS, (void *)name);
}

int main(void)
{
        poe_kernel *k = oracle_kernel();

        t0 = poe_kernel_time(k);
        a = mk(k, "A", a_start, NULL, NULL);
        mk(k, "B", b_start, "kill", b_kill);
        mk(k, "C", c_start, NULL, NULL);
        mk(k, "D", d_start, NULL, NULL);
        mk(k, "E", e_start, NULL, NULL);
        poe_kernel_run(k);
        printf("run returned %s\n", poe_kernel_time(k) - t0 < 2 ? "at once" : "late");
        poe_kernel_free(k);
        return 0;
}
