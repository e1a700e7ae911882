/* die-in-select: the C side of die-in-select.pl (see there). */
#include <fcntl.h>
#include <unistd.h>

#include "oracle.h"

static int ra, rb, n;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "DIE", "on_die", POE_NOARGS);
        poe_kernel_select_read(k, ra, "rd", POE_ARGS(poe_str("a")));
        poe_kernel_select_read(k, rb, "rd", POE_ARGS(poe_str("b")));
        return poe_nil();
}

static poe_value on_rd(poe_ctx *c)
{
        int fd = (int)poe_ctx_arg(c, 0)->u.i;
        const char *name = poe_ctx_arg(c, 2)->u.s;
        char buf[2] = "";

        n++;
        if (read(fd, buf, 1) != 1) {
                printf("rd #%d read fails\n", n);
                return poe_nil();
        }
        if (buf[0] == name[0])
                printf("rd #%d mode %s byte matches args %zu\n", n, val(poe_ctx_arg(c, 1)),
                       poe_ctx_argc(c));
        else
                printf("rd #%d mode %s byte %s != %s args %zu\n", n, val(poe_ctx_arg(c, 1)), buf,
                       name, poe_ctx_argc(c));
        if (n == 1)
                poe_die(c, "boom %d\n", n);
        poe_kernel_select_read(poe_ctx_kernel(c), fd, NULL, POE_NOARGS);
        printf("rd #%d returns\n", n);
        return poe_nil();
}

static poe_value on_die(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char err[64];
        poe_exception e;
        size_t len;

        if (poe_value_exception(poe_ctx_arg(c, 1), &e) != 0) {
                printf("bad DIE fields\n");
                return poe_nil();
        }
        len = strlen(e.error_str);
        if (len && e.error_str[len - 1] == '\n')
                snprintf(err, sizeof(err), "%.*s\\n", (int)(len - 1), e.error_str);
        else
                snprintf(err, sizeof(err), "%s", e.error_str);
        printf("on_die after %d reads: event=%s dest=%s source=%s from_state=%s error=%s\n", n,
               e.event, id_of(e.dest_session), id_of(e.source_session),
               e.from_state ? e.from_state : "undef", err);
        poe_kernel_sig_handled(k);
        poe_kernel_select_read(k, ra, NULL, POE_NOARGS);
        poe_kernel_select_read(k, rb, NULL, POE_NOARGS);
        poe_kernel_sig(k, "DIE", NULL, POE_NOARGS);
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
                { "_start", on_start, NULL }, { "rd", on_rd, NULL },
                { "on_die", on_die, NULL },   { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int a[2], b[2];

        if (pipe2(a, O_NONBLOCK) < 0 || pipe2(b, O_NONBLOCK) < 0 || write(a[1], "a", 1) != 1 ||
            write(b[1], "b", 1) != 1)
                return 1;
        ra = a[0];
        rb = b[0];
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
