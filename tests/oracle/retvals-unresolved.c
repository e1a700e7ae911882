/* retvals-unresolved: the C side of retvals-unresolved.pl (see there).
 * Each call runs in a forked child, which writes its return code on its
 * stderr after whatever the kernel wrote there (a warning, or the
 * message of the abort); POE_ASSERT_RETVALS=1 is
 * POE::Kernel::ASSERT_RETVALS.  An id no session has is 999. */

#include <errno.h>

#include "oracle.h"

typedef int (*call_fn)(poe_kernel *k);

static call_fn calling;
static const char *label;

static void run_calling(poe_kernel *k, int unused)
{
        (void)unused;
        fprintf(stderr, "rc=%d\n", calling(k));
}

static void try(poe_kernel *k, const char *l, call_fn fn)
{
        char out[8192], *rcs;
        int lived, rc;

        calling = fn;
        label = l;
        lived = oracle_fork_eval(k, run_calling, 0, out, sizeof(out));
        if (lived < 0)
                exit(1);
        rcs = strstr(out, "rc=");
        if (!lived || !rcs) {
                printf("%s: died\n", l);
                return;
        }
        rc = atoi(rcs + 3);
        printf("%s: lived, %s, %s, %s\n", l, rc > 0 ? "true" : "false",
               strcmp(l, "alias_resolve") == 0 ? "-"
               : rc == -ESRCH                  ? "ESRCH"
                                               : "other",
               strstr(out, "<rv> ") && strstr(out, "session not resolved") ? "warned" : "quiet");
}

static int c_post(poe_kernel *k)
{
        return poe_kernel_post(k, 999, "x", POE_NOARGS);
}
static int c_post_alias(poe_kernel *k)
{
        return poe_kernel_post_alias(k, "moo", "x", POE_NOARGS);
}
static int c_call(poe_kernel *k)
{
        return poe_kernel_call(k, 999, "x", POE_NOARGS, NULL);
}
static int c_call_alias(poe_kernel *k)
{
        return poe_kernel_call_alias(k, "moo", "x", POE_NOARGS, NULL);
}
static int c_signal(poe_kernel *k)
{
        return poe_kernel_signal(k, 999, "USR1", POE_NOARGS);
}
static int c_detach_child(poe_kernel *k)
{
        return poe_kernel_detach_child(k, 999);
}
static int c_alias_list(poe_kernel *k)
{
        return poe_kernel_alias_list(k, 999, NULL, 0);
}
static int c_alias_resolve(poe_kernel *k)
{
        poe_sid sid;

        return poe_kernel_alias_resolve(k, "moo", &sid);
}
static int c_alias_remove(poe_kernel *k)
{
        return poe_kernel_alias_remove(k, "moo");
}
static int c_refcount_increment(poe_kernel *k)
{
        return poe_kernel_refcount_increment(k, 999, "t");
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        try(k, "post", c_post);
        try(k, "post alias", c_post_alias);
        try(k, "call", c_call);
        try(k, "call alias", c_call_alias);
        try(k, "signal", c_signal);
        try(k, "detach_child", c_detach_child);
        try(k, "alias_list", c_alias_list);
        try(k, "alias_resolve", c_alias_resolve);
        try(k, "alias_remove", c_alias_remove);
        try(k, "refcount_increment", c_refcount_increment);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("stopped\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}, {"_stop", on_stop, NULL}};
        poe_kernel *k;

        setenv("POE_ASSERT_RETVALS", "1", 1);
        k = oracle_kernel();
        poe_kernel_run(k);
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return 0;
}
