/*
 * Events: the queue, post/yield/call, and the dispatcher.  This is
 * POE::Resource::Events and POE::Kernel's _dispatch_event.
 *
 * The queue itself (queue.c) is time-ordered with FIFO order among equal
 * times, as POE's POE::Queue::Array keyed by priority and item id.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "aliases.h"
#include "clock.h"
#include "debug.h"
#include "events.h"
#include "exceptions.h"
#include "io.h"
#include "queue.h"
#include "sessions.h"
#include "signals.h"
#include "slice.h"
#include "trace.h"

/*
 * Argumentless events, the common case, are carved from chunks of
 * blocks and recycled through a free list: a post then costs no
 * malloc and no free, and an event its 72 bytes.  Argumentless timers
 * set while no session's timer list is kept have short blocks, 56 bytes
 * without the list link (struct poe__event), from chunks and a free list
 * of their own.  The chunks stay until the kernel is freed, so the
 * memory held is the peak number of such events queued at once.  Events
 * with arguments are sized to them and come from the allocator.
 *
 * A chunk is its header, then its blocks.  Full blocks come in chunks
 * of EV_CHUNK: a queued event's memory is held to its 72 bytes, no
 * spare blocks (bench/run --memory).  Short blocks' chunks grow with
 * the blocks held: a new one has a sixteenth as many blocks as all the
 * chunks before it (EV_CHUNK at least), so a million timers take 120
 * chunks, not 8,000, and at most a sixteenth of the blocks held are
 * spare (3.5 bytes a 56-byte timer).  The free list threads through
 * every block of a new chunk at once, so a big chunk's pages are
 * faulted in by one call (poe__prefault) instead of a trap each: faults
 * were a fifth of timers_setremove_1m's time, half of them the chunks'
 * (perf).  Block 0's memory begins after the header, and no earlier
 * than 16 bytes in, so that a short block's event pointer (16 bytes
 * before its memory) is inside the chunk too.
 */
#define EV_CHUNK 128
#define EV_GROW  16

typedef struct ev_chunk {
        struct ev_chunk *next; /* the chunk made before it */
        size_t total;          /* its blocks and those of the chunks before it */
} ev_chunk;

_Static_assert(POE__EV_SHORT_SIZE % _Alignof(poe__event) == 0, "short blocks stay aligned");

static size_t ev_chunk_first(size_t size)
{
        size_t skip = sizeof(poe__event) - size;

        return skip > sizeof(ev_chunk) ? skip : sizeof(ev_chunk);
}

static size_t ev_chunk_blocks(const ev_chunk *c)
{
        return c->total - (c->next ? c->next->total : 0);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define EV_POISON(ev, size)                                                                        \
        ASAN_POISON_MEMORY_REGION((char *)(ev) + sizeof(poe__event) - (size), (size))
#define EV_UNPOISON(ev, size)                                                                      \
        ASAN_UNPOISON_MEMORY_REGION((char *)(ev) + sizeof(poe__event) - (size), (size))
#define EV_UNPOISON_CHUNK(c, size)                                                                 \
        ASAN_UNPOISON_MEMORY_REGION((c), ev_chunk_first(size) + ev_chunk_blocks(c) * (size))
#else
#define EV_POISON(ev, size)        ((void)(ev), (void)(size))
#define EV_UNPOISON(ev, size)      ((void)(ev), (void)(size))
#define EV_UNPOISON_CHUNK(c, size) ((void)(c), (void)(size))
#endif

/* A new chunk of blocks of that size on that list of chunks, bigger
 * than the last if grow: block 0 is handed out now, the rest go on the
 * free list. */
static __attribute__((noinline)) poe__event *
ev_refill(poe_kernel *k, void **chunks, poe__event **free_list, size_t size, bool grow)
{
        ev_chunk *prev = *chunks, *c;
        size_t held = prev ? prev->total : 0;
        size_t n = grow && held / EV_GROW > EV_CHUNK ? held / EV_GROW : EV_CHUNK;
        size_t first = ev_chunk_first(size), i;
        char *ev0;

        c = poe__malloc(k, first + n * size);
        if (!c)
                return NULL;
        poe__prefault(c, first + n * size);
        c->next = prev;
        c->total = held + n;
        *chunks = c;
        ev0 = (char *)c + first - (sizeof(poe__event) - size);
        for (i = n - 1; i > 0; i--) {
                poe__event *ev = (poe__event *)(void *)(ev0 + i * size);

                ev->free_next = *free_list;
                *free_list = ev;
                EV_POISON(ev, size);
        }
        return (poe__event *)(void *)ev0;
}

static inline poe__event *ev_alloc_small(poe_kernel *k)
{
        poe__event *ev = k->ev_free;

        if (__builtin_expect(ev == NULL, 0))
                return ev_refill(k, &k->ev_chunks, &k->ev_free, sizeof(poe__event), false);
        EV_UNPOISON(ev, sizeof(poe__event));
        k->ev_free = ev->free_next;
        return ev;
}

poe__event *poe__event_new_short2(poe_kernel *k)
{
        poe__event *ev = k->ev_free_short;

        if (!ev) {
                ev = ev_refill(k, &k->ev_chunks_short, &k->ev_free_short, POE__EV_SHORT_SIZE, true);
                if (!ev)
                        return NULL;
        } else {
                EV_UNPOISON(ev, POE__EV_SHORT_SIZE);
                k->ev_free_short = ev->free_next;
        }
        ev->nargs = 0;
        return ev;
}

/* Makes the free list hold n full blocks, so that the next n
 * argumentless events cannot fail.  0, or -ENOMEM (the chunks made
 * before the failure stay, free). */
int poe__events_reserve(poe_kernel *k, size_t n)
{
        const poe__event *ev;
        size_t have = 0;

        for (ev = k->ev_free; ev && have < n; have++) {
                const poe__event *next;

                EV_UNPOISON(ev, sizeof(*ev));
                next = ev->free_next;
                EV_POISON(ev, sizeof(*ev));
                ev = next;
        }
        while (have < n) {
                poe__event *first =
                        ev_refill(k, &k->ev_chunks, &k->ev_free, sizeof(poe__event), false);

                if (!first)
                        return -ENOMEM;
                first->free_next = k->ev_free;
                k->ev_free = first;
                EV_POISON(first, sizeof(*first));
                have += ev_chunk_blocks(k->ev_chunks);
        }
        return 0;
}

/* A pending short timer moved to a full block, which must be free
 * (poe__events_reserve); the short block is freed, and the caller
 * repoints the heap and the id map at the new one. */
poe__event *poe__event_lengthen(poe_kernel *k, poe__event *ev)
{
        poe__event *full = ev_alloc_small(k);

        memcpy((char *)full + POE__EV_LINK_SIZE, (char *)ev + POE__EV_LINK_SIZE,
               POE__EV_SHORT_SIZE);
        full->type &= (uint16_t)~POE__EV_SHORT;
        poe__event_free(k, ev);
        return full;
}

static void chunks_free(poe_kernel *k, void **chunks, size_t size)
{
        while (*chunks) {
                ev_chunk *c = *chunks;

                /* Its free blocks are poisoned; the allocator may write. */
                EV_UNPOISON_CHUNK(c, size);
                *chunks = c->next;
                poe__free(k, c);
        }
}

void poe__events_free(poe_kernel *k)
{
        chunks_free(k, &k->ev_chunks, sizeof(poe__event));
        chunks_free(k, &k->ev_chunks_short, POE__EV_SHORT_SIZE);
        k->ev_free = NULL;
        k->ev_free_short = NULL;
}

poe__event *poe__event_new2(poe_kernel *k, const poe_value *prefix, size_t nprefix,
                            const poe_value *args, size_t nargs)
{
        size_t n = nprefix + nargs, extra = 0;
        poe__event *ev;
        poe_value *v;
        char *pool;

        if (n == 0) {
                ev = ev_alloc_small(k);
                if (ev)
                        ev->nargs = 0;
                return ev;
        }
        /* A count too big for the header goes before the arguments. */
        if (n >= POE__EV_MANY)
                extra = sizeof(poe_value);
        ev = poe__malloc(k, sizeof(*ev) + extra + n * sizeof(poe_value) +
                                    poe__values_size(prefix, nprefix) +
                                    poe__values_size(args, nargs));
        if (!ev)
                return NULL;
        if (extra) {
                ev->nargs = POE__EV_MANY;
                *(size_t *)(void *)(ev + 1) = n;
        } else {
                ev->nargs = (uint16_t)n;
        }
        v = poe__ev_args(ev);
        pool = (char *)(v + n);
        poe__values_copy(v, prefix, nprefix, &pool);
        poe__values_copy(v + nprefix, args, nargs, &pool);
        return ev;
}

/* type_nargs with every bit of nargs and POE__EV_SHORT set: a full
 * block without arguments has none of them. */
static const poe__event ev_not_plain = {.type = POE__EV_SHORT, .nargs = UINT16_MAX};

void poe__event_free(poe_kernel *k, poe__event *ev)
{
        /* The common case first, in one test: it is on every dispatch's
         * path. */
        if ((ev->type_nargs & ev_not_plain.type_nargs) == 0) {
                ev->free_next = k->ev_free;
                k->ev_free = ev;
                EV_POISON(ev, sizeof(*ev));
                return;
        }
        if (ev->type & POE__EV_SHORT) {
                ev->free_next = k->ev_free_short;
                k->ev_free_short = ev;
                EV_POISON(ev, POE__EV_SHORT_SIZE);
                return;
        }
        poe__values_destroy(poe__ev_args(ev), poe__ev_nargs(ev));
        poe__free(k, ev);
}

/* TRACE_EVENTS' enqueue record the general way (it reads the clock). */
static __attribute__((noinline, cold)) void trace_enqueue_slow(poe_kernel *k, poe__event *ev)
{
        if (ev->type & POE__ET_ALARM)
                poe__trace_hot_slow(k, POE_TRACE_EVENTS, POE_TK_ENQUEUE, ev->to, ev->name, ev->to,
                                    NULL, ev->seq, 0, 1, 0, 0, 0, poe__mono2wall(k, ev->due));
        else
                poe__trace_hot_slow(k, POE_TRACE_EVENTS, POE_TK_ENQUEUE, ev->to, ev->name,
                                    ev->u.from, ev->u.from, ev->seq, 0, 0, 0, 0, 0, 0.0);
}

/* TRACE_EVENTS for an enqueue, not inside a sink and not shed (the
 * caller looked: poe__trace_shed_first): out of line, so the hot path
 * keeps one test of the switches.  The record reads the clock as it goes
 * to the sink (poe__trace_slot_stamp), or the general way does. */
static __attribute__((noinline, cold)) void trace_enqueue(poe_kernel *k, poe__event *ev)
{
        poe__session *to = ev->to, *from = ev->u.from;
        bool done;

        POE__ASSUME(to != NULL);
        if (ev->type & POE__ET_ALARM) {
                done = poe__trace_fill_slot(k, POE_TRACE_EVENTS, POE_TK_ENQUEUE, to, ev->name, to,
                                            NULL, ev->seq, 0, 1, 0, 0, 0,
                                            k->epoch_offset + (double)ev->due / 1e9);
        } else {
                POE__ASSUME(from != NULL);
                done = poe__trace_fill_slot(k, POE_TRACE_EVENTS, POE_TK_ENQUEUE, to, ev->name, from,
                                            from, ev->seq, 0, 0, 0, 0, 0, 0.0);
        }
        if (!done)
                trace_enqueue_slow(k, ev);
}

/* What every queued event is stamped with, then its enqueue record
 * (a post's sender and a timer's due time are set by the caller first:
 * the record carries them). */
static inline __attribute__((always_inline)) void stamp(poe_kernel *k, poe__event *ev,
                                                        poe__session *to, uint32_t name,
                                                        uint32_t type, uint32_t file, int line)
{
        ev->to = to;
        ev->name = name;
        ev->type = (uint16_t)type;
        ev->file = file;
        ev->line = line;
        ev->from_state = k->active_event; /* POE's fromstate: NO_NAME outside handlers */
        ev->seq = ++k->seq;
        if (POE__ON(k, POE_TRACE_EVENTS) && !k->in_sink &&
            !poe__trace_shed_first(k, POE_TRACE_EVENTS))
                trace_enqueue(k, ev);
}

/*
 * POE's _data_ev_enqueue.  The event holds its destination alive, and
 * its sender too when that is another session ("posting keeps the
 * sender alive until the event is delivered").
 *
 * A post is stamped with k->now, the clock as last read (at the start
 * of a timeslice with timers pending or once the coarse clock has ticked,
 * see poe__clock_slice, and whenever a timer is set), not with a clock
 * read of its own: POE reads time() for every post, which would
 * cost more than the rest of a post.  Orders differ only for a timer
 * that falls due while a handler is still running, against the posts
 * that handler makes after that moment: POE puts the timer first, libpoe
 * the posts.
 */
static inline __attribute__((always_inline)) void enqueue_post(poe_kernel *k, poe__event *ev,
                                                               poe__session *to,
                                                               poe__session *from, uint32_t name,
                                                               uint32_t type, uint32_t file,
                                                               int line)
{
        ev->u.from = from;
        ev->due = k->now;
        stamp(k, ev, to, name, type, file, line);
        poe__list_append(&k->fifo, &ev->link);
        k->queue_count++;
        poe__ref(k, to, POE_REASON_EVENTS_TO);
        if (from != to)
                poe__ref(k, from, POE_REASON_EVENTS_FROM);
}

void poe__enqueue(poe_kernel *k, poe__event *ev, poe__session *to, poe__session *from,
                  uint32_t name, uint32_t type, uint32_t file, int line)
{
        POE__ASSUME(!(type & POE__ET_ALARM)); /* timers: poe__enqueue_timer */
        enqueue_post(k, ev, to, from, name, type, file, line);
}

/* The same for a timer, from its session to itself (alarms.c): the
 * caller set its due time and reserved room in the queue, so nothing
 * here fails.  The heap's push is inline (queue.h). */
void poe__enqueue_timer(poe_kernel *k, poe__event *ev, poe__session *s, uint32_t name,
                        uint32_t type, uint32_t file, int line)
{
        stamp(k, ev, s, name, type, file, line);
        poe__timer_push(k, ev);
        k->queue_count++;
        if (k->timers_listed)
                poe__list_append(&s->timers, &ev->link);
        poe__ref(k, s, POE_REASON_TIMERS);
}

/* Takes an event out of the queue and drops the counts it held.  Inline
 * into the dispatch loop; poe__dequeue for the other files.  A timer's
 * removal from the heap is a call (queue.c's poe__timer_remove_call)
 * except where the caller knows it has a timer (alarm_remove's
 * poe__dequeue_timer, timer_inline): inline, the heap's hole fill made
 * the dispatch loop 800 bytes longer and fanout_queue's yields ~12 %
 * slower in real time for the same instructions. */
static inline __attribute__((always_inline)) void dequeue(poe_kernel *k, poe__event *ev,
                                                          bool timer_inline)
{
        k->queue_count--;
        if (ev->type & POE__ET_ALARM) {
                if (timer_inline)
                        poe__timer_remove(k, ev);
                else
                        poe__timer_remove_call(k, ev);
                if (k->timers_listed)
                        poe__list_remove(&ev->link);
                poe__unref(k, ev->to, POE_REASON_TIMERS);
                return;
        }
        poe__list_remove(&ev->link);
        poe__unref(k, ev->to, POE_REASON_EVENTS_TO);
        if (ev->u.from != ev->to)
                poe__unref(k, ev->u.from, POE_REASON_EVENTS_FROM);
}

void poe__dequeue(poe_kernel *k, poe__event *ev)
{
        dequeue(k, ev, false);
}

/* The same for an event known to be a timer (alarm_remove), without
 * the test of its kind. */
void poe__dequeue_timer(poe_kernel *k, poe__event *ev)
{
        POE__ASSUME(ev->type & POE__ET_ALARM);
        dequeue(k, ev, true);
}

/* The kinds /metrics counts dispatches by (poe_dispatch_stats). */
static inline int kind_of(uint32_t type)
{
        if (type == POE__ET_POST)
                return POE_DISPATCH_POST;
        if (type == POE__ET_CALL) /* the other hot one, before the bits */
                return POE_DISPATCH_CALL;
        /* The kernel's own (_start, _stop, _child, _parent): one test,
         * not one per kind's bit; four of them a session's life. */
        if (!(type & (POE__ET_SIGDIE | POE__ET_SIGNAL | POE__ET_ALARM | POE__ET_SELECT |
                      POE__ET_SIGCLD | POE__ET_CALL | POE__ET_POST)))
                return POE_DISPATCH_INTERNAL;
        if (type & POE__ET_SIGDIE)
                return POE_DISPATCH_DIE;
        if (type & POE__ET_SIGNAL)
                return POE_DISPATCH_SIGNAL;
        if (type & POE__ET_ALARM)
                return POE_DISPATCH_ALARM;
        if (type & POE__ET_SELECT)
                return POE_DISPATCH_SELECT;
        if (type & POE__ET_SIGCLD)
                return POE_DISPATCH_SIG_CHILD;
        if (type & POE__ET_CALL)
                return POE_DISPATCH_CALL;
        if (type & POE__ET_POST)
                return POE_DISPATCH_POST;
        return POE_DISPATCH_INTERNAL;
}

/* One place counts handlers run, by kind and in all, so that /metrics'
 * counts agree (stats.h); NFA machines' handlers too (nfa.c). */
static inline __attribute__((always_inline)) void count_handler(poe_kernel *k, poe__session *s,
                                                                uint32_t type)
{
        s->dispatched++;
        s->last_ns = k->now;
        k->total_dispatched++;
        k->stats.by_kind[kind_of(type)]++;
        /* For other threads, after what dispatch_enter published: a
         * plain move. */
        atomic_store_explicit(&k->pub_dispatches, k->total_dispatched, memory_order_release);
}

/* _default's call (POE::Session's _invoke_state): a copy of the
 * handler's view, the event's name and arguments as its two. */
static __attribute__((noinline)) poe_value invoke_default(poe_kernel *k, poe__delivery *d,
                                                          const poe__handler *h)
{
        poe__session *s = d->c.s;
        poe_value dargs[2];
        poe_handler_fn fn;
        poe_ctx c = d->c;

        if (s->opt_trace)
                poe__warn(k, "%llu -> %s redirected to _default\n", (unsigned long long)s->id,
                          poe__name(k, d->c.state));
        dargs[0] = poe_str(poe__name(k, d->c.state));
        dargs[1] = poe_list(d->c.args, d->c.nargs);
        c.state = POE__N_DEFAULT;
        c.args = dargs;
        c.nargs = 2;
        fn = h->fn;
        c.object = h->object;
        count_handler(k, s, d->type);
        return fn(&c);
}

/* POE::Session's _invoke_state: the handler, else _default, else nothing.
 * Inlined into the dispatcher, whose hot path it is.  The handler's view
 * is the delivery's own (d->c): nothing to copy.  s is d->c.s and name
 * d->c.state; with reread, the trace option's line reads them again
 * after it, so that a caller that keeps neither across the handler
 * (call_body) keeps neither across the line either. */
static inline __attribute__((always_inline)) poe_value invoke_as(poe_kernel *k, poe__delivery *d,
                                                                 poe__session *s, uint32_t name,
                                                                 const uint32_t *type, bool reread)
{
        const poe__handler *h;
        poe_handler_fn fn;

        /* The kernel's session, a machine, the trace option: one test. */
        if (__builtin_expect(s->rare & (POE__RARE_KERNEL | POE__RARE_NFA | POE__RARE_TRACE), 0)) {
                if (s->is_kernel) {
                        poe__kernel_invoke(k, name, *type, d->c.args, d->c.nargs);
                        return poe_nil();
                }
                /* A POE::NFA machine finds its handler in its current state. */
                if (s->is_nfa)
                        return poe__nfa_invoke(k, d);
                if (s->opt_trace) {
                        poe__warn(k, "%llu -> %s (from %s at %d)\n", (unsigned long long)s->id,
                                  poe__name(k, d->c.state), d->c.file ? d->c.file : "", d->c.line);
                        if (reread) {
                                s = d->c.s;
                                name = d->c.state;
                        }
                }
        }
        h = poe__htable_find(s->handlers, name);
        if (__builtin_expect(!h, 0)) {
                h = poe__htable_find(s->handlers, POE__N_DEFAULT);
                if (h)
                        return invoke_default(k, d, h);
                if (s->opt_default && name != POE__N_SIGNAL) {
                        const char *who = poe__loggable(k, s);

                        poe__warn(k,
                                  "a '%s' event was sent from %s at %d to %s but %s "
                                  "has neither a handler for it nor one for _default\n",
                                  poe__name(k, d->c.state), d->c.file ? d->c.file : "", d->c.line,
                                  who, who);
                }
                return poe_nil();
        }
        /* Copy out before the call: the handler may replace or remove
         * itself, which rewrites the table. */
        fn = h->fn;
        d->c.object = h->object;
        count_handler(k, s, *type);
        return fn(&d->c);
}

static inline __attribute__((always_inline)) poe_value invoke(poe_kernel *k, poe__delivery *d,
                                                              poe__session *s, uint32_t name,
                                                              const uint32_t *type)
{
        return invoke_as(k, d, s, name, type, false);
}

void poe__count_handler(poe_kernel *k, poe__session *s, uint32_t type)
{
        count_handler(k, s, type);
}

/* A handler's return value as a return record's numbers (arg.i[1] and
 * num); false for a string or a list, whose record carries text. */
static inline bool return_numbers(const poe_value *ret, int64_t *a1, double *num)
{
        *a1 = 0;
        *num = 0.0;
        /* Most handlers return nothing: one test before the table. */
        if (__builtin_expect(ret->type == POE_T_NIL, 1))
                return true;
        switch (ret->type) {
        case POE_T_NIL:
                return true;
        case POE_T_INT:
                *a1 = ret->u.i;
                return true;
        case POE_T_DOUBLE:
                *num = ret->u.d;
                return true;
        case POE_T_SESSION:
                *a1 = (int64_t)ret->u.sid;
                return true;
        case POE_T_PTR:
                *a1 = (int64_t)(uintptr_t)ret->u.ptr.p;
                return true;
        default:
                return false;
        }
}

/* TRACE_EVENTS' return record the general way; for a string or a list,
 * as a rarer kind's, with its text (at most 63 bytes, as POE's line shows
 * it): the string's own bytes, or the list formatted. */
static __attribute__((noinline, cold)) void trace_return_slow(poe_kernel *k, poe__session *to,
                                                              poe__session *from, uint32_t name,
                                                              const poe_value *ret, int64_t now)
{
        uint64_t id = (uint64_t)k->dispatch_seq;
        poe_trace_record r;
        int64_t a1;
        double num;

        if (return_numbers(ret, &a1, &num)) {
                poe__trace_hot_slow(k, POE_TRACE_EVENTS, POE_TK_RETURN, to, name, from, NULL, id,
                                    now, ret->type, a1, 0, 0, num);
                return;
        }
        memset(&r, 0, sizeof(r));
        r.mono_ns = now;
        r.group = POE_TRACE_EVENTS;
        r.kind = POE_TK_RETURN;
        r.event = name;
        r.event_id = id;
        r.arg.i[0] = ret->type;
        if (ret->type == POE_T_STR) {
                r.text = ret->u.s;
                r.text_len = (uint16_t)(ret->len < 63 ? ret->len : 63);
        } else {
                r.text = k->trace_payload;
                r.text_len = (uint16_t)poe_value_format(ret, k->trace_payload, 64);
                if (r.text_len > 63)
                        r.text_len = 63;
        }
        poe__trace(k, &r, to, from, NULL);
}

/* TRACE_EVENTS' return record: a value of numbers in a slot, the rest
 * the general way. */
static inline __attribute__((always_inline)) void
trace_return_value(poe_kernel *k, poe__session *to, poe__session *from, uint32_t name,
                   const poe_value *ret, int64_t now)
{
        int64_t a1;
        double num;

        if (!return_numbers(ret, &a1, &num) ||
            !poe__trace_fill_slot(k, POE_TRACE_EVENTS, POE_TK_RETURN, to, name, from, NULL,
                                (uint64_t)k->dispatch_seq, now, ret->type, a1, 0, 0, num))
                trace_return_slow(k, to, from, name, ret, now);
}

/*
 * The dispatch's optional work, out of the hot path: the event and
 * profile groups.  With TRACE_PROFILE one clock read at each end serves
 * the dispatch and return records (and a sampled dispatch timing's
 * start); the dispatch reads it (hooks_now) where its registers are
 * saved already.  (Busy time is kept without it: poe__busy_settle.)
 * Without it the records read the clock themselves,
 * and not at all while the trace log sheds them (poe__trace_in_slot).
 */
static inline int64_t hooks_now(poe_kernel *k)
{
        return POE__ON(k, POE_TRACE_PROFILE) ? poe__mono_inline(k) : 0;
}

/* ASSERT_EVENTS: a dispatch to a session that does not exist. */
static __attribute__((noinline, cold, noreturn)) void dispatch_gone(poe_kernel *k, poe__session *to,
                                                                    uint32_t name)
{
        poe__assert_fail(k, POE_ASSERT_EVENTS, __FILE__, __LINE__,
                         "dispatching event ``%s'' to %s, which does not exist", poe__name(k, name),
                         poe__loggable(k, to));
}

/* TRACE_EVENTS' dispatch record the general way. */
static __attribute__((noinline, cold)) void
trace_dispatch_slow(poe_kernel *k, poe__session *to, poe__session *from, uint32_t name, int64_t now)
{
        poe__trace_hot_slow(k, POE_TRACE_EVENTS, POE_TK_DISPATCH, to, name, from, from,
                            (uint64_t)k->dispatch_seq, now, 0, 0, 0, 0, 0.0);
}

static inline __attribute__((always_inline)) void
dispatch_hooks_enter(poe_kernel *k, poe__session *to, poe__session *from, uint32_t name,
                     uint32_t type, int64_t now)
{
        POE__ASSUME(to != NULL);
        POE__ASSUME(from != NULL);
        if (POE__ON(k, POE_ASSERT_EVENTS) && !(to->alive || (type & POE__ET_STOP)))
                dispatch_gone(k, to, name);
        if (POE__ON(k, POE_TRACE_EVENTS) && !k->in_sink &&
            !poe__trace_shed_first(k, POE_TRACE_EVENTS) &&
            !poe__trace_fill_slot(k, POE_TRACE_EVENTS, POE_TK_DISPATCH, to, name, from, from,
                                (uint64_t)k->dispatch_seq, now, 0, 0, 0, 0, 0.0))
                trace_dispatch_slow(k, to, from, name, now);
}

/* Dispatch timing samples one dispatch in k->time_every: two clock reads
 * cost as much as a whole yield, so timing every dispatch would halve the
 * speed of a program that is only being watched.  A dispatch the trace
 * groups already read the clock for keeps that reading. */
static __attribute__((noinline)) void timing_enter(poe_kernel *k, poe__delivery *d, int64_t t0)
{
        k->time_countdown = k->time_every;
        d->timed = true;
        d->n0 = k->total_dispatched;
        d->t0 = t0 ? t0 : poe__mono(k);
}

static inline __attribute__((always_inline)) void
dispatch_hooks_leave(poe_kernel *k, poe__session *to, poe__session *from, uint32_t name,
                     const poe_value *ret, int64_t now)
{
        POE__ASSUME(to != NULL);
        POE__ASSUME(from != NULL);
        if (POE__ON(k, POE_TRACE_EVENTS) && !k->in_sink &&
            !poe__trace_shed_first(k, POE_TRACE_EVENTS))
                trace_return_value(k, to, from, name, ret, now);
}

/* What a dispatch puts back when it ends (dispatch_leave), field by
 * field.  As one struct (two moves each way, 6 instructions fewer a
 * yield or a post round) the slice's dispatches took more time, not
 * less: post_pingpong 1-4 % slower, in 20 interleaved pairs of 20, and
 * only call_body, whose own dispatch gained, copies it whole. */
static inline __attribute__((always_inline)) void dispatch_hold(poe_kernel *k, poe__delivery *d)
{
        d->hold.active = k->active;
        d->hold.active_event = k->active_event;
        d->hold.active_type = k->active_type;
        d->hold.dispatch_depth = k->dispatch_depth;
}

/* The dispatch's optional work at its start, when k->dispatch_hooks is
 * set: the event and profile groups' records, and the timing sample. */
static inline __attribute__((always_inline)) void
dispatch_hooks_begin(poe_kernel *k, poe__delivery *d, poe__session *to, uint32_t name,
                     uint32_t type)
{
        int64_t t0 = hooks_now(k);

        dispatch_hooks_enter(k, to, d->from, name, type, t0);
        if (k->time_dispatches && --k->time_countdown == 0)
                timing_enter(k, d, t0);
}

/* The target becomes the active session, pinned so that it may stop
 * itself, and the activity is published. */
static inline __attribute__((always_inline)) void dispatch_set(poe_kernel *k, poe__session *to,
                                                               uint32_t name, uint32_t type)
{
        int depth = k->dispatch_depth;
        const char *ev_name;

        k->active = to;
        k->active_event = name;
        k->active_type = type;
        k->dispatch_depth = depth + 1;
        /* Every event dispatched has an interned name (its making fails
         * without one), so it indexes the table without poe__name's range
         * test. */
        POE__ASSUME(name < k->n_names);
        ev_name = k->names[name];
        /* For other threads (a monitor's): relaxed stores, plain moves.
         * The depth is the one just stored, not read back after them. */
        atomic_store_explicit(&k->pub_session, to->id, memory_order_relaxed);
        atomic_store_explicit(&k->pub_event, ev_name, memory_order_relaxed);
        atomic_store_explicit(&k->pub_depth, depth + 1, memory_order_relaxed);
        to->pins++;
}

/* A dispatch's first half, once dispatch_hold has filled d in: the
 * hooks if any, then dispatch_set.  Inline into each dispatch even at
 * -O2, whose registers are saved already: on its own, with the hooks in
 * it, it would save its own on every dispatch, hooks or not. */
static inline __attribute__((always_inline)) void
dispatch_enter_held(poe_kernel *k, poe__delivery *d, poe__session *to, uint32_t name,
                    uint32_t type)
{
        /* d->t0 is read only when timed, which sets it. */
        d->timed = false;
        if (__builtin_expect(k->dispatch_hooks, 0))
                dispatch_hooks_begin(k, d, to, name, type);
        dispatch_set(k, to, name, type);
}

/* The second half's parts.  The depth put back and the session, for
 * other threads (the kernel's own depth is the caller's to put back). */
static inline __attribute__((always_inline)) void dispatch_unpublish(poe_kernel *k,
                                                                     const poe__session *hold,
                                                                     int depth)
{
        atomic_store_explicit(&k->pub_depth, depth, memory_order_relaxed);
        atomic_store_explicit(&k->pub_session, hold->id, memory_order_relaxed);
}

/* The optional work at the end: the timing sample's duration and the
 * return record.  Each has its own test (d->timed, k->dispatch_hooks). */
static inline __attribute__((always_inline)) void
dispatch_hooks_end(poe_kernel *k, const poe__delivery *d, poe__session *to, const poe_value *ret)
{
        if (__builtin_expect(d->timed, 0))
                poe__stats_duration(k, poe__mono(k) - d->t0, d->n0);
        if (__builtin_expect(k->dispatch_hooks, 0)) {
                int64_t now = hooks_now(k);

                dispatch_hooks_leave(k, to, d->from, d->c.state, ret, now);
        }
}

/* ... and its second: everything put back, whether the handler returned
 * or died (the hooks see the depth put back already), and the target
 * unpinned.  stop() may have reset the active session to the kernel;
 * the dispatch that was running still restores what it found.  Inline
 * for the same reason. */
static inline __attribute__((always_inline)) void
dispatch_leave(poe_kernel *k, const poe__delivery *d, poe__session *to, const poe_value *ret)
{
        /* Read once: after the stores for other threads the compiler
         * would load them again (signal_fanout: 4 instructions fewer a
         * delivery). */
        poe__session *hold = d->hold.active;
        int depth = d->hold.dispatch_depth;

        k->dispatch_depth = depth;
        dispatch_unpublish(k, hold, depth);
        dispatch_hooks_end(k, d, to, ret);
        k->active = hold;
        k->active_event = d->hold.active_event;
        k->active_type = d->hold.active_type;
        poe__session_unpin(k, to);
}

/*
 * The one dispatch, POE's _dispatch_event: makes the target the active
 * session for the duration, pinned so that it may stop itself, calls
 * the handler, and restores the previous active session and event
 * afterwards (dispatch nests through call()).  It runs under the landing
 * frame f (POE's eval around the handler), which it leaves d open in
 * while the handler runs: a poe_die lands there, and the die path
 * (exceptions.c, poe__landed) finishes the dispatch from d.  Inline into
 * the owners of frames: poe__dispatch, which sets one of its own, the
 * slice's loop (poe__dispatch_resume), whose events share run()'s,
 * poe__dispatch_signal, under a signal's, and poe__dispatch_io, under an
 * I/O round's.
 *
 * The kind is read through type where it is used: d->type for most,
 * reloaded after the dispatch's stores (cheaper than holding it in a
 * register across them: 2 instructions a yield or a signal's delivery),
 * or a constant, which folds the tests on it away (poe__dispatch_io,
 * poe__dispatch_signal, call_body).  The handler's value is stored in
 * *ret (dispatch_as returns it instead).  With held, d's hold_* are
 * filled in already (dispatch_hold): a signal's walk holds once for all
 * its watchers, since each dispatch puts back what it found, so the
 * next finds the same (signal_fanout: 12 instructions fewer a delivery).
 */
static inline __attribute__((always_inline)) void
dispatch_to_as(poe_kernel *k, poe__delivery *d, poe__frame *f, const uint32_t *type,
               poe_value *ret, bool held)
{
        /* Read once: the stores the dispatch makes might alias d. */
        poe__session *to = d->c.s;
        uint32_t name = d->c.state;

        if (!held)
                dispatch_hold(k, d);
        dispatch_enter_held(k, d, to, name, *type);
        f->open = d;
        *ret = invoke(k, d, to, name, type);
        f->open = NULL;
        dispatch_leave(k, d, to, ret);
}

/* dispatch_to_as, holding what it finds. */
static inline __attribute__((always_inline)) void dispatch_to(poe_kernel *k, poe__delivery *d,
                                                              poe__frame *f,
                                                              const uint32_t *type,
                                                              poe_value *ret)
{
        dispatch_to_as(k, d, f, type, ret, false);
}

/* dispatch_to, the handler's value returned. */
static inline __attribute__((always_inline)) poe_value
dispatch_as(poe_kernel *k, poe__delivery *d, poe__frame *f, const uint32_t *type)
{
        poe_value ret;

        dispatch_to(k, d, f, type, &ret);
        return ret;
}

static inline __attribute__((always_inline)) poe_value dispatch(poe_kernel *k, poe__delivery *d,
                                                                poe__frame *f)
{
        return dispatch_as(k, d, f, &d->type);
}

/* dispatch() for poe__dispatch, out of line: a function that calls
 * setjmp keeps its variables in memory, since the longjmp back clobbers
 * the registers, so the dispatch runs in a function of its own and only
 * the frame's setting and landing stay in poe__dispatch (call_chain: 8
 * instructions fewer a call). */
static __attribute__((noinline)) poe_value dispatch_body(poe_kernel *k, poe__delivery *d,
                                                         poe__frame *f)
{
        return dispatch(k, d, f);
}

/* A top-level dispatch outside a slice's loop: charged busy time from
 * now to its end (see poe__busy_settle). */
static void busy_begin(poe_kernel *k, poe__session *to, uint32_t name)
{
        poe__busy_settle(k, poe__coarse_inline(k));
        k->busy_sess = to;
        k->busy_event = name;
}

/* A call's own state, in its public function's frame: the delivery,
 * the landing frame (call_framed's), and the handler's value.  One
 * pointer finds all three, so call_framed and call_body keep one
 * pointer across the setjmp and the handler, not three. */
typedef struct call_state {
        poe__delivery d;
        poe__frame f;
        poe_value v;
} call_state;

/* call_body's hooks, out of line: what they need is read from d, so
 * that call_body keeps nothing across them. */
static __attribute__((noinline, cold)) void call_hooks_begin(poe_kernel *k, poe__delivery *d)
{
        dispatch_hooks_begin(k, d, d->c.s, d->c.state, POE__ET_CALL);
}

static __attribute__((noinline, cold)) void call_hooks_end(poe_kernel *k, poe__delivery *d,
                                                           const poe_value *ret)
{
        k->dispatch_depth = d->hold.dispatch_depth; /* as dispatch_leave's hooks see it */
        dispatch_hooks_end(k, d, d->c.s, ret);
}

/* The dispatch for call(), its parts as dispatch_to's (hold, enter,
 * invoke, leave), with its kind a constant (the tests on it fold away)
 * and the handler's value stored in cs->v instead of copied out
 * through two returns (call_chain: 13 instructions fewer a call).
 * cs->f, set by call_framed, becomes the innermost frame here, with the
 * delivery open in it, and is taken off after the handler.  Only k and
 * cs are kept across the handler: the target, the frame and the value
 * are found from cs, the hooks are out of line (call_hooks_*) and
 * invoke_as reads the target and name again after the trace option's
 * line, so it saves two registers where it saved six (call_chain: 13
 * instructions fewer a call, 391 -> 378). */
static __attribute__((noinline)) void call_body(poe_kernel *k, call_state *cs)
{
        static const uint32_t call_type = POE__ET_CALL;
        poe__delivery *d = &cs->d;
        poe__session *to;
        uint32_t name;

        /* What is running, put aside whole (dispatch_hold's comment). */
        d->hold = k->running;
        d->timed = false;
        if (__builtin_expect(k->dispatch_hooks, 0))
                call_hooks_begin(k, d);
        to = d->c.s;
        name = d->c.state;
        dispatch_set(k, to, name, call_type);
        /* The frame is pushed while the handler runs, and only then: a
         * die that lands in it always has d open, which the landing
         * says (call_framed), not this. */
        cs->f.up = k->frame;
        k->frame = &cs->f;
        cs->v = invoke_as(k, d, to, name, &call_type, true);
        k->frame = cs->f.up;
        /* The depth is put back with the rest (below), or before the
         * hooks, which see it put back (call_hooks_end). */
        dispatch_unpublish(k, d->hold.active, d->hold.dispatch_depth);
        if (__builtin_expect(d->timed | k->dispatch_hooks, 0))
                call_hooks_end(k, d, &cs->v);
        /* dispatch_leave's end, the struct put back whole. */
        k->running = d->hold;
        poe__session_unpin(k, d->c.s);
}

/* poe__dispatch for call(), out of call() since GCC copies no function
 * that calls setjmp into two callers (call_alias and call): a call is
 * never the GC event.  True if the handler died, when cs->v is unset
 * and call() returns no value.  The frame is set here and pushed by
 * call_body while the handler runs; after a die, the landing takes it
 * off, with the delivery open in it. */
static __attribute__((noinline)) bool call_framed(poe_kernel *k, call_state *cs)
{
        if (POE__SETJMP(cs->f.jb) != 0) {
                k->frame = cs->f.up;
                cs->f.open = &cs->d;
                poe__landed(k, &cs->f);
                return true;
        }
        call_body(k, cs);
        return false;
}

/* A top-level guarded dispatch's start: busy time charged to it from
 * now, or from the slice's reading for the sweep's first (sweep_slice). */
static inline void top_begin(poe_kernel *k, const poe__delivery *d)
{
        if (__builtin_expect(k->busy_reuse, 0)) {
                k->busy_reuse = false;
                k->busy_sess = d->c.s;
                k->busy_event = d->c.state;
        } else {
                busy_begin(k, d->c.s, d->c.state);
        }
}

/*
 * The guarded dispatch: the one, under a landing frame of its own.  A
 * dispatch from a handler (_start, _stop, _child, ...) is made here (a
 * call in call_framed, this function for its one kind); the queued
 * events of a slice share run()'s frame instead
 * (poe__dispatch_resume), which saves a setjmp per event, a signal's
 * watchers share the signal's (poe__dispatch_signal), and an I/O round's
 * watchers the round's (poe__dispatch_io).
 *
 * A top-level dispatch is charged busy time from its start to its end,
 * but for one the slice makes itself after its events (k->busy_defer:
 * the sweep's _stop and _child, a signal's watchers), whose end is the
 * next reading, as the queued events' is.
 */
poe_value poe__dispatch(poe_kernel *k, poe__delivery *d)
{
        bool top = k->dispatch_depth == 0;
        poe__frame f;
        poe_value ret;

        /* The GC event exists only to be dequeued (POE's ET_GC). */
        if (d->type & POE__ET_GC)
                return poe_nil();
        if (top)
                top_begin(k, d);
        poe__frame_push(k, &f);
        if (POE__SETJMP(f.jb) != 0) {
                k->frame = f.up;
                poe__landed(k, &f);
                return poe_nil();
        }
        ret = dispatch_body(k, d, &f);
        k->frame = f.up;
        if (top && !k->busy_defer)
                poe__busy_settle(k, poe__coarse(k));
        return ret;
}

/*
 * poe__dispatch under a landing frame its caller has set and made the
 * innermost (a create's _start and _child, sessions.c, share one): the
 * same busy time, the dispatch inline, the handler's value in *ret.
 * After a die the caller lands as poe__dispatch does (poe__landed, with
 * the frame above innermost), and nothing here is finished: no settle,
 * as in poe__dispatch.  Never the GC event.
 */
void poe__dispatch_in(poe_kernel *k, poe__delivery *d, poe__frame *f, poe_value *ret)
{
        bool top = k->dispatch_depth == 0;

        if (top)
                top_begin(k, d);
        dispatch_to(k, d, f, &d->type, ret);
        if (top && !k->busy_defer)
                poe__busy_settle(k, poe__coarse(k));
}

/*
 * A signal's deliveries, from its walk's position on (signals.c's
 * poe__signal_dispatch sets the frame they share and comes back here
 * after a die, past the watcher that died).  Each touched session still
 * alive when its turn comes, and watching the signal then (an earlier
 * handler may have stopped it or removed its watcher), gets its
 * watcher's event: ARG0 the signal's name, then the signal's arguments,
 * in the signal's own when the watcher has none (the common case), else
 * copied with the watcher's into d->ev, freed after the dispatch, or
 * after a die by the walk.  The dispatch is inline, as an I/O round's
 * is.  Its busy time ends at the next reading, the next watcher's or the
 * slice's, as the queued events' does (k->busy_defer).
 */
static inline __attribute__((always_inline)) void signal_walk(poe_kernel *k, poe__sigwalk *r,
                                                             const uint32_t *type)
{
        poe__delivery *d = &r->d;
        poe__session **touched = r->touched;
        uint32_t sig = r->sig;
        int i;

        dispatch_hold(k, d); /* once for the walk: dispatch_to_as */
        /* The signal's own arguments, until a watcher with its own has
         * them copied (poe__signal_args_copy), whose copy's end puts
         * them back (poe__signal_delivery_done). */
        d->c.args = poe__ev_args(r->ev);
        d->c.nargs = poe__ev_nargs(r->ev);
        for (i = r->w; i >= 0; i--) {
                poe__session *t = touched[i];
                poe__sigwatch *w;
                poe_value ret;

                /* The session eight visits on asked for now: its
                 * first line, whose liveness, more and handler table
                 * each visit waits for (signal_fanout: -3 % of the time
                 * for 7 instructions a delivery; the more and the
                 * watcher behind it as well cost more than they gave). */
                if (i >= 8)
                        __builtin_prefetch(touched[i - 8]);
                if (!t->alive)
                        continue;
                w = poe__sigwatch_find(t, sig);
                if (!w) {
                        /* The kernel's session watches no signal with
                         * sig(); run() has it watch IDLE. */
                        if (t->is_kernel && r->idle_watch)
                                poe__signal_kernel_idle(k, r);
                        continue;
                }
                r->w = i; /* where a die resumes: after it */
                if (w->nargs && !poe__signal_args_copy(k, r, w))
                        continue;
                POE_TRACE(k, POE_TRACE_SIGNALS, t, w->event, NULL, NULL,
                          .kind = POE_TK_SIGNAL_DELIVER, .text = poe__ev_args(r->ev)[0].u.s,
                          .text_len = (uint16_t)strnlen(poe__ev_args(r->ev)[0].u.s, UINT16_MAX));
                d->c.s = t;
                d->c.state = w->event;
                if (k->dispatch_depth == 0)
                        busy_begin(k, t, w->event);
                dispatch_to_as(k, d, k->frame, type, &ret, true);
                poe__value_drop(&ret);
                if (d->ev)
                        poe__signal_delivery_done(k, r);
        }
}

/* The walk twice, for a signal and for DIE, each with its kind a
 * constant (signal_fanout: 17 instructions fewer a delivery). */
void poe__dispatch_signal(poe_kernel *k, poe__sigwalk *r)
{
        static const uint32_t signal_type = POE__ET_SIGNAL;
        static const uint32_t die_type = POE__ET_SIGNAL | POE__ET_SIGDIE;

        if (r->d.type & POE__ET_SIGDIE)
                signal_walk(k, r, &die_type);
        else
                signal_walk(k, r, &signal_type);
}

/*
 * An I/O round's dispatches, from its position on (handles.c's
 * poe__io_dispatch_ready sets the frame they share and comes back here
 * after a die).  Each ready watcher's handler gets ARG0 the fd and ARG1
 * the mode, then the watcher's arguments: in the round's two when it
 * has none (the common case), else copied into d->ev, since the handler
 * may remove its own watcher; the copy is freed after the dispatch, or
 * after a die by the round.  The dispatch is inline, of a known kind.
 * Its busy time ends at the next reading, the next ready dispatch's or
 * the slice's (poe__dispatch_due), as the queued events' does, so that a
 * wake-up reads the coarse clock once for its dispatches, not twice each.
 */
void poe__dispatch_io(poe_kernel *k, poe__io_round *r)
{
        static const uint32_t select_type = POE__ET_SELECT;
        poe__delivery *d = &r->d;
        int mode;
        size_t i;

        for (mode = r->mode, i = r->i; mode < POE__MODES; mode++, i = 0) {
                for (; i < k->n_ready[mode]; i++) {
                        int fd = k->ready[mode][i];
                        poe__watch *w = poe__io_ready_watch(k, fd, mode);
                        poe_value ret;

                        if (!w)
                                continue;
                        r->mode = mode;
                        r->i = i;
                        r->pre[0].u.i = fd;
                        r->pre[1].u.i = mode;
                        d->c.args = r->pre;
                        d->c.nargs = 2;
                        if (w->nargs) {
                                d->ev = poe__event_new2(k, r->pre, 2, w->args, w->nargs);
                                if (!d->ev) {
                                        /* Level-triggered: the fd is reported
                                         * again next slice, so nothing is lost. */
                                        poe__warn(k, "<fh> out of memory dispatching fd %d\n",
                                                  fd);
                                        continue;
                                }
                                d->c.args = poe__ev_args(d->ev);
                                d->c.nargs = poe__ev_nargs(d->ev);
                        }
                        d->c.s = w->session;
                        d->c.state = w->event;
                        d->c.sender = w->session->id;
                        d->from = w->session;
                        if (k->dispatch_depth == 0)
                                busy_begin(k, w->session, w->event);
                        ret = dispatch_as(k, d, k->frame, &select_type);
                        poe__value_drop(&ret);
                        if (d->ev) {
                                poe__free(k, d->ev);
                                d->ev = NULL;
                        }
                }
        }
}

/* The dispatch's end after its handler died (the die path, exceptions.c):
 * what dispatch() would have done after the handler returned. */
void poe__dispatch_end(poe_kernel *k, poe__delivery *d, const poe_value *ret)
{
        dispatch_leave(k, d, d->c.s, ret);
        if (k->dispatch_depth == 0)
                poe__busy_settle(k, poe__coarse(k));
}

/* The end of a queued event's dispatch: POE stops everything once an
 * exception must reach run()'s caller.  Also the die path's. */
void poe__event_done(poe_kernel *k, poe__event *ev)
{
        k->dispatch_seq = 0;
        poe__event_free(k, ev);
        if (k->exception)
                poe_kernel_stop(k);
}

/*
 * A queued event's wait, or a timer's lateness, on the times the queue
 * has already (stats.h): no clock read.  A timer set for a time already
 * past when the slice before began is late only from that slice's start.
 */
static inline __attribute__((always_inline)) void count_wait(poe_kernel *k, const poe__event *ev)
{
        if (ev->type & POE__ET_ALARM) {
                int64_t from = ev->due > k->slice_prev ? ev->due : k->slice_prev;

                poe__stats_lag_add(k->stats.lag, &k->stats.lag_ns, k->slice_now - from);
        } else {
                poe__stats_lag_add(k->stats.wait, &k->stats.wait_ns, k->slice_now - ev->due);
        }
}

/*
 * POE's _data_ev_dispatch_due: dispatches what was due when the slice
 * began.  Events posted by the handlers of this slice wait for the next
 * one, as they do in POE, where their priority is later than the time
 * this loop compares against.
 */
/*
 * The slice's own top-level dispatches (a signal's watchers, the
 * sweep's _stop and _child) are settled by the next reading, as its
 * queued events are (poe__busy_settle): k->busy_defer is set around
 * them, only when there are some, so a slice without pays nothing.
 * With nothing charged (no busy_sess), the last reading was taken in
 * this slice (its start's, or one that ended a charge since) and only
 * the kernel's own work ran after it, so the sweep's first dispatch
 * starts at that reading, as a slice's first queued event does, and
 * reads no clock of its own (k->busy_reuse, poe__dispatch): a session
 * collected in a slice that dispatched nothing else (session_churn) is
 * stopped with one reading fewer.  A signal's walk does not test for
 * it: a test in each watcher's dispatch would cost more than it saves.
 */
static inline void sweep_slice(poe_kernel *k)
{
        if (!poe__list_empty(&k->gc_marked)) {
                k->busy_defer = true;
                k->busy_reuse = k->busy_sess == NULL;
                poe__gc_sweep_marked(k);
                k->busy_defer = false;
                k->busy_reuse = false;
        }
}

/* A slice's start: its clock reading, time and item id cut. */
static inline __attribute__((always_inline)) void slice_start(poe_kernel *k)
{
        poe__busy_settle(k, poe__clock_slice(k));
        k->slice_prev = k->slice_now;
        k->slice_now = k->now;
        k->slice_cut = k->seq;
}

void poe__dispatch_due(poe_kernel *k)
{
        slice_start(k);
        if (k->queue_count == 0) {
                /* Nothing queued (an I/O wake-up's slice): the loop's end. */
                sweep_slice(k);
                return;
        }
        poe__dispatch_resume(k);
}

/* A queued event's delivery: its fields read before any is stored, which
 * might alias them. */
static inline __attribute__((always_inline)) void delivery_of(poe_kernel *k, poe__delivery *d,
                                                              poe__event *ev)
{
        poe__session *to = ev->to, *from = poe__ev_from(ev);
        uint32_t name = ev->name, type = ev->type, from_state = ev->from_state;
        poe_value *args = poe__ev_args(ev);
        size_t nargs = poe__ev_nargs(ev);
        const char *file = poe__name(k, ev->file);
        int line = ev->line;

        poe__delivery_head(d, k, to, from, name, type);
        d->c.file = file;
        d->c.line = line;
        d->c.from_state = from_state;
        d->c.args = args;
        d->c.nargs = nargs;
        d->ev = ev;
}

/*
 * The slice's loop, entered from poe__dispatch_due, or again after a
 * handler died (the die path, exceptions.c's poe__slice_landed).  Plain
 * events are dispatched here without a landing frame of their own: the
 * one set by run() (kernel.c) catches poe_die for all of them, and
 * finds the dispatch open in it, k->top.  Signals, and anything a
 * handler dispatches itself, go through poe__dispatch and its own frame.
 *
 * Under run() (k->run_slicing), when the slice is done and the next would
 * skip its wait (poe__slice_only_events: only posts are pending), the
 * next slice begins here, as run()'s loop would begin it, and the way
 * back to that loop and in again is not paid: a yield chain's slices
 * are one event each.  The kernel's session gone, or IDLE not raised
 * for want of memory, run()'s loop is the one to see it.
 */
void poe__dispatch_resume(poe_kernel *k)
{
        poe__event *ev;

next:
        while ((ev = poe__queue_next_due(k, k->slice_now, k->slice_cut))) {
                dequeue(k, ev, false);
                k->dispatch_seq = (int64_t)ev->seq;
                if (ev->type & (POE__ET_SIGNAL | POE__ET_SIGDIE)) {
                        count_wait(k, ev);
                        k->busy_defer = true;
                        poe__signal_dispatch(k, ev);
                        k->busy_defer = false;
                } else if (!(ev->type & POE__ET_GC)) {
                        poe__delivery *d = &k->top;
                        poe_value r;

                        count_wait(k, ev);
                        /* Charged busy time from the slice's clock
                         * reading, or the end of the dispatch before it
                         * (see poe__busy_settle). */
                        if (__builtin_expect(k->busy_sess != NULL, 0))
                                poe__busy_settle(k, poe__coarse(k));
                        k->busy_sess = ev->to;
                        k->busy_event = ev->name;
                        delivery_of(k, d, ev);
                        r = dispatch(k, d, k->frame);
                        poe__value_drop(&r);
                }
                poe__event_done(k, ev);
        }
        sweep_slice(k);
        if (k->run_slicing && k->ksession->alive && k->raise_failures < POE__RAISE_TRIES &&
            poe__slice_only_events(k)) {
                slice_start(k);
                goto next;
        }
}

/* A departing session's timer, gone. */
static void discard_timer(poe_kernel *k, poe__session *s, poe__event *ev)
{
        POE_TRACE_HOT(k, POE_TRACE_EVENTS, POE_TK_DISCARD, s, ev->name, s, NULL, ev->seq, 0, 1, 0,
                      0, 0, 0.0);
        poe__dequeue(k, ev);
        poe__event_free(k, ev);
}

/*
 * POE's _data_ev_clear_session: a departing session loses the events
 * queued to it and the events it sent that are still queued.  Its timers
 * are found through its own list (made now if no call needed the lists
 * before: once, O(timers pending)), or without the memory to make them,
 * one walk of the heap each, in the same order; posts cost a scan of the
 * FIFO, O(posts queued), as in POE, paid only by a session that has some.
 */
void poe__events_clear_session(poe_kernel *k, poe__session *s)
{
        poe__list_node *pos, *tmp;
        poe__event *ev;

        if (*poe__reason_slot(s, POE_REASON_TIMERS) && poe__timers_list(k) < 0)
                while ((ev = poe__timer_first_of(k, s)))
                        discard_timer(k, s, ev);
        while (!poe__list_empty(&s->timers))
                discard_timer(k, s,
                              poe__container_of(poe__list_first(&s->timers), poe__event, link));
        if (!s->reasons[POE_REASON_EVENTS_TO] && !s->reasons[POE_REASON_EVENTS_FROM])
                return;
        poe__list_foreach_safe(pos, tmp, &k->fifo) {
                ev = poe__container_of(pos, poe__event, link);
                if (ev->to != s && ev->u.from != s)
                        continue;
                POE_TRACE_HOT(k, POE_TRACE_EVENTS, POE_TK_DISCARD, ev->to, ev->name, ev->u.from,
                              NULL, ev->seq, 0, 0, 0, 0, 0, 0.0);
                poe__dequeue(k, ev);
                poe__event_free(k, ev);
        }
}

/* ---- the public calls ---- */

/* Inline into each public post: yield's whole path is a few calls. */
static inline __attribute__((always_inline)) int post(poe_kernel *k, const char *file, int line,
                                                      poe__session *to, const char *event,
                                                      const poe_value *args, size_t nargs)
{
        uint32_t name = poe__intern_cached(k, event);
        uint32_t fid = poe__file(k, file);
        poe__event *ev = NULL;

        if (name != POE__NO_NAME && fid != POE__NO_NAME)
                ev = poe__event_new(k, args, nargs);
        if (!ev) {
                poe__values_destroy_borrowed(args, nargs);
                return -ENOMEM;
        }
        enqueue_post(k, ev, to, k->active, name, POE__ET_POST, fid, line);
        return 0;
}

POE_EXPORT int poe_kernel_post_at(poe_kernel *k, const char *file, int line, poe_sid dest,
                                  const char *event, const poe_value *args, size_t nargs)
{
        poe__session *s;

        POE_CHECK_ARGS_AT(k, file, line, k && event && (args || !nargs), -EINVAL, args, nargs);
        s = poe__session_get(k, dest);
        if (!s) {
                poe__resolve_failed(k, NULL, dest);
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv_unresolved(k, __func__, file, line);
        }
        return poe__rv_at(k, file, line, post(k, file, line, s, event, args, nargs), __func__);
}

POE_EXPORT int poe_kernel_post_alias_at(poe_kernel *k, const char *file, int line,
                                        const char *alias, const char *event,
                                        const poe_value *args, size_t nargs)
{
        poe__session *s;

        POE_CHECK_ARGS_AT(k, file, line, k && alias && event && (args || !nargs), -EINVAL, args,
                          nargs);
        s = poe__resolve(k, alias);
        if (!s) {
                poe__resolve_failed(k, alias, 0);
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv_unresolved(k, __func__, file, line);
        }
        return poe__rv_at(k, file, line, post(k, file, line, s, event, args, nargs), __func__);
}

POE_EXPORT int poe_kernel_yield_at(poe_kernel *k, const char *file, int line, const char *event,
                                   const poe_value *args, size_t nargs)
{
        POE_CHECK_ARGS_AT(k, file, line, k && event && (args || !nargs), -EINVAL, args, nargs);
        if (k->active->is_kernel || !k->active->alive) {
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv_at(k, file, line, poe__outside(k, -EPERM, __func__), __func__);
        }
        return poe__rv_at(k, file, line, post(k, file, line, k->active, event, args, nargs),
                          __func__);
}

/*
 * POE calls the handler directly when a session calls itself: the
 * active event stays the caller's, and a die goes on to the caller's own
 * dispatch, after this call has let go of what it holds (its copy of the
 * arguments, freed if heap is set, and its pin).  No dispatch is open
 * under this frame: it only lets go.  Out of call(), which then sets no
 * frame and keeps its variables in registers.
 */
static __attribute__((noinline)) poe_value self_call(poe_kernel *k, poe__delivery *d, bool heap)
{
        poe__session *s = d->c.s;
        poe__frame f;
        poe_value v;

        s->pins++;
        poe__frame_push(k, &f);
        if (POE__SETJMP(f.jb) != 0) {
                k->frame = f.up;
                poe__values_destroy(d->c.args, d->c.nargs);
                if (heap)
                        poe__free(k, d->c.args);
                poe__session_unpin(k, s);
                poe__unwind(k);
        }
        v = invoke(k, d, s, d->c.state, &d->type);
        k->frame = f.up;
        poe__session_unpin(k, s);
        return v;
}

/* Arguments a call copies on its stack; more go on the heap. */
#define CALL_SMALL 8

/* What a call's copy of its arguments holds, as call() notes it while
 * it copies: a bit for each kind of value in it (1 << type, the type
 * taken modulo 16, which only ever marks more), and CALL_HEAP when the
 * copy is on the heap.  One test after the dispatch says whether there
 * is anything to let go of (call_chain: 2 instructions fewer a call),
 * and the bits cost one instruction a value where the owned flag's
 * tests cost three. */
#define CALL_KIND(type) (1u << ((unsigned)(type) & 15))
#define CALL_OWNED (CALL_KIND(POE_T_PTR) | CALL_KIND(POE_T_LIST))
#define CALL_HEAP (1u << 16)

/* What call() lets go of after the dispatch, whether its handler
 * returned or died: the copy of the arguments (what is owned in it, and
 * the block if it is on the heap; held says which, see CALL_KIND).
 * Then POE's call rethrows a pending exception into its caller. */
static inline __attribute__((always_inline)) void call_release(poe_kernel *k,
                                                               const poe__delivery *d,
                                                               unsigned held)
{
        /* The copy read back from d, which holds it anyway, rather than
         * kept across the dispatch (call_chain: 5 instructions fewer a
         * call). */
        if (__builtin_expect(held & (CALL_OWNED | CALL_HEAP), 0)) {
                if (held & CALL_OWNED)
                        poe__values_destroy(d->c.args, d->c.nargs);
                if (held & CALL_HEAP)
                        poe__free(k, d->c.args);
        }
        if (k->exception && k->frame)
                poe__rethrow(k);
}

/* A call's place (file, line), stored in its delivery d first thing:
 * the public call reads it back from there, after the lookups and the
 * dispatch, instead of keeping its own copy across them (call_chain: 2
 * instructions fewer a call). */
#define CALL_PLACE(d, file_, line_)          \
        do {                                 \
                (d)->c.file = (file_);       \
                (d)->c.line = (line_);       \
        } while (0)

/* POE's call: inline into each public call, whose arguments it takes
 * as they come (call_chain: 34 instructions fewer a call). */
static inline __attribute__((always_inline)) int call(poe_kernel *k, call_state *cs,
                                                      poe__session *s, const char *event,
                                                      const poe_value *args, size_t nargs,
                                                      poe_value *ret)
{
        poe__delivery *d = &cs->d;
        poe_value small[CALL_SMALL], *copy = small;
        uint32_t name = poe__intern_cached(k, event);
        poe__session *from = k->active;
        unsigned held = 0;
        size_t i;

        if (nargs > CALL_SMALL) {
                copy = poe__malloc(k, nargs * sizeof(*copy));
                held = CALL_HEAP;
        }
        if (name == POE__NO_NAME || !copy) {
                if (copy != small)
                        poe__free(k, copy);
                poe__values_destroy_borrowed(args, nargs);
                return -ENOMEM;
        }
        /* A shallow copy, so a handler can take pointer arguments; what
         * it holds that is owned (a pointer's destructor, a list's) is
         * let go of after the call, so it notes the kinds it holds. */
        for (i = 0; i < nargs; i++) {
                copy[i] = args[i];
                held |= CALL_KIND(args[i].type);
        }
        /* The place is set already (CALL_PLACE). */
        poe__delivery_head(d, k, s, from, name, POE__ET_CALL);
        d->c.args = copy;
        d->c.nargs = nargs;
        d->c.from_state = from->is_kernel ? POE__NO_NAME : k->active_event;
        if (s == from) {
                cs->v = self_call(k, d, copy != small);
        } else {
                /* A top-level call is charged busy time from now to its
                 * end; the dispatch puts the depth back, so the same
                 * test says so after it (poe__dispatch_end settles
                 * after a die). */
                if (k->dispatch_depth == 0)
                        busy_begin(k, s, name);
                /* Its own way out after a die, so that the common one
                 * does not keep the flag across the release (call_chain:
                 * 2 instructions fewer a call). */
                if (__builtin_expect(call_framed(k, cs), 0)) {
                        call_release(k, d, held);
                        return -ECANCELED;
                }
                if (k->dispatch_depth == 0 && !k->busy_defer)
                        poe__busy_settle(k, poe__coarse(k));
        }
        call_release(k, d, held);
        if (ret)
                *ret = cs->v;
        else
                poe_value_release(&cs->v);
        return 0;
}

POE_EXPORT int poe_kernel_call_at(poe_kernel *k, const char *file, int line, poe_sid dest,
                                  const char *event, const poe_value *args, size_t nargs,
                                  poe_value *ret)
{
        call_state cs;
        poe__session *s;

        POE_CHECK_ARGS_AT(k, file, line, k && event && (args || !nargs), -EINVAL, args, nargs);
        CALL_PLACE(&cs.d, file, line);
        s = poe__session_get(k, dest);
        if (!s) {
                poe__resolve_failed(k, NULL, dest);
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv_unresolved(k, __func__, cs.d.c.file, cs.d.c.line);
        }
        return poe__rv_at(k, cs.d.c.file, cs.d.c.line, call(k, &cs, s, event, args, nargs, ret),
                          __func__);
}

POE_EXPORT int poe_kernel_call_alias_at(poe_kernel *k, const char *file, int line,
                                        const char *alias, const char *event,
                                        const poe_value *args, size_t nargs, poe_value *ret)
{
        call_state cs;
        poe__session *s;

        POE_CHECK_ARGS_AT(k, file, line, k && alias && event && (args || !nargs), -EINVAL, args,
                          nargs);
        CALL_PLACE(&cs.d, file, line);
        s = poe__resolve(k, alias);
        if (!s) {
                poe__resolve_failed(k, alias, 0);
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv_unresolved(k, __func__, cs.d.c.file, cs.d.c.line);
        }
        return poe__rv_at(k, cs.d.c.file, cs.d.c.line, call(k, &cs, s, event, args, nargs, ret),
                          __func__);
}

POE_EXPORT void poe_kernel_activity_get(const poe_kernel *k, poe_kernel_activity *ret)
{
        poe_kernel_activity a;

        if (!ret)
                return;
        memset(&a, 0, sizeof(a));
        if (k) {
                a.dispatches = atomic_load_explicit(&k->pub_dispatches, memory_order_acquire);
                a.dispatching = atomic_load_explicit(&k->pub_depth, memory_order_relaxed) > 0;
                a.session = atomic_load_explicit(&k->pub_session, memory_order_relaxed);
                a.event = atomic_load_explicit(&k->pub_event, memory_order_relaxed);
        }
        *ret = a;
}

POE_EXPORT size_t poe_kernel_get_event_count(const poe_kernel *k)
{
        return k ? k->queue_count : 0;
}
