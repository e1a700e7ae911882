/* die-unhandled: the C side of die-unhandled.pl (see there). */
#include <errno.h>

#include "oracle.h"

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

static poe_value on_die(poe_ctx *c)
{
        poe_exception e;

        if (poe_value_exception(poe_ctx_arg(c, 1), &e) != 0) {
                printf("bad DIE fields\n");
                return poe_nil();
        }
        printf("%s on_die %s dest=%s event=%s\n", id_of(poe_ctx_session(c)),
               val(poe_ctx_arg(c, 0)), id_of(e.dest_session), e.event);
        return poe_nil();
}

/* run(), and what it died with, as eval { run() } and $@ print it. */
static void run_it(poe_kernel *k, const char *label)
{
        int rc = poe_kernel_run(k);
        const char *e = rc == -ECANCELED ? poe_kernel_exception(k) : "";
        char buf[512];
        size_t i;

        snprintf(buf, sizeof(buf), "%s", e ? e : "(no message)");
        for (i = 0; buf[i]; i++)
                if (buf[i] == '\n')
                        buf[i] = '|';
        if (rc < 0 && rc != -ECANCELED)
                printf("%s: run failed: %s\n", label, err(rc));
        printf("%s: run died: [%s]\n", label, buf);
}

/* 1. */
static poe_value c_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS);
        poe_kernel_yield(poe_ctx_kernel(c), "boom", POE_NOARGS);
        return poe_nil();
}

static poe_value c_boom(poe_ctx *c)
{
        printf("%s boom\n", id_of(poe_ctx_session(c)));
        poe_die(c, "oops\n");
}

static poe_value p_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", c_start, NULL }, { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },  { "on_die", on_die, NULL },
                { "boom", c_boom, NULL },
        };

        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS);
        oracle_create(poe_ctx_kernel(c), h, ORACLE_N(h), POE_NOARGS, NULL);
        return poe_nil();
}

/* 2. */
static poe_value s2_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS);
        return poe_nil();
}

static poe_value s2_on_die(poe_ctx *c)
{
        poe_exception e;

        poe_value_exception(poe_ctx_arg(c, 1), &e);
        printf("never: %s", e.error_str);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value s2_stop(poe_ctx *c)
{
        printf("%s _stop dies\n", id_of(poe_ctx_session(c)));
        poe_die(c, "stop died\n");
}

/* 3. */
static poe_value s3_start(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS);
        poe_kernel_yield(poe_ctx_kernel(c), "boom", POE_NOARGS);
        return poe_nil();
}

static poe_value s3_boom(poe_ctx *c)
{
        poe_die(c, "first error\n");
}

static poe_value s3_on_die(poe_ctx *c)
{
        poe_exception e;

        poe_value_exception(poe_ctx_arg(c, 1), &e);
        printf("%s on_die: %s", id_of(poe_ctx_session(c)), e.error_str);
        poe_die(c, "second error\n");
}

int main(void)
{
        static const poe_handler h1[] = {
                { "_start", p_start, NULL },
                { "_child", on_child, NULL },
                { "_stop", on_stop, NULL },
                { "on_die", on_die, NULL },
        };
        static const poe_handler h2[] = {
                { "_start", s2_start, NULL },
                { "on_die", s2_on_die, NULL },
                { "_stop", s2_stop, NULL },
        };
        static const poe_handler h3[] = {
                { "_start", s3_start, NULL },
                { "boom", s3_boom, NULL },
                { "on_die", s3_on_die, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h1, ORACLE_N(h1), POE_NOARGS, NULL);
        run_it(k, "first");
        oracle_create(k, h2, ORACLE_N(h2), POE_NOARGS, NULL);
        run_it(k, "second");
        oracle_create(k, h3, ORACLE_N(h3), POE_NOARGS, NULL);
        run_it(k, "third");
        poe_kernel_free(k);
        return 0;
}
