/*
 * The OpenTelemetry export: OTLP/JSON, one TracesData object per line (the
 * JSON Lines that a collector's file receiver, or Jaeger through one,
 * ingests), at most SPANS_PER_LINE spans to a line.  The live push
 * (otlp-push.c) feeds the same code the records as they are written and
 * sends each line as one OTLP/HTTP request.
 *
 * One run is one resource (service.name, process.pid, host.name,
 * poe.kernel_id, telemetry.sdk.*) with one scope, "libpoe".  Its traces
 * are its causal chains: a trace starts where an event comes from outside
 * any handler (a post from the main program or from another thread, an
 * OS signal, an fd ready, a session started from the main program) and
 * holds everything the handlers of that event caused, by posts and calls,
 * transitively.  A timer firing starts a trace too: the dispatch of an
 * alarm or delay is the root of a new trace with a span link to the
 * timer's span in the trace that set it, so a timer that re-arms itself
 * makes one short trace per tick, each linked to the one before, not one
 * chain as long as the run.  A chain deeper than CHAIN_MAX (a handler
 * that yields to itself forever) goes on in a new trace the same way,
 * linked to where it was cut.  Trace ids come from the root's record id
 * (and the run and the kernel id), so exporting the same run twice gives
 * the same ids.  The spans:
 *
 *  - a dispatch, from its "dispatch" record to its "return", named after
 *    its event, of kind INTERNAL, with poe.session, poe.sender and
 *    poe.event_id.  One whose handler died (a "die" record: poe_die) has
 *    status ERROR with the die's message, and an "exception" span event
 *    with exception.message, code.filepath and code.lineno (OpenTelemetry's
 *    semantic conventions).  One that never returned in the selection
 *    carries poe.returned = false; one that an outer dispatch's return
 *    closed (unwound, or its own return was dropped) also has an error
 *    status.
 *  - a post or a timer (an "enqueue" record: post, yield, alarm, delay),
 *    from the enqueue to the dispatch of its queue item ("post <event>",
 *    "timer <event>"): its duration is the time the event waited.  A post
 *    is the parent of its dispatch, and a child of the dispatch it was
 *    posted from; a timer is the child of the dispatch that set it, and
 *    its dispatch's link.  A call made from a handler is a child of that
 *    handler's dispatch.
 *
 * Every other record (session starts and stops, discards, returns that
 * match no dispatch, the enqueues of _garbage_collect, which the kernel
 * dequeues without a dispatch, ...) becomes a span event on the innermost dispatch
 * open at the time, at most EVENTS_PER_SPAN a span (the rest counted in
 * droppedEventsCount); one outside any dispatch is skipped.
 *
 * Span ids come from the record ids of the dispatch and of the enqueue,
 * not from event ids: the calls made from a handler carry its queue
 * item's event id too, and span ids must be unique.  Times are the
 * records' CLOCK_MONOTONIC nanoseconds moved to the epoch by one offset,
 * taken from the first record's wall time: durations stay exact and an
 * end is never before its start.  OTLP/JSON writes 64-bit integers as
 * decimal strings, ids as lowercase hex, enums as numbers.
 *
 * The lines are written as the records are read, a span at a time, as
 * soon as it ends; what is held meanwhile is bounded (tracelog-internal.h
 * gives the caps): the open dispatches' spans (at most STACK_MAX, with at
 * most EVENTS_HELD_MAX span events among them: past it an event is
 * counted in its span's droppedEventsCount), and the pending posts (at
 * most POSTS_MAX, each kept as its span's JSON text, not as a tree).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-internal.h"

#define SPANS_PER_LINE     1000
#define SPAN_KIND_INTERNAL 1
#define STATUS_CODE_ERROR  2
/* The deepest a trace's chain of spans goes before it goes on in a new
 * trace, linked: deeper than any chain a reader follows by hand. */
#define CHAIN_MAX 64

typedef struct tl_otlp {
        obuf *b;
        tl_pair_counts *counts;
        uint64_t seed; /* of the trace and span ids */
        size_t spans_per_line;
        /* What every line starts with, up to its spans' "[": the
         * resource and the scope. */
        char *line_head;
        size_t line_spans; /* spans on the line being written */
        const char *service; /* service.name; NULL: "poe" */
        /* Told of each line's end: its end in b and its spans. */
        void (*line_end)(void *ctx, size_t end, size_t spans);
        void *line_ctx;
        bool have_base;
        int64_t base_mono, base_unix; /* ns */
        int64_t last_ns;
        dstack ds;
        size_t events_held; /* span events among the open dispatches */
        post_table posts;   /* posts waiting for their dispatch */
        size_t post_pos;    /* the end: the next pending post to finish */
        bool tail;
        /* The queue item dispatched last outside any handler, and where
         * its dispatch went: a signal is one queue item dispatched to
         * each of its watchers in turn, and each such dispatch is the
         * post's child. */
        uint64_t last_item, last_item_span;
        uint64_t last_item_trace[2];
        uint32_t last_item_depth;
} otlp;

/* ---- ids ---- */

/* splitmix64's finalizer: every input bit reaches every output bit. */
static uint64_t mix(uint64_t x)
{
        x += 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ull;

        while (*s) {
                h ^= (unsigned char)*s++;
                h *= 0x100000001b3ull;
        }
        return h;
}

static void trace_seed(otlp *o, int64_t run, const char *kernel_id)
{
        o->seed = mix(fnv1a(kernel_id) ^ mix((uint64_t)run));
}

/* A new trace's id, from its root's record id. */
static void trace_new(const otlp *o, int64_t rec_id, uint64_t ret[2])
{
        uint64_t h = mix(o->seed ^ mix((uint64_t)rec_id) ^ 0x7472616365ull);

        ret[0] = mix(h ^ 1);
        ret[1] = mix(h ^ 2);
        /* All zeros is "no trace" in OTLP. */
        if (!ret[0] && !ret[1])
                ret[1] = 1;
}

static json_t *trace_hex(const uint64_t t[2])
{
        char buf[33];

        snprintf(buf, sizeof(buf), "%016" PRIx64 "%016" PRIx64, t[0], t[1]);
        return json_string(buf);
}

static uint64_t span_id(const otlp *o, int64_t rec_id)
{
        uint64_t id = mix(o->seed ^ mix((uint64_t)rec_id));

        return id ? id : 1;
}

static json_t *hex_id(uint64_t id)
{
        char buf[17];

        snprintf(buf, sizeof(buf), "%016" PRIx64, id);
        return json_string(buf);
}

/* ---- values ---- */

static json_t *decimal(int64_t v)
{
        char buf[24];

        snprintf(buf, sizeof(buf), "%lld", (long long)v);
        return json_string(buf);
}

static json_t *unix_nano(otlp *o, int64_t ns)
{
        int64_t t = poe__tl_sat_add(o->base_unix, poe__tl_sat_sub(ns, o->base_mono));

        return decimal(t > 0 ? t : 0);
}

/* Attributes: {"key": k, "value": {"stringValue"|"intValue"|"boolValue": v}}.
 * A failure (NULL) is caught where they are added. */
static json_t *attr_str(const char *key, json_t *v)
{
        return json_pack("{s:s, s:{s:o}}", "key", key, "value", "stringValue", v);
}

static json_t *attr_int(const char *key, int64_t v)
{
        return json_pack("{s:s, s:{s:o}}", "key", key, "value", "intValue", decimal(v));
}

static json_t *attr_bool(const char *key, bool v)
{
        return json_pack("{s:s, s:{s:b}}", "key", key, "value", "boolValue", v);
}

/* Appends a (consumed) to list; either NULL is an allocation that
 * failed. */
static void add(otlp *o, json_t *list, json_t *a)
{
        if (!list) {
                json_decref(a);
                o->b->oom = true;
                return;
        }
        if (!a || json_array_append_new(list, a) < 0)
                o->b->oom = true;
}

/* Adds an attribute to a span (its "attributes" list). */
static void span_attr(otlp *o, json_t *span, json_t *a)
{
        add(o, json_object_get(span, "attributes"), a);
}

/* poe.session, poe.sender, poe.event_id (when there is one), and the
 * record's id, to find it in the log. */
static json_t *record_attrs(otlp *o, sqlite3_stmt *st)
{
        json_t *a = json_array();

        add(o, a, attr_int("poe.session", sqlite3_column_int64(st, COL_SESSION)));
        add(o, a, attr_int("poe.sender", sqlite3_column_int64(st, COL_SENDER)));
        if (sqlite3_column_type(st, COL_EVENT_ID) != SQLITE_NULL)
                add(o, a, attr_int("poe.event_id", sqlite3_column_int64(st, COL_EVENT_ID)));
        add(o, a, attr_int("poe.record_id", sqlite3_column_int64(st, COL_ID)));
        return a;
}

/* ---- spans ---- */

/* Opens a span's place on the current line, starting the line. */
static void line_open(otlp *o)
{
        if (o->line_spans == 0)
                poe__tl_ob_puts(o->b, o->line_head ? o->line_head : "");
        else
                poe__tl_ob_put(o->b, ",", 1);
}

/* Closes it; the line ends after SPANS_PER_LINE spans. */
static void line_end(otlp *o)
{
        poe__tl_ob_puts(o->b, "]}]}]}\n");
        if (o->line_end)
                o->line_end(o->line_ctx, o->b->len, o->line_spans);
        o->line_spans = 0;
}

static void line_close(otlp *o)
{
        if (++o->line_spans >= o->spans_per_line)
                line_end(o);
}

void poe__tl_otlp_flush(tl_otlp *o)
{
        if (o->line_spans > 0)
                line_end(o);
}

void poe__tl_otlp_on_line(tl_otlp *o, void (*fn)(void *ctx, size_t end, size_t spans), void *ctx)
{
        o->line_end = fn;
        o->line_ctx = ctx;
}

void poe__tl_otlp_set_line_spans(tl_otlp *o, size_t n)
{
        o->spans_per_line = n < 1 ? 1 : n > SPANS_PER_LINE ? SPANS_PER_LINE : n;
}

/* A span of trace `trace`; link_span non-zero: with a link to that
 * span of trace link (why: the link's poe.link attribute). */
static json_t *span_new(otlp *o, const uint64_t trace[2], uint64_t id, uint64_t parent,
                        json_t *name, int64_t ns, json_t *attrs, const uint64_t link[2],
                        uint64_t link_span, const char *why)
{
        json_t *s = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o}", "traceId", trace_hex(trace),
                              "spanId", hex_id(id), "name", name, "kind", SPAN_KIND_INTERNAL,
                              "startTimeUnixNano", unix_nano(o, ns), "attributes", attrs);

        if (s && parent && poe__tl_jset(s, "parentSpanId", hex_id(parent)) < 0) {
                json_decref(s);
                s = NULL;
        }
        if (s && link_span &&
            poe__tl_jset(s, "links",
                         json_pack("[{s:o, s:o, s:[o]}]", "traceId", trace_hex(link), "spanId",
                                   hex_id(link_span), "attributes",
                                   attr_str("poe.link", json_string(why)))) < 0) {
                json_decref(s);
                s = NULL;
        }
        if (!s)
                o->b->oom = true;
        return s;
}

/* Ends a span (consumed) and writes it on the current line. */
static void span_end(otlp *o, json_t *s, int64_t start, int64_t end)
{
        if (!s)
                return;
        if (poe__tl_jset(s, "endTimeUnixNano", unix_nano(o, end > start ? end : start)) < 0) {
                json_decref(s);
                o->b->oom = true;
                return;
        }
        line_open(o);
        poe__tl_ob_json(o->b, s);
        line_close(o);
}

/*
 * A post's span while it waits, as text: its JSON up to the end of its
 * attributes' list, with no parent (the post records it) and no end.
 * The keys are written in the order they were added (jansson keeps it),
 * so post_end only appends: the outcome to the attributes, the parent,
 * then the end, as a tree of the whole span would have been written.
 * NULL when out of memory.
 */
static char *post_head(otlp *o, json_t *s)
{
        char *text = s ? json_dumps(s, JSON_COMPACT) : NULL;
        size_t n = text ? strlen(text) : 0;

        json_decref(s);
        if (n < 2 || strcmp(text + n - 2, "]}") != 0) {
                free(text);
                o->b->oom = true;
                return NULL;
        }
        text[n - 2] = '\0';
        return text;
}

/* Ends a post's span (its head freed) and writes it. */
static void post_end(otlp *o, posted *p, int64_t end, const char *outcome)
{
        int64_t t = poe__tl_sat_add(o->base_unix,
                                    poe__tl_sat_sub(end > p->ns ? end : p->ns, o->base_mono));

        if (!p->head)
                return;
        line_open(o);
        poe__tl_ob_puts(o->b, p->head);
        poe__tl_ob_puts(o->b, ",{\"key\":\"poe.outcome\",\"value\":{\"stringValue\":\"");
        poe__tl_ob_puts(o->b, outcome);
        poe__tl_ob_puts(o->b, "\"}}]");
        if (p->parent)
                poe__tl_ob_printf(o->b, ",\"parentSpanId\":\"%016" PRIx64 "\"", p->parent);
        poe__tl_ob_printf(o->b, ",\"endTimeUnixNano\":\"%lld\"}", (long long)(t > 0 ? t : 0));
        line_close(o);
        free(p->head);
        p->head = NULL;
}

/* Ends a dispatch's span; ret is its return record's message (consumed),
 * NULL when it did not return. */
static void dispatch_end(otlp *o, open_dispatch *d, int64_t end, json_t *ret, bool unwound)
{
        span_attr(o, d->obj, attr_bool("poe.returned", ret != NULL));
        if (ret)
                span_attr(o, d->obj, attr_str("poe.return", ret));
        if (unwound && !d->died && d->obj &&
            poe__tl_jset(d->obj, "status",
                         json_pack("{s:i, s:s}", "code", STATUS_CODE_ERROR, "message",
                                   "no return: unwound by poe_die, or its return record was "
                                   "dropped")) < 0)
                o->b->oom = true;
        if (!ret)
                o->counts->unreturned += !unwound;
        span_end(o, d->obj, d->ns, end);
        d->obj = NULL;
        o->events_held -= d->events;
        d->events = 0;
        d->died = false;
        free(d->event);
        d->event = NULL;
}

static void on_dispatch(otlp *o, sqlite3_stmt *st, uint64_t sid, const char *event, int64_t ns)
{
        uint64_t event_id = (uint64_t)sqlite3_column_int64(st, COL_EVENT_ID), parent = 0;
        int64_t rec_id = sqlite3_column_int64(st, COL_ID);
        uint64_t trace[2] = { 0, 0 }, link[2] = { 0, 0 }, link_span = 0;
        const char *why = NULL;
        uint32_t depth = 0;
        posted post = { .event_id = 0 };
        open_dispatch *d;

        if (o->ds.depth == STACK_MAX) {
                /* Never returned (a filter hid the returns): ended where
                 * they began. */
                d = poe__tl_dstack_shift(&o->ds);
                dispatch_end(o, d, d->ns, NULL, false);
        }
        /* The first dispatch of a queue item is its own: it ends the
         * post's span and is its child (a timer's: the root of a new
         * trace, linked to it).  Calls made from its handler carry the
         * same id and find the post taken. */
        if (poe__tl_post_take(&o->posts, event_id, &post)) {
                post_end(o, &post, ns, "dispatched");
                if (post.timer || post.depth >= CHAIN_MAX) {
                        memcpy(link, post.trace, sizeof(link));
                        link_span = post.span;
                        why = post.timer ? "timer" : "continued";
                } else {
                        parent = post.span;
                        memcpy(trace, post.trace, sizeof(trace));
                        depth = post.depth;
                }
                if (o->ds.depth == 0) {
                        o->last_item = event_id;
                        o->last_item_span = parent;
                }
        } else if (o->ds.depth > 0) {
                d = poe__tl_dstack_at(&o->ds, 1);
                if (d->depth >= CHAIN_MAX) {
                        memcpy(link, d->trace, sizeof(link));
                        link_span = d->span;
                        why = "continued";
                } else {
                        parent = d->span;
                        memcpy(trace, d->trace, sizeof(trace));
                        depth = d->depth;
                }
        } else if (event_id && event_id == o->last_item && o->last_item_span) {
                parent = o->last_item_span;
                memcpy(trace, o->last_item_trace, sizeof(trace));
                depth = o->last_item_depth;
        }
        if (!parent)
                trace_new(o, rec_id, trace);
        d = poe__tl_dstack_push(&o->ds, sid, event, ns);
        if (!d) {
                o->b->oom = true;
                return;
        }
        d->span = span_id(o, rec_id);
        memcpy(d->trace, trace, sizeof(trace));
        d->depth = depth + 1;
        if (o->ds.depth == 1 && event_id == o->last_item && parent) {
                memcpy(o->last_item_trace, trace, sizeof(trace));
                o->last_item_depth = depth;
        }
        d->obj = span_new(o, d->trace, d->span, parent, poe__tl_jstr(event ? event : "dispatch"),
                          ns, record_attrs(o, st), link, link_span, why);
}

/* Whether an enqueue record is a timer's (an alarm or a delay): its first
 * number says so, or, in a log written before the numbers were kept, its
 * line. */
static bool is_timer(sqlite3_stmt *st)
{
        const char *msg;

        if (sqlite3_column_type(st, COL_ARG0) != SQLITE_NULL)
                return sqlite3_column_int64(st, COL_ARG0) == 1;
        msg = (const char *)sqlite3_column_text(st, COL_MESSAGE);
        return msg && strncmp(msg, "enqueued alarm", 14) == 0;
}

static void on_enqueue(otlp *o, sqlite3_stmt *st, uint64_t event_id, const char *event, int64_t ns)
{
        posted p = { .event_id = event_id, .ns = ns }, old;
        json_t *attrs = record_attrs(o, st);
        int64_t rec_id = sqlite3_column_int64(st, COL_ID);
        open_dispatch *d = o->ds.depth ? poe__tl_dstack_at(&o->ds, 1) : NULL;
        char name[160];

        p.timer = is_timer(st);
        snprintf(name, sizeof(name), "%s %.120s", p.timer ? "timer" : "post", event ? event : "?");
        add(o, attrs, attr_str("poe.message", poe__tl_col_text(st, COL_MESSAGE)));
        p.sender = (uint64_t)sqlite3_column_int64(st, COL_SENDER);
        p.span = span_id(o, rec_id);
        /* Posted from a handler: a step of its chain.  From anywhere
         * else (the main program, another thread, the kernel on an OS
         * signal): the start of one. */
        if (d && d->depth < CHAIN_MAX) {
                p.parent = d->span;
                memcpy(p.trace, d->trace, sizeof(p.trace));
                p.depth = d->depth + 1;
        } else {
                p.parent = 0;
                trace_new(o, rec_id, p.trace);
                p.depth = 1;
        }
        p.head = post_head(o, span_new(o, p.trace, p.span, 0, poe__tl_jstr(name), ns, attrs,
                                       d ? d->trace : NULL, d && !p.parent ? d->span : 0,
                                       "continued"));
        if (!p.head)
                return;
        switch (poe__tl_post_put(&o->posts, &p, &old)) {
        case 0:
                /* The same id twice: the first can no longer be told
                 * apart. */
                if (old.event_id) {
                        o->counts->undispatched++;
                        post_end(o, &old, ns, "pending");
                }
                break;
        case -ENOSPC:
                /* Too many pending to pair one more. */
                o->counts->untracked++;
                post_end(o, &p, ns, "untracked");
                break;
        default:
                free(p.head);
                o->b->oom = true;
                break;
        }
}

/*
 * A die record (POE_TK_DIE): the innermost open dispatch of its session
 * and event died.  Its span gets status ERROR with the message and an
 * "exception" event (OpenTelemetry's semantic conventions: exception.type,
 * exception.message, code.filepath, code.lineno); it is not counted
 * against the span's cap of events: a span dies once.
 */
static void on_die(otlp *o, sqlite3_stmt *st, uint64_t sid, const char *event, int64_t ns)
{
        const char *text = (const char *)sqlite3_column_blob(st, COL_TEXT);
        int n = sqlite3_column_bytes(st, COL_TEXT);
        size_t mlen = text ? strnlen(text, (size_t)n) : 0, cut = mlen;
        open_dispatch *d;
        json_t *evs, *attrs, *msg, *ev;

        if (!o->ds.depth || !(d = poe__tl_dstack_at(&o->ds, 1))->obj || d->sid != sid ||
            !poe__tl_same_event(d->event, event) || d->died)
                return;
        /* Perl's die message ends in a newline; the status's does not. */
        while (cut > 0 && text[cut - 1] == '\n')
                cut--;
        msg = poe__tl_jstr_n(text ? text : "", cut);
        if (poe__tl_jset(d->obj, "status",
                         json_pack("{s:i, s:O}", "code", STATUS_CODE_ERROR, "message", msg)) < 0)
                o->b->oom = true;
        attrs = json_array();
        add(o, attrs, attr_str("exception.type", json_string("poe_die")));
        add(o, attrs, attr_str("exception.message", msg));
        if (text && mlen < (size_t)n)
                add(o, attrs, attr_str("code.filepath",
                                       poe__tl_jstr_n(text + mlen + 1, (size_t)n - mlen - 1)));
        if (sqlite3_column_type(st, COL_ARG0) != SQLITE_NULL)
                add(o, attrs, attr_int("code.lineno", sqlite3_column_int64(st, COL_ARG0)));
        add(o, attrs, attr_int("poe.record_id", sqlite3_column_int64(st, COL_ID)));
        evs = json_object_get(d->obj, "events");
        if (!evs && poe__tl_jset(d->obj, "events", evs = json_array()) < 0) {
                json_decref(attrs);
                o->b->oom = true;
                return;
        }
        ev = json_pack("{s:o, s:s, s:o}", "timeUnixNano", unix_nano(o, ns), "name", "exception",
                       "attributes", attrs);
        add(o, evs, ev);
        d->died = true;
        d->events++;
        o->events_held++;
}

/* Any other record: an event on the innermost open dispatch's span. */
static void on_other(otlp *o, sqlite3_stmt *st, const char *kind, const char *event, int64_t ns)
{
        open_dispatch *d;
        json_t *span, *evs, *ev, *attrs, *dropped;
        char name[160];

        if (!o->ds.depth || !(span = (d = poe__tl_dstack_at(&o->ds, 1))->obj))
                return;
        evs = json_object_get(span, "events");
        if (!evs && poe__tl_jset(span, "events", evs = json_array()) < 0) {
                o->b->oom = true;
                return;
        }
        if (json_array_size(evs) >= EVENTS_PER_SPAN || o->events_held >= EVENTS_HELD_MAX) {
                dropped = json_object_get(span, "droppedEventsCount");
                if (poe__tl_jset(span, "droppedEventsCount",
                                 json_integer(json_integer_value(dropped) + 1)) < 0)
                        o->b->oom = true;
                o->counts->events_dropped++;
                return;
        }
        if (event)
                snprintf(name, sizeof(name), "%s %.120s", kind ? kind : "?", event);
        else
                snprintf(name, sizeof(name), "%s", kind ? kind : "?");
        attrs = record_attrs(o, st);
        add(o, attrs, attr_str("poe.group", poe__tl_col_text(st, COL_GROUP)));
        add(o, attrs, attr_str("poe.message", poe__tl_col_text(st, COL_MESSAGE)));
        ev = json_pack("{s:o, s:o, s:o}", "timeUnixNano", unix_nano(o, ns), "name",
                       poe__tl_jstr(name), "attributes", attrs);
        add(o, evs, ev);
        d->events++;
        o->events_held++;
}

void poe__tl_otlp_record(tl_otlp *o, sqlite3_stmt *st)
{
        const char *kind = (const char *)sqlite3_column_text(st, COL_KIND);
        const char *grp = (const char *)sqlite3_column_text(st, COL_GROUP);
        const char *event = (const char *)sqlite3_column_text(st, COL_EVENT);
        uint64_t sid = (uint64_t)sqlite3_column_int64(st, COL_SESSION);
        uint64_t event_id = (uint64_t)sqlite3_column_int64(st, COL_EVENT_ID);
        int64_t ns = sqlite3_column_int64(st, COL_MONO_NS);
        bool events = grp && kind && strcmp(grp, "TRACE_EVENTS") == 0;
        posted p;
        size_t n;

        if (!o->have_base) {
                o->have_base = true;
                o->base_mono = ns;
                o->base_unix = (int64_t)llround(sqlite3_column_double(st, COL_WALL) * 1e9);
        }
        o->last_ns = ns;
        if (events && strcmp(kind, "dispatch") == 0) {
                on_dispatch(o, st, sid, event, ns);
                return;
        }
        if (events && strcmp(kind, "return") == 0 &&
            (n = poe__tl_dstack_match(&o->ds, sid, event)) > 0) {
                while (n-- > 0)
                        dispatch_end(o, poe__tl_dstack_pop(&o->ds), ns,
                                     n == 0 ? poe__tl_col_text(st, COL_MESSAGE) : NULL, n > 0);
                return;
        }
        if (events && strcmp(kind, "enqueue") == 0 && poe__tl_is_post(event, event_id)) {
                on_enqueue(o, st, event_id, event, ns);
                return;
        }
        if (events && strcmp(kind, "die") == 0)
                on_die(o, st, sid, event, ns);
        if (events && strcmp(kind, "discard") == 0 && poe__tl_post_take(&o->posts, event_id, &p))
                post_end(o, &p, ns, "discarded");
        on_other(o, st, kind, event, ns);
}

/* The resource and the scope, from the run's row. */
static int describe_run(otlp *o, sqlite3 *db, int64_t run)
{
        sqlite3_stmt *rs = NULL;
        const char *kernel_id = "", *version = NULL;
        json_t *attrs = json_array(), *scope, *line;
        size_t n;
        int rc;

        rc = sqlite3_prepare_v2(db,
                                "SELECT pid, kernel_id, hostname, poe_version FROM runs "
                                "WHERE id = ?",
                                -1, &rs, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(rs, 1, run);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(rs);
        add(o, attrs, attr_str("service.name", json_string(o->service ? o->service : "poe")));
        add(o, attrs, attr_str("telemetry.sdk.name", json_string("libpoe")));
        add(o, attrs, attr_str("telemetry.sdk.language", json_string("c")));
        add(o, attrs, attr_int("poe.run_id", run));
        if (rc == SQLITE_ROW) {
                if (sqlite3_column_text(rs, 1))
                        kernel_id = (const char *)sqlite3_column_text(rs, 1);
                version = (const char *)sqlite3_column_text(rs, 3);
                add(o, attrs, attr_int("process.pid", sqlite3_column_int64(rs, 0)));
                add(o, attrs, attr_str("poe.kernel_id", poe__tl_jstr(kernel_id)));
                if (sqlite3_column_text(rs, 2))
                        add(o, attrs, attr_str("host.name", poe__tl_col_text(rs, 2)));
                if (version)
                        add(o, attrs, attr_str("telemetry.sdk.version", poe__tl_jstr(version)));
        } else if (rc != SQLITE_DONE) {
                sqlite3_finalize(rs);
                json_decref(attrs);
                return rc;
        }
        trace_seed(o, run, kernel_id);
        scope = version ? json_pack("{s:s, s:o}", "name", "libpoe", "version",
                                    poe__tl_jstr(version))
                        : json_pack("{s:s}", "name", "libpoe");
        sqlite3_finalize(rs);
        /* A line with no spans, cut after its spans' "[". */
        line = json_pack("{s:[{s:{s:o}, s:[{s:o*, s:[]}]}]}", "resourceSpans", "resource",
                         "attributes", attrs, "scopeSpans", "scope", scope, "spans");
        o->line_head = line ? json_dumps(line, JSON_COMPACT) : NULL;
        json_decref(line);
        n = o->line_head ? strlen(o->line_head) : 0;
        if (n > 6 && strcmp(o->line_head + n - 6, "]}]}]}") == 0 && scope)
                o->line_head[n - 6] = '\0';
        else
                o->b->oom = true;
        return SQLITE_OK;
}

int poe__tl_otlp_new(sqlite3 *db, int64_t run, obuf *b, tl_pair_counts *counts,
                     const char *service, tl_otlp **ret, char *err, size_t errlen)
{
        otlp *o = calloc(1, sizeof(*o));
        int rc;

        if (!o) {
                poe__tl_set_err(err, errlen, "trace log export: out of memory");
                return -ENOMEM;
        }
        o->b = b;
        o->counts = counts;
        o->service = service;
        o->spans_per_line = SPANS_PER_LINE;
        rc = describe_run(o, db, run);
        if (rc != SQLITE_OK) {
                poe__tl_otlp_free(o);
                return poe__tl_step_failed(db, rc, err, errlen);
        }
        *ret = o;
        return 0;
}

bool poe__tl_otlp_finish(tl_otlp *o)
{
        posted p;

        /* What the selection leaves open ran, or waited, at least until
         * its last record: one span a call. */
        if (o->ds.depth > 0) {
                dispatch_end(o, poe__tl_dstack_pop(&o->ds), o->last_ns, NULL, false);
                return false;
        }
        if (poe__tl_post_next(&o->posts, &o->post_pos, &p)) {
                o->counts->undispatched++;
                post_end(o, &p, o->last_ns, "pending");
                return false;
        }
        if (!o->tail && o->line_spans > 0)
                line_end(o);
        o->tail = true;
        return true;
}

void poe__tl_otlp_free(tl_otlp *o)
{
        if (!o)
                return;
        poe__tl_dstack_free(&o->ds);
        poe__tl_post_free(&o->posts);
        free(o->line_head);
        free(o);
}
