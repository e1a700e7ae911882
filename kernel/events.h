/*
 * Events and their dispatch (events.c): making and freeing events,
 * queueing them, running handlers, and what is running now.
 */
#include "internal.h"

#ifndef POE_EVENTS_H_PART
#define POE_EVENTS_H_PART

#include "stats.h"

/* What is running: the active session, its event and kind, and how
 * many dispatches are open.  One struct, so that a call's dispatch puts
 * it aside and back as a whole (events.c's call_body; the others do it
 * field by field, dispatch_hold says why); the kernel holds it under its
 * fields' own names too (POE__EVENTS_PART). */
#define POE__RUNNING_FIELDS            \
        struct poe__session *active;   \
        uint32_t active_event;         \
        uint32_t active_type;          \
        int dispatch_depth;
typedef struct poe__running {
        POE__RUNNING_FIELDS
} poe__running;

/* What a handler sees (POE's @_). */
struct poe_ctx {
        poe_kernel *k;
        poe__session *s;
        uint32_t state;
        poe_sid sender;
        void *object;
        const char *file;
        int line;
        uint32_t from_state;
        poe_value *args;
        size_t nargs;
};

/*
 * One delivery of an event to a handler, the one thing every dispatch
 * passes around (events.c): the handler's view of it, built once, in
 * place (c: c.s the target, c.state the event), the sender, the kind,
 * and what the dispatch changed and must put back.  It lives in the
 * memory of the function that set the landing frame it runs under, so
 * that after poe_die has unwound there the dispatch is finished from it
 * (exceptions.c, the die path).
 */
typedef struct poe__delivery {
        struct poe_ctx c;
        struct poe__session *from;
        uint32_t type; /* POE__ET_* */
        /* The event whose arguments these are, when the frame's owner
         * frees it after the dispatch (the slice's queued event, a
         * signal watcher's copy); only those owners set it. */
        poe__event *ev;
        /* What the dispatch put aside (dispatch_hold), for its end. */
        poe__running hold;
        bool timed; /* one of the dispatches timing samples */
        int64_t t0;
        uint64_t n0; /* when timed: handlers run before it */
} poe__delivery;

/* Dispatch: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__EVENTS_PART                                                        \
        /* What is running, by its fields' names or as one (running). */       \
        union {                                                                 \
                struct {                                                        \
                        POE__RUNNING_FIELDS                                     \
                };                                                              \
                poe__running running;                                           \
        };                                                                      \
        int64_t dispatch_seq; /* the queue id being dispatched, 0 if none */    \
        /* The timeslice under way: its time and item id cut, and the           \
         * top-level event whose handler runs (see poe__dispatch_resume). */    \
        int64_t slice_now;                                                      \
        int64_t slice_prev; /* the slice before's start (timer lag's floor) */  \
        uint64_t slice_cut;                                                     \
        poe__delivery top; /* the slice's queued event's */                     \
        uint64_t total_dispatched; /* handlers run */                           \
        poe__stats stats;          /* stats.h */                                \
        bool time_dispatches;                                                   \
        /* One dispatch in time_every is timed: the one that takes              \
         * time_countdown to 0 (poe_kernel_set_dispatch_timing). */             \
        uint32_t time_every, time_countdown;                                    \
        /* Does a dispatch have anything to do besides calling the handler      \
         * (the event and profile groups, dispatch timing)?  One test instead   \
         * of one per hook (poe__dispatch_hooks_update). */                     \
        bool dispatch_hooks;                                                    \
        /* Busy time, always kept (poe__busy_settle): the session whose         \
         * top-level dispatch began at busy_mark (coarse clock) and is not      \
         * charged yet, with its event.  slow_ns: a dispatch that long          \
         * counts as slow (poe_kernel_set_slow_dispatch). */                    \
        poe__session *busy_sess;                                                \
        uint32_t busy_event;                                                    \
        int64_t busy_mark;                                                      \
        /* Set while a slice sweeps or walks a signal's watchers (events.c:   \
         * sweep_slice): a top-level dispatch then leaves its end to the next \
         * reading.  No die unwinds past either: each dispatch has a frame. */ \
        bool busy_defer;                                                        \
        /* Set with busy_defer for a sweep when nothing was charged since    \
         * the slice's reading: its first dispatch starts at busy_mark.  */   \
        bool busy_reuse;                                                        \
        int64_t slow_ns;                                                        \
        /* Published for other threads (poe_kernel_activity_get). */            \
        _Atomic uint64_t pub_dispatches;                                        \
        _Atomic int pub_depth;                                                  \
        _Atomic poe_sid pub_session;                                            \
        _Atomic(const char *) pub_event;

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_EVENTS_H)
#define POE_EVENTS_H

/* Recomputes k->dispatch_hooks after a switch it depends on changed. */
static inline void poe__dispatch_hooks_update(poe_kernel *k)
{
        k->dispatch_hooks = POE__ON(k, POE_ASSERT_EVENTS | POE_TRACE_EVENTS | POE_TRACE_PROFILE) ||
                            k->time_dispatches;
}

/* events.c: counts a handler run (by kind and in all; stats.h). */
void poe__count_handler(poe_kernel *k, poe__session *s, uint32_t type);

/* events.c */
poe__event *poe__event_new2(poe_kernel *k, const poe_value *prefix, size_t nprefix,
                            const poe_value *args, size_t nargs);
/* An event for args: an argumentless one, the common case, straight off
 * the free list (events.c) when it has one; the rest out of line.  (With
 * AddressSanitizer the free blocks are poisoned: always out of line.) */
static inline poe__event *poe__event_new(poe_kernel *k, const poe_value *args, size_t nargs)
{
#if !defined(__SANITIZE_ADDRESS__)
        poe__event *ev = k->ev_free;

        if (__builtin_expect(nargs == 0 && ev != NULL, 1)) {
                k->ev_free = ev->free_next;
                ev->nargs = 0;
                return ev;
        }
#endif
        return poe__event_new2(k, NULL, 0, args, nargs);
}
poe__event *poe__event_new_short2(poe_kernel *k);
/* A timer's event.  An argumentless timer set while no session's timer
 * list is kept gets a short block, without the list link it does not
 * need (struct poe__event), and *type gains POE__EV_SHORT to say so (its
 * enqueue stores the type); the rest are as poe__event_new. */
static inline poe__event *poe__timer_event_new(poe_kernel *k, const poe_value *args, size_t nargs,
                                               uint32_t *type)
{
        if (__builtin_expect(nargs == 0 && !k->timers_listed, 1)) {
                *type |= POE__EV_SHORT;
#if !defined(__SANITIZE_ADDRESS__)
                poe__event *ev = k->ev_free_short;

                if (__builtin_expect(ev != NULL, 1)) {
                        k->ev_free_short = ev->free_next;
                        ev->nargs = 0;
                        return ev;
                }
#endif
                return poe__event_new_short2(k);
        }
        return poe__event_new(k, args, nargs);
}
void poe__event_free(poe_kernel *k, poe__event *ev);
/* Frees a timer's event (poe__event_free): a short block, the common
 * case of alarm_remove's, straight back on its free list. */
static inline void poe__timer_event_free(poe_kernel *k, poe__event *ev)
{
#if !defined(__SANITIZE_ADDRESS__)
        if (__builtin_expect((ev->type & POE__EV_SHORT) != 0, 1)) {
                ev->free_next = k->ev_free_short;
                k->ev_free_short = ev;
                return;
        }
#endif
        poe__event_free(k, ev);
}
int poe__events_reserve(poe_kernel *k, size_t n);
poe__event *poe__event_lengthen(poe_kernel *k, poe__event *ev);
void poe__events_free(poe_kernel *k);
/* Queues an event that is not a timer (POE's _data_ev_enqueue). */
void poe__enqueue(poe_kernel *k, poe__event *ev, poe__session *to, poe__session *from,
                  uint32_t name, uint32_t type, uint32_t file, int line);
/* ... and a timer: s's own, its due time set, queue room reserved. */
void poe__enqueue_timer(poe_kernel *k, poe__event *ev, poe__session *s, uint32_t name,
                        uint32_t type, uint32_t file, int line);
/* Fills in a delivery's event: no arguments, no file, no from-state
 * yet; the caller sets those it has (and ev, if it is a frame's owner
 * that uses it). */
/* Who delivers what to whom: the fields every delivery sets.  The
 * place, the caller's state and the arguments are the caller's to set
 * (call() stores its place first: CALL_PLACE in events.c). */
static inline void poe__delivery_head(poe__delivery *d, poe_kernel *k, poe__session *to,
                                      poe__session *from, uint32_t name, uint32_t type)
{
        d->c.k = k;
        d->c.s = to;
        d->c.state = name;
        d->c.sender = from->id;
        d->from = from;
        d->type = type;
}

static inline void poe__delivery_init(poe__delivery *d, poe_kernel *k, poe__session *to,
                                      poe__session *from, uint32_t name, uint32_t type)
{
        poe__delivery_head(d, k, to, from, name, type);
        d->c.file = NULL;
        d->c.line = 0;
        d->c.from_state = POE__NO_NAME;
        d->c.args = NULL;
        d->c.nargs = 0;
}
/* The guarded dispatch (events.c): under a landing frame of its own. */
poe_value poe__dispatch(poe_kernel *k, poe__delivery *d);
/* The same under the caller's frame f, innermost (sessions.c's create). */
void poe__dispatch_in(poe_kernel *k, poe__delivery *d, poe__frame *f, poe_value *ret);
/* The die path's half in events.c: the dispatch's end after a die. */
void poe__dispatch_end(poe_kernel *k, poe__delivery *d, const poe_value *ret);
void poe__dispatch_due(poe_kernel *k);
void poe__dispatch_resume(poe_kernel *k);
void poe__event_done(poe_kernel *k, poe__event *ev);
void poe__events_clear_session(poe_kernel *k, poe__session *s);
void poe__dequeue(poe_kernel *k, poe__event *ev);
void poe__dequeue_timer(poe_kernel *k, poe__event *ev);

#endif
