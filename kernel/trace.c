/*
 * Trace records: what a trace point's record gets besides its own
 * fields, the definitions of the strings it refers to, and its way to
 * the text line and the sinks.
 *
 * A record is binary to the end: the trace point fills a fixed-size
 * poe_trace_record (POE_TRACE in trace.h), this file adds the times,
 * the counts and the ids, and each sink copies what it wants.  Nothing
 * is formatted unless the text line is on for the record's group.
 *
 * Strings a record's text needs travel as ids.  A consumer on another
 * thread (the trace log's writer) cannot read the kernel's tables, so
 * every id is defined to the sinks before its first use: a definition
 * record carrying the text goes to every sink, and a FIFO consumer keeps
 * an id -> text map.  "Before its first use" is per epoch: adding a sink
 * starts a new one (the new sink has seen nothing), and so does a sink
 * returning POE_TRACE_SINK_REDEFINE (it lost a definition in a full
 * buffer, or its consumer lost a batch).  The check is one compare per id
 * against the epoch the id was last defined in:
 *
 *  - event names (and the loop's name) are the kernel's interned names,
 *    which never change: name_epochs[id];
 *  - a session's loggable name ("session 5 (alias1, alias2)") changes
 *    with its aliases, so it is given a serial, and a new one when the
 *    aliases change (poe__trace_aliases_changed): a record carries the
 *    serial of the name the session had when it was made, and a reader
 *    shows that name, not the session's last.  The text is computed only
 *    when a serial is defined, not per record.
 *
 * This was preferred to copying the strings into every record (what the
 * sinks did before): an event name or a session's name is defined once
 * per epoch and each record then carries four bytes for it, so a record
 * is a fixed 136 bytes that a sink copies whole.
 *
 * Slots: a sink that keeps records in a buffer of its own (the trace
 * log's ring) may lend the kernel room there (poe_trace_slot_fn).  The
 * frequent kinds are then written straight into the slot from the trace
 * point (poe__trace_in_slot in trace.h) when their group goes to that
 * sink alone and nothing they name needs a definition: no record on the
 * stack, no copy, no call but the sink's.  Everything else goes the
 * general way below (finish()), which copies a record without text into
 * the slot rather than handing it to the sink's function.  The kernel
 * holds one slot at a time and forgets it before it calls the sink's
 * function, which may write where the slot was (slot_again).
 */
#include <string.h>

#include "internal.h"
#include "clock.h"
#include "debug.h"
#include "queue.h"
#include "trace.h"

/* The slot sink's function was called: the slot the kernel held is
 * forgotten (the sink may have written where it was), and a new one
 * asked for. */
static void slot_again(poe_kernel *k)
{
        k->trace_slot = NULL;
        k->trace_slot_fn(k->trace_slot_ctx, &k->trace_slot);
}

/*
 * The shedding slot (poe_trace_slot_fn): the records of one group
 * counted in its event_id, up to the budget the sink set in its
 * arg.i[0], then handed back, forgotten, to the sink's slot function,
 * which counts them dropped and lends a slot again.  This is the rarer
 * half (the common one is poe__trace_shed): a fresh slot (group 0), one
 * that counts another group (handed back first, so that the sink sees
 * its records in order), or the budget reached.  Returns true when the
 * record was counted; false when the sink, handed back the slot, lent a
 * slot to fill or none (never a shedding slot): the caller then goes its
 * own way.
 */
bool poe__trace_shed_slow(poe_kernel *k, uint32_t group)
{
        poe_trace_record *r = k->trace_slot;

        if (r->group && r->group != group) {
                slot_again(k);
                r = k->trace_slot;
                if (!r || r->kind != POE_TK_SHED)
                        return false;
                if (r->group && r->group != group) {
                        /* Not a fresh one (the sink's fault): forgotten,
                         * so that no record is written in it. */
                        k->trace_slot = NULL;
                        return false;
                }
        }
        r->group = group;
        r->event_id++;
        if (r->event_id >= (uint64_t)r->arg.i[0])
                slot_again(k);
        return true;
}

/* Before the slot sink hears of anything else (its function called,
 * the sink removed, the kernel about to sleep): the records counted in a
 * shedding slot go back to it, so that its counts are current and in
 * order.  The slot it lends again is the kernel's as before. */
void poe__trace_shed_flush(poe_kernel *k)
{
        poe_trace_record *r = k->trace_slot;

        if (__builtin_expect(r && r->kind == POE_TK_SHED && r->group, 0))
                slot_again(k);
}

/* Before the kernel sleeps or returns to its caller: the slot it holds
 * goes back to the sink (poe_trace_slot_fn), a shedding slot with its
 * counts, a slot to fill unfilled, so that the sink's counts are current
 * and what it has published is seen (the trace log wakes its writer)
 * while the program idles.  A fresh shedding slot has nothing to say. */
void poe__trace_slot_idle(poe_kernel *k)
{
        poe_trace_record *r = k->trace_slot;

        if (r && (r->kind != POE_TK_SHED || r->group))
                slot_again(k);
}

/* The slot just filled, but for its time, goes to the sink stamped with
 * the clock: read here, at the end of the trace point, where the trace
 * point has nothing left to keep across the call (poe__trace_fill_slot),
 * rather than in its middle, where it would save and restore what it
 * holds around it. */
__attribute__((noinline)) void poe__trace_slot_stamp(poe_kernel *k)
{
        const int64_t now = poe__mono_inline(k);

        k->trace_slot->mono_ns = now;
        k->trace_slot_fn(k->trace_slot_ctx, &k->trace_slot);
}

/* Sends a definition to every sink, and notes a sink's request for
 * every definition again. */
static void define_to_sinks(poe_kernel *k, const poe_trace_record *r)
{
        int i;

        poe__trace_shed_flush(k);

        /* A sink that traces would recurse: the kernel's own tracing is
         * off for the duration. */
        k->in_sink++;
        for (i = 0; i < k->n_active_sinks; i++)
                if (k->active_sinks[i].fn(k->active_sinks[i].ctx, r) == POE_TRACE_SINK_REDEFINE)
                        k->trace_redefine = true;
        k->in_sink--;
        if (k->trace_slot_fn)
                slot_again(k);
}

/* A definition of an id, at the time of the record r that uses it. */
static void define(poe_kernel *k, const poe_trace_record *r, unsigned kind, uint32_t name,
                   const poe__session *s, const char *text, size_t len)
{
        poe_trace_record d;

        memset(&d, 0, sizeof(d));
        d.mono_ns = r->mono_ns;
        d.wall = r->wall;
        d.num = k->epoch_offset; /* what the epoch's walls are reckoned from */
        d.kind = (uint16_t)kind;
        d.epoch = k->trace_epoch;
        d.event = name;
        if (s) {
                d.session = s->id;
                d.session_name = s->log_serial;
        }
        d.text = text;
        d.text_len = (uint16_t)(len < UINT16_MAX ? len : UINT16_MAX);
        define_to_sinks(k, &d);
}

static __attribute__((noinline, cold)) void define_name(poe_kernel *k,
                                                        const poe_trace_record *r, uint32_t id)
{
        k->name_epochs[id] = k->trace_epoch;
        if (k->n_sinks)
                define(k, r, POE_TK_DEF_NAME, id, NULL, k->names[id], strlen(k->names[id]));
}

static inline void check_name(poe_kernel *k, const poe_trace_record *r, uint32_t id)
{
        if (id < k->n_names && __builtin_expect(k->name_epochs[id] != k->trace_epoch, 0))
                define_name(k, r, id);
}

static __attribute__((noinline, cold)) void define_loggable(poe_kernel *k,
                                                            const poe_trace_record *r,
                                                            poe__session *s)
{
        char text[sizeof(k->log_names[0])];

        s->log_epoch = k->trace_epoch;
        if (s->is_kernel) {
                s->log_serial = POE_TRACE_THE_KERNEL;
                return;
        }
        if (!s->log_serial && ++k->log_serial_seq <= POE_TRACE_THE_KERNEL)
                k->log_serial_seq = POE_TRACE_THE_KERNEL + 1; /* after a wrap */
        if (!s->log_serial)
                s->log_serial = k->log_serial_seq;
        if (k->n_sinks)
                define(k, r, POE_TK_DEF_LOGGABLE, POE__NO_NAME, s, text,
                       poe__loggable_into(s, text, sizeof(text)));
}

/* The serial of s's loggable name, defined to the sinks if it is new to
 * this epoch. */
static inline uint32_t serial_of(poe_kernel *k, const poe_trace_record *r, poe__session *s)
{
        if (!s)
                return POE_TRACE_NOBODY;
        if (__builtin_expect(s->log_epoch != k->trace_epoch, 0))
                define_loggable(k, r, s);
        return s->log_serial;
}

/*
 * What every record gets besides its trace point's fields: its time
 * (read here unless the trace point read the clock), the sessions' ids,
 * counts and name serials; then the text line and the sinks.  One clock
 * read at most: the wall time is the kernel's static epoch plus the
 * monotonic time (POE's USE_STATIC_EPOCH, as timers use), so a record's
 * two times never disagree.
 */
static inline __attribute__((always_inline)) void
finish(poe_kernel *k, poe_trace_record *r, poe__session *s, const poe__session *sender,
       poe__session *peer, int64_t now)
{
        int i, n = k->n_active_sinks, slot_sink = -1;
        bool called_slot_sink = false;

        r->mono_ns = now ? now : poe__mono_inline(k);
        r->wall = k->epoch_offset + (double)r->mono_ns / 1e9;
        r->session = s ? s->id : POE_KERNEL;
        r->sender = sender ? sender->id : POE_KERNEL;
        r->refcount = s ? s->refcnt : 0;
        r->queue_length = k->queue_count;
        r->epoch = k->trace_epoch;
        r->session_name = serial_of(k, r, s);
        r->peer_name = serial_of(k, r, peer);
        check_name(k, r, r->event);
        if (r->kind == POE_TK_WAIT)
                check_name(k, r, (uint32_t)r->arg.i[0]);
        /* The text lines show the groups switched on; the structured
         * sinks may have asked for more. */
        if (__builtin_expect(!k->text_sink_off && (k->debug & r->group), 0)) {
                k->trace_sess[0] = s;
                k->trace_sess[1] = peer;
                poe__debug_text_line(k, r);
        }
        /* A record without text for the slot sink goes into its slot,
         * as the frequent kinds' do, once the others have had it. */
        if (k->trace_slot && (k->trace_slot_groups & r->group) && !r->text)
                slot_sink = k->trace_slot_sink;
        if (n) {
                if (slot_sink < 0)
                        poe__trace_shed_flush(k);
                k->trace_sess[0] = s;
                k->trace_sess[1] = peer;
                k->in_sink++;
                for (i = 0; i < n; i++) {
                        if (i == slot_sink || !(k->active_sinks[i].groups & r->group))
                                continue;
                        if (i == k->trace_slot_sink)
                                called_slot_sink = true;
                        if (k->active_sinks[i].fn(k->active_sinks[i].ctx, r) ==
                            POE_TRACE_SINK_REDEFINE)
                                k->trace_redefine = true;
                }
                k->in_sink--;
        }
        k->trace_sess[0] = k->trace_sess[1] = NULL;
        if (slot_sink >= 0) {
                /* A shedding slot counts the record by its group
                 * (poe_trace_slot_fn); handed back, it may leave a slot
                 * to fill, or none: then the sink's function has it. */
                if (k->trace_slot->kind != POE_TK_SHED || !poe__trace_shed_slow(k, r->group)) {
                        if (k->trace_slot) { /* never a shedding slot here */
                                *k->trace_slot = *r;
                                k->trace_slot_fn(k->trace_slot_ctx, &k->trace_slot);
                        } else {
                                k->trace_sess[0] = s;
                                k->trace_sess[1] = peer;
                                k->in_sink++;
                                if (k->active_sinks[slot_sink].fn(k->active_sinks[slot_sink].ctx,
                                                                  r) == POE_TRACE_SINK_REDEFINE)
                                        k->trace_redefine = true;
                                k->in_sink--;
                                k->trace_sess[0] = k->trace_sess[1] = NULL;
                                slot_again(k);
                        }
                }
        } else if (called_slot_sink) {
                slot_again(k);
        }
        if (__builtin_expect(k->trace_redefine, 0))
                poe__trace_redefine_all(k);
}

/* A record a trace point built whole (POE_TRACE: the rarer kinds). */
void poe__trace(poe_kernel *k, poe_trace_record *r, poe__session *s, const poe__session *sender,
                poe__session *peer)
{
        finish(k, r, s, sender, peer, r->mono_ns);
}

/*
 * The frequent kinds' general way (POE_TRACE_HOT when there is no slot
 * to fill, or something to define first): every field is a parameter,
 * written once into the kernel's own record, so nothing is zeroed first
 * and copied after.  now is the time if the trace point read the clock,
 * else 0.  A sink that traced would come back here while the record is
 * in use: the kernel does not trace while a sink runs (in_sink).
 */
__attribute__((noinline, cold)) void
poe__trace_hot_slow(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s, uint32_t event,
                    const poe__session *sender, poe__session *peer, uint64_t event_id, int64_t now,
                    int64_t a0, int64_t a1, int64_t a2, int64_t a3, double num)
{
        poe_trace_record *r = &k->trace_rec;

        r->group = group;
        r->kind = (uint16_t)kind;
        r->text_len = 0;
        r->event = event;
        r->event_id = event_id;
        r->arg.i[0] = a0;
        r->arg.i[1] = a1;
        r->arg.i[2] = a2;
        r->arg.i[3] = a3;
        r->arg.i[4] = 0;
        r->num = num;
        r->text = NULL;
        finish(k, r, s, sender, peer, now);
}

/* A new epoch: every id is defined again before its next use. */
void poe__trace_redefine_all(poe_kernel *k)
{
        k->trace_redefine = false;
        /* Zero is "never defined": skip it when the count wraps. */
        if (++k->trace_epoch == 0)
                k->trace_epoch = 1;
}

/* The kernel's text for an id, while it traces (see poe.h). */
POE_EXPORT const char *poe_kernel_trace_lookup(poe_kernel *k, unsigned what, uint32_t id)
{
        const poe__session *s;
        size_t i;

        if (!k)
                return NULL;
        if (what == POE_TRACE_LOOKUP_NAME)
                return id < k->n_names ? k->names[id] : NULL;
        if (what != POE_TRACE_LOOKUP_LOGGABLE)
                return NULL;
        if (id == POE_TRACE_NOBODY)
                return "nobody";
        if (id == POE_TRACE_THE_KERNEL)
                return "the kernel";
        for (i = 0; i < 2; i++) {
                s = k->trace_sess[i];
                if (s && s->log_serial == id && s->log_epoch)
                        return poe__loggable(k, s);
        }
        return NULL;
}

static const char *kernel_lookup(void *ctx, unsigned what, uint32_t id)
{
        return poe_kernel_trace_lookup(ctx, what, id);
}

POE_EXPORT int poe_kernel_trace_format(poe_kernel *k, const poe_trace_record *r, char *buf,
                                       size_t size)
{
        if (!k)
                return -EINVAL;
        return poe_trace_format(r, kernel_lookup, k, buf, size);
}
