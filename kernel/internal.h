/*
 * Internal declarations shared by the kernel's files.  Nothing here is
 * public: cross-file symbols carry the poe__ prefix and are hidden by
 * -fvisibility=hidden.
 *
 * This header keeps what every file needs: the argument checks and
 * debug switches' test, the event types and predefined names, the
 * session and the event, struct poe_kernel, memory, interned names,
 * values, and the public boundary's error paths.  Each resource has a
 * header of its own for the rest (sessions.h, aliases.h, queue.h,
 * clock.h, io.h, xthread.h, events.h, exceptions.h, signals.h,
 * postbacks.h, debug.h, trace.h; slice.h, with no part, says what a
 * timeslice has to do besides dispatching), and a file includes the
 * ones it touches, after this one.
 *
 * struct poe_kernel is made of those resources' parts.  Each header
 * declares its part as a macro of field declarations, with their
 * comments (POE__QUEUE_PART in queue.h, ...), and the kernel holds each
 * part as an anonymous struct member:
 *
 *     struct poe_kernel {
 *             ...
 *             struct { POE__QUEUE_PART };
 *
 * Standard C11, and a field is still reached as it always was
 * (k->fifo): a named member (k->queue.fifo) or a tagged struct per part
 * would have changed every access, and an anonymous member of a tagged
 * type is an extension (-fms-extensions).  A part's fields stay
 * together in their own struct, in the order its header gives them.
 *
 * A part must be known before struct poe_kernel, and the rest of its
 * header (inline code that reads k->...) after it; so each resource
 * header has two halves: the part, which internal.h includes first with
 * POE__PARTS_ONLY defined, and the rest, which only a file's own
 * #include reaches.  Either half is guarded on its own, so the headers
 * may be included in any order.
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

/* A public-boundary check that ASSERT_USAGE makes fatal.  The _AT forms
 * are for the *_at functions, which know their caller's file and line. */
#define POE_CHECK(k, cond, err) POE_CHECK_AT(k, NULL, 0, cond, err)
#define POE_CHECK_AT(k, file, line, cond, err)                                    \
        do {                                                                      \
                if (__builtin_expect(!(cond), 0))                                 \
                        return poe__usage((k), (err), #cond, __func__, (file), (line)); \
        } while (0)

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
        /* Not a kind: in an event's type, its block is a short one
         * (struct poe__event).  A dispatch passes it on with the kind,
         * which is harmless: a timer's is tested by its bit. */
        POE__EV_SHORT = 0x8000,
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
typedef struct poe__htable poe__htable;
typedef struct poe__alias poe__alias;
typedef struct poe__session_more poe__session_more;

/*
 * A session: 168 bytes (a 176-byte block from malloc) with everything an
 * idle session needs; the rest in s->more.  Layout by use: what a
 * signal's walk touches in each session (the tree links and the pin
 * collecting it, then what each delivery reads and counts) in its first
 * 80 bytes, which are two cache lines wherever malloc's 16-byte aligned
 * block starts; the rest after.  A signal to the kernel walks every
 * session, so this is lines per session (signal_fanout: three or four
 * before, when the pin, the liveness and the counts were spread out).
 */
struct poe__session {
        poe_sid id;
        poe__session *parent;
        poe__list_node sibling; /* in parent->more->children */
        uint32_t pins;          /* dispatches under way + 1 while alive */
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
        poe__htable *handlers; /* shared (see poe__htable); an NFA's: those state() adds */
        poe__session_more *more;
        uint64_t dispatched;
        int64_t busy_ns; /* time in its top-level dispatches (poe__busy_settle) */
        int64_t last_ns; /* k->now at its last dispatch; 0: none yet */
        /* k->gc_marked while marked, the sweep's snapshot while in it
         * (a session the running sweep holds is not marked again, but
         * remarked: see poe__gc_mark). */
        poe__list_node gc_link;
        void *heap;
        poe__alias *aliases; /* sorted by name */
        /* Its pending alarms, by poe__event.link in the order set, once
         * k->timers_listed (queue.c: poe__timers_list). */
        poe__list timers;
        int64_t created_ns; /* the coarse clock when made (poe__coarse) */
        /* The counts of events, children, aliases and timers; the other
         * reasons' are in s->more (poe__reason_slot). */
        uint32_t reasons[POE__REASONS_IN_CORE];
        uint32_t refcnt; /* the sum of every reason's count */
        /* Its loggable name's serial in trace records (0: to be given,
         * after a change of aliases), and the definition epoch it was
         * last defined to the sinks in (trace.c). */
        uint32_t log_serial;
        uint32_t log_epoch;
};

#define POE__RARE_KERNEL   1
#define POE__RARE_IN_SWEEP 2
#define POE__RARE_NFA      4
#define POE__RARE_TRACE    8
#define poe__in_sweep(s)   (((s)->rare & POE__RARE_IN_SWEEP) != 0)

/*
 * A queued event: 72 bytes, followed by its arguments and their strings
 * and lists in the same allocation.  Argumentless events, most of them,
 * come from per-kernel free lists (see events.c).  Fields only one kind
 * needs share space: a post names its sender, an alarm is always from
 * its own session and keeps POE's walltime + delta instead.
 *
 * An argumentless timer set while no session's timer list is kept is in
 * no list (queue.c: poe__timers_list), so its block is a short one, the
 * event without its link: 56 bytes, POE__EV_SHORT in its type.  Its
 * pointer is the block's address less the link's 16 bytes, so that
 * every other field is where a full block has it; the link, which would
 * be the block before's memory, is never touched.  Making the lists
 * moves every pending short timer to a full block.
 */
struct poe__event {
        /* First what removing a timer by id touches (its id, session,
         * heap position and kind; the link too once the lists are kept),
         * in 40 bytes, so that it is one cache line more often than not. */
        /* Posts: k->fifo; alarms: the destination's timers, once the lists
         * are kept.  Not in a short block. */
        poe__list_node link;
        union {
                uint64_t seq;          /* POE's queue item id; alarm ids */
                poe__event *free_next; /* a free block's: the next free one */
        };
        poe__session *to;
        uint32_t heap_index; /* alarms: position in the timer heap */
        /* Read as one word where both are tested at once (events.c:
         * poe__event_free). */
        union {
                struct {
                        uint16_t type;  /* POE__ET_*, and POE__EV_SHORT */
                        uint16_t nargs; /* POE__EV_MANY: the count is stored before the args */
                };
                uint32_t type_nargs;
        };
        int64_t due;    /* monotonic ns */
        union {
                poe__session *from; /* posts */
                double time;        /* alarms: POE's EV_WALLTIME + EV_DELTA (0 if undef) */
        } u;
        uint32_t name;
        uint32_t from_state;
        int32_t line;
        uint32_t file; /* interned caller file */
};

#define POE__EV_MANY UINT16_MAX

/* The link's size (a short block's address less its event's), and a
 * short block's size. */
#define POE__EV_LINK_SIZE  offsetof(struct poe__event, seq)
#define POE__EV_SHORT_SIZE (sizeof(struct poe__event) - POE__EV_LINK_SIZE)

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

#define POE__PARTS_ONLY
#include "sessions.h"
#include "aliases.h"
#include "queue.h"
#include "clock.h"
#include "io.h"
#include "xthread.h"
#include "events.h"
#include "exceptions.h"
#include "signals.h"
#include "postbacks.h"
#include "debug.h"
#undef POE__PARTS_ONLY

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

        struct { POE__SESSIONS_PART };
        struct { POE__ALIASES_PART };
        struct { POE__QUEUE_PART };
        struct { POE__CLOCK_PART };
        struct { POE__IO_PART };
        struct { POE__XTHREAD_PART };
        struct { POE__EVENTS_PART };
        struct { POE__EXCEPTIONS_PART };
        struct { POE__SIGNALS_PART };
        struct { POE__POSTBACKS_PART };
        struct { POE__DEBUG_PART };

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
        /* run()'s loop is under way (not run_one_timeslice's, nor a host
         * loop's): a slice's end may begin the next (events.c,
         * poe__dispatch_resume). */
        bool run_slicing;
        /* POE's kr_pid: the process the kernel last knew it ran in.  In
         * a child that has forked (has_forked, or implied by stop() or
         * run()), stop() from a handler lets run() nest in that handler
         * (rerun_depth is the dispatch depth it may nest at), as a
         * Wheel::Run code program runs the kernel it inherited. */
        pid_t pid;
        bool forked;
        int rerun_depth;
};

/* run() gives up with -ENOMEM after this many timeslices in a row
 * without memory for the IDLE or ZOMBIE signal that would end it (at one
 * retry per 10 ms, about a second). */
#define POE__RAISE_TRIES 100

/* alloc.c */
void *poe__malloc(poe_kernel *k, size_t n);
void *poe__calloc(poe_kernel *k, size_t n, size_t size);
void *poe__realloc(poe_kernel *k, void *p, size_t n);
void poe__prefault(void *p, size_t n);
void poe__free(poe_kernel *k, void *p);
char *poe__strdup(poe_kernel *k, const char *s);

/* names.c */
uint32_t poe__intern(poe_kernel *k, const char *name); /* POE__NO_NAME on ENOMEM */
uint32_t poe__name_find(const poe_kernel *k, const char *name);
uint32_t poe__intern_miss(poe_kernel *k, const char *name, poe__name_cache *entry);

/* poe__intern through one entry of an address cache: a hit is the
 * address compared and the content checked (so a reused buffer is never
 * mistaken), a miss interns and fills the entry (miss finds the entry
 * again from the address, so that only the id is kept across the
 * strcmp: call_chain 2, yield_chain 8 instructions fewer).  POE__NO_NAME
 * on ENOMEM. */
static inline __attribute__((always_inline)) uint32_t
poe__intern_at(poe_kernel *k, const poe__name_cache *entry, const char *name,
               uint32_t (*miss)(poe_kernel *, const char *))
{
        uint32_t id = entry->id;

        if (__builtin_expect(entry->ptr == name, 1) && __builtin_strcmp(k->names[id], name) == 0)
                return id;
        return miss(k, name);
}

/* The name cache's entry for an address, and its miss (names.c). */
static inline poe__name_cache *poe__name_cache_entry(poe_kernel *k, const char *name)
{
        return &k->name_cache[((uintptr_t)name >> 3) & 63];
}
uint32_t poe__intern_cached_miss(poe_kernel *k, const char *name);

/* poe__intern for names given again and again (post's event names). */
static inline uint32_t poe__intern_cached(poe_kernel *k, const char *name)
{
        return poe__intern_at(k, poe__name_cache_entry(k, name), name, poe__intern_cached_miss);
}

/* Interns a caller's file name; NULL is "".  A few files, so few slots. */
static inline poe__name_cache *poe__file_cache_entry(poe_kernel *k, const char *file)
{
        return &k->file_cache[((uintptr_t)file >> 4) & 3];
}
uint32_t poe__file_miss(poe_kernel *k, const char *file);

static inline uint32_t poe__file(poe_kernel *k, const char *file)
{
        if (!file)
                file = "";
        return poe__intern_at(k, poe__file_cache_entry(k, file), file, poe__file_miss);
}

/* The kernel's own file for an event it queues: "" if out of memory. */
static inline uint32_t poe__kfile(poe_kernel *k, const char *file)
{
        uint32_t id = poe__file(k, file);

        return id == POE__NO_NAME ? POE__N_EMPTY : id;
}

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
/* debug.c: the public boundary's checks */
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

/* kernel.c */
void poe__make_id(poe_kernel *k);
void poe__warn(poe_kernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
