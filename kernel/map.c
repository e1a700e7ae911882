/* Hash maps: see map.h for the contract and costs. */
#include <string.h>

#include "internal.h"

/* FNV-1a: short keys, no adversary inside one process. */
uint32_t poe__hash_str(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

static size_t mix64(uint64_t x)
{
        return poe__mix64(x);
}

/* ---- pointer sets ---- */

/* poe__pmap_reserve's growth: twice the slots (16 at first), every
 * value inserted again. */
int poe__pmap_grow(poe_kernel *k, poe__pmap *m, poe__pmap_hash_fn hash)
{
        size_t cap, i;
        poe__pmap old = *m;

        cap = m->slots ? (m->mask + 1) * 2 : 16;
        m->slots = poe__calloc(k, cap, sizeof(*m->slots));
        if (!m->slots) {
                *m = old;
                return -ENOMEM;
        }
        m->mask = cap - 1;
        m->count = 0;
        for (i = 0; old.slots && i <= old.mask; i++)
                if (old.slots[i])
                        poe__pmap_insert_reserved(m, old.slots[i], hash(old.slots[i]));
        poe__free(k, old.slots);
        return 0;
}

void poe__pmap_free(poe_kernel *k, poe__pmap *m)
{
        poe__free(k, m->slots);
        m->slots = NULL;
        m->mask = m->count = 0;
}

/* ---- string keys ---- */

static poe__smap_slot *smap_find(const poe__smap *m, const char *key, uint32_t h)
{
        size_t i;

        if (!m->slots)
                return NULL;
        for (i = h & m->mask;; i = (i + 1) & m->mask) {
                poe__smap_slot *s = &m->slots[i];

                if (!s->key)
                        return NULL;
                if (s->hash == h && strcmp(s->key, key) == 0)
                        return s;
        }
}

void *poe__smap_get(const poe__smap *m, const char *key)
{
        poe__smap_slot *s = smap_find(m, key, poe__hash_str(key));

        return s ? s->value : NULL;
}

static void smap_insert(poe__smap *m, const char *key, uint32_t h, void *value)
{
        size_t i;

        for (i = h & m->mask; m->slots[i].key; i = (i + 1) & m->mask)
                ;
        m->slots[i].key = key;
        m->slots[i].hash = h;
        m->slots[i].value = value;
        m->count++;
}

static int smap_grow(poe_kernel *k, poe__smap *m)
{
        size_t cap = m->slots ? (m->mask + 1) * 2 : 16, i;
        poe__smap old = *m;

        m->slots = poe__calloc(k, cap, sizeof(*m->slots));
        if (!m->slots) {
                *m = old;
                return -ENOMEM;
        }
        m->mask = cap - 1;
        m->count = 0;
        for (i = 0; old.slots && i <= old.mask; i++)
                if (old.slots[i].key)
                        smap_insert(m, old.slots[i].key, old.slots[i].hash, old.slots[i].value);
        poe__free(k, old.slots);
        return 0;
}

int poe__smap_put(poe_kernel *k, poe__smap *m, const char *key, void *value)
{
        uint32_t h = poe__hash_str(key);
        poe__smap_slot *s = smap_find(m, key, h);

        if (s) {
                s->key = key;
                s->value = value;
                return 0;
        }
        /* Keep the load under 3/4 so probes stay short. */
        if (!m->slots || (m->count + 1) * 4 > (m->mask + 1) * 3) {
                int r = smap_grow(k, m);

                if (r < 0)
                        return r;
        }
        smap_insert(m, key, h, value);
        return 0;
}

void *poe__smap_del(poe__smap *m, const char *key)
{
        poe__smap_slot *s = smap_find(m, key, poe__hash_str(key));
        size_t i, j;
        void *value;

        if (!s)
                return NULL;
        value = s->value;
        /* Backward-shift deletion: pull later members of the probe run
         * into the hole so lookups never need tombstones. */
        i = (size_t)(s - m->slots);
        for (j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
                size_t home = m->slots[j].hash & m->mask;

                if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
                        m->slots[i] = m->slots[j];
                        i = j;
                }
        }
        m->slots[i].key = NULL;
        m->slots[i].value = NULL;
        m->count--;
        return value;
}

void poe__smap_free(poe_kernel *k, poe__smap *m)
{
        poe__free(k, m->slots);
        m->slots = NULL;
        m->mask = m->count = 0;
}

/* ---- integer keys ---- */

static poe__imap_slot *imap_find(const poe__imap *m, uint64_t key)
{
        size_t i;

        if (!m->slots)
                return NULL;
        for (i = mix64(key) & m->mask;; i = (i + 1) & m->mask) {
                poe__imap_slot *s = &m->slots[i];

                if (!s->value)
                        return NULL;
                if (s->key == key)
                        return s;
        }
}

void *poe__imap_get(const poe__imap *m, uint64_t key)
{
        poe__imap_slot *s = imap_find(m, key);

        return s ? s->value : NULL;
}

static void imap_insert(poe__imap *m, uint64_t key, void *value)
{
        size_t i;

        for (i = mix64(key) & m->mask; m->slots[i].value; i = (i + 1) & m->mask)
                ;
        m->slots[i].key = key;
        m->slots[i].value = value;
        m->count++;
}

int poe__imap_reserve_n(poe_kernel *k, poe__imap *m, size_t extra)
{
        size_t cap, i;
        poe__imap old = *m;

        if (m->slots && (m->count + extra) * 4 <= (m->mask + 1) * 3)
                return 0;
        cap = m->slots ? (m->mask + 1) * 2 : 16;
        while ((m->count + extra) * 4 > cap * 3)
                cap *= 2;
        m->slots = poe__calloc(k, cap, sizeof(*m->slots));
        if (!m->slots) {
                *m = old;
                return -ENOMEM;
        }
        m->mask = cap - 1;
        m->count = 0;
        for (i = 0; old.slots && i <= old.mask; i++)
                if (old.slots[i].value)
                        imap_insert(m, old.slots[i].key, old.slots[i].value);
        poe__free(k, old.slots);
        return 0;
}

int poe__imap_reserve(poe_kernel *k, poe__imap *m)
{
        return poe__imap_reserve_n(k, m, 1);
}

int poe__imap_put(poe_kernel *k, poe__imap *m, uint64_t key, void *value)
{
        poe__imap_slot *s = imap_find(m, key);
        int r;

        if (s) {
                s->value = value;
                return 0;
        }
        r = poe__imap_reserve(k, m);
        if (r < 0)
                return r;
        imap_insert(m, key, value);
        return 0;
}

void poe__imap_insert_reserved(poe__imap *m, uint64_t key, void *value)
{
        imap_insert(m, key, value);
}

void poe__imap_replace(poe__imap *m, uint64_t key, void *value)
{
        imap_find(m, key)->value = value;
}

void *poe__imap_del(poe__imap *m, uint64_t key)
{
        poe__imap_slot *s = imap_find(m, key);
        size_t i, j;
        void *value;

        if (!s)
                return NULL;
        value = s->value;
        i = (size_t)(s - m->slots);
        for (j = (i + 1) & m->mask; m->slots[j].value; j = (j + 1) & m->mask) {
                size_t home = mix64(m->slots[j].key) & m->mask;

                if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
                        m->slots[i] = m->slots[j];
                        i = j;
                }
        }
        m->slots[i].value = NULL;
        m->count--;
        return value;
}

void poe__imap_free(poe_kernel *k, poe__imap *m)
{
        poe__free(k, m->slots);
        m->slots = NULL;
        m->mask = m->count = 0;
}
