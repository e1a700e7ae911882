/* io-session-stop-releases: the C side of io-session-stop-releases.pl (see there). */
#include <unistd.h>

#include "oracle.h"

static int r, w;
static poe_sid a;

static poe_value a_start(poe_ctx *c)
{
        poe_kernel_select_read(poe_ctx_kernel(c), r, "got", POE_NOARGS);
        printf("A watching\n");
        return poe_nil();
}

static poe_value a_got(poe_ctx *c)
{
        printf("A got something\n");
        return poe_nil();
}

static poe_value a_stop(poe_ctx *c)
{
        printf("A _stop\n");
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "kill", 0.02, POE_NOARGS);
        return poe_nil();
}

static poe_value b_kill(poe_ctx *c)
{
        printf("B kills A\n");
        poe_kernel_signal(poe_ctx_kernel(c), a, "TERM", POE_NOARGS);
        poe_kernel_delay(poe_ctx_kernel(c), "watch", 0.05, POE_NOARGS);
        return poe_nil();
}

static poe_value b_watch(poe_ctx *c)
{
        poe_kernel_select_read(poe_ctx_kernel(c), r, "got", POE_NOARGS);
        if (write(w, "data\n", 5) != 5)
                exit(1);
        printf("B watching, wrote\n");
        return poe_nil();
}

static poe_value b_got(poe_ctx *c)
{
        char buf[100];
        ssize_t n = read(r, buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        printf("B got %s\n", buf);
        poe_kernel_select_read(poe_ctx_kernel(c), r, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value b_stop(poe_ctx *c)
{
        printf("B _stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler ah[] = {
                { "_start", a_start, NULL },
                { "got", a_got, NULL },
                { "_stop", a_stop, NULL },
        };
        static const poe_handler bh[] = {
                { "_start", b_start, NULL },
                { "kill", b_kill, NULL },
                { "watch", b_watch, NULL },
                { "got", b_got, NULL },
                { "_stop", b_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int p[2];

        if (pipe(p) < 0)
                return 1;
        r = p[0];
        w = p[1];
        a = oracle_create(k, ah, ORACLE_N(ah), POE_NOARGS, NULL);
        oracle_create(k, bh, ORACLE_N(bh), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        close(r);
        close(w);
        return 0;
}
