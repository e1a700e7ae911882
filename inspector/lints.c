/*
 * Lints, in the spirit of tokio-console's: what looks wrong in the live
 * kernel, each finding with its kind, session, since when and evidence.
 * On the kernel's thread only (GET /api/v1/lints and /metrics), from the
 * peek API:
 *
 *   idle_held        held only by aliases and extra references, no
 *                    dispatch for `idle` seconds (since its last one);
 *   slow_handler     a top-level dispatch took `slow` seconds or more
 *                    (the kernel records those: poe_kernel_set_slow_dispatch);
 *   queue_grows      the events queued to a session rose in at least 3
 *   timers_grow      samples and never fell for `grow` seconds; the same
 *                    for its pending timers;
 *   postback_unused  a postback or callback holding its session, never
 *                    invoked, for `postback` seconds since it was made;
 *   timer_in_past    a session set `past` timers or more for a time
 *                    already gone.
 *
 * Growth needs samples: each lints or metrics request takes one, at most
 * one a second of the kernel's clock (the fake one in tests), of every
 * session's two counts, kept sorted by id: O(sessions log sessions).
 * Memory comes from jansson's allocator, as api.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "inspector-internal.h"
#include "json-util.h"

static const char *const kind_names[POE__LINT_KINDS] = {
        [POE__LINT_IDLE_HELD] = "idle_held",
        [POE__LINT_SLOW_HANDLER] = "slow_handler",
        [POE__LINT_QUEUE_GROWS] = "queue_grows",
        [POE__LINT_TIMERS_GROW] = "timers_grow",
        [POE__LINT_POSTBACK_UNUSED] = "postback_unused",
        [POE__LINT_TIMER_IN_PAST] = "timer_in_past",
};

const char *poe__lint_kind_name(int kind)
{
        return kind >= 0 && kind < POE__LINT_KINDS ? kind_names[kind] : "?";
}

/* ---- thresholds ---- */

void poe__lint_cfg_default(poe__lint_cfg *c)
{
        c->idle = 60;
        c->slow = 0.5;
        c->grow = 30;
        c->postback = 60;
        c->past = 3;
}

/* One threshold by name: a number in its range.  0, or -EINVAL. */
int poe__lint_cfg_set(poe__lint_cfg *c, const char *name, const char *value)
{
        char *end;
        double v;

        if (!value || !*value)
                return -EINVAL;
        errno = 0;
        v = strtod(value, &end);
        if (*end || errno || !isfinite(v) || v <= 0 || v >= 1e9)
                return -EINVAL;
        if (strcmp(name, "idle") == 0)
                c->idle = v;
        else if (strcmp(name, "slow") == 0)
                c->slow = v;
        else if (strcmp(name, "grow") == 0)
                c->grow = v;
        else if (strcmp(name, "postback") == 0)
                c->postback = v;
        else if (strcmp(name, "past") == 0 && v == floor(v))
                c->past = v;
        else
                return -EINVAL;
        return 0;
}

/* POE_INSPECTOR_LINTS: "idle=60,slow=0.5,grow=30,postback=60,past=3",
 * any of them.  0, or -EINVAL (c then holds what parsed before). */
int poe__lint_cfg_parse(poe__lint_cfg *c, const char *s)
{
        char buf[256], *save = NULL, *item;

        if (!s)
                return 0;
        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(item, '=');

                if (!eq)
                        return -EINVAL;
                *eq = '\0';
                if (poe__lint_cfg_set(c, item, eq + 1) < 0)
                        return -EINVAL;
        }
        return 0;
}

/* ---- growth samples ---- */

typedef struct grow_run {
        double start_t;          /* when the run of rises began */
        uint32_t start, last, rises;
} grow_run;

typedef struct grow_entry {
        poe_sid sid;
        grow_run run[2]; /* 0: events queued to it, 1: its timers */
} grow_entry;

struct poe__lints {
        grow_entry *v;
        size_t n;
        double sampled; /* the last sample's time, 0 before the first */
};

void poe__lints_free(struct poe__lints *l)
{
        if (!l)
                return;
        poe__jfree(l->v);
        poe__jfree(l);
}

typedef struct snap {
        poe_session_info *v;
        size_t n, cap;
} snap;

static int snap_cb(void *ctx, const poe_session_info *s)
{
        snap *sn = ctx;

        if (sn->n == sn->cap) {
                size_t cap = sn->cap ? sn->cap * 2 : 64;
                poe_session_info *v = poe__jalloc(cap * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                if (sn->n)
                        memcpy(v, sn->v, sn->n * sizeof(*v));
                poe__jfree(sn->v);
                sn->v = v;
                sn->cap = cap;
        }
        sn->v[sn->n++] = *s;
        return 0;
}

static int by_sid(const void *x, const void *y)
{
        poe_sid a = ((const grow_entry *)x)->sid, b = ((const grow_entry *)y)->sid;

        return a < b ? -1 : a > b;
}

static const grow_entry *find_entry(const struct poe__lints *l, poe_sid sid)
{
        grow_entry key;

        if (!l || !l->n)
                return NULL;
        key.sid = sid;
        return bsearch(&key, l->v, l->n, sizeof(*l->v), by_sid);
}

static void run_step(grow_run *r, const grow_run *old, uint32_t value, double now)
{
        if (!old || value < old->last) {
                r->start_t = now;
                r->start = r->last = value;
                r->rises = 0;
                return;
        }
        *r = *old;
        if (value > old->last)
                r->rises++;
        r->last = value;
}

/* A new sample of every session's two counts, if a second has passed. */
static int sample(poe_inspector *in, const snap *sn, double now)
{
        struct poe__lints *l = in->lints;
        grow_entry *v;
        size_t i;

        if (!l) {
                l = poe__jalloc(sizeof(*l));
                if (!l)
                        return -ENOMEM;
                memset(l, 0, sizeof(*l));
                in->lints = l;
        }
        if (l->sampled && now - l->sampled < 1.0)
                return 0;
        v = poe__jalloc((sn->n ? sn->n : 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (i = 0; i < sn->n; i++) {
                const poe_session_info *s = &sn->v[i];
                const grow_entry *old = find_entry(l, s->id);

                v[i].sid = s->id;
                run_step(&v[i].run[0], old ? &old->run[0] : NULL,
                         s->reasons[POE_REASON_EVENTS_TO], now);
                run_step(&v[i].run[1], old ? &old->run[1] : NULL, s->reasons[POE_REASON_TIMERS],
                         now);
        }
        qsort(v, sn->n, sizeof(*v), by_sid);
        poe__jfree(l->v);
        l->v = v;
        l->n = sn->n;
        l->sampled = now;
        return 0;
}

/* ---- findings ---- */

typedef struct finds {
        poe__lint *v;
        size_t n, cap;
        bool failed;
} finds;

static poe__lint *add(finds *f, int kind, poe_sid sid, double since, double value)
{
        poe__lint *x;

        if (f->failed)
                return NULL;
        if (f->n == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 16;
                poe__lint *v = poe__jalloc(cap * sizeof(*v));

                if (!v) {
                        f->failed = true;
                        return NULL;
                }
                if (f->n)
                        memcpy(v, f->v, f->n * sizeof(*v));
                poe__jfree(f->v);
                f->v = v;
                f->cap = cap;
        }
        x = &f->v[f->n++];
        memset(x, 0, sizeof(*x));
        x->kind = kind;
        x->sid = sid;
        x->since = since;
        x->value = value;
        return x;
}

/* The aliases and extra references that hold an idle session, with
 * where each reference was last taken. */
typedef struct holders {
        char *buf;
        size_t size, len;
} holders;

static int holder_cb(void *ctx, const poe_peek_item *it)
{
        holders *h = ctx;
        int n = 0;

        if (h->len >= h->size)
                return 0;
        if (it->reason == POE_REASON_ALIASES)
                n = snprintf(h->buf + h->len, h->size - h->len, "%salias '%s'",
                             h->len ? ", " : "", it->name ? it->name : "");
        else if (it->reason == POE_REASON_EXTREFS && it->file && *it->file)
                n = snprintf(h->buf + h->len, h->size - h->len,
                             "%sextra reference '%s' x%d (taken at %s:%d)", h->len ? ", " : "",
                             it->name ? it->name : "", it->count, it->file, it->line);
        else if (it->reason == POE_REASON_EXTREFS)
                n = snprintf(h->buf + h->len, h->size - h->len, "%sextra reference '%s' x%d",
                             h->len ? ", " : "", it->name ? it->name : "", it->count);
        if (n > 0)
                h->len += (size_t)n;
        if (h->len >= h->size)
                h->len = h->size - 1;
        return 0;
}

/* Held by nothing but aliases and extra references. */
static bool only_held(const poe_session_info *s)
{
        uint32_t rest = s->refcount - s->reasons[POE_REASON_ALIASES] -
                        s->reasons[POE_REASON_EXTREFS];

        return s->refcount > 0 && rest == 0 && !s->stopping;
}

typedef struct pb_walk {
        finds *f;
        const poe__lint_cfg *cfg;
        double now;
} pb_walk;

static int postback_cb(void *ctx, const poe_peek_postback *pb)
{
        pb_walk *w = ctx;
        poe__lint *x;

        if (pb->weak || pb->invocations || w->now - pb->created < w->cfg->postback)
                return 0;
        x = add(w->f, POE__LINT_POSTBACK_UNUSED, pb->session, pb->created,
                w->now - pb->created);
        if (!x)
                return -ENOMEM;
        if (pb->file && *pb->file)
                snprintf(x->evidence, sizeof(x->evidence),
                         "%s to '%s' made at %s:%d %.0f s ago, never invoked nor freed",
                         pb->callback ? "callback" : "postback", pb->event, pb->file, pb->line,
                         w->now - pb->created);
        else
                snprintf(x->evidence, sizeof(x->evidence),
                         "%s to '%s' made %.0f s ago, never invoked nor freed",
                         pb->callback ? "callback" : "postback", pb->event,
                         w->now - pb->created);
        return 0;
}

static void grow_finding(finds *f, const poe_session_info *s, const grow_run *r, int kind,
                         const poe__lint_cfg *cfg, double now)
{
        poe__lint *x;

        if (r->rises < 3 || r->last <= r->start || now - r->start_t < cfg->grow)
                return;
        x = add(f, kind, s->id, r->start_t, (double)r->last);
        if (x)
                snprintf(x->evidence, sizeof(x->evidence),
                         "%s went from %u to %u in %.0f s, rising in %u samples and never "
                         "falling",
                         kind == POE__LINT_QUEUE_GROWS ? "events queued to it" : "its timers",
                         r->start, r->last, now - r->start_t, r->rises);
}

int poe__lints_find(poe_inspector *in, poe_kernel *k, const poe__lint_cfg *cfg,
                    poe__lint **ret, size_t *ret_n)
{
        snap sn = { 0 };
        finds f = { 0 };
        pb_walk w;
        double now = poe_kernel_time(k);
        size_t i;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = poe_peek_sessions(k, snap_cb, &sn);
        if (r == 0)
                r = sample(in, &sn, now);
        for (i = 0; r == 0 && i < sn.n && !f.failed; i++) {
                const poe_session_info *s = &sn.v[i];
                const grow_entry *g = find_entry(in->lints, s->id);
                double last = s->last_dispatch > 0 ? s->last_dispatch : s->created;
                poe__lint *x;

                if (only_held(s) && now - last >= cfg->idle) {
                        holders h;

                        x = add(&f, POE__LINT_IDLE_HELD, s->id, last, now - last);
                        if (x) {
                                char held[200];

                                h.buf = held;
                                h.size = sizeof(held);
                                h.len = 0;
                                held[0] = '\0';
                                poe_peek_reasons(k, s->id, holder_cb, &h);
                                snprintf(x->evidence, sizeof(x->evidence),
                                         "no dispatch for %.0f s; held only by %s", now - last,
                                         held);
                        }
                }
                if (s->slow_dispatches && s->slowest_seconds >= cfg->slow) {
                        x = add(&f, POE__LINT_SLOW_HANDLER, s->id, s->last_slow,
                                s->slowest_seconds);
                        if (x)
                                snprintf(x->evidence, sizeof(x->evidence),
                                         "%u dispatch%s took %.3g s or more; the slowest, "
                                         "'%s', %.3f s",
                                         s->slow_dispatches, s->slow_dispatches == 1 ? "" : "es",
                                         cfg->slow, s->slowest_event ? s->slowest_event : "?",
                                         s->slowest_seconds);
                }
                if (g) {
                        grow_finding(&f, s, &g->run[0], POE__LINT_QUEUE_GROWS, cfg, now);
                        grow_finding(&f, s, &g->run[1], POE__LINT_TIMERS_GROW, cfg, now);
                }
                if (s->timers_past >= cfg->past) {
                        x = add(&f, POE__LINT_TIMER_IN_PAST, s->id, s->timers_past_first,
                                (double)s->timers_past);
                        if (x)
                                snprintf(x->evidence, sizeof(x->evidence),
                                         "%u timers set for a time already past, the last "
                                         "%.0f s ago",
                                         s->timers_past, now - s->timers_past_last);
                }
        }
        if (r == 0 && !f.failed) {
                w.f = &f;
                w.cfg = cfg;
                w.now = now;
                r = poe_peek_postbacks(k, POE_KERNEL, postback_cb, &w);
        }
        poe__jfree(sn.v);
        if (r == 0 && f.failed)
                r = -ENOMEM;
        if (r < 0) {
                poe__jfree(f.v);
                return r == -ENOMEM ? r : -EIO;
        }
        *ret = f.v;
        *ret_n = f.n;
        return 0;
}

void poe__lints_release(poe__lint *v)
{
        poe__jfree(v);
}
