/*
 * POE t/10_units/03_base/14_kernel.t: POE::Kernel's import list, and
 * the $poe_kernel it exports.  The import arguments are Perl module
 * loading (skips); $poe_kernel is poe_kernel_default().
 */
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

int main(void)
{
        poe_kernel *k;

        tap_plan(6);
        tap_skip("use POE::Kernel", "use_ok: there is no module to load in C");
        tap_skip("fails without a hash ref",
                 "POE::Kernel->import's arguments: Perl module loading");
        tap_skip("fails with bogus hash ref",
                 "POE::Kernel->import's arguments: Perl module loading");
        tap_skip("specifying which loop to load works",
                 "POE::Kernel->import's loop argument; libpoe takes POE_EVENT_LOOP, and every "
                 "port runs under each backend");
        k = poe_kernel_default();
        tap_ok(k != NULL, "POE::Kernel exports $poe_kernel");
        tap_ok(k && *poe_kernel_id(k) && poe_kernel_run(k) == 0, "  which contains a kernel");
        return tap_done();
}
