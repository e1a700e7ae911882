/* io-peer-close: the C side of io-peer-close.pl (see there). */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "oracle.h"

static int x, y;

static poe_value r_start(poe_ctx *c)
{
        poe_kernel_select_read(poe_ctx_kernel(c), x, "rd", POE_NOARGS);
        return poe_nil();
}

static poe_value r_rd(poe_ctx *c)
{
        for (;;) {
                char buf[101];
                ssize_t n = read(x, buf, 100);

                if (n < 0) {
                        if (errno != EAGAIN && errno != EWOULDBLOCK)
                                exit(1);
                        return poe_nil();
                }
                if (n == 0) {
                        printf("R eof\n");
                        poe_kernel_select_read(poe_ctx_kernel(c), x, NULL, POE_NOARGS);
                        close(x);
                        return poe_nil();
                }
                buf[n] = '\0';
                printf("R data %s\n", buf);
                if (strcmp(buf, "abc") == 0)
                        poe_kernel_post_alias(poe_ctx_kernel(c), "W", "more", POE_NOARGS);
        }
}

static poe_value r_stop(poe_ctx *c)
{
        printf("R _stop\n");
        return poe_nil();
}

static poe_value w_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "W");
        poe_kernel_delay(poe_ctx_kernel(c), "w1", 0.02, POE_NOARGS);
        return poe_nil();
}

static poe_value w_w1(poe_ctx *c)
{
        if (write(y, "abc", 3) != 3)
                exit(1);
        printf("W wrote abc\n");
        return poe_nil();
}

static poe_value w_more(poe_ctx *c)
{
        if (write(y, "de", 2) != 2)
                exit(1);
        close(y);
        printf("W wrote de and closed\n");
        poe_kernel_alias_remove(poe_ctx_kernel(c), "W");
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
                { "rd", r_rd, NULL },
                { "_stop", r_stop, NULL },
        };
        static const poe_handler wh[] = {
                { "_start", w_start, NULL },
                { "w1", w_w1, NULL },
                { "more", w_more, NULL },
                { "_stop", w_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                return 1;
        x = sv[0];
        y = sv[1];
        oracle_create(k, rh, ORACLE_N(rh), POE_NOARGS, NULL);
        oracle_create(k, wh, ORACLE_N(wh), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
