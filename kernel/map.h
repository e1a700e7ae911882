/*
 * Two small open-addressing hash maps with linear probing and
 * backward-shift deletion (no tombstones): string keys (aliases, event
 * names) and 64-bit integer keys (session ids).  Lookups are O(1)
 * expected; growth doubles the table and rehashes, O(n) amortised.
 * Keys are borrowed: the caller keeps a string key alive while it is in
 * the map (the values own their keys in every use here).
 */
#ifndef POE_MAP_H
#define POE_MAP_H

#include <stddef.h>
#include <stdint.h>

struct poe_kernel;

typedef struct poe__smap_slot {
        const char *key; /* NULL: empty */
        uint32_t hash;
        void *value;
} poe__smap_slot;

typedef struct poe__smap {
        poe__smap_slot *slots;
        size_t mask;
        size_t count;
} poe__smap;

typedef struct poe__imap_slot {
        uint64_t key;
        void *value; /* NULL: empty */
} poe__imap_slot;

typedef struct poe__imap {
        poe__imap_slot *slots;
        size_t mask;
        size_t count;
} poe__imap;

/*
 * A set of pointers whose values hold their own keys (sessions their
 * ids, aliases their names): a slot is one pointer, 8 bytes where a
 * key and value pair takes 16 or 24, at the price of reading the value
 * to compare a probed slot (the caller's lookup loop: NULL ends a probe
 * run).  hash gives a value's home: the same function the lookup uses on
 * the key.  Linear probing, growth at 3/4, backward-shift deletion.
 */
typedef struct poe__pmap {
        void **slots;
        size_t mask;
        size_t count;
} poe__pmap;

typedef size_t (*poe__pmap_hash_fn)(const void *value);

/* Makes room for one more value now, so the next insert cannot fail:
 * 0 or -ENOMEM (the set is unchanged). */
int poe__pmap_grow(struct poe_kernel *k, poe__pmap *m, poe__pmap_hash_fn hash);
/* Inline for its common case, room already there (a session's create). */
static inline int poe__pmap_reserve(struct poe_kernel *k, poe__pmap *m, poe__pmap_hash_fn hash)
{
        if (__builtin_expect(m->slots && (m->count + 1) * 4 <= (m->mask + 1) * 3, 1))
                return 0;
        return poe__pmap_grow(k, m, hash);
}
/* Adds a value known to be absent, after poe__pmap_reserve. */
static inline void poe__pmap_insert_reserved(poe__pmap *m, void *value, size_t hash)
{
        size_t i;

        for (i = hash & m->mask; m->slots[i]; i = (i + 1) & m->mask)
                ;
        m->slots[i] = value;
        m->count++;
}
/* Removes this value (by address), if present.  Inline, so that hash
 * is a direct call its caller inlines, not a call through a pointer for
 * the value and again for each value after it in its probe run (a
 * session's stop: ~60 instructions -> ~35). */
static inline void poe__pmap_remove(poe__pmap *m, const void *value, poe__pmap_hash_fn hash)
{
        size_t i, j;

        if (!m->slots)
                return;
        for (i = hash(value) & m->mask; m->slots[i] != value; i = (i + 1) & m->mask)
                if (!m->slots[i])
                        return;
        for (j = (i + 1) & m->mask; m->slots[j]; j = (j + 1) & m->mask) {
                size_t home = hash(m->slots[j]) & m->mask;

                if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
                        m->slots[i] = m->slots[j];
                        i = j;
                }
        }
        m->slots[i] = NULL;
        m->count--;
}
void poe__pmap_free(struct poe_kernel *k, poe__pmap *m);

uint32_t poe__hash_str(const char *s);

/* The 64-bit mix the integer maps use (a session id's home); inline, as
 * every lookup of a session by id starts with it. */
static inline size_t poe__mix64(uint64_t x)
{
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return (size_t)x;
}

void *poe__smap_get(const poe__smap *m, const char *key);
/* 0, or -ENOMEM (the map is unchanged).  Replaces an existing key. */
int poe__smap_put(struct poe_kernel *k, poe__smap *m, const char *key, void *value);
void *poe__smap_del(poe__smap *m, const char *key);
void poe__smap_free(struct poe_kernel *k, poe__smap *m);

void *poe__imap_get(const poe__imap *m, uint64_t key);
int poe__imap_put(struct poe_kernel *k, poe__imap *m, uint64_t key, void *value);
void *poe__imap_del(poe__imap *m, uint64_t key);
void poe__imap_free(struct poe_kernel *k, poe__imap *m);
/* Makes room for one more entry now, so the next put cannot fail. */
int poe__imap_reserve(struct poe_kernel *k, poe__imap *m);
/* The same for n more entries. */
int poe__imap_reserve_n(struct poe_kernel *k, poe__imap *m, size_t n);
/* Adds a key known to be absent, after poe__imap_reserve: one probe. */
void poe__imap_insert_reserved(poe__imap *m, uint64_t key, void *value);
/* Gives a key known to be present a new value: no memory, cannot fail. */
void poe__imap_replace(poe__imap *m, uint64_t key, void *value);

#endif
