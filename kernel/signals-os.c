/*
 * Real OS signals, delivered as POE signals.
 *
 * The OS handler does one thing: for each kernel watching that signal it
 * writes the signal number to the kernel's signal pipe (or, with
 * POE_USE_SIGNAL_PIPE=0, sets a pending bit and lets the interrupted
 * wait notice), then restores errno.  Everything POE does with a signal
 * happens later, on the loop: the signal goes to the kernel, which
 * reaches every session (POE::Loop::PerlSignals' generic handler);
 * CHLD reaps children instead (children.c).
 *
 * The table below is the one piece of process-wide mutable state in
 * libpoe: which kernels watch which signals, and the dispositions to
 * restore.  Changes to it take a mutex; the handler only reads it.
 * A handler is installed when a signal is first watched by any kernel,
 * and the previous disposition restored when the last watcher goes, as
 * POE installs $SIG{X} only while someone watches X.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "io.h"
#include "signals.h"
#include "trace.h"

#define MAX_KERNELS 64

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
/* The write end of each kernel's pipe, stored as fd + 2 so that 0 means
 * a free slot and 1 a kernel without a pipe (POE_USE_SIGNAL_PIPE=0). */
static _Atomic int slot_fd[MAX_KERNELS];
static _Atomic uint64_t slot_mask[MAX_KERNELS];   /* signals the slot watches */
/* Signals caught and not yet delivered, per slot: read without a
 * syscall by the loop (poe__os_signals_pending, signals.h). */
_Atomic uint64_t poe__slot_pending[MAX_KERNELS];
#define slot_pending poe__slot_pending
static bool slot_used[MAX_KERNELS];
static int installed[65];                 /* kernels watching each signal */
static struct sigaction saved[65];        /* what to restore */

static const struct {
        const char *name;
        int signo;
} names[] = {
        { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "BUS", SIGBUS },     { "FPE", SIGFPE },
        { "USR1", SIGUSR1 },   { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },
        { "TERM", SIGTERM },   { "CHLD", SIGCHLD },     { "CLD", SIGCHLD },    { "CONT", SIGCONT },
        { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
        { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
        { "WINCH", SIGWINCH }, { "IO", SIGIO },         { "SYS", SIGSYS },
#ifdef SIGPWR
        { "PWR", SIGPWR },
#endif
#ifdef SIGSTKFLT
        { "STKFLT", SIGSTKFLT },
#endif
};

/* The catchable OS signal a POE signal name stands for, or 0 (SEGV,
 * KILL and STOP are not POE's "safe" signals; user names are not OS
 * signals at all). */
int poe__os_signo(const char *name)
{
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(name, names[i].name) == 0)
                        return names[i].signo;
        return 0;
}

const char *poe__os_signame(int signo)
{
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (names[i].signo == signo)
                        return names[i].name;
        return "UNKNOWN";
}

/* Async-signal-safe: atomics, write(), and errno restored. */
static void on_signal(int signo)
{
        int saved_errno = errno, i;
        uint64_t bit = (uint64_t)1 << (signo - 1);

        for (i = 0; i < MAX_KERNELS; i++) {
                int fd = atomic_load(&slot_fd[i]) - 2;

                if (fd == -2 || !(atomic_load(&slot_mask[i]) & bit))
                        continue;
                atomic_fetch_or(&slot_pending[i], bit);
                if (fd >= 0) {
                        unsigned char b = (unsigned char)signo;
                        ssize_t r = write(fd, &b, 1);

                        (void)r; /* a full pipe already holds a wake-up */
                }
        }
        errno = saved_errno;
}

/* Takes a slot in the table for a kernel.  -EMFILE when all are used. */
int poe__os_signals_init(poe_kernel *k)
{
        int i, fds[2] = { -1, -1 };

        k->sig_slot = -1;
        k->sig_pipe[0] = k->sig_pipe[1] = -1;
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
                return -errno;
        pthread_mutex_lock(&table_lock);
        for (i = 0; i < MAX_KERNELS && slot_used[i]; i++)
                ;
        if (i == MAX_KERNELS) {
                pthread_mutex_unlock(&table_lock);
                close(fds[0]);
                close(fds[1]);
                return -EMFILE;
        }
        slot_used[i] = true;
        atomic_store(&slot_mask[i], 0);
        atomic_store(&slot_pending[i], 0);
        /* Without the pipe the handler only marks the signal pending. */
        atomic_store(&slot_fd[i], k->use_signal_pipe ? fds[1] + 2 : 1);
        pthread_mutex_unlock(&table_lock);
        k->sig_slot = i;
        k->sig_pipe[0] = fds[0];
        k->sig_pipe[1] = fds[1];
        return k->loop->update(k, fds[0], 0, POE__IO_BIT(POE__MODE_RD));
}

static void restore(int signo)
{
        sigaction(signo, &saved[signo], NULL);
}

void poe__os_signals_fini(poe_kernel *k)
{
        int signo, i = k->sig_slot;

        if (i < 0)
                return;
        pthread_mutex_lock(&table_lock);
        for (signo = 1; signo <= 64; signo++) {
                if (!(atomic_load(&slot_mask[i]) & ((uint64_t)1 << (signo - 1))))
                        continue;
                if (--installed[signo] == 0)
                        restore(signo);
        }
        atomic_store(&slot_mask[i], 0);
        atomic_store(&slot_fd[i], 0);
        slot_used[i] = false;
        pthread_mutex_unlock(&table_lock);
        close(k->sig_pipe[0]);
        close(k->sig_pipe[1]);
        k->sig_slot = -1;
}

/* Starts catching signo for this kernel (POE's loop_watch_signal). */
int poe__os_watch(poe_kernel *k, int signo)
{
        uint64_t bit = (uint64_t)1 << (signo - 1);
        int err = 0;

        if (k->sig_slot < 0)
                return -EINVAL;
        pthread_mutex_lock(&table_lock);
        if (!(atomic_load(&slot_mask[k->sig_slot]) & bit)) {
                if (installed[signo] == 0) {
                        struct sigaction sa;

                        memset(&sa, 0, sizeof(sa));
                        sa.sa_handler = on_signal;
                        sigfillset(&sa.sa_mask);
                        /* Restart slow calls in application code; the
                         * kernel's own wait wakes through the pipe, or,
                         * without one, through EINTR (no SA_RESTART then). */
                        sa.sa_flags = k->use_signal_pipe ? SA_RESTART : 0;
                        if (signo == SIGCHLD)
                                sa.sa_flags |= SA_NOCLDSTOP;
                        if (sigaction(signo, &sa, &saved[signo]) < 0)
                                err = -errno;
                }
                if (!err) {
                        installed[signo]++;
                        atomic_fetch_or(&slot_mask[k->sig_slot], bit);
                }
        }
        pthread_mutex_unlock(&table_lock);
        return err;
}

/* Stops catching signo for this kernel (POE's loop_ignore_signal). */
void poe__os_unwatch(poe_kernel *k, int signo)
{
        uint64_t bit = (uint64_t)1 << (signo - 1);

        if (k->sig_slot < 0)
                return;
        pthread_mutex_lock(&table_lock);
        if (atomic_load(&slot_mask[k->sig_slot]) & bit) {
                atomic_fetch_and(&slot_mask[k->sig_slot], ~bit);
                if (--installed[signo] == 0)
                        restore(signo);
        }
        pthread_mutex_unlock(&table_lock);
}

/* Signals caught since the last call, as a bit set; drains the pipe. */
static uint64_t take_pending(poe_kernel *k)
{
        unsigned char buf[64];

        if (k->sig_slot < 0)
                return 0;
        if (k->sig_ready) {
                k->sig_ready = false;
                while (read(k->sig_pipe[0], buf, sizeof(buf)) > 0)
                        ;
        } else if (atomic_load_explicit(&slot_pending[k->sig_slot], memory_order_relaxed) == 0) {
                /* Nothing caught: a plain load, not a locked exchange per
                 * wake-up.  A signal caught after it is taken next time,
                 * as one caught after the exchange would be. */
                return 0;
        }
        return atomic_exchange(&slot_pending[k->sig_slot], 0);
}


/* POE's signal-pipe reader: each caught signal becomes a POE signal to
 * the kernel, except CHLD, which reaps. */
void poe__os_signals_deliver(poe_kernel *k)
{
        uint64_t pending = take_pending(k);
        int signo;

        for (signo = 1; pending && signo <= 64; signo++) {
                if (!(pending & ((uint64_t)1 << (signo - 1))))
                        continue;
                pending &= ~((uint64_t)1 << (signo - 1));
                POE_TRACE(k, POE_TRACE_SIGNALS, NULL, POE__NO_NAME, NULL, NULL,
                          .kind = POE_TK_OS_SIGNAL, .arg.i = { signo },
                          .text = poe__os_signame(signo),
                          .text_len = (uint16_t)strlen(poe__os_signame(signo)));
                if (signo == SIGCHLD)
                        poe__children_reap(k);
                else
                        poe__kernel_signal_name(k, poe__os_signame(signo));
        }
}

/* POE ignores SIGPIPE while nobody watches PIPE, so a write to a closed
 * socket fails with EPIPE instead of killing the program.  Done once per
 * process, and only over the default disposition. */
void poe__os_ignore_sigpipe(void)
{
        struct sigaction sa;

        pthread_mutex_lock(&table_lock);
        if (installed[SIGPIPE] == 0 && sigaction(SIGPIPE, NULL, &sa) == 0 &&
            sa.sa_handler == SIG_DFL) {
                sa.sa_handler = SIG_IGN;
                sigaction(SIGPIPE, &sa, NULL);
        }
        pthread_mutex_unlock(&table_lock);
}

/* After fork, in the child: a pipe of its own (POE's has_forked). */
int poe__os_signals_forked(poe_kernel *k)
{
        int fds[2];

        if (k->sig_slot < 0)
                return 0;
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
                return -errno;
        close(k->sig_pipe[0]);
        close(k->sig_pipe[1]);
        k->sig_pipe[0] = fds[0];
        k->sig_pipe[1] = fds[1];
        if (k->use_signal_pipe)
                atomic_store(&slot_fd[k->sig_slot], fds[1] + 2);
        return 0;
}
