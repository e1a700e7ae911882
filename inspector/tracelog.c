/*
 * The trace log: the kernel's structured trace records, kept in SQLite.
 *
 * Three parties, three rules:
 *
 *  - the sink runs on the kernel's thread, inside every trace.  It lends
 *    the kernel room in a bounded ring (poe__tracelog_slot), where the
 *    frequent records are written in place, and copies in the others, a
 *    fixed 136 bytes and the text of the few kinds that have one
 *    (poe__tracelog_sink): no formatting, no I/O, no allocation, no lock
 *    on the common path.  The ring is single-producer, single-consumer
 *    and lock-free; the sink takes the writer's mutex only to wake it,
 *    at most once per writer sleep.  A record that does not fit is
 *    dropped and counted, per group.
 *  - the writer thread drains the ring into SQLite: WAL mode,
 *    synchronous=NORMAL, statements prepared once, one transaction per
 *    batch of up to 1000 records or 50 ms, whichever comes first; a
 *    checkpointer thread of its own moves the WAL into the database
 *    (tracelog-checkpoint.c, which says what a crash can lose).  When
 *    the database cannot be written (locked, disk full, ...) the writer
 *    says so in the status, keeps draining the ring (counting what it
 *    cannot write as dropped), retries every half second and resumes when
 *    the fault clears.  A log opened by poe__tracelog_open_retrying (the
 *    inspector's) treats a database it cannot open at all the same way:
 *    it tries again after half a second, then at doubling intervals up
 *    to five seconds.  The kernel never waits for it.
 *  - queries and exports read the database through their own read-only
 *    connections, one per call, from any thread, and render the records
 *    they read (tracelog-render.c).  They see what the
 *    writer has committed: the log lags the kernel by at most one batch
 *    (50 ms, or the time to write 1000 records) once the writer knows of
 *    the records (see "Waking the writer": within 256 records, when the
 *    kernel idles or returns, or within a second), plus whatever the
 *    ring holds while the writer is failing.
 *
 * The log is bounded (tracelog-bound.c): between two batches the writer
 * removes the oldest records, in chunks, to keep the file within its
 * size (256 MiB unless told) and, if asked, its records within an age;
 * a run with no records left goes too, never the current one.
 *
 * The schema (version 3: PRAGMA user_version = 3, and PRAGMA
 * application_id = 0x504f4554, "POET", so a database of something else
 * is recognised and refused rather than written into).  Records are
 * stored as the kernel made them: integers and ids, no text but the rare
 * kinds' own; the text line, the group's and kind's names and the
 * event's name are made where a record is read (tracelog-render.c), so
 * the writer renders nothing.  A log of version 1 is migrated to 2
 * (event_id), one of version 2 to 3 by renaming its records to
 * records_v2 (no row copied), where readers still find its runs (and
 * runs gains the counts, NULL for its old runs); a log of a newer
 * version is refused:
 *
 *   CREATE TABLE runs(            -- one row per poe__tracelog_open
 *       id INTEGER PRIMARY KEY,
 *       pid INTEGER,              -- the process
 *       kernel_id TEXT,           -- poe_kernel_id()
 *       started REAL,             -- the kernel's start, epoch seconds
 *       hostname TEXT,
 *       poe_version TEXT,
 *       produced INTEGER,         -- records the kernel handed the log,
 *       written INTEGER,          -- and those written (removed ones too),
 *                                 -- both rewritten with every batch
 *       ended REAL);              -- wall time of a clean stop, else NULL
 *   CREATE TABLE sessions(        -- every session the records mention
 *       run_id INTEGER NOT NULL,
 *       session_id INTEGER NOT NULL,
 *       first_seen REAL,          -- wall time of its first record
 *       last_seen REAL,           -- and of its last
 *       PRIMARY KEY(run_id, session_id));
 *   CREATE TABLE records(         -- one row per trace record
 *       id INTEGER PRIMARY KEY,
 *       run_id INTEGER NOT NULL,
 *       mono_ns INTEGER,          -- CLOCK_MONOTONIC (or the fake clock)
 *       wall REAL,                -- epoch seconds
 *       grp INTEGER,              -- the group's bit (POE_TRACE_EVENTS, ...)
 *       kind INTEGER,             -- enum poe_trace_kind
 *       session INTEGER,          -- the session it is about (0: the kernel)
 *       sender INTEGER,
 *       event INTEGER,            -- names.id of its event, or NULL
 *       event_id INTEGER,         -- the queue item (POE's event id) an
 *                                 -- enqueue, dispatch, return or discard
 *                                 -- is about, else NULL: links a post to
 *                                 -- its dispatch
 *       refcount INTEGER,         -- the session's count at the time
 *       queue INTEGER,            -- the kernel's queue length at the time
 *       session_name INTEGER,     -- loggables.serial of the session's name
 *       peer_name INTEGER,        -- ... of the other session its line names
 *       arg0 INTEGER, arg1 INTEGER, arg2 INTEGER, arg3 INTEGER,
 *       arg4 INTEGER,             -- the kind's numbers (poe_trace_record)
 *       num,                      -- its real, kept bit for bit; NULL for 0
 *       text TEXT);               -- its free text (rare kinds), or NULL
 *   CREATE TABLE names(           -- the kernel's interned names
 *       run_id INTEGER NOT NULL, id INTEGER NOT NULL, text TEXT NOT NULL,
 *       PRIMARY KEY(run_id, id)) WITHOUT ROWID;
 *   CREATE TABLE loggables(       -- "session 5 (alias1, alias2)", by serial
 *       run_id INTEGER NOT NULL, serial INTEGER NOT NULL, session INTEGER,
 *       text TEXT NOT NULL, PRIMARY KEY(run_id, serial)) WITHOUT ROWID;
 *   CREATE INDEX trace_run ON records(run_id);  -- a run in id order
 *   CREATE INDEX trace_run_session ON records(run_id, session);
 *   CREATE INDEX trace_run_event ON records(run_id, event);
 *   CREATE TABLE drops(           -- records lost, per run and group
 *       run_id INTEGER NOT NULL,
 *       grp TEXT NOT NULL,
 *       count INTEGER NOT NULL,   -- the running total, rewritten as it grows
 *       PRIMARY KEY(run_id, grp));
 *   CREATE TABLE removed(         -- records the bounds removed, per run
 *       run_id INTEGER NOT NULL,  -- and group, added to by each chunk
 *       grp TEXT NOT NULL,
 *       count INTEGER NOT NULL,
 *       PRIMARY KEY(run_id, grp));
 *   CREATE TRIGGER runs_gone AFTER DELETE ON runs  -- a run's sessions,
 *       ...;                      -- names, loggables, drops and removed
 *                                 -- rows go with it
 *
 * Those three indexes are what the queries use (a run's records in
 * order, paged or from an id on; those of a session; those of an
 * event); the group, kind and time filters scan the run in id order.
 *
 * Definitions: a record names its event and sessions by ids, defined by
 * the definition records the kernel sends before their first use (see
 * kernel/trace.c).  A definition the ring cannot take, or that the
 * writer cannot write (a batch that fails, a database not yet open),
 * would leave later records naming what the file does not define: the
 * records of its epoch are dropped and counted instead (by the sink, or
 * by the writer), and the sink asks the kernel for every definition
 * again (POE_TRACE_SINK_REDEFINE), once the ring has room.
 *
 * Before each batch the writer checks that the file at the path is still
 * the one it opened (device and inode): a database deleted or replaced
 * while the program runs would otherwise take every write and show none
 * of them.  It then starts a new file there, with a new run, and says so
 * in the status (files_started, file_note) and on stderr.
 *
 * A record is dropped when the ring is full (the writer is behind) or
 * when its batch could not be written (the database is failing); either
 * way it is counted in the status and, as soon as the database takes
 * writes again, in `drops`.  A record's text longer than about 3.9 KB
 * is cut with a "[... N bytes truncated]" marker (the kernel's own are at
 * most 2 KB), names at 1 KB.  Text that is not valid UTF-8 is stored with U+FFFD in place of
 * the bad bytes, so every row converts to JSON.
 *
 * The accounting: produced = written + dropped + pending (in the ring or
 * the writer's open transaction), exactly once the ring is empty; a
 * record the bounds removed was written first and stays counted among
 * the written, so a run's records in the file number written - removed.
 * Each batch's transaction stores the run's produced count (read after
 * the batch's records and drops, so never less than their sum) and its
 * written count beside the drops: in a log whose process was killed,
 * produced - written - dropped is what its ring and its writer held at
 * its last batch, records that never reached the file.  Only those
 * produced while the batch in flight was being written are in no count:
 * one batch's time of the kernel's production.
 *
 * An event id is the kernel's: the enqueue of a queue item carries it, and
 * so does every dispatch (and return) made while that item is handled:
 * the item's own dispatch first, then the calls its handler makes, the
 * stops a signal causes, each watcher of a signal.  A post's dispatch is
 * therefore the first dispatch after it with its id.  The kernel's
 * _garbage_collect items are dequeued without a dispatch record.
 *
 * The code: this file (helpers, the ring, open, close, status),
 * tracelog-writer.c (the writer and the schema), tracelog-bound.c (the
 * bounds), tracelog-query.c,
 * tracelog-export.c (JSON Lines, CSV, SQLite), tracelog-chrome.c and
 * tracelog-otlp.c; tracelog-internal.h is what they share.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracelog-internal.h"

/* ---- small helpers ---- */

void poe__tl_set_err(char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        if (!err || !errlen)
                return;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

const char *poe__tl_group_name(unsigned group)
{
        const char *n = poe_debug_group_name(group);

        return n ? n : "UNKNOWN";
}

/* A parameter value shown in an error message: bounded, printable ASCII
 * only, so the message is safe in any JSON answer or terminal. */
const char *poe__tl_echo(const char *v, char *buf, size_t size)
{
        size_t i;

        for (i = 0; v[i] && i + 4 < size && i < 64; i++)
                buf[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
        if (v[i] && i + 4 < size) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = '\0';
        return buf;
}

/* ---- the ring ---- */

/*
 * The ring is single-producer (the sink, on the kernel's thread),
 * single-consumer (the writer), and lock-free.  Each entry's header is
 * its publication: the sink writes the entry, then stores its size with
 * release; the writer reads the header at its position (sequentially
 * consistent, an acquire and the wake-up's other half, below): 0
 * is room not written yet, ENTRY_WRAP sends it to the start of the
 * buffer, anything else is an entry to read (its size, and ENTRY_SLOT
 * when the kernel wrote it in a slot).  The writer zeroes what it
 * has read before it gives the room back (head, with release), so free
 * room is all zeros: what a slot lent to the kernel must be
 * (poe_trace_slot_fn), so that the kernel writes only the fields that
 * are not zero.
 *
 * Records reach the ring two ways.  The frequent ones, without text, the
 * kernel writes in place, in the slot the sink lent it
 * (poe__tracelog_slot): the sink then publishes the entry and lends the
 * next slot, while the room it knew of when it last looked at the
 * writer's position lasts (until produced reaches slot_limit), and looks
 * at the writer's requests (redefine) when it lends more.
 * Everything else comes through poe__tracelog_sink, which copies it in
 * (push).  The sink's position is kept where the slots lent last began
 * (grant, when produced was grant_produced): every record produced since
 * filled the slot after the one before, and settle() moves wpos and tail
 * (the bytes put in the ring, pads included) past them before the sink
 * does anything else.
 *
 * The counts: produced, the records the sink was handed, counted before
 * their entry is published; sink_dropped, those of them it dropped,
 * counted before produced, so that produced - sink_dropped - popped never
 * counts a dropped record as one to read.  The writer counts what it has
 * read in popped (records, not definitions).
 *
 * Waking the writer: the writer stores wake_at (sequentially consistent)
 * before it looks at the ring again (poe__tl_writer_main); the sink,
 * after publishing, makes a sequentially consistent fence and then reads
 * wake_at, so either the writer sees the entry or the sink sees that it
 * must wake it.  The entries it copies in (push) do that each time.  The
 * slots the kernel fills, the frequent records, do it in slot_slow only:
 * when the room lent ends (SLOT_GRANT records at most), when produced
 * reaches the count the writer waits for (wake_limit, worked out there
 * from wake_at), and when the kernel hands its slot back before it
 * sleeps or returns to its caller (poe_trace_slot_fn).  So the common
 * slot costs one compare, and no fence, whether the writer sleeps or
 * not; a writer that went to sleep after the sink last looked learns of
 * new slots at the latest when the kernel next idles, and looks at the
 * ring every IDLE_LOOK_MS besides, for a kernel that runs one long
 * handler after a few records.
 */

/* The ring's pages are made present now, on the thread that opens the
 * log, not one by one later in the kernel's trace points: a calloc this
 * large is fresh zero pages, and the first write to each is a page fault
 * (a few microseconds on a VM, some 2,500 for the default ring: tens of
 * milliseconds of a program's first records).  Each page is written with
 * the zero it holds. */
static void prefault(unsigned char *p, uint64_t len)
{
        volatile unsigned char *v = p;
        long page = sysconf(_SC_PAGESIZE);
        uint64_t i;

        if (page <= 0)
                page = 4096;
        for (i = 0; i < len; i += (uint64_t)page)
                v[i] = 0;
}

/* The records put in the ring so far (the sink's view). */
static inline uint64_t pushed(const poe__tracelog *t)
{
        return atomic_load_explicit(&t->produced, memory_order_relaxed) -
               atomic_load_explicit(&t->sink_dropped, memory_order_relaxed);
}

uint64_t poe__tl_ring_count(poe__tracelog *t)
{
        uint64_t q = atomic_load(&t->popped), p = atomic_load(&t->produced);
        uint64_t d = atomic_load(&t->sink_dropped);

        /* A drop under way may be counted in d and not yet in p. */
        return p - d > q ? p - d - q : 0;
}

/* The entry at the writer's position, or NULL; a wrap marker is passed
 * over only when zap (the writer's own pass: it zeroes the marker and
 * moves head). */
static entry *entry_at_head(poe__tracelog *t, bool zap)
{
        uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
        uint64_t pos = head % t->ring_bytes;
        entry *e = (entry *)(t->ring + pos);
        uint32_t size = atomic_load(&e->size); /* sequentially consistent: see above */

        if (size == 0)
                return NULL;
        if (size != ENTRY_WRAP)
                return e;
        e = (entry *)t->ring;
        if (zap) {
                atomic_store_explicit(&((entry *)(t->ring + pos))->size, 0, memory_order_relaxed);
                atomic_store_explicit(&t->head, head + t->ring_bytes - pos, memory_order_release);
        }
        return atomic_load(&e->size) ? e : NULL;
}

void poe__tl_thread_init(const char *name)
{
        int saved = errno, r;

        pthread_setname_np(pthread_self(), name);
        /* On Linux the nice value is the calling thread's own; failing
         * (a seccomp filter, say) leaves it as it was, which is no fault. */
        r = nice(LOG_THREAD_NICE);
        (void)r;
        errno = saved;
}

bool poe__tl_ring_empty(poe__tracelog *t)
{
        return entry_at_head(t, false) == NULL;
}

/* The sink's drop, on the kernel's thread, the count's one writer. */
static void drop(poe__tracelog *t, unsigned group, uint64_t n)
{
        _Atomic uint64_t *c = &t->sink_drops[group_index(group)];

        /* Release: whoever sees the drop sees the record counted as
         * produced before it (poe__tracelog_status relies on it). */
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                              memory_order_release);
}

uint64_t poe__tl_dropped(poe__tracelog *t, unsigned g)
{
        return atomic_load_explicit(&t->dropped[g], memory_order_acquire) +
               atomic_load_explicit(&t->sink_drops[g], memory_order_acquire);
}

/* Wakes the writer if it sleeps until w records wait and they do (or
 * for any reason when force).  The compare-and-swap makes it one signal
 * per sleep, so the sink takes the mutex once per batch at most. */
static __attribute__((noinline)) void wake_if(poe__tracelog *t, uint64_t w, bool force)
{
        uint64_t pending = pushed(t) - atomic_load_explicit(&t->popped, memory_order_relaxed);

        if (w != UINT64_MAX && (force || pending >= w) &&
            atomic_compare_exchange_strong(&t->wake_at, &w, UINT64_MAX)) {
                pthread_mutex_lock(&t->mu);
                pthread_cond_signal(&t->cv);
                pthread_mutex_unlock(&t->mu);
        }
}

/* After an entry is published: the fence, then a look at the writer. */
static inline void after_publish(poe__tracelog *t)
{
        uint64_t w;

        atomic_thread_fence(memory_order_seq_cst);
        w = atomic_load_explicit(&t->wake_at, memory_order_relaxed);
        if (__builtin_expect(w != UINT64_MAX, 0))
                wake_if(t, w, false);
}

static void wake(poe__tracelog *t, bool force)
{
        atomic_thread_fence(memory_order_seq_cst);
        wake_if(t, atomic_load_explicit(&t->wake_at, memory_order_relaxed), force);
}

/* Moves the sink's position past the slots the kernel filled since the
 * last grant; no slot is lent after. */
static inline void settle(poe__tracelog *t)
{
        uint64_t p = atomic_load_explicit(&t->produced, memory_order_relaxed);
        uint64_t n = (p - t->grant_produced) * sizeof(entry);

        t->wpos = t->grant + n;
        t->tail += n;
        if (t->wpos == t->ring + t->ring_bytes)
                t->wpos = t->ring;
        t->grant = t->wpos;
        t->grant_produced = t->slot_limit = t->p_limit = p;
}

/* n more records produced, not in a slot (the sink settled first). */
static inline void count_produced_n(poe__tracelog *t, uint64_t n, memory_order order)
{
        uint64_t p = atomic_load_explicit(&t->produced, memory_order_relaxed) + n;

        atomic_store_explicit(&t->produced, p, order);
        t->grant_produced = t->slot_limit = t->p_limit = p;
}

static inline void count_produced(poe__tracelog *t, memory_order order)
{
        count_produced_n(t, 1, order);
}

/* n records of group handed to the sink and dropped: counted in that
 * order (see above). */
static void records_dropped(poe__tracelog *t, unsigned group, uint64_t n)
{
        atomic_store_explicit(&t->sink_dropped,
                              atomic_load_explicit(&t->sink_dropped, memory_order_relaxed) + n,
                              memory_order_relaxed);
        count_produced_n(t, n, memory_order_release);
        drop(t, group, n);
}

static void record_dropped(poe__tracelog *t, unsigned group)
{
        records_dropped(t, group, 1);
}

/* Room for need more bytes (after pad bytes skipped to wrap) and one
 * more record when record. */
static bool fits(poe__tracelog *t, uint64_t pad, uint64_t need, bool record)
{
        uint64_t head = atomic_load_explicit(&t->head, memory_order_acquire);
        uint64_t popped = atomic_load_explicit(&t->popped, memory_order_acquire);

        return (t->tail - head) + pad + need <= t->ring_bytes &&
               (!record || pushed(t) - popped < t->ring_records);
}

/* Room for a definition again: the ring at most half full. */
static bool has_room(poe__tracelog *t)
{
        uint64_t used, queued;

        settle(t);
        used = t->tail - atomic_load_explicit(&t->head, memory_order_acquire);
        queued = pushed(t) - atomic_load_explicit(&t->popped, memory_order_acquire);
        return used <= t->ring_bytes / 2 && queued <= t->ring_records / 2;
}

/* Writes a wrap marker at the sink's position: the rest of the buffer
 * is skipped, the next entry goes at its start. */
static void wrap(poe__tracelog *t)
{
        uint64_t pad = t->ring_bytes - (uint64_t)(t->wpos - t->ring);

        atomic_store_explicit(&((entry *)t->wpos)->size, ENTRY_WRAP, memory_order_release);
        t->tail += pad;
        t->wpos = t->grant = t->ring;
}

/*
 * Puts one entry in the ring: the record, then len bytes of text (cut
 * to fit ENTRY_MAX, with a "[... N bytes truncated]" marker, at a
 * character boundary), or returns false when it does not fit.  A record
 * (not a definition) is counted as produced before it is published.
 */
static __attribute__((noinline)) bool push(poe__tracelog *t, const poe_trace_record *r,
                                           const char *text, size_t len)
{
        size_t keep = len, markl = 0, need;
        bool record = r->kind < POE_TK_KINDS;
        uint64_t pos, pad;
        char marker[48];
        entry *e;

        if (len > ENTRY_MAX - sizeof(entry) - 1) {
                markl = (size_t)snprintf(marker, sizeof(marker), " [... %zu bytes truncated]",
                                         len);
                keep = ENTRY_MAX - sizeof(entry) - 1 - markl;
                while (keep > 0 && ((unsigned char)text[keep] & 0xc0) == 0x80)
                        keep--;
                markl = (size_t)snprintf(marker, sizeof(marker), " [... %zu bytes truncated]",
                                         len - keep);
        }
        need = (sizeof(entry) + keep + markl + 7) & ~(size_t)7;
        settle(t);
        pos = (uint64_t)(t->wpos - t->ring);
        pad = t->ring_bytes - pos < need ? t->ring_bytes - pos : 0;
        if (!fits(t, pad, need, record))
                return false;
        if (pad)
                wrap(t);
        e = (entry *)t->wpos;
        e->rec = *r;
        e->rec.text = NULL;
        e->rec.text_len = (uint16_t)(keep + markl);
        if (keep)
                memcpy(e + 1, text, keep);
        if (markl)
                memcpy((char *)(e + 1) + keep, marker, markl);
        if (record)
                count_produced(t, memory_order_relaxed);
        atomic_store_explicit(&e->size, (uint32_t)need, memory_order_release);
        t->wpos += need;
        t->tail += need;
        t->grant = t->wpos;
        after_publish(t);
        return true;
}

/*
 * The shedding slot, lent when the ring has no room (its kind
 * POE_TK_SHED: see poe_trace_slot_fn): the kernel counts up to SHED_LOOK
 * records of one group there, reads no clock for them, and hands it back;
 * the slot function counts them produced and dropped (by their group,
 * shed_back) and looks at the ring.  So a full ring costs the kernel's
 * thread two compares and a store per record, not the record, nor a
 * call, nor the general way's copy and the drop's wake-up; the writer is
 * woken (forced) when the shedding starts and at each look.
 */
static poe_trace_record *shed(poe__tracelog *t)
{
        t->shed.rec.kind = POE_TK_SHED;
        t->shed.rec.group = 0;
        t->shed.rec.event_id = 0;
        t->shed.rec.arg.i[0] = SHED_LOOK;
        t->shedding = true;
        wake(t, true);
        return &t->shed.rec;
}

/*
 * The slots the sink can lend from its position: as many fixed-size
 * entries as fit before the end of the buffer, in the room the writer
 * has given back, and under the ring's count of records (wrapping first
 * when not one fits before the end), SLOT_GRANT at most, so that the
 * sink looks at the writer's requests that often at least.  NULL when
 * there is none, or while the next record must come through
 * poe__tracelog_sink (a definition was lost, or the writer asks for them
 * all again).
 */
static poe_trace_record *lend(poe__tracelog *t)
{
        uint64_t pos, head, popped, room, records;

        settle(t);
        if (t->stale || atomic_load_explicit(&t->redefine, memory_order_relaxed))
                return NULL;
        pos = (uint64_t)(t->wpos - t->ring);
        if (t->ring_bytes - pos < sizeof(entry)) {
                if (!fits(t, t->ring_bytes - pos, sizeof(entry), true))
                        return shed(t);
                wrap(t);
                pos = 0;
        }
        head = atomic_load_explicit(&t->head, memory_order_acquire);
        popped = atomic_load_explicit(&t->popped, memory_order_acquire);
        /* Shedding goes on until the writer has emptied half the ring. */
        if (t->shedding && ((t->tail - head) > t->ring_bytes / 2 ||
                            pushed(t) - popped > t->ring_records / 2))
                return shed(t);
        room = t->ring_bytes - (t->tail - head);
        if (room > t->ring_bytes - pos)
                room = t->ring_bytes - pos;
        room /= sizeof(entry);
        records = t->ring_records - (pushed(t) - popped);
        if (records < room)
                room = records;
        if (room > SLOT_GRANT)
                room = SLOT_GRANT;
        if (!room)
                return shed(t);
        t->shedding = false;
        t->slot_limit = t->grant_produced + room;
        return &((entry *)t->wpos)->rec;
}

/*
 * The slot function's rarer cases: no slot was lent or the kernel hands
 * its slot back (*slot NULL), or the record filled (in e) was the last of
 * the room known, or enough records wait for the writer as its wake_at
 * said when last seen.  After the fence, the writer is woken if it waits
 * for the records there are; then wake_limit is brought up to
 * date: from the writer's wake_at as seen now, the count of produced at
 * which as many records will wait as it waits for (reckoned with popped
 * as read now, which only grows: never later than it should be).
 * p_limit, the smaller of wake_limit and slot_limit, is what the common
 * case compares produced with.
 */
static __attribute__((noinline)) void slot_slow(poe__tracelog *t, poe_trace_record **slot, entry *e)
{
        uint64_t w, p = atomic_load_explicit(&t->produced, memory_order_relaxed);

        after_publish(t);
        w = atomic_load_explicit(&t->wake_at, memory_order_relaxed);
        t->wake_limit = w == UINT64_MAX
                                ? UINT64_MAX
                                : w + atomic_load_explicit(&t->sink_dropped, memory_order_relaxed) +
                                          atomic_load_explicit(&t->popped, memory_order_relaxed);
        if (e && p < t->slot_limit && !atomic_load_explicit(&t->redefine, memory_order_relaxed))
                *slot = &(e + 1)->rec;
        else
                *slot = lend(t);
        t->p_limit = t->wake_limit < t->slot_limit ? t->wake_limit : t->slot_limit;
}

/* The records the kernel counted in the shedding slot: dropped and
 * counted by their group (records_dropped's order); then a look at the
 * ring. */
static void shed_back(poe__tracelog *t, poe_trace_record **slot)
{
        records_dropped(t, t->shed.rec.group, t->shed.rec.event_id);
        t->shed.rec.group = 0;
        t->shed.rec.event_id = 0;
        slot_slow(t, slot, NULL);
}

/* The slot function called with no slot: the shedding slot handed back
 * (it holds a group and a count), or a request for a slot. */
static __attribute__((noinline)) void no_slot(poe__tracelog *t, poe_trace_record **slot)
{
        if (t->shed.rec.group)
                shed_back(t, slot);
        else
                slot_slow(t, slot, NULL);
}

/*
 * The kernel's slot function (poe_trace_slot_fn), on its thread: the
 * record the kernel filled in the slot lent last is counted, published,
 * and the writer woken if it waits for it; then the next slot is lent,
 * the entry after it while the room known lasts.  The common case is 16
 * instructions and calls nothing (bench/trace-cost.sh).
 */
void poe__tracelog_slot(void *ctx, poe_trace_record **slot)
{
        poe__tracelog *t = ctx;
        entry *e;
        uint64_t p;

        if (__builtin_expect(!*slot, 0)) {
                no_slot(t, slot);
                return;
        }
        e = (entry *)((unsigned char *)*slot - offsetof(entry, rec));
        p = atomic_load_explicit(&t->produced, memory_order_relaxed) + 1;
        atomic_store_explicit(&t->produced, p, memory_order_relaxed);
        atomic_store_explicit(&e->size, sizeof(entry) | ENTRY_SLOT, memory_order_release);
        if (__builtin_expect(p >= t->p_limit, 0)) {
                slot_slow(t, slot, e);
                return;
        }
        *slot = &(e + 1)->rec;
}

/*
 * A definition: into the ring like a record, but not counted among the
 * records.  One that does not fit makes every record of its epoch
 * suspect (a record may name what the writer will never know): the sink
 * drops them, and asks the kernel for every definition again once the
 * ring has room (see record_stale); no slot is lent meanwhile.
 */
static __attribute__((noinline)) int sink_definition(poe__tracelog *t, const poe_trace_record *r)
{
        size_t len = r->text ? r->text_len : 0;

        if (r->kind == POE_TK_DEF_NAME && len > EVENT_MAX)
                len = EVENT_MAX;
        if (!push(t, r, r->text, len)) {
                t->sink_stale_epoch = r->epoch;
                t->stale = true;
                wake(t, true);
        }
        return 0;
}

/* A record of an epoch whose definitions did not all reach the ring:
 * dropped and counted; once there is room, the kernel is asked for new
 * definitions, and the records of the next epoch go through. */
static __attribute__((noinline)) int record_stale(poe__tracelog *t, const poe_trace_record *r)
{
        record_dropped(t, r->group);
        return has_room(t) ? POE_TRACE_SINK_REDEFINE : 0;
}

/* A record the ring cannot take. */
static __attribute__((noinline)) int record_full(poe__tracelog *t, const poe_trace_record *r)
{
        record_dropped(t, r->group);
        wake(t, true);
        return 0;
}

/*
 * The kernel's sink, on its thread, for what it does not write in a
 * slot: the fixed-size record is copied into the ring as it is, with its
 * text when it has some; nothing is formatted or looked up.  Returns
 * POE_TRACE_SINK_REDEFINE when the definitions must be sent again: the
 * sink lost one, or the writer did (it could not write a batch).
 */
int poe__tracelog_sink(void *ctx, const poe_trace_record *r)
{
        poe__tracelog *t = ctx;
        int ret = 0;

        if (!t)
                return 0;
        settle(t);
        if (__builtin_expect(r->kind >= POE_TK_KINDS, 0))
                return sink_definition(t, r);
        if (__builtin_expect(r->epoch <= t->sink_stale_epoch, 0))
                return record_stale(t, r);
        t->stale = false;
        if (__builtin_expect(atomic_load_explicit(&t->redefine, memory_order_relaxed), 0)) {
                atomic_store_explicit(&t->redefine, false, memory_order_relaxed);
                ret = POE_TRACE_SINK_REDEFINE;
        }
        if (!push(t, r, r->text, r->text ? r->text_len : 0))
                return record_full(t, r) | ret;
        return ret;
}

/* ---- the ring: the writer's side ---- */

/* The next entry, whole: a record from a slot gets its wall, reckoned
 * as the kernel does, from the static epoch the definitions before it
 * gave (see poe_trace_slot_fn). */
entry *poe__tl_ring_peek(poe__tracelog *t)
{
        entry *e = entry_at_head(t, true);
        uint32_t size;

        if (!e)
                return NULL;
        size = atomic_load_explicit(&e->size, memory_order_relaxed);
        if (e->rec.kind >= POE_TK_KINDS)
                t->reader_epoch = e->rec.num;
        else if (size & ENTRY_SLOT)
                e->rec.wall = t->reader_epoch + (double)e->rec.mono_ns / 1e9;
        return e;
}

/* The entry is zeroed (the room it gives back must be), then given
 * back. */
void poe__tl_ring_pop(poe__tracelog *t, entry *e)
{
        uint32_t size = atomic_load_explicit(&e->size, memory_order_relaxed) & ~ENTRY_SLOT;
        bool record = e->rec.kind < POE_TK_KINDS;

        memset(&e->rec, 0, size - offsetof(entry, rec));
        atomic_store_explicit(&e->size, 0, memory_order_relaxed);
        atomic_store_explicit(&t->head, atomic_load_explicit(&t->head, memory_order_relaxed) + size,
                              memory_order_release);
        if (record)
                atomic_store_explicit(&t->popped,
                                      atomic_load_explicit(&t->popped, memory_order_relaxed) + 1,
                                      memory_order_release);
}

static void tracelog_free(poe__tracelog *t)
{
        poe__tl_db_close(t);
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        pthread_mutex_destroy(&t->err_mu);
        free(t->ring);
        free(t->smap);
        free(t->smap_used);
        free(t->scratch);
        free(t->kernel_id);
        free(t->path);
        free(t);
}

/* The path made absolute, so that neither a retry of the writer nor a
 * reader depends on the working directory of the moment. */
static char *absolute(const char *path)
{
        char cwd[4096], *abs;

        if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
                return strdup(path);
        abs = malloc(strlen(cwd) + strlen(path) + 2);
        if (abs)
                sprintf(abs, "%s/%s", cwd, path);
        return abs;
}

/* What the runs row says about this run, taken here on the kernel's
 * thread. */
static int run_info(poe__tracelog *t, poe_kernel *k)
{
        poe_kernel_info info;

        memset(&info, 0, sizeof(info));
        if (!k || poe_peek_kernel(k, &info) < 0) {
                info.pid = (int)getpid();
                info.started = (double)time(NULL);
        }
        t->run_pid = info.pid;
        t->run_started = info.started;
        if (k && !(t->kernel_id = strdup(poe_kernel_id(k))))
                return -ENOMEM;
        return 0;
}

/* The database's own name for the file, when it has one. */
static int take_sqlite_path(poe__tracelog *t, const char *path)
{
        const char *abs = sqlite3_db_filename(t->db, "main");
        char *p = strdup(abs && *abs ? abs : path);

        if (!p)
                return -ENOMEM;
        free(t->path);
        t->path = p;
        return 0;
}

static int tracelog_open(const char *path, size_t ring_size, poe_kernel *k, bool retry,
                         poe__tracelog **ret, char *err, size_t errlen)
{
        pthread_condattr_t ca;
        sigset_t all, old;
        poe__tracelog *t;
        unsigned g;
        int rc;

        *ret = NULL;
        poe__tl_set_err(err, errlen, "%s", "");
        if (!path || !*path) {
                poe__tl_set_err(err, errlen, "trace log: no path given");
                return -EINVAL;
        }
        if (!ring_size)
                ring_size = DEFAULT_RING;
        if (ring_size > UINT32_MAX) {
                poe__tl_set_err(err, errlen, "trace log: ring size %zu is too large", ring_size);
                return -EINVAL;
        }
        t = calloc(1, sizeof(*t));
        if (!t)
                goto nomem;
        t->ring_records = ring_size;
        t->ring_bytes = (uint64_t)ring_size * RING_BYTES_PER_RECORD;
        /* Big enough that a record of any size always fits, once. */
        if (t->ring_bytes < 8 * ENTRY_MAX)
                t->ring_bytes = 8 * ENTRY_MAX;
        atomic_init(&t->idle_look_ms, IDLE_LOOK_MS);
        t->threshold = ring_size / 2 < BATCH_MAX ? (ring_size / 2 ? ring_size / 2 : 1) : BATCH_MAX;
        atomic_init(&t->head, 0);
        atomic_init(&t->popped, 0);
        atomic_init(&t->wake_at, UINT64_MAX);
        atomic_init(&t->written, 0);
        atomic_init(&t->produced, 0);
        atomic_init(&t->sink_dropped, 0);
        atomic_init(&t->run_id, 0);
        atomic_init(&t->writer_stale_epoch, 0);
        atomic_init(&t->redefine, false);
        for (g = 0; g < N_GROUP_BITS; g++) {
                atomic_init(&t->dropped[g], 0);
                atomic_init(&t->sink_drops[g], 0);
                atomic_init(&t->removed[g], 0);
        }
        atomic_init(&t->max_bytes, POE__TRACE_DB_MAX_DEFAULT);
        atomic_init(&t->max_age, 0);
        atomic_init(&t->removed_earlier, 0);
        atomic_init(&t->runs_removed, 0);
        atomic_init(&t->size_bytes, 0);
        atomic_init(&t->checkpoints, 0);
        if (pthread_mutex_init(&t->mu, NULL) != 0) {
                free(t);
                goto nomem;
        }
        if (pthread_mutex_init(&t->err_mu, NULL) != 0) {
                pthread_mutex_destroy(&t->mu);
                free(t);
                goto nomem;
        }
        /* Deadlines on the monotonic clock: a wall clock step must not
         * stall or hurry the writer. */
        if (pthread_condattr_init(&ca) != 0 ||
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
            pthread_cond_init(&t->cv, &ca) != 0) {
                pthread_mutex_destroy(&t->err_mu);
                pthread_mutex_destroy(&t->mu);
                free(t);
                goto nomem;
        }
        pthread_condattr_destroy(&ca);
        /* Zeroed: free room is all zeros (see the ring). */
        t->ring = calloc(1, t->ring_bytes);
        t->wpos = t->grant = t->ring;
        t->wake_limit = UINT64_MAX;
        t->smap = calloc(SMAP_SIZE, sizeof(*t->smap));
        t->smap_used = calloc(SMAP_SIZE, sizeof(*t->smap_used));
        t->scratch = malloc(3 * ENTRY_MAX + 4);
        if (!t->ring || !t->smap || !t->smap_used || !t->scratch) {
                tracelog_free(t);
                goto nomem;
        }
        prefault(t->ring, t->ring_bytes);
        if (run_info(t, k) < 0) {
                tracelog_free(t);
                goto nomem;
        }
        if (retry) {
                t->retry_open = true;
                if (!(t->path = absolute(path))) {
                        tracelog_free(t);
                        goto nomem;
                }
                if (poe__tl_try_open(t, err, errlen) && take_sqlite_path(t, path) < 0) {
                        tracelog_free(t);
                        goto nomem;
                }
        } else {
                rc = poe__tl_db_open(t, path, err, errlen);
                if (rc == 0 && take_sqlite_path(t, path) < 0) {
                        poe__tl_set_err(err, errlen, "trace log `%s': out of memory", path);
                        rc = -ENOMEM;
                }
                if (rc < 0) {
                        tracelog_free(t);
                        return rc;
                }
        }
        /* The writer takes no signals: they belong to the kernel's thread,
         * whose wait they must interrupt (POE_USE_SIGNAL_PIPE=0 relies on
         * it). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = pthread_create(&t->thread, NULL, poe__tl_writer_main, t);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
                poe__tl_set_err(err, errlen, "trace log `%s': cannot start the writer thread: %s",
                                path, strerror(rc));
                tracelog_free(t);
                return -rc;
        }
        t->thread_started = true;
        *ret = t;
        return 0;
nomem:
        poe__tl_set_err(err, errlen, "trace log `%s': out of memory", path);
        return -ENOMEM;
}

int poe__tracelog_open(const char *path, size_t ring_size, poe_kernel *k, poe__tracelog **ret,
                       char *err, size_t errlen)
{
        return tracelog_open(path, ring_size, k, false, ret, err, errlen);
}

int poe__tracelog_open_retrying(const char *path, size_t ring_size, poe_kernel *k,
                                poe__tracelog **ret, char *err, size_t errlen)
{
        return tracelog_open(path, ring_size, k, true, ret, err, errlen);
}

int poe__tracelog_set_bounds(poe__tracelog *t, uint64_t max_bytes, uint64_t max_age)
{
        if (!t)
                return -EINVAL;
        if (!max_bytes)
                max_bytes = POE__TRACE_DB_MAX_DEFAULT;
        if (max_bytes < POE__TRACE_DB_MAX_MIN || max_bytes > POE__TRACE_DB_MAX_MAX ||
            max_age > POE__TRACE_DB_AGE_MAX)
                return -EINVAL;
        atomic_store(&t->max_bytes, max_bytes);
        atomic_store(&t->max_age, max_age);
        return 0;
}

/* The caller removes the sink from the kernel first: a record handed to
 * a stopped log would never be written or counted. */
void poe__tracelog_stop(poe__tracelog *t)
{
        if (!t || !t->thread_started)
                return;
        pthread_mutex_lock(&t->mu);
        t->stop = true;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->thread, NULL);
        t->thread_started = false;
}

/* The caller removes the sink from the kernel first: a record handed to
 * a closed log would be written into freed memory. */
void poe__tracelog_close(poe__tracelog *t)
{
        if (!t)
                return;
        poe__tracelog_stop(t);
        tracelog_free(t);
}

/* ---- status ---- */

/* Per-group counts as {"TRACE_EVENTS": n, ...} (the groups with none
 * left out), and their sum; counts NULL: the drops (poe__tl_dropped). */
static json_t *by_group(poe__tracelog *t, _Atomic uint64_t *counts, uint64_t *ret_total)
{
        json_t *d = json_object();
        uint64_t n;
        unsigned g;
        int bad = 0;

        *ret_total = 0;
        if (!d)
                return NULL;
        for (g = 0; g < N_GROUP_BITS; g++) {
                n = counts ? atomic_load_explicit(&counts[g], memory_order_acquire)
                           : poe__tl_dropped(t, g);
                if (!n)
                        continue;
                *ret_total += n;
                bad |= poe__tl_jset(d, poe__tl_group_name(1u << g), json_integer((json_int_t)n));
        }
        if (bad) {
                json_decref(d);
                return NULL;
        }
        return d;
}

json_t *poe__tracelog_status(poe__tracelog *t)
{
        json_t *o, *d, *r, *e, *note;
        uint64_t total = 0, removed = 0, written, produced, age, files;
        int bad = 0;

        if (!t)
                return NULL;
        o = json_object();
        d = by_group(t, NULL, &total);
        r = by_group(t, t->removed, &removed);
        if (!o || !d || !r) {
                json_decref(o);
                json_decref(d);
                json_decref(r);
                return NULL;
        }
        /* Pending is what was produced and is neither written nor
         * dropped yet: in the ring, or in the writer's open transaction.
         * Produced is read last, so that it is never less than the sum:
         * pending 0 means every record is accounted for. */
        written = atomic_load(&t->written);
        produced = atomic_load(&t->produced);
        pthread_mutex_lock(&t->err_mu);
        e = t->has_error ? poe__tl_jstr(t->error) : json_null();
        files = t->files_started;
        note = t->files_started ? poe__tl_jstr(t->file_note) : json_null();
        pthread_mutex_unlock(&t->err_mu);
        bad |= poe__tl_jset(o, "path", poe__tl_jstr(t->path));
        bad |= poe__tl_jset(o, "run_id", json_integer(atomic_load(&t->run_id)));
        bad |= poe__tl_jset(o, "records_produced", json_integer((json_int_t)produced));
        bad |= poe__tl_jset(o, "records_written", json_integer((json_int_t)written));
        bad |= poe__tl_jset(o, "records_pending",
                            json_integer(produced > written + total
                                                 ? (json_int_t)(produced - written - total)
                                                 : 0));
        bad |= poe__tl_jset(o, "dropped", d);
        bad |= poe__tl_jset(o, "dropped_total", json_integer((json_int_t)total));
        /* Of those, what the ring had no room for (shed on the kernel's
         * thread); the rest the writer lost (a batch it could not
         * write, a definition it never saw). */
        bad |= poe__tl_jset(o, "dropped_ring_full",
                            json_integer((json_int_t)atomic_load(&t->sink_dropped)));
        /* Removed records were written first: they are among the
         * written, not beside them. */
        bad |= poe__tl_jset(o, "removed", r);
        bad |= poe__tl_jset(o, "removed_total", json_integer((json_int_t)removed));
        bad |= poe__tl_jset(o, "removed_earlier",
                            json_integer((json_int_t)atomic_load(&t->removed_earlier)));
        bad |= poe__tl_jset(o, "runs_removed",
                            json_integer((json_int_t)atomic_load(&t->runs_removed)));
        bad |= poe__tl_jset(o, "size_bytes",
                            json_integer((json_int_t)atomic_load(&t->size_bytes)));
        bad |= poe__tl_jset(o, "max_bytes", json_integer((json_int_t)atomic_load(&t->max_bytes)));
        bad |= poe__tl_jset(o, "checkpoints",
                            json_integer((json_int_t)atomic_load(&t->checkpoints)));
        age = atomic_load(&t->max_age);
        bad |= poe__tl_jset(o, "max_age", age ? json_integer((json_int_t)age) : json_null());
        bad |= poe__tl_jset(o, "error", e);
        bad |= poe__tl_jset(o, "files_started", json_integer((json_int_t)files));
        bad |= poe__tl_jset(o, "file_note", note);
        if (bad) {
                json_decref(o);
                return NULL;
        }
        return o;
}

void poe__tracelog_set_idle_look(poe__tracelog *t, int64_t ms)
{
        atomic_store(&t->idle_look_ms, ms > 0 ? ms : IDLE_LOOK_MS);
}
