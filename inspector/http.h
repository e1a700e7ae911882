/*
 * The inspector object and its HTTP server: the request pipeline.
 *
 * One pipeline serves every request (http.c): libmicrohttpd parses it
 * on its one polling thread, the route table (routes.c) says what it is
 * (method, path, whether it needs the token, a body, the trace log, a
 * same-site origin, and where its handler runs), the pipeline checks
 * all of that in one place, then runs the handler where the route says:
 *
 *  - POE__ON_SERVER: at once, on the polling thread (cheap work only:
 *    the page's files, the trace switches' state, errors);
 *  - POE__ON_POOL: on a worker of a small bounded pool (http-work.c):
 *    the trace log's queries, long polls and exports;
 *  - POE__ON_KERNEL: on the kernel's thread (poe_kernel_run_in_loop),
 *    between two dispatches: live state and its changes.
 *
 * A request that does not run at once is suspended (its connection
 * costs no thread while it waits) and resumed when its answer is ready,
 * or when a deadline answers for it: the clock thread (http-work.c)
 * keeps the kernel's answer timeout, the long polls' waits and the
 * deadline by which each connection's request must have arrived.
 */
#ifndef POE_INSPECTOR_HTTP_H
#define POE_INSPECTOR_HTTP_H

#include <pthread.h>
#include <sys/socket.h>

#include "inspector-internal.h"

struct MHD_Daemon;
struct MHD_Connection;
struct MHD_Response;

/* ---- limits (README "The inspector" gives them too) ---- */

/* Connections at once: this many, or half the process's descriptor
 * limit (RLIMIT_NOFILE) when that is lower, so the inspector never takes
 * the descriptors its program needs.  Past seven eighths of it, the
 * connections that have been waiting longest for their request are
 * closed to make room: idle connections cannot lock anyone out. */
#define POE__CONN_MAX 1000
/* Connections at once from one client address: a browser opens about
 * six, a scraper one; a client past it is refused at accept.  On
 * loopback every local client shares 127.0.0.1, so it bounds what one
 * local client can hold, not a local attacker (who has 127.0.0.0/8). */
#define POE__CONN_PER_ADDRESS 32
/* From a connection's start (or the end of its previous request) to
 * the whole of its next request, headers and body, in seconds: absolute,
 * however slowly the bytes come.  A connection past it is closed. */
#define POE__REQUEST_DEADLINE 10.0
/* Idle time (no byte either way) after which libmicrohttpd closes a
 * connection, in seconds: a client that stops reading its answer. */
#define POE__IDLE_TIMEOUT 30
/* Exports at once, from their start until their body is sent or their
 * client goes: each holds a read snapshot (which keeps the writer's
 * checkpoints from finishing) and EXPORT_AHEAD blocks (http-export.c). */
#define POE__MAX_EXPORTS 2
/* What an export hands libmicrohttpd at a time, filled on the pool. */
#define POE__EXPORT_BLOCK (64u << 10)
/* Workers of the pool: at most POE__MAX_EXPORTS of them fill exports'
 * blocks at once (one fill per export), so queries and long polls
 * always have two. */
#define POE__POOL_THREADS 4
/* Requests queued for the pool before more are refused with a 429. */
#define POE__POOL_QUEUE_MAX 64

/* ---- the pipeline ---- */

/* Where a route's handler runs (see the top of this file). */
typedef enum poe__where { POE__ON_SERVER, POE__ON_POOL, POE__ON_KERNEL } poe__where;

/* Methods, one bit each; GET answers HEAD too. */
#define POE__GET  1u
#define POE__PUT  2u
#define POE__POST 4u
#define POE__ANY  0xffu /* any method at all, unknown ones too */

/* What a route needs before its handler runs; the pipeline checks each
 * and answers for the handler when it is missing. */
#define POE__NEED_TOKEN     (1u << 0) /* Authorization: Bearer TOKEN: 403 without a token, 401 */
#define POE__NEED_SAME_SITE (1u << 1) /* not a cross-site request: 403 */
#define POE__NEED_BODY      (1u << 2) /* a JSON body, parsed into call->body: 413, 400 */
#define POE__NEED_LOG       (1u << 3) /* the trace log: 503 without one */

/*
 * An answer, built by whichever thread ran the handler and sent by the
 * polling thread.  Either a ready response (resp, with status), or the
 * JSON envelope's parts: status 200 with data (and page; with_log adds
 * the trace log's status), or an error status with err (and extra merged
 * into the error object; retry_after for a 429).  Status 0: close the
 * connection without an answer (out of memory making one).
 */
typedef struct poe__answer {
        int status;
        struct MHD_Response *resp;
        json_t *data, *page, *extra;
        bool with_log;
        bool retry_after;
        char err[512];
} poe__answer;

/* A handler's status for "not yet": a long poll that waits for records
 * (the pool parks it until records are written or its wait ends). */
#define POE__PARKED (-1)

struct request;
typedef struct poe__route poe__route;

/*
 * A request as a handler sees it.  Everything it reads is valid until it
 * returns; it answers through the reply helpers (http.c) and returns the
 * status, or POE__PARKED.  On the kernel's thread k is the kernel and the
 * call is a copy the job owns (params copied, no rq); elsewhere k is NULL.
 */
typedef struct poe__call {
        poe_inspector *in;
        poe_kernel *k;
        const poe__route *route;
        const poe__params *params;
        poe_sid sid;      /* the path's {id} */
        const char *name; /* the path's {id} or {name}, or what its * matched */
        size_t name_len;  /* its length (name is not NUL-terminated there) */
        json_t *body;     /* POE__NEED_BODY: the parsed body (the call owns it) */
        struct request *rq;
        /* A long poll's state between its runs. */
        bool polling;
        double until;
        int64_t seen;
        poe__answer ans;
} poe__call;

typedef int (*poe__handler)(poe__call *c);

/*
 * A route: the methods it answers, its path, where it runs, what it
 * needs, its handler, and (on the kernel's thread) the answer for when
 * the kernel does not come round within the answer timeout (NULL: a 503
 * saying what the kernel is busy with).  A path is literal segments,
 * "{id}" (a session id: a malformed one is a 400), "{name}" (any one
 * segment) and a final "*" (the rest, maybe empty).
 */
struct poe__route {
        unsigned methods;
        const char *path;
        poe__where where;
        unsigned needs;
        poe__handler fn;
        poe__handler stuck;
};

/*
 * The route for method and url (a path, no query).  On a match returns
 * it and fills *c's route, sid, name and name_len (name points into
 * url).  Under /api/ trailing slashes are ignored.  With no
 * route for the method but one for the path, returns NULL with *allowed
 * the methods that path answers and c->route the path's first route
 * (what a 405 needs: the same-site check); with none for the path, NULL,
 * *allowed 0 and c->route NULL.  *sid_ok is false when the path's {id} is not a session id.
 * O(routes).
 */
const poe__route *poe__route_find(const char *method, const char *url, poe__call *c,
                                  unsigned *allowed, bool *sid_ok);
/* The paths of the routes under prefix, without it, once each, joined
 * with ", " into buf (cut to size); returns the length they need. */
size_t poe__route_list(const char *prefix, char *buf, size_t size);
/* "GET", "PUT and POST", ... for a set of methods (a 405's message). */
const char *poe__route_methods_text(unsigned methods);

/* The reply helpers: each fills c->ans and returns the status it set
 * (0 when a response cannot be made).  reply_bytes steals body when mode
 * is MHD_RESPMEM_MUST_FREE, reply_response steals r, reply_ok steals
 * data and page, even on failure. */
int poe__reply_error(poe__call *c, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int poe__reply_ok(poe__call *c, json_t *data, json_t *page, bool with_log);
int poe__reply_text(poe__call *c, char *text);
/* Sets r (stolen) as c's answer, with the headers every body carries
 * (disposition may be NULL). */
int poe__reply_response(poe__call *c, unsigned status, struct MHD_Response *r,
                        const char *content_type, const char *disposition);
/* Turns an envelope answer into a ready response (resp), on any thread:
 * the pool seals its answers, the polling thread the kernel's. */
void poe__answer_seal(poe_inspector *in, poe__answer *a);
/* Frees what an answer holds. */
void poe__answer_clear(poe__answer *a);

/* The handlers, each where its route runs it. */
int poe__http_page(poe__call *c);          /* server: the page's files */
int poe__http_no_api(poe__call *c);        /* server: an /api/ path that names nothing */
int poe__http_groups(poe__call *c);        /* server: the trace groups' state */
int poe__http_trace(poe__call *c);         /* pool */
int poe__http_tail(poe__call *c);          /* pool, may park */
int poe__http_runs(poe__call *c);          /* pool */
int poe__http_lineage(poe__call *c);       /* pool: events/ID/lineage */
int poe__http_export(poe__call *c);        /* pool (http-export.c) */
int poe__http_stuck_kernel(poe__call *c);  /* clock: /api/v1/kernel, kernel stuck */
int poe__http_stuck_metrics(poe__call *c); /* clock: /metrics, kernel stuck */
int poe__http_busy(poe__call *c);          /* clock: any other, kernel stuck */
int poe__metrics(poe__call *c);            /* kernel: /metrics */
/* kernel: live state (api.c), one per endpoint, and its two changes */
int poe__api_kernel(poe__call *c);
int poe__api_sessions(poe__call *c);
int poe__api_session(poe__call *c);
int poe__api_reasons(poe__call *c);
int poe__api_why(poe__call *c);
int poe__api_tree(poe__call *c);
int poe__api_queue(poe__call *c);
int poe__api_timers(poe__call *c);
int poe__api_watchers(poe__call *c);
int poe__api_signals(poe__call *c);
int poe__api_aliases(poe__call *c);
int poe__api_extrefs(poe__call *c);
int poe__api_lints(poe__call *c);
int poe__api_debug_set(poe__call *c);
int poe__api_signal(poe__call *c);
/* api.c's 404 for a path under /api/v1/ that names nothing (listing what
 * does), and its 400 for a malformed session id (the n bytes at s):
 * the message in err, the status returned. */
int poe__api_no_such(const char *path, char *err, size_t errlen);
int poe__api_malformed_sid(const char *s, size_t n, char *err, size_t errlen);

/* ---- the inspector ---- */

/* One TCP connection (libmicrohttpd's socket context), while it waits
 * for its next request: in the clock's queue, oldest first. */
struct poe__conn;

/* An export being sent (http-export.c). */
struct poe__export;

/* How exports ended, for /metrics: their body sent whole, their client
 * gone first, cut at their deadline, cut by the stop, or cut by a fault
 * (the trace log's, memory). */
enum {
        POE__EXPORT_COMPLETE,
        POE__EXPORT_GONE,
        POE__EXPORT_DEADLINE,
        POE__EXPORT_STOPPED,
        POE__EXPORT_FAILED,
        POE__EXPORT_ENDS
};

struct poe_inspector {
        poe_kernel *k;
        poe_inspector_options opts;
        char *token;
        char *web_root;
        struct sockaddr_storage addr;
        socklen_t addr_len;
        int port;
        char url[96];
        double started;
        char loop_name[16]; /* the kernel's loop, for /metrics from any thread */
        /* The lints' thresholds and growth samples (lints.c; the samples
         * on the kernel's thread only). */
        poe__lint_cfg lint_cfg;
        struct poe__lints *lints;

        /* The trace log, or why there is none. */
        poe__tracelog *log;
        char *trace_path;
        char log_error[256];
        int sink_id;

        /* The live OTLP push (otlp-push.c), or NULL; why it did not
         * start, if it was asked for. */
        struct poe__otlp_push *push;
        char push_error[256];

        /* The server.  lock guards everything below that is not atomic:
         * the queues of waiting requests and connections, each request's
         * state, the pool's and the clock's. */
        struct MHD_Daemon *daemon;
        pthread_mutex_t lock;
        bool lock_ready;
        _Atomic bool stopping;
        _Atomic int refs;      /* the owner's and each job's in the kernel's queue */
        _Atomic int exports;   /* running, at most POE__MAX_EXPORTS */
        _Atomic uint64_t exports_ended[POE__EXPORT_ENDS];
        _Atomic int tails;     /* long polls waiting, at most MAX_TAILS */
        _Atomic int waiting_kernel; /* requests waiting for the kernel's thread */
        _Atomic int pool_busy; /* workers running a handler */

        /* Connections (http-work.c): every one open, those waiting for
         * their request in deadline order, and the limits. */
        struct poe__conn *conn_head, *conn_tail;
        int conns;         /* open and not being closed */
        int conn_max;      /* POE__CONN_MAX or half RLIMIT_NOFILE */
        int evict_at;      /* past it, the longest waiting are closed */
        _Atomic uint64_t conns_expired; /* closed at their request deadline */
        _Atomic uint64_t conns_evicted; /* closed to make room */

        /* The pool: a FIFO of requests, its workers. */
        pthread_cond_t pool_cv;
        bool pool_cv_ready;
        struct request *pool_head, *pool_tail;
        int pool_queued;
        /* Exports waiting for a worker to fill their next block (each at
         * most once), served before the requests. */
        struct poe__export *fill_head, *fill_tail;
        pthread_t workers[POE__POOL_THREADS];
        int n_workers;

        /* The clock: requests waiting for the kernel (deadline order, as
         * their timeout is one), parked long polls, and its thread. */
        pthread_cond_t clock_cv;
        bool clock_cv_ready;
        struct request *kwait_head, *kwait_tail;
        struct request *parked;
        pthread_t clock;
        bool clock_running;
        bool quit;

        /* libmicrohttpd's messages: how many in this window (http.c). */
        double log_window;
        unsigned log_in_window, log_left_out;

        /* "Busy since": the dispatch count last seen and when. */
        uint64_t seen_dispatches;
        double seen_at;
};

/* A request's place in the pipeline (in->lock). */
typedef enum rq_state {
        RQ_NEW,      /* being routed, on the polling thread */
        RQ_WAITING,  /* suspended: its handler runs elsewhere, or waits */
        RQ_LATE,     /* suspended: the clock is making its answer */
        RQ_ANSWERED, /* resumed with its answer, to be sent */
} rq_state;

/* Which queue a waiting request is in (in->lock). */
typedef enum rq_queue { RQ_NO_QUEUE, RQ_POOL, RQ_KERNEL, RQ_PARKED } rq_queue;

/*
 * One HTTP request: libmicrohttpd's per-request context, from its first
 * call to its completion (http.c allocates it, completed() frees it).
 * While it is RQ_WAITING its connection is suspended, so libmicrohttpd
 * neither calls nor frees it; whoever answers moves it to RQ_ANSWERED
 * and resumes the connection, once, under in->lock.
 */
struct request {
        poe_inspector *in;
        struct MHD_Connection *mc;
        rq_state state;
        rq_queue queue;
        struct request *prev, *next; /* in its queue */
        double deadline;             /* the kernel's answer, or a long poll's next look */
        struct poe__job *job;        /* waiting for the kernel's thread */
        poe__call call;
        poe__params params;
        char *body;
        size_t body_len;
        bool too_large;
        bool export_slot; /* holds one of POE__MAX_EXPORTS until it completes */
};

/* Answers a waiting request with what its call holds: RQ_ANSWERED, out
 * of its queue, resumed.  Under in->lock. */
void poe__request_finish(poe_inspector *in, struct request *rq);

/* What the pipeline counts, for /metrics (any thread). */
typedef struct poe__http_counts {
        int connections, connections_max, waiting_kernel, pool_busy, pool_queued, long_polls,
                exports;
        uint64_t expired, evicted;
        uint64_t exports_ended[POE__EXPORT_ENDS];
} poe__http_counts;
void poe__http_counts_get(poe_inspector *in, poe__http_counts *ret);

int poe__http_start(poe_inspector *in);
/* "HOST:PORT" or "[V6]:PORT" (numeric, or "localhost") into a socket
 * address, and whether it is a loopback one.  0 or -EINVAL. */
int poe__inspector_parse_address(const char *address, struct sockaddr_storage *ss,
                                 socklen_t *len, bool *loopback);
void poe__inspector_unref(poe_inspector *in);
/* Answers every waiting request, ends the pool's work (interrupting the
 * trace log's readers), stops the clock and the server: within a second
 * whatever they were doing.  On the kernel's thread. */
void poe__http_stop(poe_inspector *in);

/* ---- the work outside the polling thread (http-work.c) ---- */

/* The monotonic clock, in seconds: every deadline here runs on it. */
double poe__now_mono(void);

/* Starts the pool's workers and the clock; stops them.  0 or -ENOMEM. */
int poe__work_start(poe_inspector *in);
/* Stop, part one (under no lock): every waiting request answered 503,
 * the workers and the clock told to end.  Part two joins them. */
void poe__work_answer_all(poe_inspector *in);
void poe__work_join(poe_inspector *in);

/* Hands the request on, to the pool or to the kernel's thread, with its
 * connection suspended until the answer: 0.  Or answers it at once (the
 * inspector stopping, the pool's queue full, out of memory): the status
 * of the answer in rq->call.ans.  On the polling thread. */
int poe__work_to_pool(poe_inspector *in, struct request *rq);
int poe__work_to_kernel(poe_inspector *in, struct request *rq);
/* A request that completes: out of every queue, its kernel job (if it
 * still has one) let go.  On the polling thread. */
void poe__work_forget(poe_inspector *in, struct request *rq);
/* The records the trace log has written so far (-1: unknown): a parked
 * long poll looks again when it changes.  Any thread. */
int64_t poe__http_log_written(poe_inspector *in);
/* A 429 with Retry-After, for a limit on concurrent work. */
int poe__reply_too_many(poe__call *c, const char *what, int limit);

/* Connections: libmicrohttpd's notifications (start, close), the
 * request's arrival (it leaves the deadline queue) and its end (the
 * connection waits for its next request, with a new deadline). */
void poe__conn_started(poe_inspector *in, struct MHD_Connection *mc, void **socket_context);
void poe__conn_closed(poe_inspector *in, void **socket_context);
void poe__conn_arrived(poe_inspector *in, struct MHD_Connection *mc);
void poe__conn_idle(poe_inspector *in, struct MHD_Connection *mc);

/* ---- exports (http-export.c) ---- */

/* The next export whose block to fill, out of the queue and marked as
 * filling; NULL when none waits.  Under in->lock. */
struct poe__export *poe__export_next_fill(poe_inspector *in);
/* Fills e's next block from its stream (on a worker, under no lock),
 * then resumes its connection if it waited, queues the next fill, or
 * frees e if libmicrohttpd let go of it meanwhile. */
void poe__export_fill(struct poe__export *e);
/* At the stop: the queued fills will not run; their exports end, and
 * their connections are resumed.  Under in->lock, stopping set. */
void poe__export_stop_fills(poe_inspector *in);

/* The page, built in (web.c, generated from web/ at build time). */
typedef struct poe__asset {
        const char *path;
        const char *content_type;
        const unsigned char *data;
        size_t len;
} poe__asset;

const poe__asset *poe__asset_find(const char *path);

#endif
