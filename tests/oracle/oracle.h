/*
 * Helpers shared by the C side of the oracle tests.  Each prints a value
 * the way the Perl side of the scenario prints it, so the two transcripts
 * can be compared byte for byte:
 *   - a session as its id, the kernel (POE_KERNEL) as "K";
 *   - undef (nil) as "undef", anything else as poe_value_format() does;
 *   - a return code as "ok" (>= 0) or "err N" where N is POE's $! (-rc);
 *   - call()'s outcome as "rc=N ret=V".
 * Calls that return an errno directly in POE (alias_set, alias_remove,
 * state) are printed by the scenarios as -rc, a number on both sides.
 * The strings live in a ring of 16 static buffers: use them at once (in
 * one printf), never keep one across other calls.
 */
#ifndef POE_ORACLE_H
#define POE_ORACLE_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poe/poe.h>

static inline char *oracle_buf(void)
{
        static char bufs[16][256];
        static int i;

        i = (i + 1) % 16;
        return bufs[i];
}

/** A session id as the Perl side prints it: "K" for the kernel. */
static inline const char *id_of(poe_sid sid)
{
        char *b;

        if (sid == POE_KERNEL)
                return "K";
        b = oracle_buf();
        snprintf(b, 256, "%" PRIu64, sid);
        return b;
}

/** A value: "undef" for nil, a session as id_of() does, else formatted. */
static inline const char *val(const poe_value *v)
{
        char *b;

        if (v->type == POE_T_NIL)
                return "undef";
        if (v->type == POE_T_SESSION)
                return id_of(v->u.sid);
        b = oracle_buf();
        poe_value_format(v, b, 256);
        return b;
}

/** A return code: "ok" or "err N" with N = -rc (POE's $!). */
static inline const char *err(int rc)
{
        char *b;

        if (rc >= 0)
                return "ok";
        b = oracle_buf();
        snprintf(b, 256, "err %d", -rc);
        return b;
}

/** call()'s outcome as the Perl side prints it: "rc=N ret=V", where N is
 * $! after the call (POE's call() sets it to 0 on success) and V the
 * handler's return value ("undef" when there was none, or on failure). */
static inline const char *called(int rc, const poe_value *ret)
{
        char *b = oracle_buf();

        snprintf(b, 256, "rc=%d ret=%s", rc < 0 ? -rc : 0, rc < 0 ? "undef" : val(ret));
        return b;
}

/** Creates a session from a handler table, or exits: the scenarios are
 * not about creation failing. */
static inline poe_sid oracle_create(poe_kernel *k, const poe_handler *handlers, size_t n,
                                    const poe_value *args, size_t nargs, void *heap)
{
        poe_session_spec spec;
        poe_sid sid = 0;
        int rc;

        memset(&spec, 0, sizeof(spec));
        spec.handlers = handlers;
        spec.n_handlers = n;
        spec.args = args;
        spec.n_args = nargs;
        spec.heap = heap;
        rc = poe_session_create(k, &spec, &sid);
        if (rc < 0) {
                fprintf(stderr, "poe_session_create: %d\n", rc);
                exit(1);
        }
        return sid;
}

/** A new kernel, or exit. */
static inline poe_kernel *oracle_kernel(void)
{
        poe_kernel *k = NULL;

        if (poe_kernel_new(&k, NULL) < 0) {
                fprintf(stderr, "poe_kernel_new failed\n");
                exit(1);
        }
        return k;
}

/*
 * Warnings, as the Perl side prints them from $SIG{__WARN__}: what the
 * kernel writes on stderr between oracle_warn_begin() and
 * oracle_warn_end() is printed on stdout as "warn: MESSAGE", with POE's
 * "=== PID === " line prefixes taken out.
 */
struct oracle_warn {
        FILE *file;
        int saved;
};

static inline struct oracle_warn *oracle_warn_state(void)
{
        static struct oracle_warn w = { NULL, -1 };

        return &w;
}

static inline void oracle_warn_begin(void)
{
        struct oracle_warn *w = oracle_warn_state();

        fflush(stderr);
        w->file = tmpfile();
        w->saved = dup(2);
        if (!w->file || w->saved < 0 || dup2(fileno(w->file), 2) < 0) {
                perror("oracle_warn_begin");
                exit(1);
        }
}

static inline void oracle_warn_end(void)
{
        struct oracle_warn *w = oracle_warn_state();
        char line[1024];
        int first = 1;

        fflush(stderr);
        dup2(w->saved, 2);
        close(w->saved);
        w->saved = -1;
        rewind(w->file);
        while (fgets(line, sizeof(line), w->file)) {
                const char *p = line;

                if (strncmp(p, "=== ", 4) == 0 && strstr(p + 4, " === "))
                        p = strstr(p + 4, " === ") + 5;
                printf("%s%s", first ? "warn: " : "", p);
                first = 0;
        }
        fclose(w->file);
        w->file = NULL;
}

/*
 * fn(k, arg) in a forked child, as Perl's eval runs a call that may die:
 * what the child writes to stderr is read into out (size bytes, NUL
 * terminated), and an abort (an ASSERT_* failure) leaves no core file.
 * Returns 1 when the child lived (exited 0), 0 when it died, -1 when no
 * pipe could be made.
 */
static inline int oracle_fork_eval(poe_kernel *k, void (*fn)(poe_kernel *, int), int arg,
                                   char *out, size_t size)
{
        size_t len = 0;
        int fds[2], status = 0;
        ssize_t n;
        pid_t pid;

        if (pipe(fds) < 0)
                return -1;
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
                struct rlimit no_core = {0, 0};

                setrlimit(RLIMIT_CORE, &no_core); /* the abort is expected */
                dup2(fds[1], 2);
                close(fds[0]);
                close(fds[1]);
                signal(SIGABRT, SIG_DFL);
                fn(k, arg);
                fflush(NULL);
                _exit(0);
        }
        close(fds[1]);
        while (len < size - 1 && (n = read(fds[0], out + len, size - 1 - len)) > 0)
                len += (size_t)n;
        out[len] = '\0';
        close(fds[0]);
        waitpid(pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#define ORACLE_N(a) (sizeof(a) / sizeof((a)[0]))

#endif /* POE_ORACLE_H */
