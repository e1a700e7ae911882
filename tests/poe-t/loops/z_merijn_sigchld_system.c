/*
 * POE::Test::Loops z_merijn_sigchld_system.pm: system() works before,
 * while and after a session watches CHLD.  The assertions' names show
 * SIGCHLD's disposition (Perl's $SIG{CHLD}: DEFAULT, IGNORE, or a
 * handler) and errno (Perl's $!).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

#define TESTS 4

static const char *command;
static int caught_child;

static const char *sig_chld(void)
{
        struct sigaction sa;

        if (sigaction(SIGCHLD, NULL, &sa) < 0)
                return "(undef)";
        if (sa.sa_handler == SIG_DFL)
                return "DEFAULT";
        if (sa.sa_handler == SIG_IGN)
                return "IGNORE";
        return "handler";
}

static void check_system(void)
{
        char name[160];
        const char *disposition = sig_chld();
        int rc;

        errno = 0;
        rc = system(command);
        snprintf(name, sizeof(name), "System returns properly chld(%s) err(%s)", disposition,
                 errno ? strerror(errno) : "");
        tap_is_int(rc, 0, name);
}

static poe_value on_start(poe_ctx *c)
{
        check_system();
        poe_kernel_sig(poe_ctx_kernel(c), "CHLD", "chld", POE_NOARGS);
        check_system();
        poe_kernel_sig(poe_ctx_kernel(c), "CHLD", NULL, POE_NOARGS);
        check_system();
        return poe_nil();
}

static poe_value chld(poe_ctx *c)
{
        (void)c;
        tap_diag("Caught child");
        caught_child++;
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"chld", chld, NULL},
                {"_stop", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 3};
        poe_kernel *k;
        int i;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(TESTS);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        if (access("/bin/true", X_OK) == 0)
                command = "/bin/true";
        else if (access("/usr/bin/true", X_OK) == 0)
                command = "/usr/bin/true";
        if (!command) {
                for (i = 0; i < TESTS; i++)
                        tap_skip("system()", "Couldn't find a 'true' to run under system()");
        } else {
                tap_diag("Using '%s' as our thing to run under system()", command);
                poe_session_create(k, &spec, NULL);
                tap_is_int(caught_child, 0, "no child procs caught");
        }
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
