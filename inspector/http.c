/*
 * The HTTP server: libmicrohttpd (0.9.75, Debian 12's), one thread per
 * connection, so a request that waits (for the kernel's thread, or for
 * new trace records in a long poll) blocks nobody else.
 *
 * Live state is never read here.  A request for it becomes a job that
 * poe_kernel_run_in_loop runs on the kernel's thread between dispatches;
 * this thread waits for it until a deadline, and past the deadline
 * answers 503 with what the kernel is busy with (the activity the kernel
 * publishes atomically at each dispatch).  Trace-log queries and exports
 * need no kernel and are answered here.
 *
 * Every reply is built by reply_json/reply_error/reply_bytes; every error
 * has a JSON body {"api":1,"error":{"status":N,"message":"..."}}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "tracelog-internal.h"

#define API_VERSION 1
#define MAX_BODY 65536
#define MAX_LONG_POLL 30.0
/* At most this many exports at once, from their start until their body
 * is sent or their client goes: each holds a read snapshot (which keeps
 * the writer's checkpoints from finishing) and a connection's thread. */
#define MAX_EXPORTS 2
/* What an export hands libmicrohttpd at a time. */
#define EXPORT_BLOCK (64u << 10)
/* At most this many long polls (trace/tail with a wait) at once: each
 * re-runs its query every 100 ms, and with a filter no index serves
 * sixty of them filled the CPU and kept checkpoints from running. */
#define MAX_TAILS 8
/* What a 429 asks the client to wait, in seconds. */
#define RETRY_AFTER "2"

/* A request waiting for the kernel's thread.  Two references: the
 * waiting connection's and the kernel callback's; the last frees it. */
typedef enum { JOB_API, JOB_METRICS, JOB_DEBUG_SET, JOB_SIGNAL } job_kind;

struct poe__job {
        job_kind kind;
        _Atomic int refs;
        pthread_mutex_t m;
        pthread_cond_t cv;
        bool done;
        poe_inspector *in;
        struct poe__job *next; /* in->jobs */
        /* The question. */
        char path[256];
        poe__params params;
        char param_buf[2048];
        json_t *body;
        /* The answer. */
        int status;
        json_t *data, *page;
        char *text;
        char err[256];
};

struct request {
        char *body;
        size_t body_len;
        bool too_large;
        bool export_slot; /* holds one of MAX_EXPORTS until it completes */
};

/* Every deadline and duration here is on the monotonic clock: a step of
 * the wall clock must not stretch a wait or a "stuck for" figure. */
static double now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- replies ---- */

/* Queues r (destroyed) with the headers every body carries. */
static enum MHD_Result reply_response(struct MHD_Connection *c, unsigned status,
                                      struct MHD_Response *r, const char *content_type,
                                      const char *disposition)
{
        enum MHD_Result ret;

        MHD_add_response_header(r, "Content-Type", content_type);
        MHD_add_response_header(r, "Cache-Control", "no-store");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        if (disposition)
                MHD_add_response_header(r, "Content-Disposition", disposition);
        ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result reply_bytes(struct MHD_Connection *c, unsigned status,
                                   const char *content_type, void *body, size_t len,
                                   enum MHD_ResponseMemoryMode mode, const char *disposition)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);

        if (!r) {
                if (mode == MHD_RESPMEM_MUST_FREE)
                        free(body);
                return MHD_NO;
        }
        return reply_response(c, status, r, content_type, disposition);
}

/* Steals body.  A body that cannot be encoded becomes a 500 with a fixed
 * message, so a reply always goes out. */
static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
        char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
        static const char oom[] =
                "{\"api\":1,\"error\":{\"status\":500,\"message\":\"out of memory\"}}";

        json_decref(body);
        if (!s)
                return reply_bytes(c, 500, "application/json", (void *)oom, sizeof(oom) - 1,
                                   MHD_RESPMEM_PERSISTENT, NULL);
        return reply_bytes(c, status, "application/json", s, strlen(s), MHD_RESPMEM_MUST_FREE,
                           NULL);
}

static enum MHD_Result reply_error_extra(struct MHD_Connection *c, unsigned status, json_t *extra,
                                         const char *fmt, ...)
{
        char msg[512];
        json_t *err;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* The message may quote the request (a path, a format, a JSON
         * error), which need not be UTF-8: json_pack's "s" would refuse
         * it and the reply would lose its error object. */
        err = json_pack("{s:i, s:o*}", "status", (int)status, "message", poe__tl_jstr(msg));
        if (err && extra)
                json_object_update(err, extra);
        json_decref(extra);
        return reply_json(c, status, json_pack("{s:i, s:o*}", "api", API_VERSION, "error", err));
}

#define reply_error(c, status, ...) reply_error_extra((c), (status), NULL, __VA_ARGS__)

/* The success envelope: {"api":1,"data":...,"page":...}, plus the trace
 * log's drop counts on every answer that shows the log. */
static enum MHD_Result reply_ok(struct MHD_Connection *c, poe_inspector *in, json_t *data,
                                json_t *page, bool with_log)
{
        json_t *env = json_pack("{s:i, s:o*}", "api", API_VERSION, "data", data);

        if (env && page)
                json_object_set_new(env, "page", page);
        else
                json_decref(page);
        if (env && with_log)
                json_object_set_new(env, "trace_log",
                                    in->log ? poe__tracelog_status(in->log)
                                            : json_pack("{s:s}", "error", in->log_error));
        return reply_json(c, 200, env);
}

/* ---- parameters ---- */

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

/* Copies the parameters into the job, which may outlive the request. */
static int copy_params(const poe__params *from, struct poe__job *job)
{
        size_t used = 0;
        int i;

        job->params.n = 0;
        for (i = 0; i < from->n; i++) {
                const char *k = from->kv[i].key, *v = from->kv[i].value ? from->kv[i].value : "";
                size_t kl = strlen(k) + 1, vl = strlen(v) + 1;

                if (used + kl + vl > sizeof(job->param_buf))
                        return -E2BIG;
                memcpy(job->param_buf + used, k, kl);
                memcpy(job->param_buf + used + kl, v, vl);
                job->params.kv[i].key = job->param_buf + used;
                job->params.kv[i].value = job->param_buf + used + kl;
                used += kl + vl;
                job->params.n++;
        }
        return 0;
}

/* ---- jobs on the kernel's thread ---- */

static void job_unref(struct poe__job *job)
{
        if (atomic_fetch_sub(&job->refs, 1) != 1)
                return;
        json_decref(job->data);
        json_decref(job->page);
        json_decref(job->body);
        free(job->text);
        pthread_mutex_destroy(&job->m);
        pthread_cond_destroy(&job->cv);
        free(job);
}

static void job_finish(struct poe__job *job)
{
        pthread_mutex_lock(&job->m);
        job->done = true;
        pthread_cond_broadcast(&job->cv);
        pthread_mutex_unlock(&job->m);
}

/* Applies {"TRACE_EVENTS": true, ...} (trace groups only). */
static void do_debug_set(poe_kernel *k, struct poe__job *job)
{
        const char *key;
        json_t *v;

        if (!json_is_object(job->body)) {
                job->status = 400;
                snprintf(job->err, sizeof(job->err),
                         "the body must be a JSON object such as {\"TRACE_EVENTS\": true}");
                return;
        }
        json_object_foreach(job->body, key, v) {
                unsigned g = poe_debug_group_parse(key);

                if (!g || !(g & POE_TRACE_ALL) || !json_is_boolean(v)) {
                        job->status = 400;
                        snprintf(job->err, sizeof(job->err),
                                 "\"%s\": expected a trace group name (TRACE_EVENTS, ...) with "
                                 "true or false", key);
                        return;
                }
        }
        json_object_foreach(job->body, key, v) {
                int r = poe_kernel_debug_set(k, poe_debug_group_parse(key), json_is_true(v));

                if (r < 0) {
                        job->status = r == -EOPNOTSUPP ? 409 : 400;
                        snprintf(job->err, sizeof(job->err), "%s: %s", key,
                                 r == -EOPNOTSUPP ? "not compiled into this library"
                                                  : strerror(-r));
                        return;
                }
        }
        job->status = 200;
        job->data = json_pack("{s:i}", "enabled", (int)poe_kernel_debug_get(k));
}

/* Raises a signal at a session: {"signal": "TERM"}. */
static void do_signal(poe_kernel *k, struct poe__job *job)
{
        json_t *sig = json_object_get(job->body, "signal");
        const char *name = json_string_value(sig);
        poe_sid sid = 0;
        int r;

        /* The id as the other endpoints read it: "-1" or 2^64+1 is no
         * session id (strtoull wrapped both to 2^64-1). */
        if (!name || !*name || poe__parse_sid(job->path, strlen(job->path), &sid) < 0) {
                job->status = 400;
                snprintf(job->err, sizeof(job->err),
                         "expected a body {\"signal\": \"NAME\"} and a numeric session id");
                return;
        }
        r = poe_kernel_signal(k, (poe_sid)sid, name, NULL, 0);
        if (r < 0) {
                job->status = r == -ESRCH ? 404 : 400;
                snprintf(job->err, sizeof(job->err), "session %llu: %s", (unsigned long long)sid,
                         strerror(-r));
                return;
        }
        job->status = 200;
        job->data = json_pack("{s:I, s:s}", "session", (json_int_t)sid, "signal", name);
}

static void run_job(poe_kernel *k, void *ctx)
{
        struct poe__job *job = ctx;
        poe_inspector *in = job->in;

        /* A job can outlive the inspector's server (stopped while the job
         * waited in the kernel's queue) and even the kernel (then k is
         * NULL); the inspector object stays allocated until its last job
         * has run, but nothing of its state is touched once it stops. */
        if (!k || in->stopping) {
                job->status = 503;
                snprintf(job->err, sizeof(job->err), "the inspector is stopping");
        } else if (job->kind == JOB_API) {
                job->status = poe__api_get(k, job->in, job->path, &job->params, &job->data,
                                           &job->page, job->err, sizeof(job->err));
        } else if (job->kind == JOB_METRICS) {
                job->text = poe__metrics_text(k, job->in);
                job->status = job->text ? 200 : 500;
                if (!job->text)
                        snprintf(job->err, sizeof(job->err), "out of memory");
        } else if (job->kind == JOB_DEBUG_SET) {
                do_debug_set(k, job);
        } else {
                do_signal(k, job);
        }
        job_finish(job);
        job_unref(job);
        poe__inspector_unref(in);
}

static void jobs_link(poe_inspector *in, struct poe__job *job)
{
        pthread_mutex_lock(&in->lock);
        job->next = in->jobs;
        in->jobs = job;
        pthread_mutex_unlock(&in->lock);
}

static void jobs_unlink(poe_inspector *in, struct poe__job *job)
{
        struct poe__job **p;

        pthread_mutex_lock(&in->lock);
        for (p = &in->jobs; *p; p = &(*p)->next) {
                if (*p == job) {
                        *p = job->next;
                        break;
                }
        }
        pthread_mutex_unlock(&in->lock);
}

/* What a kernel that did not come round is doing, from what it
 * publishes atomically, and for how long its dispatch count has stood
 * still (at least the answer timeout it just let pass). */
static double stuck_since(poe_inspector *in, poe_kernel_activity *a)
{
        double t = now_mono(), since;

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
                return json_pack("{s:b, s:I, s:s?, s:f, s:I}", "dispatching", 1, "session",
                                 (json_int_t)a->session, "event", a->event, "for_seconds",
                                 since, "dispatches", (json_int_t)a->dispatches);
        return json_pack("{s:b, s:I, s:f}", "dispatching", 0, "dispatches",
                         (json_int_t)a->dispatches, "for_seconds", since);
}

/* /api/v1/kernel while the kernel is stuck: 200, with responding false,
 * what it is stuck in and for how long, and what needs no kernel (the
 * trace log's status is thread-safe). */
static enum MHD_Result reply_stuck_kernel(struct MHD_Connection *c, poe_inspector *in)
{
        poe_kernel_activity a;
        double since = stuck_since(in, &a);
        json_t *log = in->log ? poe__tracelog_status(in->log)
                              : json_pack("{s:n, s:s}", "path", "error",
                                          in->log_error[0] ? in->log_error : "no trace log");
        json_t *data = json_pack("{s:b, s:o*, s:i, s:s, s:I, s:s, s:b, s:o*, s:f}", "responding",
                                 0, "busy", busy_json(&a, since), "pid", (int)getpid(),
                                 "kernel_id", poe_kernel_id(in->k), "events_dispatched",
                                 (json_int_t)a.dispatches, "url", in->url, "read_only",
                                 !in->token, "trace_log", log, "inspector_started",
                                 in->started);

        if (!data)
                return reply_error(c, 500, "out of memory");
        return reply_ok(c, in, data, NULL, false);
}

/* /metrics while the kernel is stuck: 200, from the same values. */
static enum MHD_Result reply_stuck_metrics(struct MHD_Connection *c, poe_inspector *in)
{
        poe_kernel_activity a;
        double since = stuck_since(in, &a);
        char *text = poe__metrics_stuck_text(in, &a, since);

        if (!text)
                return reply_error(c, 500, "out of memory");
        return reply_bytes(c, 200, "text/plain; version=0.0.4", text, strlen(text),
                           MHD_RESPMEM_MUST_FREE, NULL);
}

/* The 503 for a kernel that did not come round: what it is doing, and
 * for how long the dispatch count has stood still. */
static enum MHD_Result reply_busy(struct MHD_Connection *c, poe_inspector *in)
{
        poe_kernel_activity a;
        double since = stuck_since(in, &a);
        json_t *busy = busy_json(&a, since);

        if (a.dispatching) {
                return reply_error_extra(c, 503, json_pack("{s:o*}", "busy", busy),
                                         "the kernel did not answer within %d ms: it has been "
                                         "in session %llu's handler for '%s' for %.1f s",
                                         in->opts.answer_timeout_ms,
                                         (unsigned long long)a.session,
                                         a.event ? a.event : "?", since);
        }
        return reply_error_extra(c, 503, json_pack("{s:o*}", "busy", busy),
                                 "the kernel did not answer within %d ms and is not in a "
                                 "handler: it is not running its loop (run() not called, or "
                                 "returned), or it is blocked outside any handler",
                                 in->opts.answer_timeout_ms);
}

/* Hands a job to the kernel's thread and waits for it, with a deadline. */
static enum MHD_Result submit(struct MHD_Connection *c, poe_inspector *in, job_kind kind,
                              const char *path, const poe__params *params, json_t *body)
{
        struct poe__job *job = calloc(1, sizeof(*job));
        struct timespec deadline;
        pthread_condattr_t ca;
        enum MHD_Result ret;
        int r = 0;

        if (!job) {
                json_decref(body);
                return reply_error(c, 500, "out of memory");
        }
        job->kind = kind;
        job->in = in;
        job->body = body;
        atomic_init(&job->refs, 2);
        pthread_mutex_init(&job->m, NULL);
        if (pthread_condattr_init(&ca) != 0 ||
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
            pthread_cond_init(&job->cv, &ca) != 0) {
                pthread_mutex_destroy(&job->m);
                free(job);
                json_decref(body);
                return reply_error(c, 500, "cannot make a condition variable");
        }
        pthread_condattr_destroy(&ca);
        snprintf(job->path, sizeof(job->path), "%s", path);
        if (params && copy_params(params, job) < 0) {
                job_unref(job);
                job_unref(job);
                return reply_error(c, 414, "the query string is too long");
        }
        jobs_link(in, job);
        atomic_fetch_add(&in->refs, 1); /* the job's, released by run_job */
        if (poe_kernel_run_in_loop(in->k, run_job, job) < 0) {
                jobs_unlink(in, job);
                job_unref(job);
                job_unref(job);
                poe__inspector_unref(in);
                return reply_error(c, 500, "cannot reach the kernel's thread: out of memory");
        }
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += in->opts.answer_timeout_ms / 1000;
        deadline.tv_nsec += (long)(in->opts.answer_timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&job->m);
        while (!job->done && r != ETIMEDOUT && !in->stopping)
                r = pthread_cond_timedwait(&job->cv, &job->m, &deadline);
        pthread_mutex_unlock(&job->m);
        jobs_unlink(in, job);
        if (!job->done && in->stopping)
                ret = reply_error(c, 503, "the inspector is stopping");
        else if (!job->done && kind == JOB_METRICS)
                ret = reply_stuck_metrics(c, in);
        else if (!job->done && kind == JOB_API && strcmp(path, "kernel") == 0)
                ret = reply_stuck_kernel(c, in);
        else if (!job->done)
                ret = reply_busy(c, in);
        else if (job->status != 200)
                ret = reply_error(c, (unsigned)job->status, "%s", job->err);
        else if (kind == JOB_METRICS) {
                char *text = job->text;

                job->text = NULL;
                ret = reply_bytes(c, 200, "text/plain; version=0.0.4", text, strlen(text),
                                  MHD_RESPMEM_MUST_FREE, NULL);
        } else {
                ret = reply_ok(c, in, job->data, job->page, false);
                job->data = job->page = NULL;
        }
        /* Reading the answer happens after done was seen under the lock;
         * the kernel's side let go of the job before or right after. */
        job_unref(job);
        return ret;
}

/* ---- the trace log ---- */

/* A 429 with Retry-After, for a limit on concurrent work. */
static enum MHD_Result reply_too_many(struct MHD_Connection *c, const char *what, int limit)
{
        char msg[160];
        json_t *body;
        char *text;
        struct MHD_Response *resp;

        snprintf(msg, sizeof(msg), "too many %s at once (at most %d); try again in %s s", what,
                 limit, RETRY_AFTER);
        body = json_pack("{s:i, s:{s:i, s:s}}", "api", API_VERSION, "error", "status", 429,
                         "message", msg);
        text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        if (!text)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(text);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Retry-After", RETRY_AFTER);
        return reply_response(c, 429, resp, "application/json", NULL);
}

static enum MHD_Result trace_query(struct MHD_Connection *c, poe_inspector *in,
                                   const poe__params *p, bool tail)
{
        poe__trace_query q;
        char err[256];
        json_t *res, *records;
        double wait = 0, deadline;
        bool polling = false;
        const char *w = poe__param(p, "wait");

        if (!in->log)
                return reply_error(c, 503, "there is no trace log: %s", in->log_error);
        if (poe__trace_query_parse(p, &q, err, sizeof(err)) < 0)
                return reply_error(c, 400, "%s", err);
        if (tail) {
                char *end;

                if (!poe__param(p, "after"))
                        return reply_error(c, 400, "a tail needs after=ID (the last record "
                                                   "id seen; 0 to start)");
                if (w) {
                        wait = strtod(w, &end);
                        if (!*w || *end || !(wait >= 0 && wait <= MAX_LONG_POLL))
                                return reply_error(c, 400, "wait must be seconds between 0 "
                                                           "and %.0f", MAX_LONG_POLL);
                }
        }
        /* A tail waits (long poll) until records come or the wait ends;
         * this connection's own thread does the waiting. */
        if (tail && wait > 0) {
                if (atomic_fetch_add(&in->tails, 1) >= MAX_TAILS) {
                        atomic_fetch_sub(&in->tails, 1);
                        return reply_too_many(c, "waiting tails", MAX_TAILS);
                }
                polling = true;
        }
        deadline = now_mono() + wait;
        for (;;) {
                res = poe__tracelog_query(in->log, &q, err, sizeof(err));
                if (!res) {
                        if (polling)
                                atomic_fetch_sub(&in->tails, 1);
                        return reply_error(c, 500, "trace log query failed: %s", err);
                }
                records = json_object_get(res, "records");
                if (!tail || json_array_size(records) > 0 || now_mono() >= deadline ||
                    in->stopping)
                        break;
                json_decref(res);
                {
                        struct timespec ts = { 0, 100 * 1000000L };

                        nanosleep(&ts, NULL);
                }
        }
        if (polling)
                atomic_fetch_sub(&in->tails, 1);
        return reply_ok(c, in, res, poe__page_json(&q.page,
                                                   (size_t)json_integer_value(
                                                           json_object_get(res, "total"))),
                        true);
}

/* An export being sent: the stream, and the slot it holds until the
 * response is destroyed (export_free). */
struct export_body {
        poe_inspector *in;
        poe__tl_export *x;
};

/* MHD's content reader: the export's next bytes, produced as the client
 * reads them.  A failure after the status went out can only cut the
 * body short: MHD closes the connection without the final chunk, which a
 * client sees as an incomplete body, not as the end. */
static ssize_t export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct export_body *e = cls;
        ssize_t n = poe__tl_export_read(e->x, buf, max);

        (void)pos;
        if (n > 0)
                return n;
        if (n == 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        /* A stop or a cancel is no fault of the log's. */
        if (n != -ECANCELED)
                fprintf(stderr, "poe-inspector: an export ended early: %s\n",
                        poe__tl_export_error(e->x));
        return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* MHD's free callback: the response is done with, sent or not (the
 * client went, the connection timed out, the daemon stops).  The cursor
 * and its snapshot go, and the slot. */
static void export_free(void *cls)
{
        struct export_body *e = cls;

        poe__tl_export_close(e->x);
        atomic_fetch_sub(&e->in->exports, 1);
        free(e);
}

/*
 * An export, streamed: the body is produced by export_read as
 * libmicrohttpd sends it, 64 KiB at a time, from the export's cursor, so
 * neither its memory nor its first byte wait for the whole selection.
 * Errors found when it opens (a bad parameter, a format, a log that
 * cannot be read) are answered with a status; later ones cut the body.
 * The slot (one of MAX_EXPORTS) goes from the request to the response
 * once it is made, and is given back by export_free.
 */
static enum MHD_Result trace_export(struct MHD_Connection *c, poe_inspector *in,
                                    const char *format, const poe__params *p,
                                    struct request *rq)
{
        poe__trace_query q;
        char err[256], disp[128];
        struct export_body *e;
        struct MHD_Response *resp;
        poe__tl_export *x = NULL;
        int64_t size;
        int r;

        if (!in->log)
                return reply_error(c, 503, "there is no trace log: %s", in->log_error);
        /* The slot is the request's until the response takes it, or the
         * request completes (completed()). */
        if (atomic_fetch_add(&in->exports, 1) >= MAX_EXPORTS) {
                atomic_fetch_sub(&in->exports, 1);
                return reply_too_many(c, "exports", MAX_EXPORTS);
        }
        rq->export_slot = true;
        if (poe__trace_query_parse(p, &q, err, sizeof(err)) < 0)
                return reply_error(c, 400, "%s", err);
        r = poe__tracelog_export_open(in->log, format, &q, &x, err, sizeof(err));
        if (r == -EINVAL)
                return reply_error(c, 404, "no such export format: %s (jsonl, csv, chrome, "
                                           "otlp, sqlite)", format);
        if (r == -ECANCELED)
                return reply_error(c, 503, "the inspector is stopping");
        if (r < 0)
                return reply_error(c, 500, "export failed: %s", err);
        e = malloc(sizeof(*e));
        if (!e) {
                poe__tl_export_close(x);
                return reply_error(c, 500, "out of memory");
        }
        e->in = in;
        e->x = x;
        /* The SQLite copy's length is known: it goes as Content-Length;
         * the others are chunked. */
        size = poe__tl_export_size(x);
        resp = MHD_create_response_from_callback(size >= 0 ? (uint64_t)size : MHD_SIZE_UNKNOWN,
                                                 EXPORT_BLOCK, export_read, e, export_free);
        if (!resp) {
                free(e);
                poe__tl_export_close(x);
                return reply_error(c, 500, "out of memory");
        }
        rq->export_slot = false;
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", poe__tl_export_filename(x));
        return reply_response(c, 200, resp, poe__tl_export_content_type(x), disp);
}

/* ---- the page ---- */

static enum MHD_Result serve_asset(struct MHD_Connection *c, poe_inspector *in, const char *url)
{
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

/* ---- routing ---- */

static bool authorized(struct MHD_Connection *c, poe_inspector *in)
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

/*
 * DNS rebinding: a page on another site can make the browser resolve its
 * own name to 127.0.0.1 and read the inspector.  The Host header then
 * names that site, so on loopback only the loopback names (and the bound
 * address) are accepted.  With allow_remote the operator chose exposure
 * and any Host goes.
 */
static bool host_allowed(struct MHD_Connection *c, poe_inspector *in)
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

/*
 * Cross-site requests: a page on any site can make the browser send a
 * GET (no-cors) or a form POST to the inspector, with the user's network
 * position, and start an export or a query.  A browser says where a
 * request comes from: Sec-Fetch-Site (anything but same-origin, or none
 * for a typed URL, is another site; same-site includes another port of
 * localhost) and Origin, which for the page itself is this server's own
 * origin, "http://" and the Host header.  Tools (curl, Prometheus) send
 * neither.  NULL, or why the request is refused.
 */
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

static enum MHD_Result route(struct MHD_Connection *c, poe_inspector *in, const char *url,
                             const char *method, struct request *rq)
{
        const char *why;
        poe__params p;
        bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

        if (!host_allowed(c, in))
                return reply_error(c, 403, "the Host header does not name this inspector "
                                           "(loopback only: localhost, 127.0.0.1, [::1]); "
                                           "refused against DNS rebinding");
        /* The page's own files may be linked from anywhere; everything
         * else answers only the page, tools and typed URLs. */
        if ((strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics") == 0) &&
            (why = cross_site(c)))
                return reply_error(c, 403, "cross-site request refused: %s", why);
        memset(&p, 0, sizeof(p));
        if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, &p) < 0 ||
            p.n >= POE__MAX_PARAMS)
                return reply_error(c, 400, "too many query parameters (at most %d)",
                                   POE__MAX_PARAMS - 1);
        if (strcmp(url, "/metrics") == 0) {
                if (!get)
                        return reply_error(c, 405, "/metrics answers GET only");
                return submit(c, in, JOB_METRICS, "", &p, NULL);
        }
        if (strncmp(url, "/api/v1/", 8) != 0) {
                if (strncmp(url, "/api/", 5) == 0)
                        return reply_error(c, 404, "unknown API version or path: %s (this "
                                                   "server speaks /api/v1/)", url);
                if (!get)
                        return reply_error(c, 405, "the page answers GET only");
                return serve_asset(c, in, url);
        }
        url += 8;
        if (strcmp(url, "trace") == 0 || strcmp(url, "trace/tail") == 0) {
                if (!get)
                        return reply_error(c, 405, "%s answers GET only", url);
                return trace_query(c, in, &p, strcmp(url, "trace/tail") == 0);
        }
        if (strcmp(url, "trace/runs") == 0) {
                char err[256];
                json_t *runs;

                if (!in->log)
                        return reply_error(c, 503, "there is no trace log: %s", in->log_error);
                runs = poe__tracelog_runs(in->log, err, sizeof(err));
                if (!runs)
                        return reply_error(c, 500, "trace log query failed: %s", err);
                return reply_ok(c, in, runs, NULL, true);
        }
        if (strncmp(url, "export/", 7) == 0) {
                if (!get)
                        return reply_error(c, 405, "exports answer GET only");
                return trace_export(c, in, url + 7, &p, rq);
        }
        if (strcmp(url, "trace/groups") == 0) {
                json_error_t jerr;
                json_t *body;

                if (get) {
                        unsigned on = poe_kernel_debug_get(in->k);
                        json_t *g = json_object();
                        unsigned bit;

                        /* Read without the kernel: a plain word it writes. */
                        for (bit = 1; g && bit <= POE_TRACE_ALL; bit <<= 1)
                                if (poe_debug_group_name(bit))
                                        json_object_set_new(
                                                g, poe_debug_group_name(bit),
                                                json_pack("{s:b, s:b}", "compiled",
                                                          (poe_debug_compiled() & bit) != 0,
                                                          "enabled", (on & bit) != 0));
                        return reply_ok(c, in, g, NULL, false);
                }
                if (strcmp(method, "PUT") != 0 && strcmp(method, "POST") != 0)
                        return reply_error(c, 405, "trace/groups answers GET and PUT");
                if (!in->token)
                        return reply_error(c, 403, "this inspector is read-only: start it "
                                                   "with a token to switch trace groups");
                if (!authorized(c, in))
                        return reply_error(c, 401, "a valid 'Authorization: Bearer TOKEN' "
                                                   "header is required");
                if (rq->too_large)
                        return reply_error(c, 413, "the body is larger than %d bytes", MAX_BODY);
                body = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &jerr);
                if (!body)
                        return reply_error(c, 400, "the body is not JSON: %s", jerr.text);
                return submit(c, in, JOB_DEBUG_SET, "", NULL, body);
        }
        if (strncmp(url, "sessions/", 9) == 0 && strstr(url, "/signal")) {
                json_error_t jerr;
                json_t *body;
                char id[64];
                const char *slash = strchr(url + 9, '/');

                if (strcmp(method, "POST") != 0)
                        return reply_error(c, 405, "signal answers POST only");
                if (!in->token)
                        return reply_error(c, 403, "this inspector is read-only: start it "
                                                   "with a token to send signals");
                if (!authorized(c, in))
                        return reply_error(c, 401, "a valid 'Authorization: Bearer TOKEN' "
                                                   "header is required");
                if (!slash || strcmp(slash, "/signal") != 0 ||
                    (size_t)(slash - (url + 9)) >= sizeof(id))
                        return reply_error(c, 404, "no such endpoint: %s", url);
                memcpy(id, url + 9, (size_t)(slash - (url + 9)));
                id[slash - (url + 9)] = '\0';
                if (rq->too_large)
                        return reply_error(c, 413, "the body is larger than %d bytes", MAX_BODY);
                body = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &jerr);
                if (!body)
                        return reply_error(c, 400, "the body is not JSON: %s", jerr.text);
                return submit(c, in, JOB_SIGNAL, id, NULL, body);
        }
        if (!get)
                return reply_error(c, 405, "%s answers GET only", url);
        return submit(c, in, JOB_API, url, &p, NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
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
                *con_cls = rq;
                return MHD_YES;
        }
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
        return route(c, in, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        struct request *rq = *con_cls;
        poe_inspector *in = cls;

        (void)c;
        (void)toe;
        if (rq) {
                if (rq->export_slot)
                        atomic_fetch_sub(&in->exports, 1);
                free(rq->body);
                free(rq);
        }
        *con_cls = NULL;
}

int poe__http_start(poe_inspector *in)
{
        const union MHD_DaemonInfo *info;
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_ERROR_LOG;
        char host[64];

        pthread_mutex_init(&in->lock, NULL);
        in->lock_ready = true;
        if (in->addr.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        in->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, in, MHD_OPTION_SOCK_ADDR,
                                      (struct sockaddr *)&in->addr, MHD_OPTION_NOTIFY_COMPLETED,
                                      completed, in, MHD_OPTION_CONNECTION_LIMIT,
                                      (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
                                      (unsigned)60,
                                      /* jansson's json_dumps recurses: a tree
                                       * 10,000 sessions deep needs ~6 MiB. */
                                      MHD_OPTION_THREAD_STACK_SIZE, (size_t)16 << 20,
                                      /* Room to parse a query of a few
                                       * thousand parameters and refuse it
                                       * with a 400: with the default 32 KiB
                                       * libmicrohttpd runs out while parsing
                                       * and closes the connection without a
                                       * status (it still does past ~8,000). */
                                      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 << 10,
                                      MHD_OPTION_END);
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

void poe__http_stop(poe_inspector *in)
{
        struct poe__job *job;

        if (!in->lock_ready)
                return;
        /* Waiting requests give up now rather than at their deadline: the
         * kernel's thread, which would answer them, is the one stopping. */
        pthread_mutex_lock(&in->lock);
        in->stopping = true;
        for (job = in->jobs; job; job = job->next) {
                pthread_mutex_lock(&job->m);
                pthread_cond_broadcast(&job->cv);
                pthread_mutex_unlock(&job->m);
        }
        pthread_mutex_unlock(&in->lock);
        /* Queries and exports running on connection threads end now too:
         * stopping the daemon waits for those threads. */
        poe__tracelog_cancel_readers(in->log);
        if (in->daemon)
                MHD_stop_daemon(in->daemon);
        in->daemon = NULL;
}
