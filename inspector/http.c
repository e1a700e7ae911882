/*
 * The HTTP server: libmicrohttpd (0.9.75, Debian 12's) in its
 * event-driven mode, one internal polling thread over epoll, and the one
 * request pipeline every request goes through (http.h describes it).
 *
 * A connection costs no thread: the polling thread parses requests,
 * checks them against their route (routes.c) and either answers at once
 * or suspends the connection and hands the request on, to the pool or to
 * the kernel's thread (http-work.c), which resume it with the answer.
 * Live state is never read here; when the kernel does not come round
 * within the answer timeout the clock answers 503 with what it is busy
 * with (the activity the kernel publishes atomically at each dispatch).
 *
 * Every reply is built by the reply helpers below into the call's
 * answer, on whichever thread ran the handler, and sent from here; every
 * error has a JSON body {"api":1,"error":{"status":N,"message":"..."}}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "json-util.h"
#include "poe/tracelog.h"

#define API_VERSION 1
#define MAX_BODY 65536
#define MAX_LONG_POLL 30.0
/* At most this many long polls (trace/tail with a wait) at once: each
 * runs its query again whenever records were written (http-work.c),
 * and with a filter no index serves sixty of them filled the CPU and
 * kept checkpoints from running. */
#define MAX_TAILS 8
/* What a 429 asks the client to wait, in seconds. */
#define RETRY_AFTER "2"

/* ---- replies ---- */

void poe__answer_clear(poe__answer *a)
{
        if (a->resp)
                MHD_destroy_response(a->resp);
        json_decref(a->data);
        json_decref(a->page);
        json_decref(a->extra);
        memset(a, 0, sizeof(*a));
}

int poe__reply_response(poe__call *c, unsigned status, struct MHD_Response *r,
                        const char *content_type, const char *disposition)
{
        MHD_add_response_header(r, "Content-Type", content_type);
        MHD_add_response_header(r, "Cache-Control", "no-store");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        if (disposition)
                MHD_add_response_header(r, "Content-Disposition", disposition);
        poe__answer_clear(&c->ans);
        c->ans.resp = r;
        c->ans.status = (int)status;
        return (int)status;
}

static int reply_bytes(poe__call *c, unsigned status, const char *content_type, void *body,
                       size_t len, enum MHD_ResponseMemoryMode mode, const char *disposition)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);

        if (!r) {
                if (mode == MHD_RESPMEM_MUST_FREE)
                        free(body);
                return MHD_NO;
        }
        return poe__reply_response(c, status, r, content_type, disposition);
}

static int reply_error_extra(poe__call *c, unsigned status, json_t *extra, const char *fmt,
                             va_list ap)
{
        poe__answer_clear(&c->ans);
        vsnprintf(c->ans.err, sizeof(c->ans.err), fmt, ap);
        c->ans.extra = extra;
        c->ans.status = (int)status;
        return (int)status;
}

int poe__reply_error(poe__call *c, int status, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = reply_error_extra(c, (unsigned)status, NULL, fmt, ap);
        va_end(ap);
        return r;
}

#define reply_error(c, status, ...) poe__reply_error((c), (status), __VA_ARGS__)

static int reply_error_with(poe__call *c, unsigned status, json_t *extra, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int reply_error_with(poe__call *c, unsigned status, json_t *extra, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = reply_error_extra(c, status, extra, fmt, ap);
        va_end(ap);
        return r;
}

/* The success envelope: {"api":1,"data":...,"page":...}, plus the trace
 * log's drop counts on every answer that shows the log (with_log). */
int poe__reply_ok(poe__call *c, json_t *data, json_t *page, bool with_log)
{
        poe__answer_clear(&c->ans);
        c->ans.data = data;
        c->ans.page = page;
        c->ans.with_log = with_log;
        c->ans.status = data ? 200 : 500;
        if (!data)
                snprintf(c->ans.err, sizeof(c->ans.err), "out of memory");
        return c->ans.status;
}

/* Prometheus' text format (steals text; NULL is out of memory). */
int poe__reply_text(poe__call *c, char *text)
{
        if (!text)
                return reply_error(c, 500, "out of memory");
        return reply_bytes(c, 200, "text/plain; version=0.0.4", text, strlen(text),
                           MHD_RESPMEM_MUST_FREE, NULL);
}

int poe__reply_too_many(poe__call *c, const char *what, int limit)
{
        reply_error(c, 429, "too many %s at once (at most %d); try again in %s s", what, limit,
                    RETRY_AFTER);
        c->ans.retry_after = true;
        return 429;
}

#define reply_too_many poe__reply_too_many

void poe__answer_seal(poe_inspector *in, poe__answer *a)
{
        static const char oom[] =
                "{\"api\":1,\"error\":{\"status\":500,\"message\":\"out of memory\"}}";
        json_t *env, *err;
        char *s;
        int status = a->status;

        if (a->resp || status <= 0)
                return;
        if (status == 200) {
                env = json_pack("{s:i, s:O}", "api", API_VERSION, "data", a->data);
                if (env && a->page)
                        json_object_set(env, "page", a->page);
                if (env && a->with_log)
                        json_object_set_new(env, "trace_log",
                                            in->log ? poe__tracelog_status(in->log)
                                                    : json_pack("{s:s}", "error",
                                                                in->log_error));
        } else {
                /* The message may quote the request (a path, a format, a
                 * JSON error), which need not be UTF-8: json_pack's "s"
                 * would refuse it and the reply would lose its error. */
                err = json_pack("{s:i, s:o*}", "status", status, "message",
                                poe__jstr(a->err));
                if (err && a->extra)
                        json_object_update(err, a->extra);
                env = json_pack("{s:i, s:o*}", "api", API_VERSION, "error", err);
        }
        s = env ? json_dumps(env, JSON_COMPACT) : NULL;
        json_decref(env);
        a->resp = s ? MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE)
                    : NULL;
        if (!a->resp) {
                /* Out of memory: a fixed 500, so a reply always goes out. */
                free(s);
                status = 500;
                a->resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
                                                          MHD_RESPMEM_PERSISTENT);
        }
        if (!a->resp) {
                a->status = 0;
                return;
        }
        MHD_add_response_header(a->resp, "Content-Type", "application/json");
        MHD_add_response_header(a->resp, "Cache-Control", "no-store");
        MHD_add_response_header(a->resp, "X-Content-Type-Options", "nosniff");
        if (a->retry_after && status == 429)
                MHD_add_response_header(a->resp, "Retry-After", RETRY_AFTER);
        json_decref(a->data);
        json_decref(a->page);
        json_decref(a->extra);
        a->data = a->page = a->extra = NULL;
        a->status = status;
}

/* Sends the answer (sealing it first); MHD_NO closes the connection. */
static enum MHD_Result send_answer(struct MHD_Connection *mc, poe_inspector *in, poe__answer *a)
{
        enum MHD_Result ret;

        poe__answer_seal(in, a);
        if (a->status <= 0 || !a->resp) {
                poe__answer_clear(a);
                return MHD_NO;
        }
        ret = MHD_queue_response(mc, (unsigned)a->status, a->resp);
        poe__answer_clear(a);
        return ret;
}

/* ---- a kernel that does not come round (on the clock's thread) ---- */

/* What a kernel that did not come round is doing, from what it
 * publishes atomically, and for how long its dispatch count has stood
 * still (at least the answer timeout it just let pass). */
static double stuck_since(poe_inspector *in, poe_kernel_activity *a)
{
        double t = poe__now_mono(), since;

        poe_kernel_activity_get(in->k, a);
        pthread_mutex_lock(&in->lock);
        if (a->dispatches != in->seen_dispatches || in->seen_at == 0) {
                in->seen_dispatches = a->dispatches;
                in->seen_at = t - in->opts.answer_timeout_ms / 1000.0;
        }
        since = t - in->seen_at;
        pthread_mutex_unlock(&in->lock);
        return since;
}

static json_t *busy_json(const poe_kernel_activity *a, double since)
{
        if (a->dispatching)
                return json_pack("{s:b, s:I, s:o*, s:f, s:I}", "dispatching", 1, "session",
                                 (json_int_t)a->session, "event", poe__jstr(a->event),
                                 "for_seconds", since, "dispatches",
                                 (json_int_t)a->dispatches);
        return json_pack("{s:b, s:I, s:f}", "dispatching", 0, "dispatches",
                         (json_int_t)a->dispatches, "for_seconds", since);
}

/* /api/v1/kernel while the kernel is stuck: 200, with responding false,
 * what it is stuck in and for how long, and what needs no kernel (the
 * trace log's status is thread-safe). */
int poe__http_stuck_kernel(poe__call *c)
{
        poe_inspector *in = c->in;
        poe_kernel_activity a;
        double since = stuck_since(in, &a);
        json_t *log = in->log ? poe__tracelog_status(in->log)
                              : json_pack("{s:n, s:s}", "path", "error",
                                          in->log_error[0] ? in->log_error : "no trace log");
        json_t *data = json_pack("{s:b, s:o*, s:i, s:s, s:I, s:s, s:b, s:o*, s:f, s:i}",
                                 "responding", 0, "busy", busy_json(&a, since), "pid",
                                 (int)getpid(), "kernel_id", poe_kernel_id(in->k),
                                 "events_dispatched", (json_int_t)a.dispatches, "url", in->url,
                                 "read_only", !in->token, "trace_log", log, "inspector_started",
                                 in->started, "answer_timeout_ms", in->opts.answer_timeout_ms);

        if (!data)
                return reply_error(c, 500, "out of memory");
        return poe__reply_ok(c, data, NULL, false);
}

/* /metrics while the kernel is stuck: 200, from the same values. */
int poe__http_stuck_metrics(poe__call *c)
{
        poe_kernel_activity a;
        double since = stuck_since(c->in, &a);

        return poe__reply_text(c, poe__metrics_stuck_text(c->in, &a, since));
}

/* The 503 for a kernel that did not come round: what it is doing, and
 * for how long the dispatch count has stood still. */
int poe__http_busy(poe__call *c)
{
        poe_inspector *in = c->in;
        poe_kernel_activity a;
        double since = stuck_since(in, &a);
        json_t *busy = busy_json(&a, since);
        char event[80];
        size_t i;

        if (a.dispatching) {
                /* Printable ASCII: the message is also for terminals. */
                for (i = 0; a.event && a.event[i] && i + 1 < sizeof(event); i++)
                        event[i] = a.event[i] >= 0x20 && a.event[i] < 0x7f ? a.event[i] : '?';
                event[i] = '\0';
                return reply_error_with(c, 503, json_pack("{s:o*}", "busy", busy),
                                        "the kernel did not answer within %d ms: it has been "
                                        "in session %llu's handler for '%s' for %.1f s",
                                        in->opts.answer_timeout_ms,
                                        (unsigned long long)a.session, a.event ? event : "?",
                                        since);
        }
        return reply_error_with(c, 503, json_pack("{s:o*}", "busy", busy),
                                "the kernel did not answer within %d ms and is not in a "
                                "handler: it is not running its loop (run() not called, or "
                                "returned), or it is blocked outside any handler",
                                in->opts.answer_timeout_ms);
}

/* ---- the trace log (on the pool) ---- */

/* The records written so far, to tell a parked long poll that it is
 * worth looking again (-1 when the status cannot be had). */
int64_t poe__http_log_written(poe_inspector *in)
{
        json_t *st = in->log ? poe__tracelog_status(in->log) : NULL;
        int64_t n = st ? (int64_t)json_integer_value(json_object_get(st, "records_written"))
                       : -1;

        json_decref(st);
        return n;
}

static int trace_answer(poe__call *c, json_t *res, const poe__trace_query *q)
{
        return poe__reply_ok(c, res,
                             poe__page_json(&q->page, (size_t)json_integer_value(
                                                              json_object_get(res, "total"))),
                             true);
}

/* GET trace: one page of records. */
int poe__http_trace(poe__call *c)
{
        poe__trace_query q;
        char err[256];
        json_t *res;

        if (poe__trace_query_parse(c->params, &q, err, sizeof(err)) < 0)
                return reply_error(c, 400, "%s", err);
        res = poe__tracelog_query(c->in->log, &q, err, sizeof(err));
        if (!res)
                return reply_error(c, 500, "trace log query failed: %s", err);
        return trace_answer(c, res, &q);
}

/*
 * GET trace/tail?after=ID&wait=S: the records after ID, and with a wait,
 * a long poll: when there are none yet, the call parks (POE__PARKED) and
 * the clock hands it back to the pool whenever records have been written
 * since it looked, or when its wait is over; then it answers what it has.
 * No thread waits meanwhile.  The first run takes one of MAX_TAILS;
 * poe__request_finish gives it back, whoever answers.
 */
int poe__http_tail(poe__call *c)
{
        poe_inspector *in = c->in;
        poe__trace_query q;
        char err[256], *end;
        json_t *res;
        double wait = 0;
        const char *w = poe__param(c->params, "wait");
        int64_t seen;

        if (poe__trace_query_parse(c->params, &q, err, sizeof(err)) < 0)
                return reply_error(c, 400, "%s", err);
        if (!poe__param(c->params, "after"))
                return reply_error(c, 400, "a tail needs after=ID (the last record id seen; 0 "
                                           "to start)");
        if (w) {
                wait = strtod(w, &end);
                if (!*w || *end || !(wait >= 0 && wait <= MAX_LONG_POLL))
                        return reply_error(c, 400, "wait must be seconds between 0 and %.0f",
                                           MAX_LONG_POLL);
        }
        if (wait > 0 && !c->polling) {
                if (atomic_fetch_add(&in->tails, 1) >= MAX_TAILS) {
                        atomic_fetch_sub(&in->tails, 1);
                        return reply_too_many(c, "waiting tails", MAX_TAILS);
                }
                c->polling = true;
                c->until = poe__now_mono() + wait;
        }
        /* Counted before the query: a record written while it runs
         * makes the clock bring the poll back. */
        seen = c->polling ? poe__http_log_written(in) : 0;
        res = poe__tracelog_query(in->log, &q, err, sizeof(err));
        if (!res)
                return reply_error(c, 500, "trace log query failed: %s", err);
        if (c->polling && json_array_size(json_object_get(res, "records")) == 0 &&
            poe__now_mono() < c->until && !in->stopping) {
                json_decref(res);
                c->seen = seen;
                return POE__PARKED;
        }
        return trace_answer(c, res, &q);
}

/* GET trace/runs. */
int poe__http_runs(poe__call *c)
{
        char err[256];
        json_t *runs = poe__tracelog_runs(c->in->log, err, sizeof(err));

        if (!runs)
                return reply_error(c, 500, "trace log query failed: %s", err);
        return poe__reply_ok(c, runs, NULL, true);
}

/*
 * GET events/ID/lineage?depth=&limit=&run=: the chain of posts that led
 * to queue item ID and what it caused (tracelog-lineage.c); and GET
 * trace/records/ID/lineage?depth=&limit=: the same for the queue item
 * trace record ID belongs to.  ID is a positive decimal integer, else a
 * 400; one the log does not hold (no enqueue of the event, no such
 * record, a record made outside any handler) is a 404.
 */
int poe__http_lineage(poe__call *c)
{
        bool by_record = strstr(c->route->path, "/records/") != NULL;
        int64_t id = 0, depth, limit, run = 0;
        char err[512];
        json_t *res;
        size_t i;
        int rc;

        for (i = 0; i < c->name_len; i++) {
                if (c->name[i] < '0' || c->name[i] > '9' || id > (INT64_MAX - 9) / 10) {
                        id = 0;
                        break;
                }
                id = id * 10 + (c->name[i] - '0');
        }
        if (id <= 0)
                return reply_error(c, 400, "%s",
                                   by_record ? "a record id is a positive decimal integer (a "
                                               "trace record's id)"
                                             : "an event id is a positive decimal integer (the "
                                               "queue's and the trace records' event_id)");
        if (poe__param_int(c->params, "depth", 3, 0, 16, &depth) < 0)
                return reply_error(c, 400, "depth must be an integer from 0 to 16");
        if (poe__param_int(c->params, "limit", 100, 1, 1000, &limit) < 0)
                return reply_error(c, 400, "limit must be an integer from 1 to 1000");
        if (!by_record && poe__param_int(c->params, "run", 0, 1, INT64_MAX, &run) < 0)
                return reply_error(c, 400, "run must be a run id (a positive integer)");
        res = by_record ? poe__tracelog_record_lineage(c->in->log, id, (int)depth, (size_t)limit,
                                                       &rc, err, sizeof(err))
                        : poe__tracelog_lineage(c->in->log, run, id, (int)depth, (size_t)limit,
                                                &rc, err, sizeof(err));
        if (!res)
                return reply_error(c,
                                   rc == -ENOENT            ? 404
                                   : rc == -EPROTONOSUPPORT ? 400
                                                            : 500,
                                   "%s", err);
        return poe__reply_ok(c, res, NULL, true);
}

/* ---- the page ---- */

/* GET /...: the page's own files, from web_root or built in. */
int poe__http_page(poe__call *c)
{
        poe_inspector *in = c->in;
        const char *url = c->name - 1; /* what the route's star took, after its slash */
        const poe__asset *a;

        if (strcmp(url, "/") == 0)
                url = "/index.html";
        if (strstr(url, ".."))
                return reply_error(c, 400, "bad path");
        if (in->web_root) {
                char path[1024];
                FILE *f;
                char *buf;
                long n;
                const char *dot = strrchr(url, '.');
                const char *type = !dot ? "application/octet-stream"
                                   : strcmp(dot, ".html") == 0 ? "text/html; charset=utf-8"
                                   : strcmp(dot, ".js") == 0   ? "text/javascript"
                                   : strcmp(dot, ".css") == 0  ? "text/css"
                                   : strcmp(dot, ".svg") == 0  ? "image/svg+xml"
                                                               : "application/octet-stream";

                snprintf(path, sizeof(path), "%s%s", in->web_root, url);
                f = fopen(path, "rb");
                if (!f)
                        return reply_error(c, 404, "no such file: %s", url);
                fseek(f, 0, SEEK_END);
                n = ftell(f);
                fseek(f, 0, SEEK_SET);
                buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
                if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
                        fclose(f);
                        free(buf);
                        return reply_error(c, 500, "cannot read %s", url);
                }
                fclose(f);
                return reply_bytes(c, 200, type, buf, (size_t)n, MHD_RESPMEM_MUST_FREE, NULL);
        }
        a = poe__asset_find(url);
        if (!a)
                return reply_error(c, 404, "no such page: %s", url);
        return reply_bytes(c, 200, a->content_type, (void *)a->data, a->len,
                           MHD_RESPMEM_PERSISTENT, NULL);
}

/* An /api/ path no route names: which version this server speaks, or
 * which endpoints v1 has. */
int poe__http_no_api(poe__call *c)
{
        char path[256];
        size_t n = c->name_len < sizeof(path) ? c->name_len : sizeof(path) - 1;

        memcpy(path, c->name, n); /* what follows "/api/" */
        path[n] = '\0';
        if (strncmp(path, "v1/", 3) == 0 || strcmp(path, "v1") == 0) {
                poe__answer_clear(&c->ans);
                c->ans.status = poe__api_no_such(path[2] ? path + 3 : "", c->ans.err,
                                                 sizeof(c->ans.err));
                return c->ans.status;
        }
        return reply_error(c, 404, "unknown API version or path: /api/%s (this server speaks "
                                   "/api/v1/)", path);
}

/* GET trace/groups: each group compiled in, and on or off.  Read without
 * the kernel: a plain word it writes. */
int poe__http_groups(poe__call *c)
{
        unsigned on = poe_kernel_debug_get(c->in->k);
        json_t *g = json_object();
        unsigned bit;

        for (bit = 1; g && bit <= POE_TRACE_ALL; bit <<= 1)
                if (poe_debug_group_name(bit))
                        json_object_set_new(g, poe_debug_group_name(bit),
                                            json_pack("{s:b, s:b}", "compiled",
                                                      (poe_debug_compiled() & bit) != 0,
                                                      "enabled", (on & bit) != 0));
        return poe__reply_ok(c, g, NULL, false);
}

/* ---- the checks every route's needs name ---- */

static bool authorized(struct MHD_Connection *c, const poe_inspector *in)
{
        const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        unsigned char diff;
        size_t n, m, i;

        if (!in->token || !h || strncmp(h, "Bearer ", 7) != 0)
                return false;
        /* In time independent of the offered token: every byte of ours
         * is compared whatever the offered one's length (its bytes past
         * the end read as 0), and a length mismatch only sets a bit. */
        h += 7;
        n = strlen(in->token);
        m = strlen(h);
        diff = m != n;
        for (i = 0; i < n; i++)
                diff |= (unsigned char)((i < m ? h[i] : 0) ^ in->token[i]);
        return diff == 0;
}
static bool host_allowed(struct MHD_Connection *c, const poe_inspector *in)
{
        const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        static const char *const names[] = { "localhost", "127.0.0.1", "[::1]" };
        size_t i, n;

        if (in->opts.allow_remote)
                return true;
        if (!h)
                return false; /* HTTP/1.1 requires it; curl and browsers send it */
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                n = strlen(names[i]);
                /* Host names are case-insensitive (RFC 9110 4.2.3). */
                if (strncasecmp(h, names[i], n) == 0 && (h[n] == '\0' || h[n] == ':'))
                        return true;
        }
        /* The bound address itself, as in->url spells it. */
        n = strlen(in->url) - strlen("http://") - 1; /* "HOST:PORT" */
        return strlen(h) == n && strncasecmp(h, in->url + strlen("http://"), n) == 0;
}
static const char *cross_site(struct MHD_Connection *c)
{
        const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
        const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");

        if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
                return "Sec-Fetch-Site says the request comes from another site";
        if (origin && (!host || strncasecmp(origin, "http://", 7) != 0 ||
                       strcasecmp(origin + 7, host) != 0))
                return "its Origin is not this inspector's";
        return NULL;
}

/* ---- the pipeline ---- */

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        poe__params *p = cls;

        (void)kind;
        if (p->n >= POE__MAX_PARAMS)
                return MHD_NO;
        p->kv[p->n].key = key;
        p->kv[p->n].value = value;
        p->n++;
        return MHD_YES;
}

/*
 * Every check a route's needs name, in one order for all: the server's
 * own (stopping, Host), the route's path, the origin, the parameters,
 * the method, the token, the body, the session id, the trace log.  0
 * when the request may run; else the status of the answer it has (in
 * c->ans).  On the polling thread.
 */
static int check(struct MHD_Connection *mc, poe_inspector *in, const char *url,
                 const char *method, struct request *rq)
{
        poe__call *c = &rq->call;
        const poe__route *rt;
        const char *why;
        json_error_t jerr;
        unsigned allowed;
        bool sid_ok;

        if (in->stopping)
                return reply_error(c, 503, "the inspector is stopping");
        if (!host_allowed(mc, in))
                return reply_error(c, 403, "the Host header does not name this inspector "
                                           "(loopback only: localhost, 127.0.0.1, [::1]); "
                                           "refused against DNS rebinding");
        rt = poe__route_find(method, url, c, &allowed, &sid_ok);
        /* The page's own files may be linked from anywhere; everything
         * else answers only the page, tools and typed URLs (a 405 too). */
        if (c->route && (c->route->needs & POE__NEED_SAME_SITE) && (why = cross_site(mc)))
                return reply_error(c, 403, "cross-site request refused: %s", why);
        if (MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect_param, &rq->params) <
                    0 ||
            rq->params.n >= POE__MAX_PARAMS)
                return reply_error(c, 400, "too many query parameters (at most %d)",
                                   POE__MAX_PARAMS - 1);
        if (!rt && allowed)
                return reply_error(c, 405, "%s answers %s only",
                                   strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics") == 0
                                           ? url
                                           : "the page",
                                   poe__route_methods_text(allowed));
        if (!rt)
                return reply_error(c, 404, "no such page");
        if ((rt->needs & POE__NEED_TOKEN) && !in->token)
                return reply_error(c, 403, "this inspector is read-only: start it with a token "
                                           "to switch trace groups or send signals");
        if ((rt->needs & POE__NEED_TOKEN) && !authorized(mc, in))
                return reply_error(c, 401, "a valid 'Authorization: Bearer TOKEN' header is "
                                           "required");
        if ((rt->needs & POE__NEED_BODY) && rq->too_large)
                return reply_error(c, 413, "the body is larger than %d bytes", MAX_BODY);
        if ((rt->needs & POE__NEED_BODY) &&
            !(c->body = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &jerr)))
                return reply_error(c, 400, "the body is not JSON: %s", jerr.text);
        if (!sid_ok) {
                poe__answer_clear(&c->ans);
                c->ans.status = poe__api_malformed_sid(c->name, c->name_len, c->ans.err,
                                                       sizeof(c->ans.err));
                return c->ans.status;
        }
        if ((rt->needs & POE__NEED_LOG) && !in->log)
                return reply_error(c, 503, "there is no trace log: %s", in->log_error);
        return 0;
}

/* The request is all here: check it, then run its handler where its
 * route says (or hand it on, suspended). */
static enum MHD_Result dispatch(struct MHD_Connection *mc, poe_inspector *in, const char *url,
                                const char *method, struct request *rq)
{
        poe__call *c = &rq->call;

        c->in = in;
        c->rq = rq;
        c->params = &rq->params;
        poe__conn_arrived(in, mc);
        if (check(mc, in, url, method, rq) != 0)
                return send_answer(mc, in, &c->ans);
        switch (c->route->where) {
        case POE__ON_POOL:
                if (poe__work_to_pool(in, rq) == 0)
                        return MHD_YES;
                break;
        case POE__ON_KERNEL:
                if (poe__work_to_kernel(in, rq) == 0)
                        return MHD_YES;
                break;
        default:
                c->route->fn(c);
                break;
        }
        return send_answer(mc, in, &c->ans);
}

/* libmicrohttpd's access handler: called once the headers are in, once
 * per piece of the body, once at the end (where the request runs), and
 * once more after a resume (where its answer is sent). */
static enum MHD_Result handle(void *cls, struct MHD_Connection *mc, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
        poe_inspector *in = cls;
        struct request *rq = *con_cls;

        (void)version;
        if (!rq) {
                rq = calloc(1, sizeof(*rq));
                if (!rq)
                        return MHD_NO;
                rq->in = in;
                rq->mc = mc;
                *con_cls = rq;
                return MHD_YES;
        }
        if (rq->state == RQ_ANSWERED)
                return send_answer(mc, in, &rq->call.ans);
        if (*upload_size) {
                /* Bodies are small JSON objects; a large one is refused
                 * after it is read, with a 413. */
                if (rq->body_len + *upload_size > MAX_BODY) {
                        rq->too_large = true;
                } else {
                        char *b = realloc(rq->body, rq->body_len + *upload_size + 1);

                        if (!b)
                                return MHD_NO;
                        memcpy(b + rq->body_len, upload, *upload_size);
                        rq->body = b;
                        rq->body_len += *upload_size;
                        rq->body[rq->body_len] = '\0';
                }
                *upload_size = 0;
                return MHD_YES;
        }
        return dispatch(mc, in, url, method, rq);
}

/* The request is over (sent, or its connection closed): its memory
 * goes, its export slot too, and the connection waits for the next. */
static void completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        struct request *rq = *con_cls;
        poe_inspector *in = cls;

        (void)toe;
        if (rq) {
                poe__work_forget(in, rq);
                if (rq->export_slot)
                        atomic_fetch_sub(&in->exports, 1);
                poe__answer_clear(&rq->call.ans);
                json_decref(rq->call.body);
                free(rq->body);
                free(rq);
        }
        *con_cls = NULL;
        poe__conn_idle(in, mc);
}

static void notify_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
        if (toe == MHD_CONNECTION_NOTIFY_STARTED)
                poe__conn_started(cls, mc, socket_context);
        else
                poe__conn_closed(cls, socket_context);
}

/*
 * libmicrohttpd's messages, on stderr, at most LOG_BURST in a row and
 * then one per LOG_EVERY seconds with a count of those left out: a flood
 * of refused connections must neither flood the terminal nor block the
 * polling thread on a stderr pipe nobody reads.  Only the polling thread
 * logs (each inspector's its own).
 */
#define LOG_BURST 10
#define LOG_EVERY 60.0

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        poe_inspector *in = cls;
        double now = poe__now_mono();
        char msg[256];
        size_t n;

        if (now - in->log_window >= LOG_EVERY) {
                if (in->log_left_out)
                        fprintf(stderr, "poe-inspector: libmicrohttpd: %u messages left out\n",
                                in->log_left_out);
                in->log_window = now;
                in->log_in_window = 0;
                in->log_left_out = 0;
        }
        if (in->log_in_window++ >= LOG_BURST) {
                in->log_left_out++;
                return;
        }
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n && msg[n - 1] == '\n')
                msg[--n] = '\0';
        fprintf(stderr, "poe-inspector: libmicrohttpd: %s\n", msg);
}

/* POE__CONN_MAX, or half the descriptors the process may open. */
static int connection_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur / 2 < POE__CONN_MAX)
                return rl.rlim_cur / 2 > 16 ? (int)(rl.rlim_cur / 2) : 16;
        return POE__CONN_MAX;
}

int poe__http_start(poe_inspector *in)
{
        const union MHD_DaemonInfo *info;
        /* One polling thread; epoll where there is one (Linux). */
        unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                         MHD_USE_ERROR_LOG;
        char host[64];
        int r;

        if (pthread_mutex_init(&in->lock, NULL) != 0)
                return -ENOMEM;
        in->lock_ready = true;
        in->conn_max = connection_limit();
        in->evict_at = in->conn_max - in->conn_max / 8;
        r = poe__work_start(in);
        if (r < 0)
                return r;
        if (in->addr.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        in->daemon = MHD_start_daemon(
                flags, 0, NULL, NULL, handle, in,
                /* First, so that it takes every message. */
                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, in, MHD_OPTION_SOCK_ADDR,
                (struct sockaddr *)&in->addr, MHD_OPTION_NOTIFY_COMPLETED, completed, in,
                MHD_OPTION_NOTIFY_CONNECTION, notify_connection, in, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)in->conn_max, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                (unsigned)POE__CONN_PER_ADDRESS, MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned)POE__IDLE_TIMEOUT,
                /* Room to parse a query of a few thousand parameters and
                 * refuse it with a 400: with the default 32 KiB
                 * libmicrohttpd runs out while parsing and closes the
                 * connection without a status (it still does past
                 * ~8,000).  Reserved per connection, touched as used. */
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 << 10, MHD_OPTION_END);
        if (!in->daemon)
                return errno == EADDRINUSE ? -EADDRINUSE : -EIO;
        info = MHD_get_daemon_info(in->daemon, MHD_DAEMON_INFO_BIND_PORT);
        in->port = info ? info->port : 0;
        if (in->addr.ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&in->addr)->sin6_addr, host,
                          sizeof(host));
                snprintf(in->url, sizeof(in->url), "http://[%s]:%d/", host, in->port);
        } else {
                inet_ntop(AF_INET, &((struct sockaddr_in *)&in->addr)->sin_addr, host,
                          sizeof(host));
                snprintf(in->url, sizeof(in->url), "http://%s:%d/", host, in->port);
        }
        return 0;
}

/*
 * Stops within a second whatever the server is doing: every waiting
 * request is answered 503 (long polls, requests for a kernel that may be
 * stuck, work queued for the pool), the trace log's readers are
 * interrupted (a running query or export ends at its next progress
 * check), the pool and the clock are joined, and only then is the server
 * stopped (libmicrohttpd must not stop with a suspended connection):
 * connections idle or half-sent are closed, costing no wait.
 */
void poe__http_stop(poe_inspector *in)
{
        if (!in->lock_ready)
                return;
        poe__work_answer_all(in);
        poe__tracelog_cancel_readers(in->log);
        poe__work_join(in);
        if (in->daemon)
                MHD_stop_daemon(in->daemon);
        in->daemon = NULL;
}

void poe__http_counts_get(poe_inspector *in, poe__http_counts *ret)
{
        memset(ret, 0, sizeof(*ret));
        if (!in->lock_ready)
                return;
        pthread_mutex_lock(&in->lock);
        ret->connections = in->conns;
        ret->pool_queued = in->pool_queued;
        pthread_mutex_unlock(&in->lock);
        ret->connections_max = in->conn_max;
        ret->waiting_kernel = atomic_load(&in->waiting_kernel);
        ret->pool_busy = atomic_load(&in->pool_busy);
        ret->long_polls = atomic_load(&in->tails);
        ret->exports = atomic_load(&in->exports);
        for (int i = 0; i < POE__EXPORT_ENDS; i++)
                ret->exports_ended[i] = atomic_load(&in->exports_ended[i]);
        ret->expired = atomic_load(&in->conns_expired);
        ret->evicted = atomic_load(&in->conns_evicted);
}
