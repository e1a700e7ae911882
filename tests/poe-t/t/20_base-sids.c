/*
 * POE t/20_resources/00_base/sids.pm: session ids.  Upstream allocates
 * an id with POE::Resource::SIDs' private _data_sid_allocate, binds it
 * to a string and clears it; here the ids are those of sessions made
 * with poe_session_create, resolved with poe_kernel_ID_id_to_session,
 * and cleared when the session stops.  Clearing an id no session holds
 * and clearing the kernel's own have no public counterpart (libpoe's
 * kernel session lives as long as the kernel).
 */
#include <errno.h>
#include <stdlib.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value on_start(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 1};
        poe_kernel_info info;
        poe_kernel *k;
        poe_sid sid = 0;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(7);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, &sid);
        if (!tap_ok(sid == 1, "first user SID is expected"))
                tap_diag("got %llu", (unsigned long long)sid);
        tap_ok(poe_kernel_ID_id_to_session(k, sid) == 0, "session ID resolves correctly");
        poe_kernel_run(k); /* the session has nothing to do: it stops */
        {
                /* POE's private _data_sid_clear; here the session's stop.  An
                 * id that no longer resolves is -ESRCH, which ASSERT_RETVALS
                 * would make fatal: it is off for this one call. */
                poe_kernel_debug_set(k, POE_ASSERT_RETVALS, 0);
                tap_ok(poe_kernel_ID_id_to_session(k, sid) == -ESRCH,
                       "session ID 1 removes session correctly");
                poe_kernel_debug_set(k, POE_ASSERT_RETVALS, 1);
        }
        tap_skip("can't clear a sid for a nonexistent session",
                 "POE's private _data_sid_clear trap: no public call clears an id");
        tap_skip("successfully removed POE::Kernel's SID",
                 "POE's private _data_sid_clear on the kernel: libpoe's kernel session lives as "
                 "long as the kernel");
        tap_ok(poe_peek_kernel(k, &info) == 0 && info.sessions == 0,
               "POE::Resource::SIDs finalized ok");
        poe_kernel_free(k);
        return tap_done();
}
