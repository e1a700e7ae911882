/* io-regular-file: the C side of io-regular-file.pl (see there). */

#include <fcntl.h>
#include <unistd.h>

#include "oracle.h"

static int fd = -1, reads, writes;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        fd = open("/proc/self/exe", O_RDONLY);
        printf("watch read: %s\n",
               poe_kernel_select_read(k, fd, "rd", POE_NOARGS) == 0 ? "ok" : "failed");
        printf("watch write: %s\n",
               poe_kernel_select_write(k, fd, "wr", POE_NOARGS) == 0 ? "ok" : "failed");
        return poe_nil();
}

static poe_value on_rd(poe_ctx *c)
{
        if (++reads == 3)
                poe_kernel_select_read(poe_ctx_kernel(c), fd, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_wr(poe_ctx *c)
{
        if (++writes == 3)
                poe_kernel_select_write(poe_ctx_kernel(c), fd, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("stopped after %d reads, %d writes\n", reads, writes);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"rd", on_rd, NULL},
                {"wr", on_wr, NULL},
                {"_stop", on_stop, NULL},
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        close(fd);
        return 0;
}
