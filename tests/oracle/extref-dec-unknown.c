/* extref-dec-unknown: the C side of extref-dec-unknown.pl (see there).
 * An ASSERT_DATA failure aborts, so each call that may die runs in a
 * forked child whose stderr is read back; POE_ASSERT_DATA=1 is
 * POE::Kernel::ASSERT_DATA. */

#include "oracle.h"

static poe_sid me;
static const char *tag;

static void dec(poe_kernel *k, int unused)
{
        (void)unused;
        poe_kernel_refcount_decrement(k, me, tag);
}

/* eval { refcount_decrement(me, t) }: what it returned or died with. */
static void try(poe_kernel *k, const char *label, const char *t)
{
        char out[8192], *msg, *end;
        int lived;

        tag = t;
        fflush(stdout);
        lived = oracle_fork_eval(k, dec, 0, out, sizeof(out));
        if (lived < 0)
                exit(1);
        if (lived) {
                /* It lived in the child: the parent makes the same call,
                 * for real, and prints its count. */
                printf("%s: lived: %d\n", label, poe_kernel_refcount_decrement(k, me, t));
                return;
        }
        msg = strstr(out, "decrementing extref for ");
        end = msg ? strpbrk(msg, "\n(") : NULL;
        if (end) {
                while (end > msg && end[-1] == ' ')
                        end--;
                *end = '\0';
        }
        printf("%s: died: %s\n", label, msg ? msg : "other");
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        me = poe_ctx_session(c);
        try(k, "none held", "nope");
        poe_kernel_refcount_increment(k, me, "held");
        poe_kernel_refcount_increment(k, me, "held");
        try(k, "other held", "nope");
        try(k, "held", "held");
        try(k, "held again", "held");
        try(k, "none held again", "held");
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

        setenv("POE_ASSERT_DATA", "1", 1);
        k = oracle_kernel();
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return 0;
}
