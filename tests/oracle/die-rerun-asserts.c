/* die-rerun-asserts: the C side of die-rerun-asserts.pl (see there).
 * POE_ASSERT_DEFAULT=1 is POE::Kernel::ASSERT_DEFAULT. */
#include <errno.h>

#include "oracle.h"

static poe_sid callee;

static void run_it(poe_kernel *k, const char *label)
{
        int rc = poe_kernel_run(k);
        char buf[512];
        size_t i;

        if (rc == 0) {
                printf("%s: run returned\n", label);
                return;
        }
        snprintf(buf, sizeof(buf), "%s",
                 rc == -ECANCELED && poe_kernel_exception(k) ? poe_kernel_exception(k) : "?");
        for (i = 0; buf[i]; i++)
                if (buf[i] == '\n')
                        buf[i] = '|';
        printf("%s: run died: [%s]\n", label, buf);
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value print_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value yield_boom(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "boom", POE_NOARGS);
        return poe_nil();
}

static poe_value boom(poe_ctx *c)
{
        const char *msg = poe_ctx_object(c);

        printf("%s boom\n", id_of(poe_ctx_session(c)));
        poe_die(c, "%s\n", msg);
}

static poe_value p_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                {"_start", nop, NULL},
                {"boom", boom, "round two"},
                {"_stop", print_stop, NULL},
        };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "DIE", "on_die", POE_NOARGS);
        callee = oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_yield(k, "go", POE_NOARGS);
        return poe_nil();
}

static poe_value p_go(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value r = poe_nil();
        int rc = poe_kernel_call(k, callee, "boom", POE_NOARGS, &r);

        printf("2 call returned %s\n", rc < 0 ? "undef" : val(&r));
        poe_value_release(&r);
        poe_kernel_yield(k, "work", POE_NOARGS);
        return poe_nil();
}

static poe_value p_on_die(poe_ctx *c)
{
        poe_exception e;

        if (poe_value_exception(poe_ctx_arg(c, 1), &e) == 0)
                printf("2 on_die %s: %s", e.event, e.error_str);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value p_work(poe_ctx *c)
{
        printf("2 work\n");
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", NULL, POE_NOARGS);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h1[] = {
                {"_start", yield_boom, NULL},
                {"boom", boom, "round one"},
                {"_stop", print_stop, NULL},
        };
        static const poe_handler h2[] = {
                {"_start", p_start, NULL}, {"go", p_go, NULL},    {"on_die", p_on_die, NULL},
                {"work", p_work, NULL},    {"_child", nop, NULL}, {"_stop", print_stop, NULL},
        };
        static const poe_handler h3[] = {
                {"_start", yield_boom, NULL},
                {"boom", boom, "round three"},
                {"_stop", print_stop, NULL},
        };
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        k = oracle_kernel();
        oracle_create(k, h1, ORACLE_N(h1), POE_NOARGS, NULL);
        run_it(k, "first");
        oracle_create(k, h2, ORACLE_N(h2), POE_NOARGS, NULL);
        run_it(k, "second");
        oracle_create(k, h3, ORACLE_N(h3), POE_NOARGS, NULL);
        run_it(k, "third");
        poe_kernel_free(k);
        return 0;
}
