/*
 * The trace log: the kernel's structured trace records, kept in SQLite.
 *
 * Three parties, three rules:
 *
 *  - the sink (poe__tracelog_sink) runs on the kernel's thread, inside
 *    every trace.  It copies the record into a bounded ring and returns:
 *    no I/O, no allocation, no lock on the common path.  The ring is
 *    single-producer, single-consumer and lock-free; the sink takes the
 *    writer's mutex only to wake it, at most once per writer sleep.  A
 *    record that does not fit is dropped and counted, per group.
 *  - the writer thread drains the ring into SQLite: WAL mode,
 *    synchronous=NORMAL, statements prepared once, one transaction per
 *    batch of up to 1000 records or 50 ms, whichever comes first.  When
 *    the database cannot be written (locked, disk full, ...) the writer
 *    says so in the status, keeps draining the ring (counting what it
 *    cannot write as dropped), retries every half second and resumes when
 *    the fault clears.  The kernel never waits for it.
 *  - queries and exports read the database through their own read-only
 *    connections, one per call, from any thread.  They see what the
 *    writer has committed: the log lags the kernel by at most one batch
 *    (50 ms, or the time to write 1000 records), plus whatever the ring
 *    holds while the writer is failing.
 *
 * The schema (version 1: PRAGMA user_version = 1, and PRAGMA
 * application_id = 0x504f4554, "POET", so a database of something else
 * is recognised and refused rather than written into):
 *
 *   CREATE TABLE runs(            -- one row per poe__tracelog_open
 *       id INTEGER PRIMARY KEY,
 *       pid INTEGER,              -- the process
 *       kernel_id TEXT,           -- poe_kernel_id()
 *       started REAL,             -- the kernel's start, epoch seconds
 *       hostname TEXT,
 *       poe_version TEXT);
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
 *       grp TEXT,                 -- "TRACE_EVENTS", ...
 *       prefix TEXT,              -- "<ev>", ...
 *       kind TEXT,                -- "enqueue", "dispatch", "return", ...
 *       session INTEGER,          -- the session it is about (0: the kernel)
 *       event TEXT,               -- the event it is about, or NULL
 *       sender INTEGER,
 *       refcount INTEGER,         -- the session's count at the time
 *       queue INTEGER,            -- the kernel's queue length at the time
 *       message TEXT);            -- the text line, without prefix
 *   CREATE INDEX records_run_wall ON records(run_id, wall);
 *   CREATE INDEX records_run_session ON records(run_id, session);
 *   CREATE INDEX records_run_grp ON records(run_id, grp);
 *   CREATE INDEX records_run_event ON records(run_id, event);
 *   CREATE TABLE drops(           -- records lost, per run and group
 *       run_id INTEGER NOT NULL,
 *       grp TEXT NOT NULL,
 *       count INTEGER NOT NULL,   -- the running total, rewritten as it grows
 *       PRIMARY KEY(run_id, grp));
 *
 * A record is dropped when the ring is full (the writer is behind) or
 * when its batch could not be written (the database is failing); either
 * way it is counted in the status and, as soon as the database takes
 * writes again, in `drops`.  Messages longer than about 3.5 KB are cut
 * with a "[... N bytes truncated]" marker (the kernel's own are at most
 * 2 KB).  Text that is not valid UTF-8 is stored with U+FFFD in place of
 * the bad bytes, so every row converts to JSON.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "inspector-internal.h"

/* The version the runs table names.  The build should define it from
 * meson.project_version(). */
#ifndef POE_INSPECTOR_VERSION
#define POE_INSPECTOR_VERSION "unknown"
#endif

#define SCHEMA_VERSION     1
#define STR_(x)            #x
#define STR(x)             STR_(x)
#define APPLICATION_ID     0x504f4554 /* "POET" */
#define APPLICATION_ID_DEC "1347372372"

#define DEFAULT_RING          65536
#define RING_BYTES_PER_RECORD 256  /* an average record is ~150 bytes */
#define ENTRY_MAX             4096 /* one record in the ring, strings included */
#define EVENT_MAX             1024 /* longer event names are cut */
#define SHORT_MAX             64   /* kind and prefix are the kernel's constants */
#define BATCH_MAX             1000
#define BATCH_MS              50
#define RETRY_MS              500
#define WRITER_BUSY_MS        200 /* a lock held longer is a fault to report */
#define OPEN_BUSY_MS          1000
#define READER_BUSY_MS        2000
#define N_GROUP_BITS          32
#define SMAP_SIZE             2048 /* a power of two, > 2 * BATCH_MAX */

/* ---- the ring ---- */

/*
 * One record in the ring: this header, then kind, prefix, event and
 * message, each NUL-terminated.  Entries are 8-byte aligned; an entry
 * that would run past the end of the buffer is written at its start
 * instead, after a header of size 0 that tells the reader to wrap.
 */
typedef struct entry {
        uint32_t size; /* of the whole entry; 0: wrap to the start */
        uint32_t group;
        int64_t mono_ns;
        double wall;
        uint64_t session, sender, queue;
        uint32_t refcount;
        uint16_t kind_len, prefix_len, event_len, message_len;
        uint8_t has_event;
} entry;

typedef struct sess_slot {
        uint64_t sid;
        double first, last;
        bool used;
} sess_slot;

struct poe__tracelog {
        char *path; /* absolute, as SQLite resolved it: readers open this */
        int64_t run_id;

        unsigned char *ring;
        uint64_t ring_bytes, ring_records, threshold;
        _Atomic uint64_t tail;   /* bytes produced; the sink writes it */
        _Atomic uint64_t head;   /* bytes consumed; the writer writes it */
        _Atomic uint64_t pushed; /* records produced */
        _Atomic uint64_t popped; /* records consumed */
        /* The writer sleeps until this many records wait; UINT64_MAX
         * while it is awake. */
        _Atomic uint64_t wake_at;
        _Atomic uint64_t dropped[N_GROUP_BITS];
        _Atomic uint64_t written;

        pthread_t thread;
        bool thread_started;
        pthread_mutex_t mu; /* stop, and the writer's sleeps */
        pthread_cond_t cv;
        bool stop;

        pthread_mutex_t err_mu;
        bool has_error;
        char error[512];

        /* The writer's own, never touched by another thread once it runs. */
        sqlite3 *db;
        sqlite3_stmt *st_begin, *st_commit, *st_rollback, *st_insert, *st_session, *st_drop;
        bool in_error;
        int64_t next_retry_ms;
        uint64_t drops_recorded[N_GROUP_BITS];
        char fault[400]; /* the failure of the current batch */
        int fault_rc;    /* and its SQLite code */
        sess_slot *smap;
        uint32_t *smap_used;
        size_t smap_count;
        char *scratch; /* 3 * ENTRY_MAX + 4: one string made valid UTF-8 */
};

/* ---- small helpers ---- */

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec ms_to_ts(int64_t ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

        return ts;
}

static __attribute__((format(printf, 3, 4))) void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
        va_list ap;

        if (!err || !errlen)
                return;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

static unsigned group_index(unsigned group)
{
        return group ? (unsigned)__builtin_ctz(group) : N_GROUP_BITS - 1;
}

static const char *group_name(unsigned group)
{
        const char *n = poe_debug_group_name(group);

        return n ? n : "UNKNOWN";
}

/* The length of a valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
        unsigned c = s[0];
        size_t len, i;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are
         * what jansson refuses too. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

static bool utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, l;

        while (i < n) {
                if (p[i] < 0x80) {
                        i++;
                        continue;
                }
                l = utf8_seq(p + i, n - i);
                if (!l)
                        return false;
                i += l;
        }
        return true;
}

/* Copies s into out (3 * n + 1 bytes) with U+FFFD for each byte that is
 * not part of a valid sequence; returns the length written. */
static size_t utf8_clean(const char *s, size_t n, char *out)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, o = 0, l;

        while (i < n) {
                l = utf8_seq(p + i, n - i);
                if (l) {
                        memcpy(out + o, p + i, l);
                        o += l;
                        i += l;
                } else {
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                }
        }
        out[o] = '\0';
        return o;
}

/* A JSON string for any C string (NULL: null); bad UTF-8 is replaced
 * rather than refused, so one odd byte cannot lose a whole answer. */
static json_t *jstr_n(const char *s, size_t n)
{
        json_t *j;
        char *tmp;

        if (!s)
                return json_null();
        if (utf8_valid(s, n))
                return json_stringn(s, n);
        if (n > (SIZE_MAX - 1) / 3)
                return NULL;
        tmp = malloc(3 * n + 1);
        if (!tmp)
                return NULL;
        n = utf8_clean(s, n, tmp);
        j = json_stringn(tmp, n);
        free(tmp);
        return j;
}

static json_t *jstr(const char *s)
{
        return s ? jstr_n(s, strlen(s)) : json_null();
}

/* json_object_set_new that reports a NULL value as a failure (it is an
 * allocation that failed) and always consumes v. */
static int jset(json_t *o, const char *key, json_t *v)
{
        if (!v)
                return -1;
        return json_object_set_new(o, key, v);
}

/* A parameter value shown in an error message: bounded, printable ASCII
 * only, so the message is safe in any JSON answer or terminal. */
static const char *echo(const char *v, char *buf, size_t size)
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

/* ---- the ring: the sink's side ---- */

static uint64_t ring_count(poe__tracelog *t)
{
        uint64_t q = atomic_load(&t->popped), p = atomic_load(&t->pushed);

        /* The writer may count a record it has read before the sink has
         * counted it (the sink publishes the bytes first). */
        return p > q ? p - q : 0;
}

static bool ring_empty(poe__tracelog *t)
{
        return atomic_load(&t->head) == atomic_load(&t->tail);
}

static void drop(poe__tracelog *t, unsigned group, uint64_t n)
{
        atomic_fetch_add_explicit(&t->dropped[group_index(group)], n, memory_order_relaxed);
}

/* Wakes the writer if it sleeps until `pending` records wait (or for any
 * reason when force: the ring is full).  The compare-and-swap makes it
 * one signal per sleep, so the sink takes the mutex once per batch at
 * most. */
static void wake(poe__tracelog *t, uint64_t pending, bool force)
{
        uint64_t w = atomic_load(&t->wake_at);

        if (w != UINT64_MAX && (force || pending >= w) &&
            atomic_compare_exchange_strong(&t->wake_at, &w, UINT64_MAX)) {
                pthread_mutex_lock(&t->mu);
                pthread_cond_signal(&t->cv);
                pthread_mutex_unlock(&t->mu);
        }
}

static size_t copy_cut(char *dst, const char *src, size_t len)
{
        memcpy(dst, src, len);
        dst[len] = '\0';
        return len;
}

void poe__tracelog_sink(void *ctx, const poe_trace_record *r)
{
        poe__tracelog *t = ctx;
        const char *kind = r->kind ? r->kind : "", *prefix = r->prefix ? r->prefix : "";
        const char *message = r->message ? r->message : "";
        size_t kl = strnlen(kind, SHORT_MAX), pl = strnlen(prefix, SHORT_MAX);
        size_t el = r->event ? strnlen(r->event, EVENT_MAX) : 0, ml = strlen(message);
        size_t fixed, budget, need, keep = ml;
        uint64_t tail, head, pos, pad, pushed;
        char marker[48] = "";
        size_t markl = 0;
        entry *e;
        char *s;

        if (!t)
                return;
        fixed = sizeof(entry) + kl + pl + el + 4 + 7;
        budget = ENTRY_MAX - fixed;
        if (ml > budget) {
                /* Cut at a character boundary, and say how much is gone. */
                markl = (size_t)snprintf(marker, sizeof(marker), " [... %zu bytes truncated]", ml);
                keep = budget - markl;
                while (keep > 0 && ((unsigned char)message[keep] & 0xc0) == 0x80)
                        keep--;
                markl = (size_t)snprintf(marker, sizeof(marker), " [... %zu bytes truncated]",
                                         ml - keep);
        }
        need = (sizeof(entry) + kl + pl + el + keep + markl + 4 + 7) & ~(size_t)7;

        tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
        head = atomic_load_explicit(&t->head, memory_order_acquire);
        pushed = atomic_load_explicit(&t->pushed, memory_order_relaxed);
        pos = tail % t->ring_bytes;
        pad = t->ring_bytes - pos < need ? t->ring_bytes - pos : 0;
        if (pushed - atomic_load_explicit(&t->popped, memory_order_acquire) >= t->ring_records ||
            (tail - head) + pad + need > t->ring_bytes) {
                drop(t, r->group, 1);
                wake(t, 0, true);
                return;
        }
        if (pad) {
                ((entry *)(t->ring + pos))->size = 0;
                pos = 0;
        }
        e = (entry *)(t->ring + pos);
        e->size = (uint32_t)need;
        e->group = r->group;
        e->mono_ns = r->mono_ns;
        e->wall = r->wall;
        e->session = r->session;
        e->sender = r->sender;
        e->queue = r->queue_length;
        e->refcount = r->refcount;
        e->has_event = r->event != NULL;
        s = (char *)(e + 1);
        e->kind_len = (uint16_t)copy_cut(s, kind, kl);
        s += kl + 1;
        e->prefix_len = (uint16_t)copy_cut(s, prefix, pl);
        s += pl + 1;
        e->event_len = (uint16_t)copy_cut(s, r->event ? r->event : "", el);
        s += el + 1;
        memcpy(s, message, keep);
        memcpy(s + keep, marker, markl);
        s[keep + markl] = '\0';
        e->message_len = (uint16_t)(keep + markl);

        /* Publish the bytes, then the count; both sequentially consistent
         * with the writer's wake_at store (see writer_main), so either the
         * writer sees this record or the sink sees that it must wake it. */
        atomic_store(&t->tail, tail + pad + need);
        atomic_store(&t->pushed, pushed + 1);
        wake(t, pushed + 1 - atomic_load(&t->popped), false);
}

/* ---- the ring: the writer's side ---- */

static entry *ring_peek(poe__tracelog *t)
{
        uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
        uint64_t tail = atomic_load_explicit(&t->tail, memory_order_acquire);
        uint64_t pos;
        entry *e;

        if (head == tail)
                return NULL;
        pos = head % t->ring_bytes;
        e = (entry *)(t->ring + pos);
        if (e->size == 0) {
                head += t->ring_bytes - pos;
                atomic_store_explicit(&t->head, head, memory_order_release);
                if (head == tail)
                        return NULL;
                e = (entry *)t->ring;
        }
        return e;
}

static void ring_pop(poe__tracelog *t, const entry *e)
{
        atomic_store_explicit(&t->head,
                              atomic_load_explicit(&t->head, memory_order_relaxed) + e->size,
                              memory_order_release);
        atomic_fetch_add(&t->popped, 1);
}

static const char *e_kind(const entry *e)
{
        return (const char *)(e + 1);
}

static const char *e_prefix(const entry *e)
{
        return e_kind(e) + e->kind_len + 1;
}

static const char *e_event(const entry *e)
{
        return e_prefix(e) + e->prefix_len + 1;
}

static const char *e_message(const entry *e)
{
        return e_event(e) + e->event_len + 1;
}

/* ---- the writer ---- */

static void status_error(poe__tracelog *t, const char *msg)
{
        pthread_mutex_lock(&t->err_mu);
        if (msg) {
                snprintf(t->error, sizeof(t->error), "%s", msg);
                t->has_error = true;
        } else {
                t->has_error = false;
        }
        pthread_mutex_unlock(&t->err_mu);
}

/* Runs a statement to completion and resets it; on failure keeps the
 * SQLite message in t->fault for the status. */
static bool run(poe__tracelog *t, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
                sqlite3_reset(st);
                return true;
        }
        /* The message often is the code's own text: say it once. */
        if (strcmp(sqlite3_errmsg(t->db), sqlite3_errstr(rc)) == 0)
                snprintf(t->fault, sizeof(t->fault), "%s: %s", what, sqlite3_errmsg(t->db));
        else
                snprintf(t->fault, sizeof(t->fault), "%s: %s (%s)", what, sqlite3_errmsg(t->db),
                         sqlite3_errstr(rc));
        t->fault_rc = rc;
        sqlite3_reset(st);
        return false;
}

/* Binds a string from the ring, made valid UTF-8 if it is not. */
static int bind_text(poe__tracelog *t, sqlite3_stmt *st, int i, const char *s, size_t n)
{
        if (utf8_valid(s, n))
                return sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
        n = utf8_clean(s, n, t->scratch);
        return sqlite3_bind_text(st, i, t->scratch, (int)n, SQLITE_TRANSIENT);
}

static bool insert_record(poe__tracelog *t, const entry *e)
{
        sqlite3_stmt *st = t->st_insert;
        int rc;

        rc = sqlite3_bind_int64(st, 1, t->run_id);
        rc |= sqlite3_bind_int64(st, 2, e->mono_ns);
        rc |= sqlite3_bind_double(st, 3, e->wall);
        rc |= sqlite3_bind_text(st, 4, group_name(e->group), -1, SQLITE_STATIC);
        rc |= bind_text(t, st, 5, e_prefix(e), e->prefix_len);
        rc |= bind_text(t, st, 6, e_kind(e), e->kind_len);
        rc |= sqlite3_bind_int64(st, 7, (sqlite3_int64)e->session);
        if (e->has_event)
                rc |= bind_text(t, st, 8, e_event(e), e->event_len);
        else
                rc |= sqlite3_bind_null(st, 8);
        rc |= sqlite3_bind_int64(st, 9, (sqlite3_int64)e->sender);
        rc |= sqlite3_bind_int64(st, 10, e->refcount);
        rc |= sqlite3_bind_int64(st, 11, (sqlite3_int64)e->queue);
        rc |= bind_text(t, st, 12, e_message(e), e->message_len);
        if (rc != SQLITE_OK) {
                snprintf(t->fault, sizeof(t->fault), "binding a record: %s", sqlite3_errmsg(t->db));
                sqlite3_reset(st);
                return false;
        }
        return run(t, st, "inserting a record");
}

/* The batch's sessions: each is written once per batch, with the first
 * and last times it was seen in it. */
static void sess_note(poe__tracelog *t, uint64_t sid, double wall)
{
        uint32_t i = (uint32_t)((sid * 0x9e3779b97f4a7c15ull) >> 53) & (SMAP_SIZE - 1);

        while (t->smap[i].used && t->smap[i].sid != sid)
                i = (i + 1) & (SMAP_SIZE - 1);
        if (!t->smap[i].used) {
                t->smap[i].used = true;
                t->smap[i].sid = sid;
                t->smap[i].first = t->smap[i].last = wall;
                t->smap_used[t->smap_count++] = i;
                return;
        }
        if (wall < t->smap[i].first)
                t->smap[i].first = wall;
        if (wall > t->smap[i].last)
                t->smap[i].last = wall;
}

static void sess_clear(poe__tracelog *t)
{
        size_t i;

        for (i = 0; i < t->smap_count; i++)
                t->smap[t->smap_used[i]].used = false;
        t->smap_count = 0;
}

static bool sess_write(poe__tracelog *t)
{
        size_t i;

        for (i = 0; i < t->smap_count; i++) {
                const sess_slot *s = &t->smap[t->smap_used[i]];

                if (sqlite3_bind_int64(t->st_session, 1, t->run_id) != SQLITE_OK ||
                    sqlite3_bind_int64(t->st_session, 2, (sqlite3_int64)s->sid) != SQLITE_OK ||
                    sqlite3_bind_double(t->st_session, 3, s->first) != SQLITE_OK ||
                    sqlite3_bind_double(t->st_session, 4, s->last) != SQLITE_OK) {
                        snprintf(t->fault, sizeof(t->fault), "binding a session: %s",
                                 sqlite3_errmsg(t->db));
                        return false;
                }
                if (!run(t, t->st_session, "updating the sessions"))
                        return false;
        }
        return true;
}

/* Writes the drop counts that changed (all of them when force) into the
 * open transaction; what was written goes to now[] for after COMMIT. */
static bool drops_write(poe__tracelog *t, bool force, uint64_t now[N_GROUP_BITS])
{
        unsigned g;

        for (g = 0; g < N_GROUP_BITS; g++) {
                now[g] = atomic_load_explicit(&t->dropped[g], memory_order_relaxed);
                if (!now[g] || (!force && now[g] == t->drops_recorded[g]))
                        continue;
                if (sqlite3_bind_int64(t->st_drop, 1, t->run_id) != SQLITE_OK ||
                    sqlite3_bind_text(t->st_drop, 2, group_name(1u << g), -1, SQLITE_STATIC) !=
                            SQLITE_OK ||
                    sqlite3_bind_int64(t->st_drop, 3, (sqlite3_int64)now[g]) != SQLITE_OK) {
                        snprintf(t->fault, sizeof(t->fault), "binding a drop count: %s",
                                 sqlite3_errmsg(t->db));
                        return false;
                }
                if (!run(t, t->st_drop, "recording drops"))
                        return false;
        }
        return true;
}

static bool drops_pending(poe__tracelog *t)
{
        unsigned g;

        for (g = 0; g < N_GROUP_BITS; g++)
                if (atomic_load_explicit(&t->dropped[g], memory_order_relaxed) !=
                    t->drops_recorded[g])
                        return true;
        return false;
}

/* Before a retry: after a full disk, moves what the WAL holds into the
 * database and truncates the WAL.  Otherwise a WAL on a small disk never
 * reaches the autocheckpoint size, is never rewound, and the log stays
 * stuck even once space is freed.  Best effort: a failure here shows in
 * the retry itself. */
static void before_retry(poe__tracelog *t)
{
        if ((t->fault_rc & 0xff) == SQLITE_FULL)
                sqlite3_wal_checkpoint_v2(t->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

static void rollback(poe__tracelog *t)
{
        /* A failed statement may already have rolled the transaction
         * back (SQLITE_FULL does); only roll back what is still open. */
        if (!sqlite3_get_autocommit(t->db)) {
                char keep[sizeof(t->fault)];

                memcpy(keep, t->fault, sizeof(keep));
                run(t, t->st_rollback, "rolling back");
                memcpy(t->fault, keep, sizeof(keep));
        }
}

static void batch_failed(poe__tracelog *t)
{
        char msg[sizeof(t->fault) + 96];

        rollback(t);
        t->in_error = true;
        t->next_retry_ms = now_ms() + RETRY_MS;
        snprintf(msg, sizeof(msg),
                 "%s; retrying every %d ms, dropping and counting records "
                 "meanwhile",
                 t->fault, RETRY_MS);
        status_error(t, msg);
}

static void batch_succeeded(poe__tracelog *t, const uint64_t drops_now[N_GROUP_BITS])
{
        memcpy(t->drops_recorded, drops_now, sizeof(t->drops_recorded));
        if (t->in_error) {
                t->in_error = false;
                status_error(t, NULL);
        }
}

/*
 * Moves up to BATCH_MAX records from the ring into the database in one
 * transaction.  While the database is failing and the retry time has not
 * come, or when the transaction fails, the records are consumed all the
 * same and counted as dropped: the ring must keep moving for the kernel.
 */
static void write_batch(poe__tracelog *t)
{
        uint64_t per_group[N_GROUP_BITS] = { 0 }, drops_now[N_GROUP_BITS];
        bool attempt = !t->in_error || now_ms() >= t->next_retry_ms, ok = attempt;
        size_t n = 0;
        unsigned g;
        entry *e;

        if (ok && t->in_error)
                before_retry(t);
        if (ok)
                ok = run(t, t->st_begin, "starting a transaction");
        while (n < BATCH_MAX && (e = ring_peek(t))) {
                if (ok) {
                        ok = insert_record(t, e);
                        sess_note(t, e->session, e->wall);
                }
                per_group[group_index(e->group)]++;
                n++;
                ring_pop(t, e);
        }
        if (ok)
                ok = sess_write(t) && drops_write(t, false, drops_now) &&
                     run(t, t->st_commit, "committing");
        sess_clear(t);
        if (ok) {
                atomic_fetch_add(&t->written, n);
                batch_succeeded(t, drops_now);
                return;
        }
        if (attempt)
                batch_failed(t);
        for (g = 0; g < N_GROUP_BITS; g++)
                if (per_group[g])
                        atomic_fetch_add(&t->dropped[g], per_group[g]);
}

/* Writes the drop counts alone: after a fault with nothing else to
 * write, this is the retry that finds out whether the fault cleared (a
 * real write, so a full disk is not mistaken for a cured one), and at
 * the end, the last word. */
static bool write_drops_only(poe__tracelog *t)
{
        uint64_t drops_now[N_GROUP_BITS];

        if (t->in_error)
                before_retry(t);
        if (run(t, t->st_begin, "starting a transaction") &&
            drops_write(t, t->in_error, drops_now) && run(t, t->st_commit, "committing")) {
                batch_succeeded(t, drops_now);
                return true;
        }
        batch_failed(t);
        return false;
}

static void *writer_main(void *arg)
{
        poe__tracelog *t = arg;
        bool stopping = false;
        int64_t deadline;
        struct timespec ts;
        uint64_t g, total = 0;

        for (;;) {
                pthread_mutex_lock(&t->mu);
                /* Asleep until the first record, stop, or (while failing)
                 * the next retry.  wake_at is stored before the ring is
                 * looked at again, so a record pushed in between either
                 * is seen here or makes the sink signal. */
                while (!t->stop && ring_empty(t)) {
                        atomic_store(&t->wake_at, 1);
                        if (!ring_empty(t))
                                break;
                        if (!t->in_error) {
                                pthread_cond_wait(&t->cv, &t->mu);
                                continue;
                        }
                        ts = ms_to_ts(t->next_retry_ms);
                        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT)
                                break;
                }
                /* A batch: wait for BATCH_MAX records or BATCH_MS. */
                deadline = now_ms() + BATCH_MS;
                while (!t->stop && !ring_empty(t) && ring_count(t) < t->threshold) {
                        atomic_store(&t->wake_at, t->threshold);
                        if (ring_count(t) >= t->threshold)
                                break;
                        ts = ms_to_ts(deadline);
                        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT)
                                break;
                }
                atomic_store(&t->wake_at, UINT64_MAX);
                stopping = t->stop;
                pthread_mutex_unlock(&t->mu);

                /* The last flush tries the database once more, whatever
                 * the retry clock says. */
                if (stopping && t->in_error)
                        t->next_retry_ms = 0;
                while (!ring_empty(t))
                        write_batch(t);
                if (t->in_error && now_ms() >= t->next_retry_ms)
                        write_drops_only(t);
                if (stopping)
                        break;
        }
        if (drops_pending(t) && !t->in_error)
                write_drops_only(t);
        if (drops_pending(t)) {
                /* The one loss the log itself cannot record: say it where
                 * someone may read it. */
                for (g = 0; g < N_GROUP_BITS; g++)
                        total += atomic_load(&t->dropped[g]);
                fprintf(stderr,
                        "poe-inspector: trace log %s: %llu records dropped in run %lld "
                        "could not be recorded in it: %s\n",
                        t->path, (unsigned long long)total, (long long)t->run_id, t->fault);
        }
        return NULL;
}

/* ---- opening ---- */

static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, pid INTEGER, kernel_id TEXT, "
        "started REAL, hostname TEXT, poe_version TEXT);"
        "CREATE TABLE IF NOT EXISTS sessions(run_id INTEGER NOT NULL, session_id INTEGER NOT "
        "NULL, first_seen REAL, last_seen REAL, PRIMARY KEY(run_id, session_id));"
        "CREATE TABLE IF NOT EXISTS records(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "
        "mono_ns INTEGER, wall REAL, grp TEXT, prefix TEXT, kind TEXT, session INTEGER, "
        "event TEXT, sender INTEGER, refcount INTEGER, queue INTEGER, message TEXT);"
        "CREATE INDEX IF NOT EXISTS records_run_wall ON records(run_id, wall);"
        "CREATE INDEX IF NOT EXISTS records_run_session ON records(run_id, session);"
        "CREATE INDEX IF NOT EXISTS records_run_grp ON records(run_id, grp);"
        "CREATE INDEX IF NOT EXISTS records_run_event ON records(run_id, event);"
        "CREATE TABLE IF NOT EXISTS drops(run_id INTEGER NOT NULL, grp TEXT NOT NULL, "
        "count INTEGER NOT NULL, PRIMARY KEY(run_id, grp));"
        "PRAGMA application_id = " APPLICATION_ID_DEC ";"
        "PRAGMA user_version = " STR(SCHEMA_VERSION) ";";

/* A negative errno for a SQLite failure. */
static int sqlite_errno(sqlite3 *db, int rc)
{
        int e;

        switch (rc & 0xff) {
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                e = db ? sqlite3_system_errno(db) : 0;
                return e > 0 ? -e : -EACCES;
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
                return -EINVAL;
        default:
                return -EIO;
        }
}

/* One integer from a query without parameters (a PRAGMA, a count). */
static int query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return rc;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret = sqlite3_column_int64(st, 0);
                rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        return rc;
}

static int fail_db(sqlite3 *db, int rc, const char *path, const char *what, char *err,
                   size_t errlen)
{
        int e = sqlite_errno(db, rc), sys = db ? sqlite3_system_errno(db) : 0;

        if ((rc & 0xff) == SQLITE_NOTADB)
                set_err(err, errlen, "trace log `%s': not a SQLite database (%s)", path,
                        sqlite3_errstr(rc));
        else if (sys > 0 && ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR))
                set_err(err, errlen, "trace log `%s': %s: %s (%s)", path, what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), strerror(sys));
        else
                set_err(err, errlen, "trace log `%s': %s: %s", path, what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return e;
}

/*
 * Makes sure the file is a libpoe trace log, or an empty database that
 * becomes one, inside one write transaction (two processes opening the
 * same new file cannot both create the schema halfway).
 */
static int check_schema(sqlite3 *db, const char *path, char *err, size_t errlen)
{
        int64_t app = 0, version = 0, tables = 0;
        int rc;

        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return fail_db(db, rc, path, "cannot lock it", err, errlen);
        if ((rc = query_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
            (rc = query_int(db, "PRAGMA user_version", &version)) != SQLITE_OK ||
            (rc = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                            &tables)) != SQLITE_OK) {
                fail_db(db, rc, path, "cannot read its schema", err, errlen);
                goto fail;
        }
        if (app == APPLICATION_ID && version > SCHEMA_VERSION) {
                set_err(err, errlen,
                        "trace log `%s': schema version %lld is newer than this "
                        "libpoe's (%d); use another file",
                        path, (long long)version, SCHEMA_VERSION);
                rc = -EPROTONOSUPPORT;
                goto refuse;
        }
        if (app == APPLICATION_ID && version != SCHEMA_VERSION) {
                set_err(err, errlen,
                        "trace log `%s': a libpoe trace log with an unknown schema "
                        "version (%lld); use another file",
                        path, (long long)version);
                rc = -EPROTONOSUPPORT;
                goto refuse;
        }
        if (app != APPLICATION_ID && (tables > 0 || app != 0)) {
                set_err(err, errlen,
                        "trace log `%s': a SQLite database of something else "
                        "(%lld tables, application_id %lld), not a libpoe trace log; refusing "
                        "to write into it",
                        path, (long long)tables, (long long)app);
                rc = -EINVAL;
                goto refuse;
        }
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                fail_db(db, rc, path, "cannot create its tables", err, errlen);
                goto fail;
        }
        return 0;
fail:
        rc = sqlite_errno(db, rc);
refuse:
        if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *path, char *err,
                   size_t errlen)
{
        int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

        if (rc != SQLITE_OK)
                return fail_db(db, rc, path, "cannot prepare its statements", err, errlen);
        return 0;
}

static int add_run(poe__tracelog *t, poe_kernel *k, const char *path, char *err, size_t errlen)
{
        poe_kernel_info info;
        char host[256] = "";
        sqlite3_stmt *st;
        int rc;

        memset(&info, 0, sizeof(info));
        if (!k || poe_peek_kernel(k, &info) < 0) {
                info.pid = (int)getpid();
                info.started = (double)time(NULL);
        }
        if (gethostname(host, sizeof(host) - 1) < 0)
                host[0] = '\0';
        rc = sqlite3_prepare_v2(t->db,
                                "INSERT INTO runs(pid, kernel_id, started, hostname, poe_version) "
                                "VALUES(?, ?, ?, ?, ?)",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return fail_db(t->db, rc, path, "cannot add this run", err, errlen);
        rc = sqlite3_bind_int64(st, 1, info.pid);
        if (rc == SQLITE_OK)
                rc = k ? sqlite3_bind_text(st, 2, poe_kernel_id(k), -1, SQLITE_TRANSIENT)
                       : sqlite3_bind_null(st, 2);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_double(st, 3, info.started);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 4, host, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 5, POE_INSPECTOR_VERSION, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return fail_db(t->db, rc, path, "cannot add this run", err, errlen);
        t->run_id = sqlite3_last_insert_rowid(t->db);
        return 0;
}

static int db_open(poe__tracelog *t, const char *path, poe_kernel *k, char *err, size_t errlen)
{
        const char *abs;
        int64_t dummy;
        int rc;

        rc = sqlite3_open_v2(path, &t->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
        if (rc != SQLITE_OK)
                return fail_db(t->db, rc, path, "cannot open it", err, errlen);
        sqlite3_extended_result_codes(t->db, 1);
        /* An existing file we may not write is opened read-only, silently:
         * say so now rather than at the first batch. */
        if (sqlite3_db_readonly(t->db, "main") == 1) {
                set_err(err, errlen, "trace log `%s': cannot open it for writing (read-only)",
                        path);
                return -EACCES;
        }
        /* SQLite reads nothing until asked: this is where a file that is
         * not a database shows. */
        rc = query_int(t->db, "PRAGMA schema_version", &dummy);
        if (rc != SQLITE_OK)
                return fail_db(t->db, rc, path, "cannot read it", err, errlen);
        sqlite3_busy_timeout(t->db, OPEN_BUSY_MS);
        if ((rc = check_schema(t->db, path, err, errlen)) < 0)
                return rc;
        /* WAL lets the readers read while the writer writes; NORMAL syncs
         * at checkpoints only, which a trace can afford. */
        rc = sqlite3_exec(t->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(t->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return fail_db(t->db, rc, path, "cannot set its journal mode", err, errlen);
        if ((rc = add_run(t, k, path, err, errlen)) < 0)
                return rc;
        if ((rc = prepare(t->db, "BEGIN IMMEDIATE", &t->st_begin, path, err, errlen)) < 0 ||
            (rc = prepare(t->db, "COMMIT", &t->st_commit, path, err, errlen)) < 0 ||
            (rc = prepare(t->db, "ROLLBACK", &t->st_rollback, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT INTO records(run_id, mono_ns, wall, grp, prefix, kind, session, "
                          "event, sender, refcount, queue, message) "
                          "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          &t->st_insert, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT INTO sessions(run_id, session_id, first_seen, last_seen) "
                          "VALUES(?, ?, ?, ?) ON CONFLICT(run_id, session_id) DO UPDATE SET "
                          "first_seen = min(first_seen, excluded.first_seen), "
                          "last_seen = max(last_seen, excluded.last_seen)",
                          &t->st_session, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT INTO drops(run_id, grp, count) VALUES(?, ?, ?) "
                          "ON CONFLICT(run_id, grp) DO UPDATE SET count = excluded.count",
                          &t->st_drop, path, err, errlen)) < 0)
                return rc;
        sqlite3_busy_timeout(t->db, WRITER_BUSY_MS);
        abs = sqlite3_db_filename(t->db, "main");
        t->path = strdup(abs && *abs ? abs : path);
        if (!t->path) {
                set_err(err, errlen, "trace log `%s': out of memory", path);
                return -ENOMEM;
        }
        return 0;
}

static void tracelog_free(poe__tracelog *t)
{
        sqlite3_finalize(t->st_begin);
        sqlite3_finalize(t->st_commit);
        sqlite3_finalize(t->st_rollback);
        sqlite3_finalize(t->st_insert);
        sqlite3_finalize(t->st_session);
        sqlite3_finalize(t->st_drop);
        if (t->db)
                sqlite3_close(t->db);
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        pthread_mutex_destroy(&t->err_mu);
        free(t->ring);
        free(t->smap);
        free(t->smap_used);
        free(t->scratch);
        free(t->path);
        free(t);
}

int poe__tracelog_open(const char *path, size_t ring_size, poe_kernel *k, poe__tracelog **ret,
                       char *err, size_t errlen)
{
        pthread_condattr_t ca;
        sigset_t all, old;
        poe__tracelog *t;
        unsigned g;
        int rc;

        *ret = NULL;
        set_err(err, errlen, "%s", "");
        if (!path || !*path) {
                set_err(err, errlen, "trace log: no path given");
                return -EINVAL;
        }
        if (!ring_size)
                ring_size = DEFAULT_RING;
        if (ring_size > UINT32_MAX) {
                set_err(err, errlen, "trace log: ring size %zu is too large", ring_size);
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
        t->threshold = ring_size / 2 < BATCH_MAX ? (ring_size / 2 ? ring_size / 2 : 1) : BATCH_MAX;
        atomic_init(&t->tail, 0);
        atomic_init(&t->head, 0);
        atomic_init(&t->pushed, 0);
        atomic_init(&t->popped, 0);
        atomic_init(&t->wake_at, UINT64_MAX);
        atomic_init(&t->written, 0);
        for (g = 0; g < N_GROUP_BITS; g++)
                atomic_init(&t->dropped[g], 0);
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
        t->ring = malloc(t->ring_bytes);
        t->smap = calloc(SMAP_SIZE, sizeof(*t->smap));
        t->smap_used = calloc(SMAP_SIZE, sizeof(*t->smap_used));
        t->scratch = malloc(3 * ENTRY_MAX + 4);
        if (!t->ring || !t->smap || !t->smap_used || !t->scratch) {
                tracelog_free(t);
                goto nomem;
        }
        rc = db_open(t, path, k, err, errlen);
        if (rc < 0) {
                tracelog_free(t);
                return rc;
        }
        /* The writer takes no signals: they belong to the kernel's thread,
         * whose wait they must interrupt (POE_USE_SIGNAL_PIPE=0 relies on
         * it). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = pthread_create(&t->thread, NULL, writer_main, t);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
                set_err(err, errlen, "trace log `%s': cannot start the writer thread: %s", path,
                        strerror(rc));
                tracelog_free(t);
                return -rc;
        }
        t->thread_started = true;
        *ret = t;
        return 0;
nomem:
        set_err(err, errlen, "trace log `%s': out of memory", path);
        return -ENOMEM;
}

/* The caller removes the sink from the kernel first: a record handed to
 * a closed log would be written into freed memory. */
void poe__tracelog_close(poe__tracelog *t)
{
        if (!t)
                return;
        if (t->thread_started) {
                pthread_mutex_lock(&t->mu);
                t->stop = true;
                pthread_cond_signal(&t->cv);
                pthread_mutex_unlock(&t->mu);
                pthread_join(t->thread, NULL);
        }
        tracelog_free(t);
}

/* ---- status ---- */

json_t *poe__tracelog_status(poe__tracelog *t)
{
        json_t *o, *d, *e;
        uint64_t total = 0, n;
        unsigned g;
        int bad = 0;

        if (!t)
                return NULL;
        o = json_object();
        d = json_object();
        if (!o || !d) {
                json_decref(o);
                json_decref(d);
                return NULL;
        }
        for (g = 0; g < N_GROUP_BITS; g++) {
                n = atomic_load_explicit(&t->dropped[g], memory_order_relaxed);
                if (!n)
                        continue;
                total += n;
                bad |= jset(d, group_name(1u << g), json_integer((json_int_t)n));
        }
        pthread_mutex_lock(&t->err_mu);
        e = t->has_error ? jstr(t->error) : json_null();
        pthread_mutex_unlock(&t->err_mu);
        bad |= jset(o, "path", jstr(t->path));
        bad |= jset(o, "run_id", json_integer(t->run_id));
        bad |= jset(o, "records_written", json_integer((json_int_t)atomic_load(&t->written)));
        bad |= jset(o, "records_pending", json_integer((json_int_t)ring_count(t)));
        bad |= jset(o, "dropped", d);
        bad |= jset(o, "dropped_total", json_integer((json_int_t)total));
        bad |= jset(o, "error", e);
        if (bad) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* ---- query parameters ---- */

static int param_seconds(const poe__params *p, const char *key, double *ret, char *err,
                         size_t errlen)
{
        const char *v = poe__param(p, key);
        char buf[80], *end;
        double d;

        if (!v)
                return 0;
        errno = 0;
        d = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(d) || d < 0) {
                set_err(err, errlen, "%s: expected epoch seconds, got `%s'", key,
                        echo(v, buf, sizeof(buf)));
                return -EINVAL;
        }
        *ret = d;
        return 0;
}

static int param_int_named(const poe__params *p, const char *key, int64_t min, int64_t max,
                           int64_t *ret, char *err, size_t errlen)
{
        char buf[80];

        if (poe__param_int(p, key, *ret, min, max, ret) < 0) {
                set_err(err, errlen, "%s: expected an integer from %lld to %lld, got `%s'", key,
                        (long long)min, (long long)max, echo(poe__param(p, key), buf, sizeof(buf)));
                return -EINVAL;
        }
        return 0;
}

/* "TRACE_EVENTS", "POE_TRACE_EVENTS", "trace_events" or "events". */
static unsigned parse_group(const char *name, size_t len)
{
        char buf[64];
        unsigned g;

        if (len == 0 || len >= sizeof(buf) - 6)
                return 0;
        memcpy(buf, name, len);
        buf[len] = '\0';
        g = poe_debug_group_parse(buf);
        if (!g) {
                memcpy(buf, "TRACE_", 6);
                memcpy(buf + 6, name, len);
                buf[len + 6] = '\0';
                g = poe_debug_group_parse(buf);
        }
        return g;
}

int poe__trace_query_parse(const poe__params *p, poe__trace_query *q, char *err, size_t errlen)
{
        const char *v, *s;
        char buf[80];
        int64_t n;

        memset(q, 0, sizeof(*q));
        q->page.limit = 100;
        if (param_seconds(p, "since", &q->since, err, errlen) < 0 ||
            param_seconds(p, "until", &q->until, err, errlen) < 0)
                return -EINVAL;
        if (poe__param(p, "session")) {
                n = 0;
                if (param_int_named(p, "session", 0, INT64_MAX, &n, err, errlen) < 0)
                        return -EINVAL;
                q->session = (poe_sid)n;
                q->has_session = true;
        }
        if ((v = poe__param(p, "group"))) {
                for (s = v;;) {
                        size_t len = strcspn(s, ",");
                        const char *a = s, *b = s + len;
                        unsigned g;

                        while (a < b && *a == ' ')
                                a++;
                        while (b > a && b[-1] == ' ')
                                b--;
                        g = parse_group(a, (size_t)(b - a));
                        if (!g) {
                                set_err(err, errlen,
                                        "group: unknown trace group `%s' (names "
                                        "like TRACE_EVENTS or events, comma-separated)",
                                        echo(v, buf, sizeof(buf)));
                                return -EINVAL;
                        }
                        q->groups |= g;
                        if (!s[len])
                                break;
                        s += len + 1;
                }
        }
        q->event = poe__param(p, "event");
        q->kind = poe__param(p, "kind");
        n = 0;
        if (param_int_named(p, "after", 0, INT64_MAX, &n, err, errlen) < 0)
                return -EINVAL;
        q->after_id = n;
        n = 0;
        if (param_int_named(p, "run", 0, INT64_MAX, &n, err, errlen) < 0)
                return -EINVAL;
        q->run_id = n;
        if (poe__param_page(p, &q->page) < 0) {
                n = 0;
                if (param_int_named(p, "offset", 0, INT64_MAX / 2, &n, err, errlen) == 0) {
                        n = 100;
                        param_int_named(p, "limit", 1, 1000, &n, err, errlen);
                }
                return -EINVAL;
        }
        if ((v = poe__param(p, "order"))) {
                if (strcmp(v, "asc") == 0) {
                        q->descending = false;
                } else if (strcmp(v, "desc") == 0) {
                        q->descending = true;
                } else {
                        set_err(err, errlen, "order: expected asc or desc, got `%s'",
                                echo(v, buf, sizeof(buf)));
                        return -EINVAL;
                }
        }
        return 0;
}

/* ---- queries ---- */

/* SQL built from fixed fragments, with every value a bound parameter. */
typedef struct qsql {
        char sql[1024];
        size_t len;
        bool overflow;
        int n;
        struct {
                char type; /* 'i', 'd', 't' */
                int64_t i;
                double d;
                const char *t;
        } arg[48];
} qsql;

static void q_frag(qsql *b, const char *frag)
{
        size_t n = strlen(frag);

        if (b->len + n + 1 > sizeof(b->sql)) {
                b->overflow = true;
                return;
        }
        memcpy(b->sql + b->len, frag, n + 1);
        b->len += n;
}

static void q_arg(qsql *b, char type, int64_t i, double d, const char *text)
{
        if (b->n == (int)(sizeof(b->arg) / sizeof(b->arg[0]))) {
                b->overflow = true;
                return;
        }
        b->arg[b->n].type = type;
        b->arg[b->n].i = i;
        b->arg[b->n].d = d;
        b->arg[b->n].t = text;
        b->n++;
}

static int64_t run_of(poe__tracelog *t, const poe__trace_query *q)
{
        return q && q->run_id ? q->run_id : t->run_id;
}

static void q_where(poe__tracelog *t, const poe__trace_query *q, qsql *b)
{
        unsigned g;
        bool first = true;

        q_frag(b, " WHERE run_id = ?");
        q_arg(b, 'i', run_of(t, q), 0, NULL);
        if (!q)
                return;
        if (q->since > 0) {
                q_frag(b, " AND wall >= ?");
                q_arg(b, 'd', 0, q->since, NULL);
        }
        if (q->until > 0) {
                q_frag(b, " AND wall <= ?");
                q_arg(b, 'd', 0, q->until, NULL);
        }
        if (q->has_session) {
                q_frag(b, " AND session = ?");
                q_arg(b, 'i', (int64_t)q->session, 0, NULL);
        }
        if (q->groups) {
                for (g = 0; g < N_GROUP_BITS; g++) {
                        const char *name = poe_debug_group_name(1u << g);

                        if (!(q->groups & (1u << g)) || !name)
                                continue;
                        q_frag(b, first ? " AND grp IN (?" : ", ?");
                        q_arg(b, 't', 0, 0, name);
                        first = false;
                }
                /* Only bits that name no group: nothing can match. */
                q_frag(b, first ? " AND 0" : ")");
        }
        if (q->event) {
                q_frag(b, " AND event = ?");
                q_arg(b, 't', 0, 0, q->event);
        }
        if (q->kind) {
                q_frag(b, " AND kind = ?");
                q_arg(b, 't', 0, 0, q->kind);
        }
        if (q->after_id > 0) {
                q_frag(b, " AND id > ?");
                q_arg(b, 'i', q->after_id, 0, NULL);
        }
}

static int q_prepare(sqlite3 *db, qsql *b, sqlite3_stmt **st, char *err, size_t errlen)
{
        int i, rc;

        if (b->overflow) {
                set_err(err, errlen, "trace log: query too complex");
                return -EINVAL;
        }
        rc = sqlite3_prepare_v2(db, b->sql, -1, st, NULL);
        if (rc != SQLITE_OK) {
                set_err(err, errlen, "trace log: cannot query it: %s", sqlite3_errmsg(db));
                return sqlite_errno(db, rc);
        }
        for (i = 0; i < b->n && rc == SQLITE_OK; i++) {
                if (b->arg[i].type == 'i')
                        rc = sqlite3_bind_int64(*st, i + 1, b->arg[i].i);
                else if (b->arg[i].type == 'd')
                        rc = sqlite3_bind_double(*st, i + 1, b->arg[i].d);
                else
                        rc = sqlite3_bind_text(*st, i + 1, b->arg[i].t, -1, SQLITE_STATIC);
        }
        if (rc != SQLITE_OK) {
                set_err(err, errlen, "trace log: cannot bind a query: %s", sqlite3_errmsg(db));
                sqlite3_finalize(*st);
                *st = NULL;
                return sqlite_errno(db, rc);
        }
        return 0;
}

#define RECORD_COLUMNS                                                                             \
        "SELECT id, run_id, mono_ns, wall, grp, prefix, kind, session, event, sender, "            \
        "refcount, queue, message FROM records"

/* The selection's records, in id order, paged or not. */
static int q_records(poe__tracelog *t, sqlite3 *db, const poe__trace_query *q, bool paged,
                     bool descending, sqlite3_stmt **st, char *err, size_t errlen)
{
        qsql b = { .len = 0 };

        q_frag(&b, RECORD_COLUMNS);
        q_where(t, q, &b);
        q_frag(&b, descending ? " ORDER BY id DESC" : " ORDER BY id ASC");
        if (paged) {
                q_frag(&b, " LIMIT ? OFFSET ?");
                q_arg(&b, 'i', q->page.limit > 0 ? q->page.limit : 100, 0, NULL);
                q_arg(&b, 'i', q->page.offset > 0 ? q->page.offset : 0, 0, NULL);
        }
        return q_prepare(db, &b, st, err, errlen);
}

static sqlite3 *reader_open(poe__tracelog *t, char *err, size_t errlen)
{
        sqlite3 *db = NULL;
        int rc;

        if (!t) {
                set_err(err, errlen, "no trace log");
                return NULL;
        }
        rc = sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                fail_db(db, rc, t->path, "cannot open it for reading", err, errlen);
                sqlite3_close(db);
                return NULL;
        }
        sqlite3_busy_timeout(db, READER_BUSY_MS);
        return db;
}

static json_t *col_text(sqlite3_stmt *st, int i)
{
        const char *s = (const char *)sqlite3_column_text(st, i);

        if (!s)
                return json_null();
        return jstr_n(s, (size_t)sqlite3_column_bytes(st, i));
}

/* A record row as JSON. */
static json_t *row_json(sqlite3_stmt *st)
{
        json_t *o = json_object();
        int bad = 0;

        if (!o)
                return NULL;
        bad |= jset(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        bad |= jset(o, "run", json_integer(sqlite3_column_int64(st, 1)));
        bad |= jset(o, "mono_ns", json_integer(sqlite3_column_int64(st, 2)));
        bad |= jset(o, "wall", json_real(sqlite3_column_double(st, 3)));
        bad |= jset(o, "group", col_text(st, 4));
        bad |= jset(o, "prefix", col_text(st, 5));
        bad |= jset(o, "kind", col_text(st, 6));
        bad |= jset(o, "session", json_integer(sqlite3_column_int64(st, 7)));
        bad |= jset(o, "event", col_text(st, 8));
        bad |= jset(o, "sender", json_integer(sqlite3_column_int64(st, 9)));
        bad |= jset(o, "refcount", json_integer(sqlite3_column_int64(st, 10)));
        bad |= jset(o, "queue", json_integer(sqlite3_column_int64(st, 11)));
        bad |= jset(o, "message", col_text(st, 12));
        if (bad) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static int step_failed(sqlite3 *db, int rc, char *err, size_t errlen)
{
        set_err(err, errlen, "trace log: reading it failed: %s", sqlite3_errmsg(db));
        return sqlite_errno(db, rc);
}

json_t *poe__tracelog_query(poe__tracelog *t, const poe__trace_query *q, char *err, size_t errlen)
{
        sqlite3 *db = reader_open(t, err, errlen);
        sqlite3_stmt *st = NULL;
        json_t *out = NULL, *recs = NULL, *r;
        int64_t total = 0;
        qsql b = { .len = 0 };
        int rc;

        if (!db)
                return NULL;
        if (!q) {
                set_err(err, errlen, "trace log: no query");
                goto done;
        }
        /* The total and the page, in one read transaction: the writer
         * may commit between two statements otherwise. */
        if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
                step_failed(db, rc, err, errlen);
                goto done;
        }
        q_frag(&b, "SELECT count(*) FROM records");
        q_where(t, q, &b);
        if (q_prepare(db, &b, &st, err, errlen) < 0)
                goto done;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                step_failed(db, rc, err, errlen);
                goto done;
        }
        total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        if (q_records(t, db, q, true, q->descending, &st, err, errlen) < 0)
                goto done;
        recs = json_array();
        if (!recs)
                goto nomem;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = row_json(st);
                if (!r || json_array_append_new(recs, r) < 0)
                        goto nomem;
        }
        if (rc != SQLITE_DONE) {
                step_failed(db, rc, err, errlen);
                goto done;
        }
        out = json_object();
        if (!out || json_object_set_new(out, "records", recs) < 0) {
                recs = NULL;
                goto nomem;
        }
        recs = NULL;
        if (jset(out, "total", json_integer(total)) < 0)
                goto nomem;
        goto done;
nomem:
        set_err(err, errlen, "trace log: out of memory");
        json_decref(out);
        out = NULL;
done:
        json_decref(recs);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
}

json_t *poe__tracelog_runs(poe__tracelog *t, char *err, size_t errlen)
{
        sqlite3 *db = reader_open(t, err, errlen);
        sqlite3_stmt *st = NULL;
        json_t *out = NULL, *o;
        int rc, bad;

        if (!db)
                return NULL;
        rc = sqlite3_prepare_v2(db,
                                "SELECT r.id, r.pid, r.kernel_id, r.started, r.hostname, "
                                "r.poe_version, "
                                "(SELECT count(*) FROM records WHERE run_id = r.id), "
                                "(SELECT count(*) FROM sessions WHERE run_id = r.id), "
                                "(SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = r.id) "
                                "FROM runs r ORDER BY r.id",
                                -1, &st, NULL);
        if (rc != SQLITE_OK) {
                step_failed(db, rc, err, errlen);
                goto done;
        }
        out = json_array();
        if (!out)
                goto nomem;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                o = json_object();
                if (!o)
                        goto nomem;
                bad = jset(o, "id", json_integer(sqlite3_column_int64(st, 0)));
                bad |= jset(o, "pid", json_integer(sqlite3_column_int64(st, 1)));
                bad |= jset(o, "kernel_id", col_text(st, 2));
                bad |= jset(o, "started", json_real(sqlite3_column_double(st, 3)));
                bad |= jset(o, "hostname", col_text(st, 4));
                bad |= jset(o, "poe_version", col_text(st, 5));
                bad |= jset(o, "records", json_integer(sqlite3_column_int64(st, 6)));
                bad |= jset(o, "sessions", json_integer(sqlite3_column_int64(st, 7)));
                bad |= jset(o, "dropped", json_integer(sqlite3_column_int64(st, 8)));
                bad |= jset(o, "current", json_boolean(sqlite3_column_int64(st, 0) == t->run_id));
                if (bad) {
                        json_decref(o);
                        goto nomem;
                }
                if (json_array_append_new(out, o) < 0)
                        goto nomem;
        }
        if (rc != SQLITE_DONE) {
                step_failed(db, rc, err, errlen);
                json_decref(out);
                out = NULL;
        }
        goto done;
nomem:
        set_err(err, errlen, "trace log: out of memory");
        json_decref(out);
        out = NULL;
done:
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
}

/* ---- exports ---- */

typedef struct obuf {
        char *p;
        size_t len, cap;
        bool oom;
} obuf;

static void ob_put(obuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (n > SIZE_MAX / 2 - b->len) {
                b->oom = true;
                return;
        }
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *p;

                while (cap < b->len + n + 1)
                        cap *= 2;
                p = realloc(b->p, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

static void ob_puts(obuf *b, const char *s)
{
        ob_put(b, s, strlen(s));
}

static __attribute__((format(printf, 2, 3))) void ob_printf(obuf *b, const char *fmt, ...)
{
        char small[128];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(small)) {
                b->oom = true; /* only short numbers are printed this way */
                return;
        }
        ob_put(b, small, (size_t)n);
}

static int ob_json_cb(const char *s, size_t n, void *data)
{
        ob_put(data, s, n);
        return ((obuf *)data)->oom ? -1 : 0;
}

/* Appends j (consumed) as compact JSON; a NULL j is an allocation that
 * failed.  Reals at full precision unless precision says otherwise. */
static void ob_json_p(obuf *b, json_t *j, int precision)
{
        size_t flags = JSON_COMPACT;

        if (precision)
                flags |= JSON_REAL_PRECISION(precision);
        if (!j) {
                b->oom = true;
                return;
        }
        if (json_dump_callback(j, ob_json_cb, b, flags) < 0)
                b->oom = true;
        json_decref(j);
}

static void ob_json(obuf *b, json_t *j)
{
        ob_json_p(b, j, 0);
}

static int export_jsonl(sqlite3 *db, sqlite3_stmt *st, obuf *b, char *err, size_t errlen)
{
        int rc;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW && !b->oom) {
                ob_json(b, row_json(st));
                ob_put(b, "\n", 1);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return step_failed(db, rc, err, errlen);
        return 0;
}

/* One CSV field, quoted when RFC 4180 says it must be. */
static void csv_field(obuf *b, const char *s, size_t n)
{
        size_t i, from = 0;

        if (!s)
                return;
        if (strcspn(s, ",\"\r\n") >= n && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
                ob_put(b, s, n);
                return;
        }
        ob_put(b, "\"", 1);
        for (i = 0; i < n; i++) {
                if (s[i] == '"') {
                        ob_put(b, s + from, i + 1 - from);
                        ob_put(b, "\"", 1);
                        from = i + 1;
                }
        }
        ob_put(b, s + from, n - from);
        ob_put(b, "\"", 1);
}

static void csv_text(obuf *b, sqlite3_stmt *st, int col)
{
        csv_field(b, (const char *)sqlite3_column_text(st, col),
                  (size_t)sqlite3_column_bytes(st, col));
}

static int export_csv(sqlite3 *db, sqlite3_stmt *st, obuf *b, char *err, size_t errlen)
{
        int rc;

        ob_puts(b, "id,run,mono_ns,wall,group,prefix,kind,session,event,sender,refcount,queue,"
                   "message\r\n");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && !b->oom) {
                ob_printf(b, "%lld,%lld,%lld,%.6f,", (long long)sqlite3_column_int64(st, 0),
                          (long long)sqlite3_column_int64(st, 1),
                          (long long)sqlite3_column_int64(st, 2), sqlite3_column_double(st, 3));
                csv_text(b, st, 4);
                ob_put(b, ",", 1);
                csv_text(b, st, 5);
                ob_put(b, ",", 1);
                csv_text(b, st, 6);
                ob_printf(b, ",%lld,", (long long)sqlite3_column_int64(st, 7));
                csv_text(b, st, 8);
                ob_printf(b, ",%lld,%lld,%lld,", (long long)sqlite3_column_int64(st, 9),
                          (long long)sqlite3_column_int64(st, 10),
                          (long long)sqlite3_column_int64(st, 11));
                csv_text(b, st, 12);
                ob_put(b, "\r\n", 2);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return step_failed(db, rc, err, errlen);
        return 0;
}

/* ---- the Chrome trace ---- */

/* A dispatch waiting for its return. */
typedef struct open_dispatch {
        uint64_t sid;
        char *event;
        int64_t ns; /* its mono_ns */
        json_t *ev; /* the "X" event, all but its dur */
} open_dispatch;

typedef struct chrome {
        obuf *b;
        int64_t run;
        bool first;
        open_dispatch *stack;
        size_t depth, cap;
        uint64_t *seen; /* the sessions named so far, an open-addressing set */
        size_t seen_n, seen_cap;
        bool seen_zero;
        int64_t last_ns;
} chrome;

#define STACK_MAX    4096 /* deeper than any real nesting: the rest never returned */
#define STACK_SEARCH 256

static void ch_emit(chrome *c, json_t *ev)
{
        if (!c->first)
                ob_put(c->b, ",\n", 2);
        c->first = false;
        /* Microseconds with 15 digits: nanoseconds for the first 11 days
         * of uptime, and no binary noise ("2.7639999389648438"). */
        ob_json_p(c->b, ev, 15);
}

/* Names a session's track the first time it appears. */
static void ch_session(chrome *c, uint64_t sid)
{
        char name[64];
        size_t i;

        if (sid == 0) {
                if (c->seen_zero)
                        return;
                c->seen_zero = true;
        } else {
                if (c->seen_n * 2 >= c->seen_cap) {
                        size_t cap = c->seen_cap ? c->seen_cap * 2 : 256, j;
                        uint64_t *s = calloc(cap, sizeof(*s));

                        if (!s) {
                                c->b->oom = true;
                                return;
                        }
                        for (j = 0; j < c->seen_cap; j++) {
                                if (!c->seen[j])
                                        continue;
                                i = (size_t)(c->seen[j] * 0x9e3779b97f4a7c15ull) & (cap - 1);
                                while (s[i])
                                        i = (i + 1) & (cap - 1);
                                s[i] = c->seen[j];
                        }
                        free(c->seen);
                        c->seen = s;
                        c->seen_cap = cap;
                }
                i = (size_t)(sid * 0x9e3779b97f4a7c15ull) & (c->seen_cap - 1);
                while (c->seen[i] && c->seen[i] != sid)
                        i = (i + 1) & (c->seen_cap - 1);
                if (c->seen[i])
                        return;
                c->seen[i] = sid;
                c->seen_n++;
        }
        if (sid == 0)
                snprintf(name, sizeof(name), "session 0 (the kernel)");
        else
                snprintf(name, sizeof(name), "session %llu", (unsigned long long)sid);
        ch_emit(c,
                json_pack("{s:s, s:s, s:I, s:I, s:{s:s}}", "name", "thread_name", "ph", "M", "pid",
                          (json_int_t)c->run, "tid", (json_int_t)sid, "args", "name", name));
        ch_emit(c, json_pack("{s:s, s:s, s:I, s:I, s:{s:I}}", "name", "thread_sort_index", "ph",
                             "M", "pid", (json_int_t)c->run, "tid", (json_int_t)sid, "args",
                             "sort_index", (json_int_t)sid));
}

/* Finishes an X event: dur is how long its handler ran. */
static void ch_close(chrome *c, open_dispatch *d, int64_t end, json_t *ret_message, bool returned)
{
        /* From the integers: a difference of two rounded doubles would
         * print as 1.51200008392334. */
        double dur = (double)(end - d->ns) / 1000.0;
        json_t *args = json_object_get(d->ev, "args");

        bool ok;

        if (dur < 0)
                dur = 0;
        ok = jset(d->ev, "dur", json_real(dur)) == 0 && args &&
             jset(args, "returned", json_boolean(returned)) == 0;
        /* jset consumes the message, succeeding or not; otherwise it is
         * ours to drop. */
        if (ret_message && ok)
                ok = jset(args, "return", ret_message) == 0;
        else
                json_decref(ret_message);
        if (!ok)
                c->b->oom = true;
        ch_emit(c, d->ev);
        d->ev = NULL;
        free(d->event);
        d->event = NULL;
}

static bool same_event(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

static json_t *ch_args(sqlite3_stmt *st)
{
        return json_pack("{s:I, s:I, s:I, s:I, s:o*}", "id",
                         (json_int_t)sqlite3_column_int64(st, 0), "sender",
                         (json_int_t)sqlite3_column_int64(st, 9), "refcount",
                         (json_int_t)sqlite3_column_int64(st, 10), "queue",
                         (json_int_t)sqlite3_column_int64(st, 11), "message", col_text(st, 12));
}

static void ch_record(chrome *c, sqlite3_stmt *st)
{
        const char *kind = (const char *)sqlite3_column_text(st, 6);
        const char *grp = (const char *)sqlite3_column_text(st, 4);
        const char *event = (const char *)sqlite3_column_text(st, 8);
        uint64_t sid = (uint64_t)sqlite3_column_int64(st, 7);
        int64_t ns = sqlite3_column_int64(st, 2);
        double ts = (double)ns / 1000.0;
        bool events = grp && strcmp(grp, "TRACE_EVENTS") == 0;
        char name[160];
        size_t i, n;

        c->last_ns = ns;
        ch_session(c, sid);
        if (events && kind && strcmp(kind, "dispatch") == 0) {
                open_dispatch *d;

                if (c->depth == STACK_MAX) {
                        /* Never returned (a filter hid the returns, or
                         * the log ends mid-dispatch): shown as they
                         * began, with no duration. */
                        ch_close(c, &c->stack[0], c->stack[0].ns, NULL, false);
                        memmove(c->stack, c->stack + 1, (c->depth - 1) * sizeof(*c->stack));
                        c->depth--;
                }
                if (c->depth == c->cap) {
                        size_t cap = c->cap ? c->cap * 2 : 64;
                        open_dispatch *s = realloc(c->stack, cap * sizeof(*s));

                        if (!s) {
                                c->b->oom = true;
                                return;
                        }
                        c->stack = s;
                        c->cap = cap;
                }
                d = &c->stack[c->depth];
                d->sid = sid;
                d->ns = ns;
                d->event = event ? strdup(event) : NULL;
                d->ev = json_pack("{s:o, s:s?, s:s, s:f, s:I, s:I, s:o}", "name",
                                  jstr(event ? event : "dispatch"), "cat", grp, "ph", "X", "ts", ts,
                                  "pid", (json_int_t)c->run, "tid", (json_int_t)sid, "args",
                                  ch_args(st));
                if ((event && !d->event) || !d->ev) {
                        free(d->event);
                        json_decref(d->ev);
                        c->b->oom = true;
                        return;
                }
                c->depth++;
                return;
        }
        if (events && kind && strcmp(kind, "return") == 0) {
                n = c->depth < STACK_SEARCH ? c->depth : STACK_SEARCH;
                for (i = 1; i <= n; i++) {
                        open_dispatch *d = &c->stack[c->depth - i];

                        if (d->sid == sid && same_event(d->event, event))
                                break;
                }
                if (i <= n) {
                        /* Anything opened after the match and not returned
                         * was unwound by it (poe_die). */
                        while (c->depth > 0) {
                                open_dispatch *d = &c->stack[--c->depth];
                                bool match = d->sid == sid && same_event(d->event, event);

                                ch_close(c, d, ns, match ? col_text(st, 12) : NULL, match);
                                if (match)
                                        break;
                        }
                        return;
                }
        }
        if (event)
                snprintf(name, sizeof(name), "%s %.120s", kind ? kind : "?", event);
        else
                snprintf(name, sizeof(name), "%s", kind ? kind : "?");
        ch_emit(c, json_pack("{s:o, s:s?, s:s, s:s, s:f, s:I, s:I, s:o}", "name", jstr(name), "cat",
                             grp, "ph", "i", "s", "t", "ts", ts, "pid", (json_int_t)c->run, "tid",
                             (json_int_t)sid, "args", ch_args(st)));
}

static int export_chrome(sqlite3 *db, sqlite3_stmt *st, int64_t run, obuf *b, char *err,
                         size_t errlen)
{
        chrome c = { .b = b, .run = run, .first = true };
        sqlite3_stmt *rs = NULL;
        char pname[256];
        int rc;

        snprintf(pname, sizeof(pname), "libpoe run %lld", (long long)run);
        rc = sqlite3_prepare_v2(db, "SELECT pid, kernel_id FROM runs WHERE id = ?", -1, &rs, NULL);
        if (rc == SQLITE_OK && sqlite3_bind_int64(rs, 1, run) == SQLITE_OK &&
            sqlite3_step(rs) == SQLITE_ROW)
                snprintf(pname, sizeof(pname), "libpoe run %lld (pid %lld, kernel %.160s)",
                         (long long)run, (long long)sqlite3_column_int64(rs, 0),
                         sqlite3_column_text(rs, 1) ? (const char *)sqlite3_column_text(rs, 1)
                                                    : "?");
        sqlite3_finalize(rs);

        ob_puts(b, "{\"traceEvents\":[\n");
        ch_emit(&c,
                json_pack("{s:s, s:s, s:I, s:I, s:{s:o}}", "name", "process_name", "ph", "M", "pid",
                          (json_int_t)run, "tid", (json_int_t)0, "args", "name", jstr(pname)));
        while (!b->oom && (rc = sqlite3_step(st)) == SQLITE_ROW)
                ch_record(&c, st);
        /* Dispatches still open when the selection ends: they ran at
         * least until its last record. */
        while (c.depth > 0) {
                open_dispatch *d = &c.stack[--c.depth];

                if (b->oom) {
                        json_decref(d->ev);
                        free(d->event);
                } else {
                        ch_close(&c, d, c.last_ns, NULL, false);
                }
        }
        free(c.stack);
        free(c.seen);
        ob_puts(b, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":\"libpoe trace "
                   "log\",\"ts\":\"CLOCK_MONOTONIC microseconds\"}}\n");
        if (!b->oom && rc != SQLITE_DONE)
                return step_failed(db, rc, err, errlen);
        return 0;
}

/* ---- the SQLite copy ---- */

static void unlink_sidecars(const char *path)
{
        static const char *const suffix[] = { "-journal", "-wal", "-shm" };
        char p[4096];
        size_t i;

        for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
                if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[i]) < sizeof(p))
                        unlink(p);
}

static int read_file(const char *path, obuf *b)
{
        char chunk[65536];
        FILE *f = fopen(path, "rb");
        size_t n;
        int e;

        if (!f)
                return -errno;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                ob_put(b, chunk, n);
        e = ferror(f) ? -EIO : 0;
        fclose(f);
        return b->oom ? -ENOMEM : e;
}

/*
 * A consistent copy of the whole database (every run, whatever q says),
 * through the backup API: it reads one snapshot of the WAL database while
 * the writer goes on.  The copy is made into a temporary file, turned
 * from WAL into an ordinary single-file database, and read into memory.
 */
static int export_sqlite(sqlite3 *src, obuf *b, char *err, size_t errlen)
{
        const char *dir = getenv("TMPDIR");
        char path[4096];
        sqlite3 *dst = NULL;
        sqlite3_backup *bk;
        int fd, rc, e;

        if (!dir || !*dir)
                dir = "/tmp";
        if ((size_t)snprintf(path, sizeof(path), "%s/poe-trace-export-XXXXXX", dir) >=
            sizeof(path)) {
                set_err(err, errlen, "trace log export: TMPDIR is too long");
                return -ENAMETOOLONG;
        }
        fd = mkstemp(path);
        if (fd < 0) {
                e = errno;
                set_err(err, errlen, "trace log export: cannot make a temporary file in %s: %s",
                        dir, strerror(e));
                return -e;
        }
        close(fd);
        rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                e = fail_db(dst, rc, path, "cannot open the export copy", err, errlen);
                goto done;
        }
        bk = sqlite3_backup_init(dst, "main", src, "main");
        if (!bk) {
                e = fail_db(dst, sqlite3_errcode(dst), path, "cannot copy the trace log", err,
                            errlen);
                goto done;
        }
        rc = sqlite3_backup_step(bk, -1);
        sqlite3_backup_finish(bk);
        if (rc != SQLITE_DONE) {
                set_err(err, errlen, "trace log export: copying failed: %s", sqlite3_errstr(rc));
                e = sqlite_errno(NULL, rc);
                goto done;
        }
        /* The copy keeps the source's WAL flag: make it one plain file. */
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                e = fail_db(dst, rc, path, "cannot finish the export copy", err, errlen);
                goto done;
        }
        rc = sqlite3_close(dst);
        dst = NULL;
        if (rc != SQLITE_OK) {
                set_err(err, errlen, "trace log export: closing the copy failed: %s",
                        sqlite3_errstr(rc));
                e = -EIO;
                goto done;
        }
        e = read_file(path, b);
        if (e < 0)
                set_err(err, errlen, "trace log export: reading the copy failed: %s", strerror(-e));
done:
        if (dst)
                sqlite3_close(dst);
        unlink(path);
        unlink_sidecars(path);
        return e;
}

int poe__tracelog_export(poe__tracelog *t, const char *format, const poe__trace_query *q,
                         char **ret_body, size_t *ret_len, const char **ret_content_type, char *err,
                         size_t errlen)
{
        enum { JSONL, CSV, CHROME, SQLITE } f;
        obuf b = { .p = NULL };
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        const char *type;
        char buf[80];
        int rc;

        *ret_body = NULL;
        *ret_len = 0;
        *ret_content_type = NULL;
        if (!format) {
                set_err(err, errlen, "format: expected jsonl, csv, chrome or sqlite");
                return -EINVAL;
        }
        if (strcmp(format, "jsonl") == 0) {
                f = JSONL;
                type = "application/x-ndjson";
        } else if (strcmp(format, "csv") == 0) {
                f = CSV;
                type = "text/csv; charset=utf-8; header=present";
        } else if (strcmp(format, "chrome") == 0) {
                f = CHROME;
                type = "application/json";
        } else if (strcmp(format, "sqlite") == 0) {
                f = SQLITE;
                type = "application/vnd.sqlite3";
        } else {
                set_err(err, errlen, "format: expected jsonl, csv, chrome or sqlite, got `%s'",
                        echo(format, buf, sizeof(buf)));
                return -EINVAL;
        }
        db = reader_open(t, err, errlen);
        if (!db)
                return -EIO;
        if (f == SQLITE) {
                rc = export_sqlite(db, &b, err, errlen);
                goto done;
        }
        /* One snapshot for the whole export. */
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                rc = step_failed(db, rc, err, errlen);
                goto done;
        }
        rc = q_records(t, db, q, false, f != CHROME && q && q->descending, &st, err, errlen);
        if (rc < 0)
                goto done;
        if (f == JSONL)
                rc = export_jsonl(db, st, &b, err, errlen);
        else if (f == CSV)
                rc = export_csv(db, st, &b, err, errlen);
        else
                rc = export_chrome(db, st, run_of(t, q), &b, err, errlen);
done:
        sqlite3_finalize(st);
        sqlite3_close(db);
        if (rc == 0 && b.oom) {
                set_err(err, errlen, "trace log export: out of memory");
                rc = -ENOMEM;
        }
        if (rc < 0) {
                free(b.p);
                /* The interface promises -EINVAL, -EIO (and -ENOMEM). */
                return rc == -ENOMEM || rc == -EINVAL ? rc : -EIO;
        }
        if (!b.p) {
                b.p = malloc(1);
                if (!b.p) {
                        set_err(err, errlen, "trace log export: out of memory");
                        return -ENOMEM;
                }
                b.p[0] = '\0';
        }
        *ret_body = b.p;
        *ret_len = b.len;
        *ret_content_type = type;
        return 0;
}
