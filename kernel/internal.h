/*
 * Internal declarations shared by the kernel's files.  Nothing here is
 * public: cross-file symbols carry the poe__ prefix and are hidden by
 * -fvisibility=hidden.
 */
#ifndef POE_INTERNAL_H
#define POE_INTERNAL_H

#include <errno.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "poe/poe.h"
#include "list.h"
#include "hooks.h"
#include "map.h"
#include "stats.h"

/*
 * Public-boundary argument checks, after systemd's assert_return:
 * forgiving to public users (a bad argument is an error code), strict
 * with ourselves (internal invariants are checked by ASSERT_DATA).
 */
#define POE_ASSERT_RETURN(cond, err)                                    \
        do {                                                            \
                if (__builtin_expect(!(cond), 0))                       \
                        return (err);                                   \
        } while (0)

/* The same for calls that are given pointer arguments: those are stolen
 * even when the call fails, so a failed check destroys them first. */
#define POE_CHECK_ARGS(k, cond, err, args, nargs) POE_CHECK_ARGS_AT(k, NULL, 0, cond, err, args, nargs)
#define POE_CHECK_ARGS_AT(k, file, line, cond, err, args, nargs)        \
        do {                                                            \
                if (__builtin_expect(!(cond), 0)) {                     \
                        if ((args) && (nargs))                          \
                                poe__values_destroy_borrowed((args), (nargs)); \
                        return poe__usage((k), (err), #cond, __func__, (file), (line)); \
                }                                                       \
        } while (0)

#define POE__NO_NAME UINT32_MAX

/* The debug groups compiled in (meson options; see debug.c). */
#ifndef POE__DEBUG_COMPILED
#define POE__DEBUG_COMPILED 0xffffffffu
#endif

/* What the kernel's invariants keep true (a session pointer that is
 * never NULL), told to the compiler so that inline code drops its
 * checks; an undefined-behaviour sanitizer build reports it if it is
 * ever false. */
#define POE__ASSUME(cond)                                                         \
        do {                                                                      \
                if (!(cond))                                                      \
                        __builtin_unreachable();                                  \
        } while (0)

/* Is group g compiled in and switched on?  Compiled out, this is a
 * constant 0 and everything it guards vanishes, format strings too. */
#define POE__ON(k, g) ((POE__DEBUG_COMPILED & (g)) && __builtin_expect(((k)->debug_on & (g)) != 0, 0))

/*
 * A trace record of group g about session s (NULL: none) and event ev
 * (POE__NO_NAME: none), sent by sender, whose text also names peer (both
 * may be NULL); the rest of the record's fields are designated
 * initializers, .kind always among them:
 *
 *     POE_TRACE(k, POE_TRACE_FILES, s, name, NULL, NULL,
 *               .kind = POE_TK_WATCH, .arg.i = { fd, mode });
 *
 * Nothing is formatted here: the fields are what poe_trace_format renders
 * POE's text line from (see trace-format.c for which fields each kind
 * fills).
 */
#define POE_TRACE(k, g, s, ev, sender, peer, ...)                                 \
        do {                                                                      \
                if (POE__ON(k, g) && !(k)->in_sink) {                             \
                        poe_trace_record r_ = { .group = (g), .event = (ev),      \
                                                __VA_ARGS__ };                    \
                        poe__trace((k), &r_, (s), (sender), (peer));              \
                }                                                                 \
        } while (0)

/*
 * The same for the frequent kinds (enqueue, dispatch, return, discard,
 * watch, unwatch, wait), with every field given in order: the event id,
 * the time if the trace point read the clock (else 0), four integers and
 * the real.  Inline (poe__trace_hot, after struct poe_kernel): most of
 * the fields are constants at the trace point.
 */
#define POE_TRACE_HOT(k, g, kind, s, ev, sender, peer, event_id, now, a0, a1, a2, a3, num) \
        do {                                                                      \
                if (POE__ON(k, g) && !(k)->in_sink)                               \
                        poe__trace_hot((k), (g), (kind), (s), (ev), (sender), (peer), \
                                       (event_id), (now), (a0), (a1), (a2), (a3), (num)); \
        } while (0)

#define POE_ASSERT(k, g, cond, ...)                                               \
        do {                                                                      \
                if (POE__ON(k, g) && !(cond))                                     \
                        poe__assert_fail((k), (g), __FILE__, __LINE__, __VA_ARGS__); \
        } while (0)

/* A public-boundary check that ASSERT_USAGE makes fatal.  The _AT forms
 * are for the *_at functions, which know their caller's file and line. */
#define POE_CHECK(k, cond, err) POE_CHECK_AT(k, NULL, 0, cond, err)
#define POE_CHECK_AT(k, file, line, cond, err)                                    \
        do {                                                                      \
                if (__builtin_expect(!(cond), 0))                                 \
                        return poe__usage((k), (err), #cond, __func__, (file), (line)); \
        } while (0)

#define POE__MAX_SINKS 8

/* Event types, POE's ET_* bits (POE::Kernel). */
enum {
        POE__ET_POST = 0x0001,
        POE__ET_CALL = 0x0002,
        POE__ET_START = 0x0004,
        POE__ET_STOP = 0x0008,
        POE__ET_SIGNAL = 0x0010,
        POE__ET_GC = 0x0020,
        POE__ET_PARENT = 0x0040,
        POE__ET_CHILD = 0x0080,
        POE__ET_ALARM = 0x0200,
        POE__ET_SELECT = 0x0400,
        POE__ET_SIGCLD = 0x0800,
        POE__ET_SIGDIE = 0x1000,
};

/* Names interned when a kernel is made, so their ids are constants. */
enum {
        POE__N_START = 0,
        POE__N_STOP,
        POE__N_PARENT,
        POE__N_CHILD,
        POE__N_DEFAULT,
        POE__N_SIGNAL,
        POE__N_GC,
        POE__N_IDLE,
        POE__N_ZOMBIE,
        POE__N_DIE,
        POE__N_CREATE,
        POE__N_GAIN,
        POE__N_LOSE,
        POE__N_TRACE,
        POE__N_DEBUG,
        POE__N_DEFAULT_OPT,
        POE__N_EMPTY, /* "" */
        POE__N_PREDEFINED
};

/*
 * Why a session is alive: one counter per kind of thing it owns
 * (enum poe_reason, poe.h's, which peek hands out as it is), as
 * DESIGN.md's lifetime rule says.  The sum is the session's refcount,
 * and a session whose refcount reaches zero is marked for collection.
 */
/* How many of them a session keeps in itself (poe__reason_slot): events
 * to and from, children, aliases and timers. */
#define POE__REASONS_IN_CORE 5

typedef struct poe__session poe__session;
typedef struct poe__event poe__event;

/* An address cache entry: a name string given by the caller, and its id. */
typedef struct poe__name_cache {
        const char *ptr;
        uint32_t id;
} poe__name_cache;

/* A timer in the heap: its due time is kept beside the pointer, so the
 * heap's comparisons stay in the heap's own memory (the event is read
 * only to break a tie and to note its new position). */
typedef struct poe__heap_entry {
        int64_t due;
        poe__event *ev;
} poe__heap_entry;

/* Alarm ids -> timers: a window of recent ids as an array, older ones
 * in a hash map (queue.c). */
typedef struct poe__timer_ids {
        poe__event **ring; /* mask + 1 slots, id & mask; NULL: empty */
        uint64_t lo;       /* the window: ids lo .. lo + mask */
        uint32_t mask;
        uint32_t n_ring; /* timers in the ring */
        poe__imap old;   /* pending timers whose ids left the window */
} poe__timer_ids;

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

/* An alias, its name in the same allocation: 16 bytes and the name. */
typedef struct poe__alias {
        poe__session *session;
        struct poe__alias *next; /* session->aliases, sorted by name */
        char name[];
} poe__alias;

typedef struct poe__extref {
        char *tag;
        int count;
        uint32_t file; /* interned: where its count was last raised */
        int line;
        poe__list_node in_session;
} poe__extref;

typedef struct poe__sigwatch {
        uint32_t signal; /* interned signal name */
        uint32_t event;  /* interned event name */
        poe_value *args; /* deep copy, one allocation */
        uint32_t nargs;
        poe__list_node in_session;
} poe__sigwatch;

/* A sig_child watch: session waits for pid. */
typedef struct poe__pidwatch {
        pid_t pid;
        poe__session *session;
        uint32_t event;
        poe_value *args; /* deep copy; pointers not owned */
        uint32_t nargs;
        poe__list_node in_session;
        poe__list_node in_kernel;
} poe__pidwatch;

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

/*
 * A session: 168 bytes (a 176-byte block from malloc) with everything an
 * idle session needs; the rest in s->more.  Layout by use: the lookup
 * and tree links first, the dispatch's fields, then the counts.
 */
struct poe__session {
        poe_sid id;
        poe__session *parent;
        poe__list_node sibling; /* in parent->more->children */
        /* k->gc_marked while marked, the sweep's snapshot while in it
         * (a session the running sweep holds is not marked again, but
         * remarked: see poe__gc_mark). */
        poe__list_node gc_link;
        poe__htable *handlers; /* shared (see poe__htable); an NFA's: those state() adds */
        void *heap;
        poe__alias *aliases; /* sorted by name */
        poe__session_more *more;
        poe__list timers; /* poe__event.in_session: its pending alarms */
        uint64_t dispatched;
        int64_t busy_ns; /* time in its top-level dispatches (poe__busy_settle) */
        int64_t last_ns; /* k->now at its last dispatch; 0: none yet */
        double created;  /* epoch seconds */
        /* The counts of events, children, aliases and timers; the other
         * reasons' are in s->more (poe__reason_slot). */
        uint32_t reasons[POE__REASONS_IN_CORE];
        uint32_t refcnt; /* the sum of every reason's count */
        uint32_t pins;   /* dispatches under way + 1 while alive */
        /* Its loggable name's serial in trace records (0: to be given,
         * after a change of aliases), and the definition epoch it was
         * last defined to the sinks in (trace.c). */
        uint32_t log_serial;
        uint32_t log_epoch;
        bool alive;
        bool marked;
        /* The rare cases of poe__gc_mark and of the dispatch, each set
         * tested at once (POE__RARE_*): the kernel's own session, one the
         * running sweep holds, a machine, the trace option (the three
         * flags below say the same). */
        uint8_t rare;
        bool is_kernel : 1;
        bool remarked : 1; /* its count fell to 0 while the sweep held it */
        bool stopping : 1;
        bool is_nfa : 1;      /* more->nfa is its machine */
        bool opt_trace : 1;   /* POE::Session's trace option */
        bool opt_default : 1; /* ... default: warn about events nobody handles */
        bool opt_debug : 1;   /* ... debug: warn about redefined handlers */
};

#define POE__RARE_KERNEL   1
#define POE__RARE_IN_SWEEP 2
#define POE__RARE_NFA      4
#define POE__RARE_TRACE    8
#define poe__in_sweep(s)   (((s)->rare & POE__RARE_IN_SWEEP) != 0)

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

/*
 * A queued event: 72 bytes, followed by its arguments and their strings
 * and lists in the same allocation.  Argumentless events, most of them,
 * come from a per-kernel free list (see events.c).  Fields only one kind
 * needs share space: a post names its sender, an alarm is always from
 * its own session and keeps POE's walltime + delta instead.
 */
struct poe__event {
        poe__list_node link; /* posts: k->fifo; alarms: the destination's timers */
        uint64_t seq;        /* POE's queue item id; alarm ids */
        int64_t due;         /* monotonic ns */
        poe__session *to;
        union {
                poe__session *from; /* posts */
                double time;        /* alarms: POE's EV_WALLTIME + EV_DELTA (0 if undef) */
        } u;
        uint32_t name;
        uint32_t from_state;
        int32_t line;
        uint32_t file;       /* interned caller file */
        uint32_t heap_index; /* alarms: position in the timer heap */
        uint16_t type;
        uint16_t nargs;      /* POE__EV_MANY: the count is stored before the args */
};

#define POE__EV_MANY UINT16_MAX

/* An event's arguments and their count. */
static inline poe_value *poe__ev_args(const poe__event *ev)
{
        char *p = (char *)(void *)(ev + 1);

        return (poe_value *)(void *)(ev->nargs == POE__EV_MANY ? p + sizeof(poe_value) : p);
}

static inline size_t poe__ev_nargs(const poe__event *ev)
{
        return ev->nargs == POE__EV_MANY ? *(const size_t *)(const void *)(ev + 1) : ev->nargs;
}

/* The sender: an alarm's is its own session. */
static inline poe__session *poe__ev_from(const poe__event *ev)
{
        return (ev->type & POE__ET_ALARM) ? ev->to : ev->u.from;
}

/*
 * A dispatch's landing place for poe_die (POE's eval around a handler).
 * GCC's and Clang's builtin setjmp saves three words and no signal mask,
 * against libc's full register set: it is set once per dispatch.  Under
 * AddressSanitizer libc's pair is kept, since ASan must see the unwind.
 */
#if defined(__SANITIZE_ADDRESS__)
typedef jmp_buf poe__jmpbuf;
#define POE__SETJMP(b) setjmp(b)
#define POE__LONGJMP(b) longjmp((b), 1)
#else
typedef void *poe__jmpbuf[5];
#define POE__SETJMP(b) __builtin_setjmp(b)
#define POE__LONGJMP(b) __builtin_longjmp((b), 1)
#endif

/* A landing frame for poe_die, and the delivery open under it, if any:
 * the one a die landing there finishes (exceptions.c, the die path). */
typedef struct poe__frame {
        poe__jmpbuf jb;
        struct poe__frame *up;
        struct poe__delivery *open;
} poe__frame;

/* Unwinds to k->frame (exceptions.c): never from the function that set
 * the frame, as the builtin pair requires. */
__attribute__((noreturn)) void poe__unwind(poe_kernel *k);

/* What a handler sees (POE's @_). */
struct poe_ctx {
        poe_kernel *k;
        poe__session *s;
        uint32_t state;
        poe_sid sender;
        void *object;
        const char *file;
        int line;
        uint32_t from_state;
        poe_value *args;
        size_t nargs;
};

/*
 * One delivery of an event to a handler, the one thing every dispatch
 * passes around (events.c): the handler's view of it, built once, in
 * place (c: c.s the target, c.state the event), the sender, the kind,
 * and what the dispatch changed and must put back.  It lives in the
 * memory of the function that set the landing frame it runs under, so
 * that after poe_die has unwound there the dispatch is finished from it
 * (exceptions.c, the die path).
 */
typedef struct poe__delivery {
        struct poe_ctx c;
        struct poe__session *from;
        uint32_t type; /* POE__ET_* */
        /* The event whose arguments these are, when the frame's owner
         * frees it after the dispatch (the slice's queued event, a
         * signal watcher's copy); only those owners set it. */
        poe__event *ev;
        /* What the dispatch put aside (dispatch_enter), for its end. */
        struct poe__session *hold_session;
        uint32_t hold_event, hold_type;
        int hold_depth;
        bool timed; /* one of the dispatches timing samples */
        int64_t t0;
        uint64_t n0; /* when timed: handlers run before it */
} poe__delivery;

/* Fills in a delivery's event: no arguments, no file, no from-state
 * yet; the caller sets those it has (and ev, if it is a frame's owner
 * that uses it). */
static inline void poe__delivery_init(poe__delivery *d, poe_kernel *k, poe__session *to,
                                      poe__session *from, uint32_t name, uint32_t type)
{
        d->c.k = k;
        d->c.s = to;
        d->c.state = name;
        d->c.sender = from->id;
        d->c.file = NULL;
        d->c.line = 0;
        d->c.from_state = POE__NO_NAME;
        d->c.args = NULL;
        d->c.nargs = 0;
        d->from = from;
        d->type = type;
}

/* I/O modes, POE's MODE_RD, MODE_WR, MODE_EX, and their bits. */
enum { POE__MODE_RD = 0, POE__MODE_WR = 1, POE__MODE_EX = 2, POE__MODES = 3 };
#define POE__IO_BIT(mode) (1u << (mode))

/* One session's watcher of one fd in one mode. */
typedef struct poe__watch {
        int fd;
        int mode;
        bool paused;
        poe__session *session;
        uint32_t event;
        poe_value *args; /* deep copy; pointers not owned */
        uint32_t nargs;
        poe__list_node in_session;
} poe__watch;

typedef struct poe__fdrec {
        poe__watch *watch[POE__MODES];
        unsigned mask; /* the modes the backend is asked to watch */
} poe__fdrec;

/*
 * A loop backend: the small, versioned table of functions every event
 * loop (select, poll, epoll, or someone else's) implements.  The kernel
 * tells it which fds to watch in which modes, and asks it to wait.
 */
#define POE__LOOP_OPS_VERSION 1
typedef struct poe__loop_ops {
        unsigned version;
        const char *name;
        int (*init)(poe_kernel *k);
        void (*fini)(poe_kernel *k);
        /* Watch fd for the modes in mask (POE__IO_BIT); 0 stops watching. */
        int (*update)(poe_kernel *k, int fd, unsigned old_mask, unsigned new_mask);
        /* Wait at most timeout_ns (-1: no limit) and report each ready
         * (fd, mode) with poe__io_ready.  Returns >= 0 or -errno. */
        int (*wait)(poe_kernel *k, int64_t timeout_ns);
        /* One fd that is readable whenever wait(0) would report something
         * (epoll's own), for host loops (poe_kernel_get_fd); NULL when the
         * backend has none (select, poll). */
        int (*fd)(poe_kernel *k);
} poe__loop_ops;

extern const poe__loop_ops poe__loop_select;
extern const poe__loop_ops poe__loop_poll;
extern const poe__loop_ops poe__loop_epoll;
/* A loop the kernel owns (POE_EVENT_LOOP=glib|uv|ev): its own watchers. */
extern const poe__loop_ops poe__loop_host;

struct poe_kernel {
        poe_allocator alloc;
        char id[128];

        /* Interned names: strings by id, and ids by string. */
        char **names;
        uint32_t n_names, cap_names;
        poe__smap name_ids;
        /* What post and yield were last given as event and file names,
         * by address: a hit costs a strcmp instead of a hash lookup. */
        poe__name_cache name_cache[64], file_cache[4];

        /* Shared handler tables by the hash of their spec (sessions.c). */
        poe__imap htables;

        /* Sessions by id (poe__session_get); the kernel's own is id 0. */
        poe__pmap sessions;
        poe__session *ksession;
        size_t n_sessions; /* including the kernel's while it lives */
        poe_sid sid_seq;

        /* Aliases by name (poe__alias_get), and poe__resolve's cache of
         * recent hits, valid while alias_gen is unchanged. */
        poe__pmap aliases;
        uint64_t alias_gen;
        struct {
                const char *ptr;
                struct poe__alias *alias;
                uint64_t gen;
        } alias_cache[8];
        size_t n_extref_sessions; /* sessions holding any extref */

        /* The queue: posted events in FIFO order, timers in a heap. */
        poe__list fifo;
        poe__heap_entry *heap; /* timers: a 4-ary min-heap on (due, id) */
        void *heap_mem;        /* its allocation (heap is 64-byte aligned in it) */
        uint32_t heap_len, heap_cap;
        /* Alarm id -> event, kept once an id has been asked for (see
         * queue.c): until then no timer needs finding by id. */
        bool timers_indexed;
        poe__timer_ids timer_ids;
        size_t queue_count;
        uint64_t seq;
        poe__event *parked_event; /* the last alarm_remove'd, for its args */
        /* Argumentless events' blocks: free ones, and the chunks they
         * were carved from (all freed with the kernel). */
        poe__event *ev_free;
        void *ev_chunks;

        /* Time: the real clocks, or a fake one for tests. */
        bool fake_clock;
        int64_t now;        /* the monotonic clock as last read (poe__clock_now) */
        int64_t coarse_now; /* CLOCK_MONOTONIC_COARSE when it was */
        int64_t fake_mono;
        double fake_wall;
        double epoch_offset; /* epoch seconds at monotonic zero */

        /* I/O watchers by fd, and the loop backend. */
        struct poe__fdrec **fds;
        int n_fds_cap;
        size_t n_watched_fds;
        const struct poe__loop_ops *loop;
        void *loop_data;
        /* A host loop the kernel owns and sleeps in (POE_EVENT_LOOP=glib,
         * uv, ev; loop-owned.c), or NULL. */
        struct poe__owned_loop *owned;
        int *ready[POE__MODES]; /* fds the backend reported ready, per mode */
        size_t n_ready[POE__MODES];
        size_t cap_ready; /* >= watched fds, reserved at registration */
        int wake_fd; /* eventfd: post_from_thread wakes the loop */
        bool wake_ready; /* the backend reported wake_fd readable */
        _Atomic bool xposts_waiting; /* cross-thread posts are queued */
        struct poe__xpost *xposts; /* cross-thread posts, under xlock */
        struct poe__xpost **xposts_tail;
        void *xlock; /* pthread_mutex_t *, kept opaque here */

        /* What is running. */
        poe__session *active;
        uint32_t active_event;
        uint32_t active_type;
        int dispatch_depth;
        int64_t dispatch_seq; /* the queue id being dispatched, 0 if none */
        /* The timeslice under way: its time and item id cut, and the
         * top-level event whose handler runs (see poe__dispatch_resume). */
        int64_t slice_now;
        int64_t slice_prev; /* the slice before's start (timer lag's floor) */
        uint64_t slice_cut;
        poe__delivery top;         /* the slice's queued event's (poe__dispatch_resume) */
        uint64_t total_dispatched; /* handlers run */
        poe__stats stats;          /* stats.h */
        bool time_dispatches;
        /* One dispatch in time_every is timed: the one that takes
         * time_countdown to 0 (poe_kernel_set_dispatch_timing). */
        uint32_t time_every, time_countdown;
        /* Does a dispatch have anything to do besides calling the handler
         * (the event and profile groups)?  One test instead of one per
         * hook (poe__dispatch_hooks_update); timing has its own, inline. */
        bool dispatch_hooks;
        /* Busy time, always kept (poe__busy_settle): the session whose
         * top-level dispatch began at busy_mark (coarse clock) and is not
         * charged yet, with its event.  slow_ns: a dispatch that long
         * counts as slow (poe_kernel_set_slow_dispatch). */
        poe__session *busy_sess;
        uint32_t busy_event;
        int64_t busy_mark;
        int64_t slow_ns;
        /* Published for other threads (poe_kernel_activity_get). */
        _Atomic uint64_t pub_dispatches;
        _Atomic int pub_depth;
        _Atomic poe_sid pub_session;
        _Atomic(const char *) pub_event;
        double started; /* epoch seconds when made */
        int64_t started_mono; /* and on the monotonic clock */

        /* Exceptions: the innermost dispatch's frame, the message poe_die
         * is unwinding with, and POE's kr_exception (what run() fails
         * with).  died tells call() its handler died. */
        poe__frame *frame;
        char *die_msg;
        /* Where poe_die was called, for the die's trace record (a copy:
         * the caller's string may be gone once it has unwound). */
        char die_file[256];
        int die_line;
        char *exception;
        bool died;

        /* Child processes and OS signals. */
        poe__list pidwatches; /* every poe__pidwatch */
        size_t n_pidwatches;
        bool chld_active;     /* SIGCHLD caught or polled for */
        bool has_child_procs; /* the last reap left children running */
        int64_t chld_poll_due; /* monotonic ns of the next reap, or -1 */
        int sig_slot;         /* this kernel's row in the OS-signal table */
        int sig_pipe[2];
        bool sig_ready;       /* the signal pipe was reported readable */

        /* Postbacks and callbacks made by this kernel, still alive. */
        poe__list postbacks;
        size_t n_live_postbacks; /* not weakened: they keep sessions busy */

        /* POE's compile-time constants, read from the environment once. */
        bool catch_exceptions;   /* POE_CATCH_EXCEPTIONS, default on */
        bool use_sigchld;        /* POE_USE_SIGCHLD, default on */
        bool use_signal_pipe;    /* POE_USE_SIGNAL_PIPE, default on */
        double child_poll_interval; /* POE_CHILD_POLLING_INTERVAL, 1 s */

        /* Sessions marked for collection, in marking order. */
        poe__list gc_marked;

        /* The signal being dispatched (POE's kr_signal_* locals). */
        int sig_handled;
        bool in_signal;
        uint32_t *sig_watchers; /* per interned name: sessions watching it */
        uint32_t cap_sig_watchers;

        poe__option parked_option; /* the last old option value handed out */

        /* Debug groups (debug.c). */
        /* groups switched on (env, debug_set): text and sinks.  Atomic:
         * poe_kernel_debug_get is read from other threads (a monitor's)
         * while the kernel's thread may switch groups. */
        _Atomic unsigned debug;
        unsigned debug_on; /* debug plus the groups any sink asked for */
        FILE *trace_file;
        int trace_fd;
        struct {
                poe_trace_sink_fn fn;
                poe_trace_slot_fn slot; /* NULL: it lends no slots */
                void *ctx;
                unsigned groups; /* extra groups for this sink */
        } sinks[POE__MAX_SINKS];
        /* The registered sinks packed, each with every group it is sent
         * (the switched-on ones and its own), rebuilt by
         * poe__debug_recompute: what a record walks. */
        struct {
                poe_trace_sink_fn fn;
                void *ctx;
                unsigned groups;
        } active_sinks[POE__MAX_SINKS];
        int n_active_sinks;
        int n_sinks;
        int in_sink;
        bool text_sink_off;
        /* The slot sink (trace.c): the first sink that lends slots, at
         * trace_slot_sink in active_sinks (-1: none), takes the records
         * of trace_slot_groups in place, in trace_slot (NULL: none
         * lent). */
        poe_trace_record *trace_slot;
        poe_trace_slot_fn trace_slot_fn;
        void *trace_slot_ctx;
        unsigned trace_slot_groups;
        unsigned trace_solo; /* of those, the groups that go nowhere else */
        int trace_slot_sink;
        /* Definitions (trace.c): the epoch records are made in, bumped
         * when a sink is added or asks; per interned name, the epoch it
         * was last defined in (0: never); the last loggable serial
         * given; the sessions the record being sent names, for
         * poe_kernel_trace_lookup. */
        uint32_t trace_epoch;
        uint32_t *name_epochs; /* cap_names of them */
        uint32_t log_serial_seq;
        bool trace_redefine;
        const poe__session *trace_sess[2];
        poe_trace_record trace_rec; /* the frequent kinds' record the general way */
        uint32_t loop_name; /* the loop's name, interned for TRACE_FILES' waits */
        char trace_buf[2048];     /* a text line */
        char trace_payload[2048]; /* a record's free text, for the kinds that make one */
        char log_names[4][160];
        int log_turn;
        void (*heap_describer)(void *ctx, poe_sid sid, void *heap, char *buf, size_t size);
        void *heap_describer_ctx;

        poe__hooks hooks; /* the kernel hooks it ran (hooks.h) */
        bool retry_soon; /* an internal event could not be queued: wake soon */
        unsigned raise_failures; /* IDLE/ZOMBIE not queued, slices in a row */
        bool run_done;
        bool kernel_watches_idle;
        /* POE's kr_run_warning: run() was called; sessions were created
         * since the last stop().  Freed with the second and not the
         * first, the kernel warns that run() was never called. */
        bool run_called;
        bool run_sessions;
        /* POE's kr_pid: the process the kernel last knew it ran in.  In
         * a child that has forked (has_forked, or implied by stop() or
         * run()), stop() from a handler lets run() nest in that handler
         * (rerun_depth is the dispatch depth it may nest at), as a
         * Wheel::Run code program runs the kernel it inherited. */
        pid_t pid;
        bool forked;
        int rerun_depth;
};

/* Recomputes k->dispatch_hooks after a switch it depends on changed. */
static inline void poe__dispatch_hooks_update(poe_kernel *k)
{
        k->dispatch_hooks = POE__ON(k, POE_ASSERT_EVENTS | POE_TRACE_EVENTS | POE_TRACE_PROFILE);
}

/* alloc.c */
void *poe__malloc(poe_kernel *k, size_t n);
void *poe__calloc(poe_kernel *k, size_t n, size_t size);
void *poe__realloc(poe_kernel *k, void *p, size_t n);
void poe__free(poe_kernel *k, void *p);
char *poe__strdup(poe_kernel *k, const char *s);

/* names.c */
uint32_t poe__intern(poe_kernel *k, const char *name); /* POE__NO_NAME on ENOMEM */
uint32_t poe__name_find(const poe_kernel *k, const char *name);
uint32_t poe__intern_miss(poe_kernel *k, const char *name, poe__name_cache *entry);

/* poe__intern through one entry of an address cache: a hit is the
 * address compared and the content checked (so a reused buffer is never
 * mistaken), a miss interns and fills the entry.  POE__NO_NAME on
 * ENOMEM. */
static inline uint32_t poe__intern_at(poe_kernel *k, poe__name_cache *entry, const char *name)
{
        if (__builtin_expect(entry->ptr == name, 1) &&
            __builtin_strcmp(k->names[entry->id], name) == 0)
                return entry->id;
        return poe__intern_miss(k, name, entry);
}

/* poe__intern for names given again and again (post's event names). */
static inline uint32_t poe__intern_cached(poe_kernel *k, const char *name)
{
        return poe__intern_at(k, &k->name_cache[((uintptr_t)name >> 3) & 63], name);
}

/* Interns a caller's file name; NULL is "".  A few files, so few slots. */
static inline uint32_t poe__file(poe_kernel *k, const char *file)
{
        if (!file)
                file = "";
        return poe__intern_at(k, &k->file_cache[((uintptr_t)file >> 4) & 3], file);
}

/* The kernel's own file for an event it queues: "" if out of memory. */
static inline uint32_t poe__kfile(poe_kernel *k, const char *file)
{
        uint32_t id = poe__file(k, file);

        return id == POE__NO_NAME ? POE__N_EMPTY : id;
}

/* run() gives up with -ENOMEM after this many timeslices in a row
 * without memory for the IDLE or ZOMBIE signal that would end it (at one
 * retry per 10 ms, about a second). */
#define POE__RAISE_TRIES 100

static inline const char *poe__name(const poe_kernel *k, uint32_t id)
{
        return id < k->n_names ? k->names[id] : "";
}
int poe__names_init(poe_kernel *k);
void poe__names_free(poe_kernel *k);

/* value.c */
size_t poe__values_size(const poe_value *v, size_t n);
void poe__values_copy(poe_value *dst, const poe_value *src, size_t n, char **pool);
void poe__values_destroy(poe_value *v, size_t n);
void poe__values_destroy_borrowed(const poe_value *v, size_t n);
void poe__values_strip(poe_value *v, size_t n);
int poe__values_dup(poe_kernel *k, const poe_value *src, size_t n, poe_value **ret);

/* A handler's return value let go of: only pointers (and lists, which
 * may hold some) own anything. */
static inline void poe__value_drop(poe_value *v)
{
        if (__builtin_expect(v->type == POE_T_PTR || v->type == POE_T_LIST, 0))
                poe_value_release(v);
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
                if (--s->refcnt == 0)
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

/* nfa.c: a POE::NFA machine's dispatch (POE::NFA's _invoke_state), and
 * its release with the session's memory. */
struct poe__nfa;
poe_value poe__nfa_invoke(poe_kernel *k, poe__delivery *d);
void poe__nfa_free(poe_kernel *k, struct poe__nfa *m);
/* events.c: counts a handler run (by kind and in all; stats.h). */
void poe__count_handler(poe_kernel *k, poe__session *s, uint32_t type);
void poe__sessions_free_all(poe_kernel *k);
int poe__session_tree(poe_kernel *k, poe__session *root, poe__session ***ret);

/* events.c */
poe__event *poe__event_new2(poe_kernel *k, const poe_value *prefix, size_t nprefix,
                            const poe_value *args, size_t nargs);
/* An event for args: an argumentless one, the common case, straight off
 * the free list (events.c) when it has one; the rest out of line.  (With
 * AddressSanitizer the free blocks are poisoned: always out of line.) */
static inline poe__event *poe__event_new(poe_kernel *k, const poe_value *args, size_t nargs)
{
#if !defined(__SANITIZE_ADDRESS__)
        poe__event *ev = k->ev_free;

        if (__builtin_expect(nargs == 0 && ev != NULL, 1)) {
                k->ev_free = (poe__event *)(void *)ev->link.next;
                ev->nargs = 0;
                return ev;
        }
#endif
        return poe__event_new2(k, NULL, 0, args, nargs);
}
void poe__event_free(poe_kernel *k, poe__event *ev);
void poe__events_free(poe_kernel *k);
void poe__enqueue(poe_kernel *k, poe__event *ev, poe__session *to, poe__session *from,
                  uint32_t name, uint32_t type, uint32_t file, int line);
/* The guarded dispatch (events.c): under a landing frame of its own, or
 * (framed) under the caller's, k->frame, which it leaves d open in. */
poe_value poe__dispatch(poe_kernel *k, poe__delivery *d);
poe_value poe__dispatch_framed(poe_kernel *k, poe__delivery *d);
/* The die path's half in events.c: the dispatch's end after a die. */
void poe__dispatch_end(poe_kernel *k, poe__delivery *d, const poe_value *ret);
/* The die path (exceptions.c): finishes the delivery open under f. */
poe__delivery *poe__landed(poe_kernel *k, poe__frame *f);
void poe__dispatch_due(poe_kernel *k);
/* A sampled dispatch took ns; n0 handlers had run before it (stats.c). */
void poe__stats_duration(poe_kernel *k, int64_t ns, uint64_t n0);
void poe__dispatch_resume(poe_kernel *k);
/* The slice's frame's landing (exceptions.c): the dispatch open in it
 * finished, its event freed, the slice goes on. */
void poe__slice_landed(poe_kernel *k, poe__frame *f);
void poe__event_done(poe_kernel *k, poe__event *ev);
void poe__events_clear_session(poe_kernel *k, poe__session *s);
void poe__dequeue(poe_kernel *k, poe__event *ev);

/* aliases.c, extrefs.c */
void poe__aliases_clear_session(poe_kernel *k, poe__session *s);
/* The alias of that name, or NULL. */
poe__alias *poe__alias_get(const poe_kernel *k, const char *name);
poe__session *poe__resolve(poe_kernel *k, const char *name);
void poe__extrefs_clear_session(poe_kernel *k, poe__session *s);

/* signals.c */
void poe__signal_dispatch(poe_kernel *k, poe__event *ev);
void poe__signals_clear_session(poe_kernel *k, poe__session *s);
void poe__test_if_idle(poe_kernel *k);
void poe__kernel_invoke(poe_kernel *k, uint32_t name, uint32_t type, poe_value *args,
                        size_t nargs);

/* queue.c */
int poe__queue_reserve(poe_kernel *k);
int poe__timers_index(poe_kernel *k);
poe__event *poe__timer_find_slow(poe_kernel *k, uint64_t id);
void poe__timer_ids_free(poe_kernel *k, poe__timer_ids *m);

/* The pending timer with that id, or NULL: inline for an id in the
 * window (an array read), the rest in queue.c. */
static inline poe__event *poe__timer_find(poe_kernel *k, uint64_t id)
{
        const poe__timer_ids *m = &k->timer_ids;

        if (__builtin_expect(k->timers_indexed && m->ring && id >= m->lo && id - m->lo <= m->mask,
                             1))
                return m->ring[id & m->mask];
        return poe__timer_find_slow(k, id);
}
void poe__timer_push(poe_kernel *k, poe__event *ev);
void poe__timer_remove(poe_kernel *k, poe__event *ev);

/* Queues an event: a post at the FIFO's tail, O(1); a timer into the
 * heap, O(log n), in room the caller reserved. */
static inline void poe__queue_push(poe_kernel *k, poe__event *ev)
{
        if (ev->type & POE__ET_ALARM)
                poe__timer_push(k, ev);
        else
                poe__list_append(&k->fifo, &ev->link);
        k->queue_count++;
}

static inline void poe__queue_remove(poe_kernel *k, poe__event *ev)
{
        if (ev->type & POE__ET_ALARM)
                poe__timer_remove(k, ev);
        else
                poe__list_remove(&ev->link);
        k->queue_count--;
}
poe__event *poe__queue_head(const poe_kernel *k);

/*
 * The next event to dispatch in a timeslice: the earlier of the FIFO's
 * head, if the slice may run it (queued before the slice began: seq <=
 * cut), and the heap's top, if due by the slice's now (POE runs events
 * their POE priority is later than the slice's now).  NULL if neither.
 * Inline: the dispatch loop calls it once per event and once more to
 * find the slice done.
 */
static inline poe__event *poe__queue_next_due(const poe_kernel *k, int64_t now, uint64_t cut)
{
        poe__event *f = NULL, *t = NULL;

        if (!poe__list_empty(&k->fifo)) {
                f = poe__container_of(poe__list_first(&k->fifo), poe__event, link);
                if (f->seq > cut)
                        f = NULL;
        }
        if (k->heap_len && k->heap[0].due <= now)
                t = k->heap[0].ev;
        if (!f)
                return t;
        if (!t)
                return f;
        return t->due < f->due || (t->due == f->due && t->seq < f->seq) ? t : f;
}
void poe__queue_retime(poe_kernel *k, poe__event *ev, int64_t due);
void poe__queue_free(poe_kernel *k);

/* clock.c */
int64_t poe__mono(const poe_kernel *k);
/* The same, inline, for the trace records' path. */
static inline __attribute__((always_inline)) int64_t poe__mono_inline(const poe_kernel *k)
{
        struct timespec ts;

        if (k->fake_clock)
                return k->fake_mono;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
int64_t poe__clock_now(poe_kernel *k); /* reads the clock into k->now */
/* k->now for a new timeslice; returns the coarse clock (poe__coarse). */
int64_t poe__clock_slice(poe_kernel *k);
/* CLOCK_MONOTONIC_COARSE (a memory read, 1-4 ms ticks), or the fake
 * clock: what busy time is measured on. */
int64_t poe__coarse(const poe_kernel *k);
void poe__busy_slow(poe_kernel *k, poe__session *s, int64_t ns);
/* A dispatch this long is slow until poe_kernel_set_slow_dispatch. */
#define POE__SLOW_DEFAULT_NS 500000000

/*
 * Busy time, kept always at the cost of no clock read of its own in a
 * busy kernel: a slice's first dispatch is charged from the coarse
 * clock's reading the slice takes anyway (poe__clock_slice) to the next
 * reading: the next slice's, or the next top-level dispatch's of the same
 * slice, or the loop's before it waits (poe__busy_stop).  A dispatch
 * outside a slice's loop (I/O, a call from outside handlers) reads it at
 * both ends.  A coarse clock's tick falls inside a dispatch as often as
 * the dispatch is long, so the sums are right over many dispatches and a
 * long one is right to a tick.  Nested dispatches (call) count in their
 * caller's.
 */
static inline void poe__busy_settle(poe_kernel *k, int64_t t)
{
        poe__session *s = k->busy_sess;

        if (s) {
                int64_t d = t - k->busy_mark;

                s->busy_ns += d;
                if (__builtin_expect(d >= k->slow_ns, 0))
                        poe__busy_slow(k, s, d);
                k->busy_sess = NULL;
        }
        k->busy_mark = t;
}

/* The same where time passes next that is nobody's: a wait, or the
 * host's code after a timeslice or run().  No reading when no dispatch
 * is being charged: the mark is read only with busy_sess set, and each
 * place that sets it settles first (the slice's loop after the slice's
 * own reading). */
static inline void poe__busy_stop(poe_kernel *k)
{
        if (k->busy_sess)
                poe__busy_settle(k, poe__coarse(k));
}
double poe__wall(const poe_kernel *k);
void poe__clock_init(poe_kernel *k);
int64_t poe__wall2mono(const poe_kernel *k, double wall);
double poe__mono2wall(const poe_kernel *k, int64_t mono);

/* handles.c */
void poe__io_ready(poe_kernel *k, int fd, int mode);
void poe__io_dispatch_ready(poe_kernel *k);
void poe__handles_clear_session(poe_kernel *k, poe__session *s);
void poe__handles_free(poe_kernel *k);
void poe__io_bad(poe_kernel *k, int fd);
void poe__clock_jump(poe_kernel *k, int64_t mono);

/* loop.c */
int poe__loop_init(poe_kernel *k);
void poe__loop_fini(poe_kernel *k);
void poe__loop_wait(poe_kernel *k, bool block);
int64_t poe__loop_timeout(poe_kernel *k);

/* exceptions.c */
void poe__exception_caught(poe_kernel *k, const poe__delivery *d);
void poe__exception_set(poe_kernel *k, char *msg);
void poe__exception_clear(poe_kernel *k);
void poe__rethrow(poe_kernel *k);
void poe__exceptions_free(poe_kernel *k);

/* signals-os.c */
int poe__os_signo(const char *name);
const char *poe__os_signame(int signo);
int poe__os_signals_init(poe_kernel *k);
void poe__os_signals_fini(poe_kernel *k);
int poe__os_watch(poe_kernel *k, int signo);
void poe__os_unwatch(poe_kernel *k, int signo);
void poe__os_signals_deliver(poe_kernel *k);
extern _Atomic uint64_t poe__slot_pending[];
/* Has an OS signal been caught for this kernel and not yet delivered?
 * Checked before the loop sleeps, so a signal caught just before is not
 * left waiting for another wake-up (without the pipe, one that arrives
 * between this check and the sleep still waits: the pipe is the default
 * for that reason). */
static inline bool poe__os_signals_pending(const poe_kernel *k)
{
        return k->sig_slot >= 0 &&
               atomic_load_explicit(&poe__slot_pending[k->sig_slot], memory_order_relaxed) != 0;
}
void poe__os_ignore_sigpipe(void);
int poe__os_signals_forked(poe_kernel *k);

/* children.c */
void poe__children_update(poe_kernel *k);
void poe__children_reap(poe_kernel *k);
void poe__children_poll(poe_kernel *k);
bool poe__children_awaited(const poe_kernel *k);
void poe__children_clear_session(poe_kernel *k, poe__session *s);

/* signals.c (continued) */
void poe__kernel_signal_name(poe_kernel *k, const char *name);
void poe__kernel_signal_args(poe_kernel *k, const char *name, int64_t a, int64_t b);

/* loop.c (continued) */
int poe__loop_forked(poe_kernel *k);
int poe__loop_rebuild(poe_kernel *k, const poe__loop_ops *ops, bool fresh_wake);

/* loop-owned.c: a GLib, libuv or libev loop the kernel owns, reached
 * through the adapter library's poe_<name>_owned_v1() table (dlopen). */
bool poe__owned_known(const char *name);
int poe__owned_open(poe_kernel *k, const char *name);
int poe__owned_wait(poe_kernel *k, int64_t timeout_ns);
int poe__owned_watch_epoll(poe_kernel *k);
int poe__owned_forked(poe_kernel *k);
void poe__owned_close(poe_kernel *k);
const char *poe__owned_name(const poe_kernel *k);

/* postbacks.c */
void poe__postbacks_detach(poe_kernel *k);
void poe__postbacks_clear_session(poe_kernel *k, poe__session *s);

/* debug.c */
void poe__debug_from_env(poe_kernel *k);
void poe__debug_free(poe_kernel *k);
void poe__debug_recompute(poe_kernel *k);
void poe__pid_lines(FILE *out, const char *prefix, const char *msg);
/* file NULL: the message says where itself (or the place is unknown). */
__attribute__((noreturn, format(printf, 5, 6))) void
poe__assert_fail(poe_kernel *k, unsigned group, const char *file, int line, const char *fmt, ...);
int poe__usage(const poe_kernel *k, int err, const char *what, const char *func,
               const char *file, int line);
int poe__rv_fail(const poe_kernel *k, int r, const char *func, const char *file, int line);
/* -ESRCH for a destination that names no session: a warning, not fatal,
 * under ASSERT_RETVALS, as POE's _explain_resolve_failure. */
int poe__rv_unresolved(const poe_kernel *k, const char *func, const char *file, int line);
/* POE's "must call X() from a running session" (ASSERT_USAGE) for calls
 * that act on the active session, made outside a handler: fatal under
 * the group, else err, for the caller's poe__rv. */
int poe__outside(const poe_kernel *k, int err, const char *func);
/* POE's _explain_usage: a message that is fatal under ASSERT_USAGE;
 * returns err for the caller's poe__rv. */
__attribute__((format(printf, 3, 4))) int poe__explain_usage(const poe_kernel *k, int err,
                                                             const char *fmt, ...);
#define POE_CHECK_SESSION(k, cond, err)                                              \
        do {                                                                     \
                if (__builtin_expect(!(cond), 0))                                \
                        return poe__rv((k), poe__outside((k), (err), __func__), __func__); \
        } while (0)

/* Every public call's result passes here: failures go to TRACE_RETVALS
 * and ASSERT_RETVALS, successes cost one predicted branch. */
static inline int poe__rv_at(const poe_kernel *k, const char *file, int line, int r,
                             const char *func)
{
        if (__builtin_expect(r >= 0, 1))
                return r;
        return poe__rv_fail(k, r, func, file, line);
}
#define poe__rv(k, r, func) poe__rv_at((k), NULL, 0, (r), (func))
void poe__assert_session(poe_kernel *k, const poe__session *s);
void poe__resolve_failed(poe_kernel *k, const char *name, poe_sid sid);
const char *poe__loggable(poe_kernel *k, const poe__session *s);
size_t poe__loggable_into(const poe__session *s, char *buf, size_t size);
const char *poe__reason_name(int r);
void poe__debug_text_line(poe_kernel *k, const poe_trace_record *r);

/* trace.c */
void poe__trace(poe_kernel *k, poe_trace_record *r, poe__session *s, const poe__session *sender,
                poe__session *peer);
void poe__trace_hot_slow(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s,
                         uint32_t event, const poe__session *sender, poe__session *peer,
                         uint64_t event_id, int64_t now, int64_t a0, int64_t a1, int64_t a2,
                         int64_t a3, double num);
void poe__trace_redefine_all(poe_kernel *k);
bool poe__trace_shed_slow(poe_kernel *k, uint32_t group);
void poe__trace_shed_flush(poe_kernel *k);
void poe__trace_slot_idle(poe_kernel *k);
void poe__trace_slot_stamp(poe_kernel *k);

/* A record of group counted in the shedding slot r (poe_trace_slot_fn):
 * in the common case a compare of the group, one of the count with the
 * sink's budget, and a store; the slot handed back (poe__trace_shed_slow)
 * when it is fresh, full, or counts another group. */
static inline __attribute__((always_inline)) bool poe__trace_shed(poe_kernel *k, poe_trace_record *r,
                                                                 uint32_t group)
{
        uint64_t n = r->event_id + 1;

        if (__builtin_expect(r->group == group && n < (uint64_t)r->arg.i[0], 1)) {
                r->event_id = n;
                return true;
        }
        return poe__trace_shed_slow(k, group);
}

/* Has id (an interned name, or anything else: no) to be defined to the
 * sinks before a record of this epoch uses it? */
static inline bool poe__trace_name_new(const poe_kernel *k, uint64_t id, uint32_t epoch)
{
        return id < k->n_names && k->name_epochs[id] != epoch;
}

/* Does a record of this kind always name an interned event?  Those
 * about a queue item do (enqueue, dispatch, return, discard): their
 * event's id needs no bounds check. */
static inline bool poe__trace_names_item(uint32_t kind)
{
        return kind == POE_TK_ENQUEUE || kind == POE_TK_DISPATCH || kind == POE_TK_RETURN ||
               kind == POE_TK_DISCARD;
}

/* A field of a slot, which arrives zeroed: stored unless it is a
 * constant zero (a double's too: no trace point passes -0.0). */
#define POE__SLOT_SET(field, v)                                                   \
        do {                                                                      \
                if (!__builtin_constant_p(v) || (v) != 0)                         \
                        (field) = (v);                                            \
        } while (0)

/*
 * The frequent kinds' record, at time now (0: the clock is read last,
 * by poe__trace_slot_stamp, where nothing is left to save around it),
 * written straight into the slot the slot sink lent, when there is one,
 * the record's group goes to that sink alone, and nothing the record
 * names needs a definition first: the usual case.  Only the fields that
 * are not zero are written (a slot arrives zeroed), and not wall, which
 * the sink reckons (see poe_trace_slot_fn); then the sink keeps the
 * record and lends the next slot.  A shedding slot (POE_TK_SHED) counts
 * the record by its group, and no clock is read for it.  Returns false,
 * having done nothing, otherwise: the caller
 * then goes the general way (poe__trace_hot_slow), which gives the record
 * the same fields (trace.c's finish()), defines what it names, and hands
 * it to the text lines and every sink (the slot sink in its slot).
 *
 * Inline, so that the trace point's constants fold; the sink's call is
 * the last thing done, so the trace point needs no stack frame for it.
 * Cost: see docs/performance.md (bench/trace-cost.sh).
 */
static inline __attribute__((always_inline)) bool
poe__trace_fill_slot(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s, uint32_t event,
                     const poe__session *sender, poe__session *peer, uint64_t event_id, int64_t now,
                     int64_t a0, int64_t a1, int64_t a2, int64_t a3, double num)
{
        poe_trace_record *r = k->trace_slot;
        uint32_t epoch = k->trace_epoch;
        poe_sid sid = 0, sender_id = 0;
        uint32_t refcount = 0, session_name = 0, peer_name = 0;
        uint64_t queue_length;

        /* A slot lent (poe__trace_shed_first has seen that it is not a
         * shedding slot), the group the slot sink's alone, everything
         * the record names defined in this epoch. */
        if (__builtin_expect(!r || !(k->trace_solo & group), 0))
                return false;
        if (__builtin_expect((s && s->log_epoch != epoch) || (peer && peer->log_epoch != epoch), 0))
                return false;
        if (__builtin_expect(poe__trace_names_item(kind) ? k->name_epochs[event] != epoch
                                                         : poe__trace_name_new(k, event, epoch),
                             0))
                return false;
        if (kind == POE_TK_WAIT && poe__trace_name_new(k, (uint64_t)a0, epoch))
                return false;
        /* Everything read before anything is written: the slot could be
         * anywhere, as far as the compiler knows. */
        if (s) {
                sid = s->id;
                refcount = s->refcnt;
                session_name = s->log_serial;
        }
        if (sender)
                sender_id = sender->id;
        if (peer)
                peer_name = peer->log_serial;
        queue_length = k->queue_count;
        POE__SLOT_SET(r->mono_ns, now);
        POE__SLOT_SET(r->event_id, event_id);
        POE__SLOT_SET(r->session, sid);
        POE__SLOT_SET(r->sender, sender_id);
        r->queue_length = queue_length;
        r->group = group;
        r->kind = (uint16_t)kind;
        r->event = event;
        POE__SLOT_SET(r->refcount, refcount);
        POE__SLOT_SET(r->session_name, session_name);
        POE__SLOT_SET(r->peer_name, peer_name);
        r->epoch = epoch;
        POE__SLOT_SET(r->arg.i[0], a0);
        POE__SLOT_SET(r->arg.i[1], a1);
        POE__SLOT_SET(r->arg.i[2], a2);
        POE__SLOT_SET(r->arg.i[3], a3);
        POE__SLOT_SET(r->num, num);
        if (now)
                k->trace_slot_fn(k->trace_slot_ctx, &k->trace_slot);
        else
                poe__trace_slot_stamp(k);
        return true;
}

/* A trace point's first look, before it prepares its record: while the
 * slot sink sheds (the kernel holds its shedding slot) and the group is
 * that sink's alone, the record is counted there (poe__trace_shed), and
 * that is all.  False otherwise, and then the slot held, if any, is not
 * a shedding slot: the record is filled in it (poe__trace_fill_slot) or
 * goes the general way.  Not inside a sink (the caller looks). */
static inline __attribute__((always_inline)) bool poe__trace_shed_first(poe_kernel *k,
                                                                       uint32_t group)
{
        poe_trace_record *r = k->trace_slot;

        if (__builtin_expect(!r || r->kind != POE_TK_SHED, 1) || !(k->trace_solo & group))
                return false;
        return poe__trace_shed(k, r, group);
}

/* The frequent kinds' record in the slot held, shed or filled (see
 * poe__trace_fill_slot); false when it must go the general way. */
static inline __attribute__((always_inline)) bool
poe__trace_in_slot(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s, uint32_t event,
                   const poe__session *sender, poe__session *peer, uint64_t event_id, int64_t now,
                   int64_t a0, int64_t a1, int64_t a2, int64_t a3, double num)
{
        return poe__trace_shed_first(k, group) ||
               poe__trace_fill_slot(k, group, kind, s, event, sender, peer, event_id, now, a0, a1,
                                    a2, a3, num);
}

/* The frequent kinds' record (POE_TRACE_HOT), in a slot or the general
 * way.  now is the time if the trace point read the clock, else 0: the
 * record reads it then, unless it is shed. */
static inline __attribute__((always_inline)) void
poe__trace_hot(poe_kernel *k, uint32_t group, uint32_t kind, poe__session *s, uint32_t event,
               const poe__session *sender, poe__session *peer, uint64_t event_id, int64_t now,
               int64_t a0, int64_t a1, int64_t a2, int64_t a3, double num)
{
        if (!poe__trace_in_slot(k, group, kind, s, event, sender, peer, event_id, now, a0, a1, a2,
                                a3, num))
                poe__trace_hot_slow(k, group, kind, s, event, sender, peer, event_id, now, a0, a1,
                                    a2, a3, num);
}

/* A session's aliases changed: its loggable name gets a new serial. */
static inline void poe__trace_aliases_changed(poe__session *s)
{
        s->log_serial = 0;
        s->log_epoch = 0;
}

/* kernel.c */
void poe__make_id(poe_kernel *k);
void poe__warn(poe_kernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
