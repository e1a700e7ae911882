/* assert-data-resolve: the C side of assert-data-resolve.pl (see there).
 * An ASSERT_DATA failure aborts, so each call that may die runs in a
 * forked child whose stderr is read back; POE_ASSERT_DATA=1 is
 * POE::Kernel::ASSERT_DATA. */

#include "oracle.h"

typedef void (*call_fn)(poe_kernel *k);

/* The call try() runs in its child (oracle_fork_eval passes an int). */
static call_fn trying;

static void run_trying(poe_kernel *k, int unused)
{
        (void)unused;
        trying(k);
}

/* eval { fn() }, and print what it died with, as the Perl side does. */
static void try(poe_kernel *k, const char *label, call_fn fn)
{
        char out[8192], *msg, *end;
        int lived;

        trying = fn;
        lived = oracle_fork_eval(k, run_trying, 0, out, sizeof(out));
        if (lived < 0)
                exit(1);
        if (lived) {
                printf("%s: lived\n", label);
                return;
        }
        msg = strstr(out, "Cannot resolve ``");
        end = msg ? strstr(msg, " into a session reference") : NULL;
        if (end) {
                end[strlen(" into a session reference")] = '\0';
                printf("%s: died: %s\n", label, msg);
        } else {
                printf("%s: died: other: %s\n", label, out);
        }
}

static void post_alias(poe_kernel *k)
{
        poe_kernel_post_alias(k, "moo", "bar", POE_NOARGS);
}
static void post_id(poe_kernel *k)
{
        poe_kernel_post(k, 999, "bar", POE_NOARGS);
}
static void call_alias(poe_kernel *k)
{
        poe_kernel_call_alias(k, "moo", "bar", POE_NOARGS, NULL);
}
static void call_id(poe_kernel *k)
{
        poe_kernel_call(k, 999, "bar", POE_NOARGS, NULL);
}
static void signal_id(poe_kernel *k)
{
        poe_kernel_signal(k, 999, "USR1", POE_NOARGS);
}
static void detach_id(poe_kernel *k)
{
        poe_kernel_detach_child(k, 999);
}

static void resolve(poe_kernel *k)
{
        poe_sid sid;

        printf("alias_resolve: %s\n",
               poe_kernel_alias_resolve(k, "moo", &sid) == 0 ? "found" : "undef");
}

static void post_here(poe_kernel *k)
{
        poe_kernel_post_alias(k, "here", "bar", POE_NOARGS);
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "here");
        return poe_nil();
}

static poe_value on_bar(poe_ctx *c)
{
        printf("bar reached\n");
        poe_kernel_alias_remove(poe_ctx_kernel(c), "here");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}, {"bar", on_bar, NULL}};
        poe_kernel *k;

        setenv("POE_ASSERT_DATA", "1", 1);
        k = oracle_kernel();
        poe_kernel_run(k);
        try(k, "post alias", post_alias);
        try(k, "post id", post_id);
        try(k, "call alias", call_alias);
        try(k, "call id", call_id);
        try(k, "signal id", signal_id);
        try(k, "detach_child id", detach_id);
        try(k, "alias_resolve", resolve);
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        /* The post must reach the session in this process, not a child. */
        post_here(k);
        printf("post to a session: lived\n");
        poe_kernel_run(k);
        poe_kernel_free(k);
        return 0;
}
