/*
 * Peek: read-only introspection, in the spirit of POE::API::Peek, and
 * everything a monitor of the kernel draws.  Each poe_peek_* call fills a small
 * struct or walks a set with a callback; nothing is allocated per item
 * (the queue and timer walks sort one array of pointers).  Call them
 * between dispatches or from a handler, on the kernel's thread; the
 * callbacks must not call into the kernel.  A callback returning non-zero
 * stops the walk, and that value is returned.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "clock.h"
#include "debug.h"
#include "events.h"
#include "io.h"
#include "postbacks.h"
#include "queue.h"
#include "sessions.h"
#include "signals.h"

POE_EXPORT const char *poe_reason_name(int reason)
{
        return poe__reason_name(reason);
}

POE_EXPORT int poe_peek_kernel(const poe_kernel *k, poe_kernel_info *ret)
{
        poe_kernel_info p;
        uint32_t i;

        POE_CHECK(k, k && ret, -EINVAL);
        memset(&p, 0, sizeof(p));
        p.id = k->id;
        p.pid = (int)getpid();
        p.loop = poe_kernel_loop_name(k);
        p.now = poe__wall(k);
        p.started = k->started;
        p.sessions = k->n_sessions - (k->ksession && k->ksession->alive ? 1 : 0);
        p.queue_length = k->queue_count;
        p.timers = k->heap_len;
        p.fds_watched = k->n_watched_fds;
        for (i = 0; i < k->cap_sig_watchers; i++)
                p.signal_watchers += k->sig_watchers[i];
        p.pid_watchers = k->n_pidwatches;
        p.postbacks = k->n_live_postbacks;
        p.events_dispatched = k->total_dispatched;
        p.debug_compiled = POE__DEBUG_COMPILED & POE_DEBUG_ALL;
        p.debug_enabled = k->debug;
        p.active_session = k->active ? k->active->id : POE_KERNEL;
        p.active_event = k->active_event == POE__NO_NAME ? NULL : poe__name(k, k->active_event);
        p.dispatching = k->dispatch_depth > 0;
        p.running = k->ksession && k->ksession->alive;
        p.uptime = (double)(poe__mono(k) - k->started_mono) / 1e9;
        *ret = p;
        return 0;
}

static void fill_session(const poe_kernel *k, const poe__session *s, poe_session_info *p)
{
        int i;

        memset(p, 0, sizeof(*p));
        p->id = s->id;
        p->parent = s->parent ? s->parent->id : POE_KERNEL;
        p->refcount = s->refcnt;
        for (i = 0; i < POE_REASON_MAX; i++)
                p->reasons[i] = poe__reason_get(s, i);
        p->n_children = s->reasons[POE_REASON_CHILDREN];
        p->n_aliases = s->reasons[POE_REASON_ALIASES];
        p->first_alias = s->aliases ? s->aliases->name : NULL;
        p->n_handlers = s->handlers ? s->handlers->count : 0;
        p->events_dispatched = s->dispatched;
        p->busy_seconds = (double)s->busy_ns / 1e9;
        p->created = poe__mono2wall(k, s->created_ns);
        p->stopping = s->stopping;
        /* One the running sweep holds counts as marked when its count
         * fell to 0 again meanwhile (poe__gc_mark). */
        p->marked_for_gc = s->marked || (s->remarked && !s->refcnt);
        p->last_dispatch = s->last_ns ? poe__mono2wall(k, s->last_ns) : 0;
        if (s->more) {
                const poe__session_more *m = s->more;

                p->slow_dispatches = m->slow_n;
                p->slowest_seconds = (double)m->slow_max_ns / 1e9;
                p->slowest_event = m->slow_n ? poe__name(k, m->slow_event) : NULL;
                p->last_slow = m->slow_n ? poe__mono2wall(k, m->slow_last) : 0;
                p->timers_past = m->past_n;
                p->timers_past_first = m->past_n ? poe__mono2wall(k, m->past_first) : 0;
                p->timers_past_last = m->past_n ? poe__mono2wall(k, m->past_last) : 0;
        }
}

POE_EXPORT int poe_peek_session(const poe_kernel *k, poe_sid sid, poe_session_info *ret)
{
        poe__session *s;

        POE_CHECK(k, k && ret, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return -ESRCH;
        fill_session(k, s, ret);
        return 0;
}

/* Depth first, parents before children, children in creation order,
 * without a stack: the tree's own links lead back up. */
POE_EXPORT int poe_peek_sessions(const poe_kernel *k,
                                 int (*fn)(void *ctx, const poe_session_info *s), void *ctx)
{
        const poe__session *root, *s;
        poe_session_info p;
        int r;

        POE_CHECK(k, k && fn, -EINVAL);
        root = k->ksession;
        if (!root || !root->alive || poe__list_empty(POE__MORE_LIST(root, children)))
                return 0;
        s = poe__container_of(poe__list_first(&root->more->children), poe__session, sibling);
        while (s) {
                fill_session(k, s, &p);
                r = fn(ctx, &p);
                if (r)
                        return r;
                if (!poe__list_empty(POE__MORE_LIST(s, children))) {
                        s = poe__container_of(poe__list_first(&s->more->children), poe__session,
                                              sibling);
                        continue;
                }
                /* A parent has its more: it holds its children. */
                while (s != root && s->sibling.next == &s->parent->more->children)
                        s = s->parent;
                s = s == root ? NULL
                              : poe__container_of(s->sibling.next, poe__session, sibling);
        }
        return 0;
}

POE_EXPORT int poe_peek_handlers(const poe_kernel *k, poe_sid sid,
                                 int (*fn)(void *ctx, const char *event), void *ctx)
{
        poe__session *s;
        uint32_t i;
        int r;

        POE_CHECK(k, k && fn, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return -ESRCH;
        for (i = 0; s->handlers && i <= s->handlers->mask; i++) {
                if (!s->handlers->slots[i].fn)
                        continue;
                r = fn(ctx, poe__name(k, s->handlers->slots[i].name));
                if (r)
                        return r;
        }
        return 0;
}

static const char *type_name(uint32_t type)
{
        if (type & POE__ET_ALARM)
                return "alarm";
        if (type & POE__ET_SIGDIE)
                return "die";
        if (type & POE__ET_SIGNAL)
                return "signal";
        if (type & POE__ET_SIGCLD)
                return "sig_child";
        if (type & POE__ET_GC)
                return "gc";
        return "post";
}

/* A pending timer as poe_peek_reasons' item. */
static void timer_item(const poe_kernel *k, const poe__session *s, const poe__event *ev,
                       poe_peek_item *it)
{
        memset(it, 0, sizeof(*it));
        it->reason = POE_REASON_TIMERS;
        it->id = ev->seq;
        it->name = poe__name(k, ev->name);
        it->when = poe__mono2wall(k, ev->due);
        it->file = poe__name(k, ev->file);
        it->line = ev->line;
        it->other = s->id;
}

/*
 * Why a session is alive, item by item: each queued event to or from
 * it, each timer, watched fd, child, alias, extra reference, awaited
 * pid and live postback.  The items add up to its refcount.  Events
 * cost a walk of the queue: O(queue length).
 */
POE_EXPORT int poe_peek_reasons(const poe_kernel *k, poe_sid sid,
                                int (*fn)(void *ctx, const poe_peek_item *item), void *ctx)
{
        const poe__session *s;
        const poe__list_node *pos;
        const poe__alias *a;
        poe_peek_item it;
        int r = 0, i;

        POE_CHECK(k, k && fn, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return -ESRCH;
#define EMIT()                                  \
        do {                                    \
                it.reason_name = poe__reason_name(it.reason); \
                r = fn(ctx, &it);               \
                if (r)                          \
                        return r;               \
        } while (0)
        /* The queue walk only for a session with queued events. */
        poe__list_foreach(pos, &k->fifo) {
                const poe__event *ev = poe__container_of(pos, poe__event, link);

                if (!s->reasons[POE_REASON_EVENTS_TO] && !s->reasons[POE_REASON_EVENTS_FROM])
                        break;
                memset(&it, 0, sizeof(it));
                it.id = ev->seq;
                it.name = poe__name(k, ev->name);
                it.when = poe__mono2wall(k, ev->due);
                it.file = poe__name(k, ev->file);
                it.line = ev->line;
                if (ev->to == s) {
                        it.reason = POE_REASON_EVENTS_TO;
                        it.other = ev->u.from->id;
                        EMIT();
                }
                if (ev->u.from == s && ev->to != s) {
                        it.reason = POE_REASON_EVENTS_FROM;
                        it.other = ev->to->id;
                        EMIT();
                }
        }
        /* The session's timers: its list in the order set, once the
         * lists are kept (queue.c: poe__timers_list); until then one walk
         * of the heap, in its order.  Making the lists here could need
         * memory (short timers move to full blocks), and this call
         * allocates nothing. */
        if (k->timers_listed) {
                poe__list_foreach(pos, &s->timers) {
                        timer_item(k, s, poe__container_of(pos, poe__event, link), &it);
                        EMIT();
                }
        } else if (poe__reason_get(s, POE_REASON_TIMERS)) {
                uint32_t j;

                for (j = 0; j < k->heap_len; j++) {
                        if (k->heap[j].ev->to != s)
                                continue;
                        timer_item(k, s, k->heap[j].ev, &it);
                        EMIT();
                }
        }
        for (i = 0; i < k->n_fds_cap; i++) {
                const poe__fdrec *rec = k->fds[i];
                int m, modes = 0;
                const char *name = NULL;

                for (m = 0; rec && m < POE__MODES; m++) {
                        if (rec->watch[m] && rec->watch[m]->session == s) {
                                modes |= 1 << m;
                                if (!name)
                                        name = poe__name(k, rec->watch[m]->event);
                        }
                }
                if (!modes)
                        continue;
                memset(&it, 0, sizeof(it));
                it.reason = POE_REASON_HANDLES;
                it.id = (uint64_t)i;
                it.name = name;
                it.count = modes;
                EMIT();
        }
        poe__list_foreach(pos, POE__MORE_LIST(s, children))
        {
                memset(&it, 0, sizeof(it));
                it.reason = POE_REASON_CHILDREN;
                it.id = it.other = poe__container_of(pos, poe__session, sibling)->id;
                EMIT();
        }
        for (a = s->aliases; a; a = a->next) {
                memset(&it, 0, sizeof(it));
                it.reason = POE_REASON_ALIASES;
                it.name = a->name;
                EMIT();
        }
        poe__list_foreach(pos, POE__MORE_LIST(s, extrefs))
        {
                const poe__extref *e = poe__container_of(pos, poe__extref, in_session);

                memset(&it, 0, sizeof(it));
                it.reason = POE_REASON_EXTREFS;
                it.name = e->tag;
                it.count = e->count;
                it.file = poe__name(k, e->file);
                it.line = e->line;
                EMIT();
        }
        poe__list_foreach(pos, POE__MORE_LIST(s, pidwatch))
        {
                const poe__pidwatch *w = poe__container_of(pos, poe__pidwatch, in_session);

                memset(&it, 0, sizeof(it));
                it.reason = POE_REASON_SIGCHILD;
                it.id = (uint64_t)w->pid;
                it.name = poe__name(k, w->event);
                EMIT();
        }
        if (poe__reason_get(s, POE_REASON_POSTBACKS)) {
                memset(&it, 0, sizeof(it));
                it.reason = POE_REASON_POSTBACKS;
                it.count = (int)poe__reason_get(s, POE_REASON_POSTBACKS);
                EMIT();
        }
#undef EMIT
        return 0;
}

static void fill_event(const poe_kernel *k, const poe__event *ev, poe_peek_event *p)
{
        memset(p, 0, sizeof(*p));
        p->id = ev->seq;
        p->to = ev->to->id;
        p->from = poe__ev_from(ev)->id;
        p->event = ev->type & (POE__ET_SIGNAL | POE__ET_SIGDIE) && ev->nargs &&
                                   poe__ev_args(ev)[0].type == POE_T_STR
                           ? poe__ev_args(ev)[0].u.s
                           : poe__name(k, ev->name);
        p->type = type_name(ev->type);
        p->due = poe__mono2wall(k, ev->due);
        p->nargs = poe__ev_nargs(ev);
        p->file = poe__name(k, ev->file);
        p->line = ev->line;
}

static int by_due(const void *a, const void *b)
{
        const poe__event *x = *(poe__event *const *)a, *y = *(poe__event *const *)b;

        if (x->due != y->due)
                return x->due < y->due ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The timers, sorted: one array, O(n log n). */
static int sorted_timers(const poe_kernel *k, poe__event ***ret)
{
        poe__event **v;

        *ret = NULL;
        if (!k->heap_len)
                return 0;
        v = poe__malloc((poe_kernel *)k, k->heap_len * sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < k->heap_len; i++)
                v[i] = k->heap[i].ev;
        qsort(v, k->heap_len, sizeof(*v), by_due);
        *ret = v;
        return 0;
}

/* The queue in the order it will be dispatched: posts and timers merged
 * by (due, id), as poe__queue_head picks them. */
POE_EXPORT int poe_peek_queue(const poe_kernel *k,
                              int (*fn)(void *ctx, const poe_peek_event *ev), void *ctx)
{
        const poe__list_node *pos;
        poe__event **t;
        poe_peek_event p;
        uint32_t ti = 0;
        int r;

        POE_CHECK(k, k && fn, -EINVAL);
        r = sorted_timers(k, &t);
        if (r < 0)
                return r;
        pos = k->fifo.next;
        for (;;) {
                const poe__event *f = pos != &k->fifo ? poe__container_of(pos, poe__event, link)
                                                      : NULL;
                const poe__event *next;

                if (!f && ti == k->heap_len)
                        break;
                if (f && (ti == k->heap_len || by_due(&f, &t[ti]) < 0)) {
                        next = f;
                        pos = pos->next;
                } else {
                        next = t[ti++];
                }
                fill_event(k, next, &p);
                r = fn(ctx, &p);
                if (r)
                        break;
        }
        poe__free((poe_kernel *)k, t);
        return r;
}

POE_EXPORT int poe_peek_timers(const poe_kernel *k,
                               int (*fn)(void *ctx, const poe_peek_event *ev), void *ctx)
{
        poe__event **t;
        poe_peek_event p;
        uint32_t i;
        int r;

        POE_CHECK(k, k && fn, -EINVAL);
        r = sorted_timers(k, &t);
        if (r < 0)
                return r;
        for (i = 0; i < k->heap_len && r == 0; i++) {
                fill_event(k, t[i], &p);
                r = fn(ctx, &p);
        }
        poe__free((poe_kernel *)k, t);
        return r;
}

POE_EXPORT int poe_peek_watchers(const poe_kernel *k,
                                 int (*fn)(void *ctx, const poe_peek_watcher *w), void *ctx)
{
        poe_peek_watcher p;
        int i, m, r;

        POE_CHECK(k, k && fn, -EINVAL);
        for (i = 0; i < k->n_fds_cap; i++) {
                for (m = 0; k->fds[i] && m < POE__MODES; m++) {
                        const poe__watch *w = k->fds[i]->watch[m];

                        if (!w)
                                continue;
                        p.fd = i;
                        p.mode = m;
                        p.session = w->session->id;
                        p.event = poe__name(k, w->event);
                        p.paused = w->paused;
                        r = fn(ctx, &p);
                        if (r)
                                return r;
                }
        }
        return 0;
}

/* Signal watchers, then awaited pids (signal "CHLD" with pid set). */
POE_EXPORT int poe_peek_signals(const poe_kernel *k,
                                int (*fn)(void *ctx, const poe_peek_signal *w), void *ctx)
{
        const poe__list_node *pos;
        poe_peek_signal p;
        size_t i;
        int r;

        POE_CHECK(k, k && fn, -EINVAL);
        for (i = 0; k->sessions.slots && i <= k->sessions.mask; i++) {
                const poe__session *s = k->sessions.slots[i];
                const poe__list_node *wp;

                if (!s)
                        continue;
                poe__list_foreach(wp, POE__MORE_LIST(s, sigwatch))
                {
                        const poe__sigwatch *w = poe__container_of(wp, poe__sigwatch,
                                                                   in_session);

                        memset(&p, 0, sizeof(p));
                        p.signal = poe__name(k, w->signal);
                        p.session = s->id;
                        p.event = poe__name(k, w->event);
                        r = fn(ctx, &p);
                        if (r)
                                return r;
                }
        }
        poe__list_foreach(pos, &k->pidwatches) {
                const poe__pidwatch *w = poe__container_of(pos, poe__pidwatch, in_kernel);

                memset(&p, 0, sizeof(p));
                p.signal = "CHLD";
                p.pid = (int)w->pid;
                p.session = w->session->id;
                p.event = poe__name(k, w->event);
                r = fn(ctx, &p);
                if (r)
                        return r;
        }
        return 0;
}
