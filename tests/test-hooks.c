/*
 * Kernel hooks (poe_kernel_hook_add, kernel/hooks.c): each registered
 * hook runs for every kernel made while it is registered, with its data,
 * and is undone with what it returned when that kernel is freed, in the
 * reverse order; removing it spares later kernels but not those that ran
 * it; a kernel that could not be made runs none; misuse is an error code.
 * The inspector's autostart, which goes through the same call, is tested
 * over HTTP (tests/inspector/test_http.py).
 */
#include <errno.h>
#include <string.h>

#include "testlib.h"

/* What the hooks saw, in order. */
#define MAX_SEEN 32
static struct seen {
        char what; /* 'n' on_new, 'f' on_free */
        poe_kernel *k;
        void *data;
        void *state;
} seen[MAX_SEEN];
static unsigned n_seen;

/* Each hook's data: a tag, and the state on_new returns for a kernel. */
struct tag {
        const char *name;
        unsigned made;
};

static void *on_new(poe_kernel *k, void *data)
{
        struct tag *t = data;

        assert_true(n_seen < MAX_SEEN);
        seen[n_seen++] = (struct seen){'n', k, data, NULL};
        t->made++;
        /* A state of the hook's own per kernel: a distinct address. */
        return (char *)t + t->made;
}

static void on_free(poe_kernel *k, void *state, void *data)
{
        assert_true(n_seen < MAX_SEEN);
        seen[n_seen++] = (struct seen){'f', k, data, state};
}

static void clear_seen(void)
{
        memset(seen, 0, sizeof(seen));
        n_seen = 0;
}

static void expect_seen(unsigned i, char what, poe_kernel *k, void *data, void *state)
{
        assert_true(i < n_seen);
        TL_EQ(seen[i].what, what);
        assert_ptr_equal(seen[i].k, k);
        assert_ptr_equal(seen[i].data, data);
        if (what == 'f')
                assert_ptr_equal(seen[i].state, state);
}

static void test_runs_for_each_kernel(void **state)
{
        struct tag a = {"a", 0}, b = {"b", 0};
        poe_kernel *k[3];
        unsigned i;

        (void)state;
        clear_seen();
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &a), 0);
        TL_EQ(poe_kernel_hook_add(on_new, NULL, &b), 0);
        for (i = 0; i < 3; i++) {
                TL_EQ(poe_kernel_new(&k[i], NULL), 0);
                /* Both hooks, in the order they were added, each with its
                 * own data, for this kernel. */
                TL_EQ(n_seen, 2 * (i + 1));
                expect_seen(2 * i, 'n', k[i], &a, NULL);
                expect_seen(2 * i + 1, 'n', k[i], &b, NULL);
        }
        TL_EQ(a.made, 3);
        TL_EQ(b.made, 3);

        /* Freed out of order: each kernel gives a's on_free what a's
         * on_new returned for it; b has no on_free. */
        clear_seen();
        poe_kernel_free(k[1]);
        TL_EQ(n_seen, 1);
        expect_seen(0, 'f', k[1], &a, (char *)&a + 2);
        poe_kernel_free(k[0]);
        poe_kernel_free(k[2]);
        TL_EQ(n_seen, 3);
        expect_seen(1, 'f', k[0], &a, (char *)&a + 1);
        expect_seen(2, 'f', k[2], &a, (char *)&a + 3);

        TL_EQ(poe_kernel_hook_remove(on_new, on_free, &a), 0);
        TL_EQ(poe_kernel_hook_remove(on_new, NULL, &b), 0);
}

/* Two hooks with on_free: undone in the reverse order of their on_new. */
static void test_free_in_reverse(void **state)
{
        struct tag a = {"a", 0}, b = {"b", 0};
        poe_kernel *k;

        (void)state;
        clear_seen();
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &a), 0);
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &b), 0);
        TL_EQ(poe_kernel_new(&k, NULL), 0);
        poe_kernel_free(k);
        TL_EQ(n_seen, 4);
        expect_seen(0, 'n', k, &a, NULL);
        expect_seen(1, 'n', k, &b, NULL);
        expect_seen(2, 'f', k, &b, (char *)&b + 1);
        expect_seen(3, 'f', k, &a, (char *)&a + 1);
        TL_EQ(poe_kernel_hook_remove(on_new, on_free, &b), 0);
        TL_EQ(poe_kernel_hook_remove(on_new, on_free, &a), 0);
}

/* Removed: kernels made after it do not run it; a kernel that ran it
 * still undoes it when freed. */
static void test_remove(void **state)
{
        struct tag a = {"a", 0};
        poe_kernel *before, *after;

        (void)state;
        clear_seen();
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &a), 0);
        TL_EQ(poe_kernel_new(&before, NULL), 0);
        TL_EQ(poe_kernel_hook_remove(on_new, on_free, &a), 0);
        TL_EQ(poe_kernel_new(&after, NULL), 0);
        TL_EQ(n_seen, 1);
        poe_kernel_free(after);
        TL_EQ(n_seen, 1);
        poe_kernel_free(before);
        TL_EQ(n_seen, 2);
        expect_seen(1, 'f', before, &a, (char *)&a + 1);
        TL_EQ(a.made, 1);
}

/* A kernel that could not be made runs no hook. */
static void test_failed_kernel_runs_none(void **state)
{
        struct tag a = {"a", 0};
        tl_alloc al;
        poe_allocator pa;
        poe_kernel *k = NULL;
        unsigned long n;
        int r;

        (void)state;
        clear_seen();
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &a), 0);
        tl_alloc_init(&al);
        pa = tl_allocator(&al);
        /* Each of poe_kernel_new's allocations failing in turn: none runs
         * the hook, then the first that succeeds runs it once. */
        for (n = 1;; n++) {
                tl_alloc_fail_nth(&al, n, false);
                r = poe_kernel_new(&k, &pa);
                if (r == 0)
                        break;
                TL_EQ(r, -ENOMEM);
                TL_EQ(n_seen, 0);
                TL_EQ(al.live_blocks, 0);
        }
        assert_true(n > 1);
        TL_EQ(n_seen, 1);
        expect_seen(0, 'n', k, &a, NULL);
        poe_kernel_free(k);
        TL_EQ(n_seen, 2);
        TL_EQ(poe_kernel_hook_remove(on_new, on_free, &a), 0);
        TL_EQ(tl_alloc_release(&al), 0);
        TL_EQ(al.live_blocks, 0);
}

/* on_new may use the kernel: here it makes a session, which runs. */
static poe_value on_start(poe_ctx *c)
{
        tl_log("_start %s", (const char *)poe_ctx_heap(c));
        return poe_nil();
}

static void *start_session(poe_kernel *k, void *data)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 1, .heap = data};
        poe_sid sid = 0;

        TL_EQ(poe_session_create(k, &spec, &sid), 0);
        assert_true(sid > 0);
        return NULL;
}

static void test_hook_uses_kernel(void **state)
{
        poe_kernel *k;

        (void)state;
        tl_transcript_clear();
        TL_EQ(poe_kernel_hook_add(start_session, NULL, "hooked"), 0);
        TL_EQ(poe_kernel_new(&k, NULL), 0);
        TL_EQ(poe_kernel_hook_remove(start_session, NULL, "hooked"), 0);
        TL_EXPECT("_start hooked");
        TL_EQ(poe_kernel_run(k), 0);
        poe_kernel_free(k);
        TL_EXPECT_NONE();
}

/* A hook may add and remove hooks (none is held while hooks run): the
 * one it adds runs for the next kernel, not this one. */
static struct tag nested = {"nested", 0};

static void *adds_a_hook(poe_kernel *k, void *data)
{
        (void)k;
        (void)data;
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &nested), 0);
        TL_EQ(poe_kernel_hook_remove(adds_a_hook, NULL, NULL), 0);
        return NULL;
}

static void test_hook_adds_hook(void **state)
{
        poe_kernel *k1, *k2;

        (void)state;
        clear_seen();
        TL_EQ(poe_kernel_hook_add(adds_a_hook, NULL, NULL), 0);
        TL_EQ(poe_kernel_new(&k1, NULL), 0);
        TL_EQ(n_seen, 0);
        TL_EQ(poe_kernel_new(&k2, NULL), 0);
        TL_EQ(n_seen, 1);
        expect_seen(0, 'n', k2, &nested, NULL);
        poe_kernel_free(k1);
        TL_EQ(n_seen, 1);
        poe_kernel_free(k2);
        TL_EQ(n_seen, 2);
        TL_EQ(poe_kernel_hook_remove(on_new, on_free, &nested), 0);
        TL_EQ(poe_kernel_hook_remove(adds_a_hook, NULL, NULL), -ENOENT);
}

static void test_misuse(void **state)
{
        struct tag t[9];
        unsigned i;

        (void)state;
        TL_EQ(poe_kernel_hook_add(NULL, on_free, NULL), -EINVAL);
        TL_EQ(poe_kernel_hook_remove(NULL, on_free, NULL), -EINVAL);
        TL_EQ(poe_kernel_hook_remove(on_new, on_free, NULL), -ENOENT);

        /* The same three values twice: -EEXIST; any one different is
         * another hook. */
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &t[0]), 0);
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &t[0]), -EEXIST);
        TL_EQ(poe_kernel_hook_add(on_new, NULL, &t[0]), 0);
        TL_EQ(poe_kernel_hook_remove(on_new, NULL, &t[0]), 0);
        TL_EQ(poe_kernel_hook_remove(on_new, NULL, &t[0]), -ENOENT);

        /* 8 at once, no more. */
        for (i = 1; i < 8; i++)
                TL_EQ(poe_kernel_hook_add(on_new, on_free, &t[i]), 0);
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &t[8]), -ENOSPC);
        TL_EQ(poe_kernel_hook_remove(on_new, on_free, &t[3]), 0);
        TL_EQ(poe_kernel_hook_add(on_new, on_free, &t[8]), 0);
        for (i = 0; i < 9; i++)
                TL_EQ(poe_kernel_hook_remove(on_new, on_free, &t[i]), i == 3 ? -ENOENT : 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runs_for_each_kernel),
                cmocka_unit_test(test_free_in_reverse),
                cmocka_unit_test(test_remove),
                cmocka_unit_test(test_failed_kernel_runs_none),
                cmocka_unit_test(test_hook_uses_kernel),
                cmocka_unit_test(test_hook_adds_hook),
                cmocka_unit_test(test_misuse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
