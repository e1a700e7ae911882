/*
 * The internal hash maps (map.h): string keys and 64-bit keys, linear
 * probing with backward-shift deletion.  Deletion without tombstones is
 * the delicate part: every deletion must pull the rest of its probe run
 * back so that no remaining key becomes unreachable.  So every test
 * deletes in many orders and checks every key after every step.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

#include "internal.h"

#define N 2000

static char keys[N][24];
static size_t order[N];

/* A small deterministic PRNG, so a failing order can be reproduced. */
static uint64_t rng_state;

static uint64_t rng(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static void shuffle(size_t *v, size_t n, uint64_t seed)
{
        size_t i;

        rng_state = seed * 2654435761u + 1;
        for (i = 0; i < n; i++)
                v[i] = i;
        for (i = n; i > 1; i--) {
                size_t j = (size_t)(rng() % i), t = v[i - 1];

                v[i - 1] = v[j];
                v[j] = t;
        }
}

static void *val(size_t i)
{
        return (void *)(uintptr_t)(i + 1);
}

static void make_keys(size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                snprintf(keys[i], sizeof(keys[i]), "key-%u", (unsigned)(i % 100000000u));
}

/* The table never runs fuller than 3/4 and its size is a power of two. */
static void check_smap_shape(const poe__smap *m)
{
        size_t cap = m->mask + 1, i, used = 0;

        assert_true((cap & (cap - 1)) == 0);
        assert_true(m->count * 4 <= cap * 3);
        for (i = 0; i < cap; i++)
                if (m->slots[i].key)
                        used++;
        TL_EQ(used, m->count);
}

static void check_imap_shape(const poe__imap *m)
{
        size_t cap = m->mask + 1, i, used = 0;

        assert_true((cap & (cap - 1)) == 0);
        assert_true(m->count * 4 <= cap * 3);
        for (i = 0; i < cap; i++)
                if (m->slots[i].value)
                        used++;
        TL_EQ(used, m->count);
}

static void test_smap_basic(void **state)
{
        poe__smap m = { 0 };
        char probe[8];

        (void)state;
        /* An empty map answers lookups and deletions. */
        assert_null(poe__smap_get(&m, "x"));
        assert_null(poe__smap_del(&m, "x"));

        TL_EQ(poe__smap_put(tl.k, &m, "a", val(1)), 0);
        TL_EQ(poe__smap_put(tl.k, &m, "b", val(2)), 0);
        TL_EQ(m.count, 2);
        assert_ptr_equal(poe__smap_get(&m, "a"), val(1));
        assert_ptr_equal(poe__smap_get(&m, "b"), val(2));
        /* Lookups compare contents, not pointers. */
        strcpy(probe, "a");
        assert_ptr_equal(poe__smap_get(&m, probe), val(1));
        assert_null(poe__smap_get(&m, "c"));
        assert_null(poe__smap_get(&m, ""));

        /* Putting an existing key replaces its value. */
        TL_EQ(poe__smap_put(tl.k, &m, "a", val(10)), 0);
        TL_EQ(m.count, 2);
        assert_ptr_equal(poe__smap_get(&m, "a"), val(10));

        /* The empty string is a key like any other. */
        TL_EQ(poe__smap_put(tl.k, &m, "", val(3)), 0);
        assert_ptr_equal(poe__smap_get(&m, ""), val(3));

        assert_ptr_equal(poe__smap_del(&m, "a"), val(10));
        assert_null(poe__smap_get(&m, "a"));
        assert_null(poe__smap_del(&m, "a"));
        TL_EQ(m.count, 2);
        poe__smap_free(tl.k, &m);
        TL_EQ(m.count, 0);
        assert_null(m.slots);
        /* A freed map is empty and usable again. */
        assert_null(poe__smap_get(&m, "b"));
        TL_EQ(poe__smap_put(tl.k, &m, "b", val(2)), 0);
        poe__smap_free(tl.k, &m);
}

static void smap_check_all(const poe__smap *m, const bool *present, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                void *v = poe__smap_get(m, keys[i]);

                if (present[i] ? v != val(i) : v != NULL)
                        fail_msg("key %s: %s", keys[i], present[i] ? "lost" : "still found");
        }
}

static void test_smap_growth_and_random_deletion(void **state)
{
        static bool present[N];
        poe__smap m = { 0 };
        uint64_t seed;
        size_t i, last_cap = 0, grows = 0;

        (void)state;
        make_keys(N);
        for (seed = 1; seed <= 6; seed++) {
                for (i = 0; i < N; i++) {
                        TL_EQ(poe__smap_put(tl.k, &m, keys[i], val(i)), 0);
                        present[i] = true;
                        if (m.mask + 1 != last_cap) {
                                grows++;
                                last_cap = m.mask + 1;
                                smap_check_all(&m, present, i + 1);
                        }
                }
                TL_EQ(m.count, N);
                check_smap_shape(&m);
                smap_check_all(&m, present, N);

                /* Delete in a random order, checking every key after each
                 * of the first deletions and then at intervals (the full
                 * check is O(n) per step). */
                shuffle(order, N, seed);
                for (i = 0; i < N; i++) {
                        size_t k = order[i];

                        assert_ptr_equal(poe__smap_del(&m, keys[k]), val(k));
                        present[k] = false;
                        TL_EQ(m.count, N - i - 1);
                        if (i < 200 || i % 37 == 0 || N - i < 50)
                                smap_check_all(&m, present, N);
                }
                TL_EQ(m.count, 0);
        }
        /* The table doubled from 16 until 2000 keys fit at 3/4 load. */
        assert_true(grows >= 8);
        TL_EQ(last_cap, 4096);
        poe__smap_free(tl.k, &m);
}

/* Interleaved inserts and deletes keep every probe run intact, also
 * when runs wrap around the end of a small table. */
static void test_smap_churn_small_table(void **state)
{
        static bool present[64];
        poe__smap m = { 0 };
        int step;

        (void)state;
        make_keys(64);
        memset(present, 0, sizeof(present));
        rng_state = 99;
        for (step = 0; step < 20000; step++) {
                size_t k = (size_t)(rng() % 20); /* 20 keys in 16..32 slots */

                if (present[k]) {
                        assert_ptr_equal(poe__smap_del(&m, keys[k]), val(k));
                        present[k] = false;
                } else {
                        TL_EQ(poe__smap_put(tl.k, &m, keys[k], val(k)), 0);
                        present[k] = true;
                }
                smap_check_all(&m, present, 20);
        }
        check_smap_shape(&m);
        poe__smap_free(tl.k, &m);
}

static void test_smap_put_enomem_leaves_map_unchanged(void **state)
{
        static bool present[N];
        poe__smap m = { 0 };
        size_t i;

        (void)state;
        make_keys(13);
        /* The first put allocates; failing it leaves an empty map. */
        tl_alloc_fail_nth(&tl.alloc, 1, false);
        TL_EQ(poe__smap_put(tl.k, &m, keys[0], val(0)), -ENOMEM);
        TL_EQ(m.count, 0);
        assert_null(poe__smap_get(&m, keys[0]));

        /* Twelve keys fill 16 slots to 3/4; the thirteenth must grow. */
        for (i = 0; i < 12; i++) {
                TL_EQ(poe__smap_put(tl.k, &m, keys[i], val(i)), 0);
                present[i] = true;
        }
        TL_EQ(m.mask + 1, 16);
        tl_alloc_fail_nth(&tl.alloc, 1, false);
        TL_EQ(poe__smap_put(tl.k, &m, keys[12], val(12)), -ENOMEM);
        TL_EQ(m.count, 12);
        TL_EQ(m.mask + 1, 16);
        smap_check_all(&m, present, 13);
        /* Replacing an existing key needs no memory. */
        tl_alloc_fail_nth(&tl.alloc, 1, true);
        TL_EQ(poe__smap_put(tl.k, &m, keys[3], val(3)), 0);
        tl_alloc_disarm(&tl.alloc);
        TL_EQ(poe__smap_put(tl.k, &m, keys[12], val(12)), 0);
        present[12] = true;
        smap_check_all(&m, present, 13);
        poe__smap_free(tl.k, &m);
}

/* ---- integer keys ---- */

static uint64_t ikey(size_t i, int pattern)
{
        switch (pattern) {
        case 0:
                return i; /* session ids: 0, 1, 2, ... */
        case 1:
                return (uint64_t)i << 32; /* only high bits differ */
        case 2:
                return UINT64_MAX - i;
        default:
                return (uint64_t)i * 0x9e3779b97f4a7c15ULL;
        }
}

static void imap_check_all(const poe__imap *m, const bool *present, size_t n, int pattern)
{
        size_t i;

        for (i = 0; i < n; i++) {
                void *v = poe__imap_get(m, ikey(i, pattern));

                if (present[i] ? v != val(i) : v != NULL)
                        fail_msg("key %llu (pattern %d): %s",
                                 (unsigned long long)ikey(i, pattern), pattern,
                                 present[i] ? "lost" : "still found");
        }
}

static void test_imap_basic(void **state)
{
        poe__imap m = { 0 };

        (void)state;
        assert_null(poe__imap_get(&m, 0));
        assert_null(poe__imap_del(&m, 0));
        /* Key 0 is the kernel's session id: it must work. */
        TL_EQ(poe__imap_put(tl.k, &m, 0, val(0)), 0);
        TL_EQ(poe__imap_put(tl.k, &m, UINT64_MAX, val(1)), 0);
        assert_ptr_equal(poe__imap_get(&m, 0), val(0));
        assert_ptr_equal(poe__imap_get(&m, UINT64_MAX), val(1));
        assert_null(poe__imap_get(&m, 1));
        TL_EQ(poe__imap_put(tl.k, &m, 0, val(5)), 0);
        TL_EQ(m.count, 2);
        assert_ptr_equal(poe__imap_get(&m, 0), val(5));
        assert_ptr_equal(poe__imap_del(&m, 0), val(5));
        assert_null(poe__imap_get(&m, 0));
        TL_EQ(m.count, 1);
        poe__imap_free(tl.k, &m);
        TL_EQ(m.count, 0);
}

static void test_imap_growth_and_random_deletion(void **state)
{
        static bool present[N];
        poe__imap m = { 0 };
        int pattern;
        size_t i;

        (void)state;
        for (pattern = 0; pattern < 4; pattern++) {
                for (i = 0; i < N; i++) {
                        TL_EQ(poe__imap_put(tl.k, &m, ikey(i, pattern), val(i)), 0);
                        present[i] = true;
                }
                TL_EQ(m.count, N);
                check_imap_shape(&m);
                imap_check_all(&m, present, N, pattern);
                shuffle(order, N, (uint64_t)pattern + 11);
                for (i = 0; i < N; i++) {
                        size_t k = order[i];

                        assert_ptr_equal(poe__imap_del(&m, ikey(k, pattern)), val(k));
                        present[k] = false;
                        if (i < 200 || i % 41 == 0 || N - i < 50)
                                imap_check_all(&m, present, N, pattern);
                }
                TL_EQ(m.count, 0);
                /* Deleting in ascending and descending order too. */
                for (i = 0; i < 500; i++)
                        TL_EQ(poe__imap_put(tl.k, &m, ikey(i, pattern), val(i)), 0);
                for (i = 0; i < 500; i += 2)
                        assert_ptr_equal(poe__imap_del(&m, ikey(i, pattern)), val(i));
                for (i = 499; i < 500; i -= 2)
                        assert_ptr_equal(poe__imap_del(&m, ikey(i, pattern)), val(i));
                TL_EQ(m.count, 0);
        }
        poe__imap_free(tl.k, &m);
}

/* ---- pointer sets: values that hold their own pkeys ---- */

typedef struct pkey {
        uint64_t key;
} pkey;

static size_t pkey_hash(const void *v)
{
        return poe__mix64(((const pkey *)v)->key);
}

static pkey *pmap_get(const poe__pmap *m, uint64_t key)
{
        size_t i;

        if (!m->slots)
                return NULL;
        for (i = poe__mix64(key) & m->mask;; i = (i + 1) & m->mask) {
                pkey *p = m->slots[i];

                if (!p || p->key == key)
                        return p;
        }
}

static void test_pmap_growth_and_random_deletion(void **state)
{
        static pkey pkeys[N];
        static bool present[N];
        poe__pmap m = {0};
        size_t i, j, cap;
        int pattern;

        (void)state;
        for (pattern = 0; pattern < 4; pattern++) {
                for (i = 0; i < N; i++) {
                        pkeys[i].key = ikey(i, pattern);
                        TL_EQ(poe__pmap_reserve(tl.k, &m, pkey_hash), 0);
                        poe__pmap_insert_reserved(&m, &pkeys[i], pkey_hash(&pkeys[i]));
                        present[i] = true;
                }
                TL_EQ(m.count, N);
                cap = m.mask + 1;
                assert_true((cap & (cap - 1)) == 0 && m.count * 4 <= cap * 3);
                shuffle(order, N, (uint64_t)pattern + 17);
                for (i = 0; i < N; i++) {
                        poe__pmap_remove(&m, &pkeys[order[i]], pkey_hash);
                        present[order[i]] = false;
                        /* Removing what is absent changes nothing. */
                        poe__pmap_remove(&m, &pkeys[order[i]], pkey_hash);
                        if (i < 200 || i % 41 == 0 || N - i < 50)
                                for (j = 0; j < N; j++)
                                        if (pmap_get(&m, pkeys[j].key) !=
                                            (present[j] ? &pkeys[j] : NULL))
                                                fail_msg("key %llu (pattern %d): %s",
                                                         (unsigned long long)pkeys[j].key, pattern,
                                                         present[j] ? "lost" : "still found");
                }
                TL_EQ(m.count, 0);
        }
        poe__pmap_free(tl.k, &m);
        assert_null(pmap_get(&m, 0));
}

static void test_pmap_reserve_enomem_leaves_set_unchanged(void **state)
{
        static pkey pkeys[12];
        poe__pmap m = {0};
        size_t i;

        (void)state;
        for (i = 0; i < 12; i++) {
                pkeys[i].key = i;
                TL_EQ(poe__pmap_reserve(tl.k, &m, pkey_hash), 0);
                poe__pmap_insert_reserved(&m, &pkeys[i], pkey_hash(&pkeys[i]));
        }
        /* The 13th needs a bigger table: its allocation fails. */
        TL_EQ(m.mask + 1, 16);
        tl_alloc_fail_nth(&tl.alloc, 1, false);
        TL_EQ(poe__pmap_reserve(tl.k, &m, pkey_hash), -ENOMEM);
        tl_alloc_disarm(&tl.alloc);
        TL_EQ(m.count, 12);
        TL_EQ(m.mask + 1, 16);
        for (i = 0; i < 12; i++)
                assert_ptr_equal(pmap_get(&m, i), &pkeys[i]);
        poe__pmap_free(tl.k, &m);
}

static void test_imap_churn_small_table(void **state)
{
        static bool present[32];
        poe__imap m = { 0 };
        int step;

        (void)state;
        memset(present, 0, sizeof(present));
        rng_state = 7;
        for (step = 0; step < 20000; step++) {
                size_t k = (size_t)(rng() % 20);

                if (present[k]) {
                        assert_ptr_equal(poe__imap_del(&m, ikey(k, 0)), val(k));
                        present[k] = false;
                } else {
                        TL_EQ(poe__imap_put(tl.k, &m, ikey(k, 0), val(k)), 0);
                        present[k] = true;
                }
                imap_check_all(&m, present, 20, 0);
        }
        check_imap_shape(&m);
        poe__imap_free(tl.k, &m);
}

/* imap_reserve makes room so that the next put cannot fail, which the
 * kernel relies on when it must not fail half-way (session creation). */
static void test_imap_reserve(void **state)
{
        static bool present[64];
        poe__imap m = { 0 };
        size_t i;

        (void)state;
        for (i = 0; i < 40; i++) {
                TL_EQ(poe__imap_reserve(tl.k, &m), 0);
                tl_alloc_fail_nth(&tl.alloc, 1, true);
                TL_EQ(poe__imap_put(tl.k, &m, i, val(i)), 0);
                tl_alloc_disarm(&tl.alloc);
                present[i] = true;
        }
        imap_check_all(&m, present, 40, 0);

        /* A failed reserve or put leaves the map as it was. */
        while ((m.count + 1) * 4 <= (m.mask + 1) * 3) {
                TL_EQ(poe__imap_put(tl.k, &m, i, val(i)), 0);
                present[i++] = true;
        }
        tl_alloc_fail_nth(&tl.alloc, 1, false);
        TL_EQ(poe__imap_reserve(tl.k, &m), -ENOMEM);
        tl_alloc_fail_nth(&tl.alloc, 1, false);
        TL_EQ(poe__imap_put(tl.k, &m, i, val(i)), -ENOMEM);
        imap_check_all(&m, present, i + 1, 0);
        TL_EQ(m.count, i);
        poe__imap_free(tl.k, &m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(test_smap_basic),
                TL_TEST(test_smap_growth_and_random_deletion),
                TL_TEST(test_smap_churn_small_table),
                TL_TEST(test_smap_put_enomem_leaves_map_unchanged),
                TL_TEST(test_imap_basic),
                TL_TEST(test_imap_growth_and_random_deletion),
                TL_TEST(test_imap_churn_small_table),
                TL_TEST(test_imap_reserve),
                TL_TEST(test_pmap_growth_and_random_deletion),
                TL_TEST(test_pmap_reserve_enomem_leaves_set_unchanged),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
