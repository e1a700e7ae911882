/*
 * Sessions: creation, handlers, the session tree, and the one lifetime
 * rule.  This is POE::Resource::Sessions and POE::Session's create,
 * state and option.
 *
 * Lifetime (DESIGN.md): a session lives while its refcount, the sum of
 * its itemized reasons, is above zero.  When the count reaches zero the
 * session is marked; marked sessions are stopped by the sweep at the end
 * of the timeslice, in reverse order of marking, exactly as POE's
 * _data_ses_gc_sweep does.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "aliases.h"
#include "clock.h"
#include "debug.h"
#include "events.h"
#include "exceptions.h"
#include "io.h"
#include "postbacks.h"
#include "sessions.h"
#include "signals.h"
#include "trace.h"

/* ---- handler tables ---- */

static uint32_t hslot(uint32_t name, uint32_t mask)
{
        return poe__hslot(name, mask);
}

static void htable_insert(poe__htable *t, const poe__handler *h)
{
        uint32_t i;

        for (i = hslot(h->name, t->mask); t->slots[i].fn; i = (i + 1) & t->mask)
                ;
        t->slots[i] = *h;
        t->count++;
}

/* An empty table of cap slots with room for n_spec entries after them. */
static poe__htable *htable_alloc(poe_kernel *k, uint32_t cap, uint32_t n_spec)
{
        poe__htable *t =
                poe__calloc(k, 1, sizeof(*t) + ((size_t)cap + n_spec) * sizeof(poe__handler));

        if (t) {
                t->mask = cap - 1;
                t->refs = 1;
        }
        return t;
}

/* Adds or replaces in a private table, growing it into a new block at
 * 3/4 full.  0 or -ENOMEM (the table is unchanged). */
int poe__htable_put(poe_kernel *k, poe__htable **tp, const poe__handler *h)
{
        poe__htable *t = *tp;
        poe__handler *old = (poe__handler *)poe__htable_find(t, h->name);

        if (old) {
                *old = *h;
                return 0;
        }
        if (!t || (t->count + 1) * 4 > (t->mask + 1) * 3) {
                uint32_t cap = t ? (t->mask + 1) * 2 : 8, i;
                poe__htable *n = htable_alloc(k, cap, 0);

                if (!n)
                        return -ENOMEM;
                for (i = 0; t && i <= t->mask; i++)
                        if (t->slots[i].fn)
                                htable_insert(n, &t->slots[i]);
                poe__free(k, t);
                *tp = t = n;
        }
        htable_insert(t, h);
        return 0;
}

/* Backward-shift deletion, as in map.c. */
static void htable_del(poe__htable *t, uint32_t name)
{
        poe__handler *h = (poe__handler *)poe__htable_find(t, name);
        uint32_t i, j;

        if (!h)
                return;
        i = (uint32_t)(h - t->slots);
        for (j = (i + 1) & t->mask; t->slots[j].fn; j = (j + 1) & t->mask) {
                uint32_t home = hslot(t->slots[j].name, t->mask);

                if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
                        t->slots[i] = t->slots[j];
                        i = j;
                }
        }
        memset(&t->slots[i], 0, sizeof(t->slots[i]));
        t->count--;
}

static poe__handler *htable_spec(poe__htable *t)
{
        return t->slots + t->mask + 1;
}

/* Takes a shared table out of k->htables. */
static void htable_uncache(poe_kernel *k, poe__htable *t)
{
        poe__htable *head = poe__imap_get(&k->htables, t->hash), **pp;

        if (head == t) {
                if (t->next)
                        poe__imap_put(k, &k->htables, t->hash, t->next); /* replaces */
                else
                        poe__imap_del(&k->htables, t->hash);
        } else {
                for (pp = &head->next; *pp != t; pp = &(*pp)->next)
                        ;
                *pp = t->next;
        }
        t->next = NULL;
        t->n_spec = 0;
        if (k->htable_last == t)
                k->htable_last = NULL;
}

void poe__htable_unref(poe_kernel *k, poe__htable *t)
{
        if (!t || --t->refs)
                return;
        if (t->n_spec)
                htable_uncache(k, t);
        poe__free(k, t);
}

static bool same_handler(const poe__handler *a, const poe__handler *b)
{
        return a->name == b->name && a->fn == b->fn && a->object == b->object;
}

static bool same_spec(poe__htable *t, const poe__handler *h, uint32_t n)
{
        uint32_t i;

        if (t->n_spec != n)
                return false;
        for (i = 0; i < n && same_handler(&htable_spec(t)[i], &h[i]); i++)
                ;
        return i == n;
}

/*
 * Whether the spec's handlers (n of h, as given: names not interned) are
 * the shared table t's: the same functions and objects, and names of the
 * same content, in the same order.  Then interning them (poe__intern_cached:
 * the address cache's slot, its pointer, the content compared) and
 * comparing the interned list with t's (same_spec) would find t: the
 * content compare alone says so, one strcmp a name as before.
 */
static bool spec_is(const poe_kernel *k, poe__htable *t, const poe_handler *h, size_t n)
{
        const poe__handler *sp = htable_spec(t);
        size_t i;

        if (t->n_spec != n)
                return false;
        for (i = 0; i < n; i++)
                if (sp[i].fn != h[i].fn || sp[i].object != h[i].object ||
                    strcmp(k->names[sp[i].name], h[i].event) != 0)
                        return false;
        return true;
}

/*
 * The table for a session's handlers (spec interned: n entries of h):
 * a shared one made from the same list, with one more user, or a new one
 * made as poe__htable_put would (so its slots are in the same order) and
 * shared from now on.  NULL for -ENOMEM.  Costs O(n) for the hash and
 * the comparison instead of an allocation and n inserts.
 */
static poe__htable *htable_for_spec(poe_kernel *k, const poe__handler *h, uint32_t n)
{
        uint32_t hash = 2166136261u, cap = 8, i, c;
        poe__htable *t = k->htable_last;

        /* Sessions come in runs of one kind: the last table first,
         * without the hash (it is still cached while it has users). */
        if (t && same_spec(t, h, n)) {
                t->refs++;
                return t;
        }
        for (i = 0; i < n; i++) {
                uintptr_t w[3] = {h[i].name, (uintptr_t)h[i].fn, (uintptr_t)h[i].object};

                for (c = 0; c < 3; c++)
                        hash = (hash ^ (uint32_t)(w[c] ^ (uint64_t)w[c] >> 32)) * 16777619u;
        }
        for (t = poe__imap_get(&k->htables, hash); t; t = t->next) {
                if (same_spec(t, h, n)) {
                        t->refs++;
                        k->htable_last = t;
                        return t;
                }
        }
        /* The capacity poe__htable_put would reach: it doubles past 3/4
         * of the distinct names.  Built at that size, in the same order. */
        for (i = 0, c = 0; i < n; i++) {
                uint32_t j;

                for (j = 0; j < i && h[j].name != h[i].name; j++)
                        ;
                if (j == i && (++c) * 4 > cap * 3)
                        cap *= 2;
        }
        t = htable_alloc(k, cap, n);
        if (!t)
                return NULL;
        for (i = 0; i < n; i++) {
                poe__handler *old = (poe__handler *)poe__htable_find(t, h[i].name);

                if (old)
                        *old = h[i];
                else
                        htable_insert(t, &h[i]);
        }
        memcpy(htable_spec(t), h, n * sizeof(*h));
        t->hash = hash;
        t->n_spec = n;
        t->next = poe__imap_get(&k->htables, hash);
        if (poe__imap_put(k, &k->htables, hash, t) < 0) {
                poe__free(k, t);
                return NULL;
        }
        k->htable_last = t;
        return t;
}

/* Makes a session's table its own before state() changes it: 0, or
 * -ENOMEM (nothing changed). */
static int htable_own(poe_kernel *k, poe__session *s)
{
        poe__htable *t = s->handlers, *n;

        if (!t || !t->n_spec)
                return 0;
        if (t->refs == 1) {
                htable_uncache(k, t);
                return 0;
        }
        n = htable_alloc(k, t->mask + 1, 0);
        if (!n)
                return -ENOMEM;
        memcpy(n->slots, t->slots, (t->mask + 1) * sizeof(*n->slots));
        n->count = t->count;
        t->refs--;
        s->handlers = n;
        return 0;
}

/* ---- lookup, pins and reference counts ---- */

/* The session table holds the sessions themselves, keyed by their ids. */
static size_t session_hash(const void *s)
{
        return poe__mix64(((const poe__session *)s)->id);
}

poe__session *poe__session_get(const poe_kernel *k, poe_sid sid)
{
        const poe__pmap *m = &k->sessions;
        size_t i;

        if (!m->slots)
                return NULL;
        for (i = poe__mix64(sid) & m->mask;; i = (i + 1) & m->mask) {
                poe__session *s = m->slots[i];

                if (!s || s->id == sid)
                        return s;
        }
}

/*
 * A few freed session records wait for the next create, as queued
 * events' blocks do (events.c): a program that makes short-lived
 * sessions pays the allocator's malloc and free (~150 instructions)
 * once, not per session.  At most SES_CACHE are kept, so a program that
 * stops thousands at once gives their memory back.  Poisoned while
 * cached under AddressSanitizer, so a stale pointer still faults.
 */
#define SES_CACHE 16

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SES_POISON(p) ASAN_POISON_MEMORY_REGION((p), sizeof(poe__session))
#define SES_UNPOISON(p) ASAN_UNPOISON_MEMORY_REGION((p), sizeof(poe__session))
#else
#define SES_POISON(p) ((void)(p))
#define SES_UNPOISON(p) ((void)(p))
#endif

/*
 * A cached record zeroed by sixteen-byte stores, unrolled: GCC expands
 * memset of 168 bytes to `rep stosq`, whose start-up alone costs more
 * than the eleven stores (session_churn: the instruction after it had a
 * fifth of the create's time under perf).  GCC would turn the loop back
 * into memset without the pragma.  Elsewhere memset, as before.
 */
static inline void session_zero(poe__session *s)
{
#if defined(__GNUC__)
        typedef uint64_t words __attribute__((vector_size(16), aligned(8), may_alias));
        typedef uint64_t word __attribute__((may_alias));
        words zero = { 0, 0 }, *w = (words *)(void *)s;
        size_t i;

        _Static_assert(sizeof(*s) % 8 == 0, "a session is whole 8-byte words");
#pragma GCC unroll 16
        for (i = 0; i < sizeof(*s) / 16; i++)
                w[i] = zero;
        if (sizeof(*s) % 16)
                *(word *)(void *)((char *)s + sizeof(*s) - 8) = 0;
#else
        memset(s, 0, sizeof(*s));
#endif
}

/* A zeroed session record, or NULL for -ENOMEM. */
static poe__session *session_alloc(poe_kernel *k)
{
        poe__session *s = k->ses_free;

        if (!s)
                return poe__calloc(k, 1, sizeof(*s));
        SES_UNPOISON(s);
        k->ses_free = *(poe__session **)(void *)s;
        k->n_ses_free--;
        session_zero(s);
        return s;
}

static void session_release(poe_kernel *k, poe__session *s)
{
        if (k->n_ses_free < SES_CACHE && k->ksession) {
                *(poe__session **)(void *)s = k->ses_free;
                k->ses_free = s;
                k->n_ses_free++;
                SES_POISON(s);
                return;
        }
        poe__free(k, s);
}

/*
 * A session's memory outlives its stop while anything still points at
 * it from the C stack: the dispatcher pins its target, so a handler may
 * stop its own session and return safely (sd-event's rule).
 */
void poe__session_free_unpinned(poe_kernel *k, poe__session *s)
{
        /* An NFA's states go with the memory, not at its stop: a handler
         * of the machine may stop it in the middle of a transition. */
        if (s->more) {
                if (s->more->nfa)
                        poe__nfa_free(k, s->more->nfa);
                poe__free(k, s->more);
        }
        session_release(k, s);
}

poe__list poe__no_items = {&poe__no_items, &poe__no_items};

int poe__need_more_slow(poe_kernel *k, poe__session *s)
{
        poe__session_more *m = poe__calloc(k, 1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        poe__list_init(&m->children);
        poe__list_init(&m->extrefs);
        poe__list_init(&m->sigwatch);
        poe__list_init(&m->watches);
        poe__list_init(&m->pidwatch);
        s->more = m;
        return 0;
}

static __attribute__((noinline, cold)) void trace_gc_mark(poe_kernel *k, poe__session *s)
{
        POE_TRACE(k, POE_TRACE_REFCNT, s, POE__NO_NAME, NULL, NULL, .kind = POE_TK_GC_MARK);
}

void poe__gc_mark(poe_kernel *k, poe__session *s)
{
        /* One test of the flags' byte for the two rare cases. */
        if (__builtin_expect(s->rare & (POE__RARE_KERNEL | POE__RARE_IN_SWEEP), 0)) {
                if (s->is_kernel)
                        return; /* POE never collects its own session */
                /* Its count fell to 0 while the running sweep holds it
                 * (its link is in the sweep's snapshot): the sweep puts it
                 * on the marked list before it stops it, if its count is
                 * still 0 then (poe__gc_sweep_marked), as if it had been
                 * marked here and unmarked by any reference since. */
                s->remarked = true;
        } else {
                if (s->marked)
                        poe__list_remove(&s->gc_link);
                s->marked = true;
                poe__list_append(&k->gc_marked, &s->gc_link);
        }
        if (POE__ON(k, POE_TRACE_REFCNT))
                trace_gc_mark(k, s);
}

static void gc_unmark(poe__session *s)
{
        if (s->marked)
                poe__gc_unmark(s);
}

static const char *const reason_names[POE_REASON_MAX] = {
        [POE_REASON_EVENTS_TO] = "events to",     [POE_REASON_EVENTS_FROM] = "events from",
        [POE_REASON_CHILDREN] = "children",       [POE_REASON_ALIASES] = "aliases",
        [POE_REASON_EXTREFS] = "extra refs",      [POE_REASON_TIMERS] = "timers",
        [POE_REASON_HANDLES] = "handles",         [POE_REASON_SIGCHILD] = "child pids",
        [POE_REASON_POSTBACKS] = "postbacks",
};

const char *poe__reason_name(int r)
{
        return r >= 0 && r < POE_REASON_MAX ? reason_names[r] : "?";
}

/* TRACE_REFCNT: the change, then the session's reasons item by item
 * (POE's "GC test" box, on one line): the record carries every count. */
static void trace_refcnt(poe_kernel *k, poe__session *s, enum poe_reason r, int delta)
{
        int i;
        poe_trace_record rec = { .group = POE_TRACE_REFCNT, .event = POE__NO_NAME,
                                 .kind = delta > 0 ? POE_TK_REFCOUNT_INC : POE_TK_REFCOUNT_DEC };

        if (!(POE__DEBUG_COMPILED & POE_TRACE_REFCNT))
                return;
        _Static_assert(POE_REASON_MAX < sizeof(rec.arg.u) / sizeof(rec.arg.u[0]),
                       "a refcount record holds every reason and the one that changed");
        for (i = 0; i < POE_REASON_MAX; i++)
                rec.arg.u[i] = poe__reason_get(s, i);
        rec.arg.u[9] = r;
        poe__trace(k, &rec, s, NULL, NULL);
}

static __attribute__((noinline, cold)) void debug_refcnt(poe_kernel *k, poe__session *s,
                                                          enum poe_reason r, int delta)
{
        if (POE__ON(k, POE_TRACE_REFCNT) && !k->in_sink)
                trace_refcnt(k, s, r, delta);
        if (POE__ON(k, POE_ASSERT_DATA))
                poe__assert_session(k, s);
}

/* poe__ref's and poe__unref's slow paths (sessions.h has the rest). */
void poe__ref_slow(poe_kernel *k, poe__session *s, enum poe_reason r)
{
        gc_unmark(s);
        if (POE__ON(k, POE_TRACE_REFCNT | POE_ASSERT_DATA))
                debug_refcnt(k, s, r, 1);
}

void poe__unref_slow(poe_kernel *k, poe__session *s, enum poe_reason r)
{
        if (*poe__reason_slot(s, r) == 0) {
                POE_ASSERT(k, POE_ASSERT_DATA, 0, "%s: count of %s went below zero",
                           poe__loggable(k, s), reason_names[r]);
                poe__warn(k, "<dt> session %llu: count of %s went below zero\n",
                          (unsigned long long)s->id, reason_names[r]);
                return;
        }
        (*poe__reason_slot(s, r))--;
        if (--s->refcnt == 0)
                poe__gc_mark(k, s);
        if (POE__ON(k, POE_TRACE_REFCNT | POE_ASSERT_DATA))
                debug_refcnt(k, s, r, -1);
}

/* ---- the tree ---- */

static void link_child(poe_kernel *k, poe__session *parent, poe__session *child)
{
        child->parent = parent;
        /* The parent's more exists: its creator made it (see
         * poe__session_create), and a session that gets children by a
         * move already had one, or is the kernel's. */
        poe__list_append(&parent->more->children, &child->sibling);
        k->tree_epoch++; /* the tree kept is not the tree any more */
        poe__ref(k, parent, POE_REASON_CHILDREN);
}

static void unlink_child(poe_kernel *k, poe__session *child)
{
        poe__session *parent = child->parent;

        poe__list_remove(&child->sibling);
        k->tree_epoch++;
        child->parent = NULL;
        poe__unref(k, parent, POE_REASON_CHILDREN);
}

/* POE's _data_ses_move_child: no GC test here; the caller's sweep does it. */
static void move_child(poe_kernel *k, poe__session *child, poe__session *new_parent)
{
        POE_TRACE(k, POE_TRACE_SESSIONS, child, POE__NO_NAME, NULL, new_parent,
                  .kind = POE_TK_MOVE);
        unlink_child(k, child);
        link_child(k, new_parent, child);
}

/* Every list a session heads, and every list node it has, empty. */
static void init_links(poe__session *s)
{
        poe__list_node_init(&s->sibling);
        poe__list_node_init(&s->gc_link);
        s->aliases = NULL;
        poe__list_init(&s->timers);
}

int poe__kernel_session_init(poe_kernel *k)
{
        poe__session *s = k->ksession;

        if (!s) {
                s = poe__calloc(k, 1, sizeof(*s));
                if (!s)
                        return -ENOMEM;
                s->is_kernel = true;
                s->rare = POE__RARE_KERNEL;
                s->pins = 1;
                k->ksession = s;
        }
        s->id = POE_KERNEL;
        if (poe__session_get(k, POE_KERNEL) != s) {
                if (poe__pmap_reserve(k, &k->sessions, session_hash) < 0)
                        return -ENOMEM;
                poe__pmap_insert_reserved(&k->sessions, s, session_hash(s));
        }
        s->alive = true;
        s->stopping = false;
        init_links(s);
        s->pins = 1;
        k->n_sessions++;
        k->active = s;
        return 0;
}

/* Releases what a session owns that holds no reference counts. */
static inline void free_tables(poe_kernel *k, poe__session *s)
{
        uint32_t i;

        poe__htable_unref(k, s->handlers);
        s->handlers = NULL;
        if (!s->more)
                return;
        for (i = 0; i < s->more->n_options; i++) {
                poe__free(k, s->more->options[i].name);
                poe__free(k, s->more->options[i].blob);
        }
        poe__free(k, s->more->options);
        s->more->options = NULL;
        s->more->n_options = 0;
}

/*
 * POE's _data_ses_free: detaches the session from its parent, hands its
 * children to that parent, and releases every resource it holds.
 */
/* TRACE_DESTROY: POE's "Leak Check" of a departing session. */
static void trace_destroy(poe_kernel *k, poe__session *s)
{
        char heap[512] = "(no describer set: poe_kernel_set_heap_describer)";
        char opts[512], states[1024];
        size_t n = 0;
        uint32_t i;

        /* Constant-false when TRACE_DESTROY is compiled out (debug.c). */
        if (!(POE__DEBUG_COMPILED & POE_TRACE_DESTROY))
                return;
        if (k->heap_describer) {
                heap[0] = '\0';
                k->heap_describer(k->heap_describer_ctx, s->id, s->heap, heap, sizeof(heap));
        }
        opts[0] = states[0] = '\0';
        for (i = 0; s->more && i < s->more->n_options && n < sizeof(opts); i++) {
                char v[128];

                poe_value_format(&s->more->options[i].value, v, sizeof(v));
                n += (size_t)snprintf(opts + n, sizeof(opts) - n, "\n   %s = %s",
                                      s->more->options[i].name, v);
        }
        n = 0;
        for (i = 0; s->handlers && i <= s->handlers->mask && n < sizeof(states); i++)
                if (s->handlers->slots[i].fn)
                        n += (size_t)snprintf(states + n, sizeof(states) - n, "\n   %s",
                                              poe__name(k, s->handlers->slots[i].name));
        /* A rare kind: its text is made here, where the heap is known. */
        n = (size_t)snprintf(k->trace_payload, sizeof(k->trace_payload),
                             "----- Session %llu Leak Check -----\n-- Namespace (HEAP):\n%s\n"
                             "-- Options:%s\n-- States:%s",
                             (unsigned long long)s->id, heap, opts, states);
        POE_TRACE(k, POE_TRACE_DESTROY, s, POE__NO_NAME, NULL, NULL, .kind = POE_TK_DESTROY,
                  .text = k->trace_payload,
                  .text_len = (uint16_t)(n < sizeof(k->trace_payload)
                                                 ? n
                                                 : sizeof(k->trace_payload) - 1));
}

static void session_free(poe_kernel *k, poe__session *s)
{
        poe__session *parent = s->parent;

        if (k->busy_sess == s)
                poe__busy_settle(k, poe__coarse(k));
        POE_TRACE(k, POE_TRACE_SESSIONS, s, POE__NO_NAME, NULL, NULL, .kind = POE_TK_FREE);
        if (POE__ON(k, POE_TRACE_DESTROY) && !k->in_sink && !s->is_kernel)
                trace_destroy(k, s);
        POE_TRACE(k, POE_TRACE_PROFILE, s, POE__NO_NAME, NULL, NULL, .kind = POE_TK_PROFILE,
                  .arg.i = { (int64_t)s->dispatched }, .num = (double)s->busy_ns / 1e9);

        if (parent) {
                unlink_child(k, s);
                while (!poe__list_empty(POE__MORE_LIST(s, children))) {
                        poe__session *c = poe__container_of(poe__list_first(&s->more->children),
                                                            poe__session, sibling);

                        move_child(k, c, parent);
                }
        }
        poe__pmap_remove(&k->sessions, s, session_hash);
        k->n_sessions--;
        /* Signal, child-process, postback, extra-reference and I/O
         * watchers live in s->more: a session that never had one skips
         * their five calls.  The order is POE's (_data_ses_free). */
        if (s->more) {
                poe__signals_clear_session(k, s);
                poe__children_clear_session(k, s);
                poe__postbacks_clear_session(k, s);
        }
        if (s->aliases)
                poe__aliases_clear_session(k, s);
        if (s->more) {
                poe__extrefs_clear_session(k, s);
                poe__handles_clear_session(k, s);
        }
        if (*poe__reason_slot(s, POE_REASON_TIMERS) || s->reasons[POE_REASON_EVENTS_TO] ||
            s->reasons[POE_REASON_EVENTS_FROM])
                poe__events_clear_session(k, s);
        gc_unmark(s);
        if (poe__in_sweep(s)) {
                s->rare &= (uint8_t)~POE__RARE_IN_SWEEP;
                s->remarked = false;
                poe__list_remove(&s->gc_link);
        }
        free_tables(k, s);
        s->alive = false;
        poe__session_unpin(k, s); /* the pin it held while alive */
}

/*
 * Keeps a tree just collected for the next collection from the same
 * root, until a children list changes (link_child, unlink_child: a
 * session made, stopped or moved).  Without memory it is not kept.
 */
static void tree_keep(poe_kernel *k, poe__session *root, poe__session **v, size_t n)
{
        /* Lent to a walk under way: it stays what the walk reads, and
         * what tree_root and its epoch still describe. */
        if (k->tree_lent)
                return;
        if (n > k->cap_tree_kept) {
                poe__session **nv = poe__realloc(k, k->tree_kept, n * sizeof(*nv));

                if (!nv) {
                        k->tree_root = NULL;
                        return;
                }
                k->tree_kept = nv;
                k->cap_tree_kept = n;
        }
        memcpy(k->tree_kept, v, n * sizeof(*v));
        k->n_tree_kept = n;
        k->tree_root = root;
        k->tree_root_epoch = k->tree_epoch;
}

/*
 * Collects a session's descendants breadth first, as POE's signal and
 * stop walks do.  Returns the count, or -ENOMEM.  Each entry is pinned.
 * The tree collected last is kept (tree_keep) and copied while no
 * children list has changed: the walk down the lists is a load that
 * waits for the one before for each session, the copy's pins are loads
 * that do not (signal_fanout, a signal to the kernel's 1000 children:
 * collecting was 15% of its time under perf).
 */
static int collect_tree(poe_kernel *k, poe__session *root, poe__session ***ret)
{
        /* Sized for every live session: no tree is bigger, and a signal
         * to the kernel's session walks them all (no regrowth then). */
        size_t n = 0, cap = k->n_sessions > 16 ? k->n_sessions : 16, i;
        bool kept = root == k->tree_root && k->tree_epoch == k->tree_root_epoch;
        poe__session **v;

        if (kept && cap < k->n_tree_kept)
                cap = k->n_tree_kept;
        v = poe__malloc(k, cap * sizeof(*v));
        if (!v)
                return -ENOMEM;
        if (kept) {
                n = k->n_tree_kept;
                memcpy(v, k->tree_kept, n * sizeof(*v));
                for (i = 0; i < n; i++)
                        v[i]->pins++;
                *ret = v;
                return (int)n;
        }
        v[n++] = root;
        root->pins++;
        for (i = 0; i < n; i++) {
                poe__session *s = v[i];
                const poe__list *l;
                poe__list_node *pos;

                /* The list's head in a local: the stores to v would
                 * otherwise have it read again for every child. */
                if (!s->more)
                        continue;
                l = &s->more->children;
                for (pos = l->next; pos != l; pos = pos->next) {
                        poe__session *c = poe__container_of(pos, poe__session, sibling);

                        if (__builtin_expect(n == cap, 0)) {
                                poe__session **nv = poe__realloc(k, v, cap * 2 * sizeof(*v));

                                if (!nv) {
                                        while (n > 0)
                                                poe__session_unpin(k, v[--n]);
                                        poe__free(k, v);
                                        return -ENOMEM;
                                }
                                v = nv;
                                cap *= 2;
                        }
                        c->pins++;
                        v[n++] = c;
                }
        }
        tree_keep(k, root, v, n);
        *ret = v;
        return (int)n;
}

int poe__session_tree(poe_kernel *k, poe__session *root, poe__session ***ret)
{
        return collect_tree(k, root, ret);
}

/*
 * A signal's walk reads its tree and changes nothing in it, so while no
 * children list has changed since the tree was kept, the walk is given
 * the kept array itself, each session pinned, rather than a copy in a
 * new block (signal_fanout: the block, the copy and its free, each
 * signal).  One walk at a time: a walk under way (whose watcher's
 * handler stops the kernel, say) leaves the next collection its own
 * copy, and tree_keep leaves the lent array alone.
 */
int poe__session_tree_lend(poe_kernel *k, poe__session *root, poe__session ***ret, bool *lent)
{
        size_t i, n = k->n_tree_kept;
        poe__session **v = k->tree_kept;

        *lent = false;
        if (k->tree_lent || root != k->tree_root || k->tree_epoch != k->tree_root_epoch)
                return collect_tree(k, root, ret);
        for (i = 0; i < n; i++)
                v[i]->pins++;
        k->tree_lent = true;
        *lent = true;
        *ret = v;
        return (int)n;
}

/* A tree from poe__session_tree_lend given back: each session unpinned
 * (the last pin frees a session stopped meanwhile), the copy freed. */
void poe__session_tree_return(poe_kernel *k, poe__session **v, int n, bool lent)
{
        int i;

        for (i = 0; i < n; i++)
                poe__session_unpin(k, v[i]);
        if (lent)
                k->tree_lent = false;
        else
                poe__free(k, v);
}

/* The kernel's own events to a session (_start, _stop, _child, _parent):
 * a delivery from this file, with no from-state, through the guarded
 * dispatch (events.c). */
static poe_value dispatch_own(poe_kernel *k, poe__session *to, poe__session *from, uint32_t name,
                              uint32_t type, poe_value *args, size_t nargs, int line)
{
        poe__delivery d;

        poe__delivery_init(&d, k, to, from, name, type);
        d.c.args = args;
        d.c.nargs = nargs;
        d.c.file = __FILE__;
        d.c.line = line;
        return poe__dispatch(k, &d);
}

/* _child's delivery to `to` (args, three, its arguments: what, the
 * child, and _stop's or _start's value, or nil). */
static inline void child_args_delivery(poe_kernel *k, poe__delivery *d, poe__session *to,
                                       uint32_t what, poe__session *child,
                                       const poe_value *ret, poe_value *args)
{
        /* Built in place: the public constructors are calls into
         * value.c, three of them a _child. */
        const char *why = poe__name(k, what);
        /* The three names are names.c's predefined ones: no strlen. */
        uint32_t len = what == POE__N_CREATE ? sizeof("create") - 1 : sizeof("lose") - 1;

        _Static_assert(sizeof("gain") == sizeof("lose"), "gain and lose are as long");
        args[0] = (poe_value){ .type = POE_T_STR, .len = len, .u.s = why };
        args[1] = (poe_value){ .type = POE_T_SESSION, .u.sid = child->id };
        args[2] = ret ? *ret : (poe_value){ 0 };
        poe__delivery_init(d, k, to, k->ksession, POE__N_CHILD, POE__ET_CHILD);
        d->c.args = args;
        d->c.nargs = 3;
        d->c.file = __FILE__;
        d->c.line = __LINE__;
}

static poe_value child_args_dispatch(poe_kernel *k, poe__session *to, uint32_t what,
                                     poe__session *child, const poe_value *ret)
{
        poe_value args[3];
        poe__delivery d;

        child_args_delivery(k, &d, to, what, child, ret, args);
        return poe__dispatch(k, &d);
}

static void parent_dispatch(poe_kernel *k, poe__session *to, poe__session *old,
                            poe__session *new_parent)
{
        poe_value args[2] = {
                { .type = POE_T_SESSION, .u.sid = old ? old->id : POE_KERNEL },
                { .type = POE_T_SESSION, .u.sid = new_parent ? new_parent->id : POE_KERNEL },
        };
        poe_value r =
                dispatch_own(k, to, k->ksession, POE__N_PARENT, POE__ET_PARENT, args, 2, __LINE__);

        poe__value_drop(&r);
}

/*
 * A create's two dispatches: _start, its arguments' end, then, if the
 * session lives, _child create to its parent with _start's value (left
 * in *ret, nil after a die).  Each is under POE's eval, a landing frame
 * here, one for both, set once, where poe__dispatch set one for each.
 * It is the innermost frame only while a dispatch is open in it, as
 * poe__dispatch's is, so that a die elsewhere (in an argument's
 * destructor) unwinds past it as it did.  A die in either handler lands
 * here, its dispatch is finished as poe__dispatch finishes it
 * (poe__landed, with the frame above innermost), and the create goes on
 * after that dispatch.  What a landing reads is in memory, in d (its
 * kind says which dispatch landed) or behind ret.
 */
static __attribute__((noinline)) void create_dispatches(poe_kernel *k, poe__session *s,
                                                        poe_value *args, size_t nargs,
                                                        poe_value *ret)
{
        poe_value cargs[3], r2;
        poe__delivery d;
        poe__frame f;

        poe__frame_push(k, &f);
        if (POE__SETJMP(f.jb) != 0) {
                k->frame = f.up;
                poe__landed(k, &f);
                /* Which of the two landed: d is in memory. */
                if (d.type == POE__ET_START) {
                        *ret = poe_nil();
                        goto start_done;
                }
                goto child_done;
        }
        poe__delivery_init(&d, k, s, s->parent, POE__N_START, POE__ET_START);
        d.c.args = args;
        d.c.nargs = nargs;
        d.c.file = __FILE__;
        d.c.line = __LINE__;
        poe__dispatch_in(k, &d, &f, ret);
        k->frame = f.up;
start_done:
        if (nargs)
                poe__values_destroy(args, nargs);
        if (!s->alive)
                return;
        /* The parent, pinned for the dispatch, is d's target: a landing
         * finds it there, whatever the handler did to the tree. */
        child_args_delivery(k, &d, s->parent, POE__N_CREATE, s, ret, cargs);
        d.c.s->pins++;
        poe__frame_push(k, &f);
        poe__dispatch_in(k, &d, &f, &r2);
        k->frame = f.up;
        poe__value_drop(&r2);
child_done:
        poe__session_unpin(k, d.c.s);
}

/*
 * The first part of POE's _data_ses_stop for a session with children:
 * each moves to the grandparent, _child gain to it, _parent to the
 * child, from a snapshot, since these handlers may change the tree.
 */
static void stop_children(poe_kernel *k, poe__session *s, poe__session *parent)
{
        poe__session *small[16], **kids = small;
        size_t n = 0, i;
        poe__list_node *pos;
        poe_value ret;

        if (s->reasons[POE_REASON_CHILDREN] > 16)
                kids = poe__malloc(k, s->reasons[POE_REASON_CHILDREN] * sizeof(*kids));
        if (!kids) {
                poe__warn(k, "<ss> out of memory: _child gain and _parent not dispatched "
                             "for the children of session %llu\n", (unsigned long long)s->id);
        } else {
                poe__list_foreach(pos, POE__MORE_LIST(s, children))
                {
                        kids[n] = poe__container_of(pos, poe__session, sibling);
                        kids[n++]->pins++;
                }
        }
        for (i = 0; parent && i < n; i++) {
                poe__session *c = kids[i];

                if (parent->alive && c->alive) {
                        ret = child_args_dispatch(k, parent, POE__N_GAIN, c, NULL);
                        poe__value_drop(&ret);
                }
                if (c->alive)
                        parent_dispatch(k, c, c->parent, parent);
        }
        for (i = 0; i < n; i++)
                poe__session_unpin(k, kids[i]);
        if (kids != small)
                poe__free(k, kids);
}

/*
 * POE's _data_ses_stop: children move to the grandparent (_child gain
 * to it, _parent to each child), then _stop, then _child lose with
 * _stop's return value, then the session is freed.
 */
void poe__session_stop(poe_kernel *k, poe__session *s)
{
        poe__session *parent = s->parent;
        poe_value ret;

        if (!s->alive || s->stopping)
                return;
        s->stopping = true;
        POE_TRACE(k, POE_TRACE_SESSIONS, s, POE__NO_NAME, NULL, NULL, .kind = POE_TK_STOP);
        s->pins++;
        if (parent)
                parent->pins++;

        /* Each child holds its parent by one count: none, nothing to
         * snapshot (a session's usual stop). */
        if (s->reasons[POE_REASON_CHILDREN])
                stop_children(k, s, parent);

        ret = dispatch_own(k, s, k->active, POE__N_STOP, POE__ET_STOP, NULL, 0, __LINE__);
        if (parent && parent->alive) {
                poe_value r2 = child_args_dispatch(k, parent, POE__N_LOSE, s, &ret);

                poe__value_drop(&r2);
        }
        poe__value_drop(&ret);

        /* A session stopped with a live parent gives its children to that
         * parent; the kernel, which has none, stops them first. */
        if (!parent) {
                while (!poe__list_empty(POE__MORE_LIST(s, children)))
                        poe__session_stop(k, poe__container_of(poe__list_first(&s->more->children),
                                                               poe__session, sibling));
        }
        session_free(k, s);
        s->stopping = false;
        if (parent)
                poe__session_unpin(k, parent);
        poe__session_unpin(k, s);
}

/*
 * POE's _data_ses_gc_sweep.  The marked list is snapshotted and walked
 * from the most recently marked session back; a session stopped now may
 * mark others (its parent, its correspondents), so the sweep repeats
 * until nothing is marked.
 */
void poe__gc_sweep_marked(poe_kernel *k)
{
        poe__list sweep;

        poe__list_init(&sweep);
        while (!poe__list_empty(&k->gc_marked)) {
                while (!poe__list_empty(&k->gc_marked)) {
                        poe__session *s = poe__container_of(poe__list_first(&k->gc_marked),
                                                            poe__session, gc_link);

                        gc_unmark(s);
                        s->rare |= POE__RARE_IN_SWEEP;
                        poe__list_append(&sweep, &s->gc_link);
                }
                while (!poe__list_empty(&sweep)) {
                        poe__session *s =
                                poe__container_of(poe__list_last(&sweep), poe__session, gc_link);

                        s->rare &= (uint8_t)~POE__RARE_IN_SWEEP;
                        poe__list_remove(&s->gc_link);
                        /* Its count fell to 0 again while the sweep held
                         * it and is 0 still: marked (its stop takes it
                         * off the list). */
                        if (s->remarked) {
                                s->remarked = false;
                                if (!s->refcnt) {
                                        s->marked = true;
                                        poe__list_append(&k->gc_marked, &s->gc_link);
                                }
                        }
                        poe__session_stop(k, s);
                }
        }
}

/* ---- creation ---- */

static void set_flag_option(poe__session *s, const char *name, const poe_value *v)
{
        bool on = v && poe_value_true(v);

        if (strcasecmp(name, "trace") == 0) {
                s->opt_trace = on;
                s->rare = (uint8_t)(on ? s->rare | POE__RARE_TRACE : s->rare & ~POE__RARE_TRACE);
        } else if (strcasecmp(name, "default") == 0)
                s->opt_default = on;
        else if (strcasecmp(name, "debug") == 0)
                s->opt_debug = on;
}

/* POE::Session::option: "on", "yes", "true" become 1; "off", "no",
 * "false" become 0 (case-insensitive). */
static poe_value normalize_option(poe_value v)
{
        static const char *const yes[] = { "on", "yes", "true" };
        static const char *const no[] = { "off", "no", "false" };
        size_t i;

        if (v.type != POE_T_STR)
                return v;
        for (i = 0; i < 3; i++) {
                if (v.len == strlen(yes[i]) && strncasecmp(v.u.s, yes[i], v.len) == 0)
                        return poe_int(1);
                if (v.len == strlen(no[i]) && strncasecmp(v.u.s, no[i], v.len) == 0)
                        return poe_int(0);
        }
        return v;
}

/* Option names are case-insensitive: POE lowercases them (lc($flag)). */
static poe__option *option_find(poe__session *s, const char *name)
{
        uint32_t i;

        for (i = 0; s->more && i < s->more->n_options; i++)
                if (strcasecmp(s->more->options[i].name, name) == 0)
                        return &s->more->options[i];
        return NULL;
}

static char *lowercase_dup(poe_kernel *k, const char *name)
{
        char *d = poe__strdup(k, name), *p;

        for (p = d; p && *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return d;
}

/* Sets (or with nil deletes) an option.  *old receives the old blob and
 * value for the caller to free; 0 or -ENOMEM (nothing changed).  option()
 * turns on/off words into 1/0; create() keeps its options verbatim, as
 * POE::Session->create does (so "off" there is a true string). */
static int option_store(poe_kernel *k, poe__session *s, const char *name, poe_value v,
                        poe__option *old, bool normalize)
{
        poe__option *o = option_find(s, name);
        poe_value *blob = NULL;
        char *copy = NULL;

        if (normalize)
                v = normalize_option(v);
        if (old)
                memset(old, 0, sizeof(*old));
        if (v.type == POE_T_NIL) {
                if (o) {
                        if (old)
                                *old = *o;
                        else {
                                poe__free(k, o->name);
                                poe__free(k, o->blob);
                        }
                        *o = s->more->options[--s->more->n_options];
                }
                set_flag_option(s, name, NULL);
                return 0;
        }
        if (v.type == POE_T_PTR)
                v.u.ptr.destroy = NULL; /* options never own pointers */
        if (!o && poe__need_more(k, s) < 0)
                return -ENOMEM;
        if (poe__values_dup(k, &v, 1, &blob) < 0)
                return -ENOMEM;
        if (!o) {
                poe__session_more *m = s->more;
                poe__option *opts = poe__realloc(k, m->options, (m->n_options + 1) * sizeof(*opts));

                copy = opts ? lowercase_dup(k, name) : NULL;
                if (opts)
                        m->options = opts;
                if (!copy) {
                        poe__free(k, blob);
                        return -ENOMEM;
                }
                o = &m->options[m->n_options++];
                o->name = copy;
                o->blob = NULL;
        }
        if (old) {
                old->blob = o->blob;
                old->value = o->blob ? o->value : poe_nil();
        } else {
                poe__free(k, o->blob);
        }
        o->blob = blob;
        o->value = blob[0];
        set_flag_option(s, name, &o->value);
        return 0;
}

static void destroy_session_partial(poe_kernel *k, poe__session *s)
{
        free_tables(k, s);
        poe__session_free_unpinned(k, s);
}

POE_EXPORT int poe_session_create(poe_kernel *k, const poe_session_spec *spec, poe_sid *ret_sid)
{
        size_t i;

        POE_CHECK(k, spec, -EINVAL);
        POE_CHECK_ARGS(k, k && (spec->n_args == 0 || spec->args), -EINVAL, spec->args,
                               spec->n_args);
        POE_CHECK_ARGS(k, spec->n_handlers == 0 || spec->handlers, -EINVAL, spec->args,
                               spec->n_args);
        POE_CHECK_ARGS(k, spec->n_options == 0 || spec->options, -EINVAL, spec->args,
                               spec->n_args);
        for (i = 0; i < spec->n_handlers; i++)
                POE_CHECK_ARGS(k, spec->handlers[i].event && spec->handlers[i].fn, -EINVAL,
                                       spec->args, spec->n_args);
        for (i = 0; i < spec->n_options; i++)
                POE_CHECK_ARGS(k, spec->options[i].name, -EINVAL, spec->args, spec->n_args);

        /* POE::Session's try_alloc: without _start there is no way to
         * know what the session is for, so it is discarded with a carp
         * before it is registered: no id is used, nothing is dispatched. */
        for (i = 0; i < spec->n_handlers; i++) {
                const char *e = spec->handlers[i].event;

                /* Byte by byte, stopping at the first that differs (so
                 * never past a shorter name's end): a strcmp call costs
                 * more than the seven bytes. */
                if (e[0] == '_' && e[1] == 's' && e[2] == 't' && e[3] == 'a' && e[4] == 'r' &&
                    e[5] == 't' && e[6] == '\0')
                        break;
        }
        if (i == spec->n_handlers) {
                poe__warn(k, "discarding session - no '_start' state\n");
                poe__values_destroy_borrowed(spec->args, spec->n_args);
                return poe__rv(k, -EINVAL, __func__);
        }
        return poe__session_create(k, spec, NULL, ret_sid, __func__);
}

/*
 * poe_session_create after its checks, and poe_nfa_spawn's session (nfa
 * not NULL, owned from here on, freed on failure; a machine needs no
 * _start, which POE::NFA discards, and ASSERT_STATES leaves its options
 * alone: the "default" option means nothing to it).  func names the
 * public call for TRACE_RETVALS and ASSERT_RETVALS.
 */
int poe__session_create(poe_kernel *k, const poe_session_spec *spec, struct poe__nfa *nfa,
                        poe_sid *ret_sid, const char *func)
{
        poe__session *s = NULL;
        poe__event *gc = NULL;
        poe_value small[8], *args = small, ret;
        size_t i;
        poe_sid sid;

        if (!k->ksession->alive && poe__kernel_session_init(k) < 0)
                goto enomem;
        /* Everything that can fail is done before _start, so a failed
         * create dispatches nothing and leaves no trace. */
        s = session_alloc(k);
        if (!s)
                goto enomem;
        init_links(s);
        /* Its parent's more holds it among the children: made now, when
         * failing is still clean.  A machine keeps its states in its own. */
        if (poe__need_more(k, k->active->alive ? k->active : k->ksession) < 0)
                goto enomem;
        if (nfa) {
                if (poe__need_more(k, s) < 0)
                        goto enomem;
                s->more->nfa = nfa;
                s->is_nfa = true;
                s->rare |= POE__RARE_NFA;
                nfa = NULL;
        }
        s->heap = spec->heap;
        /* The coarse clock, not the epoch clock: a memory read against
         * a clock read and a division, a fifth of session_churn's time
         * under perf; the epoch seconds are made when asked for (peek.c). */
        s->created_ns = poe__coarse_inline(k);
        /* Sessions come in runs of one kind: the last table first, its
         * spec compared with the handlers as given (spec_is). */
        if (spec->n_handlers && k->htable_last &&
            spec_is(k, k->htable_last, spec->handlers, spec->n_handlers)) {
                s->handlers = k->htable_last;
                s->handlers->refs++;
        } else if (spec->n_handlers) {
                poe__handler hsmall[16], *h = hsmall;

                if (spec->n_handlers > 16 && !(h = poe__malloc(k, spec->n_handlers * sizeof(*h))))
                        goto enomem;
                /* Through the address cache: a program makes its
                 * sessions from the same static lists again and again. */
                for (i = 0; i < spec->n_handlers; i++) {
                        h[i].name = poe__intern_cached(k, spec->handlers[i].event);
                        h[i].fn = spec->handlers[i].fn;
                        h[i].object = spec->handlers[i].object;
                        if (h[i].name == POE__NO_NAME)
                                break;
                }
                if (i == spec->n_handlers && spec->n_handlers <= UINT32_MAX)
                        s->handlers = htable_for_spec(k, h, (uint32_t)spec->n_handlers);
                if (h != hsmall)
                        poe__free(k, h);
                if (!s->handlers)
                        goto enomem;
        }
        for (i = 0; i < spec->n_options; i++)
                if (option_store(k, s, spec->options[i].name, spec->options[i].value, NULL,
                                 false) < 0)
                        goto enomem;
        gc = poe__event_new(k, NULL, 0);
        if (!gc)
                goto enomem;
        if (spec->n_args > 8) {
                args = poe__malloc(k, spec->n_args * sizeof(*args));
                if (!args)
                        goto enomem;
        }
        if (poe__pmap_reserve(k, &k->sessions, session_hash) < 0)
                goto enomem;

        /* POE's _data_sid_allocate and _data_ses_allocate. */
        k->run_sessions = true; /* POE's KR_RUN_SESSION */
        sid = ++k->sid_seq;
        s->id = sid;
        s->alive = true;
        s->pins = 1;
        poe__pmap_insert_reserved(&k->sessions, s, session_hash(s));
        k->n_sessions++;
        /* After stop() from a nested call, the running handler's session
         * may be gone: new sessions then belong to the kernel, as POE's
         * stop() intends ("new sessions will not be child of the current
         * defunct session"). */
        link_child(k, k->active->alive ? k->active : k->ksession, s);
        POE_TRACE(k, POE_TRACE_SESSIONS, s, POE__NO_NAME, s->parent, s->parent,
                  .kind = POE_TK_CREATE);
        /* POE::Session's ASSERT_STATES turns the "default" option on. */
        if (POE__ON(k, POE_ASSERT_STATES) && !s->is_nfa && !option_find(s, "default"))
                s->opt_default = true;
        poe__gc_mark(k, s);
        if (ret_sid)
                *ret_sid = sid;

        if (spec->n_args)
                memcpy(args, spec->args, spec->n_args * sizeof(*args));
        s->pins++;
        create_dispatches(k, s, args, spec->n_args, &ret);
        if (args != small)
                poe__free(k, args);
        poe__value_drop(&ret);
        /* The delayed garbage-collection event gives a session that did
         * nothing in _start until the end of the next timeslice. */
        if (s->alive)
                poe__enqueue(k, gc, s, s, POE__N_GC, POE__ET_GC, POE__N_EMPTY, __LINE__);
        else
                poe__event_free(k, gc);
        poe__session_unpin(k, s);
        return poe__rv(k, 0, func);

enomem:
        if (args != small)
                poe__free(k, args);
        if (gc)
                poe__event_free(k, gc);
        if (s)
                destroy_session_partial(k, s);
        if (nfa)
                poe__nfa_free(k, nfa);
        poe__values_destroy_borrowed(spec->args, spec->n_args);
        return poe__rv(k, -ENOMEM, func);
}

/* ---- handlers and options at run time ---- */

POE_EXPORT int poe_kernel_state(poe_kernel *k, const char *event, poe_handler_fn fn, void *object)
{
        poe__session *s;
        poe__handler h;

        POE_CHECK(k, k && event, -EINVAL);
        s = k->active;
        POE_CHECK_SESSION(k, !s->is_kernel && s->alive, -ESRCH);
        h.name = poe__intern(k, event);
        h.fn = fn;
        h.object = object;
        if (h.name == POE__NO_NAME)
                return poe__rv(k, -ENOMEM, __func__);
        /* A shared table becomes the session's own first: the change is
         * the session's alone. */
        if ((fn || poe__htable_find(s->handlers, h.name)) && htable_own(k, s) < 0)
                return poe__rv(k, -ENOMEM, __func__);
        if (!fn) {
                if (s->handlers)
                        htable_del(s->handlers, h.name);
                return poe__rv(k, 0, __func__);
        }
        if (s->opt_debug && poe__htable_find(s->handlers, h.name))
                poe__warn(k, "redefining handler for event(%s) for session(%llu)\n", event,
                          (unsigned long long)s->id);
        return poe__rv(k, poe__htable_put(k, &s->handlers, &h), __func__);
}

POE_EXPORT int poe_session_option_set(poe_kernel *k, poe_sid sid, const char *name,
                                      poe_value value, poe_value *ret_old)
{
        poe__session *s;
        poe__option old;
        int r;

        POE_CHECK(k, k && name, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return poe__rv(k, -ESRCH, __func__);
        r = option_store(k, s, name, value, &old, true);
        if (r < 0)
                return poe__rv(k, r, __func__);
        /* The old value stays readable until the next call into the
         * kernel: it is parked and freed on the next option change. */
        poe__free(k, k->parked_option.name);
        poe__free(k, k->parked_option.blob);
        k->parked_option = old;
        if (ret_old)
                *ret_old = old.blob ? old.value : poe_nil();
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_session_option_get(poe_kernel *k, poe_sid sid, const char *name, poe_value *ret)
{
        poe__session *s;
        poe__option *o;

        POE_CHECK(k, k && name && ret, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return poe__rv(k, -ESRCH, __func__);
        o = option_find(s, name);
        *ret = o ? o->value : poe_nil();
        return poe__rv(k, 0, __func__);
}

POE_EXPORT void *poe_session_get_heap(poe_kernel *k, poe_sid sid)
{
        poe__session *s = k ? poe__session_get(k, sid) : NULL;

        return s ? s->heap : NULL;
}

POE_EXPORT int poe_kernel_ID_id_to_session(poe_kernel *k, poe_sid sid)
{
        POE_CHECK(k, k, -EINVAL);
        return poe__rv(k, poe__session_get(k, sid) ? 0 : -ESRCH, __func__);
}

POE_EXPORT int poe_session_get_parent(poe_kernel *k, poe_sid sid, poe_sid *ret_parent)
{
        poe__session *s;

        POE_CHECK(k, k, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return poe__rv(k, -ESRCH, __func__);
        if (ret_parent)
                *ret_parent = s->parent ? s->parent->id : POE_KERNEL;
        return poe__rv(k, 0, __func__);
}

/* ---- detaching ---- */

POE_EXPORT int poe_kernel_detach_myself(poe_kernel *k)
{
        poe__session *s, *old;
        poe_value r;

        POE_CHECK(k, k, -EINVAL);
        s = k->active;
        POE_CHECK_SESSION(k, !s->is_kernel && s->alive, -EPERM);
        /* POE returns EPERM quietly here (no _explain_return): not a
         * failed call for TRACE_RETVALS or ASSERT_RETVALS. */
        if (s->parent == k->ksession)
                return -EPERM;
        old = s->parent;
        old->pins++;
        /* No lose during _start: the parent never saw a create. */
        if (!(k->active_type & POE__ET_START)) {
                r = child_args_dispatch(k, old, POE__N_LOSE, s, NULL);
                poe_value_release(&r);
        }
        if (s->alive)
                parent_dispatch(k, s, old, k->ksession);
        if (s->alive && s->parent)
                move_child(k, s, k->ksession);
        poe__session_unpin(k, old);
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_detach_child(poe_kernel *k, poe_sid child)
{
        poe__session *c, *self;
        poe_value r;

        POE_CHECK(k, k, -EINVAL);
        /* POE's order: where it is called from (fatal only under
         * ASSERT_USAGE), then the child (fatal under ASSERT_DATA), then
         * whose child it is. */
        self = k->active;
        if (self->is_kernel)
                poe__outside(k, -EPERM, __func__);
        c = poe__session_get(k, child);
        if (!c) {
                poe__resolve_failed(k, NULL, child);
                return poe__rv_unresolved(k, __func__, NULL, 0);
        }
        /* POE returns EPERM quietly for these two (no _explain_return):
         * not a failed call for TRACE_RETVALS or ASSERT_RETVALS. */
        if (self->is_kernel)
                return -EPERM;
        if (c->parent != self)
                return -EPERM;
        c->pins++;
        r = child_args_dispatch(k, self, POE__N_LOSE, c, NULL);
        poe_value_release(&r);
        if (c->alive)
                parent_dispatch(k, c, self, k->ksession);
        if (c->alive && c->parent)
                move_child(k, c, k->ksession);
        poe__session_unpin(k, c);
        return poe__rv(k, 0, __func__);
}

/* Frees every session without dispatching anything: kernel teardown.
 * Clearing a session's aliases and references may mark it for
 * collection, so it leaves the collection lists before it is freed. */
void poe__sessions_free_all(poe_kernel *k)
{
        size_t i;

        for (i = 0; k->sessions.slots && i <= k->sessions.mask; i++) {
                poe__session *s = k->sessions.slots[i];

                if (!s)
                        continue;
                poe__aliases_clear_session(k, s);
                poe__extrefs_clear_session(k, s);
                poe__signals_clear_session(k, s);
                poe__children_clear_session(k, s);
                gc_unmark(s);
                if (poe__in_sweep(s))
                        poe__list_remove(&s->gc_link);
                free_tables(k, s);
                if (!s->is_kernel)
                        poe__session_free_unpinned(k, s);
        }
        poe__list_init(&k->gc_marked);
        poe__free(k, k->parked_option.name);
        poe__free(k, k->parked_option.blob);
        poe__pmap_free(k, &k->sessions);
        poe__imap_free(k, &k->htables);
        k->htable_last = NULL;
        while (k->ses_free) {
                poe__session *s = k->ses_free;

                SES_UNPOISON(s);
                k->ses_free = *(poe__session **)(void *)s;
                poe__free(k, s);
        }
        k->n_ses_free = 0;
        poe__free(k, k->tree_kept);
        k->tree_kept = NULL;
        k->n_tree_kept = k->cap_tree_kept = 0;
        k->tree_root = NULL;
        if (k->ksession)
                poe__free(k, k->ksession->more);
        poe__free(k, k->ksession);
        k->ksession = NULL;
}
