/* io-reregister: the C side of io-reregister.pl (see there). */
#include <unistd.h>

#include "oracle.h"

static int r, w, calls;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        printf("select_read first -> %d\n",
               -poe_kernel_select_read(k, r, "first", POE_ARGS(poe_str("a"), poe_int(1))));
        printf("select_read second -> %d\n",
               -poe_kernel_select_read(k, r, "second", POE_ARGS(poe_str("b"), poe_int(2))));
        if (write(w, "x", 1) != 1)
                exit(1);
        return poe_nil();
}

static poe_value on_first(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char args[64] = "", buf[10];
        size_t i, n = 0;

        for (i = 2; i < poe_ctx_argc(c); i++)
                n += (size_t)snprintf(args + n, sizeof(args) - n, "%s%s", i > 2 ? " " : "",
                                      val(poe_ctx_arg(c, i)));
        printf("first mode %s args [%s] handle %s\n", val(poe_ctx_arg(c, 1)), args,
               poe_value_int(poe_ctx_arg(c, 0)) == r ? "ok" : "wrong");
        if (++calls == 1) {
                poe_kernel_select_pause_read(k, r);
                printf("select_read third -> %d\n",
                       -poe_kernel_select_read(k, r, "third", POE_ARGS(poe_str("c"))));
                return poe_nil();
        }
        if (read(r, buf, sizeof(buf)) < 0)
                exit(1);
        poe_kernel_select_read(k, r, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_second(poe_ctx *c)
{
        printf("second\n");
        return poe_nil();
}

static poe_value on_third(poe_ctx *c)
{
        printf("third\n");
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
                { "first", on_first, NULL },
                { "second", on_second, NULL },
                { "third", on_third, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int p[2];

        if (pipe(p) < 0)
                return 1;
        r = p[0];
        w = p[1];
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        close(r);
        close(w);
        return 0;
}
