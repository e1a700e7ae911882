/*
 * The kernel object and its run loop: POE::Kernel's new, run,
 * run_one_timeslice, run_while, stop and accessors, and the handler
 * context accessors.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "aliases.h"
#include "clock.h"
#include "debug.h"
#include "events.h"
#include "exceptions.h"
#include "io.h"
#include "postbacks.h"
#include "queue.h"
#include "sessions.h"
#include "signals.h"
#include "slice.h"
#include "trace.h"
#include "xthread.h"

static void *libc_malloc(size_t n, void *ctx)
{
        (void)ctx;
        return malloc(n);
}

static void *libc_realloc(void *p, size_t n, void *ctx)
{
        (void)ctx;
        return realloc(p, n);
}

static void libc_free(void *p, void *ctx)
{
        (void)ctx;
        free(p);
}

/* POE's _warn: every line prefixed with "=== PID === ", on stderr. */
void poe__warn(poe_kernel *k, const char *fmt, ...)
{
        char buf[2048];
        va_list ap;

        (void)k;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        poe__pid_lines(stderr, "", buf);
}

/* POE's _recalc_id: hostname, then monotonic time, pid and a sequence
 * number, each as 8 hex digits. */
void poe__make_id(poe_kernel *k)
{
        static unsigned seq; /* only makes ids distinct; races are harmless */
        char host[64] = "localhost";

        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        snprintf(k->id, sizeof(k->id), "%s-%08" PRIx32 "-%08" PRIx32 "-%08x", host,
                 (uint32_t)(poe__mono(k) / 1000000000), (uint32_t)getpid(), ++seq);
}

/* A POE_* switch: unset gives the default, "0" or "" turn it off. */
static bool env_flag(const char *name, bool dflt)
{
        const char *v = getenv(name);

        if (!v)
                return dflt;
        return *v && strcmp(v, "0") != 0;
}

/* POE's constants that POE reads from %ENV or takes from the program
 * before POE::Kernel loads.  Read once, here. */
static void read_environment(poe_kernel *k)
{
        const char *v = getenv("POE_CHILD_POLLING_INTERVAL");
        char *end;

        k->catch_exceptions = env_flag("POE_CATCH_EXCEPTIONS", true);
        k->use_sigchld = env_flag("POE_USE_SIGCHLD", true);
        k->use_signal_pipe = env_flag("POE_USE_SIGNAL_PIPE", true);
        k->child_poll_interval = 1.0;
        if (v) {
                double d = strtod(v, &end);

                if (*end || !(d > 0 && d <= 3600))
                        poe__warn(k, "POE_CHILD_POLLING_INTERVAL=%s is not a number of "
                                     "seconds in (0, 3600]; using 1\n", v);
                else
                        k->child_poll_interval = d;
        }
}

POE_EXPORT int poe_kernel_new(poe_kernel **ret_kernel, const poe_allocator *alloc)
{
        poe_allocator a = { libc_malloc, libc_realloc, libc_free, NULL };
        poe_kernel *k;
        int err;

        POE_ASSERT_RETURN(ret_kernel, -EINVAL);
        POE_ASSERT_RETURN(!alloc || (alloc->malloc && alloc->realloc && alloc->free), -EINVAL);
        if (alloc)
                a = *alloc;
        k = a.malloc(sizeof(*k), a.ctx);
        if (!k)
                return -ENOMEM;
        memset(k, 0, sizeof(*k));
        k->alloc = a;
        poe__list_init(&k->fifo);
        poe__list_init(&k->gc_marked);
        poe__list_init(&k->pidwatches);
        poe__list_init(&k->postbacks);
        k->chld_poll_due = -1;
        k->sig_slot = -1;
        k->sig_pipe[0] = k->sig_pipe[1] = -1;
        k->active_event = POE__NO_NAME;
        k->trace_epoch = 1;
        k->log_serial_seq = POE_TRACE_THE_KERNEL;
        k->loop_name = POE__NO_NAME;
        poe__make_id(k);
        k->wake_fd = -1;
        poe__clock_init(k);
        k->started = poe__wall(k);
        k->started_mono = poe__mono(k);
        k->slice_now = k->slice_prev = k->now;
        k->stats.last_bucket = -1; /* no dispatch timed yet */
        k->slow_ns = POE__SLOW_DEFAULT_NS;
        k->pid = getpid();
        read_environment(k);
        poe__debug_from_env(k);
        if (poe__names_init(k) < 0 || poe__kernel_session_init(k) < 0) {
                poe_kernel_free(k);
                return -ENOMEM;
        }
        err = poe__loop_init(k);
        if (err == 0)
                err = poe__os_signals_init(k);
        if (err < 0) {
                poe_kernel_free(k);
                return err;
        }
        poe__os_ignore_sigpipe();
        /* Last, with the kernel whole: what other libraries registered
         * (poe_kernel_hook_add) runs now. */
        poe__hooks_run_new(k, &k->hooks);
        *ret_kernel = k;
        return 0;
}

/*
 * POE::Kernel's DESTROY: a program that made sessions but never called
 * run() (only run_one_timeslice or run_while, or nothing) probably died
 * before it could, so the kernel says so as it goes.  stop() takes the
 * sessions made before it back.
 */
static void warn_if_never_run(poe_kernel *k)
{
        if (k->run_called || !k->run_sessions)
                return;
        poe__warn(k, "Sessions were started, but POE::Kernel's run() method was never\n"
                     "called to execute them.  This usually happens because an error\n"
                     "occurred before POE::Kernel->run() could be called.  Please fix\n"
                     "any errors above this notice, and be sure that POE::Kernel->run()\n"
                     "is called.  See documentation for POE::Kernel's run() method for\n"
                     "another way to disable this warning.\n");
}

static poe_kernel *default_kernel;

/* The default kernel is never freed; it warns at exit as POE's
 * singleton does in global destruction. */
static void default_kernel_at_exit(void)
{
        if (default_kernel)
                warn_if_never_run(default_kernel);
}

POE_EXPORT poe_kernel *poe_kernel_default(void)
{
        static bool registered;

        if (!default_kernel) {
                if (poe_kernel_new(&default_kernel, NULL) < 0)
                        return NULL;
                if (!registered)
                        registered = atexit(default_kernel_at_exit) == 0;
        }
        return default_kernel;
}

POE_EXPORT poe_kernel *poe_kernel_free(poe_kernel *k)
{
        if (!k)
                return NULL;
        warn_if_never_run(k);
        if (k == default_kernel)
                default_kernel = NULL;
        poe__hooks_run_free(k, &k->hooks);
        poe__postbacks_detach(k);
        poe__os_signals_fini(k);
        poe__loop_fini(k);
        poe__queue_free(k);
        if (k->parked_event)
                poe__event_free(k, k->parked_event);
        poe__events_free(k);
        poe__handles_free(k);
        poe__sessions_free_all(k);
        poe__exceptions_free(k);
        poe__debug_free(k);
        poe__pmap_free(k, &k->aliases);
        poe__free(k, k->sig_watchers);
        poe__names_free(k);
        k->alloc.free(k, k->alloc.ctx);
        return NULL;
}

/*
 * POE::Loop's loop_do_timeslice: the one path of every loop.  run() and
 * run_one_timeslice() block in the wait (block); a host loop's
 * poe_kernel_dispatch() has slept already, in its own loop, and only
 * polls.
 */
static void do_timeslice(poe_kernel *k, bool block)
{
        if (block && poe__slice_only_events(k)) {
                poe__dispatch_due(k);
                return;
        }
        poe__busy_stop(k); /* a wait may follow */
        poe__test_if_idle(k);
        poe__loop_wait(k, block);
        poe__io_dispatch_ready(k);
        poe__dispatch_due(k);
}

static void finalize(poe_kernel *k)
{
        k->kernel_watches_idle = false;
        k->run_done = true;
}

/*
 * The dispatch a nested run() is made from (see enter_run): what the
 * kernel's own dispatch loop keeps in the kernel rather than on the
 * stack, put aside for the nested run and put back after it.
 */
typedef struct nest {
        bool nested;
        poe__session *active;
        uint32_t active_event, active_type;
        int dispatch_depth, rerun_depth;
        int64_t slice_now;
        uint64_t slice_cut;
        poe__delivery top; /* also what the handler's poe_ctx points into */
} nest;

/*
 * run() and run_one_timeslice() start outside handlers.
 * Inside one, only in a forked child whose handler has stopped the
 * kernel it inherited (POE's stop() "is recommended in a POE::Wheel::Run
 * coderef Program, before setting up for the next POE::Kernel->run()"):
 * the kernel then runs nested in that handler, with the handler's
 * dispatch put aside, as POE's run() does from any Perl frame.  Anywhere
 * else a run inside a handler would re-enter the dispatch it is part of,
 * so it stays refused.  As POE's run() (not run_one_timeslice, which
 * would pay a getpid() per slice), a change of pid implies has_forked.
 */
static void enter_run(poe_kernel *k, nest *n, bool check_pid)
{
        n->nested = false;
        if (check_pid && getpid() != k->pid)
                poe_kernel_has_forked(k);
        if (k->dispatch_depth == 0) {
                k->rerun_depth = 0;
                return;
        }
        n->nested = true;
        n->active = k->active;
        n->active_event = k->active_event;
        n->active_type = k->active_type;
        n->dispatch_depth = k->dispatch_depth;
        n->rerun_depth = k->rerun_depth;
        n->slice_now = k->slice_now;
        n->slice_cut = k->slice_cut;
        n->top = k->top;
        k->active = k->ksession;
        k->active_event = POE__NO_NAME;
        k->active_type = 0;
        k->dispatch_depth = 0;
        k->rerun_depth = 0;
        atomic_store_explicit(&k->pub_depth, 0, memory_order_relaxed);
}

static void leave_run(poe_kernel *k, const nest *n)
{
        if (!n->nested)
                return;
        k->active = n->active;
        k->active_event = n->active_event;
        k->active_type = n->active_type;
        k->dispatch_depth = n->dispatch_depth;
        k->rerun_depth = n->rerun_depth;
        k->slice_now = n->slice_now;
        k->slice_cut = n->slice_cut;
        k->top = n->top;
        atomic_store_explicit(&k->pub_depth, n->dispatch_depth, memory_order_relaxed);
}

/*
 * run()'s timeslices until the kernel's session is gone, or -ENOMEM when
 * the signal that would end the run cannot be raised for want of memory.
 * Apart from run_loop and its landing frame, so that k stays in a
 * register: after a setjmp the compiler keeps the frame's variables in
 * memory, which a slice per event (a yield chain) would pay each time.
 */
static __attribute__((noinline)) int run_slices(poe_kernel *k)
{
        while (k->ksession->alive) {
                do_timeslice(k, true);
                if (k->raise_failures >= POE__RAISE_TRIES)
                        return -ENOMEM;
        }
        return 0;
}

static int run_loop(poe_kernel *k)
{
        poe__frame f;
        bool outer;

        k->run_called = true; /* POE's KR_RUN_CALLED */
        if (!k->ksession->alive || k->n_sessions == 0) {
                finalize(k);
                return 0;
        }
        /* All signals must be watched explicitly; the kernel watches
         * IDLE so that it can follow it with ZOMBIE (POE's run). */
        k->kernel_watches_idle = true;
        poe__exception_clear(k);
        /* The landing frame for every top-level handler's poe_die, set
         * once for the run (events.c's poe__dispatch_resume; the die
         * path: exceptions.c). */
        poe__frame_push(k, &f);
        outer = k->run_slicing;
        k->run_slicing = true;
        if (POE__SETJMP(f.jb) != 0)
                poe__slice_landed(k, &f);
        if (run_slices(k) < 0) {
                /* Out of memory for good: the sessions stay for a later
                 * run. */
                k->raise_failures = 0;
                k->kernel_watches_idle = false;
                k->run_slicing = outer;
                k->frame = f.up;
                return -ENOMEM;
        }
        k->run_slicing = outer;
        k->frame = f.up;
        poe__busy_stop(k);
        finalize(k);
        /* POE rethrows the exception that stopped the kernel. */
        return k->exception ? -ECANCELED : 0;
}

POE_EXPORT int poe_kernel_run(poe_kernel *k)
{
        nest n;
        int r;

        POE_CHECK(k, k, -EINVAL);
        POE_CHECK(k, k->dispatch_depth == 0 || k->rerun_depth == k->dispatch_depth, -EPERM);
        enter_run(k, &n, true);
        r = run_loop(k);
        poe__trace_slot_idle(k);
        leave_run(k, &n);
        return poe__rv(k, r, __func__);
}

/* One timeslice with its landing frame for poe_die: run_one_timeslice
 * (block) and a host loop's dispatch. */
static int timeslice(poe_kernel *k, bool block)
{
        poe__frame f;

        if (!k->ksession->alive || k->n_sessions == 0) {
                finalize(k);
                return 0;
        }
        poe__exception_clear(k);
        poe__frame_push(k, &f);
        if (POE__SETJMP(f.jb) == 0)
                do_timeslice(k, block);
        else
                poe__slice_landed(k, &f);
        k->frame = f.up;
        /* Back to the caller, which may not call again for a while: the
         * trace log's counts are made current and its records seen. */
        poe__trace_slot_idle(k);
        poe__busy_stop(k); /* the host's time follows */
        if (k->raise_failures >= POE__RAISE_TRIES) {
                k->raise_failures = 0;
                return -ENOMEM;
        }
        return k->exception ? -ECANCELED : 1;
}

POE_EXPORT int poe_kernel_run_one_timeslice(poe_kernel *k)
{
        nest n;
        int r;

        POE_CHECK(k, k, -EINVAL);
        POE_CHECK(k, k->dispatch_depth == 0 || k->rerun_depth == k->dispatch_depth, -EPERM);
        enter_run(k, &n, false);
        r = timeslice(k, true);
        leave_run(k, &n);
        return poe__rv(k, r, __func__);
}

POE_EXPORT int poe_kernel_dispatch(poe_kernel *k)
{
        int r;

        POE_CHECK(k, k, -EINVAL);
        POE_CHECK(k, k->dispatch_depth == 0, -EPERM);
        /* As run(): IDLE is followed by ZOMBIE (see poe_kernel_prepare). */
        if (k->ksession->alive && k->n_sessions > 0)
                k->kernel_watches_idle = true;
        r = timeslice(k, false);
        /* A host loop learns at once that the last session is gone, so
         * it can stop watching (and let its own loop end). */
        if (r == 1 && (!k->ksession->alive || k->n_sessions == 0)) {
                finalize(k);
                r = 0;
        }
        return poe__rv(k, r, __func__);
}

POE_EXPORT int poe_kernel_run_while(poe_kernel *k, const volatile int *flag)
{
        int r = 1;

        POE_CHECK(k, k && flag, -EINVAL);
        while (*flag && r == 1)
                r = poe_kernel_run_one_timeslice(k);
        return poe__rv(k, r, __func__);
}

/*
 * POE::Kernel->stop: every session but the kernel's is stopped, the
 * deepest first (the reverse of a breadth-first walk), and new sessions
 * made by the running handler become children of the kernel.
 */
POE_EXPORT void poe_kernel_stop(poe_kernel *k)
{
        poe__session **all = NULL;
        int n, i;

        if (!k)
                return;
        /* POE rolls back whether sessions were started, kernel running
         * or not (the "run() was never called" warning). */
        k->run_sessions = false;
        /* "When the PID has changed, imply _data_sig_has_forked() during
         * stop()"; and a forked child's handler that stops the kernel
         * may run it again from where it is (see enter_run). */
        if (getpid() != k->pid)
                poe_kernel_has_forked(k);
        if (k->forked && k->dispatch_depth > 0)
                k->rerun_depth = k->dispatch_depth;
        if (!k->ksession->alive)
                return;
        n = poe__session_tree(k, k->ksession, &all);
        if (n < 0) {
                /* Without memory for the walk, stop the kernel's children
                 * one by one; each takes its subtree with it. */
                while (!poe__list_empty(POE__MORE_LIST(k->ksession, children)))
                        poe__session_stop(
                                k, poe__container_of(poe__list_last(&k->ksession->more->children),
                                                     poe__session, sibling));
        } else {
                for (i = n - 1; i >= 1; i--)
                        if (all[i]->alive)
                                poe__session_stop(k, all[i]);
                for (i = 0; i < n; i++)
                        poe__session_unpin(k, all[i]);
                poe__free(k, all);
        }
        k->active = k->ksession;
        poe__gc_sweep(k);
}

POE_EXPORT void poe_kernel_set_heap_describer(poe_kernel *k,
                                              void (*fn)(void *ctx, poe_sid sid, void *heap,
                                                         char *buf, size_t size),
                                              void *ctx)
{
        if (!k)
                return;
        k->heap_describer = fn;
        k->heap_describer_ctx = ctx;
}

POE_EXPORT poe_sid poe_kernel_get_active_session(const poe_kernel *k)
{
        return k ? k->active->id : POE_KERNEL;
}

POE_EXPORT const char *poe_kernel_get_active_event(const poe_kernel *k)
{
        return k && k->active_event != POE__NO_NAME ? poe__name(k, k->active_event) : "";
}

POE_EXPORT const char *poe_kernel_id(const poe_kernel *k)
{
        return k ? k->id : "";
}

/* ---- the handler context ---- */

POE_EXPORT poe_kernel *poe_ctx_kernel(const poe_ctx *c)
{
        return c->k;
}

POE_EXPORT poe_sid poe_ctx_session(const poe_ctx *c)
{
        return c->s->id;
}

POE_EXPORT void *poe_ctx_heap(const poe_ctx *c)
{
        return c->s->heap;
}

POE_EXPORT const char *poe_ctx_state(const poe_ctx *c)
{
        return poe__name(c->k, c->state);
}

POE_EXPORT poe_sid poe_ctx_sender(const poe_ctx *c)
{
        return c->sender;
}

POE_EXPORT void *poe_ctx_object(const poe_ctx *c)
{
        return c->object;
}

POE_EXPORT const char *poe_ctx_caller_file(const poe_ctx *c)
{
        return c->file ? c->file : "";
}

POE_EXPORT int poe_ctx_caller_line(const poe_ctx *c)
{
        return c->line;
}

POE_EXPORT const char *poe_ctx_caller_state(const poe_ctx *c)
{
        return c->from_state == POE__NO_NAME ? "" : poe__name(c->k, c->from_state);
}

POE_EXPORT size_t poe_ctx_argc(const poe_ctx *c)
{
        return c->nargs;
}

POE_EXPORT const poe_value *poe_ctx_arg(const poe_ctx *c, size_t i)
{
        static const poe_value nil; /* zero is POE_T_NIL */

        return i < c->nargs ? &c->args[i] : &nil;
}

POE_EXPORT poe_value poe_ctx_take_arg(poe_ctx *c, size_t i)
{
        poe_value v;

        if (i >= c->nargs)
                return poe_nil();
        v = c->args[i];
        if (v.type == POE_T_PTR)
                c->args[i].u.ptr.destroy = NULL;
        return v;
}
