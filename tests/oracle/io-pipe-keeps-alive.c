/* io-pipe-keeps-alive: the C side of io-pipe-keeps-alive.pl (see there). */
#include <unistd.h>

#include "oracle.h"

static int r, w;

static poe_value r_start(poe_ctx *c)
{
        poe_kernel_select_read(poe_ctx_kernel(c), r, "got", POE_NOARGS);
        printf("R watching\n");
        return poe_nil();
}

static poe_value r_got(poe_ctx *c)
{
        char buf[100];
        ssize_t n = read(r, buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        printf("R got %s (mode %s, handle %s)\n", buf, val(poe_ctx_arg(c, 1)),
               poe_value_int(poe_ctx_arg(c, 0)) == r ? "ok" : "wrong");
        poe_kernel_select_read(poe_ctx_kernel(c), r, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value r_stop(poe_ctx *c)
{
        printf("R _stop\n");
        return poe_nil();
}

static poe_value w_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "write", 0.1, POE_NOARGS);
        return poe_nil();
}

static poe_value w_write(poe_ctx *c)
{
        if (write(w, "hello\n", 6) != 6)
                exit(1);
        printf("W wrote\n");
        return poe_nil();
}

static poe_value w_stop(poe_ctx *c)
{
        printf("W _stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler rh[] = {
                { "_start", r_start, NULL },
                { "got", r_got, NULL },
                { "_stop", r_stop, NULL },
        };
        static const poe_handler wh[] = {
                { "_start", w_start, NULL },
                { "write", w_write, NULL },
                { "_stop", w_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int p[2];

        if (pipe(p) < 0)
                return 1;
        r = p[0];
        w = p[1];
        oracle_create(k, rh, ORACLE_N(rh), POE_NOARGS, NULL);
        oracle_create(k, wh, ORACLE_N(wh), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        close(r);
        close(w);
        return 0;
}
