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

/* The pending timer with that id, or NULL: inline for an id in the
 * window (an array read), the rest in queue.c. */
static inline poe__event *poe__timer_find(poe_kernel *k, uint64_t id)
{
        const poe__timer_ids *m = &k->timer_ids;

        if (__builtin_expect(k->timers_indexed && m->ring && id >= m->lo && id - m->lo <= m->mask,
                             1))
                return m->ring[id & m->mask];
        return poe__timer_find_slow(k, id);
}
void poe__timer_push(poe_kernel *k, poe__event *ev);
void poe__timer_remove(poe_kernel *k, poe__event *ev);

/* Queues an event: a post at the FIFO's tail, O(1); a timer into the
 * heap, O(log n), in room the caller reserved. */
static inline void poe__queue_push(poe_kernel *k, poe__event *ev)
{
        if (ev->type & POE__ET_ALARM)
                poe__timer_push(k, ev);
        else
                poe__list_append(&k->fifo, &ev->link);
        k->queue_count++;
}

static inline void poe__queue_remove(poe_kernel *k, poe__event *ev)
{
        if (ev->type & POE__ET_ALARM)
                poe__timer_remove(k, ev);
        else
                poe__list_remove(&ev->link);
        k->queue_count--;
}
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
