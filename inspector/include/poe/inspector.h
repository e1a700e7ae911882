/*
 * libpoe-inspector: a running kernel in the browser.
 *
 * An HTTP/JSON API (/api/v1/...), a SQLite trace log with exports, and
 * Prometheus metrics, served from the same process as the kernel.  The
 * HTTP server runs on a few threads of its own (one polling thread for
 * every connection, a small pool for the trace log's reads, a clock for
 * deadlines) and never touches kernel structures: live state is built on
 * the kernel's thread, between two dispatches (poe_kernel_run_in_loop),
 * and when the kernel does not come round in time the answer says what
 * it is busy with instead.
 *
 * Link with `pkg-config --libs libpoe-inspector` (libmicrohttpd, jansson
 * and sqlite3 come with it; libpoe itself needs none of them).
 */
#ifndef POE_INSPECTOR_H
#define POE_INSPECTOR_H

#include <poe/poe.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct poe_inspector poe_inspector;

/**
 * The groups the trace log records unless told otherwise: the events
 * (each post, dispatch and return), the sessions' lives and the signals,
 * which answer "what happened, to whom, and why did it stop" for a few
 * records per event.  Left out: TRACE_FILES (a record for every wait of
 * the loop, so thousands a second in a busy program), TRACE_REFCNT (two
 * per event; the live refcounts are in /api/v1/sessions), TRACE_RETVALS,
 * TRACE_PROFILE and TRACE_DESTROY.  Ask for more with the options'
 * trace_groups or POE_TRACE_DB_GROUPS, or switch a group on live.
 */
#define POE_INSPECTOR_DEFAULT_GROUPS (POE_TRACE_EVENTS | POE_TRACE_SESSIONS | POE_TRACE_SIGNALS)

/** Zero it and fill in what you need; NULL/0 fields take the defaults. */
typedef struct poe_inspector_options {
        /* "HOST:PORT"; default "127.0.0.1:8080".  Port 0 takes a free
         * port (see poe_inspector_port).  A host that is not a loopback
         * address is refused unless allow_remote is set. */
        const char *address;
        int allow_remote;
        /* The token mutating endpoints (trace switches, signals) require
         * in an "Authorization: Bearer TOKEN" header.  NULL: they answer
         * 403 and the page says it is read-only. */
        const char *token;
        /* The trace log's SQLite file.  NULL: poe-trace-<pid>.db in the
         * working directory; "" : no trace log. */
        const char *trace_db;
        /* The trace groups recorded in the log, whatever the text lines
         * show (groups switched on for the text lines are recorded too).
         * 0: POE_INSPECTOR_DEFAULT_GROUPS. */
        unsigned trace_groups;
        /* Records the kernel may hand the writer before it drops (and
         * counts) them.  0: 65536. */
        size_t ring_size;
        /* How long a request waits for the kernel's thread before the
         * answer reports it busy.  0: 1000 ms. */
        int answer_timeout_ms;
        /* Where the web page's files are served from, instead of the copy
         * built into the library (for developing the page).  NULL: built in. */
        const char *web_root;
        /* The most the trace log's file (with its WAL) may take, in bytes:
         * past it, its oldest records (and runs left without any) are
         * removed, and counted.  0: 256 MiB, a few million records,
         * hours of a busy program's history, and little on any disk.  At
         * least 1 MiB (1 << 20), else -EINVAL. */
        uint64_t trace_db_max;
        /* Records older than this many seconds (by the kernel's clock,
         * against the newest record) are removed too.  0: no age limit. */
        unsigned trace_db_max_age;
} poe_inspector_options;

/**
 * Starts an inspector on kernel k.  Call it on the kernel's thread.  The
 * address, the URL and the trace log's path go to stderr in one line
 * ("poe-inspector: http://127.0.0.1:8080/ (trace log poe-trace-42.db)").
 * Returns 0 and the inspector in *ret, or -EINVAL (bad options or
 * address), -EPERM (remote address without allow_remote), -EADDRINUSE,
 * -ENOMEM, -EIO (the server could not start).  A trace log that cannot
 * be opened is not fatal: the inspector runs, the kernel summary says why
 * (trace_log.error) and counts the records dropped meanwhile, and the log
 * is tried again after 0.5 s, then at doubling intervals up to 5 s, until
 * it opens (a directory made, a file in the way removed).
 *
 * With OTEL_EXPORTER_OTLP_ENDPOINT (requests to ENDPOINT/v1/traces) or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as is) in the environment, as the
 * OpenTelemetry SDKs read them, the inspector also sends the trace log's
 * spans to that collector while the program runs (OTLP/HTTP, JSON; plain
 * http:// only), from a thread of its own: OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY,
 * OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE are honoured
 * (and their _TRACES_ forms); OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none turn it off.  An endpoint it cannot use is not
 * fatal: stderr and the kernel summary (otlp_push.error) say why.
 * poe_inspector_stop sends what is left, for at most 5 s.
 */
POE_EXPORT int poe_inspector_start(poe_kernel *k, const poe_inspector_options *opts, poe_inspector **ret);

/**
 * Starts an inspector as the environment asks: POE_INSPECTOR=HOST:PORT
 * (nothing happens without it: returns 0 and *ret NULL),
 * POE_INSPECTOR_TOKEN or POE_INSPECTOR_TOKEN_FILE=path (the token is the
 * file's first line, blanks and line end stripped; the file wins over
 * POE_INSPECTOR_TOKEN; one that cannot be read or holds no token is
 * refused, as below), POE_TRACE_DB=path, POE_TRACE_DB_GROUPS=list (see
 * poe_inspector_parse_groups), POE_INSPECTOR_REMOTE=1,
 * POE_TRACE_DB_MAX=bytes (a K, M, G or T suffix multiplies by 1024,
 * 1024^2, ...: "256M") and POE_TRACE_DB_MAX_AGE=seconds (an s, m, h or d
 * suffix: "7d"; 0: none).  A value it cannot use is refused: -EINVAL,
 * with the variable and what it expects on stderr (a POE_TRACE_DB_GROUPS
 * that names no trace group or an unknown one, too).
 */
POE_EXPORT int poe_inspector_start_from_env(poe_kernel *k, poe_inspector **ret);

/**
 * Parses a comma-separated list of trace groups into *ret: names as POE
 * spells them ("TRACE_EVENTS", "POE_TRACE_EVENTS") or as the page shows
 * them ("events"), any case, plus "default" (POE_INSPECTOR_DEFAULT_GROUPS)
 * and "all".  Returns 0, or -EINVAL for an unknown name, an ASSERT_
 * group, or a list that names nothing.
 */
POE_EXPORT int poe_inspector_parse_groups(const char *list, unsigned *ret);

/**
 * The trace groups the log records now: its own (trace_groups) and every
 * group switched on for the text lines, of those compiled in.  0 without
 * a trace log.  Call it on the kernel's thread.
 */
POE_EXPORT unsigned poe_inspector_recorded_groups(const poe_inspector *in);

/** The port the server listens on (the real one when 0 was asked for). */
POE_EXPORT int poe_inspector_port(const poe_inspector *in);

/** The base URL, "http://127.0.0.1:PORT/". */
POE_EXPORT const char *poe_inspector_url(const poe_inspector *in);

/** The trace log's path, or NULL without one. */
POE_EXPORT const char *poe_inspector_trace_db(const poe_inspector *in);

/**
 * Stops the server, flushes the trace log and frees everything.  Call it
 * on the kernel's thread, before poe_kernel_free (a handler may call it,
 * even one the kernel is stuck in).  It returns within a second whatever
 * the server is doing: requests still waiting (for the kernel, for trace
 * records) are answered 503, running queries and exports are
 * interrupted, connections are closed.  The log's totals go to
 * stderr in one line ("poe-inspector: trace log PATH: N records produced,
 * N written, N dropped, N removed"; removed: what the log's bounds took
 * out of the file since, counted among the written).  Takes NULL;
 * returns NULL.
 */
POE_EXPORT poe_inspector *poe_inspector_stop(poe_inspector *in);

#ifdef __cplusplus
}
#endif

#endif
