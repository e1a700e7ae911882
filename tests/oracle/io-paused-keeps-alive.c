/* io-paused-keeps-alive: the C side of io-paused-keeps-alive.pl (see there). */
#include <unistd.h>

#include "oracle.h"

static int r, w, other;
static poe_sid reader;

static poe_value w_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "W");
        poe_kernel_delay(poe_ctx_kernel(c), "w1", 0.02, POE_NOARGS);
        return poe_nil();
}

static poe_value w_w1(poe_ctx *c)
{
        if (write(w, "one\n", 4) != 4)
                exit(1);
        printf("W wrote one\n");
        return poe_nil();
}

static poe_value w_paused(poe_ctx *c)
{
        if (write(w, "two\n", 4) != 4)
                exit(1);
        printf("W wrote two\n");
        reader = poe_ctx_sender(c);
        poe_kernel_delay(poe_ctx_kernel(c), "wake", 0.1, POE_NOARGS);
        return poe_nil();
}

static poe_value w_wake(poe_ctx *c)
{
        printf("W asks R to resume\n");
        poe_kernel_post(poe_ctx_kernel(c), reader, "resume", POE_NOARGS);
        poe_kernel_alias_remove(poe_ctx_kernel(c), "W");
        return poe_nil();
}

static poe_value w_stop(poe_ctx *c)
{
        printf("W _stop\n");
        return poe_nil();
}

static poe_value r_start(poe_ctx *c)
{
        poe_kernel_select_read(poe_ctx_kernel(c), r, "got", POE_NOARGS);
        return poe_nil();
}

static poe_value r_got(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[100];
        ssize_t n = read(r, buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        printf("R got %s\n", buf);
        if (strcmp(buf, "one") == 0) {
                printf("R pause -> %d\n", poe_kernel_select_pause_read(k, r));
                printf("R pause unwatched -> %d\n", poe_kernel_select_pause_read(k, other));
                poe_kernel_post_alias(k, "W", "paused", POE_NOARGS);
                return poe_nil();
        }
        poe_kernel_select_read(k, r, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value r_resume(poe_ctx *c)
{
        printf("R resume -> %d\n", poe_kernel_select_resume_read(poe_ctx_kernel(c), r));
        return poe_nil();
}

static poe_value r_stop(poe_ctx *c)
{
        printf("R _stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler wh[] = {
                { "_start", w_start, NULL },
                { "w1", w_w1, NULL },
                { "paused", w_paused, NULL },
                { "wake", w_wake, NULL },
                { "_stop", w_stop, NULL },
        };
        static const poe_handler rh[] = {
                { "_start", r_start, NULL },
                { "got", r_got, NULL },
                { "resume", r_resume, NULL },
                { "_stop", r_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int p[2], q[2];

        if (pipe(p) < 0 || pipe(q) < 0)
                return 1;
        r = p[0];
        w = p[1];
        other = q[0];
        oracle_create(k, wh, ORACLE_N(wh), POE_NOARGS, NULL);
        oracle_create(k, rh, ORACLE_N(rh), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        close(p[0]);
        close(p[1]);
        close(q[0]);
        close(q[1]);
        return 0;
}
