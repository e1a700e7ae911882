/*
 * The event queue: one order, two structures.  POE keeps every event in
 * one queue ordered by (due time, item id).  Posted events are due the
 * moment they are posted, so they arrive in order and a FIFO list holds
 * them with O(1) push and pop.  Timers arrive in any order and live in a
 * binary min-heap on (due, id) whose nodes know their index, so setting,
 * removing and adjusting one is O(log n).  The head of the queue is the
 * earlier of the two heads, which keeps POE's order exactly: a timer due
 * in the past jumps ahead of later posts.
 */
#include <string.h>

#include "internal.h"

static inline bool earlier(const poe__event *a, const poe__event *b)
{
        return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* The heap's order: (due, id), the id read only on a tie. */
static inline bool before(const poe__heap_entry *a, const poe__heap_entry *b)
{
        return a->due < b->due || (a->due == b->due && a->ev->seq < b->ev->seq);
}

static inline void heap_set(poe_kernel *k, uint32_t i, poe__heap_entry e)
{
        k->heap[i] = e;
        e.ev->heap_index = i;
}

static void sift_up(poe_kernel *k, uint32_t i)
{
        poe__heap_entry e = k->heap[i];

        while (i > 0) {
                uint32_t parent = (i - 1) / 2;

                if (!before(&e, &k->heap[parent]))
                        break;
                heap_set(k, i, k->heap[parent]);
                i = parent;
        }
        heap_set(k, i, e);
}

static void sift_down(poe_kernel *k, uint32_t i)
{
        poe__heap_entry e = k->heap[i];
        uint32_t n = k->heap_len;

        for (;;) {
                uint32_t c = 2 * i + 1;

                if (c >= n)
                        break;
                if (c + 1 < n && before(&k->heap[c + 1], &k->heap[c]))
                        c++;
                if (!before(&k->heap[c], &e))
                        break;
                heap_set(k, i, k->heap[c]);
                i = c;
        }
        heap_set(k, i, e);
}

/*
 * Fills the hole at i with the heap's last entry.  Floyd's bottom-up
 * method: the hole goes down to a leaf by the smaller child, one compare
 * per level, and the last entry rises from there; it belongs near the
 * bottom, so that rise is short.  About half the compares of sifting the
 * last entry down from i.
 */
static void fill_hole(poe_kernel *k, uint32_t i)
{
        uint32_t n = --k->heap_len;
        poe__heap_entry last = k->heap[n];

        if (i == n)
                return;
        for (;;) {
                uint32_t c = 2 * i + 1;

                if (c >= n)
                        break;
                if (c + 1 < n && before(&k->heap[c + 1], &k->heap[c]))
                        c++;
                heap_set(k, i, k->heap[c]);
                i = c;
        }
        heap_set(k, i, last);
        sift_up(k, i);
}

/* Makes room for one more timer, so that the push after it cannot fail. */
int poe__queue_reserve(poe_kernel *k)
{
        if (k->heap_len == k->heap_cap) {
                uint32_t cap = k->heap_cap ? k->heap_cap * 2 : 64;
                poe__heap_entry *h = poe__realloc(k, k->heap, cap * sizeof(*h));

                if (!h)
                        return -ENOMEM;
                k->heap = h;
                k->heap_cap = cap;
        }
        return poe__imap_reserve(k, &k->timer_ids);
}

/* The timer half of poe__queue_push: room was reserved by the caller,
 * so neither step can fail. */
void poe__timer_push(poe_kernel *k, poe__event *ev)
{
        poe__imap_insert_reserved(&k->timer_ids, ev->seq, ev);
        k->heap[k->heap_len].due = ev->due;
        k->heap[k->heap_len].ev = ev;
        sift_up(k, k->heap_len++);
}

void poe__timer_remove(poe_kernel *k, poe__event *ev)
{
        poe__imap_del(&k->timer_ids, ev->seq);
        fill_hole(k, ev->heap_index);
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
        poe__free(k, k->heap);
        k->heap = NULL;
        k->heap_len = k->heap_cap = 0;
        poe__imap_free(k, &k->timer_ids);
        k->queue_count = 0;
}
