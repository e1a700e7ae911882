/*
 * The queue (queue.c): posted events in FIFO order, timers in a heap and
 * their index by alarm id, and the blocks argumentless events are made in.
 */
#include "internal.h"

#ifndef POE_QUEUE_H_PART
#define POE_QUEUE_H_PART

/* A timer in the heap: its due time is kept beside the pointer, so the
 * heap's comparisons stay in the heap's own memory (the event is read
 * only to break a tie and to note its new position). */
typedef struct poe__heap_entry {
        int64_t due;
        poe__event *ev;
} poe__heap_entry;

/* Alarm ids -> timers: a window of recent ids as an array, older ones
 * in a hash map (queue.c). */
typedef struct poe__timer_ids {
        poe__event **ring; /* mask + 1 slots, id & mask; NULL: empty */
        uint64_t lo;       /* the window: ids lo .. lo + mask */
        uint32_t mask;
        uint32_t n_ring; /* timers in the ring */
        poe__imap old;   /* pending timers whose ids left the window */
} poe__timer_ids;

/* The queue: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__QUEUE_PART                                                              \
        /* The queue: posted events in FIFO order, timers in a heap. */              \
        poe__list fifo;                                                              \
        poe__heap_entry *heap; /* timers: a 4-ary min-heap on (due, id) */           \
        void *heap_mem;        /* its allocation (heap is 64-byte aligned in it) */  \
        uint32_t heap_len, heap_cap;                                                 \
        /* Alarm id -> event, kept once an id has been asked for (see                \
         * queue.c): until then no timer needs finding by id. */                     \
        bool timers_indexed;                                                         \
        /* Each session's pending timers are in its s->timers, made when             \
         * first needed (queue.c: poe__timers_list). */                              \
        bool timers_listed;                                                          \
        poe__timer_ids timer_ids;                                                    \
        size_t queue_count;                                                          \
        uint64_t seq;                                                                \
        poe__event *parked_event; /* the last alarm_remove'd, for its args */        \
        /* Argumentless events' blocks: free ones, full and short (events.c),        \
         * and the chunks they were carved from (all freed with the kernel). */      \
        poe__event *ev_free;                                                         \
        poe__event *ev_free_short;                                                   \
        void *ev_chunks;                                                             \
        void *ev_chunks_short;

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_QUEUE_H)
#define POE_QUEUE_H

/* queue.c */
int poe__queue_reserve_slow(poe_kernel *k);
int poe__timers_index_slow(poe_kernel *k);
poe__event *poe__timer_find_slow(poe_kernel *k, uint64_t id);
void poe__timer_ids_free(poe_kernel *k, poe__timer_ids *m);
int poe__timers_list_slow(poe_kernel *k);
poe__event *poe__timer_first_of(const poe_kernel *k, const poe__session *s);

/* Makes room for one more timer, so that the push after it cannot fail:
 * 0, or -ENOMEM with nothing changed.  Inline for the common case, room
 * in the heap and the next id in the window (or no map kept); growing
 * either is queue.c's. */
static inline int poe__queue_reserve(poe_kernel *k)
{
        const poe__timer_ids *m = &k->timer_ids;

        if (__builtin_expect(k->heap_len < k->heap_cap, 1) &&
            (!k->timers_indexed || (m->n_ring && k->seq + 1 - m->lo <= m->mask)))
                return 0;
        return poe__queue_reserve_slow(k);
}

/* Keeps the id map from now on (every pending timer put in it), for an
 * id handed back or looked up: 0, or -ENOMEM with nothing changed.
 * Inline: once made, it is one test. */
static inline int poe__timers_index(poe_kernel *k)
{
        if (__builtin_expect(k->timers_indexed, 1))
                return 0;
        return poe__timers_index_slow(k);
}

/* Makes each session's s->timers list its pending timers (from then on
 * every timer is linked there as it is set).  0, or -ENOMEM with
 * nothing changed: the pending timers in short blocks move to full
 * ones, which may need memory (queue.c). */
static inline int poe__timers_list(poe_kernel *k)
{
        if (__builtin_expect(!k->timers_listed, 0))
                return poe__timers_list_slow(k);
        return 0;
}

/*
 * The timer heap is 4-ary, as libev's: the children of i are 4i+1 ..
 * 4i+4, and the array starts three entries past a 64-byte boundary, so
 * the four children of any entry are one cache line (four 16-byte
 * entries).  Against a binary heap, half the levels, so half the cache
 * lines and event writes a sift touches, for three compares a level
 * instead of one or two.
 */
#define POE__HEAP_CHILD(i)  (4 * (i) + 1)
#define POE__HEAP_PARENT(i) (((i)-1) / 4)

/* The heap's order: (due, id), the id read only on a tie. */
static inline bool poe__heap_before(const poe__heap_entry *a, const poe__heap_entry *b)
{
        return a->due < b->due || (a->due == b->due && a->ev->seq < b->ev->seq);
}

static inline void poe__heap_set(poe__heap_entry *h, uint32_t i, poe__heap_entry e)
{
        h[i] = e;
        e.ev->heap_index = i;
}

/* The least of the children from c (c < n). */
static inline uint32_t poe__heap_least_child(const poe__heap_entry *h, uint32_t c, uint32_t n)
{
        uint32_t m, j;

        if (__builtin_expect(c + 3 < n, 1)) {
                uint32_t a = poe__heap_before(&h[c + 1], &h[c]) ? c + 1 : c;
                uint32_t b = poe__heap_before(&h[c + 3], &h[c + 2]) ? c + 3 : c + 2;

                return poe__heap_before(&h[b], &h[a]) ? b : a;
        }
        for (m = c, j = c + 1; j < n; j++)
                if (poe__heap_before(&h[j], &h[m]))
                        m = j;
        return m;
}

/* Puts e at i or above: the entries above it that come after it move
 * down one level each. */
static inline void poe__heap_rise(poe__heap_entry *h, uint32_t i, poe__heap_entry e)
{
        while (i > 0) {
                uint32_t parent = POE__HEAP_PARENT(i);

                if (!poe__heap_before(&e, &h[parent]))
                        break;
                poe__heap_set(h, i, h[parent]);
                i = parent;
        }
        poe__heap_set(h, i, e);
}

/*
 * Fills the hole at i with the heap's last entry.  Floyd's bottom-up
 * method: the hole goes down to a leaf by the least child, and the last
 * entry rises from there; it belongs near the bottom, so that rise is
 * short.  Fewer compares than sifting the last entry down from i.  The
 * last entry is written once, where it stops.
 */
static inline void poe__heap_fill_hole(poe_kernel *k, uint32_t i)
{
        poe__heap_entry *h = k->heap;
        uint32_t n = --k->heap_len;
        poe__heap_entry last = h[n];

        if (i == n)
                return;
        for (;;) {
                uint32_t c = POE__HEAP_CHILD(i);

                if (c >= n)
                        break;
                c = poe__heap_least_child(h, c, n);
                poe__heap_set(h, i, h[c]);
                i = c;
        }
        poe__heap_rise(h, i, last);
}

/* Is id in the id map's window (queue.c says how it moves)?  One
 * unsigned compare: an id below lo wraps past any mask. */
static inline bool poe__ids_in_ring(const poe__timer_ids *m, uint64_t id)
{
        return m->ring && id - m->lo <= m->mask;
}

static inline void poe__ids_add(poe__timer_ids *m, poe__event *ev)
{
        m->ring[ev->seq & m->mask] = ev;
        m->n_ring++;
}

static inline void poe__ids_del(poe__timer_ids *m, uint64_t id)
{
        if (poe__ids_in_ring(m, id)) {
                m->ring[id & m->mask] = NULL;
                m->n_ring--;
        } else {
                poe__imap_del(&m->old, id);
        }
}

/* A timer into the heap (and the id map): room was reserved by the caller,
 * so neither step can fail.  Inline (as the rest of the heap's steps
 * here): the timer setters' enqueue and the removals are one call each
 * (events.c). */
static inline void poe__timer_push(poe_kernel *k, poe__event *ev)
{
        poe__heap_entry e = { ev->due, ev };

        if (k->timers_indexed)
                poe__ids_add(&k->timer_ids, ev);
        poe__heap_rise(k->heap, k->heap_len++, e);
}

static inline void poe__timer_remove(poe_kernel *k, poe__event *ev)
{
        if (k->timers_indexed)
                poe__ids_del(&k->timer_ids, ev->seq);
        poe__heap_fill_hole(k, ev->heap_index);
}


/* The pending timer with that id, or NULL: inline for an id in the
 * window (an array read), the rest in queue.c. */
static inline poe__event *poe__timer_find(poe_kernel *k, uint64_t id)
{
        const poe__timer_ids *m = &k->timer_ids;

        if (__builtin_expect(k->timers_indexed && poe__ids_in_ring(m, id), 1))
                return m->ring[id & m->mask];
        return poe__timer_find_slow(k, id);
}

/* poe__timer_remove out of line, for the dispatch loop (events.c's
 * dequeue), where a timer's removal is the rare case. */
void poe__timer_remove_call(poe_kernel *k, poe__event *ev);
poe__event *poe__queue_head(const poe_kernel *k);

/*
 * The next event to dispatch in a timeslice: the earlier of the FIFO's
 * head, if the slice may run it (queued before the slice began: seq <=
 * cut), and the heap's top, if due by the slice's now (POE runs events
 * their POE priority is later than the slice's now).  NULL if neither.
 * Inline: the dispatch loop calls it once per event and once more to
 * find the slice done.
 */
static inline poe__event *poe__queue_next_due(const poe_kernel *k, int64_t now, uint64_t cut)
{
        poe__event *f = NULL, *t = NULL;

        if (!poe__list_empty(&k->fifo)) {
                f = poe__container_of(poe__list_first(&k->fifo), poe__event, link);
                if (f->seq > cut)
                        f = NULL;
        }
        if (k->heap_len && k->heap[0].due <= now)
                t = k->heap[0].ev;
        if (!f)
                return t;
        if (!t)
                return f;
        return t->due < f->due || (t->due == f->due && t->seq < f->seq) ? t : f;
}
void poe__queue_retime(poe_kernel *k, poe__event *ev, int64_t due);
void poe__queue_free(poe_kernel *k);

#endif
