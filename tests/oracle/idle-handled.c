/* idle-handled: the C side of idle-handled.pl (see there). */
#include "oracle.h"

static int idles;

static poe_value on_child(poe_ctx *c)
{
        const char *op = val(poe_ctx_arg(c, 0));

        if (strcmp(op, "create") != 0)
                printf("%s _child %s %s\n", id_of(poe_ctx_session(c)), op,
                       val(poe_ctx_arg(c, 1)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value bystander_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "bystander");
        poe_kernel_sig(poe_ctx_kernel(c), "ZOMBIE", "on_zombie", POE_NOARGS);
        return poe_nil();
}

static poe_value bystander_zombie(poe_ctx *c)
{
        printf("%s on_zombie %s events=%zu\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)),
               poe_kernel_get_event_count(poe_ctx_kernel(c)));
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value watcher_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", bystander_start, NULL },
                { "on_zombie", bystander_zombie, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "watcher");
        poe_kernel_sig(k, "IDLE", "on_idle", POE_NOARGS);
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        return poe_nil();
}

static poe_value watcher_idle(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        idles++;
        printf("%s on_idle %s #%d\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)), idles);
        poe_kernel_sig_handled(k);
        if (idles <= 2)
                poe_kernel_yield(k, "work", POE_ARGS(poe_int(idles)));
        return poe_nil();
}

static poe_value watcher_work(poe_ctx *c)
{
        printf("%s work %s\n", id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)));
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", watcher_start, NULL },
                { "on_idle", watcher_idle, NULL },
                { "work", watcher_work, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
