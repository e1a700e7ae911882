/*
 * The event queue: one order, two structures.  POE keeps every event in
 * one queue ordered by (due time, item id).  Posted events are due the
 * moment they are posted, so they arrive in order and a FIFO list holds
 * them with O(1) push and pop.  Timers arrive in any order and live in a
 * 4-ary min-heap on (due, id) whose nodes know their index, so setting,
 * removing and adjusting one is O(log n).  The head of the queue is the
 * earlier of the two heads, which keeps POE's order exactly: a timer due
 * in the past jumps ahead of later posts.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "events.h"
#include "queue.h"

static inline bool earlier(const poe__event *a, const poe__event *b)
{
        return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* The heap's steps (its order, the rise, the hole's fill) and the id
 * map's window tests are inline in queue.h, with the push and removal
 * they make: the timer setters and alarm_remove reach them without a
 * call of their own.  The rest is here. */
static void sift_up(poe_kernel *k, uint32_t i)
{
        poe__heap_rise(k->heap, i, k->heap[i]);
}

static void sift_down(poe_kernel *k, uint32_t i)
{
        poe__heap_entry *h = k->heap, e = h[i];
        uint32_t n = k->heap_len;

        for (;;) {
                uint32_t c = POE__HEAP_CHILD(i);

                if (c >= n)
                        break;
                c = poe__heap_least_child(h, c, n);
                if (!poe__heap_before(&h[c], &e))
                        break;
                poe__heap_set(h, i, h[c]);
                i = c;
        }
        poe__heap_set(h, i, e);
}

static int ids_reserve(poe_kernel *k, poe__timer_ids *m, uint64_t id);

/* The heap's first entry in its allocation: three entries past a
 * 64-byte boundary (the allocator may give 16). */
static poe__heap_entry *heap_start(void *mem)
{
        char *p = mem;

        return (poe__heap_entry *)(void *)(p + (64 - (uintptr_t)p % 64) % 64) + 3;
}

/* poe__queue_reserve past its common case (queue.h): the heap is full,
 * or the next id is not in the window.  The heap grows by realloc, which
 * moves a big block by remapping it, keeping its offset in the page;
 * only if the alignment changed are the entries moved to it. */
int poe__queue_reserve_slow(poe_kernel *k)
{
        if (k->heap_len == k->heap_cap) {
                uint32_t cap = k->heap_cap ? k->heap_cap * 2 : 61;
                size_t old_off = k->heap_mem ? (size_t)((char *)k->heap - (char *)k->heap_mem) : 0;
                char *mem = poe__realloc(k, k->heap_mem,
                                         ((size_t)cap + 3) * sizeof(poe__heap_entry) + 64);
                poe__heap_entry *h;

                if (!mem)
                        return -ENOMEM;
                h = heap_start(mem);
                if (k->heap_len && (char *)h - mem != (ptrdiff_t)old_off)
                        memmove(h, mem + old_off, k->heap_len * sizeof(*h));
                k->heap_mem = mem;
                k->heap = h;
                k->heap_cap = cap;
        }
        return k->timers_indexed ? ids_reserve(k, &k->timer_ids, k->seq + 1) : 0;
}

/*
 * Alarm ids -> timers.  Ids are queue item ids, handed out in rising
 * order to posts and timers alike, so a new timer's id is close to the
 * ids of the timers set just before it.  The ids of a window [lo, lo +
 * cap) are an array indexed by id (a ring: slot id & mask, no hash, no
 * probe); a pending timer whose id the window leaves behind moves to a
 * hash map (old).  The window moves on when a new id falls past its
 * end: over empty slots for free, and it doubles instead of moving
 * while at least half its slots hold timers.
 *
 * The map is made only when an id is first asked for: an id handed back
 * by alarm_set or delay_set, or looked up (alarm_remove, alarm_adjust,
 * delay_adjust, which may be given an id learned any way).  A program
 * that sets timers and lets them fire pays for none of it.  From then
 * on every timer is in it.
 */
#define RING_MIN 64

/* Makes the window hold id, the next id to be given (k->seq + 1), so
 * that adding it cannot fail.  0, or -ENOMEM with nothing changed. */
static int ids_reserve(poe_kernel *k, poe__timer_ids *m, uint64_t id)
{
        uint64_t new_lo, i, n;
        uint32_t cap, moved = 0;

        if (!m->ring) {
                m->ring = poe__calloc(k, RING_MIN, sizeof(*m->ring));
                if (!m->ring)
                        return -ENOMEM;
                m->mask = RING_MIN - 1;
                m->lo = id;
        }
        if (!m->n_ring)
                m->lo = id;
        if (id - m->lo <= m->mask)
                return 0;
        /* Past the end: first over the empty slots at the start. */
        while (m->lo < id && !m->ring[m->lo & m->mask])
                m->lo++;
        if (id - m->lo <= m->mask)
                return 0;
        cap = m->mask + 1;
        if (m->n_ring >= cap / 2 && id - m->lo < 2 * (uint64_t)cap && cap < (1u << 30)) {
                /* Dense: twice the slots, grown in place.  realloc
                 * remaps a big block instead of copying it, so its pages
                 * stay (a new ring would fault them all in again).  The
                 * window [lo, lo + cap) is one arc of the new ring from
                 * slot l: the timers whose new slot is in the new half
                 * move there in one copy, and the slots the window does
                 * not cover are cleared. */
                poe__event **r = poe__realloc(k, m->ring, 2 * (size_t)cap * sizeof(*r));
                size_t l = m->lo & (2 * (uint64_t)cap - 1);

                if (!r)
                        return -ENOMEM;
                /* The new half is written whole below. */
                poe__prefault(r + cap, cap * sizeof(*r));
                if (l < cap) {
                        /* The arc is [l, l + cap): old slots [0, l) move
                         * up by cap, [cap + l, 2 cap) is outside. */
                        memcpy(r + cap, r, l * sizeof(*r));
                        memset(r, 0, l * sizeof(*r));
                        memset(r + cap + l, 0, (cap - l) * sizeof(*r));
                } else {
                        /* The arc wraps: [l, 2 cap) and [0, l - cap).  Old
                         * slots [l - cap, cap) move up by cap, [cap, l) is
                         * outside. */
                        memcpy(r + l, r + (l - cap), (2 * cap - l) * sizeof(*r));
                        memset(r + (l - cap), 0, (2 * cap - l) * sizeof(*r));
                        memset(r + cap, 0, (l - cap) * sizeof(*r));
                }
                m->ring = r;
                m->mask = 2 * cap - 1;
                return 0;
        }
        /* Sparse: the timers whose ids leave the window go to the map. */
        new_lo = id - m->mask;
        n = new_lo - m->lo < cap ? new_lo - m->lo : cap;
        for (i = 0; i < n; i++)
                moved += m->ring[(m->lo + i) & m->mask] != NULL;
        if (moved && poe__imap_reserve_n(k, &m->old, moved) < 0)
                return -ENOMEM;
        for (i = 0; i < n; i++) {
                poe__event **slot = &m->ring[(m->lo + i) & m->mask];

                if (*slot) {
                        poe__imap_insert_reserved(&m->old, (*slot)->seq, *slot);
                        *slot = NULL;
                }
        }
        m->n_ring -= moved;
        m->lo = new_lo;
        return 0;
}

static inline poe__event *ids_get(const poe__timer_ids *m, uint64_t id)
{
        if (poe__ids_in_ring(m, id))
                return m->ring[id & m->mask];
        return poe__imap_get(&m->old, id);
}

void poe__timer_ids_free(poe_kernel *k, poe__timer_ids *m)
{
        poe__free(k, m->ring);
        poe__imap_free(k, &m->old);
        memset(m, 0, sizeof(*m));
}

/* poe__timers_index's making of the map (queue.h): 0, or -ENOMEM
 * (nothing changed).  The pending timers go to the map, and the window
 * starts at the next id. */
int poe__timers_index_slow(poe_kernel *k)
{
        poe__timer_ids *m = &k->timer_ids;
        uint32_t i;

        if (k->heap_len && poe__imap_reserve_n(k, &m->old, k->heap_len) < 0)
                return -ENOMEM;
        for (i = 0; i < k->heap_len; i++)
                poe__imap_insert_reserved(&m->old, k->heap[i].ev->seq, k->heap[i].ev);
        k->timers_indexed = true;
        return 0;
}

/* poe__timer_find for an id not in the window, or before the map is
 * made.  Without the map, and no room to make it, the heap is searched. */
poe__event *poe__timer_find_slow(poe_kernel *k, uint64_t id)
{
        uint32_t i;

        if (__builtin_expect(k->timers_indexed, 1) || poe__timers_index_slow(k) == 0)
                return ids_get(&k->timer_ids, id);
        for (i = 0; i < k->heap_len; i++)
                if (k->heap[i].ev->seq == id)
                        return k->heap[i].ev;
        return NULL;
}

/*
 * Each session's timers as a list, for the calls that need them: alarm()
 * and delay() (which first clear the session's timers of that name),
 * alarm_remove_all and a session's departure (poe_peek_reasons uses them
 * when they are made, and walks the heap when not).  A
 * program that only sets, removes by id and lets fire keeps no list: a
 * timer's removal would otherwise touch its two neighbours in it, two
 * cache misses in a big queue, and an argumentless timer's block would
 * need its 16-byte link (its block is a short one without it, 56 bytes
 * instead of 72: events.c).  Made once, in the order the timers were
 * set (their ids): the heap is sorted by id, each timer moved to a full
 * block if in a short one (the heap and the id map repointed at it) and
 * appended to its session's list, then the heap is sorted back by (due,
 * id), which is a heap.  qsort needs no memory it cannot do without; the
 * full blocks are reserved first, so that the one failure is before
 * anything changed.
 */
static int by_id(const void *a, const void *b)
{
        const poe__heap_entry *x = a, *y = b;

        return x->ev->seq < y->ev->seq ? -1 : x->ev->seq > y->ev->seq;
}

static int by_order(const void *a, const void *b)
{
        const poe__heap_entry *x = a, *y = b;

        return poe__heap_before(x, y) ? -1 : poe__heap_before(y, x);
}

/* Points the id map's entry for ev's id at ev (moved): no memory, as
 * the id has its place already. */
static void ids_repoint(poe__timer_ids *m, poe__event *ev)
{
        if (poe__ids_in_ring(m, ev->seq))
                m->ring[ev->seq & m->mask] = ev;
        else
                poe__imap_replace(&m->old, ev->seq, ev);
}

int poe__timers_list_slow(poe_kernel *k)
{
        uint32_t i, n_short = 0;

        for (i = 0; i < k->heap_len; i++)
                n_short += (k->heap[i].ev->type & POE__EV_SHORT) != 0;
        if (n_short && poe__events_reserve(k, n_short) < 0)
                return -ENOMEM;
        qsort(k->heap, k->heap_len, sizeof(*k->heap), by_id);
        for (i = 0; i < k->heap_len; i++) {
                poe__event *ev = k->heap[i].ev;

                if (ev->type & POE__EV_SHORT) {
                        ev = poe__event_lengthen(k, ev);
                        k->heap[i].ev = ev;
                        if (k->timers_indexed)
                                ids_repoint(&k->timer_ids, ev);
                }
                poe__list_append(&ev->to->timers, &ev->link);
        }
        qsort(k->heap, k->heap_len, sizeof(*k->heap), by_order);
        for (i = 0; i < k->heap_len; i++)
                k->heap[i].ev->heap_index = i;
        k->timers_listed = true;
        return 0;
}

/* The session's first pending timer in the order set (the least id), or
 * NULL, without the lists: for when there was no memory to make them.
 * O(timers pending) a call. */
poe__event *poe__timer_first_of(const poe_kernel *k, const poe__session *s)
{
        poe__event *first = NULL;
        uint32_t i;

        for (i = 0; i < k->heap_len; i++) {
                poe__event *ev = k->heap[i].ev;

                if (ev->to == s && (!first || ev->seq < first->seq))
                        first = ev;
        }
        return first;
}

poe__event *poe__queue_head(const poe_kernel *k)
{
        poe__event *f = poe__list_empty(&k->fifo)
                                ? NULL
                                : poe__container_of(poe__list_first(&k->fifo), poe__event, link);
        poe__event *t = k->heap_len ? k->heap[0].ev : NULL;

        if (!f)
                return t;
        if (!t)
                return f;
        return earlier(t, f) ? t : f;
}

void poe__timer_remove_call(poe_kernel *k, poe__event *ev)
{
        poe__timer_remove(k, ev);
}

void poe__queue_retime(poe_kernel *k, poe__event *ev, int64_t due)
{
        ev->due = due;
        k->heap[ev->heap_index].due = due;
        sift_down(k, ev->heap_index);
        sift_up(k, ev->heap_index);
}

void poe__queue_free(poe_kernel *k)
{
        uint32_t i;

        while (!poe__list_empty(&k->fifo)) {
                poe__event *ev = poe__container_of(poe__list_first(&k->fifo), poe__event, link);

                poe__list_remove(&ev->link);
                poe__event_free(k, ev);
        }
        for (i = 0; i < k->heap_len; i++)
                poe__event_free(k, k->heap[i].ev);
        poe__free(k, k->heap_mem);
        k->heap_mem = NULL;
        k->heap = NULL;
        k->heap_len = k->heap_cap = 0;
        poe__timer_ids_free(k, &k->timer_ids);
        k->queue_count = 0;
}
