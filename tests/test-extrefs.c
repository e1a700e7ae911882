/*
 * Extra references: refcount_increment and refcount_decrement return the
 * tag's new count (POE/Kernel.pm, subs refcount_increment and
 * refcount_decrement), fail with ESRCH for sessions that do not exist,
 * and hold their session alive exactly while a tag's count is above
 * zero.  libpoe answers ENOENT for a tag the session does not hold,
 * where POE traps (under ASSERT_DATA) or goes negative.
 */
#include <errno.h>

#include "testlib.h"

#include "internal.h"

static void test_counts(void **state)
{
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "a"), 1);
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "a"), 2);
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "b"), 1);
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "a"), 3);
        /* One reason per tag, whatever its count. */
        TL_EQ(tl_reason(tl.k, sid, POE_REASON_EXTREFS), 2);
        tl_check_kernel(tl.k);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "a"), 2);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "b"), 0);
        /* At zero the tag is gone. */
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "b"), -ENOENT);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "never"), -ENOENT);
        TL_EQ(tl_reason(tl.k, sid, POE_REASON_EXTREFS), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "a"), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "a"), 0);
        TL_EQ(tl_reason(tl.k, sid, POE_REASON_EXTREFS), 0);
        /* A tag can come back after it went. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "b"), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "b"), 0);
        tl_check_kernel(tl.k);
        /* Nothing else holds it: the GC event finishes it. */
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _stop");
}

static void test_errors(void **state)
{
        poe_sid sid;

        (void)state;
        TL_EQ(poe_kernel_refcount_increment(tl.k, 1, "a"), -ESRCH);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, 1, "a"), -ESRCH);
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, NULL), -EINVAL);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, NULL), -EINVAL);
        TL_EQ(poe_kernel_refcount_increment(NULL, sid, "a"), -EINVAL);
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid + 1, "a"), -ESRCH);
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* A stale id. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "a"), -ESRCH);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "a"), -ESRCH);
}

/* A tag is a string compared by content, copied when first used. */
static void test_tags_are_copied(void **state)
{
        char tag[8] = "tag";
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, tag), 1);
        tag[0] = 'x';
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "tag"), 2);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, tag), -ENOENT);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "tag"), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "tag"), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* ---- lifetime ---- */

static poe_value on_start_hold(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_refcount_increment(k, poe_ctx_session(c), "held"), 1);
        return poe_nil();
}

static poe_value on_release(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tl_log_ctx(c);
        TL_EQ(poe_kernel_refcount_decrement(k, poe_ctx_session(c), "held"), 0);
        return poe_nil();
}

static poe_value on_start_tick(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "ticker"), 0);
        return poe_nil();
}

static void test_extref_keeps_session_alive(void **state)
{
        poe_sid sid, ticker;
        int i;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", on_start_hold }, { "release", on_release },
                        { "_stop", tl_h_log });
        /* With a session held by an extra reference, the kernel is not
         * idle: with nothing queued it would wait for the outside world.
         * A ticking neighbour keeps every timeslice short. */
        ticker = TL_CREATE(tl.k, { "_start", on_start_tick }, { "tick", tl_h_nop });
        for (i = 0; i < 5; i++) {
                TL_EQ(poe_kernel_post(tl.k, ticker, "tick", POE_NOARGS), 0);
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), 0);
                TL_EQ(tl_refcnt(tl.k, sid), 1);
                TL_EQ(tl_reason(tl.k, sid, POE_REASON_EXTREFS), 1);
                tl_check_kernel(tl.k);
        }
        /* Outside code may hold it too; the count is per tag. */
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "outside"), 1);
        TL_EQ(poe_kernel_post(tl.k, sid, "release", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 release");
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), 0);
        TL_EQ(tl_refcnt(tl.k, sid), 1);
        /* The last reference dropped from outside: the session is
         * marked, and the sweep at the end of the next slice stops it. */
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "outside"), 0);
        TL_EQ(tl_refcnt(tl.k, sid), 0);
        TL_EQ(poe_kernel_post(tl.k, ticker, "tick", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 _stop");
        TL_EQ(poe_kernel_ID_id_to_session(tl.k, sid), -ESRCH);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

/* Stopping a session drops its tags however high their counts are. */
static void test_extrefs_dropped_at_stop(void **state)
{
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", on_start_hold }, { "_stop", tl_h_log });
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "held"), 2);
        TL_EQ(poe_kernel_refcount_increment(tl.k, sid, "more"), 1);
        TL_EQ(poe_kernel_signal(tl.k, sid, "KILL", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EXPECT("1 _stop");
        TL_EQ(poe_kernel_refcount_decrement(tl.k, sid, "held"), -ESRCH);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_counts),
                TL_TEST(test_errors),
                TL_TEST(test_tags_are_copied),
                TL_TEST(test_extref_keeps_session_alive),
                TL_TEST(test_extrefs_dropped_at_stop),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
