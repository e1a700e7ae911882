/*
 * The inspector's internal interfaces.  Its parts, and the threads they
 * run on (a fixed set, however many connections there are):
 *
 *  http.c       the HTTP server: libmicrohttpd's one polling thread
 *               (epoll) parses every request, checks it against its
 *               route (routes.c: one table of methods, paths, needs and
 *               threads), answers the cheap ones at once and suspends
 *               the others until their answer is ready; it sends every
 *               reply (http.h has the pipeline);
 *  http-work.c  where the rest runs: a pool of 4 workers for the trace
 *               log's reads, the kernel's thread for live state (through
 *               poe_kernel_run_in_loop), and a clock thread for every
 *               deadline (the kernel's answer, long polls, each
 *               connection's request, the connection limit);
 *  api.c        live state as JSON, built on the kernel's thread from the
 *               peek API (never from any other thread);
 *  the trace log, a library of its own (libpoe-tracelog, poe/tracelog.h,
 *               which poe-trace links too): a sink on the kernel's thread
 *               that copies records into a bounded ring, and a writer
 *               thread that drains the ring into SQLite; queries and
 *               exports read the database through their own connections,
 *               from any thread.  The request parameters (poe__params)
 *               and the JSON and UTF-8 helpers (json-util.c) are that
 *               library's too.
 */
#ifndef POE_INSPECTOR_INTERNAL_H
#define POE_INSPECTOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "poe/inspector.h"
#include "poe/tracelog.h"

/* ---- the trace log's settings (inspector.c reads them from the environment) ---- */

/* POE_TRACE_DB_MAX's syntax: digits, then optionally K, M, G or T
 * (binary: 1K = 1024), from POE__TRACE_DB_MAX_MIN to _MAX.  0 or
 * -EINVAL. */
int poe__inspector_parse_size(const char *s, uint64_t *ret);
/* POE_TRACE_DB_MAX_AGE's: digits, then optionally s, m, h or d, at most
 * POE__TRACE_DB_AGE_MAX seconds; 0 means none.  0 or -EINVAL. */
int poe__inspector_parse_age(const char *s, uint64_t *ret);

/* ---- lints (lints.c, on the kernel's thread only) ---- */

enum {
        POE__LINT_IDLE_HELD,
        POE__LINT_SLOW_HANDLER,
        POE__LINT_QUEUE_GROWS,
        POE__LINT_TIMERS_GROW,
        POE__LINT_POSTBACK_UNUSED,
        POE__LINT_TIMER_IN_PAST,
        POE__LINT_KINDS
};

/* Thresholds: seconds, but past, a count of timers. */
typedef struct poe__lint_cfg {
        double idle, slow, grow, postback, past;
} poe__lint_cfg;

/* One finding: since when (epoch seconds), the number it is about
 * (seconds idle or slowest, the count that grows, ...), and why. */
typedef struct poe__lint {
        int kind;
        poe_sid sid;
        double since, value;
        char evidence[320];
} poe__lint;

struct poe__lints;
void poe__lint_cfg_default(poe__lint_cfg *c);
int poe__lint_cfg_set(poe__lint_cfg *c, const char *name, const char *value);
int poe__lint_cfg_parse(poe__lint_cfg *c, const char *s);
const char *poe__lint_kind_name(int kind);
/* Takes a growth sample (at most one a second) and lists the findings
 * into *ret (free with poe__lints_release).  0, -ENOMEM or -EIO. */
int poe__lints_find(poe_inspector *in, poe_kernel *k, const poe__lint_cfg *cfg,
                    poe__lint **ret, size_t *ret_n);
void poe__lints_release(poe__lint *v);
void poe__lints_free(struct poe__lints *l);

/* ---- live state (api.c, on the kernel's thread only) ---- */

/*
 * Builds the answer to GET /api/v1/<path> from the kernel's live state,
 * through the route table as an HTTP request would go (routes.c; only
 * the routes that read live state answer here).  On the kernel's thread.
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
