/*
 * Live state as JSON: the answers to GET /api/v1/<path>.
 *
 * Runs on the kernel's thread only (http.c hands each request over with
 * poe_kernel_run_in_loop), between two dispatches or inside a handler,
 * and reads the kernel only through the public peek API and getters, so
 * it shows exactly what any client of the library could see.
 *
 * Peek callbacks must not call into the kernel, so whatever needs a
 * second call per session (aliases, handlers, reasons) works from a
 * snapshot of poe_peek_sessions taken first: one array of
 * poe_session_info, O(sessions).  Lists count every match for the page's
 * exact total but build JSON only for the page, so a request costs
 * O(sessions) plus the page's own work, whatever the kernel's size.  The
 * one dearer walk is poe_peek_reasons, which goes through the whole
 * queue and fd table: "why" and "extrefs" pay it for each session on the
 * page, never for every session.
 *
 * Every allocation, jansson's and our own, goes through jansson's
 * allocator hooks (json_set_alloc_funcs), so a test can fail them one by
 * one; any failure answers 500 and frees what was built.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "inspector-internal.h"
#include "json-util.h"
#include "poe/tracelog.h"

#define OK 200

typedef struct api {
        poe_kernel *k;
        poe_inspector *in;
        const poe__params *p;
        poe_sid sid; /* the path's session id */
        poe__page pg;
        double now;
        char *err;
        size_t errlen;
        /* The sessions, in poe_peek_sessions order, for the endpoints
         * that need them (see snapshot()). */
        poe_session_info *ss;
        size_t n_ss, cap_ss;
        json_t *data, *page;
} api;

/* ---- memory ---- */

/*
 * Makes the array *pp (cap elements of size bytes, used of them in use)
 * hold at least need elements, doubling.  By copy, since jansson's hooks
 * have no realloc; amortized O(1) per element.  pp points at the array's
 * pointer, whatever its type.  Returns 0 or -ENOMEM (the array is then
 * unchanged).
 */
static int grow(void *pp, size_t *cap, size_t used, size_t need, size_t size)
{
        void *old, *nv;
        size_t ncap;

        if (need <= *cap)
                return 0;
        ncap = *cap ? *cap : 16;
        while (ncap < need) {
                if (ncap > SIZE_MAX / 2)
                        return -ENOMEM;
                ncap *= 2;
        }
        if (ncap > SIZE_MAX / size)
                return -ENOMEM;
        nv = poe__jalloc(ncap * size);
        if (!nv)
                return -ENOMEM;
        memcpy(&old, pp, sizeof(old));
        if (used)
                memcpy(nv, old, used * size);
        poe__jfree(old);
        memcpy(pp, &nv, sizeof(nv));
        *cap = ncap;
        return 0;
}

/* ---- errors ---- */

static int fail(api *a, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(api *a, int status, const char *fmt, ...)
{
        va_list ap;

        if (a->err && a->errlen) {
                va_start(ap, fmt);
                vsnprintf(a->err, a->errlen, fmt, ap);
                va_end(ap);
        }
        return status;
}

static int oom(api *a)
{
        return fail(a, 500, "out of memory while building the answer");
}

/* A request's string made fit for an error message: printable ASCII only
 * (the message goes into JSON and onto a terminal), the first n bytes of
 * s at most, and no more than size - 1 bytes, "..." marking a cut. */
static const char *shown_n(const char *s, size_t n, char *buf, size_t size)
{
        size_t i;

        for (i = 0; i < n && i + 1 < size; i++)
                buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
        buf[i] = '\0';
        if (i < n && size > 4)
                memcpy(buf + size - 4, "...", 4);
        return buf;
}

static const char *shown(const char *s, char *buf, size_t size)
{
        return s ? shown_n(s, strlen(s), buf, size) : shown_n("", 0, buf, size);
}

/* ---- JSON values ---- */

/* Adds v to o under key.  jansson steals v even when this fails, and a
 * NULL v (a constructor that failed) fails too, so one flag per object
 * collects every error. */
static void put(bool *ok, json_t *o, const char *key, json_t *v)
{
        if (json_object_set_new(o, key, v) != 0)
                *ok = false;
}

static void push(bool *ok, json_t *arr, json_t *v)
{
        if (json_array_append_new(arr, v) != 0)
                *ok = false;
}

/* Builds are checked once at the end: a failed one is freed, whole. */
static json_t *done(json_t *o, bool ok)
{
        if (ok && o)
                return o;
        json_decref(o);
        return NULL;
}

static json_t *jid(uint64_t v)
{
        return json_integer((json_int_t)v);
}

/* jansson refuses NaN and infinities; a time the kernel does not have is
 * null rather than a failed answer. */
static json_t *jreal(double d)
{
        return isfinite(d) ? json_real(d) : json_null();
}

/* A string from the kernel as JSON: event names, aliases, tags and file
 * names are the application's bytes, not necessarily UTF-8 (json-util.c
 * replaces what is not valid; NULL is null).  NULL only when out of
 * memory. */
static json_t *jstr(const char *s)
{
        return poe__jstr(s);
}

/* ---- parameters ---- */

/* A parameter's value, or NULL when absent or empty: an empty filter
 * ("?q=") filters nothing, as a cleared search box means. */
static const char *param_str(const api *a, const char *key)
{
        const char *v = poe__param(a->p, key);

        return v && *v ? v : NULL;
}

static int param_sid(api *a, const char *key, bool *has, poe_sid *sid)
{
        const char *v = param_str(a, key);
        char buf[64];

        *has = false;
        if (!v)
                return OK;
        if (poe__parse_sid(v, strlen(v), sid) < 0)
                return fail(a, 400, "bad parameter %s=%s: expected a session id (a decimal number)",
                            key, shown(v, buf, sizeof(buf)));
        *has = true;
        return OK;
}

/* The page, with the parameter at fault named.  The bounds repeat
 * params.c's, which poe__param_page does not report. */
static int param_page(api *a)
{
        char buf[64];
        int64_t v;

        if (poe__param_page(a->p, &a->pg) == 0)
                return OK;
        if (poe__param_int(a->p, "offset", 0, 0, INT64_MAX / 2, &v) < 0)
                return fail(a, 400, "bad parameter offset=%s: expected an integer from 0 up",
                            shown(poe__param(a->p, "offset"), buf, sizeof(buf)));
        return fail(a, 400, "bad parameter limit=%s: expected an integer from 1 to 1000",
                    shown(poe__param(a->p, "limit"), buf, sizeof(buf)));
}

/* Whether the nth match (from 0) is on the page. */
static bool in_page(const api *a, uint64_t nth)
{
        return nth >= (uint64_t)a->pg.offset &&
               nth - (uint64_t)a->pg.offset < (uint64_t)a->pg.limit;
}

static int page_done(api *a, size_t total)
{
        a->page = poe__page_json(&a->pg, total);
        return a->page ? OK : oom(a);
}

/* ---- sessions ---- */

static int snap_cb(void *ctx, const poe_session_info *s)
{
        api *a = ctx;

        if (grow(&a->ss, &a->cap_ss, a->n_ss, a->n_ss + 1, sizeof(*a->ss)) < 0)
                return -ENOMEM;
        a->ss[a->n_ss++] = *s;
        return 0;
}

/* Every session, in poe_peek_sessions order (parents before children),
 * into a->ss.  Sized from the kernel's count first, so one allocation. */
static int snapshot(api *a)
{
        poe_kernel_info ki;
        int r;

        if (poe_peek_kernel(a->k, &ki) == 0 &&
            grow(&a->ss, &a->cap_ss, 0, ki.sessions, sizeof(*a->ss)) < 0)
                return oom(a);
        r = poe_peek_sessions(a->k, snap_cb, a);
        if (r == -ENOMEM)
                return oom(a);
        if (r < 0)
                return fail(a, 500, "poe_peek_sessions failed (%d)", r);
        return OK;
}

#define SMALL_ALIASES 8

/* A session's aliases, sorted, in *ret: small (SMALL_ALIASES entries)
 * when they fit, else an array the caller frees with xfree when it is
 * not small.  The strings stay valid until the aliases change, which
 * they do not while we run.  Returns the count or -ENOMEM. */
static int alias_get(api *a, poe_sid sid, const char **small, const char ***ret)
{
        const char **v;
        int n, m;

        *ret = small;
        n = poe_kernel_alias_list(a->k, sid, small, SMALL_ALIASES);
        if (n <= SMALL_ALIASES)
                return n < 0 ? 0 : n;
        v = poe__jalloc((size_t)n * sizeof(*v));
        if (!v)
                return -ENOMEM;
        m = poe_kernel_alias_list(a->k, sid, v, (size_t)n);
        *ret = v;
        return m < 0 ? 0 : m < n ? m : n;
}

static json_t *aliases_json(api *a, poe_sid sid)
{
        const char *small[SMALL_ALIASES], **v;
        json_t *arr = json_array();
        bool ok = arr != NULL;
        int n, i;

        n = alias_get(a, sid, small, &v);
        if (n < 0)
                ok = false;
        for (i = 0; ok && i < n; i++)
                push(&ok, arr, jstr(v[i]));
        if (v != small)
                poe__jfree(v);
        return done(arr, ok);
}

/* {"events to": 2, ..., "total": refcount}: the kinds that hold
 * something, by poe_reason_name. */
static json_t *reason_counts_json(const uint32_t *reasons, uint64_t total)
{
        json_t *o = json_object();
        bool ok = o != NULL;
        int i;

        for (i = 0; i < POE_REASON_MAX; i++)
                if (reasons[i])
                        put(&ok, o, poe_reason_name(i), jid(reasons[i]));
        put(&ok, o, "total", jid(total));
        return done(o, ok);
}

/* The items queued for a session: events to it and its timers. */
static uint64_t session_queue(const poe_session_info *si)
{
        return (uint64_t)si->reasons[POE_REASON_EVENTS_TO] + si->reasons[POE_REASON_TIMERS];
}

/* The fields every session shows, in the list and on its own. */
static json_t *session_json(api *a, const poe_session_info *si)
{
        json_t *o = json_object();
        bool ok = o != NULL;

        put(&ok, o, "id", jid(si->id));
        put(&ok, o, "parent", jid(si->parent));
        put(&ok, o, "aliases", aliases_json(a, si->id));
        put(&ok, o, "refcount", jid(si->refcount));
        put(&ok, o, "reasons", reason_counts_json(si->reasons, si->refcount));
        put(&ok, o, "n_children", jid(si->n_children));
        put(&ok, o, "n_handlers", jid(si->n_handlers));
        put(&ok, o, "events_dispatched", jid(si->events_dispatched));
        put(&ok, o, "busy_seconds", jreal(si->busy_seconds));
        put(&ok, o, "last_dispatch", si->last_dispatch > 0 ? jreal(si->last_dispatch) : json_null());
        put(&ok, o, "queue", jid(session_queue(si)));
        put(&ok, o, "slow_dispatches", jid(si->slow_dispatches));
        put(&ok, o, "created", jreal(si->created));
        put(&ok, o, "stopping", json_boolean(si->stopping));
        put(&ok, o, "marked_for_gc", json_boolean(si->marked_for_gc));
        return done(o, ok);
}

static int handler_match_cb(void *ctx, const char *event)
{
        return strcasestr(event, ctx) != NULL;
}

/*
 * ?q= matches a session by id (exactly), by alias or by handler name
 * (substrings, any case).  Costs the session's aliases and handler
 * slots.  Returns 1, 0, or -ENOMEM.
 */
static int session_matches(api *a, const poe_session_info *si, const char *q, bool q_is_id,
                           poe_sid qid)
{
        const char *small[SMALL_ALIASES], **v;
        int n, i, found = 0;

        if (q_is_id && si->id == qid)
                return 1;
        if (si->n_aliases) {
                n = alias_get(a, si->id, small, &v);
                if (n < 0)
                        return -ENOMEM;
                for (i = 0; !found && i < n; i++)
                        found = strcasestr(v[i], q) != NULL;
                if (v != small)
                        poe__jfree(v);
                if (found)
                        return 1;
        }
        return poe_peek_handlers(a->k, si->id, handler_match_cb, (void *)q) == 1;
}

/* ?sort= columns, in sort_key's order: sessions sort on one, then on id. */
static const char *const sort_cols[] = {
        "id", "busy", "dispatches", "last_activity", "refcount", "queue",
};

static double sort_key(int col, const poe_session_info *si)
{
        switch (col) {
        case 1:
                return si->busy_seconds;
        case 2:
                return (double)si->events_dispatched;
        case 3:
                return si->last_dispatch;
        case 4:
                return (double)si->refcount;
        case 5:
                return (double)session_queue(si);
        default:
                return (double)si->id;
        }
}

/* qsort has no context argument: the column and order of the one sort
 * running (on the kernel's thread, one request at a time). */
static int sort_col_now;
static bool sort_desc_now;

static int by_column(const void *x, const void *y)
{
        const poe_session_info *a = *(const poe_session_info *const *)x;
        const poe_session_info *b = *(const poe_session_info *const *)y;
        double ka = sort_key(sort_col_now, a), kb = sort_key(sort_col_now, b);
        int c = ka < kb ? -1 : ka > kb;

        if (!c)
                c = a->id < b->id ? -1 : a->id > b->id;
        return sort_desc_now ? -c : c;
}

/* sort= and order=: the column's index, or -1 for none (tree order). */
static int param_sort(api *a, int *col, bool *desc)
{
        const char *sort = param_str(a, "sort"), *order = param_str(a, "order");
        char buf[64];
        size_t i;

        *col = -1;
        *desc = false;
        if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
                return fail(a, 400, "bad parameter order=%s: expected asc or desc",
                            shown(order, buf, sizeof(buf)));
        *desc = order && strcmp(order, "desc") == 0;
        if (!sort)
                return order ? fail(a, 400, "order= needs sort=") : OK;
        for (i = 0; i < sizeof(sort_cols) / sizeof(sort_cols[0]); i++)
                if (strcmp(sort, sort_cols[i]) == 0) {
                        *col = (int)i;
                        return OK;
                }
        return fail(a, 400,
                    "bad parameter sort=%s: expected id, busy, dispatches, last_activity, "
                    "refcount or queue",
                    shown(sort, buf, sizeof(buf)));
}

/* sessions?q=&parent=&sort=&order=&offset=&limit= */
static int ep_sessions(api *a)
{
        const char *q = param_str(a, "q");
        bool has_parent, q_is_id = false, desc;
        poe_sid parent = 0, qid = 0;
        const poe_session_info **match;
        size_t i, total = 0;
        json_t *list;
        int st, m, col;

        if ((st = param_page(a)) != OK ||
            (st = param_sid(a, "parent", &has_parent, &parent)) != OK ||
            (st = param_sort(a, &col, &desc)) != OK || (st = snapshot(a)) != OK)
                return st;
        if (q)
                q_is_id = poe__parse_sid(q, strlen(q), &qid) == 0;
        a->data = list = json_array();
        if (!list)
                return oom(a);
        /* Every match first, sorted whole when asked: the page is a
         * slice of all sessions in that order, not a sorted page. */
        match = poe__jalloc((a->n_ss ? a->n_ss : 1) * sizeof(*match));
        if (!match)
                return oom(a);
        for (i = 0; i < a->n_ss; i++) {
                const poe_session_info *si = &a->ss[i];

                if (has_parent && si->parent != parent)
                        continue;
                if (q) {
                        m = session_matches(a, si, q, q_is_id, qid);
                        if (m < 0) {
                                poe__jfree(match);
                                return oom(a);
                        }
                        if (!m)
                                continue;
                }
                match[total++] = si;
        }
        if (col >= 0) {
                sort_col_now = col;
                sort_desc_now = desc;
                qsort(match, total, sizeof(*match), by_column);
        }
        for (i = 0; i < total; i++)
                if (in_page(a, i) && json_array_append_new(list, session_json(a, match[i])) != 0) {
                        poe__jfree(match);
                        return oom(a);
                }
        poe__jfree(match);
        return page_done(a, total);
}

/* Handler names are valid during the callback only: each becomes a JSON
 * string at once, sorted afterwards. */
typedef struct strs {
        json_t **v;
        size_t n, cap;
} strs;

static int handler_collect_cb(void *ctx, const char *event)
{
        strs *s = ctx;
        json_t *j;

        if (grow(&s->v, &s->cap, s->n, s->n + 1, sizeof(*s->v)) < 0)
                return -ENOMEM;
        j = jstr(event);
        if (!j)
                return -ENOMEM;
        s->v[s->n++] = j;
        return 0;
}

static int by_string(const void *x, const void *y)
{
        return strcmp(json_string_value(*(json_t *const *)x),
                      json_string_value(*(json_t *const *)y));
}

/* The session's handlers' names, sorted; NULL when out of memory. */
static json_t *handlers_json(api *a, poe_sid sid)
{
        strs s = { NULL, 0, 0 };
        json_t *arr = json_array();
        bool ok = arr && poe_peek_handlers(a->k, sid, handler_collect_cb, &s) == 0;
        size_t i;

        /* qsort wants a real array even for nothing. */
        if (ok && s.n > 1)
                qsort(s.v, s.n, sizeof(*s.v), by_string);
        for (i = 0; i < s.n; i++) {
                if (ok)
                        push(&ok, arr, s.v[i]);
                else
                        json_decref(s.v[i]);
        }
        poe__jfree(s.v);
        return done(arr, ok);
}

typedef struct child_walk {
        poe_sid parent;
        json_t *list;
} child_walk;

static int children_cb(void *ctx, const poe_session_info *s)
{
        child_walk *w = ctx;

        if (s->parent == w->parent && json_array_append_new(w->list, jid(s->id)) != 0)
                return -ENOMEM;
        return 0;
}

/* The session's children's ids, in creation order: one walk over every
 * session, O(sessions), independent of the queue's length. */
static json_t *children_json(api *a, poe_sid sid)
{
        child_walk w = { sid, json_array() };

        if (!w.list || poe_peek_sessions(a->k, children_cb, &w) != 0) {
                json_decref(w.list);
                return NULL;
        }
        return w.list;
}

static int no_session(api *a, poe_sid sid)
{
        return fail(a, 404, "no such session: %" PRIu64 "%s", sid,
                    sid == POE_KERNEL ? " (0 is the kernel itself, not a session)" : "");
}

static int postback_cb(void *ctx, const poe_peek_postback *pb)
{
        json_t *o = json_object();
        bool ok = o != NULL;

        put(&ok, o, "event", jstr(pb->event));
        put(&ok, o, "callback", json_boolean(pb->callback));
        put(&ok, o, "weak", json_boolean(pb->weak));
        put(&ok, o, "file", pb->file && *pb->file ? jstr(pb->file) : json_null());
        put(&ok, o, "line", pb->file && *pb->file ? json_integer(pb->line) : json_null());
        put(&ok, o, "created", jreal(pb->created));
        put(&ok, o, "invocations", jid(pb->invocations));
        return json_array_append_new(ctx, done(o, ok)) != 0 ? -ENOMEM : 0;
}

/* A session's postbacks and callbacks not freed, with where each was
 * made; NULL when out of memory. */
static json_t *postbacks_json(api *a, poe_sid sid)
{
        json_t *arr = json_array();

        if (arr && poe_peek_postbacks(a->k, sid, postback_cb, arr) != 0) {
                json_decref(arr);
                return NULL;
        }
        return arr;
}

/* sessions/ID */
static int ep_session(api *a)
{
        poe_sid sid = a->sid;
        poe_session_info si;
        bool ok;

        if (poe_peek_session(a->k, sid, &si) < 0)
                return no_session(a, sid);
        a->data = session_json(a, &si);
        ok = a->data != NULL;
        put(&ok, a->data, "handlers", handlers_json(a, sid));
        put(&ok, a->data, "postbacks", postbacks_json(a, sid));
        put(&ok, a->data, "children", children_json(a, sid));
        return ok ? OK : oom(a);
}

/* ---- reasons, item by item ---- */

static const char *const mode_names[] = { "read", "write", "expedite" };

/*
 * One item of poe_peek_reasons.  Every item has the same keys; those its
 * kind has no use for are null: "id" is the event or timer id, the
 * child's id, the fd or the pid; "other" the event's sender or receiver
 * (the session itself for timers) or the child; "when" an event's or
 * timer's due time; "count" an extref's count, a postback item's number
 * of live postbacks, an fd's mode bits (also spelled out in "modes");
 * "file" and "line" where an event or timer was queued or an extra
 * reference last taken.
 */
static json_t *item_json(const poe_peek_item *it)
{
        bool timed = it->reason == POE_REASON_EVENTS_TO || it->reason == POE_REASON_EVENTS_FROM ||
                     it->reason == POE_REASON_TIMERS;
        bool has_other = timed || it->reason == POE_REASON_CHILDREN;
        bool has_id = has_other || it->reason == POE_REASON_HANDLES ||
                      it->reason == POE_REASON_SIGCHILD;
        bool has_count = it->reason == POE_REASON_HANDLES || it->reason == POE_REASON_EXTREFS ||
                         it->reason == POE_REASON_POSTBACKS;
        json_t *o = json_object(), *modes;
        bool ok = o != NULL;
        int m;

        put(&ok, o, "reason", jstr(it->reason_name));
        put(&ok, o, "id", has_id ? jid(it->id) : json_null());
        put(&ok, o, "name", jstr(it->name));
        put(&ok, o, "other", has_other ? jid(it->other) : json_null());
        put(&ok, o, "when", timed ? jreal(it->when) : json_null());
        put(&ok, o, "count", has_count ? json_integer(it->count) : json_null());
        /* Where an event or timer was queued, an extra reference last
         * taken: null when not known (a caller that gave no place). */
        put(&ok, o, "file", it->file && *it->file ? jstr(it->file) : json_null());
        put(&ok, o, "line", it->file && *it->file ? json_integer(it->line) : json_null());
        if (it->reason == POE_REASON_HANDLES) {
                modes = json_array();
                for (m = 0; m < 3; m++)
                        if (it->count & (1 << m))
                                push(&ok, modes, json_string(mode_names[m]));
                put(&ok, o, "modes", modes);
        }
        return done(o, ok);
}

typedef struct item_walk {
        json_t *list;
        uint64_t off, len;   /* the counted items built: off .. off + len - 1 */
        bool skip_children;  /* "why" shows children as a count only */
        uint64_t n;          /* items counted */
        uint64_t sum;        /* what they add up to in the refcount */
} item_walk;

static int items_cb(void *ctx, const poe_peek_item *it)
{
        item_walk *w = ctx;

        /* Each item holds one count, but the postbacks come as a single
         * item that holds as many as it says. */
        w->sum += it->reason == POE_REASON_POSTBACKS ? (uint64_t)(it->count > 0 ? it->count : 0)
                                                     : 1;
        if (w->skip_children && it->reason == POE_REASON_CHILDREN)
                return 0;
        if (w->n >= w->off && w->n - w->off < w->len &&
            json_array_append_new(w->list, item_json(it)) != 0)
                return -ENOMEM;
        w->n++;
        return 0;
}

/* sessions/ID/reasons: the items, paged; "sum" counts them all, to be
 * checked against "refcount".  Costs the queue's length. */
static int ep_reasons(api *a)
{
        poe_sid sid = a->sid;
        poe_session_info si;
        item_walk w;
        bool ok;
        int st, r;

        if ((st = param_page(a)) != OK)
                return st;
        if (poe_peek_session(a->k, sid, &si) < 0)
                return no_session(a, sid);
        memset(&w, 0, sizeof(w));
        w.off = (uint64_t)a->pg.offset;
        w.len = (uint64_t)a->pg.limit;
        w.list = json_array();
        if (!w.list)
                return oom(a);
        r = poe_peek_reasons(a->k, sid, items_cb, &w);
        if (r < 0) {
                json_decref(w.list);
                return r == -ENOMEM ? oom(a) : fail(a, 500, "poe_peek_reasons failed (%d)", r);
        }
        a->data = json_object();
        ok = a->data != NULL;
        put(&ok, a->data, "session", jid(sid));
        put(&ok, a->data, "refcount", jid(si.refcount));
        put(&ok, a->data, "sum", jid(w.sum));
        put(&ok, a->data, "reasons", reason_counts_json(si.reasons, si.refcount));
        put(&ok, a->data, "items", w.list);
        if (!ok)
                return oom(a);
        return page_done(a, (size_t)w.n);
}

/* ---- why run() has not returned ---- */

/* snprintf's appender: never past the end, always terminated. */
static void say(char *buf, size_t size, size_t *len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void say(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (*len >= size)
                return;
        va_start(ap, fmt);
        n = vsnprintf(buf + *len, size - *len, fmt, ap);
        va_end(ap);
        if (n > 0)
                *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

static void say_count(char *buf, size_t size, size_t *len, bool *first, uint64_t n,
                      const char *one, const char *many)
{
        if (!n)
                return;
        say(buf, size, len, "%s%" PRIu64 " %s", *first ? "" : ", ", n, n == 1 ? one : many);
        *first = false;
}

/* The reasons of the sessions on the page, each with up to items_max
 * items (children excepted: they explain themselves further down the
 * list). */
static json_t *why_session_json(api *a, const poe_session_info *si, int64_t items_max)
{
        json_t *o = session_json(a, si);
        bool ok = o != NULL;
        item_walk w;

        memset(&w, 0, sizeof(w));
        w.len = (uint64_t)items_max;
        w.skip_children = true;
        w.list = json_array();
        if (ok && w.list && poe_peek_reasons(a->k, si->id, items_cb, &w) != 0)
                ok = false;
        put(&ok, o, "items", w.list);
        put(&ok, o, "items_total", jid(w.n));
        if (si->reasons[POE_REASON_POSTBACKS])
                put(&ok, o, "postbacks", postbacks_json(a, si->id));
        return done(o, ok);
}

/*
 * why?items=&offset=&limit=: run() returns once no session is left, and a
 * session is left while anything holds it (its refcount).  A session
 * held only by its children is there because of them, so the list shows
 * the sessions that hold something of their own, itemized, and counts
 * the others; the kernel-wide counts come first.
 */
static int ep_why(api *a)
{
        uint64_t totals[POE_REASON_MAX] = { 0 }, all = 0, ext_sessions = 0;
        uint32_t tot32[POE_REASON_MAX];
        size_t i, own = 0, only_children = 0, idle = 0, len = 0, queued;
        poe_kernel_info ki;
        json_t *list, *kern;
        char buf[64], sum[512];
        int64_t items_max;
        bool ok, first = true;
        int st, r;

        if ((st = param_page(a)) != OK)
                return st;
        if (poe__param_int(a->p, "items", 20, 0, 1000, &items_max) < 0)
                return fail(a, 400, "bad parameter items=%s: expected an integer from 0 to 1000",
                            shown(poe__param(a->p, "items"), buf, sizeof(buf)));
        if ((st = snapshot(a)) != OK)
                return st;
        if (poe_peek_kernel(a->k, &ki) < 0)
                return fail(a, 500, "poe_peek_kernel failed");
        /* The queue's length counts the timers too. */
        queued = ki.queue_length > ki.timers ? ki.queue_length - ki.timers : 0;
        a->data = json_object();
        list = json_array();
        ok = a->data && list;
        for (i = 0; i < a->n_ss; i++) {
                const poe_session_info *si = &a->ss[i];

                for (r = 0; r < POE_REASON_MAX; r++)
                        totals[r] += si->reasons[r];
                all += si->refcount;
                if (si->reasons[POE_REASON_EXTREFS])
                        ext_sessions++;
                if (si->refcount == 0) {
                        idle++;
                        continue;
                }
                if (si->refcount <= si->reasons[POE_REASON_CHILDREN]) {
                        only_children++;
                        continue;
                }
                if (ok && in_page(a, own))
                        push(&ok, list, why_session_json(a, si, items_max));
                own++;
        }
        if (!ki.running) {
                say(sum, sizeof(sum), &len, "run() can return: no session is alive.");
        } else {
                say(sum, sizeof(sum), &len,
                    "run() has not returned: %zu session%s alive (holding something of their "
                    "own: %zu; only children: %zu",
                    a->n_ss, a->n_ss == 1 ? "" : "s", own, only_children);
                if (idle)
                        say(sum, sizeof(sum), &len,
                            "; nothing, to be stopped at the end of this timeslice: %zu", idle);
                say(sum, sizeof(sum), &len, "). Held: ");
                say_count(sum, sizeof(sum), &len, &first, queued,
                          "queued event", "queued events");
                say_count(sum, sizeof(sum), &len, &first, ki.timers, "timer", "timers");
                say_count(sum, sizeof(sum), &len, &first, ki.fds_watched, "watched fd",
                          "watched fds");
                say_count(sum, sizeof(sum), &len, &first, ki.pid_watchers, "awaited pid",
                          "awaited pids");
                say_count(sum, sizeof(sum), &len, &first, ki.postbacks, "live postback",
                          "live postbacks");
                say_count(sum, sizeof(sum), &len, &first, totals[POE_REASON_ALIASES], "alias",
                          "aliases");
                say_count(sum, sizeof(sum), &len, &first, totals[POE_REASON_EXTREFS],
                          "extra reference", "extra references");
                say(sum, sizeof(sum), &len, "%s.", first ? "nothing but children" : "");
        }
        kern = json_object();
        put(&ok, kern, "queue_length", jid(ki.queue_length));
        put(&ok, kern, "events_queued", jid(queued));
        put(&ok, kern, "timers", jid(ki.timers));
        put(&ok, kern, "fds_watched", jid(ki.fds_watched));
        put(&ok, kern, "pid_watchers", jid(ki.pid_watchers));
        put(&ok, kern, "postbacks", jid(ki.postbacks));
        put(&ok, kern, "extref_sessions", jid(ext_sessions));
        put(&ok, kern, "extrefs", jid(totals[POE_REASON_EXTREFS]));
        put(&ok, kern, "aliases", jid(totals[POE_REASON_ALIASES]));
        for (r = 0; r < POE_REASON_MAX; r++)
                tot32[r] = totals[r] > UINT32_MAX ? UINT32_MAX : (uint32_t)totals[r];
        put(&ok, a->data, "running", json_boolean(ki.running));
        put(&ok, a->data, "summary", jstr(sum));
        put(&ok, a->data, "kernel", kern);
        put(&ok, a->data, "totals", reason_counts_json(tot32, all));
        put(&ok, a->data, "sessions_alive", jid(a->n_ss));
        put(&ok, a->data, "holding_own", jid(own));
        put(&ok, a->data, "only_children", jid(only_children));
        put(&ok, a->data, "holding_nothing", jid(idle));
        put(&ok, a->data, "sessions", list);
        if (!ok)
                return oom(a);
        return page_done(a, own);
}

/* ---- the tree ---- */

/*
 * What a session on the walk's stack is to the answer: outside the
 * subtree asked for, its root (whose children are the paged top level),
 * a node whose children are shown (children is the node's array,
 * borrowed: the answer owns it), or a node, or a session below one,
 * whose children are not (past the page or the depth).
 */
enum { T_OUT, T_ROOT, T_IN, T_CUT };

typedef struct tframe {
        poe_sid sid;
        int mode;
        int64_t level;
        json_t *children;
} tframe;

static json_t *tree_node(api *a, const poe_session_info *si, bool expand, json_t **ret_children)
{
        json_t *o = json_object();
        bool ok = o != NULL;

        *ret_children = NULL;
        put(&ok, o, "id", jid(si->id));
        put(&ok, o, "aliases", aliases_json(a, si->id));
        put(&ok, o, "refcount", jid(si->refcount));
        put(&ok, o, "n_children", jid(si->n_children));
        if (expand) {
                *ret_children = json_array();
                put(&ok, o, "children", *ret_children);
        }
        return done(o, ok);
}

/*
 * The deepest tree one answer nests.  The walk below has no recursion,
 * but jansson's dump and free recurse once per level of nesting (two per
 * tree level: the node and its children array), on an HTTP thread's
 * stack: a chain 30,000 deep overflowed it.  Deeper sessions are reached
 * with root=ID.
 */
#define TREE_MAX_DEPTH 64

/*
 * tree?root=&depth=&offset=&limit=: nested {id, aliases, refcount,
 * n_children, children}, paged over the top level (the sessions whose
 * parent is root, the kernel by default), TREE_MAX_DEPTH levels at most
 * (the default).  Nodes at the depth limit have no "children" key;
 * n_children says what is below.
 *
 * Built without recursion, whatever the tree's depth: poe_peek_sessions
 * lists parents before children, so each session's parent is on a stack
 * of its ancestors (popped until the parent is on top).  Every session
 * is pushed and popped once: O(sessions).
 */
static int ep_tree(api *a)
{
        tframe *stack = NULL, *top;
        size_t cap = 0, sp = 0, i, total = 0;
        int64_t depth;
        poe_sid root = POE_KERNEL;
        bool has_root, ok = true;
        poe_session_info ri;
        json_t *node, *children;
        char buf[64];
        int st;

        if ((st = param_page(a)) != OK || (st = param_sid(a, "root", &has_root, &root)) != OK)
                return st;
        if (poe__param_int(a->p, "depth", TREE_MAX_DEPTH, 1, TREE_MAX_DEPTH, &depth) < 0)
                return fail(a, 400,
                            "bad parameter depth=%s: expected an integer from 1 to %d "
                            "(absent: %d; deeper sessions with root=ID)",
                            shown(poe__param(a->p, "depth"), buf, sizeof(buf)), TREE_MAX_DEPTH,
                            TREE_MAX_DEPTH);
        if (has_root && root != POE_KERNEL && poe_peek_session(a->k, root, &ri) < 0)
                return no_session(a, root);
        if ((st = snapshot(a)) != OK)
                return st;
        if (grow(&stack, &cap, 0, 16, sizeof(*stack)) < 0)
                return oom(a);
        a->data = json_array();
        if (!a->data) {
                poe__jfree(stack);
                return oom(a);
        }
        /* The kernel at the bottom: every session's ancestors lead to it. */
        stack[sp++] = (tframe){ POE_KERNEL, root == POE_KERNEL ? T_ROOT : T_OUT, 0, NULL };
        for (i = 0; ok && i < a->n_ss; i++) {
                const poe_session_info *si = &a->ss[i];
                tframe f = { si->id, T_CUT, 0, NULL };

                while (sp > 1 && stack[sp - 1].sid != si->parent)
                        sp--;
                top = &stack[sp - 1];
                if (top->mode == T_OUT) {
                        f.mode = si->id == root ? T_ROOT : T_OUT;
                } else if (top->mode == T_ROOT || top->mode == T_IN) {
                        f.level = top->level + 1;
                        if (top->mode == T_ROOT && !in_page(a, total++))
                                f.mode = T_CUT;
                        else {
                                node = tree_node(a, si, f.level < depth, &children);
                                if (!node || json_array_append_new(top->mode == T_ROOT
                                                                           ? a->data
                                                                           : top->children,
                                                                   node) != 0) {
                                        ok = false;
                                        break;
                                }
                                f.mode = children ? T_IN : T_CUT;
                                f.children = children;
                        }
                }
                if (grow(&stack, &cap, sp, sp + 1, sizeof(*stack)) < 0) {
                        ok = false;
                        break;
                }
                stack[sp++] = f;
        }
        poe__jfree(stack);
        if (!ok)
                return oom(a);
        return page_done(a, total);
}

/* ---- the queue and timers ---- */

static const char *const event_types[] = { "post", "alarm", "signal", "die", "sig_child", "gc" };

typedef struct ev_walk {
        api *a;
        json_t *list;
        bool has_sid;
        poe_sid sid;
        const char *type;
        size_t total;
} ev_walk;

static json_t *event_json(const ev_walk *w, const poe_peek_event *ev)
{
        json_t *o = json_object();
        bool ok = o != NULL;

        put(&ok, o, "id", jid(ev->id));
        put(&ok, o, "to", jid(ev->to));
        put(&ok, o, "from", jid(ev->from));
        put(&ok, o, "event", jstr(ev->event));
        put(&ok, o, "type", jstr(ev->type));
        put(&ok, o, "due", jreal(ev->due));
        put(&ok, o, "in", jreal(ev->due - w->a->now));
        put(&ok, o, "file", jstr(ev->file));
        put(&ok, o, "line", json_integer(ev->line));
        put(&ok, o, "nargs", jid(ev->nargs));
        return done(o, ok);
}

static int queue_cb(void *ctx, const poe_peek_event *ev)
{
        ev_walk *w = ctx;

        if (w->has_sid && ev->to != w->sid && ev->from != w->sid)
                return 0;
        if (w->type && strcmp(ev->type, w->type) != 0)
                return 0;
        if (in_page(w->a, w->total) && json_array_append_new(w->list, event_json(w, ev)) != 0)
                return -ENOMEM;
        w->total++;
        return 0;
}

/* The end of a walk that counted matches into total.  (Call it after
 * the walk, not with the walk as an argument: the order in which
 * arguments are evaluated is unspecified.) */
static int walk_done(api *a, int r, size_t total, const char *what)
{
        if (r == -ENOMEM)
                return oom(a);
        if (r < 0)
                return fail(a, 500, "%s failed (%d)", what, r);
        return page_done(a, total);
}

/* queue?session=&type=&offset=&limit=: in dispatch order.  session
 * matches the receiver or the sender. */
static int ep_queue(api *a)
{
        ev_walk w = { a, NULL, false, 0, NULL, 0 };
        char buf[64];
        size_t i;
        int st, r;

        if ((st = param_page(a)) != OK || (st = param_sid(a, "session", &w.has_sid, &w.sid)) != OK)
                return st;
        w.type = param_str(a, "type");
        if (w.type) {
                for (i = 0; i < sizeof(event_types) / sizeof(*event_types); i++)
                        if (strcmp(w.type, event_types[i]) == 0)
                                break;
                if (i == sizeof(event_types) / sizeof(*event_types))
                        return fail(a, 400, "bad parameter type=%s: expected one of post, alarm, "
                                    "signal, die, sig_child, gc", shown(w.type, buf, sizeof(buf)));
        }
        a->data = w.list = json_array();
        if (!w.list)
                return oom(a);
        r = poe_peek_queue(a->k, queue_cb, &w);
        return walk_done(a, r, w.total, "poe_peek_queue");
}

static int timers_cb(void *ctx, const poe_peek_event *ev)
{
        ev_walk *w = ctx;
        json_t *o;
        bool ok;

        if (w->has_sid && ev->to != w->sid)
                return 0;
        if (in_page(w->a, w->total)) {
                o = json_object();
                ok = o != NULL;
                put(&ok, o, "id", jid(ev->id));
                put(&ok, o, "session", jid(ev->to));
                put(&ok, o, "event", jstr(ev->event));
                put(&ok, o, "due", jreal(ev->due));
                put(&ok, o, "remaining", jreal(ev->due - w->a->now));
                if (json_array_append_new(w->list, done(o, ok)) != 0)
                        return -ENOMEM;
        }
        w->total++;
        return 0;
}

/* timers?session=&offset=&limit=: in due order. */
static int ep_timers(api *a)
{
        ev_walk w = { a, NULL, false, 0, NULL, 0 };
        int st, r;

        if ((st = param_page(a)) != OK || (st = param_sid(a, "session", &w.has_sid, &w.sid)) != OK)
                return st;
        a->data = w.list = json_array();
        if (!w.list)
                return oom(a);
        r = poe_peek_timers(a->k, timers_cb, &w);
        return walk_done(a, r, w.total, "poe_peek_timers");
}

/* ---- watchers and signals ---- */

static int watchers_cb(void *ctx, const poe_peek_watcher *pw)
{
        ev_walk *w = ctx;
        json_t *o;
        bool ok;

        if (w->has_sid && pw->session != w->sid)
                return 0;
        if (in_page(w->a, w->total)) {
                o = json_object();
                ok = o != NULL;
                put(&ok, o, "fd", json_integer(pw->fd));
                put(&ok, o, "mode", json_string(pw->mode >= 0 && pw->mode < 3 ? mode_names[pw->mode]
                                                                               : "?"));
                put(&ok, o, "session", jid(pw->session));
                put(&ok, o, "session_aliases", aliases_json(w->a, pw->session));
                put(&ok, o, "event", jstr(pw->event));
                put(&ok, o, "paused", json_boolean(pw->paused));
                if (json_array_append_new(w->list, done(o, ok)) != 0)
                        return -ENOMEM;
        }
        w->total++;
        return 0;
}

/* watchers?session=&offset=&limit=: by fd, then mode. */
static int ep_watchers(api *a)
{
        ev_walk w = { a, NULL, false, 0, NULL, 0 };
        int st, r;

        if ((st = param_page(a)) != OK || (st = param_sid(a, "session", &w.has_sid, &w.sid)) != OK)
                return st;
        a->data = w.list = json_array();
        if (!w.list)
                return oom(a);
        r = poe_peek_watchers(a->k, watchers_cb, &w);
        return walk_done(a, r, w.total, "poe_peek_watchers");
}

typedef struct sig_entry {
        json_t *o;
        const char *signal; /* the string in o */
        poe_sid session;
        int pid;
} sig_entry;

typedef struct sig_walk {
        sig_entry *v;
        size_t n, cap;
        bool has_sid;
        poe_sid sid;
        const char *signal;
} sig_walk;

static int signals_cb(void *ctx, const poe_peek_signal *s)
{
        sig_walk *w = ctx;
        sig_entry *e;
        json_t *o;
        bool ok;

        if (w->has_sid && s->session != w->sid)
                return 0;
        if (w->signal && strcmp(s->signal, w->signal) != 0)
                return 0;
        if (grow(&w->v, &w->cap, w->n, w->n + 1, sizeof(*w->v)) < 0)
                return -ENOMEM;
        o = json_object();
        ok = o != NULL;
        put(&ok, o, "signal", jstr(s->signal));
        if (s->pid > 0)
                put(&ok, o, "pid", json_integer(s->pid));
        put(&ok, o, "session", jid(s->session));
        put(&ok, o, "event", jstr(s->event));
        o = done(o, ok);
        if (!o)
                return -ENOMEM;
        e = &w->v[w->n++];
        e->o = o;
        e->signal = json_string_value(json_object_get(o, "signal"));
        e->session = s->session;
        e->pid = s->pid;
        return 0;
}

/* Watchers by signal name then session, then the awaited pids by pid: the
 * kernel walks its session table's hash order, which would move rows
 * around between two requests. */
static int by_signal(const void *x, const void *y)
{
        const sig_entry *p = x, *q = y;
        int c;

        if ((p->pid > 0) != (q->pid > 0))
                return p->pid > 0 ? 1 : -1;
        if (p->pid != q->pid)
                return p->pid < q->pid ? -1 : 1;
        c = strcmp(p->signal, q->signal);
        if (c)
                return c;
        return p->session < q->session ? -1 : p->session > q->session;
}

/* signals?session=&signal=&offset=&limit=: {signal, session, event}, then
 * {signal: "CHLD", pid, session, event} for each awaited pid.  Collected
 * whole to be sorted: O(watchers log watchers). */
static int ep_signals(api *a)
{
        sig_walk w;
        size_t i;
        bool ok;
        int st, r;

        memset(&w, 0, sizeof(w));
        if ((st = param_page(a)) != OK || (st = param_sid(a, "session", &w.has_sid, &w.sid)) != OK)
                return st;
        w.signal = param_str(a, "signal");
        r = poe_peek_signals(a->k, signals_cb, &w);
        a->data = json_array();
        ok = r == 0 && a->data;
        if (ok && w.n > 1)
                qsort(w.v, w.n, sizeof(*w.v), by_signal);
        for (i = 0; i < w.n; i++) {
                /* The session's aliases on the page's rows only. */
                if (ok && in_page(a, i) &&
                    json_object_set_new(w.v[i].o, "session_aliases",
                                        aliases_json(a, w.v[i].session)) != 0)
                        ok = false;
                if (ok && in_page(a, i))
                        push(&ok, a->data, w.v[i].o);
                else
                        json_decref(w.v[i].o);
        }
        poe__jfree(w.v);
        if (r < 0 && r != -ENOMEM)
                return fail(a, 500, "poe_peek_signals failed (%d)", r);
        if (!ok)
                return oom(a);
        return page_done(a, w.n);
}

/* ---- aliases and extra references ---- */

typedef struct alias_entry {
        const char *alias;
        poe_sid session;
} alias_entry;

static int by_alias(const void *x, const void *y)
{
        return strcmp(((const alias_entry *)x)->alias, ((const alias_entry *)y)->alias);
}

/* aliases?q=&offset=&limit=: sorted by alias; q is a substring (any
 * case).  O(aliases log aliases). */
static int ep_aliases(api *a)
{
        const char *q = param_str(a, "q"), *small[SMALL_ALIASES], **v;
        alias_entry *e = NULL;
        size_t cap = 0, n = 0, i, j;
        bool ok = true;
        int st, m;

        if ((st = param_page(a)) != OK || (st = snapshot(a)) != OK)
                return st;
        for (i = 0; ok && i < a->n_ss; i++) {
                if (!a->ss[i].n_aliases)
                        continue;
                m = alias_get(a, a->ss[i].id, small, &v);
                if (m < 0 || grow(&e, &cap, n, n + (size_t)m, sizeof(*e)) < 0)
                        ok = false;
                for (j = 0; ok && j < (size_t)m; j++) {
                        if (q && !strcasestr(v[j], q))
                                continue;
                        e[n].alias = v[j];
                        e[n++].session = a->ss[i].id;
                }
                if (v != small)
                        poe__jfree(v);
        }
        if (ok && n > 1)
                qsort(e, n, sizeof(*e), by_alias);
        a->data = json_array();
        ok = ok && a->data;
        for (i = 0; ok && i < n; i++) {
                json_t *o;

                if (!in_page(a, i))
                        continue;
                o = json_object();
                put(&ok, o, "alias", jstr(e[i].alias));
                put(&ok, o, "session", jid(e[i].session));
                push(&ok, a->data, o);
        }
        poe__jfree(e);
        if (!ok)
                return oom(a);
        return page_done(a, n);
}

typedef struct ext_walk {
        api *a;
        json_t *list;
        poe_sid sid;
        uint64_t idx; /* the next extref's place among all of them */
} ext_walk;

static int extrefs_cb(void *ctx, const poe_peek_item *it)
{
        ext_walk *w = ctx;
        json_t *o;
        bool ok;

        if (it->reason != POE_REASON_EXTREFS)
                return 0;
        if (in_page(w->a, w->idx)) {
                o = json_object();
                ok = o != NULL;
                put(&ok, o, "session", jid(w->sid));
                put(&ok, o, "tag", jstr(it->name));
                put(&ok, o, "count", json_integer(it->count));
                put(&ok, o, "file", it->file && *it->file ? jstr(it->file) : json_null());
                put(&ok, o, "line", it->file && *it->file ? json_integer(it->line) : json_null());
                if (json_array_append_new(w->list, done(o, ok)) != 0)
                        return -ENOMEM;
        }
        w->idx++;
        return 0;
}

/*
 * extrefs?session=&offset=&limit=: {session, tag, count}, sessions in tree
 * order, tags in the order they were first taken.  A session has
 * reasons[EXTREFS] tags, so the total is known from the snapshot and only
 * the sessions the page reaches are walked (poe_peek_reasons: O(queue)
 * each).
 */
static int ext_page(api *a, const poe_session_info *si, ext_walk *w)
{
        uint64_t n = si->reasons[POE_REASON_EXTREFS];
        uint64_t end = w->idx + n;
        uint64_t first = (uint64_t)a->pg.offset, last = first + (uint64_t)a->pg.limit;
        int r;

        /* Walk only a session whose tags [idx, end) meet the page. */
        if (!n || end <= first || w->idx >= last) {
                w->idx = end;
                return 0;
        }
        w->sid = si->id;
        r = poe_peek_reasons(a->k, si->id, extrefs_cb, w);
        /* Keep the count the snapshot promised, whatever the walk saw, so
         * the pages of one total never overlap. */
        w->idx = end;
        return r;
}

static int ep_extrefs(api *a)
{
        ext_walk w = { a, NULL, 0, 0 };
        bool has_sid;
        poe_sid sid = 0;
        size_t i;
        int st, r = 0;

        if ((st = param_page(a)) != OK || (st = param_sid(a, "session", &has_sid, &sid)) != OK ||
            (st = snapshot(a)) != OK)
                return st;
        a->data = w.list = json_array();
        if (!w.list)
                return oom(a);
        for (i = 0; r == 0 && i < a->n_ss; i++)
                if (!has_sid || a->ss[i].id == sid)
                        r = ext_page(a, &a->ss[i], &w);
        return walk_done(a, r, (size_t)w.idx, "poe_peek_reasons");
}

/* ---- lints ---- */

/* lints?idle=&slow=&grow=&postback=&past=&kind=&offset=&limit=: the
 * findings (lints.c), the thresholds (the inspector's, each overridable
 * by a parameter of its name), and the count of each kind. */
static int ep_lints(api *a)
{
        static const char *const names[] = { "idle", "slow", "grow", "postback", "past" };
        poe__lint_cfg cfg;
        const char *kind = param_str(a, "kind");
        size_t counts[POE__LINT_KINDS] = { 0 }, n = 0, i, total = 0;
        json_t *list, *th, *cn;
        poe__lint *v = NULL;
        char buf[64];
        bool ok;
        int st, r, want = -1;

        if (!a->in)
                return fail(a, 500, "lints need the inspector's state");
        cfg = a->in->lint_cfg;
        if ((st = param_page(a)) != OK)
                return st;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                const char *p = param_str(a, names[i]);

                if (p && poe__lint_cfg_set(&cfg, names[i], p) < 0)
                        return fail(a, 400, "bad parameter %s=%s: expected a number above 0%s",
                                    names[i], shown(p, buf, sizeof(buf)),
                                    strcmp(names[i], "past") == 0 ? " (a whole count)" : " (seconds)");
        }
        if (kind) {
                for (r = 0; r < POE__LINT_KINDS; r++)
                        if (strcmp(kind, poe__lint_kind_name(r)) == 0)
                                want = r;
                if (want < 0)
                        return fail(a, 400,
                                    "bad parameter kind=%s: expected idle_held, slow_handler, "
                                    "queue_grows, timers_grow, postback_unused or timer_in_past",
                                    shown(kind, buf, sizeof(buf)));
        }
        r = poe__lints_find(a->in, a->k, &cfg, &v, &n);
        if (r == -ENOMEM)
                return oom(a);
        if (r < 0)
                return fail(a, 500, "the lints could not read the kernel (%d)", r);
        a->data = json_object();
        list = json_array();
        th = json_object();
        cn = json_object();
        ok = a->data && list && th && cn;
        for (i = 0; ok && i < n; i++) {
                const poe__lint *x = &v[i];
                json_t *o;

                counts[x->kind]++;
                if (want >= 0 && x->kind != want)
                        continue;
                if (in_page(a, total)) {
                        o = json_object();
                        ok = o != NULL;
                        put(&ok, o, "kind", jstr(poe__lint_kind_name(x->kind)));
                        put(&ok, o, "session", jid(x->sid));
                        put(&ok, o, "aliases", aliases_json(a, x->sid));
                        put(&ok, o, "since", jreal(x->since));
                        put(&ok, o, "value", jreal(x->value));
                        put(&ok, o, "evidence", jstr(x->evidence));
                        push(&ok, list, done(o, ok));
                }
                total++;
        }
        poe__lints_release(v);
        put(&ok, th, "idle", jreal(cfg.idle));
        put(&ok, th, "slow", jreal(cfg.slow));
        put(&ok, th, "grow", jreal(cfg.grow));
        put(&ok, th, "postback", jreal(cfg.postback));
        put(&ok, th, "past", jreal(cfg.past));
        for (r = 0; r < POE__LINT_KINDS; r++)
                put(&ok, cn, poe__lint_kind_name(r), jid(counts[r]));
        put(&ok, a->data, "thresholds", th);
        put(&ok, a->data, "counts", cn);
        put(&ok, a->data, "lints", list);
        if (!ok)
                return oom(a);
        return page_done(a, total);
}

/* ---- the kernel ---- */

static json_t *groups_json(unsigned mask)
{
        json_t *arr = json_array();
        bool ok = arr != NULL;
        const char *name;
        unsigned bit;

        for (bit = 0; bit < 32; bit++) {
                if (!(mask & (1u << bit)))
                        continue;
                name = poe_debug_group_name(1u << bit);
                if (name)
                        push(&ok, arr, jstr(name));
        }
        return done(arr, ok);
}

/* kernel: the summary, with the inspector's own fields merged in (they
 * win a clash: they are the inspector's to say). */
static int ep_kernel(api *a)
{
        poe_kernel_info ki;
        json_t *o, *extra;
        bool ok;

        if (poe_peek_kernel(a->k, &ki) < 0)
                return fail(a, 500, "poe_peek_kernel failed");
        a->data = o = json_object();
        ok = o != NULL;
        put(&ok, o, "pid", json_integer(ki.pid));
        put(&ok, o, "kernel_id", jstr(ki.id));
        put(&ok, o, "loop", jstr(ki.loop));
        put(&ok, o, "now", jreal(ki.now));
        put(&ok, o, "started", jreal(ki.started));
        put(&ok, o, "uptime", jreal(ki.uptime));
        put(&ok, o, "sessions", jid(ki.sessions));
        put(&ok, o, "queue_length", jid(ki.queue_length));
        put(&ok, o, "timers", jid(ki.timers));
        put(&ok, o, "fds_watched", jid(ki.fds_watched));
        put(&ok, o, "signal_watchers", jid(ki.signal_watchers));
        put(&ok, o, "pid_watchers", jid(ki.pid_watchers));
        put(&ok, o, "postbacks", jid(ki.postbacks));
        put(&ok, o, "events_dispatched", jid(ki.events_dispatched));
        put(&ok, o, "active_session", jid(ki.active_session));
        put(&ok, o, "active_event", jstr(ki.active_event));
        put(&ok, o, "dispatching", json_boolean(ki.dispatching));
        put(&ok, o, "running", json_boolean(ki.running));
        put(&ok, o, "debug_compiled", groups_json(ki.debug_compiled));
        put(&ok, o, "debug_enabled", groups_json(ki.debug_enabled));
        if (ok && a->in) {
                extra = poe__inspector_summary_extra(a->in);
                if (extra && (!json_is_object(extra) || json_object_update(o, extra) != 0))
                        ok = false;
                json_decref(extra);
        }
        return ok ? OK : oom(a);
}

/* ---- changes ---- */

/* PUT trace/groups {"TRACE_EVENTS": true, ...}: trace groups only, all
 * checked before any is switched. */
static int ep_debug_set(api *a, const json_t *body)
{
        const char *key;
        json_t *v;
        int r;

        if (!json_is_object(body))
                return fail(a, 400, "the body must be a JSON object such as "
                                    "{\"TRACE_EVENTS\": true}");
        json_object_foreach((json_t *)body, key, v) {
                unsigned g = poe_debug_group_parse(key);
                char buf[80];

                if (!g || !(g & POE_TRACE_ALL) || !json_is_boolean(v))
                        return fail(a, 400,
                                    "\"%s\": expected a trace group name (TRACE_EVENTS, ...) "
                                    "with true or false", shown(key, buf, sizeof(buf)));
        }
        json_object_foreach((json_t *)body, key, v) {
                r = poe_kernel_debug_set(a->k, poe_debug_group_parse(key), json_is_true(v));
                if (r < 0)
                        return fail(a, r == -EOPNOTSUPP ? 409 : 400, "%s: %s", key,
                                    r == -EOPNOTSUPP ? "not compiled into this library"
                                                     : strerror(-r));
        }
        a->data = json_pack("{s:i}", "enabled", (int)poe_kernel_debug_get(a->k));
        return a->data ? OK : oom(a);
}

/* POST sessions/ID/signal {"signal": "TERM"}: raises it at the session. */
static int ep_signal(api *a, const json_t *body)
{
        const char *name = json_string_value(json_object_get(body, "signal"));
        int r;

        if (!name || !*name)
                return fail(a, 400, "expected a body {\"signal\": \"NAME\"} and a numeric "
                                    "session id");
        r = poe_kernel_signal(a->k, a->sid, name, NULL, 0);
        if (r < 0)
                return fail(a, r == -ESRCH ? 404 : 400, "session %" PRIu64 ": %s", a->sid,
                            strerror(-r));
        a->data = json_pack("{s:I, s:o*}", "session", (json_int_t)a->sid, "signal", jstr(name));
        return a->data ? OK : oom(a);
}

/* ---- the handlers the route table names ---- */

/*
 * Runs endpoint ep (or change ch, with the call's body) for call c on the
 * kernel's thread, and leaves its answer in c->ans: 200 with data (and
 * page for lists), or a status and a message.  Whatever ep built is
 * freed when it fails.
 */
static int run(poe__call *c, int (*ep)(api *a), int (*ch)(api *a, const json_t *body))
{
        api a;
        int st;

        memset(&a, 0, sizeof(a));
        a.k = c->k;
        a.in = c->in;
        a.p = c->params;
        a.sid = c->sid;
        a.err = c->ans.err;
        a.errlen = sizeof(c->ans.err);
        c->ans.err[0] = '\0';
        if (!a.k)
                st = fail(&a, 500, "the kernel is gone");
        else {
                a.now = poe_kernel_time(a.k);
                st = ep ? ep(&a) : ch(&a, c->body);
        }
        poe__jfree(a.ss);
        if (st == OK && !a.data)
                st = oom(&a);
        if (st != OK) {
                json_decref(a.data);
                json_decref(a.page);
                c->ans.status = st;
                return st;
        }
        c->ans.err[0] = '\0';
        return poe__reply_ok(c, a.data, a.page, false);
}

#define ENDPOINT(name)                                                                   \
        int poe__api_##name(poe__call *c)                                                \
        {                                                                                \
                return run(c, ep_##name, NULL);                                          \
        }
ENDPOINT(kernel)
ENDPOINT(sessions)
ENDPOINT(session)
ENDPOINT(reasons)
ENDPOINT(why)
ENDPOINT(tree)
ENDPOINT(queue)
ENDPOINT(timers)
ENDPOINT(watchers)
ENDPOINT(signals)
ENDPOINT(aliases)
ENDPOINT(extrefs)
ENDPOINT(lints)

int poe__api_debug_set(poe__call *c)
{
        return run(c, NULL, ep_debug_set);
}

int poe__api_signal(poe__call *c)
{
        return run(c, NULL, ep_signal);
}

int poe__api_no_such(const char *path, char *err, size_t errlen)
{
        char buf[80], list[384];

        /* The table's own paths, so the list is never out of date. */
        poe__route_list("/api/v1/", list, sizeof(list));
        snprintf(err, errlen, "no such endpoint: %.79s (there are: %.383s)",
                 shown(path, buf, sizeof(buf)), list);
        return 404;
}

int poe__api_malformed_sid(const char *s, size_t n, char *err, size_t errlen)
{
        char buf[80];

        snprintf(err, errlen, "malformed session id '%s': expected a decimal number",
                 shown_n(s, n, buf, sizeof(buf)));
        return 400;
}

/*
 * GET /api/v1/<path> through the route table, as http.c's pipeline does
 * but with no HTTP: only the routes run on the kernel's thread that read
 * live state answer (the rest are 404 here).
 */
int poe__api_get(poe_kernel *k, poe_inspector *in, const char *path, const poe__params *p,
                 json_t **ret_data, json_t **ret_page, char *err, size_t errlen)
{
        char url[600];
        const poe__route *rt;
        poe__call c;
        unsigned allowed;
        bool sid_ok;
        int st;

        if (err && errlen)
                err[0] = '\0';
        if (!k || !path || !ret_data || !ret_page) {
                if (err && errlen)
                        snprintf(err, errlen, "poe__api_get: missing argument");
                return 500;
        }
        memset(&c, 0, sizeof(c));
        c.in = in;
        c.k = k;
        c.params = p;
        if ((size_t)snprintf(url, sizeof(url), "/api/v1/%s", path) >= sizeof(url))
                rt = NULL;
        else
                rt = poe__route_find("GET", url, &c, &allowed, &sid_ok);
        if (!rt || rt->where != POE__ON_KERNEL || strncmp(rt->path, "/api/v1/", 8) != 0) {
                st = poe__api_no_such(path, c.ans.err, sizeof(c.ans.err));
        } else if (!sid_ok) {
                st = poe__api_malformed_sid(c.name, c.name_len, c.ans.err, sizeof(c.ans.err));
        } else {
                st = rt->fn(&c);
        }
        if (st != OK) {
                if (err && errlen)
                        snprintf(err, errlen, "%s", c.ans.err);
                poe__answer_clear(&c.ans);
                return st;
        }
        *ret_data = c.ans.data;
        *ret_page = c.ans.page;
        return OK;
}
