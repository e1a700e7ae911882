/*
 * POE::Test::Loops k_run_returns.pm: POE::Kernel->run() returns right
 * away when there are no sessions.  Upstream guards the run with a
 * ten-second alarm(); the test runner's timeout does that here.
 */
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

int main(void)
{
        poe_kernel *k;
        int rc;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(1);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        rc = poe_kernel_run(k);
        tap_is_int(rc, 0, "POE::Kernel->run() returned right away");
        poe_kernel_free(k);
        return tap_done();
}
