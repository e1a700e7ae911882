/*
 * POE t/10_units/03_base/13_assert_data.t: under ASSERT_DATA a
 * destination that names no session is fatal in signal, detach_child,
 * post and call.  Each call runs in a forked child that must abort with
 * libpoe's "Cannot resolve ``moo'' into a session reference" (see
 * ../dies.h).  signal and detach_child take ids in C: 999, which no
 * session has, stands for "moo".
 */
#include <stdlib.h>

#include <poe/poe.h>

#include "../dies.h"

static void c_signal(poe_kernel *k)
{
        poe_kernel_signal(k, 999, "signal", POE_NOARGS);
}
static void c_detach_child(poe_kernel *k)
{
        poe_kernel_detach_child(k, 999);
}
static void c_post(poe_kernel *k)
{
        poe_kernel_post_alias(k, "moo", "bar", POE_NOARGS);
}
static void c_call(poe_kernel *k)
{
        poe_kernel_call_alias(k, "moo", "bar", POE_NOARGS, NULL);
}

int main(void)
{
        poe_kernel *k;

        unsetenv("POE_ASSERT_USAGE");
        setenv("POE_ASSERT_DATA", "1", 1);
        tap_plan(7);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_kernel_run(k);
        tap_dies(k, c_signal, "Cannot resolve ``999'' into a session reference",
                 "unresolvable session in signal");
        tap_dies(k, c_detach_child, "Cannot resolve ``999'' into a session reference",
                 "unresolvable session in detach_child");
        tap_dies(k, c_post, "Cannot resolve ``moo'' into a session reference",
                 "unresolvable session in post");
        tap_dies(k, c_call, "Cannot resolve ``moo'' into a session reference",
                 "unresolvable session in call");
        tap_skip("double session_alloc", "POE's private session_alloc on the kernel itself");
        tap_skip("removing alarms from unknown session",
                 "needs POE's private _data_ses_free to unregister the kernel's own session");
        poe_kernel_free(k);
        return tap_done();
}
