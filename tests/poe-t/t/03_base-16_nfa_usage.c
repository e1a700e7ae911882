/*
 * POE t/10_units/03_base/16_nfa_usage.t: POE::NFA->spawn's checks of its
 * parameters, then machines made with it.  spawn's named-parameter list
 * is a C struct (poe_nfa_spec): an odd-length list, an unknown parameter
 * name and an odd-length object/package array cannot be written, hence
 * the skips; the rest are poe_nfa_spawn's -EINVAL.  Its "isa POE::NFA"
 * is "a machine": poe_nfa_get_current_state answers for its id.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_int(0);
}

/* "isa POE::NFA": spawned, and a machine (in no state yet). */
static int is_machine(poe_kernel *k, int rc, poe_sid sid)
{
        const char *st = NULL;

        return rc == 0 && poe_nfa_get_current_state(k, sid, &st) == 0 && st &&
               strcmp(st, "(undef)") == 0;
}

int main(void)
{
        static const poe_handler start[] = {{"start", nop, NULL}};
        static const poe_nfa_state initial[] = {{"initial", start, 1}};
        /* package_states => { initial => [ Foo => [qw(foo bar)] ] } */
        static const char foo_package[] = "Foo";
        static const poe_handler foo[] = {{"foo", nop, (void *)foo_package},
                                          {"bar", nop, (void *)foo_package}};
        static const poe_nfa_state foo_states[] = {{"initial", foo, 2}};
        /* package_states => { initial => 'foo' }: no bank of handlers */
        static const poe_nfa_state no_bank[] = {{"initial", NULL, 1}};
        /* package_states => { initial => ['Foo' => 'bar'] }: a handler
         * naming no event */
        static const poe_handler no_event[] = {{NULL, nop, (void *)foo_package}};
        static const poe_nfa_state bad_events[] = {{"initial", no_event, 1}};
        poe_nfa_spec spec;
        poe_kernel *k;
        poe_sid sid = 0;
        int rc, runstate[1];

        tap_plan(11);
        tap_skip("NFA treats its params as a hash",
                 "spawn's parameters are a C struct: no odd-length list");

        memset(&spec, 0, sizeof(spec));
        spec.states = initial;
        spec.n_states = 1;
        tap_ok(poe_nfa_spawn(NULL, &spec, &sid) == -EINVAL, "NFA needs a working kernel");

        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        memset(&spec, 0, sizeof(spec));
        tap_ok(poe_nfa_spawn(k, &spec, &sid) == -EINVAL, "need states");

        spec.states = initial;
        spec.n_states = 1;
        rc = poe_nfa_spawn(k, &spec, &sid);
        tap_ok(is_machine(k, rc, sid), "'most basic machine' isa 'POE::NFA'");

        tap_skip("unknown parameter", "spawn's parameters are a C struct: no unknown names");

        spec.states = no_bank;
        tap_ok(poe_nfa_spawn(k, &spec, &sid) == -EINVAL, "bad state data");

        tap_skip("bad state data",
                 "an odd-length object/package array: a C state's handlers are a table");

        spec.states = bad_events;
        tap_ok(poe_nfa_spawn(k, &spec, &sid) == -EINVAL, "bad event data");

        spec.states = foo_states;
        rc = poe_nfa_spawn(k, &spec, &sid);
        tap_ok(is_machine(k, rc, sid), "'spawn with package_states' isa 'POE::NFA'");

        spec.runstate = runstate;
        rc = poe_nfa_spawn(k, &spec, &sid);
        tap_ok(is_machine(k, rc, sid), "'spawn with package_states' isa 'POE::NFA'");
        tap_ok(rc == 0 && poe_nfa_get_runstate(k, sid) == runstate, "RUNSTATE is an ARRAYREF");

        rc = poe_kernel_run(k);
        poe_kernel_free(k);
        if (rc != 0)
                return 1;
        return tap_done();
}
