/*
 * The Chrome trace export (the Trace Event Format's JSON, which Perfetto
 * and chrome://tracing open): one track per session, named on its first
 * record; dispatches as complete ("X") events from the dispatch to its
 * return; every other record as an instant event on its session's track.
 * A post whose enqueue and dispatch are both selected also becomes a
 * flow, an arrow from the sender's track at the enqueue to the
 * dispatch's slice.
 *
 * Every flow binds to a slice on its track, as Perfetto needs to draw it:
 * its end ("f", "bp":"e") to the dispatch's own slice, which begins at
 * its timestamp; its start ("s") to the slice open on the sender's track
 * at the enqueue, the sender's handler.  A post made where the sender's
 * track has none open (the kernel's own posts: _signal, DIE, a reaped
 * child's event; the main program's; a selection that leaves the
 * sender's dispatch out) gets a slice of its own there, "post", from the
 * enqueue for 1 ns, for its arrow to start in.  1 ns: timestamps are
 * whole nanoseconds, so it overlaps no other slice of that track without
 * nesting in it or around it.
 *
 * The file is written as the records are read, an event at a time; what
 * is held meanwhile is bounded (tracelog-pair.c): the open dispatches,
 * the pending posts and the set of sessions named.  otherData.unpaired
 * at the end counts what the selection did not pair: dispatches with no
 * return, posts with no dispatch, and posts past POSTS_MAX pending.
 *
 * Events are printed straight into the output, not built as jansson
 * trees: the export's time is a few string copies per record.  A
 * timestamp is printed from the integer nanoseconds ("1234.5" for
 * 1234500 ns), exact at any uptime.  Fields with nothing to say are left
 * out rather than written as defaults: an instant's scope (the thread's,
 * by default), a null event_id or message, the kernel as sender (0), a
 * dispatch's "returned" unless it did not.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-internal.h"

/* The sessions whose track is named: past this many the set starts
 * again, and a session seen again has its (same) name written twice,
 * which Perfetto takes as it comes.  A program that made millions of
 * sessions keeps a set of 1 MiB at most. */
#define SEEN_MAX 65536

typedef struct tl_chrome {
        obuf *b;
        tl_pair_counts *counts;
        int64_t run;
        bool first, tail;
        dstack ds;
        post_table posts; /* enqueues waiting for their dispatch */
        uint64_t *seen;   /* the sessions named so far, an open-addressing set */
        size_t seen_n, seen_cap;
        bool seen_zero;
        int64_t last_ns;
        obuf head; /* a dispatch's X event, up to its args' last field */
} chrome;

#define PUT_LIT(b, s) poe__tl_ob_put((b), (s), sizeof(s) - 1)

static void put_u64(obuf *b, uint64_t v)
{
        char buf[24], *p = buf + sizeof(buf);

        do
                *--p = (char)('0' + v % 10);
        while ((v /= 10) > 0);
        poe__tl_ob_put(b, p, (size_t)(buf + sizeof(buf) - p));
}

static void put_i64(obuf *b, int64_t v)
{
        if (v < 0) {
                PUT_LIT(b, "-");
                put_u64(b, (uint64_t)0 - (uint64_t)v);
        } else {
                put_u64(b, (uint64_t)v);
        }
}

/* Nanoseconds as microseconds, exactly: "12", "12.5", "12.345". */
static void put_us(obuf *b, int64_t ns)
{
        uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
        unsigned frac = (unsigned)(u % 1000);
        char d[4];
        size_t n = 3;

        if (ns < 0)
                PUT_LIT(b, "-");
        put_u64(b, u / 1000);
        if (!frac)
                return;
        d[0] = '.';
        d[1] = (char)('0' + frac / 100);
        d[2] = (char)('0' + frac / 10 % 10);
        d[3] = (char)('0' + frac % 10);
        while (d[n] == '0')
                n--;
        poe__tl_ob_put(b, d, n + 1);
}

/* The n bytes at s as a JSON string, as jansson writes one (compact,
 * UTF-8 kept), each byte that starts no valid UTF-8 sequence replaced by
 * U+FFFD (json-util.h's rule). */
static void put_str(obuf *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, from = 0, l;
        char esc[6];

        PUT_LIT(b, "\"");
        while (i < n) {
                unsigned ch = p[i];

                if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
                        i++;
                        continue;
                }
                if (ch >= 0x80 && (l = poe__utf8_seq(p + i, n - i)) > 0) {
                        i += l;
                        continue;
                }
                poe__tl_ob_put(b, s + from, i - from);
                if (ch >= 0x80) {
                        PUT_LIT(b, "\xef\xbf\xbd");
                } else if (ch == '"' || ch == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)ch;
                        poe__tl_ob_put(b, esc, 2);
                } else if (ch == '\n') {
                        PUT_LIT(b, "\\n");
                } else if (ch == '\t') {
                        PUT_LIT(b, "\\t");
                } else if (ch == '\r') {
                        PUT_LIT(b, "\\r");
                } else {
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[ch >> 4];
                        esc[5] = hex[ch & 15];
                        poe__tl_ob_put(b, esc, 6);
                }
                from = ++i;
        }
        poe__tl_ob_put(b, s + from, i - from);
        PUT_LIT(b, "\"");
}

static void put_cstr(obuf *b, const char *s)
{
        put_str(b, s, strlen(s));
}

/* A text column as a JSON string. */
static void put_col(obuf *b, sqlite3_stmt *st, int col)
{
        put_str(b, (const char *)sqlite3_column_text(st, col),
                (size_t)sqlite3_column_bytes(st, col));
}

/* Starts the next event of the array. */
static obuf *ch_next(chrome *c)
{
        if (!c->first)
                PUT_LIT(c->b, ",\n");
        c->first = false;
        return c->b;
}

/* An event's common fields, from its opening brace: name (n bytes),
 * cat (NULL: none), ph, ts, pid and tid. */
static void put_event(chrome *c, obuf *b, const char *name, size_t n, const char *cat,
                      const char *ph, int64_t ns, uint64_t tid)
{
        PUT_LIT(b, "{\"name\":");
        put_str(b, name, n);
        if (cat) {
                PUT_LIT(b, ",\"cat\":");
                put_cstr(b, cat);
        }
        PUT_LIT(b, ",\"ph\":\"");
        poe__tl_ob_puts(b, ph);
        PUT_LIT(b, "\",\"ts\":");
        put_us(b, ns);
        PUT_LIT(b, ",\"pid\":");
        put_i64(b, c->run);
        PUT_LIT(b, ",\"tid\":");
        put_u64(b, tid);
}

/* A metadata event: {"name":what,"ph":"M","pid":..,"tid":..,"args":{key:
 * (the caller writes the value and closes both braces). */
static void put_meta(chrome *c, const char *what, uint64_t tid, const char *key)
{
        obuf *b = ch_next(c);

        PUT_LIT(b, "{\"name\":\"");
        poe__tl_ob_puts(b, what);
        PUT_LIT(b, "\",\"ph\":\"M\",\"pid\":");
        put_i64(b, c->run);
        PUT_LIT(b, ",\"tid\":");
        put_u64(b, tid);
        PUT_LIT(b, ",\"args\":{\"");
        poe__tl_ob_puts(b, key);
        PUT_LIT(b, "\":");
}

/* A record's fields, as the args object's first fields (not closed). */
static void put_args(obuf *b, sqlite3_stmt *st)
{
        int64_t sender = sqlite3_column_int64(st, COL_SENDER);

        PUT_LIT(b, ",\"args\":{\"id\":");
        put_i64(b, sqlite3_column_int64(st, COL_ID));
        if (sender) {
                PUT_LIT(b, ",\"sender\":");
                put_i64(b, sender);
        }
        PUT_LIT(b, ",\"refcount\":");
        put_i64(b, sqlite3_column_int64(st, COL_REFCOUNT));
        PUT_LIT(b, ",\"queue\":");
        put_i64(b, sqlite3_column_int64(st, COL_QUEUE));
        if (sqlite3_column_type(st, COL_MESSAGE) != SQLITE_NULL) {
                PUT_LIT(b, ",\"message\":");
                put_col(b, st, COL_MESSAGE);
        }
        if (sqlite3_column_type(st, COL_EVENT_ID) != SQLITE_NULL) {
                PUT_LIT(b, ",\"event_id\":");
                put_i64(b, sqlite3_column_int64(st, COL_EVENT_ID));
        }
}

/* Names a session's track the first time it appears. */
static void ch_session(chrome *c, uint64_t sid)
{
        char name[64];
        size_t i;

        if (sid == 0) {
                if (c->seen_zero)
                        return;
                c->seen_zero = true;
        } else {
                if (c->seen_n >= SEEN_MAX) {
                        memset(c->seen, 0, c->seen_cap * sizeof(*c->seen));
                        c->seen_n = 0;
                }
                if (c->seen_n * 2 >= c->seen_cap) {
                        size_t cap = c->seen_cap ? c->seen_cap * 2 : 256, j;
                        uint64_t *s = calloc(cap, sizeof(*s));

                        if (!s) {
                                c->b->oom = true;
                                return;
                        }
                        for (j = 0; j < c->seen_cap; j++) {
                                if (!c->seen[j])
                                        continue;
                                i = (size_t)(c->seen[j] * 0x9e3779b97f4a7c15ull) & (cap - 1);
                                while (s[i])
                                        i = (i + 1) & (cap - 1);
                                s[i] = c->seen[j];
                        }
                        free(c->seen);
                        c->seen = s;
                        c->seen_cap = cap;
                }
                i = (size_t)(sid * 0x9e3779b97f4a7c15ull) & (c->seen_cap - 1);
                while (c->seen[i] && c->seen[i] != sid)
                        i = (i + 1) & (c->seen_cap - 1);
                if (c->seen[i])
                        return;
                c->seen[i] = sid;
                c->seen_n++;
        }
        if (sid == 0)
                snprintf(name, sizeof(name), "session 0 (the kernel)");
        else
                snprintf(name, sizeof(name), "session %llu", (unsigned long long)sid);
        put_meta(c, "thread_name", sid, "name");
        put_cstr(c->b, name);
        PUT_LIT(c->b, "}}");
        put_meta(c, "thread_sort_index", sid, "sort_index");
        put_u64(c->b, sid);
        PUT_LIT(c->b, "}}");
}

/* Whether a dispatch of sid is open: its slice encloses what happens on
 * sid's track now.  At most STACK_MAX to look through, most often one or
 * two. */
static bool ch_open_on(const chrome *c, uint64_t sid)
{
        size_t i;

        for (i = 1; i <= c->ds.depth; i++)
                if (poe__tl_dstack_at(&c->ds, i)->sid == sid)
                        return true;
        return false;
}

/*
 * The arrow of a post: a flow from the enqueue, bound to the slice then
 * open on the sender's track (its handler, or the post's own slice), to
 * the dispatch's own slice ("bp":"e": the enclosing slice, not the next
 * one).  Written after the X event, and the post's slice before its
 * flow: Perfetto sorts by time and keeps the file's order for equal
 * times, and each end must find its slice already begun.
 */
static void ch_flow(chrome *c, const open_dispatch *d)
{
        const posted *p = &d->post;
        obuf *b;

        ch_session(c, p->sender);
        if (p->bare) {
                b = ch_next(c);
                put_event(c, b, "post", 4, "post", "X", p->ns, p->sender);
                PUT_LIT(b, ",\"dur\":0.001,\"args\":{\"event_id\":");
                put_u64(b, p->event_id);
                PUT_LIT(b, "}}");
        }
        b = ch_next(c);
        put_event(c, b, "post", 4, "post", "s", p->ns, p->sender);
        PUT_LIT(b, ",\"id\":");
        put_u64(b, p->event_id);
        PUT_LIT(b, "}");
        b = ch_next(c);
        put_event(c, b, "post", 4, "post", "f", d->ns, d->sid);
        PUT_LIT(b, ",\"bp\":\"e\",\"id\":");
        put_u64(b, p->event_id);
        PUT_LIT(b, "}");
}

/* Finishes an X event: dur is how long its handler ran; ret (n bytes,
 * NULL: none) what the return record says; "returned":false when none
 * did (unwound by a die, or its return not selected). */
static void ch_close(chrome *c, open_dispatch *d, int64_t end, const char *ret, size_t n,
                     bool returned)
{
        obuf *b = ch_next(c);

        poe__tl_ob_put(b, json_string_value(d->obj), json_string_length(d->obj));
        if (!returned)
                PUT_LIT(b, ",\"returned\":false");
        if (ret) {
                PUT_LIT(b, ",\"return\":");
                put_str(b, ret, n);
        }
        PUT_LIT(b, "},\"dur\":");
        put_us(b, end > d->ns ? poe__tl_sat_sub(end, d->ns) : 0);
        PUT_LIT(b, "}");
        json_decref(d->obj);
        d->obj = NULL;
        if (d->post.event_id)
                ch_flow(c, d);
        free(d->event);
        d->event = NULL;
}

static void ch_dispatch(chrome *c, sqlite3_stmt *st, uint64_t sid, const char *event, int64_t ns)
{
        const char *grp = (const char *)sqlite3_column_text(st, COL_GROUP);
        uint64_t event_id = (uint64_t)sqlite3_column_int64(st, COL_EVENT_ID);
        open_dispatch *d;
        obuf *h = &c->head;

        if (c->ds.depth == STACK_MAX) {
                /* Never returned (a filter hid the returns, or the log
                 * ends mid-dispatch): shown as they began, with no
                 * duration. */
                open_dispatch *first = poe__tl_dstack_shift(&c->ds);

                c->counts->unreturned++;
                ch_close(c, first, first->ns, NULL, 0, false);
        }
        d = poe__tl_dstack_push(&c->ds, sid, event, ns);
        if (!d) {
                c->b->oom = true;
                return;
        }
        /* Held as text until the return says how long it ran. */
        h->len = 0;
        if (event)
                put_event(c, h, event, (size_t)sqlite3_column_bytes(st, COL_EVENT), grp, "X", ns,
                          sid);
        else
                put_event(c, h, "dispatch", 8, grp, "X", ns, sid);
        put_args(h, st);
        d->obj = h->oom ? NULL : json_stringn_nocheck(h->p, h->len);
        poe__tl_ob_reset(h);
        if (!d->obj) {
                free(poe__tl_dstack_pop(&c->ds)->event);
                c->b->oom = true;
                return;
        }
        /* The first dispatch of a queue item is its own; calls made from
         * its handler carry the same id and find the post taken. */
        poe__tl_post_take(&c->posts, event_id, &d->post);
}

void poe__tl_chrome_record(tl_chrome *c, sqlite3_stmt *st)
{
        const char *kind = (const char *)sqlite3_column_text(st, COL_KIND);
        const char *grp = (const char *)sqlite3_column_text(st, COL_GROUP);
        const char *event = (const char *)sqlite3_column_text(st, COL_EVENT);
        uint64_t sid = (uint64_t)sqlite3_column_int64(st, COL_SESSION);
        uint64_t event_id = (uint64_t)sqlite3_column_int64(st, COL_EVENT_ID);
        int64_t ns = sqlite3_column_int64(st, COL_MONO_NS);
        bool events = grp && strcmp(grp, "TRACE_EVENTS") == 0;
        posted p, old;
        char name[160];
        obuf *b;
        size_t k;

        c->last_ns = ns;
        ch_session(c, sid);
        if (events && kind && strcmp(kind, "dispatch") == 0) {
                ch_dispatch(c, st, sid, event, ns);
                return;
        }
        if (events && kind && strcmp(kind, "return") == 0 &&
            (k = poe__tl_dstack_match(&c->ds, sid, event)) > 0) {
                /* Anything opened after the match and not returned was
                 * unwound by it (poe_die). */
                const char *ret = (const char *)sqlite3_column_text(st, COL_MESSAGE);
                size_t ret_n = (size_t)sqlite3_column_bytes(st, COL_MESSAGE);

                while (k-- > 0)
                        ch_close(c, poe__tl_dstack_pop(&c->ds), ns, k == 0 ? ret : NULL, ret_n,
                                 k == 0);
                return;
        }
        if (events && kind && strcmp(kind, "enqueue") == 0 && poe__tl_is_post(event, event_id)) {
                p = (posted){.event_id = event_id,
                             .ns = ns,
                             .sender = (uint64_t)sqlite3_column_int64(st, COL_SENDER)};
                p.bare = !ch_open_on(c, p.sender);
                switch (poe__tl_post_put(&c->posts, &p, &old)) {
                case 0:
                        if (old.event_id)
                                c->counts->undispatched++;
                        break;
                case -ENOSPC:
                        c->counts->untracked++;
                        break;
                default:
                        c->b->oom = true;
                        break;
                }
        } else if (events && kind && strcmp(kind, "discard") == 0) {
                /* It will never be dispatched. */
                poe__tl_post_take(&c->posts, event_id, &old);
        }
        if (event)
                snprintf(name, sizeof(name), "%s %.120s", kind ? kind : "?", event);
        else
                snprintf(name, sizeof(name), "%s", kind ? kind : "?");
        b = ch_next(c);
        put_event(c, b, name, strlen(name), grp, "i", ns, sid);
        put_args(b, st);
        PUT_LIT(b, "}}");
}

tl_chrome *poe__tl_chrome_new(sqlite3 *db, int64_t run, obuf *b, tl_pair_counts *counts)
{
        chrome *c = calloc(1, sizeof(*c));
        sqlite3_stmt *rs = NULL;
        char pname[256];
        int rc;

        if (!c)
                return NULL;
        c->b = b;
        c->counts = counts;
        c->run = run;
        c->first = true;
        snprintf(pname, sizeof(pname), "libpoe run %lld", (long long)run);
        rc = sqlite3_prepare_v2(db, "SELECT pid, kernel_id FROM runs WHERE id = ?", -1, &rs, NULL);
        if (rc == SQLITE_OK && sqlite3_bind_int64(rs, 1, run) == SQLITE_OK &&
            sqlite3_step(rs) == SQLITE_ROW)
                snprintf(pname, sizeof(pname), "libpoe run %lld (pid %lld, kernel %.160s)",
                         (long long)run, (long long)sqlite3_column_int64(rs, 0),
                         sqlite3_column_text(rs, 1) ? (const char *)sqlite3_column_text(rs, 1)
                                                    : "?");
        sqlite3_finalize(rs);

        poe__tl_ob_puts(b, "{\"traceEvents\":[\n");
        put_meta(c, "process_name", 0, "name");
        put_cstr(b, pname);
        PUT_LIT(b, "}}");
        return c;
}

bool poe__tl_chrome_finish(tl_chrome *c)
{
        tl_pair_counts *n = c->counts;

        /* Dispatches still open when the selection ends ran at least
         * until its last record: one a call. */
        if (c->ds.depth > 0) {
                n->unreturned++;
                ch_close(c, poe__tl_dstack_pop(&c->ds), c->last_ns, NULL, 0, false);
                return false;
        }
        if (c->tail)
                return true;
        c->tail = true;
        n->undispatched += c->posts.n;
        /* What could not be paired, where a reader of the file sees it. */
        poe__tl_ob_puts(c->b, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"producer\":"
                              "\"libpoe trace log\",\"ts\":\"CLOCK_MONOTONIC microseconds\","
                              "\"unpaired\":{");
        poe__tl_ob_printf(c->b, "\"dispatches_unreturned\":%" PRIu64 ",", n->unreturned);
        poe__tl_ob_printf(c->b, "\"posts_undispatched\":%" PRIu64 ",", n->undispatched);
        poe__tl_ob_printf(c->b, "\"posts_untracked\":%" PRIu64 "}}}\n", n->untracked);
        return true;
}

void poe__tl_chrome_free(tl_chrome *c)
{
        if (!c)
                return;
        poe__tl_dstack_free(&c->ds);
        poe__tl_post_free(&c->posts);
        free(c->seen);
        free(c->head.p);
        free(c);
}
