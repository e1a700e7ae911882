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

/* The calls whose $! the Perl side does not compare (see there). */
static int quiet_errno(const char *l)
{
        return strcmp(l, "alias_resolve") == 0 || strcmp(l, "alarm_remove") == 0 ||
               strcmp(l, "alarm_adjust") == 0 || strcmp(l, "delay_adjust") == 0;
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
               quiet_errno(l) ? "-"
               : rc == -ESRCH ? "ESRCH"
               : rc == -EPERM ? "EPERM"
                              : "other",
               strstr(out, "<rv> ") && strstr(out, "session not resolved") ? "warned"
               : strchr(out, '\n') != strrchr(out, '\n')                   ? "other warning"
                                                                           : "quiet");
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
static int c_alarm_remove(poe_kernel *k)
{
        return poe_kernel_alarm_remove(k, 999, NULL);
}
static int c_alarm_adjust(poe_kernel *k)
{
        return poe_kernel_alarm_adjust(k, 999, 1, NULL);
}
static int c_delay_adjust(poe_kernel *k)
{
        return poe_kernel_delay_adjust(k, 999, 1, NULL);
}
static int c_detach_myself(poe_kernel *k)
{
        return poe_kernel_detach_myself(k);
}

static poe_sid other;

static int c_detach_not_child(poe_kernel *k)
{
        return poe_kernel_detach_child(k, other);
}

static poe_value other_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "other");
        return poe_nil();
}

static poe_value other_bye(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "other");
        return poe_nil();
}

static poe_value other_stop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_resolve(k, "other", &other);
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
        try(k, "alarm_remove", c_alarm_remove);
        try(k, "alarm_adjust", c_alarm_adjust);
        try(k, "delay_adjust", c_delay_adjust);
        try(k, "detach_myself", c_detach_myself);
        try(k, "detach_child not a child", c_detach_not_child);
        poe_kernel_post(k, other, "bye", POE_NOARGS);
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
        static const poe_handler o[] = {
                {"_start", other_start, NULL},
                {"bye", other_bye, NULL},
                {"_stop", other_stop, NULL},
        };
        poe_kernel *k;

        setenv("POE_ASSERT_RETVALS", "1", 1);
        k = oracle_kernel();
        poe_kernel_run(k);
        oracle_create(k, o, ORACLE_N(o), POE_NOARGS, NULL);
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return 0;
}
