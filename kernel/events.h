/*
 * Events and their dispatch (events.c): making and freeing events,
 * queueing them, running handlers, and what is running now.
 */
#include "internal.h"

#ifndef POE_EVENTS_H_PART
#define POE_EVENTS_H_PART

#include "stats.h"

/* What a dispatch changes and must put back (events.c), kept in memory
 * so that it is still there after poe_die has unwound to a frame. */
typedef struct poe__dispatch_state {
        struct poe__session *hold_session;
        uint32_t hold_event, hold_type;
        int hold_depth;
        bool timed; /* one of the dispatches timing samples */
        int64_t t0;
        uint64_t n0; /* when timed: handlers run before it */
} poe__dispatch_state;

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

/* Dispatch: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__EVENTS_PART                                                        \
        /* What is running. */                                                  \
        poe__session *active;                                                   \
        uint32_t active_event;                                                  \
        uint32_t active_type;                                                   \
        int dispatch_depth;                                                     \
        int64_t dispatch_seq; /* the queue id being dispatched, 0 if none */    \
        /* The timeslice under way: its time and item id cut, and the           \
         * top-level event whose handler runs (see poe__dispatch_resume). */    \
        int64_t slice_now;                                                      \
        int64_t slice_prev; /* the slice before's start (timer lag's floor) */  \
        uint64_t slice_cut;                                                     \
        poe__event *top_ev;                                                     \
        poe__dispatch_state top_st;                                             \
        uint64_t total_dispatched; /* handlers run */                           \
        poe__stats stats;          /* stats.h */                                \
        bool time_dispatches;                                                   \
        /* One dispatch in time_every is timed: the one that takes              \
         * time_countdown to 0 (poe_kernel_set_dispatch_timing). */             \
        uint32_t time_every, time_countdown;                                    \
        /* Does a dispatch have anything to do besides calling the handler      \
         * (the event and profile groups)?  One test instead of one per         \
         * hook (poe__dispatch_hooks_update); timing has its own, inline. */    \
        bool dispatch_hooks;                                                    \
        /* Busy time, always kept (poe__busy_settle): the session whose         \
         * top-level dispatch began at busy_mark (coarse clock) and is not      \
         * charged yet, with its event.  slow_ns: a dispatch that long          \
         * counts as slow (poe_kernel_set_slow_dispatch). */                    \
        poe__session *busy_sess;                                                \
        uint32_t busy_event;                                                    \
        int64_t busy_mark;                                                      \
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
        k->dispatch_hooks = POE__ON(k, POE_ASSERT_EVENTS | POE_TRACE_EVENTS | POE_TRACE_PROFILE);
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
                k->ev_free = (poe__event *)(void *)ev->link.next;
                ev->nargs = 0;
                return ev;
        }
#endif
        return poe__event_new2(k, NULL, 0, args, nargs);
}
void poe__event_free(poe_kernel *k, poe__event *ev);
void poe__events_free(poe_kernel *k);
void poe__enqueue(poe_kernel *k, poe__event *ev, poe__session *to, poe__session *from,
                  uint32_t name, uint32_t type, uint32_t file, int line);
poe_value poe__dispatch(poe_kernel *k, poe__session *to, poe__session *from, uint32_t name,
                        uint32_t type, poe_value *args, size_t nargs, const char *file,
                        int line, uint32_t from_state);
/* A select event's dispatch from the ready round (see events.c). */
poe_value poe__dispatch_ready(poe_kernel *k, poe__session *to, uint32_t name, poe_value *args,
                              size_t nargs, const char *file, int line);
poe_value poe__dispatch_framed(poe_kernel *k, poe__dispatch_state *st, poe__session *to,
                               poe__session *from, uint32_t name, uint32_t type,
                               poe_value *args, size_t nargs, const char *file, int line,
                               uint32_t from_state);
void poe__dispatch_died(poe_kernel *k, poe__dispatch_state *st, poe__session *to,
                        poe__session *from, uint32_t name, uint32_t type, const char *file,
                        int line, uint32_t from_state);
void poe__dispatch_due(poe_kernel *k);
void poe__dispatch_resume(poe_kernel *k);
void poe__dispatch_landed(poe_kernel *k);
void poe__events_clear_session(poe_kernel *k, poe__session *s);
void poe__dequeue(poe_kernel *k, poe__event *ev);

#endif
