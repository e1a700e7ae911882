/*
 * What the trace log's files share (the design and the schema are in
 * tracelog.c's header comment; the library's interface, to the inspector
 * and poe-trace, is poe/tracelog.h):
 *
 *  tracelog.c         text and JSON helpers, the ring (both sides), open,
 *                     close and status;
 *  tracelog-writer.c  the writer thread, the schema and its migration,
 *                     and what a failing database does to it;
 *  tracelog-bound.c   the bounds: the size and age the writer keeps the
 *                     log within, by removing its oldest records;
 *  tracelog-checkpoint.c  the checkpointer: the thread that moves the
 *                     WAL into the database, and the WAL's marks;
 *  tracelog-query.c   query parameters, the SQL they become, queries and
 *                     runs, and the read-only connections all readers use;
 *  tracelog-walk.c    the walks (records, sessions) and run lookups of
 *                     readers that stream what they print (poe-trace);
 *  tracelog-export.c  exports as streams read from a cursor: the output
 *                     buffer, JSON Lines, CSV, and the stream itself;
 *  tracelog-copy.c    the SQLite export's consistent copy of the file;
 *  tracelog-pair.c    the dispatch stack and post table that the Chrome
 *                     and OTLP exports pair records with, bounded;
 *  tracelog-chrome.c  the Chrome trace (Perfetto) export;
 *  tracelog-otlp.c    the OpenTelemetry (OTLP/JSON) export;
 *  tracelog-readonly.c  a log opened only to be read (poe-trace);
 *  tracelog-render.c  the SQL functions readers render records with, and
 *                     which table (new or pre-version-3) a run is in;
 *  params.c           request parameters, which queries are parsed from.
 *
 * Everything here is private to the trace log library (libpoe-tracelog,
 * built with hidden visibility); the names carry a poe__tl_ prefix only to
 * stay out of the way of whatever links the static library, the tests
 * included.  Only the library's own files include this header: not the
 * inspector's, not poe-trace (tests/build/check-tracelog-split.py says so).
 */
#ifndef POE_TRACELOG_INTERNAL_H
#define POE_TRACELOG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "json-util.h"
#include "poe/tracelog.h"

#define SCHEMA_VERSION     3
#define STR_(x)            #x
#define STR(x)             STR_(x)
#define APPLICATION_ID     0x504f4554 /* "POET" */
#define APPLICATION_ID_DEC "1347372372"

#define DEFAULT_RING          65536
#define RING_BYTES_PER_RECORD 160  /* a record is 144 bytes, a few carry text */
#define ENTRY_MAX             4096 /* one record in the ring, its text included */
#define SLOT_GRANT            256  /* slots lent before the sink looks at the writer again */
#define SHED_LOOK             64   /* records the kernel counts in the shedding slot before the sink looks at the ring again */
/* The log's threads (writer, checkpointer) run this much nicer than the
 * thread that starts them: on a busy machine the program being watched
 * gets the CPU first, and what the writer cannot keep up with is shed
 * and counted (tracelog.c), never waited for. */
#define LOG_THREAD_NICE       10
#define EVENT_MAX             1024 /* longer names are cut */
#define BATCH_MAX             1000
#define BATCH_TEXT            (64 << 10) /* a batch's texts; > 3 * ENTRY_MAX */
#define BATCH_MS              50
#define IDLE_LOOK_MS          1000 /* the writer's look at the ring while it waits for a first record */
#define RETRY_MS              500
#define OPEN_RETRY_MAX_MS     5000 /* the longest wait between two tries to open */
#define WRITER_BUSY_MS        200 /* a lock held longer is a fault to report */
#define OPEN_BUSY_MS          1000
/* A reader that finds the log locked (SQLITE_BUSY) waits this long at
 * most, looking every READER_BUSY_STEP_MS whether it must stop
 * (poe__tl_busy_wait): a stop, a deadline or a client gone interrupts
 * the wait as it does a running statement. */
#define READER_BUSY_MS        2000
#define READER_BUSY_STEP_MS   5
/* Every read runs under a deadline enforced inside SQLite (a progress
 * handler): a query or a page of records, and a whole export. */
#define QUERY_DEADLINE_MS     10000
#define EXPORT_DEADLINE_MS    300000
#define N_GROUP_BITS          32
#define SMAP_SIZE             2048 /* a power of two, > 2 * BATCH_MAX */
#define TRIM_CHUNK            1000 /* records removed per transaction */
#define TRIM_CHUNKS_PER_PASS  4    /* and transactions between two batches, */
#define TRIM_CHUNKS_MAX       64   /* or this many while past the bound */

/* ---- the ring and the log ---- */

/*
 * One record (or definition) in the ring: the kernel's record as it was
 * handed to the sink or written in its slot, then its text
 * (rec.text_len bytes; rec.text is NULL here).  Entries are 8-byte
 * aligned; an entry that would run past the end of the buffer is written
 * at its start instead, after a header of ENTRY_WRAP that tells the
 * reader to wrap.  The header is the entry's publication (tracelog.c,
 * "the ring"): 0 until the entry is whole.  poe__tl_ring_pop zeroes the
 * entry: the writer is done with it before it pops it.
 */
typedef struct entry {
        _Atomic uint32_t size; /* of the whole entry (| ENTRY_SLOT); 0: none yet; ENTRY_WRAP */
        uint32_t pad;
        poe_trace_record rec;
} entry;

#define ENTRY_WRAP UINT32_MAX
/* In size: the kernel wrote the entry in a slot, and left rec.wall to the
 * reader (poe__tl_ring_peek reckons it). */
#define ENTRY_SLOT 0x40000000u

typedef struct sess_slot {
        uint64_t sid;
        double first, last;
        bool used;
} sess_slot;

struct poe__tracelog {
        char *path; /* absolute, set before the writer starts: readers open this */
        /* 0 until the database is open: the writer sets it when an open
         * it retried succeeds, while readers read it. */
        _Atomic int64_t run_id;
        /* What the runs row says, taken on the kernel's thread at open:
         * the writer, which may add the row later, never touches the
         * kernel. */
        int run_pid;
        double run_started;
        char *kernel_id;
        bool retry_open; /* open again and again until it works */

        /* The ring (tracelog.c says how it works). */
        unsigned char *ring;
        uint64_t ring_bytes, ring_records, threshold;
        /* How long the writer waits for a first record before it looks
         * at the ring anyway (IDLE_LOOK_MS; tests put it off). */
        _Atomic int64_t idle_look_ms;
        _Atomic uint64_t head;   /* bytes consumed; the writer writes it */
        _Atomic uint64_t popped; /* records consumed (not definitions) */
        /* Records the sink was handed: those put in the ring, plus those
         * it dropped (sink_dropped of them).  Once the ring is empty,
         * produced == written + the drops, exactly. */
        _Atomic uint64_t produced;
        _Atomic uint64_t sink_dropped;
        /* The writer sleeps until this many records wait; UINT64_MAX
         * while it is awake. */
        _Atomic uint64_t wake_at;
        /* Records lost, by group: the writer's (a batch it could not
         * write, a definition it never saw), and the sink's (no room in
         * the ring), kept apart so that each has one thread writing it
         * and the sink's count is a plain store, not a locked add (the
         * shedding slot's cost).  poe__tl_dropped gives their sum. */
        _Atomic uint64_t dropped[N_GROUP_BITS];
        _Alignas(64) _Atomic uint64_t sink_drops[N_GROUP_BITS];
        _Atomic uint64_t written;

        /* Set when the log's owner stops: every read in progress ends at
         * its next progress check (tracelog-query.c). */
        _Atomic bool cancel_readers;
        /* A query's deadline, QUERY_DEADLINE_MS unless a test says. */
        _Atomic int64_t query_deadline_ms;
        /* An export's deadline, EXPORT_DEADLINE_MS unless a test says. */
        _Atomic int64_t export_deadline_ms;
        /* The bounds (poe__tracelog_set_bounds), and what the writer
         * removed to stay within them: this run's records by group, and
         * earlier runs' records and rows.  size_bytes is the file and its
         * WAL at the writer's last look. */
        _Atomic uint64_t max_bytes;
        _Atomic uint64_t max_age; /* seconds; 0: none */
        _Atomic uint64_t removed[N_GROUP_BITS];
        _Atomic uint64_t removed_earlier;
        _Atomic uint64_t runs_removed;
        _Atomic uint64_t size_bytes;
        /* Checkpoints the checkpointer has run (tracelog-checkpoint.c). */
        _Atomic uint64_t checkpoints;
        /* Definitions lost (see tracelog.c): the sink's, records of an
         * epoch up to which it drops; the writer's, records of an epoch
         * up to which it drops, and its request that the sink ask the
         * kernel for every definition again. */
        uint32_t sink_stale_epoch;
        bool stale; /* since a definition was lost: no slot is lent */
        /* The sink's side of the ring, the kernel's thread's alone: where
         * the next entry goes and the bytes put in the ring, both as of
         * grant, where the slots lent since began, when produced was
         * grant_produced; and the count of produced at which the room it
         * knew of ends. */
        unsigned char *wpos, *grant;
        uint64_t tail, grant_produced, slot_limit;
        /* ... and the writer as the slot function last saw it (see
         * tracelog.c, slot_slow). */
        uint64_t wake_limit, p_limit;
        /* The shedding slot (tracelog.c, lend): lent while the ring has
         * no room, outside it; the records the kernel counts there
         * (SHED_LOOK at most, then it hands the slot back) are dropped
         * and counted before the sink looks at the ring again. */
        entry shed;
        bool shedding;
        /* The reader's (the writer thread's): the kernel's static epoch,
         * from the last definition read. */
        double reader_epoch;
        _Atomic uint32_t writer_stale_epoch;
        _Atomic bool redefine;

        pthread_t thread;
        bool thread_started;
        pthread_mutex_t mu; /* stop, and the writer's sleeps */
        pthread_cond_t cv;
        bool stop;

        pthread_mutex_t err_mu;
        bool has_error;
        char error[512];
        /* The database file was deleted or replaced under the writer this
         * many times, and a new one started; the last time, in words. */
        uint64_t files_started;
        char file_note[512];

        /* The writer's own, never touched by another thread once it runs. */
        sqlite3 *db;
        /* The file it opened, to notice it deleted or replaced. */
        dev_t file_dev;
        ino_t file_ino;
        bool file_known;
        sqlite3_stmt *st_begin, *st_commit, *st_rollback, *st_batch, *st_session, *st_drop;
        sqlite3_stmt *st_name, *st_loggable, *st_counters;
        bool in_error; /* db NULL (not open) or the last batch failed */
        int64_t next_retry_ms;
        int64_t open_delay_ms; /* the wait before the next open; doubles */
        uint64_t drops_recorded[N_GROUP_BITS];
        /* The bounds' (tracelog-bound.c): statements, prepared at open. */
        struct tl_bound *bound;
        uint64_t applied_max; /* the bound the WAL's limits were set for */
        /* The checkpointer (NULL: none runs, the writer checkpoints), and
         * the WAL's marks in frames (tracelog-checkpoint.c): the writer's
         * own.  wal_frames is the WAL's length at its last commit. */
        struct tl_ckpt *ckpt;
        uint32_t wal_frames, wal_frames_max;
        uint32_t wal_cap, wal_restart, wal_step, ckpt_next_at;
        bool wal_held;         /* batches dropped: the WAL is at its cap */
        uint64_t ckpt_waits;   /* the writer's waits for a run, */
        uint64_t ckpt_wait_ns; /* and their time, for bench/trace-writer */
        bool trimming;        /* past the size bound, until well under it */
        double newest_wall;   /* of this run's records written so far */
        char fault[400]; /* the failure of the current batch */
        int fault_rc;    /* and its SQLite code */
        sess_slot *smap;
        uint32_t *smap_used;
        size_t smap_count;
        char *scratch; /* 3 * ENTRY_MAX + 4: one string made valid UTF-8 */
        /* The records st_batch inserts in one statement (the virtual
         * table poe_batch, tracelog-writer.c): copies of batch_n records
         * of the ring, their texts (valid UTF-8) in batch_text. */
        poe_trace_record *batch;
        size_t batch_n;
        char *batch_text;
        size_t batch_text_used;
};

static inline int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Times read back from a log are whatever the file holds (a log the
 * library did not write, or a damaged one): arithmetic on them saturates
 * at the int64_t range instead of overflowing. */
static inline int64_t poe__tl_sat_add(int64_t a, int64_t b)
{
        int64_t r;

        if (__builtin_add_overflow(a, b, &r))
                return b > 0 ? INT64_MAX : INT64_MIN;
        return r;
}

static inline int64_t poe__tl_sat_sub(int64_t a, int64_t b)
{
        int64_t r;

        if (__builtin_sub_overflow(a, b, &r))
                return b < 0 ? INT64_MAX : INT64_MIN;
        return r;
}

static inline unsigned group_index(unsigned group)
{
        return group ? (unsigned)__builtin_ctz(group) : N_GROUP_BITS - 1;
}

/* An entry's text, rec.text_len bytes. */
static inline const char *e_text(const entry *e)
{
        return (const char *)(e + 1);
}

/* ---- tracelog.c: helpers and the ring ---- */

__attribute__((format(printf, 3, 4))) void poe__tl_set_err(char *err, size_t errlen,
                                                           const char *fmt, ...);
/* A group's name, "UNKNOWN" for a bit that names none. */
const char *poe__tl_group_name(unsigned group);
/* UTF-8 and JSON strings: one copy (json-util.c), under the names the
 * log's files use; poe__tl_jstr_n, poe__tl_jstr and poe__tl_jset, which
 * the inspector uses too, are in poe/tracelog.h (json-util.c defines
 * them). */
#define poe__tl_utf8_valid(s, n)    poe__utf8_valid((s), (n))
#define poe__tl_utf8_clean(s, n, o) poe__utf8_clean((s), (n), (o))
/* A parameter value made safe to quote in an error message. */
const char *poe__tl_echo(const char *v, char *buf, size_t size);

/* The writer's side of the ring. */
uint64_t poe__tl_ring_count(poe__tracelog *t);
/* Records of group bit g lost so far, the writer's and the sink's. */
uint64_t poe__tl_dropped(poe__tracelog *t, unsigned g);
bool poe__tl_ring_empty(poe__tracelog *t);
/* Called first by each of the log's threads: names it (top, perf, gdb;
 * at most 15 characters) and lowers its priority by LOG_THREAD_NICE. */
void poe__tl_thread_init(const char *name);
entry *poe__tl_ring_peek(poe__tracelog *t);
void poe__tl_ring_pop(poe__tracelog *t, entry *e);

/* ---- tracelog-writer.c ---- */

/* Opens the database at path for writing, checks or creates (or
 * migrates) its schema, adds this run and prepares the writer's
 * statements.  Touches no kernel: the writer thread calls it too, when it
 * tries again.  -errno with err on failure; poe__tl_db_close cleans up
 * either way. */
int poe__tl_db_open(poe__tracelog *t, const char *path, char *err, size_t errlen);
void poe__tl_db_close(poe__tracelog *t);
/* One try at opening t->path for a log that retries: on failure the
 * status says why and when the next try is, and the wait doubles (from
 * RETRY_MS to OPEN_RETRY_MAX_MS).  The message goes to err too. */
bool poe__tl_try_open(poe__tracelog *t, char *err, size_t errlen);
void *poe__tl_writer_main(void *arg);
/* A negative errno for a SQLite failure, and the message that goes with
 * it in err. */
int poe__tl_sqlite_errno(sqlite3 *db, int rc);
int poe__tl_fail_db(sqlite3 *db, int rc, const char *path, const char *what, char *err,
                    size_t errlen);

/* Runs a statement to completion and resets it (tracelog-writer.c); on
 * failure keeps what SQLite said in t->fault. */
bool poe__tl_run(poe__tracelog *t, sqlite3_stmt *st, const char *what);
/* A failed write: rolled back, the status says so, retried later. */
void poe__tl_batch_failed(poe__tracelog *t);

/* ---- tracelog-bound.c ---- */

/* Prepares the bounds' statements on t->db (the schema is there); -errno
 * with err. */
int poe__tl_bound_open(poe__tracelog *t, const char *path, char *err, size_t errlen);
void poe__tl_bound_close(poe__tracelog *t);
/* One pass, between two batches: measures the log and removes what is
 * past its bounds, in transactions of its own.  A failure is the
 * database's: the status says so and the writer retries, as for a
 * batch. */
void poe__tl_bound_pass(poe__tracelog *t);

/* ---- tracelog-checkpoint.c ---- */

/* Installs the WAL hook on t->db and starts the checkpointer, its own
 * connection to the file; without one (no thread, no connection) the
 * writer checkpoints itself.  After the database is open. */
void poe__tl_ckpt_start(poe__tracelog *t);
/* Stops the checkpointer (its checkpoint under way is interrupted) and
 * closes its connection; nothing when none runs.  The writer's thread,
 * or any once the writer has ended. */
void poe__tl_ckpt_stop(poe__tracelog *t);
/* Before the writer's next transaction: false when it must not write
 * one (the WAL is at its cap and could not be moved into the database:
 * a reader holds it).  At the restart mark it waits for a checkpoint,
 * so that the transaction starts the WAL again. */
bool poe__tl_wal_room(poe__tracelog *t);
/* Whether the WAL is at its cap (the bounds' removals stop there too). */
bool poe__tl_wal_past_cap(const poe__tracelog *t);
/* The marks for a WAL reserve of that many bytes. */
void poe__tl_wal_limits(poe__tracelog *t, uint64_t reserve, int64_t page_size);
/* The VFS writers (and the checkpointer) open the file with. */
const char *poe__tl_vfs(void);

/* ---- tracelog-render.c ---- */

/* The SQL functions a reader's connection renders records with
 * (poe_group_name, poe_group_prefix, poe_kind_name, poe_message).  A
 * SQLite code. */
int poe__tl_register_functions(sqlite3 *db);

/* Records written before schema 3 (text columns), if the log has any:
 * the table that holds them ("records" in a log of version 1 or 2 read
 * as it is, "records_v2" once migrated; NULL: none), its version, and
 * the last run in it. */
typedef struct tl_legacy {
        const char *table;
        int version;
        int64_t max_run;
} tl_legacy;

/* Reads it from a connection to the log.  A SQLite code. */
int poe__tl_legacy_of(sqlite3 *db, tl_legacy *ret);
/* Whether run's records are the old ones. */
bool poe__tl_legacy_run(const tl_legacy *lg, int64_t run);
/* "SELECT <the fourteen COL_* columns> FROM <run's table> r": the
 * conditions that follow name the table's columns as r.x. */
void poe__tl_select(const tl_legacy *lg, int64_t run, char *buf, size_t size);

/* ---- tracelog-query.c ---- */

/* The columns of a record row, as poe__tl_records selects them. */
enum {
        COL_ID,
        COL_RUN,
        COL_MONO_NS,
        COL_WALL,
        COL_GROUP,
        COL_PREFIX,
        COL_KIND,
        COL_SESSION,
        COL_EVENT,
        COL_SENDER,
        COL_REFCOUNT,
        COL_QUEUE,
        COL_MESSAGE,
        COL_EVENT_ID, /* NULL when the record is about no queue item */
        COL_TEXT,     /* the record's raw text (bytes; may hold a NUL) */
        COL_ARG0,     /* its first number */
};

/* A read-only connection to the log, for one query (QUERY_DEADLINE_MS
 * from now) or, with the _for form, for deadline_ms.  It must be used on
 * the thread that opened it: the deadline is that thread's.  A read past
 * its deadline, or after poe__tracelog_cancel_readers, fails with
 * SQLITE_INTERRUPT, which poe__tl_step_failed reports as such. */
sqlite3 *poe__tl_reader_open(poe__tracelog *t, char *err, size_t errlen);
sqlite3 *poe__tl_reader_open_for(poe__tracelog *t, int64_t deadline_ms, char *err,
                                 size_t errlen);
/* The run a query is about: its own, or the current one. */
int64_t poe__tl_run_of(poe__tracelog *t, const poe__trace_query *q);
/* The records q selects, in id order, paged or not. */
int poe__tl_records(poe__tracelog *t, sqlite3 *db, const poe__trace_query *q, bool paged,
                    bool descending, sqlite3_stmt **st, char *err, size_t errlen);
json_t *poe__tl_col_text(sqlite3_stmt *st, int i);
json_t *poe__tl_col_int_or_null(sqlite3_stmt *st, int i);
/* A record row as the JSON object queries and JSON Lines exports give. */
json_t *poe__tl_row_json(sqlite3_stmt *st);
int poe__tl_step_failed(sqlite3 *db, int rc, char *err, size_t errlen);
/* A reader's busy handler's body: count is SQLite's (0 on the first call
 * for a lock), *since where it keeps when the wait began.  Returns 0 (give
 * up: SQLITE_BUSY) when stop is true or READER_BUSY_MS have passed, else
 * waits READER_BUSY_STEP_MS and returns 1 (try again). */
int poe__tl_busy_wait(int count, bool stop, int64_t *since);

/* ---- tracelog-export.c: the output buffer ---- */

/* A growing buffer; after an allocation fails it only records that.  An
 * export renders a record or two into one at a time and hands it out, so
 * it stays the size of the largest record's output. */
typedef struct obuf {
        char *p;
        size_t len, cap;
        bool oom;
} obuf;

void poe__tl_ob_put(obuf *b, const char *s, size_t n);
void poe__tl_ob_puts(obuf *b, const char *s);
__attribute__((format(printf, 2, 3))) void poe__tl_ob_printf(obuf *b, const char *fmt, ...);
/* Appends j (consumed) as compact JSON; a NULL j is an allocation that
 * failed.  Reals at full precision unless precision says otherwise. */
void poe__tl_ob_json_p(obuf *b, json_t *j, int precision);
void poe__tl_ob_json(obuf *b, json_t *j);
/* Empties b for the next record, keeping its memory unless a record
 * made it larger than OB_KEEP. */
#define OB_KEEP (256u << 10)
void poe__tl_ob_reset(obuf *b);

/* ---- tracelog-pair.c: pairing records, in bounded state ---- */

/* Dispatches waiting for their return: deeper than any real nesting.
 * Past it the outermost is finished as one that never returned. */
#define STACK_MAX    1024
#define STACK_SEARCH 256 /* how far down a return looks for its dispatch */
/* Posts waiting for their dispatch: a queue longer than this is rare,
 * and a selection that hides dispatches (kind=enqueue) would otherwise
 * keep every post it reads.  Past it a new post is not paired (counted
 * as untracked): Chrome draws no arrow for it, OTLP ends its span at
 * once with poe.outcome "untracked".  OTLP keeps a pending post as its
 * span's text, some 500 bytes. */
#define POSTS_MAX 8192
/* OTLP span events: at most EVENTS_PER_SPAN on a span, and at most
 * EVENTS_HELD_MAX on the open dispatches' spans together (a span event
 * is some 5 KB of jansson tree until its span ends).  Only the innermost
 * dispatch gets events, so only a stack of dispatches that each got many
 * before the next began (their returns dropped or filtered out) reaches
 * the second; past either, a span counts what it could not hold in its
 * droppedEventsCount.  An OTLP export at any one of its caps grows the
 * heap by under 5 MiB, its page cache included (test-tracexport.c
 * measures each); at all of them together, by some 10 MiB. */
#define EVENTS_PER_SPAN 128
#define EVENTS_HELD_MAX 1024

/* What an export could not pair, for its caller and its trailer. */
typedef struct tl_pair_counts {
        uint64_t unreturned;     /* dispatches with no return in the selection */
        uint64_t undispatched;   /* posts with no dispatch in the selection */
        uint64_t untracked;      /* posts past POSTS_MAX: never paired */
        uint64_t events_dropped; /* OTLP: span events past its caps */
} tl_pair_counts;

/* An enqueue record (a post, a yield, an alarm set) waiting for the
 * dispatch of its queue item. */
typedef struct posted {
        uint64_t event_id; /* the queue item; 0: an empty slot */
        int64_t ns;        /* the enqueue's mono_ns */
        uint64_t sender;   /* the session that posted it */
        uint64_t span;     /* OTLP: the post's span id */
        uint64_t parent;   /* OTLP: its parent span id, 0: none */
        uint64_t trace[2]; /* OTLP: its trace id */
        uint32_t depth;    /* OTLP: its depth in its trace (a root is 1) */
        bool timer;        /* OTLP: an alarm or delay, not a post */
        char *head;        /* OTLP: its span as JSON up to its last attribute */
        bool bare;         /* Chrome: no slice open on the sender's track at the enqueue */
} posted;

/* Pending posts by event id. */
typedef struct post_table {
        posted *slot;
        size_t n, cap; /* cap: 0 or a power of two */
} post_table;

/* Adds p (event_id non-zero).  An entry with the same id is replaced and
 * handed back in *old (event_id 0: there was none) for the caller to
 * drop.  0, -ENOSPC when POSTS_MAX are pending (p is not added), or
 * -ENOMEM. */
int poe__tl_post_put(post_table *pt, const posted *p, posted *old);
/* Removes the entry for event_id into *ret; false if there is none. */
bool poe__tl_post_take(post_table *pt, uint64_t event_id, posted *ret);
/* The entries in turn from *pos (0 to start), each handed over (its head
 * is then the caller's): false after the last.  For an export's end: the
 * table is only freed after it. */
bool poe__tl_post_next(post_table *pt, size_t *pos, posted *ret);
/* Frees the entries' heads and the table. */
void poe__tl_post_free(post_table *pt);

/* A dispatch waiting for its return. */
typedef struct open_dispatch {
        uint64_t sid;
        char *event;   /* its name, or NULL */
        int64_t ns;    /* its mono_ns */
        json_t *obj;   /* the export's object for it, finished at its return */
        posted post;   /* Chrome: the post that queued it (event_id 0: none) */
        uint64_t span; /* OTLP: its span id */
        uint64_t trace[2]; /* OTLP: its trace id */
        uint32_t depth;    /* OTLP: its depth in its trace */
        bool died;         /* OTLP: a die record gave it an error status */
        size_t events; /* OTLP: the span events obj holds */
} open_dispatch;

/* A ring: s[(base + i) & (cap - 1)] for i < depth, outermost first. */
typedef struct dstack {
        open_dispatch *s;
        size_t base, depth, cap;
} dstack;

bool poe__tl_same_event(const char *a, const char *b);
/* Whether an enqueue record is a post that a dispatch record will pair
 * with: not the kernel's _garbage_collect, which it dequeues without a
 * dispatch record. */
bool poe__tl_is_post(const char *event, uint64_t event_id);
/* The i-th innermost open dispatch, 1 <= i <= depth. */
open_dispatch *poe__tl_dstack_at(const dstack *ds, size_t i);
/* Pushes a dispatch, zeroed but for sid, event (copied) and ns; NULL
 * when out of memory.  At STACK_MAX the caller first finishes the
 * outermost, taken with poe__tl_dstack_shift. */
open_dispatch *poe__tl_dstack_push(dstack *ds, uint64_t sid, const char *event, int64_t ns);
/* Removes the innermost (pop) or the outermost (shift) and returns it,
 * valid until the next push; the caller frees its event and drops its
 * object.  O(1) both. */
open_dispatch *poe__tl_dstack_pop(dstack *ds);
open_dispatch *poe__tl_dstack_shift(dstack *ds);
/* How many of the innermost dispatches a return of (sid, event) finishes,
 * its own included: 0 when none of the STACK_SEARCH innermost is its
 * dispatch. */
size_t poe__tl_dstack_match(const dstack *ds, uint64_t sid, const char *event);
/* Drops what is left and the ring. */
void poe__tl_dstack_free(dstack *ds);

/* ---- tracelog-copy.c ---- */

/* The SQLite export's copy of the whole log, read from src (a reader's
 * connection, whose read transaction it opens and leaves open): an
 * unlinked temporary file's descriptor at offset 0 in *ret_fd, its size
 * in *ret_size.  stop(ctx) is asked between two steps of the copy;
 * non-NULL (why) stops it with -ECANCELED.  0, or -errno with err. */
int poe__tl_copy(poe__tracelog *t, sqlite3 *src, const char *(*stop)(void *ctx), void *ctx,
                 int *ret_fd, int64_t *ret_size, char *err, size_t errlen);

/* ---- tracelog-chrome.c, tracelog-otlp.c ---- */

/*
 * The two trace exports, fed one record at a time in id order.  _new
 * writes the export's head into b (which the export keeps, and the
 * caller empties as it hands the bytes out), reading the run's row from
 * db; NULL when out of memory.  _record renders one record of st into
 * b.  _finish writes a bounded part of the end (what is still open, one
 * item per call, then the tail) and returns true once all of it is
 * written.  Out of memory shows in b->oom.  _free takes NULL.
 */
typedef struct tl_chrome tl_chrome;
tl_chrome *poe__tl_chrome_new(sqlite3 *db, int64_t run, obuf *b, tl_pair_counts *counts);
void poe__tl_chrome_record(tl_chrome *c, sqlite3_stmt *st);
bool poe__tl_chrome_finish(tl_chrome *c);
void poe__tl_chrome_free(tl_chrome *c);

typedef struct tl_otlp tl_otlp;
/* -errno with err when the run's row cannot be read.  service is the
 * resource's service.name (NULL: "poe"), borrowed for the export's life. */
int poe__tl_otlp_new(sqlite3 *db, int64_t run, obuf *b, tl_pair_counts *counts,
                     const char *service, tl_otlp **ret, char *err, size_t errlen);
void poe__tl_otlp_record(tl_otlp *o, sqlite3_stmt *st);
bool poe__tl_otlp_finish(tl_otlp *o);
/* Ends the line being written, if any: what b holds is then whole lines,
 * each one TracesData (the live push sends each as a request). */
void poe__tl_otlp_flush(tl_otlp *o);
/* At most n spans a line from now on (1 to 1000; the file export's is
 * 1000). */
void poe__tl_otlp_set_line_spans(tl_otlp *o, size_t n);
/* fn(ctx, end, spans) at each line's end: where it ends in b, and how
 * many spans it holds. */
void poe__tl_otlp_on_line(tl_otlp *o, void (*fn)(void *ctx, size_t end, size_t spans), void *ctx);
void poe__tl_otlp_free(tl_otlp *o);

#endif
