/*
 * POE::Test::Loops sbk_signal_init.pm (rt.cpan.org 19529): making the
 * kernel leaves the program's own signal handlers alone.  Upstream sets
 * alarm(1) and waits in select() for up to five seconds; raise() gives
 * the same SIGALRM at once.
 */
#include <signal.h>
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static volatile sig_atomic_t signal_dispatched;

static void dispatch_normal_signal(int sig)
{
        (void)sig;
        signal_dispatched = 1;
}

int main(void)
{
        poe_kernel *k;

        tap_plan(1);
        signal(SIGALRM, dispatch_normal_signal);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        raise(SIGALRM);
        tap_ok(signal_dispatched, "normal SIGALRM dispatched");
        poe_kernel_free(k);
        return tap_done();
}
