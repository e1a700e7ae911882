/*
 * Exports over HTTP (GET /api/v1/export/{format}): the trace log's
 * export stream (poe/tracelog.h) sent as the response's body, with the
 * body made on the pool, never on the polling thread.
 *
 * Making a 64 KiB block of an export takes a millisecond or two of
 * SQLite and rendering (more on a slow disk); on libmicrohttpd's one
 * polling thread that time would stall every other connection.  So the
 * pool fills each export's blocks ahead of the client, at most
 * EXPORT_AHEAD of them, and libmicrohttpd's content reader only copies
 * out of a filled block.  When none is filled yet, the reader suspends
 * the connection and returns 0 (libmicrohttpd calls it again once the
 * connection is resumed); the fill that makes the block resumes it.
 *
 * The states, under in->lock: a fill is queued (in->fill_head..tail)
 * or running (filling) or neither; a suspended connection always has
 * one queued or running, so it is always resumed (at the stop too:
 * poe__export_stop_fills resumes those whose fill will not run, and a
 * running fill resumes its own).  An export ends when its stream ends
 * or fails (its blocks are sent first, then the body ends or is cut),
 * or when libmicrohttpd lets go of the response (the client went, the
 * server stops): a fill running then frees it when it returns.
 *
 * Memory: EXPORT_AHEAD blocks per export, at most MAX_EXPORTS exports,
 * plus the streams' own (bounded) buffers.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "poe/tracelog.h"

/* Blocks filled ahead of the client, per export. */
#define EXPORT_AHEAD 2

struct poe__export {
        poe_inspector *in;
        poe__tl_export *x;         /* read by one fill at a time */
        struct MHD_Connection *mc; /* the connection it is sent on */
        struct poe__export *next;  /* in the pool's queue of fills */
        int64_t size;              /* the body's length, or -1 (chunked) */
        /* The rest under in->lock.  Blocks head .. head + ready - 1
         * (mod EXPORT_AHEAD) are filled; a fill writes the one after,
         * outside the lock, as no one else touches it. */
        char *block[EXPORT_AHEAD];
        size_t len[EXPORT_AHEAD];
        unsigned head, ready;
        size_t off;     /* of block[head], already handed out */
        int end;        /* 0: more to come; 1: the stream ended; -errno: it failed */
        int how;        /* POE__EXPORT_* once its outcome is known, else -1 */
        bool queued;    /* in the queue of fills */
        bool filling;   /* a worker fills a block */
        bool suspended; /* its connection waits for a block */
        bool gone;      /* libmicrohttpd let go of it: the running fill frees it */
};

/* Queues a fill when one is due: the stream goes on, no fill is queued
 * or running, a block is free, the inspector is not stopping.  Under
 * in->lock. */
static void fill_ahead(poe_inspector *in, struct poe__export *e)
{
        if (e->end || e->gone || e->queued || e->filling || e->ready == EXPORT_AHEAD ||
            in->stopping)
                return;
        e->queued = true;
        e->next = NULL;
        if (in->fill_tail)
                in->fill_tail->next = e;
        else
                in->fill_head = e;
        in->fill_tail = e;
        pthread_cond_signal(&in->pool_cv);
}

/* Out of the queue of fills: O(queue), which holds at most MAX_EXPORTS.
 * Under in->lock. */
static void fill_unqueue(poe_inspector *in, struct poe__export *e)
{
        struct poe__export **p, *prev = NULL;

        for (p = &in->fill_head; *p; prev = *p, p = &(*p)->next) {
                if (*p != e)
                        continue;
                *p = e->next;
                if (in->fill_tail == e)
                        in->fill_tail = prev;
                break;
        }
        e->next = NULL;
        e->queued = false;
}

struct poe__export *poe__export_next_fill(poe_inspector *in)
{
        struct poe__export *e = in->fill_head;

        if (!e)
                return NULL;
        fill_unqueue(in, e);
        e->filling = true;
        return e;
}

/* Sets the outcome, the first one only.  Under in->lock. */
static void set_how(struct poe__export *e, int how)
{
        if (e->how < 0)
                e->how = how;
}

/* The outcome of a stream that failed with err. */
static int how_failed(poe_inspector *in, int err)
{
        if (err == -ETIMEDOUT)
                return POE__EXPORT_DEADLINE;
        if (err == -ECANCELED)
                return in->stopping ? POE__EXPORT_STOPPED : POE__EXPORT_GONE;
        return POE__EXPORT_FAILED;
}

/* The end of an export: counted, its stream and blocks let go, its slot
 * given back.  No lock; no one else holds it. */
static void export_destroy(struct poe__export *e)
{
        poe_inspector *in = e->in;
        int i;

        atomic_fetch_add(&in->exports_ended[e->how < 0 ? POE__EXPORT_GONE : e->how], 1);
        poe__tl_export_close(e->x);
        for (i = 0; i < EXPORT_AHEAD; i++)
                free(e->block[i]);
        atomic_fetch_sub(&in->exports, 1);
        free(e);
}

void poe__export_fill(struct poe__export *e)
{
        poe_inspector *in = e->in;
        size_t got = 0;
        unsigned slot;
        ssize_t n = 1;
        char *b;

        pthread_mutex_lock(&in->lock);
        e->filling = true;
        slot = (e->head + e->ready) % EXPORT_AHEAD;
        pthread_mutex_unlock(&in->lock);

        b = e->block[slot];
        if (!b)
                b = e->block[slot] = malloc(POE__EXPORT_BLOCK);
        if (!b)
                n = -ENOMEM;
        /* Fewer bytes than asked only at the stream's end (or a short
         * read of the SQLite copy): then the next read says which. */
        while (b && got < POE__EXPORT_BLOCK && n > 0) {
                n = poe__tl_export_read(e->x, b + got, POE__EXPORT_BLOCK - got);
                if (n > 0)
                        got += (size_t)n;
        }

        pthread_mutex_lock(&in->lock);
        e->filling = false;
        if (got) {
                e->len[slot] = got;
                e->ready++;
        }
        if (n == 0)
                e->end = 1;
        else if (n < 0)
                e->end = (int)n;
        if (e->gone) {
                if (e->end < 0)
                        set_how(e, how_failed(in, e->end));
                pthread_mutex_unlock(&in->lock);
                export_destroy(e);
                return;
        }
        if (in->stopping && !e->end)
                e->end = -ECANCELED;
        fill_ahead(in, e);
        if (e->suspended) {
                e->suspended = false;
                MHD_resume_connection(e->mc);
        }
        pthread_mutex_unlock(&in->lock);
}

void poe__export_stop_fills(poe_inspector *in)
{
        struct poe__export *e;

        while ((e = in->fill_head)) {
                fill_unqueue(in, e);
                if (!e->end)
                        e->end = -ECANCELED;
                if (e->suspended) {
                        e->suspended = false;
                        MHD_resume_connection(e->mc);
                }
        }
}

/*
 * libmicrohttpd's content reader, on the polling thread: copies out of
 * the filled block, or ends the body (its end, or cut short: libmicrohttpd
 * then closes the connection without the final chunk, or before the
 * announced length, which a client sees as an incomplete body), or
 * suspends the connection until a fill resumes it.
 */
static ssize_t export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct poe__export *e = cls;
        poe_inspector *in = e->in;
        size_t n;
        int end;

        pthread_mutex_lock(&in->lock);
        if (in->stopping) {
                set_how(e, POE__EXPORT_STOPPED);
                pthread_mutex_unlock(&in->lock);
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (e->ready) {
                n = e->len[e->head] - e->off;
                if (n > max)
                        n = max;
                memcpy(buf, e->block[e->head] + e->off, n);
                e->off += n;
                if (e->off == e->len[e->head]) {
                        e->off = 0;
                        e->head = (e->head + 1) % EXPORT_AHEAD;
                        e->ready--;
                }
                /* With a length, libmicrohttpd asks for no more than it:
                 * the last byte handed out is the end. */
                if (e->size >= 0 && pos + n == (uint64_t)e->size)
                        set_how(e, POE__EXPORT_COMPLETE);
                fill_ahead(in, e);
                pthread_mutex_unlock(&in->lock);
                return (ssize_t)n;
        }
        end = e->end;
        if (end > 0) {
                set_how(e, POE__EXPORT_COMPLETE);
                pthread_mutex_unlock(&in->lock);
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (end < 0) {
                set_how(e, how_failed(in, end));
                pthread_mutex_unlock(&in->lock);
                /* A stop or a client gone is no fault of the log's; a
                 * deadline or a failure is said (the body is cut). */
                if (end != -ECANCELED)
                        fprintf(stderr, "poe-inspector: an export ended early: %s\n",
                                poe__tl_export_error(e->x));
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        /* Nothing filled yet: a fill is queued or running (fill_ahead
         * makes sure), and it resumes the connection. */
        fill_ahead(in, e);
        e->suspended = true;
        MHD_suspend_connection(e->mc);
        pthread_mutex_unlock(&in->lock);
        return 0;
}

/* libmicrohttpd's free callback: the response is done with, sent or not
 * (the client went, the connection timed out, the server stops, or it
 * was never queued).  A running fill is told to stop and frees it. */
static void export_free(void *cls)
{
        struct poe__export *e = cls;
        poe_inspector *in = e->in;
        bool busy;

        pthread_mutex_lock(&in->lock);
        e->gone = true;
        if (e->queued)
                fill_unqueue(in, e);
        set_how(e, in->stopping ? POE__EXPORT_STOPPED : POE__EXPORT_GONE);
        busy = e->filling;
        /* Under the lock: once it is let go, the fill may free e. */
        if (busy)
                poe__tl_export_cancel(e->x);
        pthread_mutex_unlock(&in->lock);
        if (!busy)
                export_destroy(e);
}

/*
 * GET export/{name}, on the pool: the export opened (errors found then,
 * a bad parameter, a format, a log that cannot be read, are answered
 * with a status; later ones cut the body), its first block filled here,
 * and the response made with the content reader above.  The slot (one
 * of MAX_EXPORTS) is the request's until the export is made, then the
 * export's until export_destroy.
 */
int poe__http_export(poe__call *c)
{
        poe_inspector *in = c->in;
        struct request *rq = c->rq;
        poe__trace_query q;
        char format[32], err[256], disp[128];
        struct poe__export *e;
        struct MHD_Response *resp;
        poe__tl_export *x = NULL;
        int r;

        if (c->name_len >= sizeof(format))
                return poe__reply_error(c, 404,
                                        "no such export format (jsonl, csv, chrome, "
                                        "otlp, sqlite)");
        memcpy(format, c->name, c->name_len);
        format[c->name_len] = '\0';
        /* The slot is the request's until the export takes it, or the
         * request completes (completed(), http.c). */
        if (atomic_fetch_add(&in->exports, 1) >= POE__MAX_EXPORTS) {
                atomic_fetch_sub(&in->exports, 1);
                return poe__reply_too_many(c, "exports", POE__MAX_EXPORTS);
        }
        rq->export_slot = true;
        if (poe__trace_query_parse(c->params, &q, err, sizeof(err)) < 0)
                return poe__reply_error(c, 400, "%s", err);
        r = poe__tracelog_export_open(in->log, format, &q, &x, err, sizeof(err));
        if (r == -EINVAL)
                return poe__reply_error(c, 404,
                                        "no such export format: %s (jsonl, csv, "
                                        "chrome, otlp, sqlite)",
                                        format);
        if (r == -ECANCELED)
                return poe__reply_error(c, 503, "the inspector is stopping");
        if (r < 0)
                return poe__reply_error(c, 500, "export failed: %s", err);
        e = calloc(1, sizeof(*e));
        if (!e) {
                poe__tl_export_close(x);
                return poe__reply_error(c, 500, "out of memory");
        }
        e->in = in;
        e->x = x;
        e->mc = rq->mc;
        e->how = -1;
        /* The SQLite copy's length is known: it goes as Content-Length;
         * the others are chunked. */
        e->size = poe__tl_export_size(x);
        resp = MHD_create_response_from_callback(e->size >= 0 ? (uint64_t)e->size
                                                              : MHD_SIZE_UNKNOWN,
                                                 POE__EXPORT_BLOCK, export_read, e, export_free);
        if (!resp) {
                poe__tl_export_close(x);
                free(e);
                return poe__reply_error(c, 500, "out of memory");
        }
        rq->export_slot = false;
        /* The first block now, on this worker: no one else sees e yet. */
        poe__export_fill(e);
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", poe__tl_export_filename(x));
        return poe__reply_response(c, 200, resp, poe__tl_export_content_type(x), disp);
}
