/*
 * POE t/20_resources/00_base/extrefs.pm: extra references (tags) on a
 * session, their counts, and the session's reference count as they come
 * and go.  Upstream calls POE::Resource::Extrefs' private _data_extref_*
 * on the kernel's own session; here a session does the same from its
 * _start through poe_kernel_refcount_increment and _decrement, and the
 * counts are read with poe_peek_session (reasons[POE_REASON_EXTREFS] is
 * _data_extref_count_ses).  _data_extref_remove (a tag dropped whatever
 * its count) and _data_extref_clear_session (all of them), which POE
 * runs when a session stops, are the session decrementing its tags to
 * zero; their traps have no public counterpart and are skips.
 * ASSERT_DATA's traps on decrementing a tag the session does not hold
 * are fatal, so those calls run in forked children (../dies.h).
 */
#include <stdlib.h>

#include <poe/poe.h>

#include "../dies.h"

static poe_sid me;

static int refcount(poe_kernel *k, poe_sid sid)
{
        poe_session_info info;

        return poe_peek_session(k, sid, &info) == 0 ? (int)info.refcount : -1;
}

static int count_ses(poe_kernel *k, poe_sid sid)
{
        poe_session_info info;

        return poe_peek_session(k, sid, &info) == 0 ? (int)info.reasons[POE_REASON_EXTREFS] : 0;
}

static int has_extrefs(void *ctx, const poe_session_info *s)
{
        *(int *)ctx += s->reasons[POE_REASON_EXTREFS] > 0;
        return 0;
}

static int extref_count(poe_kernel *k)
{
        int n = 0;

        poe_peek_sessions(k, has_extrefs, &n);
        return n;
}

/* _data_extref_remove: the tag goes whatever its count. */
static void remove_tag(poe_kernel *k, const char *tag)
{
        while (poe_kernel_refcount_decrement(k, me, tag) > 0)
                ;
}

static void dec_nonexistent(poe_kernel *k)
{
        poe_kernel_refcount_decrement(k, me, "nonexistent");
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int base;

        me = poe_ctx_session(c);
        base = refcount(k, me);
        tap_is_int(poe_kernel_refcount_increment(k, me, "tag-1"), 1, "tag-1 incremented to 1");
        tap_is_int(poe_kernel_refcount_increment(k, me, "tag-1"), 2, "tag-1 incremented to 2");
        tap_is_int(refcount(k, me), base + 1, "POE::Kernel properly counts tag-1 extra reference");
        tap_skip(
                "can't remove nonexistent tag from a session",
                "POE's private _data_extref_remove: no public call drops a tag whatever its count");
        tap_is_int(refcount(k, me), base + 1, "POE::Kernel reference count unchanged");

        remove_tag(k, "tag-1");
        tap_is_int(refcount(k, me), base, "clear reset reference count to baseline");
        tap_is_int(poe_kernel_refcount_increment(k, me, "tag-1"), 1,
                   "tag-1 count cleared/incremented to 1");
        tap_is_int(refcount(k, me), base + 1, "increment after clear");

        tap_is_int(poe_kernel_refcount_increment(k, me, "tag-2"), 1, "tag-2 incremented to 1");
        tap_is_int(refcount(k, me), base + 2,
                   "POE::Kernel reference count incremented with new tag");

        remove_tag(k, "tag-1"); /* _data_extref_clear_session */
        remove_tag(k, "tag-2");
        tap_is_int(refcount(k, me), base, "clearing all extrefs brings count to baseline");
        tap_skip(
                "can't remove tag from a session without any",
                "POE's private _data_extref_remove: no public call drops a tag whatever its count");

        tap_is_int(poe_kernel_refcount_increment(k, me, "tag-1"), 1, "tag-1 incremented back to 1");
        tap_is_int(poe_kernel_refcount_increment(k, me, "tag-2"), 1, "tag-2 incremented back to 1");
        tap_is_int(poe_kernel_refcount_increment(k, me, "tag-2"), 2, "tag-2 incremented back to 2");
        tap_is_int(extref_count(k), 1, "only one session has extra references");
        tap_is_int(count_ses(k, me), 2, "POE::Kernel has two extra references");
        tap_is_int(count_ses(k, 31415), 0, "nonexistent session has no extra references");

        tap_dies(k, dec_nonexistent, "decrementing extref for nonexistent tag",
                 "can't decrement an extref if a session doesn't have it");

        tap_is_int(poe_kernel_refcount_decrement(k, me, "tag-1"), 0, "tag-1 decremented to 0");
        tap_is_int(count_ses(k, me), 1, "POE::Kernel has one extra reference");
        tap_is_int(refcount(k, me), base + 1,
                   "POE::Kernel reference count decremented along with tag");

        tap_is_int(poe_kernel_refcount_decrement(k, me, "tag-2"), 1, "tag-2 decremented to 1");
        tap_is_int(count_ses(k, me), 1, "POE::Kernel still has one extra reference");
        tap_is_int(refcount(k, me), base + 1, "POE::Kernel reference count not decremented yet");

        tap_is_int(poe_kernel_refcount_decrement(k, me, "tag-2"), 0, "tag-2 decremented to 0");
        tap_is_int(count_ses(k, me), 0, "POE::Kernel has no extra references");
        tap_is_int(refcount(k, me), base, "POE::Kernel reference count decremented again");

        tap_dies(k, dec_nonexistent, "decrementing extref for session without any",
                 "can't decrement an extref if a session doesn't have any");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 1};
        poe_kernel_info info;
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(31);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_ok(poe_peek_kernel(k, &info) == 0 && info.sessions == 0 && extref_count(k) == 0,
               "POE::Resource::Extrefs finalized ok");
        poe_kernel_free(k);
        return tap_done();
}
