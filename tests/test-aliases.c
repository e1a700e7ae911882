/*
 * Aliases: alias_set, alias_remove, alias_resolve, alias_list, their
 * errno values (POE/Kernel.pm, subs alias_set 2384, alias_remove 2407,
 * _resolve_session 595), and the rule that an alias keeps its session
 * alive exactly until it is removed.  The same scenario in perl printed
 * the values used here with POE 1.37.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"

static poe_value on_start_set(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "zeta"), 0);
        TL_EQ(poe_kernel_alias_set(k, "alpha"), 0);
        TL_EQ(poe_kernel_alias_set(k, "mid"), 0);
        /* Setting an alias the session already has succeeds. */
        TL_EQ(poe_kernel_alias_set(k, "mid"), 0);
        TL_EQ(poe_kernel_alias_set(k, NULL), -EINVAL);
        TL_EQ(poe_kernel_alias_set(k, ""), -EINVAL);
        return poe_nil();
}

static poe_value on_start_collide(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "zeta"), -EEXIST);
        TL_EQ(poe_kernel_alias_remove(k, "mid"), -EPERM);
        TL_EQ(poe_kernel_alias_remove(k, "nope"), -ESRCH);
        TL_EQ(poe_kernel_alias_set(k, "b"), 0);
        return poe_nil();
}

static poe_value on_remove(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *name = poe_value_str(poe_ctx_arg(c, 0));

        tl_log("%llu remove %s -> %d", (unsigned long long)poe_ctx_session(c), name,
               poe_kernel_alias_remove(k, name));
        return poe_nil();
}

static void test_set_remove_errors(void **state)
{
        poe_sid a, b, sid = 0;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", on_start_set }, { "rm", on_remove }, { "_stop", tl_h_log });
        b = TL_CREATE(tl.k, { "_start", on_start_collide }, { "rm", on_remove },
                      { "_stop", tl_h_log });
        /* Outside handlers there is no session to name or un-name. */
        TL_EQ(poe_kernel_alias_set(tl.k, "outside"), -EPERM);
        TL_EQ(poe_kernel_alias_remove(tl.k, "zeta"), -EPERM);
        TL_EQ(poe_kernel_alias_remove(tl.k, "nope"), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "outside", &sid), -ESRCH);
        tl_check_kernel(tl.k);

        TL_EQ(poe_kernel_post(tl.k, a, "rm", POE_ARGS(poe_str("zeta"))), 0);
        TL_EQ(poe_kernel_post(tl.k, b, "rm", POE_ARGS(poe_str("alpha"))), 0);
        TL_EQ(poe_kernel_post(tl.k, a, "rm", POE_ARGS(poe_str("zeta"))), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 remove zeta -> 0", "2 remove alpha -> -1", "1 remove zeta -> -3");
        /* The alias is free again, for anyone. */
        TL_EQ(poe_kernel_alias_resolve(tl.k, "zeta", &sid), -ESRCH);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        tl_transcript_clear();
}

static void test_list_sorted(void **state)
{
        const char *names[8];
        poe_sid a, b;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", on_start_set }, { "_stop", tl_h_nop });
        b = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_alias_list(tl.k, a, names, 8), 3);
        assert_string_equal(names[0], "alpha");
        assert_string_equal(names[1], "mid");
        assert_string_equal(names[2], "zeta");
        /* A short array gets the first n; the answer is the full count. */
        names[1] = NULL;
        TL_EQ(poe_kernel_alias_list(tl.k, a, names, 1), 3);
        assert_string_equal(names[0], "alpha");
        assert_null(names[1]);
        TL_EQ(poe_kernel_alias_list(tl.k, a, NULL, 0), 3);
        TL_EQ(poe_kernel_alias_list(tl.k, a, NULL, 2), -EINVAL);
        TL_EQ(poe_kernel_alias_list(tl.k, b, names, 8), 0);
        TL_EQ(poe_kernel_alias_list(tl.k, 99, names, 8), -ESRCH);
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_alias_list(tl.k, a, names, 8), -ESRCH);
}

/* Many aliases in random order still list sorted. */
static char many[200][16];

static poe_value on_start_many(poe_ctx *c)
{
        size_t i;

        for (i = 0; i < 200; i++) {
                /* A stride coprime with 200 scrambles the order. */
                snprintf(many[i], sizeof(many[i]), "n%03zu", (i * 77) % 200);
                TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), many[i]), 0);
        }
        return poe_nil();
}

static void test_list_many_sorted(void **state)
{
        static const char *names[200];
        poe_sid sid;
        size_t i;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", on_start_many });
        TL_EQ(poe_kernel_alias_list(tl.k, sid, names, 200), 200);
        for (i = 1; i < 200; i++)
                assert_true(strcmp(names[i - 1], names[i]) < 0);
        TL_EQ(tl_reason(tl.k, sid, POE_REASON_ALIASES), 200);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_signal(tl.k, sid, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static poe_value on_start_alias_two(poe_ctx *c)
{
        /* An alias that looks like another session's id. */
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "2"), 0);
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "one"), 0);
        return poe_nil();
}

static poe_value on_start_b_alias(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "bee"), 0);
        return poe_nil();
}

static void test_resolve(void **state)
{
        poe_sid a, sid = 0;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", on_start_set }, { "_stop", tl_h_nop });
        TL_EQ(poe_kernel_alias_resolve(tl.k, "mid", &sid), 0);
        TL_EQ(sid, a);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "mid", NULL), 0);
        /* A decimal session id resolves too, as in POE. */
        sid = 0;
        TL_EQ(poe_kernel_alias_resolve(tl.k, "1", &sid), 0);
        TL_EQ(sid, 1);
        sid = 0;
        TL_EQ(poe_kernel_alias_resolve(tl.k, "2", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "1x", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "-1", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "99999999999999999999999", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "Mid", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, NULL, &sid), -EINVAL);
        /* Written only on success. */
        TL_EQ(sid, 0);
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "mid", &sid), -ESRCH);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "1", &sid), -ESRCH);
}

/*
 * POE's _resolve_session tries session ids before aliases (POE/Kernel.pm
 * 595-617), so when session 1 holds the alias "2" and session 2 exists,
 * "2" names session 2.  perl printed "resolve 2 -> 2".
 */
static void test_resolve_id_before_alias(void **state)
{
        poe_sid a, b, sid = 0;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", on_start_alias_two }, { "_stop", tl_h_nop });
        b = TL_CREATE(tl.k, { "_start", on_start_b_alias }, { "_stop", tl_h_nop });
        TL_EQ(a, 1);
        TL_EQ(b, 2);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "2", &sid), 0);
        TL_EQ(sid, 2);
        /* Once session 2 is gone, the alias is all that "2" can mean. */
        TL_EQ(poe_kernel_signal(tl.k, b, "TERM", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, poe_kernel_ID_id_to_session(tl.k, b) == -ESRCH, 5);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "2", &sid), 0);
        TL_EQ(sid, 1);
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- lifetime ---- */

static poe_value on_drop(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log_ctx(c);
        TL_EQ(poe_kernel_alias_remove(k, poe_value_str(poe_ctx_arg(c, 0))), 0);
        return poe_nil();
}

static poe_value on_start_named(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "x"), 0);
        TL_EQ(poe_kernel_alias_set(k, "y"), 0);
        return poe_nil();
}

static poe_value on_start_busy(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "busy"), 0);
        return poe_nil();
}

static void test_alias_keeps_session_alive(void **state)
{
        poe_sid sid, other;
        int i;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", on_start_named }, { "drop", on_drop },
                        { "_stop", tl_h_log });
        /* A busy neighbour keeps the kernel from going idle, which would
         * end alias-held sessions with IDLE. */
        other = TL_CREATE(tl.k, { "_start", on_start_busy }, { "tick", tl_h_nop });
        for (i = 0; i < 5; i++) {
                TL_EQ(poe_kernel_post(tl.k, other, "tick", POE_NOARGS), 0);
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), 0);
                /* Only the aliases hold it. */
                TL_EQ(tl_refcnt(tl.k, sid), 2);
                TL_EQ(tl_reason(tl.k, sid, POE_REASON_ALIASES), 2);
                tl_check_kernel(tl.k);
        }
        TL_EQ(poe_kernel_post_alias(tl.k, "x", "drop", POE_ARGS(poe_str("x"))), 0);
        TL_EQ(poe_kernel_post(tl.k, other, "tick", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), 0);
        TL_EQ(tl_refcnt(tl.k, sid), 1);
        TL_EXPECT("1 drop x");
        /* The last alias goes: the session stops in that same slice. */
        TL_EQ(poe_kernel_post_alias(tl.k, "y", "drop", POE_ARGS(poe_str("y"))), 0);
        TL_EQ(poe_kernel_post(tl.k, other, "tick", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 drop y", "1 _stop");
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* A stopped session's aliases are released, and can be taken again. */
static poe_value on_start_take_x(poe_ctx *c)
{
        tl_log("%llu alias x -> %d", (unsigned long long)poe_ctx_session(c),
               poe_kernel_alias_set(poe_ctx_kernel(c), "x"));
        return poe_nil();
}

static void test_alias_released_at_stop(void **state)
{
        poe_sid a, b, sid = 0;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", on_start_take_x }, { "_stop", tl_h_nop });
        b = TL_CREATE(tl.k, { "_start", on_start_take_x }, { "_stop", tl_h_nop });
        TL_EXPECT("1 alias x -> 0", "2 alias x -> -17");
        TL_EQ(poe_kernel_signal(tl.k, a, "TERM", POE_NOARGS), 0);
        TL_RUN_UNTIL(tl.k, poe_kernel_ID_id_to_session(tl.k, a) == -ESRCH, 5);
        TL_EQ(poe_kernel_alias_resolve(tl.k, "x", &sid), -ESRCH);
        tl_check_kernel(tl.k);
        b = TL_CREATE(tl.k, { "_start", on_start_take_x }, { "_stop", tl_h_nop });
        TL_EXPECT("3 alias x -> 0");
        TL_EQ(poe_kernel_alias_resolve(tl.k, "x", &sid), 0);
        TL_EQ(sid, b);
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "TERM", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- a name given through one reused buffer ---- */

static poe_sid ra_a, ra_b;

static poe_value ra_a_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "svc"), 0);
        return poe_nil();
}

static poe_value ra_a_drop(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "svc"), 0);
        return poe_nil();
}

static poe_value ra_b_take(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "svc"), 0);
        return poe_nil();
}

static poe_value ra_hit(poe_ctx *c)
{
        tl_log("%s hit", poe_ctx_session(c) == ra_a ? "A" : "B");
        if (poe_ctx_session(c) == ra_b)
                TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "svc"), 0);
        return poe_nil();
}

static poe_value ra_driver_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char name[8];

        /* Aliases are resolved through a cache keyed by the name's
         * address: moving the alias to another session, or changing the
         * buffer's contents, must still be seen. */
        strcpy(name, "svc");
        TL_EQ(poe_kernel_post_alias(k, name, "hit", POE_NOARGS), 0);
        TL_EQ(poe_kernel_call(k, ra_a, "drop", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_call(k, ra_b, "take", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_post_alias(k, name, "hit", POE_NOARGS), 0);
        strcpy(name, "nope");
        TL_EQ(poe_kernel_post_alias(k, name, "hit", POE_NOARGS), -ESRCH);
        return poe_nil();
}

static void test_alias_name_buffer_reused(void **state)
{
        (void)state;
        ra_a = TL_CREATE(tl.k, { "_start", ra_a_start }, { "drop", ra_a_drop }, { "hit", ra_hit });
        ra_b = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "take", ra_b_take }, { "hit", ra_hit });
        TL_CREATE(tl.k, { "_start", ra_driver_start });
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_string_equal(tl_transcript(), "A hit\nB hit\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_set_remove_errors),
                TL_TEST(test_list_sorted),
                TL_TEST(test_list_many_sorted),
                TL_TEST(test_resolve),
                TL_TEST(test_resolve_id_before_alias),
                TL_TEST(test_alias_keeps_session_alive),
                TL_TEST(test_alias_released_at_stop),
                TL_TEST(test_alias_name_buffer_reused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
