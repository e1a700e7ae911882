/*
 * The Chrome trace export (the JSON that Perfetto and chrome://tracing
 * open): one track per session, named on its first record; dispatches as
 * complete ("X") events from the dispatch to its return; every other
 * record as an instant event on its session's track.  A post whose
 * enqueue and dispatch are both selected also becomes a flow, an arrow
 * from the sender's track at the enqueue to the dispatch's slice.
 *
 * The file is written as the records are read, an event at a time; what
 * is held meanwhile is bounded (tracelog-pair.c): the open dispatches,
 * the pending posts and the set of sessions named.  otherData.unpaired
 * at the end counts what the selection did not pair: dispatches with no
 * return, posts with no dispatch, and posts past POSTS_MAX pending.
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
} chrome;

static void ch_emit(chrome *c, json_t *ev)
{
        if (!c->first)
                poe__tl_ob_put(c->b, ",\n", 2);
        c->first = false;
        /* Microseconds with 15 digits: nanoseconds for the first 11 days
         * of uptime, and no binary noise ("2.7639999389648438"). */
        poe__tl_ob_json_p(c->b, ev, 15);
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
        ch_emit(c,
                json_pack("{s:s, s:s, s:I, s:I, s:{s:s}}", "name", "thread_name", "ph", "M", "pid",
                          (json_int_t)c->run, "tid", (json_int_t)sid, "args", "name", name));
        ch_emit(c, json_pack("{s:s, s:s, s:I, s:I, s:{s:I}}", "name", "thread_sort_index", "ph",
                             "M", "pid", (json_int_t)c->run, "tid", (json_int_t)sid, "args",
                             "sort_index", (json_int_t)sid));
}

/*
 * The arrow of a post: a flow from the enqueue, bound to the slice then
 * open on the sender's track (its handler), to the dispatch's own slice
 * ("bp":"e": the enclosing slice, not the next one).  Written after the
 * X event: Perfetto sorts by time and keeps the file's order for equal
 * times, and the flow's end must find the slice already begun.
 */
static void ch_flow(chrome *c, const open_dispatch *d)
{
        json_int_t id = (json_int_t)d->post.event_id;

        ch_session(c, d->post.sender);
        ch_emit(c, json_pack("{s:s, s:s, s:s, s:I, s:f, s:I, s:I}", "name", "post", "cat", "post",
                             "ph", "s", "id", id, "ts", (double)d->post.ns / 1000.0, "pid",
                             (json_int_t)c->run, "tid", (json_int_t)d->post.sender));
        ch_emit(c, json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:I, s:I}", "name", "post", "cat",
                             "post", "ph", "f", "bp", "e", "id", id, "ts", (double)d->ns / 1000.0,
                             "pid", (json_int_t)c->run, "tid", (json_int_t)d->sid));
}

/* Finishes an X event: dur is how long its handler ran. */
static void ch_close(chrome *c, open_dispatch *d, int64_t end, json_t *ret_message, bool returned)
{
        /* From the integers: a difference of two rounded doubles would
         * print as 1.51200008392334. */
        double dur = (double)(end - d->ns) / 1000.0;
        json_t *args = json_object_get(d->obj, "args");
        bool ok;

        if (dur < 0)
                dur = 0;
        ok = poe__tl_jset(d->obj, "dur", json_real(dur)) == 0 && args &&
             poe__tl_jset(args, "returned", json_boolean(returned)) == 0;
        /* jset consumes the message, succeeding or not; otherwise it is
         * ours to drop. */
        if (ret_message && ok)
                ok = poe__tl_jset(args, "return", ret_message) == 0;
        else
                json_decref(ret_message);
        if (!ok)
                c->b->oom = true;
        ch_emit(c, d->obj);
        d->obj = NULL;
        if (d->post.event_id)
                ch_flow(c, d);
        free(d->event);
        d->event = NULL;
}

static json_t *ch_args(sqlite3_stmt *st)
{
        return json_pack("{s:I, s:I, s:I, s:I, s:o*, s:o*}", "id",
                         (json_int_t)sqlite3_column_int64(st, COL_ID), "sender",
                         (json_int_t)sqlite3_column_int64(st, COL_SENDER), "refcount",
                         (json_int_t)sqlite3_column_int64(st, COL_REFCOUNT), "queue",
                         (json_int_t)sqlite3_column_int64(st, COL_QUEUE), "message",
                         poe__tl_col_text(st, COL_MESSAGE), "event_id",
                         poe__tl_col_int_or_null(st, COL_EVENT_ID));
}

static void ch_dispatch(chrome *c, sqlite3_stmt *st, uint64_t sid, const char *event, int64_t ns)
{
        const char *grp = (const char *)sqlite3_column_text(st, COL_GROUP);
        uint64_t event_id = (uint64_t)sqlite3_column_int64(st, COL_EVENT_ID);
        open_dispatch *d;

        if (c->ds.depth == STACK_MAX) {
                /* Never returned (a filter hid the returns, or the log
                 * ends mid-dispatch): shown as they began, with no
                 * duration. */
                open_dispatch *first = poe__tl_dstack_shift(&c->ds);

                c->counts->unreturned++;
                ch_close(c, first, first->ns, NULL, false);
        }
        d = poe__tl_dstack_push(&c->ds, sid, event, ns);
        if (!d) {
                c->b->oom = true;
                return;
        }
        d->obj = json_pack("{s:o, s:s?, s:s, s:f, s:I, s:I, s:o}", "name",
                           poe__tl_jstr(event ? event : "dispatch"), "cat", grp, "ph", "X", "ts",
                           (double)ns / 1000.0, "pid", (json_int_t)c->run, "tid", (json_int_t)sid,
                           "args", ch_args(st));
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
        size_t n;

        c->last_ns = ns;
        ch_session(c, sid);
        if (events && kind && strcmp(kind, "dispatch") == 0) {
                ch_dispatch(c, st, sid, event, ns);
                return;
        }
        if (events && kind && strcmp(kind, "return") == 0 &&
            (n = poe__tl_dstack_match(&c->ds, sid, event)) > 0) {
                /* Anything opened after the match and not returned was
                 * unwound by it (poe_die). */
                while (n-- > 0)
                        ch_close(c, poe__tl_dstack_pop(&c->ds), ns,
                                 n == 0 ? poe__tl_col_text(st, COL_MESSAGE) : NULL, n == 0);
                return;
        }
        if (events && kind && strcmp(kind, "enqueue") == 0 && poe__tl_is_post(event, event_id)) {
                p = (posted){ .event_id = event_id,
                              .ns = ns,
                              .sender = (uint64_t)sqlite3_column_int64(st, COL_SENDER) };
                switch (poe__tl_post_put(&c->posts, &p, &old)) {
                case 0:
                        if (old.event_id)
                                c->counts->undispatched++;
                        break;
                case -ENOSPC: c->counts->untracked++; break;
                default: c->b->oom = true; break;
                }
        } else if (events && kind && strcmp(kind, "discard") == 0) {
                /* It will never be dispatched. */
                poe__tl_post_take(&c->posts, event_id, &old);
        }
        if (event)
                snprintf(name, sizeof(name), "%s %.120s", kind ? kind : "?", event);
        else
                snprintf(name, sizeof(name), "%s", kind ? kind : "?");
        ch_emit(c,
                json_pack("{s:o, s:s?, s:s, s:s, s:f, s:I, s:I, s:o}", "name", poe__tl_jstr(name),
                          "cat", grp, "ph", "i", "s", "t", "ts", (double)ns / 1000.0, "pid",
                          (json_int_t)c->run, "tid", (json_int_t)sid, "args", ch_args(st)));
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
        ch_emit(c, json_pack("{s:s, s:s, s:I, s:I, s:{s:o}}", "name", "process_name", "ph", "M",
                             "pid", (json_int_t)run, "tid", (json_int_t)0, "args", "name",
                             poe__tl_jstr(pname)));
        return c;
}

bool poe__tl_chrome_finish(tl_chrome *c)
{
        tl_pair_counts *n = c->counts;

        /* Dispatches still open when the selection ends ran at least
         * until its last record: one a call. */
        if (c->ds.depth > 0) {
                n->unreturned++;
                ch_close(c, poe__tl_dstack_pop(&c->ds), c->last_ns, NULL, false);
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
        free(c);
}
