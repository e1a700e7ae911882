/*
 * Trace records (trace.c): POE_TRACE and the frequent kinds' inline path
 * into the slot a sink lends.  Their state is debug.h's part.
 */
#ifndef POE_TRACE_H
#define POE_TRACE_H

#include "internal.h"
#include "debug.h"

/*
 * A trace record of group g about session s (NULL: none) and event ev
 * (POE__NO_NAME: none), sent by sender, whose text also names peer (both
 * may be NULL); the rest of the record's fields are designated
 * initializers, .kind always among them:
 *
 *     POE_TRACE(k, POE_TRACE_FILES, s, name, NULL, NULL,
 *               .kind = POE_TK_WATCH, .arg.i = { fd, mode });
 *
 * Nothing is formatted here: the fields are what poe_trace_format renders
 * POE's text line from (see trace-format.c for which fields each kind
 * fills).
 */
#define POE_TRACE(k, g, s, ev, sender, peer, ...)                                 \
        do {                                                                      \
                if (POE__ON(k, g) && !(k)->in_sink) {                             \
                        poe_trace_record r_ = { .group = (g), .event = (ev),      \
                                                __VA_ARGS__ };                    \
                        poe__trace((k), &r_, (s), (sender), (peer));              \
                }                                                                 \
        } while (0)

/*
 * The same for the frequent kinds (enqueue, dispatch, return, discard,
 * watch, unwatch, wait), with every field given in order: the event id,
 * the time if the trace point read the clock (else 0), four integers and
 * the real.  Inline (poe__trace_hot, below): most of
 * the fields are constants at the trace point.
 */
#define POE_TRACE_HOT(k, g, kind, s, ev, sender, peer, event_id, now, a0, a1, a2, a3, num) \
        do {                                                                      \
                if (POE__ON(k, g) && !(k)->in_sink)                               \
                        poe__trace_hot((k), (g), (kind), (s), (ev), (sender), (peer), \
                                       (event_id), (now), (a0), (a1), (a2), (a3), (num)); \
        } while (0)

/* trace.c */
void poe__trace(poe_kernel *k, poe_trace_record *r, poe__session *s, const poe__session *sender,
                poe__session *peer);
void poe__trace_hot_slow(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s,
                         uint32_t event, const poe__session *sender, poe__session *peer,
                         uint64_t event_id, int64_t now, int64_t a0, int64_t a1, int64_t a2,
                         int64_t a3, double num);
void poe__trace_redefine_all(poe_kernel *k);
bool poe__trace_shed_slow(poe_kernel *k, uint32_t group);
void poe__trace_shed_flush(poe_kernel *k);
void poe__trace_slot_idle(poe_kernel *k);
void poe__trace_slot_stamp(poe_kernel *k);

/* A record of group counted in the shedding slot r (poe_trace_slot_fn):
 * in the common case a compare of the group, one of the count with the
 * sink's budget, and a store; the slot handed back (poe__trace_shed_slow)
 * when it is fresh, full, or counts another group. */
static inline __attribute__((always_inline)) bool poe__trace_shed(poe_kernel *k, poe_trace_record *r,
                                                                 uint32_t group)
{
        uint64_t n = r->event_id + 1;

        if (__builtin_expect(r->group == group && n < (uint64_t)r->arg.i[0], 1)) {
                r->event_id = n;
                return true;
        }
        return poe__trace_shed_slow(k, group);
}

/* Has id (an interned name, or anything else: no) to be defined to the
 * sinks before a record of this epoch uses it? */
static inline bool poe__trace_name_new(const poe_kernel *k, uint64_t id, uint32_t epoch)
{
        return id < k->n_names && k->name_epochs[id] != epoch;
}

/* Does a record of this kind always name an interned event?  Those
 * about a queue item do (enqueue, dispatch, return, discard): their
 * event's id needs no bounds check. */
static inline bool poe__trace_names_item(uint32_t kind)
{
        return kind == POE_TK_ENQUEUE || kind == POE_TK_DISPATCH || kind == POE_TK_RETURN ||
               kind == POE_TK_DISCARD;
}

/* A field of a slot, which arrives zeroed: stored unless it is a
 * constant zero (a double's too: no trace point passes -0.0). */
#define POE__SLOT_SET(field, v)                                                   \
        do {                                                                      \
                if (!__builtin_constant_p(v) || (v) != 0)                         \
                        (field) = (v);                                            \
        } while (0)

/*
 * The frequent kinds' record, at time now (0: the clock is read last,
 * by poe__trace_slot_stamp, where nothing is left to save around it),
 * written straight into the slot the slot sink lent, when there is one,
 * the record's group goes to that sink alone, and nothing the record
 * names needs a definition first: the usual case.  Only the fields that
 * are not zero are written (a slot arrives zeroed), and not wall, which
 * the sink reckons (see poe_trace_slot_fn); then the sink keeps the
 * record and lends the next slot.  A shedding slot (POE_TK_SHED) counts
 * the record by its group, and no clock is read for it.  Returns false,
 * having done nothing, otherwise: the caller
 * then goes the general way (poe__trace_hot_slow), which gives the record
 * the same fields (trace.c's finish()), defines what it names, and hands
 * it to the text lines and every sink (the slot sink in its slot).
 *
 * Inline, so that the trace point's constants fold; the sink's call is
 * the last thing done, so the trace point needs no stack frame for it.
 * Cost: see docs/performance.md (bench/trace-cost.sh).
 */
static inline __attribute__((always_inline)) bool
poe__trace_fill_slot(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s, uint32_t event,
                     const poe__session *sender, poe__session *peer, uint64_t event_id, int64_t now,
                     int64_t a0, int64_t a1, int64_t a2, int64_t a3, double num)
{
        poe_trace_record *r = k->trace_slot;
        uint32_t epoch = k->trace_epoch;
        poe_sid sid = 0, sender_id = 0;
        uint32_t refcount = 0, session_name = 0, peer_name = 0;
        uint64_t queue_length;

        /* A slot lent (poe__trace_shed_first has seen that it is not a
         * shedding slot), the group the slot sink's alone, everything
         * the record names defined in this epoch. */
        if (__builtin_expect(!r || !(k->trace_solo & group), 0))
                return false;
        if (__builtin_expect((s && s->log_epoch != epoch) || (peer && peer->log_epoch != epoch), 0))
                return false;
        if (__builtin_expect(poe__trace_names_item(kind) ? k->name_epochs[event] != epoch
                                                         : poe__trace_name_new(k, event, epoch),
                             0))
                return false;
        if (kind == POE_TK_WAIT && poe__trace_name_new(k, (uint64_t)a0, epoch))
                return false;
        /* Everything read before anything is written: the slot could be
         * anywhere, as far as the compiler knows. */
        if (s) {
                sid = s->id;
                refcount = s->refcnt;
                session_name = s->log_serial;
        }
        if (sender)
                sender_id = sender->id;
        if (peer)
                peer_name = peer->log_serial;
        queue_length = k->queue_count;
        POE__SLOT_SET(r->mono_ns, now);
        POE__SLOT_SET(r->event_id, event_id);
        POE__SLOT_SET(r->session, sid);
        POE__SLOT_SET(r->sender, sender_id);
        r->queue_length = queue_length;
        r->group = group;
        r->kind = (uint16_t)kind;
        r->event = event;
        POE__SLOT_SET(r->refcount, refcount);
        POE__SLOT_SET(r->session_name, session_name);
        POE__SLOT_SET(r->peer_name, peer_name);
        r->epoch = epoch;
        POE__SLOT_SET(r->arg.i[0], a0);
        POE__SLOT_SET(r->arg.i[1], a1);
        POE__SLOT_SET(r->arg.i[2], a2);
        POE__SLOT_SET(r->arg.i[3], a3);
        POE__SLOT_SET(r->num, num);
        if (now)
                k->trace_slot_fn(k->trace_slot_ctx, &k->trace_slot);
        else
                poe__trace_slot_stamp(k);
        return true;
}

/* A trace point's first look, before it prepares its record: while the
 * slot sink sheds (the kernel holds its shedding slot) and the group is
 * that sink's alone, the record is counted there (poe__trace_shed), and
 * that is all.  False otherwise, and then the slot held, if any, is not
 * a shedding slot: the record is filled in it (poe__trace_fill_slot) or
 * goes the general way.  Not inside a sink (the caller looks). */
static inline __attribute__((always_inline)) bool poe__trace_shed_first(poe_kernel *k,
                                                                       uint32_t group)
{
        poe_trace_record *r = k->trace_slot;

        if (__builtin_expect(!r || r->kind != POE_TK_SHED, 1) || !(k->trace_solo & group))
                return false;
        return poe__trace_shed(k, r, group);
}

/* The frequent kinds' record in the slot held, shed or filled (see
 * poe__trace_fill_slot); false when it must go the general way. */
static inline __attribute__((always_inline)) bool
poe__trace_in_slot(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s, uint32_t event,
                   const poe__session *sender, poe__session *peer, uint64_t event_id, int64_t now,
                   int64_t a0, int64_t a1, int64_t a2, int64_t a3, double num)
{
        return poe__trace_shed_first(k, group) ||
               poe__trace_fill_slot(k, group, kind, s, event, sender, peer, event_id, now, a0, a1,
                                    a2, a3, num);
}

/* The frequent kinds' record (POE_TRACE_HOT), in a slot or the general
 * way.  now is the time if the trace point read the clock, else 0: the
 * record reads it then, unless it is shed. */
static inline __attribute__((always_inline)) void
poe__trace_hot(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s, uint32_t event,
               const poe__session *sender, poe__session *peer, uint64_t event_id, int64_t now,
               int64_t a0, int64_t a1, int64_t a2, int64_t a3, double num)
{
        if (!poe__trace_in_slot(k, group, kind, s, event, sender, peer, event_id, now, a0, a1, a2,
                                a3, num))
                poe__trace_hot_slow(k, group, kind, s, event, sender, peer, event_id, now, a0, a1,
                                    a2, a3, num);
}

/* A session's aliases changed: its loggable name gets a new serial. */
static inline void poe__trace_aliases_changed(poe__session *s)
{
        s->log_serial = 0;
        s->log_epoch = 0;
}

#endif
