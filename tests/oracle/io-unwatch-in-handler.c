/* io-unwatch-in-handler: the C side of io-unwatch-in-handler.pl (see there). */
#include <sys/socket.h>
#include <unistd.h>

#include "oracle.h"

static int x, y;

/* "NAME mode M args [A B]" */
static void show(poe_ctx *c, const char *name)
{
        char args[64] = "";
        size_t i, n = 0;

        for (i = 2; i < poe_ctx_argc(c); i++)
                n += (size_t)snprintf(args + n, sizeof(args) - n, "%s%s", i > 2 ? " " : "",
                                      val(poe_ctx_arg(c, i)));
        printf("%s mode %s args [%s]\n", name, val(poe_ctx_arg(c, 1)), args);
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_select_read(k, x, "rd", POE_ARGS(poe_str("r1")));
        poe_kernel_select_write(k, x, "wr", POE_ARGS(poe_str("w1")));
        poe_kernel_select_write(k, y, "yw", POE_ARGS(poe_str("w2"), poe_str("w3")));
        if (write(y, "z", 1) != 1)
                exit(1);
        return poe_nil();
}

static poe_value on_rd(poe_ctx *c)
{
        char buf[10];

        show(c, "rd");
        if (read(x, buf, sizeof(buf)) < 0)
                exit(1);
        poe_kernel_select(poe_ctx_kernel(c), x, NULL, NULL, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_wr(poe_ctx *c)
{
        show(c, "wr");
        return poe_nil();
}

static poe_value on_yw(poe_ctx *c)
{
        show(c, "yw");
        poe_kernel_select_write(poe_ctx_kernel(c), y, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("_stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "rd", on_rd, NULL },
                { "wr", on_wr, NULL },
                { "yw", on_yw, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                return 1;
        x = sv[0];
        y = sv[1];
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        close(x);
        close(y);
        return 0;
}
