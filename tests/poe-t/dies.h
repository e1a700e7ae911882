/*
 * eval { ... } for the ports whose upstream assertions catch POE's
 * fatal checks (ASSERT_*): a libpoe assertion aborts the process, so the
 * call runs in a forked child, which must abort (SIGABRT) with `want`
 * on its stderr.
 */
#ifndef POE_T_DIES_H
#define POE_T_DIES_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poe/poe.h>

#include "tap.h"

typedef void (*tap_call_fn)(poe_kernel *k);

static inline void tap_dies(poe_kernel *k, tap_call_fn fn, const char *want, const char *name)
{
        char out[8192];
        size_t len = 0;
        int fds[2], status = 0;
        ssize_t n;
        pid_t pid;

        if (pipe(fds) < 0) {
                tap_fail(name);
                return;
        }
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
                struct rlimit no_core = {0, 0};

                setrlimit(RLIMIT_CORE, &no_core); /* the abort is expected */
                dup2(fds[1], 2);
                close(fds[0]);
                close(fds[1]);
                signal(SIGABRT, SIG_DFL);
                fn(k);
                _exit(0);
        }
        close(fds[1]);
        while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
                len += (size_t)n;
        out[len] = '\0';
        close(fds[0]);
        waitpid(pid, &status, 0);
        if (!tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(out, want), name))
                tap_diag("status %d, stderr: %s", status, out);
}

#endif
