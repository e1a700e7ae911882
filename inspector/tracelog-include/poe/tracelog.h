/*
 * libpoe-tracelog: the trace log.  The kernel's structured trace records
 * kept in a SQLite file, and everything that reads them back: queries,
 * runs, sessions, exports.  The inspector (libpoe-inspector) records into
 * a log and serves it over HTTP; poe-trace reads a finished one from the
 * command line.  Both link this library, and this header is all that
 * either sees of it.  How the log works inside (the ring, the writer
 * thread, the schema, the SQL) is in tracelog.c's header comment and
 * tracelog-internal.h, which only the library's own files include.
 *
 * An internal library with a header of its own, not a public one: the
 * header is not installed and not in docs/api.md, the library is static
 * (libpoe-tracelog.a, never installed) and is linked into
 * libpoe-inspector.so, where hidden visibility keeps all of it out of
 * the exported symbols, and into poe-trace.  Because:
 *
 *  - what users rely on is already promised elsewhere: the log's file
 *    format (the schema, which every later version reads back:
 *    tracelog.c), the HTTP API (/api/v1/trace...) and poe-trace's
 *    command line.  A C API would be a fourth promise that no program
 *    outside this tree has asked for;
 *  - this interface is cut for its two callers, not to the public rules
 *    of STYLE.md: it hands out jansson objects, a struct the caller fills
 *    in (poe__trace_query), and messages in the caller's buffers.  Made
 *    public, each of those would have to become an opaque handle with
 *    poe_ names, POE_ASSERT_RETURN checks and rows in the misuse and OOM
 *    tables.  Hence the poe__ prefix, as for the kernel's cross-file
 *    internals: a public trace-log API would be a new header over this
 *    one, not this one exported.
 *
 * What it needs: the kernel's public API (poe/poe.h: trace records, group
 * and kind names, the kernel's identity), jansson and sqlite3, and
 * threads for the writer.  Not libmicrohttpd, nor any of the inspector:
 * the request parameters that queries are parsed from (poe__params) and
 * the JSON helpers live here, and the inspector uses them from here.
 *
 * Conventions.  Functions returning int give >= 0 on success and a
 * negative errno on failure; outputs (ret_*) are written only on success
 * unless a function says otherwise.  Those taking err and errlen put a
 * message there on failure, a full sentence that names the log (err may
 * be NULL, or errlen 0, to go without).  Functions returning json_t * give a
 * new reference, for the caller to json_decref, and NULL on failure.
 * Every allocation is checked: out of memory is -ENOMEM or NULL, never a
 * crash.
 *
 * Threads.  A writing log (poe__tracelog_open) belongs to the kernel's
 * thread, which opens it, feeds it through the sink and stops and closes
 * it; its writer thread is the library's own.  Everything that reads
 * (status, queries, runs, walks, exports) may run on any thread, any
 * number at once, while the writer writes: each read opens its own
 * read-only connection.  Nothing may still be reading a log when it is
 * closed (poe__tracelog_cancel_readers makes the reads end soon).
 */
#ifndef POE_TRACELOG_H
#define POE_TRACELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <poe/poe.h>

/* ---- request parameters ---- */

/*
 * The key=value pairs a query is parsed from: the inspector's HTTP query
 * string (http.c fills it, its live API reads it too) or poe-trace's
 * options.  Keys and values are borrowed from whoever filled it in; a
 * NULL value stands for a key given without one.
 */
#define POE__MAX_PARAMS 16

typedef struct poe__params {
        int n;
        struct {
                const char *key;
                const char *value;
        } kv[POE__MAX_PARAMS];
} poe__params;

/* The value of key in p ("" for a key given without a value), or NULL
 * when p is NULL or has no such key.  Borrowed from p.  Reentrant. */
const char *poe__param(const poe__params *p, const char *key);

/*
 * Reads the integer parameter key of p into *ret, or dflt when it is
 * absent.  Returns 0, or -EINVAL when it is present but not a decimal
 * integer in [min, max] (*ret then untouched): the caller answers 400
 * and names the parameter.  Reentrant.
 */
int poe__param_int(const poe__params *p, const char *key, int64_t dflt, int64_t min, int64_t max,
                   int64_t *ret);

/* A session id from the n bytes at s: decimal digits only (no sign, no
 * spaces), within 64 bits.  Returns 0, or -EINVAL (*ret untouched).
 * Reentrant. */
int poe__parse_sid(const char *s, size_t n, poe_sid *ret);

/* Paging, the same for every list: ?offset=N&limit=N. */
typedef struct poe__page {
        int64_t offset, limit;
} poe__page;

/* Reads offset (default 0, at most INT64_MAX / 2) and limit (1 to 1000,
 * default 100) from p into *ret.  Returns 0, or -EINVAL when either is
 * present and out of range (*ret may be half written).  Reentrant. */
int poe__param_page(const poe__params *p, poe__page *ret);

/* The "page" object of a list's envelope: {"offset","limit","total"}.
 * A new reference; NULL when out of memory.  Reentrant. */
json_t *poe__page_json(const poe__page *pg, size_t total);

/* ---- JSON helpers ---- */

/* A JSON string of the n bytes at s that never fails on bad UTF-8: each
 * byte that is not part of a valid sequence becomes U+FFFD, so one odd
 * byte cannot lose a whole answer.  NULL s gives JSON null.  A new
 * reference; NULL when out of memory.  Copies s.  Reentrant. */
json_t *poe__tl_jstr_n(const char *s, size_t n);

/* The same for a NUL-terminated s (NULL: JSON null). */
json_t *poe__tl_jstr(const char *s);

/* json_object_set_new(o, key, v) that takes a NULL v for the allocation
 * that failed to make it: returns -1 then, as for any failure, and 0 on
 * success.  Always consumes v, so a chain of calls can OR the results
 * and check once.  Reentrant (on distinct objects). */
int poe__tl_jset(json_t *o, const char *key, json_t *v);

/* ---- a log that records ---- */

typedef struct poe__tracelog poe__tracelog;

/*
 * Opens the SQLite trace log at path, creating it, appending to it, or
 * migrating one of an older schema, and starts its writer thread; a new
 * row in `runs` describes this run of kernel k (its pid, start and id;
 * with k NULL, this process now).  Up to ring_size records (0: 65536) may
 * wait for the writer before new ones are dropped and counted.  Feed it
 * by adding poe__tracelog_sink and poe__tracelog_slot to k with the log as
 * their context (poe_kernel_trace_sink_add_slots).
 *
 * Returns 0 and the log in *ret (NULL on failure); or -EINVAL (no path,
 * a ring too large, a file that is not a libpoe trace log),
 * -EPROTONOSUPPORT (a trace log of a schema newer than this library's,
 * or of none it knows), -ENOMEM, or another -errno from opening the file
 * or starting the thread, with the message in err.  The caller runs
 * without a log and shows the message.  Call it on k's thread.
 */
int poe__tracelog_open(const char *path, size_t ring_size, poe_kernel *k, poe__tracelog **ret,
                       char *err, size_t errlen);

/*
 * The same, for a log that must come back by itself (the inspector's): a
 * database that cannot be opened, or is refused (a path under a file or
 * in a missing directory, a file that is not a database, someone else's
 * database), is no failure.  The log starts without it: its status names
 * the fault, records are dropped and counted, and the writer tries again
 * after half a second, then at doubling intervals up to five seconds,
 * until the fault is gone and the log opens.  Returns 0 with the first
 * try's message in err ("" when it opened), or -EINVAL (no path, a ring
 * too large), -ENOMEM or a thread that cannot start, as
 * poe__tracelog_open.  Call it on k's thread.
 */
int poe__tracelog_open_retrying(const char *path, size_t ring_size, poe_kernel *k,
                                poe__tracelog **ret, char *err, size_t errlen);

/*
 * The log's bounds.  256 MiB by default: about three million records
 * (some 80 bytes each with their indexes, bench/trace-bound says), the
 * last hour of a program making a thousand a second and days of a quiet
 * one: the history a person debugging looks back over, still quick to
 * query and to copy, and small on any disk the program runs on.
 */
#define POE__TRACE_DB_MAX_DEFAULT (256ull << 20)
#define POE__TRACE_DB_MAX_MIN     (1ull << 20)
#define POE__TRACE_DB_MAX_MAX     (1ull << 50)
#define POE__TRACE_DB_AGE_MAX     (100ull * 366 * 86400)

/*
 * Sets the bounds the writer keeps the log within: the file (its pages
 * in use and its WAL) under max_bytes (0: POE__TRACE_DB_MAX_DEFAULT),
 * and no record older than max_age seconds (0: no age bound).  The
 * oldest records go first, then runs left without records, never the
 * current run.  The writer applies the bounds from its next batch on, so
 * the owner sets them before records flow (the inspector does before it
 * adds the sink; tests, to use small bounds).  Returns 0, or -EINVAL for
 * a NULL t, max_bytes outside [POE__TRACE_DB_MAX_MIN,
 * POE__TRACE_DB_MAX_MAX] or max_age past POE__TRACE_DB_AGE_MAX (the
 * bounds then unchanged).  Any thread.
 */
int poe__tracelog_set_bounds(poe__tracelog *t, uint64_t max_bytes, uint64_t max_age);

/* For tests only: the SQLite VFS that writers of logs opened from now
 * on use (NULL: the default), so that a test can fail their writes on
 * purpose.  name is borrowed for as long as such logs run.  Not
 * thread-safe: call it before opening them. */
void poe__tracelog_set_vfs(const char *name);

/*
 * The kernel sink (a poe_trace_sink_fn; ctx is the log): copies the
 * record, and its text, into the log's ring and returns, without
 * blocking, formatting, I/O or, on the common path, allocating or
 * locking.  A record the full ring cannot take is dropped and counted
 * per group.  Returns 0 (also for a NULL ctx), or POE_TRACE_SINK_REDEFINE
 * when the kernel must send its definitions again: the ring or the
 * writer lost one.  The kernel's thread only: the ring has a single
 * producer.
 */
int poe__tracelog_sink(void *ctx, const poe_trace_record *r);

/*
 * Its slot function (a poe_trace_slot_fn; ctx is the log): lends the
 * kernel room in the ring, so that the frequent records, without text,
 * are written there in place; publishes each one filled and lends the
 * next.  Add both with poe_kernel_trace_sink_add_slots.  The kernel's
 * thread only, as the sink.
 */
void poe__tracelog_slot(void *ctx, poe_trace_record **slot);

/* Writes what the ring holds, records the run's clean end and stops the
 * writer thread; the status stays readable, final.  Remove the sink from
 * the kernel first: a record handed to a stopped log is never written nor
 * counted.  NULL, a read-only log and a stopped log are no-ops.  Blocks
 * until the writer thread has written what it could and exited.  The
 * owner's thread. */
void poe__tracelog_stop(poe__tracelog *t);

/* Stops the log if it runs, closes its database and frees it and all it
 * holds; NULL is a no-op.  Remove the sink from the kernel first, and
 * let no read of the log be running or start: those use t.  The owner's
 * thread. */
void poe__tracelog_close(poe__tracelog *t);

/* Ends every read of the log in progress (queries, walks, exports) at
 * its next progress check (SQLite's, every 1000 steps: microseconds
 * apart), and every later one at its first, a read too short to reach
 * one excepted: for an owner that is stopping and must not wait for
 * them.  Cannot be undone.  NULL is a no-op.  Any thread. */
void poe__tracelog_cancel_readers(poe__tracelog *t);

/* For tests: how long the writer, waiting for a first record, sleeps
 * before it looks at the ring anyway (0: the default, one second; see
 * tracelog.c, "Waking the writer").  Any thread; the writer's next wait
 * uses it. */
void poe__tracelog_set_idle_look(poe__tracelog *t, int64_t ms);

/* For tests: the deadline of each query, walk and run lookup, in ms from
 * its start (0: the default, 10 s; negative: already past).  Exports
 * keep theirs (5 min).  Any thread; reads started later use it. */
void poe__tracelog_set_query_deadline(poe__tracelog *t, int64_t ms);
/* The same for exports opened from now on (EXPORT_DEADLINE_MS, five
 * minutes, unless set; 0 sets it back): a test's hook, never set by the
 * inspector itself.  Any thread. */
void poe__tracelog_set_export_deadline(poe__tracelog *t, int64_t ms);

/*
 * The log's state, which the inspector shows as "trace_log" in
 * /api/v1/kernel (and counts in /metrics):
 * {"path", "run_id", "records_produced", "records_written",
 *  "records_pending", "dropped": {"TRACE_EVENTS": n, ...},
 *  "dropped_total", "removed": {"TRACE_EVENTS": n, ...},
 *  "removed_total", "removed_earlier", "runs_removed", "size_bytes",
 *  "max_bytes", "checkpoints", "max_age": null|seconds,
 *  "error": null|"...", "files_started": n, "file_note": null|"..."}.
 * produced = written + dropped_total + pending; removed (this run's
 * records the bounds took out of the file) is counted among the written.
 * removed_earlier: records of earlier runs removed, runs_removed: their
 * rows.  files_started counts the new files started because the
 * database was deleted or replaced under the writer, and file_note says
 * when that last happened.  checkpoints counts the checkpointer's runs
 * (moving the WAL into the database).  A new reference; NULL for a NULL t or when
 * out of memory.  Any thread.
 */
json_t *poe__tracelog_status(poe__tracelog *t);

/* ---- the OTLP feed: spans as they are written (tracelog-feed.c) ---- */

typedef struct poe__otlp_feed poe__otlp_feed;

/* A feed of t's current run as OTLP/JSON, at most spans_per_line spans
 * (1 to 1000) to a line; service is the resource's service.name (copied;
 * NULL: "poe").  0, -EINVAL, -ENOMEM.  The feed is its poller's: one
 * thread at a time, and freed before t. */
int poe__otlp_feed_new(poe__tracelog *t, const char *service, size_t spans_per_line,
                       poe__otlp_feed **ret);
/* Called with each line a poll made: one TracesData object and its
 * newline, len bytes (borrowed until the call returns), and its spans. */
typedef void (*poe__otlp_line_fn)(void *ctx, const char *line, size_t len, size_t spans);
/* Reads at most max_records records written since the last poll and
 * hands fn the spans that ended, in lines; with finish, also everything
 * still open (dispatches that did not return yet end at the last record,
 * posts not dispatched yet as "pending": the end of a push).  The number
 * of records read (0: nothing new, or the log is not open yet), or
 * -errno with err (the read failed: what it read before is handed out,
 * the next poll goes on after it). */
int poe__otlp_feed_poll(poe__otlp_feed *f, size_t max_records, bool finish,
                        poe__otlp_line_fn fn, void *ctx, char *err, size_t errlen);
/* Takes NULL. */
void poe__otlp_feed_free(poe__otlp_feed *f);

/* ---- reading a log ---- */

/*
 * Opens an existing trace log only to read it: no writer thread, no new
 * run, no schema change, nothing created, not even a missing file.  The
 * handle serves the reads below with the newest run as its current one;
 * poe__tracelog_close frees it.  Logs of schema versions 1 and 2 are
 * read as they are.  Returns 0 and the handle in *ret (NULL on failure);
 * -ENOENT (or another -errno from stat) for a missing path, -EISDIR,
 * -EINVAL for no path or a file that is not a libpoe trace log,
 * -EPROTONOSUPPORT for a schema newer than this reader's, -ENOMEM or a
 * SQLite failure's -errno; the message in err starts with the path.
 * Any thread.
 */
int poe__tracelog_open_readonly(const char *path, poe__tracelog **ret, char *err, size_t errlen);

/* The absolute path that reads open (borrowed from t, valid until it is
 * closed), and the current run's id (0: none yet, or a log without
 * runs).  NULL t: NULL and 0.  Any thread. */
const char *poe__tracelog_path(const poe__tracelog *t);
int64_t poe__tracelog_run_id(const poe__tracelog *t);

/* What a read selects.  Every field is optional: zero or NULL means no
 * filter.  The strings are borrowed, for the duration of each call. */
typedef struct poe__trace_query {
        double since, until;     /* wall time range, epoch seconds */
        poe_sid session;         /* with has_session; 0 is the kernel */
        bool has_session;
        unsigned groups;         /* POE_TRACE_* bits; 0: any */
        const char *event;       /* exact event name */
        const char *kind;        /* exact record kind ("dispatch", ...) */
        int64_t after_id;        /* records with id > after_id (for tails) */
        int64_t upto_id;         /* records with id <= upto_id, when > 0 (poe-trace --follow) */
        int64_t run_id;          /* 0: the log's current run */
        poe__page page;
        bool descending;         /* newest first */
} poe__trace_query;

/*
 * Parses a query from p's since, until (epoch seconds), session, group (a
 * name like TRACE_EVENTS, POE_TRACE_EVENTS or events, or a comma list),
 * event, kind, after, run, offset, limit (default 100) and order
 * (asc|desc).  *q is overwritten either way; its event and kind borrow
 * p's values.  Returns 0, or -EINVAL with the bad parameter named first
 * in err ("group: unknown trace group ..."), safe to show: values are
 * echoed cut short and printable.  Reentrant.
 */
int poe__trace_query_parse(const poe__params *p, poe__trace_query *q, char *err, size_t errlen);

/*
 * The page of records q selects, and how many it selects in all, read in
 * one snapshot: {"records": [...], "total": n}, each record
 * {"id","run","mono_ns","wall","group","prefix","kind","session","event",
 * "sender","refcount","queue","message","event_id"} (event_id null when
 * the record is about no queue item).  A new reference; NULL with the
 * message in err when q is NULL, the read fails or runs past its deadline
 * (10 s), or memory runs out.  Any thread.
 */
json_t *poe__tracelog_query(poe__tracelog *t, const poe__trace_query *q, char *err,
                            size_t errlen);

/*
 * The runs recorded in the log, oldest first: [{"id","pid","started",
 * "kernel_id","hostname","poe_version","records","sessions","dropped",
 * "current"}], and in a log of schema 3 also "written", "removed",
 * "produced", "lost" (produced - written - dropped: records that never
 * reached the file) and "ended" (the clean end's wall time), each null
 * when not known.  Counting costs a pass over each run's index entries.
 * A new reference; NULL with the message in err on failure.  Any thread.
 */
json_t *poe__tracelog_runs(poe__tracelog *t, char *err, size_t errlen);

/*
 * The pid of run's process, into *ret_pid: what a reader printing POE's
 * text lines ("=== PID === ...") needs, and a cheap check that the run
 * exists.  Returns 0; -EINVAL (t or ret_pid NULL); -ENOENT when the log
 * has no such run; -ENOMEM, or -EIO when the runs cannot be read; the
 * failures with the message in err.  Any thread.
 */
int poe__tracelog_run_pid(poe__tracelog *t, int64_t run, int64_t *ret_pid, char *err,
                          size_t errlen);

/*
 * Called by a walk once per item, in order, with ctx as given and the
 * item as an object borrowed for the call (json_incref it to keep it).
 * Returns 0 to go on; anything else stops the walk, which then returns
 * that value, with err as fn left it.  fn runs on the walk's thread and
 * must not close the log.
 */
typedef int (*poe__tracelog_walk_fn)(void *ctx, json_t *item);

/*
 * Hands each record q selects to fn, as poe__tracelog_query's objects,
 * in q's order, from one snapshot, without holding them all: for readers
 * that print a log of any size (poe-trace records).  q's page applies
 * when q->page.limit > 0; with limit 0 every selected record is walked.
 * The walk, fn's time included, stops at the query deadline (10 s).
 * Returns 0 once every record was handed over, fn's non-zero return, or
 * with the message in err: -EINVAL (t, q or fn NULL), -ENOMEM, -EIO (the
 * log cannot be read, the deadline passed, the readers were cancelled).
 * Any thread.
 */
int poe__tracelog_walk_records(poe__tracelog *t, const poe__trace_query *q,
                               poe__tracelog_walk_fn fn, void *ctx, char *err, size_t errlen);

/*
 * The lineage of queue item event_id in run (0: the current run): the
 * chain of posts that led to it and what its dispatch caused, read from
 * the records' event ids (tracelog-lineage.c says how, and its bounds):
 * {"run", "event_id", "event": NODE, "ancestors": [NODE + "posted_from",
 * nearest first], "root": why the chain ends, "depth", "limit", "nodes",
 * "truncated", "records_read"}.  A NODE is {"event_id", "event",
 * "session", "sender", "timer", "state" ("dispatched", "discarded",
 * "pending", "unknown"), "enqueue", "dispatch"} (records as
 * poe__tracelog_query gives them; dispatch null unless dispatched); the
 * event's NODE and its descendants carry "children", depth levels down
 * (0 to 16), at most max_nodes nodes in all; truncated says a bound cut
 * the answer.  A new reference; NULL with *ret_errno and the message in
 * err: -ENOENT (the run holds no enqueue record of event_id),
 * -EPROTONOSUPPORT (a run of an older log, without event ids), -EIO (the
 * read failed or ran past its deadline), -ENOMEM.  Any thread.
 */
json_t *poe__tracelog_lineage(poe__tracelog *t, int64_t run, int64_t event_id, int depth,
                              size_t max_nodes, int *ret_errno, char *err, size_t errlen);

/*
 * The same for the queue item trace record id belongs to (in its run):
 * the one its event id names (an enqueue, dispatch, return or discard
 * record), else the one whose dispatch was open when it was made (a
 * refcount change, a die, a session started by a handler...).  The
 * answer adds "record" and "via" (which of the two).  -ENOENT also for
 * no such record, or one made outside any dispatch.  Any thread.
 */
json_t *poe__tracelog_record_lineage(poe__tracelog *t, int64_t record, int depth,
                                     size_t max_nodes, int *ret_errno, char *err, size_t errlen);

/*
 * Hands fn each session run's records mention, by id:
 * {"run","session","first_seen","last_seen","records"} (wall times, and
 * how many of the run's records in the file are about it).  Returns as
 * poe__tracelog_walk_records; a run the log does not hold has no
 * sessions.  Any thread.
 */
int poe__tracelog_walk_sessions(poe__tracelog *t, int64_t run, poe__tracelog_walk_fn fn,
                                void *ctx, char *err, size_t errlen);

/* j as the JSON Lines export writes each record: compact, on one line
 * (no newline added), reals at full precision.  A reader that prints
 * objects as JSON lines uses it, so that its lines are the export's byte
 * for byte.  Borrows j.  A malloc'd string (its length in *ret_len when
 * that is not NULL) for the caller to free; NULL for a NULL j or when out
 * of memory.  Reentrant. */
char *poe__tracelog_json_text(json_t *j, size_t *ret_len);

/*
 * Exports of what q selects (paging ignored), as streams: format "jsonl",
 * "csv", "chrome" (Chrome trace JSON that Perfetto opens: one track per
 * session, dispatches as complete events, arrows from each post to its
 * dispatch), "otlp" (OpenTelemetry OTLP/JSON, one TracesData per line:
 * dispatches and posts as spans) or "sqlite" (a consistent copy of the
 * whole database file).
 *
 * The body is produced as it is read, from a read cursor over one
 * snapshot of the log, in memory that does not grow with the records (a
 * buffer of the record being handed out, SQLite's page cache, and the
 * pairing state of chrome and otlp, capped: tracelog-internal.h says at
 * what and what happens past it), in time linear in them.  The SQLite
 * copy is made into an unlinked temporary file when the export opens and
 * read from there.  Every read, and SQLite while it steps, checks for a
 * stop: poe__tracelog_cancel_readers, poe__tl_export_cancel, or the
 * export's deadline (EXPORT_DEADLINE_MS from its open; it holds a read
 * snapshot, which keeps the writer's checkpoints from finishing).
 *
 * An export is read by one thread at a time (any thread, in turn); only
 * poe__tl_export_cancel may be called from another while it is read.
 */
typedef struct poe__tl_export poe__tl_export;

/* Opens an export: the format checked, the snapshot taken, the query
 * prepared and its first record read (so a log that cannot be read
 * fails here, before anything is sent), the copy made for "sqlite".
 * *ret is the caller's, to poe__tl_export_close.  q is only read during
 * the call.  0, or -EINVAL (unknown format), -EIO, -ENOMEM, -ECANCELED
 * (the log is closing) with err. */
int poe__tracelog_export_open(poe__tracelog *t, const char *format, const poe__trace_query *q,
                              poe__tl_export **ret, char *err, size_t errlen);
/* Copies the body's next bytes into buf: up to max, fewer only at its
 * end.  Returns how many (> 0), 0 at the end, or -errno once it failed
 * or was stopped: -ECANCELED (stopped or cancelled), -ETIMEDOUT (past
 * its deadline), -EIO, -ENOMEM, and
 * poe__tl_export_error says why.  Bytes read before a failure are
 * returned first; the failure is the next call's answer, and every one's
 * after. */
ssize_t poe__tl_export_read(poe__tl_export *x, char *buf, size_t max);
/* Makes the export stop at its next check (its current read, if one
 * runs, fails with -ECANCELED).  Any thread. */
void poe__tl_export_cancel(poe__tl_export *x);
/* Why it failed (valid until the close), or NULL while it has not. */
const char *poe__tl_export_error(const poe__tl_export *x);
/* The body's Content-Type, and a file name for it ("poe-trace.csv"):
 * static strings. */
const char *poe__tl_export_content_type(const poe__tl_export *x);
const char *poe__tl_export_filename(const poe__tl_export *x);
/* The body's length when known before it is read (the SQLite copy's),
 * else -1. */
int64_t poe__tl_export_size(const poe__tl_export *x);

/* What an export did so far: records read, bytes handed out, and what
 * chrome and otlp could not pair (0 for the others). */
typedef struct poe__tl_export_counts {
        uint64_t records, bytes;
        uint64_t unreturned;     /* dispatches whose return was not in the selection */
        uint64_t undispatched;   /* posts whose dispatch was not */
        uint64_t untracked;      /* posts past the pending posts' cap: not paired */
        uint64_t events_dropped; /* otlp span events past its caps (droppedEventsCount) */
} poe__tl_export_counts;
void poe__tl_export_get_counts(const poe__tl_export *x, poe__tl_export_counts *ret);
/* Ends the export: the cursor, its snapshot and its memory go.  Takes
 * NULL. */
void poe__tl_export_close(poe__tl_export *x);

/*
 * The whole export at once, read from the stream into memory: for tests
 * and the fuzzer, whose selections are small (the inspector and poe-trace
 * stream).  For "sqlite" *ret_body is NULL and *ret_fd an open
 * descriptor of an unlinked file at offset 0, *ret_len bytes long, that
 * the caller closes; for the others *ret_fd is -1 and *ret_body is
 * malloc'd (NUL-terminated), for the caller to free.  *ret_content_type
 * is a static string.  Returns 0, -EINVAL (unknown format), -EIO, -ENOMEM
 * or -ECANCELED, with err.  Any thread.
 */
int poe__tracelog_export(poe__tracelog *t, const char *format, const poe__trace_query *q,
                         char **ret_body, int *ret_fd, size_t *ret_len,
                         const char **ret_content_type, char *err, size_t errlen);

#endif
