/*
 * POE t/20_resources/00_base/sessions.pm: the session tree (parents,
 * children, grandchildren), the reference counts children hold on their
 * parents, moving a child to the kernel, and freeing sessions.  Upstream
 * calls POE::Resource::Sessions' private _data_ses_* on sessions it
 * allocates by hand; here the sessions are made with poe_session_create
 * (a child's from its parent's handler, reached with call()), each held
 * alive by an extra reference, and the tree is read with
 * poe_session_get_parent and poe_peek_sessions.  The kernel's own
 * session is not one poe_peek_session describes: its reference count,
 * which in POE its children make, is its number of children here.
 * _data_ses_move_child is detach_child, _data_ses_free of a childless
 * session is its last reference going, _data_ses_resolve of a session's
 * string is alias_resolve of its id written in decimal.  The private
 * calls with no public counterpart (counts changed by hand, a session
 * stopped while it has children, allocation of a session that exists or
 * under a parent that does not) are skips.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../dies.h"

#define SKIP_REF "Perl session references; a session is its id in C"

static poe_kernel *k;

static int refcount(poe_sid sid)
{
        poe_session_info info;

        return poe_peek_session(k, sid, &info) == 0 ? (int)info.refcount : -1;
}

struct kids {
        poe_sid parent;
        poe_sid ids[8];
        int n;
};

static int collect(void *ctx, const poe_session_info *s)
{
        struct kids *kids = ctx;

        if (s->parent == kids->parent && kids->n < 8)
                kids->ids[kids->n++] = s->id;
        return 0;
}

/* _data_ses_get_children: the sessions whose parent is `parent`. */
static struct kids children(poe_sid parent)
{
        struct kids kids = {.parent = parent};

        poe_peek_sessions(k, collect, &kids);
        return kids;
}

static int children_are(poe_sid parent, int n, poe_sid a, poe_sid b)
{
        struct kids kids = children(parent);

        if (kids.n != n)
                return 0;
        if (n == 1)
                return kids.ids[0] == a;
        if (n == 2)
                return (kids.ids[0] == a && kids.ids[1] == b) ||
                       (kids.ids[0] == b && kids.ids[1] == a);
        return 1;
}

static int has_child(poe_sid parent, poe_sid child)
{
        struct kids kids = children(parent);

        for (int i = 0; i < kids.n; i++)
                if (kids.ids[i] == child)
                        return 1;
        return 0;
}

static poe_sid parent_of(poe_sid sid)
{
        poe_sid parent = (poe_sid)-1;

        poe_session_get_parent(k, sid, &parent);
        return parent;
}

/* _data_ses_count: the sessions, the kernel's own included. */
static int ses_count(void)
{
        poe_kernel_info info;

        return poe_peek_kernel(k, &info) == 0 ? (int)info.sessions + 1 : -1;
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_refcount_increment(poe_ctx_kernel(c), poe_ctx_session(c), "hold");
        return poe_nil();
}

static poe_sid create(void);

static poe_value on_spawn(poe_ctx *c)
{
        (void)c;
        return poe_int((int64_t)create());
}

static poe_value on_release(poe_ctx *c)
{
        poe_kernel_refcount_decrement(poe_ctx_kernel(c), poe_ctx_session(c), "hold");
        return poe_nil();
}

static poe_value on_detach(poe_ctx *c)
{
        return poe_int(poe_kernel_detach_child(poe_ctx_kernel(c),
                                               (poe_sid)poe_value_int(poe_ctx_arg(c, 0))));
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_sid create(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},  {"_stop", nop, NULL},
                {"_child", nop, NULL},       {"_parent", nop, NULL},
                {"spawn", on_spawn, NULL},   {"release", on_release, NULL},
                {"detach", on_detach, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 7};
        poe_sid sid = 0;

        poe_session_create(k, &spec, &sid);
        return sid;
}

static poe_sid call_sid(poe_sid dest, const char *event)
{
        poe_value ret = poe_nil();
        poe_sid sid = 0;

        if (poe_kernel_call(k, dest, event, POE_NOARGS, &ret) >= 0)
                sid = (poe_sid)poe_value_int(&ret);
        poe_value_release(&ret);
        return sid;
}

/* In a forked child (../dies.h): detach_child of an id no session has,
 * from a session's handler, which ASSERT_DATA makes fatal. */
static poe_value bogus_start(poe_ctx *c)
{
        poe_kernel_detach_child(poe_ctx_kernel(c), 31415);
        return poe_nil();
}

static void detach_bogus(poe_kernel *kk)
{
        static const poe_handler h[] = {{"_start", bogus_start, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 1};

        poe_session_create(kk, &spec, NULL);
}

int main(void)
{
        poe_sid child, grand, great, sid;
        int base_kernel_refcount, base_child_refcount, base_grand_refcount;
        char name[64];

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(58);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;

        base_kernel_refcount = children(POE_KERNEL).n;
        tap_is_int(ses_count(), 1, "only POE::Kernel exists");

        child = create();
        base_child_refcount = refcount(child);
        tap_skip("trap on negative reference count",
                 "POE's private _data_ses_refcount_dec: no public call changes a session's count "
                 "by hand");
        tap_skip("negative reference count", "follows the private _data_ses_refcount_dec");
        tap_skip("incremented reference count is back to base",
                 "POE's private _data_ses_refcount_inc");
        tap_ok(poe_kernel_ID_id_to_session(k, child) == 0, "child session's ID is correct");

        tap_ok(children_are(POE_KERNEL, 1, child, 0), "POE::Kernel has only the child session");
        tap_is_int(children(POE_KERNEL).n, base_kernel_refcount + 1,
                   "POE::Kernel's refcount incremented by child");
        tap_ok(parent_of(child) == POE_KERNEL, "child's parent is POE::Kernel");
        tap_ok(has_child(POE_KERNEL, child), "child is child of POE::Kernel");
        tap_is_int(ses_count(), 2, "two sessions now");

        tap_skip("can't free POE::Kernel while it has children",
                 "POE's private _data_ses_free on the kernel: libpoe's kernel session lives as "
                 "long as the kernel");

        snprintf(name, sizeof(name), "%llu", (unsigned long long)child);
        tap_ok(poe_kernel_alias_resolve(k, name, &sid) == 0 && sid == child,
               "stringified reference resolves to blessed one");
        tap_ok(poe_kernel_alias_resolve(k, "nonexistent", &sid) == -ESRCH,
               "nonexistent stringy reference doesn't resolve");
        tap_skip("session reference resolves to ID", SKIP_REF);
        tap_skip("nonexistent session reference doesn't resolve", SKIP_REF);

        grand = call_sid(child, "spawn");
        base_grand_refcount = refcount(grand);
        tap_ok(children_are(child, 1, grand, 0), "child has only the grandchild session");
        tap_is_int(refcount(child), base_child_refcount + 1,
                   "child refcount incremented by the grandchild");
        tap_ok(parent_of(grand) == child, "grandchild's parent is child");
        tap_ok(has_child(child, grand), "grandchild is child of child");
        tap_is_int(ses_count(), 3, "three sessions now");
        tap_ok(children_are(POE_KERNEL, 1, child, 0),
               "POE::Kernel children untouched by grandchild");
        tap_is_int(children(POE_KERNEL).n, base_kernel_refcount + 1,
                   "POE::Kernel's refcount untouched by grandchild");

        great = call_sid(grand, "spawn");
        tap_ok(children_are(grand, 1, great, 0),
               "grandchild has only the great-grandchild session");
        tap_is_int(refcount(grand), base_grand_refcount + 1,
                   "grandchild refcount incremented by the great-grandchild");
        tap_ok(parent_of(great) == grand, "great-grandchild's parent is grandchild");
        /* Upstream asks about child and grandchild here, as written. */
        tap_ok(has_child(child, grand), "great-grandchild is child of grandchild");
        tap_ok(children_are(POE_KERNEL, 1, child, 0),
               "POE::Kernel children untouched by great-grandchild");
        tap_is_int(children(POE_KERNEL).n, base_kernel_refcount + 1,
                   "POE::Kernel's refcount untouched by great-grandchild");
        tap_ok(children_are(child, 1, grand, 0), "child children untouched by great-grandchild");
        tap_is_int(refcount(child), base_child_refcount + 1,
                   "child's refcount untouched by great-grandchild");
        tap_is_int(children(great).n, 0, "no great-great-grandchildren");

        /* _data_ses_move_child(grand, kernel): the child detaches it. */
        {
                poe_value ret = poe_nil();

                poe_kernel_call(k, child, "detach", POE_ARGS(poe_int((int64_t)grand)), &ret);
                poe_value_release(&ret);
        }
        tap_ok(parent_of(child) == POE_KERNEL, "child's parent is POE::Kernel");
        tap_ok(parent_of(grand) == POE_KERNEL, "grandchild's parent is POE::Kernel");
        tap_ok(has_child(POE_KERNEL, child), "POE::Kernel owns child");
        tap_ok(has_child(POE_KERNEL, grand), "POE::Kernel owns grandchild");
        tap_is_int(children(POE_KERNEL).n, base_kernel_refcount + 2,
                   "POE::Kernel refcount increased since inheriting grandchild");
        tap_is_int(children(child).n, 0, "child has no children");
        tap_is_int(refcount(child), base_child_refcount,
                   "child's refcount decreased since losing grandchild");

        /* _data_ses_free(child): its last reference goes, and the kernel
         * collects it. */
        poe_kernel_call(k, child, "release", POE_NOARGS, NULL);
        poe_kernel_run_one_timeslice(k);
        tap_ok(children_are(POE_KERNEL, 1, grand, 0), "POE::Kernel only has grandchild now");
        tap_ok(parent_of(grand) == POE_KERNEL, "grandchild's parent is POE::Kernel");
        tap_is_int(children(POE_KERNEL).n, base_kernel_refcount + 1,
                   "POE::Kernel's refcount decremented on child loss");
        {
                /* POE traps these under ASSERT_DATA; the public calls
                 * return -ESRCH, which ASSERT_RETVALS would make fatal. */
                poe_session_info info;

                poe_kernel_debug_set(k, POE_ASSERT_RETVALS, 0);
                tap_ok(poe_session_get_parent(k, child, &sid) == -ESRCH,
                       "can't get parent of nonexistent session");
                tap_ok(poe_peek_session(k, child, &info) == -ESRCH,
                       "can't get children of nonexistent session");
                tap_ok(poe_peek_session(k, child, &info) == -ESRCH,
                       "can't test is-child of nonexistent session");
                poe_kernel_debug_set(k, POE_ASSERT_RETVALS, 1);
        }

        tap_skip("POE::Kernel only has great-grandchild now",
                 "POE's private _data_ses_stop of a session that has children: no public call "
                 "stops one (a terminal signal reaches its children too)");
        tap_skip("great-grandchild's parent is POE::Kernel", "follows the private _data_ses_stop");
        tap_skip("POE::Kernel's refcount conserved", "follows the private _data_ses_stop");

        /* Garbage collection: the last references go and the kernel runs
         * until it has collected every session. */
        poe_kernel_call(k, great, "release", POE_NOARGS, NULL);
        poe_kernel_call(k, grand, "release", POE_NOARGS, NULL);
        poe_kernel_run(k);
        tap_is_int(children(POE_KERNEL).n, 0, "POE::Kernel has no children anymore");
        tap_is_int(children(POE_KERNEL).n, base_kernel_refcount,
                   "POE::Kernel's refcount back to basics");

        tap_skip("can't increment refcount for nonexistent session",
                 "POE's private _data_ses_refcount_inc");
        tap_skip("can't decrement refcount for nonexistent session",
                 "POE's private _data_ses_refcount_dec");
        tap_skip("can't stop a nonexistent session", "POE's private _data_ses_stop");
        tap_skip("can't allocate a session for an unknown parent",
                 "POE's private _data_ses_allocate: a new session's parent is the active session");
        tap_skip("can't allocate a session that's already allocated",
                 "POE's private _data_ses_allocate");
        tap_dies(k, detach_bogus, "Cannot resolve ``31415'' into a session reference",
                 "can't move nonexistent child to another parent");
        tap_skip("can't move a session to a nonexistent parent",
                 "POE's private _data_ses_move_child: detach_child always moves to the kernel");

        tap_ok(ses_count() == 1 && children(POE_KERNEL).n == 0,
               "finalized POE::Resource::Sessions");
        poe_kernel_free(k);
        return tap_done();
}
