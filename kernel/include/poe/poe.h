/*
 * libpoe: Perl's POE event kernel, rebuilt in C.
 *
 * This is the one public header of the kernel library.  Every function
 * maps to the POE::Kernel or POE::Session method of the same name
 * (poe_kernel_post is $kernel->post, poe_kernel_alias_set is
 * $kernel->alias_set, and so on); `perldoc POE::Kernel` is the reference
 * for behaviour, and the comments here say where libpoe differs.
 *
 * Conventions, for every function below unless its comment says otherwise:
 *  - Errors are negative errno values (POE's $!): -ESRCH for a session or
 *    alias that does not exist, -EEXIST, -EPERM, -EINVAL for bad
 *    parameters, -ENOMEM when an allocation failed.  Zero or a positive
 *    value means success.  Output parameters (ret_*) are written only on
 *    success.
 *  - Sessions are named by id (poe_sid), never by pointer.  A stale id is
 *    an error (-ESRCH), not a crash.  POE_KERNEL (0) names the kernel
 *    itself, which is the sender of events posted from outside any
 *    handler and the parent of top-level sessions.
 *  - Strings passed in are borrowed for the duration of the call and
 *    copied if kept.  Strings returned are owned by the kernel and valid
 *    until the next call into the same kernel, unless noted.
 *  - The kernel is single-threaded: call it from the thread that runs it.
 */
#ifndef POE_POE_H
#define POE_POE_H

#include <stddef.h>
#include <stdint.h>

#include <poe/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define POE_EXPORT __attribute__((visibility("default")))
#else
#define POE_EXPORT
#endif

/** A kernel.  Opaque; many may exist in one process. */
typedef struct poe_kernel poe_kernel;

/** What a handler receives: POE's @_.  Opaque; read it with poe_ctx_*. */
typedef struct poe_ctx poe_ctx;

/** A session id.  POE numbers sessions 1, 2, 3, ... and never reuses one. */
typedef uint64_t poe_sid;

/** The kernel's own session id: the sender of events from outside
 * handlers, the parent of top-level sessions, a signal target. */
#define POE_KERNEL ((poe_sid)0)

/* ------------------------------------------------------------------ */
/* Version                                                            */
/* ------------------------------------------------------------------ */

/* poe/version.h, included above, gives the headers' version:
 * POE_VERSION_MAJOR, POE_VERSION_MINOR, POE_VERSION_PATCH,
 * POE_VERSION_STRING, POE_VERSION_NUMBER, POE_VERSION_ENCODE and
 * POE_VERSION_AT_LEAST.  These two give the library's, which is at least
 * the headers' when the program runs with the same soname (README: ABI
 * policy). */

/** The version of the library the program runs with, as one number
 * (POE_VERSION_ENCODE): compare it with POE_VERSION_NUMBER or with
 * POE_VERSION_ENCODE(0, 2, 0). */
POE_EXPORT unsigned poe_version(void);

/** The version of the library the program runs with, as a string,
 * "MAJOR.MINOR.PATCH".  Static: never freed. */
POE_EXPORT const char *poe_version_string(void);

/* ------------------------------------------------------------------ */
/* Values: event arguments and handler return values                   */
/* ------------------------------------------------------------------ */

/** The kinds of poe_value. */
typedef enum poe_type {
        POE_T_NIL = 0,  /* Perl's undef */
        POE_T_INT,      /* 64-bit signed integer */
        POE_T_DOUBLE,   /* double */
        POE_T_STR,      /* string with a length (may hold NULs) */
        POE_T_PTR,      /* pointer, with an optional destructor */
        POE_T_SESSION,  /* a session id */
        POE_T_LIST,     /* an array of values (POE's array reference) */
} poe_type;

/**
 * A small tagged value.  It is the one public struct with a layout,
 * because values are built on the stack and passed by value, as in POE
 * where @_ holds scalars.
 *
 * Ownership: when a value is posted (post, yield, signal, create's start
 * arguments) the kernel copies strings and lists into the event, in the
 * same allocation.  A POE_T_PTR with a destructor is *stolen*: the kernel
 * calls the destructor when the event is done with (after dispatch, or
 * when the event is discarded), and also when the call that was given it
 * fails.  A handler that wants to keep such a pointer takes it with
 * poe_ctx_take_arg().
 */
typedef struct poe_value {
        poe_type type;
        uint32_t len; /* bytes of a string, items of a list */
        union {
                int64_t i;
                double d;
                const char *s;
                struct {
                        void *p;
                        void (*destroy)(void *p);
                } ptr;
                poe_sid sid;
                const struct poe_value *list;
        } u;
} poe_value;

/** Constructors.  They allocate nothing; strings and lists are borrowed
 * until the value is handed to the kernel, which copies them. */
POE_EXPORT poe_value poe_nil(void);
POE_EXPORT poe_value poe_int(int64_t i);
POE_EXPORT poe_value poe_double(double d);
/** A NUL-terminated string; NULL gives nil. */
POE_EXPORT poe_value poe_str(const char *s);
/** A string of len bytes. */
POE_EXPORT poe_value poe_strn(const char *s, size_t len);
/** A pointer; destroy (may be NULL) is called once when the kernel is done
 * with the value, unless a handler took it. */
POE_EXPORT poe_value poe_ptr(void *p, void (*destroy)(void *p));
POE_EXPORT poe_value poe_session(poe_sid sid);
/** A list of n values (borrowed, copied deeply when posted). */
POE_EXPORT poe_value poe_list(const poe_value *items, size_t n);

/** Run a POE_T_PTR value's destructor (if any) and make it nil.  For
 * values the application owns, such as one returned by call(). */
POE_EXPORT void poe_value_release(poe_value *v);

/** Perl-like truth: nil, 0, 0.0, "" and "0" are false. */
POE_EXPORT int poe_value_true(const poe_value *v);

/** The value as an integer (strings are parsed like Perl's numification;
 * nil and non-numbers give 0; doubles are truncated toward zero, NaN is
 * 0 and values beyond int64 saturate). */
POE_EXPORT int64_t poe_value_int(const poe_value *v);

/** The string of a POE_T_STR value, or NULL for any other kind. */
POE_EXPORT const char *poe_value_str(const poe_value *v);

/** Writes the value as text, the way Perl would print it, into buf
 * (always NUL-terminated when size > 0).  Returns the length the full
 * text has, like snprintf.  nil prints as "", a list as its items
 * between brackets and separated by spaces ("[a b c]"), a session as its
 * id, a pointer as "PTR(0x...)". */
POE_EXPORT int poe_value_format(const poe_value *v, char *buf, size_t size);

/* Build an argument array inline: poe_kernel_post(k, sid, "ev",
 * POE_ARGS(poe_int(1), poe_str("x"))).  C only (compound literals). */
#define POE_ARGV(...) ((const poe_value[]){ __VA_ARGS__ })
#define POE_ARGC(...) (sizeof(POE_ARGV(__VA_ARGS__)) / sizeof(poe_value))
#define POE_ARGS(...) POE_ARGV(__VA_ARGS__), POE_ARGC(__VA_ARGS__)
#define POE_NOARGS ((const poe_value *)0), ((size_t)0)

/* ------------------------------------------------------------------ */
/* The kernel                                                          */
/* ------------------------------------------------------------------ */

/** Every allocation the kernel makes goes through these three functions,
 * so tests can fail them one by one.  realloc(p, 0) is never called. */
typedef struct poe_allocator {
        void *(*malloc)(size_t size, void *ctx);
        void *(*realloc)(void *p, size_t size, void *ctx);
        void (*free)(void *p, void *ctx);
        void *ctx;
} poe_allocator;

/**
 * Creates a kernel.  alloc may be NULL for libc's allocator; it is copied.
 * Reads the POE_* environment once (see README).  Returns 0 and the
 * kernel in *ret_kernel, or -ENOMEM.
 */
POE_EXPORT int poe_kernel_new(poe_kernel **ret_kernel, const poe_allocator *alloc);

/**
 * The process-wide default kernel, created on first use, like POE's
 * $poe_kernel.  NULL only if it could not be allocated.  Not thread-safe
 * on first call.  It is never freed; at exit it gives poe_kernel_free's
 * warning about run() when that applies.
 */
POE_EXPORT poe_kernel *poe_kernel_default(void);

/**
 * Frees a kernel and everything it still holds: sessions are freed
 * without _stop being dispatched (as when a Perl program exits), queued
 * events are discarded and their pointer arguments destroyed.  Must not
 * be called from inside a handler.  Takes NULL; returns NULL.  As POE's
 * kernel does when it is destroyed, warns on stderr ("Sessions were
 * started, but POE::Kernel's run() method was never called ...") if
 * sessions were created since the last poe_kernel_stop() and
 * poe_kernel_run() was never called.
 */
POE_EXPORT poe_kernel *poe_kernel_free(poe_kernel *k);

/** A kernel hook's first half: called by poe_kernel_new for each kernel
 * it makes, with the data given to poe_kernel_hook_add.  What it returns
 * (NULL too) is kept with that kernel and given back to the second half. */
typedef void *(*poe_kernel_new_hook_fn)(poe_kernel *k, void *data);

/** A kernel hook's second half: called by poe_kernel_free with what the
 * first half returned for that kernel, and the hook's data. */
typedef void (*poe_kernel_free_hook_fn)(poe_kernel *k, void *state, void *data);

/**
 * Registers a hook that every kernel made from now on runs: on_new when
 * poe_kernel_new (or poe_kernel_default) has made the kernel, on the
 * thread that made it, just before it returns (the kernel is whole; on_new
 * may call into it, but must not free it); on_free, which may be NULL,
 * first thing in poe_kernel_free, with what on_new returned.  Hooks run
 * in the order they were added and are undone in the reverse order.  This
 * is how a library hooks into kernels it did not make: libpoe-inspector
 * adds one from a constructor when it is loaded, which starts an
 * inspector in any kernel made with POE_INSPECTOR in the environment.
 *
 * Any thread may call it at any time, a constructor running before main
 * too (the list is guarded by a mutex, and hooks are called without it
 * held, so a hook may add or remove hooks).  A kernel being made on
 * another thread meanwhile may or may not run the new hook.  Nothing is
 * copied but the three values; data is borrowed until the hook is
 * removed and every kernel that ran it is freed.
 *
 * Returns 0, -EINVAL if on_new is NULL, -EEXIST if the same three values
 * are registered already, or -ENOSPC if 8 hooks are registered.
 */
POE_EXPORT int poe_kernel_hook_add(poe_kernel_new_hook_fn on_new, poe_kernel_free_hook_fn on_free,
                                   void *data);

/**
 * Removes the hook poe_kernel_hook_add registered with the same three
 * values: no kernel made after it returns runs it.  Kernels that ran its
 * on_new still run its on_free when freed, so its functions and data must
 * stay valid until they are (a library unloaded by dlclose must free the
 * kernels it hooked first).  Any thread, any time, as poe_kernel_hook_add.
 * Returns 0, -EINVAL if on_new is NULL, or -ENOENT if no such hook is
 * registered.
 */
POE_EXPORT int poe_kernel_hook_remove(poe_kernel_new_hook_fn on_new,
                                      poe_kernel_free_hook_fn on_free, void *data);

/**
 * Runs until no sessions remain, as POE::Kernel->run.  Returns 0, or
 * -EPERM if called from inside a handler.  Returns at once when there
 * are no sessions.  May be called again after it returns.  Returns
 * -ENOMEM, leaving the sessions in place, when for 100 timeslices in a
 * row (about a second) there was no memory for the IDLE or ZOMBIE
 * signal that would end them; a later run tries again.  Returns
 * -ECANCELED when a handler's die was not handled (POE rethrows it):
 * the message is in poe_kernel_exception(), and run() may be called
 * again; ASSERT_RETVALS does not treat this as a failed call.
 *
 * One handler may run the kernel: in a forked child (a pid other than
 * the kernel's, or after poe_kernel_has_forked), the handler that
 * forked may poe_kernel_stop() the kernel it inherited, create
 * sessions and call run() (or run_one_timeslice()) from where it is,
 * as a POE::Wheel::Run code program does; the handler's own dispatch
 * is put aside until run() returns, and the child then normally exits.
 * As in POE, run() in a process whose pid changed implies has_forked.
 */
POE_EXPORT int poe_kernel_run(poe_kernel *k);

/**
 * Runs one timeslice: checks for idleness, waits for the next due
 * event, dispatches every event due at the start of the slice, then
 * stops sessions that ran out of work.  Returns 1 if sessions remain, 0
 * once none do (the kernel is then finalized, as POE does), -EPERM
 * from inside a handler (but see run() for a forked child's), -ECANCELED
 * as run(), or -ENOMEM as run() gives up.
 */
POE_EXPORT int poe_kernel_run_one_timeslice(poe_kernel *k);

/**
 * Runs timeslices while *flag is non-zero and sessions remain, as
 * POE::Kernel->run_while(\$flag).  Returns as run_one_timeslice's last
 * result (0 when the kernel ran out of sessions, 1 when the flag went to
 * zero first), or -ENOMEM as run() gives up.
 */
POE_EXPORT int poe_kernel_run_while(poe_kernel *k, const volatile int *flag);

/**
 * Stops every session at once, as POE::Kernel->stop: each gets _stop
 * (deepest descendants first), nothing else is dispatched, and run()
 * returns at the end of the current timeslice.  Safe inside a handler;
 * the running handler finishes normally.  In a process whose pid is not
 * the kernel's it implies poe_kernel_has_forked(), and in a forked
 * child's handler it lets that handler run the kernel again (see
 * poe_kernel_run).
 */
POE_EXPORT void poe_kernel_stop(poe_kernel *k);

/** The session whose handler is running, or POE_KERNEL outside handlers. */
POE_EXPORT poe_sid poe_kernel_get_active_session(const poe_kernel *k);

/** The name of the event being dispatched, or "" outside handlers. */
POE_EXPORT const char *poe_kernel_get_active_event(const poe_kernel *k);

/** The number of events in the queue (POE's get_event_count). */
POE_EXPORT size_t poe_kernel_get_event_count(const poe_kernel *k);

/** The kernel's unique id string, as POE's $kernel->ID
 * ("hostname-hexmonotime-hexpid-hexseq").  Valid while the kernel is. */
POE_EXPORT const char *poe_kernel_id(const poe_kernel *k);

/* ------------------------------------------------------------------ */
/* Sessions and handlers                                               */
/* ------------------------------------------------------------------ */

/** A handler: POE's inline/object/package state.  Its return value goes
 * to call()'s caller, or with _start/_stop to the parent's _child. */
typedef poe_value (*poe_handler_fn)(poe_ctx *c);

/** One (event name, function, object) triple.  object is passed through
 * to the handler as poe_ctx_object(): POE's object_states. */
typedef struct poe_handler {
        const char *event;
        poe_handler_fn fn;
        void *object;
} poe_handler;

/** A session option: name and value, as POE::Session's options hash. */
typedef struct poe_option {
        const char *name;
        poe_value value;
} poe_option;

/**
 * What poe_session_create needs.  A plain input struct: zero it, fill in
 * what you use.  Arrays are borrowed for the duration of the call.
 */
typedef struct poe_session_spec {
        const poe_handler *handlers; /* n_handlers of them */
        size_t n_handlers;
        const poe_value *args; /* _start's ARG0.. (POE's args) */
        size_t n_args;
        const poe_option *options; /* trace, default, debug, or yours */
        size_t n_options;
        void *heap; /* POE's heap; the kernel never frees it */
} poe_session_spec;

/**
 * Creates a session, as POE::Session->create: allocates its id, makes it
 * a child of the active session (the kernel outside handlers), dispatches
 * _start with the spec's args at once, then _child ("create", id,
 * _start's return value) to the parent.  A session with nothing to do
 * after _start is stopped at the end of the next timeslice.
 *
 * Returns 0 and the new id in *ret_sid (which may be NULL), -EINVAL for
 * a bad spec (NULL handler name or function), -EINVAL with POE's
 * warning "discarding session - no '_start' state" for a spec without a
 * _start handler (no id is used), or -ENOMEM (nothing is created, no
 * event is dispatched).
 */
POE_EXPORT int poe_session_create(poe_kernel *k, const poe_session_spec *spec,
                                  poe_sid *ret_sid);

/**
 * Adds, replaces or removes (fn NULL) the active session's handler for
 * event, as $kernel->state.  Events already queued for a removed handler
 * go to _default when dispatched.  Returns 0, -ESRCH outside a handler
 * (POE's answer when the active session is the kernel), -EINVAL, -ENOMEM.
 */
POE_EXPORT int poe_kernel_state(poe_kernel *k, const char *event, poe_handler_fn fn,
                                void *object);

/**
 * Sets a session option, as $session->option(name => value).  The value
 * is copied; a string "on", "yes" or "true" becomes 1 and "off", "no" or
 * "false" becomes 0, as POE does; nil deletes the option.  The previous
 * value is written to *ret_old (nil if unset) when ret_old is not NULL;
 * the caller owns it only until the next call into the kernel.
 * Returns 0, -ESRCH, -EINVAL, -ENOMEM.
 */
POE_EXPORT int poe_session_option_set(poe_kernel *k, poe_sid sid, const char *name,
                                      poe_value value, poe_value *ret_old);

/** Reads a session option into *ret (nil when unset).  The value is owned
 * by the kernel until the option changes.  Returns 0 or -ESRCH. */
POE_EXPORT int poe_session_option_get(poe_kernel *k, poe_sid sid, const char *name,
                                      poe_value *ret);

/** A session's heap pointer, or NULL if the session does not exist. */
POE_EXPORT void *poe_session_get_heap(poe_kernel *k, poe_sid sid);

/** 0 if the session exists, else -ESRCH (POE's ID_id_to_session). */
POE_EXPORT int poe_kernel_ID_id_to_session(poe_kernel *k, poe_sid sid);

/** The session's parent (POE_KERNEL for top-level sessions) in *ret_parent.
 * Returns 0 or -ESRCH. */
POE_EXPORT int poe_session_get_parent(poe_kernel *k, poe_sid sid, poe_sid *ret_parent);

/**
 * Gives the active session to the kernel, as detach_myself: its parent
 * gets _child("lose") (unless this is _start), it gets _parent(old, kernel).
 * Returns 0, -EPERM if its parent is already the kernel or outside a
 * handler.
 */
POE_EXPORT int poe_kernel_detach_myself(poe_kernel *k);

/**
 * Gives a child of the active session to the kernel, as detach_child.
 * Returns 0, -ESRCH for no such session, -EPERM if it is not a child of
 * the active session or outside a handler.
 */
POE_EXPORT int poe_kernel_detach_child(poe_kernel *k, poe_sid child);

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/*
 * post, yield, call and signal record the caller's file and line, which
 * handlers read with poe_ctx_caller_file/line, as POE's CALLER_FILE and
 * CALLER_LINE.  The poe_kernel_post() etc. macros pass __FILE__ and
 * __LINE__ to the *_at functions; call the *_at functions directly to
 * name another place (a binding for another language, say).
 */

/**
 * Queues event for session dest, as $kernel->post.  args are copied (see
 * poe_value).  The event keeps dest alive until dispatched, and the
 * sender (the active session) too.  Returns 0, -ESRCH if dest does not
 * exist, -EINVAL, -ENOMEM.
 */
POE_EXPORT int poe_kernel_post_at(poe_kernel *k, const char *file, int line, poe_sid dest,
                                  const char *event, const poe_value *args, size_t nargs);
#define poe_kernel_post(k, ...) poe_kernel_post_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** As post, to the session holding alias, resolved now.  -ESRCH if none. */
POE_EXPORT int poe_kernel_post_alias_at(poe_kernel *k, const char *file, int line,
                                        const char *alias, const char *event,
                                        const poe_value *args, size_t nargs);
#define poe_kernel_post_alias(k, ...) \
        poe_kernel_post_alias_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** Posts event to the active session, as $kernel->yield.  Returns 0,
 * -EPERM outside a handler, -EINVAL, -ENOMEM. */
POE_EXPORT int poe_kernel_yield_at(poe_kernel *k, const char *file, int line,
                                   const char *event, const poe_value *args, size_t nargs);
#define poe_kernel_yield(k, ...) poe_kernel_yield_at((k), __FILE__, __LINE__, __VA_ARGS__)

/**
 * Dispatches event to dest at once and writes the handler's return value
 * to *ret (nil when there was no handler), as $kernel->call.  ret may be
 * NULL.  A POE_T_PTR with a destructor in *ret is the caller's to release
 * (poe_value_release).  args are borrowed; pointer arguments with
 * destructors are stolen as with post.  Returns 0, -ESRCH, -EINVAL,
 * -ENOMEM (more than eight arguments are copied to the heap; the
 * handler does not run).
 */
POE_EXPORT int poe_kernel_call_at(poe_kernel *k, const char *file, int line, poe_sid dest,
                                  const char *event, const poe_value *args, size_t nargs,
                                  poe_value *ret);
#define poe_kernel_call(k, ...) poe_kernel_call_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** As call, to the session holding alias.  -ESRCH if none. */
POE_EXPORT int poe_kernel_call_alias_at(poe_kernel *k, const char *file, int line,
                                        const char *alias, const char *event,
                                        const poe_value *args, size_t nargs, poe_value *ret);
#define poe_kernel_call_alias(k, ...) \
        poe_kernel_call_alias_at((k), __FILE__, __LINE__, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Time and timers                                                     */
/* ------------------------------------------------------------------ */

/*
 * Times are epoch seconds with sub-second precision, as POE's (Time::HiRes)
 * time().  Internally the queue runs on the monotonic clock, so stepping
 * the wall clock never reorders or stalls timers.  POE_NO_TIME stands for
 * Perl's undef where POE accepts it (alarm and delay clear with it).
 */
#define POE_NO_TIME (__builtin_nan(""))

/** A timer's id, as returned by alarm_set and delay_set. */
typedef uint64_t poe_alarm_id;

/** The kernel's idea of the current epoch time (real or fake). */
POE_EXPORT double poe_kernel_time(const poe_kernel *k);

/**
 * Switches the kernel to a fake clock starting at epoch time wall_start,
 * for tests: time stands still except through poe_kernel_clock_advance,
 * and when the loop would sleep until the next timer it jumps there.
 * Returns 0, -EINVAL, or -EBUSY while timers are pending.
 */
POE_EXPORT int poe_kernel_clock_fake(poe_kernel *k, double wall_start);

/** Moves the fake clock forward.  Returns 0, -EINVAL, -EPERM (real clock). */
POE_EXPORT int poe_kernel_clock_advance(poe_kernel *k, double seconds);

/**
 * Sets a timer for the active session at epoch time `when`, after
 * removing all of its pending timers of the same event name, as
 * $kernel->alarm.  POE_NO_TIME only clears.  The timer keeps the session
 * alive; ARG0.. are args.  Returns 0, -EPERM outside a handler, -EINVAL,
 * -ENOMEM.
 */
POE_EXPORT int poe_kernel_alarm_at(poe_kernel *k, const char *file, int line, const char *event,
                                   double when, const poe_value *args, size_t nargs);
#define poe_kernel_alarm(k, ...) poe_kernel_alarm_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** As alarm, without clearing others of the same name (alarm_add).
 * POE_NO_TIME is -EINVAL. */
POE_EXPORT int poe_kernel_alarm_add_at(poe_kernel *k, const char *file, int line,
                                       const char *event, double when, const poe_value *args,
                                       size_t nargs);
#define poe_kernel_alarm_add(k, ...) poe_kernel_alarm_add_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** As alarm, `seconds` from now (delay).  POE_NO_TIME only clears. */
POE_EXPORT int poe_kernel_delay_at(poe_kernel *k, const char *file, int line, const char *event,
                                   double seconds, const poe_value *args, size_t nargs);
#define poe_kernel_delay(k, ...) poe_kernel_delay_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** As delay, without clearing others of the same name (delay_add). */
POE_EXPORT int poe_kernel_delay_add_at(poe_kernel *k, const char *file, int line,
                                       const char *event, double seconds, const poe_value *args,
                                       size_t nargs);
#define poe_kernel_delay_add(k, ...) poe_kernel_delay_add_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** Sets a timer at `when` and writes its id to *ret_id (may be NULL), as
 * alarm_set.  Never clears other timers.  Returns 0, -EPERM, -EINVAL,
 * -ENOMEM.  O(log n). */
POE_EXPORT int poe_kernel_alarm_set_at(poe_kernel *k, const char *file, int line,
                                       const char *event, double when, const poe_value *args,
                                       size_t nargs, poe_alarm_id *ret_id);
#define poe_kernel_alarm_set(k, ...) poe_kernel_alarm_set_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** As alarm_set, `seconds` from now (delay_set). */
POE_EXPORT int poe_kernel_delay_set_at(poe_kernel *k, const char *file, int line,
                                       const char *event, double seconds, const poe_value *args,
                                       size_t nargs, poe_alarm_id *ret_id);
#define poe_kernel_delay_set(k, ...) poe_kernel_delay_set_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** Moves one of the active session's timers by delta seconds, as
 * alarm_adjust, and writes its new time to *ret_time.  Returns 0, -ESRCH
 * for no such timer, -EPERM for another session's.  O(log n). */
POE_EXPORT int poe_kernel_alarm_adjust(poe_kernel *k, poe_alarm_id id, double delta,
                                       double *ret_time);

/** Moves a timer to `seconds` from now, as delay_adjust.  As alarm_adjust. */
POE_EXPORT int poe_kernel_delay_adjust(poe_kernel *k, poe_alarm_id id, double seconds,
                                       double *ret_time);

/** A removed timer, as alarm_remove returns it: POE's [name, time, args].
 * The strings and arguments stay valid until the next alarm_remove on the
 * same kernel, or until the callback returns for alarm_remove_all. */
typedef struct poe_alarm_info {
        poe_alarm_id id;
        const char *event;
        double time;
        const poe_value *args;
        size_t nargs;
} poe_alarm_info;

/** Removes one of the active session's timers by id, as alarm_remove,
 * describing it in *ret (may be NULL).  Returns 0, -ESRCH, -EPERM.
 * O(log n). */
POE_EXPORT int poe_kernel_alarm_remove(poe_kernel *k, poe_alarm_id id, poe_alarm_info *ret);

/** Removes every timer of the active session, as alarm_remove_all, calling
 * fn (may be NULL) for each in due order.  Returns how many, -EPERM,
 * -ENOMEM. */
POE_EXPORT int poe_kernel_alarm_remove_all(poe_kernel *k,
                                           void (*fn)(void *ctx, const poe_alarm_info *alarm),
                                           void *ctx);

/** The epoch time the next queued event is due, as get_next_event_time.
 * Returns 0, or -ENOENT when the queue is empty.  (POE 1.37 returns its
 * internal monotonic priority here; libpoe returns the documented epoch
 * time.) */
POE_EXPORT int poe_kernel_get_next_event_time(const poe_kernel *k, double *ret_time);

/* ------------------------------------------------------------------ */
/* I/O watchers                                                        */
/* ------------------------------------------------------------------ */

/*
 * Watch a file descriptor, as select_read, select_write and
 * select_expedite: when fd is ready in that mode, `event` is dispatched to
 * the active session with ARG0 the fd, ARG1 the mode (0 read, 1 write, 2
 * expedite), then args.  event NULL stops watching.  A watched fd keeps its
 * session alive (paused or not) and is made non-blocking, as POE does.
 * Registering again from the same session resumes the watcher and keeps
 * its first event name and arguments (POE's rule).  Returns 0, -EPERM
 * outside a handler, -EBADF for a closed fd, -EEXIST when another session
 * watches fd in that mode, -EINVAL (fd < 0, or past FD_SETSIZE with the
 * select loop), -ENOMEM.  A watched fd closed without unwatching is
 * reported on stderr and its watchers removed (select, poll); under
 * epoll it simply stops reporting.
 */
POE_EXPORT int poe_kernel_select_read(poe_kernel *k, int fd, const char *event,
                                      const poe_value *args, size_t nargs);
POE_EXPORT int poe_kernel_select_write(poe_kernel *k, int fd, const char *event,
                                       const poe_value *args, size_t nargs);
POE_EXPORT int poe_kernel_select_expedite(poe_kernel *k, int fd, const char *event,
                                          const poe_value *args, size_t nargs);

/** All three modes at once, as $kernel->select; NULL events unwatch.
 * All or nothing: on failure the modes this call added are removed
 * again, and nothing is unwatched. */
POE_EXPORT int poe_kernel_select(poe_kernel *k, int fd, const char *event_r, const char *event_w,
                                 const char *event_e, const poe_value *args, size_t nargs);

/** Stop or restart reporting a watched fd without changing anything else
 * (the session stays alive), as select_pause_read and friends.  Return 1
 * if fd is watched in that mode, 0 if not, -EPERM outside a handler,
 * -EBADF (or the backend's error) when a watched fd was closed without
 * being unwatched, -ENOMEM when the poll backend had no memory to take a
 * resumed fd back (it stays paused). */
POE_EXPORT int poe_kernel_select_pause_read(poe_kernel *k, int fd);
POE_EXPORT int poe_kernel_select_resume_read(poe_kernel *k, int fd);
POE_EXPORT int poe_kernel_select_pause_write(poe_kernel *k, int fd);
POE_EXPORT int poe_kernel_select_resume_write(poe_kernel *k, int fd);

/** The loop backend in use: "epoll", "poll", "select", or "glib", "uv"
 * or "ev" for a loop of that library the kernel owns (POE_EVENT_LOOP
 * picks it when the kernel is made; default epoll).  A kernel asked for
 * its fd (poe_kernel_get_fd) is on "epoll" from then on. */
POE_EXPORT const char *poe_kernel_loop_name(const poe_kernel *k);

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

/**
 * The one thread-safe call: queues event for session dest from any
 * thread and wakes the loop.  args are copied now (pointer destructors
 * are stolen).  The destination is checked when the kernel takes the
 * event: one that no longer exists gets a warning on stderr and the
 * event is destroyed.  Posts from one thread arrive in order.  A thread
 * that may post should keep its target alive with refcount_increment,
 * since the kernel does not count other threads as work.  Returns 0,
 * -EINVAL, -ENOMEM.
 */
POE_EXPORT int poe_kernel_post_from_thread(poe_kernel *k, poe_sid dest, const char *event,
                                           const poe_value *args, size_t nargs);

/**
 * Thread-safe: runs fn(k, ctx) on the kernel's thread, between two
 * dispatches, as soon as the loop comes round (waking it if it sleeps),
 * in order with post_from_thread's posts.  Nothing is dispatched, no
 * session is involved, and the call keeps nothing alive.  If the kernel
 * is freed first, fn runs then with k NULL, so ctx can be released.
 * This is how a monitor on another thread reads live state.  Returns 0, -EINVAL,
 * -ENOMEM.
 */
POE_EXPORT int poe_kernel_run_in_loop(poe_kernel *k, void (*fn)(poe_kernel *k, void *ctx),
                                      void *ctx);

/** What the kernel is doing, readable from any thread at any time: the
 * values are published atomically at each dispatch. */
typedef struct poe_kernel_activity {
        uint64_t dispatches; /* handlers run so far; a count that stands
                                still while dispatching means a handler
                                has been running since it last moved */
        int dispatching;     /* a handler is running now */
        poe_sid session;     /* whose (when dispatching) */
        const char *event;   /* which event (valid while the kernel lives) */
} poe_kernel_activity;

/** Thread-safe snapshot of the kernel's activity. */
POE_EXPORT void poe_kernel_activity_get(const poe_kernel *k, poe_kernel_activity *ret);

/* ------------------------------------------------------------------ */
/* Other event loops                                                   */
/* ------------------------------------------------------------------ */

/*
 * POE runs inside other programs' event loops ("Using POE with Other
 * Event Loops" in POE::Kernel's documentation).  A host loop drives the
 * kernel with three calls, as sd-event's get_fd/prepare/dispatch and
 * libuv's backend_fd/backend_timeout/UV_RUN_NOWAIT:
 *
 *     int fd = poe_kernel_get_fd(k);              once
 *     for (;;) {
 *             int64_t ns;
 *             if (poe_kernel_prepare(k, &ns) == 0)
 *                     break;                      no sessions left
 *             poll fd for reading, at most ns nanoseconds (-1: no limit)
 *             poe_kernel_dispatch(k);             never blocks
 *     }
 *
 * The host may watch its own fds and timers beside fd, and may call
 * poe_kernel_dispatch() more often than needed: a call with nothing due
 * does nothing.  Every call is on the kernel's thread, never inside a
 * handler.  The kernel's own run() is the same three steps with the
 * sleep in between, so events keep POE's order whichever loop runs
 * them: due posts and timers in FIFO order, I/O before the events of
 * the same timeslice, signals and child reaps as POE's loop reports
 * them.  OS signals and child processes work as under run(), through a
 * signal handler that writes to a pipe in the fd's set; a host loop
 * that installs its own handler for SIGCHLD (libev's default loop,
 * libuv's uv_spawn) takes those signals from the kernel.  libpoe-glib,
 * libpoe-uv and libpoe-ev do all of this for GLib, libuv and libev
 * (poe/poe-glib.h, poe/poe-uv.h, poe/poe-ev.h).
 *
 * POE_EVENT_LOOP=glib, uv or ev makes a kernel that owns a loop of that
 * library and sleeps in it under run(), as POE::Loop::EV does.  The
 * adapter library is loaded when the kernel is made (from
 * POE_LOOP_LIBDIR if set, else the dynamic linker's path); when it
 * cannot be, poe_kernel_new() fails with -ENOENT.  Each fd a session
 * watches is then a watcher of that loop's own (an fd of a GSource, a
 * uv_poll_t, an ev_io), as POE::Loop::Glib and POE::Loop::EV do, so a
 * wake-up costs the loop's one poll; what the library cannot watch
 * (libev has no expedite mode, libuv takes no regular file) is watched
 * through an epoll set of the kernel's, whose fd the loop watches.  libuv
 * retries a wait that a signal interrupted, so under uv an OS signal wakes the kernel
 * only through the signal pipe (POE_USE_SIGNAL_PIPE=0 leaves it for the
 * next timer).
 */

/**
 * The fd a host loop watches for reading: readable whenever an fd a
 * session watches is ready, an OS signal was caught, or another thread
 * posted (it is an epoll set, so it is readable, not read: only
 * poe_kernel_dispatch() consumes what it reports).  Owned by the kernel:
 * never close it; it stays the same until the kernel is freed, except
 * in a child after poe_kernel_has_forked(), which makes a new one (ask
 * again).  A kernel made with POE_EVENT_LOOP=poll or select moves to
 * epoll, which alone has such an fd; so does one made with glib, uv or
 * ev, whose owned loop then watches that one fd in place of each of
 * the sessions' fds.  Returns the fd, -EINVAL, or what
 * making the epoll set failed with (-EMFILE, -ENOMEM).
 */
POE_EXPORT int poe_kernel_get_fd(poe_kernel *k);

/**
 * Called by a host loop before it sleeps.  Checks for idleness as
 * POE's loop does before each wait (IDLE, then ZOMBIE, may be raised,
 * which makes work due at once), and writes to *ret_timeout_ns how long
 * the host may sleep before poe_kernel_dispatch() has work that the fd
 * does not announce: 0 when events are due now, the time to the next
 * timer, or -1 when only the fd (I/O, signals, other threads) can bring
 * work.  When it returns 0, or -EPERM (a loop run again inside a
 * handler), the host should not watch the fd until it returns 1 again:
 * nothing is dispatched then, so the fd may stay readable.  Nanoseconds on the kernel's clock: with poe_kernel_clock_fake
 * the host should advance the fake clock rather than sleep.  A host
 * with a millisecond timer rounds up, so that it never wakes before the
 * timer is due.  Returns 1 while sessions remain, 0 when none do (the
 * host may stop watching; *ret_timeout_ns is then -1), -EINVAL, or
 * -EPERM inside a handler.  ret_timeout_ns may be NULL.
 */
POE_EXPORT int poe_kernel_prepare(poe_kernel *k, int64_t *ret_timeout_ns);

/**
 * Runs one timeslice without blocking, as run_one_timeslice() with a
 * zero wait (libuv's UV_RUN_NOWAIT): reads the ready fds, caught
 * signals, other threads' posts and exited children, then dispatches
 * the I/O events and every event due at the start of the slice, and
 * collects sessions that ran out of work.  IDLE is followed by ZOMBIE,
 * as under run().  Returns 1 while sessions remain, 0 once none do (the
 * kernel is finalized, as after run()), -ECANCELED when a handler died
 * and nothing caught it (poe_kernel_exception() says why; the kernel
 * stays usable), -ENOMEM as run() gives up, -EPERM inside a handler,
 * -EINVAL.
 */
POE_EXPORT int poe_kernel_dispatch(poe_kernel *k);

/**
 * With POE_EVENT_LOOP=glib, uv or ev: the library's loop the kernel owns
 * (a GMainContext *, uv_loop_t * or struct ev_loop *), to which the
 * program may add its own sources, handles and watchers; they run while
 * the kernel sleeps in run().  Borrowed: valid until the kernel is
 * freed.  NULL for the kernel's own loops (epoll, poll, select).
 */
POE_EXPORT void *poe_kernel_owned_loop(poe_kernel *k);

/* ------------------------------------------------------------------ */
/* Aliases and reference counts                                        */
/* ------------------------------------------------------------------ */

/** Gives the active session an alias, as alias_set.  An alias keeps its
 * session alive until removed.  Returns 0 (also when the session already
 * has it), -EEXIST if another session has it, -EPERM outside a handler,
 * -EINVAL for NULL or "", -ENOMEM. */
POE_EXPORT int poe_kernel_alias_set(poe_kernel *k, const char *alias);

/** Removes one of the active session's aliases.  Returns 0, -ESRCH if no
 * session has it, -EPERM if another session has it or outside a handler. */
POE_EXPORT int poe_kernel_alias_remove(poe_kernel *k, const char *alias);

/** Resolves an alias to a session id, as alias_resolve.  Like POE, a
 * string of digits naming a live session id resolves to that session,
 * and the kernel's id string (poe_kernel_id) to POE_KERNEL.  Returns 0
 * or -ESRCH. */
POE_EXPORT int poe_kernel_alias_resolve(poe_kernel *k, const char *alias, poe_sid *ret_sid);

/**
 * Lists a session's aliases in sorted order, as alias_list: writes up to
 * n pointers into ret (valid until the aliases change) and returns how
 * many the session has (which may be more than n), or -ESRCH.
 */
POE_EXPORT int poe_kernel_alias_list(poe_kernel *k, poe_sid sid, const char **ret, size_t n);

/** Adds one to the session's extra reference count named tag, as
 * refcount_increment, and records file and line (the caller's, through
 * the poe_kernel_refcount_increment() macro) as where the tag was last
 * raised: poe_peek_reasons shows it.  Returns the tag's new count,
 * -ESRCH, -EINVAL, -ENOMEM. */
POE_EXPORT int poe_kernel_refcount_increment_at(poe_kernel *k, const char *file, int line,
                                                poe_sid sid, const char *tag);

/** poe_kernel_refcount_increment_at with no place (file "", line 0): the
 * function that compiled callers of earlier versions link to.  The
 * macro of the same name passes __FILE__ and __LINE__ instead. */
POE_EXPORT int poe_kernel_refcount_increment(poe_kernel *k, poe_sid sid, const char *tag);
#define poe_kernel_refcount_increment(k, ...) \
        poe_kernel_refcount_increment_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** Takes one from it, as refcount_decrement; at zero the tag is gone and
 * the session may stop.  Returns the new count, -ESRCH for no session,
 * -ENOENT for a tag the session does not hold. */
POE_EXPORT int poe_kernel_refcount_decrement(poe_kernel *k, poe_sid sid, const char *tag);

/* ------------------------------------------------------------------ */
/* Signals                                                             */
/* ------------------------------------------------------------------ */

/** Watches signal in the active session: event is dispatched with the
 * signal name in ARG0 (then args).  A second call replaces the watcher;
 * event NULL removes it.  Watchers do not keep a session alive.  A name
 * of a catchable OS signal (INT, TERM, HUP, USR1, USR2, WINCH, ...)
 * installs the OS handler when first watched and restores the previous
 * disposition when the last watcher goes; a caught signal is raised at
 * the kernel, reaching every session.  Any other name is a user signal.
 * args are copied; pointers among them are plain data, never destroyed
 * by the kernel (poe_ctx_take_arg finds no destructor to take).
 * Returns 0, -EPERM outside a handler, -EINVAL, -ENOMEM, or the
 * sigaction error. */
POE_EXPORT int poe_kernel_sig(poe_kernel *k, const char *signal, const char *event,
                              const poe_value *args, size_t nargs);

/** Marks the signal being dispatched as handled, as sig_handled: a
 * terminal signal then stops nobody.  Returns 0. */
POE_EXPORT int poe_kernel_sig_handled(poe_kernel *k);

/**
 * Queues signal for dest (a session, or POE_KERNEL for every session),
 * as $kernel->signal: it reaches dest and all its descendants.  Unhandled
 * terminal signals (HUP INT QUIT TERM KILL IDLE DIE) stop every session
 * they reached; ZOMBIE and UIDESTROY always do.  Returns 0, -ESRCH,
 * -EINVAL, -ENOMEM.
 */
POE_EXPORT int poe_kernel_signal_at(poe_kernel *k, const char *file, int line, poe_sid dest,
                                    const char *signal, const poe_value *args, size_t nargs);
#define poe_kernel_signal(k, ...) poe_kernel_signal_at((k), __FILE__, __LINE__, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Child processes                                                     */
/* ------------------------------------------------------------------ */

/**
 * Waits for child process pid in the active session, as sig_child: when
 * it exits, event is dispatched with ARG0 "CHLD", ARG1 the pid, ARG2 the
 * wait status (as waitpid reports it), then args.  The session stays
 * alive until then; the watch ends with the event.  A second call for
 * the same pid replaces the event; event NULL stops waiting.  Children
 * are reaped with waitpid(-1, WNOHANG), as POE does: every child of the
 * process is reaped, watched or not, and each raises CHLD at the kernel.
 * POE_USE_SIGCHLD=0 polls every POE_CHILD_POLLING_INTERVAL seconds
 * instead of catching SIGCHLD.  Returns 0, -EPERM outside a handler,
 * -EINVAL for pid <= 0, -ENOMEM.
 */
POE_EXPORT int poe_kernel_sig_child(poe_kernel *k, int pid, const char *event,
                                    const poe_value *args, size_t nargs);

/**
 * Call in a child process that goes on running the kernel it inherited,
 * as has_forked: it forgets the parent's children, makes its own signal
 * pipe, and rebuilds the loop backend (an epoll set is shared across
 * fork).  Returns 0 or -errno; on -ENOMEM the kernel keeps its old
 * backend and still runs.
 */
POE_EXPORT int poe_kernel_has_forked(poe_kernel *k);

/* ------------------------------------------------------------------ */
/* State machines (POE::NFA)                                           */
/* ------------------------------------------------------------------ */

/*
 * A machine is a session whose handlers come in banks, one per named
 * state: an event goes to the handler of the machine's current state,
 * else to one added with poe_kernel_state(), else to the current
 * state's _default (ARG0 the event's name, ARG1 the list of its
 * arguments); a machine dies ("... has neither a handler for it nor one
 * for _default in its current state, 'NAME'") when none is found, as
 * POE::NFA does.  _start and _stop are never delivered to a machine's
 * handlers.  For the kernel it is a session like another: its id, its
 * aliases, timers, references, children and lifetime, and
 * poe_session_option_set, poe_session_postback and
 * poe_session_callback all take its id.  Its handlers read
 * poe_ctx_session (MACHINE), poe_ctx_heap (RUNSTATE), poe_ctx_state
 * (EVENT, the event's name) and poe_nfa_ctx_state (STATE, the
 * machine's state).  The "immediate" option makes the transitions
 * below calls instead of posts.  Transitions travel as POE's events
 * poe_nfa_goto_state, poe_nfa_push_state, poe_nfa_pop_state and
 * poe_nfa_stop; do not name events of your own poe_nfa_*.
 */

/** One state of a machine: its name and its bank of handlers. */
typedef struct poe_nfa_state {
        const char *name;
        const poe_handler *handlers; /* n_handlers of them */
        size_t n_handlers;
} poe_nfa_state;

/** What poe_nfa_spawn needs (POE::NFA->spawn's inline_states,
 * object_states, package_states, options and runstate).  Arrays are
 * borrowed for the duration of the call. */
typedef struct poe_nfa_spec {
        const poe_nfa_state *states; /* n_states of them */
        size_t n_states;
        const poe_option *options; /* trace, immediate, or yours */
        size_t n_options;
        void *runstate; /* POE's RUNSTATE; the kernel never frees it */
} poe_nfa_spec;

/**
 * Creates a machine, as POE::NFA->spawn: a session, child of the active
 * session (the kernel outside handlers), in no state yet (its current
 * state's name is "(undef)"); its parent gets _child ("create").  Enter
 * the first state with poe_nfa_goto_state.  The states, their handlers
 * and the options are copied.  Returns 0 and the machine's id in
 * *ret_sid (which may be NULL), -EINVAL for a bad spec (no states
 * array, a state without a name or named twice, a NULL handler name or
 * function), or -ENOMEM (nothing is created).
 */
POE_EXPORT int poe_nfa_spawn(poe_kernel *k, const poe_nfa_spec *spec, poe_sid *ret_sid);

/**
 * Puts machine into state, then dispatches entry_event (NULL: none)
 * there with args as ARG0.., as $machine->goto_state.  The current
 * state's "leave" handler, if it has one, runs first.  A machine not in
 * any state yet (or with the "immediate" option) makes the transition at
 * once, through call(); otherwise it is posted and happens when
 * dispatched.  A state the machine does not have, or an entry event
 * that state has no handler for, is the machine's die at that time.
 * args are copied (pointers with destructors are stolen, as by post).
 * Returns 0, -ESRCH (no such session), -EINVAL (not a machine, state
 * NULL), -ENOMEM, or -ECANCELED when the transition was made at once
 * and the machine died in it (as call()).
 */
POE_EXPORT int poe_nfa_goto_state(poe_kernel *k, poe_sid machine, const char *state,
                                  const char *entry_event, const poe_value *args, size_t nargs);

/**
 * As goto_state, after pushing the current state and return_event
 * (NULL: none) on the machine's stack, as $machine->call_state: a later
 * poe_nfa_return_state comes back.  Posted (called with "immediate").
 * Returns as goto_state.
 */
POE_EXPORT int poe_nfa_call_state(poe_kernel *k, poe_sid machine, const char *return_event,
                                  const char *state, const char *entry_event,
                                  const poe_value *args, size_t nargs);

/**
 * Pops the state the last call_state left and goes back to it,
 * dispatching its return event there (if it named one) with args, as
 * $machine->return_state.  Posted (called with "immediate"); an empty
 * stack is the machine's die when it happens.  Returns as goto_state.
 */
POE_EXPORT int poe_nfa_return_state(poe_kernel *k, poe_sid machine, const poe_value *args,
                                    size_t nargs);

/**
 * Stops the machine, as $machine->stop: posts poe_nfa_stop, whose
 * dispatch stops it at once, whatever it holds (its parent gets _child
 * "lose"; its own handlers never see _stop).  Returns 0, -ESRCH, -EINVAL
 * (not a machine), -ENOMEM.
 */
POE_EXPORT int poe_nfa_stop(poe_kernel *k, poe_sid machine);

/**
 * The name of the machine's current state in *ret_state, as
 * get_current_state: "(undef)" before its first goto_state.  The
 * string is the kernel's, valid while the kernel is.  Returns 0,
 * -ESRCH, -EINVAL (not a machine).
 */
POE_EXPORT int poe_nfa_get_current_state(poe_kernel *k, poe_sid machine,
                                         const char **ret_state);

/** The machine's RUNSTATE pointer, as get_runstate; NULL if machine is
 * not a machine (or its runstate is NULL). */
POE_EXPORT void *poe_nfa_get_runstate(poe_kernel *k, poe_sid machine);

/** A machine's handler's STATE: the name of the machine's current
 * state, read now: POE's $_[STATE] aliases it, so after a transition
 * made at once inside the handler ("immediate") it names the new state.
 * NULL in a plain session's handler. */
POE_EXPORT const char *poe_nfa_ctx_state(const poe_ctx *c);

/* ------------------------------------------------------------------ */
/* Postbacks and callbacks                                             */
/* ------------------------------------------------------------------ */

/** A postback or callback.  Owned by the application; free it with
 * poe_postback_free (after its kernel is freed too: it is then inert). */
typedef struct poe_postback poe_postback;

/**
 * Makes a postback for session sid, as $session->postback: invoking it
 * posts event to sid with ARG0 a list of args (copied now) and ARG1 a
 * list of the invocation's arguments.  Until freed or weakened it keeps
 * the session alive (a session stopped anyway, by a signal or stop(),
 * releases it).  Pointer destructors among args belong to the postback
 * and run once, when it is freed (also when this call fails).  file and
 * line (the caller's, through the poe_session_postback() macro) say
 * where it was made, for poe_peek_postbacks.  Returns 0, -ESRCH,
 * -EINVAL, -ENOMEM.
 */
POE_EXPORT int poe_session_postback_at(poe_kernel *k, const char *file, int line, poe_sid sid,
                                       const char *event, const poe_value *args, size_t nargs,
                                       poe_postback **ret);

/** As postback, but invoking calls the handler at once and returns its
 * value ($session->callback). */
POE_EXPORT int poe_session_callback_at(poe_kernel *k, const char *file, int line, poe_sid sid,
                                       const char *event, const poe_value *args, size_t nargs,
                                       poe_postback **ret);

/** poe_session_postback_at with no place (file "", line 0): the function
 * that compiled callers of earlier versions link to.  The macro of the
 * same name passes __FILE__ and __LINE__ instead. */
POE_EXPORT int poe_session_postback(poe_kernel *k, poe_sid sid, const char *event,
                                    const poe_value *args, size_t nargs, poe_postback **ret);
#define poe_session_postback(k, ...) \
        poe_session_postback_at((k), __FILE__, __LINE__, __VA_ARGS__)

/** poe_session_callback_at with no place, as poe_session_postback. */
POE_EXPORT int poe_session_callback(poe_kernel *k, poe_sid sid, const char *event,
                                    const poe_value *args, size_t nargs, poe_postback **ret);
#define poe_session_callback(k, ...) \
        poe_session_callback_at((k), __FILE__, __LINE__, __VA_ARGS__)

/**
 * Invokes a postback (posts; *ret, if given, is nil) or a callback
 * (calls; *ret receives the handler's value).  Call it from the kernel's
 * thread.  Returns 0, -ESRCH if the session or the kernel is gone (under
 * ASSERT_DATA a gone session is fatal, as for post and call),
 * -ECANCELED if a callback's handler died, -EINVAL, -ENOMEM.
 */
POE_EXPORT int poe_postback_invoke(poe_postback *pb, const poe_value *args, size_t nargs,
                                   poe_value *ret);

/** Stops the postback keeping its session alive (POE's weaken); it can
 * still be invoked while the session lives.  Returns pb. */
POE_EXPORT poe_postback *poe_postback_weaken(poe_postback *pb);

/** Frees a postback, releasing its session.  Takes NULL; returns NULL.
 * A callback's handler may free the callback it was called through: the
 * session is released at once, and ARG0 with its pointers stays valid
 * until the invocation returns, when the creation arguments' destructors
 * run and the memory goes (POE's \@etc lives on in the handler's @_). */
POE_EXPORT poe_postback *poe_postback_free(poe_postback *pb);

/** The session a postback posts to. */
POE_EXPORT poe_sid poe_postback_session(const poe_postback *pb);

/* ------------------------------------------------------------------ */
/* Exceptions                                                          */
/* ------------------------------------------------------------------ */

#if defined(__GNUC__)
#define POE_NORETURN __attribute__((noreturn))
#define POE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define POE_NORETURN
#define POE_PRINTF(f, a)
#endif

/**
 * Dies inside a handler, as Perl's die inside a POE handler: unwinds
 * (longjmp) to the dispatcher, so the rest of the handler does not run.
 * The message is printf-formatted; without a trailing newline, Perl's
 * " at FILE line N.\n" is appended.  With POE_CATCH_EXCEPTIONS on (the
 * default) the session then gets the DIE signal, whose ARG1 holds POE's
 * fields (read them with poe_value_exception); a die in _stop, in a DIE
 * handler, or with POE_CATCH_EXCEPTIONS=0 stops every session and makes
 * run() return -ECANCELED with the message in poe_kernel_exception().  A
 * call() whose handler died returns -ECANCELED.  Memory the handler had
 * not freed is lost, as with any longjmp.  Outside a handler it prints
 * the message and aborts.
 */
POE_EXPORT POE_NORETURN void poe_die_at(poe_ctx *c, const char *file, int line, const char *fmt,
                                        ...) POE_PRINTF(4, 5);
#define poe_die(c, ...) poe_die_at((c), __FILE__, __LINE__, __VA_ARGS__)

/** POE's DIE fields.  Strings are borrowed from the signal's arguments. */
typedef struct poe_exception {
        const char *error_str;   /* the message, with " at FILE line N.\n" */
        const char *event;       /* the event whose handler died */
        poe_sid dest_session;    /* the session that died */
        poe_sid source_session;  /* the event's sender */
        const char *from_state;  /* the sender's event, or NULL */
        const char *file;        /* where the event was posted from */
        int line;
} poe_exception;

/** Reads the DIE signal's ARG1 into *ret.  Returns 0 or -EINVAL. */
POE_EXPORT int poe_value_exception(const poe_value *v, poe_exception *ret);

/** The message of the exception that made run() or run_one_timeslice()
 * return -ECANCELED, or NULL.  Valid until the next run call. */
POE_EXPORT const char *poe_kernel_exception(const poe_kernel *k);

/* ------------------------------------------------------------------ */
/* Debug groups: POE's TRACE_* and ASSERT_*                            */
/* ------------------------------------------------------------------ */

/*
 * Each group is a bit.  A group is compiled in or out by its meson option
 * (-Dtrace_events=false, ...; all are in by default); compiled out it
 * costs nothing.  Compiled in, it is off until switched on: by the
 * environment when the kernel is made (POE_TRACE_EVENTS=1, POE's
 * POE_TRACE_DEFAULT and POE_ASSERT_DEFAULT rules, POE_TRACE_FILENAME), or
 * at run time with poe_kernel_debug_set.  Traces are text lines in POE's
 * format ("=== PID === <ev> ...") on stderr or the trace file, and
 * structured records for the sinks registered with
 * poe_kernel_trace_sink_add.  A failed assertion prints what was wrong
 * and where, then aborts.
 */
enum {
        POE_TRACE_EVENTS = 1u << 0,   /* <ev> enqueue, dispatch, discard */
        POE_TRACE_FILES = 1u << 1,    /* <fh> I/O watchers and the loop */
        POE_TRACE_REFCNT = 1u << 2,   /* <rc> every count change, itemized */
        POE_TRACE_RETVALS = 1u << 3,  /* <rv> every failing call */
        POE_TRACE_SESSIONS = 1u << 4, /* <ss> creation, parents, stop, free */
        POE_TRACE_SIGNALS = 1u << 5,  /* <sg> signal dispatch and OS signals */
        POE_TRACE_DESTROY = 1u << 6,  /* a session's heap when it is freed */
        POE_TRACE_PROFILE = 1u << 7,  /* <pr> time spent in each session */
        POE_ASSERT_DATA = 1u << 16,   /* <dt> cross-references are consistent */
        POE_ASSERT_EVENTS = 1u << 17, /* <ev> events go to live sessions */
        POE_ASSERT_FILES = 1u << 18,  /* <fh> the loop's waits succeed */
        POE_ASSERT_RETVALS = 1u << 19, /* <rv> failing calls are fatal */
        POE_ASSERT_USAGE = 1u << 20,  /* <us> bad parameters are fatal */
        POE_ASSERT_STATES = 1u << 21, /* POE::Session's: "default" option on */
};
#define POE_TRACE_ALL 0x00ffu
#define POE_ASSERT_ALL 0x3f0000u
#define POE_DEBUG_ALL (POE_TRACE_ALL | POE_ASSERT_ALL)

/* ---- dispatch statistics (for /metrics) ---- */

/** The kinds dispatches are counted by. */
enum {
        POE_DISPATCH_POST,      /* posted and yielded events */
        POE_DISPATCH_CALL,      /* call() */
        POE_DISPATCH_ALARM,     /* timers */
        POE_DISPATCH_SIGNAL,    /* signal watchers */
        POE_DISPATCH_SELECT,    /* I/O watchers */
        POE_DISPATCH_SIG_CHILD, /* sig_child events */
        POE_DISPATCH_DIE,       /* DIE watchers */
        POE_DISPATCH_INTERNAL,  /* _start, _stop, _child, _parent */
        POE_DISPATCH_KINDS
};

#define POE_DURATION_BUCKETS 9
#define POE_LAG_BUCKETS      12

/**
 * What /metrics shows of the kernel's dispatching.  The histograms'
 * buckets are not cumulative; each has upper bounds in seconds, the last
 * -1 for +Inf.
 *
 * `dispatched` is the one count of handlers run: the sum of by_kind, the
 * events_dispatched of poe_peek_kernel, and (once one dispatch has been
 * timed) the sum of duration_buckets, all read at the same moment.
 *
 * Durations are sampled (poe_kernel_set_dispatch_timing): each timed
 * dispatch stands for the dispatches since the one timed before it,
 * itself included, and those since the latest sample count in its
 * bucket; duration_sum is the estimate that makes (the sum of the
 * handlers' times).  `timed` is how many were timed.
 *
 * Queue waits and timer lag are kept for every queued event, with no
 * clock read of their own: both ends are the times the kernel's queue
 * has already, a post's stamp (the clock as the kernel last read it when
 * the post was made) or a timer's due time, and the start of the
 * timeslice that dispatches it.  So they are exact to a timeslice (and,
 * when no timer is pending, to a tick of the coarse clock, 1-4 ms): an
 * event that waits behind others of its own slice counts as waiting
 * from its slice's start.  A timer's lag is measured from its due time
 * or from the start of the slice before, whichever is later, so that a
 * timer set for a time already past counts as on time.
 */
typedef struct poe_dispatch_stats {
        uint64_t by_kind[POE_DISPATCH_KINDS]; /* handlers run, by kind */
        uint64_t dispatched;                  /* handlers run */
        uint64_t duration_buckets[POE_DURATION_BUCKETS];
        double bucket_le[POE_DURATION_BUCKETS];
        double duration_sum;
        uint64_t timed;
        /* Posted events and signals: time from queued to dispatched. */
        uint64_t wait_buckets[POE_LAG_BUCKETS];
        double wait_sum;
        uint64_t waited;
        /* Timers: time from due to dispatched. */
        uint64_t lag_buckets[POE_LAG_BUCKETS];
        double lag_sum;
        uint64_t timers_fired;
        double lag_le[POE_LAG_BUCKETS]; /* the bounds of both */
} poe_dispatch_stats;

/**
 * Times one dispatch in `every` from now on, the first of them the next
 * (two clock reads each, as much as a whole yield costs: 1 times every
 * dispatch, 32 costs about 3 %); 0 stops timing.  Returns 0, or -EINVAL
 * for a negative `every`.
 */
POE_EXPORT int poe_kernel_set_dispatch_timing(poe_kernel *k, int every);

/**
 * A top-level dispatch that takes `seconds` or more (busy time, on the
 * coarse clock) counts as slow: poe_session_info's slow_dispatches,
 * slowest_seconds, slowest_event and last_slow record it, for a
 * monitor's lints.  Default 0.5 s.  Returns 0, or -EINVAL unless
 * 0 < seconds < 1e9.
 */
POE_EXPORT int poe_kernel_set_slow_dispatch(poe_kernel *k, double seconds);

/** The counts so far, into *ret.  Returns 0 or -EINVAL. */
POE_EXPORT int poe_kernel_dispatch_stats(const poe_kernel *k, poe_dispatch_stats *ret);

/** The groups compiled into this library. */
POE_EXPORT unsigned poe_debug_compiled(void);

/** A group's name without the POE_ prefix ("TRACE_EVENTS"), or NULL. */
POE_EXPORT const char *poe_debug_group_name(unsigned group);

/** The group named "TRACE_EVENTS", "POE_TRACE_EVENTS" or "trace_events";
 * 0 if none. */
POE_EXPORT unsigned poe_debug_group_parse(const char *name);

/** The groups switched on.  Safe from any thread (an atomic read), as
 * a monitor's HTTP threads may call it. */
POE_EXPORT unsigned poe_kernel_debug_get(const poe_kernel *k);

/** Switches groups on (on != 0) or off while the kernel runs.  Returns 0,
 * -EINVAL for unknown bits, -EOPNOTSUPP to switch on a group that is not
 * compiled in. */
POE_EXPORT int poe_kernel_debug_set(poe_kernel *k, unsigned groups, int on);

/** Sends the text lines to a file (created or truncated), or back to
 * stderr with NULL, as POE_TRACE_FILENAME.  Returns 0 or -errno. */
POE_EXPORT int poe_kernel_trace_file(poe_kernel *k, const char *path);

/** A group's line prefix in POE's format ("<ev>"; "" for TRACE_DESTROY,
 * ASSERT_STATES and bits that name no group). */
POE_EXPORT const char *poe_debug_group_prefix(unsigned group);

/*
 * Trace records.  Every trace is a small fixed-size record, filled at the
 * trace point without formatting or allocation, and handed to each sink;
 * POE's text line is rendered from its fields by whoever reads it
 * (poe_trace_format), the stderr lines included.
 *
 * Strings that are not numbers travel as ids: an event's interned name
 * (event), a session's "loggable" name ("session 5 (alias1, alias2)", with
 * the aliases it had at the time) as a serial that changes when its
 * aliases do.  A consumer on the kernel's thread resolves them with
 * poe_kernel_trace_lookup during the sink call.  A consumer that cannot
 * (another thread, a file) keeps a map from the definition records: each
 * sink receives a POE_TK_DEF_NAME or POE_TK_DEF_LOGGABLE record carrying
 * the text before the first record that uses the id, again after any sink
 * is added (an "epoch": each record carries the one it was made in), and
 * again after a sink asks for it (its function returns
 * POE_TRACE_SINK_REDEFINE because it lost one).
 */

/** The kinds of record: one per kind of trace line, named as
 * poe_trace_kind_name says ("enqueue", "dispatch", ...). */
enum poe_trace_kind {
        POE_TK_NONE = 0,
        POE_TK_ENQUEUE,        /* <ev> a post or a timer queued */
        POE_TK_DISPATCH,       /* <ev> a handler called */
        POE_TK_RETURN,         /* <ev> ... and what it returned */
        POE_TK_DISCARD,        /* <ev> a queued event removed with its session */
        POE_TK_WATCH,          /* <fh> an fd watched */
        POE_TK_UNWATCH,        /* <fh> ... and no longer */
        POE_TK_PAUSE,          /* <fh> a watcher paused */
        POE_TK_RESUME,         /* <fh> ... and resumed */
        POE_TK_WAIT,           /* <fh> the loop waited */
        POE_TK_GC_MARK,        /* <rc> a session marked for collection */
        POE_TK_REFCOUNT_INC,   /* <rc> a reason to live gained */
        POE_TK_REFCOUNT_DEC,   /* <rc> ... and lost */
        POE_TK_CREATE,         /* <ss> a session made */
        POE_TK_STOP,           /* <ss> a session stopping */
        POE_TK_FREE,           /* <ss> a session freed */
        POE_TK_MOVE,           /* <ss> a session given a new parent */
        POE_TK_DESTROY,        /* TRACE_DESTROY's leak check */
        POE_TK_PROFILE,        /* <pr> a freed session's dispatches and time */
        POE_TK_OS_SIGNAL,      /* <sg> an OS signal caught */
        POE_TK_REAP,           /* <sg> a child process reaped */
        POE_TK_SIGNAL,         /* <sg> a signal dispatched */
        POE_TK_SIGNAL_DELIVER, /* <sg> ... to one watcher */
        POE_TK_SIGNAL_STOP,    /* <sg> a session stopped by a signal */
        POE_TK_RETVAL,         /* <rv> a public call failed */
        POE_TK_ASSERT,         /* an ASSERT_* group's failure, just before abort */
        POE_TK_DIE,            /* <ev> a handler died (poe_die): text is the message,
                                  a NUL, then the file; arg.i[0] the line */
        POE_TK_KINDS,          /* the kinds of trace are below this */
        POE_TK_SHED = 63,      /* a shedding slot's kind (poe_trace_slot_fn) */
        POE_TK_DEF_NAME = 64,  /* definition: event is the id, text its name */
        POE_TK_DEF_LOGGABLE    /* definition: session_name is the serial (of
                                  session), text the loggable name; a
                                  definition's num is the kernel's static
                                  epoch (wall = num + mono_ns / 1e9) */
};

/** The id of no name (a record about no event). */
#define POE_TRACE_NO_NAME 0xffffffffu
/** Loggable serials with a fixed text, never defined: "nobody" (no
 * session) and "the kernel". */
#define POE_TRACE_NOBODY 0u
#define POE_TRACE_THE_KERNEL 1u

/**
 * One trace, as the sinks receive it: 136 bytes, to be copied as they
 * are.  Which of arg, num and text a kind fills is the formatter's
 * business (kernel/trace-format.c lists them); text is the only pointer,
 * borrowed for the duration of the sink call, and is set only by the
 * kinds that carry free text (assert messages, TRACE_DESTROY's leak
 * check, a failed call's function and file, signal names, a die's message
 * and file, and a handler's return value when it is a string or a list), never by the frequent
 * ones.  It is text_len bytes, not NUL-terminated, and may hold NULs.
 */
typedef struct poe_trace_record {
        int64_t mono_ns;        /* CLOCK_MONOTONIC (or the fake clock) */
        double wall;            /* epoch seconds (the kernel's static epoch + mono_ns) */
        uint64_t event_id;      /* the queue item an enqueue, dispatch, return or
                                   discard is about (POE's event id), else 0:
                                   links a post to its dispatch */
        poe_sid session;        /* the session it is about (POE_KERNEL if none) */
        poe_sid sender;
        uint64_t queue_length;  /* the kernel's queue at the time */
        uint32_t group;         /* one POE_TRACE_* or POE_ASSERT_* bit; 0 for a
                                   definition */
        uint16_t kind;          /* enum poe_trace_kind */
        uint16_t text_len;
        uint32_t event;         /* the event's interned name, or POE_TRACE_NO_NAME */
        uint32_t refcount;      /* the session's count at the time */
        uint32_t session_name;  /* session's loggable serial */
        uint32_t peer_name;     /* the loggable serial of the other session its
                                   text names (the sender, a new parent) */
        uint32_t epoch;         /* the definition epoch it was made in */
        uint32_t reserved;
        union {
                int64_t i[5];
                uint32_t u[10];
        } arg;                  /* the kind's numbers */
        double num;             /* ... and its real one */
        const char *text;       /* the kind's free text, or NULL */
} poe_trace_record;

/** Returned by a sink that lost a definition record (a full buffer): the
 * kernel sends every definition again, each before its next use. */
#define POE_TRACE_SINK_REDEFINE 1

/** A sink: called on the kernel's thread for each record of its groups
 * and for every definition record.  Returns 0 or POE_TRACE_SINK_REDEFINE;
 * must not call back into the kernel, but for poe_kernel_trace_lookup and
 * poe_kernel_trace_format. */
typedef int (*poe_trace_sink_fn)(void *ctx, const poe_trace_record *record);

/** What a lookup resolves: an interned name, or a loggable serial. */
enum { POE_TRACE_LOOKUP_NAME = 1, POE_TRACE_LOOKUP_LOGGABLE = 2 };

/** Resolves an id for poe_trace_format: the text, or NULL when unknown
 * (the formatter writes "?").  The text must stay valid until the
 * formatter returns. */
typedef const char *(*poe_trace_lookup_fn)(void *ctx, unsigned what, uint32_t id);

/**
 * Renders a record's text line, POE's, without the pid and the prefix
 * ("dispatching event 5 ``ping'' from session 1 to session 2 (pong)"),
 * into buf as snprintf does, resolving ids with lookup(ctx, ...).
 * Returns the length of the whole line (buf holds at most size - 1 bytes
 * of it), or -EINVAL.  A definition record renders as its text.  A kind
 * whose group is compiled out of this library renders as "".
 */
POE_EXPORT int poe_trace_format(const poe_trace_record *r, poe_trace_lookup_fn lookup,
                                void *ctx, char *buf, size_t size);

/** The kernel's text for an id, for a sink on the kernel's thread during
 * its call: an interned name (valid as long as the kernel), or the
 * loggable name of the record's session or peer (valid until the kernel
 * next traces).  NULL when unknown. */
POE_EXPORT const char *poe_kernel_trace_lookup(poe_kernel *k, unsigned what, uint32_t id);

/** poe_trace_format with the kernel's own lookup: what a sink that wants
 * text calls during its call. */
POE_EXPORT int poe_kernel_trace_format(poe_kernel *k, const poe_trace_record *r, char *buf,
                                       size_t size);

/** A kind's name ("enqueue", ...; "define_name" and "define_loggable" for
 * the definitions), or NULL. */
POE_EXPORT const char *poe_trace_kind_name(unsigned kind);

/** The kind named name, or POE_TK_NONE. */
POE_EXPORT unsigned poe_trace_kind_parse(const char *name);

/** Registers a sink for every trace of the groups switched on.  Returns
 * its id (> 0), or -ENOSPC past 8 sinks.  Every definition is sent again
 * (to every sink) before its next use, so the new sink has them all. */
POE_EXPORT int poe_kernel_trace_sink_add(poe_kernel *k, poe_trace_sink_fn fn, void *ctx);

/**
 * A sink's slots: room for one record in the sink's own buffer, lent to
 * the kernel so that a record is written once, where the sink keeps it,
 * instead of being built by the kernel and copied by the sink.  Called on
 * the kernel's thread with *slot the record the kernel has just filled in
 * the slot lent last (NULL: none), which the sink then keeps as if fn had
 * been handed it; it sets *slot to the next slot, or to NULL to have the
 * next record come through fn.  A slot is a poe_trace_record whose bytes
 * are all zero: the kernel writes only the fields that are not, and
 * leaves wall to the sink, which reckons it as the kernel does, from the
 * num of the definitions of the record's epoch (they come first, and
 * again whenever the static epoch changes): num + (double)mono_ns / 1e9.
 *
 * The kernel fills slots with the records of the sink's groups that carry
 * no text; definitions, records with text and every record while it holds
 * no slot still go through fn.  It forgets the slot it holds, unfilled,
 * before it calls fn and when the sink is removed, and asks for a new one
 * (*slot NULL) after: a slot stays the kernel's only until the sink's
 * function is called.  It also hands the slot back that way, unfilled,
 * before it sleeps (the loop's blocking wait, poe_kernel_prepare) and
 * when poe_kernel_run, poe_kernel_run_one_timeslice or
 * poe_kernel_dispatch return to their caller, so a sink that tells its
 * reader of new records only now and then can tell it there.  Must not
 * call back into the kernel.
 *
 * A sink with no room may lend a shedding slot instead: one whose kind is
 * POE_TK_SHED, whose group and event_id are 0, and whose arg.i[0] is its
 * budget, the records it may count (1 or less: one); its other bytes
 * need not be zero.  There the kernel counts records instead of writing
 * them: it sets group to the record's group and adds one to event_id,
 * reads no clock and defines nothing for it.  It hands the slot back
 * (forgets it and calls the slot function with *slot NULL) when event_id
 * reaches the budget, before it counts a record of another group there,
 * before it calls the sink's function or removes the sink, and before it
 * sleeps (the loop's blocking wait, poe_kernel_prepare), so the sink's
 * counts are never more than a budget behind, and current while the
 * program idles.  The sink, which knows the shedding slot it lent, finds
 * the group and the count there (group 0 when the kernel only asks for a
 * slot), counts those records as dropped, sets group and event_id back
 * to 0 and lends a slot again.  So a full sink costs the kernel's thread
 * two compares and a store per record, not the record nor a call, and a
 * sink's function keeps the compare with its shedding slot off its
 * common path.  The kernel never writes a shedding slot's kind, nor its
 * budget.
 */
typedef void (*poe_trace_slot_fn)(void *ctx, poe_trace_record **slot);

/** poe_kernel_trace_sink_add for a sink that also lends slots.  The first
 * such sink is the one the kernel fills in place; others are called as
 * plain sinks.  Returns its id (> 0), -EINVAL or -ENOSPC. */
POE_EXPORT int poe_kernel_trace_sink_add_slots(poe_kernel *k, poe_trace_sink_fn fn,
                                               poe_trace_slot_fn slot, void *ctx);

/** Also sends groups to sink id whether or not they are switched on for
 * the text lines (so a trace log can record what the terminal does not
 * show).  Trace groups only; returns 0, -ENOENT, -EINVAL, -EOPNOTSUPP. */
POE_EXPORT int poe_kernel_trace_sink_groups(poe_kernel *k, int id, unsigned groups);

/** Removes a sink by id; id 0 turns off the text lines.  Returns 0 or
 * -ENOENT. */
POE_EXPORT int poe_kernel_trace_sink_remove(poe_kernel *k, int id);

/** TRACE_DESTROY describes a freed session's heap with this hook (POE
 * dumps it with Data::Dumper): fn writes text into buf. */
POE_EXPORT void poe_kernel_set_heap_describer(poe_kernel *k,
                                              void (*fn)(void *ctx, poe_sid sid, void *heap,
                                                         char *buf, size_t size),
                                              void *ctx);

/* ------------------------------------------------------------------ */
/* Peek: read-only introspection (POE::API::Peek's spirit)             */
/* ------------------------------------------------------------------ */

/*
 * Everything a monitor of the kernel shows.  Call between dispatches or from a
 * handler, on the kernel's thread.  Walks call fn for each item; a
 * non-zero return stops the walk and is returned.  Callbacks must not
 * call into the kernel.  Strings are valid during the call (or, for
 * structs filled in, until the kernel next runs).
 */

/** Why a session is alive: the kinds of things it owns. */
enum poe_reason {
        POE_REASON_EVENTS_TO,   /* events queued to it */
        POE_REASON_EVENTS_FROM, /* events it posted, still queued */
        POE_REASON_CHILDREN,    /* child sessions */
        POE_REASON_ALIASES,     /* aliases */
        POE_REASON_EXTREFS,     /* refcount_increment tags */
        POE_REASON_TIMERS,      /* pending alarms and delays */
        POE_REASON_HANDLES,     /* watched fds, paused ones too */
        POE_REASON_SIGCHILD,    /* children it waits for (sig_child) */
        POE_REASON_POSTBACKS,   /* live postbacks and callbacks */
        POE_REASON_MAX
};

/** "events to", "timers", ... */
POE_EXPORT const char *poe_reason_name(int reason);

typedef struct poe_peek_kernel {
        const char *id;          /* poe_kernel_id */
        int pid;
        const char *loop;        /* poe_kernel_loop_name() */
        double now, started;     /* epoch seconds */
        size_t sessions;         /* not counting the kernel's own */
        size_t queue_length;     /* events queued, timers included */
        size_t timers, fds_watched, signal_watchers, pid_watchers, postbacks;
        uint64_t events_dispatched;
        unsigned debug_compiled, debug_enabled;
        poe_sid active_session;  /* POE_KERNEL when no handler runs */
        const char *active_event; /* NULL when no handler runs */
        int dispatching;         /* a handler is running */
        int running;             /* the kernel has sessions */
        double uptime;           /* seconds since it was made, on the monotonic
                                    (or fake) clock: a step of the wall clock
                                    moves now and started, not this */
} poe_kernel_info;

POE_EXPORT int poe_peek_kernel(const poe_kernel *k, poe_kernel_info *ret);

typedef struct poe_peek_session {
        poe_sid id, parent;
        uint32_t refcount;                 /* the sum of reasons[] */
        uint32_t reasons[POE_REASON_MAX];  /* item counts per kind */
        size_t n_children, n_aliases, n_handlers;
        const char *first_alias;           /* in sorted order, or NULL */
        uint64_t events_dispatched;
        double busy_seconds;               /* time in its handlers, always kept: a
                                              top-level dispatch's time on the coarse
                                              clock (1-4 ms ticks; right on average,
                                              a long one to a tick), calls it makes
                                              included */
        double created;                    /* epoch seconds (to a coarse tick) */
        int stopping, marked_for_gc;
        double last_dispatch;              /* epoch seconds of its last dispatch (to a
                                              coarse tick); 0 if none */
        /* Its top-level dispatches that took poe_kernel_set_slow_dispatch's
         * time or more: how many, the slowest's seconds and event, and when
         * the last one began (epoch seconds); 0 and NULL when none. */
        uint32_t slow_dispatches;
        double slowest_seconds;
        const char *slowest_event;
        double last_slow;
        /* Timers it set for a time already past (by more than 1 ms): how
         * many, and when the first and the last were set (epoch seconds). */
        uint32_t timers_past;
        double timers_past_first, timers_past_last;
} poe_session_info;

/** One session.  Returns 0 or -ESRCH. */
POE_EXPORT int poe_peek_session(const poe_kernel *k, poe_sid sid, poe_session_info *ret);

/** Every session, depth first: parents before children, children in
 * creation order. */
POE_EXPORT int poe_peek_sessions(const poe_kernel *k,
                                 int (*fn)(void *ctx, const poe_session_info *s), void *ctx);

/** A session's handlers' event names, in no particular order.  Returns
 * 0, -ESRCH, or fn's non-zero value. */
POE_EXPORT int poe_peek_handlers(const poe_kernel *k, poe_sid sid,
                                 int (*fn)(void *ctx, const char *event), void *ctx);

/** One reason a session is alive, with the object behind it. */
typedef struct poe_peek_item {
        int reason;              /* POE_REASON_* */
        const char *reason_name;
        uint64_t id;             /* event or timer id, child id, fd, pid */
        const char *name;        /* event name, alias, tag; NULL if none */
        poe_sid other;           /* an event's sender or receiver */
        double when;             /* an event's or timer's due time */
        int count;               /* an extref's count; an fd's modes (bit 0 read,
                                    1 write, 2 expedite); postbacks alive */
        const char *file;        /* where an event or timer was queued, an
                                    extref last raised; NULL for the others */
        int line;
} poe_peek_item;

/** A session's reasons to be alive, item by item.  The items of each
 * kind number reasons[kind], except POSTBACKS, reported as one item
 * with the count.  Returns 0, -ESRCH, or fn's non-zero value. */
POE_EXPORT int poe_peek_reasons(const poe_kernel *k, poe_sid sid,
                                int (*fn)(void *ctx, const poe_peek_item *item), void *ctx);

/** One postback or callback (poe_peek_postbacks). */
typedef struct poe_peek_postback {
        poe_sid session;         /* the session it posts or calls to */
        const char *event;
        int callback;            /* made by poe_session_callback */
        int weak;                /* weakened, or its session stopped: holds nothing */
        const char *file;        /* where it was made; "" if not known */
        int line;
        double created;          /* epoch seconds */
        uint64_t invocations;    /* poe_postback_invoke calls so far */
} poe_peek_postback;

/** The postbacks and callbacks not freed, of session sid or, for
 * POE_KERNEL, of every session, in the order they were made.  Returns 0,
 * -ESRCH, -EINVAL, or fn's non-zero value. */
POE_EXPORT int poe_peek_postbacks(const poe_kernel *k, poe_sid sid,
                                  int (*fn)(void *ctx, const poe_peek_postback *pb), void *ctx);

typedef struct poe_peek_event {
        uint64_t id;
        poe_sid to, from;
        const char *event;       /* a signal's name for signals */
        const char *type;        /* "post", "alarm", "signal", "die", "sig_child", "gc" */
        double due;              /* epoch seconds */
        size_t nargs;
        const char *file;        /* where it was posted from */
        int line;
} poe_peek_event;

/** The queue in dispatch order.  Returns 0, -ENOMEM, or fn's value. */
POE_EXPORT int poe_peek_queue(const poe_kernel *k,
                              int (*fn)(void *ctx, const poe_peek_event *ev), void *ctx);

/** The pending timers in due order.  Returns 0, -ENOMEM (for the sorted
 * copy; fn is not called), or fn's value. */
POE_EXPORT int poe_peek_timers(const poe_kernel *k,
                               int (*fn)(void *ctx, const poe_peek_event *ev), void *ctx);

typedef struct poe_peek_watcher {
        int fd;
        int mode;                /* 0 read, 1 write, 2 expedite */
        poe_sid session;
        const char *event;
        int paused;
} poe_peek_watcher;

/** The I/O watchers, by fd. */
POE_EXPORT int poe_peek_watchers(const poe_kernel *k,
                                 int (*fn)(void *ctx, const poe_peek_watcher *w), void *ctx);

typedef struct poe_peek_signal {
        const char *signal;
        poe_sid session;
        const char *event;
        int pid;                 /* > 0: a sig_child watch for this pid */
} poe_peek_signal;

/** The signal watchers (in no particular order), then the awaited pids. */
POE_EXPORT int poe_peek_signals(const poe_kernel *k,
                                int (*fn)(void *ctx, const poe_peek_signal *w), void *ctx);

/* ------------------------------------------------------------------ */
/* The handler context: POE's @_                                       */
/* ------------------------------------------------------------------ */

POE_EXPORT poe_kernel *poe_ctx_kernel(const poe_ctx *c);       /* KERNEL */
POE_EXPORT poe_sid poe_ctx_session(const poe_ctx *c);          /* SESSION */
POE_EXPORT void *poe_ctx_heap(const poe_ctx *c);               /* HEAP */
POE_EXPORT const char *poe_ctx_state(const poe_ctx *c);        /* STATE */
POE_EXPORT poe_sid poe_ctx_sender(const poe_ctx *c);           /* SENDER */
POE_EXPORT void *poe_ctx_object(const poe_ctx *c);             /* OBJECT */
POE_EXPORT const char *poe_ctx_caller_file(const poe_ctx *c);  /* CALLER_FILE */
POE_EXPORT int poe_ctx_caller_line(const poe_ctx *c);          /* CALLER_LINE */
POE_EXPORT const char *poe_ctx_caller_state(const poe_ctx *c); /* CALLER_STATE, "" if none */
/** The number of arguments (ARG0..). */
POE_EXPORT size_t poe_ctx_argc(const poe_ctx *c);
/** ARGi, borrowed for the handler's duration; a nil value past the end. */
POE_EXPORT const poe_value *poe_ctx_arg(const poe_ctx *c, size_t i);
/** Takes ARGi out of the event: the handler now owns a pointer value's
 * destructor, and the kernel will not call it.  Other kinds are returned
 * as they are (borrowed).  Returns nil past the end. */
POE_EXPORT poe_value poe_ctx_take_arg(poe_ctx *c, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* POE_POE_H */
