/* alias-usage: the C side of alias-usage.pl (see there).
 * POE_ASSERT_USAGE=1 is POE::Kernel::ASSERT_USAGE. */

#include "oracle.h"

enum { SET_OWN, SET_IN_USE, REMOVE_ANOTHER, REMOVE_NONEXISTENT, REMOVE_OWN };

static void call(poe_kernel *k, int what)
{
        switch (what) {
        case SET_OWN:
                poe_kernel_alias_set(k, "mine");
                break;
        case SET_IN_USE:
                poe_kernel_alias_set(k, "moo");
                break;
        case REMOVE_ANOTHER:
                poe_kernel_alias_remove(k, "moo");
                break;
        case REMOVE_NONEXISTENT:
                poe_kernel_alias_remove(k, "narf");
                break;
        case REMOVE_OWN:
                poe_kernel_alias_remove(k, "mine");
                break;
        }
}

/* eval { call() }, and what it died with, as the Perl side prints it. */
static void try(poe_kernel *k, const char *label, int what)
{
        static const char *endings[] = {" is in use by another session",
                                        " does not belong to current session", " does not exist"};
        char out[4096], *msg;
        size_t i;
        int lived = oracle_fork_eval(k, call, what, out, sizeof(out));

        if (lived < 0)
                exit(1);
        if (lived) {
                printf("%s: lived\n", label);
                return;
        }
        msg = strstr(out, "alias '");
        for (i = 0; msg && i < ORACLE_N(endings); i++) {
                char *end = strstr(msg, endings[i]);

                if (end) {
                        end[strlen(endings[i])] = '\0';
                        printf("%s: died: %s\n", label, msg);
                        return;
                }
        }
        printf("%s: died: other\n", label);
}

static poe_value a_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "moo");
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "mine");
        try(k, "set own again", SET_OWN);
        try(k, "set in use", SET_IN_USE);
        try(k, "remove another", REMOVE_ANOTHER);
        try(k, "remove nonexistent", REMOVE_NONEXISTENT);
        try(k, "remove own", REMOVE_OWN);
        poe_kernel_alias_set(k, "mine");
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler a[] = {{"_start", a_start, NULL}, {"_stop", nop, NULL}};
        static const poe_handler b[] = {{"_start", b_start, NULL}, {"_stop", nop, NULL}};
        poe_kernel *k;

        setenv("POE_ASSERT_USAGE", "1", 1);
        k = oracle_kernel();
        oracle_create(k, a, ORACLE_N(a), POE_NOARGS, NULL);
        oracle_create(k, b, ORACLE_N(b), POE_NOARGS, NULL);
        poe_kernel_stop(k);
        printf("stopped\n");
        poe_kernel_free(k);
        return 0;
}
