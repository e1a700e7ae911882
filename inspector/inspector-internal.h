/*
 * The inspector's internal interfaces.  Three parts, three threads:
 *
 *  http.c       the HTTP server (libmicrohttpd's thread): parses and
 *               routes requests, serves the page and the trace log, hands
 *               live-state requests to the kernel's thread and waits for
 *               them with a deadline, and builds every reply;
 *  api.c        live state as JSON, built on the kernel's thread from the
 *               peek API (never from any other thread);
 *  tracelog*.c  the trace log: a sink on the kernel's thread that copies
 *               records into a bounded ring, and a writer thread that
 *               drains the ring into SQLite; queries and exports read the
 *               database through their own connections, from any thread.
 */
#ifndef POE_INSPECTOR_INTERNAL_H
#define POE_INSPECTOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "poe/inspector.h"

/* ---- request parameters (http.c parses, api.c and tracelog.c read) ---- */

#define POE__MAX_PARAMS 16

typedef struct poe__params {
        int n;
        struct {
                const char *key;
                const char *value;
        } kv[POE__MAX_PARAMS];
} poe__params;

/* A parameter's value, or NULL when absent. */
const char *poe__param(const poe__params *p, const char *key);

/*
 * Reads an integer parameter into *ret (dflt when absent).  Returns 0, or
 * -EINVAL when present but not an integer in [min, max]: the caller
 * answers 400 and names the parameter.
 */
int poe__param_int(const poe__params *p, const char *key, int64_t dflt, int64_t min, int64_t max,
                   int64_t *ret);

/* A session id from n bytes at s: decimal digits only (no sign, no
 * spaces), within 64 bits.  Returns 0, or -EINVAL. */
int poe__parse_sid(const char *s, size_t n, poe_sid *ret);

/* Paging, the same for every list: ?offset=N&limit=N (limit 1..1000,
 * default 100). */
typedef struct poe__page {
        int64_t offset, limit;
} poe__page;

int poe__param_page(const poe__params *p, poe__page *ret);

/* The "page" object of the envelope: {"offset","limit","total"}. */
json_t *poe__page_json(const poe__page *pg, size_t total);

/* ---- the trace log (tracelog.c) ---- */

typedef struct poe__tracelog poe__tracelog;

/*
 * Opens (creating or appending to) the SQLite trace log at path and
 * starts its writer thread; a new row in `runs` describes this run.
 * ring_size records may wait for the writer before new ones are dropped
 * and counted.  On failure returns -errno and a message in err; the
 * caller runs without a log and shows the message.
 */
int poe__tracelog_open(const char *path, size_t ring_size, poe_kernel *k, poe__tracelog **ret,
                       char *err, size_t errlen);

/*
 * The same, for a log that must come back by itself: a database that
 * cannot be opened, or is refused (a path under a file or in a missing
 * directory, a file that is not a database, someone else's database), is
 * no failure.  The log starts without it: the status names the fault,
 * the records are dropped and counted, and the writer tries again after
 * RETRY_MS, then at doubling intervals up to OPEN_RETRY_MAX_MS, until the
 * fault is gone and the log opens.  Returns 0 with the first try's
 * message in err ("" when it opened), or -EINVAL, -ENOMEM or a thread
 * that cannot start, as poe__tracelog_open.
 */
int poe__tracelog_open_retrying(const char *path, size_t ring_size, poe_kernel *k,
                                poe__tracelog **ret, char *err, size_t errlen);

/*
 * The log's bounds (tracelog-bound.c): the writer keeps the file (its
 * pages in use and its WAL) within max_bytes (0: POE__TRACE_DB_MAX_DEFAULT;
 * less than POE__TRACE_DB_MAX_MIN is -EINVAL) and removes records older
 * than max_age seconds (0: no age bound), oldest first.  Called on the
 * kernel's thread before records flow (the inspector calls it before it
 * adds the sink; tests, to use small bounds); the writer applies it from
 * its next batch on.  0 or -EINVAL.
 */
/* 256 MiB: about three million records (some 80 bytes each with their
 * indexes, bench/trace-bound says), the last hour of a program making a
 * thousand a second and days of a quiet one: the history a person
 * debugging looks back over, still quick to query and to copy, and
 * small on any disk the program runs on. */
#define POE__TRACE_DB_MAX_DEFAULT (256ull << 20)
#define POE__TRACE_DB_MAX_MIN     (1ull << 20)
#define POE__TRACE_DB_MAX_MAX     (1ull << 50)
#define POE__TRACE_DB_AGE_MAX     (100ull * 366 * 86400)
int poe__tracelog_set_bounds(poe__tracelog *t, uint64_t max_bytes, uint64_t max_age);

/* POE_TRACE_DB_MAX's syntax: digits, then optionally K, M, G or T
 * (binary: 1K = 1024), from POE__TRACE_DB_MAX_MIN to _MAX.  0 or
 * -EINVAL. */
int poe__inspector_parse_size(const char *s, uint64_t *ret);
/* POE_TRACE_DB_MAX_AGE's: digits, then optionally s, m, h or d, at most
 * POE__TRACE_DB_AGE_MAX seconds; 0 means none.  0 or -EINVAL. */
int poe__inspector_parse_age(const char *s, uint64_t *ret);

/* For tests only: the SQLite VFS the writers of logs opened from now on
 * use (NULL: the default), so a test can fail their writes on purpose. */
void poe__tracelog_set_vfs(const char *name);

/* The kernel sink (poe_trace_sink_fn): runs on the kernel's thread,
 * copies the record into the ring, never blocks. */
int poe__tracelog_sink(void *ctx, const poe_trace_record *r);
/* Its slot function (poe_trace_slot_fn): lends the kernel the ring's
 * room, so that the frequent records are written there in place.  Add
 * both with poe_kernel_trace_sink_add_slots. */
void poe__tracelog_slot(void *ctx, poe_trace_record **slot);

/* Flushes what the ring holds and stops the writer; the status stays
 * readable, final.  Takes a stopped log. */
void poe__tracelog_stop(poe__tracelog *t);

/* Stops the log if it runs, closes the database, frees it all. */
void poe__tracelog_close(poe__tracelog *t);

/* Ends every read of the log in progress (queries, exports) at its next
 * progress check, and every later one at its first: for an owner that is
 * stopping and must not wait for them.  Any thread. */
void poe__tracelog_cancel_readers(poe__tracelog *t);
/* For tests: a query's deadline in ms from its start (0: the default,
 * 10 s; negative: already past). */
void poe__tracelog_set_query_deadline(poe__tracelog *t, int64_t ms);

/*
 * Opens an existing trace log only to read it (tracelog-readonly.c): no
 * writer thread, no new run, no schema change, nothing created.  The
 * handle serves poe__tracelog_query, _runs and _export, with the newest
 * run as the current one; poe__tracelog_close frees it.  -ENOENT (and
 * other -errno from stat) for a missing file, -EINVAL for a file that is
 * not a libpoe trace log, -EPROTONOSUPPORT for a schema newer than this
 * reader's (versions 1 and 2 are read as they are);
 * the message in err starts with the path.
 */
int poe__tracelog_open_readonly(const char *path, poe__tracelog **ret, char *err, size_t errlen);
/* The absolute path readers open, and the current run's id (0: none). */
const char *poe__tracelog_path(const poe__tracelog *t);
int64_t poe__tracelog_run_id(const poe__tracelog *t);

/* {"path", "run_id", "records_produced", "records_written", "records_pending",
 *  "dropped": {"TRACE_EVENTS": n, ...}, "dropped_total",
 *  "removed": {"TRACE_EVENTS": n, ...}, "removed_total", "removed_earlier",
 *  "runs_removed", "size_bytes", "max_bytes", "max_age": null|seconds,
 *  "error": null|"...", "files_started": n, "file_note": null|"..."}
 * produced = written + dropped_total + pending; removed (this run's
 * records the bounds took out of the file) is counted among the written.
 * removed_earlier: records of earlier runs removed, runs_removed: their
 * rows.  files_started counts the new files started because the database
 * was deleted or replaced under the writer, and file_note says when that
 * last happened.  Thread-safe. */
json_t *poe__tracelog_status(poe__tracelog *t);

/* What a query or an export selects (every field optional: zero/NULL
 * means no filter). */
typedef struct poe__trace_query {
        double since, until;     /* wall time range, epoch seconds */
        poe_sid session;         /* 0: any */
        bool has_session;
        unsigned groups;         /* 0: any */
        const char *event;       /* exact event name */
        const char *kind;        /* exact record kind */
        int64_t after_id;        /* records with id > after_id (for tails) */
        int64_t run_id;          /* 0: the current run */
        poe__page page;
        bool descending;         /* newest first */
} poe__trace_query;

/* Parses a query from request parameters: since, until, session, group
 * (a name like TRACE_EVENTS or a comma list), event, kind, after, run,
 * offset, limit, order=asc|desc.  Returns 0 or -EINVAL with the bad
 * parameter named in err. */
int poe__trace_query_parse(const poe__params *p, poe__trace_query *q, char *err, size_t errlen);

/* The records a query selects, as {"records": [...], "total": n}: each
 * record {"id","run","mono_ns","wall","group","prefix","kind","session",
 * "event","sender","refcount","queue","message"}.  Thread-safe (its own
 * read-only connection).  NULL with err on failure. */
json_t *poe__tracelog_query(poe__tracelog *t, const poe__trace_query *q, char *err,
                            size_t errlen);

/* The runs recorded in the log: [{"id","pid","started","kernel_id",
 * "hostname","poe_version","records","sessions","dropped","current"}],
 * and in a log of schema 3, "written", "removed", "produced", "lost"
 * (produced - written - dropped: records that never reached the file)
 * and "ended" (the clean end's wall time), each null when not known. */
json_t *poe__tracelog_runs(poe__tracelog *t, char *err, size_t errlen);

/*
 * An export of what q selects (paging ignored): format "jsonl", "csv",
 * "chrome" (Chrome trace JSON that Perfetto opens: one track per session,
 * dispatches as complete events, arrows from each post to its dispatch),
 * "otlp" (OpenTelemetry OTLP/JSON, one TracesData per line: dispatches
 * and posts as spans) or "sqlite" (a consistent copy of the whole
 * database file).  For "sqlite" *ret_body is NULL and *ret_fd an open
 * descriptor of an unlinked file at offset 0, *ret_len bytes long, that
 * the caller closes (MHD_create_response_from_fd does); for the others
 * *ret_fd is -1 and *ret_body is malloc'd, for the caller to free.
 * Returns 0, -EINVAL (unknown format), -EIO with err (-ENOMEM).
 */
int poe__tracelog_export(poe__tracelog *t, const char *format, const poe__trace_query *q,
                         char **ret_body, int *ret_fd, size_t *ret_len,
                         const char **ret_content_type, char *err, size_t errlen);

/* ---- live state (api.c, on the kernel's thread only) ---- */

/*
 * Builds the answer to GET /api/v1/<path> from the kernel's live state.
 * path is what follows "/api/v1/" ("kernel", "sessions", "sessions/7",
 * "sessions/7/reasons", "why", "tree", "queue", "timers", "watchers",
 * "signals", "aliases", "extrefs").  On success returns 200 and sets
 * *ret_data (and *ret_page for lists, else NULL).  On failure returns an
 * HTTP status (400, 404) and a message in err.  Lists are paged with
 * poe__param_page and filtered as each endpoint documents.
 */
int poe__api_get(poe_kernel *k, poe_inspector *in, const char *path, const poe__params *p,
                 json_t **ret_data, json_t **ret_page, char *err, size_t errlen);

/* The kernel summary's extra fields that the inspector owns (trace log
 * status, uptime, URL): api.c asks http.c/inspector.c for them. */
json_t *poe__inspector_summary_extra(poe_inspector *in);
/* ["TRACE_EVENTS", ...] for a set of groups; NULL when out of memory. */
json_t *poe__inspector_groups_json(unsigned mask);

/* Prometheus text for GET /metrics, built on the kernel's thread.
 * Returns a malloc'd string. */
char *poe__metrics_text(poe_kernel *k, poe_inspector *in);
/* /metrics while the kernel is stuck: from what it publishes atomically
 * (a), how long it has been stuck, and the trace log's counters; any
 * thread. */
char *poe__metrics_stuck_text(poe_inspector *in, const poe_kernel_activity *a, double since);

#endif
