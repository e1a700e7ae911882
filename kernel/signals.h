/*
 * Signals and child processes (signals.c, signals-os.c, children.c):
 * watchers of POE's signals and of pids, and the OS signals behind them.
 */
#include "internal.h"

#ifndef POE_SIGNALS_H_PART
#define POE_SIGNALS_H_PART

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

/* Signals: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__SIGNALS_PART                                                     \
        /* Child processes and OS signals. */                                 \
        poe__list pidwatches; /* every poe__pidwatch */                       \
        size_t n_pidwatches;                                                  \
        bool chld_active;     /* SIGCHLD caught or polled for */              \
        bool has_child_procs; /* the last reap left children running */       \
        int64_t chld_poll_due; /* monotonic ns of the next reap, or -1 */     \
        int sig_slot;         /* this kernel's row in the OS-signal table */  \
        int sig_pipe[2];                                                      \
        bool sig_ready;       /* the signal pipe was reported readable */     \
        /* POE's compile-time constants, read from the environment once. */   \
        bool use_sigchld;        /* POE_USE_SIGCHLD, default on */            \
        bool use_signal_pipe;    /* POE_USE_SIGNAL_PIPE, default on */        \
        double child_poll_interval; /* POE_CHILD_POLLING_INTERVAL, 1 s */     \
        /* The signal being dispatched (POE's kr_signal_* locals). */         \
        int sig_handled;                                                      \
        bool in_signal;                                                       \
        uint32_t *sig_watchers; /* per interned name: sessions watching it */ \
        uint32_t cap_sig_watchers;

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_SIGNALS_H)
#define POE_SIGNALS_H

#include "events.h"
#include "sessions.h"

/*
 * A signal's walk (signals.c's poe__signal_dispatch): the sessions it
 * touches, collected breadth first and visited from the last (POE's
 * descendants first), each pinned; the position, which a die that lands
 * in the signal's frame resumes after; and the one delivery every
 * watcher's dispatch fills in, whose fields common to all of them (the
 * kernel as sender, the kind, the signal's file and line) are set once.
 */
typedef struct poe__sigwalk {
        poe__delivery d;
        poe__session **touched;
        int w;          /* the next to visit, down to 0 */
        uint32_t sig;   /* the signal's name id: never POE__NO_NAME here */
        bool idle_watch; /* IDLE, and the kernel's session watches it */
        poe__event *ev; /* the signal: its name ARG0, then its arguments */
} poe__sigwalk;

/* s's watcher of signal, or NULL.  O(the signals s watches): a handful. */
static inline poe__sigwatch *poe__sigwatch_find(poe__session *s, uint32_t signal)
{
        poe__list_node *pos;

        poe__list_foreach(pos, POE__MORE_LIST(s, sigwatch))
        {
                poe__sigwatch *w = poe__container_of(pos, poe__sigwatch, in_session);

                if (w->signal == signal)
                        return w;
        }
        return NULL;
}

/* events.c: the walk's deliveries, from its position on. */
void poe__dispatch_signal(poe_kernel *k, poe__sigwalk *r);

/* signals.c */
void poe__signal_dispatch(poe_kernel *k, poe__event *ev);
/* The walk's rarer cases, out of its loop: the kernel's own IDLE
 * watcher, and a watcher with arguments, whose copy goes in r->d.ev
 * (false: out of memory, warned, not delivered); and that copy's end. */
void poe__signal_kernel_idle(poe_kernel *k, poe__sigwalk *r);
bool poe__signal_args_copy(poe_kernel *k, poe__sigwalk *r, const poe__sigwatch *w);
void poe__signal_delivery_done(poe_kernel *k, poe__sigwalk *r);
void poe__signals_clear_session(poe_kernel *k, poe__session *s);
void poe__test_if_idle(poe_kernel *k);
void poe__kernel_invoke(poe_kernel *k, uint32_t name, uint32_t type, poe_value *args,
                        size_t nargs);
void poe__kernel_signal_name(poe_kernel *k, const char *name);
void poe__kernel_signal_args(poe_kernel *k, const char *name, int64_t a, int64_t b);

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

#endif
