/*
 * Sessions (sessions.c, nfa.c): the kernel's table of them, their handler
 * tables, what a session has only once it uses it (s->more), the
 * reasons that keep a session alive, and collection.
 */
#include "internal.h"

#ifndef POE_SESSIONS_H_PART
#define POE_SESSIONS_H_PART

/* One handler: the interned event name, the function and its object. */
typedef struct poe__handler {
        uint32_t name;
        poe_handler_fn fn;
        void *object;
} poe__handler;

/*
 * Open-addressed table of handlers keyed by interned name id, in one
 * allocation with its slots (a table is a pointer; NULL is empty).
 * Sessions created from the same handlers (the same names, functions and
 * objects, in the same order: POE's sessions of one package share their
 * states) share one table, counted by refs and found through
 * k->htables by the hash of that list, which the table keeps after its
 * slots (spec, n_spec) to compare.  A table changed at run time
 * (poe_kernel_state) is first made the session's own (n_spec 0, not in
 * k->htables).
 */
typedef struct poe__htable {
        uint32_t mask; /* capacity - 1 */
        uint32_t count;
        uint32_t refs;
        uint32_t n_spec;          /* 0: private */
        uint32_t hash;            /* of spec[], when shared */
        struct poe__htable *next; /* k->htables' chain of tables of one hash */
        poe__handler slots[];     /* then, when shared, spec[n_spec] */
} poe__htable;

/* A session option (POE::Session's options hash). */
typedef struct poe__option {
        char *name;
        poe_value value; /* deep copy in one allocation (value_blob) */
        void *blob;
} poe__option;

/*
 * What a session has only once it uses it: children, options, an NFA
 * machine, extra references, signal, I/O and child-process watchers,
 * postbacks, and the lints' evidence.  An idle session (an alias and its
 * handlers, POE's service waiting for work) has none of it: s->more is
 * NULL until the first call that needs it allocates it (poe__need_more,
 * whose -ENOMEM that call returns), and it goes with the session.
 */
typedef struct poe__session_more {
        poe__list children; /* of poe__session.sibling, creation order */
        poe__list extrefs;  /* poe__extref */
        poe__list sigwatch; /* poe__sigwatch */
        poe__list watches;  /* poe__watch.in_session: its I/O watchers */
        poe__list pidwatch; /* poe__pidwatch.in_session */
        poe__option *options;
        uint32_t n_options;
        /* The counts of reasons kept here (poe__reason_slot). */
        uint32_t reasons[POE_REASON_MAX - POE__REASONS_IN_CORE];
        struct poe__nfa *nfa; /* a POE::NFA machine's states (nfa.c), or NULL */
        /* Lints' evidence: its top-level dispatches that took k->slow_ns
         * or more (how many, the slowest, the last one's start), and the
         * timers it set in the past (how many, the first and last time). */
        int64_t slow_max_ns, slow_last;
        uint32_t slow_n, slow_event;
        uint32_t past_n;
        int64_t past_first, past_last;
} poe__session_more;

/* Sessions: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__SESSIONS_PART                                                    \
        /* Shared handler tables by the hash of their spec (sessions.c),   \
         * and the one found or made last (NULL once it is freed). */         \
        poe__imap htables;                                                    \
        struct poe__htable *htable_last;                                      \
        /* Sessions by id (poe__session_get); the kernel's own is id 0. */    \
        poe__pmap sessions;                                                   \
        poe__session *ksession;                                               \
        size_t n_sessions; /* including the kernel's while it lives */        \
        poe_sid sid_seq;                                                      \
        /* Freed session records kept for the next create, linked through  \
         * their first word (sessions.c: session_alloc). */                   \
        poe__session *ses_free;                                               \
        unsigned n_ses_free;                                                  \
        /* Sessions marked for collection, in marking order. */               \
        poe__list gc_marked;                                                  \
        poe__option parked_option; /* the last old option value handed out */ \
        /* The last tree collected (sessions.c: collect_tree), kept           \
         * while no children list changes: its root, k->tree_epoch then,      \
         * and its sessions, unpinned.  k->tree_epoch counts the changes. */  \
        uint64_t tree_epoch;                                                  \
        poe__session *tree_root;                                              \
        uint64_t tree_root_epoch;                                             \
        poe__session **tree_kept;                                             \
        size_t n_tree_kept, cap_tree_kept;                                    \
        /* tree_kept is a signal's walk's own array (poe__session_tree_lend): \
         * not changed, not kept anew, until given back. */                   \
        bool tree_lent;

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_SESSIONS_H)
#define POE_SESSIONS_H

/* Always empty: a session without s->more reads its lists through it
 * (POE__MORE_LIST); nothing is ever linked to it. */
extern poe__list poe__no_items;
#define POE__MORE_LIST(s, field) ((s)->more ? &(s)->more->field : &poe__no_items)

/* Makes s->more if it has none: 0 or -ENOMEM (sessions.c). */
int poe__need_more_slow(poe_kernel *k, poe__session *s);
static inline int poe__need_more(poe_kernel *k, poe__session *s)
{
        return s->more ? 0 : poe__need_more_slow(k, s);
}

/* Where a reason's count is: in the session for the first four and
 * timers, in s->more for the rest (which exists whenever such a count
 * is raised: the resource that raises it made it).  A constant r folds
 * to one address. */
static inline uint32_t *poe__reason_slot(poe__session *s, enum poe_reason r)
{
        switch (r) {
        case POE_REASON_EVENTS_TO:
        case POE_REASON_EVENTS_FROM:
        case POE_REASON_CHILDREN:
        case POE_REASON_ALIASES:
                return &s->reasons[r];
        case POE_REASON_TIMERS:
                return &s->reasons[4];
        case POE_REASON_EXTREFS:
                return &s->more->reasons[0];
        case POE_REASON_HANDLES:
                return &s->more->reasons[1];
        case POE_REASON_SIGCHILD:
                return &s->more->reasons[2];
        default:
                return &s->more->reasons[3]; /* POE_REASON_POSTBACKS */
        }
}

/* A reason's count, 0 for one kept in a more the session does not have. */
static inline uint32_t poe__reason_get(const poe__session *s, int r)
{
        switch (r) {
        case POE_REASON_EVENTS_TO:
        case POE_REASON_EVENTS_FROM:
        case POE_REASON_CHILDREN:
        case POE_REASON_ALIASES:
        case POE_REASON_TIMERS:
                return *poe__reason_slot((poe__session *)s, (enum poe_reason)r);
        case POE_REASON_EXTREFS:
        case POE_REASON_HANDLES:
        case POE_REASON_SIGCHILD:
        case POE_REASON_POSTBACKS:
                return s->more ? *poe__reason_slot((poe__session *)s, (enum poe_reason)r) : 0;
        default:
                return 0;
        }
}

/* sessions.c */
poe__session *poe__session_get(const poe_kernel *k, poe_sid sid);
void poe__ref_slow(poe_kernel *k, poe__session *s, enum poe_reason r);
void poe__unref_slow(poe_kernel *k, poe__session *s, enum poe_reason r);
void poe__gc_mark(poe_kernel *k, poe__session *s);

/* A session gains one reason to live.  Inline for its common case: the
 * session is not marked for collection and no debug group is on. */
/* Takes a marked session off the marked list (one the running sweep
 * holds is never marked: poe__gc_mark). */
static inline void poe__gc_unmark(poe__session *s)
{
        s->marked = false;
        poe__list_remove(&s->gc_link);
}

static inline void poe__ref(poe_kernel *k, poe__session *s, enum poe_reason r)
{
        (*poe__reason_slot(s, r))++;
        s->refcnt++;
        if (__builtin_expect(POE__ON(k, POE_TRACE_REFCNT | POE_ASSERT_DATA), 0)) {
                poe__ref_slow(k, s, r);
        } else if (s->marked) {
                /* Alive again before the sweep (a yield from a handler
                 * whose event was its last count): unmarked here. */
                poe__gc_unmark(s);
        }
}

/* ... and loses one; at zero it is marked for collection (sessions.c). */
static inline void poe__unref(poe_kernel *k, poe__session *s, enum poe_reason r)
{
        uint32_t *n = poe__reason_slot(s, r);

        if (__builtin_expect(*n > 0, 1) && !POE__ON(k, POE_TRACE_REFCNT | POE_ASSERT_DATA)) {
                (*n)--;
                if (--s->refcnt != 0)
                        return;
                /* Marked for collection: poe__gc_mark's common case
                 * inline (a yield's session reaches 0 at each dispatch:
                 * its event was its one count), the rest there. */
                if (__builtin_expect(!(s->rare & (POE__RARE_KERNEL | POE__RARE_IN_SWEEP)) &&
                                             !s->marked,
                                     1)) {
                        s->marked = true;
                        poe__list_append(&k->gc_marked, &s->gc_link);
                        return;
                }
                poe__gc_mark(k, s);
                return;
        }
        poe__unref_slow(k, s, r);
}
void poe__session_stop(poe_kernel *k, poe__session *s);
void poe__gc_sweep_marked(poe_kernel *k);
/* POE's end-of-slice sweep; nothing to do, the common case, is inline. */
static inline void poe__gc_sweep(poe_kernel *k)
{
        if (!poe__list_empty(&k->gc_marked))
                poe__gc_sweep_marked(k);
}
void poe__session_free_unpinned(poe_kernel *k, poe__session *s);
/* Drops a pin; the last one, after the session is gone, frees it. */
static inline void poe__session_unpin(poe_kernel *k, poe__session *s)
{
        if (--s->pins == 0 && !s->is_kernel)
                poe__session_free_unpinned(k, s);
}
int poe__kernel_session_init(poe_kernel *k);
/* A handler table's first slot for an interned name. */
static inline uint32_t poe__hslot(uint32_t name, uint32_t mask)
{
        return (name * 2654435761u) & mask;
}

/* The handler for an interned name, or NULL: inline, as every dispatch
 * looks one up. */
static inline const poe__handler *poe__htable_find(const poe__htable *t, uint32_t name)
{
        uint32_t i;

        if (!t)
                return NULL;
        for (i = poe__hslot(name, t->mask);; i = (i + 1) & t->mask) {
                if (!t->slots[i].fn)
                        return NULL;
                if (t->slots[i].name == name)
                        return &t->slots[i];
        }
}
/* Adds or replaces in a private table (*t may move).  0 or -ENOMEM. */
int poe__htable_put(poe_kernel *k, poe__htable **t, const poe__handler *h);
/* Drops a session's (or a state's) use of a table; NULL is fine. */
void poe__htable_unref(poe_kernel *k, poe__htable *t);
int poe__session_create(poe_kernel *k, const poe_session_spec *spec, struct poe__nfa *nfa,
                        poe_sid *ret_sid, const char *func);
void poe__sessions_free_all(poe_kernel *k);
int poe__session_tree(poe_kernel *k, poe__session *root, poe__session ***ret);
/* The same, but the tree kept itself when it is still the tree (*lent
 * true), not a copy; given back with poe__session_tree_return. */
int poe__session_tree_lend(poe_kernel *k, poe__session *root, poe__session ***ret, bool *lent);
void poe__session_tree_return(poe_kernel *k, poe__session **v, int n, bool lent);

/* nfa.c: a POE::NFA machine's dispatch (POE::NFA's _invoke_state), and
 * its release with the session's memory. */
struct poe__nfa;
poe_value poe__nfa_invoke(poe_kernel *k, struct poe__delivery *d);
void poe__nfa_free(poe_kernel *k, struct poe__nfa *m);

#endif
